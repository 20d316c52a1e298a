//! The AWS services the collectors read, each with the IAM actions it calls. Rules declare
//! the services they read; a scan collects only those, and `iam-policy` grants only their
//! actions.

use serde::Serialize;

use super::{acm, ec2, ecr, ecs, elbv2, iam, logs, rds, route53, scaling, secrets, sts};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

    /// The IAM actions the collector calls: exactly its operations.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Service::Ec2 => &[
                ec2::DESCRIBE_VPCS,
                ec2::DESCRIBE_SUBNETS,
                ec2::DESCRIBE_ROUTE_TABLES,
                ec2::DESCRIBE_INTERNET_GATEWAYS,
                ec2::DESCRIBE_NAT_GATEWAYS,
                ec2::DESCRIBE_SECURITY_GROUPS,
                ec2::GET_MANAGED_PREFIX_LIST_ENTRIES,
            ],
            Service::Elbv2 => &[
                elbv2::DESCRIBE_LOAD_BALANCERS,
                elbv2::DESCRIBE_LISTENERS,
                elbv2::DESCRIBE_LISTENER_CERTIFICATES,
                elbv2::DESCRIBE_RULES,
                elbv2::DESCRIBE_SSL_POLICIES,
            ],
            Service::Ecs => &[
                ecs::LIST_CLUSTERS,
                ecs::LIST_SERVICES,
                ecs::DESCRIBE_SERVICES,
                ecs::DESCRIBE_TASK_DEFINITION,
            ],
            Service::Logs => &[logs::DESCRIBE_LOG_GROUPS],
            Service::Rds => &[
                rds::DESCRIBE_DB_INSTANCES,
                rds::DESCRIBE_DB_PARAMETERS,
                rds::DESCRIBE_DB_SNAPSHOTS,
                rds::DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
            ],
            Service::Iam => &[
                iam::GET_ACCOUNT_AUTHORIZATION_DETAILS,
                iam::GET_POLICY,
                iam::GET_POLICY_VERSION,
            ],
            Service::Ecr => &[
                ecr::DESCRIBE_REPOSITORIES,
                ecr::GET_LIFECYCLE_POLICY,
                ecr::DESCRIBE_IMAGES,
            ],
            Service::Secrets => &[secrets::LIST_SECRETS],
            Service::Scaling => &[
                scaling::DESCRIBE_SCALABLE_TARGETS,
                scaling::DESCRIBE_SCALING_POLICIES,
            ],
            Service::Acm => &[acm::LIST_CERTIFICATES, acm::DESCRIBE_CERTIFICATE],
            Service::Route53 => &[
                route53::LIST_HOSTED_ZONES,
                route53::GET_HOSTED_ZONE,
                route53::LIST_RESOURCE_RECORD_SETS,
            ],
        }
    }

    /// Services a collector cannot do without: the log groups to read come from the ECS
    /// task definitions.
    pub fn requires(self) -> &'static [Service] {
        match self {
            Service::Logs => &[Service::Ecs],
            _ => &[],
        }
    }

    /// The services `wanted` need, with what they require.
    pub fn closure(
        wanted: impl IntoIterator<Item = Service>,
    ) -> std::collections::BTreeSet<Service> {
        let mut out: std::collections::BTreeSet<Service> = wanted.into_iter().collect();
        for s in out.clone() {
            out.extend(s.requires().iter().copied());
        }
        out
    }
}

/// The least-privilege IAM policy for reading `services`, plus STS's GetCallerIdentity
/// (which needs no permission but is listed for clarity) and EC2's DescribeRegions (for
/// `--region all`), as pretty JSON.
pub fn iam_policy(services: &std::collections::BTreeSet<Service>) -> String {
    let mut actions: Vec<&str> = services
        .iter()
        .flat_map(|s| s.actions().iter().copied())
        .collect();
    actions.push(sts::GET_CALLER_IDENTITY);
    // For --region all.
    actions.push(ec2::DESCRIBE_REGIONS);
    actions.sort();
    actions.dedup();
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "InfraverifyReadOnly",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*",
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("a policy serializes");
    s.push('\n');
    s
}
