//! The CI gate and audit reports end to end: every format from one scan, validated by
//! independent readers (the official JUnit XSD and SARIF 2.1.0 schema in tests/schemas,
//! and junitparser as a real JUnit consumer); waivers, attestations, baselines, diff,
//! the handoff document with the repository checks, and the CI examples.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::seed::{seed, Options};
use crate::support::{infraverify, read_json, scan, stderr, stdout};

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/lifetimecircle/snapshot.json"
);

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The virtualenv's Python, which has the validators (set by scripts/test.sh).
fn python() -> String {
    std::env::var("INFRAVERIFY_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("INFRAVERIFY_TEST_PYTHON is not set: run the suite with scripts/test.sh, which installs the report validators")
    })
}

/// The official schemas the reports must satisfy: `INFRAVERIFY_SCHEMAS` if set, else the
/// copies in `tests/schemas` (see its README for their sources and licences).
fn schemas() -> PathBuf {
    let dir = std::env::var_os("INFRAVERIFY_SCHEMAS")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas"));
    assert!(
        dir.join("junit-10.xsd").exists() && dir.join("sarif-schema-2.1.0.json").exists(),
        "the JUnit XSD and SARIF schema are expected in {} (set INFRAVERIFY_SCHEMAS to their directory)",
        dir.display()
    );
    dir
}

/// Runs a Python snippet with arguments; panics with its output unless it succeeds.
fn py(script: &str, args: &[&Path]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const VALIDATE_JUNIT: &str = r#"
import json, sys, xmlschema
from junitparser import JUnitXml, Failure, Error, Skipped
xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])
xml = JUnitXml.fromfile(sys.argv[2])
counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "suites": 0}
declared = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for suite in xml:
    counts["suites"] += 1
    for k in declared:
        declared[k] += int(getattr(suite, k) or 0)
    for case in suite:
        counts["tests"] += 1
        for r in case.result:
            if isinstance(r, Failure): counts["failures"] += 1
            elif isinstance(r, Error): counts["errors"] += 1
            elif isinstance(r, Skipped): counts["skipped"] += 1
print(json.dumps({"counted": counts, "declared": declared}))
"#;

const VALIDATE_SARIF: &str = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.validators.validator_for(schema)(schema).validate(doc)
run = doc["runs"][0]
print(json.dumps({"results": len(run.get("results", [])), "rules": len(run["tool"]["driver"]["rules"])}))
"#;

/// Checks the JUnit and SARIF files in `dir` against the schemas and the JSON report.
pub(crate) fn validate(dir: &Path) {
    let report = read_json(&dir.join("report.json"));
    let s = &report["summary"];
    let n = |k: &str| s[k].as_u64().unwrap();
    let junit: serde_json::Value = serde_json::from_str(&py(
        VALIDATE_JUNIT,
        &[
            &schemas().join("junit-10.xsd"),
            &dir.join("report.junit.xml"),
        ],
    ))
    .unwrap();
    let expected = serde_json::json!({
        "tests": report["findings"].as_array().unwrap().len(),
        "failures": n("fail"),
        "errors": n("error"),
        "skipped": n("skipped") + n("manual"),
    });
    for k in ["tests", "failures", "errors", "skipped"] {
        assert_eq!(junit["counted"][k], expected[k], "counted {k}: {junit}");
        assert_eq!(junit["declared"][k], expected[k], "declared {k}: {junit}");
    }
    let sarif: serde_json::Value = serde_json::from_str(&py(
        VALIDATE_SARIF,
        &[
            &schemas().join("sarif-schema-2.1.0.json"),
            &dir.join("report.sarif"),
        ],
    ))
    .unwrap();
    assert_eq!(
        sarif["results"].as_u64().unwrap(),
        n("fail") + n("waived"),
        "{sarif}"
    );
    github_accepts(&dir.join("report.sarif"));
}

/// GitHub code scanning's ingestion rules, as the SARIF Multitool checks them: no error.
fn github_accepts(sarif: &Path) {
    let errors = github_errors(sarif);
    assert!(
        errors.is_empty(),
        "GitHub would refuse {}: {errors:#?}",
        sarif.display()
    );
}

