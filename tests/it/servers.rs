//! Real servers on 127.0.0.1 for probing tests: a test CA and its certificates, plain HTTP,
//! HTTPS restricted to chosen TLS versions, a TCP server that never answers, and an
//! authoritative DNS server over UDP and TCP. Each server binds port 0, runs on the current
//! tokio runtime (so create it inside one) and stops when dropped. Setup failures panic:
//! this is test plumbing.
//!
//! A test that runs the `infraverify` binary while a server answers must not block the runtime
//! the server runs on: use `#[tokio::test(flavor = "multi_thread")]` or `spawn_blocking`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hickory_resolver::proto::op::{Edns, Message, Metadata, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, NS, TXT};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::SupportedProtocolVersion;
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{AbortHandle, JoinSet};

// ---------------------------------------------------------------------------------------------
// PKI

/// A test certificate authority; its certificate is what clients are told to trust.
pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// What a leaf certificate should look like.
#[derive(Clone, Debug)]
pub struct LeafSpec {
    /// DNS names (or IP addresses) in the subjectAltName; the first is also the subject CN.
    pub sans: Vec<String>,
    /// Start and end of validity.
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Sign with the leaf's own key instead of the CA's.
    pub self_signed: bool,
}

/// A certificate chain to serve and its private key.
#[derive(Debug)]
pub struct Leaf {
    /// Leaf first, then the CA (absent when self-signed).
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Leaf {
    fn clone(&self) -> Self {
        Leaf {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl Pki {
    /// A fresh CA, valid from yesterday for ten years.
    pub fn new() -> Pki {
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "infraverify test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(3650);
        params.serial_number = Some(random_serial());
        let key = KeyPair::generate().expect("generate CA key");
        let ca = CertifiedIssuer::self_signed(params, key).expect("self-sign CA certificate");
        Pki { ca }
    }

    /// The CA certificate in PEM.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// The CA certificate in DER.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    /// Writes the CA certificate to `dir/ca.pem` (for `--ca-file`) and returns its path.
    pub fn write_ca(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, self.ca_pem()).expect("write CA certificate");
        path
    }

    /// A server certificate as `spec` describes, with a new key and a random serial.
    pub fn leaf(&self, spec: &LeafSpec) -> Leaf {
        let mut params = CertificateParams::new(spec.sans.clone()).expect("valid SANs");
        params.distinguished_name = DistinguishedName::new();
        if let Some(first) = spec.sans.first() {
            params
                .distinguished_name
                .push(DnType::CommonName, first.as_str());
        }
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        params.serial_number = Some(random_serial());
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("generate leaf key");
        let chain = if spec.self_signed {
            vec![params
                .self_signed(&key)
                .expect("self-sign leaf")
                .der()
                .clone()]
        } else {
            params.use_authority_key_identifier_extension = true;
            let cert = params.signed_by(&key, &self.ca).expect("sign leaf");
            vec![cert.der().clone(), self.ca.der().clone()]
        };
        Leaf {
            chain,
            key: PrivateKeyDer::from(key),
        }
    }
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}

/// A positive 16-byte serial number from the system's secure random source.
fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("random serial number");
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::from_slice(&bytes)
}

impl LeafSpec {
    /// CA-issued, valid from yesterday for 90 days, for `sans`.
    pub fn valid(sans: &[&str]) -> LeafSpec {
        let now = OffsetDateTime::now_utc();
        LeafSpec {
            sans: sans.iter().map(|s| s.to_string()).collect(),
            not_before: now - time::Duration::days(1),
            not_after: now + time::Duration::days(90),
            self_signed: false,
        }
    }

    /// Valid for 90 days, ended 2 days ago.
    pub fn expired(mut self) -> LeafSpec {
        let now = OffsetDateTime::now_utc();
        self.not_before = now - time::Duration::days(92);
        self.not_after = now - time::Duration::days(2);
        self
    }

    /// Starts in 2 days.
    pub fn not_yet_valid(mut self) -> LeafSpec {
        let now = OffsetDateTime::now_utc();
        self.not_before = now + time::Duration::days(2);
        self.not_after = now + time::Duration::days(92);
        self
    }

    /// Ends `days` days from now (valid since yesterday).
    pub fn expiring_in(mut self, days: i64) -> LeafSpec {
        let now = OffsetDateTime::now_utc();
        self.not_before = now - time::Duration::days(1);
        self.not_after = now + time::Duration::days(days);
        self
    }

    /// Signed by its own key, not by the CA.
    pub fn self_signed(mut self) -> LeafSpec {
        self.self_signed = true;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP routes

/// A canned HTTP answer.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When set, a `Location` header of this prefix followed by the request target is added.
    pub location_prefix: Option<String>,
}

impl Route {
    /// 200 with a plain-text body.
    pub fn ok(body: &str) -> Route {
        Route::status(200)
            .with_header("Content-Type", "text/plain; charset=utf-8")
            .with_body(body)
    }

    /// A redirect to a fixed `location`.
    pub fn redirect(status: u16, location: &str) -> Route {
        Route::status(status).with_header("Location", location)
    }

    /// A redirect to `prefix` + the requested path and query, as an ALB's
    /// `https://#{host}:443/#{path}?#{query}` rule answers; `prefix` has no trailing slash.
    pub fn redirect_keep_path(status: u16, prefix: &str) -> Route {
        Route {
            location_prefix: Some(prefix.to_string()),
            ..Route::status(status)
        }
    }

    /// `code` with an empty body.
    pub fn status(code: u16) -> Route {
        Route {
            status: code,
            headers: Vec::new(),
            body: String::new(),
            location_prefix: None,
        }
    }

    /// This route with one more response header.
    pub fn with_header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// This route with `body`.
    pub fn with_body(mut self, body: &str) -> Route {
        self.body = body.to_string();
        self
    }
}

/// Routes by Host (port stripped, case-insensitive) and exact request target (path and query);
/// the path `*` matches any target for its host. Exact matches win; anything else gets 404.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    routes: Vec<((String, String), Route)>,
}

impl Routes {
    /// No routes: every request gets 404.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Adds `route` for `host` (no port) and `path` (`/p?q=1`, or `*` for any).
    pub fn at(mut self, host: &str, path: &str, route: Route) -> Routes {
        self.routes
            .push(((host.to_ascii_lowercase(), path.to_string()), route));
        self
    }

    fn find(&self, host: &str, path: &str) -> Option<&Route> {
        let at = |want: &str| {
            self.routes
                .iter()
                .find(|((h, p), _)| h == host && p == want)
                .map(|(_, route)| route)
        };
        at(path).or_else(|| at("*"))
    }
}

/// What the HTTP servers saw: (method, host without port, request target).
type RequestLog = Arc<Mutex<Vec<(String, String, String)>>>;

fn snapshot<T: Clone>(log: &Mutex<Vec<T>>) -> Vec<T> {
    log.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

fn record<T>(log: &Mutex<Vec<T>>, item: T) {
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(item);
}

const MAX_HEAD: usize = 16 * 1024;

/// Answers one HTTP/1.1 request on `stream` from `routes`, then closes it.
async fn serve_http<S>(mut stream: S, routes: &Routes, log: &RequestLog) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut head = Vec::new();
    let mut chunk = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return respond(&mut stream, &Route::status(431), "", false).await;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split_whitespace();
    let (Some(method), Some(target)) = (request_line.next(), request_line.next()) else {
        return respond(&mut stream, &Route::status(400), "", false).await;
    };
    let host = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("host"))
        .map(|(_, value)| strip_port(value.trim()).to_ascii_lowercase())
        .unwrap_or_default();
    record(log, (method.to_string(), host.clone(), target.to_string()));
    let not_found = Route::status(404).with_body("not found");
    let route = routes.find(&host, target).unwrap_or(&not_found);
    respond(&mut stream, route, target, method == "HEAD").await
}

async fn respond<S>(
    stream: &mut S,
    route: &Route,
    target: &str,
    head_only: bool,
) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    let mut out = format!("HTTP/1.1 {} {}\r\n", route.status, reason(route.status));
    for (name, value) in &route.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(prefix) = &route.location_prefix {
        out.push_str(&format!("Location: {prefix}{target}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        route.body.len()
    ));
    if !head_only {
        out.push_str(&route.body);
    }
    stream.write_all(out.as_bytes()).await?;
    stream.flush().await?;
    stream.shutdown().await
}

/// `host` without a trailing `:port` (IPv6 literals keep their brackets).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

// ---------------------------------------------------------------------------------------------
// Servers

/// A spawned task that is aborted when this is dropped.
struct Background(AbortHandle);

impl Background {
    fn spawn(task: impl Future<Output = ()> + Send + 'static) -> Background {
        Background(tokio::spawn(task).abort_handle())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn tcp_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    TcpListener::from_std(listener)
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Accepts connections forever, handling each in its own task; the handlers are aborted
/// with this future.
async fn accept_loop<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                connections.spawn(handle(stream));
            }
            // Out of file descriptors and the like: keep serving.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
        while connections.try_join_next().is_some() {}
    }
}

