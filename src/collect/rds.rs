//! RDS collector: DB instances (their subnet group, security groups and parameter groups
//! come with them), DB clusters, the parameters of the instance and cluster parameter groups
//! in use, and manual snapshots of instances and clusters with their sharing attributes.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use aws_sdk_rds::Client;

use super::{each, tag_map, timestamp, Caller};
use crate::inventory::rds::*;
use crate::inventory::rds::{
    DESCRIBE_DB_CLUSTERS, DESCRIBE_DB_CLUSTER_PARAMETERS, DESCRIBE_DB_CLUSTER_SNAPSHOTS,
    DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES, DESCRIBE_DB_INSTANCES, DESCRIBE_DB_PARAMETERS,
    DESCRIBE_DB_SNAPSHOTS, DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
};
use crate::inventory::{CollectError, ErrorKind, Observed};
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[
    DESCRIBE_DB_INSTANCES,
    DESCRIBE_DB_PARAMETERS,
    DESCRIBE_DB_SNAPSHOTS,
    DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
    DESCRIBE_DB_CLUSTERS,
    DESCRIBE_DB_CLUSTER_PARAMETERS,
    DESCRIBE_DB_CLUSTER_SNAPSHOTS,
    DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
];

pub async fn collect(ctx: &Caller, cfg: &SdkConfig) -> Rds {
    let conf = aws_sdk_rds::config::Builder::from(cfg)
        .region(aws_sdk_rds::config::Region::new(ctx.region.clone()))
        .build();
    let c = Client::from_conf(conf);
    let (instances, snapshots, clusters, cluster_snapshots) = tokio::join!(
        instances(ctx, &c),
        snapshots(ctx, &c),
        clusters(ctx, &c),
        cluster_snapshots(ctx, &c),
    );
    let parameter_groups = groups_of(ctx, &c, &instances, Of::Instances, |dbs| {
        dbs.values()
            .flat_map(|d| &d.parameter_groups)
            .map(|g| g.name.clone())
            .collect()
    });
    let cluster_parameter_groups = groups_of(ctx, &c, &clusters, Of::Clusters, |cs| {
        cs.values()
            .filter_map(|c| c.parameter_group.clone())
            .collect()
    });
    let (parameter_groups, cluster_parameter_groups) =
        tokio::join!(parameter_groups, cluster_parameter_groups);
    Rds {
        instances: instances.into(),
        parameter_groups,
        snapshots: snapshots.into(),
        clusters: clusters.into(),
        cluster_parameter_groups,
        cluster_snapshots: cluster_snapshots.into(),
    }
}

/// Whose parameter groups: DB instances' or DB clusters'.
#[derive(Clone, Copy)]
enum Of {
    Instances,
    Clusters,
}

/// The parameters of every group `names` picks from `owners`, one group per call (no batch
/// form exists), concurrently; unavailable if the owners are.
async fn groups_of<T>(
    ctx: &Caller,
    c: &Client,
    owners: &Result<BTreeMap<String, T>, CollectError>,
    of: Of,
    names: impl Fn(&BTreeMap<String, T>) -> BTreeSet<String>,
) -> Observed<BTreeMap<String, ParameterGroup>> {
    let owners = match owners {
        Err(e) => return Observed::unavailable(e.clone()),
        Ok(o) => o,
    };
    let groups = each(names(owners).into_iter().collect(), |name| {
        let (ctx, c) = (ctx.clone(), c.clone());
        async move {
            let found = match of {
                Of::Instances => parameters(&ctx, &c, &name).await,
                Of::Clusters => cluster_parameters(&ctx, &c, &name).await,
            };
            (
                name.clone(),
                ParameterGroup {
                    name,
                    parameters: found.into(),
                },
            )
        }
    })
    .await;
    Observed::present(groups.into_iter().collect())
}

