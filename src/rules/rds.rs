//! 2.2 RDS PostgreSQL: RDS-1 … RDS-8, RDS-10, RDS-12, RDS-13, per DB instance (and per
//! manual snapshot for RDS-13), with the checklist's thresholds as parameters.

use super::scope::Region;
use super::{declare_rule, join_words, region_items, Cx, Rule};
use crate::finding::{Evidence, ResourceRef};
use crate::glob::Glob;
use crate::inventory::rds::{DbInstance, DbSnapshot};
use crate::inventory::rds::{
    DESCRIBE_DB_INSTANCES, DESCRIBE_DB_PARAMETERS, DESCRIBE_DB_SNAPSHOTS,
    DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
};
use crate::rule_params;
use crate::rules::params::{in_range, non_empty};

fn db_ref(cx: &Cx<'_>, region: &str, db: &DbInstance) -> ResourceRef {
    cx.resource("rds-db-instance", &db.id, region)
        .name(Some(&db.id))
        .arn(db.arn.clone())
}

fn snapshot_ref(cx: &Cx<'_>, region: &str, s: &DbSnapshot) -> ResourceRef {
    cx.resource("rds-db-snapshot", &s.id, region)
        .name(Some(&s.id))
        .arn(s.arn.clone())
}

/// Whether DB identifier `id` is in the rule's scope (`instances`, wildcards allowed).
fn in_scope(instances: &[String], id: &str) -> bool {
    instances.iter().any(|g| Glob(g.clone()).matches(id))
}

/// Runs `f` on every DB instance in scope in every region; `error` where instances are
/// unreadable.
fn each_instance(
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
            f(cx, region, db);
        }
    }
}

fn all() -> Vec<String> {
    vec!["*".to_string()]
}