#[test]
fn the_github_check_refuses_what_github_refuses() {
    // The example's SARIF with its results' locations removed: GitHub needs one each.
    let dir = tempfile::tempdir().unwrap();
    let mut v = read_json(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/example/report.sarif")
            .as_path(),
    );
    for r in v["runs"][0]["results"].as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("locations");
    }
    let bad = dir.path().join("bad.sarif");
    std::fs::write(&bad, v.to_string()).unwrap();
    let errors = github_errors(&bad);
    assert!(errors.iter().any(|e| e.starts_with("\"GH")), "{errors:#?}");
    github_accepts(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/example/report.sarif"),
    );
}

/// The error-level results of the SARIF Multitool's GitHub and SARIF rules on `sarif`.
fn github_errors(sarif: &Path) -> Vec<String> {
    let tool = std::env::var_os("INFRAVERIFY_SARIF_MULTITOOL").unwrap_or_else(|| {
        panic!("INFRAVERIFY_SARIF_MULTITOOL is not set: run the suite with scripts/test.sh")
    });
    let out_dir = tempfile::tempdir().unwrap();
    let log = out_dir.path().join("validation.sarif");
    let out = Command::new(tool)
        .args(["validate", "--rule-kind", "Gh;Ghas;Sarif", "-o"])
        .arg(&log)
        .arg(sarif)
        .output()
        .unwrap();
    assert!(
        out.status.success() && log.exists(),
        "sarif-multitool failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v = read_json(&log);
    v["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["level"] == "error")
        .map(|r| format!("{}: {}", r["ruleId"], r["message"]))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_scan_writes_every_format_and_each_validates() {
    let region = "us-west-2";
    let env = seed(
        region,
        Options {
            twin: true,
            example: false,
            edge: false,
        },
    )
    .await;
    let dir = tmp();
    let out = scan(dir.path(), region)
        .via(&env.endpoint)
        .formats(&["table", "json", "junit", "sarif", "markdown"])
        .run_async()
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2.2 RDS PostgreSQL"),
        "the table is printed too"
    );
    let reports = dir.path().join("reports");
    let mut names: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "report.json",
            "report.junit.xml",
            "report.md",
            "report.sarif"
        ]
    );
    validate(&reports);
    let md = std::fs::read_to_string(reports.join("report.md")).unwrap();
    assert!(
        md.contains("## Failures (") && md.contains("<details><summary>Passed ("),
        "{md}"
    );
}

/// A policy file beside the default one: the checklist's rules plus `extra`.
fn policy_with(dir: &Path, extra: &str) -> String {
    let text = format!(
        "{}\n{extra}\n",
        include_str!("../../policies/lifetimecircle.toml")
    );
    std::fs::write(dir.join("p.toml"), text).unwrap();
    "p.toml".into()
}

const WAIVERS: &str = r#"
[[waivers]]
rule = "rds-backup-retention-too-short"
resource = "lc-prod-db"
reason = "retention raised in change CHG-1234, rolling out"
owner = "security-lead"
expires = 2026-12-31

[[waivers]]
rule = "rds-deletion-protection-disabled"
resource = "arn:aws:rds:*:db:lc-prod-*"
reason = "protection off for the migration window"
owner = "dba"
expires = 2026-11-01

[[waivers]]
rule = "sg-open-to-world"
resource = "sg-00000000000000000"
reason = "the old bastion"
owner = "ops"
expires = 2027-01-01

[[attestations]]
control = "RDS-11"
by = "sre-lead"
date = 2026-10-15
evidence = "https://wiki.example/restore-test-2026-10-15"
"#;

