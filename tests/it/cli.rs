//! The command line as a user meets it: exit codes, located policy errors, unknown flags,
//! and endpoints that refuse or never answer (exit 3 within a bound, never a hang).

use std::time::{Duration, Instant};

use crate::support::{infraverify, stderr, stdout};

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/lifetimecircle/snapshot.json"
);

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn unknown_flags_and_subcommands_are_refused_with_exit_2() {
    let dir = tmp();
    let out = infraverify(dir.path())
        .args(["scan", "--regoin", "eu-central-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unexpected argument '--regoin'"), "{err}");
    assert!(err.contains("--region"), "suggests the right flag: {err}");
    let out = infraverify(dir.path()).arg("scna").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = infraverify(dir.path())
        .args(["evaluate", EXAMPLE, "--fail-on", "severe"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'severe'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_policy_is_located_and_nothing_is_evaluated() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[policy]\nregions = [\"eu-central-1\"]\n\n[rules.rds-backup-retention-too-shrot]\n\n[rules.rds-multi-az-disabled]\nseverity = 3\n",
    )
    .unwrap();
    for args in [
        vec!["check-policy", "bad.toml"],
        vec![
            "evaluate", EXAMPLE, "--policy", "bad.toml", "--format", "json",
        ],
        vec![
            "scan",
            "--policy",
            "bad.toml",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ],
    ] {
        let out = infraverify(dir.path()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("--> bad.toml:4:8"), "{err}");
        assert!(
            err.contains("unknown rule `rds-backup-retention-too-shrot`"),
            "{err}"
        );
        assert!(
            err.contains("did you mean `rds-backup-retention-too-short`?"),
            "{err}"
        );
        assert!(err.contains("--> bad.toml:7:12"), "{err}");
        assert!(err.contains("`severity` must be a severity"), "{err}");
        assert!(
            err.contains("2 errors in policy; nothing was evaluated"),
            "{err}"
        );
        assert!(
            !dir.path().join("reports").exists(),
            "no report is written for invalid input"
        );
    }
}

#[test]
fn check_policy_accepts_the_bundled_policies() {
    let dir = tmp();
    let root = env!("CARGO_MANIFEST_DIR");
    let out = infraverify(dir.path())
        .args([
            "check-policy",
            &format!("{root}/policies/lifetimecircle.toml"),
            &format!("{root}/policies/aws-baseline.toml"),
        ])
        .output()
        .unwrap();
    // The two files configure some rules twice: refused, and said so.
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is already configured at"),
        "{}",
        stderr(&out)
    );
    for f in ["lifetimecircle.toml", "aws-baseline.toml"] {
        let out = infraverify(dir.path())
            .args(["check-policy", &format!("{root}/policies/{f}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stdout(&out).contains(": valid;"), "{}", stdout(&out));
    }
    let out = infraverify(dir.path())
        .args(["check-policy", "missing.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read policy file missing.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rules_and_explain() {
    let dir = tmp();
    let out = infraverify(dir.path()).arg("rules").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for id in [
        "vpc-cidr-mismatch",
        "db-sg-ingress-not-from-api",
        "rds-snapshot-public",
    ] {
        assert!(text.contains(id), "{id} missing from `rules`");
    }
    assert!(text.contains("66 rules."), "{text}");
    let out = infraverify(dir.path())
        .args(["explain", "rds-backup-retention-too-short"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.starts_with("# rds-backup-retention-too-short\n"),
        "{text}"
    );
    assert!(
        text.contains("## Remediation") && text.contains("| `min-days` | an integer | `30` |"),
        "{text}"
    );
    let out = infraverify(dir.path())
        .args(["explain", "rds-multi-az"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `rds-multi-az-disabled`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fail_on_sets_the_gate() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("p.toml"),
        "[rules.rds-backup-retention-too-short]\n",
    )
    .unwrap();
    // The example's DB keeps backups for 7 days: a high-severity fail.
    infraverify(dir.path())
        .args(["evaluate", EXAMPLE, "--policy", "p.toml"])
        .assert()
        .code(1);
    infraverify(dir.path())
        .args([
            "evaluate",
            EXAMPLE,
            "--policy",
            "p.toml",
            "--fail-on",
            "high",
        ])
        .assert()
        .code(1);
    infraverify(dir.path())
        .args([
            "evaluate",
            EXAMPLE,
            "--policy",
            "p.toml",
            "--fail-on",
            "critical",
        ])
        .assert()
        .code(0);
}

#[test]
fn unreadable_snapshots_and_report_paths_are_invalid_input() {
    let dir = tmp();
    let out = infraverify(dir.path())
        .args(["evaluate", "nope.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read snapshot nope.json"),
        "{}",
        stderr(&out)
    );
    std::fs::write(
        dir.path().join("old.json"),
        r#"{"schema":"infraverify/snapshot/v0"}"#,
    )
    .unwrap();
    let out = infraverify(dir.path())
        .args(["evaluate", "old.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("this version of infraverify reads \"infraverify/snapshot/v1\""),
        "{}",
        stderr(&out)
    );
    std::fs::write(dir.path().join("afile"), "x").unwrap();
    let out = infraverify(dir.path())
        .args([
            "evaluate",
            EXAMPLE,
            "--format",
            "json",
            "--out-dir",
            "afile",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--out-dir afile exists and is not a directory"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_region_anywhere_is_invalid_input() {
    let dir = tmp();
    std::fs::write(dir.path().join("p.toml"), "[rules.rds-multi-az-disabled]\n").unwrap();
    let out = infraverify(dir.path())
        .args([
            "scan",
            "--policy",
            "p.toml",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no region to scan"),
        "{}",
        stderr(&out)
    );
    let out = infraverify(dir.path())
        .args(["scan", "--region", "mars-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not an AWS region name"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_shard_without_accounts_is_invalid_input_not_the_own_account() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("accounts.toml"),
        "role = \"Audit\"\n[[accounts]]\nid = \"111111111111\"\n[[accounts]]\nid = \"222222222222\"\n",
    )
    .unwrap();
    // Nothing answers at the endpoint: the refusal comes before any call.
    let out = infraverify(dir.path())
        .args([
            "scan",
            "--region",
            "eu-west-1",
            "--accounts",
            "accounts.toml",
        ])
        .args(["--shard", "3/3", "--endpoint-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--shard 3/3 has no accounts: 2 accounts over 3 shards"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_refused_endpoint_makes_every_control_error_and_exit_3() {
    let dir = tmp();
    // Bind, then close: the port refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = infraverify(dir.path())
        .args([
            "scan",
            "--no-probes",
            "--endpoint-url",
            &format!("http://127.0.0.1:{port}"),
            "--call-timeout",
            "2",
            "--format",
            "json",
            "--format",
            "table",
        ])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{text}\n{}", stderr(&out));
    let report = crate::support::read_json(&dir.path().join("reports/report.json"));
    assert_eq!(
        report["summary"]["pass"], 0,
        "no control may pass when nothing was read"
    );
    assert_eq!(report["summary"]["fail"], 0, "nor fail");
    assert!(report["summary"]["error"].as_u64().unwrap() >= 27);
    assert!(
        text.contains("(unreachable): the endpoint could not be reached"),
        "{text}"
    );
}

#[test]
fn an_endpoint_that_never_answers_times_out_instead_of_hanging() {
    let dir = tmp();
    // Accepts connections (the kernel completes the handshake) and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for s in listener.incoming().take(64) {
            open.push(s);
        }
    });
    let start = Instant::now();
    let out = infraverify(dir.path())
        .args([
            "scan",
            "--no-probes",
            "--endpoint-url",
            &format!("http://127.0.0.1:{port}"),
            "--call-timeout",
            "1",
        ])
        .timeout(Duration::from_secs(90))
        .output()
        .unwrap();
    let took = start.elapsed();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{text}\n{}", stderr(&out));
    assert!(text.contains("(timeout)"), "{text}");
    assert!(
        took < Duration::from_secs(90),
        "the scan must end on its own"
    );
    drop(held);
}

/// The progress bar: on a terminal's standard error only (here a pseudo-terminal made by
/// util-linux `script`), never with `--quiet`, never when standard error is a file or pipe.
#[test]
fn progress_is_drawn_on_a_terminal_only() {
    let dir = tmp();
    let bin = assert_cmd::cargo::cargo_bin("infraverify");
    let scan = |extra: &str| {
        format!(
            "{} scan --no-probes --region ca-west-1 --endpoint-url {} --format json --out-dir {} {extra}",
            bin.display(),
            crate::support::endpoint(),
            dir.path().display()
        )
    };
    // Not a terminal: nothing but what the user asked for.
    let out = infraverify(dir.path())
        .args(["scan", "--no-probes", "--region", "ca-west-1"])
        .args([
            "--endpoint-url",
            &crate::support::endpoint(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!err.contains("\u{1b}[2K") && !err.contains("[0s]"), "{err}");

    let in_terminal = |cmd: String| {
        let out = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("util-linux script runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let drawn = in_terminal(scan(""));
    assert!(
        drawn.contains(" ca-west-1 ") && drawn.contains("\u{1b}[2K"),
        "a step of the bar names a region and a service: {drawn:?}"
    );
    let quiet = in_terminal(scan("--quiet"));
    assert!(
        !quiet.contains(" ca-west-1 ") && !quiet.contains("\u{1b}[2K"),
        "{quiet:?}"
    );
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line_definition() {
    let dir = tmp();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = infraverify(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = stdout(&out);
        for word in ["scan", "verify-evidence", "policy", "fail-on"] {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
    // The bash script is one bash accepts.
    let script = dir.path().join("infraverify.bash");
    let out = infraverify(dir.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    std::fs::write(&script, &out.stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let out = infraverify(dir.path()).arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let man = stdout(&out);
    assert!(man.contains(".TH infraverify 1"), "{man}");
    for sub in [
        "scan",
        "evaluate",
        "evidence",
        "verify\\-evidence",
        "completions",
    ] {
        assert!(man.contains(sub), "the man page lacks {sub}");
    }
    let out = infraverify(dir.path())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is invalid input"
    );
}

/// Without usable credentials nothing is collected: one message that says what was tried
/// and how to fix it, exit 2, instead of the same error once per service and region.
#[tokio::test(flavor = "multi_thread")]
async fn no_usable_credentials_stop_before_collecting() {
    let dir = tmp();
    let out = infraverify(dir.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args([
            "scan",
            "--no-probes",
            "--region",
            "eu-central-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("no usable AWS credentials, so nothing was collected"),
        "{err}"
    );
    assert!(err.contains("tried: the environment"), "{err}");
    assert!(err.contains("aws sso login --profile P"), "{err}");
    assert_eq!(
        err.matches("no credentials found").count(),
        1,
        "said once: {err}"
    );
    assert!(
        !dir.path().join("reports/report.json").exists(),
        "nothing written"
    );
    // Keys STS refuses: the same stop, naming the profile's fix.
    let refuse = crate::proxy::start(
        &crate::support::endpoint(),
        std::sync::Arc::new(|req: &crate::proxy::Request| {
            (req.service == "sts").then(crate::proxy::Canned::invalid_token)
        }),
    )
    .await;
    let out = crate::support::run_in(
        dir.path(),
        [
            "collect",
            "--no-probes",
            "--region",
            "eu-central-1",
            "--endpoint-url",
            &refuse.url,
            "--profile",
            "audit",
            "--out",
            "s.json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("InvalidClientTokenId"), "{err}");
    assert!(err.contains("aws sso login --profile audit"), "{err}");
}
