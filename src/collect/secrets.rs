//! Secrets Manager collector: ListSecrets only, for names and rotation settings. Secret
//! values are never read (no GetSecretValue anywhere; a test enforces it).

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client;

use super::{timestamp, Caller};
use crate::inventory::secrets::LIST_SECRETS;
use crate::inventory::secrets::{Secret, Secrets};
use crate::inventory::Observed;
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[LIST_SECRETS];

pub async fn collect(ctx: &Caller, cfg: &SdkConfig) -> Secrets {
    let conf = aws_sdk_secretsmanager::config::Builder::from(cfg)
        .region(aws_sdk_secretsmanager::config::Region::new(
            ctx.region.clone(),
        ))
        .build();
    let c = Client::from_conf(conf);
    let secrets = match paginate!(
        ctx,
        LIST_SECRETS,
        c.list_secrets().max_results(100).into_paginator().send()
    ) {
        Err(e) => Observed::unavailable(e),
        Ok(pages) => Observed::present(
            pages
                .iter()
                .flat_map(|p| p.secret_list())
                .filter_map(|s| {
                    let name = s.name()?.to_string();
                    Some((
                        name.clone(),
                        Secret {
                            name,
                            arn: s.arn().map(str::to_string),
                            rotation_enabled: s.rotation_enabled(),
                            rotation_days: s
                                .rotation_rules()
                                .and_then(|r| r.automatically_after_days()),
                            last_rotated: s.last_rotated_date().and_then(timestamp),
                            owning_service: s.owning_service().map(str::to_string),
                        },
                    ))
                })
                .collect::<BTreeMap<_, _>>(),
        ),
    };
    Secrets { secrets }
}
