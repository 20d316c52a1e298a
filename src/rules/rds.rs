//! 2.2 RDS PostgreSQL: RDS-1 … RDS-8, RDS-10, RDS-12, RDS-13, per DB instance (and per
//! manual snapshot for RDS-13), with the checklist's thresholds as parameters.
//!
//! Each instance is judged by what AWS decides for it: a member of a DB cluster (Aurora, or
//! a Multi-AZ DB cluster) by its cluster for what the cluster keeps ([`Decider`]), a read
//! replica by its source for what the source keeps (its backups).

use super::scope::Region;
use super::{declare_rule, join_words, region_items, Cx, Rule};
use crate::finding::{Evidence, ResourceRef, Status};
use crate::inventory::rds::{other_service, DbCluster, DbInstance, DbSnapshot};
use crate::inventory::rds::{
    DESCRIBE_DB_CLUSTERS, DESCRIBE_DB_CLUSTER_PARAMETERS, DESCRIBE_DB_CLUSTER_SNAPSHOTS,
    DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES, DESCRIBE_DB_INSTANCES, DESCRIBE_DB_PARAMETERS,
    DESCRIBE_DB_SNAPSHOTS, DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
};
use crate::inventory::{CollectError, ErrorKind, Timestamp};
use crate::rule_params;
use crate::rules::params::{in_range, non_empty};

/// What decides a DB instance's database-level settings (Multi-AZ, backups, deletion
/// protection, encryption, the master user secret, the restore time): the instance itself,
/// or for a member of a DB cluster, the cluster.
#[derive(Clone, Copy)]
pub enum Decider<'a> {
    Instance(&'a DbInstance),
    Cluster(&'a DbCluster),
}

impl Decider<'_> {
    /// What decides `db`: its cluster when it is a member of one (an error when the
    /// clusters could not be read, or when the cluster is not among them: never a guess),
    /// else the instance.
    pub fn of<'a>(region: Region<'a>, db: &'a DbInstance) -> Result<Decider<'a>, CollectError> {
        let Some(id) = db.cluster_id.as_deref() else {
            return Ok(Decider::Instance(db));
        };
        let clusters = region.inv.rds.clusters.get().map_err(Clone::clone)?;
        clusters
            .and_then(|c| c.get(id))
            .map(Decider::Cluster)
            .ok_or_else(|| CollectError {
                source: DESCRIBE_DB_CLUSTERS.into(),
                region: Some(region.name.to_string()),
                kind: ErrorKind::Other,
                message: format!(
                    "DB instance {} is a member of DB cluster {id}, which the answer did not list",
                    db.id
                ),
            })
    }

    /// What decides a setting AWS keeps per instance in Aurora (public access, enhanced
    /// monitoring) but once for all instances in a Multi-AZ DB cluster.
    pub fn of_own<'a>(region: Region<'a>, db: &'a DbInstance) -> Result<Decider<'a>, CollectError> {
        if db.is_aurora() {
            Ok(Decider::Instance(db))
        } else {
            Decider::of(region, db)
        }
    }
}

impl<'a> Decider<'a> {
    /// The operation whose answer holds the deciding values.
    pub fn source(&self) -> &'static str {
        match self {
            Decider::Instance(_) => DESCRIBE_DB_INSTANCES,
            Decider::Cluster(_) => DESCRIBE_DB_CLUSTERS,
        }
    }

    /// The subject of a sentence about `db`'s deciding value: `DB instance X`, or `DB
    /// instance X is a member of Aurora DB cluster C, which`.
    pub fn subject(&self, db: &DbInstance) -> String {
        match self {
            Decider::Instance(_) => format!("DB instance {}", db.id),
            Decider::Cluster(c) => {
                format!(
                    "DB instance {} is a member of {} {}, which",
                    db.id,
                    c.kind(),
                    c.id
                )
            }
        }
    }

    pub fn cluster(&self) -> Option<&'a DbCluster> {
        match self {
            Decider::Cluster(c) => Some(c),
            Decider::Instance(_) => None,
        }
    }

    pub fn multi_az(&self) -> Option<bool> {
        match self {
            Decider::Instance(d) => d.multi_az,
            Decider::Cluster(c) => c.multi_az,
        }
    }

    pub fn deletion_protection(&self) -> Option<bool> {
        match self {
            Decider::Instance(d) => d.deletion_protection,
            Decider::Cluster(c) => c.deletion_protection,
        }
    }

    pub fn publicly_accessible(&self) -> Option<bool> {
        match self {
            Decider::Instance(d) => d.publicly_accessible,
            Decider::Cluster(c) => c.publicly_accessible,
        }
    }

    pub fn storage_encrypted(&self) -> Option<bool> {
        match self {
            Decider::Instance(d) => d.storage_encrypted,
            Decider::Cluster(c) => c.storage_encrypted,
        }
    }

    pub fn backup_retention_days(&self) -> Option<i32> {
        match self {
            Decider::Instance(d) => d.backup_retention_days,
            Decider::Cluster(c) => c.backup_retention_days,
        }
    }

    pub fn master_user_secret_arn(&self) -> Option<&'a str> {
        match self {
            Decider::Instance(d) => d.master_user_secret_arn.as_deref(),
            Decider::Cluster(c) => c.master_user_secret_arn.as_deref(),
        }
    }

    pub fn latest_restorable_time(&self) -> Option<Timestamp> {
        match self {
            Decider::Instance(d) => d.latest_restorable_time,
            Decider::Cluster(c) => c.latest_restorable_time,
        }
    }

    /// Whether `s` is a manual snapshot of the database this decides for: one of the
    /// cluster's DB cluster snapshots, or of the instance's DB snapshots.
    pub fn owns(&self, s: &DbSnapshot) -> bool {
        match self {
            Decider::Instance(d) => s.cluster_id.is_none() && s.instance_id == d.id,
            Decider::Cluster(c) => s.cluster_id.as_deref() == Some(c.id.as_str()),
        }
    }

    /// Where that database's manual snapshots are listed in a region's RDS data, and the
    /// operation that lists them.
    pub fn snapshots_in<'r>(
        &self,
        rds: &'r crate::inventory::rds::Rds,
    ) -> (
        &'r crate::inventory::Observed<std::collections::BTreeMap<String, DbSnapshot>>,
        &'static str,
    ) {
        match self {
            Decider::Instance(_) => (&rds.snapshots, DESCRIBE_DB_SNAPSHOTS),
            Decider::Cluster(_) => (&rds.cluster_snapshots, DESCRIBE_DB_CLUSTER_SNAPSHOTS),
        }
    }

    pub fn engine_version(&self) -> Option<&'a str> {
        match self {
            Decider::Instance(d) => d.engine_version.as_deref(),
            Decider::Cluster(c) => c.engine_version.as_deref(),
        }
    }
}

/// What a read replica replicates: the scanned DB instance or DB cluster (a Multi-AZ DB
/// cluster can have instance replicas), its region, and what decides its settings.
#[derive(Clone, Copy)]
pub struct Replica<'a> {
    pub home: Region<'a>,
    pub id: &'a str,
    pub decider: Decider<'a>,
}

/// For a read replica: what it replicates, found by identifier in its own region or by ARN
/// in another scanned region, followed to the first database that is no replica (replicas
/// of replicas cascade). `Ok(None)` for an instance that is no replica; an error when a
/// source is not among the scanned instances or clusters.
pub fn replica_of<'a>(
    regions: &[Region<'a>],
    region: Region<'a>,
    db: &DbInstance,
) -> Result<Option<Replica<'a>>, CollectError> {
    replica_at(regions, region, db, 0)
}

/// AWS allows replicas of replicas three deep; more means a loop in the answers.
const MAX_REPLICA_DEPTH: usize = 5;

fn replica_at<'a>(
    regions: &[Region<'a>],
    region: Region<'a>,
    db: &DbInstance,
    depth: usize,
) -> Result<Option<Replica<'a>>, CollectError> {
    let (source, of_cluster) = match (&db.replica_source, &db.replica_source_cluster) {
        (Some(s), _) => (s.as_str(), false),
        (None, Some(c)) => (c.as_str(), true),
        (None, None) => return Ok(None),
    };
    // An ARN names its region (`arn:aws:rds:REGION:ACCOUNT:db:ID`); an identifier is local.
    let (where_, id) = match source.strip_prefix("arn:") {
        Some(_) => {
            let parts: Vec<&str> = source.split(':').collect();
            (
                parts.get(3).copied().unwrap_or(region.name),
                parts.last().copied().unwrap_or(source),
            )
        }
        None => (region.name, source),
    };
    let (op, listed) = if of_cluster {
        (DESCRIBE_DB_CLUSTERS, "DB clusters")
    } else {
        (DESCRIBE_DB_INSTANCES, "DB instances")
    };
    let not_scanned = |message: String| CollectError {
        source: op.into(),
        region: Some(where_.to_string()),
        kind: ErrorKind::NotCollected,
        message,
    };
    let Some(home) = regions.iter().find(|r| r.name == where_).copied() else {
        return Err(not_scanned(format!(
            "its source {source} is in region {where_}, which was not scanned"
        )));
    };
    let missing = || {
        not_scanned(format!(
            "its source {source} is not among the {listed} of {where_}"
        ))
    };
    if of_cluster {
        let clusters = home.inv.rds.clusters.get().map_err(Clone::clone)?;
        let c = clusters.and_then(|m| m.get(id)).ok_or_else(missing)?;
        return Ok(Some(Replica {
            home,
            id: c.id.as_str(),
            decider: Decider::Cluster(c),
        }));
    }
    let dbs = home.inv.rds.instances.get().map_err(Clone::clone)?;
    let src = dbs.and_then(|m| m.get(id)).ok_or_else(missing)?;
    if src.replica_source.is_some() || src.replica_source_cluster.is_some() {
        if depth >= MAX_REPLICA_DEPTH {
            return Err(CollectError {
                source: op.into(),
                region: Some(where_.to_string()),
                kind: ErrorKind::Other,
                message: format!(
                    "its chain of read replica sources through {source} is more than {MAX_REPLICA_DEPTH} deep"
                ),
            });
        }
        return replica_at(regions, home, src, depth + 1);
    }
    Ok(Some(Replica {
        home,
        id: src.id.as_str(),
        decider: Decider::of(home, src)?,
    }))
}

