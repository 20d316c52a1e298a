//! ELBv2 collector: load balancers; per load balancer its listeners (the API takes one load
//! balancer per call); per HTTPS listener its certificates, per HTTP listener its rules
//! (which could bypass the redirect); and, in one call, the TLS security policies in use.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use aws_sdk_elasticloadbalancingv2::types as t;
use aws_sdk_elasticloadbalancingv2::Client;

use super::{each, Caller};
use crate::inventory::elbv2::{
    Action, Elbv2, LbSubnet, Listener, ListenerCertificate, ListenerRule, LoadBalancer, Redirect,
};
use crate::inventory::elbv2::{
    DESCRIBE_LISTENERS, DESCRIBE_LISTENER_CERTIFICATES, DESCRIBE_LOAD_BALANCERS, DESCRIBE_RULES,
    DESCRIBE_SSL_POLICIES,
};
use crate::inventory::Observed;
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[
    DESCRIBE_LOAD_BALANCERS,
    DESCRIBE_LISTENERS,
    DESCRIBE_LISTENER_CERTIFICATES,
    DESCRIBE_RULES,
    DESCRIBE_SSL_POLICIES,
];

pub async fn collect(ctx: &Caller, cfg: &SdkConfig) -> Elbv2 {
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
    let pages = match pages {
        Err(e) => {
            return Elbv2 {
                load_balancers: Observed::unavailable(e.clone()),
                ssl_policies: Observed::unavailable(e),
            }
        }
        Ok(p) => p,
    };
    let lbs: Vec<LoadBalancer> = pages
        .iter()
        .flat_map(|p| p.load_balancers())
        .filter_map(load_balancer)
        .collect();
    let lbs = each(lbs, |mut lb| {
        let (ctx, c) = (ctx.clone(), c.clone());
        async move {
            lb.listeners = listeners(&ctx, &c, &lb.arn).await;
            lb
        }
    })
    .await;
    let in_use: BTreeSet<String> = lbs
        .iter()
        .filter_map(|lb| lb.listeners.get().ok().flatten())
        .flatten()
        .filter(|l| l.is_https() || l.protocol.as_deref() == Some("TLS"))
        .filter_map(|l| l.ssl_policy.clone())
        .collect();
    let ssl_policies = if in_use.is_empty() {
        Observed::present(BTreeMap::new())
    } else {
        ssl_policies(ctx, &c, in_use.into_iter().collect()).await
    };
    Elbv2 {
        load_balancers: Observed::present(lbs.into_iter().map(|l| (l.arn.clone(), l)).collect()),
        ssl_policies,
    }
}

/// The TLS versions of the security policies `names`, in one call; if the endpoint does not
/// know one of them (a predefined policy newer than the region, or a custom one gone), one
/// call per name, leaving out the ones it does not know (the rule then looks them up in
/// AWS's published table, or says it cannot judge them).
async fn ssl_policies(
    ctx: &Caller,
    c: &Client,
    names: Vec<String>,
) -> Observed<BTreeMap<String, Vec<String>>> {
    let protocols = |out: &aws_sdk_elasticloadbalancingv2::operation::describe_ssl_policies::DescribeSslPoliciesOutput| {
        out.ssl_policies()
            .iter()
            .filter_map(|p| {
                let mut protocols: Vec<String> =
                    p.ssl_protocols().iter().map(|v| v.to_string()).collect();
                protocols.sort();
                Some((p.name()?.to_string(), protocols))
            })
            .collect::<Vec<_>>()
    };
    let unknown = |e: &aws_sdk_elasticloadbalancingv2::operation::describe_ssl_policies::DescribeSSLPoliciesError| {
        e.is_ssl_policy_not_found_exception()
    };
    let all = ctx
        .call_or_absent(
            DESCRIBE_SSL_POLICIES,
            c.describe_ssl_policies()
                .set_names(Some(names.clone()))
                .send(),
            unknown,
        )
        .await;
    match all {
        Err(e) => Observed::unavailable(e),
        Ok(Some(out)) => Observed::present(protocols(&out).into_iter().collect()),
        Ok(None) => {
            let each_one = each(names, |name| {
                let (ctx, c) = (ctx.clone(), c.clone());
                async move {
                    ctx.call_or_absent(
                        DESCRIBE_SSL_POLICIES,
                        c.describe_ssl_policies().names(name).send(),
                        unknown,
                    )
                    .await
                }
            })
            .await;
            let mut found = BTreeMap::new();
            for r in each_one {
                match r {
                    Err(e) => return Observed::unavailable(e),
                    Ok(Some(out)) => found.extend(protocols(&out)),
                    Ok(None) => {}
                }
            }
            Observed::present(found)
        }
    }
}

