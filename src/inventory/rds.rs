//! RDS: DB instances (with their subnet group, security groups and parameter groups), the
//! parameters of the groups in use, and manual snapshots with their sharing attributes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Observed, Timestamp};

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const DESCRIBE_DB_INSTANCES: &str = "rds:DescribeDBInstances";
pub const DESCRIBE_DB_PARAMETERS: &str = "rds:DescribeDBParameters";
pub const DESCRIBE_DB_SNAPSHOTS: &str = "rds:DescribeDBSnapshots";
pub const DESCRIBE_DB_SNAPSHOT_ATTRIBUTES: &str = "rds:DescribeDBSnapshotAttributes";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rds {
    /// Keyed by DB instance identifier.
    pub instances: Observed<BTreeMap<String, DbInstance>>,
    /// The parameter groups the instances use, keyed by name.
    pub parameter_groups: Observed<BTreeMap<String, ParameterGroup>>,
    /// Manual snapshots, keyed by snapshot identifier.
    pub snapshots: Observed<BTreeMap<String, DbSnapshot>>,
}

impl Rds {
    pub(crate) fn normalize(&mut self) {
        if let Observed::Present { value } = &mut self.instances {
            for i in value.values_mut() {
                i.security_groups.sort();
                i.parameter_groups.sort();
                if let Some(g) = &mut i.subnet_group {
                    g.subnets.sort();
                }
            }
        }
        if let Observed::Present { value } = &mut self.snapshots {
            for s in value.values_mut() {
                if let Observed::Present { value } = &mut s.attributes {
                    for v in value.values_mut() {
                        v.sort();
                    }
                }
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DbInstance {
    pub id: String,
    pub arn: Option<String>,
    pub engine: String,
    pub engine_version: Option<String>,
    pub instance_class: String,
    pub status: Option<String>,
    pub multi_az: bool,
    pub allocated_storage_gb: i32,
    /// Storage autoscaling ceiling; `None` when autoscaling is off.
    pub max_allocated_storage_gb: Option<i32>,
    pub storage_type: Option<String>,
    pub storage_encrypted: bool,
    pub deletion_protection: bool,
    pub backup_retention_days: i32,
    /// Enhanced monitoring interval in seconds; 0 when off.
    pub monitoring_interval: i32,
    pub monitoring_role_arn: Option<String>,
    /// `None` if the answer did not say: never read as "private".
    pub publicly_accessible: Option<bool>,
    pub endpoint: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_group: Option<DbSubnetGroup>,
    pub security_groups: Vec<String>,
    pub parameter_groups: Vec<ParameterGroupRef>,
    /// Master user password managed by RDS in Secrets Manager (its ARN).
    pub master_user_secret_arn: Option<String>,
    pub latest_restorable_time: Option<Timestamp>,
    /// ARNs of automated backups replicated to other regions.
    #[serde(default)]
    pub backup_replications: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DbSubnetGroup {
    pub name: String,
    pub vpc_id: Option<String>,
    pub subnets: Vec<DbSubnet>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DbSubnet {
    pub subnet_id: String,
    pub availability_zone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ParameterGroupRef {
    pub name: String,
    /// `in-sync`, `pending-reboot`, `applying`.
    pub apply_status: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParameterGroup {
    pub name: String,
    /// Every parameter DescribeDBParameters returned, by name.
    pub parameters: Observed<BTreeMap<String, Parameter>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// `None` when the parameter has no value set in this group.
    pub value: Option<String>,
    /// `user`, `system` or `engine-default`.
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DbSnapshot {
    pub id: String,
    pub arn: Option<String>,
    pub instance_id: String,
    /// `manual` (automated snapshots are not collected).
    pub snapshot_type: Option<String>,
    pub status: Option<String>,
    pub encrypted: bool,
    pub created_at: Option<Timestamp>,
    /// For a copy from another region: that region.
    #[serde(default)]
    pub source_region: Option<String>,
    /// For a copy: when the original snapshot was taken (a copy's own time is the copy's).
    #[serde(default)]
    pub original_created_at: Option<Timestamp>,
    /// DescribeDBSnapshotAttributes: `restore` lists the accounts (or `all`) that may
    /// restore the snapshot.
    pub attributes: Observed<BTreeMap<String, Vec<String>>>,
}

impl DbSnapshot {
    pub fn is_public(&self) -> Option<bool> {
        match &self.attributes {
            Observed::Present { value } => Some(
                value
                    .get("restore")
                    .is_some_and(|v| v.iter().any(|a| a == "all")),
            ),
            Observed::Absent => Some(false),
            Observed::Unavailable { .. } => None,
        }
    }
}
