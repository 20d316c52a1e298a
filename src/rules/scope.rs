//! Finding resources by intent: the internet-facing ALB's security groups, the ECS
//! services' subnets, the VPC that hosts the DB instances, and so on, or pinned by
//! id, name or tag ([`Selector`]). Every lookup returns the collection error that stands
//! in its way rather than an empty answer, so a rule can say `error`, never a false pass.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::glob::Glob;
use crate::inventory::ec2::{RouteTable, SecurityGroup, Subnet};
use crate::inventory::ecs::{AwsVpcConfig, EcsService, DESCRIBE_SERVICES};
use crate::inventory::elbv2::LoadBalancer;
use crate::inventory::elbv2::DESCRIBE_LOAD_BALANCERS;
use crate::inventory::rds::{DbInstance, DbSubnetGroup, DESCRIBE_DB_INSTANCES};
use crate::inventory::{name_tag, CollectError, ErrorKind, Observed, RegionInventory};
use crate::rules::selector::{AttachKind, Selector};

/// What a lookup found, or the error that stands in its way: borrowed from the snapshot
/// (a read that failed), or made by the lookup (an answer that lacked what decides).
pub type Lookup<'a, T> = Result<T, Cow<'a, CollectError>>;

/// One scanned region's inventory, with lookups across its services.
#[derive(Clone, Copy)]
pub struct Region<'a> {
    pub name: &'a str,
    pub inv: &'a RegionInventory,
}

fn map<'a, T>(o: &'a Observed<BTreeMap<String, T>>) -> Lookup<'a, Option<&'a BTreeMap<String, T>>> {
    o.get().map_err(Cow::Borrowed)
}

fn values<'a, T>(o: &'a Observed<BTreeMap<String, T>>) -> Lookup<'a, Vec<&'a T>> {
    Ok(map(o)?.map(|m| m.values().collect()).unwrap_or_default())
}

fn name_matches(name: &Option<Glob>, value: &str) -> bool {
    name.as_ref().is_none_or(|g| g.matches(value))
}

