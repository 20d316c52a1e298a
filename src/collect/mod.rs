//! Collection: the only code that calls AWS. One collector per service, wired to its part
//! of the snapshot in [`wiring`], run concurrently over regions × services under one
//! concurrency bound, with the SDK's standard retries and a timeout on every call. A failed
//! call becomes [`Observed::Unavailable`] with its [`CollectError`], and the snapshot lists
//! it in its `errors`; nothing that could not be read ever looks like "not configured".
//!
//! Read-only by construction: only `Describe*`, `List*` and `Get*` operations (and STS
//! `GetCallerIdentity`) appear here; a test fails the build otherwise.

pub mod acm;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod elbv2;
pub mod iam;
pub mod limit;
pub mod logs;
pub mod probe;
pub mod rds;
pub mod repo;
pub mod route53;
pub mod scaling;
pub mod secrets;
pub mod sts;
pub mod wiring;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
/// The AWS configuration a run collects with (see [`sdk_config`]).
pub use aws_config::SdkConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use tokio::sync::Semaphore;

use crate::inventory::{
    CollectError, CollectionInfo, ErrorKind, RegionInventory, Service, Snapshot, Timestamp,
    ToolInfo, GET_CALLER_IDENTITY, SNAPSHOT_SCHEMA,
};
use crate::progress::Progress;
use wiring::{wiring, Env};

/// What to collect and how.
#[derive(Clone, Debug)]
pub struct CollectOptions {
    pub regions: Vec<String>,
    /// A named profile from the AWS config files; `None` uses the default chain.
    pub profile: Option<String>,
    /// Send every call to this endpoint (an emulator); `AWS_ENDPOINT_URL` works too.
    pub endpoint_url: Option<String>,
    /// Time allowed for one attempt of one API call; a call with retries gets twice that.
    pub call_timeout: Duration,
    /// API calls in flight at once, across all accounts, regions and services.
    pub concurrency: usize,
    /// API calls in flight at once in one account and region (see [`limit`]).
    pub region_concurrency: usize,
    /// The run's `concurrency` slots, shared by every configuration [`sdk_config`] makes.
    pub slots: Arc<Semaphore>,
    /// The policy's domains: their Route 53 zones are read in full.
    pub domains: Vec<String>,
    /// When the whole scan must be over (`--timeout`): calls not finished by then fail as
    /// timeouts, so the snapshot holds what was read and says what was not.
    pub deadline: Option<tokio::time::Instant>,
    /// The services to read (what the enabled rules need); the others are not called, and
    /// their data stays "not collected".
    pub services: BTreeSet<Service>,
    pub progress: Progress,
    /// The base credentials' account, when the run already asked `sts:GetCallerIdentity`
    /// (its credentials check): the collection does not ask again.
    pub account: Option<String>,
}

/// The error of a call cut short by the scan's `--timeout`.
pub const DEADLINE_MESSAGE: &str = "the scan's time limit (--timeout) ran out first";

/// The time left before `deadline`, capped at `cap`; zero once it has passed.
pub fn within(deadline: Option<tokio::time::Instant>, cap: Duration) -> Duration {
    match deadline {
        Some(d) => d
            .saturating_duration_since(tokio::time::Instant::now())
            .min(cap),
        None => cap,
    }
}

/// Loads the AWS configuration: credentials and region from the standard chain
/// (environment, profile, SSO, web identity, instance role), with retries on every call,
/// and every exchange through [`limit::Limited`] under the run's slots and time limits.
///
/// Retries are the SDK's standard mode (exponential backoff with jitter), not its adaptive
/// mode: adaptive mode turns on a client-side token bucket at the first throttle, refilled
/// at the rate measured so far, which for a scan's short bursts is about one call every two
/// seconds; one throttled call made a whole scan 15-20 s slower (measured, see the README).
/// Throttling itself is waited out below the SDK, in [`limit`], per exchange and without
/// holding a slot.
pub async fn sdk_config(opts: &CollectOptions, region: Option<&str>) -> SdkConfig {
    let attempt = opts.call_timeout;
    // The wire's time limits are [`limit`]'s: a limit of the SDK's would also count the time
    // a call waits for a slot.
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(attempt.min(Duration::from_secs(5)))
                .read_timeout(attempt)
                .build(),
        )
        .http_client(limit::Limited::new(
            https_client(),
            opts.slots.clone(),
            attempt,
        ));
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(e) = &opts.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    loader.load().await
}

