//! EC2 networking collector: VPCs, subnets, route tables, internet and NAT gateways,
//! security groups, and the entries of prefix lists that security groups refer to.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use aws_sdk_ec2::types;
use aws_sdk_ec2::Client;

use super::{tag_map, Caller};
use crate::inventory::ec2::*;
use crate::inventory::ec2::{
    DESCRIBE_INTERNET_GATEWAYS, DESCRIBE_NAT_GATEWAYS, DESCRIBE_REGIONS, DESCRIBE_ROUTE_TABLES,
    DESCRIBE_SECURITY_GROUPS, DESCRIBE_SUBNETS, DESCRIBE_VPCS, GET_MANAGED_PREFIX_LIST_ENTRIES,
};
use crate::inventory::{CollectError, Observed};
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[
    DESCRIBE_VPCS,
    DESCRIBE_SUBNETS,
    DESCRIBE_ROUTE_TABLES,
    DESCRIBE_INTERNET_GATEWAYS,
    DESCRIBE_NAT_GATEWAYS,
    DESCRIBE_SECURITY_GROUPS,
    GET_MANAGED_PREFIX_LIST_ENTRIES,
];

/// The regions enabled for the account (opted-in or not requiring opt-in), sorted.
pub async fn enabled_regions(ctx: &Caller, cfg: &SdkConfig) -> Result<Vec<String>, CollectError> {
    let c = Client::new(cfg);
    let out = ctx
        .call(
            DESCRIBE_REGIONS,
            c.describe_regions().all_regions(false).send(),
        )
        .await?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter(|r| r.opt_in_status() != Some("not-opted-in"))
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    regions.sort();
    Ok(regions)
}

fn client(ctx: &Caller, cfg: &SdkConfig) -> Client {
    let conf = aws_sdk_ec2::config::Builder::from(cfg)
        .region(aws_sdk_ec2::config::Region::new(ctx.region.clone()))
        .build();
    Client::from_conf(conf)
}

fn tags(t: &[types::Tag]) -> BTreeMap<String, String> {
    tag_map(t.iter().map(|t| (t.key(), t.value())))
}

fn observed<T>(r: Result<T, CollectError>) -> Observed<T> {
    match r {
        Ok(v) => Observed::present(v),
        Err(e) => Observed::unavailable(e),
    }
}

pub async fn collect(ctx: &Caller, cfg: &SdkConfig) -> Ec2 {
    let c = client(ctx, cfg);
    let (vpcs, subnets, route_tables, igws, nats, sgs) = tokio::join!(
        vpcs(ctx, &c),
        subnets(ctx, &c),
        route_tables(ctx, &c),
        internet_gateways(ctx, &c),
        nat_gateways(ctx, &c),
        security_groups(ctx, &c),
    );
    let prefix_lists = match &sgs {
        Ok(groups) => Observed::present(prefix_lists(ctx, &c, groups).await),
        Err(e) => Observed::unavailable(e.clone()),
    };
    Ec2 {
        vpcs: observed(vpcs),
        subnets: observed(subnets),
        route_tables: observed(route_tables),
        internet_gateways: observed(igws),
        nat_gateways: observed(nats),
        security_groups: observed(sgs),
        prefix_lists,
    }
}

async fn vpcs(ctx: &Caller, c: &Client) -> Result<BTreeMap<String, Vpc>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_VPCS,
        c.describe_vpcs().max_results(1000).into_paginator().send()
    )?;
    Ok(pages
        .iter()
        .flat_map(|p| p.vpcs())
        .filter_map(|v| {
            let id = v.vpc_id()?.to_string();
            let mut cidrs: Vec<String> = v.cidr_block().map(str::to_string).into_iter().collect();
            for a in v.cidr_block_association_set() {
                let associated = a
                    .cidr_block_state()
                    .and_then(|s| s.state())
                    .is_none_or(|s| *s == types::VpcCidrBlockStateCode::Associated);
                if let Some(b) = a.cidr_block() {
                    if associated && !cidrs.iter().any(|c| c == b) {
                        cidrs.push(b.to_string());
                    }
                }
            }
            let mut v6: Vec<String> = v
                .ipv6_cidr_block_association_set()
                .iter()
                .filter_map(|a| a.ipv6_cidr_block().map(str::to_string))
                .collect();
            v6.sort();
            Some((
                id.clone(),
                Vpc {
                    id,
                    cidr_blocks: cidrs,
                    ipv6_cidr_blocks: v6,
                    is_default: v.is_default().unwrap_or(false),
                    state: v.state().map(|s| s.as_str().to_string()),
                    tags: tags(v.tags()),
                },
            ))
        })
        .collect())
}

