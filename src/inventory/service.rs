//! The AWS services the snapshot holds data of. Rules declare the services they read; a
//! scan collects only those, and `iam-policy` grants only their actions.

use std::collections::BTreeSet;

use serde::Serialize;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
pub enum Service {
    Ec2,
    Elbv2,
    Ecs,
    Logs,
    Rds,
    Iam,
    Ecr,
    Secrets,
    Scaling,
    Acm,
    Route53,
}

impl Service {
    pub const ALL: [Service; 11] = [
        Service::Ec2,
        Service::Elbv2,
        Service::Ecs,
        Service::Logs,
        Service::Rds,
        Service::Iam,
        Service::Ecr,
        Service::Secrets,
        Service::Scaling,
        Service::Acm,
        Service::Route53,
    ];

    /// As the progress bar and logs name it.
    pub fn name(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::Elbv2 => "elbv2",
            Service::Ecs => "ecs",
            Service::Logs => "logs",
            Service::Rds => "rds",
            Service::Iam => "iam",
            Service::Ecr => "ecr",
            Service::Secrets => "secretsmanager",
            Service::Scaling => "autoscaling",
            Service::Acm => "acm",
            Service::Route53 => "route53",
        }
    }

    /// Global services are read once per account (through the first region), not per
    /// region; their data sits at the snapshot's top level.
    pub fn is_global(self) -> bool {
        matches!(self, Service::Iam | Service::Route53)
    }

    /// Services whose data this one's collector needs first: the log groups to read come
    /// from the ECS task definitions.
    pub fn requires(self) -> &'static [Service] {
        match self {
            Service::Logs => &[Service::Ecs],
            _ => &[],
        }
    }

    /// The services `wanted` need, with what they require.
    pub fn closure(wanted: impl IntoIterator<Item = Service>) -> BTreeSet<Service> {
        let mut out: BTreeSet<Service> = wanted.into_iter().collect();
        for s in out.clone() {
            out.extend(s.requires().iter().copied());
        }
        out
    }
}
