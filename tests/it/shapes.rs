//! Real AWS shapes, through the SDK: fixtures of what AWS answers for Aurora and Multi-AZ DB
//! clusters, read replicas, other engines, service-owned secrets, suspended scaling, load
//! balancers without a scheme and the 2025 TLS policies, replayed to a scan
//! ([`crate::replay`]); each verdict is what an AWS engineer would give.

use std::collections::BTreeMap;

use crate::replay::{error_fixture, fixture, fixture_for, replay};
use crate::support::{message, read_json, scan, stdout, verdicts};

fn expect(pairs: &[(&str, &str, &str)]) -> BTreeMap<(String, String), String> {
    pairs
        .iter()
        .map(|(rule, id, status)| ((rule.to_string(), id.to_string()), status.to_string()))
        .collect()
}

/// Every call the scan made was answered: the fixtures parse.
fn no_collection_errors(report: &serde_json::Value) {
    assert_eq!(
        report["errors"],
        serde_json::json!([]),
        "{}",
        report["errors"]
    );
}

/// What a scan through `fixtures` with `policy` gives: the report and the verdicts.
async fn scan_with(
    region: &str,
    policy: &str,
    fixtures: Vec<crate::replay::Fixture>,
) -> (
    std::process::Output,
    serde_json::Value,
    BTreeMap<(String, String), String>,
) {
    let proxy = replay(fixtures).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), policy).unwrap();
    let out = scan(dir.path(), region)
        .via(&proxy.url)
        .policy("p.toml")
        .formats(&["json"])
        .run_async()
        .await;
    let report = read_json(&dir.path().join("reports/report.json"));
    let got = verdicts(&report);
    (out, report, got)
}

fn rds_fixtures() -> Vec<crate::replay::Fixture> {
    vec![
        fixture(
            "DescribeDBInstances",
            "rds.DescribeDBInstances.clusters.xml",
        ),
        fixture("DescribeDBClusters", "rds.DescribeDBClusters.xml"),
        fixture_for(
            "DescribeDBParameters",
            "orders-apg16",
            "rds.DescribeDBParameters.orders-apg16.xml",
        ),
        fixture(
            "DescribeDBParameters",
            "rds.DescribeDBParameters.default.xml",
        ),
        fixture_for(
            "DescribeDBClusterParameters",
            "orders-apg16-cluster",
            "rds.DescribeDBClusterParameters.orders-apg16-cluster.xml",
        ),
        fixture_for(
            "DescribeDBClusterParameters",
            "billing-pg16-cluster",
            "rds.DescribeDBClusterParameters.billing-pg16-cluster.xml",
        ),
        fixture_for(
            "DescribeDBClusterParameters",
            "default.docdb5.0",
            "rds.DescribeDBClusterParameters.default-docdb.xml",
        ),
        fixture(
            "DescribeDBClusterSnapshots",
            "rds.DescribeDBClusterSnapshots.xml",
        ),
        fixture_for(
            "DescribeDBClusterSnapshotAttributes",
            "orders-apg-before-launch",
            "rds.DescribeDBClusterSnapshotAttributes.orders-apg-before-launch.xml",
        ),
        fixture_for(
            "DescribeDBClusterSnapshotAttributes",
            "billing-maz-shared",
            "rds.DescribeDBClusterSnapshotAttributes.billing-maz-shared.xml",
        ),
    ]
}