async fn instances(ctx: &Caller, c: &Client) -> Result<BTreeMap<String, DbInstance>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_DB_INSTANCES,
        c.describe_db_instances()
            .max_records(100)
            .into_paginator()
            .send()
    )?;
    Ok(pages
        .iter()
        .flat_map(|p| p.db_instances())
        .filter_map(|d| {
            let id = d.db_instance_identifier()?.to_string();
            let subnet_group = d.db_subnet_group().map(|g| DbSubnetGroup {
                name: g.db_subnet_group_name().unwrap_or_default().to_string(),
                vpc_id: g.vpc_id().map(str::to_string),
                subnets: g
                    .subnets()
                    .iter()
                    .filter_map(|s| {
                        Some(DbSubnet {
                            subnet_id: s.subnet_identifier()?.to_string(),
                            availability_zone: s
                                .subnet_availability_zone()
                                .and_then(|a| a.name())
                                .map(str::to_string),
                        })
                    })
                    .collect(),
            });
            Some((
                id.clone(),
                DbInstance {
                    id,
                    arn: d.db_instance_arn().map(str::to_string),
                    engine: d.engine().unwrap_or_default().to_string(),
                    engine_version: d.engine_version().map(str::to_string),
                    instance_class: d.db_instance_class().unwrap_or_default().to_string(),
                    status: d.db_instance_status().map(str::to_string),
                    multi_az: d.multi_az(),
                    allocated_storage_gb: d.allocated_storage(),
                    max_allocated_storage_gb: d.max_allocated_storage(),
                    storage_type: d.storage_type().map(str::to_string),
                    storage_encrypted: d.storage_encrypted(),
                    deletion_protection: d.deletion_protection(),
                    backup_retention_days: d.backup_retention_period(),
                    monitoring_interval: d.monitoring_interval(),
                    monitoring_role_arn: d.monitoring_role_arn().map(str::to_string),
                    publicly_accessible: d.publicly_accessible(),
                    endpoint: d.endpoint().and_then(|e| {
                        Some(format!("{}:{}", e.address()?, e.port().unwrap_or(5432)))
                    }),
                    vpc_id: subnet_group.as_ref().and_then(|g| g.vpc_id.clone()),
                    subnet_group,
                    security_groups: d
                        .vpc_security_groups()
                        .iter()
                        .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
                        .collect(),
                    parameter_groups: d
                        .db_parameter_groups()
                        .iter()
                        .filter_map(|g| {
                            Some(ParameterGroupRef {
                                name: g.db_parameter_group_name()?.to_string(),
                                apply_status: g.parameter_apply_status().map(str::to_string),
                            })
                        })
                        .collect(),
                    master_user_secret_arn: d
                        .master_user_secret()
                        .and_then(|s| s.secret_arn())
                        .map(str::to_string),
                    latest_restorable_time: d.latest_restorable_time().and_then(timestamp),
                    backup_replications: d
                        .db_instance_automated_backups_replications()
                        .iter()
                        .filter_map(|r| r.db_instance_automated_backups_arn().map(str::to_string))
                        .collect(),
                    tags: tag_map(d.tag_list().iter().map(|t| (t.key(), t.value()))),
                    availability_zone: d.availability_zone().map(str::to_string),
                    cluster_id: d.db_cluster_identifier().map(str::to_string),
                    replica_source: d
                        .read_replica_source_db_instance_identifier()
                        .map(str::to_string),
                    replica_source_cluster: d
                        .read_replica_source_db_cluster_identifier()
                        .map(str::to_string),
                },
            ))
        })
        .collect())
}

