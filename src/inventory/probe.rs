//! Live probes: what the names the policy lists answer over DNS, TLS and HTTP, stored like
//! any collected data so that `evaluate` gives the same verdicts offline.
//!
//! A probe that could not observe anything (a timeout, an unresolvable name, a DNS server
//! that does not answer) is [`Observed::Unavailable`], which makes its controls `error`.
//! A failure the endpoint itself shows (an expired certificate, a refused connection, a
//! 302) is data, and its controls can fail on it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::route53::canonical_name;
use super::{Observed, Timestamp};

/// The `source` of a probe's errors and evidence, as an API operation names an AWS call's.
pub const PROBE_DNS: &str = "probe:dns";
pub const PROBE_TLS: &str = "probe:tls";
pub const PROBE_HTTP: &str = "probe:http";

/// The DNS record types a probe looks up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordType {
    A,
    Aaaa,
    Cname,
    Ns,
    Txt,
}

impl RecordType {
    /// As DNS writes it: `A`, `AAAA`, `CNAME`, `NS`, `TXT`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Ns => "NS",
            RecordType::Txt => "TXT",
        }
    }
}

impl std::fmt::Display for RecordType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the enabled rules want probed. Rules fill it from their parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbePlan {
    /// (name, record type).
    pub dns: BTreeSet<(String, RecordType)>,
    pub tls: BTreeSet<(String, u16)>,
    pub http: BTreeSet<String>,
    /// Also resolve (A and AAAA) the DNS names of the internet-facing load balancers the
    /// AWS collection finds, to compare live answers with.
    pub load_balancer_names: bool,
}

impl ProbePlan {
    pub fn dns(&mut self, name: &str, rtype: RecordType) {
        self.dns.insert((canonical_name(name), rtype));
    }

    pub fn tls(&mut self, host: &str, port: u16) {
        self.tls.insert((canonical_name(host), port));
    }

    pub fn http(&mut self, url: &str) {
        self.http.insert(url.to_string());
    }

    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.tls.is_empty() && self.http.is_empty()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Probes {
    /// How the probes were made (`--dns-server`, `--connect-to`, `--ca-file`, timeout).
    pub settings: ProbeSettings,
    /// Keyed by `NAME TYPE`: `app.example.com A`.
    pub dns: BTreeMap<String, Observed<DnsAnswer>>,
    /// Keyed by `HOST:PORT`.
    pub tls: BTreeMap<String, Observed<TlsResult>>,
    /// Keyed by the first URL; redirects are followed by hand, each hop recorded.
    pub http: BTreeMap<String, Observed<HttpChain>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProbeSettings {
    pub dns_server: Option<String>,
    pub connect_to: Vec<String>,
    pub ca_file: Option<String>,
    pub timeout_seconds: u64,
}

/// The key of a DNS answer in [`Probes::dns`].
pub fn dns_key(name: &str, rtype: RecordType) -> String {
    format!("{} {rtype}", canonical_name(name))
}

/// The key of a TLS result in [`Probes::tls`].
pub fn tls_key(host: &str, port: u16) -> String {
    format!("{}:{port}", canonical_name(host))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DnsAnswer {
    /// `NOERROR` or `NXDOMAIN`.
    pub rcode: String,
    /// The answers of the asked type, as text (addresses, names without the trailing
    /// dot, TXT strings joined), sorted.
    pub records: Vec<String>,
    /// The CNAMEs followed on the way, in order (`www.example.com -> app.example.com`).
    pub cnames: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsResult {
    /// The name has no address in DNS (NXDOMAIN, or no A/AAAA records): for an optional
    /// name, "not used".
    #[serde(default)]
    pub name_not_found: bool,
    /// The address connected to, `IP:PORT`.
    pub address: Option<String>,
    /// Why no TLS session came about: `connection refused`, a TLS alert, ... `None` when
    /// the handshake completed.
    pub failure: Option<String>,
    /// `TLSv1.3`, `TLSv1.2`.
    pub protocol: Option<String>,
    pub cipher_suite: Option<String>,
    /// Why the certificate chain would be rejected by a client trusting the public roots
    /// (and `--ca-file`), for the name probed: `expired`, `unknown issuer`, `not valid for
    /// name`, ... `None` when it verifies.
    pub verify_error: Option<String>,
    /// The served leaf certificate.
    pub certificate: Option<ServedCertificate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServedCertificate {
    pub subject: String,
    pub issuer: String,
    /// Lowercase hex pairs joined by `:`, as ACM writes serials.
    pub serial: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// DNS names among the subject alternative names, lowercased.
    pub dns_names: Vec<String>,
    /// SHA-256 of the DER encoding, uppercase hex pairs joined by `:`.
    pub sha256: String,
    pub self_signed: bool,
    /// Certificates the server sent, the leaf included.
    pub chain_length: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HttpChain {
    /// The first URL's host has no address in DNS.
    #[serde(default)]
    pub name_not_found: bool,
    pub hops: Vec<HttpHop>,
    /// Why the chain stopped before an answer that is not a redirect: a TLS failure on
    /// an https hop, a refused connection, too many redirects. `None` when it ended on
    /// an answer.
    pub failure: Option<String>,
    /// A later hop that could not be observed at all (its name could not be resolved, no
    /// answer in time): the hops before it stand as observed, what follows is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unobserved: Option<super::CollectError>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HttpHop {
    pub url: String,
    pub status: u16,
    pub location: Option<String>,
    /// The `Strict-Transport-Security` header, on https answers.
    pub hsts: Option<String>,
}

impl HttpChain {
    /// The last answer, if any.
    pub fn last(&self) -> Option<&HttpHop> {
        self.hops.last()
    }
}
