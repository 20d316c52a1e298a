//! Reports: one model ([`Report`]), one pure writer per format, files written atomically.

pub mod handoff;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod overview;
pub mod sarif;
pub mod table;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::Outcome;
use crate::finding::{Finding, Status};
use crate::inventory::{Snapshot, Timestamp, ToolInfo};
use crate::policy::Policy;

pub const REPORT_SCHEMA: &str = "infraverify/report/v1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub account: Option<String>,
    /// Every account of a run over several (`--assume-role`, `--accounts`, `merge`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub policies: Vec<String>,
    /// The SHA-256 of each policy file's text, lowercase hex, in the order of `policies`
    /// (absent in reports of earlier versions, and in a merge of reports one of which
    /// lacks them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_sha256: Vec<String>,
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
    /// The account, in a run over several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl std::fmt::Display for ErrorEntry {
    /// `rds:DescribeDBInstances in eu-central-1: access-denied: …`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(r) = &self.region {
            write!(f, " in {r}")?;
        }
        write!(f, ": {}", self.message)
    }
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
    /// Things the user should know that are not findings: waivers that matched nothing,
    /// attestations for unknown controls.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl Report {
    pub fn new(
        snap: &Snapshot,
        policy: &Policy,
        findings: Vec<Finding>,
        outcome: Outcome,
    ) -> Report {
        Report {
            schema: REPORT_SCHEMA.to_string(),
            tool: ToolInfo::current(),
            run: RunInfo {
                started_at: snap.collection.started_at,
                finished_at: snap.collection.finished_at,
                account: snap.collection.account.clone(),
                accounts: vec![],
                regions: snap.collection.regions.clone(),
                policies: policy.files.clone(),
                policy_sha256: policy.sha256.clone(),
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
                    account: None,
                })
                .collect(),
            warnings: Vec::new(),
        }
    }

    /// The report of a run over several accounts' snapshots: their regions, accounts and
    /// collection errors together.
    pub fn new_many(
        snaps: &[Snapshot],
        policy: &Policy,
        findings: Vec<Finding>,
        outcome: Outcome,
    ) -> Report {
        let mut r = Report::new(&snaps[0], policy, findings, outcome);
        if snaps.len() > 1 {
            let mut accounts: Vec<String> = snaps
                .iter()
                .filter_map(|s| s.collection.account.clone())
                .collect();
            accounts.sort();
            accounts.dedup();
            r.run.account = None;
            r.run.accounts = accounts;
            r.errors.clear();
            for s in snaps {
                r.run.started_at = r.run.started_at.min(s.collection.started_at);
                r.run.finished_at = r.run.finished_at.max(s.collection.finished_at);
                r.run.regions.extend(s.collection.regions.iter().cloned());
                let mut errors = Report::new(s, policy, vec![], outcome).errors;
                for e in &mut errors {
                    e.account = s.collection.account.clone();
                }
                r.errors.extend(errors);
            }
            r.run.regions.sort();
            r.run.regions.dedup();
            r.errors.sort_by(|a, b| {
                (&a.account, &a.source, &a.region, &a.message)
                    .cmp(&(&b.account, &b.source, &b.region, &b.message))
            });
        }
        r
    }

    /// Joins reports of the same policy over different accounts or shards: findings (one
    /// per rule and resource), errors and warnings together; summary recomputed; the exit
    /// code a violation (1) if any report had one, else incomplete (3) if any was, else 0.
    pub fn merge(reports: Vec<Report>) -> Report {
        let mut it = reports.into_iter();
        let Some(mut out) = it.next() else {
            unreachable!("merge is given at least one report")
        };
        let mut accounts: Vec<String> = out.run.accounts.clone();
        accounts.extend(out.run.account.take());
        let mut codes = vec![out.exit_code];
        // Each policy with its digest, while every report has them: two shards that ran a
        // policy of one name with different texts show both.
        let pairs = |r: &RunInfo| -> Option<Vec<(String, String)>> {
            (!r.policy_sha256.is_empty() && r.policy_sha256.len() == r.policies.len()).then(|| {
                r.policies
                    .iter()
                    .cloned()
                    .zip(r.policy_sha256.iter().cloned())
                    .collect()
            })
        };
        let mut digests = pairs(&out.run);
        for r in it {
            match (&mut digests, pairs(&r.run)) {
                (Some(d), Some(p)) => d.extend(p),
                _ => digests = None,
            }
            out.run.started_at = out.run.started_at.min(r.run.started_at);
            out.run.finished_at = out.run.finished_at.max(r.run.finished_at);
            out.run.regions.extend(r.run.regions);
            out.run.policies.extend(r.run.policies);
            accounts.extend(r.run.accounts);
            accounts.extend(r.run.account);
            out.findings.extend(r.findings);
            out.errors.extend(r.errors);
            out.warnings.extend(r.warnings);
            codes.push(r.exit_code);
        }
        accounts.sort();
        accounts.dedup();
        out.run.account = None;
        if accounts.len() == 1 {
            out.run.account = accounts.pop();
        }
        out.run.accounts = accounts;
        for v in [
            &mut out.run.regions,
            &mut out.run.policies,
            &mut out.warnings,
        ] {
            v.sort();
            v.dedup();
        }
        out.run.policy_sha256.clear();
        if let Some(mut d) = digests {
            d.sort();
            d.dedup();
            (out.run.policies, out.run.policy_sha256) = d.into_iter().unzip();
        }
        out.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        out.findings.dedup_by(|a, b| a.sort_key() == b.sort_key());
        out.errors.sort_by(|a, b| {
            (&a.account, &a.source, &a.region, &a.message)
                .cmp(&(&b.account, &b.source, &b.region, &b.message))
        });
        out.errors.dedup();
        out.summary = Summary::of(&out.findings);
        out.exit_code = if codes.contains(&1) {
            1
        } else if codes.contains(&3) {
            3
        } else {
            0
        };
        out
    }

    /// The report in `format`, or `None` for the table (which depends on the terminal).
    pub fn render(&self, format: Format) -> Option<String> {
        match format {
            Format::Table => None,
            Format::Json => Some(json::render(self)),
            Format::Junit => Some(junit::render(self)),
            Format::Sarif => Some(sarif::render(self)),
            Format::Markdown => Some(markdown::render(self)),
            Format::Html => Some(html::render(self)),
        }
    }
}

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Format {
    /// A table on standard output.
    Table,
    /// `report.json`: the stable machine-readable contract.
    Json,
    /// `report.junit.xml`: one test suite per checklist section, for CI test views.
    Junit,
    /// `report.sarif`: SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// `report.md`: for a pull-request comment or the job summary.
    Markdown,
    /// `report.html`: one self-contained page, for the audit and as a CI artifact.
    Html,
}

