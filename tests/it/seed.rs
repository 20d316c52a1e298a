//! Seeds the emulator through the AWS SDK with the LifetimeCircle environment: a compliant
//! production stack, and optionally a broken twin of every network, security group and RDS
//! control beside it. Ids are AWS's, so tests look them up by the names used here.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_ec2::types::{
    AddPrefixListEntry, AttributeBooleanValue, DomainType, IpPermission, IpRange, Ipv6Range,
    PrefixListId, ResourceType, Tag, TagSpecification, UserIdGroupPair,
};
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability};
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType,
    LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode, PortMapping, Secret,
};
use aws_sdk_elasticloadbalancingv2::types::{LoadBalancerSchemeEnum, LoadBalancerTypeEnum};
use aws_sdk_rds::types::{ApplyMethod, Parameter};

use crate::support::sdk_at;

/// What to create besides the compliant stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// A second, broken stack: every NET, SG and RDS control violated at least once.
    pub twin: bool,
    /// The few realistic violations of the bundled example snapshot.
    pub example: bool,
    /// The checklist's compliant edge in front of lc-alb: certificate, listeners and the
    /// Route 53 zone. Route 53 is global in the emulator, so only a test that owns the
    /// emulator (re-recording the example) asks for it.
    pub edge: bool,
}

/// Whether an IAM create call made something new: `false` when it already existed (IAM is
/// global within an account, so seeds share it); any other error fails the test.
fn created<T, E>(r: Result<T, aws_sdk_iam::error::SdkError<E>>, what: &str) -> bool
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match r {
        Ok(_) => true,
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("EntityAlreadyExists") => {
            false
        }
        Err(e) => panic!("{what}: {e:?}"),
    }
}

/// The ids of what was created, by the names this module gives them.
#[derive(Default)]
pub struct Env {
    pub region: String,
    /// Where to scan it: the emulator, or for a twin the proxy into its own account.
    pub endpoint: String,
    ids: BTreeMap<String, String>,
    /// Keeps the twin's account proxy running as long as the environment is used.
    _proxy: Option<crate::proxy::Proxy>,
}

impl Env {
    pub fn id(&self, name: &str) -> String {
        self.ids
            .get(name)
            .unwrap_or_else(|| {
                panic!(
                    "nothing named {name} was seeded; have {:?}",
                    self.ids.keys()
                )
            })
            .clone()
    }

    fn set(&mut self, name: &str, id: impl Into<String>) -> String {
        let id = id.into();
        self.ids.insert(name.to_string(), id.clone());
        id
    }
}

struct Clients {
    ec2: aws_sdk_ec2::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    ecs: aws_sdk_ecs::Client,
    rds: aws_sdk_rds::Client,
    iam: aws_sdk_iam::Client,
    ecr: aws_sdk_ecr::Client,
    secrets: aws_sdk_secretsmanager::Client,
    scaling: aws_sdk_applicationautoscaling::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    /// The emulated account and region the clients act in.
    account: String,
    region: String,
}

const ACCOUNT: &str = "123456789012";
/// The twin's own account. IAM is global within an account, and the twin's broken
/// principals would otherwise be every other test's: the rules that ask every user and role
/// of the account would fail in all of them.
pub const TWIN_ACCOUNT: &str = "444455556666";
/// The example's own account, for the same reason: its forgotten administrator user.
pub const EXAMPLE_ACCOUNT: &str = "555566667777";
const EXEC_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn trust(service: &str) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})
    .to_string()
}

fn name_tag(kind: ResourceType, name: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key("Name").value(name).build())
        .build()
}

fn from_cidrs(proto: &str, from: i32, to: i32, v4: &[&str], v6: &[&str]) -> IpPermission {
    let mut p = IpPermission::builder()
        .ip_protocol(proto)
        .from_port(from)
        .to_port(to);
    for c in v4 {
        p = p.ip_ranges(IpRange::builder().cidr_ip(*c).build());
    }
    for c in v6 {
        p = p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(*c).build());
    }
    p.build()
}

fn from_group(proto: &str, from: i32, to: i32, group: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol(proto)
        .from_port(from)
        .to_port(to)
        .user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build())
        .build()
}

impl Clients {
    async fn vpc(&self, env: &mut Env, name: &str, cidr: &str) -> String {
        let vpc = self
            .ec2
            .create_vpc()
            .cidr_block(cidr)
            .tag_specifications(name_tag(ResourceType::Vpc, name))
            .send()
            .await
            .unwrap();
        let id = env.set(name, vpc.vpc().unwrap().vpc_id().unwrap());
        let igw = self.ec2.create_internet_gateway().send().await.unwrap();
        let igw_id = igw
            .internet_gateway()
            .unwrap()
            .internet_gateway_id()
            .unwrap()
            .to_string();
        self.ec2
            .attach_internet_gateway()
            .internet_gateway_id(&igw_id)
            .vpc_id(&id)
            .send()
            .await
            .unwrap();
        env.set(&format!("{name}-igw"), igw_id);
        id
    }

