//! RDS collector: DB instances (their subnet group, security groups and parameter groups
//! come with them), the parameters of the groups in use, and manual snapshots with their
//! sharing attributes.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use aws_sdk_rds::Client;

use super::{each, tag_map, timestamp, Caller};
use crate::inventory::rds::*;
use crate::inventory::rds::{
    DESCRIBE_DB_INSTANCES, DESCRIBE_DB_PARAMETERS, DESCRIBE_DB_SNAPSHOTS,
    DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
};
use crate::inventory::{CollectError, Observed};
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[
    DESCRIBE_DB_INSTANCES,
    DESCRIBE_DB_PARAMETERS,
    DESCRIBE_DB_SNAPSHOTS,
    DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
];

pub async fn collect(ctx: &Caller, cfg: &SdkConfig) -> Rds {
    let conf = aws_sdk_rds::config::Builder::from(cfg)
        .region(aws_sdk_rds::config::Region::new(ctx.region.clone()))
        .build();
    let c = Client::from_conf(conf);
    let (instances, snapshots) = tokio::join!(instances(ctx, &c), snapshots(ctx, &c));
    let parameter_groups = match &instances {
        Err(e) => Observed::unavailable(e.clone()),
        Ok(dbs) => {
            let names: BTreeSet<&str> = dbs
                .values()
                .flat_map(|d| &d.parameter_groups)
                .map(|g| g.name.as_str())
                .collect();
            let names: Vec<String> = names.into_iter().map(str::to_string).collect();
            let groups = each(names, |name| {
                let (ctx, c) = (ctx.clone(), c.clone());
                async move {
                    let parameters = match parameters(&ctx, &c, &name).await {
                        Ok(p) => Observed::present(p),
                        Err(e) => Observed::unavailable(e),
                    };
                    (name.clone(), ParameterGroup { name, parameters })
                }
            })
            .await;
            Observed::present(groups.into_iter().collect())
        }
    };
    Rds {
        instances: match instances {
            Ok(v) => Observed::present(v),
            Err(e) => Observed::unavailable(e),
        },
        parameter_groups,
        snapshots: match snapshots {
            Ok(v) => Observed::present(v),
            Err(e) => Observed::unavailable(e),
        },
    }
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
                    multi_az: d.multi_az().unwrap_or(false),
                    allocated_storage_gb: d.allocated_storage().unwrap_or(0),
                    max_allocated_storage_gb: d.max_allocated_storage(),
                    storage_type: d.storage_type().map(str::to_string),
                    storage_encrypted: d.storage_encrypted().unwrap_or(false),
                    deletion_protection: d.deletion_protection().unwrap_or(false),
                    backup_retention_days: d.backup_retention_period().unwrap_or(0),
                    monitoring_interval: d.monitoring_interval().unwrap_or(0),
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
    Ok(pages
        .iter()
        .flat_map(|p| p.parameters())
        .filter_map(|p| {
            Some((
                p.parameter_name()?.to_string(),
                Parameter {
                    value: p.parameter_value().map(str::to_string),
                    source: p.source().map(str::to_string),
                },
            ))
        })
        .collect())
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
                snapshot_type: s.snapshot_type().map(str::to_string),
                status: s.status().map(str::to_string),
                encrypted: s.encrypted().unwrap_or(false),
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
            snap.attributes = match ctx.call(DESCRIBE_DB_SNAPSHOT_ATTRIBUTES, call).await {
                Ok(r) => Observed::present(
                    r.db_snapshot_attributes_result()
                        .map(|a| {
                            a.db_snapshot_attributes()
                                .iter()
                                .filter_map(|a| {
                                    Some((
                                        a.attribute_name()?.to_string(),
                                        a.attribute_values().to_vec(),
                                    ))
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                Err(e) => Observed::unavailable(e),
            };
            snap
        }
    })
    .await;
    Ok(with_attributes
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect())
}
