//! Elastic Load Balancing v2: load balancers (to find the ALB, its subnets and its
//! security groups).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Observed;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Elbv2 {
    /// Keyed by ARN.
    pub load_balancers: Observed<BTreeMap<String, LoadBalancer>>,
}

impl Elbv2 {
    pub(crate) fn normalize(&mut self) {
        if let Observed::Present { value } = &mut self.load_balancers {
            for lb in value.values_mut() {
                lb.security_groups.sort();
                lb.subnets.sort();
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    /// `application`, `network` or `gateway`.
    #[serde(rename = "type")]
    pub lb_type: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    pub vpc_id: Option<String>,
    pub dns_name: Option<String>,
    pub state: Option<String>,
    pub security_groups: Vec<String>,
    pub subnets: Vec<LbSubnet>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LbSubnet {
    pub subnet_id: String,
    pub availability_zone: String,
}

impl LoadBalancer {
    /// The checklist's ALB: an internet-facing application load balancer.
    pub fn is_internet_facing_alb(&self) -> bool {
        self.lb_type == "application" && self.scheme == "internet-facing"
    }
}
