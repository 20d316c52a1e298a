//! Reports: one model ([`Report`]), one pure writer per format, files written atomically.

pub mod json;
pub mod table;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::Outcome;
use crate::finding::{Finding, Status};
use crate::inventory::{Snapshot, ToolInfo};

pub const REPORT_SCHEMA: &str = "infraverify/report/v1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub started_at: String,
    pub finished_at: String,
    pub account: Option<String>,
    pub regions: Vec<String>,
    pub policies: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub skipped: usize,
    pub manual: usize,
    pub waived: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            *match f.status {
                Status::Pass => &mut s.pass,
                Status::Fail => &mut s.fail,
                Status::Error => &mut s.error,
                Status::Skipped => &mut s.skipped,
                Status::Manual => &mut s.manual,
                Status::Waived => &mut s.waived,
            } += 1;
        }
        s
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEntry {
    pub source: String,
    pub region: Option<String>,
    pub message: String,
}

/// The JSON report's model, and what every writer renders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub tool: ToolInfo,
    pub run: RunInfo,
    pub summary: Summary,
    pub exit_code: u8,
    pub findings: Vec<Finding>,
    pub errors: Vec<ErrorEntry>,
}

impl Report {
    pub fn new(
        snap: &Snapshot,
        policies: &[String],
        findings: Vec<Finding>,
        outcome: Outcome,
    ) -> Report {
        Report {
            schema: REPORT_SCHEMA.to_string(),
            tool: ToolInfo::current(),
            run: RunInfo {
                started_at: snap.collection.started_at.clone(),
                finished_at: snap.collection.finished_at.clone(),
                account: snap.collection.account.clone(),
                regions: snap.collection.regions.clone(),
                policies: policies.to_vec(),
            },
            summary: Summary::of(&findings),
            exit_code: outcome.code(),
            findings,
            errors: snap
                .errors
                .iter()
                .map(|e| ErrorEntry {
                    source: e.source.clone(),
                    region: e.region.clone(),
                    message: format!("{}: {}", e.kind.as_str(), e.message),
                })
                .collect(),
        }
    }
}

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Format {
    /// A table on standard output.
    Table,
    /// `report.json` in the output directory.
    Json,
}

impl Format {
    /// The file a format is written to, or `None` for standard output.
    pub fn file_name(self) -> Option<&'static str> {
        match self {
            Format::Table => None,
            Format::Json => Some("report.json"),
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then a
/// rename, so a reader never sees half a report.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/report.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.json")]);
    }

    #[test]
    fn atomic_write_into_an_unwritable_place_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        // A path below a regular file cannot be created.
        assert!(write_atomic(&file.join("report.json"), b"x").is_err());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    }
}
