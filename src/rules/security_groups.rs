//! 2.1 Security groups: SG-1 … SG-5. The ALB, API and DB groups are found by intent (the
//! groups attached to the internet-facing ALB, the ECS services' tasks and the DB
//! instances); the checks follow the checklist's topology, not just "open to the world".

use std::collections::BTreeMap;

use super::network::ec2_arn;
use super::scope::Region;
use super::{declare_rule, join_words, missing_pins, Cx, Rule};
use crate::finding::{Evidence, ResourceRef};
use crate::inventory::ec2::DESCRIBE_SECURITY_GROUPS;
use crate::inventory::ec2::{Peer, Permission, PrefixList, SecurityGroup};
use crate::inventory::{CollectError, Observed};
use crate::rule_params;
use crate::rules::params::non_empty;
use crate::rules::selector::{AttachKind, Selector};

const WORLD: [&str; 2] = ["0.0.0.0/0", "::/0"];

fn sg_ref(cx: &Cx<'_>, region: &str, sg: &SecurityGroup) -> ResourceRef {
    cx.resource("ec2-security-group", &sg.id, region)
        .name(Some(&sg.name))
        .arn(ec2_arn(cx, region, "security-group", &sg.id))
}

fn describe(p: &Permission, sources: &[&Peer]) -> String {
    let from: Vec<String> = sources.iter().map(|s| s.describe()).collect();
    if from.is_empty() {
        p.describe_ports()
    } else {
        format!("{} from {}", p.describe_ports(), join_words(&from))
    }
}

/// What a group's rules admit, in words: `tcp 443 from 0.0.0.0/0 and …`, or `no inbound
/// traffic` when it has none.
fn admitted_words(perms: &[String]) -> String {
    if perms.is_empty() {
        "no inbound traffic".to_string()
    } else {
        join_words(perms)
    }
}

fn permission_evidence(items: &[String], expected: String) -> Evidence {
    Evidence::new(DESCRIBE_SECURITY_GROUPS, items, Some(expected))
}