/// Plain HTTP/1.1, one request per connection.
pub struct HttpServer {
    addr: SocketAddr,
    requests: RequestLog,
    _task: Background,
}

impl HttpServer {
    /// Serves `routes` on a free loopback port.
    pub fn start(routes: Routes) -> HttpServer {
        let listener = tcp_listener(loopback(0)).expect("bind HTTP server");
        let addr = listener.local_addr().expect("HTTP server address");
        let requests = RequestLog::default();
        let (routes, log) = (Arc::new(routes), requests.clone());
        let task = Background::spawn(accept_loop(listener, move |stream| {
            let (routes, log) = (routes.clone(), log.clone());
            async move {
                let _ = serve_http(stream, &routes, &log).await;
            }
        }));
        HttpServer {
            addr,
            requests,
            _task: task,
        }
    }

    /// The bound address, 127.0.0.1:port.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The requests received so far: (method, host without port, request target).
    pub fn requests(&self) -> Vec<(String, String, String)> {
        snapshot(&self.requests)
    }
}

/// HTTPS: one certificate chain, chosen TLS versions, then the same HTTP/1.1 as [`HttpServer`].
pub struct TlsServer {
    addr: SocketAddr,
    requests: RequestLog,
    _task: Background,
}

impl TlsServer {
    /// Serves `routes` over TLS with `chain` and `key`, allowing only `versions`
    /// (`&[&rustls::version::TLS12]` for a TLS 1.2-only server). A failed handshake closes
    /// that connection only.
    pub fn start(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        routes: Routes,
        versions: &[&'static SupportedProtocolVersion],
    ) -> TlsServer {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("TLS versions supported by the provider")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("certificate chain and key match");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tcp_listener(loopback(0)).expect("bind TLS server");
        let addr = listener.local_addr().expect("TLS server address");
        let requests = RequestLog::default();
        let (routes, log) = (Arc::new(routes), requests.clone());
        let task = Background::spawn(accept_loop(listener, move |stream| {
            let (acceptor, routes, log) = (acceptor.clone(), routes.clone(), log.clone());
            async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    let _ = serve_http(tls, &routes, &log).await;
                }
            }
        }));
        TlsServer {
            addr,
            requests,
            _task: task,
        }
    }

    /// [`TlsServer::start`] with a [`Leaf`] from [`Pki::leaf`].
    pub fn with_leaf(
        leaf: &Leaf,
        routes: Routes,
        versions: &[&'static SupportedProtocolVersion],
    ) -> TlsServer {
        let leaf = leaf.clone();
        TlsServer::start(leaf.chain, leaf.key, routes, versions)
    }

    /// The bound address, 127.0.0.1:port.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The requests received so far: (method, host without port, request target).
    pub fn requests(&self) -> Vec<(String, String, String)> {
        snapshot(&self.requests)
    }
}