async fn subnets(ctx: &Caller, c: &Client) -> Result<BTreeMap<String, Subnet>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_SUBNETS,
        c.describe_subnets()
            .max_results(1000)
            .into_paginator()
            .send()
    )?;
    Ok(pages
        .iter()
        .flat_map(|p| p.subnets())
        .filter_map(|s| {
            let id = s.subnet_id()?.to_string();
            Some((
                id.clone(),
                Subnet {
                    id,
                    vpc_id: s.vpc_id()?.to_string(),
                    availability_zone: s.availability_zone().unwrap_or_default().to_string(),
                    cidr: s.cidr_block().map(str::to_string),
                    map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
                    tags: tags(s.tags()),
                },
            ))
        })
        .collect())
}

fn route_target(r: &types::Route) -> String {
    [
        r.gateway_id(),
        r.nat_gateway_id(),
        r.egress_only_internet_gateway_id(),
        r.transit_gateway_id(),
        r.vpc_peering_connection_id(),
        r.network_interface_id(),
        r.instance_id(),
        r.local_gateway_id(),
        r.carrier_gateway_id(),
        r.core_network_arn(),
    ]
    .into_iter()
    .flatten()
    .next()
    .unwrap_or("unknown")
    .to_string()
}

async fn route_tables(
    ctx: &Caller,
    c: &Client,
) -> Result<BTreeMap<String, RouteTable>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_ROUTE_TABLES,
        c.describe_route_tables()
            .max_results(100)
            .into_paginator()
            .send()
    )?;
    Ok(pages
        .iter()
        .flat_map(|p| p.route_tables())
        .filter_map(|t| {
            let id = t.route_table_id()?.to_string();
            let main = t.associations().iter().any(|a| a.main().unwrap_or(false));
            let subnet_ids = t
                .associations()
                .iter()
                .filter_map(|a| a.subnet_id().map(str::to_string))
                .collect();
            let routes = t
                .routes()
                .iter()
                .map(|r| Route {
                    destination: r
                        .destination_cidr_block()
                        .or(r.destination_ipv6_cidr_block())
                        .or(r.destination_prefix_list_id())
                        .unwrap_or("unknown")
                        .to_string(),
                    target: route_target(r),
                    state: r.state().map(|s| s.as_str().to_string()),
                })
                .collect();
            Some((
                id.clone(),
                RouteTable {
                    id,
                    vpc_id: t.vpc_id()?.to_string(),
                    main,
                    subnet_ids,
                    routes,
                },
            ))
        })
        .collect())
}

async fn internet_gateways(
    ctx: &Caller,
    c: &Client,
) -> Result<BTreeMap<String, InternetGateway>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_INTERNET_GATEWAYS,
        c.describe_internet_gateways()
            .max_results(1000)
            .into_paginator()
            .send()
    )?;
    Ok(pages
        .iter()
        .flat_map(|p| p.internet_gateways())
        .filter_map(|g| {
            let id = g.internet_gateway_id()?.to_string();
            Some((
                id.clone(),
                InternetGateway {
                    id,
                    attachments: g
                        .attachments()
                        .iter()
                        .filter_map(|a| {
                            Some(GatewayAttachment {
                                vpc_id: a.vpc_id()?.to_string(),
                                state: a.state().map(|s| s.as_str().to_string()),
                            })
                        })
                        .collect(),
                    tags: tags(g.tags()),
                },
            ))
        })
        .collect())
}