    async fn subnet(
        &self,
        env: &mut Env,
        vpc: &str,
        name: &str,
        cidr: &str,
        az: &str,
        public_ip: bool,
    ) -> String {
        let s = self
            .ec2
            .create_subnet()
            .vpc_id(vpc)
            .cidr_block(cidr)
            .availability_zone(format!("{}{az}", env.region))
            .tag_specifications(name_tag(ResourceType::Subnet, name))
            .send()
            .await
            .unwrap();
        let id = s.subnet().unwrap().subnet_id().unwrap().to_string();
        if public_ip {
            self.ec2
                .modify_subnet_attribute()
                .subnet_id(&id)
                .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
                .send()
                .await
                .unwrap();
        }
        env.set(name, id)
    }

    /// A route table for `subnets` with a default route to `target` (an igw or nat id).
    async fn routes(&self, vpc: &str, subnets: &[String], default_to: Option<&str>) {
        let rt = self
            .ec2
            .create_route_table()
            .vpc_id(vpc)
            .send()
            .await
            .unwrap();
        let rt_id = rt
            .route_table()
            .unwrap()
            .route_table_id()
            .unwrap()
            .to_string();
        if let Some(target) = default_to {
            let req = self
                .ec2
                .create_route()
                .route_table_id(&rt_id)
                .destination_cidr_block("0.0.0.0/0");
            let req = if target.starts_with("nat-") {
                req.nat_gateway_id(target)
            } else {
                req.gateway_id(target)
            };
            req.send().await.unwrap();
        }
        for s in subnets {
            self.ec2
                .associate_route_table()
                .route_table_id(&rt_id)
                .subnet_id(s)
                .send()
                .await
                .unwrap();
        }
    }

    async fn nat(&self, env: &mut Env, name: &str, subnet: &str) -> String {
        let eip = self
            .ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .send()
            .await
            .unwrap();
        let nat = self
            .ec2
            .create_nat_gateway()
            .subnet_id(subnet)
            .allocation_id(eip.allocation_id().unwrap())
            .send()
            .await
            .unwrap();
        env.set(name, nat.nat_gateway().unwrap().nat_gateway_id().unwrap())
    }

    async fn sg(&self, env: &mut Env, vpc: &str, name: &str, ingress: Vec<IpPermission>) -> String {
        let g = self
            .ec2
            .create_security_group()
            .group_name(name)
            .description(format!("{name} (infraverify test)"))
            .vpc_id(vpc)
            .send()
            .await
            .unwrap();
        let id = env.set(name, g.group_id().unwrap());
        self.ingress(&id, ingress).await;
        id
    }

    async fn ingress(&self, group: &str, perms: Vec<IpPermission>) {
        if !perms.is_empty() {
            self.ec2
                .authorize_security_group_ingress()
                .group_id(group)
                .set_ip_permissions(Some(perms))
                .send()
                .await
                .unwrap();
        }
    }

    async fn alb(&self, env: &mut Env, name: &str, subnets: &[String], sg: &str) {
        let lb = self
            .elb
            .create_load_balancer()
            .name(name)
            .set_subnets(Some(subnets.to_vec()))
            .security_groups(sg)
            .scheme(LoadBalancerSchemeEnum::InternetFacing)
            .r#type(LoadBalancerTypeEnum::Application)
            .send()
            .await
            .unwrap();
        let lb = &lb.load_balancers()[0];
        env.set(&format!("alb:{name}"), lb.load_balancer_arn().unwrap());
        env.set(&format!("alb-dns:{name}"), lb.dns_name().unwrap());
        env.set(
            &format!("alb-zone:{name}"),
            lb.canonical_hosted_zone_id().unwrap(),
        );
    }

    /// A role with managed policies `attach` and an inline policy `app`. IAM is global
    /// within an emulated account, so every seed into one account creates the same roles
    /// once. Idempotent.
    async fn role(
        &self,
        name: &str,
        trust: String,
        attach: &[&str],
        inline: Option<serde_json::Value>,
    ) {
        if !created(
            self.iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(trust)
                .send()
                .await,
            &format!("create_role {name}"),
        ) {
            return;
        }
        for arn in attach {
            self.iam
                .attach_role_policy()
                .role_name(name)
                .policy_arn(*arn)
                .send()
                .await
                .unwrap();
        }
        if let Some(doc) = inline {
            self.iam
                .put_role_policy()
                .role_name(name)
                .policy_name("app")
                .policy_document(doc.to_string())
                .send()
                .await
                .unwrap();
        }
    }