/// Aurora PostgreSQL members (Multi-AZ false, 1 GiB of `aurora` storage, no deletion
/// protection of their own, one with its cluster parameter group pending a reboot), a
/// Multi-AZ DB cluster of three with a read replica instance, a MySQL primary with its read
/// replica (backups off), Oracle, MariaDB and a DocumentDB instance: each judged by what AWS
/// decides for it.
#[tokio::test(flavor = "multi_thread")]
async fn clusters_replicas_and_every_engine_are_judged_by_what_decides() {
    let policy = r#"
[rules.rds-multi-az-disabled]
[rules.rds-storage-insufficient]
require-autoscaling = false
[rules.rds-deletion-protection-disabled]
[rules.rds-backup-retention-too-short]
min-days = 7
[rules.rds-parameter-group-misconfigured]
[rules.rds-storage-unencrypted]
[rules.rds-publicly-accessible]
[rules.rds-enhanced-monitoring-disabled]
[rules.rds-manual-snapshot-missing]
[rules.rds-snapshot-public]
[rules.rds-snapshot-unencrypted]
[rules.rds-restore-lag-above-rpo]
[rules.rds-password-not-in-secrets-manager]
[rules.rds-backups-not-in-another-region]
"#;
    let (out, report, got) = scan_with("ap-southeast-3", policy, rds_fixtures()).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    no_collection_errors(&report);
    let aurora = ["orders-apg-1", "orders-apg-2"];
    let maz = ["billing-maz-1", "billing-maz-2", "billing-maz-3"];
    let others = ["shop-mysql", "erp-oracle", "cms-mariadb"];
    let replica = "shop-mysql-replica";
    // A read replica of the Multi-AZ DB cluster: no backups and no secret of its own.
    let reader = "billing-maz-reader";
    let mut want = Vec::new();
    let all: Vec<&str> = aurora
        .iter()
        .chain(&maz)
        .chain(&others)
        .copied()
        .chain([replica, reader])
        .collect();
    // Cluster members pass what their cluster keeps, although they themselves report
    // Multi-AZ false and deletion protection off.
    for id in &all {
        for rule in [
            "rds-storage-unencrypted",
            "rds-publicly-accessible",
            "rds-enhanced-monitoring-disabled",
            "rds-restore-lag-above-rpo",
            "rds-backup-retention-too-short",
        ] {
            want.push((rule, *id, "pass"));
        }
    }
    for id in aurora.iter().chain(&maz).chain(&others) {
        want.push(("rds-multi-az-disabled", *id, "pass"));
        want.push(("rds-deletion-protection-disabled", *id, "pass"));
        want.push(("rds-password-not-in-secrets-manager", *id, "pass"));
    }
    // A read replica's Multi-AZ and deletion protection are its own; its admin password is
    // its source's, an RDS-managed secret (the cluster's for the reader).
    for id in [replica, reader] {
        want.push(("rds-multi-az-disabled", id, "fail"));
        want.push(("rds-deletion-protection-disabled", id, "fail"));
        want.push(("rds-password-not-in-secrets-manager", id, "pass"));
    }
    // Aurora storage grows by itself; the Multi-AZ DB cluster's is the cluster's 100 GiB gp3.
    for id in aurora {
        want.push(("rds-storage-insufficient", id, "skipped"));
    }
    for id in maz.iter().chain(&others).copied().chain([replica, reader]) {
        want.push(("rds-storage-insufficient", id, "pass"));
    }
    // Aurora: the instance group's user value and the cluster group's preload list apply,
    // but not yet on the member whose cluster group waits for a reboot; the Multi-AZ DB
    // cluster's group preloads auto_explain instead of pg_stat_statements. The reader's own
    // group is the engine default, whose max_connections is a formula over memory RDS
    // reserves: not known, so not judged.
    want.push(("rds-parameter-group-misconfigured", "orders-apg-1", "pass"));
    want.push(("rds-parameter-group-misconfigured", "orders-apg-2", "fail"));
    for id in maz {
        want.push(("rds-parameter-group-misconfigured", id, "fail"));
    }
    want.push(("rds-parameter-group-misconfigured", reader, "error"));
    for id in others.iter().copied().chain([replica]) {
        want.push(("rds-parameter-group-misconfigured", id, "skipped"));
    }
    // Cluster snapshots count for members and the cluster's reader; the other instances
    // have none.
    for id in aurora.iter().chain(&maz).copied().chain([reader]) {
        want.push(("rds-manual-snapshot-missing", id, "pass"));
    }
    for id in others.iter().copied().chain([replica]) {
        want.push(("rds-manual-snapshot-missing", id, "fail"));
    }
    for (snap, public) in [
        ("orders-apg-before-launch", "pass"),
        ("billing-maz-shared", "fail"),
    ] {
        want.push(("rds-snapshot-public", snap, public));
        want.push(("rds-snapshot-unencrypted", snap, "pass"));
    }
    // DocumentDB's unencrypted cluster snapshot is its own service's to judge.
    want.push(("rds-snapshot-public", "catalog-docdb-weekly", "skipped"));
    want.push((
        "rds-snapshot-unencrypted",
        "catalog-docdb-weekly",
        "skipped",
    ));
    // One region scanned, no backup replication: no copy anywhere else is seen.
    for id in &all {
        want.push(("rds-backups-not-in-another-region", *id, "fail"));
    }
    // DescribeDBInstances lists DocumentDB too; the RDS rules leave it alone.
    for rule in [
        "rds-backups-not-in-another-region",
        "rds-multi-az-disabled",
        "rds-storage-insufficient",
        "rds-deletion-protection-disabled",
        "rds-backup-retention-too-short",
        "rds-parameter-group-misconfigured",
        "rds-storage-unencrypted",
        "rds-publicly-accessible",
        "rds-enhanced-monitoring-disabled",
        "rds-manual-snapshot-missing",
        "rds-restore-lag-above-rpo",
        "rds-password-not-in-secrets-manager",
    ] {
        want.push((rule, "catalog-docdb-1", "skipped"));
    }
    assert_eq!(got, expect(&want), "{}", stdout(&out));

    let message = |rule: &str, id: &str| message(&report, rule, id);
    assert_eq!(
        message("rds-deletion-protection-disabled", "orders-apg-1"),
        "DB instance orders-apg-1 is a member of Aurora DB cluster orders-apg, which has deletion protection on."
    );
    assert_eq!(
        message("rds-multi-az-disabled", "billing-maz-2"),
        "DB instance billing-maz-2 is a member of Multi-AZ DB cluster billing-maz, which is Multi-AZ, with instances in 3 zones (ap-southeast-3a, ap-southeast-3b, ap-southeast-3c)."
    );
    assert_eq!(
        message("rds-backup-retention-too-short", replica),
        "DB instance shop-mysql-replica is a read replica of shop-mysql, which keeps backups for 7 days; the policy requires at least 7."
    );
    assert!(
        message("rds-parameter-group-misconfigured", "billing-maz-1").contains(
            "DB cluster parameter group billing-pg16-cluster (of Multi-AZ DB cluster billing-maz) where shared_preload_libraries lacks pg_stat_statements"
        ),
        "{}",
        message("rds-parameter-group-misconfigured", "billing-maz-1")
    );
    assert!(message("rds-storage-insufficient", "orders-apg-2").contains("Aurora instance"));
    assert_eq!(
        message("rds-backup-retention-too-short", reader),
        "DB instance billing-maz-reader is a read replica of Multi-AZ DB cluster billing-maz, which keeps backups for 30 days; the policy requires at least 7."
    );
    assert!(
        message("rds-parameter-group-misconfigured", "orders-apg-2").contains("pending-reboot"),
        "{}",
        message("rds-parameter-group-misconfigured", "orders-apg-2")
    );
    assert!(
        message("rds-backups-not-in-another-region", "billing-maz-1").ends_with(
            "AWS supports neither cross-Region automated backups nor snapshot copies for Multi-AZ DB clusters."
        ),
        "{}",
        message("rds-backups-not-in-another-region", "billing-maz-1")
    );
    assert_eq!(
        message("rds-multi-az-disabled", "catalog-docdb-1"),
        "DB instance catalog-docdb-1 runs docdb (an Amazon DocumentDB database, which the RDS rules do not judge)."
    );
}

