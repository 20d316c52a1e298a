//! Test fixtures: a compliant LifetimeCircle environment, as a snapshot, that each rule's
//! tests break one piece at a time.

use std::collections::BTreeMap;

use crate::inventory::ec2::*;
use crate::inventory::ecr::{Ecr, Image, Repository};
use crate::inventory::ecs::*;
use crate::inventory::elbv2::*;
use crate::inventory::iam::{AttachedPolicy, Group, Iam, ManagedPolicy, Role, User};
use crate::inventory::logs::{LogGroup, Logs};
use crate::inventory::rds::*;
use crate::inventory::scaling::{ScalableTarget, Scaling, ScalingPolicy};
use crate::inventory::secrets::{Secret, Secrets};
use crate::inventory::*;

pub const REGION: &str = "eu-central-1";
pub const ACCOUNT: &str = "123456789012";

/// A way to break one fixture, for table-driven fail cases.
pub type Break<T> = fn(&mut T);

pub fn present<T>(v: T) -> Observed<T> {
    Observed::present(v)
}

pub fn denied(source: &str) -> CollectError {
    CollectError {
        source: source.into(),
        region: Some(REGION.into()),
        kind: ErrorKind::AccessDenied,
        message: "AccessDenied: not authorized".into(),
    }
}

pub fn keyed<T>(items: Vec<(&str, T)>) -> BTreeMap<String, T> {
    items.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

pub fn perm(protocol: &str, from: i32, to: i32, sources: &[Peer]) -> Permission {
    Permission {
        protocol: protocol.into(),
        from_port: if protocol == "-1" { None } else { Some(from) },
        to_port: if protocol == "-1" { None } else { Some(to) },
        sources: sources.to_vec(),
    }
}

pub fn cidr(c: &str) -> Peer {
    Peer::Cidr(c.into())
}

pub fn group(g: &str) -> Peer {
    Peer::Group(g.into())
}

pub fn all_egress() -> Vec<Permission> {
    vec![perm("-1", 0, 0, &[cidr("0.0.0.0/0")])]
}

pub fn sg(id: &str, name: &str, ingress: Vec<Permission>) -> SecurityGroup {
    SecurityGroup {
        id: id.into(),
        name: name.into(),
        vpc_id: Some("vpc-prod".into()),
        description: None,
        ingress,
        egress: all_egress(),
        tags: BTreeMap::new(),
    }
}

fn subnet(id: &str, az: &str, public_ip: bool) -> Subnet {
    Subnet {
        id: id.into(),
        vpc_id: "vpc-prod".into(),
        availability_zone: az.into(),
        cidr: None,
        map_public_ip_on_launch: public_ip,
        tags: BTreeMap::new(),
    }
}

pub fn route(dest: &str, target: &str) -> Route {
    Route {
        destination: dest.into(),
        target: target.into(),
        state: Some("active".into()),
    }
}

fn table(id: &str, main: bool, subnets: &[&str], routes: Vec<Route>) -> RouteTable {
    RouteTable {
        id: id.into(),
        vpc_id: "vpc-prod".into(),
        main,
        subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
        routes,
    }
}

pub fn db(id: &str) -> DbInstance {
    DbInstance {
        id: id.into(),
        arn: Some(format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:{id}")),
        engine: "postgres".into(),
        engine_version: Some("16.3".into()),
        instance_class: "db.t3.medium".into(),
        status: Some("available".into()),
        multi_az: Some(true),
        allocated_storage_gb: Some(100),
        max_allocated_storage_gb: Some(200),
        storage_type: Some("gp3".into()),
        storage_encrypted: Some(true),
        deletion_protection: Some(true),
        backup_retention_days: Some(30),
        monitoring_interval: Some(60),
        monitoring_role_arn: Some(format!("arn:aws:iam::{ACCOUNT}:role/rds-monitoring")),
        publicly_accessible: Some(false),
        endpoint: Some(format!("{id}.example.{REGION}.rds.amazonaws.com:5432")),
        vpc_id: Some("vpc-prod".into()),
        subnet_group: Some(DbSubnetGroup {
            name: "lc-db-subnets".into(),
            vpc_id: Some("vpc-prod".into()),
            subnets: vec![
                DbSubnet {
                    subnet_id: "subnet-db-a".into(),
                    availability_zone: Some("eu-central-1a".into()),
                },
                DbSubnet {
                    subnet_id: "subnet-db-b".into(),
                    availability_zone: Some("eu-central-1b".into()),
                },
            ],
        }),
        security_groups: vec!["sg-db".into()],
        parameter_groups: vec![ParameterGroupRef {
            name: "lc-pg16".into(),
            apply_status: Some("in-sync".into()),
        }],
        master_user_secret_arn: None,
        // Collected at 10:00:01: five minutes of restore lag.
        latest_restorable_time: Some("2026-11-28T09:55:01Z".into()),
        backup_replications: vec![format!(
            "arn:aws:rds:eu-west-1:{ACCOUNT}:auto-backup:ab-{id}"
        )],
        tags: BTreeMap::new(),
        availability_zone: Some("eu-central-1a".into()),
        cluster_id: None,
        replica_source: None,
        replica_source_cluster: None,
    }
}

/// An Aurora PostgreSQL cluster of `members` (the first the writer), as the cluster decides
/// for them: Multi-AZ, encrypted, protected, with backups and an RDS-managed secret.
pub fn db_cluster(id: &str, members: &[&str]) -> DbCluster {
    DbCluster {
        id: id.into(),
        arn: Some(format!("arn:aws:rds:{REGION}:{ACCOUNT}:cluster:{id}")),
        engine: "aurora-postgresql".into(),
        engine_version: Some("16.4".into()),
        status: Some("available".into()),
        multi_az: Some(true),
        availability_zones: vec!["eu-central-1a".into(), "eu-central-1b".into()],
        members: members
            .iter()
            .enumerate()
            .map(|(i, m)| ClusterMember {
                instance_id: m.to_string(),
                writer: i == 0,
                parameter_group_status: Some("in-sync".into()),
            })
            .collect(),
        backup_retention_days: Some(30),
        deletion_protection: Some(true),
        storage_encrypted: Some(true),
        storage_type: Some("aurora".into()),
        allocated_storage_gb: Some(1),
        instance_class: None,
        publicly_accessible: Some(false),
        monitoring_interval: Some(60),
        monitoring_role_arn: Some(format!("arn:aws:iam::{ACCOUNT}:role/rds-monitoring")),
        master_user_secret_arn: Some(format!(
            "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-{id}-AbCdEf"
        )),
        latest_restorable_time: Some("2026-11-28T09:55:01Z".into()),
        parameter_group: None,
        replication_source: None,
        endpoint: Some(format!("{id}.cluster-example.{REGION}.rds.amazonaws.com")),
        reader_endpoint: Some(format!(
            "{id}.cluster-ro-example.{REGION}.rds.amazonaws.com"
        )),
        security_groups: vec!["sg-db".into()],
        tags: BTreeMap::new(),
    }
}

pub fn db_snapshot(id: &str, instance: &str) -> DbSnapshot {
    DbSnapshot {
        id: id.into(),
        arn: Some(format!("arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:{id}")),
        instance_id: instance.into(),
        cluster_id: None,
        engine: Some("postgres".into()),
        snapshot_type: Some("manual".into()),
        status: Some("available".into()),
        encrypted: Some(true),
        created_at: Some("2026-11-20T10:00:00Z".into()),
        source_region: None,
        original_created_at: None,
        attributes: present(keyed(vec![("restore", vec![])])),
    }
}

pub fn parameters(pairs: &[(&str, &str)]) -> Observed<BTreeMap<String, Parameter>> {
    present(
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    Parameter {
                        value: Some(v.to_string()),
                        source: Some("user".into()),
                    },
                )
            })
            .collect(),
    )
}

