//! A replay endpoint: real AWS response shapes the emulator never produces, served to the
//! real SDK. A proxy in front of the emulator answers chosen operations with fixture files
//! (`tests/fixtures/aws/`, written from AWS's API reference and its examples) and forwards
//! everything else, so the collectors parse the wire format AWS sends.

use std::sync::Arc;

use crate::proxy::{self, Canned, Proxy, Request};
use crate::support::endpoint;

/// One canned answer: the operation it answers (`DescribeDBClusters`), only for requests
/// whose body names `when` (a resource, for per-resource calls), from `file`.
pub struct Fixture {
    pub op: &'static str,
    pub when: Option<&'static str>,
    pub file: &'static str,
    /// The HTTP status line: `200 OK`, or an error's.
    pub status: &'static str,
}

/// Answers `op` from `file`.
pub fn fixture(op: &'static str, file: &'static str) -> Fixture {
    Fixture {
        op,
        when: None,
        file,
        status: "200 OK",
    }
}

/// Answers `op` from `file` when the request names `when`.
pub fn fixture_for(op: &'static str, when: &'static str, file: &'static str) -> Fixture {
    Fixture {
        when: Some(when),
        ..fixture(op, file)
    }
}

/// Answers `op` with the error in `file`, with HTTP status `status`.
pub fn error_fixture(op: &'static str, status: &'static str, file: &'static str) -> Fixture {
    Fixture {
        status,
        ..fixture(op, file)
    }
}

/// The fixture file's text, with `{{RECENT}}` as five minutes before now (restore times
/// and snapshots that must be recent whenever the test runs).
pub fn load(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/aws")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let recent = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
    let recent = recent
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    text.replace("{{RECENT}}", &recent)
}

/// A proxy in front of the emulator that answers `fixtures` itself; the first fixture that
/// fits a request answers it.
pub async fn replay(fixtures: Vec<Fixture>) -> Proxy {
    let answers: Vec<(Fixture, Canned)> = fixtures
        .into_iter()
        .map(|f| {
            let content_type = if f.file.ends_with(".json") {
                "application/x-amz-json-1.1"
            } else {
                "text/xml"
            };
            let canned = Canned {
                status: f.status,
                content_type,
                body: load(f.file),
            };
            (f, canned)
        })
        .collect();
    proxy::start(
        &endpoint(),
        Arc::new(move |req: &Request| {
            let op = req.operation();
            answers
                .iter()
                .find(|(f, _)| f.op == op && f.when.is_none_or(|w| req.body.contains(w)))
                .map(|(_, c)| c.clone())
        }),
    )
    .await
}