/// The baseline policy, meant for any architecture, over PostgreSQL, Aurora, MySQL,
/// MariaDB and Oracle: no failure says only "not PostgreSQL", and DocumentDB is not judged
/// as RDS.
#[tokio::test(flavor = "multi_thread")]
async fn the_baseline_judges_every_engine_without_requiring_postgres() {
    let policy = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/aws-baseline.toml"
    ))
    .unwrap();
    let (out, report, got) = scan_with("ap-southeast-3", &policy, rds_fixtures()).await;
    for f in report["findings"].as_array().unwrap() {
        let msg = f["message"].as_str().unwrap();
        assert!(
            !msg.contains("requires postgres") && !msg.contains("not PostgreSQL"),
            "{msg}"
        );
    }
    // Every rule that meets the DocumentDB instance leaves it to its own service.
    let docdb: Vec<_> = got
        .iter()
        .filter(|((_, id), _)| id == "catalog-docdb-1")
        .collect();
    assert!(docdb.len() >= 5, "{docdb:?}");
    assert!(docdb.iter().all(|(_, s)| *s == "skipped"), "{docdb:?}");
    for id in [
        "orders-apg-1",
        "billing-maz-1",
        "shop-mysql",
        "shop-mysql-replica",
        "erp-oracle",
        "cms-mariadb",
    ] {
        assert_eq!(
            got[&("rds-engine-version-too-old".to_string(), id.to_string())],
            "pass",
            "{id}: {}",
            stdout(&out)
        );
    }
}

