//! 4 Operations: OPS-3's recovery-time objective, which only a person can vouch for, and
//! DOC-1, the handoff document against live state. (The API-checkable operations controls
//! come with the ECS, logs and backup collectors.)

use std::collections::{BTreeMap, BTreeSet};

use super::rds::{backup_decider, backup_subject, db_ref, each_instance, Decider};
use super::scope::Region;
use super::{declare_rule, join_words, Cx, Rule};
use crate::finding::{Evidence, ResourceRef};
use crate::inventory::repo::INFRASTRUCTURE_DOC;
use crate::inventory::scaling::DESCRIBE_SCALABLE_TARGETS;
use crate::rule_params;
use crate::rules::params::{in_range, non_empty};
use crate::rules::selector::{AttachKind, Selector};

declare_rule! {
    /// OPS-3: the RTO (recovery in under an hour) was demonstrated (attested).
    pub struct RtoNotAttested {
        id: "rto-not-attested",
        scope: "RTO attestation",
        controls: ["OPS-3"],
        severity: Medium,
        kind: "checklist-control",
        title: "No current attestation that recovery within the RTO was demonstrated",
        source: Policy,
    }
}

rule_params! {
    pub struct RtoParams {
        /// Oldest acceptable attestation, in days before the scan.
        "max-age-days" => max_age_days: u32 = 365, check = in_range(1, 3650);
    }
}

impl Rule for RtoNotAttested {
    type Params = RtoParams;

    fn check(&self, cx: &mut Cx<'_>, p: &RtoParams) {
        cx.attested("OPS-3", "recovery time objective", p.max_age_days);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::finding::Status::*;

    use crate::inventory::Observed;

    #[test]
    fn handoff_doc_names_what_exists_and_what_matters() {
        let rule = "handoff-doc-drift";
        assert_verdicts(
            &run(rule, "", &with_repo(|_| {})),
            &[("docs/INFRASTRUCTURE_PROD.md", Pass)],
        );
        // Names a VPC that does not exist, and no longer the database.
        let s = with_repo(|r| {
            let Observed::Present { value } = &mut r.infrastructure_doc else {
                unreachable!()
            };
            value.ids.insert("vpc-0123456789abcdef0".into(), 7);
            value.ids.retain(|k, _| !k.contains(".rds."));
        });
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("docs/INFRASTRUCTURE_PROD.md", Fail)]);
        assert!(
            f[0].message
                .contains("names vpc-0123456789abcdef0 (line 7), which the scan did not find"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message
                .contains("does not name the database endpoint lc-prod-db.example"),
            "{}",
            f[0].message
        );
        assert_verdicts(
            &run(
                rule,
                "require-live-names = false",
                &with_repo(|r| {
                    let Observed::Present { value } = &mut r.infrastructure_doc else {
                        unreachable!()
                    };
                    value.ids.retain(|k, _| !k.contains(".rds."));
                }),
            ),
            &[("docs/INFRASTRUCTURE_PROD.md", Pass)],
        );
        // No document at all.
        assert_verdicts(
            &run(
                rule,
                "",
                &with_repo(|r| r.infrastructure_doc = Observed::Absent),
            ),
            &[("docs/INFRASTRUCTURE_PROD.md", Fail)],
        );
        // The VPCs could not be read: a named VPC cannot be checked.
        let mut s = with_repo(|_| {});
        inv(&mut s).ec2.vpcs = Observed::unavailable(denied("ec2:DescribeVpcs"));
        assert_verdicts(
            &run(rule, "", &s),
            &[("docs/INFRASTRUCTURE_PROD.md", Error)],
        );
        // No --repo.
        assert_verdicts(&run(rule, "", &compliant()), &[("*", Skipped)]);
    }

    #[test]
    fn document_tokens_are_told_apart_in_every_partition() {
        for (token, kind) in [
            (
                "arn:aws:rds:eu-central-1:1:db:lc-prod-db",
                Some("DB instances"),
            ),
            (
                "arn:aws-cn:rds:cn-north-1:1:cluster:lc",
                Some("DB instances"),
            ),
            (
                "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:1:loadbalancer/app/lc/1",
                Some("load balancers"),
            ),
            (
                "arn:aws:elasticloadbalancing:eu-central-1:1:targetgroup/lc/1",
                None,
            ),
            ("arn:aws:rds:eu-central-1:1:snapshot:lc", None),
            ("arn:aws:s3:::rds", None),
            ("lc.cluster-custom-x.eu-central-1.rds.amazonaws.com", None),
            (
                "lc.cluster-x.eu-central-1.rds.amazonaws.com",
                Some("DB instances"),
            ),
        ] {
            assert_eq!(super::token_kind(token), kind, "{token}");
        }
    }