/// The SDK's default HTTPS client: hyper 1 and rustls with aws-lc, honouring HTTPS_PROXY
/// and NO_PROXY.
fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::{proxy::ProxyConfig, tls, Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut b = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .proxy_config(ProxyConfig::from_env());
        if let Some(s) = settings {
            b = b.connector_settings(s.clone());
        }
        if let Some(sleep) = components.and_then(|c| c.sleep_impl()) {
            b = b.sleep_impl(sleep);
        }
        b.build()
    })
}

/// How every collector calls AWS: under its account and region's [`limit::Gate`] and the
/// run's slots (taken per exchange, in [`limit`]), within the scan's `--timeout`,
/// classifying every failure, in one region.
#[derive(Clone)]
pub struct Caller {
    gate: limit::Gate,
    /// Time on the wire allowed to one call, its retries included.
    wire: Duration,
    deadline: Option<tokio::time::Instant>,
    pub region: String,
    /// The IAM actions of the service this caller serves; a call outside them is a bug
    /// (`iam-policy` would not grant it), caught by a debug assertion. Empty: unchecked.
    actions: &'static [&'static str],
}

impl Caller {
    pub fn new(opts: &CollectOptions, region: &str, gate: limit::Gate) -> Self {
        Caller {
            gate,
            wire: opts.call_timeout * 2,
            deadline: opts.deadline,
            region: region.to_string(),
            actions: &[],
        }
    }

    /// The same caller, serving a service whose collector calls only `actions`.
    pub fn for_service(mut self, actions: &'static [&'static str]) -> Self {
        self.actions = actions;
        self
    }

    /// Awaits one API call under the concurrency bound and the backstop timeout,
    /// classifying any failure.
    pub async fn call<T, E, F>(&self, op: &'static str, fut: F) -> Result<T, CollectError>
    where
        F: std::future::Future<
            Output = Result<T, SdkError<E, aws_smithy_http_response::HttpResponse>>,
        >,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let started = std::time::Instant::now();
        let result = self.bounded(op, fut).await;
        log_call(op, &self.region, started, result.as_ref().err());
        result
    }

    /// Like [`Caller::call`], but a service error that `absent` recognises (a typed "not
    /// found") is `Ok(None)`: AWS's way of saying "none configured".
    pub async fn call_or_absent<T, E, F>(
        &self,
        op: &'static str,
        fut: F,
        absent: impl Fn(&E) -> bool,
    ) -> Result<Option<T>, CollectError>
    where
        F: std::future::Future<
            Output = Result<T, SdkError<E, aws_smithy_http_response::HttpResponse>>,
        >,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.call(op, async {
            match fut.await {
                Ok(v) => Ok(Some(v)),
                Err(SdkError::ServiceError(se)) if absent(se.err()) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Awaits the next page of a paginator; `Ok(None)` at the end, which is not logged as a
    /// call because the SDK makes none.
    pub async fn next_page<T, E, F>(
        &self,
        op: &'static str,
        fut: F,
    ) -> Result<Option<T>, CollectError>
    where
        F: std::future::Future<
            Output = Option<Result<T, SdkError<E, aws_smithy_http_response::HttpResponse>>>,
        >,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let started = std::time::Instant::now();
        let result = self.bounded(op, async { fut.await.transpose() }).await;
        if !matches!(result, Ok(None)) {
            log_call(op, &self.region, started, result.as_ref().err());
        }
        result
    }

    async fn bounded<T, E, F>(&self, op: &'static str, fut: F) -> Result<T, CollectError>
    where
        F: std::future::Future<
            Output = Result<T, SdkError<E, aws_smithy_http_response::HttpResponse>>,
        >,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        debug_assert!(
            self.actions.is_empty() || self.actions.contains(&op),
            "{op} is not among its collector's ACTIONS, so iam-policy would not grant it"
        );
        let budget = limit::Budget::new(self.gate.clone(), self.wire);
        let call = limit::CALL.scope(budget, fut);
        let result = match self.deadline {
            None => Ok(call.await),
            Some(d) => tokio::time::timeout_at(d, call).await,
        };
        match result {
            Err(_) => Err(self.error(op, ErrorKind::Timeout, DEADLINE_MESSAGE.to_string())),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(op, &self.region, &e)),
        }
    }

    pub fn error(&self, op: &str, kind: ErrorKind, message: String) -> CollectError {
        CollectError {
            source: op.to_string(),
            region: Some(self.region.clone()),
            kind,
            message,
        }
    }
}