/// Accepts TCP connections and never writes: holds them open until dropped.
pub struct SilentServer {
    addr: SocketAddr,
    _task: Background,
}

impl SilentServer {
    /// Listens on a free loopback port.
    pub fn start() -> SilentServer {
        let listener = tcp_listener(loopback(0)).expect("bind silent server");
        let addr = listener.local_addr().expect("silent server address");
        let task = Background::spawn(async move {
            let mut held = Vec::new();
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        });
        SilentServer { addr, _task: task }
    }

    /// The bound address, 127.0.0.1:port.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

// ---------------------------------------------------------------------------------------------
// DNS

/// Records by owner name, for [`DnsServer`]. Names are matched case-insensitively, with or
/// without the trailing dot.
#[derive(Clone, Debug, Default)]
pub struct Zone {
    records: HashMap<String, Vec<RData>>,
    /// Names the server cannot answer for (SERVFAIL): a resolver learns nothing of them.
    failing: Vec<String>,
}

impl Zone {
    /// No records: every name is NXDOMAIN.
    pub fn new() -> Zone {
        Zone::default()
    }

    /// `name A ip`, e.g. `.a("app.example.test", [192, 0, 2, 10])`.
    pub fn a(self, name: &str, ip: impl Into<Ipv4Addr>) -> Zone {
        self.with(name, RData::A(A(ip.into())))
    }