    #[test]
    fn handoff_doc_reaches_a_cluster_member_through_its_cluster() {
        let rule = "handoff-doc-drift";
        let cluster = db_cluster("lc-aurora", &["lc-prod-db"]);
        let endpoint = cluster.endpoint.clone().unwrap();
        let arn = cluster.arn.clone().unwrap();
        let clustered = |names: &[&str]| {
            let mut s = with_repo(|r| {
                let Observed::Present { value } = &mut r.infrastructure_doc else {
                    unreachable!()
                };
                value.ids.retain(|k, _| !k.contains(".rds."));
                for (i, n) in names.iter().enumerate() {
                    value.ids.insert(n.to_string(), 40 + i as u32);
                }
            });
            let rds = &mut inv(&mut s).rds;
            value(&mut rds.instances)
                .get_mut("lc-prod-db")
                .unwrap()
                .cluster_id = Some("lc-aurora".into());
            rds.clusters = present(keyed(vec![("lc-aurora", cluster.clone())]));
            s
        };
        // The cluster's endpoint and ARN are what exists; the member's own endpoint is not
        // how the app reaches it.
        let f = run(rule, "", &clustered(&[&endpoint, &arn]));
        assert_verdicts(&f, &[("docs/INFRASTRUCTURE_PROD.md", Pass)]);
        let f = run(rule, "", &clustered(&[]));
        assert_verdicts(&f, &[("docs/INFRASTRUCTURE_PROD.md", Fail)]);
        assert!(
            f[0].message
                .contains(&format!("does not name the database endpoint {endpoint}")),
            "{}",
            f[0].message
        );
        // The clusters unreadable: what the document names cannot be told apart.
        let mut s = clustered(&[&endpoint]);
        inv(&mut s).rds.clusters = Observed::unavailable(denied("rds:DescribeDBClusters"));
        assert_verdicts(
            &run(rule, "", &s),
            &[("docs/INFRASTRUCTURE_PROD.md", Error)],
        );
    }

    fn scaling_of(s: &mut crate::inventory::Snapshot) -> &mut crate::inventory::scaling::Scaling {
        &mut inv(s).scaling
    }