fn log_call(op: &str, region: &str, started: std::time::Instant, err: Option<&CollectError>) {
    let ms = started.elapsed().as_millis() as u64;
    match err {
        None => tracing::debug!(op, region, ms, "ok"),
        Some(e) => tracing::debug!(op, region, ms, error = %e, "failed"),
    }
}

/// The HTTP response type the SDK's errors carry.
pub mod aws_smithy_http_response {
    pub type HttpResponse = aws_sdk_ec2::config::http::HttpResponse;
}

/// Follows a paginator to its end, each page under [`Caller::call`]. Evaluates to
/// `Result<Vec<Output>, CollectError>`.
#[macro_export]
macro_rules! paginate {
    ($ctx:expr, $op:expr, $stream:expr) => {{
        let mut stream = $stream;
        let mut pages = Vec::new();
        let mut failed = None;
        loop {
            match $ctx.next_page($op, stream.next()).await {
                Ok(Some(page)) => pages.push(page),
                Ok(None) => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(pages),
        }
    }};
}

const CREDENTIAL_CODES: &[&str] = &[
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "MissingAuthenticationToken",
];
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Forbidden",
];
const UNSUPPORTED_CODES: &[&str] = &[
    "InvalidAction",
    "UnknownOperationException",
    "UnsupportedOperation",
    "OptInRequired",
    "NotImplemented",
];

/// Keeps an error message short and on one line.
fn tidy(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(300).collect();
    if one_line.chars().count() > 300 {
        out.push('…');
    }
    out
}

/// Turns an SDK error into data: what kind of failure, in words a user can act on.
pub fn classify<E>(
    op: &str,
    region: &str,
    err: &SdkError<E, aws_smithy_http_response::HttpResponse>,
) -> CollectError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let full = tidy(&DisplayErrorContext(err).to_string());
    let (kind, message) = match err {
        SdkError::TimeoutError(_) => (ErrorKind::Timeout, "the call timed out".to_string()),
        SdkError::DispatchFailure(d) => {
            if d.is_timeout() {
                (ErrorKind::Timeout, format!("the call timed out ({full})"))
            } else if full.contains("credential") || full.contains("identity") {
                (
                    ErrorKind::Credentials,
                    format!("no usable AWS credentials ({full})"),
                )
            } else if d.is_io() {
                (
                    ErrorKind::Unreachable,
                    format!("the endpoint could not be reached ({full})"),
                )
            } else {
                (ErrorKind::Other, full.clone())
            }
        }
        SdkError::ConstructionFailure(_) => {
            if full.contains("credential") || full.contains("identity") {
                (
                    ErrorKind::Credentials,
                    format!("no usable AWS credentials ({full})"),
                )
            } else {
                (ErrorKind::Other, full.clone())
            }
        }
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            let meta = err.meta();
            let code = meta.code().or_else(|| match err {
                SdkError::ServiceError(s) => s.err().code(),
                _ => None,
            });
            let text = match (code, meta.message()) {
                (Some(c), Some(m)) => format!("{c}: {}", tidy(m)),
                (Some(c), None) => c.to_string(),
                _ => match status {
                    Some(s) => format!("HTTP {s} ({full})"),
                    None => full.clone(),
                },
            };
            let kind = match (code, status) {
                (Some(c), _) if CREDENTIAL_CODES.contains(&c) => ErrorKind::Credentials,
                (Some(c), _) if DENIED_CODES.contains(&c) => ErrorKind::AccessDenied,
                (Some(c), _) if limit::THROTTLE_CODES.contains(&c) => ErrorKind::Throttled,
                (Some(c), _) if UNSUPPORTED_CODES.contains(&c) => ErrorKind::Unsupported,
                (_, Some(401)) => ErrorKind::Credentials,
                (_, Some(403)) => ErrorKind::AccessDenied,
                (_, Some(429)) => ErrorKind::Throttled,
                (_, Some(s)) if s >= 500 => ErrorKind::ServiceError,
                _ => ErrorKind::Other,
            };
            (kind, text)
        }
        _ => (ErrorKind::Other, full.clone()),
    };
    CollectError {
        source: op.to_string(),
        region: Some(region.to_string()),
        kind,
        message,
    }
}

/// Runs `f` on every item concurrently (each API call still under the shared bound) and
/// returns the results in the items' order. For the calls that have no batch form.
pub async fn each<I, T, F, Fut>(items: Vec<I>, f: F) -> Vec<T>
where
    I: Send + 'static,
    T: Send + 'static,
    F: Fn(I) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let n = items.len();
    let mut set = tokio::task::JoinSet::new();
    for (i, item) in items.into_iter().enumerate() {
        let fut = f(item);
        set.spawn(async move { (i, fut.await) });
    }
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, v)) => out[i] = Some(v),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    out.into_iter()
        .map(|v| v.expect("every task reported"))
        .collect()
}

