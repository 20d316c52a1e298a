//! ECS collector: clusters, their services and the services' awsvpc network
//! configuration (subnets and security groups of the API's tasks).

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_ecs::types::AssignPublicIp;
use aws_sdk_ecs::Client;

use super::{each, Ctx};
use crate::inventory::ecs::{AwsVpcConfig, Cluster, Ecs, Service};
use crate::inventory::{CollectError, ErrorKind, Observed};
use crate::paginate;

pub const LIST_CLUSTERS: &str = "ecs:ListClusters";
pub const LIST_SERVICES: &str = "ecs:ListServices";
pub const DESCRIBE_SERVICES: &str = "ecs:DescribeServices";

/// DescribeServices takes at most this many services per call.
const DESCRIBE_BATCH: usize = 10;

pub async fn collect(ctx: &Ctx, cfg: &SdkConfig) -> Ecs {
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
                clusters: Observed::unavailable(e),
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
    Ecs {
        clusters: Observed::present(clusters.into_iter().collect()),
    }
}

async fn services(
    ctx: &Ctx,
    c: &Client,
    cluster: &str,
) -> Result<BTreeMap<String, Service>, CollectError> {
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
                Service {
                    arn: arn.to_string(),
                    name: s.service_name().unwrap_or_default().to_string(),
                    cluster_arn: s.cluster_arn().unwrap_or(cluster).to_string(),
                    status: s.status().map(str::to_string),
                    launch_type: s.launch_type().map(|l| l.as_str().to_string()),
                    network,
                },
            );
        }
    }
    Ok(out)
}
