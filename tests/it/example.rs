//! The bundled example snapshot: it must stay loadable and give the documented verdicts,
//! and it is re-recorded from the emulator with `cargo test -- --ignored record_example`.

use crate::seed::Options;
use crate::support::{endpoint, infraverify, read_json, stdout};

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/lifetimecircle/snapshot.json"
);

#[test]
fn the_quick_start_example_reports_its_violations_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        infraverify(dir.path())
            .args(["evaluate", EXAMPLE, "--format", "table", "--format", "json"])
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(1), "{}", stdout(&first));
    let report_a = std::fs::read_to_string(dir.path().join("reports/report.json")).unwrap();
    let second = run();
    assert_eq!(
        stdout(&first),
        stdout(&second),
        "the table is deterministic"
    );
    let report_b = std::fs::read_to_string(dir.path().join("reports/report.json")).unwrap();
    assert_eq!(report_a, report_b, "the report is deterministic");

    let report = read_json(&dir.path().join("reports/report.json"));
    assert_eq!(
        report["run"]["regions"],
        serde_json::json!(["eu-central-1"])
    );
    assert_eq!(report["summary"]["error"], 0);
    let mut fails: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| {
            format!(
                "{} {}",
                f["controls"][0].as_str().unwrap(),
                f["rule"].as_str().unwrap()
            )
        })
        .collect();
    fails.sort();
    assert_eq!(
        fails,
        vec![
            // Two more repositories of the product no policy names: no lifecycle policy,
            // and one that keeps images for a year.
            "ECR-2 ecr-lifecycle-policy-missing",
            "ECR-2 ecr-lifecycle-policy-missing",
            // The forgotten CI user with AdministratorAccess: it can read the secrets,
            // administer the account and push the production images.
            "IAM-3 app-secret-readable-by-others",
            "IAM-4 admin-access-not-allowed",
            "IAM-5 ecr-push-permissions-misassigned",
            // The emulator cannot replicate backups to another region: a real finding here.
            "OPS-3 rds-backups-not-in-another-region",
            "RDS-5 rds-deletion-protection-disabled",
            "RDS-6 rds-backup-retention-too-short",
            "SG-2 api-sg-ingress-not-from-alb",
            "SG-4 sg-admin-port-open-to-world",
            "SG-4 sg-open-to-world",
        ]
    );
    // The terminal: the checklist in 80 columns, one line per control, then the failures.
    let table = stdout(&first);
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    for (id, _, _) in infraverify::checklist::CONTROLS {
        let line: Vec<&str> = table
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(id))
            .collect();
        assert_eq!(line.len(), 1, "{id}: {table}");
    }
    let rds6 = table.lines().find(|l| l.starts_with("  RDS-6 ")).unwrap();
    assert!(
        rds6.contains("FAIL") && rds6.contains("lc-prod-db"),
        "{rds6}"
    );
    let details = &table[table.find("11 failures, 0 errors:").expect(&table)..];
    assert_eq!(details.matches("\nFAIL ").count(), 11, "{details}");
    assert!(
        details.replace("\n  ", " ").contains(
            "DB instance lc-prod-db keeps backups for 7 days; the policy requires at least 30."
        ),
        "{details}"
    );
}

/// Re-records the example from a fresh emulator: `scripts/test.sh record_example -- --ignored`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "writes examples/lifetimecircle/snapshot.json; run on purpose"]
async fn record_example() {
    let region = "eu-central-1";
    // In the emulator's default account, as the example always was: this test runs alone
    // and owns the emulator.
    crate::seed::seed_at(
        &endpoint(),
        region,
        Options {
            twin: false,
            example: true,
            edge: true,
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    infraverify(dir.path())
        .args([
            "collect",
            "--no-probes",
            "--region",
            region,
            "--endpoint-url",
            &endpoint(),
            "--out",
            "snap.json",
        ])
        .assert()
        .code(0);
    let path = dir.path().join("snap.json");
    let mut snap = infraverify::inventory::Snapshot::load(path.to_str().unwrap()).unwrap();
    // The emulator's port changes every run; keep the file stable.
    snap.collection.endpoint_url = Some("http://127.0.0.1:5000".into());
    std::fs::write(EXAMPLE, snap.to_json()).unwrap();
}

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/example");

/// Every report of the example snapshot, byte for byte, against the files in
/// `tests/golden/example/`: a change that alters any output shows here as a diff of those
/// files. After an intended change, write them anew with `INFRAVERIFY_BLESS=1` and review
/// the diff like code.
#[test]
fn the_example_reports_match_the_golden_files_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = infraverify(dir.path())
        .args(["evaluate", EXAMPLE, "--out-dir", "reports"])
        .args(["--format", "table", "--format", "json", "--format", "junit"])
        .args([
            "--format", "sarif", "--format", "markdown", "--format", "html",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let all = infraverify(dir.path())
        .args(["evaluate", EXAMPLE, "--details", "all"])
        .output()
        .unwrap();
    assert_eq!(all.status.code(), Some(1), "{}", stdout(&all));
    let handoff = infraverify(dir.path())
        .args(["handoff", EXAMPLE])
        .output()
        .unwrap();
    assert_eq!(handoff.status.code(), Some(1));
    let reports = dir.path().join("reports");
    let read = |name: &str| std::fs::read(reports.join(name)).unwrap();
    let produced: Vec<(&str, Vec<u8>)> = vec![
        ("table.txt", out.stdout),
        ("table-all.txt", all.stdout),
        ("handoff.md", handoff.stdout),
        ("report.json", read("report.json")),
        ("report.junit.xml", read("report.junit.xml")),
        ("report.sarif", read("report.sarif")),
        ("report.md", read("report.md")),
        ("report.html", read("report.html")),
    ];
    let bless = std::env::var_os("INFRAVERIFY_BLESS").is_some();
    let mut differ = Vec::new();
    for (name, bytes) in produced {
        let path = std::path::Path::new(GOLDEN).join(name);
        if bless {
            std::fs::write(&path, &bytes).unwrap();
            continue;
        }
        let want = std::fs::read(&path).unwrap_or_default();
        if want != bytes {
            // Kept beyond the test's temporary directory, for a diff.
            let got = std::env::temp_dir().join(format!("infraverify-got-{name}"));
            std::fs::write(&got, &bytes).unwrap();
            differ.push(format!("diff {} {}", path.display(), got.display()));
        }
    }
    assert!(
        differ.is_empty(),
        "the reports differ from tests/golden/example; see:\n{}",
        differ.join("\n")
    );
}