/// An SDK timestamp; `None` for one outside the years 0 to 9999, which AWS never sends.
pub fn timestamp(t: &aws_sdk_ec2::primitives::DateTime) -> Option<Timestamp> {
    time::OffsetDateTime::from_unix_timestamp_nanos(t.as_nanos())
        .ok()
        .map(Timestamp)
}

/// Tags as a sorted map.
pub fn tag_map<'a>(
    tags: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    tags.into_iter()
        .filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or("").to_string())))
        .collect()
}

/// A role to scan another account through (`--assume-role`, `--accounts`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub role_arn: String,
    pub external_id: Option<String>,
}

impl Target {
    /// Checks that `arn` is an IAM role ARN.
    pub fn new(arn: &str, external_id: Option<String>) -> Result<Target, String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "iam"
            && parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].chars().all(|c| c.is_ascii_digit())
            && parts[5]
                .strip_prefix("role/")
                .is_some_and(|r| !r.is_empty());
        if ok {
            Ok(Target {
                role_arn: arn.to_string(),
                external_id,
            })
        } else {
            Err(format!(
                "{arn:?} is not an IAM role ARN such as \"arn:aws:iam::111122223333:role/InfraverifyAudit\""
            ))
        }
    }

    /// The account the role is in.
    pub fn account(&self) -> &str {
        self.role_arn.split(':').nth(4).unwrap_or_default()
    }
}

/// The progress steps of collecting `services` in `regions` regions: one per regional
/// service and region, one per global service.
pub fn steps(services: &BTreeSet<Service>, regions: usize) -> u64 {
    services
        .iter()
        .map(|s| if s.is_global() { 1 } else { regions as u64 })
        .sum()
}

/// The region a run's global calls (IAM, Route 53, STS) go to: the first it scans.
pub fn home(opts: &CollectOptions) -> String {
    opts.regions
        .first()
        .cloned()
        .unwrap_or_else(|| "us-east-1".into())
}

/// Collects everything the rules read, from every region, into a snapshot: of the base
/// credentials' account (`target` `None`), or through a role in another account. `base` is
/// the run's configuration ([`sdk_config`]): one HTTP client, one bound on calls in flight
/// and one credentials cache for all accounts. If the role cannot be assumed, every call
/// fails with that error, so the account's controls are `error`, and the other accounts
/// are unaffected.
pub async fn collect_as(
    opts: &CollectOptions,
    base: &SdkConfig,
    target: Option<&Target>,
) -> Snapshot {
    let started_at = Timestamp::now();
    let home = home(opts);
    // Each region of this account gets its own slots (AWS throttles each account in each
    // region on its own).
    let gates: BTreeMap<&str, limit::Gate> = opts
        .regions
        .iter()
        .chain([&home])
        .map(|r| (r.as_str(), limit::Gate::new(opts.region_concurrency)))
        .collect();
    let gate = |r: &str| gates[r].clone();
    let mut base = base.clone();
    if let Some(t) = target {
        let mut role = aws_config::sts::AssumeRoleProvider::builder(&t.role_arn)
            .session_name("infraverify")
            .configure(&base);
        if let Some(id) = &t.external_id {
            role = role.external_id(id);
        }
        let provider = role.build().await;
        base = base
            .into_builder()
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
                provider,
            ))
            .build();
    }
    let account = match (target, &opts.account) {
        (None, Some(known)) => {
            let known = known.clone();
            tokio::spawn(async move { Ok(known) })
        }
        _ => {
            let caller = Caller::new(opts, &home, gate(&home));
            let base = base.clone();
            tokio::spawn(async move { sts::account(&caller, &base).await })
        }
    };
    let mut snap = Snapshot {
        schema: SNAPSHOT_SCHEMA.to_string(),
        tool: ToolInfo::current(),
        collection: CollectionInfo {
            started_at,
            finished_at: started_at,
            account: None,
            regions: opts.regions.clone(),
            endpoint_url: opts.endpoint_url.clone(),
            aws: true,
        },
        iam: Default::default(),
        route53: Default::default(),
        regions: opts
            .regions
            .iter()
            .map(|r| (r.clone(), RegionInventory::default()))
            .collect(),
        errors: vec![],
        repository: None,
        probes: None,
    };
    let domains: Arc<[String]> = opts.domains.clone().into();
    let env = |service: Service, region: &str| Env {
        caller: Caller::new(opts, region, gate(region)).for_service(wiring(service).actions),
        cfg: base.clone(),
        domains: domains.clone(),
    };
    let failed = run_jobs(opts, &home, env, &mut snap).await;
    // The snapshot says what could not be read; data of a service no enabled rule reads
    // was deliberately not collected, which is no error.
    let mut errors = crate::inventory::unavailable(&snap);
    errors.extend(failed);
    snap.collection.account = match account.await {
        Ok(Ok(a)) => Some(a),
        Ok(Err(e)) => {
            errors.push(e);
            // The role's account, even when it could not be assumed.
            target.map(|t| t.account().to_string())
        }
        Err(e) => {
            errors.push(CollectError {
                source: GET_CALLER_IDENTITY.into(),
                region: Some(home.clone()),
                kind: ErrorKind::Other,
                message: format!("the task failed: {e}"),
            });
            None
        }
    };
    snap.collection.finished_at = Timestamp::now();
    snap.errors = errors;
    snap.normalize();
    snap
}