    #[test]
    fn ecs_scaling_bounds_and_cpu_target() {
        let rule = "ecs-service-scaling-misconfigured";
        assert_verdicts(&run(rule, "", &compliant()), &[("api", Pass)]);
        let mut s = compliant();
        let t = value(&mut scaling_of(&mut s).targets)
            .get_mut("service/lc-prod/api")
            .unwrap();
        t.min_capacity = 1;
        t.max_capacity = 20;
        value(&mut scaling_of(&mut s).policies)[0].target_value = Some(50.0);
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("api", Fail)]);
        assert_eq!(
            f[0].message,
            "ECS service api scales in to 1 task (at least 2 required), scales out to 20 tasks (at most 10 allowed) and tracks CPU at 50% (70% planned)."
        );
        let mut s = compliant();
        value(&mut scaling_of(&mut s).targets).clear();
        assert!(run(rule, "", &s)[0]
            .message
            .contains("has no scalable target"));
        // Step scaling keeps its thresholds in CloudWatch alarms: not readable here.
        let mut s = compliant();
        let p = &mut value(&mut scaling_of(&mut s).policies)[0];
        p.policy_type = "StepScaling".into();
        p.metric = None;
        assert_verdicts(&run(rule, "", &s), &[("api", Error)]);
        // A CPU policy that never scales in keeps every task it ever added.
        let mut s = compliant();
        value(&mut scaling_of(&mut s).policies)[0].disable_scale_in = true;
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("api", Fail)]);
        assert!(
            f[0].message.contains("(DisableScaleIn)"),
            "{}",
            f[0].message
        );
        // A DAEMON service runs one task per container instance: service scaling does not
        // apply, so no scalable target is missing.
        let mut s = compliant();
        value(&mut scaling_of(&mut s).targets).clear();
        let clusters = value(&mut inv(&mut s).ecs.clusters);
        let services = value(&mut clusters.get_mut("arn:cluster").unwrap().services);
        services.get_mut("arn:svc-api").unwrap().scheduling_strategy = Some("DAEMON".into());
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("api", Skipped)]);
        assert!(f[0].message.contains("DAEMON"), "{}", f[0].message);
        let mut s = compliant();
        scaling_of(&mut s).policies =
            Observed::unavailable(denied("application-autoscaling:DescribeScalingPolicies"));
        assert_verdicts(&run(rule, "", &s), &[("api", Error)]);
        let mut s = compliant();
        value(&mut inv(&mut s).ecs.clusters).clear();
        assert_verdicts(&run(rule, "", &s), &[("*", Skipped)]);
    }

    #[test]
    fn log_groups_exist_with_retention() {
        let rule = "log-group-without-retention";
        let forever = |s: &mut crate::inventory::Snapshot| {
            value(&mut inv(s).logs.log_groups)
                .get_mut("/ecs/lc-api")
                .unwrap()
                .retention_days = None
        };
        four_ways(rule, "")
            .pass(&[("/ecs/lc-api", Pass)])
            .fail(forever, &[("/ecs/lc-api", Fail)])
            .error(
                |s| {
                    inv(s).logs.log_groups = Observed::unavailable(denied("logs:DescribeLogGroups"))
                },
                &[("/ecs/lc-api", Error)],
            )
            .skipped(
                |s| value(&mut inv(s).ecs.task_definitions).clear(),
                &[("*", Skipped)],
            );
        let mut s = compliant();
        forever(&mut s);
        let f = run(rule, "", &s);
        assert!(
            f[0].message.contains("keeps logs for ever"),
            "{}",
            f[0].message
        );
        let mut s = compliant();
        value(&mut inv(&mut s).logs.log_groups).clear();
        assert!(run(rule, "", &s)[0].message.contains("does not exist"));
    }

    #[test]
    fn restore_lag_against_the_rpo() {
        let rule = "rds-restore-lag-above-rpo";
        assert_verdicts(&run(rule, "", &compliant()), &[("lc-prod-db", Pass)]);
        // Every instance by default; `instances` narrows both OPS-3 rules.
        for r in [rule, "rds-backups-not-in-another-region"] {
            assert_verdicts(
                &run(r, "instances = [\"staging-*\"]", &compliant()),
                &[("*", Skipped)],
            );
        }
        let f = run(rule, "rpo-minutes = 4", &compliant());
        assert_verdicts(&f, &[("lc-prod-db", Fail)]);
        assert!(
            f[0].message
                .contains("restored to 5 minutes before the scan; the RPO is 4 minutes"),
            "{}",
            f[0].message
        );
        let mut s = compliant();
        value(&mut inv(&mut s).rds.instances)
            .get_mut("lc-prod-db")
            .unwrap()
            .latest_restorable_time = None;
        assert_verdicts(&run(rule, "", &s), &[("lc-prod-db", Error)]);
        value(&mut inv(&mut s).rds.instances)
            .get_mut("lc-prod-db")
            .unwrap()
            .backup_retention_days = Some(0);
        assert_verdicts(&run(rule, "", &s), &[("lc-prod-db", Fail)]);
        let mut s = compliant();
        inv(&mut s).rds.instances = Observed::unavailable(denied("rds:DescribeDBInstances"));
        assert_verdicts(&run(rule, "", &s), &[("*", Error)]);
        let mut s = compliant();
        value(&mut inv(&mut s).rds.instances).clear();
        assert_verdicts(&run(rule, "", &s), &[("*", Skipped)]);
    }

    #[test]
    fn backups_in_another_region_by_replication_or_copy() {
        let rule = "rds-backups-not-in-another-region";
        assert_verdicts(&run(rule, "", &compliant()), &[("lc-prod-db", Pass)]);
        // A backup region that is the database's own cannot be met.
        let f = run(rule, "backup-region = \"eu-central-1\"", &compliant());
        assert_verdicts(&f, &[("lc-prod-db", Error)]);
        assert!(
            f[0].message.contains("is the database's own region"),
            "{}",
            f[0].message
        );
        // Replicated to eu-west-1, but the policy wants eu-north-1, which was not scanned.
        assert_verdicts(
            &run(rule, "backup-region = \"eu-north-1\"", &compliant()),
            &[("lc-prod-db", Error)],
        );
        let mut s = compliant();
        value(&mut inv(&mut s).rds.instances)
            .get_mut("lc-prod-db")
            .unwrap()
            .backup_replications
            .clear();
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("lc-prod-db", Fail)]);
        assert!(
            f[0].message.contains("scan the backup region too"),
            "{}",
            f[0].message
        );
        // A recent snapshot copy in a second scanned region counts.
        let mut other = crate::inventory::RegionInventory::default();
        let mut copy = db_snapshot("lc-prod-db-dr-copy", "lc-prod-db");
        copy.source_region = Some(REGION.into());
        copy.created_at = Some("2026-11-25T10:00:00Z".into());
        other.rds.snapshots = present(keyed(vec![("lc-prod-db-dr-copy", copy)]));
        other.rds.instances = present(Default::default());
        s.regions.insert("eu-west-1".into(), other);
        let f = run(rule, "", &s);
        assert_eq!(finding(&f, "lc-prod-db").status, Pass);
        let f = run(rule, "max-copy-age-days = 2", &s);
        assert_eq!(finding(&f, "lc-prod-db").status, Fail);
        // A snapshot there that was not copied from here is another database's of the
        // same name (names are unique per region only).
        let other = s.regions.get_mut("eu-west-1").unwrap();
        value(&mut other.rds.snapshots)
            .get_mut("lc-prod-db-dr-copy")
            .unwrap()
            .source_region = None;
        let f = run(rule, "", &s);
        assert_eq!(finding(&f, "lc-prod-db").status, Fail);
        // A cross-region read replica's backups are its source's, and "another region" is
        // another than the source's: the replication to eu-west-1, the replica's own
        // region, counts.
        let mut s = compliant();
        let mut other = crate::inventory::RegionInventory::default();
        let mut replica = db("lc-prod-db-replica");
        replica.replica_source = Some(format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:lc-prod-db"));
        replica.backup_replications.clear();
        replica.backup_retention_days = Some(0);
        other.rds.instances = present(keyed(vec![("lc-prod-db-replica", replica)]));
        other.rds.snapshots = present(Default::default());
        s.regions.insert("eu-west-1".into(), other);
        let f = run(rule, "", &s);
        let r = finding(&f, "lc-prod-db-replica");
        assert_eq!(r.status, Pass, "{}", r.message);
        assert_eq!(
            r.message,
            "DB instance lc-prod-db-replica is a read replica of lc-prod-db, whose automated backups are replicated to eu-west-1."
        );
        // Its source not among the scanned instances: not known.
        value(&mut inv(&mut s).rds.instances).clear();
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("lc-prod-db-replica", Error)]);
        let mut s = compliant();
        value(&mut inv(&mut s).rds.instances).clear();
        assert_verdicts(&run(rule, "", &s), &[("*", Skipped)]);
    }

    #[test]
    fn rto_is_manual_without_an_attestation() {
        let f = run("rto-not-attested", "", &compliant());
        assert_verdicts(&f, &[("OPS-3", Manual)]);
        assert!(
            f[0].message
                .starts_with("OPS-3 (recovery time objective) needs an attestation"),
            "{}",
            f[0].message
        );
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// DOC-1: the handoff document names what the scan found.
    pub struct HandoffDocDrift {
        id: "handoff-doc-drift",
        scope: "repository given with --repo",
        controls: ["DOC-1"],
        severity: Low,
        kind: "repository-file",
        title: "docs/INFRASTRUCTURE_PROD.md names ids that do not exist, or misses the live VPC, ALB or database",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct DocParams {
        /// Whether the document must name the production VPC, the ALB's DNS name and the
        /// database endpoint (beyond naming nothing that does not exist).
        "require-live-names" => require_live_names: bool = true;
    }
}

/// Which collection a named identifier belongs to, for knowing whether it can be checked;
/// `None` for what the scan does not collect (target groups, RDS proxies, custom cluster
/// endpoints, subnet groups, snapshots), which cannot drift as far as it can tell.
fn token_kind(t: &str) -> Option<&'static str> {
    // `arn:PARTITION:SERVICE:REGION:ACCOUNT:KIND/...` or `...:KIND:...`, in any partition.
    let arn_kind = |service: &str| {
        let parts: Vec<&str> = t.splitn(6, ':').collect();
        match parts[..] {
            ["arn", partition, s, _, _, resource]
                if partition.starts_with("aws") && s == service =>
            {
                resource.split(['/', ':']).next()
            }
            _ => None,
        }
    };
    if t.ends_with(".elb.amazonaws.com") {
        Some("load balancers")
    } else if let Some(kind) = arn_kind("elasticloadbalancing") {
        matches!(kind, "loadbalancer" | "listener").then_some("load balancers")
    } else if t.ends_with(".rds.amazonaws.com") {
        (!t.contains(".proxy-") && !t.contains(".cluster-custom-")).then_some("DB instances")
    } else if let Some(kind) = arn_kind("rds") {
        matches!(kind, "db" | "cluster").then_some("DB instances")
    } else if t.starts_with("vpc-") {
        Some("VPCs")
    } else if t.starts_with("subnet-") {
        Some("subnets")
    } else if t.starts_with("sg-") {
        Some("security groups")
    } else if t.starts_with("igw-") {
        Some("internet gateways")
    } else if t.starts_with("nat-") {
        Some("NAT gateways")
    } else if t.starts_with("rtb-") {
        Some("route tables")
    } else {
        None
    }
}