    /// A group with managed policies `attach` and an inline policy `app`. Idempotent.
    async fn group(&self, name: &str, attach: &[&str], inline: Option<serde_json::Value>) {
        if !created(
            self.iam.create_group().group_name(name).send().await,
            &format!("create_group {name}"),
        ) {
            return;
        }
        for arn in attach {
            self.iam
                .attach_group_policy()
                .group_name(name)
                .policy_arn(*arn)
                .send()
                .await
                .unwrap();
        }
        if let Some(doc) = inline {
            self.iam
                .put_group_policy()
                .group_name(name)
                .policy_name("app")
                .policy_document(doc.to_string())
                .send()
                .await
                .unwrap();
        }
    }

    /// A user in `groups`, with managed policies `attach` and an inline policy `app`.
    /// Idempotent.
    async fn user(
        &self,
        name: &str,
        groups: &[&str],
        attach: &[&str],
        inline: Option<serde_json::Value>,
    ) {
        if !created(
            self.iam.create_user().user_name(name).send().await,
            &format!("create_user {name}"),
        ) {
            return;
        }
        for g in groups {
            self.iam
                .add_user_to_group()
                .group_name(*g)
                .user_name(name)
                .send()
                .await
                .unwrap();
        }
        for arn in attach {
            self.iam
                .attach_user_policy()
                .user_name(name)
                .policy_arn(*arn)
                .send()
                .await
                .unwrap();
        }
        if let Some(doc) = inline {
            self.iam
                .put_user_policy()
                .user_name(name)
                .policy_name("app")
                .policy_document(doc.to_string())
                .send()
                .await
                .unwrap();
        }
    }

