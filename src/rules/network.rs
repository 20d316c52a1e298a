//! 2.1 Network: NET-1 … NET-5. The production VPC, its public (ALB), private app (ECS)
//! and private DB subnets, and the NAT gateway, all found by intent.

use std::collections::{BTreeMap, BTreeSet};

use super::scope::Region;
use super::{declare_rule, join_words, missing_pins, region_items, Cx, Rule};
use crate::finding::{Evidence, ResourceRef};
use crate::glob::Glob;
use crate::inventory::ec2::{RouteTable, Subnet};
use crate::inventory::ec2::{
    DESCRIBE_NAT_GATEWAYS, DESCRIBE_ROUTE_TABLES, DESCRIBE_SUBNETS, DESCRIBE_VPCS,
};
use crate::inventory::elbv2::DESCRIBE_LOAD_BALANCERS;
use crate::inventory::name_tag;
use crate::inventory::rds::DESCRIBE_DB_INSTANCES;
use crate::rule_params;
use crate::rules::params::{in_range, ipv4_cidr, non_empty};
use crate::rules::selector::{AttachKind, Selector};

/// The VPCs hosting the workload: the ALB's, the ECS services' and the DB instances'.
fn workload() -> Vec<Selector> {
    AttachKind::ALL
        .into_iter()
        .map(Selector::attached)
        .collect()
}

/// The ARN partition of a region: `aws`, `aws-cn` or `aws-us-gov`.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

pub(crate) fn ec2_arn(cx: &Cx<'_>, region: &str, kind: &str, id: &str) -> Option<String> {
    cx.account()
        .map(|a| format!("arn:{}:ec2:{region}:{a}:{kind}/{id}", partition(region)))
}

fn subnet_ref(cx: &Cx<'_>, region: &str, id: &str, subnet: Option<&Subnet>) -> ResourceRef {
    cx.resource("ec2-subnet", id, region)
        .name(subnet.and_then(|s| name_tag(&s.tags)))
        .arn(ec2_arn(cx, region, "subnet", id))
}

/// `error`: AWS always governs a subnet by some route table (its own or the VPC's main
/// one), so finding none means the route tables were not fully read.
fn no_route_table(cx: &mut Cx<'_>, r: ResourceRef) {
    let msg = format!(
        "Could not check the routes of subnet {}: {DESCRIBE_ROUTE_TABLES} returned neither an explicit association nor a main route table for its VPC.",
        r.display()
    );
    cx.emit(crate::finding::Status::Error, r, msg, vec![]);
}

fn routes_evidence(rt: &RouteTable) -> Evidence {
    let routes: Vec<String> = rt
        .routes
        .iter()
        .map(|r| {
            format!(
                "{} -> {}{}",
                r.destination,
                r.target,
                if r.is_active() { "" } else { " (blackhole)" }
            )
        })
        .collect();
    Evidence::new(
        DESCRIBE_ROUTE_TABLES,
        serde_json::json!({ "route_table": rt.id, "main": rt.main, "routes": routes }),
        None,
    )
}