    /// `name AAAA ip`.
    pub fn aaaa(self, name: &str, ip: impl Into<Ipv6Addr>) -> Zone {
        self.with(name, RData::AAAA(AAAA(ip.into())))
    }

    /// `name CNAME target`.
    pub fn cname(self, name: &str, target: &str) -> Zone {
        self.with(name, RData::CNAME(CNAME(dns_name(target))))
    }

    /// `name NS nameserver`.
    pub fn ns(self, name: &str, nameserver: &str) -> Zone {
        self.with(name, RData::NS(NS(dns_name(nameserver))))
    }

    /// `name TXT text` (split into 255-byte strings as the wire format requires).
    pub fn txt(self, name: &str, text: &str) -> Zone {
        let chunks: Vec<&[u8]> = text.as_bytes().chunks(255).collect();
        let txt = if chunks.is_empty() {
            TXT::new(vec![String::new()])
        } else {
            TXT::from_bytes(chunks)
        };
        self.with(name, RData::TXT(txt))
    }

    /// `name` answers SERVFAIL, as a broken or unreachable authoritative server makes a
    /// resolver answer.
    pub fn servfail(mut self, name: &str) -> Zone {
        self.failing.push(zone_key(name));
        self
    }

    fn with(mut self, name: &str, data: RData) -> Zone {
        self.records.entry(zone_key(name)).or_default().push(data);
        self
    }

    /// The response code and answer records for (`qname`, `qtype`), following CNAMEs.
    fn answer(&self, qname: &Name, qtype: RecordType) -> (ResponseCode, Vec<Record>) {
        if self.failing.contains(&zone_key(&qname.to_ascii())) {
            return (ResponseCode::ServFail, Vec::new());
        }
        let Some(mut here) = self.records.get(&zone_key(&qname.to_ascii())) else {
            return (ResponseCode::NXDomain, Vec::new());
        };
        let mut owner = qname.clone();
        let mut answers = Vec::new();
        for _ in 0..=8 {
            let matching: Vec<Record> = here
                .iter()
                .filter(|data| data.record_type() == qtype)
                .map(|data| Record::from_rdata(owner.clone(), 300, data.clone()))
                .collect();
            if !matching.is_empty() {
                answers.extend(matching);
                break;
            }
            let cname = here.iter().find_map(|data| match data {
                RData::CNAME(CNAME(target)) if qtype != RecordType::CNAME => Some(target),
                _ => None,
            });
            let Some(target) = cname else { break };
            answers.push(Record::from_rdata(
                owner,
                300,
                RData::CNAME(CNAME(target.clone())),
            ));
            owner = target.clone();
            match self.records.get(&zone_key(&target.to_ascii())) {
                Some(next) => here = next,
                None => break,
            }
        }
        (ResponseCode::NoError, answers)
    }