/// Secrets owned by another service are out of rotation's scope (the owner rotates them or
/// not); a secret whose answer has no `RotationEnabled` was never set to rotate.
#[tokio::test(flavor = "multi_thread")]
async fn service_owned_secrets_are_their_owners_to_rotate() {
    let (out, report, got) = scan_with(
        "ap-northeast-3",
        "[rules.secret-rotation-disabled]\n",
        vec![fixture("ListSecrets", "secretsmanager.ListSecrets.json")],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let rule = "secret-rotation-disabled";
    let events = "events!connection/partner-api/5f8c1d2e-3a4b-4c5d-9e8f-7a6b5c4d3e2f";
    assert_eq!(
        got,
        expect(&[
            (rule, "prod/app/db", "pass"),
            (rule, "rds!db-0f5e9c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b", "pass"),
            (rule, events, "skipped"),
            (rule, "legacy/api-key", "fail"),
            (rule, "paused/rotation", "fail"),
        ])
    );
    let skipped = message(&report, rule, events);
    assert!(
        skipped.contains("is owned by events (OwningService)"),
        "{skipped}"
    );
}

/// A service on Fargate Spot through a capacity provider strategy (no launch type) with
/// Service Connect, and one on EC2 with bridge networking; the second's dynamic scaling
/// out is suspended, so its target-tracking policy no longer acts.
#[tokio::test(flavor = "multi_thread")]
async fn suspended_dynamic_scaling_fails_and_other_launch_shapes_are_read() {
    let (out, report, got) = scan_with(
        "ap-northeast-3",
        "[rules.ecs-service-scaling-misconfigured]\n",
        vec![
            fixture("ListClusters", "ecs.ListClusters.json"),
            fixture("ListServices", "ecs.ListServices.json"),
            fixture("DescribeServices", "ecs.DescribeServices.json"),
            fixture_for(
                "DescribeTaskDefinition",
                "web:12",
                "ecs.DescribeTaskDefinition.web.json",
            ),
            fixture_for(
                "DescribeTaskDefinition",
                "worker:3",
                "ecs.DescribeTaskDefinition.worker.json",
            ),
            fixture(
                "DescribeScalableTargets",
                "application-autoscaling.DescribeScalableTargets.json",
            ),
            fixture(
                "DescribeScalingPolicies",
                "application-autoscaling.DescribeScalingPolicies.json",
            ),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    no_collection_errors(&report);
    let rule = "ecs-service-scaling-misconfigured";
    assert_eq!(
        got,
        expect(&[(rule, "web", "pass"), (rule, "worker", "fail")])
    );
    assert_eq!(
        message(&report, rule, "worker"),
        "ECS service worker has dynamic scaling out suspended: it cannot add tasks."
    );
}

/// An application load balancer whose answer lacks its scheme could be the internet-facing
/// ALB: the ALB's rules say error, never "no ALB". A gateway load balancer has no scheme by
/// design and is no ALB.
#[tokio::test(flavor = "multi_thread")]
async fn a_load_balancer_without_a_scheme_is_an_error_not_out_of_scope() {
    let (out, report, got) = scan_with(
        "eu-south-1",
        "[rules.alb-subnets-single-az]\n",
        vec![
            fixture(
                "DescribeLoadBalancers",
                "elbv2.DescribeLoadBalancers.no-scheme.xml",
            ),
            fixture("DescribeListeners", "elbv2.DescribeListeners.none.xml"),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert_eq!(
        got,
        expect(&[("alb-subnets-single-az", "*", "error")]),
        "{}",
        stdout(&out)
    );
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("gave no Scheme for load balancer prod-web"),
        "{message}"
    );
}

/// A listener on a 2025 post-quantum policy the endpoint does not know: the collector asks
/// for each policy alone, and AWS's published table judges the one it lacks.
#[tokio::test(flavor = "multi_thread")]
async fn a_post_quantum_tls_policy_is_judged_from_the_published_table() {
    let (out, report, got) = scan_with(
        "eu-south-1",
        "[rules.alb-tls-policy-outdated]\n",
        vec![
            fixture("DescribeLoadBalancers", "elbv2.DescribeLoadBalancers.xml"),
            fixture_for(
                "DescribeListeners",
                "prod-web",
                "elbv2.DescribeListeners.pq.xml",
            ),
            fixture("DescribeListeners", "elbv2.DescribeListeners.none.xml"),
            fixture(
                "DescribeListenerCertificates",
                "elbv2.DescribeListenerCertificates.xml",
            ),
            error_fixture(
                "DescribeSSLPolicies",
                "400 Bad Request",
                "elbv2.DescribeSSLPolicies.not-found.xml",
            ),
        ],
    )
    .await;
    no_collection_errors(&report);
    let listener = "arn:aws:elasticloadbalancing:eu-south-1:123456789012:listener/app/prod-web/50dc6c495c0c9188/0467ef3c8400ae65";
    assert_eq!(
        got,
        expect(&[("alb-tls-policy-outdated", listener, "pass")]),
        "{}",
        stdout(&out)
    );
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"),
        "{}",
        report["findings"][0]["message"]
    );
}
