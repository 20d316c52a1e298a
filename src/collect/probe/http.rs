//! HTTP probes: `GET` only, redirects followed by hand (at most [`MAX_REDIRECTS`]) so that
//! every hop's status and `Location` are kept. Each hop connects where `--connect-to` or
//! the resolver says, and verifies certificates as a browser would.

use std::sync::Arc;

use reqwest::Url;

use super::{connect_failure, tls, Prober, Target, MAX_REDIRECTS, PROBE_HTTP};
use crate::inventory::probe::{HttpChain, HttpHop};
use crate::inventory::{ErrorKind, Observed};

const USER_AGENT: &str = concat!(
    "infraverify/",
    env!("CARGO_PKG_VERSION"),
    " (read-only compliance probe)"
);

/// How one hop ended when it gave no answer.
enum HopError {
    /// The host has no address in DNS.
    NotFound(String),
    /// The endpoint showed something wrong (refused, bad certificate): data.
    Shown(String),
    /// Nothing could be observed (timeout, unreachable).
    Unobserved(ErrorKind, String),
}

/// Follows `url` through its redirects.
pub async fn chain(p: &Prober, url: &str) -> Observed<HttpChain> {
    let mut out = HttpChain::default();
    let mut next = match Url::parse(url) {
        Ok(u) => u,
        Err(e) => {
            return Observed::unavailable(p.error(
                PROBE_HTTP,
                ErrorKind::Other,
                format!("{url} is not a URL: {e}"),
            ))
        }
    };
    let config = Arc::new(tls::verifying_config(p.roots.clone()));
    for _ in 0..=MAX_REDIRECTS {
        if out.hops.iter().any(|h| h.url == next.as_str()) {
            out.failure = Some(format!("redirect loop at {next}"));
            return Observed::present(out);
        }
        match hop(p, &next, &config).await {
            Ok(h) => {
                let follow = (300..400)
                    .contains(&h.status)
                    .then(|| h.location.as_deref().and_then(|l| next.join(l).ok()))
                    .flatten();
                out.hops.push(h);
                match follow {
                    Some(u) => next = u,
                    None => return Observed::present(out),
                }
            }
            Err(HopError::NotFound(why)) => {
                out.name_not_found = out.hops.is_empty();
                out.failure = Some(format!("{next}: {why}"));
                return Observed::present(out);
            }
            Err(HopError::Shown(why)) => {
                out.failure = Some(format!("{next}: {why}"));
                return Observed::present(out);
            }
            Err(HopError::Unobserved(kind, why)) => {
                let e = p.error(PROBE_HTTP, kind, format!("{next}: {why}"));
                if out.hops.is_empty() {
                    return Observed::unavailable(e);
                }
                // What the earlier hops answered is observed; only the rest is unknown.
                out.unobserved = Some(e);
                return Observed::present(out);
            }
        }
    }
    out.failure = Some(format!("more than {MAX_REDIRECTS} redirects"));
    Observed::present(out)
}

async fn hop(
    p: &Prober,
    url: &Url,
    config: &Arc<rustls::ClientConfig>,
) -> Result<HttpHop, HopError> {
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Err(HopError::Shown(format!("{url} has no host")));
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(HopError::Shown(format!(
            "{} is not http or https",
            url.scheme()
        )));
    }
    let addr = match p.target(PROBE_HTTP, host, port).await {
        Target::Addr(a) => a,
        Target::NoAddress(why) => return Err(HopError::NotFound(why)),
        Target::Unavailable(e) => return Err(HopError::Unobserved(e.kind, e.message)),
    };
    if url.port().is_some_and(|explicit| explicit != addr.port()) {
        return Err(HopError::Unobserved(
            ErrorKind::Other,
            "--connect-to cannot change the port of a URL that names one".into(),
        ));
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(USER_AGENT)
        .connect_timeout(p.opts.timeout)
        .timeout(p.opts.timeout)
        .tls_backend_preconfigured((**config).clone())
        // The URL carries no port unless it names one, so the override's port is used.
        .resolve(host, addr)
        .build()
        .map_err(|e| HopError::Unobserved(ErrorKind::Other, format!("cannot set up HTTP: {e}")))?;
    let resp = client.get(url.clone()).send().await.map_err(classify)?;
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Ok(HttpHop {
        url: url.to_string(),
        status: resp.status().as_u16(),
        location: header("location"),
        hsts: (url.scheme() == "https")
            .then(|| header("strict-transport-security"))
            .flatten(),
    })
}

/// What a reqwest error means for the control: something the endpoint shows, or nothing
/// observed.
fn classify(e: reqwest::Error) -> HopError {
    if e.is_timeout() {
        return HopError::Unobserved(ErrorKind::Timeout, "no answer in time".into());
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(t) = s.downcast_ref::<rustls::Error>() {
            return HopError::Shown(format!("TLS: {}", tls::describe(t)));
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if let Some(t) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return HopError::Shown(format!("TLS: {}", tls::describe(t)));
            }
            return match connect_failure(io) {
                Ok(why) => HopError::Shown(why),
                Err(f) => HopError::Unobserved(f.kind, f.message),
            };
        }
        source = s.source();
    }
    if e.is_connect() {
        HopError::Unobserved(ErrorKind::Unreachable, format!("cannot connect: {e}"))
    } else {
        // The server answered with something that is not HTTP, or closed mid-answer.
        HopError::Shown(format!("no valid HTTP answer ({e})"))
    }
}
