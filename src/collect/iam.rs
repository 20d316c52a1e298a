//! IAM collector: one paginated GetAccountAuthorizationDetails for every role, user,
//! group and customer-managed policy with its documents, then GetPolicy and
//! GetPolicyVersion only for the AWS-managed policies actually attached to something.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use aws_sdk_iam::types::{AttachedPolicy as SdkAttached, EntityType, PolicyDetail};
use aws_sdk_iam::Client;

use super::{each, Caller};
use crate::inventory::iam::*;
use crate::inventory::iam::{GET_ACCOUNT_AUTHORIZATION_DETAILS, GET_POLICY, GET_POLICY_VERSION};
use crate::inventory::{CollectError, ErrorKind, Observed};
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[
    GET_ACCOUNT_AUTHORIZATION_DETAILS,
    GET_POLICY,
    GET_POLICY_VERSION,
];

/// Decodes a policy document: AWS sends them URL-encoded (RFC 3986); some emulators send
/// raw JSON. Either way, the result is parsed JSON or the reason it is not.
pub fn decode_document(raw: &str) -> Result<serde_json::Value, String> {
    let text = if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        percent_decode(raw)?
    };
    serde_json::from_str(&text).map_err(|e| format!("the policy document is not JSON: {e}"))
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-escape at byte {i}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the decoded document is not UTF-8".into())
}

fn document(raw: Option<&str>, source: &str, ctx: &Caller) -> Observed<serde_json::Value> {
    match raw.map(decode_document) {
        None => Observed::Absent,
        Some(Ok(v)) => Observed::present(v),
        Some(Err(e)) => Observed::unavailable(ctx.error(source, ErrorKind::Other, e)),
    }
}

fn attached(list: &[SdkAttached]) -> Vec<AttachedPolicy> {
    list.iter()
        .filter_map(|p| {
            Some(AttachedPolicy {
                name: p.policy_name()?.to_string(),
                arn: p.policy_arn()?.to_string(),
            })
        })
        .collect()
}

fn inline(list: &[PolicyDetail], ctx: &Caller) -> BTreeMap<String, Observed<serde_json::Value>> {
    list.iter()
        .filter_map(|p| {
            Some((
                p.policy_name()?.to_string(),
                document(p.policy_document(), GET_ACCOUNT_AUTHORIZATION_DETAILS, ctx),
            ))
        })
        .collect()
}