pub fn trust(service: &str) -> Observed<serde_json::Value> {
    present(serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    ]}))
}

pub fn role(
    name: &str,
    trust: Observed<serde_json::Value>,
    attached: &[&str],
    inline: serde_json::Value,
) -> (String, Role) {
    (
        name.to_string(),
        Role {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            trust,
            attached: attachments(attached),
            inline: inline_app(inline),
        },
    )
}

fn attachments(attached: &[&str]) -> Vec<AttachedPolicy> {
    attached
        .iter()
        .map(|a| AttachedPolicy {
            name: a.rsplit('/').next().unwrap().into(),
            arn: a.to_string(),
        })
        .collect()
}

fn inline_app(inline: serde_json::Value) -> BTreeMap<String, Observed<serde_json::Value>> {
    if inline.is_null() {
        BTreeMap::new()
    } else {
        keyed(vec![("app", present(inline))])
    }
}

/// An IAM user in `groups`, with managed policies `attached` and an inline policy `app`
/// (none when `inline` is null).
pub fn user(
    name: &str,
    groups: &[&str],
    attached: &[&str],
    inline: serde_json::Value,
) -> (String, User) {
    (
        name.to_string(),
        User {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            attached: attachments(attached),
            inline: inline_app(inline),
        },
    )
}

