//! The one wiring table: for each [`Service`], the IAM actions its collector calls and the
//! job that reads the service into the snapshot. The scheduler in [`super::collect_as`]
//! runs the jobs; the snapshot finds its own unavailable fields
//! ([`crate::inventory::unavailable`]); `iam-policy` grants the actions. Adding a service
//! means one row here, besides its data model and its collector.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_config::SdkConfig;

use super::{acm, ec2, ecr, ecs, elbv2, iam, logs, rds, route53, scaling, secrets, Caller};
use crate::inventory::{RegionInventory, Service, Snapshot, GET_CALLER_IDENTITY};

/// What one job needs: its calls' bound and region, the SDK configuration, the policy's
/// domains (whose Route 53 zones are read in full).
#[derive(Clone)]
pub struct Env {
    pub caller: Caller,
    pub cfg: SdkConfig,
    pub domains: Arc<[String]>,
}

/// What a finished job does to the snapshot: puts its data in place.
pub type Apply = Box<dyn FnOnce(&mut Snapshot) + Send>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A collection job. It starts once the services it requires are in the snapshot (it may
/// read them there, synchronously) and returns the change to make.
pub type Job = Box<dyn Fn(Env, &Snapshot) -> BoxFuture<Apply> + Send + Sync>;

/// One row of the table.
pub struct Wiring {
    /// The IAM actions the collector calls: exactly its operations.
    pub actions: &'static [&'static str],
    pub job: Job,
    /// Leaves the service's data "not collected", as a scan that did not want it does (for
    /// tests that prove a rule reads no more than it declares).
    pub forget: Box<dyn Fn(&mut Snapshot) + Send + Sync>,
}

/// The table.
pub fn wiring(service: Service) -> Wiring {
    match service {
        Service::Ec2 => regional(
            ec2::ACTIONS,
            |e, _| async move { ec2::collect(&e.caller, &e.cfg).await },
            |inv, v| inv.ec2 = v,
        ),
        Service::Elbv2 => regional(
            elbv2::ACTIONS,
            |e, _| async move { elbv2::collect(&e.caller, &e.cfg).await },
            |inv, v| inv.elbv2 = v,
        ),
        Service::Ecs => regional(
            ecs::ACTIONS,
            |e, _| async move { ecs::collect(&e.caller, &e.cfg).await },
            |inv, v| inv.ecs = v,
        ),
        Service::Logs => regional(
            logs::ACTIONS,
            |e, snap| {
                let names = match snap.regions.get(&e.caller.region) {
                    Some(inv) => logs::groups_in_use(&inv.ecs, &e.caller.region),
                    None => Ok(vec![]),
                };
                async move { logs::collect(&e.caller, &e.cfg, names).await }
            },
            |inv, v| inv.logs = v,
        ),
        Service::Rds => regional(
            rds::ACTIONS,
            |e, _| async move { rds::collect(&e.caller, &e.cfg).await },
            |inv, v| inv.rds = v,
        ),
        Service::Ecr => regional(
            ecr::ACTIONS,
            |e, _| async move { ecr::collect(&e.caller, &e.cfg).await },
            |inv, v| inv.ecr = v,
        ),
        Service::Secrets => regional(
            secrets::ACTIONS,
            |e, _| async move { secrets::collect(&e.caller, &e.cfg).await },
            |inv, v| inv.secrets = v,
        ),
        Service::Scaling => regional(
            scaling::ACTIONS,
            |e, _| async move { scaling::collect(&e.caller, &e.cfg).await },
            |inv, v| inv.scaling = v,
        ),
        Service::Acm => regional(
            acm::ACTIONS,
            |e, _| async move { acm::collect(&e.caller, &e.cfg).await },
            |inv, v| inv.acm = v,
        ),
        Service::Iam => global(
            iam::ACTIONS,
            |e, _| async move { iam::collect(&e.caller, &e.cfg).await },
            |snap, v| snap.iam = v,
        ),
        Service::Route53 => global(
            route53::ACTIONS,
            |e, _| async move { route53::collect(&e.caller, &e.cfg, &e.domains).await },
            |snap, v| snap.route53 = v,
        ),
    }
}

/// A regional service: `collect` reads it in the job's region, `put` places the answer in
/// that region's inventory.
fn regional<T, F, Fut>(
    actions: &'static [&'static str],
    collect: F,
    put: fn(&mut RegionInventory, T),
) -> Wiring
where
    T: Default + Send + 'static,
    F: Fn(Env, &Snapshot) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Wiring {
        actions,
        job: Box::new(move |env, snap| {
            let region = env.caller.region.clone();
            let fut = collect(env, snap);
            Box::pin(async move {
                let v = fut.await;
                Box::new(move |s: &mut Snapshot| put(s.regions.entry(region).or_default(), v))
                    as Apply
            })
        }),
        forget: Box::new(move |s| {
            s.regions
                .values_mut()
                .for_each(|inv| put(inv, T::default()))
        }),
    }
}

/// A global service: read once, its answer placed at the snapshot's top level.
fn global<T, F, Fut>(
    actions: &'static [&'static str],
    collect: F,
    put: fn(&mut Snapshot, T),
) -> Wiring
where
    T: Default + Send + 'static,
    F: Fn(Env, &Snapshot) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Wiring {
        actions,
        job: Box::new(move |env, snap| {
            let fut = collect(env, snap);
            Box::pin(async move {
                let v = fut.await;
                Box::new(move |s: &mut Snapshot| put(s, v)) as Apply
            })
        }),
        forget: Box::new(move |s| put(s, T::default())),
    }
}

/// The least-privilege IAM policy for reading `services`, plus STS's GetCallerIdentity
/// (which needs no permission but is listed for clarity) and EC2's DescribeRegions (for
/// `--region all`), as pretty JSON.
pub fn iam_policy(services: &std::collections::BTreeSet<Service>) -> String {
    let mut actions: Vec<&str> = services
        .iter()
        .flat_map(|s| wiring(*s).actions.iter().copied())
        .collect();
    actions.push(GET_CALLER_IDENTITY);
    // For --region all.
    actions.push(crate::inventory::ec2::DESCRIBE_REGIONS);
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
