//! Live probes: DNS lookups, TLS handshakes and HTTP GETs, only against the names the
//! enabled rules list, each under a timeout. Nothing but GET and TLS handshakes is ever
//! sent. Results go into the snapshot ([`Probes`]) like any collected data.
//!
//! `--connect-to HOST:PORT:ADDR:PORT2` (as curl's) sends TLS and HTTP probes for HOST:PORT
//! to ADDR:PORT2 while SNI, certificate checks and the Host header keep HOST;
//! `--dns-server` sends every lookup (those for connecting included) to one server;
//! `--ca-file` adds trusted roots to the public ones (Mozilla's, built in).

pub mod dns;
pub mod http;
pub mod tls;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use tokio::sync::Semaphore;

use crate::inventory::probe::{
    dns_key, tls_key, ProbePlan, ProbeSettings, Probes, RecordType, PROBE_DNS, PROBE_HTTP,
    PROBE_TLS,
};
use crate::inventory::route53::canonical_name;
use crate::inventory::{CollectError, ErrorKind, Observed, Snapshot};

/// Redirects followed by hand before an HTTP chain is cut off.
pub const MAX_REDIRECTS: usize = 5;

/// `--connect-to HOST:PORT:ADDR:PORT2`. An empty HOST or PORT matches any; an empty ADDR
/// or PORT2 keeps the original.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectTo {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub addr: Option<String>,
    pub port2: Option<u16>,
    pub text: String,
}

impl ConnectTo {
    pub fn parse(s: &str) -> Result<ConnectTo, String> {
        let bad = |why: &str| {
            format!("--connect-to {s:?}: {why}; expected HOST:PORT:ADDR:PORT2, e.g. app.example.com:443:127.0.0.1:8443")
        };
        let mut parts = Vec::new();
        let mut rest = s;
        for i in 0..4 {
            let (part, tail) = if let Some(inner) = rest.strip_prefix('[') {
                let end = inner.find(']').ok_or_else(|| bad("unclosed '['"))?;
                let after = &inner[end + 1..];
                if !(after.is_empty() || after.starts_with(':')) {
                    return Err(bad("text after ']'"));
                }
                (&inner[..end], after.strip_prefix(':').unwrap_or(after))
            } else if i == 3 {
                (rest, "")
            } else {
                match rest.split_once(':') {
                    Some((p, t)) => (p, t),
                    None => return Err(bad("too few fields")),
                }
            };
            parts.push(part.to_string());
            rest = tail;
        }
        let port = |p: &str| -> Result<Option<u16>, String> {
            if p.is_empty() {
                return Ok(None);
            }
            match p.parse::<u16>() {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(bad(&format!("{p:?} is not a port"))),
            }
        };
        let opt = |p: &str| (!p.is_empty()).then(|| p.to_ascii_lowercase());
        Ok(ConnectTo {
            host: opt(&parts[0]).map(|h| canonical_name(&h)),
            port: port(&parts[1])?,
            addr: opt(&parts[2]),
            port2: port(&parts[3])?,
            text: s.to_string(),
        })
    }

    fn applies(&self, host: &str, port: u16) -> bool {
        self.host.as_deref().is_none_or(|h| h == host) && self.port.is_none_or(|p| p == port)
    }
}

/// A `--ca-file`: its path and certificates.
#[derive(Clone, Debug)]
pub struct CaFile {
    pub path: String,
    pub certs: Vec<CertificateDer<'static>>,
}

impl CaFile {
    /// Reads a PEM file; it must hold at least one certificate.
    pub fn read(path: &str) -> Result<CaFile, String> {
        use rustls::pki_types::pem::PemObject;
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read --ca-file {path}: {e}"))?;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("--ca-file {path} is not valid PEM: {e}"))?;
        if certs.is_empty() {
            return Err(format!("--ca-file {path} holds no certificate"));
        }
        Ok(CaFile {
            path: path.to_string(),
            certs,
        })
    }
}

#[derive(Clone, Debug)]
pub struct ProbeOptions {
    pub dns_server: Option<SocketAddr>,
    pub connect_to: Vec<ConnectTo>,
    pub ca_file: Option<CaFile>,
    /// For one probe step: a lookup, a connection with its handshake, one HTTP exchange.
    pub timeout: Duration,
    /// Probes in flight at once.
    pub concurrency: usize,
    /// When the whole scan must be over (`--timeout`).
    pub deadline: Option<tokio::time::Instant>,
}

/// Where a probe connects, or why it cannot.
pub enum Target {
    Addr(SocketAddr),
    /// The name does not exist (NXDOMAIN) or has no address: data, not an error.
    NoAddress(String),
    Unavailable(CollectError),
}

/// Shared by every probe: the resolver, the trusted roots, the options.
pub struct Prober {
    pub opts: ProbeOptions,
    resolver: Result<hickory_resolver::TokioResolver, String>,
    roots: Arc<rustls::RootCertStore>,
    sem: Semaphore,
}

