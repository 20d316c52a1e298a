//! RDS: DB instances (with their subnet group, security groups and parameter groups), DB
//! clusters (Aurora and Multi-AZ DB clusters, which decide their members' database-level
//! settings), the parameters of the groups in use, and manual snapshots of instances and of
//! clusters with their sharing attributes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Observed, Timestamp};

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const DESCRIBE_DB_INSTANCES: &str = "rds:DescribeDBInstances";
pub const DESCRIBE_DB_PARAMETERS: &str = "rds:DescribeDBParameters";
pub const DESCRIBE_DB_SNAPSHOTS: &str = "rds:DescribeDBSnapshots";
pub const DESCRIBE_DB_SNAPSHOT_ATTRIBUTES: &str = "rds:DescribeDBSnapshotAttributes";
pub const DESCRIBE_DB_CLUSTERS: &str = "rds:DescribeDBClusters";
pub const DESCRIBE_DB_CLUSTER_PARAMETERS: &str = "rds:DescribeDBClusterParameters";
pub const DESCRIBE_DB_CLUSTER_SNAPSHOTS: &str = "rds:DescribeDBClusterSnapshots";
pub const DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES: &str = "rds:DescribeDBClusterSnapshotAttributes";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rds {
    /// Keyed by DB instance identifier.
    pub instances: Observed<BTreeMap<String, DbInstance>>,
    /// The parameter groups the instances use, keyed by name.
    pub parameter_groups: Observed<BTreeMap<String, ParameterGroup>>,
    /// Manual snapshots, keyed by snapshot identifier.
    pub snapshots: Observed<BTreeMap<String, DbSnapshot>>,
    /// DB clusters (Aurora, Multi-AZ DB clusters), keyed by cluster identifier; their members
    /// are DB instances that name them.
    #[serde(default)]
    pub clusters: Observed<BTreeMap<String, DbCluster>>,
    /// The DB cluster parameter groups the clusters use, keyed by name.
    #[serde(default)]
    pub cluster_parameter_groups: Observed<BTreeMap<String, ParameterGroup>>,
    /// Manual DB cluster snapshots, keyed by snapshot identifier (their `instance_id` is
    /// empty; `cluster_id` names the cluster).
    #[serde(default)]
    pub cluster_snapshots: Observed<BTreeMap<String, DbSnapshot>>,
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
        for snapshots in [&mut self.snapshots, &mut self.cluster_snapshots] {
            if let Observed::Present { value } = snapshots {
                for s in value.values_mut() {
                    if let Observed::Present { value } = &mut s.attributes {
                        for v in value.values_mut() {
                            v.sort();
                        }
                    }
                }
            }
        }
        if let Observed::Present { value } = &mut self.clusters {
            for c in value.values_mut() {
                c.availability_zones.sort();
                c.members.sort();
                c.security_groups.sort();
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DbInstance {
    pub id: String,
    pub arn: Option<String>,
    pub engine: String,
    pub engine_version: Option<String>,
    pub instance_class: String,
    pub status: Option<String>,
    /// For a member of a DB cluster, not what decides: its cluster's does. `None` when the
    /// answer did not say, as for every `Option` here: never read as "off".
    pub multi_az: Option<bool>,
    /// 1 for an Aurora instance, whose storage is the cluster's and grows by itself.
    pub allocated_storage_gb: Option<i32>,
    /// Storage autoscaling ceiling; `None` when autoscaling is off.
    pub max_allocated_storage_gb: Option<i32>,
    /// `aurora` (or `aurora-iopt1`) for an Aurora instance.
    pub storage_type: Option<String>,
    pub storage_encrypted: Option<bool>,
    pub deletion_protection: Option<bool>,
    /// 0: automated backups off (how read replicas usually are).
    pub backup_retention_days: Option<i32>,
    /// Enhanced monitoring interval in seconds; 0 when off.
    pub monitoring_interval: Option<i32>,
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
    /// The zone the instance runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// The DB cluster the instance is a member of (Aurora, Multi-AZ DB cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// For a read replica: its source DB instance (an identifier, or an ARN in another
    /// region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_source: Option<String>,
    /// For a read replica of a Multi-AZ DB cluster: that cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_source_cluster: Option<String>,
}

impl DbInstance {
    /// Whether the engine is Aurora's (`aurora-postgresql`, `aurora-mysql`).
    pub fn is_aurora(&self) -> bool {
        self.engine.starts_with("aurora")
    }

    /// Whether this is an RDS database: DescribeDBInstances also lists Amazon DocumentDB
    /// and Amazon Neptune instances, which are other services' databases.
    pub fn is_rds(&self) -> bool {
        other_service(&self.engine).is_none()
    }

    /// Whether the engine is PostgreSQL, on RDS or Aurora.
    pub fn is_postgres(&self) -> bool {
        matches!(self.engine.as_str(), "postgres" | "aurora-postgresql")
    }
}

/// The other service whose databases the RDS API lists too, by engine: `DocumentDB` for
/// `docdb`, `Neptune` for `neptune`; `None` for an RDS engine.
pub fn other_service(engine: &str) -> Option<&'static str> {
    match engine {
        "docdb" => Some("DocumentDB"),
        "neptune" => Some("Neptune"),
        _ => None,
    }
}

/// A DB cluster: an Aurora cluster, or a Multi-AZ DB cluster (engine `postgres` or `mysql`,
/// a writer and two readable standbys in three zones). For its members AWS keeps Multi-AZ,
/// backups, deletion protection, encryption, the master user secret and the restore time
/// here, not on the instances.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DbCluster {
    pub id: String,
    pub arn: Option<String>,
    pub engine: String,
    pub engine_version: Option<String>,
    pub status: Option<String>,
    /// Whether the cluster has instances in several zones (AWS's own answer).
    pub multi_az: Option<bool>,
    /// The zones the cluster's storage spans.
    pub availability_zones: Vec<String>,
    pub members: Vec<ClusterMember>,
    pub backup_retention_days: Option<i32>,
    pub deletion_protection: Option<bool>,
    pub storage_encrypted: Option<bool>,
    /// Multi-AZ DB clusters: `io1`, `io2`, `gp3`; Aurora: `aurora-iopt1`, or absent for
    /// standard Aurora storage.
    pub storage_type: Option<String>,
    /// Multi-AZ DB clusters: GiB per instance (Aurora reports 1).
    pub allocated_storage_gb: Option<i32>,
    /// Multi-AZ DB clusters: the class of every instance.
    pub instance_class: Option<String>,
    pub publicly_accessible: Option<bool>,
    pub monitoring_interval: Option<i32>,
    pub monitoring_role_arn: Option<String>,
    pub master_user_secret_arn: Option<String>,
    pub latest_restorable_time: Option<Timestamp>,
    /// The DB cluster parameter group's name.
    pub parameter_group: Option<String>,
    /// For a replica cluster: its source cluster (an identifier or ARN).
    pub replication_source: Option<String>,
    /// The writer's DNS name, and the readers'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_endpoint: Option<String>,
    pub security_groups: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

impl DbCluster {
    /// Aurora (`aurora-postgresql`, `aurora-mysql`), as opposed to a Multi-AZ DB cluster.
    pub fn is_aurora(&self) -> bool {
        self.engine.starts_with("aurora")
    }

    /// What the cluster is, for messages.
    pub fn kind(&self) -> &'static str {
        match self.engine.as_str() {
            e if e.starts_with("aurora") => "Aurora DB cluster",
            "docdb" => "DocumentDB cluster",
            "neptune" => "Neptune cluster",
            _ => "Multi-AZ DB cluster",
        }
    }
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ClusterMember {
    pub instance_id: String,
    pub writer: bool,
    /// Whether the DB cluster parameter group's changes are live on this member (`in-sync`,
    /// `pending-reboot`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_group_status: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DbSubnetGroup {
    pub name: String,
    pub vpc_id: Option<String>,
    pub subnets: Vec<DbSubnet>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct DbSubnet {
    pub subnet_id: String,
    pub availability_zone: Option<String>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ParameterGroupRef {
    pub name: String,
    /// `in-sync`, `pending-reboot`, `applying`.
    pub apply_status: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ParameterGroup {
    pub name: String,
    /// Every parameter DescribeDBParameters returned, by name.
    pub parameters: Observed<BTreeMap<String, Parameter>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Parameter {
    /// `None` when the parameter has no value set in this group.
    pub value: Option<String>,
    /// `user`, `system` or `engine-default`.
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DbSnapshot {
    pub id: String,
    pub arn: Option<String>,
    pub instance_id: String,
    /// A DB cluster snapshot's cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// The engine of the database it was taken of (`docdb` for a DocumentDB snapshot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// `manual` (automated snapshots are not collected).
    pub snapshot_type: Option<String>,
    pub status: Option<String>,
    /// `None` when the answer did not say: never read as "unencrypted".
    pub encrypted: Option<bool>,
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