/// The world-open sources of `p`: 0.0.0.0/0, ::/0, or a prefix list that contains either.
fn world_sources<'p>(
    p: &'p Permission,
    prefix_lists: &Observed<BTreeMap<String, PrefixList>>,
) -> Result<Vec<&'p Peer>, CollectError> {
    let mut out = Vec::new();
    for s in &p.sources {
        match s {
            Peer::Cidr(c) if WORLD.contains(&c.as_str()) => out.push(s),
            Peer::PrefixList(id) => {
                let lists = prefix_lists.get().map_err(Clone::clone)?;
                let entries = match lists.and_then(|m| m.get(id)) {
                    Some(pl) => pl.entries.get().map_err(Clone::clone)?,
                    None => {
                        return Err(CollectError {
                            source: "ec2:GetManagedPrefixListEntries".into(),
                            region: None,
                            kind: crate::inventory::ErrorKind::NotCollected,
                            message: format!("entries of prefix list {id} were not collected"),
                        })
                    }
                };
                if entries.is_some_and(|e| e.iter().any(|c| WORLD.contains(&c.as_str()))) {
                    out.push(s);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The groups `selectors` pick in `region`, looked up; `error` findings for what cannot be.
fn selected_groups<'a>(
    cx: &mut Cx<'_>,
    region: Region<'a>,
    selectors: &[Selector],
    what: &str,
) -> Vec<&'a SecurityGroup> {
    let ids = match region.resolve_sgs(selectors) {
        Ok(ids) => ids,
        Err(e) => {
            cx.unavailable(region.name, what, e);
            return vec![];
        }
    };
    let mut out = Vec::new();
    for id in ids {
        match region.security_group(&id) {
            Ok(Some(sg)) => out.push(sg),
            Ok(None) => {
                let r = cx
                    .resource("ec2-security-group", &id, region.name)
                    .arn(ec2_arn(cx, region.name, "security-group", &id));
                let msg = format!("Security group {id} is attached to the workload but {DESCRIBE_SECURITY_GROUPS} did not return it.");
                cx.fail(r, msg, vec![]);
            }
            Err(e) => {
                let r = cx.resource("ec2-security-group", &id, region.name);
                cx.error_on(r, "the rules", e);
            }
        }
    }
    out
}

/// Every security group of `region`, or `None` after an `error` finding.
fn all_groups<'a>(cx: &mut Cx<'_>, region: Region<'a>) -> Option<Vec<&'a SecurityGroup>> {
    match region.security_groups() {
        Ok(v) => Some(v),
        Err(e) => {
            cx.unavailable(region.name, "security groups", e);
            None
        }
    }
}

fn ports_words(ports: &[u16]) -> String {
    join_words(&ports.iter().map(u16::to_string).collect::<Vec<_>>())
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// SG-1: the ALB's groups admit only tcp 80 and 443.
    pub struct AlbSgUnexpectedIngress {
        id: "alb-sg-unexpected-ingress",
        scope: "security group of an internet-facing ALB",
        controls: ["SG-1"],
        severity: High,
        kind: "ec2-security-group",
        title: "The ALB's security group admits more than tcp 80 and 443",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct AlbSgParams {
        /// The TCP ports the ALB's groups may admit (from anywhere).
        "ports" => ports: Vec<u16> = vec![80, 443], check = non_empty;
        /// The ALB's security groups: by default those attached to internet-facing ALBs.
        "target" => target: Vec<Selector> = vec![Selector::attached(AttachKind::Alb)], check = non_empty;
    }
}

impl Rule for AlbSgUnexpectedIngress {
    type Params = AlbSgParams;

    fn check(&self, cx: &mut Cx<'_>, p: &AlbSgParams) {
        cx.threshold("ports");
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            for sg in selected_groups(cx, region, &p.target, "the ALB's security groups") {
                let r = sg_ref(cx, region.name, sg);
                let extra: Vec<String> = sg
                    .ingress
                    .iter()
                    .filter(|perm| !perm.is_tcp_within(&p.ports))
                    .map(|perm| describe(perm, &perm.sources.iter().collect::<Vec<_>>()))
                    .collect();
                let expected = format!("only tcp {}", ports_words(&p.ports));
                if extra.is_empty() {
                    let all: Vec<String> = sg
                        .ingress
                        .iter()
                        .map(|x| describe(x, &x.sources.iter().collect::<Vec<_>>()))
                        .collect();
                    let msg = format!(
                        "ALB security group {} admits {}.",
                        r.display(),
                        admitted_words(&all)
                    );
                    cx.pass(r, msg, vec![permission_evidence(&all, expected)]);
                } else {
                    let msg = format!(
                        "ALB security group {} admits {}; only tcp {} is allowed.",
                        r.display(),
                        join_words(&extra),
                        ports_words(&p.ports)
                    );
                    cx.fail(r, msg, vec![permission_evidence(&extra, expected)]);
                }
            }
        }
        missing_pins(cx, &p.target, "target", "ec2-security-group", |r, sel| {
            r.resolve_sgs(std::slice::from_ref(sel))
                .ok()
                .map(|v| !v.is_empty())
        });
    }
}

// ---------------------------------------------------------------------------------------
/// SG-2 and SG-3's shared check: every ingress permission of the target groups is tcp on
/// `ports` and comes only from the groups `sources` picks (by reference; no CIDR).
fn check_topology(
    cx: &mut Cx<'_>,
    ports: &[u16],
    target: &[Selector],
    sources: &[Selector],
    role: &str,
) {
    cx.threshold("allowed-sources");
    let allowed_words = join_words(&sources.iter().map(Selector::describe).collect::<Vec<_>>());
    let regions: Vec<Region<'_>> = cx.regions().collect();
    for region in regions {
        let groups = selected_groups(cx, region, target, &format!("the {role} security groups"));
        if groups.is_empty() {
            continue;
        }
        let allowed = match region.resolve_sgs(sources) {
            Ok(a) => a,
            Err(e) => {
                for sg in groups {
                    let r = sg_ref(cx, region.name, sg);
                    cx.error_on(r, "the allowed sources", &e);
                }
                continue;
            }
        };
        for sg in groups {
            let r = sg_ref(cx, region.name, sg);
            let mut bad = Vec::new();
            for perm in &sg.ingress {
                if !perm.is_tcp_within(ports) {
                    bad.push(describe(perm, &perm.sources.iter().collect::<Vec<_>>()));
                    continue;
                }
                let wrong: Vec<&Peer> = perm
                    .sources
                    .iter()
                    .filter(|s| !matches!(s, Peer::Group(g) if allowed.contains(g)))
                    .collect();
                if !wrong.is_empty() {
                    bad.push(describe(perm, &wrong));
                }
            }
            let expected = format!(
                "only tcp {} from {} ({})",
                ports_words(ports),
                allowed_words,
                if allowed.is_empty() {
                    "none found".to_string()
                } else {
                    join_words(&allowed.iter().cloned().collect::<Vec<_>>())
                }
            );
            if bad.is_empty() {
                let all: Vec<String> = sg
                    .ingress
                    .iter()
                    .map(|x| describe(x, &x.sources.iter().collect::<Vec<_>>()))
                    .collect();
                // What was seen, not what the policy allows: a group without rules, where
                // no allowed source exists, admits nothing.
                let msg = if all.is_empty() {
                    format!(
                        "{role} security group {} admits no inbound traffic.",
                        r.display()
                    )
                } else {
                    format!(
                        "{role} security group {} admits only {}: every source is a security group of {}.",
                        r.display(),
                        join_words(&all),
                        allowed_words
                    )
                };
                cx.pass(r, msg, vec![permission_evidence(&all, expected)]);
            } else {
                let msg = format!(
                    "{role} security group {} admits {}; only tcp {} from {} is allowed.",
                    r.display(),
                    join_words(&bad),
                    ports_words(ports),
                    allowed_words
                );
                cx.fail(r, msg, vec![permission_evidence(&bad, expected)]);
            }
        }
    }
    missing_pins(cx, target, "target", "ec2-security-group", |r, sel| {
        r.resolve_sgs(std::slice::from_ref(sel))
            .ok()
            .map(|v| !v.is_empty())
    });
}

declare_rule! {
    /// SG-2: the API's group admits only the app port, only from the ALB's group.
    pub struct ApiSgIngressNotFromAlb {
        id: "api-sg-ingress-not-from-alb",
        scope: "security group of an ECS service",
        controls: ["SG-2"],
        severity: High,
        kind: "ec2-security-group",
        title: "The API's security group admits traffic other than the app port from the ALB's group",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct ApiSgParams {
        /// The TCP ports the API's groups may admit.
        "ports" => ports: Vec<u16> = vec![8000], check = non_empty;
        /// The API's security groups: by default those of the ECS services' tasks.
        "target" => target: Vec<Selector> = vec![Selector::attached(AttachKind::EcsService)], check = non_empty;
        /// The only groups that may be the source (by security group reference, never a
        /// CIDR): by default the internet-facing ALB's groups.
        "allowed-sources" => allowed_sources: Vec<Selector> = vec![Selector::attached(AttachKind::Alb)], check = non_empty;
    }
}

impl Rule for ApiSgIngressNotFromAlb {
    type Params = ApiSgParams;

    fn check(&self, cx: &mut Cx<'_>, p: &ApiSgParams) {
        check_topology(cx, &p.ports, &p.target, &p.allowed_sources, "API");
    }
}

declare_rule! {
    /// SG-3: the DB's group admits only 5432, only from the API's group.
    pub struct DbSgIngressNotFromApi {
        id: "db-sg-ingress-not-from-api",
        scope: "security group of an RDS DB instance",
        controls: ["SG-3"],
        severity: Critical,
        kind: "ec2-security-group",
        title: "The database's security group admits traffic other than the DB port from the API's group",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct DbSgParams {
        /// The TCP ports the database's groups may admit.
        "ports" => ports: Vec<u16> = vec![5432], check = non_empty;
        /// The database's security groups: by default those of the DB instances.
        "target" => target: Vec<Selector> = vec![Selector::attached(AttachKind::Rds)], check = non_empty;
        /// The only groups that may be the source (by reference): by default the ECS
        /// services' groups.
        "allowed-sources" => allowed_sources: Vec<Selector> = vec![Selector::attached(AttachKind::EcsService)], check = non_empty;
    }
}

impl Rule for DbSgIngressNotFromApi {
    type Params = DbSgParams;

    fn check(&self, cx: &mut Cx<'_>, p: &DbSgParams) {
        check_topology(cx, &p.ports, &p.target, &p.allowed_sources, "Database");
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// SG-3: no group admits a DB port from a CIDR.
    pub struct SgDbPortOpenToCidr {
        id: "sg-db-port-open-to-cidr",
        scope: "security group",
        controls: ["SG-3"],
        severity: High,
        kind: "ec2-security-group",
        title: "A security group admits a database port from a CIDR block instead of a security group",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct DbPortParams {
        /// Database ports that may be admitted only from security groups.
        "ports" => ports: Vec<u16> = vec![5432, 3306], check = non_empty;
    }
}

impl Rule for SgDbPortOpenToCidr {
    type Params = DbPortParams;

    fn check(&self, cx: &mut Cx<'_>, p: &DbPortParams) {
        cx.threshold("ports");
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            let Some(groups) = all_groups(cx, region) else {
                continue;
            };
            for sg in groups {
                let r = sg_ref(cx, region.name, sg);
                let bad: Vec<String> = sg
                    .ingress
                    .iter()
                    .filter(|perm| p.ports.iter().any(|port| perm.covers_tcp_port(*port)))
                    .filter_map(|perm| {
                        let cidrs: Vec<&Peer> = perm
                            .sources
                            .iter()
                            .filter(|s| !matches!(s, Peer::Group(_)))
                            .collect();
                        (!cidrs.is_empty()).then(|| describe(perm, &cidrs))
                    })
                    .collect();
                let expected = format!("tcp {} only from security groups", ports_words(&p.ports));
                if bad.is_empty() {
                    let msg = format!(
                        "Security group {} admits no database port ({}) from a CIDR block.",
                        r.display(),
                        ports_words(&p.ports)
                    );
                    cx.pass(r, msg, vec![]);
                } else {
                    let msg = format!(
                        "Security group {} admits {}: database ports must come from security groups, not CIDR blocks.",
                        r.display(),
                        join_words(&bad)
                    );
                    cx.fail(r, msg, vec![permission_evidence(&bad, expected)]);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
/// The permissions among `perms` that `keep` selects and that reach the whole internet
/// (0.0.0.0/0, ::/0, or a prefix list containing either), described as `tcp 22 from
/// 0.0.0.0/0`; or the error that prevents knowing. `dir` is "from" or "to".
fn world_open(
    perms: &[Permission],
    keep: impl Fn(&Permission) -> bool,
    dir: &str,
    prefix_lists: &Observed<BTreeMap<String, PrefixList>>,
) -> Result<Vec<String>, CollectError> {
    let mut out = Vec::new();
    for perm in perms.iter().filter(|p| keep(p)) {
        let world = world_sources(perm, prefix_lists)?;
        if !world.is_empty() {
            let to: Vec<String> = world.iter().map(|s| s.describe()).collect();
            out.push(format!(
                "{} {dir} {}",
                perm.describe_ports(),
                join_words(&to)
            ));
        }
    }
    Ok(out)
}

declare_rule! {
    /// SG-4: no group but the ALB's is open to the internet.
    pub struct SgOpenToWorld {
        id: "sg-open-to-world",
        scope: "security group",
        controls: ["SG-4"],
        severity: High,
        kind: "ec2-security-group",
        title: "A security group other than the ALB's admits traffic from 0.0.0.0/0 or ::/0",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct OpenToWorldParams {
        /// Groups allowed to admit the internet: by default the internet-facing ALB's.
        "exempt" => exempt: Vec<Selector> = vec![Selector::attached(AttachKind::Alb)];
    }
}

impl Rule for SgOpenToWorld {
    type Params = OpenToWorldParams;

    fn check(&self, cx: &mut Cx<'_>, p: &OpenToWorldParams) {
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            let Some(groups) = all_groups(cx, region) else {
                continue;
            };
            let exempt = region.resolve_sgs(&p.exempt);
            for sg in groups {
                let r = sg_ref(cx, region.name, sg);
                let open =
                    match world_open(&sg.ingress, |_| true, "from", &region.inv.ec2.prefix_lists) {
                        Ok(o) => o,
                        Err(e) => {
                            cx.error_on(r, "the prefix lists", &e);
                            continue;
                        }
                    };
                if open.is_empty() {
                    let msg = format!(
                        "Security group {} admits nothing from the internet.",
                        r.display()
                    );
                    cx.pass(r, msg, vec![]);
                    continue;
                }
                match &exempt {
                    Err(e) => cx.error_on(r, "whether the group is exempt", e),
                    Ok(ex) if ex.contains(&sg.id) => {
                        let msg = format!(
                            "Security group {} admits {}, as the policy allows for {}.",
                            r.display(),
                            join_words(&open),
                            join_words(
                                &p.exempt.iter().map(Selector::describe).collect::<Vec<_>>()
                            )
                        );
                        cx.pass(r, msg, vec![permission_evidence(&open, "exempt".into())]);
                    }
                    Ok(_) => {
                        let msg = format!(
                            "Security group {} admits {}; only the ALB's groups may admit the internet.",
                            r.display(),
                            join_words(&open)
                        );
                        cx.fail(
                            r,
                            msg,
                            vec![permission_evidence(
                                &open,
                                "no 0.0.0.0/0 or ::/0 source".into(),
                            )],
                        );
                    }
                }
            }
        }
    }
}

declare_rule! {
    /// SG-4: no group admits the internet on admin or database ports.
    pub struct SgAdminPortOpenToWorld {
        id: "sg-admin-port-open-to-world",
        scope: "security group",
        controls: ["SG-4"],
        severity: Critical,
        kind: "ec2-security-group",
        title: "A security group admits an admin or database port from 0.0.0.0/0 or ::/0",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct AdminPortParams {
        /// Admin and database ports that must never be open to the internet.
        "ports" => ports: Vec<u16> = vec![22, 3389, 5432, 3306, 6379, 27017], check = non_empty;
    }
}

impl Rule for SgAdminPortOpenToWorld {
    type Params = AdminPortParams;

    fn check(&self, cx: &mut Cx<'_>, p: &AdminPortParams) {
        cx.threshold("ports");
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            let Some(groups) = all_groups(cx, region) else {
                continue;
            };
            for sg in groups {
                let r = sg_ref(cx, region.name, sg);
                match world_open(
                    &sg.ingress,
                    |perm| p.ports.iter().any(|port| perm.covers_tcp_port(*port)),
                    "from",
                    &region.inv.ec2.prefix_lists,
                ) {
                    Err(e) => cx.error_on(r, "the prefix lists", &e),
                    Ok(open) if open.is_empty() => {
                        let msg = format!(
                            "Security group {} admits none of ports {} from the internet.",
                            r.display(),
                            ports_words(&p.ports)
                        );
                        cx.pass(r, msg, vec![]);
                    }
                    Ok(open) => {
                        let msg = format!(
                            "Security group {} admits {}, which covers admin or database ports ({}).",
                            r.display(),
                            join_words(&open),
                            ports_words(&p.ports)
                        );
                        let expected =
                            format!("none of {} from 0.0.0.0/0 or ::/0", ports_words(&p.ports));
                        cx.fail(r, msg, vec![permission_evidence(&open, expected)]);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// SG-5: egress as the policy requires.
    pub struct SgEgressUnrestricted {
        id: "sg-egress-unrestricted",
        scope: "security group",
        controls: ["SG-5"],
        severity: Low,
        kind: "ec2-security-group",
        title: "A security group allows all egress where the policy requires it restricted",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct EgressParams {
        /// Whether all-traffic egress to 0.0.0.0/0 or ::/0 is a violation. The checklist
        /// accepts AWS's default allow-all egress, so this is off by default.
        "require-restricted" => require_restricted: bool = false;
        /// The groups to check (empty: every security group). `[{ attached-to = "alb" }, ...]`
        /// narrows it to the workload's.
        "target" => target: Vec<Selector> = vec![];
    }
}

impl Rule for SgEgressUnrestricted {
    type Params = EgressParams;

    fn check(&self, cx: &mut Cx<'_>, p: &EgressParams) {
        cx.threshold("require-restricted");
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            let groups = if p.target.is_empty() {
                all_groups(cx, region).unwrap_or_default()
            } else {
                let (ids, failed) = region.resolve_sgs_partial(&p.target);
                for (sel, e) in failed {
                    cx.unavailable(
                        region.name,
                        &format!("the security groups of {}", sel.describe()),
                        e,
                    );
                }
                let ids: Vec<Selector> = ids.into_iter().map(Selector::Id).collect();
                selected_groups(cx, region, &ids, "the targeted security groups")
            };
            for sg in groups {
                let r = sg_ref(cx, region.name, sg);
                let open = match world_open(
                    &sg.egress,
                    |perm| perm.all_protocols() || perm.covers_every_port(),
                    "to",
                    &region.inv.ec2.prefix_lists,
                ) {
                    Ok(o) => o,
                    Err(e) => {
                        cx.error_on(r, "the prefix lists", &e);
                        continue;
                    }
                };
                let ev = vec![Evidence::new(
                    DESCRIBE_SECURITY_GROUPS,
                    &open,
                    Some(if p.require_restricted {
                        "no all-traffic egress to the internet".into()
                    } else {
                        "any (default allow accepted)".into()
                    }),
                )];
                if open.is_empty() {
                    let msg = format!("Security group {} restricts egress.", r.display());
                    cx.pass(r, msg, ev);
                } else if p.require_restricted {
                    let msg = format!(
                        "Security group {} allows {}; the policy requires restricted egress.",
                        r.display(),
                        join_words(&open)
                    );
                    cx.fail(r, msg, ev);
                } else {
                    let msg = format!(
                        "Security group {} allows {}, which the policy accepts (require-restricted = false).",
                        r.display(),
                        join_words(&open)
                    );
                    cx.pass(r, msg, ev);
                }
            }
        }
        missing_pins(cx, &p.target, "target", "ec2-security-group", |r, sel| {
            r.resolve_sgs(std::slice::from_ref(sel))
                .ok()
                .map(|v| !v.is_empty())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::finding::Status::*;
    use crate::inventory::ec2::{Peer, PrefixList};
    use crate::inventory::Observed;

    fn add_sg(s: &mut crate::inventory::Snapshot, g: crate::inventory::ec2::SecurityGroup) {
        value(&mut inv(s).ec2.security_groups).insert(g.id.clone(), g);
    }

    fn ingress<'a>(
        s: &'a mut crate::inventory::Snapshot,
        id: &str,
    ) -> &'a mut Vec<crate::inventory::ec2::Permission> {
        &mut value(&mut inv(s).ec2.security_groups)
            .get_mut(id)
            .unwrap()
            .ingress
    }

    #[test]
    fn alb_sg_admits_only_80_and_443() {
        let s = compliant();
        assert_verdicts(
            &run("alb-sg-unexpected-ingress", "", &s),
            &[("sg-alb", Pass)],
        );
        let mut s = compliant();
        ingress(&mut s, "sg-alb").push(perm("tcp", 22, 22, &[cidr("0.0.0.0/0")]));
        ingress(&mut s, "sg-alb").push(perm("-1", 0, 0, &[group("sg-api")]));
        let f = run("alb-sg-unexpected-ingress", "", &s);
        assert_verdicts(&f, &[("sg-alb", Fail)]);
        assert_eq!(
            f[0].message,
            "ALB security group sg-alb (lc-alb) admits tcp 22 from 0.0.0.0/0 and all traffic from sg-api; only tcp 80 and 443 is allowed."
        );
        let mut s = compliant();
        ingress(&mut s, "sg-alb")[0] = perm("tcp", 80, 443, &[cidr("0.0.0.0/0")]);
        assert_verdicts(
            &run("alb-sg-unexpected-ingress", "", &s),
            &[("sg-alb", Fail)],
        );

        let mut s = compliant();
        inv(&mut s).elbv2.load_balancers =
            Observed::unavailable(denied("elasticloadbalancing:DescribeLoadBalancers"));
        assert_verdicts(&run("alb-sg-unexpected-ingress", "", &s), &[("*", Error)]);
        let mut s = compliant();
        value(&mut inv(&mut s).elbv2.load_balancers).clear();
        assert_verdicts(&run("alb-sg-unexpected-ingress", "", &s), &[("*", Skipped)]);
    }

    #[test]
    fn pinned_groups_must_exist() {
        let s = compliant();
        let f = run(
            "alb-sg-unexpected-ingress",
            "target = [{ id = \"sg-gone\" }]",
            &s,
        );
        assert_verdicts(&f, &[("sg-gone", Fail)]);
        let f = run(
            "db-sg-ingress-not-from-api",
            "target = [{ attached-to = \"rds\" }, { name = \"lc-cache\" }]",
            &s,
        );
        assert_verdicts(&f, &[("name lc-cache", Fail), ("sg-db", Pass)]);
    }

    #[test]
    fn api_sg_topology() {
        let s = compliant();
        assert_verdicts(
            &run("api-sg-ingress-not-from-alb", "", &s),
            &[("sg-api", Pass)],
        );
        // A CIDR source on the right port is still wrong: SG reference only.
        let mut s = compliant();
        ingress(&mut s, "sg-api").push(perm("tcp", 8000, 8000, &[cidr("10.0.0.0/16")]));
        let f = run("api-sg-ingress-not-from-alb", "", &s);
        assert_verdicts(&f, &[("sg-api", Fail)]);
        assert!(
            f[0].message.contains("admits tcp 8000 from 10.0.0.0/16;"),
            "{}",
            f[0].message
        );
        // The right source on a wrong port.
        let mut s = compliant();
        ingress(&mut s, "sg-api")[0] = perm("tcp", 8000, 8080, &[group("sg-alb")]);
        assert_verdicts(
            &run("api-sg-ingress-not-from-alb", "", &s),
            &[("sg-api", Fail)],
        );
        // A source group that is not the ALB's.
        let mut s = compliant();
        ingress(&mut s, "sg-api")[0] = perm("tcp", 8000, 8000, &[group("sg-db")]);
        assert_verdicts(
            &run("api-sg-ingress-not-from-alb", "", &s),
            &[("sg-api", Fail)],
        );

        // ECS unreadable: cannot know the API's group.
        let mut s = compliant();
        inv(&mut s).ecs.clusters = Observed::unavailable(denied("ecs:ListClusters"));
        assert_verdicts(&run("api-sg-ingress-not-from-alb", "", &s), &[("*", Error)]);
        // ALB unreadable: the API group is known but not its allowed source.
        let mut s = compliant();
        inv(&mut s).elbv2.load_balancers =
            Observed::unavailable(denied("elasticloadbalancing:DescribeLoadBalancers"));
        assert_verdicts(
            &run("api-sg-ingress-not-from-alb", "", &s),
            &[("sg-api", Error)],
        );
        let mut s = compliant();
        value(&mut inv(&mut s).ecs.clusters).clear();
        assert_verdicts(
            &run("api-sg-ingress-not-from-alb", "", &s),
            &[("*", Skipped)],
        );
    }

    #[test]
    fn db_sg_topology_with_pinned_groups() {
        let s = compliant();
        assert_verdicts(
            &run("db-sg-ingress-not-from-api", "", &s),
            &[("sg-db", Pass)],
        );
        let mut s = compliant();
        ingress(&mut s, "sg-db").push(perm("tcp", 5432, 5432, &[group("sg-alb")]));
        let f = run("db-sg-ingress-not-from-api", "", &s);
        assert_verdicts(&f, &[("sg-db", Fail)]);
        assert!(
            f[0].message.contains("admits tcp 5432 from sg-alb"),
            "{}",
            f[0].message
        );
        // Pinning the source by name makes the same rule pass.
        let f = run(
            "db-sg-ingress-not-from-api",
            "allowed-sources = [{ attached-to = \"ecs-service\" }, { name = \"lc-alb\" }]",
            &s,
        );
        assert_verdicts(&f, &[("sg-db", Pass)]);
        assert_eq!(f[0].policy.as_ref().unwrap().line, 2);
        let mut s = compliant();
        inv(&mut s).rds.instances = Observed::unavailable(denied("rds:DescribeDBInstances"));
        assert_verdicts(&run("db-sg-ingress-not-from-api", "", &s), &[("*", Error)]);
        let mut s = compliant();
        value(&mut inv(&mut s).rds.instances).clear();
        assert_verdicts(
            &run("db-sg-ingress-not-from-api", "", &s),
            &[("*", Skipped)],
        );
    }

    #[test]
    fn db_port_from_cidr_anywhere() {
        let s = compliant();
        assert_verdicts(
            &run("sg-db-port-open-to-cidr", "", &s),
            &[("sg-alb", Pass), ("sg-api", Pass), ("sg-db", Pass)],
        );
        let mut s = compliant();
        add_sg(
            &mut s,
            sg(
                "sg-legacy",
                "legacy",
                vec![perm(
                    "tcp",
                    3000,
                    4000,
                    &[cidr("192.168.0.0/16"), group("sg-api")],
                )],
            ),
        );
        add_sg(
            &mut s,
            sg(
                "sg-all",
                "all",
                vec![perm("-1", 0, 0, &[cidr("10.0.0.0/8")])],
            ),
        );
        let f = run("sg-db-port-open-to-cidr", "", &s);
        assert_verdicts(
            &f,
            &[
                ("sg-alb", Pass),
                ("sg-all", Fail),
                ("sg-api", Pass),
                ("sg-db", Pass),
                ("sg-legacy", Fail),
            ],
        );
        assert!(
            f[4].message
                .contains("admits tcp 3000-4000 from 192.168.0.0/16:"),
            "{}",
            f[4].message
        );
        let mut s = compliant();
        inv(&mut s).ec2.security_groups =
            Observed::unavailable(denied("ec2:DescribeSecurityGroups"));
        assert_verdicts(&run("sg-db-port-open-to-cidr", "", &s), &[("*", Error)]);
        let mut s = compliant();
        value(&mut inv(&mut s).ec2.security_groups).clear();
        assert_verdicts(&run("sg-db-port-open-to-cidr", "", &s), &[("*", Skipped)]);
    }

    #[test]
    fn open_to_world_exempts_only_the_alb() {
        four_ways("sg-open-to-world", "")
            .pass(&[("sg-alb", Pass), ("sg-api", Pass), ("sg-db", Pass)])
            .fail(
                |s| ingress(s, "sg-api").push(perm("tcp", 8000, 8000, &[cidr("::/0")])),
                &[("sg-alb", Pass), ("sg-api", Fail), ("sg-db", Pass)],
            )
            // Unreadable load balancers: the ALB's group cannot be told apart from the others.
            .error(
                |s| {
                    inv(s).elbv2.load_balancers = Observed::unavailable(denied(
                        crate::inventory::elbv2::DESCRIBE_LOAD_BALANCERS,
                    ))
                },
                &[("sg-alb", Error), ("sg-api", Pass), ("sg-db", Pass)],
            )
            .skipped(
                |s| value(&mut inv(s).ec2.security_groups).clear(),
                &[("*", Skipped)],
            );
    }

    #[test]
    fn prefix_lists_are_expanded_and_unknown_entries_are_an_error() {
        let mut s = compliant();
        ingress(&mut s, "sg-db").push(perm("tcp", 22, 22, &[Peer::PrefixList("pl-1".into())]));
        value(&mut inv(&mut s).ec2.prefix_lists).insert(
            "pl-1".into(),
            PrefixList {
                id: "pl-1".into(),
                name: None,
                entries: present(vec!["0.0.0.0/0".into()]),
            },
        );
        let f = run("sg-admin-port-open-to-world", "", &s);
        assert_verdicts(&f, &[("sg-alb", Pass), ("sg-api", Pass), ("sg-db", Fail)]);
        assert!(
            f[2].message.contains("tcp 22 from prefix list pl-1"),
            "{}",
            f[2].message
        );
        value(&mut inv(&mut s).ec2.prefix_lists)
            .get_mut("pl-1")
            .unwrap()
            .entries = Observed::unavailable(denied("ec2:GetManagedPrefixListEntries"));
        let f = run("sg-admin-port-open-to-world", "", &s);
        assert_verdicts(&f, &[("sg-alb", Pass), ("sg-api", Pass), ("sg-db", Error)]);
    }

    #[test]
    fn admin_ports_cover_ranges_and_all_traffic() {
        let s = compliant();
        assert_verdicts(
            &run("sg-admin-port-open-to-world", "", &s),
            &[("sg-alb", Pass), ("sg-api", Pass), ("sg-db", Pass)],
        );
        let mut s = compliant();
        // The ALB's group is exempt from nothing here: 0-1024 covers 22.
        ingress(&mut s, "sg-alb").push(perm("tcp", 0, 1024, &[cidr("0.0.0.0/0")]));
        add_sg(
            &mut s,
            sg("sg-redis", "redis", vec![perm("-1", 0, 0, &[cidr("::/0")])]),
        );
        let f = run("sg-admin-port-open-to-world", "", &s);
        assert_verdicts(
            &f,
            &[
                ("sg-alb", Fail),
                ("sg-api", Pass),
                ("sg-db", Pass),
                ("sg-redis", Fail),
            ],
        );
        let mut s = compliant();
        inv(&mut s).ec2.security_groups =
            Observed::unavailable(denied("ec2:DescribeSecurityGroups"));
        assert_verdicts(&run("sg-admin-port-open-to-world", "", &s), &[("*", Error)]);
        let mut s = compliant();
        value(&mut inv(&mut s).ec2.security_groups).clear();
        assert_verdicts(
            &run("sg-admin-port-open-to-world", "", &s),
            &[("*", Skipped)],
        );
    }

    #[test]
    fn egress_is_accepted_unless_the_policy_requires_restriction() {
        let s = compliant();
        let f = run("sg-egress-unrestricted", "", &s);
        assert_verdicts(&f, &[("sg-alb", Pass), ("sg-api", Pass), ("sg-db", Pass)]);
        assert!(
            f[0].message.contains("which the policy accepts"),
            "{}",
            f[0].message
        );
        let mut s = compliant();
        value(&mut inv(&mut s).ec2.security_groups)
            .get_mut("sg-db")
            .unwrap()
            .egress
            .clear();
        // tcp 0-65535 is as open as "all traffic" for a TCP workload.
        value(&mut inv(&mut s).ec2.security_groups)
            .get_mut("sg-api")
            .unwrap()
            .egress = vec![perm("tcp", 0, 65535, &[cidr("0.0.0.0/0")])];
        let f = run("sg-egress-unrestricted", "require-restricted = true", &s);
        assert_verdicts(&f, &[("sg-alb", Fail), ("sg-api", Fail), ("sg-db", Pass)]);
        // Through a prefix list that holds 0.0.0.0/0, and tcp 1-65535: still everything.
        let groups = value(&mut inv(&mut s).ec2.security_groups);
        groups.get_mut("sg-alb").unwrap().egress =
            vec![perm("-1", 0, 0, &[Peer::PrefixList("pl-1".into())])];
        groups.get_mut("sg-db").unwrap().egress = vec![perm("tcp", 1, 65535, &[cidr("::/0")])];
        value(&mut inv(&mut s).ec2.prefix_lists).insert(
            "pl-1".into(),
            PrefixList {
                id: "pl-1".into(),
                name: None,
                entries: present(vec!["0.0.0.0/0".into()]),
            },
        );
        let g = run("sg-egress-unrestricted", "require-restricted = true", &s);
        assert_verdicts(&g, &[("sg-alb", Fail), ("sg-api", Fail), ("sg-db", Fail)]);
        assert!(
            g[0].message.contains("all traffic to prefix list pl-1"),
            "{}",
            g[0].message
        );
        assert!(
            f[1].message.contains("allows tcp 0-65535 to 0.0.0.0/0"),
            "{}",
            f[1].message
        );
        let mut s = compliant();
        inv(&mut s).ec2.security_groups =
            Observed::unavailable(denied("ec2:DescribeSecurityGroups"));
        assert_verdicts(&run("sg-egress-unrestricted", "", &s), &[("*", Error)]);
        // By default every group, attached to anything or not; `target` narrows it. With
        // the workload's groups as target and RDS unreadable, the DB's groups are unknown.
        let workload = "target = [{ attached-to = \"alb\" }, { attached-to = \"ecs-service\" }, { attached-to = \"rds\" }]";
        let mut s = compliant();
        inv(&mut s).rds.instances = Observed::unavailable(denied("rds:DescribeDBInstances"));
        assert_verdicts(
            &run("sg-egress-unrestricted", "", &s),
            &[("sg-alb", Pass), ("sg-api", Pass), ("sg-db", Pass)],
        );
        assert_verdicts(
            &run("sg-egress-unrestricted", workload, &s),
            &[("*", Error), ("sg-alb", Pass), ("sg-api", Pass)],
        );
        let mut s = compliant();
        let i = inv(&mut s);
        value(&mut i.elbv2.load_balancers).clear();
        value(&mut i.ecs.clusters).clear();
        value(&mut i.rds.instances).clear();
        assert_verdicts(
            &run("sg-egress-unrestricted", "require-restricted = true", &s),
            &[("sg-alb", Fail), ("sg-api", Fail), ("sg-db", Fail)],
        );
        assert_verdicts(
            &run("sg-egress-unrestricted", workload, &s),
            &[("*", Skipped)],
        );
        value(&mut inv(&mut s).ec2.security_groups).clear();
        assert_verdicts(&run("sg-egress-unrestricted", "", &s), &[("*", Skipped)]);
    }
}
