//! CloudWatch Logs: the log groups the ECS task definitions write to.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Observed;

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const DESCRIBE_LOG_GROUPS: &str = "logs:DescribeLogGroups";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Logs {
    /// The groups the task definitions name, keyed by name; a named group that does not
    /// exist is missing from the map.
    pub log_groups: Observed<BTreeMap<String, LogGroup>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LogGroup {
    pub name: String,
    pub arn: Option<String>,
    /// `None`: logs are kept for ever.
    pub retention_days: Option<i32>,
}