/// Every identifier the snapshot knows, and the kinds it could not read.
fn known_ids(
    snap: &crate::inventory::Snapshot,
) -> (BTreeSet<String>, BTreeMap<&'static str, String>) {
    let mut ids = BTreeSet::new();
    let mut unreadable = BTreeMap::new();
    fn keys<T>(
        o: &crate::inventory::Observed<BTreeMap<String, T>>,
        kind: &'static str,
        ids: &mut BTreeSet<String>,
        unreadable: &mut BTreeMap<&'static str, String>,
    ) -> Vec<String> {
        match o.get() {
            Ok(m) => {
                let k: Vec<String> = m.map(|m| m.keys().cloned().collect()).unwrap_or_default();
                ids.extend(k.iter().cloned());
                k
            }
            Err(e) => {
                unreadable.insert(kind, e.to_string());
                vec![]
            }
        }
    }
    for inv in snap.regions.values() {
        let e = &inv.ec2;
        keys(&e.vpcs, "VPCs", &mut ids, &mut unreadable);
        keys(&e.subnets, "subnets", &mut ids, &mut unreadable);
        keys(
            &e.security_groups,
            "security groups",
            &mut ids,
            &mut unreadable,
        );
        keys(
            &e.internet_gateways,
            "internet gateways",
            &mut ids,
            &mut unreadable,
        );
        keys(&e.nat_gateways, "NAT gateways", &mut ids, &mut unreadable);
        keys(&e.route_tables, "route tables", &mut ids, &mut unreadable);
        keys(
            &inv.elbv2.load_balancers,
            "load balancers",
            &mut ids,
            &mut unreadable,
        );
        if let Ok(Some(lbs)) = inv.elbv2.load_balancers.get() {
            ids.extend(lbs.values().filter_map(|lb| lb.dns_name.clone()));
            for lb in lbs.values() {
                if let Ok(Some(ls)) = lb.listeners.get() {
                    ids.extend(ls.iter().map(|l| l.arn.clone()));
                }
            }
        }
        // Groups that collected rules reference (another account's, a peered VPC's, or a
        // deleted one): the handoff document names them as the rules do.
        if let Ok(Some(sgs)) = e.security_groups.get() {
            for sg in sgs.values() {
                for perm in sg.ingress.iter().chain(&sg.egress) {
                    for peer in &perm.sources {
                        if let crate::inventory::ec2::Peer::Group(g) = peer {
                            ids.insert(g.clone());
                        }
                    }
                }
            }
        }
        keys(
            &inv.rds.instances,
            "DB instances",
            &mut ids,
            &mut unreadable,
        );
        if let Ok(Some(dbs)) = inv.rds.instances.get() {
            for db in dbs.values() {
                ids.extend(db.arn.clone());
                ids.extend(db.endpoint.as_deref().map(host));
            }
        }
        keys(&inv.rds.clusters, "DB instances", &mut ids, &mut unreadable);
        if let Ok(Some(clusters)) = inv.rds.clusters.get() {
            for c in clusters.values() {
                ids.extend(c.arn.clone());
                ids.extend(c.endpoint.clone());
                ids.extend(c.reader_endpoint.clone());
            }
        }
    }
    (ids, unreadable)
}

fn host(endpoint: &str) -> String {
    endpoint.split(':').next().unwrap_or(endpoint).to_string()
}

impl Rule for HandoffDocDrift {
    type Params = DocParams;

