//! ECR: repositories, their lifecycle policies and image tags.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Observed, Timestamp};

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const DESCRIBE_REPOSITORIES: &str = "ecr:DescribeRepositories";
pub const GET_LIFECYCLE_POLICY: &str = "ecr:GetLifecyclePolicy";
pub const DESCRIBE_IMAGES: &str = "ecr:DescribeImages";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ecr {
    /// Keyed by repository name.
    pub repositories: Observed<BTreeMap<String, Repository>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Repository {
    pub name: String,
    pub arn: String,
    pub uri: Option<String>,
    /// `MUTABLE` or `IMMUTABLE`.
    pub tag_mutability: Option<String>,
    pub scan_on_push: Option<bool>,
    /// The lifecycle policy document (`Absent`: the repository has none).
    pub lifecycle_policy: Observed<serde_json::Value>,
    /// The images' tags, newest push first.
    pub images: Observed<Vec<Image>>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Image {
    pub pushed_at: Option<Timestamp>,
    pub tags: Vec<String>,
}
