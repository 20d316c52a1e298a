//! Secrets Manager: secret names and rotation settings, from ListSecrets (never values).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Observed, Timestamp};

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const LIST_SECRETS: &str = "secretsmanager:ListSecrets";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Secrets {
    /// Keyed by secret name.
    pub secrets: Observed<BTreeMap<String, Secret>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Secret {
    pub name: String,
    pub arn: Option<String>,
    /// `None` when ListSecrets said nothing, which it does for a secret never set to rotate.
    pub rotation_enabled: Option<bool>,
    pub rotation_days: Option<i64>,
    pub last_rotated: Option<Timestamp>,
    /// The service that manages the secret (`rds` for an RDS-managed master password).
    pub owning_service: Option<String>,
}