impl Prober {
    pub fn new(opts: ProbeOptions) -> Prober {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(ca) = &opts.ca_file {
            for c in &ca.certs {
                // A certificate webpki cannot use as a trust anchor is skipped, as curl does;
                // the handshakes then say "unknown issuer".
                if let Err(e) = roots.add(c.clone()) {
                    tracing::warn!(path = %ca.path, error = %e, "a --ca-file certificate is not usable as a root");
                }
            }
        }
        let resolver = dns::resolver(opts.dns_server, opts.timeout);
        Prober {
            sem: Semaphore::new(opts.concurrency.max(1)),
            resolver,
            roots: Arc::new(roots),
            opts,
        }
    }

    /// Runs one probe under the concurrency bound and the scan's `--timeout`.
    async fn bounded<T>(
        &self,
        source: &str,
        what: &str,
        probe: impl std::future::Future<Output = Observed<T>>,
    ) -> Observed<T> {
        let late = || {
            Observed::unavailable(self.error(
                source,
                ErrorKind::Timeout,
                format!("{what}: {}", super::DEADLINE_MESSAGE),
            ))
        };
        let wait = super::within(self.opts.deadline, Duration::MAX);
        let Ok(permit) = tokio::time::timeout(wait, self.sem.acquire()).await else {
            return late();
        };
        let _permit = permit.expect("never closed");
        let left = super::within(self.opts.deadline, Duration::MAX);
        if left.is_zero() {
            return late();
        }
        tokio::time::timeout(left, probe)
            .await
            .unwrap_or_else(|_| late())
    }

    pub fn error(&self, source: &str, kind: ErrorKind, message: String) -> CollectError {
        CollectError {
            source: source.to_string(),
            region: None,
            kind,
            message,
        }
    }

    /// Where to connect for HOST:PORT: `--connect-to` first, else the resolver.
    pub async fn target(&self, source: &str, host: &str, port: u16) -> Target {
        let host = canonical_name(host);
        let rule = self.opts.connect_to.iter().find(|c| c.applies(&host, port));
        let (name, port) = match rule {
            Some(c) => (
                c.addr.clone().unwrap_or_else(|| host.clone()),
                c.port2.unwrap_or(port),
            ),
            None => (host.clone(), port),
        };
        // An address --connect-to names that does not resolve says nothing about HOST.
        let redirected = rule.is_some_and(|c| c.addr.is_some());
        if let Ok(ip) = name.parse::<IpAddr>() {
            return Target::Addr(SocketAddr::new(ip, port));
        }
        let via = |why: String| {
            Target::Unavailable(self.error(
                source,
                ErrorKind::Other,
                format!("--connect-to for {host}:{port}: {why}"),
            ))
        };
        match dns::addresses(self, &name).await {
            Ok(Some(ips)) => match ips.first() {
                Some(ip) => Target::Addr(SocketAddr::new(*ip, port)),
                None if redirected => via(format!("{name} has no A or AAAA record")),
                None => Target::NoAddress(format!("{name} has no A or AAAA record")),
            },
            Ok(None) if redirected => via(format!("{name} does not exist in DNS")),
            Ok(None) => Target::NoAddress(format!("{name} does not exist in DNS (NXDOMAIN)")),
            Err(e) => Target::Unavailable(self.error(
                source,
                e.kind,
                format!("cannot resolve {name}: {}", e.message),
            )),
        }
    }
}

/// Runs the planned probes concurrently. Returns the results and every probe that could
/// not observe anything, as collection errors.
pub async fn run(plan: &ProbePlan, opts: ProbeOptions) -> (Probes, Vec<CollectError>) {
    let prober = Arc::new(Prober::new(opts));
    let mut probes = Probes {
        settings: settings(&prober.opts),
        ..Probes::default()
    };
    let dns = super::each(plan.dns.iter().cloned().collect(), |(name, rtype)| {
        let p = prober.clone();
        async move {
            let what = format!("{name} {rtype}");
            let answer = p
                .bounded(PROBE_DNS, &what, dns::lookup(&p, &name, rtype))
                .await;
            (dns_key(&name, rtype), answer)
        }
    });
    let tls = super::each(plan.tls.iter().cloned().collect(), |(host, port)| {
        let p = prober.clone();
        async move {
            let what = format!("{host}:{port}");
            let result = p
                .bounded(PROBE_TLS, &what, tls::probe(&p, &host, port))
                .await;
            (tls_key(&host, port), result)
        }
    });
    let http = super::each(plan.http.iter().cloned().collect(), |url| {
        let p = prober.clone();
        async move {
            let chain = p.bounded(PROBE_HTTP, &url, http::chain(&p, &url)).await;
            (url, chain)
        }
    });
    let (dns, tls, http) = tokio::join!(dns, tls, http);
    probes.dns = dns.into_iter().collect();
    probes.tls = tls.into_iter().collect();
    probes.http = http.into_iter().collect();
    let errors = errors(&probes);
    (probes, errors)
}