async fn clusters(ctx: &Caller, c: &Client) -> Result<BTreeMap<String, DbCluster>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_DB_CLUSTERS,
        c.describe_db_clusters()
            .max_records(100)
            .into_paginator()
            .send()
    )?;
    Ok(pages
        .iter()
        .flat_map(|p| p.db_clusters())
        .filter_map(|d| {
            let id = d.db_cluster_identifier()?.to_string();
            Some((
                id.clone(),
                DbCluster {
                    id,
                    arn: d.db_cluster_arn().map(str::to_string),
                    engine: d.engine().unwrap_or_default().to_string(),
                    engine_version: d.engine_version().map(str::to_string),
                    status: d.status().map(str::to_string),
                    multi_az: d.multi_az(),
                    availability_zones: d.availability_zones().to_vec(),
                    members: d
                        .db_cluster_members()
                        .iter()
                        .filter_map(|m| {
                            Some(ClusterMember {
                                instance_id: m.db_instance_identifier()?.to_string(),
                                writer: m.is_cluster_writer().unwrap_or(false),
                                parameter_group_status: m
                                    .db_cluster_parameter_group_status()
                                    .map(str::to_string),
                            })
                        })
                        .collect(),
                    backup_retention_days: d.backup_retention_period(),
                    deletion_protection: d.deletion_protection(),
                    storage_encrypted: d.storage_encrypted(),
                    storage_type: d.storage_type().map(str::to_string),
                    allocated_storage_gb: d.allocated_storage(),
                    instance_class: d.db_cluster_instance_class().map(str::to_string),
                    publicly_accessible: d.publicly_accessible(),
                    monitoring_interval: d.monitoring_interval(),
                    monitoring_role_arn: d.monitoring_role_arn().map(str::to_string),
                    master_user_secret_arn: d
                        .master_user_secret()
                        .and_then(|s| s.secret_arn())
                        .map(str::to_string),
                    latest_restorable_time: d.latest_restorable_time().and_then(timestamp),
                    parameter_group: d.db_cluster_parameter_group().map(str::to_string),
                    replication_source: d.replication_source_identifier().map(str::to_string),
                    endpoint: d.endpoint().map(|e| e.to_ascii_lowercase()),
                    reader_endpoint: d.reader_endpoint().map(|e| e.to_ascii_lowercase()),
                    security_groups: d
                        .vpc_security_groups()
                        .iter()
                        .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
                        .collect(),
                    tags: tag_map(d.tag_list().iter().map(|t| (t.key(), t.value()))),
                },
            ))
        })
        .collect())
}

/// Every parameter of one group: DescribeDBParameters has no batch form.
async fn parameters(
    ctx: &Caller,
    c: &Client,
    group: &str,
) -> Result<BTreeMap<String, Parameter>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_DB_PARAMETERS,
        c.describe_db_parameters()
            .db_parameter_group_name(group)
            .max_records(100)
            .into_paginator()
            .send()
    )?;
    Ok(by_name(pages.iter().flat_map(|p| p.parameters())))
}

/// Parameters by name, as both DescribeDBParameters and DescribeDBClusterParameters give
/// them.
fn by_name<'a>(
    found: impl Iterator<Item = &'a aws_sdk_rds::types::Parameter>,
) -> BTreeMap<String, Parameter> {
    found
        .filter_map(|p| {
            Some((
                p.parameter_name()?.to_string(),
                Parameter {
                    value: p.parameter_value().map(str::to_string),
                    source: p.source().map(str::to_string),
                },
            ))
        })
        .collect()
}

/// Every parameter of one DB cluster parameter group.
async fn cluster_parameters(
    ctx: &Caller,
    c: &Client,
    group: &str,
) -> Result<BTreeMap<String, Parameter>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_DB_CLUSTER_PARAMETERS,
        c.describe_db_cluster_parameters()
            .db_cluster_parameter_group_name(group)
            .max_records(100)
            .into_paginator()
            .send()
    )?;
    Ok(by_name(pages.iter().flat_map(|p| p.parameters())))
}