/// A yes/no property of each instance.
fn boolean_rule(
    cx: &mut Cx<'_>,
    instances: &[String],
    get: impl Fn(&DbInstance) -> Option<bool>,
    field: &str,
    want: bool,
    good: &str,
    bad: &str,
) {
    each_instance(cx, instances, |cx, region, db| {
        let r = db_ref(cx, region.name, db);
        let v = get(db);
        let ev = vec![Evidence::new(
            DESCRIBE_DB_INSTANCES,
            serde_json::json!({ field: v }),
            Some(format!("{field} = {want}")),
        )];
        let Some(v) = v else {
            let msg = format!(
                "Could not check DB instance {}: {DESCRIBE_DB_INSTANCES} did not report {field}.",
                db.id
            );
            return cx.emit(crate::finding::Status::Error, r, msg, ev);
        };
        let msg = format!(
            "DB instance {} {}.",
            db.id,
            if v == want { good } else { bad }
        );
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
        title: "The database is not PostgreSQL, or runs a major version older than planned",
        reads: [Rds],
    }
}

rule_params! {
    pub struct EngineParams {
        /// The engine every DB instance must run.
        "engine" => engine: String = "postgres".to_string();
        /// The oldest major version allowed.
        "min-major-version" => min_major_version: u32 = 14, check = in_range(9, 99);
        /// Whether having no DB instance at all is a violation.
        "require-instance" => require_instance: bool = true;
        /// DB instance identifiers in scope (wildcards allowed), e.g. `["lc-prod-*"]`.
        "instances" => instances: Vec<String> = all(), check = non_empty;
    }
}

/// The major version of `16.3` (16) or `9.6.22` (9).
fn major_version(v: &str) -> Option<u32> {
    v.split('.').next()?.parse().ok()
}

impl Rule for RdsEngineVersionTooOld {
    type Params = EngineParams;

    fn check(&self, cx: &mut Cx<'_>, p: &EngineParams) {
        cx.threshold("min-major-version");
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
                seen = true;
                let r = db_ref(cx, region.name, db);
                let version = db.engine_version.as_deref().unwrap_or("unknown");
                let major = db.engine_version.as_deref().and_then(major_version);
                let ev = vec![Evidence::new(
                    DESCRIBE_DB_INSTANCES,
                    serde_json::json!({ "engine": db.engine, "engine_version": db.engine_version }),
                    Some(format!("{} >= {}", p.engine, p.min_major_version)),
                )];
                if db.engine != p.engine {
                    let msg = format!(
                        "DB instance {} runs {} {version}; the policy requires {}.",
                        db.id, db.engine, p.engine
                    );
                    cx.fail(r, msg, ev);
                    continue;
                }
                match major {
                    None => {
                        let msg = format!(
                            "DB instance {} reports engine version {version:?}, which has no major version to compare.",
                            db.id
                        );
                        cx.emit(crate::finding::Status::Error, r, msg, ev);
                    }
                    Some(m) => {
                        let msg = format!(
                            "DB instance {} runs {} {version} (major {m}); the policy requires at least {}.",
                            db.id, db.engine, p.min_major_version
                        );
                        cx.verdict(m >= p.min_major_version, r, msg, ev);
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

impl Rule for RdsMultiAzDisabled {
    type Params = DbScope;

    fn check(&self, cx: &mut Cx<'_>, p: &DbScope) {
        boolean_rule(
            cx,
            &p.instances,
            |d| Some(d.multi_az),
            "multi_az",
            true,
            "is Multi-AZ",
            "is single-AZ: a zone outage takes the database down",
        );
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
            let mut problems = Vec::new();
            if (db.allocated_storage_gb as i64) < p.min_gb as i64 {
                problems.push(format!(
                    "has {} GiB of storage (at least {} required)",
                    db.allocated_storage_gb, p.min_gb
                ));
            }
            let ty = db.storage_type.as_deref().unwrap_or("unknown");
            if ty != p.storage_type {
                problems.push(format!("uses {ty} storage ({} required)", p.storage_type));
            }
            let autoscales = db
                .max_allocated_storage_gb
                .is_some_and(|m| m > db.allocated_storage_gb);
            if p.require_autoscaling && !autoscales {
                problems.push(
                    "does not autoscale storage (MaxAllocatedStorage not above AllocatedStorage)"
                        .to_string(),
                );
            }
            let ev = vec![Evidence::new(
                DESCRIBE_DB_INSTANCES,
                serde_json::json!({
                    "allocated_storage_gb": db.allocated_storage_gb,
                    "storage_type": db.storage_type,
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
            if problems.is_empty() {
                let msg = format!(
                    "DB instance {} has {} GiB of {ty} storage{}.",
                    db.id,
                    db.allocated_storage_gb,
                    match db.max_allocated_storage_gb {
                        Some(m) if autoscales => format!(", autoscaling to {m} GiB"),
                        _ => String::new(),
                    }
                );
                cx.pass(r, msg, ev);
            } else {
                let msg = format!("DB instance {} {}.", db.id, join_words(&problems));
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
            |d| Some(d.deletion_protection),
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

impl Rule for RdsBackupRetentionTooShort {
    type Params = RetentionParams;

    fn check(&self, cx: &mut Cx<'_>, p: &RetentionParams) {
        cx.threshold("min-days");
        each_instance(cx, &p.instances, |cx, region, db| {
            let r = db_ref(cx, region.name, db);
            let days = db.backup_retention_days;
            let ev = vec![Evidence::new(
                DESCRIBE_DB_INSTANCES,
                serde_json::json!({ "backup_retention_days": days }),
                Some(format!(">= {}", p.min_days)),
            )];
            let msg = if days == 0 {
                format!("DB instance {} has automated backups turned off; the policy requires at least {} days.", db.id, p.min_days)
            } else {
                format!("DB instance {} keeps backups for {days} days; the policy requires at least {}.", db.id, p.min_days)
            };
            cx.verdict(days >= p.min_days as i32, r, msg, ev);
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

impl Rule for RdsParameterGroupMisconfigured {
    type Params = ParameterParams;

    fn check(&self, cx: &mut Cx<'_>, p: &ParameterParams) {
        cx.threshold("min-max-connections");
        each_instance(cx, &p.instances, |cx, region, db| {
            let r = db_ref(cx, region.name, db);
            if db.engine != "postgres" {
                let msg = format!(
                    "DB instance {} runs {}, not PostgreSQL; its parameters are not checked.",
                    db.id, db.engine
                );
                cx.skip(r, msg);
                return;
            }
            let Some(gref) = db.parameter_groups.first() else {
                let msg = format!("DB instance {} reports no parameter group.", db.id);
                cx.fail(r, msg, vec![]);
                return;
            };
            let groups = match region.inv.rds.parameter_groups.get() {
                Ok(g) => g,
                Err(e) => return cx.error_on(r, "the parameter group", e),
            };
            let Some(group) = groups.and_then(|g| g.get(&gref.name)) else {
                let e = crate::inventory::CollectError {
                    source: DESCRIBE_DB_PARAMETERS.into(),
                    region: Some(region.name.into()),
                    kind: crate::inventory::ErrorKind::NotCollected,
                    message: format!("parameters of group {} were not collected", gref.name),
                };
                return cx.error_on(r, "the parameter group", &e);
            };
            let params = match group.parameters.get() {
                Ok(p) => p,
                Err(e) => return cx.error_on(r, "the parameter group", e),
            };
            let value = |name: &str| {
                params
                    .and_then(|m| m.get(name))
                    .and_then(|p| p.value.clone())
            };
            let max_conn = value("max_connections");
            let preload = value("shared_preload_libraries");
            let ev = vec![Evidence::new(
                DESCRIBE_DB_PARAMETERS,
                serde_json::json!({
                    "parameter_group": gref.name,
                    "apply_status": gref.apply_status,
                    "max_connections": max_conn,
                    "shared_preload_libraries": preload,
                }),
                Some(format!(
                    "max_connections >= {}; shared_preload_libraries includes {}",
                    p.min_max_connections,
                    p.preload_libraries.join(", ")
                )),
            )];
            let mut problems = Vec::new();
            let mut unknown = Vec::new();
            match max_conn.as_deref().map(|v| (v, v.trim().parse::<u64>())) {
                None => unknown.push("max_connections is not reported".to_string()),
                Some((_, Ok(n))) if n >= u64::from(p.min_max_connections) => {}
                Some((_, Ok(n))) => problems.push(format!("max_connections is {n} (at least {} required)", p.min_max_connections)),
                Some((formula, Err(_))) => unknown.push(format!(
                    "max_connections is the formula {formula}, whose value depends on memory RDS reserves; set it explicitly"
                )),
            }
            match &preload {
                None => unknown.push("shared_preload_libraries is not reported".to_string()),
                Some(list) => {
                    let have: Vec<&str> = list.split(',').map(str::trim).collect();
                    let missing: Vec<String> = p
                        .preload_libraries
                        .iter()
                        .filter(|l| !have.contains(&l.as_str()))
                        .cloned()
                        .collect();
                    if !missing.is_empty() {
                        problems.push(format!(
                            "shared_preload_libraries lacks {}",
                            join_words(&missing)
                        ));
                    }
                }
            }
            if let Some(status) = gref.apply_status.as_deref().filter(|s| *s != "in-sync") {
                problems.push(format!(
                    "the group's changes are not live (status {status}; a reboot applies them)"
                ));
            }
            if !problems.is_empty() {
                let msg = format!(
                    "DB instance {} uses parameter group {} where {}.",
                    db.id,
                    gref.name,
                    join_words(&problems)
                );
                cx.fail(r, msg, ev);
            } else if !unknown.is_empty() {
                let msg = format!(
                    "Could not check parameter group {} of DB instance {}: {}.",
                    gref.name,
                    db.id,
                    join_words(&unknown)
                );
                cx.emit(crate::finding::Status::Error, r, msg, ev);
            } else {
                let msg = format!(
                    "DB instance {} uses parameter group {} with max_connections {} and {} preloaded.",
                    db.id,
                    gref.name,
                    max_conn.unwrap_or_default(),
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
            let i = db.monitoring_interval;
            let ev = vec![Evidence::new(
                DESCRIBE_DB_INSTANCES,
                serde_json::json!({ "monitoring_interval": i, "monitoring_role_arn": db.monitoring_role_arn }),
                Some(format!(
                    "1..={} seconds, with a monitoring role",
                    p.max_interval_seconds
                )),
            )];
            let (ok, msg) = if i <= 0 {
                (
                    false,
                    format!("DB instance {} has enhanced monitoring off.", db.id),
                )
            } else if i as u32 > p.max_interval_seconds {
                (
                    false,
                    format!(
                        "DB instance {} samples every {i} s; the policy requires at most {} s.",
                        db.id, p.max_interval_seconds
                    ),
                )
            } else if db.monitoring_role_arn.as_deref().unwrap_or("").is_empty() {
                (false, format!("DB instance {} has a monitoring interval but no monitoring role, so no metrics are delivered.", db.id))
            } else {
                (
                    true,
                    format!("DB instance {} has enhanced monitoring every {i} s.", db.id),
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

impl Rule for RdsManualSnapshotMissing {
    type Params = ManualSnapshotParams;

    fn check(&self, cx: &mut Cx<'_>, p: &ManualSnapshotParams) {
        cx.threshold("max-age-days");
        let as_of = cx.snap.collection.finished_at;
        each_instance(cx, &p.instances, |cx, region, db| {
            let r = db_ref(cx, region.name, db);
            let snaps = match region.inv.rds.snapshots.items() {
                Ok(s) => s,
                Err(e) => return cx.error_on(r, "the manual snapshots", e),
            };
            let mut mine: Vec<&DbSnapshot> = snaps
                .values()
                .filter(|s| s.instance_id == db.id && s.status.as_deref() == Some("available"))
                .collect();
            mine.sort_by_key(|s| std::cmp::Reverse(s.created_at));
            let newest = mine.first();
            let ids: Vec<&str> = mine.iter().map(|s| s.id.as_str()).collect();
            let age_days = newest
                .and_then(|s| s.created_at)
                .map(|c| as_of.seconds_since(c) / 86_400);
            let ev = vec![Evidence::new(
                DESCRIBE_DB_SNAPSHOTS,
                serde_json::json!({ "available_manual_snapshots": ids, "newest_age_days": age_days }),
                Some(if p.max_age_days == 0 {
                    "at least one".into()
                } else {
                    format!("one younger than {} days", p.max_age_days)
                }),
            )];
            match newest {
                None => {
                    let msg = format!("DB instance {} has no available manual snapshot.", db.id);
                    cx.fail(r, msg, ev);
                }
                Some(s) if p.max_age_days == 0 => {
                    let msg = format!(
                        "DB instance {} has {} available manual snapshot(s), the newest {}.",
                        db.id,
                        mine.len(),
                        s.id
                    );
                    cx.pass(r, msg, ev);
                }
                Some(s) => match age_days {
                    None => {
                        let msg = format!("DB instance {}'s newest manual snapshot {} has no readable creation time.", db.id, s.id);
                        cx.emit(crate::finding::Status::Error, r, msg, ev);
                    }
                    Some(age) => {
                        let msg = format!(
                            "DB instance {}'s newest manual snapshot {} is {age} days old; the policy requires one younger than {} days.",
                            db.id, s.id, p.max_age_days
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
            |d| d.publicly_accessible,
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
            |d| Some(d.storage_encrypted),
            "storage_encrypted",
            true,
            "has encrypted storage",
            "has unencrypted storage",
        )
    }
}

// ---------------------------------------------------------------------------------------
/// Runs `f` on every manual snapshot (of an instance in scope) of every region.
fn each_snapshot(
    cx: &mut Cx<'_>,
    instances: &[String],
    mut f: impl FnMut(&mut Cx<'_>, Region<'_>, &DbSnapshot),
) {
    let regions: Vec<Region<'_>> = cx.regions().collect();
    for region in regions {
        let Some(snaps) = region_items(
            cx,
            region.name,
            "manual DB snapshots",
            &region.inv.rds.snapshots,
        ) else {
            continue;
        };
        for s in snaps
            .values()
            .filter(|s| in_scope(instances, &s.instance_id))
        {
            f(cx, region, s);
        }
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
                        DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
                        serde_json::json!({ "restore": restore }),
                        Some("restore does not include all".into()),
                    )];
                    if public == Some(true) {
                        let msg = format!(
                            "DB snapshot {} is public: any AWS account can restore it.",
                            s.id
                        );
                        cx.fail(r, msg, ev);
                    } else {
                        let shared = if restore.is_empty() {
                            "not shared".to_string()
                        } else {
                            format!("shared only with {}", join_words(&restore))
                        };
                        let msg = format!("DB snapshot {} is {shared}.", s.id);
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
                DESCRIBE_DB_SNAPSHOTS,
                serde_json::json!({ "encrypted": s.encrypted }),
                Some("encrypted = true".into()),
            )];
            let msg = format!(
                "DB snapshot {} is {}.",
                s.id,
                if s.encrypted {
                    "encrypted"
                } else {
                    "not encrypted"
                }
            );
            cx.verdict(s.encrypted, r, msg, ev);
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
        assert_eq!(major_version("9.6.22"), Some(9));
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
        db_four_ways("rds-multi-az-disabled", "", |d| d.multi_az = false);
        db_four_ways("rds-deletion-protection-disabled", "", |d| {
            d.deletion_protection = false
        });
        db_four_ways("rds-publicly-accessible", "", |d| {
            d.publicly_accessible = Some(true)
        });
        db_four_ways("rds-storage-unencrypted", "", |d| {
            d.storage_encrypted = false
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
                d.allocated_storage_gb = 20;
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
            d.backup_retention_days = 7
        });
        let f = run(
            "rds-backup-retention-too-short",
            "min-days = 7",
            &with_db(|d| d.backup_retention_days = 0),
        );
        assert!(
            f[0].message.contains("automated backups turned off"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].policy.as_ref().unwrap().line, 2);
    }

    #[test]
    fn parameter_group() {
        db_four_ways("rds-parameter-group-misconfigured", "", |d| {
            d.parameter_groups.clear()
        });
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
        staging.multi_az = false;
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
            d.monitoring_interval = 0
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
        snap.encrypted = false;
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
