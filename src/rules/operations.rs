//! 4 Operations: OPS-3's recovery-time objective, which only a person can vouch for, and
//! DOC-1, the handoff document against live state. (The API-checkable operations controls
//! come with the ECS, logs and backup collectors.)

use std::collections::{BTreeMap, BTreeSet};

use super::scope::Region;
use super::{declare_rule, join_words, Cx, Rule};
use crate::collect::repo::INFRASTRUCTURE_DOC;
use crate::finding::{Evidence, ResourceRef};
use crate::policy::params::in_range;
use crate::policy::selector::{AttachKind, Selector};
use crate::rule_params;

declare_rule! {
    /// OPS-3: the RTO (recovery in under an hour) was demonstrated (attested).
    pub struct RtoNotAttested {
        id: "rto-not-attested",
        scope: "RTO attestation",
        controls: ["OPS-3"],
        severity: Medium,
        kind: "checklist-control",
        title: "No current attestation that recovery within the RTO was demonstrated",
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
    }
}

rule_params! {
    pub struct DocParams {
        /// Whether the document must name the production VPC, the ALB's DNS name and the
        /// database endpoint (beyond naming nothing that does not exist).
        "require-live-names" => require_live_names: bool = true;
    }
}

/// Which collection a named identifier belongs to, for knowing whether it can be checked.
fn token_kind(t: &str) -> Option<&'static str> {
    if t.ends_with(".elb.amazonaws.com") || t.starts_with("arn:aws:elasticloadbalancing:") {
        Some("load balancers")
    } else if t.ends_with(".rds.amazonaws.com") || t.starts_with("arn:aws:rds:") {
        Some("DB instances")
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
                    Ok(dbs) => drift.extend(
                        dbs.into_iter()
                            .filter_map(|db| db.endpoint.as_deref().map(host))
                            .filter(|h| !named.ids.contains_key(h))
                            .map(|h| format!("does not name the database endpoint {h}")),
                    ),
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