async fn nat_gateways(
    ctx: &Caller,
    c: &Client,
) -> Result<BTreeMap<String, NatGateway>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_NAT_GATEWAYS,
        c.describe_nat_gateways()
            .max_results(1000)
            .into_paginator()
            .send()
    )?;
    Ok(pages
        .iter()
        .flat_map(|p| p.nat_gateways())
        .filter_map(|n| {
            let id = n.nat_gateway_id()?.to_string();
            Some((
                id.clone(),
                NatGateway {
                    id,
                    vpc_id: n.vpc_id().map(str::to_string),
                    subnet_id: n.subnet_id().map(str::to_string),
                    state: n.state().map(|s| s.as_str().to_string()),
                    connectivity_type: n.connectivity_type().map(|s| s.as_str().to_string()),
                    tags: tags(n.tags()),
                },
            ))
        })
        .collect())
}

fn permissions(perms: &[types::IpPermission]) -> Vec<Permission> {
    perms
        .iter()
        .map(|p| {
            let mut sources = Vec::new();
            sources.extend(
                p.ip_ranges()
                    .iter()
                    .filter_map(|r| r.cidr_ip())
                    .map(|c| Peer::Cidr(c.to_string())),
            );
            sources.extend(
                p.ipv6_ranges()
                    .iter()
                    .filter_map(|r| r.cidr_ipv6())
                    .map(|c| Peer::Cidr(c.to_string())),
            );
            sources.extend(
                p.user_id_group_pairs()
                    .iter()
                    .filter_map(|g| g.group_id())
                    .map(|g| Peer::Group(g.to_string())),
            );
            sources.extend(
                p.prefix_list_ids()
                    .iter()
                    .filter_map(|l| l.prefix_list_id())
                    .map(|l| Peer::PrefixList(l.to_string())),
            );
            sources.sort();
            Permission {
                protocol: p.ip_protocol().unwrap_or("-1").to_string(),
                from_port: p.from_port(),
                to_port: p.to_port(),
                sources,
            }
        })
        .collect()
}

async fn security_groups(
    ctx: &Caller,
    c: &Client,
) -> Result<BTreeMap<String, SecurityGroup>, CollectError> {
    let pages = paginate!(
        ctx,
        DESCRIBE_SECURITY_GROUPS,
        c.describe_security_groups()
            .max_results(1000)
            .into_paginator()
            .send()
    )?;
    Ok(pages
        .iter()
        .flat_map(|p| p.security_groups())
        .filter_map(|g| {
            let id = g.group_id()?.to_string();
            Some((
                id.clone(),
                SecurityGroup {
                    id,
                    name: g.group_name().unwrap_or_default().to_string(),
                    vpc_id: g.vpc_id().map(str::to_string),
                    description: g.description().map(str::to_string),
                    ingress: permissions(g.ip_permissions()),
                    egress: permissions(g.ip_permissions_egress()),
                    tags: tags(g.tags()),
                },
            ))
        })
        .collect())
}

/// Entries of every prefix list a security group rule refers to: one paginated call per
/// referenced list (EC2 has no batch call for entries); unreferenced lists are not read.
async fn prefix_lists(
    ctx: &Caller,
    c: &Client,
    groups: &BTreeMap<String, SecurityGroup>,
) -> BTreeMap<String, PrefixList> {
    let ids: BTreeSet<&str> = groups
        .values()
        .flat_map(|g| g.ingress.iter().chain(&g.egress))
        .flat_map(|p| &p.sources)
        .filter_map(|s| match s {
            Peer::PrefixList(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let mut out = BTreeMap::new();
    for id in ids {
        let pages = paginate!(
            ctx,
            GET_MANAGED_PREFIX_LIST_ENTRIES,
            c.get_managed_prefix_list_entries()
                .prefix_list_id(id)
                .max_results(100)
                .into_paginator()
                .send()
        );
        let entries = match pages {
            Ok(pages) => Observed::present(
                pages
                    .iter()
                    .flat_map(|p| p.entries())
                    .filter_map(|e| e.cidr().map(str::to_string))
                    .collect(),
            ),
            Err(e) => Observed::unavailable(e),
        };
        out.insert(
            id.to_string(),
            PrefixList {
                id: id.to_string(),
                name: None,
                entries,
            },
        );
    }
    out
}
