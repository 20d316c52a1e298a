//! Application Auto Scaling for ECS services: scalable targets and scaling policies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Observed;

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const DESCRIBE_SCALABLE_TARGETS: &str = "application-autoscaling:DescribeScalableTargets";
pub const DESCRIBE_SCALING_POLICIES: &str = "application-autoscaling:DescribeScalingPolicies";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scaling {
    /// ECS scalable targets keyed by resource id (`service/CLUSTER/SERVICE`).
    pub targets: Observed<BTreeMap<String, ScalableTarget>>,
    /// ECS scaling policies.
    pub policies: Observed<Vec<ScalingPolicy>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScalableTarget {
    pub resource_id: String,
    pub dimension: String,
    pub min_capacity: i32,
    pub max_capacity: i32,
    /// What scaling activity is suspended (`SuspendedState`); `None` when the answer did not
    /// say, which AWS reads as nothing suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended: Option<Suspended>,
}

/// `SuspendedState` of a scalable target: each flag `None` when not reported (not
/// suspended).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Suspended {
    /// Target tracking and step policies no longer remove capacity.
    pub dynamic_in: Option<bool>,
    /// Target tracking and step policies no longer add capacity.
    pub dynamic_out: Option<bool>,
    /// Scheduled actions no longer run.
    pub scheduled: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, PartialOrd, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScalingPolicy {
    pub name: String,
    pub resource_id: String,
    /// `TargetTrackingScaling` or `StepScaling`.
    pub policy_type: String,
    /// Target tracking: the target value and the predefined metric.
    pub target_value: Option<f64>,
    pub metric: Option<String>,
    /// Target tracking: the policy never removes capacity (`DisableScaleIn`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disable_scale_in: bool,
}
