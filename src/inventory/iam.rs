//! IAM (global): roles, users, groups and the managed policies attached to them, with
//! their documents parsed (AWS sends them URL-encoded; the collector decodes them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Observed;

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const GET_ACCOUNT_AUTHORIZATION_DETAILS: &str = "iam:GetAccountAuthorizationDetails";
pub const GET_POLICY: &str = "iam:GetPolicy";
pub const GET_POLICY_VERSION: &str = "iam:GetPolicyVersion";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Iam {
    /// Keyed by role name.
    pub roles: Observed<BTreeMap<String, Role>>,
    /// Keyed by user name.
    pub users: Observed<BTreeMap<String, User>>,
    /// Keyed by group name.
    pub groups: Observed<BTreeMap<String, Group>>,
    /// Managed policies attached to any role, user or group, keyed by ARN.
    pub policies: Observed<BTreeMap<String, ManagedPolicy>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Role {
    pub name: String,
    pub arn: String,
    /// The trust policy (who may assume the role).
    pub trust: Observed<serde_json::Value>,
    pub attached: Vec<AttachedPolicy>,
    /// Inline policies by name.
    pub inline: BTreeMap<String, Observed<serde_json::Value>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct User {
    pub name: String,
    pub arn: String,
    pub groups: Vec<String>,
    pub attached: Vec<AttachedPolicy>,
    pub inline: BTreeMap<String, Observed<serde_json::Value>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Group {
    pub name: String,
    pub arn: String,
    pub attached: Vec<AttachedPolicy>,
    pub inline: BTreeMap<String, Observed<serde_json::Value>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub default_version: Option<String>,
    /// The default version's document.
    pub document: Observed<serde_json::Value>,
}