    fn check(&self, cx: &mut Cx<'_>, p: &DocParams) {
        let Some(repo) = cx.repository() else {
            return;
        };
        let r =
            ResourceRef::new("repository-file", INFRASTRUCTURE_DOC).name(Some(repo.path.clone()));
        let named = match repo.infrastructure_doc.get() {
            Err(e) => return cx.error_on(r, "the handoff document", e),
            Ok(None) => {
                let msg = format!("The repository {} has no {INFRASTRUCTURE_DOC}.", repo.path);
                return cx.fail(r, msg, vec![]);
            }
            Ok(Some(n)) => n,
        };
        let (known, unreadable) = known_ids(cx.snap);
        let mut drift = Vec::new();
        let mut unverifiable = BTreeSet::new();
        for (id, line) in &named.ids {
            let Some(kind) = token_kind(id) else { continue };
            if known.contains(id) {
                continue;
            }
            match unreadable.get(kind) {
                Some(_) => {
                    unverifiable.insert(kind);
                }
                None => drift.push(format!(
                    "names {id} (line {line}), which the scan did not find"
                )),
            }
        }
        if p.require_live_names {
            let regions: Vec<Region<'_>> = cx.regions().collect();
            for region in regions {
                match region.resolve_vpcs(&AttachKind::ALL.map(Selector::attached)) {
                    Ok(vpcs) => drift.extend(
                        vpcs.into_iter()
                            .filter(|v| !named.ids.contains_key(v))
                            .map(|v| format!("does not name the production VPC {v}")),
                    ),
                    Err(_) => {
                        unverifiable.insert("the production VPC");
                    }
                }
                match region.internet_facing_albs(&None) {
                    Ok(albs) => drift.extend(
                        albs.into_iter()
                            .filter_map(|lb| lb.dns_name.clone())
                            .filter(|d| !named.ids.contains_key(d))
                            .map(|d| format!("does not name the ALB {d}")),
                    ),
                    Err(_) => {
                        unverifiable.insert("load balancers");
                    }
                }
                match region.db_instances(&None) {
                    Ok(dbs) => {
                        // A cluster's members are reached through the cluster's endpoint.
                        let mut endpoints = BTreeSet::new();
                        for db in dbs {
                            match Decider::of(region, db) {
                                Ok(Decider::Instance(i)) => {
                                    endpoints.extend(i.endpoint.as_deref().map(host))
                                }
                                Ok(Decider::Cluster(c)) => endpoints.extend(c.endpoint.clone()),
                                Err(_) => {
                                    unverifiable.insert("DB clusters");
                                }
                            }
                        }
                        drift.extend(
                            endpoints
                                .into_iter()
                                .filter(|h| !named.ids.contains_key(h))
                                .map(|h| format!("does not name the database endpoint {h}")),
                        );
                    }
                    Err(_) => {
                        unverifiable.insert("DB instances");
                    }
                }
            }
        }
        let ev = vec![Evidence::new(
            INFRASTRUCTURE_DOC,
            serde_json::json!({ "named": named.ids.keys().collect::<Vec<_>>(), "drift": drift }),
            Some("every named id exists; the live VPC, ALB and database are named".into()),
        )];
        if !drift.is_empty() {
            let msg = format!(
                "{INFRASTRUCTURE_DOC} in {} {}.",
                repo.path,
                join_words(&drift)
            );
            cx.fail(r, msg, ev);
        } else if !unverifiable.is_empty() {
            let kinds: Vec<String> = unverifiable.iter().map(|k| k.to_string()).collect();
            let msg = format!(
                "Could not check {INFRASTRUCTURE_DOC} against live state: the {} could not be read.",
                join_words(&kinds)
            );
            cx.emit(crate::finding::Status::Error, r, msg, ev);
        } else {
            let msg = format!(
                "{INFRASTRUCTURE_DOC} in {} names {} live identifiers and nothing that does not exist.",
                repo.path,
                named.ids.len()
            );
            cx.pass(r, msg, ev);
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// OPS-1: ECS service scaling bounds and target.
    pub struct EcsServiceScalingMisconfigured {
        id: "ecs-service-scaling-misconfigured",
        scope: "ECS service",
        controls: ["OPS-1"],
        severity: Medium,
        kind: "ecs-service",
        title: "An ECS service does not scale between the planned bounds on CPU at the planned target",
        reads: [Ecs, Scaling],
    }
}

rule_params! {
    pub struct ScalingParams {
        /// The fewest tasks the service may scale in to (at least this many).
        "min-capacity" => min_capacity: u32 = 2, check = in_range(1, 10000);
        /// The most tasks the service may scale out to (at most this many).
        "max-capacity" => max_capacity: u32 = 10, check = in_range(1, 10000);
        /// The CPU utilisation (percent) target tracking must aim at.
        "cpu-target" => cpu_target: u32 = 70, check = in_range(1, 100);
        /// Services in scope, by name (wildcards allowed).
        "services" => services: Vec<String> = vec!["*".to_string()];
    }
}

impl Rule for EcsServiceScalingMisconfigured {
    type Params = ScalingParams;

    fn check(&self, cx: &mut Cx<'_>, p: &ScalingParams) {
        cx.threshold("min-capacity");
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            let services = match region.ecs_services(&None) {
                Ok(s) => s,
                Err(e) => {
                    cx.unavailable(region.name, "the ECS services", e);
                    continue;
                }
            };
            for s in services
                .into_iter()
                .filter(|s| crate::glob::any_matches(&p.services, &s.name))
            {
                let cluster = region.cluster_name(&s.cluster_arn);
                let resource_id = format!("service/{cluster}/{}", s.name);
                let r = cx
                    .resource("ecs-service", &s.name, region.name)
                    .name(Some(&s.name))
                    .arn(Some(&s.arn));
                if s.scheduling_strategy.as_deref() == Some("DAEMON") {
                    let msg = format!(
                        "ECS service {} is a DAEMON service (one task per container instance), to which service auto scaling does not apply.",
                        s.name
                    );
                    cx.skip(r, msg);
                    continue;
                }
                let (targets, policies) = match (
                    region.inv.scaling.targets.get(),
                    region.inv.scaling.policies.get(),
                ) {
                    (Err(e), _) | (_, Err(e)) => {
                        cx.error_on(r, "the scaling settings", e);
                        continue;
                    }
                    (Ok(t), Ok(p)) => (t, p),
                };
                let target = targets.and_then(|t| t.get(&resource_id));
                let mine: Vec<_> = policies
                    .into_iter()
                    .flatten()
                    .filter(|x| x.resource_id == resource_id)
                    .collect();
                let mut observed = serde_json::json!({
                    "min_capacity": target.map(|t| t.min_capacity),
                    "max_capacity": target.map(|t| t.max_capacity),
                    "policies": mine.iter().map(|x| {
                        let mut p = serde_json::json!({ "type": x.policy_type, "metric": x.metric, "target": x.target_value });
                        if x.disable_scale_in {
                            p["disable_scale_in"] = serde_json::json!(true);
                        }
                        p
                    }).collect::<Vec<_>>(),
                });
                if let Some(s) = target.and_then(|t| t.suspended.as_ref()) {
                    observed["suspended"] = serde_json::json!(s);
                }
                let ev = vec![Evidence::new(
                    DESCRIBE_SCALABLE_TARGETS,
                    observed,
                    Some(format!(
                        "min >= {}, max <= {}, CPU target tracking at {}%",
                        p.min_capacity, p.max_capacity, p.cpu_target
                    )),
                )];
                let Some(t) = target else {
                    let msg = format!(
                        "ECS service {} has no scalable target: it never scales.",
                        s.name
                    );
                    cx.fail(r, msg, ev);
                    continue;
                };
                let mut problems = Vec::new();
                if (t.min_capacity as i64) < i64::from(p.min_capacity) {
                    problems.push(format!(
                        "scales in to {} task{} (at least {} required)",
                        t.min_capacity,
                        if t.min_capacity == 1 { "" } else { "s" },
                        p.min_capacity
                    ));
                }
                if (t.max_capacity as i64) > i64::from(p.max_capacity) {
                    problems.push(format!(
                        "scales out to {} tasks (at most {} allowed)",
                        t.max_capacity, p.max_capacity
                    ));
                }
                if t.max_capacity <= t.min_capacity {
                    problems.push(format!(
                        "cannot scale (min {} = max {})",
                        t.min_capacity, t.max_capacity
                    ));
                }
                // Suspended dynamic scaling: its policies no longer act, whatever they say.
                let suspended = t.suspended.clone().unwrap_or_default();
                match (suspended.dynamic_out, suspended.dynamic_in) {
                    (Some(true), Some(true)) => {
                        problems.push("has dynamic scaling suspended in both directions".into())
                    }
                    (Some(true), _) => problems
                        .push("has dynamic scaling out suspended: it cannot add tasks".into()),
                    (_, Some(true)) => problems
                        .push("has dynamic scaling in suspended: it cannot remove tasks".into()),
                    _ => {}
                }
                let cpu = mine.iter().find(|x| {
                    x.policy_type == "TargetTrackingScaling"
                        && x.metric.as_deref() == Some("ECSServiceAverageCPUUtilization")
                });
                let step_only =
                    cpu.is_none() && mine.iter().any(|x| x.policy_type == "StepScaling");
                if cpu.is_some_and(|x| x.disable_scale_in) {
                    problems.push(
                        "has a CPU policy that never scales in (DisableScaleIn): it cannot remove tasks"
                            .to_string(),
                    );
                }
                match cpu {
                    Some(x)
                        if x.target_value
                            .is_some_and(|v| (v - f64::from(p.cpu_target)).abs() <= 0.5) => {}
                    Some(x) => problems.push(format!(
                        "tracks CPU at {}% ({}% planned)",
                        x.target_value
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| "?".into()),
                        p.cpu_target
                    )),
                    None if step_only => {}
                    None => problems.push("has no CPU target-tracking policy".to_string()),
                }
                if !problems.is_empty() {
                    let msg = format!("ECS service {} {}.", s.name, join_words(&problems));
                    cx.fail(r, msg, ev);
                } else if step_only {
                    let msg = format!(
                        "Could not check ECS service {}'s step scaling: its thresholds live in CloudWatch alarms, which this version does not read.",
                        s.name
                    );
                    cx.emit(crate::finding::Status::Error, r, msg, ev);
                } else {
                    let msg = format!(
                        "ECS service {} scales between {} and {} tasks on CPU at {}%.",
                        s.name, t.min_capacity, t.max_capacity, p.cpu_target
                    );
                    cx.pass(r, msg, ev);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// OPS-2: the API's log group keeps logs for a set time.
    pub struct LogGroupWithoutRetention {
        id: "log-group-without-retention",
        scope: "log group of an ECS task definition",
        controls: ["OPS-2"],
        severity: Low,
        kind: "logs-log-group",
        title: "A log group the ECS tasks write to is missing or keeps logs for ever",
        reads: [Ecs, Logs],
    }
}

rule_params! {
    pub struct RetentionParams {
        /// The shortest acceptable retention, in days.
        "min-days" => min_days: u32 = 1, check = in_range(1, 3653);
    }
}

impl Rule for LogGroupWithoutRetention {
    type Params = RetentionParams;

    fn check(&self, cx: &mut Cx<'_>, p: &RetentionParams) {
        cx.threshold("min-days");
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            let defs = match region.inv.ecs.task_definitions.get() {
                Ok(d) => d,
                Err(e) => {
                    cx.unavailable(region.name, "the ECS task definitions' log groups", e);
                    continue;
                }
            };
            let mut named: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for d in defs.into_iter().flat_map(|m| m.values()) {
                for l in d
                    .log_groups
                    .iter()
                    .filter(|l| l.region.as_deref().is_none_or(|r| r == region.name))
                {
                    named
                        .entry(l.group.clone())
                        .or_default()
                        .push(format!("{} ({})", d.family, l.container));
                }
            }
            for (group, users) in named {
                let r = cx
                    .resource("logs-log-group", &group, region.name)
                    .name(Some(&group));
                match region.inv.logs.log_groups.get() {
                    Err(e) => cx.error_on(r, "the log group", e),
                    Ok(groups) => {
                        let g = groups.and_then(|m| m.get(&group));
                        let ev = vec![Evidence::new(
                            "logs:DescribeLogGroups",
                            serde_json::json!({ "exists": g.is_some(), "retention_days": g.and_then(|g| g.retention_days), "used_by": users }),
                            Some(format!("exists, retention >= {} days", p.min_days)),
                        )];
                        match g {
                            None => {
                                let msg = format!(
                                    "Log group {group} (used by {}) does not exist.",
                                    join_words(&users)
                                );
                                cx.fail(r, msg, ev);
                            }
                            Some(g) => {
                                let r = r.arn(g.arn.clone());
                                match g.retention_days {
                                    None => {
                                        let msg = format!("Log group {group} keeps logs for ever: no retention period is set.");
                                        cx.fail(r, msg, ev);
                                    }
                                    Some(d) if (d as i64) < i64::from(p.min_days) => {
                                        let msg = format!("Log group {group} keeps logs {d} days; the policy requires at least {}.", p.min_days);
                                        cx.fail(r, msg, ev);
                                    }
                                    Some(d) => {
                                        let msg = format!("Log group {group} keeps logs {d} days.");
                                        cx.pass(r, msg, ev);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// OPS-3: the point-in-time-restore lag is within the RPO.
    pub struct RdsRestoreLagAboveRpo {
        id: "rds-restore-lag-above-rpo",
        scope: "DB instance",
        controls: ["OPS-3"],
        severity: High,
        kind: "rds-db-instance",
        title: "The database's latest restorable time lags more than the RPO",
        reads: [Rds],
    }
}

rule_params! {
    pub struct RpoParams {
        /// Recovery-point objective: the most data, in minutes, a restore may lose.
        "rpo-minutes" => rpo_minutes: u32 = 15, check = in_range(1, 10080);
        /// DB instance identifiers in scope (wildcards allowed): every instance by default.
        "instances" => instances: Vec<String> = vec!["*".to_string()], check = non_empty;
    }
}

impl Rule for RdsRestoreLagAboveRpo {
    type Params = RpoParams;

    fn check(&self, cx: &mut Cx<'_>, p: &RpoParams) {
        cx.threshold("rpo-minutes");
        let as_of = cx.snap.collection.finished_at;
        let regions: Vec<Region<'_>> = cx.regions().collect();
        each_instance(cx, &p.instances, |cx, region, db| {
            let Ok((d, source)) = backup_decider(cx, &regions, region, db) else {
                return;
            };
            let r = db_ref(cx, region.name, db);
            let restorable = d.latest_restorable_time();
            let lag = restorable.map(|t| as_of.seconds_since(t));
            let mut observed = serde_json::json!({ "latest_restorable_time": restorable, "collected_at": as_of, "lag_seconds": lag });
            if let Some(c) = d.cluster() {
                observed["db_cluster"] = serde_json::json!(c.id);
            }
            if let Some(s) = source {
                observed["read_replica_of"] = serde_json::json!(s.id);
            }
            let ev = vec![Evidence::new(
                d.source(),
                observed,
                Some(format!("lag < {} minutes", p.rpo_minutes)),
            )];
            let subject = backup_subject(db, &d, source);
            match lag {
                _ if d.backup_retention_days() == Some(0) => {
                    let msg = format!("{subject} has automated backups off, so it cannot be restored to a point in time.");
                    cx.fail(r, msg, ev);
                }
                None => {
                    let msg = format!("Could not check DB instance {}'s restore point: no latest restorable time was reported.", db.id);
                    cx.emit(crate::finding::Status::Error, r, msg, ev);
                }
                Some(s) => {
                    let minutes = s.max(0) / 60;
                    let msg = format!(
                            "{subject} can be restored to {} minute{} before the scan; the RPO is {} minutes.",
                            minutes,
                            if minutes == 1 { "" } else { "s" },
                            p.rpo_minutes
                        );
                    cx.verdict(s < i64::from(p.rpo_minutes) * 60, r, msg, ev);
                }
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// OPS-3: backups are kept in another region.
    pub struct RdsBackupsNotInAnotherRegion {
        id: "rds-backups-not-in-another-region",
        scope: "DB instance",
        controls: ["OPS-3"],
        severity: High,
        kind: "rds-db-instance",
        title: "The database's backups exist only in its own region",
        reads: [Rds],
    }
}

rule_params! {
    pub struct DrParams {
        /// The region backups must reach (empty: any other region).
        "backup-region" => backup_region: String = String::new();
        /// Without replicated automated backups: the oldest acceptable manual snapshot copy in
        /// the other region, in days.
        "max-copy-age-days" => max_copy_age_days: u32 = 7, check = in_range(1, 3650);
        /// DB instance identifiers in scope (wildcards allowed): every instance by default.
        "instances" => instances: Vec<String> = vec!["*".to_string()], check = non_empty;
    }
}

impl Rule for RdsBackupsNotInAnotherRegion {
    type Params = DrParams;

    fn check(&self, cx: &mut Cx<'_>, p: &DrParams) {
        cx.threshold("max-copy-age-days");
        let as_of = cx.snap.collection.finished_at;
        let scanned: Vec<String> = cx.snap.regions.keys().cloned().collect();
        let regions: Vec<Region<'_>> = cx.regions().collect();
        each_instance(cx, &p.instances, |cx, region, db| {
            let Ok((d, source)) = backup_decider(cx, &regions, region, db) else {
                return;
            };
            let r = db_ref(cx, region.name, db);
            // "Another region" is another than the database's: a replica's source's.
            let home = source.map_or(region.name, |s| s.home.name);
            if p.backup_region == home {
                // No copy can be in another region and in the database's own.
                let msg = format!(
                    "Could not check DB instance {}: the policy's backup-region {home} is the database's own region; name another region.",
                    db.id
                );
                return cx.emit(crate::finding::Status::Error, r, msg, vec![]);
            }
            let wanted = |other: &str| {
                other != home && (p.backup_region.is_empty() || p.backup_region == other)
            };
            // Automated backups are replicated per DB instance; a cluster's backups
            // reach another region as copies of its DB cluster snapshots.
            let replicated: Vec<&String> = match d {
                Decider::Instance(i) => i
                    .backup_replications
                    .iter()
                    .filter(|arn| arn.split(':').nth(3).is_some_and(&wanted))
                    .collect(),
                Decider::Cluster(_) => vec![],
            };
            let mut copies = Vec::new();
            let mut unreadable = None;
            for other in regions.iter().filter(|o| wanted(o.name)) {
                let (listed, _) = d.snapshots_in(&other.inv.rds);
                match listed.get() {
                    Err(e) => unreadable = Some(e),
                    Ok(snaps) => copies.extend(
                        snaps
                            .into_iter()
                            .flat_map(|m| m.values())
                            .filter(|s| d.owns(s) && s.status.as_deref() == Some("available"))
                            // A copy says where it was copied from; a snapshot taken in
                            // that region of a same-named database there is no copy.
                            .filter(|s| s.source_region.as_deref() == Some(home))
                            .filter(|s| {
                                s.original_created_at
                                    .or(s.created_at)
                                    .map(|c| as_of.seconds_since(c))
                                    .is_some_and(|age| {
                                        age <= i64::from(p.max_copy_age_days) * 86_400
                                    })
                            })
                            .map(|s| format!("{} in {}", s.id, other.name)),
                    ),
                }
            }
            let subject = backup_subject(db, &d, source);
            let ev = vec![Evidence::new(
                    match d {
                        Decider::Instance(_) => "rds:DescribeDBInstances, rds:DescribeDBSnapshots",
                        Decider::Cluster(_) => {
                            "rds:DescribeDBClusters, rds:DescribeDBClusterSnapshots"
                        }
                    },
                    serde_json::json!({ "replicated_backups": replicated, "recent_copies": copies }),
                    Some(format!(
                        "replicated automated backups, or a manual snapshot copy younger than {} days, in {}",
                        p.max_copy_age_days,
                        if p.backup_region.is_empty() { "another region" } else { p.backup_region.as_str() }
                    )),
                )];
            if !replicated.is_empty() {
                let to: Vec<String> = replicated
                    .iter()
                    .filter_map(|a| a.split(':').nth(3).map(str::to_string))
                    .collect();
                let msg = match source {
                        None => format!(
                            "DB instance {}'s automated backups are replicated to {}.",
                            db.id,
                            join_words(&to)
                        ),
                        Some(s) => format!(
                            "DB instance {} is a read replica of {}, whose automated backups are replicated to {}.",
                            db.id,
                            s.id,
                            join_words(&to)
                        ),
                    };
                cx.pass(r, msg, ev);
            } else if !copies.is_empty() {
                let msg = format!(
                    "{subject} has a recent snapshot copy in another region: {}.",
                    join_words(&copies)
                );
                cx.pass(r, msg, ev);
            } else if !p.backup_region.is_empty() && !scanned.contains(&p.backup_region) {
                let msg = format!(
                        "Could not look for DB instance {}'s snapshot copies: backup region {} was not scanned (add --region {}).",
                        db.id, p.backup_region, p.backup_region
                    );
                cx.emit(crate::finding::Status::Error, r, msg, ev);
            } else if let Some(e) = unreadable {
                cx.error_on(r, "the other region's snapshots", e);
            } else {
                let mut msg = format!(
                        "{subject} has no automated backups replicated to another region and no snapshot copy younger than {} days in {}.",
                        p.max_copy_age_days,
                        if scanned.len() > 1 { "the other scanned regions".to_string() } else { "another scanned region (scan the backup region too)".to_string() }
                    );
                if d.cluster()
                    .is_some_and(|c| c.kind() == "Multi-AZ DB cluster")
                {
                    msg.push_str(" AWS supports neither cross-Region automated backups nor snapshot copies for Multi-AZ DB clusters.");
                }
                cx.fail(r, msg, ev);
            }
        });
    }
}