/// An IAM group, as [`user`].
pub fn iam_group(name: &str, attached: &[&str], inline: serde_json::Value) -> (String, Group) {
    (
        name.to_string(),
        Group {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:group/{name}"),
            attached: attachments(attached),
            inline: inline_app(inline),
        },
    )
}

pub const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// Adds AWS's AdministratorAccess (`*` on `*`) to the collected managed policies.
pub fn admin_policy(iam: &mut Iam) {
    if let Observed::Present { value } = &mut iam.policies {
        value.insert(
            ADMIN_POLICY.into(),
            ManagedPolicy {
                arn: ADMIN_POLICY.into(),
                name: "AdministratorAccess".into(),
                default_version: Some("v1".into()),
                document: present(serde_json::json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"}]})),
            },
        );
    }
}

pub const EXEC_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

/// IAM as planned: the execution role with AWS's managed policy, a task role scoped to its
/// bucket and secrets, and a CI role that can push to the two repositories.
pub fn iam() -> Iam {
    let exec_doc = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
        "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]});
    let task_doc = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::lifetimecircle-frontend/*"},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [
            format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/LTC_SECRET_KEY-*"),
            format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/DATABASE_URL-*")]}
    ]});
    let ci_doc = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload", "ecr:BatchCheckLayerAvailability"],
         "Resource": format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/lifetimecircle-*")}
    ]});
    Iam {
        roles: present(
            vec![
                role(
                    "lc-exec",
                    trust("ecs-tasks.amazonaws.com"),
                    &[EXEC_POLICY],
                    serde_json::Value::Null,
                ),
                role("lc-task", trust("ecs-tasks.amazonaws.com"), &[], task_doc),
                role(
                    "lifetimecircle-ci",
                    trust("codebuild.amazonaws.com"),
                    &[],
                    ci_doc,
                ),
            ]
            .into_iter()
            .collect(),
        ),
        users: present(BTreeMap::new()),
        groups: present(BTreeMap::new()),
        policies: present(keyed(vec![(
            EXEC_POLICY,
            ManagedPolicy {
                arn: EXEC_POLICY.into(),
                name: "AmazonECSTaskExecutionRolePolicy".into(),
                default_version: Some("v1".into()),
                document: present(exec_doc),
            },
        )])),
    }
}

fn ecr() -> Ecr {
    let repo = |name: &str| Repository {
        name: name.into(),
        arn: format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"),
        uri: None,
        tag_mutability: Some("IMMUTABLE".into()),
        scan_on_push: Some(true),
        lifecycle_policy: present(
            serde_json::json!({"rules": [{"rulePriority": 1, "selection":
            {"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30},
            "action": {"type": "expire"}}]}),
        ),
        images: present(vec![Image {
            pushed_at: Some("2026-11-27T12:00:00Z".into()),
            tags: vec!["rc-2026-11-27".into(), "latest".into()],
        }]),
    };
    Ecr {
        repositories: present(keyed(vec![
            ("lifetimecircle-api", repo("lifetimecircle-api")),
            ("lifetimecircle-web", repo("lifetimecircle-web")),
        ])),
    }
}

fn secrets() -> Secrets {
    let secret = |name: &str| Secret {
        name: name.into(),
        arn: Some(format!(
            "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf"
        )),
        rotation_enabled: Some(true),
        rotation_days: Some(30),
        last_rotated: None,
        owning_service: None,
    };
    Secrets {
        secrets: present(keyed(vec![
            ("prod/db/password", secret("prod/db/password")),
            ("prod/LTC_SECRET_KEY", secret("prod/LTC_SECRET_KEY")),
            ("prod/DATABASE_URL", secret("prod/DATABASE_URL")),
        ])),
    }
}

fn scaling() -> Scaling {
    Scaling {
        targets: present(keyed(vec![(
            "service/lc-prod/api",
            ScalableTarget {
                resource_id: "service/lc-prod/api".into(),
                dimension: "ecs:service:DesiredCount".into(),
                min_capacity: 2,
                max_capacity: 10,
                suspended: None,
            },
        )])),
        policies: present(vec![ScalingPolicy {
            name: "cpu70".into(),
            resource_id: "service/lc-prod/api".into(),
            policy_type: "TargetTrackingScaling".into(),
            target_value: Some(70.0),
            metric: Some("ECSServiceAverageCPUUtilization".into()),
            disable_scale_in: false,
        }]),
    }
}

fn logs() -> Logs {
    Logs {
        log_groups: present(keyed(vec![(
            "/ecs/lc-api",
            LogGroup {
                name: "/ecs/lc-api".into(),
                arn: Some(format!(
                    "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/lc-api:*"
                )),
                retention_days: Some(30),
            },
        )])),
    }
}

/// The planned environment, compliant with every network, SG and RDS control.
pub fn compliant() -> Snapshot {
    let ec2 = Ec2 {
        vpcs: present(keyed(vec![(
            "vpc-prod",
            Vpc {
                id: "vpc-prod".into(),
                cidr_blocks: vec!["10.0.0.0/16".into()],
                ipv6_cidr_blocks: vec![],
                is_default: false,
                state: Some("available".into()),
                tags: keyed(vec![("Name", "lc-prod".to_string())]),
            },
        )])),
        subnets: present(keyed(vec![
            (
                "subnet-pub-a",
                subnet("subnet-pub-a", "eu-central-1a", true),
            ),
            (
                "subnet-pub-b",
                subnet("subnet-pub-b", "eu-central-1b", true),
            ),
            (
                "subnet-app-a",
                subnet("subnet-app-a", "eu-central-1a", false),
            ),
            (
                "subnet-app-b",
                subnet("subnet-app-b", "eu-central-1b", false),
            ),
            ("subnet-db-a", subnet("subnet-db-a", "eu-central-1a", false)),
            ("subnet-db-b", subnet("subnet-db-b", "eu-central-1b", false)),
        ])),
        route_tables: present(keyed(vec![
            (
                "rtb-main",
                table("rtb-main", true, &[], vec![route("10.0.0.0/16", "local")]),
            ),
            (
                "rtb-public",
                table(
                    "rtb-public",
                    false,
                    &["subnet-pub-a", "subnet-pub-b"],
                    vec![
                        route("10.0.0.0/16", "local"),
                        route("0.0.0.0/0", "igw-prod"),
                    ],
                ),
            ),
            (
                "rtb-app",
                table(
                    "rtb-app",
                    false,
                    &["subnet-app-a", "subnet-app-b"],
                    vec![
                        route("10.0.0.0/16", "local"),
                        route("0.0.0.0/0", "nat-prod"),
                    ],
                ),
            ),
            (
                "rtb-db",
                table(
                    "rtb-db",
                    false,
                    &["subnet-db-a", "subnet-db-b"],
                    vec![route("10.0.0.0/16", "local")],
                ),
            ),
        ])),
        internet_gateways: present(keyed(vec![(
            "igw-prod",
            InternetGateway {
                id: "igw-prod".into(),
                attachments: vec![GatewayAttachment {
                    vpc_id: "vpc-prod".into(),
                    state: Some("available".into()),
                }],
                tags: BTreeMap::new(),
            },
        )])),
        nat_gateways: present(keyed(vec![(
            "nat-prod",
            NatGateway {
                id: "nat-prod".into(),
                vpc_id: Some("vpc-prod".into()),
                subnet_id: Some("subnet-pub-a".into()),
                state: Some("available".into()),
                connectivity_type: Some("public".into()),
                tags: BTreeMap::new(),
            },
        )])),
        security_groups: present(keyed(vec![
            (
                "sg-alb",
                sg(
                    "sg-alb",
                    "lc-alb",
                    vec![
                        perm("tcp", 80, 80, &[cidr("0.0.0.0/0"), cidr("::/0")]),
                        perm("tcp", 443, 443, &[cidr("0.0.0.0/0"), cidr("::/0")]),
                    ],
                ),
            ),
            (
                "sg-api",
                sg(
                    "sg-api",
                    "lc-api",
                    vec![perm("tcp", 8000, 8000, &[group("sg-alb")])],
                ),
            ),
            (
                "sg-db",
                sg(
                    "sg-db",
                    "lc-db",
                    vec![perm("tcp", 5432, 5432, &[group("sg-api")])],
                ),
            ),
        ])),
        prefix_lists: present(BTreeMap::new()),
    };
    let elbv2 = Elbv2 {
        load_balancers: present(keyed(vec![(
            "arn:alb",
            LoadBalancer {
                arn: "arn:alb".into(),
                name: "lc-alb".into(),
                lb_type: Some("application".into()),
                scheme: Some("internet-facing".into()),
                vpc_id: Some("vpc-prod".into()),
                dns_name: Some("lc-alb-1.eu-central-1.elb.amazonaws.com".into()),
                state: Some("active".into()),
                security_groups: vec!["sg-alb".into()],
                subnets: vec![
                    LbSubnet {
                        subnet_id: "subnet-pub-a".into(),
                        availability_zone: "eu-central-1a".into(),
                    },
                    LbSubnet {
                        subnet_id: "subnet-pub-b".into(),
                        availability_zone: "eu-central-1b".into(),
                    },
                ],
                listeners: present(listeners()),
            },
        )])),
        ssl_policies: present(keyed(vec![(
            "ELBSecurityPolicy-TLS13-1-2-2021-06",
            vec!["TLSv1.2".to_string(), "TLSv1.3".to_string()],
        )])),
    };
    let ecs = Ecs {
        clusters: present(keyed(vec![(
            "arn:cluster",
            Cluster {
                arn: "arn:cluster".into(),
                name: "lc-prod".into(),
                services: present(keyed(vec![(
                    "arn:svc-api",
                    EcsService {
                        arn: "arn:svc-api".into(),
                        name: "api".into(),
                        cluster_arn: "arn:cluster".into(),
                        status: Some("ACTIVE".into()),
                        launch_type: Some("FARGATE".into()),
                        network: Some(AwsVpcConfig {
                            subnets: vec!["subnet-app-a".into(), "subnet-app-b".into()],
                            security_groups: vec!["sg-api".into()],
                            assign_public_ip: false,
                        }),
                        task_definition: Some("arn:td-api".into()),
                        scheduling_strategy: Some("REPLICA".into()),
                    },
                )])),
            },
        )])),
        task_definitions: present(keyed(vec![(
            "arn:td-api",
            TaskDefinition {
                arn: "arn:td-api".into(),
                family: "lc-api".into(),
                execution_role_arn: Some(format!("arn:aws:iam::{ACCOUNT}:role/lc-exec")),
                task_role_arn: Some(format!("arn:aws:iam::{ACCOUNT}:role/service/lc-task")),
                log_groups: vec![LogTarget {
                    container: "api".into(),
                    group: "/ecs/lc-api".into(),
                    region: Some(REGION.into()),
                }],
                secrets: [
                    "prod/db/password",
                    "prod/LTC_SECRET_KEY",
                    "prod/DATABASE_URL",
                ]
                .iter()
                .map(|n| format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{n}-AbCdEf"))
                .collect(),
            },
        )])),
    };
    let rds = Rds {
        instances: present(keyed(vec![("lc-prod-db", db("lc-prod-db"))])),
        parameter_groups: present(keyed(vec![(
            "lc-pg16",
            ParameterGroup {
                name: "lc-pg16".into(),
                parameters: parameters(&[
                    ("max_connections", "200"),
                    ("shared_preload_libraries", "pg_stat_statements"),
                ]),
            },
        )])),
        snapshots: present(keyed(vec![(
            "lc-prod-db-manual",
            db_snapshot("lc-prod-db-manual", "lc-prod-db"),
        )])),
        clusters: present(BTreeMap::new()),
        cluster_parameter_groups: present(BTreeMap::new()),
        cluster_snapshots: present(BTreeMap::new()),
    };
    Snapshot {
        schema: SNAPSHOT_SCHEMA.into(),
        tool: ToolInfo::current(),
        collection: CollectionInfo {
            started_at: "2026-11-28T10:00:00Z".into(),
            finished_at: "2026-11-28T10:00:01Z".into(),
            account: Some(ACCOUNT.into()),
            regions: vec![REGION.into()],
            endpoint_url: None,
            aws: true,
        },
        regions: keyed(vec![(
            REGION,
            RegionInventory {
                ec2,
                elbv2,
                ecs,
                rds,
                ecr: ecr(),
                secrets: secrets(),
                scaling: scaling(),
                logs: logs(),
                acm: acm(),
            },
        )]),
        iam: iam(),
        route53: route53(),
        errors: vec![],
        repository: None,
        probes: Some(probes()),
    }
}

/// A repository whose deploy files and handoff document are what the checklist wants.
pub fn repository() -> crate::inventory::repo::Repository {
    use crate::inventory::repo::*;
    // What the repository collector finds in a handoff document that names the VPC (line 1),
    // the ALB (2) and the DB endpoint (3).
    let ids = NamedIds {
        ids: [
            ("vpc-prod", 1),
            ("lc-alb-1.eu-central-1.elb.amazonaws.com", 2),
            ("lc-prod-db.example.eu-central-1.rds.amazonaws.com", 3),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    };
    Repository {
        path: "app".into(),
        infrastructure_doc: present(ids),
        deploy_script: present(FileFacts { executable: true }),
        deploy_workflow: present(WorkflowFacts {
            credentials: vec![],
            uses_oidc_role: true,
        }),
    }
}

pub const DOMAIN: &str = "lifetimecircle.de";
pub const ALB_DNS: &str = "lc-alb-1.eu-central-1.elb.amazonaws.com";
pub const CERT: &str = "arn:aws:acm:eu-central-1:123456789012:certificate/app";
pub const ZONE: &str = "Z0LC";
pub const NAME_SERVERS: [&str; 2] = ["ns-1.awsdns-01.org", "ns-2.awsdns-02.net"];

fn rrset(name: &str, rtype: &str, values: &[&str]) -> crate::inventory::route53::RecordSet {
    crate::inventory::route53::RecordSet {
        name: name.into(),
        rtype: rtype.into(),
        ttl: Some(300),
        values: values.iter().map(|v| v.to_string()).collect(),
        alias: None,
        set_identifier: None,
    }
}

/// Route 53: the public zone with app (alias to the ALB), www (CNAME to app), the SPF
/// record and the certificate's validation record.
pub fn route53() -> crate::inventory::route53::Route53 {
    use crate::inventory::route53::*;
    let mut app = rrset("app.lifetimecircle.de", "A", &[]);
    app.alias = Some(AliasTarget {
        hosted_zone_id: "Z215JYRZR1TBD5".into(),
        dns_name: format!("dualstack.{ALB_DNS}"),
        evaluate_target_health: true,
    });
    Route53 {
        zones: present(keyed(vec![(
            ZONE,
            HostedZone {
                id: ZONE.into(),
                name: DOMAIN.into(),
                private: false,
                record_count: Some(5),
                name_servers: Some(present(
                    NAME_SERVERS.iter().map(|n| n.to_string()).collect(),
                )),
                records: Some(present(vec![
                    rrset(DOMAIN, "NS", &NAME_SERVERS),
                    rrset(DOMAIN, "TXT", &["\"v=spf1 include:amazonses.com -all\""]),
                    app,
                    rrset("www.lifetimecircle.de", "CNAME", &["app.lifetimecircle.de"]),
                    rrset(
                        "_v1.app.lifetimecircle.de",
                        "CNAME",
                        &["_v1.acm-validations.aws."],
                    ),
                ])),
            },
        )])),
    }
}

/// ACM: one issued, DNS-validated certificate for app and www, on the ALB.
pub fn acm() -> crate::inventory::acm::Acm {
    use crate::inventory::acm::*;
    let validation = |d: &str| DomainValidation {
        domain: d.into(),
        method: Some("DNS".into()),
        status: Some("SUCCESS".into()),
        record: Some(ValidationRecord {
            name: "_v1.app.lifetimecircle.de".into(),
            rtype: "CNAME".into(),
            value: "_v1.acm-validations.aws".into(),
        }),
    };
    Acm {
        certificates: present(keyed(vec![(
            CERT,
            Certificate {
                arn: CERT.into(),
                domain_name: "app.lifetimecircle.de".into(),
                status: "ISSUED".into(),
                cert_type: "AMAZON_ISSUED".into(),
                key_algorithm: Some("RSA_2048".into()),
                not_before: Some("2026-06-01T00:00:00Z".into()),
                not_after: Some("2027-06-01T00:00:00Z".into()),
                renewal_eligibility: Some("ELIGIBLE".into()),
                detail: present(CertificateDetail {
                    names: vec![
                        "app.lifetimecircle.de".into(),
                        "www.lifetimecircle.de".into(),
                    ],
                    serial: Some("0a:1b:2c".into()),
                    in_use_by: vec!["arn:alb".into()],
                    validation: vec![
                        validation("app.lifetimecircle.de"),
                        validation("www.lifetimecircle.de"),
                    ],
                }),
            },
        )])),
    }
}

/// The ALB's listeners: HTTP 80 redirecting with a 301, HTTPS 443 with the certificate.
pub fn listeners() -> Vec<Listener> {
    vec![
        Listener {
            arn: "arn:listener-80".into(),
            port: Some(80),
            protocol: Some("HTTP".into()),
            ssl_policy: None,
            default_actions: vec![Action {
                action_type: "redirect".into(),
                order: Some(1),
                redirect: Some(Redirect {
                    protocol: Some("HTTPS".into()),
                    port: Some("443".into()),
                    host: Some("#{host}".into()),
                    path: Some("/#{path}".into()),
                    query: Some("#{query}".into()),
                    status_code: Some("HTTP_301".into()),
                }),
                fixed_status: None,
            }],
            certificates: None,
            rules: Some(present(vec![])),
        },
        Listener {
            arn: "arn:listener-443".into(),
            port: Some(443),
            protocol: Some("HTTPS".into()),
            ssl_policy: Some("ELBSecurityPolicy-TLS13-1-2-2021-06".into()),
            default_actions: vec![Action {
                action_type: "forward".into(),
                order: Some(1),
                redirect: None,
                fixed_status: None,
            }],
            certificates: Some(present(vec![ListenerCertificate {
                arn: CERT.into(),
                is_default: true,
            }])),
            rules: None,
        },
    ]
}

fn answer(records: &[&str], cnames: &[&str]) -> Observed<crate::inventory::probe::DnsAnswer> {
    present(crate::inventory::probe::DnsAnswer {
        rcode: "NOERROR".into(),
        records: records.iter().map(|r| r.to_string()).collect(),
        cnames: cnames.iter().map(|r| r.to_string()).collect(),
    })
}

pub fn nxdomain() -> Observed<crate::inventory::probe::DnsAnswer> {
    present(crate::inventory::probe::DnsAnswer {
        rcode: "NXDOMAIN".into(),
        records: vec![],
        cnames: vec![],
    })
}

/// A served certificate like the ACM one.
pub fn served_cert() -> crate::inventory::probe::ServedCertificate {
    crate::inventory::probe::ServedCertificate {
        subject: "CN=app.lifetimecircle.de".into(),
        issuer: "CN=Amazon RSA 2048 M02, O=Amazon, C=US".into(),
        serial: "0a:1b:2c".into(),
        not_before: "2026-06-01T00:00:00Z".into(),
        not_after: "2027-06-01T00:00:00Z".into(),
        dns_names: vec![
            "app.lifetimecircle.de".into(),
            "www.lifetimecircle.de".into(),
        ],
        sha256: "AA:BB".into(),
        self_signed: false,
        chain_length: 2,
    }
}

pub fn tls_ok() -> crate::inventory::probe::TlsResult {
    crate::inventory::probe::TlsResult {
        name_not_found: false,
        address: Some("203.0.113.10:443".into()),
        failure: None,
        protocol: Some("TLSv1.3".into()),
        cipher_suite: Some("TLS13_AES_128_GCM_SHA256".into()),
        verify_error: None,
        certificate: Some(served_cert()),
    }
}

pub fn hop(url: &str, status: u16, location: Option<&str>) -> crate::inventory::probe::HttpHop {
    crate::inventory::probe::HttpHop {
        url: url.into(),
        status,
        location: location.map(str::to_string),
        hsts: url
            .starts_with("https")
            .then(|| "max-age=31536000".to_string()),
    }
}

pub fn chain(
    hops: Vec<crate::inventory::probe::HttpHop>,
) -> Observed<crate::inventory::probe::HttpChain> {
    present(crate::inventory::probe::HttpChain {
        name_not_found: false,
        hops,
        failure: None,
        unobserved: None,
    })
}

pub const REDIRECT_PATH: &str = "/infraverify/redirect-check?probe=1";

/// What the live probes see of the compliant environment: app and www resolve to the
/// ALB, the handshakes verify, http redirects with a 301, the health check answers 200;
/// api. is not in DNS.
pub fn probes() -> crate::inventory::probe::Probes {
    use crate::inventory::probe::*;
    let mut p = Probes::default();
    let alb = ["203.0.113.10", "203.0.113.11"];
    p.dns
        .insert(dns_key(DOMAIN, RecordType::Ns), answer(&NAME_SERVERS, &[]));
    p.dns.insert(
        dns_key(DOMAIN, RecordType::Txt),
        answer(&["v=spf1 include:amazonses.com -all"], &[]),
    );
    p.dns
        .insert(dns_key(ALB_DNS, RecordType::A), answer(&alb, &[]));
    p.dns
        .insert(dns_key(ALB_DNS, RecordType::Aaaa), answer(&[], &[]));
    p.dns.insert(
        dns_key("app.lifetimecircle.de", RecordType::A),
        answer(&alb, &[]),
    );
    p.dns.insert(
        dns_key("app.lifetimecircle.de", RecordType::Aaaa),
        answer(&[], &[]),
    );
    p.dns.insert(
        dns_key("www.lifetimecircle.de", RecordType::A),
        answer(
            &["203.0.113.10"],
            &["www.lifetimecircle.de -> app.lifetimecircle.de"],
        ),
    );
    p.dns.insert(
        dns_key("www.lifetimecircle.de", RecordType::Aaaa),
        answer(&[], &[]),
    );
    p.dns
        .insert(dns_key("api.lifetimecircle.de", RecordType::A), nxdomain());
    p.dns.insert(
        dns_key("api.lifetimecircle.de", RecordType::Aaaa),
        nxdomain(),
    );
    for h in ["app.lifetimecircle.de", "www.lifetimecircle.de"] {
        p.tls.insert(tls_key(h, 443), present(tls_ok()));
        p.http.insert(
            format!("http://{h}/"),
            chain(vec![
                hop(&format!("http://{h}/"), 301, Some(&format!("https://{h}/"))),
                hop(&format!("https://{h}/"), 200, None),
            ]),
        );
        let below = format!("http://{h}{REDIRECT_PATH}");
        let target = format!("https://{h}{REDIRECT_PATH}");
        p.http.insert(
            below.clone(),
            chain(vec![
                hop(&below, 301, Some(&target)),
                hop(&target, 404, None),
            ]),
        );
    }
    p.tls.insert(
        tls_key("api.lifetimecircle.de", 443),
        present(TlsResult {
            name_not_found: true,
            failure: Some("api.lifetimecircle.de does not exist in DNS (NXDOMAIN)".into()),
            ..TlsResult::default()
        }),
    );
    for url in [
        "http://api.lifetimecircle.de/".to_string(),
        format!("http://api.lifetimecircle.de{REDIRECT_PATH}"),
    ] {
        p.http.insert(
            url.clone(),
            present(HttpChain {
                name_not_found: true,
                hops: vec![],
                failure: Some(format!(
                    "{url}: api.lifetimecircle.de does not exist in DNS (NXDOMAIN)"
                )),
                unobserved: None,
            }),
        );
    }
    let health = "https://app.lifetimecircle.de/api/health";
    p.http
        .insert(health.into(), chain(vec![hop(health, 200, None)]));
    p
}

/// The compliant environment with [`repository`], changed by `f`.
pub fn with_repo(f: impl FnOnce(&mut crate::inventory::repo::Repository)) -> Snapshot {
    let mut s = compliant();
    let mut r = repository();
    f(&mut r);
    s.repository = Some(r);
    s
}

/// The single region's inventory, to break.
pub fn inv(s: &mut Snapshot) -> &mut RegionInventory {
    s.regions.get_mut(REGION).unwrap()
}

pub fn value<T>(o: &mut Observed<T>) -> &mut T {
    match o {
        Observed::Present { value } => value,
        _ => panic!("fixture field is not present"),
    }
}
