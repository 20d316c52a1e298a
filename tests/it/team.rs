//! Team rules end to end: the five examples of `policies/examples/team-rules.toml` scanned
//! against the emulator (pass and fail), offline from the saved snapshot (the same
//! verdicts), behind a proxy that denies the calls they read (error), and in a region with
//! nothing to judge (skipped); their findings in every report format.

use std::sync::Arc;

use crate::proxy::{self, Canned};
use crate::seed::{seed, Options};
use crate::support::{infraverify, read_json, scan, stderr, stdout};

const TEAM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/policies/examples/team-rules.toml"
);

/// (rule, resource id, status) of every team-rule finding of a report.
fn team_verdicts(report: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["controls"][0].as_str().unwrap().starts_with("TEAM-"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["resource"]["id"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_team_rules_pass_fail_error_and_skip() {
    let region = "me-central-1";
    let env = seed(
        region,
        Options {
            example: true,
            ..Options::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = scan(dir.path(), region)
        .via(&env.endpoint)
        .policy(TEAM)
        .formats(&["table", "json", "junit", "sarif", "markdown", "html"])
        .args(&["--save-snapshot", "snap.json"])
        .run_async()
        .await;
    let reports = dir.path().join("reports");
    let report = read_json(&reports.join("report.json"));
    let verdicts = team_verdicts(&report);
    assert_eq!(out.status.code(), Some(1), "{verdicts:#?} {}", stderr(&out));
    let has = |rule: &str, status: &str| verdicts.iter().any(|(r, _, s)| r == rule && s == status);
    // The seeded stack: no owner tags on the production DB, a debug SSH group beside the
    // proper ones, the API's log group present, the ALB on the pinned TLS policy, and a
    // parameter group without rds.force_ssl.
    assert!(has("rds-owner-tag-missing", "fail"), "{verdicts:?}");
    assert!(has("sg-debug-group-present", "fail") && has("sg-debug-group-present", "pass"));
    assert!(has("task-log-group-missing", "pass"), "{verdicts:?}");
    assert!(has("alb-tls-policy-unpinned", "pass"), "{verdicts:?}");
    assert!(has("rds-force-ssl-off", "fail"), "{verdicts:?}");
    assert!(
        verdicts.iter().all(|(_, _, s)| s == "pass" || s == "fail"),
        "{verdicts:?}"
    );

    // Every format carries them; the machine formats validate.
    crate::reports::validate(&reports);
    let table = stdout(&out);
    assert!(table.contains("\nOther\n  TEAM-1  FAIL"), "{table}");
    for file in [
        "report.junit.xml",
        "report.sarif",
        "report.md",
        "report.html",
    ] {
        let text = std::fs::read_to_string(reports.join(file)).unwrap();
        assert!(text.contains("rds-owner-tag-missing"), "{file}");
    }

    // Offline, from the saved snapshot: the same verdicts.
    let offline = infraverify(dir.path())
        .args([
            "evaluate",
            "snap.json",
            "--policy",
            TEAM,
            "--format",
            "json",
        ])
        .args(["--out-dir", "offline"])
        .output()
        .unwrap();
    assert_eq!(offline.status.code(), Some(1), "{}", stderr(&offline));
    assert_eq!(
        team_verdicts(&read_json(&dir.path().join("offline/report.json"))),
        verdicts
    );

    // The calls two rules read, denied: those rules are error, never pass; the others
    // keep their verdicts.
    let deny = proxy::start(
        &env.endpoint,
        Arc::new(|req: &proxy::Request| {
            let action = req
                .body
                .split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .unwrap_or("");
            match action {
                "DescribeDBParameters" => Some(Canned::access_denied("rds:DescribeDBParameters")),
                "DescribeSecurityGroups" => {
                    Some(Canned::access_denied("ec2:DescribeSecurityGroups"))
                }
                _ => None,
            }
        }),
    )
    .await;
    let denied_dir = tempfile::tempdir().unwrap();
    let _out = scan(denied_dir.path(), region)
        .via(&deny.url)
        .policy(TEAM)
        .formats(&["json"])
        .run_async()
        .await;
    let denied = team_verdicts(&read_json(&denied_dir.path().join("reports/report.json")));
    for (rule, _, status) in &denied {
        match rule.as_str() {
            "rds-force-ssl-off" | "sg-debug-group-present" => {
                assert_eq!(status, "error", "{rule}: {denied:?}")
            }
            _ => assert_ne!(status, "error", "{rule}: {denied:?}"),
        }
    }
    assert!(denied.iter().any(|(r, _, _)| r == "rds-force-ssl-off"));

    // A region with nothing of the stack in it: each rule with nothing to judge is one
    // skipped.
    let empty_dir = tempfile::tempdir().unwrap();
    let empty = scan(empty_dir.path(), "me-south-1")
        .policy(TEAM)
        .formats(&["json"])
        .run_async()
        .await;
    assert_eq!(empty.status.code(), Some(0), "{}", stderr(&empty));
    let empty = team_verdicts(&read_json(&empty_dir.path().join("reports/report.json")));
    for (rule, id, status) in &empty {
        match rule.as_str() {
            // The default VPC's group.
            "sg-debug-group-present" => assert_eq!(status, "pass", "{empty:?}"),
            _ => assert_eq!(
                (id.as_str(), status.as_str()),
                ("*", "skipped"),
                "{empty:?}"
            ),
        }
    }
    assert_eq!(
        empty.iter().filter(|v| v.2 == "skipped").count(),
        4,
        "{empty:?}"
    );
}