fn load_balancer(lb: &t::LoadBalancer) -> Option<LoadBalancer> {
    Some(LoadBalancer {
        arn: lb.load_balancer_arn()?.to_string(),
        name: lb.load_balancer_name().unwrap_or_default().to_string(),
        lb_type: lb.r#type().map(|t| t.as_str().to_string()),
        scheme: lb.scheme().map(|s| s.as_str().to_string()),
        vpc_id: lb.vpc_id().map(str::to_string),
        dns_name: lb.dns_name().map(|d| d.to_ascii_lowercase()),
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
                    availability_zone: az.zone_name().unwrap_or_default().to_string(),
                })
            })
            .collect(),
        listeners: Observed::Absent,
    })
}

async fn listeners(ctx: &Caller, c: &Client, lb: &str) -> Observed<Vec<Listener>> {
    let pages = match paginate!(
        ctx,
        DESCRIBE_LISTENERS,
        c.describe_listeners()
            .load_balancer_arn(lb)
            .page_size(400)
            .into_paginator()
            .send()
    ) {
        Err(e) => return Observed::unavailable(e),
        Ok(p) => p,
    };
    let found: Vec<Listener> = pages
        .iter()
        .flat_map(|p| p.listeners())
        .filter_map(|l| {
            let protocol = l.protocol().map(|p| p.as_str().to_string());
            let secure = matches!(protocol.as_deref(), Some("HTTPS" | "TLS"));
            Some(Listener {
                arn: l.listener_arn()?.to_string(),
                port: l.port(),
                // Only HTTPS and TLS listeners have a security policy (an emulator may
                // report one on plain HTTP).
                ssl_policy: l.ssl_policy().filter(|_| secure).map(str::to_string),
                default_actions: actions(l.default_actions()),
                certificates: None,
                rules: None,
                protocol,
            })
        })
        .collect();
    let found = each(found, |mut l| {
        let (ctx, c) = (ctx.clone(), c.clone());
        async move {
            if matches!(l.protocol.as_deref(), Some("HTTPS" | "TLS")) {
                l.certificates = Some(certificates(&ctx, &c, &l.arn).await);
            }
            if l.is_http() {
                l.rules = Some(rules(&ctx, &c, &l.arn).await);
            }
            l
        }
    })
    .await;
    Observed::present(found)
}

async fn certificates(
    ctx: &Caller,
    c: &Client,
    listener: &str,
) -> Observed<Vec<ListenerCertificate>> {
    match paginate!(
        ctx,
        DESCRIBE_LISTENER_CERTIFICATES,
        c.describe_listener_certificates()
            .listener_arn(listener)
            .page_size(400)
            .into_paginator()
            .send()
    ) {
        Err(e) => Observed::unavailable(e),
        Ok(pages) => Observed::present(
            pages
                .iter()
                .flat_map(|p| p.certificates())
                .filter_map(|cert| {
                    Some(ListenerCertificate {
                        arn: cert.certificate_arn()?.to_string(),
                        is_default: cert.is_default().unwrap_or(false),
                    })
                })
                .collect(),
        ),
    }
}

async fn rules(ctx: &Caller, c: &Client, listener: &str) -> Observed<Vec<ListenerRule>> {
    match paginate!(
        ctx,
        DESCRIBE_RULES,
        c.describe_rules()
            .listener_arn(listener)
            .page_size(400)
            .into_paginator()
            .send()
    ) {
        Err(e) => Observed::unavailable(e),
        Ok(pages) => Observed::present(
            pages
                .iter()
                .flat_map(|p| p.rules())
                .filter_map(|r| {
                    Some(ListenerRule {
                        arn: r.rule_arn()?.to_string(),
                        priority: r.priority().map(str::to_string),
                        is_default: r.is_default().unwrap_or(false),
                        actions: actions(r.actions()),
                        conditions: r.conditions().iter().map(condition).collect(),
                    })
                })
                .collect(),
        ),
    }
}

fn condition(c: &t::RuleCondition) -> String {
    let mut values: Vec<String> = c.values().to_vec();
    if let Some(p) = c.path_pattern_config() {
        values.extend(p.values().iter().cloned());
    }
    if let Some(h) = c.host_header_config() {
        values.extend(h.values().iter().cloned());
    }
    format!(
        "{}: {}",
        c.field().unwrap_or("condition"),
        values.join(", ")
    )
}

fn actions(list: &[t::Action]) -> Vec<Action> {
    let mut out: Vec<Action> = list
        .iter()
        .map(|a| Action {
            action_type: a
                .r#type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            order: a.order(),
            redirect: a.redirect_config().map(|r| Redirect {
                protocol: r.protocol().map(str::to_string),
                port: r.port().map(str::to_string),
                host: r.host().map(str::to_string),
                path: r.path().map(str::to_string),
                query: r.query().map(str::to_string),
                status_code: r.status_code().map(|s| s.as_str().to_string()),
            }),
            fixed_status: a
                .fixed_response_config()
                .and_then(|f| f.status_code())
                .map(str::to_string),
        })
        .collect();
    out.sort();
    out
}