impl Format {
    /// The file a format is written to, or `None` for standard output.
    pub fn file_name(self) -> Option<&'static str> {
        match self {
            Format::Table => None,
            Format::Json => Some("report.json"),
            Format::Junit => Some("report.junit.xml"),
            Format::Sarif => Some("report.sarif"),
            Format::Markdown => Some("report.md"),
            Format::Html => Some("report.html"),
        }
    }
}

impl Report {
    /// Reads a `report.json`, checking its schema first.
    pub fn load(path: &str) -> Result<Report, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read report {path}: {e}"))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{path} is not a report.json: {e}"))?;
        match v.get("schema").and_then(|s| s.as_str()) {
            Some(REPORT_SCHEMA) => {}
            other => {
                return Err(format!(
                "{path} has schema {other:?}; this version of infraverify reads {REPORT_SCHEMA:?}"
            ))
            }
        }
        serde_json::from_value(v).map_err(|e| format!("{path} is not a valid report: {e}"))
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
pub(crate) mod tests {
    use super::*;
    use crate::engine::{evaluate, outcome};
    use crate::finding::{PolicyRef, Severity, WaiverNote};
    use crate::inventory::testing::*;
    use crate::inventory::{CollectError, ErrorKind, Observed};

    /// A report with every status: fails of several severities, errors, a skipped rule,
    /// a manual control, a waived failure, and a collection error.
    pub(crate) fn sample_report() -> Report {
        let policy =
            crate::policy::load(&[crate::policy::PolicySource::embedded_default()]).unwrap();
        let mut snap = compliant();
        let i = inv(&mut snap);
        let db = value(&mut i.rds.instances).get_mut("lc-prod-db").unwrap();
        db.publicly_accessible = Some(true);
        db.multi_az = Some(false);
        db.backup_retention_days = Some(7);
        value(&mut i.rds.snapshots).clear();
        let e = denied("ec2:DescribeNatGateways");
        i.ec2.nat_gateways = Observed::unavailable(e.clone());
        snap.errors.push(CollectError {
            kind: ErrorKind::AccessDenied,
            ..e
        });
        let mut findings = evaluate(&policy, &snap).findings;
        let waived = findings
            .iter_mut()
            .find(|f| f.rule == "rds-multi-az-disabled")
            .unwrap();
        waived.status = crate::finding::Status::Waived;
        waived.waiver = Some(WaiverNote {
            reason: "staging runs single-AZ <on purpose> & \"cheap\"".into(),
            owner: "security-lead".into(),
            expires: "2026-12-31".into(),
            expired: false,
            policy: PolicyRef {
                file: "policies/lifetimecircle.toml".into(),
                line: 90,
            },
        });
        let manual = findings
            .iter_mut()
            .find(|f| f.rule == "rds-storage-unencrypted")
            .unwrap();
        manual.status = crate::finding::Status::Manual;
        let o = outcome(&findings, Severity::Low, snap.errors.len());
        let mut r = Report::new(&snap, &policy, findings, o);
        r.warnings
            .push("waiver at p.toml:3 matches no finding".into());
        r
    }

    #[test]
    fn the_sample_has_every_status() {
        let s = sample_report().summary;
        assert!(
            s.pass > 0
                && s.fail > 1
                && s.error > 0
                && s.skipped > 0
                && s.manual >= 1
                && s.waived == 1,
            "{s:?}"
        );
    }

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