pub async fn collect(ctx: &Caller, cfg: &SdkConfig) -> Iam {
    let c = Client::new(cfg);
    let pages = paginate!(
        ctx,
        GET_ACCOUNT_AUTHORIZATION_DETAILS,
        c.get_account_authorization_details()
            .filter(EntityType::Role)
            .filter(EntityType::User)
            .filter(EntityType::Group)
            .filter(EntityType::LocalManagedPolicy)
            .max_items(1000)
            .into_paginator()
            .send()
    );
    let pages = match pages {
        Ok(p) => p,
        Err(e) => {
            return Iam {
                roles: Observed::unavailable(e.clone()),
                users: Observed::unavailable(e.clone()),
                groups: Observed::unavailable(e.clone()),
                policies: Observed::unavailable(e),
            }
        }
    };
    let mut roles = BTreeMap::new();
    let mut users = BTreeMap::new();
    let mut groups = BTreeMap::new();
    let mut policies = BTreeMap::new();
    for page in &pages {
        for r in page.role_detail_list() {
            let (Some(name), Some(arn)) = (r.role_name(), r.arn()) else {
                continue;
            };
            roles.insert(
                name.to_string(),
                Role {
                    name: name.to_string(),
                    arn: arn.to_string(),
                    trust: document(
                        r.assume_role_policy_document(),
                        GET_ACCOUNT_AUTHORIZATION_DETAILS,
                        ctx,
                    ),
                    attached: attached(r.attached_managed_policies()),
                    inline: inline(r.role_policy_list(), ctx),
                },
            );
        }
        for u in page.user_detail_list() {
            let (Some(name), Some(arn)) = (u.user_name(), u.arn()) else {
                continue;
            };
            users.insert(
                name.to_string(),
                User {
                    name: name.to_string(),
                    arn: arn.to_string(),
                    groups: u.group_list().to_vec(),
                    attached: attached(u.attached_managed_policies()),
                    inline: inline(u.user_policy_list(), ctx),
                },
            );
        }
        for g in page.group_detail_list() {
            let (Some(name), Some(arn)) = (g.group_name(), g.arn()) else {
                continue;
            };
            groups.insert(
                name.to_string(),
                Group {
                    name: name.to_string(),
                    arn: arn.to_string(),
                    attached: attached(g.attached_managed_policies()),
                    inline: inline(g.group_policy_list(), ctx),
                },
            );
        }
        for p in page.policies() {
            let (Some(name), Some(arn)) = (p.policy_name(), p.arn()) else {
                continue;
            };
            let default = p.default_version_id().map(str::to_string);
            let doc = p
                .policy_version_list()
                .iter()
                .find(|v| v.is_default_version() || v.version_id() == default.as_deref())
                .and_then(|v| v.document());
            policies.insert(
                arn.to_string(),
                ManagedPolicy {
                    arn: arn.to_string(),
                    name: name.to_string(),
                    default_version: default,
                    document: document(doc, GET_ACCOUNT_AUTHORIZATION_DETAILS, ctx),
                },
            );
        }
    }
    // AWS-managed policies are not in the details unless asked for all of them (over a
    // thousand); read just the attached ones.
    let attached_aws: BTreeSet<(String, String)> = roles
        .values()
        .flat_map(|r| &r.attached)
        .chain(users.values().flat_map(|u| &u.attached))
        .chain(groups.values().flat_map(|g| &g.attached))
        .filter(|p| !policies.contains_key(&p.arn))
        .map(|p| (p.arn.clone(), p.name.clone()))
        .collect();
    let fetched = each(attached_aws.into_iter().collect(), |(arn, name)| {
        let (ctx, c) = (ctx.clone(), c.clone());
        async move {
            let policy = aws_managed(&ctx, &c, &arn, &name).await;
            (arn, policy)
        }
    })
    .await;
    policies.extend(fetched);
    Iam {
        roles: Observed::present(roles),
        users: Observed::present(users),
        groups: Observed::present(groups),
        policies: Observed::present(policies),
    }
}

async fn aws_managed(ctx: &Caller, c: &Client, arn: &str, name: &str) -> ManagedPolicy {
    let mut policy = ManagedPolicy {
        arn: arn.to_string(),
        name: name.to_string(),
        default_version: None,
        document: Observed::Absent,
    };
    let version = match ctx
        .call(GET_POLICY, c.get_policy().policy_arn(arn).send())
        .await
    {
        Ok(r) => r
            .policy()
            .and_then(|p| p.default_version_id())
            .map(str::to_string),
        Err(e) => {
            policy.document = Observed::unavailable(e);
            return policy;
        }
    };
    let Some(version) = version else {
        policy.document = Observed::unavailable(CollectError {
            source: GET_POLICY.into(),
            region: Some(ctx.region.clone()),
            kind: ErrorKind::Other,
            message: format!("{arn} has no default version"),
        });
        return policy;
    };
    policy.default_version = Some(version.clone());
    policy.document = match ctx
        .call(
            GET_POLICY_VERSION,
            c.get_policy_version()
                .policy_arn(arn)
                .version_id(version)
                .send(),
        )
        .await
    {
        Ok(r) => document(
            r.policy_version().and_then(|v| v.document()),
            GET_POLICY_VERSION,
            ctx,
        ),
        Err(e) => Observed::unavailable(e),
    };
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_url_encoded_and_raw_documents() {
        let encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%5D%7D";
        assert_eq!(decode_document(encoded).unwrap()["Version"], "2012-10-17");
        assert_eq!(
            decode_document("{\"Statement\": []}").unwrap()["Statement"],
            serde_json::json!([])
        );
        assert!(decode_document("%7").is_err());
        assert!(decode_document("%7Bnot json").is_err());
    }
}