    /// The wire response to a wire query, or `None` when it cannot be parsed.
    fn respond(&self, query: &[u8], log: &QueryLog) -> Option<Vec<u8>> {
        let request = Message::from_vec(query).ok()?;
        let mut response = Message::response(request.metadata.id, request.metadata.op_code);
        // Copies the id, opcode and the RD and CD flags.
        response.metadata = Metadata::response_from_request(&request.metadata);
        response.metadata.authoritative = true;
        response.metadata.recursion_available = true;
        response.queries = request.queries.clone();
        if request.edns.is_some() {
            let mut edns = Edns::new();
            edns.set_max_payload(1232);
            response.edns = Some(edns);
        }
        match request.queries.as_slice() {
            [question] => {
                record(
                    log,
                    (
                        zone_key(&question.name.to_ascii()),
                        question.query_type.to_string(),
                    ),
                );
                let (code, answers) = self.answer(&question.name, question.query_type);
                response.metadata.response_code = code;
                response.answers = answers;
            }
            _ => response.metadata.response_code = ResponseCode::FormErr,
        }
        response.to_vec().ok()
    }
}

/// Lowercase, without the trailing dot.
fn zone_key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn dns_name(name: &str) -> Name {
    Name::from_ascii(format!("{}.", name.trim_end_matches('.')))
        .unwrap_or_else(|e| panic!("invalid DNS name {name:?}: {e}"))
}

/// Queries received: (name lowercase without trailing dot, record type).
type QueryLog = Arc<Mutex<Vec<(String, String)>>>;

/// An authoritative DNS server for one [`Zone`], over UDP and TCP on the same port.
pub struct DnsServer {
    addr: SocketAddr,
    queries: QueryLog,
    _task: Background,
}

impl DnsServer {
    /// Serves `zone` on a free loopback port, UDP and TCP.
    pub fn start(zone: Zone) -> DnsServer {
        let (udp, tcp) = bind_udp_and_tcp();
        let addr = udp.local_addr().expect("DNS server address");
        let queries = QueryLog::default();
        let zone = Arc::new(zone);
        let task = Background::spawn(serve_dns(udp, tcp, zone, queries.clone()));
        DnsServer {
            addr,
            queries,
            _task: task,
        }
    }

    /// The bound address, 127.0.0.1:port.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The questions received so far: (name lowercase without trailing dot, type such as "A").
    pub fn queries(&self) -> Vec<(String, String)> {
        snapshot(&self.queries)
    }
}

/// A UDP socket on a free loopback port and a TCP listener on the same port number.
fn bind_udp_and_tcp() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = std::net::UdpSocket::bind(loopback(0)).expect("bind DNS UDP socket");
        let port = udp.local_addr().expect("DNS UDP address").port();
        if let Ok(tcp) = tcp_listener(loopback(port)) {
            udp.set_nonblocking(true).expect("non-blocking UDP socket");
            return (UdpSocket::from_std(udp).expect("tokio UDP socket"), tcp);
        }
    }
    panic!("no loopback port was free for both UDP and TCP");
}

async fn serve_dns(udp: UdpSocket, tcp: TcpListener, zone: Arc<Zone>, log: QueryLog) {
    let udp_loop = async {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = udp.recv_from(&mut buf).await else {
                continue;
            };
            if let Some(response) = zone.respond(&buf[..n], &log) {
                let _ = udp.send_to(&response, peer).await;
            }
        }
    };
    let tcp_loop = accept_loop(tcp, |stream| {
        let (zone, log) = (zone.clone(), log.clone());
        async move {
            let _ = serve_dns_tcp(stream, &zone, &log).await;
        }
    });
    tokio::join!(udp_loop, tcp_loop);
}

/// Answers length-prefixed queries on one TCP connection until the client closes it.
async fn serve_dns_tcp(mut stream: TcpStream, zone: &Zone, log: &QueryLog) -> std::io::Result<()> {
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).await.is_err() {
            return Ok(());
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut query).await?;
        let Some(response) = zone.respond(&query, log) else {
            return Ok(());
        };
        let len = u16::try_from(response.len()).unwrap_or(u16::MAX);
        stream.write_all(&len.to_be_bytes()).await?;
        stream.write_all(&response).await?;
    }
}

// ---------------------------------------------------------------------------------------------
// Self-tests

const APP: &str = "app.example.test";

async fn tls_connect(
    pki: &Pki,
    addr: SocketAddr,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from(APP).unwrap();
    connector.connect(name, tcp).await
}

fn certificate_error(err: &std::io::Error) -> rustls::CertificateError {
    match err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(e)) => e.clone(),
        other => panic!("expected a certificate error, got {err} ({other:?})"),
    }
}