/// Manual DB cluster snapshots, then each one's sharing attributes (one call each).
async fn cluster_snapshots(
    ctx: &Caller,
    c: &Client,
) -> Result<BTreeMap<String, DbSnapshot>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_DB_CLUSTER_SNAPSHOTS,
        c.describe_db_cluster_snapshots()
            .snapshot_type("manual")
            .max_records(100)
            .into_paginator()
            .send()
    )?;
    let found: Vec<DbSnapshot> = pages
        .iter()
        .flat_map(|p| p.db_cluster_snapshots())
        .filter_map(|s| {
            Some(DbSnapshot {
                id: s.db_cluster_snapshot_identifier()?.to_string(),
                arn: s.db_cluster_snapshot_arn().map(str::to_string),
                instance_id: String::new(),
                cluster_id: s.db_cluster_identifier().map(str::to_string),
                engine: s.engine().map(str::to_string),
                snapshot_type: s.snapshot_type().map(str::to_string),
                status: s.status().map(str::to_string),
                encrypted: s.storage_encrypted(),
                created_at: s.snapshot_create_time().and_then(timestamp),
                // A copy names its source by ARN, whose fourth field is the region.
                source_region: s
                    .source_db_cluster_snapshot_arn()
                    .and_then(|a| a.split(':').nth(3))
                    .map(str::to_string),
                original_created_at: None,
                attributes: Observed::Absent,
            })
        })
        .collect();
    let with_attributes = each(found, |mut snap| {
        let (ctx, c) = (ctx.clone(), c.clone());
        async move {
            // DocumentDB and Neptune snapshots are listed too; no RDS rule reads theirs.
            if let Some(service) = snap.engine.as_deref().and_then(other_service) {
                snap.attributes = Observed::unavailable(ctx.error(
                    DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
                    ErrorKind::NotCollected,
                    format!("{} is an Amazon {service} snapshot", snap.id),
                ));
                return snap;
            }
            let call = c
                .describe_db_cluster_snapshot_attributes()
                .db_cluster_snapshot_identifier(&snap.id)
                .send();
            let answer = ctx
                .call(DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES, call)
                .await;
            snap.attributes = sharing(
                &ctx,
                DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
                &snap.id,
                answer.map(|r| {
                    r.db_cluster_snapshot_attributes_result().map(|a| {
                        a.db_cluster_snapshot_attributes()
                            .iter()
                            .filter_map(|a| Some((a.attribute_name()?, a.attribute_values())))
                            .map(|(n, v)| (n.to_string(), v.to_vec()))
                            .collect()
                    })
                }),
            );
            snap
        }
    })
    .await;
    Ok(with_attributes
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect())
}

/// A snapshot's sharing attributes from its attributes answer (`None`: the answer held no
/// attributes result, which is an error, never "shared with nobody").
fn sharing(
    ctx: &Caller,
    op: &str,
    id: &str,
    answer: Result<Option<BTreeMap<String, Vec<String>>>, CollectError>,
) -> Observed<BTreeMap<String, Vec<String>>> {
    match answer {
        Ok(Some(attributes)) => Observed::present(attributes),
        Ok(None) => Observed::unavailable(ctx.error(
            op,
            ErrorKind::Other,
            format!("the answer for {id} held no attributes"),
        )),
        Err(e) => Observed::unavailable(e),
    }
}

/// Manual snapshots, then each one's sharing attributes (no batch call exists for those).
async fn snapshots(ctx: &Caller, c: &Client) -> Result<BTreeMap<String, DbSnapshot>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_DB_SNAPSHOTS,
        c.describe_db_snapshots()
            .snapshot_type("manual")
            .max_records(100)
            .into_paginator()
            .send()
    )?;
    let found: Vec<DbSnapshot> = pages
        .iter()
        .flat_map(|p| p.db_snapshots())
        .filter_map(|s| {
            Some(DbSnapshot {
                id: s.db_snapshot_identifier()?.to_string(),
                arn: s.db_snapshot_arn().map(str::to_string),
                instance_id: s.db_instance_identifier().unwrap_or_default().to_string(),
                cluster_id: None,
                engine: s.engine().map(str::to_string),
                snapshot_type: s.snapshot_type().map(str::to_string),
                status: s.status().map(str::to_string),
                encrypted: s.encrypted(),
                created_at: s.snapshot_create_time().and_then(timestamp),
                source_region: s.source_region().map(str::to_string),
                original_created_at: s.original_snapshot_create_time().and_then(timestamp),
                attributes: Observed::Absent,
            })
        })
        .collect();
    // One attributes call per snapshot (there is no batch form), concurrently.
    let with_attributes = each(found, |mut snap| {
        let (ctx, c) = (ctx.clone(), c.clone());
        async move {
            let call = c
                .describe_db_snapshot_attributes()
                .db_snapshot_identifier(&snap.id)
                .send();
            let answer = ctx.call(DESCRIBE_DB_SNAPSHOT_ATTRIBUTES, call).await;
            snap.attributes = sharing(
                &ctx,
                DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
                &snap.id,
                answer.map(|r| {
                    r.db_snapshot_attributes_result().map(|a| {
                        a.db_snapshot_attributes()
                            .iter()
                            .filter_map(|a| Some((a.attribute_name()?, a.attribute_values())))
                            .map(|(n, v)| (n.to_string(), v.to_vec()))
                            .collect()
                    })
                }),
            );
            snap
        }
    })
    .await;
    Ok(with_attributes
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect())
}
