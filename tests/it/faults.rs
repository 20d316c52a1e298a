//! Faults between the scanner and AWS, injected by a proxy in front of the emulator:
//! throttling is retried and changes nothing, a storm of 5xx and a stalled service become
//! `error` on exactly their controls (exit 3), and `--timeout` bounds a whole scan.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use crate::proxy::{self, Canned, Request};
use crate::seed::{seed, Options};
use crate::support::{endpoint, read_json, scan, stdout, verdicts};

/// A scan through `url` into `out/report.json`, with that report and the directory.
async fn scan_async(
    url: String,
    region: &'static str,
    out: &'static str,
    extra: Vec<&'static str>,
) -> (std::process::Output, serde_json::Value, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let output = scan(dir.path(), region)
        .via(&url)
        .formats(&["json"])
        .out_dir(out)
        .args(&extra)
        .run_async()
        .await;
    let report = read_json(&dir.path().join(out).join("report.json"));
    (output, report, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_is_retried_and_changes_no_verdict() {
    let region = "sa-east-1";
    seed(region, Options::default()).await;
    let (clean_out, clean, _d1) = scan_async(endpoint(), region, "clean", vec![]).await;

    // Throttle the first attempt of one call in each protocol: EC2's, another query
    // service's, JSON and REST-XML. (Each throttle costs a retry's back-off, so throttling
    // more would only make the test slow.)
    const VICTIMS: [&str; 5] = [
        "DescribeVpcs",
        "DescribeDBInstances",
        "ListClusters",
        "ListSecrets",
        "GET /2013-04-01/hostedzone",
    ];
    let seen: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let throttled = Arc::new(Mutex::new(BTreeSet::new()));
    let (s, t) = (seen.clone(), throttled.clone());
    let proxy = proxy::start(
        &endpoint(),
        Arc::new(move |r: &Request| {
            let op = r.operation();
            let victim = VICTIMS.iter().find(|v| op.starts_with(*v))?;
            let first = s.lock().unwrap().insert(format!("{op}\n{}", r.body));
            first.then(|| {
                t.lock().unwrap().insert(victim.to_string());
                Canned::throttled(r)
            })
        }),
    )
    .await;
    let (out, report, _d2) = scan_async(proxy.url.clone(), region, "throttled", vec![]).await;
    assert_eq!(
        throttled.lock().unwrap().len(),
        VICTIMS.len(),
        "every protocol was throttled once"
    );
    assert_eq!(
        out.status.code(),
        clean_out.status.code(),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        report["errors"],
        serde_json::json!([]),
        "every throttled call was retried"
    );
    assert_eq!(verdicts(&report), verdicts(&clean));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_5xx_storm_on_one_service_is_error_on_exactly_its_controls() {
    let region = "ap-northeast-2";
    seed(region, Options::default()).await;
    let proxy = proxy::start(
        &endpoint(),
        Arc::new(|r: &Request| (r.service == "ecs").then(Canned::unavailable)),
    )
    .await;
    // The edge controls fail in this account (no Route 53 zone; they have their own test)
    // and are high: the gate looks at critical failures only.
    let (out, report, _d) = scan_async(
        proxy.url.clone(),
        region,
        "storm",
        vec!["--fail-on", "critical"],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let errors = report["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    for e in errors {
        assert!(e["source"].as_str().unwrap().starts_with("ecs:"), "{e}");
        assert!(
            e["message"].as_str().unwrap().starts_with("service-error:"),
            "{e}"
        );
    }
    // The ECS-only controls are error; the RDS controls never look at ECS and pass.
    let by_rule = statuses(&report);
    for rule in [
        "ecs-service-scaling-misconfigured",
        "log-group-without-retention",
        "app-subnet-not-private",
    ] {
        assert!(
            by_rule[rule].iter().all(|s| s == "error"),
            "{rule}: {:?}",
            by_rule[rule]
        );
    }
    for rule in [
        "rds-multi-az-disabled",
        "rds-backup-retention-too-short",
        "sg-open-to-world",
    ] {
        assert!(
            by_rule[rule].iter().all(|s| s == "pass"),
            "{rule}: {:?}",
            by_rule[rule]
        );
    }
}

fn statuses(report: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        m.entry(f["rule"].as_str().unwrap().to_string())
            .or_default()
            .push(f["status"].as_str().unwrap().to_string());
    }
    m
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_service_times_out_and_timeout_bounds_the_whole_scan() {
    let region = "ap-southeast-1";
    seed(region, Options::default()).await;
    // RDS accepts connections and never answers: each call gives up after its timeout.
    let stall_rds = proxy::start(
        &endpoint(),
        Arc::new(|r: &Request| (r.service == "rds").then(Canned::stall)),
    )
    .await;
    let (out, report, _d) = scan_async(
        stall_rds.url.clone(),
        region,
        "stall",
        vec!["--call-timeout", "1", "--fail-on", "critical"],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .all(|e| e["source"].as_str().unwrap().starts_with("rds:")
                && e["message"].as_str().unwrap().starts_with("timeout:")),
        "{errors:?}"
    );
    assert!(statuses(&report)["rds-multi-az-disabled"]
        .iter()
        .all(|s| s == "error"));

    // Everything stalls and each call would wait 60 s: --timeout 3 ends the scan anyway,
    // with every control error and the reports written.
    let stall_all = proxy::start(&endpoint(), Arc::new(|_: &Request| Some(Canned::stall()))).await;
    let (out, report, _d) = scan_async(
        stall_all.url.clone(),
        region,
        "bounded",
        vec![
            "--call-timeout",
            "60",
            "--timeout",
            "3",
            "--fail-on",
            "critical",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let errors = report["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    assert!(
        errors.iter().all(|e| e["message"]
            .as_str()
            .unwrap()
            .contains("(--timeout) ran out")),
        "{errors:?}"
    );
    assert_eq!(
        report["summary"]["pass"], 0,
        "nothing could be seen, so nothing passes"
    );
}
