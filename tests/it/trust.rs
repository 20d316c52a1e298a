//! Trusting the scanner itself: it reads, and only reads, and what it reads of secrets
//! stays in AWS.

use std::sync::{Arc, Mutex};

use crate::proxy::{self, Request};
use crate::seed::{seed, Options};
use crate::support::{endpoint, infraverify, stderr, stdout};

/// Every request a whole scan makes, seen on the wire: only reads, never a secret's value,
/// and none of the seeded secret values in any output at any verbosity.
#[tokio::test(flavor = "multi_thread")]
async fn a_scan_only_reads_and_no_secret_value_leaves_aws() {
    let region = "ca-central-1";
    seed(region, Options::default()).await;
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let log = seen.clone();
    let watch = proxy::start(
        &endpoint(),
        Arc::new(move |r: &Request| {
            log.lock().unwrap().push((r.service.clone(), r.operation()));
            None
        }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "-vv",
        "scan",
        "--no-probes",
        "--region",
        region,
        "--endpoint-url",
        &watch.url,
        "--format",
        "table",
        "--format",
        "json",
        "--format",
        "junit",
        "--format",
        "sarif",
        "--format",
        "markdown",
        "--save-snapshot",
        "snap.json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || infraverify(&dir).args(&args).output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    // On the wire: Describe, List and Get only (and STS's GetCallerIdentity), and never
    // the one Get that returns a secret.
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() > 20, "{seen:?}");
    for (service, op) in &seen {
        assert!(
            ["Describe", "List", "Get", "GET "]
                .iter()
                .any(|p| op.starts_with(p)),
            "{service}:{op} is not a read"
        );
        assert_ne!(op, "GetSecretValue", "a secret's value was requested");
    }
    assert!(seen
        .iter()
        .any(|(s, o)| s == "secretsmanager" && o == "ListSecrets"));

    // Nothing the scan wrote or printed holds a secret's value; the names are there.
    let mut texts = vec![
        ("stdout".to_string(), stdout(&out)),
        ("stderr".to_string(), stderr(&out)),
    ];
    for entry in walk(dir.path()) {
        texts.push((
            entry.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned(),
        ));
    }
    assert!(
        texts.len() >= 7,
        "{:?}",
        texts.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for (name, text) in &texts {
        assert!(
            !text.contains("seeded-value-of-"),
            "{name} holds a secret value"
        );
    }
    let snapshot = &texts
        .iter()
        .find(|(n, _)| n.ends_with("snap.json"))
        .unwrap()
        .1;
    assert!(
        snapshot.contains("prod/db/password"),
        "the secret's name is collected"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
