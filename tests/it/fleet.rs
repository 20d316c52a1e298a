//! Scanning wide: every enabled region at once.

use crate::support::{endpoint, infraverify, read_json, stderr, stdout};

#[test]
fn region_all_scans_every_enabled_region() {
    let dir = tempfile::tempdir().unwrap();
    // A rule whose verdicts do not depend on what other tests seed in other regions.
    std::fs::write(
        dir.path().join("p.toml"),
        "[rules.sg-egress-unrestricted]\n",
    )
    .unwrap();
    let out = infraverify(dir.path())
        .args([
            "scan",
            "--no-probes",
            "--policy",
            "p.toml",
            "--region",
            "all",
        ])
        .args(["--endpoint-url", &endpoint(), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report = read_json(&dir.path().join("reports/report.json"));
    let regions: Vec<&str> = report["run"]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(regions.len() > 10, "{regions:?}");
    assert!(regions.contains(&"eu-central-1") && regions.contains(&"us-east-1"));
    let mut sorted = regions.clone();
    sorted.sort();
    assert_eq!(regions, sorted);

    let out = infraverify(dir.path())
        .args(["scan", "--region", "all", "--region", "eu-west-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be combined"),
        "{}",
        stderr(&out)
    );
}

/// A VPC in `account` with one group admitting SSH from anywhere (`open = true`) or from a
/// private range; returns the group's id.
async fn seed_account(account: &str, region: &str, open: bool) -> String {
    let proxy = crate::proxy::for_account(&endpoint(), account).await;
    let cfg = crate::support::sdk_at(&proxy.url, region).await;
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let sg = ec2
        .create_security_group()
        .group_name("ssh")
        .description("ssh")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    let cidr = if open { "0.0.0.0/0" } else { "10.9.0.0/16" };
    ec2.authorize_security_group_ingress()
        .group_id(&sg)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip(cidr).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    sg
}

fn admin_port_verdicts(report: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "sg-admin-port-open-to-world")
        .map(|f| {
            (
                f["resource"]["account"].as_str().unwrap_or("").to_string(),
                f["resource"]["id"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Several accounts through roles, concurrently, each finding carrying its account; an
/// account whose role cannot be assumed is `error` on its own, the others unaffected; and
/// shards of an accounts file, merged, give the whole fleet's report.
#[tokio::test(flavor = "multi_thread")]
async fn accounts_through_roles_shards_and_merge() {
    let region = "eu-west-3";
    let a = seed_account("111111111111", region, true).await;
    let b = seed_account("222222222222", region, false).await;
    let c = seed_account("333333333333", region, true).await;
    // AssumeRole into 333333333333 is refused, as a missing trust would be.
    let proxy = crate::proxy::start(
        &endpoint(),
        std::sync::Arc::new(|r: &crate::proxy::Request| {
            (r.operation() == "AssumeRole" && r.body.contains("333333333333"))
                .then(|| crate::proxy::Canned::access_denied("sts:AssumeRole"))
        }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        "[rules.sg-admin-port-open-to-world]\n",
    )
    .unwrap();
    let url = proxy.url.clone();
    let base = move |extra: Vec<String>| -> Vec<String> {
        let mut v: Vec<String> = [
            "scan",
            "--no-probes",
            "--policy",
            "p.toml",
            "--region",
            region,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend([
            "--endpoint-url".to_string(),
            url.clone(),
            "--format".into(),
            "json".into(),
        ]);
        v.extend(extra);
        v
    };
    let run = |args: Vec<String>| {
        let dir = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || infraverify(&dir).args(&args).output().unwrap())
    };
    let role = |acct: &str| format!("arn:aws:iam::{acct}:role/InfraverifyAudit");
    let out = run(base(vec![
        "--assume-role".into(),
        role("111111111111"),
        "--assume-role".into(),
        role("222222222222"),
        "--assume-role".into(),
        role("333333333333"),
        "--out-dir".into(),
        "all".into(),
        "--save-snapshot".into(),
        "snap.json".into(),
        "--format".into(),
        "junit".into(),
    ]))
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report = read_json(&dir.path().join("all/report.json"));
    assert_eq!(
        report["run"]["accounts"],
        serde_json::json!(["111111111111", "222222222222", "333333333333"])
    );
    // One JUnit test case per finding, each (classname, name) once, naming its account:
    // consumers that key cases by both (GitLab) keep every account's.
    let junit = std::fs::read_to_string(dir.path().join("all/report.junit.xml")).unwrap();
    let cases: Vec<&str> = junit
        .lines()
        .filter(|l| l.trim_start().starts_with("<testcase "))
        .collect();
    let keys: std::collections::BTreeSet<(String, String)> = cases
        .iter()
        .map(|l| {
            let attr = |k: &str| {
                let t = l.split(&format!("{k}=\"")).nth(1).unwrap();
                t[..t.find('"').unwrap()].to_string()
            };
            (attr("classname"), attr("name"))
        })
        .collect();
    assert_eq!(cases.len(), report["findings"].as_array().unwrap().len());
    assert_eq!(keys.len(), cases.len(), "{junit}");
    for acct in ["111111111111", "222222222222", "333333333333"] {
        assert!(
            keys.iter()
                .any(|(_, n)| n.ends_with(&format!("account {acct}"))),
            "{junit}"
        );
    }
    let verdicts = admin_port_verdicts(&report);
    assert!(
        verdicts.contains(&("111111111111".into(), a.clone(), "fail".into())),
        "{verdicts:?}"
    );
    assert!(
        verdicts.contains(&("222222222222".into(), b.clone(), "pass".into())),
        "{verdicts:?}"
    );
    assert!(
        !verdicts.iter().any(|(_, id, _)| id == &c),
        "333's groups cannot be seen"
    );
    assert!(
        verdicts.contains(&("333333333333".into(), "*".into(), "error".into())),
        "{verdicts:?}"
    );
    // The refused account's errors name it; no other account has any.
    for e in report["errors"].as_array().unwrap() {
        assert_eq!(e["account"], "333333333333", "{e}");
    }
    // One snapshot per account, each evaluating to its share of the report.
    for acct in ["111111111111", "222222222222", "333333333333"] {
        assert!(dir.path().join(format!("snap-{acct}.json")).exists());
    }
    let again = infraverify(dir.path())
        .args([
            "evaluate",
            "snap-111111111111.json",
            "snap-222222222222.json",
            "snap-333333333333.json",
        ])
        .args([
            "--policy",
            "p.toml",
            "--format",
            "json",
            "--out-dir",
            "offline",
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        admin_port_verdicts(&read_json(&dir.path().join("offline/report.json"))),
        verdicts
    );

    // The same fleet from an accounts file, in two shards, merged.
    std::fs::write(
        dir.path().join("accounts.toml"),
        "role = \"InfraverifyAudit\"\n\n[[accounts]]\nid = \"111111111111\"\n\n[[accounts]]\nid = \"222222222222\"\n\n[[accounts]]\nid = \"333333333333\"\n",
    )
    .unwrap();
    for (shard, out_dir, code) in [("1/2", "s1", 1), ("2/2", "s2", 0)] {
        let out = run(base(vec![
            "--accounts".into(),
            "accounts.toml".into(),
            "--shard".into(),
            shard.into(),
            "--out-dir".into(),
            out_dir.into(),
        ]))
        .await
        .unwrap();
        assert_eq!(out.status.code(), Some(code), "{shard}: {}", stderr(&out));
    }
    let s1 = read_json(&dir.path().join("s1/report.json"));
    let s2 = read_json(&dir.path().join("s2/report.json"));
    // The same shares with --shard auto, from each scheduler's variables: a Kubernetes
    // Indexed Job (0-based, the count given), GitLab parallel (1-based, with its total),
    // and a GitHub Actions matrix through INFRAVERIFY_SHARD_INDEX/_TOTAL (0-based).
    type Share = Vec<(&'static str, &'static str)>;
    let schedulers: [(&str, [Share; 2]); 3] = [
        (
            "auto/2",
            [
                vec![("JOB_COMPLETION_INDEX", "0")],
                vec![("JOB_COMPLETION_INDEX", "1")],
            ],
        ),
        (
            "auto",
            [
                vec![("CI_NODE_INDEX", "1"), ("CI_NODE_TOTAL", "2")],
                vec![("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "2")],
            ],
        ),
        (
            "auto",
            [
                vec![
                    ("INFRAVERIFY_SHARD_INDEX", "0"),
                    ("INFRAVERIFY_SHARD_TOTAL", "2"),
                ],
                vec![
                    ("INFRAVERIFY_SHARD_INDEX", "1"),
                    ("INFRAVERIFY_SHARD_TOTAL", "2"),
                ],
            ],
        ),
    ];
    for (k, (arg, shares)) in schedulers.into_iter().enumerate() {
        for (share, want) in shares.into_iter().zip([&s1, &s2]) {
            let out_dir = format!("auto{k}-{}", share[0].1);
            let args = base(vec![
                "--accounts".into(),
                "accounts.toml".into(),
                "--shard".into(),
                arg.into(),
                "--out-dir".into(),
                out_dir.clone(),
            ]);
            let d = dir.path().to_path_buf();
            let share2: Vec<(String, String)> = share
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            let out = tokio::task::spawn_blocking(move || {
                let mut cmd = infraverify(&d);
                cmd.args(&args);
                for (name, value) in &share2 {
                    cmd.env(name, value);
                }
                cmd.output().unwrap()
            })
            .await
            .unwrap();
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{arg} {share:?}: {}",
                stderr(&out)
            );
            let got = read_json(&dir.path().join(&out_dir).join("report.json"));
            assert_eq!(
                (&got["run"]["accounts"], &got["run"]["account"]),
                (&want["run"]["accounts"], &want["run"]["account"]),
                "{arg} {share:?}"
            );
            assert_eq!(
                admin_port_verdicts(&got),
                admin_port_verdicts(want),
                "{arg} {share:?}"
            );
        }
    }
    assert_eq!(
        s1["run"]["accounts"],
        serde_json::json!(["111111111111", "333333333333"])
    );
    assert_eq!(s2["run"]["account"], "222222222222");
    let out = infraverify(dir.path())
        .args([
            "merge",
            "s1/report.json",
            "s2/report.json",
            "--out",
            "merged.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let merged = read_json(&dir.path().join("merged.json"));
    assert_eq!(admin_port_verdicts(&merged), verdicts);
    assert_eq!(merged["run"]["accounts"], report["run"]["accounts"]);
    assert_eq!(merged["summary"], report["summary"]);
}

/// At real latency and through throttling, a fleet keeps its bounds on calls in flight (in
/// all, and in each account and region) with several accounts in flight at once, and waits
/// throttling out: no error, and the verdicts of the run that was not throttled.
#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_fleet_keeps_its_bounds_and_its_verdicts() {
    use crate::proxy::{self, Canned, Meter, Request};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let region = "us-east-2";
    let accounts = ["444444444444", "555555555555", "666666666666"];
    for (i, a) in accounts.iter().enumerate() {
        seed_account(a, region, i % 2 == 0).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut file = "role = \"InfraverifyAudit\"\n".to_string();
    for a in accounts {
        file.push_str(&format!("\n[[accounts]]\nid = \"{a}\"\n"));
    }
    std::fs::write(dir.path().join("accounts.toml"), file).unwrap();
    let run = |url: String, out: &'static str| {
        let dir = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let output = infraverify(&dir)
                .args(["scan", "--no-probes", "--region", region])
                .args(["--endpoint-url", &url, "--accounts", "accounts.toml"])
                .args(["--concurrency", "6", "--region-concurrency", "2"])
                .args(["--format", "json", "--out-dir", out])
                .output()
                .unwrap();
            (output, read_json(&dir.join(out).join("report.json")))
        })
    };
    let plain = proxy::start(&endpoint(), Arc::new(|_: &Request| None)).await;
    let (plain_out, plain_report) = run(plain.url.clone(), "plain").await.unwrap();
    assert_eq!(plain_report["errors"], serde_json::json!([]));

    // Every fourth call (STS's aside) is throttled, in its protocol's words; the others
    // take 20 ms.
    let meter = Meter::new(std::time::Duration::from_millis(20));
    let (seen, throttled) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (s, t) = (seen.clone(), throttled.clone());
    let proxy = proxy::metered(
        &endpoint(),
        Arc::new(move |r: &Request| {
            if r.service == "sts" || s.fetch_add(1, Ordering::SeqCst) % 4 != 3 {
                return None;
            }
            t.fetch_add(1, Ordering::SeqCst);
            Some(Canned::throttled(r))
        }),
        meter.clone(),
    )
    .await;
    let (out, report) = run(proxy.url.clone(), "throttled").await.unwrap();
    assert_eq!(
        out.status.code(),
        plain_out.status.code(),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        report["errors"],
        serde_json::json!([]),
        "throttling is waited out"
    );
    assert_eq!(
        crate::support::verdicts(&report),
        crate::support::verdicts(&plain_report)
    );
    let (calls, most, most_per) = meter.figures();
    eprintln!(
        "{calls} calls forwarded, {} throttled; in flight at most {most} in all, {most_per} in one account and region",
        throttled.load(Ordering::SeqCst)
    );
    assert!(throttled.load(Ordering::SeqCst) > 10, "{calls} calls");
    assert!(most <= 6, "at most --concurrency in flight, not {most}");
    assert!(
        most_per <= 2,
        "at most --region-concurrency in one account and region, not {most_per}"
    );
    assert!(
        most > 2,
        "several accounts in flight at once: at most {most} calls were"
    );
}
