//! Route 53 (global): hosted zones and, for the zones of the policy's domain, their
//! delegation sets and record sets. DNS-1 … DNS-3, TLS-2.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Observed;

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const LIST_HOSTED_ZONES: &str = "route53:ListHostedZones";
pub const GET_HOSTED_ZONE: &str = "route53:GetHostedZone";
pub const LIST_RESOURCE_RECORD_SETS: &str = "route53:ListResourceRecordSets";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Route53 {
    /// Keyed by zone id (`Z…`, without the `/hostedzone/` prefix).
    pub zones: Observed<BTreeMap<String, HostedZone>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HostedZone {
    pub id: String,
    /// Lowercase, without the trailing dot.
    pub name: String,
    pub private: bool,
    pub record_count: Option<i64>,
    /// The delegation set (GetHostedZone); `None` when the zone is outside the policy's
    /// domain and was deliberately not read.
    pub name_servers: Option<Observed<Vec<String>>>,
    /// The record sets (ListResourceRecordSets); `None` as for `name_servers`.
    pub records: Option<Observed<Vec<RecordSet>>>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct RecordSet {
    /// Lowercase, without the trailing dot; `\052` is written as `*`.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub ttl: Option<i64>,
    /// Values as Route 53 holds them (TXT values keep their quotes).
    pub values: Vec<String>,
    pub alias: Option<AliasTarget>,
    /// Weighted, latency, failover ... records carry one.
    pub set_identifier: Option<String>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct AliasTarget {
    pub hosted_zone_id: String,
    /// Lowercase, without the trailing dot.
    pub dns_name: String,
    pub evaluate_target_health: bool,
}

impl Route53 {
    pub(crate) fn normalize(&mut self) {
        if let Observed::Present { value } = &mut self.zones {
            for z in value.values_mut() {
                if let Some(Observed::Present { value }) = &mut z.name_servers {
                    value.sort();
                }
                if let Some(Observed::Present { value }) = &mut z.records {
                    value.sort();
                }
            }
        }
    }
}

/// A DNS name as compared everywhere: lowercase, no trailing dot, `\052` as `*`.
pub fn canonical_name(name: &str) -> String {
    name.trim_end_matches('.')
        .replace("\\052", "*")
        .to_ascii_lowercase()
}