/// The finding's resource for a DB instance.
pub(crate) fn db_ref(cx: &Cx<'_>, region: &str, db: &DbInstance) -> ResourceRef {
    cx.resource("rds-db-instance", &db.id, region)
        .name(Some(&db.id))
        .arn(db.arn.clone())
}

fn snapshot_ref(cx: &Cx<'_>, region: &str, s: &DbSnapshot) -> ResourceRef {
    let kind = if s.cluster_id.is_some() {
        "rds-db-cluster-snapshot"
    } else {
        "rds-db-snapshot"
    };
    cx.resource(kind, &s.id, region)
        .name(Some(&s.id))
        .arn(s.arn.clone())
}

/// Whether DB identifier `id` is in the rule's scope (`instances`, wildcards allowed).
fn in_scope(instances: &[String], id: &str) -> bool {
    crate::glob::any_matches(instances, id)
}

/// Runs `f` on every DB instance in scope in every region; `error` where instances are
/// unreadable. The DocumentDB and Neptune instances the same API lists are `skipped`.
pub(crate) fn each_instance(
    cx: &mut Cx<'_>,
    instances: &[String],
    mut f: impl FnMut(&mut Cx<'_>, Region<'_>, &DbInstance),
) {
    let regions: Vec<Region<'_>> = cx.regions().collect();
    for region in regions {
        let Some(dbs) = region_items(cx, region.name, "DB instances", &region.inv.rds.instances)
        else {
            continue;
        };
        for db in dbs.values().filter(|d| in_scope(instances, &d.id)) {
            if db.is_rds() {
                f(cx, region, db);
            } else {
                skip_other_service(cx, region, db);
            }
        }
    }
}

/// `skipped` for a DocumentDB or Neptune instance: another service's database, which
/// DescribeDBInstances lists too.
pub(crate) fn skip_other_service(cx: &mut Cx<'_>, region: Region<'_>, db: &DbInstance) {
    let msg = format!(
        "DB instance {} runs {} (an Amazon {} database, which the RDS rules do not judge).",
        db.id,
        db.engine,
        other_service(&db.engine).unwrap_or("other")
    );
    cx.skip(db_ref(cx, region.name, db), msg);
}

/// How to find what decides a setting of an instance: [`Decider::of`] or
/// [`Decider::of_own`].
type Decide = for<'a> fn(Region<'a>, &'a DbInstance) -> Result<Decider<'a>, CollectError>;

