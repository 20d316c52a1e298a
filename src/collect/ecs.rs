//! ECS collector: clusters, their services and the services' awsvpc network
//! configuration (subnets and security groups of the API's tasks).

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_ecs::types::AssignPublicIp;
use aws_sdk_ecs::Client;

use super::{each, Caller};
use crate::inventory::ecs::{AwsVpcConfig, Cluster, Ecs, EcsService, LogTarget, TaskDefinition};
use crate::inventory::ecs::{
    DESCRIBE_SERVICES, DESCRIBE_TASK_DEFINITION, LIST_CLUSTERS, LIST_SERVICES,
};
use crate::inventory::{CollectError, ErrorKind, Observed};
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[
    LIST_CLUSTERS,
    LIST_SERVICES,
    DESCRIBE_SERVICES,
    DESCRIBE_TASK_DEFINITION,
];

/// DescribeServices takes at most this many services per call.
const DESCRIBE_BATCH: usize = 10;

pub async fn collect(ctx: &Caller, cfg: &SdkConfig) -> Ecs {
    let conf = aws_sdk_ecs::config::Builder::from(cfg)
        .region(aws_sdk_ecs::config::Region::new(ctx.region.clone()))
        .build();
    let c = Client::from_conf(conf);
    let arns = match paginate!(
        ctx,
        LIST_CLUSTERS,
        c.list_clusters().max_results(100).into_paginator().send()
    ) {
        Ok(pages) => pages
            .iter()
            .flat_map(|p| p.cluster_arns().iter().cloned())
            .collect::<Vec<_>>(),
        Err(e) => {
            return Ecs {
                clusters: Observed::unavailable(e.clone()),
                task_definitions: Observed::unavailable(e),
            }
        }
    };
    let clusters = each(arns, |arn| {
        let (ctx, c) = (ctx.clone(), c.clone());
        async move {
            let name = arn.rsplit('/').next().unwrap_or(&arn).to_string();
            let services = match services(&ctx, &c, &arn).await {
                Ok(s) => Observed::present(s),
                Err(e) => Observed::unavailable(e),
            };
            (
                arn.clone(),
                Cluster {
                    arn,
                    name,
                    services,
                },
            )
        }
    })
    .await;
    let clusters: BTreeMap<String, Cluster> = clusters.into_iter().collect();
    let task_definitions = task_definitions(ctx, &c, &clusters).await;
    Ecs {
        clusters: Observed::present(clusters),
        task_definitions,
    }
}

async fn services(
    ctx: &Caller,
    c: &Client,
    cluster: &str,
) -> Result<BTreeMap<String, EcsService>, CollectError> {
    let arns: Vec<String> = paginate!(
        ctx,
        LIST_SERVICES,
        c.list_services()
            .cluster(cluster)
            .max_results(100)
            .into_paginator()
            .send()
    )?
    .iter()
    .flat_map(|p| p.service_arns().iter().cloned())
    .collect();
    let mut out = BTreeMap::new();
    for batch in arns.chunks(DESCRIBE_BATCH) {
        let resp = ctx
            .call(
                DESCRIBE_SERVICES,
                c.describe_services()
                    .cluster(cluster)
                    .set_services(Some(batch.to_vec()))
                    .send(),
            )
            .await?;
        // A service listed a moment ago and now MISSING was deleted in between; any other
        // failure (a per-resource denial, say) means a service we cannot see.
        if let Some(f) = resp
            .failures()
            .iter()
            .find(|f| f.reason() != Some("MISSING"))
        {
            let reason = f.reason().unwrap_or("unknown");
            let kind = if reason.to_ascii_lowercase().contains("denied") {
                ErrorKind::AccessDenied
            } else {
                ErrorKind::Other
            };
            return Err(ctx.error(
                DESCRIBE_SERVICES,
                kind,
                format!(
                    "{} could not be described: {reason}{}",
                    f.arn().unwrap_or("a service"),
                    f.detail().map(|d| format!(" ({d})")).unwrap_or_default()
                ),
            ));
        }
        for s in resp.services() {
            let Some(arn) = s.service_arn() else { continue };
            let network = s
                .network_configuration()
                .and_then(|n| n.awsvpc_configuration())
                .map(|a| AwsVpcConfig {
                    subnets: a.subnets().to_vec(),
                    security_groups: a.security_groups().to_vec(),
                    assign_public_ip: a.assign_public_ip() == Some(&AssignPublicIp::Enabled),
                });
            out.insert(
                arn.to_string(),
                EcsService {
                    arn: arn.to_string(),
                    name: s.service_name().unwrap_or_default().to_string(),
                    cluster_arn: s.cluster_arn().unwrap_or(cluster).to_string(),
                    status: s.status().map(str::to_string),
                    launch_type: s.launch_type().map(|l| l.as_str().to_string()),
                    network,
                    task_definition: s.task_definition().map(str::to_string),
                    scheduling_strategy: s.scheduling_strategy().map(|x| x.as_str().to_string()),
                },
            );
        }
    }
    Ok(out)
}

/// The task definitions the services run: DescribeTaskDefinition has no batch form, so one
/// call per distinct definition, concurrently. Unavailable as a whole if any cluster's
/// services or any definition could not be read.
async fn task_definitions(
    ctx: &Caller,
    c: &Client,
    clusters: &BTreeMap<String, Cluster>,
) -> Observed<BTreeMap<String, TaskDefinition>> {
    let mut arns = std::collections::BTreeSet::new();
    for cluster in clusters.values() {
        match &cluster.services {
            Observed::Present { value } => {
                arns.extend(value.values().filter_map(|s| s.task_definition.clone()))
            }
            Observed::Unavailable { error } => return Observed::unavailable(error.clone()),
            Observed::Absent => {}
        }
    }
    let results = each(arns.into_iter().collect(), |arn| {
        let (ctx, c) = (ctx.clone(), c.clone());
        async move {
            let r = ctx
                .call(
                    DESCRIBE_TASK_DEFINITION,
                    c.describe_task_definition().task_definition(&arn).send(),
                )
                .await?;
            let Some(t) = r.task_definition() else {
                return Err(ctx.error(
                    DESCRIBE_TASK_DEFINITION,
                    ErrorKind::Other,
                    format!("{arn} was not returned"),
                ));
            };
            let mut log_groups: Vec<LogTarget> = t
                .container_definitions()
                .iter()
                .filter_map(|cd| {
                    let lc = cd.log_configuration()?;
                    if lc.log_driver().as_str() != "awslogs" {
                        return None;
                    }
                    let opts = lc.options()?;
                    Some(LogTarget {
                        container: cd.name().unwrap_or_default().to_string(),
                        group: opts.get("awslogs-group")?.clone(),
                        region: opts.get("awslogs-region").cloned(),
                    })
                })
                .collect();
            log_groups.sort();
            let mut secrets: Vec<String> = t
                .container_definitions()
                .iter()
                .flat_map(|cd| cd.secrets())
                .map(|s| s.value_from().to_string())
                .collect();
            secrets.sort();
            secrets.dedup();
            Ok((
                arn.clone(),
                TaskDefinition {
                    arn,
                    family: t.family().unwrap_or_default().to_string(),
                    execution_role_arn: t.execution_role_arn().map(str::to_string),
                    task_role_arn: t.task_role_arn().map(str::to_string),
                    log_groups,
                    secrets,
                },
            ))
        }
    })
    .await;
    match results
        .into_iter()
        .collect::<Result<BTreeMap<_, _>, CollectError>>()
    {
        Ok(m) => Observed::present(m),
        Err(e) => Observed::unavailable(e),
    }
}