async fn http_get<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {APP}:443\r\nAccept: */*\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    // A TLS peer may close without close_notify; what arrived before is enough.
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8(response).unwrap()
}

#[tokio::test]
async fn tls_server_negotiates_versions_and_presents_its_certificate() {
    use rustls::version::{TLS12, TLS13};
    let pki = Pki::new();
    let routes = Routes::new().at(APP, "/health", Route::ok("fine"));
    let valid = pki.leaf(&LeafSpec::valid(&[APP]));

    let both = TlsServer::with_leaf(&valid, routes.clone(), &[&TLS12, &TLS13]);
    let stream = tls_connect(&pki, both.addr()).await.unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    let response = http_get(stream, "/health").await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\nfine"), "{response}");
    assert_eq!(
        both.requests(),
        [("GET".into(), APP.into(), "/health".into())]
    );

    let tls12 = TlsServer::with_leaf(&valid, routes.clone(), &[&TLS12]);
    let stream = tls_connect(&pki, tls12.addr()).await.unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );

    let expired = pki.leaf(&LeafSpec::valid(&[APP]).expired());
    let server = TlsServer::with_leaf(&expired, routes.clone(), &[&TLS12, &TLS13]);
    let err = tls_connect(&pki, server.addr()).await.unwrap_err();
    assert!(
        matches!(
            certificate_error(&err),
            rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. }
        ),
        "{err}"
    );

    let not_yet = pki.leaf(&LeafSpec::valid(&[APP]).not_yet_valid());
    let server = TlsServer::with_leaf(&not_yet, routes.clone(), &[&TLS13]);
    let err = tls_connect(&pki, server.addr()).await.unwrap_err();
    assert!(
        matches!(
            certificate_error(&err),
            rustls::CertificateError::NotValidYet
                | rustls::CertificateError::NotValidYetContext { .. }
        ),
        "{err}"
    );

    let own = pki.leaf(&LeafSpec::valid(&[APP]).self_signed());
    assert_eq!(own.chain.len(), 1);
    let server = TlsServer::with_leaf(&own, routes, &[&TLS12, &TLS13]);
    let err = tls_connect(&pki, server.addr()).await.unwrap_err();
    assert_eq!(
        certificate_error(&err),
        rustls::CertificateError::UnknownIssuer
    );

    // The failed handshakes did not take the server down.
    assert!(tls_connect(&pki, both.addr()).await.is_ok());
    assert!(tls_connect(&pki, tls12.addr()).await.is_ok());
}

#[tokio::test]
async fn leaves_have_unique_serials_and_the_requested_names() {
    let pki = Pki::new();
    let spec = LeafSpec::valid(&[APP, "www.example.test"]).expiring_in(10);
    let serial = |leaf: &Leaf| {
        let (_, cert) = x509_parser::parse_x509_certificate(&leaf.chain[0]).unwrap();
        let sans: Vec<String> = cert
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|name| name.to_string())
            .collect();
        assert_eq!(
            sans,
            ["DNSName(app.example.test)", "DNSName(www.example.test)"]
        );
        let days =
            (cert.validity().not_after.to_datetime() - OffsetDateTime::now_utc()).whole_days();
        assert!((9..=10).contains(&days), "{days}");
        cert.raw_serial().to_vec()
    };
    assert_ne!(serial(&pki.leaf(&spec)), serial(&pki.leaf(&spec)));
    let dir = tempfile::tempdir().unwrap();
    let path = pki.write_ca(dir.path());
    assert_eq!(std::fs::read_to_string(path).unwrap(), pki.ca_pem());
}

#[tokio::test]
async fn http_server_routes_redirects_and_records_requests() {
    let routes = Routes::new()
        .at(APP, "/", Route::redirect(301, "https://app.example.test/"))
        .at(
            "old.example.test",
            "*",
            Route::redirect_keep_path(308, "https://app.example.test"),
        );
    let server = HttpServer::start(routes);
    let addr = server.addr();
    let get = move |host: &'static str, path: &'static str| async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}:{}\r\n\r\n",
            addr.port()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    };

    let response = get("App.Example.Test", "/").await;
    assert!(
        response.starts_with("HTTP/1.1 301 Moved Permanently\r\n"),
        "{response}"
    );
    assert!(
        response.contains("\r\nLocation: https://app.example.test/\r\n"),
        "{response}"
    );
    assert!(response.contains("\r\nConnection: close\r\n"), "{response}");

    let response = get("old.example.test", "/some/path?x=1").await;
    assert!(
        response.starts_with("HTTP/1.1 308 Permanent Redirect\r\n"),
        "{response}"
    );
    assert!(
        response.contains("\r\nLocation: https://app.example.test/some/path?x=1\r\n"),
        "{response}"
    );

    let response = get(APP, "/missing").await;
    assert!(
        response.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{response}"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0], ("GET".into(), APP.into(), "/".into()));
    assert_eq!(requests[1].2, "/some/path?x=1");
    assert!(requests.iter().all(|(method, _, _)| method == "GET"));
}

#[tokio::test]
async fn dns_server_answers_follows_cnames_and_denies_missing_names() {
    use hickory_resolver::config::{NameServerConfig, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use hickory_resolver::Resolver;

    let zone = Zone::new()
        .ns("example.test", "ns1.example.test")
        .a("ns1.example.test", [192, 0, 2, 53])
        .a(APP, [192, 0, 2, 10])
        .aaaa(APP, Ipv6Addr::LOCALHOST)
        .cname("www.example.test", "app.example.test.")
        .txt("example.test", "v=spf1 -all");
    let server = DnsServer::start(zone);
    let mut ns = NameServerConfig::udp_and_tcp(server.addr().ip());
    for connection in &mut ns.connections {
        connection.port = server.port();
    }
    let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
    let resolver = Resolver::builder_with_config(config, TokioRuntimeProvider::default())
        .build()
        .unwrap();
    let addresses = |lookup: &hickory_resolver::lookup::Lookup| -> Vec<String> {
        lookup
            .answers()
            .iter()
            .filter_map(|record| record.data.ip_addr())
            .map(|ip| ip.to_string())
            .collect()
    };

    let lookup = resolver.lookup(APP, RecordType::A).await.unwrap();
    assert_eq!(addresses(&lookup), ["192.0.2.10"]);

    let lookup = resolver
        .lookup("WWW.example.test", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&lookup), ["192.0.2.10"]);
    assert!(lookup
        .answers()
        .iter()
        .any(|record| record.record_type() == RecordType::CNAME));

    let lookup = resolver
        .lookup("example.test.", RecordType::NS)
        .await
        .unwrap();
    let names: Vec<String> = lookup
        .answers()
        .iter()
        .map(|r| r.data.to_string())
        .collect();
    assert_eq!(names, ["ns1.example.test."]);

    let lookup = resolver
        .lookup("example.test", RecordType::TXT)
        .await
        .unwrap();
    let texts: Vec<String> = lookup
        .answers()
        .iter()
        .map(|r| r.data.to_string())
        .collect();
    assert_eq!(texts, ["v=spf1 -all"]);

    let err = resolver
        .lookup("missing.example.test", RecordType::A)
        .await
        .unwrap_err();
    assert!(err.is_no_records_found() && err.is_nx_domain(), "{err}");

    // A name with other types only: NODATA, not NXDOMAIN.
    let err = resolver
        .lookup("ns1.example.test", RecordType::AAAA)
        .await
        .unwrap_err();
    assert!(err.is_no_records_found() && !err.is_nx_domain(), "{err}");

    // The same answers over TCP, on the same port.
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let mut query = Message::query();
    query.add_query(hickory_resolver::proto::op::Query::query(
        dns_name(APP),
        RecordType::AAAA,
    ));
    let bytes = query.to_vec().unwrap();
    stream
        .write_all(&u16::try_from(bytes.len()).unwrap().to_be_bytes())
        .await
        .unwrap();
    stream.write_all(&bytes).await.unwrap();
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.unwrap();
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut answer).await.unwrap();
    let answer = Message::from_vec(&answer).unwrap();
    assert_eq!(answer.metadata.id, query.metadata.id);
    assert!(answer.metadata.authoritative);
    assert_eq!(answer.answers.len(), 1);
    assert_eq!(
        answer.answers[0].data.ip_addr(),
        Some(Ipv6Addr::LOCALHOST.into())
    );

    let queries = server.queries();
    assert!(
        queries.contains(&("www.example.test".into(), "A".into())),
        "{queries:?}"
    );
    assert!(
        queries.contains(&("app.example.test".into(), "AAAA".into())),
        "{queries:?}"
    );
}

#[tokio::test]
async fn silent_server_accepts_and_never_answers() {
    let server = SilentServer::start();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await;
    assert!(read.is_err(), "expected a timeout, got {read:?}");
}
