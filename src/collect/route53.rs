//! Route 53 collector (global, read once): ListHostedZones, then for each zone of the
//! policy's domain (the zone itself, its parents and its subzones) GetHostedZone for the
//! delegation set and ListResourceRecordSets for the records. Other zones are listed but
//! not read: an account may hold hundreds, and no rule looks at them.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_route53::types::RrType;
use aws_sdk_route53::Client;

use super::{each, Caller};
use crate::inventory::route53::{canonical_name, AliasTarget, HostedZone, RecordSet, Route53};
use crate::inventory::route53::{GET_HOSTED_ZONE, LIST_HOSTED_ZONES, LIST_RESOURCE_RECORD_SETS};
use crate::inventory::Observed;
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[
    LIST_HOSTED_ZONES,
    GET_HOSTED_ZONE,
    LIST_RESOURCE_RECORD_SETS,
];

/// Whether zone `zone` can hold names of `domain`, or names of it: the same name, a
/// parent, or a subzone.
pub fn zone_relates(zone: &str, domain: &str) -> bool {
    zone == domain || domain.ends_with(&format!(".{zone}")) || zone.ends_with(&format!(".{domain}"))
}

pub async fn collect(ctx: &Caller, cfg: &SdkConfig, domains: &[String]) -> Route53 {
    let c = Client::new(cfg);
    let pages = match paginate!(
        ctx,
        LIST_HOSTED_ZONES,
        c.list_hosted_zones().max_items(100).into_paginator().send()
    ) {
        Ok(p) => p,
        Err(e) => {
            return Route53 {
                zones: Observed::unavailable(e),
            }
        }
    };
    let zones: Vec<HostedZone> = pages
        .iter()
        .flat_map(|p| p.hosted_zones())
        .map(|z| HostedZone {
            id: z.id().trim_start_matches("/hostedzone/").to_string(),
            name: canonical_name(z.name()),
            private: z.config().is_some_and(|c| c.private_zone()),
            record_count: z.resource_record_set_count(),
            name_servers: None,
            records: None,
        })
        .collect();
    let domains: Vec<String> = domains.iter().map(|d| canonical_name(d)).collect();
    let zones = each(zones, |mut zone| {
        let (ctx, c) = (ctx.clone(), c.clone());
        let wanted = domains.iter().any(|d| zone_relates(&zone.name, d));
        async move {
            if !wanted {
                return zone;
            }
            let (ns, records) = tokio::join!(
                ctx.call(GET_HOSTED_ZONE, c.get_hosted_zone().id(&zone.id).send()),
                records(&ctx, &c, &zone.id)
            );
            zone.name_servers = Some(match ns {
                Err(e) => Observed::unavailable(e),
                Ok(out) => match out.delegation_set() {
                    // A private zone has no delegation set.
                    None => Observed::Absent,
                    Some(d) => Observed::present(
                        d.name_servers().iter().map(|n| canonical_name(n)).collect(),
                    ),
                },
            });
            zone.records = Some(records);
            zone
        }
    })
    .await;
    Route53 {
        zones: Observed::present(
            zones
                .into_iter()
                .map(|z| (z.id.clone(), z))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

/// Every record set of a zone. The API pages by (name, type, identifier), which the SDK
/// has no paginator for.
async fn records(ctx: &Caller, c: &Client, zone: &str) -> Observed<Vec<RecordSet>> {
    let mut out = Vec::new();
    let mut next: Option<(String, RrType, Option<String>)> = None;
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let mut req = c
            .list_resource_record_sets()
            .hosted_zone_id(zone)
            .max_items(300);
        if let Some((name, rtype, id)) = next.take() {
            req = req
                .start_record_name(name)
                .start_record_type(rtype)
                .set_start_record_identifier(id);
        }
        let page = match ctx.call(LIST_RESOURCE_RECORD_SETS, req.send()).await {
            Ok(p) => p,
            Err(e) => return Observed::unavailable(e),
        };
        out.extend(page.resource_record_sets().iter().map(|r| {
            RecordSet {
                name: canonical_name(r.name()),
                rtype: r.r#type().as_str().to_string(),
                ttl: r.ttl(),
                values: r
                    .resource_records()
                    .iter()
                    .map(|v| v.value().to_string())
                    .collect(),
                alias: r.alias_target().map(|a| AliasTarget {
                    hosted_zone_id: a.hosted_zone_id().to_string(),
                    dns_name: canonical_name(a.dns_name()),
                    evaluate_target_health: a.evaluate_target_health(),
                }),
                set_identifier: r.set_identifier().map(str::to_string),
            }
        }));
        match (
            page.is_truncated(),
            page.next_record_name(),
            page.next_record_type(),
        ) {
            (true, Some(name), Some(rtype)) => {
                let start = (
                    name.to_string(),
                    rtype.clone(),
                    page.next_record_identifier().map(str::to_string),
                );
                // A page that points back at one already read would loop for ever.
                if !seen.insert(start.clone()) {
                    return Observed::unavailable(ctx.error(
                        LIST_RESOURCE_RECORD_SETS,
                        crate::inventory::ErrorKind::ServiceError,
                        format!("zone {zone}: the next page starts where an earlier one did"),
                    ));
                }
                next = Some(start);
            }
            (false, _, _) => break,
            // Truncated, but no next page named: what was read is not the whole zone.
            (true, _, _) => {
                return Observed::unavailable(ctx.error(
                    LIST_RESOURCE_RECORD_SETS,
                    crate::inventory::ErrorKind::ServiceError,
                    format!("zone {zone}: a truncated page names no next page"),
                ))
            }
        }
    }
    Observed::present(out)
}
