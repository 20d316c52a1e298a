//! CloudWatch Logs collector: the log groups the ECS task definitions write to, one
//! prefix query per group (listing every group of an account would be far larger).

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_cloudwatchlogs::Client;

use super::{each, Caller};
use crate::inventory::ecs::Ecs;
use crate::inventory::logs::DESCRIBE_LOG_GROUPS;
use crate::inventory::logs::{LogGroup, Logs};
use crate::inventory::{CollectError, Observed};
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[DESCRIBE_LOG_GROUPS];

/// The log groups in `region` the ECS task definitions write to, sorted; or why they are
/// unknown.
pub fn groups_in_use(ecs: &Ecs, region: &str) -> Result<Vec<String>, CollectError> {
    let defs = ecs.task_definitions.get().map_err(Clone::clone)?;
    let mut names: Vec<String> = defs
        .into_iter()
        .flat_map(|d| d.values())
        .flat_map(|d| &d.log_groups)
        .filter(|l| l.region.as_deref().is_none_or(|r| r == region))
        .map(|l| l.group.clone())
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Reads the log groups `names` (from [`groups_in_use`]); if those are unknown, so are
/// the groups.
pub async fn collect(
    ctx: &Caller,
    cfg: &SdkConfig,
    names: Result<Vec<String>, CollectError>,
) -> Logs {
    let names = match names {
        Ok(n) => n,
        Err(e) => {
            return Logs {
                log_groups: Observed::unavailable(e),
            }
        }
    };
    let conf = aws_sdk_cloudwatchlogs::config::Builder::from(cfg)
        .region(aws_sdk_cloudwatchlogs::config::Region::new(
            ctx.region.clone(),
        ))
        .build();
    let c = Client::from_conf(conf);
    let found = each(names, |name| {
        let (ctx, c) = (ctx.clone(), c.clone());
        async move {
            let pages = paginate!(
                ctx,
                DESCRIBE_LOG_GROUPS,
                c.describe_log_groups()
                    .log_group_name_prefix(&name)
                    .limit(50)
                    .into_paginator()
                    .send()
            );
            pages.map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.log_groups())
                    .find(|g| g.log_group_name() == Some(name.as_str()))
                    .map(|g| LogGroup {
                        name: name.clone(),
                        arn: g.arn().map(str::to_string),
                        retention_days: g.retention_in_days(),
                    })
            })
        }
    })
    .await;
    let mut groups = BTreeMap::new();
    let mut failed: Option<CollectError> = None;
    for r in found {
        match r {
            Ok(Some(g)) => {
                groups.insert(g.name.clone(), g);
            }
            Ok(None) => {}
            Err(e) => failed = Some(e),
        }
    }
    Logs {
        log_groups: match failed {
            // One group unreadable: which others exist is known, but a missing one could
            // be that one; the whole answer is unavailable rather than partly wrong.
            Some(e) => Observed::unavailable(e),
            None => Observed::present(groups),
        },
    }
}