#[test]
fn waivers_current_expired_and_unmatched_and_an_attestation() {
    let dir = tmp();
    let p = policy_with(dir.path(), WAIVERS);
    let all = [
        "--format", "json", "--format", "junit", "--format", "sarif", "--format", "markdown",
        "--format", "table",
    ];
    let out = infraverify(dir.path())
        .args(["evaluate", EXAMPLE, "--policy", &p])
        .args(all)
        .output()
        .unwrap();
    // Still failing: the expired waiver, and the SG rules nobody waived.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: the waiver for sg-open-to-world on sg-00000000000000000 at p.toml:"),
        "the unmatched waiver is a warning: {err}"
    );
    let report = read_json(&dir.path().join("reports/report.json"));
    let find = |rule: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap()
            .clone()
    };
    let waived = find("rds-backup-retention-too-short");
    assert_eq!(waived["status"], "waived");
    assert_eq!(waived["waiver"]["owner"], "security-lead");
    assert_eq!(waived["waiver"]["expires"], "2026-12-31");
    let expired = find("rds-deletion-protection-disabled");
    assert_eq!(expired["status"], "fail");
    assert_eq!(expired["waiver"]["expired"], true);
    assert!(expired["message"]
        .as_str()
        .unwrap()
        .ends_with("(The waiver by dba expired on 2026-11-01.)"));
    let attested = find("rds-restore-test-unattested");
    assert_eq!(attested["status"], "pass");
    assert_eq!(find("rto-not-attested")["status"], "manual");
    assert_eq!(report["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(report["summary"]["waived"], 1);
    validate(&dir.path().join("reports"));
    let sarif = read_json(&dir.path().join("reports/report.sarif"));
    let suppressed = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["suppressions"][0]["kind"] == "external")
        .count();
    assert_eq!(suppressed, 1);
    let junit = std::fs::read_to_string(dir.path().join("reports/report.junit.xml")).unwrap();
    assert!(
        junit.contains("<property name=\"waiver rds-backup-retention-too-short lc-prod-db\""),
        "{junit}"
    );
    assert!(stdout(&out).contains("WAIVED"), "{}", stdout(&out));

    // --strict: the unmatched waiver is an error, after the reports are written.
    std::fs::remove_dir_all(dir.path().join("reports")).unwrap();
    let out = infraverify(dir.path())
        .args([
            "evaluate", EXAMPLE, "--policy", &p, "--strict", "--format", "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--strict: 1 warning (listed above); the reports were written"),
        "{}",
        stderr(&out)
    );
    assert!(dir.path().join("reports/report.json").exists());
}

