//! ECR collector: repositories, then per repository (no batch form exists) its lifecycle
//! policy and its images' tags.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_ecr::Client;

use super::{each, timestamp, Caller};
use crate::inventory::ecr::{Ecr, Image, Repository};
use crate::inventory::ecr::{DESCRIBE_IMAGES, DESCRIBE_REPOSITORIES, GET_LIFECYCLE_POLICY};
use crate::inventory::{ErrorKind, Observed};
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[DESCRIBE_REPOSITORIES, GET_LIFECYCLE_POLICY, DESCRIBE_IMAGES];

pub async fn collect(ctx: &Caller, cfg: &SdkConfig) -> Ecr {
    let conf = aws_sdk_ecr::config::Builder::from(cfg)
        .region(aws_sdk_ecr::config::Region::new(ctx.region.clone()))
        .build();
    let c = Client::from_conf(conf);
    let pages = match paginate!(
        ctx,
        DESCRIBE_REPOSITORIES,
        c.describe_repositories()
            .max_results(1000)
            .into_paginator()
            .send()
    ) {
        Ok(p) => p,
        Err(e) => {
            return Ecr {
                repositories: Observed::unavailable(e),
            }
        }
    };
    let found: Vec<Repository> = pages
        .iter()
        .flat_map(|p| p.repositories())
        .filter_map(|r| {
            Some(Repository {
                name: r.repository_name()?.to_string(),
                arn: r.repository_arn()?.to_string(),
                uri: r.repository_uri().map(str::to_string),
                tag_mutability: r.image_tag_mutability().map(|m| m.as_str().to_string()),
                scan_on_push: r.image_scanning_configuration().map(|s| s.scan_on_push()),
                lifecycle_policy: Observed::Absent,
                images: Observed::Absent,
            })
        })
        .collect();
    let repos = each(found, |mut repo| {
        let (ctx, c) = (ctx.clone(), c.clone());
        async move {
            let policy = ctx
                .call_or_absent(
                    GET_LIFECYCLE_POLICY,
                    c.get_lifecycle_policy().repository_name(&repo.name).send(),
                    |e| e.is_lifecycle_policy_not_found_exception(),
                )
                .await;
            repo.lifecycle_policy = match policy {
                Ok(None) => Observed::Absent,
                Ok(Some(r)) => match r.lifecycle_policy_text().map(serde_json::from_str) {
                    Some(Ok(v)) => Observed::present(v),
                    Some(Err(e)) => Observed::unavailable(ctx.error(
                        GET_LIFECYCLE_POLICY,
                        ErrorKind::Other,
                        format!("the lifecycle policy of {} is not JSON: {e}", repo.name),
                    )),
                    None => Observed::Absent,
                },
                Err(e) => Observed::unavailable(e),
            };
            let images = paginate!(
                ctx,
                DESCRIBE_IMAGES,
                c.describe_images()
                    .repository_name(&repo.name)
                    .max_results(1000)
                    .into_paginator()
                    .send()
            );
            repo.images = match images {
                Ok(pages) => {
                    let mut v: Vec<Image> = pages
                        .iter()
                        .flat_map(|p| p.image_details())
                        .map(|d| Image {
                            pushed_at: d.image_pushed_at().and_then(timestamp),
                            tags: d.image_tags().to_vec(),
                        })
                        .collect();
                    v.sort_by(|a, b| b.pushed_at.cmp(&a.pushed_at).then(a.tags.cmp(&b.tags)));
                    Observed::present(v)
                }
                Err(e) => Observed::unavailable(e),
            };
            (repo.name.clone(), repo)
        }
    })
    .await;
    Ecr {
        repositories: Observed::present(repos.into_iter().collect::<BTreeMap<_, _>>()),
    }
}
