//! The checklist's control ids (see `checklist.md` of the plan), grouped into the sections
//! reports use.

/// A checklist section, in the order reports list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Network,
    SecurityGroups,
    Iam,
    Rds,
    Registry,
    TlsDomain,
    Deployment,
    Operations,
}

impl Section {
    pub fn title(self) -> &'static str {
        match self {
            Section::Network => "2.1 Network",
            Section::SecurityGroups => "2.1 Security groups",
            Section::Iam => "2.1 IAM",
            Section::Rds => "2.2 RDS PostgreSQL",
            Section::Registry => "2.3 Container registry",
            Section::TlsDomain => "2.4 TLS and domain",
            Section::Deployment => "3 Deployment",
            Section::Operations => "4 Operations",
        }
    }
}

/// Every control id of the checklist with its section and a short statement.
pub const CONTROLS: &[(&str, Section, &str)] = &[
    (
        "NET-1",
        Section::Network,
        "Production VPC exists with the planned CIDR",
    ),
    (
        "NET-2",
        Section::Network,
        "Public (ALB) subnets route to an internet gateway, in 2+ AZs",
    ),
    (
        "NET-3",
        Section::Network,
        "Private app subnets: no internet gateway route, NAT egress, no public IPs",
    ),
    (
        "NET-4",
        Section::Network,
        "Private DB subnets: no internet gateway route; subnet group in 2+ AZs",
    ),
    (
        "NET-5",
        Section::Network,
        "NAT gateway available, in a public subnet",
    ),
    (
        "SG-1",
        Section::SecurityGroups,
        "ALB SG admits only tcp 80/443",
    ),
    (
        "SG-2",
        Section::SecurityGroups,
        "API SG admits only the app port, only from the ALB SG",
    ),
    (
        "SG-3",
        Section::SecurityGroups,
        "RDS SG admits only 5432, only from the API SG; no DB port from a CIDR",
    ),
    (
        "SG-4",
        Section::SecurityGroups,
        "No other SG open to the internet; no admin/DB port open to it",
    ),
    (
        "SG-5",
        Section::SecurityGroups,
        "Egress as the policy requires",
    ),
    (
        "IAM-1",
        Section::Iam,
        "ECS task execution role: trust and permissions",
    ),
    (
        "IAM-2",
        Section::Iam,
        "S3 access scoped to the frontend bucket",
    ),
    (
        "IAM-3",
        Section::Iam,
        "Secrets access scoped to named secrets",
    ),
    (
        "IAM-4",
        Section::Iam,
        "No app principal with AdministratorAccess or */*",
    ),
    (
        "IAM-5",
        Section::Iam,
        "CI/CD can push to ECR; the execution role cannot",
    ),
    (
        "RDS-1",
        Section::Rds,
        "Engine postgres, supported major version",
    ),
    (
        "RDS-2",
        Section::Rds,
        "Instance class at least the planned size",
    ),
    ("RDS-3", Section::Rds, "Multi-AZ on"),
    ("RDS-4", Section::Rds, "Storage size, type gp3, autoscaling"),
    ("RDS-5", Section::Rds, "Deletion protection on"),
    ("RDS-6", Section::Rds, "Backup retention long enough"),
    (
        "RDS-7",
        Section::Rds,
        "Parameter group: max_connections, pg_stat_statements",
    ),
    ("RDS-8", Section::Rds, "Enhanced monitoring on"),
    ("RDS-9", Section::Rds, "Admin password in Secrets Manager"),
    ("RDS-10", Section::Rds, "A manual snapshot exists"),
    ("RDS-11", Section::Rds, "Restore test done (attested)"),
    (
        "RDS-12",
        Section::Rds,
        "Not publicly accessible; storage encrypted",
    ),
    ("RDS-13", Section::Rds, "Snapshots private and encrypted"),
    ("ECR-1", Section::Registry, "Repositories exist"),
    (
        "ECR-2",
        Section::Registry,
        "Lifecycle policy expires images",
    ),
    ("ECR-3", Section::Registry, "Tag strategy (informational)"),
    (
        "DNS-1",
        Section::TlsDomain,
        "Hosted zone exists and is delegated",
    ),
    (
        "DNS-2",
        Section::TlsDomain,
        "app. points at the ALB/CloudFront",
    ),
    (
        "DNS-3",
        Section::TlsDomain,
        "www./api. point at the ALB/app",
    ),
    (
        "DNS-4",
        Section::TlsDomain,
        "SPF and DKIM where the domain sends mail",
    ),
    (
        "TLS-1",
        Section::TlsDomain,
        "ACM certificate issued, covers the names, not near expiry",
    ),
    (
        "TLS-2",
        Section::TlsDomain,
        "Certificate renews automatically",
    ),
    (
        "TLS-3",
        Section::TlsDomain,
        "Certificate attached to the HTTPS listener",
    ),
    ("TLS-4", Section::TlsDomain, "Live TLS handshake verifies"),
    (
        "HTTP-1",
        Section::TlsDomain,
        "Live http:// answers 301 to https://",
    ),
    (
        "HTTP-2",
        Section::TlsDomain,
        "Port-80 listener redirects with HTTP_301",
    ),
    (
        "DEP-1",
        Section::Deployment,
        "Live health endpoint answers 200",
    ),
    (
        "DEP-2",
        Section::Deployment,
        "Deploy script and workflow present, no literal credentials",
    ),
    (
        "OPS-1",
        Section::Operations,
        "ECS service scaling bounds and target",
    ),
    ("OPS-2", Section::Operations, "API log group with retention"),
    (
        "OPS-3",
        Section::Operations,
        "RPO, cross-region backups, RTO",
    ),
    ("OPS-4", Section::Operations, "Named secrets exist"),
    ("OPS-5", Section::Operations, "Secrets rotate"),
    (
        "DOC-1",
        Section::Operations,
        "Handoff document matches live state",
    ),
];

pub fn section_of(control: &str) -> Option<Section> {
    CONTROLS
        .iter()
        .find(|(id, _, _)| *id == control)
        .map(|(_, s, _)| *s)
}

/// Orders control ids as the checklist does: by section, then prefix, then number.
pub fn control_order(control: &str) -> (Option<Section>, usize) {
    let pos = CONTROLS
        .iter()
        .position(|(id, _, _)| *id == control)
        .unwrap_or(usize::MAX);
    (section_of(control), pos)
}