/// Runs the wiring table's job of every wanted service in every region (a global service
/// once, in `home`), each as soon as the services it requires are in, all under the one
/// concurrency bound. Returns an error for each job that died (a bug): its data stays "not
/// collected", so its controls are `error`.
async fn run_jobs(
    opts: &CollectOptions,
    home: &str,
    env: impl Fn(Service, &str) -> Env,
    snap: &mut Snapshot,
) -> Vec<CollectError> {
    let mut pending: Vec<(Service, String)> = Vec::new();
    let mut left: BTreeMap<String, usize> = BTreeMap::new();
    for &s in &opts.services {
        if s.is_global() {
            pending.push((s, home.to_string()));
        } else {
            for r in &opts.regions {
                pending.push((s, r.clone()));
                *left.entry(r.clone()).or_default() += 1;
            }
        }
    }
    let mut done: BTreeSet<(Service, String)> = BTreeSet::new();
    let mut running = tokio::task::JoinSet::new();
    let mut jobs = std::collections::HashMap::new();
    let mut failed = Vec::new();
    loop {
        let ready = |(s, r): &(Service, String)| {
            s.requires()
                .iter()
                .all(|d| !opts.services.contains(d) || done.contains(&(*d, r.clone())))
        };
        let (now, later): (Vec<_>, Vec<_>) = pending.into_iter().partition(ready);
        pending = later;
        for (s, r) in now {
            let handle = running.spawn((wiring(s).job)(env(s, &r), snap));
            jobs.insert(handle.id(), (s, r));
        }
        let Some(joined) = running.join_next_with_id().await else {
            break;
        };
        let (id, result) = match joined {
            Ok((id, apply)) => (id, Ok(apply)),
            Err(e) => (e.id(), Err(e)),
        };
        let (s, r) = jobs.remove(&id).expect("every job is known");
        match result {
            Ok(apply) => apply(snap),
            Err(e) => failed.push(CollectError {
                source: format!("infraverify:{}", s.name()),
                region: Some(r.clone()),
                kind: ErrorKind::Other,
                message: format!("the {} collector failed: {e}", s.name()),
            }),
        }
        if s.is_global() {
            opts.progress.step(s.name());
        } else {
            opts.progress.step(&format!("{r} {}", s.name()));
            let n = left.get_mut(&r).expect("counted");
            *n -= 1;
            if *n == 0 && tracing::enabled!(tracing::Level::INFO) {
                let errors = crate::inventory::unavailable(&snap.regions[&r]).len();
                tracing::info!(region = %r, errors, "region collected");
            }
        }
        done.insert((s, r));
    }
    debug_assert!(pending.is_empty(), "jobs never started: {pending:?}");
    failed
}
/// The snapshot of a run that reads no AWS API (`--no-aws`): only probes fill it.
pub fn without_aws(started_at: Timestamp) -> Snapshot {
    Snapshot {
        schema: SNAPSHOT_SCHEMA.to_string(),
        tool: ToolInfo::current(),
        collection: CollectionInfo {
            started_at,
            finished_at: Timestamp::now(),
            account: None,
            regions: vec![],
            endpoint_url: None,
            aws: false,
        },
        iam: Default::default(),
        route53: Default::default(),
        regions: BTreeMap::new(),
        errors: vec![],
        repository: None,
        probes: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_short_line() {
        assert_eq!(tidy("a\n  b\tc"), "a b c");
        assert_eq!(tidy(&"x".repeat(400)).chars().count(), 301);
    }
}