    async fn repository(&self, name: &str, good: bool, tag: &str) {
        self.ecr
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(if good {
                ImageTagMutability::Immutable
            } else {
                ImageTagMutability::Mutable
            })
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(good)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        if good {
            let policy = serde_json::json!({"rules": [{"rulePriority": 1, "description": "expire after 30 days",
                "selection": {"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30},
                "action": {"type": "expire"}}]});
            self.ecr
                .put_lifecycle_policy()
                .repository_name(name)
                .lifecycle_policy_text(policy.to_string())
                .send()
                .await
                .unwrap();
        }
        let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"digest": format!("sha256:{}", "ab".repeat(32)), "size": 1, "mediaType": "application/vnd.docker.container.image.v1+json"},
            "layers": []});
        self.ecr
            .put_image()
            .repository_name(name)
            .image_manifest(manifest.to_string())
            .image_tag(tag)
            .send()
            .await
            .unwrap();
    }

    /// Replaces a repository's lifecycle policy with one that expires images after `days`.
    async fn expire_after(&self, name: &str, days: u32) {
        let policy = serde_json::json!({"rules": [{"rulePriority": 1, "description": format!("expire after {days} days"),
            "selection": {"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": days},
            "action": {"type": "expire"}}]});
        self.ecr
            .put_lifecycle_policy()
            .repository_name(name)
            .lifecycle_policy_text(policy.to_string())
            .send()
            .await
            .unwrap();
    }

    async fn log_group(&self, name: &str, retention: Option<i32>) {
        self.logs
            .create_log_group()
            .log_group_name(name)
            .send()
            .await
            .unwrap();
        if let Some(days) = retention {
            self.logs
                .put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days)
                .send()
                .await
                .unwrap();
        }
    }

    async fn scaling(&self, cluster: &str, service: &str, min: i32, max: i32, cpu: f64) {
        let id = format!("service/{cluster}/{service}");
        self.scaling
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .min_capacity(min)
            .max_capacity(max)
            .send()
            .await
            .unwrap();
        self.scaling
            .put_scaling_policy()
            .policy_name(format!("{service}-cpu"))
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(
                TargetTrackingScalingPolicyConfiguration::builder()
                    .target_value(cpu)
                    .predefined_metric_specification(
                        PredefinedMetricSpecification::builder()
                            .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }

    async fn secret(&self, name: &str) {
        self.secrets
            .create_secret()
            .name(name)
            .secret_string(format!("seeded-value-of-{name}"))
            .send()
            .await
            .unwrap();
    }

    async fn service(
        &self,
        cluster: &str,
        name: &str,
        subnets: &[String],
        sg: &str,
        public_ip: bool,
    ) {
        let (exec, task_role, logs) = if name == "api" {
            ("lc-exec", "lc-task", "/ecs/lc-api")
        } else {
            ("tw-exec", "tw-task", "/ecs/tw-api")
        };
        let task = self
            .ecs
            .register_task_definition()
            .family(name)
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .cpu("256")
            .memory("512")
            .execution_role_arn(format!("arn:aws:iam::{}:role/{exec}", self.account))
            .task_role_arn(format!("arn:aws:iam::{}:role/{task_role}", self.account))
            .container_definitions(
                ContainerDefinition::builder()
                    .name(name)
                    .image("lifetimecircle-api:rc-2026-11-28")
                    .port_mappings(PortMapping::builder().container_port(8000).build())
                    // The app's task definition injects the secrets; the twin's uses none.
                    .set_secrets((name == "api").then(|| {
                        [
                            "prod/db/password",
                            "prod/LTC_SECRET_KEY",
                            "prod/DATABASE_URL",
                        ]
                        .iter()
                        .map(|n| {
                            // A partial ARN: the secret's, without its random suffix.
                            Secret::builder()
                                .name(n.rsplit('/').next().unwrap())
                                .value_from(format!(
                                    "arn:aws:secretsmanager:{}:{}:secret:{n}",
                                    self.region, self.account
                                ))
                                .build()
                                .unwrap()
                        })
                        .collect()
                    }))
                    .log_configuration(
                        LogConfiguration::builder()
                            .log_driver(LogDriver::Awslogs)
                            .options("awslogs-group", logs)
                            .options("awslogs-stream-prefix", name)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let arn = task
            .task_definition()
            .unwrap()
            .task_definition_arn()
            .unwrap()
            .to_string();
        self.ecs
            .create_service()
            .cluster(cluster)
            .service_name(name)
            .task_definition(arn)
            .desired_count(2)
            .launch_type(LaunchType::Fargate)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder()
                            .set_subnets(Some(subnets.to_vec()))
                            .security_groups(sg)
                            .assign_public_ip(if public_ip {
                                AssignPublicIp::Enabled
                            } else {
                                AssignPublicIp::Disabled
                            })
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    async fn db_subnet_group(&self, name: &str, subnets: &[String]) {
        self.rds
            .create_db_subnet_group()
            .db_subnet_group_name(name)
            .db_subnet_group_description(name)
            .set_subnet_ids(Some(subnets.to_vec()))
            .send()
            .await
            .unwrap();
    }

    async fn parameter_group(&self, name: &str, family: &str, params: &[(&str, &str)]) {
        self.rds
            .create_db_parameter_group()
            .db_parameter_group_name(name)
            .db_parameter_group_family(family)
            .description(name)
            .send()
            .await
            .unwrap();
        let mut req = self
            .rds
            .modify_db_parameter_group()
            .db_parameter_group_name(name);
        for (k, v) in params {
            req = req.parameters(
                Parameter::builder()
                    .parameter_name(*k)
                    .parameter_value(*v)
                    .apply_method(ApplyMethod::PendingReboot)
                    .build(),
            );
        }
        req.send().await.unwrap();
    }
}

/// A DB instance as the plan wants it; `tweak` breaks what a test needs broken.
struct Db<'a> {
    id: &'a str,
    class: &'a str,
    version: &'a str,
    multi_az: bool,
    storage: i32,
    max_storage: Option<i32>,
    storage_type: &'a str,
    encrypted: bool,
    deletion_protection: bool,
    retention: i32,
    monitoring: i32,
    public: bool,
    subnet_group: &'a str,
    parameter_group: &'a str,
    sg: String,
}

impl<'a> Db<'a> {
    fn planned(id: &'a str, sg: String) -> Self {
        Db {
            id,
            class: "db.t3.medium",
            version: "16.3",
            multi_az: true,
            storage: 100,
            max_storage: Some(200),
            storage_type: "gp3",
            encrypted: true,
            deletion_protection: true,
            retention: 30,
            monitoring: 60,
            public: false,
            subnet_group: "lc-db-subnets",
            parameter_group: "lc-pg16",
            sg,
        }
    }

    async fn create(self, c: &Clients) {
        c.rds
            .create_db_instance()
            .db_instance_identifier(self.id)
            .db_instance_class(self.class)
            .engine("postgres")
            .engine_version(self.version)
            .master_username("lcadmin")
            .master_user_password("not-a-real-password-1")
            .allocated_storage(self.storage)
            .set_max_allocated_storage(self.max_storage)
            .storage_type(self.storage_type)
            .multi_az(self.multi_az)
            .storage_encrypted(self.encrypted)
            .deletion_protection(self.deletion_protection)
            .backup_retention_period(self.retention)
            .monitoring_interval(self.monitoring)
            .set_monitoring_role_arn(
                (self.monitoring > 0)
                    .then(|| "arn:aws:iam::123456789012:role/rds-monitoring".to_string()),
            )
            .publicly_accessible(self.public)
            .db_subnet_group_name(self.subnet_group)
            .db_parameter_group_name(self.parameter_group)
            .vpc_security_group_ids(self.sg)
            .send()
            .await
            .unwrap();
    }
}

/// Creates the environment in `region` and returns the ids of what it created. A twin and
/// the example get an account of their own ([`TWIN_ACCOUNT`], [`EXAMPLE_ACCOUNT`]); scan
/// them through [`Env::endpoint`].
pub async fn seed(region: &str, opts: Options) -> Env {
    let own = if opts.twin {
        Some(TWIN_ACCOUNT)
    } else if opts.example {
        Some(EXAMPLE_ACCOUNT)
    } else {
        None
    };
    if let Some(account) = own {
        let proxy = crate::proxy::for_account(&crate::support::endpoint(), account).await;
        let mut env = seed_in(&proxy.url, account, region, opts).await;
        env._proxy = Some(proxy);
        env
    } else {
        seed_at(&crate::support::endpoint(), region, opts).await
    }
}

/// [`seed`] into the emulator at `endpoint`, in its default account.
pub async fn seed_at(endpoint: &str, region: &str, opts: Options) -> Env {
    seed_in(endpoint, ACCOUNT, region, opts).await
}

async fn seed_in(endpoint: &str, account: &str, region: &str, opts: Options) -> Env {
    let cfg: SdkConfig = sdk_at(endpoint, region).await;
    let c = Clients {
        ec2: aws_sdk_ec2::Client::new(&cfg),
        elb: aws_sdk_elasticloadbalancingv2::Client::new(&cfg),
        ecs: aws_sdk_ecs::Client::new(&cfg),
        rds: aws_sdk_rds::Client::new(&cfg),
        iam: aws_sdk_iam::Client::new(&cfg),
        ecr: aws_sdk_ecr::Client::new(&cfg),
        secrets: aws_sdk_secretsmanager::Client::new(&cfg),
        scaling: aws_sdk_applicationautoscaling::Client::new(&cfg),
        logs: aws_sdk_cloudwatchlogs::Client::new(&cfg),
        account: account.to_string(),
        region: region.to_string(),
    };
    let mut env = Env {
        region: region.to_string(),
        endpoint: endpoint.to_string(),
        ..Env::default()
    };

    // ---- The planned production stack (compliant) ------------------------------------
    let vpc = c.vpc(&mut env, "lc-prod", "10.0.0.0/16").await;
    let igw = env.id("lc-prod-igw");
    let pub_a = c
        .subnet(&mut env, &vpc, "lc-public-a", "10.0.0.0/24", "a", true)
        .await;
    let pub_b = c
        .subnet(&mut env, &vpc, "lc-public-b", "10.0.1.0/24", "b", true)
        .await;
    let app_a = c
        .subnet(&mut env, &vpc, "lc-app-a", "10.0.10.0/24", "a", false)
        .await;
    let app_b = c
        .subnet(&mut env, &vpc, "lc-app-b", "10.0.11.0/24", "b", false)
        .await;
    let db_a = c
        .subnet(&mut env, &vpc, "lc-db-a", "10.0.20.0/24", "a", false)
        .await;
    let db_b = c
        .subnet(&mut env, &vpc, "lc-db-b", "10.0.21.0/24", "b", false)
        .await;
    c.routes(&vpc, &[pub_a.clone(), pub_b.clone()], Some(&igw))
        .await;
    let nat = c.nat(&mut env, "lc-nat", &pub_a).await;
    c.routes(&vpc, &[app_a.clone(), app_b.clone()], Some(&nat))
        .await;
    c.routes(&vpc, &[db_a.clone(), db_b.clone()], None).await;

    let sg_alb = c
        .sg(
            &mut env,
            &vpc,
            "lc-alb",
            vec![
                from_cidrs("tcp", 80, 80, &["0.0.0.0/0"], &["::/0"]),
                from_cidrs("tcp", 443, 443, &["0.0.0.0/0"], &["::/0"]),
            ],
        )
        .await;
    let sg_api = c
        .sg(
            &mut env,
            &vpc,
            "lc-api",
            vec![from_group("tcp", 8000, 8000, &sg_alb)],
        )
        .await;
    let sg_db = c
        .sg(
            &mut env,
            &vpc,
            "lc-db",
            vec![from_group("tcp", 5432, 5432, &sg_api)],
        )
        .await;
    if opts.twin {
        // The one group with restricted egress, for the SG-5 run that requires it.
        c.ec2
            .revoke_security_group_egress()
            .group_id(&sg_db)
            .ip_permissions(from_cidrs("-1", -1, -1, &["0.0.0.0/0"], &[]))
            .send()
            .await
            .unwrap();
    }

    c.alb(&mut env, "lc-alb", &[pub_a.clone(), pub_b.clone()], &sg_alb)
        .await;
    if opts.edge {
        let lb = (
            env.id("alb:lc-alb"),
            env.id("alb-dns:lc-alb"),
            env.id("alb-zone:lc-alb"),
        );
        crate::edge::EdgeClients::new(&cfg)
            .compliant(&lb, &format!("seed-{region}"))
            .await;
    }
    seed_iam(&c, opts).await;
    c.ecs
        .create_cluster()
        .cluster_name("lc-prod")
        .send()
        .await
        .unwrap();
    c.service(
        "lc-prod",
        "api",
        &[app_a.clone(), app_b.clone()],
        &sg_api,
        false,
    )
    .await;
    c.log_group("/ecs/lc-api", Some(30)).await;
    c.scaling("lc-prod", "api", 2, 10, 70.0).await;
    c.repository("lifetimecircle-api", true, "rc-2026-11-28")
        .await;
    let web_tag = if opts.twin { "v1" } else { "latest" };
    c.repository("lifetimecircle-web", !opts.twin, web_tag)
        .await;
    if opts.twin || opts.example {
        // Two more repositories of the product that no policy names: one without a
        // lifecycle policy, one that keeps images for a year.
        c.repository("lifetimecircle-jobs", false, "rc-2026-11-28")
            .await;
        c.repository("lifetimecircle-reports", true, "rc-2026-11-28")
            .await;
        c.expire_after("lifetimecircle-reports", 365).await;
    }
    let secrets = [
        "prod/db/password",
        "prod/LTC_SECRET_KEY",
        "prod/DATABASE_URL",
    ];
    for name in secrets {
        c.secret(name).await;
    }
    rotate(endpoint, region, &secrets);

    c.db_subnet_group("lc-db-subnets", &[db_a.clone(), db_b.clone()])
        .await;
    c.parameter_group(
        "lc-pg16",
        "postgres16",
        &[
            ("max_connections", "200"),
            ("shared_preload_libraries", "pg_stat_statements"),
        ],
    )
    .await;
    let mut prod = Db::planned("lc-prod-db", sg_db.clone());
    if opts.example {
        // The example's realistic slips: short retention, no deletion protection.
        prod.retention = 7;
        prod.deletion_protection = false;
    }
    prod.create(&c).await;
    c.rds
        .create_db_snapshot()
        .db_instance_identifier("lc-prod-db")
        .db_snapshot_identifier("lc-prod-db-before-launch")
        .send()
        .await
        .unwrap();

    if opts.example {
        // Someone opened the API to the VPC for debugging, and left a bastion group open.
        c.ingress(
            &sg_api,
            vec![from_cidrs("tcp", 8000, 8000, &["10.0.0.0/16"], &[])],
        )
        .await;
        c.sg(
            &mut env,
            &vpc,
            "lc-debug-ssh",
            vec![from_cidrs("tcp", 22, 22, &["0.0.0.0/0"], &[])],
        )
        .await;
    }

    if opts.twin {
        seed_twin(&c, &mut env, &sg_db).await;
    }
    env
}

/// Every IAM user and role of the twin's account: the app's, the twin's, the rotation
/// function's, and those of [`seed_account_principals`].
pub const PRINCIPALS: &[&str] = &[
    "lc-auditor",
    "lc-cicd-legacy",
    "lc-deployer",
    "lc-deployer-scoped",
    "lc-dev",
    "lc-exec",
    "lc-ops-admin",
    "lc-release",
    "lc-reporting",
    "lc-reporting-staging",
    "lc-task",
    "lifetimecircle-ci",
    "rotation-lambda",
    "tw-ci",
    "tw-exec",
    "tw-task",
];

/// The app's roles as planned (and, for the twin, as they should not be, beside principals
/// that can do what only the app's may). Idempotent.
async fn seed_iam(c: &Clients, opts: Options) {
    c.role(
        "lc-exec",
        trust("ecs-tasks.amazonaws.com"),
        &[EXEC_POLICY],
        None,
    )
    .await;
    c.role(
        "lc-task",
        trust("ecs-tasks.amazonaws.com"),
        &[],
        Some(serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::lifetimecircle-frontend/*"},
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": "arn:aws:secretsmanager:*:*:secret:prod/*"}]})),
    )
    .await;
    c.role(
        "lifetimecircle-ci",
        trust("codebuild.amazonaws.com"),
        &[],
        Some(serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                "ecr:CompleteLayerUpload", "ecr:BatchCheckLayerAvailability"],
             "Resource": "arn:aws:ecr:*:*:repository/lifetimecircle-*"}]})),
    )
    .await;
    if opts.example {
        // The example's slip: a CI user from before the pipeline had its own role, still
        // holding AdministratorAccess.
        c.user("lc-cicd-legacy", &[], &[ADMIN_POLICY], None).await;
    }
    if !opts.twin {
        return;
    }
    // The twin's roles: an execution role also trusted by another account and without the
    // managed policy; a task role with s3:*, every secret, ECR push and AdministratorAccess;
    // a CI role that cannot push.
    let mut twin_trust: serde_json::Value =
        serde_json::from_str(&trust("ecs-tasks.amazonaws.com")).unwrap();
    twin_trust["Statement"].as_array_mut().unwrap().push(serde_json::json!(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}));
    c.role("tw-exec", twin_trust.to_string(), &[], None).await;
    c.role(
        "tw-task",
        trust("ecs-tasks.amazonaws.com"),
        &[ADMIN_POLICY],
        Some(serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "secretsmanager:GetSecretValue", "ecr:*"], "Resource": "*"}]})),
    )
    .await;
    c.role("tw-ci", trust("codebuild.amazonaws.com"), &[], None)
        .await;
    seed_account_principals(c).await;
}

/// Principals beyond the app's, each beside a twin that passes: who else can administer
/// the account, push the production images, or read the application's secrets.
async fn seed_account_principals(c: &Clients) {
    use serde_json::json;
    // A forgotten CI user with AdministratorAccess; an auditor who can only look.
    c.user("lc-cicd-legacy", &[], &[ADMIN_POLICY], None).await;
    c.user(
        "lc-auditor",
        &[],
        &[],
        Some(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["ecr:Describe*", "ecr:List*", "secretsmanager:DescribeSecret", "secretsmanager:ListSecrets"],
            "Resource": "*"}]})),
    )
    .await;
    // An administrator role ECS tasks can run as, a deploy role that may pass any role
    // (so that one too), and a deploy role that may pass only the app's own roles.
    c.role(
        "lc-ops-admin",
        trust("ecs-tasks.amazonaws.com"),
        &[ADMIN_POLICY],
        None,
    )
    .await;
    let deploy = |pass: serde_json::Value| {
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Deploy", "Effect": "Allow", "Action": ["ecs:RegisterTaskDefinition", "ecs:UpdateService"], "Resource": "*"},
            {"Sid": "PassRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": pass}]})
    };
    c.role(
        "lc-deployer",
        trust("codebuild.amazonaws.com"),
        &[],
        Some(deploy(json!("*"))),
    )
    .await;
    c.role(
        "lc-deployer-scoped",
        trust("codebuild.amazonaws.com"),
        &[],
        Some(deploy(json!([
            format!("arn:aws:iam::{}:role/lc-exec", c.account),
            format!("arn:aws:iam::{}:role/lc-task", c.account)
        ]))),
    )
    .await;
    // A user in a group that can push to the production repository; one that can pull.
    c.group(
        "lc-pushers",
        &[],
        Some(json!({"Version": "2012-10-17", "Statement": [{"Sid": "PushApi", "Effect": "Allow",
            "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"],
            "Resource": "arn:aws:ecr:*:*:repository/lifetimecircle-api"}]})),
    )
    .await;
    c.group(
        "lc-pullers",
        &[],
        Some(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": "arn:aws:ecr:*:*:repository/lifetimecircle-api"}]}),
        ),
    )
    .await;
    c.user("lc-release", &["lc-pushers"], &[], None).await;
    c.user("lc-dev", &["lc-pullers"], &[], None).await;
    // A reporting role that can read the database secret; one that reads staging's only.
    let read = |resource: String| {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "ReadSecrets", "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue", "Resource": resource}]})
    };
    c.role(
        "lc-reporting",
        trust("lambda.amazonaws.com"),
        &[],
        Some(read("arn:aws:secretsmanager:*:*:secret:prod/db/*".into())),
    )
    .await;
    c.role(
        "lc-reporting-staging",
        trust("lambda.amazonaws.com"),
        &[],
        Some(read("arn:aws:secretsmanager:*:*:secret:staging/*".into())),
    )
    .await;
}

/// Turns on rotation for `names`: the emulator needs a rotation Lambda to exist, which the
/// product has no client for, so boto3 (in the test virtualenv) does this one step.
fn rotate(endpoint: &str, region: &str, names: &[&str]) {
    let python = std::env::var("INFRAVERIFY_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("INFRAVERIFY_TEST_PYTHON is not set: run the suite with scripts/test.sh")
    });
    let script = r#"
import boto3, io, json, sys, urllib.request, zipfile
ep, region, names = sys.argv[1], sys.argv[2], sys.argv[3:]
kw = dict(endpoint_url=ep, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
cfg = urllib.request.Request(ep + "/moto-api/config", data=json.dumps({"lambda": {"use_docker": False}}).encode(),
                             headers={"Content-Type": "application/json"}, method="POST")
urllib.request.urlopen(cfg).read()
iam, lam, sm = boto3.client("iam", **kw), boto3.client("lambda", **kw), boto3.client("secretsmanager", **kw)
try:
    role = iam.create_role(RoleName="rotation-lambda", AssumeRolePolicyDocument=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
except iam.exceptions.EntityAlreadyExistsException:
    role = iam.get_role(RoleName="rotation-lambda")
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("index.py", "def handler(event, context):\n    return None\n")
fn = lam.create_function(FunctionName="rotate", Runtime="python3.11", Handler="index.handler",
                         Role=role["Role"]["Arn"], Code={"ZipFile": buf.getvalue()})
for name in names:
    sm.rotate_secret(SecretId=name, RotationLambdaARN=fn["FunctionArn"], RotationRules={"AutomaticallyAfterDays": 30})
"#;
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(endpoint)
        .arg(region)
        .args(names)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rotation seeding failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The broken twin: a second stack in 10.1.0.0/16 that violates every control once.
async fn seed_twin(c: &Clients, env: &mut Env, prod_db_sg: &str) {
    // A compliant second instance in the production VPC, missing only its manual snapshot.
    Db::planned("lc-nosnap-db", prod_db_sg.to_string())
        .create(c)
        .await;

    let vpc = c.vpc(env, "lc-twin", "10.1.0.0/16").await; // NET-1: wrong CIDR
    let igw = env.id("lc-twin-igw");
    let pub_a = c
        .subnet(env, &vpc, "tw-public-a", "10.1.0.0/24", "a", true)
        .await;
    // NET-2: second ALB subnet in the same AZ, and without a route to the gateway.
    let pub_x = c
        .subnet(env, &vpc, "tw-public-x", "10.1.1.0/24", "a", true)
        .await;
    // NET-3: app subnet assigning public IPs and routing straight to the gateway.
    let app = c
        .subnet(env, &vpc, "tw-app-a", "10.1.10.0/24", "a", true)
        .await;
    // NET-4: DB subnets in one AZ, one of them routing to the gateway.
    let db_a = c
        .subnet(env, &vpc, "tw-db-a", "10.1.20.0/24", "a", false)
        .await;
    let db_b = c
        .subnet(env, &vpc, "tw-db-b", "10.1.21.0/24", "a", false)
        .await;
    c.routes(
        &vpc,
        &[pub_a.clone(), app.clone(), db_a.clone()],
        Some(&igw),
    )
    .await;
    // NET-5: the only NAT gateway sits in a private subnet (the main table has no igw route).
    c.nat(env, "tw-nat", &db_b).await;

    let sg_alb = c
        .sg(
            env,
            &vpc,
            "tw-alb",
            vec![
                from_cidrs("tcp", 443, 443, &["0.0.0.0/0"], &[]),
                from_cidrs("tcp", 22, 22, &["0.0.0.0/0"], &[]), // SG-1, SG-4 admin
            ],
        )
        .await;
    // SG-2: the app port from the internet instead of from the ALB's group.
    let sg_api = c
        .sg(
            env,
            &vpc,
            "tw-api",
            vec![from_cidrs("tcp", 8000, 8000, &["0.0.0.0/0"], &[])],
        )
        .await;
    // SG-3: the DB port from a CIDR instead of the API's group.
    let sg_db = c
        .sg(
            env,
            &vpc,
            "tw-db",
            vec![from_cidrs("tcp", 5432, 5432, &["10.1.0.0/16"], &[])],
        )
        .await;
    // SG-4: a cache open to the IPv6 internet, attached to nothing.
    c.sg(
        env,
        &vpc,
        "tw-cache",
        vec![from_cidrs("tcp", 6379, 6379, &[], &["::/0"])],
    )
    .await;
    // SG-4 through a prefix list that contains 0.0.0.0/0.
    let pl = c
        .ec2
        .create_managed_prefix_list()
        .prefix_list_name("tw-everyone")
        .max_entries(5)
        .address_family("IPv4")
        .entries(AddPrefixListEntry::builder().cidr("0.0.0.0/0").build())
        .send()
        .await
        .unwrap();
    let pl_id = pl
        .prefix_list()
        .unwrap()
        .prefix_list_id()
        .unwrap()
        .to_string();
    env.set("tw-everyone", pl_id.clone());
    c.sg(
        env,
        &vpc,
        "tw-bastion",
        vec![IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(22)
            .to_port(22)
            .prefix_list_ids(PrefixListId::builder().prefix_list_id(pl_id).build())
            .build()],
    )
    .await;

    c.alb(env, "tw-alb", &[pub_a.clone(), pub_x.clone()], &sg_alb)
        .await;
    c.service(
        "lc-prod",
        "tw-api",
        std::slice::from_ref(&app),
        &sg_api,
        false,
    )
    .await;
    // OPS-2: logs kept for ever; OPS-1: one task at least, twenty at most, CPU at 50%.
    c.log_group("/ecs/tw-api", None).await;
    c.scaling("lc-prod", "tw-api", 1, 20, 50.0).await;
    // OPS-5: a secret nobody rotates.
    c.secret("tw/legacy-token").await;

    c.db_subnet_group("tw-db-subnets", &[db_a.clone(), db_b.clone()])
        .await;
    c.parameter_group(
        "tw-pg13",
        "postgres13",
        &[
            ("max_connections", "50"),
            ("shared_preload_libraries", "auto_explain"),
        ],
    )
    .await;
    Db {
        id: "lc-bad-db",
        class: "db.t3.micro",
        version: "13.7",
        multi_az: false,
        storage: 20,
        max_storage: None,
        storage_type: "gp2",
        encrypted: false,
        deletion_protection: false,
        retention: 7,
        monitoring: 0,
        public: true,
        subnet_group: "tw-db-subnets",
        parameter_group: "tw-pg13",
        sg: sg_db,
    }
    .create(c)
    .await;
    // RDS-13: an unencrypted snapshot shared with everyone.
    c.rds
        .create_db_snapshot()
        .db_instance_identifier("lc-bad-db")
        .db_snapshot_identifier("lc-bad-db-shared")
        .send()
        .await
        .unwrap();
    c.rds
        .modify_db_snapshot_attribute()
        .db_snapshot_identifier("lc-bad-db-shared")
        .attribute_name("restore")
        .values_to_add("all")
        .send()
        .await
        .unwrap();
}
