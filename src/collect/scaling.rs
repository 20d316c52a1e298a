//! Application Auto Scaling collector: the ECS namespace's scalable targets and policies.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use aws_sdk_applicationautoscaling::Client;

use super::Caller;
use crate::inventory::scaling::{ScalableTarget, Scaling, ScalingPolicy, Suspended};
use crate::inventory::scaling::{DESCRIBE_SCALABLE_TARGETS, DESCRIBE_SCALING_POLICIES};
use crate::inventory::Observed;
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[DESCRIBE_SCALABLE_TARGETS, DESCRIBE_SCALING_POLICIES];

pub async fn collect(ctx: &Caller, cfg: &SdkConfig) -> Scaling {
    let conf = aws_sdk_applicationautoscaling::config::Builder::from(cfg)
        .region(aws_sdk_applicationautoscaling::config::Region::new(
            ctx.region.clone(),
        ))
        .build();
    let c = Client::from_conf(conf);
    let (targets, policies) = tokio::join!(
        async {
            paginate!(
                ctx,
                DESCRIBE_SCALABLE_TARGETS,
                c.describe_scalable_targets()
                    .service_namespace(ServiceNamespace::Ecs)
                    .max_results(50)
                    .into_paginator()
                    .send()
            )
        },
        async {
            paginate!(
                ctx,
                DESCRIBE_SCALING_POLICIES,
                c.describe_scaling_policies()
                    .service_namespace(ServiceNamespace::Ecs)
                    .max_results(50)
                    .into_paginator()
                    .send()
            )
        }
    );
    Scaling {
        targets: match targets {
            Err(e) => Observed::unavailable(e),
            Ok(pages) => Observed::present(
                pages
                    .iter()
                    .flat_map(|p| p.scalable_targets())
                    .map(|t| {
                        (
                            t.resource_id().to_string(),
                            ScalableTarget {
                                resource_id: t.resource_id().to_string(),
                                dimension: t.scalable_dimension().as_str().to_string(),
                                min_capacity: t.min_capacity(),
                                max_capacity: t.max_capacity(),
                                suspended: t.suspended_state().map(|s| Suspended {
                                    dynamic_in: s.dynamic_scaling_in_suspended(),
                                    dynamic_out: s.dynamic_scaling_out_suspended(),
                                    scheduled: s.scheduled_scaling_suspended(),
                                }),
                            },
                        )
                    })
                    .collect::<BTreeMap<_, _>>(),
            ),
        },
        policies: match policies {
            Err(e) => Observed::unavailable(e),
            Ok(pages) => {
                let mut v: Vec<ScalingPolicy> = pages
                    .iter()
                    .flat_map(|p| p.scaling_policies())
                    .map(|p| {
                        let tt = p.target_tracking_scaling_policy_configuration();
                        ScalingPolicy {
                            name: p.policy_name().to_string(),
                            resource_id: p.resource_id().to_string(),
                            policy_type: p.policy_type().as_str().to_string(),
                            target_value: tt.map(|t| t.target_value()),
                            metric: tt
                                .and_then(|t| t.predefined_metric_specification())
                                .map(|m| m.predefined_metric_type().as_str().to_string()),
                            disable_scale_in: tt
                                .and_then(|t| t.disable_scale_in())
                                .unwrap_or(false),
                        }
                    })
                    .collect();
                v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
                Observed::present(v)
            }
        },
    }
}