/// Resolves the subnets `selectors` pick in `region` and looks each up, emitting `error`
/// findings for what cannot be read. Yields (id, subnet, its route table).
fn subnets_with_routes<'a>(
    cx: &mut Cx<'_>,
    region: Region<'a>,
    selectors: &[Selector],
    what: &str,
) -> Vec<(String, &'a Subnet, Option<&'a RouteTable>)> {
    let ids = match region.resolve_subnets(selectors) {
        Ok(ids) => ids,
        Err(e) => {
            cx.unavailable(region.name, what, e);
            return vec![];
        }
    };
    let mut out = Vec::new();
    for id in ids {
        let subnet = match region.subnet(&id) {
            Ok(Some(s)) => s,
            Ok(None) => {
                let r = subnet_ref(cx, region.name, &id, None);
                let msg = format!(
                    "Subnet {id} is in use by the workload but {DESCRIBE_SUBNETS} did not return it."
                );
                cx.fail(r, msg, vec![]);
                continue;
            }
            Err(e) => {
                let r = subnet_ref(cx, region.name, &id, None);
                cx.error_on(r, "the subnet", e);
                continue;
            }
        };
        match region.route_table_for(subnet) {
            Ok(rt) => out.push((id, subnet, rt)),
            Err(e) => {
                let r = subnet_ref(cx, region.name, &id, Some(subnet));
                cx.error_on(r, "the routes", e);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// NET-1: the production VPC exists with the planned CIDR.
    pub struct VpcCidrMismatch {
        id: "vpc-cidr-mismatch",
        scope: "production VPC",
        controls: ["NET-1"],
        severity: Medium,
        kind: "ec2-vpc",
        title: "Production VPC is missing or not on the planned CIDR block",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct VpcCidrParams {
        /// The IPv4 CIDR block the production VPC must have.
        "cidr" => cidr: String = "10.0.0.0/16".to_string(), check = ipv4_cidr;
        /// Which VPCs are production: by default the VPCs hosting the internet-facing ALB,
        /// the ECS services and the DB instances.
        "vpcs" => vpcs: Vec<Selector> = workload(), check = non_empty;
    }
}

impl Rule for VpcCidrMismatch {
    type Params = VpcCidrParams;

    fn check(&self, cx: &mut Cx<'_>, p: &VpcCidrParams) {
        cx.threshold("cidr");
        let mut found = false;
        let mut blocked = false;
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions.iter().copied() {
            // Each intent on its own: an unreadable service hides only its part.
            let (ids, failed) = region.resolve_vpcs_partial(&p.vpcs);
            for (sel, e) in &failed {
                cx.unavailable(region.name, &format!("the VPCs of {}", sel.describe()), e);
                blocked = true;
            }
            let Some(vpcs) =
                region_items(cx, region.name, "the production VPC", &region.inv.ec2.vpcs)
            else {
                blocked = true;
                continue;
            };
            // Nothing deployed yet: a VPC with the planned CIDR still counts as existing.
            let by_intent = p
                .vpcs
                .iter()
                .all(|s| matches!(s, Selector::AttachedTo { .. }));
            let ids: BTreeSet<String> = if ids.is_empty() && failed.is_empty() && by_intent {
                vpcs.values()
                    .filter(|v| v.cidr_blocks.contains(&p.cidr))
                    .map(|v| v.id.clone())
                    .collect()
            } else {
                ids
            };
            for id in ids {
                found = true;
                let r = cx.resource("ec2-vpc", &id, region.name).arn(ec2_arn(
                    cx,
                    region.name,
                    "vpc",
                    &id,
                ));
                let Some(vpc) = vpcs.get(&id) else {
                    let msg = format!(
                        "VPC {id} hosts the workload but {DESCRIBE_VPCS} did not return it."
                    );
                    cx.fail(r, msg, vec![]);
                    continue;
                };
                let r = r.name(name_tag(&vpc.tags));
                let ev = vec![Evidence::new(
                    DESCRIBE_VPCS,
                    &vpc.cidr_blocks,
                    Some(format!("includes {}", p.cidr)),
                )];
                if vpc.cidr_blocks.contains(&p.cidr) {
                    let msg = format!("VPC {} has CIDR block {}.", r.display(), p.cidr);
                    cx.pass(r, msg, ev);
                } else {
                    let msg = format!(
                        "VPC {} has CIDR {}; the policy requires {}.",
                        r.display(),
                        join_words(&vpc.cidr_blocks),
                        p.cidr
                    );
                    cx.fail(r, msg, ev);
                }
            }
        }
        let pinned_missing = missing_pins(cx, &p.vpcs, "vpcs", "ec2-vpc", |r, sel| {
            r.resolve_vpcs(std::slice::from_ref(sel))
                .ok()
                .map(|v| !v.is_empty())
        });
        if !found && !blocked && !pinned_missing {
            let regions: Vec<String> = regions.iter().map(|r| r.name.to_string()).collect();
            let r = ResourceRef::new("ec2-vpc", "*").account(cx.account());
            let msg = format!(
                "No production VPC found in {}: nothing matched {} and no VPC has CIDR {}.",
                if regions.is_empty() {
                    "any region".to_string()
                } else {
                    join_words(&regions)
                },
                join_words(&p.vpcs.iter().map(Selector::describe).collect::<Vec<_>>()),
                p.cidr
            );
            cx.fail(
                r,
                msg,
                vec![Evidence::new(
                    DESCRIBE_VPCS,
                    serde_json::Value::Null,
                    Some(p.cidr.clone()),
                )],
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// NET-2: the ALB's subnets are public.
    pub struct AlbSubnetWithoutInternetRoute {
        id: "alb-subnet-without-internet-route",
        scope: "subnet of an internet-facing ALB",
        controls: ["NET-2"],
        severity: High,
        kind: "ec2-subnet",
        title: "A subnet of the internet-facing ALB has no default route to an attached internet gateway",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct AlbSubnetParams {
        /// Name (wildcards allowed) of the internet-facing application load balancers whose
        /// subnets must be public.
        "load-balancer" => load_balancer: String = "*".to_string();
    }
}

impl Rule for AlbSubnetWithoutInternetRoute {
    type Params = AlbSubnetParams;

    fn check(&self, cx: &mut Cx<'_>, p: &AlbSubnetParams) {
        let sel = [Selector::attached_named(AttachKind::Alb, &p.load_balancer)];
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            for (id, subnet, rt) in subnets_with_routes(cx, region, &sel, "the ALB's subnets") {
                let r = subnet_ref(cx, region.name, &id, Some(subnet));
                let Some(rt) = rt else {
                    no_route_table(cx, r);
                    continue;
                };
                let mut ev = routes_evidence(rt);
                ev.expected = Some("0.0.0.0/0 -> igw-… attached to the VPC".into());
                match region.default_route_to_attached_igw(rt, &subnet.vpc_id) {
                    Err(e) => cx.error_on(r, "the internet gateway", e),
                    Ok(Some(igw)) => {
                        let msg = format!(
                            "Subnet {} of the ALB routes 0.0.0.0/0 to internet gateway {igw}, attached to {}.",
                            r.display(),
                            subnet.vpc_id
                        );
                        cx.pass(r, msg, vec![ev]);
                    }
                    Ok(None) => {
                        let msg = format!(
                            "Subnet {} of the ALB has no active 0.0.0.0/0 route to an internet gateway attached to {} (route table {}).",
                            r.display(),
                            subnet.vpc_id,
                            rt.id
                        );
                        cx.fail(r, msg, vec![ev]);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// NET-2: the ALB spans at least two AZs.
    pub struct AlbSubnetsSingleAz {
        id: "alb-subnets-single-az",
        scope: "internet-facing application load balancer",
        controls: ["NET-2"],
        severity: High,
        kind: "elbv2-load-balancer",
        title: "The internet-facing ALB spans fewer availability zones than planned",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct AlbAzParams {
        /// Minimum number of availability zones the ALB's subnets must span.
        "min-azs" => min_azs: u32 = 2, check = in_range(1, 6);
        /// Name (wildcards allowed) of the internet-facing application load balancers to check.
        "load-balancer" => load_balancer: String = "*".to_string();
    }
}

impl Rule for AlbSubnetsSingleAz {
    type Params = AlbAzParams;

    fn check(&self, cx: &mut Cx<'_>, p: &AlbAzParams) {
        cx.threshold("min-azs");
        let name = Some(Glob(p.load_balancer.clone()));
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            let albs = match region.internet_facing_albs(&name) {
                Ok(v) => v,
                Err(e) => {
                    cx.unavailable(region.name, "load balancers", e);
                    continue;
                }
            };
            for lb in albs {
                let azs: BTreeSet<&str> = lb
                    .subnets
                    .iter()
                    .map(|s| s.availability_zone.as_str())
                    .collect();
                let r = cx
                    .resource("elbv2-load-balancer", &lb.name, region.name)
                    .name(Some(&lb.name))
                    .arn(Some(&lb.arn));
                let ev = vec![Evidence::new(
                    DESCRIBE_LOAD_BALANCERS,
                    &azs,
                    Some(format!(">= {} availability zones", p.min_azs)),
                )];
                let n = azs.len();
                let azs: Vec<String> = azs.into_iter().map(String::from).collect();
                let msg = format!(
                    "Load balancer {} spans {n} availability zone{} ({}); the policy requires at least {}.",
                    lb.name,
                    if n == 1 { "" } else { "s" },
                    join_words(&azs),
                    p.min_azs
                );
                cx.verdict(n >= p.min_azs as usize, r, msg, ev);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// NET-3: the API's subnets are private.
    pub struct AppSubnetNotPrivate {
        id: "app-subnet-not-private",
        scope: "private app subnet (ECS service subnet)",
        controls: ["NET-3"],
        severity: High,
        kind: "ec2-subnet",
        title: "A private app subnet routes to an internet gateway, lacks NAT egress or assigns public IPs",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct AppSubnetParams {
        /// The private app subnets: by default those of the ECS services' tasks.
        "subnets" => subnets: Vec<Selector> = vec![Selector::attached(AttachKind::EcsService)], check = non_empty;
        /// Whether the subnets must send 0.0.0.0/0 through a NAT gateway.
        "require-nat-egress" => require_nat_egress: bool = true;
    }
}

impl Rule for AppSubnetNotPrivate {
    type Params = AppSubnetParams;

    fn check(&self, cx: &mut Cx<'_>, p: &AppSubnetParams) {
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            // Services that give their tasks public IPs, whatever the subnet says.
            let public_ip_services = region.ecs_services(&None).map(|services| {
                services
                    .into_iter()
                    .filter_map(|s| {
                        let n = s.network.as_ref()?;
                        n.assign_public_ip
                            .then_some((s.name.as_str(), n.subnets.as_slice()))
                    })
                    .collect::<Vec<(&str, &[String])>>()
            });
            for (id, subnet, rt) in subnets_with_routes(cx, region, &p.subnets, "the app subnets") {
                let r = subnet_ref(cx, region.name, &id, Some(subnet));
                let Some(rt) = rt else {
                    no_route_table(cx, r);
                    continue;
                };
                let public_ip_services = match &public_ip_services {
                    Ok(s) => s,
                    Err(e) => {
                        cx.error_on(r, "the ECS services' public-IP setting", e);
                        continue;
                    }
                };
                let mut problems = Vec::new();
                let assigning: Vec<String> = public_ip_services
                    .iter()
                    .filter(|(_, subnets)| subnets.contains(&id))
                    .map(|(name, _)| name.to_string())
                    .collect();
                if !assigning.is_empty() {
                    problems.push(format!(
                        "hosts ECS service{} {} with assignPublicIp ENABLED",
                        if assigning.len() == 1 { "" } else { "s" },
                        join_words(&assigning)
                    ));
                }
                let mut ev = vec![Evidence::new(
                    DESCRIBE_SUBNETS,
                    serde_json::json!({ "map_public_ip_on_launch": subnet.map_public_ip_on_launch }),
                    Some("map_public_ip_on_launch = false".into()),
                )];
                if subnet.map_public_ip_on_launch {
                    problems.push("assigns public IPs on launch".to_string());
                }
                {
                    {
                        let igw: Vec<String> = rt
                            .routes
                            .iter()
                            .filter(|r| r.is_active() && r.targets_internet_gateway())
                            .map(|r| format!("{} -> {}", r.destination, r.target))
                            .collect();
                        if !igw.is_empty() {
                            problems.push(format!(
                                "routes to an internet gateway ({})",
                                join_words(&igw)
                            ));
                        }
                        let nat = rt.routes.iter().any(|r| {
                            r.destination == "0.0.0.0/0" && r.is_active() && r.targets_nat_gateway()
                        });
                        if p.require_nat_egress && !nat {
                            problems
                                .push("has no 0.0.0.0/0 route through a NAT gateway".to_string());
                        }
                        let mut e = routes_evidence(rt);
                        e.expected = Some(if p.require_nat_egress {
                            "no igw route; 0.0.0.0/0 -> nat-…".into()
                        } else {
                            "no igw route".into()
                        });
                        ev.push(e);
                    }
                }
                if problems.is_empty() {
                    let msg = format!(
                        "App subnet {} is private: no internet gateway route{}, no public IPs.",
                        r.display(),
                        if p.require_nat_egress {
                            ", egress through NAT"
                        } else {
                            ""
                        }
                    );
                    cx.pass(r, msg, ev);
                } else {
                    let msg = format!("App subnet {} {}.", r.display(), join_words(&problems));
                    cx.fail(r, msg, ev);
                }
            }
        }
        missing_pins(cx, &p.subnets, "subnets", "ec2-subnet", |r, sel| {
            r.resolve_subnets(std::slice::from_ref(sel))
                .ok()
                .map(|v| !v.is_empty())
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// NET-4: the DB subnets have no route to an internet gateway.
    pub struct DbSubnetRoutesToInternet {
        id: "db-subnet-routes-to-internet",
        scope: "subnet of an RDS DB subnet group",
        controls: ["NET-4"],
        severity: High,
        kind: "ec2-subnet",
        title: "A private DB subnet has a route to an internet gateway",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct DbSubnetParams {
        /// The private DB subnets: by default those of the DB instances' subnet groups.
        "subnets" => subnets: Vec<Selector> = vec![Selector::attached(AttachKind::Rds)], check = non_empty;
    }
}

impl Rule for DbSubnetRoutesToInternet {
    type Params = DbSubnetParams;

    fn check(&self, cx: &mut Cx<'_>, p: &DbSubnetParams) {
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            for (id, subnet, rt) in subnets_with_routes(cx, region, &p.subnets, "the DB subnets") {
                let r = subnet_ref(cx, region.name, &id, Some(subnet));
                let Some(rt) = rt else {
                    no_route_table(cx, r);
                    continue;
                };
                let igw: Vec<String> = rt
                    .routes
                    .iter()
                    .filter(|r| r.is_active() && r.targets_internet_gateway())
                    .map(|r| format!("{} -> {}", r.destination, r.target))
                    .collect();
                let mut ev = routes_evidence(rt);
                ev.expected = Some("no route to igw-…".into());
                if igw.is_empty() {
                    let msg = format!(
                        "DB subnet {} has no route to an internet gateway.",
                        r.display()
                    );
                    cx.pass(r, msg, vec![ev]);
                } else {
                    let msg = format!(
                        "DB subnet {} routes to an internet gateway ({}) through route table {}.",
                        r.display(),
                        join_words(&igw),
                        rt.id
                    );
                    cx.fail(r, msg, vec![ev]);
                }
            }
        }
        missing_pins(cx, &p.subnets, "subnets", "ec2-subnet", |r, sel| {
            r.resolve_subnets(std::slice::from_ref(sel))
                .ok()
                .map(|v| !v.is_empty())
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// NET-4: the DB subnet group spans at least two AZs.
    pub struct DbSubnetGroupSingleAz {
        id: "db-subnet-group-single-az",
        scope: "RDS DB subnet group in use",
        controls: ["NET-4"],
        severity: Medium,
        kind: "rds-db-subnet-group",
        title: "A DB subnet group spans fewer availability zones than planned",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct DbSubnetGroupParams {
        /// Minimum number of availability zones each DB subnet group must span.
        "min-azs" => min_azs: u32 = 2, check = in_range(1, 6);
        /// DB instance identifiers whose subnet groups are checked (wildcards allowed).
        "instances" => instances: Vec<String> = vec!["*".to_string()], check = non_empty;
    }
}

impl Rule for DbSubnetGroupSingleAz {
    type Params = DbSubnetGroupParams;

    fn check(&self, cx: &mut Cx<'_>, p: &DbSubnetGroupParams) {
        cx.threshold("min-azs");
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            let dbs = match region.db_instances(&None) {
                Ok(v) => Ok(v
                    .into_iter()
                    .filter(|d| crate::glob::any_matches(&p.instances, &d.id))
                    .collect::<Vec<_>>()),
                Err(e) => Err(e),
            };
            let dbs = match dbs {
                Ok(v) => v,
                Err(e) => {
                    cx.unavailable(region.name, "DB subnet groups", e);
                    continue;
                }
            };
            let mut groups = BTreeMap::new();
            for db in dbs {
                match &db.subnet_group {
                    Some(g) => {
                        groups.entry(g.name.clone()).or_insert((g, db.id.clone()));
                    }
                    None => {
                        // Every DB instance in a VPC has one: the answer lacked it.
                        let r = super::rds::db_ref(cx, region.name, db);
                        let msg = format!(
                            "Could not check DB instance {}'s subnet group: {} did not report it.",
                            db.id,
                            crate::inventory::rds::DESCRIBE_DB_INSTANCES
                        );
                        cx.emit(crate::finding::Status::Error, r, msg, vec![]);
                    }
                }
            }
            for (name, (g, db)) in groups {
                let azs: BTreeSet<String> = g
                    .subnets
                    .iter()
                    .filter_map(|s| s.availability_zone.clone())
                    .collect();
                let r = cx
                    .resource("rds-db-subnet-group", &name, region.name)
                    .name(Some(&name))
                    .arn(cx.account().map(|a| {
                        format!(
                            "arn:{}:rds:{}:{a}:subgrp:{name}",
                            partition(region.name),
                            region.name
                        )
                    }));
                if g.subnets.iter().any(|s| s.availability_zone.is_none()) {
                    let msg = format!(
                        "Could not count the availability zones of DB subnet group {name}: {DESCRIBE_DB_INSTANCES} did not report the zone of every subnet."
                    );
                    cx.emit(crate::finding::Status::Error, r, msg, vec![]);
                    continue;
                }
                let ev = vec![Evidence::new(
                    DESCRIBE_DB_INSTANCES,
                    &azs,
                    Some(format!(">= {} availability zones", p.min_azs)),
                )];
                let n = azs.len();
                let msg = format!(
                    "DB subnet group {name} (of {db}) spans {n} availability zone{} ({}); the policy requires at least {}.",
                    if n == 1 { "" } else { "s" },
                    join_words(&azs.into_iter().collect::<Vec<_>>()),
                    p.min_azs
                );
                cx.verdict(n >= p.min_azs as usize, r, msg, ev);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// NET-5: the NAT gateway is available and sits in a public subnet.
    pub struct NatGatewayNotUsable {
        id: "nat-gateway-not-usable",
        scope: "private app subnet needing NAT egress",
        controls: ["NET-5"],
        severity: High,
        kind: "ec2-nat-gateway",
        title: "The app subnets' NAT gateway is missing, not available, private, or not in a public subnet",
        reads: [Ec2, Elbv2, Ecs, Rds],
    }
}

rule_params! {
    pub struct NatParams {
        /// The private app subnets whose egress the NAT gateways serve: by default those of
        /// the ECS services' tasks.
        "subnets" => subnets: Vec<Selector> = vec![Selector::attached(AttachKind::EcsService)], check = non_empty;
    }
}

impl Rule for NatGatewayNotUsable {
    type Params = NatParams;

    fn check(&self, cx: &mut Cx<'_>, p: &NatParams) {
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            let app = subnets_with_routes(cx, region, &p.subnets, "the NAT gateways");
            if app.is_empty() {
                continue;
            }
            let Some(nats) = region_items(
                cx,
                region.name,
                "NAT gateways",
                &region.inv.ec2.nat_gateways,
            ) else {
                continue;
            };
            // Per VPC: the NAT gateways its app subnets route through; where they route
            // through none, every NAT gateway in the VPC that is not deleted.
            let mut routed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (_, subnet, rt) in &app {
                let set = routed.entry(subnet.vpc_id.clone()).or_default();
                for r in rt.iter().flat_map(|rt| &rt.routes) {
                    if r.targets_nat_gateway() && r.is_default() {
                        set.insert(r.target.clone());
                    }
                }
            }
            let mut wanted: BTreeSet<String> = BTreeSet::new();
            for (vpc, set) in &routed {
                let mut set = set.clone();
                if set.is_empty() {
                    set.extend(
                        nats.values()
                            .filter(|n| {
                                n.vpc_id.as_deref() == Some(vpc.as_str())
                                    && !matches!(n.state.as_deref(), Some("deleted" | "deleting"))
                            })
                            .map(|n| n.id.clone()),
                    );
                }
                if set.is_empty() {
                    let r = cx.resource("ec2-vpc", vpc, region.name).arn(ec2_arn(
                        cx,
                        region.name,
                        "vpc",
                        vpc,
                    ));
                    let msg =
                        format!("VPC {vpc} hosts the private app subnets but has no NAT gateway.");
                    let ev = vec![Evidence::new(
                        DESCRIBE_NAT_GATEWAYS,
                        serde_json::json!([]),
                        Some("an available NAT gateway".into()),
                    )];
                    cx.fail(r, msg, ev);
                }
                wanted.extend(set);
            }
            for id in wanted {
                let r = cx
                    .resource("ec2-nat-gateway", &id, region.name)
                    .arn(ec2_arn(cx, region.name, "natgateway", &id));
                let Some(nat) = nats.get(&id) else {
                    let msg = format!(
                        "The app subnets route through NAT gateway {id}, which does not exist."
                    );
                    cx.fail(r, msg, vec![]);
                    continue;
                };
                let r = r.name(name_tag(&nat.tags));
                let mut problems = Vec::new();
                let state = nat.state.as_deref().unwrap_or("unknown");
                if state != "available" {
                    problems.push(format!("is {state}, not available"));
                }
                if nat.connectivity_type.as_deref() == Some("private") {
                    problems.push(
                        "is a private NAT gateway, which gives no internet egress".to_string(),
                    );
                }
                let mut subnet_public = None;
                match nat.subnet_id.as_deref().map(|s| region.subnet(s)) {
                    None | Some(Ok(None)) => problems.push("is in no known subnet".to_string()),
                    Some(Err(e)) => {
                        cx.error_on(r, "the NAT gateway's subnet", e);
                        continue;
                    }
                    Some(Ok(Some(s))) => match region.subnet_is_public(s) {
                        Err(e) => {
                            cx.error_on(r, "the NAT gateway's subnet routes", e);
                            continue;
                        }
                        Ok(public) => {
                            subnet_public = Some(public);
                            if !public {
                                problems.push(format!(
                                    "sits in subnet {}, which has no route to an internet gateway",
                                    s.id
                                ));
                            }
                        }
                    },
                }
                let ev = vec![Evidence::new(
                    DESCRIBE_NAT_GATEWAYS,
                    serde_json::json!({
                        "state": nat.state,
                        "subnet": nat.subnet_id,
                        "subnet_public": subnet_public,
                        "connectivity_type": nat.connectivity_type,
                    }),
                    Some("available, public, in a public subnet".into()),
                )];
                if problems.is_empty() {
                    let msg = format!(
                        "NAT gateway {} is available in public subnet {}.",
                        r.display(),
                        nat.subnet_id.as_deref().unwrap_or("?")
                    );
                    cx.pass(r, msg, ev);
                } else {
                    let msg = format!("NAT gateway {} {}.", r.display(), join_words(&problems));
                    cx.fail(r, msg, ev);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::finding::Status::*;
    use crate::inventory::Observed;

    #[test]
    fn arns_use_the_region_partition() {
        assert_eq!(super::partition("eu-central-1"), "aws");
        assert_eq!(super::partition("cn-north-1"), "aws-cn");
        assert_eq!(super::partition("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn vpc_cidr_pass_fail_error_skipped() {
        let s = compliant();
        assert_verdicts(&run("vpc-cidr-mismatch", "", &s), &[("vpc-prod", Pass)]);
        let f = run("vpc-cidr-mismatch", "cidr = \"10.1.0.0/16\"", &s);
        assert_verdicts(&f, &[("vpc-prod", Fail)]);
        assert!(
            f[0].message.contains("the policy requires 10.1.0.0/16"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[0].policy.as_ref().unwrap().line,
            2,
            "points at the cidr line"
        );

        // One intent unreadable: error for it, the VPC found through the others still judged.
        let mut s = compliant();
        inv(&mut s).elbv2.load_balancers =
            Observed::unavailable(denied("elasticloadbalancing:DescribeLoadBalancers"));
        let f = run("vpc-cidr-mismatch", "", &s);
        assert_verdicts(&f, &[("*", Error), ("vpc-prod", Pass)]);
        assert!(
            f[0].message
                .contains("the VPCs of the internet-facing ALBs"),
            "{}",
            f[0].message
        );
        let mut s = compliant();
        inv(&mut s).ec2.vpcs = Observed::unavailable(denied("ec2:DescribeVpcs"));
        assert_verdicts(&run("vpc-cidr-mismatch", "", &s), &[("*", Error)]);
    }

    #[test]
    fn vpc_cidr_fails_when_no_production_vpc_exists() {
        let mut s = compliant();
        let i = inv(&mut s);
        value(&mut i.elbv2.load_balancers).clear();
        value(&mut i.ecs.clusters).clear();
        value(&mut i.rds.instances).clear();
        // A VPC with the planned CIDR but nothing in it yet still exists.
        assert_verdicts(&run("vpc-cidr-mismatch", "", &s), &[("vpc-prod", Pass)]);
        value(&mut inv(&mut s).ec2.vpcs).clear();
        let f = run("vpc-cidr-mismatch", "", &s);
        assert_verdicts(&f, &[("*", Fail)]);
        assert!(
            f[0].message
                .starts_with("No production VPC found in eu-central-1"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn a_pinned_vpc_that_does_not_exist_fails_instead_of_matching_another() {
        let s = compliant();
        let f = run("vpc-cidr-mismatch", "vpcs = [{ id = \"vpc-typo\" }]", &s);
        assert_verdicts(&f, &[("vpc-typo", Fail)]);
        assert_eq!(
            f[0].message,
            "The policy pins vpc-typo in `vpcs`, but it matches no production VPC in eu-central-1."
        );
        assert_verdicts(
            &run("vpc-cidr-mismatch", "vpcs = [{ name = \"lc-prod\" }]", &s),
            &[("vpc-prod", Pass)],
        );
        let f = run(
            "app-subnet-not-private",
            "subnets = [{ tag = \"Tier=app\" }]",
            &s,
        );
        assert_verdicts(&f, &[("tag Tier=app", Fail)]);
    }

    #[test]
    fn alb_subnets_need_an_attached_igw_default_route() {
        let s = compliant();
        assert_verdicts(
            &run("alb-subnet-without-internet-route", "", &s),
            &[("subnet-pub-a", Pass), ("subnet-pub-b", Pass)],
        );
        let mut s = compliant();
        // Detached gateway: the route exists but leads nowhere.
        value(&mut inv(&mut s).ec2.internet_gateways)
            .get_mut("igw-prod")
            .unwrap()
            .attachments
            .clear();
        let f = run("alb-subnet-without-internet-route", "", &s);
        assert_verdicts(&f, &[("subnet-pub-a", Fail), ("subnet-pub-b", Fail)]);

        let mut s = compliant();
        inv(&mut s).ec2.route_tables = Observed::unavailable(denied("ec2:DescribeRouteTables"));
        assert_verdicts(
            &run("alb-subnet-without-internet-route", "", &s),
            &[("subnet-pub-a", Error), ("subnet-pub-b", Error)],
        );
        let mut s = compliant();
        value(&mut inv(&mut s).elbv2.load_balancers).clear();
        assert_verdicts(
            &run("alb-subnet-without-internet-route", "", &s),
            &[("*", Skipped)],
        );
    }

    #[test]
    fn a_subnet_without_explicit_association_uses_the_main_table() {
        let mut s = compliant();
        let i = inv(&mut s);
        let tables = value(&mut i.ec2.route_tables);
        tables
            .get_mut("rtb-public")
            .unwrap()
            .subnet_ids
            .retain(|x| x != "subnet-pub-b");
        let f = run("alb-subnet-without-internet-route", "", &s);
        assert_verdicts(&f, &[("subnet-pub-a", Pass), ("subnet-pub-b", Fail)]);
        assert!(f[1].message.contains("rtb-main"), "{}", f[1].message);
    }

    #[test]
    fn alb_az_count() {
        let s = compliant();
        assert_verdicts(&run("alb-subnets-single-az", "", &s), &[("lc-alb", Pass)]);
        assert_verdicts(
            &run("alb-subnets-single-az", "min-azs = 3", &s),
            &[("lc-alb", Fail)],
        );
        let mut s = compliant();
        inv(&mut s).elbv2.load_balancers =
            Observed::unavailable(denied("elasticloadbalancing:DescribeLoadBalancers"));
        assert_verdicts(&run("alb-subnets-single-az", "", &s), &[("*", Error)]);
        let s = compliant();
        assert_verdicts(
            &run("alb-subnets-single-az", "load-balancer = \"other-*\"", &s),
            &[("*", Skipped)],
        );
    }

    #[test]
    fn app_subnet_problems_are_each_named() {
        let s = compliant();
        assert_verdicts(
            &run("app-subnet-not-private", "", &s),
            &[("subnet-app-a", Pass), ("subnet-app-b", Pass)],
        );
        let mut s = compliant();
        let i = inv(&mut s);
        value(&mut i.ec2.subnets)
            .get_mut("subnet-app-a")
            .unwrap()
            .map_public_ip_on_launch = true;
        let rt = value(&mut i.ec2.route_tables).get_mut("rtb-app").unwrap();
        rt.routes.retain(|r| r.destination != "0.0.0.0/0");
        rt.routes.push(route("0.0.0.0/0", "igw-prod"));
        let f = run("app-subnet-not-private", "", &s);
        assert_verdicts(&f, &[("subnet-app-a", Fail), ("subnet-app-b", Fail)]);
        assert_eq!(
            f[0].message,
            "App subnet subnet-app-a assigns public IPs on launch, routes to an internet gateway (0.0.0.0/0 -> igw-prod) and has no 0.0.0.0/0 route through a NAT gateway."
        );
        let mut s = compliant();
        inv(&mut s).ecs.clusters = Observed::unavailable(denied("ecs:ListClusters"));
        assert_verdicts(&run("app-subnet-not-private", "", &s), &[("*", Error)]);
        // Pinned subnets are found without ECS, but whether a service gives its tasks
        // public IPs still needs it: error, not pass.
        assert_verdicts(
            &run(
                "app-subnet-not-private",
                "subnets = [{ id = \"subnet-app-a\" }]",
                &s,
            ),
            &[("subnet-app-a", Error)],
        );
        let mut s = compliant();
        value(&mut inv(&mut s).ecs.clusters).clear();
        assert_verdicts(&run("app-subnet-not-private", "", &s), &[("*", Skipped)]);
    }

    #[test]
    fn a_service_assigning_public_ips_makes_its_subnets_fail() {
        let mut s = compliant();
        let clusters = value(&mut inv(&mut s).ecs.clusters);
        let svc = value(&mut clusters.get_mut("arn:cluster").unwrap().services)
            .get_mut("arn:svc-api")
            .unwrap();
        svc.network.as_mut().unwrap().assign_public_ip = true;
        let f = run("app-subnet-not-private", "", &s);
        assert_verdicts(&f, &[("subnet-app-a", Fail), ("subnet-app-b", Fail)]);
        assert_eq!(
            f[0].message,
            "App subnet subnet-app-a hosts ECS service api with assignPublicIp ENABLED."
        );
    }

    #[test]
    fn app_subnets_can_be_pinned_and_nat_made_optional() {
        let mut s = compliant();
        value(&mut inv(&mut s).ec2.route_tables)
            .get_mut("rtb-app")
            .unwrap()
            .routes
            .retain(|r| r.destination != "0.0.0.0/0");
        let f = run(
            "app-subnet-not-private",
            "subnets = [{ id = \"subnet-app-a\" }]\nrequire-nat-egress = false",
            &s,
        );
        assert_verdicts(&f, &[("subnet-app-a", Pass)]);
    }

    #[test]
    fn db_subnets_must_not_route_to_an_igw() {
        let s = compliant();
        assert_verdicts(
            &run("db-subnet-routes-to-internet", "", &s),
            &[("subnet-db-a", Pass), ("subnet-db-b", Pass)],
        );
        let mut s = compliant();
        value(&mut inv(&mut s).ec2.route_tables)
            .get_mut("rtb-db")
            .unwrap()
            .routes
            .push(route("::/0", "igw-prod"));
        assert_verdicts(
            &run("db-subnet-routes-to-internet", "", &s),
            &[("subnet-db-a", Fail), ("subnet-db-b", Fail)],
        );
        let mut s = compliant();
        inv(&mut s).ec2.subnets = Observed::unavailable(denied("ec2:DescribeSubnets"));
        assert_verdicts(
            &run("db-subnet-routes-to-internet", "", &s),
            &[("subnet-db-a", Error), ("subnet-db-b", Error)],
        );
        // An instance reported without its subnet group: its subnets are not known.
        let mut s = compliant();
        value(&mut inv(&mut s).rds.instances)
            .get_mut("lc-prod-db")
            .unwrap()
            .subnet_group = None;
        let f = run("db-subnet-routes-to-internet", "", &s);
        assert_verdicts(&f, &[("*", Error)]);
        assert!(
            f[0].message.contains("without its DB subnet group"),
            "{}",
            f[0].message
        );
        let mut s = compliant();
        value(&mut inv(&mut s).rds.instances).clear();
        assert_verdicts(
            &run("db-subnet-routes-to-internet", "", &s),
            &[("*", Skipped)],
        );
    }

    #[test]
    fn db_subnet_group_az_count() {
        let one_zone = |s: &mut crate::inventory::Snapshot| {
            let db = value(&mut inv(s).rds.instances)
                .get_mut("lc-prod-db")
                .unwrap();
            db.subnet_group.as_mut().unwrap().subnets[1].availability_zone =
                Some("eu-central-1a".into());
        };
        four_ways("db-subnet-group-single-az", "")
            .pass(&[("lc-db-subnets", Pass)])
            .fail(one_zone, &[("lc-db-subnets", Fail)])
            .error(
                |s| {
                    inv(s).rds.instances =
                        Observed::unavailable(denied(crate::inventory::rds::DESCRIBE_DB_INSTANCES))
                },
                &[("*", Error)],
            )
            .skipped(
                |s| value(&mut inv(s).rds.instances).clear(),
                &[("*", Skipped)],
            );
        let mut s = compliant();
        one_zone(&mut s);
        let f = run("db-subnet-group-single-az", "", &s);
        assert!(
            f[0].message
                .contains("spans 1 availability zone (eu-central-1a)"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn nat_gateway_available_and_public() {
        let s = compliant();
        assert_verdicts(
            &run("nat-gateway-not-usable", "", &s),
            &[("nat-prod", Pass)],
        );

        let mut s = compliant();
        let nat = value(&mut inv(&mut s).ec2.nat_gateways)
            .get_mut("nat-prod")
            .unwrap();
        nat.subnet_id = Some("subnet-app-b".into());
        nat.state = Some("failed".into());
        let f = run("nat-gateway-not-usable", "", &s);
        assert_verdicts(&f, &[("nat-prod", Fail)]);
        assert!(
            f[0].message
                .contains("is failed, not available and sits in subnet subnet-app-b"),
            "{}",
            f[0].message
        );

        // A NAT gateway the app subnets do not route through is not judged.
        let mut s = compliant();
        value(&mut inv(&mut s).ec2.nat_gateways).insert(
            "nat-spare".into(),
            crate::inventory::ec2::NatGateway {
                id: "nat-spare".into(),
                vpc_id: Some("vpc-prod".into()),
                subnet_id: Some("subnet-app-a".into()),
                state: Some("pending".into()),
                connectivity_type: Some("private".into()),
                tags: Default::default(),
            },
        );
        assert_verdicts(
            &run("nat-gateway-not-usable", "", &s),
            &[("nat-prod", Pass)],
        );

        let mut s = compliant();
        let i = inv(&mut s);
        value(&mut i.ec2.nat_gateways).clear();
        value(&mut i.ec2.route_tables)
            .get_mut("rtb-app")
            .unwrap()
            .routes
            .retain(|r| r.destination != "0.0.0.0/0");
        let f = run("nat-gateway-not-usable", "", &s);
        assert_verdicts(&f, &[("vpc-prod", Fail)]);

        let mut s = compliant();
        inv(&mut s).ec2.nat_gateways = Observed::unavailable(denied("ec2:DescribeNatGateways"));
        assert_verdicts(&run("nat-gateway-not-usable", "", &s), &[("*", Error)]);

        let mut s = compliant();
        value(&mut inv(&mut s).ecs.clusters).clear();
        assert_verdicts(&run("nat-gateway-not-usable", "", &s), &[("*", Skipped)]);
    }
}
