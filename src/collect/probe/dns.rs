//! DNS probes through hickory-resolver: the system's resolver, or `--dns-server`.
//! NXDOMAIN and "no records of that type" are answers (data); a timeout, a refusal or a
//! SERVFAIL means nothing was observed.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType as Wire};
use hickory_resolver::TokioResolver;

use super::{ProbeFailure, Prober};
use crate::inventory::probe::{DnsAnswer, RecordType, PROBE_DNS};
use crate::inventory::route53::canonical_name;
use crate::inventory::{ErrorKind, Observed};

/// The resolver every probe uses; an error (no usable system configuration) is kept and
/// reported by each lookup.
pub fn resolver(server: Option<SocketAddr>, timeout: Duration) -> Result<TokioResolver, String> {
    let mut builder = match server {
        Some(addr) => {
            let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
            for c in &mut ns.connections {
                c.port = addr.port();
            }
            TokioResolver::builder_with_config(
                ResolverConfig::from_parts(None, vec![], vec![ns]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio()
            .map_err(|e| format!("no usable system DNS configuration: {e}"))?,
    };
    let o = builder.options_mut();
    o.timeout = timeout;
    o.attempts = 2;
    // Answers must be fresh and complete: no hosts file, no search domains.
    o.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
    o.ndots = 0;
    builder
        .build()
        .map_err(|e| format!("cannot set up the DNS resolver: {e}"))
}

fn fqdn(name: &str) -> String {
    format!("{}.", canonical_name(name))
}

fn wire_type(rtype: RecordType) -> Wire {
    match rtype {
        RecordType::A => Wire::A,
        RecordType::Aaaa => Wire::AAAA,
        RecordType::Cname => Wire::CNAME,
        RecordType::Ns => Wire::NS,
        RecordType::Txt => Wire::TXT,
    }
}

/// What a lookup error means: an answer saying "none" (`Ok` with its response code), or
/// a failure to observe.
fn negative(e: &NetError) -> Result<String, ProbeFailure> {
    match e {
        NetError::Dns(DnsError::NoRecordsFound(nr)) => Ok(match nr.response_code {
            ResponseCode::NXDomain => "NXDOMAIN".to_string(),
            _ => "NOERROR".to_string(),
        }),
        NetError::Timeout => Err(ProbeFailure {
            kind: ErrorKind::Timeout,
            message: "no answer from the DNS server in time".into(),
        }),
        NetError::Dns(DnsError::ResponseCode(code)) => Err(ProbeFailure {
            kind: ErrorKind::ServiceError,
            message: format!("the DNS server answered {code}"),
        }),
        NetError::Io(_) | NetError::NoConnections => Err(ProbeFailure {
            kind: ErrorKind::Unreachable,
            message: format!("the DNS server could not be reached ({e})"),
        }),
        other => Err(ProbeFailure {
            kind: ErrorKind::Other,
            message: other.to_string(),
        }),
    }
}

/// One lookup of `name`/`rtype`, as data.
pub async fn lookup(p: &Prober, name: &str, rtype: RecordType) -> Observed<DnsAnswer> {
    let name = canonical_name(name);
    let resolver = match &p.resolver {
        Ok(r) => r,
        Err(e) => {
            return Observed::unavailable(p.error(
                PROBE_DNS,
                ErrorKind::Unreachable,
                format!("{name} {rtype}: {e}"),
            ))
        }
    };
    let wanted = wire_type(rtype);
    let result =
        tokio::time::timeout(p.opts.timeout * 3, resolver.lookup(fqdn(&name), wanted)).await;
    let fail = |f: ProbeFailure| {
        Observed::unavailable(p.error(PROBE_DNS, f.kind, format!("{name} {rtype}: {}", f.message)))
    };
    match result {
        Err(_) => fail(ProbeFailure {
            kind: ErrorKind::Timeout,
            message: "no answer in time".into(),
        }),
        Ok(Err(e)) => match negative(&e) {
            Ok(rcode) => Observed::present(DnsAnswer {
                rcode,
                records: vec![],
                cnames: vec![],
            }),
            Err(f) => fail(f),
        },
        Ok(Ok(lookup)) => {
            let mut records = Vec::new();
            let mut cnames = Vec::new();
            for r in lookup.answers() {
                let owner = canonical_name(&r.name.to_string());
                match &r.data {
                    RData::CNAME(target) if wanted != Wire::CNAME => {
                        cnames.push(format!(
                            "{owner} -> {}",
                            canonical_name(&target.0.to_string())
                        ));
                    }
                    data if data.record_type() == wanted => records.push(text(data)),
                    _ => {}
                }
            }
            records.sort();
            // Two identical TXT records are two records (two SPF records are an error).
            if wanted != Wire::TXT {
                records.dedup();
            }
            Observed::present(DnsAnswer {
                rcode: "NOERROR".into(),
                records,
                cnames,
            })
        }
    }
}

fn text(data: &RData) -> String {
    match data {
        RData::CNAME(n) => canonical_name(&n.0.to_string()),
        RData::NS(n) => canonical_name(&n.0.to_string()),
        other => other.to_string(),
    }
}

/// The addresses of `name` for connecting: `Ok(None)` when the name does not exist,
/// `Ok(Some(empty))` when it has no address records.
pub async fn addresses(p: &Prober, name: &str) -> Result<Option<Vec<IpAddr>>, ProbeFailure> {
    let resolver = p.resolver.as_ref().map_err(|e| ProbeFailure {
        kind: ErrorKind::Unreachable,
        message: e.clone(),
    })?;
    let result = tokio::time::timeout(p.opts.timeout * 3, resolver.lookup_ip(fqdn(name)))
        .await
        .map_err(|_| ProbeFailure {
            kind: ErrorKind::Timeout,
            message: "no answer in time".into(),
        })?;
    match result {
        Ok(ips) => {
            let mut v: Vec<IpAddr> = ips.iter().collect();
            // IPv4 first: the probe host may have no IPv6 route.
            v.sort_by_key(|ip| (ip.is_ipv6(), *ip));
            Ok(Some(v))
        }
        Err(e) => match negative(&e)? {
            rcode if rcode == "NXDOMAIN" => Ok(None),
            _ => Ok(Some(vec![])),
        },
    }
}