#[test]
fn a_baseline_gates_only_on_new_failures_and_diff_names_them() {
    let dir = tmp();
    infraverify(dir.path())
        .args(["evaluate", EXAMPLE, "--format", "json", "--out-dir", "old"])
        .assert()
        .code(1);
    // The same findings against themselves: nothing new, the gate opens.
    let out = infraverify(dir.path())
        .args([
            "evaluate",
            EXAMPLE,
            "--baseline",
            "old/report.json",
            "--format",
            "json",
            "--format",
            "table",
            "--out-dir",
            "same",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("Baseline: 0 new failures, 11 already in the baseline"),
        "{}",
        stdout(&out)
    );
    // A stricter storage threshold makes one new failure.
    let p = policy_with(dir.path(), "");
    let text = std::fs::read_to_string(dir.path().join(&p))
        .unwrap()
        .replace("min-gb = 100", "min-gb = 200");
    std::fs::write(dir.path().join(&p), text).unwrap();
    let out = infraverify(dir.path())
        .args([
            "evaluate",
            EXAMPLE,
            "--policy",
            &p,
            "--baseline",
            "old/report.json",
            "--format",
            "json",
            "--out-dir",
            "new",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let new = read_json(&dir.path().join("new/report.json"));
    let marked: Vec<(&str, &str)> = new["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| (f["rule"].as_str().unwrap(), f["baseline"].as_str().unwrap()))
        .collect();
    assert_eq!(
        marked.iter().filter(|(_, b)| *b == "new").count(),
        1,
        "{marked:?}"
    );
    assert!(
        marked.contains(&("rds-storage-insufficient", "new")),
        "{marked:?}"
    );

    let out = infraverify(dir.path())
        .args(["diff", "old/report.json", "new/report.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("New failures (1):") && text.contains("rds-storage-insufficient"),
        "{text}"
    );
    assert!(
        text.contains("1 new, 0 fixed, 11 unchanged, 0 unknown."),
        "{text}"
    );
    let out = infraverify(dir.path())
        .args([
            "diff",
            "new/report.json",
            "old/report.json",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let d: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["fixed"].as_array().unwrap().len(), 1);
    assert_eq!(d["new"].as_array().unwrap().len(), 0);
    let out = infraverify(dir.path())
        .args(["diff", "old/report.json", "nope.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn handoff_document_and_the_repository_checks() {
    let dir = tmp();
    let repo = dir.path().join("app");
    std::fs::create_dir_all(repo.join("docs")).unwrap();
    let out = infraverify(dir.path())
        .args([
            "handoff",
            EXAMPLE,
            "--out",
            "app/docs/INFRASTRUCTURE_PROD.md",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the example has violations: {}",
        stderr(&out)
    );
    let doc = std::fs::read_to_string(repo.join("docs/INFRASTRUCTURE_PROD.md")).unwrap();
    assert!(
        doc.starts_with("# LifetimeCircle production: infrastructure\n"),
        "{doc}"
    );
    let snap = read_json(Path::new(EXAMPLE));
    let region = &snap["regions"]["eu-central-1"];
    let vpc = region["ec2"]["vpcs"]["value"]
        .as_object()
        .unwrap()
        .values()
        .find(|v| v["cidr_blocks"][0] == "10.0.0.0/16")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let db = region["rds"]["instances"]["value"]["lc-prod-db"]["endpoint"]
        .as_str()
        .unwrap();
    for needed in [
        vpc.as_str(),
        db.split(':').next().unwrap(),
        "| lc-alb |",
        "tcp 5432 from sg-",
    ] {
        assert!(
            doc.contains(needed),
            "{needed} missing from the handoff document"
        );
    }

    let verdict = |rule: &str| {
        infraverify(dir.path())
            .args(["evaluate", EXAMPLE, "--repo", "app", "--format", "json"])
            .output()
            .unwrap();
        let r = read_json(&dir.path().join("reports/report.json"));
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // The generated document matches live state (DOC-1); the deploy files are missing (DEP-2).
    assert_eq!(verdict("handoff-doc-drift"), "pass");
    assert_eq!(verdict("deploy-files-missing"), "fail");
    assert_eq!(verdict("deploy-workflow-literal-credentials"), "skipped");

    // A stale id in the document is drift.
    std::fs::write(
        repo.join("docs/INFRASTRUCTURE_PROD.md"),
        doc.replace(&vpc, "vpc-0123456789abcdef0"),
    )
    .unwrap();
    assert_eq!(verdict("handoff-doc-drift"), "fail");

    // Deploy files: a workflow with a literal key fails, one with secrets passes. The key
    // never reaches a report.
    std::fs::create_dir_all(repo.join("tools")).unwrap();
    std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    let script = repo.join("tools/deploy_prod.sh");
    std::fs::write(&script, "#!/bin/sh\nexec ./deploy\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let wf = repo.join(".github/workflows/deploy-prod.yml");
    std::fs::write(&wf, "jobs:\n  deploy:\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-access-key-id: AKIAIOSFODNN7EXAMPLE\n          aws-secret-access-key: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n").unwrap();
    assert_eq!(verdict("deploy-files-missing"), "pass");
    assert_eq!(verdict("deploy-workflow-literal-credentials"), "fail");
    let report = std::fs::read_to_string(dir.path().join("reports/report.json")).unwrap();
    assert!(
        !report.contains("wJalrXUtnFEMIK7MDENG"),
        "a secret value reached the report"
    );
    std::fs::write(&wf, "jobs:\n  deploy:\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}\n          aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n").unwrap();
    assert_eq!(verdict("deploy-workflow-literal-credentials"), "pass");

    let out = infraverify(dir.path())
        .args(["evaluate", EXAMPLE, "--repo", "missing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--repo missing is not a directory"));
}

const PARSE_YAML: &str = r#"
import json, sys, yaml
print(json.dumps(yaml.safe_load(open(sys.argv[1])), default=str))
"#;

const PARSE_YAML_ALL: &str = r#"
import json, sys, yaml
print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1]))), default=str))
"#;

/// The fleet examples: a GitHub Actions matrix whose shards scan with `--shard auto` from
/// the matrix's index and total, upload SARIF each under its own category and merge; a
/// Kubernetes Indexed Job whose pods do the same with the Job's completions as the count,
/// then a merge Job.
#[test]
fn the_fleet_examples_shard_with_auto_and_merge() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci");
    let gh: serde_json::Value =
        serde_json::from_str(&py(PARSE_YAML, &[&root.join("github-actions-fleet.yml")])).unwrap();
    let shard = &gh["jobs"]["shard"];
    assert_eq!(
        shard["env"]["INFRAVERIFY_SHARD_INDEX"],
        "${{ strategy.job-index }}"
    );
    assert_eq!(
        shard["env"]["INFRAVERIFY_SHARD_TOTAL"],
        "${{ strategy.job-total }}"
    );
    assert!(
        shard["strategy"]["matrix"]["shard"]
            .as_array()
            .unwrap()
            .len()
            > 1
    );
    let steps = shard["steps"].as_array().unwrap();
    let scan = steps.iter().find(|s| s["id"] == "scan").unwrap()["run"]
        .as_str()
        .unwrap();
    assert!(
        scan.contains("--shard auto") && scan.contains("--format sarif"),
        "{scan}"
    );
    let sarif = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.contains("upload-sarif"))
        })
        .unwrap();
    assert!(
        sarif["with"]["category"]
            .as_str()
            .unwrap()
            .contains("strategy.job-index"),
        "each shard's SARIF has its own category, or shards replace each other's alerts"
    );
    let merge = &gh["jobs"]["merge"];
    assert_eq!(merge["needs"], "shard");
    assert!(merge["steps"].as_array().unwrap().iter().any(|s| s["run"]
        .as_str()
        .is_some_and(|r| r.contains("infraverify merge"))));

    let k8s: serde_json::Value = serde_json::from_str(&py(
        PARSE_YAML_ALL,
        &[&root.join("kubernetes-indexed-job.yml")],
    ))
    .unwrap();
    let docs = k8s.as_array().unwrap();
    let shards = &docs[0]["spec"];
    assert_eq!(shards["completionMode"], "Indexed");
    let n = shards["completions"].as_u64().unwrap();
    let args = shards["template"]["spec"]["containers"][0]["args"][0]
        .as_str()
        .unwrap();
    assert!(
        args.contains(&format!("--shard auto/{n}")),
        "the count is the Job's completions: {args}"
    );
    assert!(args.contains("$JOB_COMPLETION_INDEX"), "{args}");
    let merge = docs[1]["spec"]["template"]["spec"]["containers"][0]["args"][0]
        .as_str()
        .unwrap();
    assert!(merge.contains("infraverify merge"), "{merge}");
}

#[test]
fn the_ci_examples_are_valid_yaml_and_use_the_reports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci");
    let gh: serde_json::Value =
        serde_json::from_str(&py(PARSE_YAML, &[&root.join("github-actions.yml")])).unwrap();
    // PyYAML reads the key `on` as the boolean true (YAML 1.1).
    let on = gh.get("on").or_else(|| gh.get("true")).expect("a trigger");
    assert!(on["schedule"][0]["cron"].is_string());
    assert_eq!(gh["permissions"]["id-token"], "write");
    assert_eq!(gh["permissions"]["security-events"], "write");
    let steps = gh["jobs"]["verify"]["steps"].as_array().unwrap();
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(
        uses.iter()
            .any(|u| u.starts_with("github/codeql-action/upload-sarif")),
        "{uses:?}"
    );
    assert!(
        uses.iter()
            .any(|u| u.starts_with("aws-actions/configure-aws-credentials")),
        "{uses:?}"
    );
    let scan = steps.iter().find(|s| s["id"] == "scan").unwrap()["run"]
        .as_str()
        .unwrap();
    for needed in [
        "--format sarif",
        "--format junit",
        "--format markdown",
        "GITHUB_STEP_SUMMARY",
    ] {
        assert!(scan.contains(needed), "{needed} missing from the scan step");
    }
    let sarif_step = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.contains("upload-sarif"))
        })
        .unwrap();
    assert_eq!(sarif_step["with"]["sarif_file"], "reports/report.sarif");

    let gl: serde_json::Value =
        serde_json::from_str(&py(PARSE_YAML, &[&root.join("gitlab-ci.yml")])).unwrap();
    let job = &gl["infraverify"];
    assert_eq!(
        job["artifacts"]["reports"]["junit"],
        "reports/report.junit.xml"
    );
    assert_eq!(job["artifacts"]["when"], "always");
    assert!(job["script"][0]
        .as_str()
        .unwrap()
        .contains("--format junit"));
}