/// [`each_instance`] with what decides each instance's setting; `error` on an instance
/// whose cluster could not be read.
fn each_decided(
    cx: &mut Cx<'_>,
    instances: &[String],
    decide: Decide,
    mut f: impl FnMut(&mut Cx<'_>, Region<'_>, &DbInstance, Decider<'_>),
) {
    each_instance(cx, instances, |cx, region, db| match decide(region, db) {
        Ok(d) => f(cx, region, db, d),
        Err(e) => cx.error_on(db_ref(cx, region.name, db), "its DB cluster", &e),
    });
}

fn all() -> Vec<String> {
    vec!["*".to_string()]
}

/// The evidence's observed value: `field` of what decides, naming the cluster when a
/// cluster decides.
fn decided_evidence(d: &Decider<'_>, field: &str, value: serde_json::Value) -> serde_json::Value {
    match d.cluster() {
        None => serde_json::json!({ field: value }),
        Some(c) => serde_json::json!({ "db_cluster": c.id, field: value }),
    }
}

/// A yes/no setting, read from what decides it for each instance (itself or its cluster).
#[allow(clippy::too_many_arguments)]
fn boolean_rule(
    cx: &mut Cx<'_>,
    instances: &[String],
    decide: Decide,
    get: impl Fn(&Decider<'_>) -> Option<bool>,
    field: &str,
    want: bool,
    good: &str,
    bad: &str,
) {
    each_decided(cx, instances, decide, |cx, region, db, d| {
        let r = db_ref(cx, region.name, db);
        let v = get(&d);
        let ev = vec![Evidence::new(
            d.source(),
            decided_evidence(&d, field, serde_json::json!(v)),
            Some(format!("{field} = {want}")),
        )];
        let Some(v) = v else {
            let msg = format!(
                "Could not check DB instance {}: {} did not report {field}.",
                db.id,
                d.source()
            );
            return cx.emit(Status::Error, r, msg, ev);
        };
        let msg = format!("{} {}.", d.subject(db), if v == want { good } else { bad });
        cx.verdict(v == want, r, msg, ev);
    });
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// RDS-1: engine and major version.
    pub struct RdsEngineVersionTooOld {
        id: "rds-engine-version-too-old",
        scope: "DB instance",
        controls: ["RDS-1"],
        severity: High,
        kind: "rds-db-instance",
        title: "The database runs an unplanned engine, or a major version too old or out of AWS's standard support",
        reads: [Rds],
    }
}

rule_params! {
    pub struct EngineParams {
        /// The engine every DB instance must run (wildcards allowed: `"*"` accepts any).
        "engine" => engine: String = "postgres".to_string();
        /// The oldest PostgreSQL major version allowed (RDS and Aurora PostgreSQL; other
        /// engines number their versions otherwise and are judged by `standard-support`).
        "min-major-version" => min_major_version: u32 = 14, check = in_range(9, 99);
        /// Whether a major version past the end of AWS's standard support fails (the table
        /// of every engine's majors is built in; an engine it does not list is not judged).
        "standard-support" => standard_support: bool = true;
        /// Whether having no DB instance at all is a violation.
        "require-instance" => require_instance: bool = true;
        /// DB instance identifiers in scope (wildcards allowed), e.g. `["lc-prod-*"]`.
        "instances" => instances: Vec<String> = all(), check = non_empty;
    }
}

impl Rule for RdsEngineVersionTooOld {
    type Params = EngineParams;

    fn check(&self, cx: &mut Cx<'_>, p: &EngineParams) {
        cx.threshold("min-major-version");
        let today = cx.snap.collection.finished_at.day();
        let mut seen = false;
        let mut blocked = false;
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions.iter().copied() {
            let Some(dbs) =
                region_items(cx, region.name, "DB instances", &region.inv.rds.instances)
            else {
                blocked = true;
                continue;
            };
            for db in dbs.values().filter(|d| in_scope(&p.instances, &d.id)) {
                if !db.is_rds() {
                    skip_other_service(cx, region, db);
                    continue;
                }
                seen = true;
                let r = db_ref(cx, region.name, db);
                let version = db.engine_version.as_deref().unwrap_or("unknown");
                let ev = vec![Evidence::new(
                    DESCRIBE_DB_INSTANCES,
                    serde_json::json!({ "engine": db.engine, "engine_version": db.engine_version }),
                    Some(format!("{} >= {}", p.engine, p.min_major_version)),
                )];
                if !crate::glob::matches(&p.engine, &db.engine) {
                    let msg = format!(
                        "DB instance {} runs {} {version}; the policy requires {}.",
                        db.id, db.engine, p.engine
                    );
                    cx.fail(r, msg, ev);
                    continue;
                }
                let Some(major) = db
                    .engine_version
                    .as_deref()
                    .and_then(|v| super::engines::major(&db.engine, v))
                else {
                    let msg = format!(
                        "DB instance {} reports engine version {version:?}, which has no major version to compare.",
                        db.id
                    );
                    cx.emit(Status::Error, r, msg, ev);
                    continue;
                };
                // The planned minimum, where the engine counts PostgreSQL's majors.
                if db.is_postgres() {
                    let m: f64 = major.parse().unwrap_or(0.0);
                    if m < f64::from(p.min_major_version) {
                        let msg = format!(
                            "DB instance {} runs {} {version} (major {major}); the policy requires at least {}.",
                            db.id, db.engine, p.min_major_version
                        );
                        cx.fail(r, msg, ev);
                        continue;
                    }
                }
                use super::engines::Support;
                let support = super::engines::support(&db.engine, &major, today);
                match support {
                    Support::EndedOn(end) | Support::Older(end) if p.standard_support => {
                        cx.threshold("standard-support");
                        let msg = format!(
                            "DB instance {} runs {} {version} (major {major}), whose standard support by AWS ended {} {end}.",
                            db.id,
                            db.engine,
                            if matches!(support, Support::Older(_)) { "before" } else { "on" }
                        );
                        cx.fail(r, msg, ev);
                    }
                    _ if db.is_postgres() => {
                        let msg = format!(
                            "DB instance {} runs {} {version} (major {major}); the policy requires at least {}.",
                            db.id, db.engine, p.min_major_version
                        );
                        cx.pass(r, msg, ev);
                    }
                    Support::Until(end) => {
                        let msg = format!(
                            "DB instance {} runs {} {version} (major {major}), in AWS's standard support until {end}.",
                            db.id, db.engine
                        );
                        cx.pass(r, msg, ev);
                    }
                    Support::Newer => {
                        let msg = format!(
                            "DB instance {} runs {} {version} (major {major}), newer than every major in infraverify's table, so in standard support.",
                            db.id, db.engine
                        );
                        cx.pass(r, msg, ev);
                    }
                    _ if !p.standard_support => {
                        let msg = format!(
                            "DB instance {} runs {} {version}; the policy sets no version requirement for {}.",
                            db.id, db.engine, db.engine
                        );
                        cx.pass(r, msg, ev);
                    }
                    Support::UnknownMajor => {
                        let msg = format!(
                            "DB instance {} runs {} {version} (major {major}), a major infraverify's table of AWS's support dates does not list.",
                            db.id, db.engine
                        );
                        cx.emit(Status::Error, r, msg, ev);
                    }
                    Support::UnknownEngine | Support::EndedOn(_) | Support::Older(_) => {
                        let msg = format!(
                            "DB instance {} runs {} {version}, an engine infraverify's table of AWS's support dates does not list; its version is not judged.",
                            db.id, db.engine
                        );
                        cx.skip(r, msg);
                    }
                }
            }
        }
        if p.require_instance && !seen && !blocked {
            cx.threshold("require-instance");
            let names: Vec<String> = regions.iter().map(|r| r.name.to_string()).collect();
            let r = ResourceRef::new("rds-db-instance", "*").account(cx.account());
            let msg = format!(
                "No DB instance found in {}; the plan requires a {} database.",
                if names.is_empty() {
                    "any region".into()
                } else {
                    join_words(&names)
                },
                p.engine
            );
            cx.fail(
                r,
                msg,
                vec![Evidence::new(
                    DESCRIBE_DB_INSTANCES,
                    serde_json::json!([]),
                    Some("a DB instance".into()),
                )],
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
/// vCPUs and memory (GiB) of an RDS instance class, where the class is one we know.
pub fn class_capacity(class: &str) -> Option<(u32, f64)> {
    let rest = class.strip_prefix("db.")?;
    let (family, size) = rest.split_once('.')?;
    let letter = family.chars().next()?;
    if letter == 't' {
        // t2.micro and t2.small have one vCPU; later burstable generations have two.
        let small_cpus = if family == "t2" { 1 } else { 2 };
        return match size {
            "micro" => Some((small_cpus, 1.0)),
            "small" => Some((small_cpus, 2.0)),
            "medium" => Some((2, 4.0)),
            "large" => Some((2, 8.0)),
            "xlarge" => Some((4, 16.0)),
            "2xlarge" => Some((8, 32.0)),
            _ => None,
        };
    }
    // Memory per vCPU of the fixed-performance families RDS offers.
    let gib_per_vcpu = match letter {
        'c' => 2.0,
        'm' => 4.0,
        'r' | 'z' => 8.0,
        'x' => 16.0,
        _ => return None,
    };
    let vcpus = match size {
        "medium" => 1,
        "large" => 2,
        "xlarge" => 4,
        s => {
            let n = s.strip_suffix("xlarge")?.parse::<u32>().ok()?;
            // The largest RDS classes are 48xlarge; anything beyond is not a class.
            if !(2..=64).contains(&n) {
                return None;
            }
            4 * n
        }
    };
    Some((vcpus, vcpus as f64 * gib_per_vcpu))
}

#[allow(clippy::ptr_arg)]
fn known_class(c: &String) -> Result<(), String> {
    match class_capacity(c) {
        Some(_) => Ok(()),
        None => Err(format!("{c:?} is not an RDS instance class infraverify knows, such as \"db.t3.small\" or \"db.m6g.large\"")),
    }
}

declare_rule! {
    /// RDS-2: instance class.
    pub struct RdsInstanceClassTooSmall {
        id: "rds-instance-class-too-small",
        scope: "DB instance",
        controls: ["RDS-2"],
        severity: Medium,
        kind: "rds-db-instance",
        title: "The DB instance class is smaller than planned",
        reads: [Rds],
    }
}

rule_params! {
    pub struct ClassParams {
        /// The smallest acceptable class; an instance must have at least its vCPUs and memory.
        "min-class" => min_class: String = "db.t3.small".to_string(), check = known_class;
        /// DB instance identifiers in scope (wildcards allowed), e.g. `["lc-prod-*"]`.
        "instances" => instances: Vec<String> = all(), check = non_empty;
    }
}

impl Rule for RdsInstanceClassTooSmall {
    type Params = ClassParams;

    fn check(&self, cx: &mut Cx<'_>, p: &ClassParams) {
        cx.threshold("min-class");
        let Some((min_cpu, min_mem)) = class_capacity(&p.min_class) else {
            return;
        };
        each_instance(cx, &p.instances, |cx, region, db| {
            let r = db_ref(cx, region.name, db);
            let ev = vec![Evidence::new(
                DESCRIBE_DB_INSTANCES,
                serde_json::json!({ "instance_class": db.instance_class }),
                Some(format!(
                    "at least {} ({min_cpu} vCPU, {min_mem} GiB)",
                    p.min_class
                )),
            )];
            match class_capacity(&db.instance_class) {
                None => {
                    let msg = format!(
                        "DB instance {} has class {}, whose size infraverify does not know; it cannot be compared with {}.",
                        db.id, db.instance_class, p.min_class
                    );
                    cx.emit(crate::finding::Status::Error, r, msg, ev);
                }
                Some((cpu, mem)) => {
                    let ok = cpu >= min_cpu && mem >= min_mem;
                    let msg = format!(
                        "DB instance {} is {} ({cpu} vCPU, {mem} GiB); the policy requires at least {} ({min_cpu} vCPU, {min_mem} GiB).",
                        db.id, db.instance_class, p.min_class
                    );
                    cx.verdict(ok, r, msg, ev);
                }
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// RDS-3: Multi-AZ.
    pub struct RdsMultiAzDisabled {
        id: "rds-multi-az-disabled",
        scope: "DB instance",
        controls: ["RDS-3"],
        severity: High,
        kind: "rds-db-instance",
        title: "The DB instance is not Multi-AZ",
        reads: [Rds],
    }
}

rule_params! {
    pub struct DbScope {
        /// DB instance identifiers in scope (wildcards allowed), e.g. `["lc-prod-*"]`.
        "instances" => instances: Vec<String> = all(), check = non_empty;
    }
}

rule_params! {
    pub struct MultiAzParams {
        /// For a member of a DB cluster: the fewest zones its cluster's instances must span
        /// (unless the cluster reports itself Multi-AZ).
        "min-azs" => min_azs: u32 = 2, check = in_range(2, 6);
        /// DB instance identifiers in scope (wildcards allowed), e.g. `["lc-prod-*"]`.
        "instances" => instances: Vec<String> = all(), check = non_empty;
    }
}

impl Rule for RdsMultiAzDisabled {
    type Params = MultiAzParams;

    fn check(&self, cx: &mut Cx<'_>, p: &MultiAzParams) {
        each_decided(cx, &p.instances, Decider::of, |cx, region, db, d| {
            let Some(c) = d.cluster() else {
                let r = db_ref(cx, region.name, db);
                let ev = vec![Evidence::new(
                    DESCRIBE_DB_INSTANCES,
                    serde_json::json!({ "multi_az": db.multi_az }),
                    Some("multi_az = true".into()),
                )];
                return match db.multi_az {
                    None => {
                        let msg = format!("Could not check DB instance {}: {DESCRIBE_DB_INSTANCES} did not report multi_az.", db.id);
                        cx.emit(Status::Error, r, msg, ev)
                    }
                    Some(true) => cx.pass(r, format!("DB instance {} is Multi-AZ.", db.id), ev),
                    Some(false) => cx.fail(
                        r,
                        format!(
                            "DB instance {} is single-AZ: a zone outage takes the database down.",
                            db.id
                        ),
                        ev,
                    ),
                };
            };
            cx.threshold("min-azs");
            let r = db_ref(cx, region.name, db);
            // The zones of the cluster's instances, as DescribeDBInstances reports them.
            let instances = region.inv.rds.instances.get().ok().flatten();
            let mut zones: Vec<&str> = Vec::new();
            let mut unknown: Vec<&str> = Vec::new();
            for m in &c.members {
                match instances
                    .and_then(|i| i.get(&m.instance_id))
                    .and_then(|i| i.availability_zone.as_deref())
                {
                    Some(z) => zones.push(z),
                    None => unknown.push(&m.instance_id),
                }
            }
            zones.sort();
            zones.dedup();
            let ev = vec![Evidence::new(
                DESCRIBE_DB_CLUSTERS,
                serde_json::json!({ "db_cluster": c.id, "multi_az": c.multi_az, "member_zones": zones }),
                Some(format!(
                    "multi_az = true, or members in at least {} zones",
                    p.min_azs
                )),
            )];
            let spread = zones.len() as u32 >= p.min_azs;
            let subject = d.subject(db);
            let in_zones = format!(
                "{} zone{}{}",
                zones.len(),
                if zones.len() == 1 { "" } else { "s" },
                if zones.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", zones.join(", "))
                }
            );
            if spread {
                let msg = format!("{subject} is Multi-AZ, with instances in {in_zones}.");
                cx.pass(r, msg, ev);
            } else if c.multi_az == Some(true) {
                // AWS's own verdict; the zones seen would not show it.
                let msg = format!("{subject} reports itself Multi-AZ.");
                cx.pass(r, msg, ev);
            } else if !unknown.is_empty() {
                let names: Vec<String> = unknown.iter().map(|s| s.to_string()).collect();
                let msg = format!(
                    "Could not check DB instance {}: its {} {} does not report itself Multi-AZ, and the zones of {} are not known.",
                    db.id,
                    c.kind(),
                    c.id,
                    join_words(&names)
                );
                cx.emit(Status::Error, r, msg, ev);
            } else {
                let msg = format!(
                    "{subject} has instances in {in_zones} only (at least {} required): a zone outage takes the database down.",
                    p.min_azs
                );
                cx.fail(r, msg, ev);
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// RDS-4: storage size, type, autoscaling.
    pub struct RdsStorageInsufficient {
        id: "rds-storage-insufficient",
        scope: "DB instance",
        controls: ["RDS-4"],
        severity: Medium,
        kind: "rds-db-instance",
        title: "DB storage is smaller than planned, not the planned type, or does not autoscale",
        reads: [Rds],
    }
}

rule_params! {
    pub struct StorageParams {
        /// Minimum allocated storage in GiB.
        "min-gb" => min_gb: u32 = 100, check = in_range(20, 65536);
        /// The required storage type (gp2, gp3, io1, io2, standard).
        "storage-type" => storage_type: String = "gp3".to_string();
        /// Whether storage autoscaling must be on (MaxAllocatedStorage above AllocatedStorage).
        "require-autoscaling" => require_autoscaling: bool = true;
        /// DB instance identifiers in scope (wildcards allowed), e.g. `["lc-prod-*"]`.
        "instances" => instances: Vec<String> = all(), check = non_empty;
    }
}

impl Rule for RdsStorageInsufficient {
    type Params = StorageParams;

    fn check(&self, cx: &mut Cx<'_>, p: &StorageParams) {
        cx.threshold("min-gb");
        each_instance(cx, &p.instances, |cx, region, db| {
            let r = db_ref(cx, region.name, db);
            if db.is_aurora() {
                let msg = format!(
                    "DB instance {} is an Aurora instance: its storage is its cluster's volume, which grows by itself, so size, type and autoscaling do not apply.",
                    db.id
                );
                return cx.skip(r, msg);
            }
            let d = match Decider::of(region, db) {
                Ok(d) => d,
                Err(e) => return cx.error_on(r, "its DB cluster", &e),
            };
            // A Multi-AZ DB cluster provisions every instance's storage itself.
            let (allocated, ty) = match d.cluster() {
                Some(c) => (c.allocated_storage_gb, c.storage_type.as_deref()),
                None => (db.allocated_storage_gb, db.storage_type.as_deref()),
            };
            let ev = vec![Evidence::new(
                d.source(),
                serde_json::json!({
                    "allocated_storage_gb": allocated,
                    "storage_type": ty,
                    "max_allocated_storage_gb": db.max_allocated_storage_gb,
                }),
                Some(format!(
                    ">= {} GiB, {}{}",
                    p.min_gb,
                    p.storage_type,
                    if p.require_autoscaling {
                        ", autoscaling"
                    } else {
                        ""
                    }
                )),
            )];
            let Some(allocated) = allocated else {
                let msg = format!(
                    "Could not check DB instance {}: {} did not report its allocated storage.",
                    db.id,
                    d.source()
                );
                return cx.emit(Status::Error, r, msg, ev);
            };
            let mut problems = Vec::new();
            if i64::from(allocated) < i64::from(p.min_gb) {
                problems.push(format!(
                    "has {allocated} GiB of storage (at least {} required)",
                    p.min_gb
                ));
            }
            let Some(ty) = ty else {
                let msg = format!(
                    "Could not check DB instance {}: {} did not report its storage type.",
                    db.id,
                    d.source()
                );
                return cx.emit(Status::Error, r, msg, ev);
            };
            if ty != p.storage_type {
                problems.push(format!("uses {ty} storage ({} required)", p.storage_type));
            }
            let autoscales = db.max_allocated_storage_gb.is_some_and(|m| m > allocated);
            // A Multi-AZ DB cluster cannot autoscale storage (AWS: "Multi-AZ DB clusters
            // don't support ... storage autoscaling"): that part does not apply.
            let can_autoscale = d.cluster().is_none();
            if p.require_autoscaling && can_autoscale && !autoscales {
                problems.push(
                    "does not autoscale storage (MaxAllocatedStorage not above AllocatedStorage)"
                        .to_string(),
                );
            }
            let subject = match d.cluster() {
                Some(c) => format!("DB instance {} (of {} {})", db.id, c.kind(), c.id),
                None => format!("DB instance {}", db.id),
            };
            if problems.is_empty() {
                let msg = format!(
                    "{subject} has {allocated} GiB of {ty} storage{}.",
                    match db.max_allocated_storage_gb {
                        Some(m) if autoscales => format!(", autoscaling to {m} GiB"),
                        _ if !can_autoscale && p.require_autoscaling => {
                            " (a Multi-AZ DB cluster cannot autoscale storage, so that is not required)"
                                .to_string()
                        }
                        _ => String::new(),
                    }
                );
                cx.pass(r, msg, ev);
            } else {
                let msg = format!("{subject} {}.", join_words(&problems));
                cx.fail(r, msg, ev);
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// RDS-5: deletion protection.
    pub struct RdsDeletionProtectionDisabled {
        id: "rds-deletion-protection-disabled",
        scope: "DB instance",
        controls: ["RDS-5"],
        severity: High,
        kind: "rds-db-instance",
        title: "The DB instance can be deleted: deletion protection is off",
        reads: [Rds],
    }
}

impl Rule for RdsDeletionProtectionDisabled {
    type Params = DbScope;

    fn check(&self, cx: &mut Cx<'_>, p: &DbScope) {
        boolean_rule(
            cx,
            &p.instances,
            Decider::of,
            |d| d.deletion_protection(),
            "deletion_protection",
            true,
            "has deletion protection on",
            "has deletion protection off",
        );
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// RDS-6: backup retention.
    pub struct RdsBackupRetentionTooShort {
        id: "rds-backup-retention-too-short",
        scope: "DB instance",
        controls: ["RDS-6"],
        severity: High,
        kind: "rds-db-instance",
        title: "Automated backups are off or kept for fewer days than planned",
        reads: [Rds],
    }
}

rule_params! {
    pub struct RetentionParams {
        /// Minimum number of days automated backups are kept (RDS allows up to 35).
        "min-days" => min_days: u32 = 30, check = in_range(1, 35);
        /// DB instance identifiers in scope (wildcards allowed), e.g. `["lc-prod-*"]`.
        "instances" => instances: Vec<String> = all(), check = non_empty;
    }
}

/// What decides a DB instance's backups: for a read replica, its source's decider (and the
/// source, for messages); else its own. `Err` after an `error` finding.
pub(crate) fn backup_decider<'a>(
    cx: &mut Cx<'_>,
    regions: &[Region<'a>],
    region: Region<'a>,
    db: &'a DbInstance,
) -> Result<(Decider<'a>, Option<Replica<'a>>), ()> {
    let r = db_ref(cx, region.name, db);
    match replica_of(regions, region, db) {
        Err(e) => {
            cx.error_on(r, "its source's backups", &e);
            Err(())
        }
        Ok(Some(replica)) => Ok((replica.decider, Some(replica))),
        Ok(None) => match Decider::of(region, db) {
            Ok(d) => Ok((d, None)),
            Err(e) => {
                cx.error_on(r, "its DB cluster", &e);
                Err(())
            }
        },
    }
}

/// The subject of a sentence about a DB instance's backups: the instance, its cluster, or
/// what it replicates (and that one's cluster).
pub(crate) fn backup_subject(
    db: &DbInstance,
    d: &Decider<'_>,
    replica: Option<Replica<'_>>,
) -> String {
    match replica {
        None => d.subject(db),
        Some(s) => match d.cluster() {
            None => format!("DB instance {} is a read replica of {}, which", db.id, s.id),
            Some(c) if c.id == s.id => format!(
                "DB instance {} is a read replica of {} {}, which",
                db.id,
                c.kind(),
                c.id
            ),
            Some(c) => format!(
                "DB instance {} is a read replica of {}, a member of {} {}, which",
                db.id,
                s.id,
                c.kind(),
                c.id
            ),
        },
    }
}

impl Rule for RdsBackupRetentionTooShort {
    type Params = RetentionParams;

    fn check(&self, cx: &mut Cx<'_>, p: &RetentionParams) {
        cx.threshold("min-days");
        let regions: Vec<Region<'_>> = cx.regions().collect();
        each_instance(cx, &p.instances, |cx, region, db| {
            let Ok((d, source)) = backup_decider(cx, &regions, region, db) else {
                return;
            };
            let r = db_ref(cx, region.name, db);
            let days = d.backup_retention_days();
            let mut observed =
                decided_evidence(&d, "backup_retention_days", serde_json::json!(days));
            if let Some(s) = source {
                observed["read_replica_of"] = serde_json::json!(s.id);
            }
            let ev = vec![Evidence::new(
                d.source(),
                observed,
                Some(format!(">= {}", p.min_days)),
            )];
            let subject = backup_subject(db, &d, source);
            let msg = match days {
                None => {
                    let msg = format!(
                        "Could not check DB instance {}: {} did not report the backup retention.",
                        db.id,
                        d.source()
                    );
                    return cx.emit(Status::Error, r, msg, ev);
                }
                Some(0) => format!(
                    "{subject} has automated backups turned off; the policy requires at least {} days.",
                    p.min_days
                ),
                Some(n) => format!(
                    "{subject} keeps backups for {n} days; the policy requires at least {}.",
                    p.min_days
                ),
            };
            cx.verdict(days.unwrap_or(0) >= p.min_days as i32, r, msg, ev);
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// RDS-7: parameter group settings.
    pub struct RdsParameterGroupMisconfigured {
        id: "rds-parameter-group-misconfigured",
        scope: "DB instance",
        controls: ["RDS-7"],
        severity: Medium,
        kind: "rds-db-instance",
        title: "The PostgreSQL parameter group allows too few connections or lacks pg_stat_statements",
        reads: [Rds],
    }
}

rule_params! {
    pub struct ParameterParams {
        /// Minimum value of `max_connections`.
        "min-max-connections" => min_max_connections: u32 = 100, check = in_range(1, 262143);
        /// Libraries `shared_preload_libraries` must contain.
        "preload-libraries" => preload_libraries: Vec<String> = vec!["pg_stat_statements".to_string()];
        /// DB instance identifiers in scope (wildcards allowed), e.g. `["lc-prod-*"]`.
        "instances" => instances: Vec<String> = all(), check = non_empty;
    }
}

/// One parameter group's parameters, and how to name the group in a message.
struct Group<'a> {
    label: String,
    params: Option<&'a std::collections::BTreeMap<String, crate::inventory::rds::Parameter>>,
}

impl Group<'_> {
    /// `Some(value)` when the group lists the parameter (`None` inside: listed without a
    /// value, that is, unset); `None` when it does not list it.
    fn get(&self, name: &str) -> Option<Option<&str>> {
        self.params?.get(name).map(|p| p.value.as_deref())
    }

    /// Whether a user set the parameter in this group.
    fn set_by_user(&self, name: &str) -> bool {
        self.params
            .and_then(|m| m.get(name))
            .is_some_and(|p| p.source.as_deref() == Some("user"))
    }
}

/// The parameters of the group `name` among `groups`, or the error that stands in the way.
fn group<'a>(
    region: Region<'_>,
    groups: &'a crate::inventory::Observed<
        std::collections::BTreeMap<String, crate::inventory::rds::ParameterGroup>,
    >,
    name: &str,
    op: &'static str,
    label: String,
) -> Result<Group<'a>, CollectError> {
    let groups = groups.get().map_err(Clone::clone)?;
    let Some(g) = groups.and_then(|g| g.get(name)) else {
        return Err(CollectError {
            source: op.into(),
            region: Some(region.name.into()),
            kind: ErrorKind::NotCollected,
            message: format!("parameters of group {name} were not collected"),
        });
    };
    Ok(Group {
        label,
        params: g.parameters.get().map_err(Clone::clone)?,
    })
}

impl Rule for RdsParameterGroupMisconfigured {
    type Params = ParameterParams;

    fn check(&self, cx: &mut Cx<'_>, p: &ParameterParams) {
        cx.threshold("min-max-connections");
        each_instance(cx, &p.instances, |cx, region, db| {
            let r = db_ref(cx, region.name, db);
            if !db.is_postgres() {
                let msg = format!(
                    "DB instance {} runs {}, not PostgreSQL; its parameters are not checked.",
                    db.id, db.engine
                );
                cx.skip(r, msg);
                return;
            }
            let d = match Decider::of(region, db) {
                Ok(d) => d,
                Err(e) => return cx.error_on(r, "its DB cluster", &e),
            };
            // The groups that hold the instance's parameters: its own DB parameter group; a
            // cluster member's DB cluster parameter group too, which a Multi-AZ DB cluster
            // applies to every instance and whose values an Aurora instance's own group
            // overrides only where a user set them.
            let gref = db.parameter_groups.first();
            let mut groups: Vec<Group<'_>> = Vec::new();
            if let Some(c) = d.cluster() {
                let Some(name) = &c.parameter_group else {
                    // Every DB cluster has one (a default one at least): a missing answer.
                    let msg = format!(
                        "Could not check DB instance {}: {DESCRIBE_DB_CLUSTERS} did not report the DB cluster parameter group of {} {}.",
                        db.id,
                        c.kind(),
                        c.id
                    );
                    return cx.emit(Status::Error, r, msg, vec![]);
                };
                match group(
                    region,
                    &region.inv.rds.cluster_parameter_groups,
                    name,
                    DESCRIBE_DB_CLUSTER_PARAMETERS,
                    format!(
                        "DB cluster parameter group {name} (of {} {})",
                        c.kind(),
                        c.id
                    ),
                ) {
                    Ok(g) => groups.push(g),
                    Err(e) => return cx.error_on(r, "the DB cluster parameter group", &e),
                }
            }
            let aurora = d.cluster().is_some_and(|c| c.is_aurora());
            if d.cluster().is_none() || aurora {
                let Some(gref) = gref else {
                    let msg = format!(
                        "Could not check DB instance {}: {DESCRIBE_DB_INSTANCES} did not report its parameter group.",
                        db.id
                    );
                    return cx.emit(Status::Error, r, msg, vec![]);
                };
                match group(
                    region,
                    &region.inv.rds.parameter_groups,
                    &gref.name,
                    DESCRIBE_DB_PARAMETERS,
                    format!("parameter group {}", gref.name),
                ) {
                    Ok(g) => groups.push(g),
                    Err(e) => return cx.error_on(r, "the parameter group", &e),
                }
            }
            // The value that applies: an Aurora instance's own group where a user set it,
            // else the first group that gives it (the cluster's before the instance's engine
            // defaults); `Some(None)` when groups list it without a value, which a user may
            // have set so, but an engine default listed so is not known.
            let value = |name: &str| -> (Option<Option<String>>, &Group<'_>) {
                let own = groups.last().expect("one group at least");
                if aurora && own.set_by_user(name) {
                    return (own.get(name).map(|v| v.map(str::to_string)), own);
                }
                let mut listed = None;
                for g in &groups {
                    match g.get(name) {
                        Some(Some(v)) => return (Some(Some(v.to_string())), g),
                        Some(None) if g.set_by_user(name) => return (Some(None), g),
                        Some(None) => listed = listed.or(Some(g)),
                        None => {}
                    }
                }
                match listed {
                    Some(g) => (Some(None), g),
                    None => (None, groups.first().expect("one group at least")),
                }
            };
            let (max_conn, mc_group) = value("max_connections");
            let (preload, pl_group) = value("shared_preload_libraries");
            let deciding: Vec<&str> = {
                let mut v = vec![mc_group.label.as_str(), pl_group.label.as_str()];
                v.dedup();
                v
            };
            let mut observed = serde_json::json!({
                "parameter_group": gref.map(|g| g.name.clone()),
                "apply_status": gref.and_then(|g| g.apply_status.clone()),
                "max_connections": max_conn.clone().flatten(),
                "shared_preload_libraries": preload.clone().flatten(),
            });
            if let Some(c) = d.cluster() {
                observed["db_cluster_parameter_group"] = serde_json::json!(c.parameter_group);
            }
            let ev = vec![Evidence::new(
                if d.cluster().is_some() {
                    DESCRIBE_DB_CLUSTER_PARAMETERS
                } else {
                    DESCRIBE_DB_PARAMETERS
                },
                observed,
                Some(format!(
                    "max_connections >= {}; shared_preload_libraries includes {}",
                    p.min_max_connections,
                    p.preload_libraries.join(", ")
                )),
            )];
            let mut problems = Vec::new();
            let mut unknown = Vec::new();
            match max_conn.as_ref().map(|v| v.as_deref().map(|v| (v, v.trim().parse::<u64>()))) {
                None => unknown.push("max_connections is not reported".to_string()),
                Some(None) => unknown.push(
                    "max_connections is not set, so the engine's default applies, whose value depends on memory RDS reserves; set it explicitly".to_string(),
                ),
                Some(Some((_, Ok(n)))) if n >= u64::from(p.min_max_connections) => {}
                Some(Some((_, Ok(n)))) => problems.push(format!("max_connections is {n} (at least {} required)", p.min_max_connections)),
                Some(Some((formula, Err(_)))) => unknown.push(format!(
                    "max_connections is the formula {formula}, whose value depends on memory RDS reserves; set it explicitly"
                )),
            }
            match &preload {
                None => unknown.push("shared_preload_libraries is not reported".to_string()),
                // The engine's default applies, whose list the API does not give (RDS for
                // PostgreSQL documents pg_stat_statements there from version 11).
                Some(None) if !pl_group.set_by_user("shared_preload_libraries") => unknown.push(
                    "shared_preload_libraries has no value in the answer, so the engine's default applies, which the API does not give; set it explicitly".to_string(),
                ),
                Some(list) => {
                    // Set without a value by a user: no library is preloaded.
                    let list = list.as_deref().unwrap_or("");
                    let have: Vec<&str> = list.split(',').map(str::trim).collect();
                    let missing: Vec<String> = p
                        .preload_libraries
                        .iter()
                        .filter(|l| !have.contains(&l.as_str()))
                        .cloned()
                        .collect();
                    if !missing.is_empty() {
                        problems.push(if list.trim().is_empty() {
                            format!(
                                "shared_preload_libraries is set empty, so it lacks {}",
                                join_words(&missing)
                            )
                        } else {
                            format!("shared_preload_libraries lacks {}", join_words(&missing))
                        });
                    }
                }
            }
            if let Some(status) = gref
                .and_then(|g| g.apply_status.as_deref())
                .filter(|s| *s != "in-sync")
            {
                problems.push(format!(
                    "the group's changes are not live (status {status}; a reboot applies them)"
                ));
            }
            // A cluster member says whether the cluster group's changes are live on it.
            if let Some(status) = d
                .cluster()
                .and_then(|c| c.members.iter().find(|m| m.instance_id == db.id))
                .and_then(|m| m.parameter_group_status.as_deref())
                .filter(|s| *s != "in-sync")
            {
                problems.push(format!(
                    "the DB cluster parameter group's changes are not live on it (status {status}; a reboot applies them)"
                ));
            }
            let labels = join_words(&deciding.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            if !problems.is_empty() {
                let msg = format!(
                    "DB instance {} uses {labels} where {}.",
                    db.id,
                    join_words(&problems)
                );
                cx.fail(r, msg, ev);
            } else if !unknown.is_empty() {
                let msg = format!(
                    "Could not check {labels} of DB instance {}: {}.",
                    db.id,
                    join_words(&unknown)
                );
                cx.emit(Status::Error, r, msg, ev);
            } else {
                let msg = format!(
                    "DB instance {} uses {labels} with max_connections {} and {} preloaded.",
                    db.id,
                    max_conn.flatten().unwrap_or_default(),
                    p.preload_libraries.join(", ")
                );
                cx.pass(r, msg, ev);
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// RDS-8: enhanced monitoring.
    pub struct RdsEnhancedMonitoringDisabled {
        id: "rds-enhanced-monitoring-disabled",
        scope: "DB instance",
        controls: ["RDS-8"],
        severity: Medium,
        kind: "rds-db-instance",
        title: "Enhanced monitoring is off or has no monitoring role",
        reads: [Rds],
    }
}

rule_params! {
    pub struct MonitoringParams {
        /// Longest acceptable monitoring interval in seconds (RDS offers 1, 5, 10, 15, 30, 60).
        "max-interval-seconds" => max_interval_seconds: u32 = 60, check = in_range(1, 60);
        /// DB instance identifiers in scope (wildcards allowed), e.g. `["lc-prod-*"]`.
        "instances" => instances: Vec<String> = all(), check = non_empty;
    }
}

impl Rule for RdsEnhancedMonitoringDisabled {
    type Params = MonitoringParams;

    fn check(&self, cx: &mut Cx<'_>, p: &MonitoringParams) {
        cx.threshold("max-interval-seconds");
        each_instance(cx, &p.instances, |cx, region, db| {
            let r = db_ref(cx, region.name, db);
            let d = match Decider::of_own(region, db) {
                Ok(d) => d,
                Err(e) => return cx.error_on(r, "its DB cluster", &e),
            };
            let (interval, role) = match d.cluster() {
                Some(c) => (c.monitoring_interval, c.monitoring_role_arn.as_deref()),
                None => (db.monitoring_interval, db.monitoring_role_arn.as_deref()),
            };
            let ev = vec![Evidence::new(
                d.source(),
                match d.cluster() {
                    None => {
                        serde_json::json!({ "monitoring_interval": interval, "monitoring_role_arn": role })
                    }
                    Some(c) => {
                        serde_json::json!({ "db_cluster": c.id, "monitoring_interval": interval, "monitoring_role_arn": role })
                    }
                },
                Some(format!(
                    "1..={} seconds, with a monitoring role",
                    p.max_interval_seconds
                )),
            )];
            let subject = d.subject(db);
            let Some(i) = interval else {
                let msg = format!(
                    "Could not check DB instance {}: {} did not report the monitoring interval.",
                    db.id,
                    d.source()
                );
                return cx.emit(Status::Error, r, msg, ev);
            };
            let (ok, msg) = if i <= 0 {
                (false, format!("{subject} has enhanced monitoring off."))
            } else if i as u32 > p.max_interval_seconds {
                (
                    false,
                    format!(
                        "{subject} samples every {i} s; the policy requires at most {} s.",
                        p.max_interval_seconds
                    ),
                )
            } else if role.unwrap_or("").is_empty() {
                (false, format!("{subject} has a monitoring interval but no monitoring role, so no metrics are delivered."))
            } else {
                (
                    true,
                    format!("{subject} has enhanced monitoring every {i} s."),
                )
            };
            cx.verdict(ok, r, msg, ev);
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// RDS-10: a manual snapshot exists.
    pub struct RdsManualSnapshotMissing {
        id: "rds-manual-snapshot-missing",
        scope: "DB instance",
        controls: ["RDS-10"],
        severity: Medium,
        kind: "rds-db-instance",
        title: "The DB instance has no available manual snapshot (recent enough)",
        reads: [Rds],
    }
}

rule_params! {
    pub struct ManualSnapshotParams {
        /// Maximum age in days of the newest available manual snapshot; 0 accepts any age.
        "max-age-days" => max_age_days: u32 = 0, check = in_range(0, 3650);
        /// DB instance identifiers in scope (wildcards allowed), e.g. `["lc-prod-*"]`.
        "instances" => instances: Vec<String> = all(), check = non_empty;
    }
}

/// The available manual snapshots of the database `d` decides for, in `region`, with the
/// operation that listed them.
pub(crate) fn manual_snapshots<'a>(
    region: Region<'a>,
    d: &Decider<'_>,
) -> Result<(Vec<&'a DbSnapshot>, &'static str), &'a CollectError> {
    let (listed, op) = d.snapshots_in(&region.inv.rds);
    let mine = listed
        .get()?
        .into_iter()
        .flat_map(|m| m.values())
        .filter(|s| d.owns(s) && s.status.as_deref() == Some("available"))
        .collect();
    Ok((mine, op))
}

impl Rule for RdsManualSnapshotMissing {
    type Params = ManualSnapshotParams;

    fn check(&self, cx: &mut Cx<'_>, p: &ManualSnapshotParams) {
        cx.threshold("max-age-days");
        let as_of = cx.snap.collection.finished_at;
        let regions: Vec<Region<'_>> = cx.regions().collect();
        each_instance(cx, &p.instances, |cx, region, db| {
            let Ok((d, source)) = backup_decider(cx, &regions, region, db) else {
                return;
            };
            let r = db_ref(cx, region.name, db);
            let home = source.map_or(region, |s| s.home);
            let (mut mine, op) = match manual_snapshots(home, &d) {
                Ok(found) => found,
                Err(e) => return cx.error_on(r, "the manual snapshots", e),
            };
            mine.sort_by_key(|s| std::cmp::Reverse(s.created_at));
            let newest = mine.first();
            let ids: Vec<&str> = mine.iter().map(|s| s.id.as_str()).collect();
            let age_days = newest
                .and_then(|s| s.created_at)
                .map(|c| as_of.seconds_since(c) / 86_400);
            let mut observed = serde_json::json!({ "available_manual_snapshots": ids, "newest_age_days": age_days });
            if let Some(c) = d.cluster() {
                observed["db_cluster"] = serde_json::json!(c.id);
            }
            if let Some(s) = source {
                observed["read_replica_of"] = serde_json::json!(s.id);
            }
            let ev = vec![Evidence::new(
                op,
                observed,
                Some(if p.max_age_days == 0 {
                    "at least one".into()
                } else {
                    format!("one younger than {} days", p.max_age_days)
                }),
            )];
            let subject = backup_subject(db, &d, source);
            match newest {
                None => {
                    let msg = format!("{subject} has no available manual snapshot.");
                    cx.fail(r, msg, ev);
                }
                Some(s) if p.max_age_days == 0 => {
                    let msg = format!(
                        "{subject} has {} available manual snapshot(s), the newest {}.",
                        mine.len(),
                        s.id
                    );
                    cx.pass(r, msg, ev);
                }
                Some(s) => match age_days {
                    None => {
                        let msg = format!(
                            "Could not check DB instance {}: its newest manual snapshot {} has no creation time.",
                            db.id, s.id
                        );
                        cx.emit(Status::Error, r, msg, ev);
                    }
                    Some(age) => {
                        let msg = format!(
                            "{subject}'s newest manual snapshot {} is {age} days old; the policy requires one younger than {} days.",
                            s.id, p.max_age_days
                        );
                        cx.verdict(age < i64::from(p.max_age_days), r, msg, ev);
                    }
                },
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// RDS-12: not publicly accessible.
    pub struct RdsPubliclyAccessible {
        id: "rds-publicly-accessible",
        scope: "DB instance",
        controls: ["RDS-12"],
        severity: Critical,
        kind: "rds-db-instance",
        title: "The DB instance is publicly accessible",
        reads: [Rds],
    }
}

impl Rule for RdsPubliclyAccessible {
    type Params = DbScope;

    fn check(&self, cx: &mut Cx<'_>, p: &DbScope) {
        boolean_rule(
            cx,
            &p.instances,
            Decider::of_own,
            |d| d.publicly_accessible(),
            "publicly_accessible",
            false,
            "is not publicly accessible",
            "is publicly accessible: it gets a public DNS name and IP",
        )
    }
}

declare_rule! {
    /// RDS-12: storage encrypted.
    pub struct RdsStorageUnencrypted {
        id: "rds-storage-unencrypted",
        scope: "DB instance",
        controls: ["RDS-12"],
        severity: High,
        kind: "rds-db-instance",
        title: "The DB instance's storage is not encrypted",
        reads: [Rds],
    }
}

impl Rule for RdsStorageUnencrypted {
    type Params = DbScope;

    fn check(&self, cx: &mut Cx<'_>, p: &DbScope) {
        boolean_rule(
            cx,
            &p.instances,
            Decider::of,
            |d| d.storage_encrypted(),
            "storage_encrypted",
            true,
            "has encrypted storage",
            "has unencrypted storage",
        )
    }
}

// ---------------------------------------------------------------------------------------
/// Runs `f` on every manual snapshot of every region: DB snapshots of the instances in
/// scope, and DB cluster snapshots of the clusters in scope (`instances` matches their
/// identifiers too).
fn each_snapshot(
    cx: &mut Cx<'_>,
    instances: &[String],
    mut f: impl FnMut(&mut Cx<'_>, Region<'_>, &DbSnapshot),
) {
    let regions: Vec<Region<'_>> = cx.regions().collect();
    for region in regions {
        if let Some(snaps) = region_items(
            cx,
            region.name,
            "manual DB snapshots",
            &region.inv.rds.snapshots,
        ) {
            for s in snaps
                .values()
                .filter(|s| in_scope(instances, &s.instance_id))
            {
                snapshot_of_rds(cx, region, s, &mut f);
            }
        }
        match region.inv.rds.cluster_snapshots.items() {
            Err(e) => {
                let r = cx.resource("rds-db-cluster-snapshot", "*", region.name);
                let msg = format!(
                    "Could not check manual DB cluster snapshots in {}: {e}.",
                    region.name
                );
                cx.emit(Status::Error, r, msg, vec![super::error_evidence(e)]);
            }
            Ok(snaps) => {
                for s in snaps.values().filter(|s| {
                    s.cluster_id
                        .as_deref()
                        .is_some_and(|c| in_scope(instances, c))
                }) {
                    snapshot_of_rds(cx, region, s, &mut f);
                }
            }
        }
    }
}

/// `f` on an RDS snapshot; `skipped` for a DocumentDB or Neptune one, which the RDS API
/// lists too.
fn snapshot_of_rds(
    cx: &mut Cx<'_>,
    region: Region<'_>,
    s: &DbSnapshot,
    f: &mut impl FnMut(&mut Cx<'_>, Region<'_>, &DbSnapshot),
) {
    match s.engine.as_deref().and_then(other_service) {
        None => f(cx, region, s),
        Some(service) => {
            let msg = format!(
                "{} {} is an Amazon {service} snapshot, which the RDS rules do not judge.",
                if s.cluster_id.is_some() {
                    "DB cluster snapshot"
                } else {
                    "DB snapshot"
                },
                s.id
            );
            cx.skip(snapshot_ref(cx, region.name, s), msg);
        }
    }
}

/// The operations a snapshot's data comes from: its listing and its sharing attributes.
fn snapshot_ops(s: &DbSnapshot) -> (&'static str, &'static str) {
    if s.cluster_id.is_some() {
        (
            DESCRIBE_DB_CLUSTER_SNAPSHOTS,
            DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
        )
    } else {
        (DESCRIBE_DB_SNAPSHOTS, DESCRIBE_DB_SNAPSHOT_ATTRIBUTES)
    }
}

/// `DB snapshot X` or `DB cluster snapshot X`.
fn snapshot_name(s: &DbSnapshot) -> String {
    if s.cluster_id.is_some() {
        format!("DB cluster snapshot {}", s.id)
    } else {
        format!("DB snapshot {}", s.id)
    }
}

declare_rule! {
    /// RDS-13: snapshots are not public.
    pub struct RdsSnapshotPublic {
        id: "rds-snapshot-public",
        scope: "manual DB snapshot",
        controls: ["RDS-13"],
        severity: Critical,
        kind: "rds-db-snapshot",
        title: "A manual DB snapshot is shared publicly",
        reads: [Rds],
    }
}

impl Rule for RdsSnapshotPublic {
    type Params = DbScope;

    fn check(&self, cx: &mut Cx<'_>, p: &DbScope) {
        each_snapshot(cx, &p.instances, |cx, region, s| {
            let r = snapshot_ref(cx, region.name, s);
            match (&s.attributes.get(), s.is_public()) {
                (Err(e), _) => cx.error_on(r, "the sharing attributes", e),
                (Ok(attrs), public) => {
                    let restore = attrs
                        .and_then(|a| a.get("restore"))
                        .cloned()
                        .unwrap_or_default();
                    let ev = vec![Evidence::new(
                        snapshot_ops(s).1,
                        serde_json::json!({ "restore": restore }),
                        Some("restore does not include all".into()),
                    )];
                    if public == Some(true) {
                        let msg = format!(
                            "{} is public: any AWS account can restore it.",
                            snapshot_name(s)
                        );
                        cx.fail(r, msg, ev);
                    } else {
                        let shared = if restore.is_empty() {
                            "not shared".to_string()
                        } else {
                            format!("shared only with {}", join_words(&restore))
                        };
                        let msg = format!("{} is {shared}.", snapshot_name(s));
                        cx.pass(r, msg, ev);
                    }
                }
            }
        });
    }
}

declare_rule! {
    /// RDS-13: snapshots are encrypted.
    pub struct RdsSnapshotUnencrypted {
        id: "rds-snapshot-unencrypted",
        scope: "manual DB snapshot",
        controls: ["RDS-13"],
        severity: High,
        kind: "rds-db-snapshot",
        title: "A manual DB snapshot is not encrypted",
        reads: [Rds],
    }
}

impl Rule for RdsSnapshotUnencrypted {
    type Params = DbScope;

    fn check(&self, cx: &mut Cx<'_>, p: &DbScope) {
        each_snapshot(cx, &p.instances, |cx, region, s| {
            let r = snapshot_ref(cx, region.name, s);
            let ev = vec![Evidence::new(
                snapshot_ops(s).0,
                serde_json::json!({ "encrypted": s.encrypted }),
                Some("encrypted = true".into()),
            )];
            let Some(encrypted) = s.encrypted else {
                let msg = format!(
                    "Could not check {}: {} did not report whether it is encrypted.",
                    snapshot_name(s),
                    snapshot_ops(s).0
                );
                return cx.emit(Status::Error, r, msg, ev);
            };
            let msg = format!(
                "{} is {}.",
                snapshot_name(s),
                if encrypted {
                    "encrypted"
                } else {
                    "not encrypted"
                }
            );
            cx.verdict(encrypted, r, msg, ev);
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// RDS-11: a restore test was done (attested).
    pub struct RdsRestoreTestUnattested {
        id: "rds-restore-test-unattested",
        scope: "restore-test attestation",
        controls: ["RDS-11"],
        severity: Medium,
        kind: "checklist-control",
        title: "No current attestation that restoring the database from a backup was tested",
        source: Policy,
    }
}

rule_params! {
    pub struct RestoreTestParams {
        /// Oldest acceptable attestation, in days before the scan.
        "max-age-days" => max_age_days: u32 = 365, check = in_range(1, 3650);
    }
}

impl Rule for RdsRestoreTestUnattested {
    type Params = RestoreTestParams;

    fn check(&self, cx: &mut Cx<'_>, p: &RestoreTestParams) {
        cx.attested("RDS-11", "restore test", p.max_age_days);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::finding::Status::*;
    use crate::inventory::rds::Parameter;
    use crate::inventory::Observed;

    fn with_db(f: impl FnOnce(&mut DbInstance)) -> crate::inventory::Snapshot {
        let mut s = compliant();
        f(value(&mut inv(&mut s).rds.instances)
            .get_mut("lc-prod-db")
            .unwrap());
        s
    }

    fn rds_denied() -> crate::inventory::Snapshot {
        let mut s = compliant();
        inv(&mut s).rds.instances = Observed::unavailable(denied("rds:DescribeDBInstances"));
        s
    }

    fn no_db() -> crate::inventory::Snapshot {
        let mut s = compliant();
        value(&mut inv(&mut s).rds.instances).clear();
        s
    }

    /// The four cases of a rule on the one DB instance: fail once `broken`, error when
    /// DescribeDBInstances is denied, skipped with no instance.
    #[track_caller]
    fn db_four_ways(rule: &str, params: &str, broken: impl FnOnce(&mut DbInstance)) {
        four_ways(rule, params)
            .pass(&[("lc-prod-db", Pass)])
            .fail(|s| broken(db_of(s)), &[("lc-prod-db", Fail)])
            .error(
                |s| inv(s).rds.instances = Observed::unavailable(denied(DESCRIBE_DB_INSTANCES)),
                &[("*", Error)],
            )
            .skipped(
                |s| value(&mut inv(s).rds.instances).clear(),
                &[("*", Skipped)],
            );
    }

    fn db_of(s: &mut crate::inventory::Snapshot) -> &mut DbInstance {
        value(&mut inv(s).rds.instances)
            .get_mut("lc-prod-db")
            .unwrap()
    }

    #[test]
    fn engine_and_version() {
        let f = run(
            "rds-engine-version-too-old",
            "",
            &with_db(|d| d.engine_version = Some("13.7".into())),
        );
        assert_eq!(f[0].message, "DB instance lc-prod-db runs postgres 13.7 (major 13); the policy requires at least 14.");
        assert_verdicts(
            &run(
                "rds-engine-version-too-old",
                "",
                &with_db(|d| d.engine = "mysql".into()),
            ),
            &[("lc-prod-db", Fail)],
        );
        assert_verdicts(
            &run("rds-engine-version-too-old", "", &compliant()),
            &[("lc-prod-db", Pass)],
        );
        assert_verdicts(
            &run("rds-engine-version-too-old", "", &rds_denied()),
            &[("*", Error)],
        );
        // No database at all fails by default, or is skipped when not required.
        assert_verdicts(
            &run("rds-engine-version-too-old", "", &no_db()),
            &[("*", Fail)],
        );
        assert_verdicts(
            &run(
                "rds-engine-version-too-old",
                "require-instance = false",
                &no_db(),
            ),
            &[("*", Skipped)],
        );
    }

    #[test]
    fn instance_class_compares_vcpu_and_memory() {
        db_four_ways("rds-instance-class-too-small", "", |d| {
            d.instance_class = "db.t3.micro".into()
        });
        assert_eq!(class_capacity("db.t3.small"), Some((2, 2.0)));
        assert_eq!(class_capacity("db.m6g.2xlarge"), Some((8, 32.0)));
        assert_eq!(class_capacity("db.r6i.large"), Some((2, 16.0)));
        assert_eq!(class_capacity("db.x2g.xlarge"), Some((4, 64.0)));
        assert_eq!(class_capacity("cache.t3.small"), None);
        assert_eq!(class_capacity("db.t2.small"), Some((1, 2.0)));
        assert_eq!(class_capacity("db.m5.1073741824xlarge"), None);
        assert_eq!(class_capacity("db.m5.1xlarge"), None);
        // db.m5.large (2 vCPU, 8 GiB) is not below db.t3.large (2, 8); db.c6gd.large (2, 4) is.
        assert_verdicts(
            &run(
                "rds-instance-class-too-small",
                "min-class = \"db.t3.large\"",
                &with_db(|d| d.instance_class = "db.m5.large".into()),
            ),
            &[("lc-prod-db", Pass)],
        );
        assert_verdicts(
            &run(
                "rds-instance-class-too-small",
                "min-class = \"db.t3.large\"",
                &with_db(|d| d.instance_class = "db.c6gd.large".into()),
            ),
            &[("lc-prod-db", Fail)],
        );
        // An unknown class cannot be compared: error, not a guess.
        assert_verdicts(
            &run(
                "rds-instance-class-too-small",
                "",
                &with_db(|d| d.instance_class = "db.serverless".into()),
            ),
            &[("lc-prod-db", Error)],
        );
    }

    #[test]
    fn unknown_min_class_is_a_policy_error() {
        let e = crate::policy::load(&[crate::policy::PolicySource {
            name: "p.toml".into(),
            text: "[rules.rds-instance-class-too-small]\nmin-class = \"db.tiny\"\n".into(),
        }])
        .unwrap_err();
        assert!(e.0[0].message.contains("not an RDS instance class"), "{e}");
    }

    #[test]
    fn boolean_properties() {
        db_four_ways("rds-multi-az-disabled", "", |d| d.multi_az = Some(false));
        db_four_ways("rds-deletion-protection-disabled", "", |d| {
            d.deletion_protection = Some(false)
        });
        db_four_ways("rds-publicly-accessible", "", |d| {
            d.publicly_accessible = Some(true)
        });
        db_four_ways("rds-storage-unencrypted", "", |d| {
            d.storage_encrypted = Some(false)
        });
        // Not reported is not "private".
        assert_verdicts(
            &run(
                "rds-publicly-accessible",
                "",
                &with_db(|d| d.publicly_accessible = None),
            ),
            &[("lc-prod-db", Error)],
        );
    }

    #[test]
    fn storage_size_type_and_autoscaling() {
        db_four_ways("rds-storage-insufficient", "", |d| {
            d.storage_type = Some("gp2".into())
        });
        let f = run(
            "rds-storage-insufficient",
            "",
            &with_db(|d| {
                d.allocated_storage_gb = Some(20);
                d.max_allocated_storage_gb = None;
            }),
        );
        assert_eq!(
            f[0].message,
            "DB instance lc-prod-db has 20 GiB of storage (at least 100 required) and does not autoscale storage (MaxAllocatedStorage not above AllocatedStorage)."
        );
        assert_verdicts(
            &run(
                "rds-storage-insufficient",
                "require-autoscaling = false",
                &with_db(|d| d.max_allocated_storage_gb = None),
            ),
            &[("lc-prod-db", Pass)],
        );
    }

    #[test]
    fn backup_retention() {
        db_four_ways("rds-backup-retention-too-short", "", |d| {
            d.backup_retention_days = Some(7)
        });
        let f = run(
            "rds-backup-retention-too-short",
            "min-days = 7",
            &with_db(|d| d.backup_retention_days = Some(0)),
        );
        assert!(
            f[0].message.contains("automated backups turned off"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].policy.as_ref().unwrap().line, 2);
        // Replicas of replicas: backups are the first source's that is no replica.
        let mut s = compliant();
        let dbs = value(&mut inv(&mut s).rds.instances);
        for (id, source) in [("lc-r1", "lc-prod-db"), ("lc-r2", "lc-r1")] {
            let mut r = db(id);
            r.replica_source = Some(source.into());
            r.backup_retention_days = Some(if id == "lc-r1" { 1 } else { 0 });
            dbs.insert(id.into(), r);
        }
        let f = run("rds-backup-retention-too-short", "", &s);
        assert_verdicts(
            &f,
            &[("lc-prod-db", Pass), ("lc-r1", Pass), ("lc-r2", Pass)],
        );
        let r2 = finding(&f, "lc-r2");
        assert!(
            r2.message
                .starts_with("DB instance lc-r2 is a read replica of lc-prod-db, which"),
            "{}",
            r2.message
        );
        // A loop in the answers is an error, not a hang.
        let dbs = value(&mut inv(&mut s).rds.instances);
        dbs.get_mut("lc-r1").unwrap().replica_source = Some("lc-r2".into());
        let f = run("rds-backup-retention-too-short", "", &s);
        assert_verdicts(
            &f,
            &[("lc-prod-db", Pass), ("lc-r1", Error), ("lc-r2", Error)],
        );
    }

    #[test]
    fn parameter_group() {
        db_four_ways("rds-parameter-group-misconfigured", "", |d| {
            d.parameter_groups[0].apply_status = Some("pending-reboot".into())
        });
        // An instance whose groups were not reported cannot be judged.
        let f = run(
            "rds-parameter-group-misconfigured",
            "",
            &with_db(|d| d.parameter_groups.clear()),
        );
        assert_verdicts(&f, &[("lc-prod-db", Error)]);
        assert!(
            f[0].message.contains("did not report its parameter group"),
            "{}",
            f[0].message
        );
        let mut s = compliant();
        value(&mut inv(&mut s).rds.parameter_groups)
            .get_mut("lc-pg16")
            .unwrap()
            .parameters = parameters(&[
            ("max_connections", "50"),
            ("shared_preload_libraries", "auto_explain, pg_cron"),
        ]);
        let f = run("rds-parameter-group-misconfigured", "", &s);
        assert_verdicts(&f, &[("lc-prod-db", Fail)]);
        assert_eq!(
            f[0].message,
            "DB instance lc-prod-db uses parameter group lc-pg16 where max_connections is 50 (at least 100 required) and shared_preload_libraries lacks pg_stat_statements."
        );
        // The engine default is a formula: its value cannot be known from the API.
        let mut s = compliant();
        value(&mut inv(&mut s).rds.parameter_groups)
            .get_mut("lc-pg16")
            .unwrap()
            .parameters = parameters(&[
            (
                "max_connections",
                "LEAST({DBInstanceClassMemory/9531392},5000)",
            ),
            ("shared_preload_libraries", "pg_stat_statements"),
        ]);
        assert_verdicts(
            &run("rds-parameter-group-misconfigured", "", &s),
            &[("lc-prod-db", Error)],
        );
        // shared_preload_libraries listed without a value: an engine default's list is not
        // known (error); a user who set it so preloads nothing (fail).
        for (source, want) in [("engine-default", Error), ("user", Fail)] {
            let mut s = compliant();
            let pg = value(&mut inv(&mut s).rds.parameter_groups)
                .get_mut("lc-pg16")
                .unwrap();
            let params = value(&mut pg.parameters);
            params.insert(
                "shared_preload_libraries".into(),
                crate::inventory::rds::Parameter {
                    value: None,
                    source: Some(source.into()),
                },
            );
            let f = run("rds-parameter-group-misconfigured", "", &s);
            assert_verdicts(&f, &[("lc-prod-db", want)]);
        }
        // Parameters unreadable: error on the instance.
        let mut s = compliant();
        value(&mut inv(&mut s).rds.parameter_groups)
            .get_mut("lc-pg16")
            .unwrap()
            .parameters = Observed::unavailable(denied("rds:DescribeDBParameters"));
        assert_verdicts(
            &run("rds-parameter-group-misconfigured", "", &s),
            &[("lc-prod-db", Error)],
        );
        // Not PostgreSQL: not applicable.
        assert_verdicts(
            &run(
                "rds-parameter-group-misconfigured",
                "",
                &with_db(|d| d.engine = "mysql".into()),
            ),
            &[("lc-prod-db", Skipped)],
        );
        let _ = Parameter {
            value: None,
            source: None,
        };
    }

    #[test]
    fn instances_narrow_the_scope() {
        let mut s = compliant();
        let mut staging = db("lc-staging-db");
        staging.multi_az = Some(false);
        value(&mut inv(&mut s).rds.instances).insert("lc-staging-db".into(), staging);
        assert_verdicts(
            &run("rds-multi-az-disabled", "", &s),
            &[("lc-prod-db", Pass), ("lc-staging-db", Fail)],
        );
        assert_verdicts(
            &run("rds-multi-az-disabled", "instances = [\"lc-prod-*\"]", &s),
            &[("lc-prod-db", Pass)],
        );
        assert_verdicts(
            &run("rds-multi-az-disabled", "instances = [\"none-*\"]", &s),
            &[("*", Skipped)],
        );
        assert_verdicts(
            &run("rds-engine-version-too-old", "instances = [\"none-*\"]", &s),
            &[("*", Fail)],
        );
    }

    #[test]
    fn pending_reboot_parameters_are_not_live() {
        let s = with_db(|d| d.parameter_groups[0].apply_status = Some("pending-reboot".into()));
        let f = run("rds-parameter-group-misconfigured", "", &s);
        assert_verdicts(&f, &[("lc-prod-db", Fail)]);
        assert!(
            f[0].message.contains("not live (status pending-reboot"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn restore_test_is_manual_until_attested_and_again_when_stale() {
        let s = compliant();
        let f = run("rds-restore-test-unattested", "", &s);
        assert_verdicts(&f, &[("RDS-11", Manual)]);
        assert!(
            f[0].message.contains("needs an attestation"),
            "{}",
            f[0].message
        );
        let policy = |date: &str| {
            crate::policy::load(&[crate::policy::PolicySource {
                name: "p.toml".into(),
                text: format!(
                    "[rules.rds-restore-test-unattested]\nmax-age-days = 90\n\n[[attestations]]\ncontrol = \"RDS-11\"\nby = \"sre-lead\"\ndate = {date}\nevidence = \"https://wiki.example/restore\"\n"
                ),
            }])
            .unwrap()
        };
        // The fixture was collected on 2026-11-28.
        let p = policy("2026-10-01");
        let f = crate::engine::run_rule(&s, &p.rules[0], &p);
        assert_verdicts(&f, &[("RDS-11", Pass)]);
        assert_eq!(
            f[0].policy.as_ref().unwrap().line,
            4,
            "points at the attestation"
        );
        let p = policy("2026-01-01");
        let f = crate::engine::run_rule(&s, &p.rules[0], &p);
        assert_verdicts(&f, &[("RDS-11", Manual)]);
        assert!(
            f[0].message
                .contains("331 days ago; the policy accepts at most 90"),
            "{}",
            f[0].message
        );
        // Dated after the scan: not evidence of anything yet.
        let p = policy("2026-12-24");
        let f = crate::engine::run_rule(&s, &p.rules[0], &p);
        assert_verdicts(&f, &[("RDS-11", Manual)]);
    }

    #[test]
    fn enhanced_monitoring() {
        db_four_ways("rds-enhanced-monitoring-disabled", "", |d| {
            d.monitoring_interval = Some(0)
        });
        assert_verdicts(
            &run(
                "rds-enhanced-monitoring-disabled",
                "",
                &with_db(|d| d.monitoring_role_arn = None),
            ),
            &[("lc-prod-db", Fail)],
        );
        assert_verdicts(
            &run(
                "rds-enhanced-monitoring-disabled",
                "max-interval-seconds = 30",
                &compliant(),
            ),
            &[("lc-prod-db", Fail)],
        );
    }

    #[test]
    fn manual_snapshot_presence_and_age() {
        assert_verdicts(
            &run("rds-manual-snapshot-missing", "", &compliant()),
            &[("lc-prod-db", Pass)],
        );
        let mut s = compliant();
        value(&mut inv(&mut s).rds.snapshots)
            .get_mut("lc-prod-db-manual")
            .unwrap()
            .status = Some("creating".into());
        let f = run("rds-manual-snapshot-missing", "", &s);
        assert_verdicts(&f, &[("lc-prod-db", Fail)]);
        assert_eq!(
            f[0].message,
            "DB instance lc-prod-db has no available manual snapshot."
        );
        assert_verdicts(
            &run("rds-manual-snapshot-missing", "", &rds_denied()),
            &[("*", Error)],
        );
        assert_verdicts(
            &run("rds-manual-snapshot-missing", "", &no_db()),
            &[("*", Skipped)],
        );
        let s = compliant();
        // Collected 2026-11-28, snapshot of 2026-11-20: 8 days old.
        assert_verdicts(
            &run("rds-manual-snapshot-missing", "max-age-days = 9", &s),
            &[("lc-prod-db", Pass)],
        );
        let f = run("rds-manual-snapshot-missing", "max-age-days = 7", &s);
        assert_verdicts(&f, &[("lc-prod-db", Fail)]);
        assert!(f[0].message.contains("is 8 days old"), "{}", f[0].message);
        let mut s = compliant();
        inv(&mut s).rds.snapshots = Observed::unavailable(denied("rds:DescribeDBSnapshots"));
        assert_verdicts(
            &run("rds-manual-snapshot-missing", "", &s),
            &[("lc-prod-db", Error)],
        );
    }

    #[test]
    fn snapshot_public_and_encrypted() {
        let s = compliant();
        assert_verdicts(
            &run("rds-snapshot-public", "", &s),
            &[("lc-prod-db-manual", Pass)],
        );
        assert_verdicts(
            &run("rds-snapshot-unencrypted", "", &s),
            &[("lc-prod-db-manual", Pass)],
        );
        let mut s = compliant();
        let snap = value(&mut inv(&mut s).rds.snapshots)
            .get_mut("lc-prod-db-manual")
            .unwrap();
        snap.attributes = present(keyed(vec![("restore", vec!["all".to_string()])]));
        snap.encrypted = Some(false);
        assert_verdicts(
            &run("rds-snapshot-public", "", &s),
            &[("lc-prod-db-manual", Fail)],
        );
        assert_verdicts(
            &run("rds-snapshot-unencrypted", "", &s),
            &[("lc-prod-db-manual", Fail)],
        );
        let mut s = compliant();
        value(&mut inv(&mut s).rds.snapshots)
            .get_mut("lc-prod-db-manual")
            .unwrap()
            .attributes = Observed::unavailable(denied("rds:DescribeDBSnapshotAttributes"));
        assert_verdicts(
            &run("rds-snapshot-public", "", &s),
            &[("lc-prod-db-manual", Error)],
        );
        let mut s = compliant();
        inv(&mut s).rds.snapshots = Observed::unavailable(denied("rds:DescribeDBSnapshots"));
        assert_verdicts(&run("rds-snapshot-unencrypted", "", &s), &[("*", Error)]);
        let mut s = compliant();
        value(&mut inv(&mut s).rds.snapshots).clear();
        assert_verdicts(&run("rds-snapshot-public", "", &s), &[("*", Skipped)]);
        assert_verdicts(&run("rds-snapshot-unencrypted", "", &s), &[("*", Skipped)]);
    }
}
