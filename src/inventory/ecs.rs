//! ECS: clusters and services, for the network configuration of the API's tasks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Observed;

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const LIST_CLUSTERS: &str = "ecs:ListClusters";
pub const LIST_SERVICES: &str = "ecs:ListServices";
pub const DESCRIBE_SERVICES: &str = "ecs:DescribeServices";
pub const DESCRIBE_TASK_DEFINITION: &str = "ecs:DescribeTaskDefinition";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ecs {
    /// Keyed by cluster ARN.
    pub clusters: Observed<BTreeMap<String, Cluster>>,
    /// The task definitions the services run, keyed by ARN.
    #[serde(default)]
    pub task_definitions: Observed<BTreeMap<String, TaskDefinition>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaskDefinition {
    pub arn: String,
    pub family: String,
    pub execution_role_arn: Option<String>,
    pub task_role_arn: Option<String>,
    /// `awslogs-group` of each container that logs to CloudWatch, with its region.
    pub log_groups: Vec<LogTarget>,
    /// The `valueFrom` of every container's `secrets`, sorted: the Secrets Manager secrets
    /// (ARN or partial ARN, perhaps with a JSON key after it) and SSM parameters (ARN or
    /// name) that ECS injects with the execution role.
    #[serde(default)]
    pub secrets: Vec<String>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct LogTarget {
    pub container: String,
    pub group: String,
    pub region: Option<String>,
}

impl Ecs {
    pub(crate) fn normalize(&mut self) {
        if let Observed::Present { value } = &mut self.clusters {
            for c in value.values_mut() {
                if let Observed::Present { value } = &mut c.services {
                    for s in value.values_mut() {
                        if let Some(n) = &mut s.network {
                            n.subnets.sort();
                            n.security_groups.sort();
                        }
                    }
                }
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cluster {
    pub arn: String,
    pub name: String,
    /// Keyed by service ARN (ListServices + DescribeServices).
    pub services: Observed<BTreeMap<String, EcsService>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EcsService {
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    pub status: Option<String>,
    pub launch_type: Option<String>,
    /// `awsvpc` network configuration; `None` for bridge/host networking.
    pub network: Option<AwsVpcConfig>,
    /// The task definition ARN the service runs.
    #[serde(default)]
    pub task_definition: Option<String>,
    /// `REPLICA` or `DAEMON` (one task per container instance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_strategy: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AwsVpcConfig {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
}