/// The internet-facing load balancers' DNS names: the second stage of probing, after AWS
/// was read, resolves them ([`probe_names`]) so live answers can be compared with them.
pub fn load_balancer_names(snap: &Snapshot) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for inv in snap.regions.values() {
        if let Ok(Some(lbs)) = inv.elbv2.load_balancers.get() {
            for lb in lbs.values().filter(|l| l.is_internet_facing_alb()) {
                if let Some(d) = &lb.dns_name {
                    names.insert(canonical_name(d));
                }
            }
        }
    }
    names
}

/// Resolves `names` (A and AAAA).
pub async fn probe_names(
    names: &BTreeSet<String>,
    opts: ProbeOptions,
) -> BTreeMap<String, Observed<crate::inventory::probe::DnsAnswer>> {
    let mut plan = ProbePlan::default();
    for n in names {
        plan.dns(n, RecordType::A);
        plan.dns(n, RecordType::Aaaa);
    }
    if plan.is_empty() {
        return BTreeMap::new();
    }
    run(&plan, opts).await.0.dns
}

fn settings(opts: &ProbeOptions) -> ProbeSettings {
    ProbeSettings {
        dns_server: opts.dns_server.map(|s| s.to_string()),
        connect_to: opts.connect_to.iter().map(|c| c.text.clone()).collect(),
        ca_file: opts.ca_file.as_ref().map(|c| c.path.clone()),
        timeout_seconds: opts.timeout.as_secs(),
    }
}

/// Every probe that observed nothing, sorted.
pub fn errors(p: &Probes) -> Vec<CollectError> {
    let mut out: Vec<CollectError> = p
        .dns
        .values()
        .filter_map(|o| o.error().cloned())
        .chain(p.tls.values().filter_map(|o| o.error().cloned()))
        .chain(p.http.values().filter_map(|o| match o.get() {
            Ok(Some(c)) => c.unobserved.clone(),
            _ => o.error().cloned(),
        }))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A problem a probe met, already classified.
#[derive(Clone, Debug)]
pub struct ProbeFailure {
    pub kind: ErrorKind,
    pub message: String,
}

/// Classifies an I/O error met while connecting: a refused connection is something the
/// endpoint shows (`Ok`, as data); anything else means nothing could be observed.
pub fn connect_failure(e: &std::io::Error) -> Result<String, ProbeFailure> {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => Ok("connection refused".into()),
        K::ConnectionReset | K::ConnectionAborted => Ok("connection reset by the server".into()),
        K::UnexpectedEof => Ok("the server closed the connection".into()),
        K::TimedOut => Err(ProbeFailure {
            kind: ErrorKind::Timeout,
            message: "the connection timed out".into(),
        }),
        _ => Err(ProbeFailure {
            kind: ErrorKind::Unreachable,
            message: format!("cannot connect: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_to_reads_like_curl() {
        let c = ConnectTo::parse("App.Example.com:443:127.0.0.1:8443").unwrap();
        assert_eq!(c.host.as_deref(), Some("app.example.com"));
        assert_eq!((c.port, c.port2), (Some(443), Some(8443)));
        assert_eq!(c.addr.as_deref(), Some("127.0.0.1"));
        assert!(c.applies("app.example.com", 443));
        assert!(!c.applies("app.example.com", 80));
        assert!(!c.applies("www.example.com", 443));

        let any = ConnectTo::parse("::[::1]:").unwrap();
        assert_eq!(any.addr.as_deref(), Some("::1"));
        assert_eq!(
            (any.host.as_deref(), any.port, any.port2),
            (None, None, None)
        );
        assert!(any.applies("whatever.example", 80));

        let v6 = ConnectTo::parse("[2001:db8::1]:443:[::1]:8443").unwrap();
        assert_eq!(v6.host.as_deref(), Some("2001:db8::1"));
        assert_eq!(v6.addr.as_deref(), Some("::1"));

        for bad in [
            "app:443",
            "app:x:1.2.3.4:1",
            "app:443:1.2.3.4:70000",
            "[::1:443::1",
        ] {
            let e = ConnectTo::parse(bad).unwrap_err();
            assert!(e.contains("HOST:PORT:ADDR:PORT2"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_refused_connection_is_data_and_a_timeout_is_not() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(connect_failure(&refused).unwrap(), "connection refused");
        let slow = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!(connect_failure(&slow).unwrap_err().kind, ErrorKind::Timeout);
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty.pem");
        std::fs::write(&p, "not pem\n").unwrap();
        let e = CaFile::read(p.to_str().unwrap()).unwrap_err();
        assert!(e.contains("holds no certificate"), "{e}");
        let e = CaFile::read("/nonexistent/ca.pem").unwrap_err();
        assert!(e.contains("cannot read --ca-file"), "{e}");
    }
}
