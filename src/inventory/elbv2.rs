//! Elastic Load Balancing v2: load balancers (to find the ALB, its subnets and its
//! security groups), their listeners with rules and certificates (HTTP-2, TLS-3), and the
//! TLS security policies those listeners use (TLS-4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Observed;

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const DESCRIBE_LOAD_BALANCERS: &str = "elasticloadbalancing:DescribeLoadBalancers";
pub const DESCRIBE_LISTENERS: &str = "elasticloadbalancing:DescribeListeners";
pub const DESCRIBE_LISTENER_CERTIFICATES: &str =
    "elasticloadbalancing:DescribeListenerCertificates";
pub const DESCRIBE_RULES: &str = "elasticloadbalancing:DescribeRules";
pub const DESCRIBE_SSL_POLICIES: &str = "elasticloadbalancing:DescribeSSLPolicies";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Elbv2 {
    /// Keyed by ARN.
    pub load_balancers: Observed<BTreeMap<String, LoadBalancer>>,
    /// The security policies the HTTPS listeners use: name → protocols (`TLSv1.2`, ...).
    #[serde(default)]
    pub ssl_policies: Observed<BTreeMap<String, Vec<String>>>,
}

impl Elbv2 {
    pub(crate) fn normalize(&mut self) {
        if let Observed::Present { value } = &mut self.load_balancers {
            for lb in value.values_mut() {
                // Snapshots before 0.2 wrote an unreported type or scheme as "".
                lb.lb_type = lb.lb_type.take().filter(|t| !t.is_empty());
                lb.scheme = lb.scheme.take().filter(|s| !s.is_empty());
                lb.security_groups.sort();
                lb.subnets.sort();
                if let Observed::Present { value } = &mut lb.listeners {
                    value.sort_by_key(|l| (l.port, l.arn.clone()));
                    for l in value.iter_mut() {
                        if let Some(Observed::Present { value }) = &mut l.certificates {
                            value.sort();
                        }
                        if let Some(Observed::Present { value }) = &mut l.rules {
                            value.sort_by_key(|r| (r.is_default, r.priority.clone()));
                        }
                    }
                }
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    /// `application`, `network` or `gateway`; `None` when the answer did not say.
    #[serde(rename = "type")]
    pub lb_type: Option<String>,
    /// `internet-facing` or `internal`; `None` when the answer did not say (a gateway load
    /// balancer has none): never read as "internal".
    pub scheme: Option<String>,
    pub vpc_id: Option<String>,
    pub dns_name: Option<String>,
    pub state: Option<String>,
    pub security_groups: Vec<String>,
    pub subnets: Vec<LbSubnet>,
    /// DescribeListeners (one call per load balancer: the API takes one).
    #[serde(default)]
    pub listeners: Observed<Vec<Listener>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Listener {
    pub arn: String,
    pub port: Option<i32>,
    /// `HTTP`, `HTTPS`, `TCP`, `TLS`, ...
    pub protocol: Option<String>,
    /// Only meaningful for HTTPS and TLS listeners.
    pub ssl_policy: Option<String>,
    pub default_actions: Vec<Action>,
    /// Every certificate on an HTTPS/TLS listener, the default one marked
    /// (DescribeListenerCertificates); `None` for other protocols.
    pub certificates: Option<Observed<Vec<ListenerCertificate>>>,
    /// The listener's rules (DescribeRules), read for HTTP listeners, whose rules could
    /// bypass the redirect; `None` for other protocols.
    pub rules: Option<Observed<Vec<ListenerRule>>>,
}

impl Listener {
    pub fn is_https(&self) -> bool {
        self.protocol.as_deref() == Some("HTTPS")
    }

    pub fn is_http(&self) -> bool {
        self.protocol.as_deref() == Some("HTTP")
    }
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ListenerCertificate {
    pub arn: String,
    pub is_default: bool,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Action {
    /// `forward`, `redirect`, `fixed-response`, `authenticate-oidc`, ...
    #[serde(rename = "type")]
    pub action_type: String,
    pub order: Option<i32>,
    pub redirect: Option<Redirect>,
    /// For `fixed-response`: the status code it answers with.
    pub fixed_status: Option<String>,
}

/// A redirect action's settings; AWS fills omitted parts with `#{protocol}`, `#{host}`,
/// `#{port}`, `/#{path}` and `#{query}`.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Redirect {
    pub protocol: Option<String>,
    pub port: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
    pub query: Option<String>,
    /// `HTTP_301` or `HTTP_302`.
    pub status_code: Option<String>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ListenerRule {
    pub arn: String,
    /// A number, or `default`.
    pub priority: Option<String>,
    pub is_default: bool,
    pub actions: Vec<Action>,
    /// The conditions, one line each (`path-pattern: /api/*`), for evidence.
    pub conditions: Vec<String>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct LbSubnet {
    pub subnet_id: String,
    pub availability_zone: String,
}

impl LoadBalancer {
    /// The checklist's ALB: an internet-facing application load balancer (known to be one).
    pub fn is_internet_facing_alb(&self) -> bool {
        self.lb_type.as_deref() == Some("application")
            && self.scheme.as_deref() == Some("internet-facing")
    }

    /// Whether the answer lacks what tells whether this is an internet-facing ALB: its type,
    /// or an application load balancer's scheme.
    pub fn alb_scope_unknown(&self) -> bool {
        match self.lb_type.as_deref() {
            None => true,
            Some("application") => self.scheme.is_none(),
            Some(_) => false,
        }
    }
}
