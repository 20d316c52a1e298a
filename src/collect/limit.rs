//! Where AWS calls go on the wire. Every call of a run passes through one [`Limited`] HTTP
//! client, which
//!
//! - keeps at most `--concurrency` HTTP exchanges in flight across all accounts, regions
//!   and services (one connection pool for the whole fleet);
//! - keeps at most `--region-concurrency` of them in one account and region (the caller's
//!   [`Gate`]), since AWS throttles each account in each region on its own;
//! - waits out AWS's throttling answers without holding either slot, so one throttled call
//!   never idles the others, and sends the call again (the SDK's own retries, with their
//!   client-wide retry quota, are left for timeouts and 5xx);
//! - bounds the time on the wire: one exchange at most the attempt timeout, all exchanges of
//!   one call together at most twice that. Time spent waiting for a slot or backing off is
//!   not on the wire, so a long queue in a large fleet never turns into a false timeout.
//!
//! A call's gate and budget travel with it as a task-local ([`Caller`](super::Caller) sets
//! them around the SDK call; the SDK polls the connector within that call's task).

use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ec2::config::http::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use tokio::sync::Semaphore;

/// HTTP exchanges in flight in one account and region, by default: a scan of one region
/// makes a few dozen calls spread over some 40 APIs, and AWS meters each account, region
/// and API with its own token bucket (EC2's non-mutating calls: 100 tokens, refilled at 20
/// a second). Eight exchanges at a time is at most a few hundred calls a second at the
/// lowest latencies, over many buckets; the per-item fan-outs (a listener's rules, a
/// repository's policy) stay within one bucket's burst for all but the largest accounts,
/// whose throttling is then waited out, not failed.
pub const REGION_CONCURRENCY: usize = 8;

/// How often one exchange is sent again after a throttling answer before the answer is
/// handed to the SDK (whose own retries then apply).
const THROTTLE_RETRIES: u32 = 8;
/// The back-off after the first throttling answer; it doubles with each, to at most
/// [`THROTTLE_CAP`], and the wait is drawn uniformly below it ("full jitter").
const THROTTLE_BASE: Duration = Duration::from_millis(200);
const THROTTLE_CAP: Duration = Duration::from_secs(10);

/// The AWS error codes that mean "slow down".
pub const THROTTLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
];

/// What one call may use: its account and region's slots, and what is left of its time on
/// the wire.
#[derive(Debug)]
pub struct Budget {
    gate: Gate,
    /// Time on the wire still allowed to this call.
    left: Mutex<Duration>,
}

impl Budget {
    pub fn new(gate: Gate, wire: Duration) -> Arc<Budget> {
        Arc::new(Budget {
            gate,
            left: Mutex::new(wire),
        })
    }
}

tokio::task_local! {
    /// The budget of the call being made in this task.
    pub static CALL: Arc<Budget>;
}

/// The slots of one account and region.
#[derive(Clone, Debug)]
pub struct Gate(Arc<Semaphore>);

impl Gate {
    pub fn new(n: usize) -> Gate {
        Gate(Arc::new(Semaphore::new(n.max(1))))
    }
}

/// The HTTP client every AWS call of a run goes through (see the module's documentation).
#[derive(Clone, Debug)]
pub struct Limited {
    inner: SharedHttpClient,
    slots: Arc<Semaphore>,
    attempt: Duration,
}

impl Limited {
    /// Wraps `inner` (the SDK's default HTTPS client) under `slots`, each exchange allowed
    /// `attempt`.
    pub fn new(inner: SharedHttpClient, slots: Arc<Semaphore>, attempt: Duration) -> Limited {
        Limited {
            inner,
            slots,
            attempt,
        }
    }
}

impl HttpClient for Limited {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            inner: self.inner.http_connector(settings, components),
            slots: self.slots.clone(),
            attempt: self.attempt,
        })
    }
}

#[derive(Clone, Debug)]
struct Connector {
    inner: SharedHttpConnector,
    slots: Arc<Semaphore>,
    attempt: Duration,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let this = self.clone();
        let budget = CALL.try_with(Arc::clone).ok();
        HttpConnectorFuture::new(async move { this.send(request, budget).await })
    }
}

impl Connector {
    async fn send(
        &self,
        mut request: HttpRequest,
        budget: Option<Arc<Budget>>,
    ) -> Result<HttpResponse, ConnectorError> {
        let mut throttled = 0;
        loop {
            let again = request.try_clone();
            let response = self.exchange(request, budget.as_deref()).await?;
            match again {
                Some(next) if throttled < THROTTLE_RETRIES && is_throttling(&response) => {
                    throttled += 1;
                    tracing::debug!(throttled, "throttled; backing off without a slot");
                    tokio::time::sleep(backoff(throttled)).await;
                    request = next;
                }
                _ => return Ok(response),
            }
        }
    }