/// A resource of an [`AttachKind`], as the selectors see it.
enum Attached<'a> {
    Alb(&'a LoadBalancer),
    Service(&'a EcsService),
    Db(&'a DbInstance),
}

impl<'a> Region<'a> {
    pub fn security_groups(&self) -> Lookup<'a, Vec<&'a SecurityGroup>> {
        values(&self.inv.ec2.security_groups)
    }

    pub fn security_group(&self, id: &str) -> Lookup<'a, Option<&'a SecurityGroup>> {
        Ok(map(&self.inv.ec2.security_groups)?.and_then(|m| m.get(id)))
    }

    pub fn subnet(&self, id: &str) -> Lookup<'a, Option<&'a Subnet>> {
        Ok(map(&self.inv.ec2.subnets)?.and_then(|m| m.get(id)))
    }

    /// Internet-facing application load balancers, optionally filtered by name. A load
    /// balancer whose answer lacks its type or (for an ALB) its scheme makes the lookup an
    /// error: it could be the one.
    pub fn internet_facing_albs(&self, name: &Option<Glob>) -> Lookup<'a, Vec<&'a LoadBalancer>> {
        let mut out = Vec::new();
        for lb in values(&self.inv.elbv2.load_balancers)? {
            if !name_matches(name, &lb.name) {
                continue;
            }
            if lb.alb_scope_unknown() {
                return Err(Cow::Owned(CollectError {
                    source: DESCRIBE_LOAD_BALANCERS.into(),
                    region: Some(self.name.to_string()),
                    kind: ErrorKind::Other,
                    message: format!(
                        "the answer gave no {} for load balancer {}, so whether it is an internet-facing ALB is not known",
                        if lb.lb_type.is_none() { "Type" } else { "Scheme" },
                        lb.name
                    ),
                }));
            }
            if lb.is_internet_facing_alb() {
                out.push(lb);
            }
        }
        Ok(out)
    }

    /// ECS services of every cluster, optionally filtered by service name. An error if
    /// any cluster's services could not be listed: a missing service could be there.
    pub fn ecs_services(&self, name: &Option<Glob>) -> Lookup<'a, Vec<&'a EcsService>> {
        let mut out = Vec::new();
        for cluster in values(&self.inv.ecs.clusters)? {
            for s in values(&cluster.services)? {
                if name_matches(name, &s.name) {
                    out.push(s);
                }
            }
        }
        Ok(out)
    }

    /// An ECS service's own network: its awsvpc configuration. A service with bridge or host
    /// networking has none: its tasks use their container instances' network and security
    /// groups, which are not read, so whatever is found through it is an error, never
    /// "nothing".
    pub fn awsvpc(&self, s: &'a EcsService) -> Lookup<'a, &'a AwsVpcConfig> {
        s.network.as_ref().ok_or_else(|| {
            Cow::Owned(CollectError {
                source: DESCRIBE_SERVICES.into(),
                region: Some(self.name.to_string()),
                kind: ErrorKind::Other,
                message: format!(
                    "ECS service {} uses bridge or host networking: its tasks use the network and security groups of their container instances, which infraverify does not read",
                    s.name
                ),
            })
        })
    }

    /// A DB instance's subnet group. Every DB instance in a VPC has one, so an answer
    /// without it is an error, never "no subnets".
    pub fn db_subnet_group(&self, db: &'a DbInstance) -> Lookup<'a, &'a DbSubnetGroup> {
        db.subnet_group.as_ref().ok_or_else(|| {
            Cow::Owned(CollectError {
                source: DESCRIBE_DB_INSTANCES.into(),
                region: Some(self.name.to_string()),
                kind: ErrorKind::Other,
                message: format!(
                    "DB instance {} was reported without its DB subnet group",
                    db.id
                ),
            })
        })
    }

    /// The name of the cluster with ARN `arn`, as collected (or the ARN's last segment).
    pub fn cluster_name(&self, arn: &'a str) -> &'a str {
        map(&self.inv.ecs.clusters)
            .ok()
            .flatten()
            .and_then(|m| m.get(arn))
            .map(|c| c.name.as_str())
            .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or(arn))
    }

    /// The RDS DB instances (not the DocumentDB and Neptune instances the same API lists),
    /// optionally filtered by identifier.
    pub fn db_instances(&self, name: &Option<Glob>) -> Lookup<'a, Vec<&'a DbInstance>> {
        Ok(values(&self.inv.rds.instances)?
            .into_iter()
            .filter(|db| db.is_rds() && name_matches(name, &db.id))
            .collect())
    }

    fn attached(&self, kind: AttachKind, name: &Option<Glob>) -> Lookup<'a, Vec<Attached<'a>>> {
        Ok(match kind {
            AttachKind::Alb => self
                .internet_facing_albs(name)?
                .into_iter()
                .map(Attached::Alb)
                .collect(),
            AttachKind::EcsService => self
                .ecs_services(name)?
                .into_iter()
                .map(Attached::Service)
                .collect(),
            AttachKind::Rds => self
                .db_instances(name)?
                .into_iter()
                .map(Attached::Db)
                .collect(),
        })
    }

    /// Security group ids the selectors pick.
    pub fn resolve_sgs(&self, selectors: &[Selector]) -> Lookup<'a, BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for sel in selectors {
            match sel {
                Selector::AttachedTo { kind, name } => {
                    for a in self.attached(*kind, name)? {
                        match a {
                            Attached::Alb(lb) => out.extend(lb.security_groups.iter().cloned()),
                            Attached::Service(s) => {
                                out.extend(self.awsvpc(s)?.security_groups.iter().cloned())
                            }
                            Attached::Db(db) => out.extend(db.security_groups.iter().cloned()),
                        }
                    }
                }
                Selector::Id(id) => {
                    if self.security_group(id)?.is_some() {
                        out.insert(id.clone());
                    }
                }
                Selector::Name(g) => out.extend(
                    self.security_groups()?
                        .into_iter()
                        .filter(|sg| g.matches(&sg.name))
                        .map(|sg| sg.id.clone()),
                ),
                Selector::Tag { key, value } => out.extend(
                    self.security_groups()?
                        .into_iter()
                        .filter(|sg| Selector::matches_tags(key, value, &sg.tags))
                        .map(|sg| sg.id.clone()),
                ),
            }
        }
        Ok(out)
    }

    /// Subnet ids the selectors pick.
    pub fn resolve_subnets(&self, selectors: &[Selector]) -> Lookup<'a, BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for sel in selectors {
            match sel {
                Selector::AttachedTo { kind, name } => {
                    for a in self.attached(*kind, name)? {
                        match a {
                            Attached::Alb(lb) => {
                                out.extend(lb.subnets.iter().map(|s| s.subnet_id.clone()))
                            }
                            Attached::Service(s) => {
                                out.extend(self.awsvpc(s)?.subnets.iter().cloned())
                            }
                            Attached::Db(db) => out.extend(
                                self.db_subnet_group(db)?
                                    .subnets
                                    .iter()
                                    .map(|s| s.subnet_id.clone()),
                            ),
                        }
                    }
                }
                other => {
                    for s in values(&self.inv.ec2.subnets)? {
                        if by_pin(other, &s.id, name_tag(&s.tags).as_deref(), &s.tags) {
                            out.insert(s.id.clone());
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// VPC ids the selectors pick: for `attached-to`, the VPCs hosting those resources.
    pub fn resolve_vpcs(&self, selectors: &[Selector]) -> Lookup<'a, BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for sel in selectors {
            match sel {
                Selector::AttachedTo { kind, name } => {
                    for a in self.attached(*kind, name)? {
                        match a {
                            Attached::Alb(lb) => out.extend(lb.vpc_id.clone()),
                            Attached::Db(db) => match &db.vpc_id {
                                Some(v) => {
                                    out.insert(v.clone());
                                }
                                None => out.extend(self.db_subnet_group(db)?.vpc_id.clone()),
                            },
                            Attached::Service(s) => {
                                for subnet in &self.awsvpc(s)?.subnets {
                                    if let Some(sub) = self.subnet(subnet)? {
                                        out.insert(sub.vpc_id.clone());
                                    }
                                }
                            }
                        }
                    }
                }
                other => {
                    for v in values(&self.inv.ec2.vpcs)? {
                        if by_pin(other, &v.id, name_tag(&v.tags).as_deref(), &v.tags) {
                            out.insert(v.id.clone());
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Like [`Region::resolve_vpcs`], selector by selector: what each readable selector
    /// finds, and the selectors whose data could not be read.
    pub fn resolve_vpcs_partial<'s>(
        &self,
        selectors: &'s [Selector],
    ) -> (BTreeSet<String>, Vec<(&'s Selector, Cow<'a, CollectError>)>) {
        partial(selectors, |s| self.resolve_vpcs(std::slice::from_ref(s)))
    }

    /// Like [`Region::resolve_sgs`], selector by selector.
    pub fn resolve_sgs_partial<'s>(
        &self,
        selectors: &'s [Selector],
    ) -> (BTreeSet<String>, Vec<(&'s Selector, Cow<'a, CollectError>)>) {
        partial(selectors, |s| self.resolve_sgs(std::slice::from_ref(s)))
    }

    /// The route table that governs `subnet`: its explicit association, else the main
    /// table of its VPC.
    pub fn route_table_for(&self, subnet: &Subnet) -> Lookup<'a, Option<&'a RouteTable>> {
        let tables = values(&self.inv.ec2.route_tables)?;
        Ok(tables
            .iter()
            .find(|rt| rt.subnet_ids.iter().any(|s| s == &subnet.id))
            .or_else(|| {
                tables
                    .iter()
                    .find(|rt| rt.main && rt.vpc_id == subnet.vpc_id)
            })
            .copied())
    }

    /// Whether `rt` sends 0.0.0.0/0 to an internet gateway attached to `vpc_id`, and
    /// which gateway. Needs the internet gateways.
    pub fn default_route_to_attached_igw(
        &self,
        rt: &RouteTable,
        vpc_id: &str,
    ) -> Lookup<'a, Option<String>> {
        let igws = map(&self.inv.ec2.internet_gateways)?;
        Ok(rt
            .routes
            .iter()
            .filter(|r| {
                r.destination == "0.0.0.0/0" && r.is_active() && r.targets_internet_gateway()
            })
            .find(|r| {
                igws.and_then(|m| m.get(&r.target))
                    .is_some_and(|g| g.attached_to(vpc_id))
            })
            .map(|r| r.target.clone()))
    }

    /// Whether `subnet` is public: its route table sends 0.0.0.0/0 to an attached IGW.
    pub fn subnet_is_public(&self, subnet: &Subnet) -> Lookup<'a, bool> {
        match self.route_table_for(subnet)? {
            Some(rt) => Ok(self
                .default_route_to_attached_igw(rt, &subnet.vpc_id)?
                .is_some()),
            None => Ok(false),
        }
    }
}

fn partial<'s, 'a>(
    selectors: &'s [Selector],
    resolve: impl Fn(&Selector) -> Lookup<'a, BTreeSet<String>>,
) -> (BTreeSet<String>, Vec<(&'s Selector, Cow<'a, CollectError>)>) {
    let mut found = BTreeSet::new();
    let mut failed = Vec::new();
    for s in selectors {
        match resolve(s) {
            Ok(ids) => found.extend(ids),
            Err(e) => failed.push((s, e)),
        }
    }
    (found, failed)
}

fn by_pin(sel: &Selector, id: &str, name: Option<&str>, tags: &BTreeMap<String, String>) -> bool {
    match sel {
        Selector::Id(want) => want == id,
        Selector::Name(g) => name.is_some_and(|n| g.matches(n)),
        Selector::Tag { key, value } => Selector::matches_tags(key, value, tags),
        Selector::AttachedTo { .. } => false,
    }
}
