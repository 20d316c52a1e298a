//! ELBv2 collector: load balancers, to find the internet-facing ALB, its subnets and its
//! security groups.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_elasticloadbalancingv2::Client;

use super::Ctx;
use crate::inventory::elbv2::{Elbv2, LbSubnet, LoadBalancer};
use crate::inventory::Observed;
use crate::paginate;

pub const DESCRIBE_LOAD_BALANCERS: &str = "elasticloadbalancing:DescribeLoadBalancers";

pub async fn collect(ctx: &Ctx, cfg: &SdkConfig) -> Elbv2 {
    let conf = aws_sdk_elasticloadbalancingv2::config::Builder::from(cfg)
        .region(aws_sdk_elasticloadbalancingv2::config::Region::new(
            ctx.region.clone(),
        ))
        .build();
    let c = Client::from_conf(conf);
    let pages = paginate!(
        ctx,
        DESCRIBE_LOAD_BALANCERS,
        c.describe_load_balancers()
            .page_size(400)
            .into_paginator()
            .send()
    );
    let load_balancers = match pages {
        Err(e) => Observed::unavailable(e),
        Ok(pages) => Observed::present(
            pages
                .iter()
                .flat_map(|p| p.load_balancers())
                .filter_map(|lb| {
                    let arn = lb.load_balancer_arn()?.to_string();
                    Some((
                        arn.clone(),
                        LoadBalancer {
                            arn,
                            name: lb.load_balancer_name().unwrap_or_default().to_string(),
                            lb_type: lb
                                .r#type()
                                .map(|t| t.as_str().to_string())
                                .unwrap_or_default(),
                            scheme: lb
                                .scheme()
                                .map(|s| s.as_str().to_string())
                                .unwrap_or_default(),
                            vpc_id: lb.vpc_id().map(str::to_string),
                            dns_name: lb.dns_name().map(str::to_string),
                            state: lb
                                .state()
                                .and_then(|s| s.code())
                                .map(|c| c.as_str().to_string()),
                            security_groups: lb.security_groups().to_vec(),
                            subnets: lb
                                .availability_zones()
                                .iter()
                                .filter_map(|az| {
                                    Some(LbSubnet {
                                        subnet_id: az.subnet_id()?.to_string(),
                                        availability_zone: az
                                            .zone_name()
                                            .unwrap_or_default()
                                            .to_string(),
                                    })
                                })
                                .collect(),
                        },
                    ))
                })
                .collect::<BTreeMap<_, _>>(),
        ),
    };
    Elbv2 { load_balancers }
}