    /// One exchange, request to the last byte of the answer, holding a slot of the account
    /// and region and one of the run.
    async fn exchange(
        &self,
        request: HttpRequest,
        budget: Option<&Budget>,
    ) -> Result<HttpResponse, ConnectorError> {
        let _local = match budget {
            Some(b) => Some(b.gate.0.acquire().await.expect("never closed")),
            None => None,
        };
        let _slot = self.slots.acquire().await.expect("never closed");
        let limit = match budget {
            Some(b) => self.attempt.min(*b.left.lock().expect("not poisoned")),
            None => self.attempt,
        };
        if limit.is_zero() {
            return Err(timeout(self.attempt * 2, "in all"));
        }
        let started = tokio::time::Instant::now();
        let inner = self.inner.clone();
        let result = tokio::time::timeout(limit, async move {
            let mut response = inner.call(request).await?;
            let body = ByteStream::new(response.take_body())
                .collect()
                .await
                .map_err(|e| ConnectorError::io(e.into()))?;
            *response.body_mut() = SdkBody::from(body.into_bytes());
            Ok(response)
        })
        .await;
        if let Some(b) = budget {
            let mut left = b.left.lock().expect("not poisoned");
            *left = left.saturating_sub(started.elapsed());
        }
        match result {
            Ok(r) => r,
            Err(_) if limit < self.attempt => Err(timeout(self.attempt * 2, "in all")),
            Err(_) => Err(timeout(self.attempt, "for one attempt")),
        }
    }
}

fn timeout(after: Duration, what: &str) -> ConnectorError {
    ConnectorError::timeout(format!("no answer within {after:?} {what}").into())
}

/// A uniformly random wait below `min(cap, base × 2^(n-1))`.
fn backoff(n: u32) -> Duration {
    let ceiling = THROTTLE_BASE
        .saturating_mul(1 << (n - 1).min(16))
        .min(THROTTLE_CAP);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    ceiling.mul_f64((random >> 11) as f64 / (1u64 << 53) as f64)
}

/// Whether AWS answered "slow down": HTTP 429, or an error code of [`THROTTLE_CODES`] in
/// the `x-amzn-ErrorType` header, a JSON body's `__type` or `code`, or an XML body's first
/// `<Code>`.
pub fn is_throttling(response: &HttpResponse) -> bool {
    let status = response.status().as_u16();
    if status == 429 {
        return true;
    }
    if status < 400 {
        return false;
    }
    error_code(response).is_some_and(|c| THROTTLE_CODES.contains(&c.as_str()))
}

fn error_code(response: &HttpResponse) -> Option<String> {
    let short = |s: &str| {
        let s = s.split(':').next().unwrap_or(s);
        s.rsplit('#').next().unwrap_or(s).trim().to_string()
    };
    if let Some(t) = response.headers().get("x-amzn-errortype") {
        return Some(short(t));
    }
    let body = response.body().bytes()?;
    let text = std::str::from_utf8(body).ok()?;
    if text.trim_start().starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let code = v.get("__type").or_else(|| v.get("code"))?.as_str()?;
        return Some(short(code));
    }
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    Some(text[start..end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        let mut r = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body.to_string()));
        for (k, v) in headers {
            r.headers_mut().insert(k.to_string(), v.to_string());
        }
        r
    }

    #[test]
    fn throttling_is_recognised_in_every_protocol() {
        let ec2 = "<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>";
        let query = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code></Error></ErrorResponse>";
        let json =
            r#"{"__type":"com.amazonaws.ecs#ThrottlingException","message":"Rate exceeded"}"#;
        assert!(is_throttling(&answer(503, &[], ec2)));
        assert!(is_throttling(&answer(400, &[], query)));
        assert!(is_throttling(&answer(400, &[], json)));
        assert!(is_throttling(&answer(
            400,
            &[("x-amzn-ErrorType", "ThrottlingException:http://internal")],
            "{}"
        )));
        assert!(is_throttling(&answer(429, &[], "")));
        // Not throttling: success, another error, a 503 without a code.
        let denied = "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>";
        assert!(!is_throttling(&answer(200, &[], query)));
        assert!(!is_throttling(&answer(403, &[], denied)));
        assert!(!is_throttling(&answer(503, &[], "Service Unavailable")));
        assert!(!is_throttling(&answer(
            400,
            &[],
            r#"{"__type":"ValidationException"}"#
        )));
    }

    #[test]
    fn back_off_grows_to_its_cap_with_jitter() {
        for n in 1..=THROTTLE_RETRIES {
            let ceiling = THROTTLE_BASE.saturating_mul(1 << (n - 1)).min(THROTTLE_CAP);
            let waits: Vec<Duration> = (0..50).map(|_| backoff(n)).collect();
            assert!(waits.iter().all(|w| *w < ceiling), "{n}: {waits:?}");
            assert!(waits.iter().any(|w| *w != waits[0]), "jittered");
        }
    }
}
