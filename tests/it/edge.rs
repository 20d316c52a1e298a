//! The edge controls end to end: live probes against real TLS, HTTP and DNS servers on
//! 127.0.0.1 (reached through `--connect-to`, `--ca-file` and `--dns-server`), the API side
//! against the emulator in an account of its own (Route 53 is global within an account), and
//! the joined verdicts that need both.

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_elasticloadbalancingv2::types as elb;
use aws_sdk_route53::types as r53;
use rustls::version::{TLS12, TLS13};

use crate::proxy;
use crate::servers::{
    DnsServer, HttpServer, Leaf, LeafSpec, Pki, Route, Routes, SilentServer, TlsServer, Zone,
};
use crate::support::{endpoint, infraverify, message, read_json, stdout, verdicts, EDGE_RULES};

const BOTH: &[&rustls::SupportedProtocolVersion] = &[&TLS13, &TLS12];

fn verdicts_of(report: &serde_json::Value, rules: &[&str]) -> BTreeMap<(String, String), String> {
    verdicts(report)
        .into_iter()
        .filter(|((rule, _), _)| rules.contains(&rule.as_str()))
        .collect()
}

/// Compares the verdicts of the listed rules with `want`, all of them, both ways.
#[track_caller]
fn assert_exactly(
    got: &BTreeMap<(String, String), String>,
    want: &[(&str, &str, &str)],
    report: &str,
) {
    let want: BTreeMap<(String, String), String> = want
        .iter()
        .map(|(r, i, s)| ((r.to_string(), i.to_string()), s.to_string()))
        .collect();
    let mut diff = Vec::new();
    for (k, s) in &want {
        match got.get(k) {
            Some(g) if g == s => {}
            other => diff.push(format!("{} {}: want {s}, got {other:?}", k.0, k.1)),
        }
    }
    for (k, s) in got {
        if !want.contains_key(k) {
            diff.push(format!("unexpected {s}: {} {}", k.0, k.1));
        }
    }
    assert!(diff.is_empty(), "{}\n\n{report}", diff.join("\n"));
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// `--connect-to NAME:PORT:127.0.0.1:TO` for each name.
fn connect_to(args: &mut Vec<String>, names: &[&str], port: u16, to: u16) {
    for n in names {
        args.push("--connect-to".into());
        args.push(format!("{n}:{port}:127.0.0.1:{to}"));
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn only_gets(requests: &[(String, String, String)]) {
    assert!(!requests.is_empty());
    for (method, host, path) in requests {
        assert_eq!(method, "GET", "{method} {host}{path}: probes send GET only");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn live_probes_give_each_broken_endpoint_its_verdict() {
    let d = "example.test";
    let n = |label: &str| format!("{label}.{d}");
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let ca = pki.write_ca(dir.path());

    // One server with a valid certificate for every name that should pass the handshake;
    // it is also the https end of the redirects and the health endpoints.
    let good_names = [
        "valid",
        "tls12",
        "sick",
        "r301",
        "r302",
        "r308",
        "plain",
        "otherhost",
        "pathlost",
        "badend",
    ];
    let sans: Vec<String> = good_names.iter().map(|l| n(l)).collect();
    let sans_ref: Vec<&str> = sans.iter().map(String::as_str).collect();
    let good_leaf = pki.leaf(&LeafSpec::valid(&sans_ref));
    let mut https = Routes::new()
        .at(&n("valid"), "/api/health", Route::ok("ok"))
        .at(&n("sick"), "/api/health", Route::status(500))
        .at(&n("badend"), "/", Route::status(503));
    for l in ["r301", "r302", "r308", "otherhost", "pathlost", "valid"] {
        https = https.at(
            &n(l),
            "/",
            Route::ok("home").with_header("Strict-Transport-Security", "max-age=63072000"),
        );
    }
    let good = TlsServer::with_leaf(&good_leaf, https, BOTH);
    let tls12 = TlsServer::with_leaf(&good_leaf, Routes::new(), &[&TLS12]);
    let leaf = |spec: LeafSpec| pki.leaf(&spec);
    let bad: Vec<(&str, Leaf)> = vec![
        ("expired", leaf(LeafSpec::valid(&[&n("expired")]).expired())),
        (
            "notyet",
            leaf(LeafSpec::valid(&[&n("notyet")]).not_yet_valid()),
        ),
        ("wrongname", leaf(LeafSpec::valid(&["other.example.net"]))),
        (
            "selfsigned",
            leaf(LeafSpec::valid(&[&n("selfsigned")]).self_signed()),
        ),
        // Covers its sibling but is missing its own name.
        ("nosan", leaf(LeafSpec::valid(&[&n("valid")]))),
        ("soon", leaf(LeafSpec::valid(&[&n("soon")]).expiring_in(10))),
    ];
    let bad_servers: Vec<(&str, TlsServer)> = bad
        .iter()
        .map(|(name, l)| (*name, TlsServer::with_leaf(l, Routes::new(), BOTH)))
        .collect();
    let silent = SilentServer::start();

    // Plain HTTP: a 301 that keeps host and path, and every way of getting it wrong.
    let keep = |l: &str, status| Route::redirect_keep_path(status, &format!("https://{}", n(l)));
    let http = HttpServer::start(
        Routes::new()
            .at(&n("r301"), "*", keep("r301", 301))
            .at(&n("r302"), "*", keep("r302", 302))
            .at(&n("r308"), "*", keep("r308", 308))
            .at(&n("plain"), "*", Route::ok("plain http"))
            .at(&n("otherhost"), "*", keep("valid", 301))
            .at(
                &n("pathlost"),
                "*",
                Route::redirect(301, &format!("https://{}/", n("pathlost"))),
            )
            .at(&n("badend"), "*", keep("badend", 301))
            // A 301 to another host, which has no DNS: the violation is the first hop.
            .at(
                &n("elsewhere"),
                "*",
                Route::redirect(301, &format!("https://{}/", n("gone"))),
            ),
    );

    let dns = DnsServer::start(
        Zone::new()
            .txt(d, "v=spf1 include:amazonses.com -all")
            .txt(
                &format!("s1._domainkey.{d}"),
                "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC",
            )
            .a(&n("alb"), [127, 0, 0, 1])
            .a(&n("app"), [127, 0, 0, 1])
            .cname(&n("www"), &n("app"))
            .a(&n("stray"), [127, 0, 0, 2])
            .servfail(&n("gone")),
    );

    write(
        dir.path(),
        "live.toml",
        r#"
[policy]
domain = "example.test"

[rules.tls-endpoint-invalid]
names = ["valid", "tls12", "expired", "notyet", "wrongname", "selfsigned", "nosan", "silent", "refused"]
optional-names = ["unused"]

[rules.tls-certificate-expiring]
names = ["valid", "soon"]
optional-names = []

[rules.http-not-redirecting-to-https]
names = ["r301", "r302", "r308", "plain", "otherhost", "pathlost", "badend", "elsewhere"]
optional-names = []

[rules.health-endpoint-failing]
hosts = ["valid", "sick"]

[rules.dns-name-not-resolving-to-alb]
names = ["app", "www", "stray"]
optional-names = ["unused"]
targets = ["alb"]

[rules.mail-dns-records-missing]
sends-mail = true
dkim-selectors = ["s1", "gone"]

# API rules: skipped with --no-aws.
[rules.route53-zone-missing]
[rules.dns-delegation-mismatch]
"#,
    );
    let mut args: Vec<String> = [
        "scan",
        "--no-aws",
        "--policy",
        "live.toml",
        "--dns-server",
        &dns.addr().to_string(),
        "--ca-file",
        ca.to_str().unwrap(),
        "--probe-timeout",
        "2",
        "--format",
        "json",
        "--format",
        "table",
        "--save-snapshot",
        "live.json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // tls12 has the same certificate but a TLS 1.2-only server of its own.
    let to_good: Vec<String> = good_names
        .iter()
        .filter(|l| **l != "tls12")
        .map(|l| n(l))
        .collect();
    connect_to(
        &mut args,
        &to_good.iter().map(String::as_str).collect::<Vec<_>>(),
        443,
        good.port(),
    );
    connect_to(&mut args, &[&n("tls12")], 443, tls12.port());
    for (name, server) in &bad_servers {
        connect_to(&mut args, &[&n(name)], 443, server.port());
    }
    connect_to(&mut args, &[&n("silent")], 443, silent.port());
    connect_to(&mut args, &[&n("refused")], 443, closed_port());
    let plain: Vec<String> = [
        "r301",
        "r302",
        "r308",
        "plain",
        "otherhost",
        "pathlost",
        "badend",
        "elsewhere",
    ]
    .iter()
    .map(|l| n(l))
    .collect();
    connect_to(
        &mut args,
        &plain.iter().map(String::as_str).collect::<Vec<_>>(),
        80,
        http.port(),
    );

    let out = crate::support::run_in(dir.path(), args).await;
    let table = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{table}");
    let report = read_json(&dir.path().join("reports/report.json"));
    let got = verdicts(&report);
    let ep = |l: &str| format!("{}:443", n(l));
    let url = |l: &str| format!("http://{}/", n(l));
    let mut want: Vec<(String, String, &str)> = Vec::new();
    let mut expect =
        |rule: &str, id: String, status: &'static str| want.push((rule.to_string(), id, status));
    for (l, s) in [
        ("valid", "pass"),
        ("tls12", "pass"),
        ("expired", "fail"),
        ("notyet", "fail"),
        ("wrongname", "fail"),
        ("selfsigned", "fail"),
        ("nosan", "fail"),
        ("refused", "fail"),
        // Accepts TCP, never answers: error within the probe timeout, not a hang.
        ("silent", "error"),
        ("unused", "skipped"),
    ] {
        expect("tls-endpoint-invalid", ep(l), s);
    }
    expect("tls-certificate-expiring", ep("valid"), "pass");
    expect("tls-certificate-expiring", ep("soon"), "fail");
    for (l, s) in [
        ("r301", "pass"),
        ("r302", "fail"),
        ("r308", "fail"),
        ("plain", "fail"),
        ("otherhost", "fail"),
        ("pathlost", "fail"),
        ("badend", "fail"),
        ("elsewhere", "fail"),
    ] {
        expect("http-not-redirecting-to-https", url(l), s);
    }
    expect(
        "health-endpoint-failing",
        format!("https://{}/api/health", n("valid")),
        "pass",
    );
    expect(
        "health-endpoint-failing",
        format!("https://{}/api/health", n("sick")),
        "fail",
    );
    expect("dns-name-not-resolving-to-alb", n("app"), "pass");
    expect("dns-name-not-resolving-to-alb", n("www"), "pass");
    expect("dns-name-not-resolving-to-alb", n("stray"), "fail");
    expect("dns-name-not-resolving-to-alb", n("unused"), "skipped");
    expect("mail-dns-records-missing", d.to_string(), "pass");
    expect(
        "mail-dns-records-missing",
        format!("s1._domainkey.{d}"),
        "pass",
    );
    expect(
        "mail-dns-records-missing",
        format!("gone._domainkey.{d}"),
        "fail",
    );
    expect("route53-zone-missing", "*".into(), "skipped");
    // Live, but with nothing from AWS to compare the delegation with.
    expect("dns-delegation-mismatch", d.to_string(), "skipped");
    let want: Vec<(&str, &str, &str)> = want
        .iter()
        .map(|(r, i, s)| (r.as_str(), i.as_str(), *s))
        .collect();
    assert_exactly(&got, &want, &table);

    // The messages say what is wrong, in the operator's words.
    let message = |rule: &str, id: &str| message(&report, rule, id);
    for (l, says) in [
        ("expired", "expired on"),
        ("notyet", "not valid before"),
        (
            "wrongname",
            "for other.example.net, not wrongname.example.test",
        ),
        ("selfsigned", "self-signed"),
        ("refused", "connection refused"),
    ] {
        let m = message("tls-endpoint-invalid", &ep(l));
        assert!(m.contains(says), "{l}: {m}");
    }
    assert!(message("tls-endpoint-invalid", &ep("tls12")).contains("TLSv1.2"));
    let m = message("http-not-redirecting-to-https", &url("r302"));
    assert!(m.contains("answers 302"), "{m}");
    let m = message("http-not-redirecting-to-https", &url("pathlost"));
    assert!(
        m.contains(
            "/infraverify/redirect-check?probe=1 redirects to https://pathlost.example.test/"
        ),
        "{m}"
    );
    let m = message("http-not-redirecting-to-https", &url("otherhost"));
    assert!(m.contains("not https://otherhost.example.test/"), "{m}");
    let m = message("http-not-redirecting-to-https", &url("badend"));
    assert!(m.contains("ends in 503"), "{m}");
    // Fail at the hop that shows it, though the next hop has no DNS; the redirect is the
    // evidence.
    let m = message("http-not-redirecting-to-https", &url("elsewhere"));
    assert!(
        m.contains("redirects to https://gone.example.test/, not https://elsewhere.example.test/"),
        "{m}"
    );
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule"] == "http-not-redirecting-to-https" && f["resource"]["id"] == url("elsewhere")
        })
        .unwrap();
    assert_eq!(
        f["evidence"][0]["observed"][0]["hops"][0]["location"], "https://gone.example.test/",
        "{f}"
    );
    // The next hop was not observed at all (SERVFAIL), and the evidence says so.
    assert!(
        f["evidence"][0]["observed"][0]["unobserved"]
            .as_str()
            .is_some_and(|u| u.contains("cannot resolve gone.example.test")),
        "{f}"
    );
    let m = message("http-not-redirecting-to-https", &url("r301"));
    assert!(m.contains("with HSTS"), "{m}");
    let silent_error = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .contains("silent.example.test")
        })
        .unwrap_or_else(|| panic!("{}", report["errors"]));
    assert_eq!(silent_error["source"], "probe:tls");
    assert!(
        silent_error["message"]
            .as_str()
            .unwrap()
            .starts_with("timeout:"),
        "{silent_error}"
    );

    // Read-only: nothing but GET reached any server.
    only_gets(&http.requests());
    only_gets(&good.requests());
    let types = ["A", "AAAA", "CNAME", "TXT", "NS"];
    assert!(
        dns.queries()
            .iter()
            .all(|(_, t)| types.contains(&t.as_str())),
        "{:?}",
        dns.queries()
    );

    // The snapshot keeps the probes: offline, the same verdicts; with --no-probes, the live
    // rules are skipped and nothing else is judged.
    let offline = infraverify(dir.path())
        .args([
            "evaluate",
            "live.json",
            "--policy",
            "live.toml",
            "--format",
            "json",
            "--out-dir",
            "offline",
        ])
        .output()
        .unwrap();
    assert_eq!(offline.status.code(), Some(1), "{}", stdout(&offline));
    assert_eq!(
        verdicts(&read_json(&dir.path().join("offline/report.json"))),
        got
    );
    let without = infraverify(dir.path())
        .args([
            "evaluate",
            "live.json",
            "--no-probes",
            "--policy",
            "live.toml",
            "--format",
            "json",
            "--out-dir",
            "without",
        ])
        .output()
        .unwrap();
    assert_eq!(without.status.code(), Some(0), "{}", stdout(&without));
    let none = read_json(&dir.path().join("without/report.json"));
    assert!(
        none["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "skipped"),
        "{none}"
    );
    assert_eq!(
        none["errors"],
        serde_json::json!([]),
        "the probes' errors went with them"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_probe_options_are_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.pem", "not a certificate\n");
    for (args, says) in [
        (
            vec!["--connect-to", "app.example.com:443"],
            "HOST:PORT:ADDR:PORT2",
        ),
        (vec!["--dns-server", "dns.example:53"], "is not an address"),
        (vec!["--ca-file", "bad.pem"], "holds no certificate"),
        (vec!["--ca-file", "missing.pem"], "cannot read --ca-file"),
        (vec!["--no-aws", "--no-probes"], "cannot be used with"),
    ] {
        let out = infraverify(dir.path())
            .args(["scan", "--no-aws"])
            .args(args.iter().filter(|a| **a != "--no-aws"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

// ---------------------------------------------------------------------------------------
// The API side, in an emulated account of its own.

fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = b64(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The clients of one emulated account, through a proxy that marks its requests.
struct Account {
    _proxy: proxy::Proxy,
    url: String,
    c: EdgeClients,
}

impl std::ops::Deref for Account {
    type Target = EdgeClients;

    fn deref(&self) -> &EdgeClients {
        &self.c
    }
}

impl Account {
    async fn new(account: &str, region: &str) -> Account {
        let proxy = proxy::for_account(&endpoint(), account).await;
        let cfg = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .endpoint_url(&proxy.url)
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .load()
            .await;
        Account {
            url: proxy.url.clone(),
            _proxy: proxy,
            c: EdgeClients::new(&cfg),
        }
    }
}

/// The services the edge is made of, for seeding.
pub struct EdgeClients {
    ec2: aws_sdk_ec2::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    acm: aws_sdk_acm::Client,
    r53: aws_sdk_route53::Client,
}

/// What [`EdgeClients::compliant`] made: the certificate, the HTTPS listener, the zone.
pub struct CompliantEdge {
    pub cert: String,
    pub listener_443: String,
    pub zone: String,
}

impl EdgeClients {
    pub fn new(cfg: &aws_config::SdkConfig) -> EdgeClients {
        EdgeClients {
            ec2: aws_sdk_ec2::Client::new(cfg),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(cfg),
            acm: aws_sdk_acm::Client::new(cfg),
            r53: aws_sdk_route53::Client::new(cfg),
        }
    }

    /// The checklist's edge in front of the ALB `lb` (ARN, DNS name, canonical zone): an
    /// Amazon-issued DNS-validated certificate for app. and www., a 301 on port 80, HTTPS on
    /// 443 with a TLS 1.2+ policy, and the zone lifetimecircle.de with app. aliasing the
    /// ALB, www. a CNAME to app. and the validation records.
    pub async fn compliant(&self, lb: &(String, String, String), caller: &str) -> CompliantEdge {
        let cert = self
            .acm
            .request_certificate()
            .domain_name("app.lifetimecircle.de")
            .subject_alternative_names("app.lifetimecircle.de")
            .subject_alternative_names("www.lifetimecircle.de")
            .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
            .send()
            .await
            .unwrap()
            .certificate_arn()
            .unwrap()
            .to_string();
        self.redirect_80(&lb.0, elb::RedirectActionStatusCodeEnum::Http301)
            .await;
        let listener_443 = self
            .https_443(&lb.0, &cert, "ELBSecurityPolicy-TLS13-1-2-2021-06")
            .await;
        let zone = self
            .r53
            .create_hosted_zone()
            .name("lifetimecircle.de")
            .caller_reference(caller)
            .send()
            .await
            .unwrap()
            .hosted_zone()
            .unwrap()
            .id()
            .trim_start_matches("/hostedzone/")
            .to_string();
        let mut records = vec![
            alias("app.lifetimecircle.de", &lb.2, &lb.1),
            cname("www.lifetimecircle.de", "app.lifetimecircle.de"),
        ];
        let described = self
            .acm
            .describe_certificate()
            .certificate_arn(&cert)
            .send()
            .await
            .unwrap();
        for v in described.certificate().unwrap().domain_validation_options() {
            let r = v.resource_record().unwrap();
            records.push(cname(r.name(), r.value()));
        }
        self.records(&zone, records).await;
        CompliantEdge {
            cert,
            listener_443,
            zone,
        }
    }

    /// An internet-facing ALB: (ARN, DNS name, canonical hosted zone id).
    async fn alb(&self, name: &str, subnets: &[String], sg: &str) -> (String, String, String) {
        let out = self
            .elb
            .create_load_balancer()
            .name(name)
            .set_subnets(Some(subnets.to_vec()))
            .security_groups(sg)
            .scheme(elb::LoadBalancerSchemeEnum::InternetFacing)
            .r#type(elb::LoadBalancerTypeEnum::Application)
            .send()
            .await
            .unwrap();
        let lb = &out.load_balancers()[0];
        (
            lb.load_balancer_arn().unwrap().to_string(),
            lb.dns_name().unwrap().to_string(),
            lb.canonical_hosted_zone_id().unwrap().to_string(),
        )
    }

    async fn redirect_80(&self, lb: &str, status: elb::RedirectActionStatusCodeEnum) {
        self.elb
            .create_listener()
            .load_balancer_arn(lb)
            .protocol(elb::ProtocolEnum::Http)
            .port(80)
            .default_actions(
                elb::Action::builder()
                    .r#type(elb::ActionTypeEnum::Redirect)
                    .redirect_config(
                        elb::RedirectActionConfig::builder()
                            .protocol("HTTPS")
                            .port("443")
                            .status_code(status)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    async fn https_443(&self, lb: &str, cert: &str, policy: &str) -> String {
        let out = self
            .elb
            .create_listener()
            .load_balancer_arn(lb)
            .protocol(elb::ProtocolEnum::Https)
            .port(443)
            .ssl_policy(policy)
            .certificates(elb::Certificate::builder().certificate_arn(cert).build())
            .default_actions(
                elb::Action::builder()
                    .r#type(elb::ActionTypeEnum::FixedResponse)
                    .fixed_response_config(
                        elb::FixedResponseActionConfig::builder()
                            .status_code("200")
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        out.listeners()[0].listener_arn().unwrap().to_string()
    }

    async fn import(&self, leaf: &Leaf) -> String {
        let mut req = self
            .acm
            .import_certificate()
            .certificate(aws_sdk_acm::primitives::Blob::new(pem(
                "CERTIFICATE",
                leaf.chain[0].as_ref(),
            )))
            .private_key(aws_sdk_acm::primitives::Blob::new(pem(
                "PRIVATE KEY",
                leaf.key.secret_der(),
            )));
        if let Some(ca) = leaf.chain.get(1) {
            req = req.certificate_chain(aws_sdk_acm::primitives::Blob::new(pem(
                "CERTIFICATE",
                ca.as_ref(),
            )));
        }
        req.send()
            .await
            .unwrap()
            .certificate_arn()
            .unwrap()
            .to_string()
    }

    async fn records(&self, zone: &str, changes: Vec<r53::ResourceRecordSet>) {
        let batch = r53::ChangeBatch::builder()
            .set_changes(Some(
                changes
                    .into_iter()
                    .map(|rrs| {
                        r53::Change::builder()
                            .action(r53::ChangeAction::Upsert)
                            .resource_record_set(rrs)
                            .build()
                            .unwrap()
                    })
                    .collect(),
            ))
            .build()
            .unwrap();
        self.r53
            .change_resource_record_sets()
            .hosted_zone_id(zone)
            .change_batch(batch)
            .send()
            .await
            .unwrap();
    }
}

fn cname(name: &str, to: &str) -> r53::ResourceRecordSet {
    r53::ResourceRecordSet::builder()
        .name(name)
        .r#type(r53::RrType::Cname)
        .ttl(300)
        .resource_records(r53::ResourceRecord::builder().value(to).build().unwrap())
        .build()
        .unwrap()
}

fn alias(name: &str, zone: &str, dns: &str) -> r53::ResourceRecordSet {
    r53::ResourceRecordSet::builder()
        .name(name)
        .r#type(r53::RrType::A)
        .alias_target(
            r53::AliasTarget::builder()
                .hosted_zone_id(zone)
                .dns_name(format!("dualstack.{dns}"))
                .evaluate_target_health(true)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

/// The seeded edge: the compliant ALB, a broken twin, and a third that forwards plain HTTP.
struct Edge {
    account: Account,
    region: String,
    lc: (String, String, String),
    tw: (String, String, String),
    fwd: String,
    lc_cert: String,
    tw_cert: String,
    lc_443: String,
    tw_443: String,
    zone: String,
}

async fn seed_edge(account: &str, region: &str, pki: &Pki) -> Edge {
    let a = Account::new(account, region).await;
    let vpc = a
        .ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let mut subnets = Vec::new();
    for (i, az) in ["a", "b"].iter().enumerate() {
        let s = a
            .ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.0.{i}.0/24"))
            .availability_zone(format!("{region}{az}"))
            .send()
            .await
            .unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let sg = a
        .ec2
        .create_security_group()
        .group_name("edge-alb")
        .description("edge")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    let lc = a.alb("lc-alb", &subnets, &sg).await;
    let tw = a.alb("tw-alb", &subnets, &sg).await;
    let fwd = a.alb("tw-fwd", &subnets, &sg).await;
    let good = a.compliant(&lc, &format!("edge-{account}")).await;

    // The twin's certificate: imported (never renews), only app, ten days left.
    let tw_leaf = pki.leaf(&LeafSpec::valid(&["app.lifetimecircle.de"]).expiring_in(10));
    let tw_cert = a.import(&tw_leaf).await;
    a.redirect_80(&tw.0, elb::RedirectActionStatusCodeEnum::Http302)
        .await;
    let tw_443 = a
        .https_443(&tw.0, &tw_cert, "ELBSecurityPolicy-TLS-1-0-2015-04")
        .await;
    let tg = a
        .elb
        .create_target_group()
        .name("tw-fwd-tg")
        .protocol(elb::ProtocolEnum::Http)
        .port(8000)
        .vpc_id(&vpc)
        .target_type(elb::TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    a.elb
        .create_listener()
        .load_balancer_arn(&fwd.0)
        .protocol(elb::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            elb::Action::builder()
                .r#type(elb::ActionTypeEnum::Forward)
                .target_group_arn(tg)
                .build(),
        )
        .send()
        .await
        .unwrap();

    a.records(
        &good.zone,
        vec![
            // A name that leads to the twin, which its certificate does not cover (TLS-3).
            cname("shop.lifetimecircle.de", &tw.1),
            // A name that leads nowhere of ours (DNS-3, with a policy that lists it).
            cname("old.lifetimecircle.de", "legacy-app.herokudns.example"),
        ],
    )
    .await;
    Edge {
        account: a,
        region: region.to_string(),
        lc,
        tw,
        fwd: fwd.0,
        lc_cert: good.cert,
        tw_cert,
        lc_443: good.listener_443,
        tw_443,
        zone: good.zone,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_side_fails_each_broken_twin_and_passes_the_compliant_edge() {
    let pki = Pki::new();
    let e = seed_edge("222222222222", "eu-north-1", &pki).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: Vec<String>| {
        let dir = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || infraverify(&dir).args(&args).output().unwrap())
    };
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "scan",
            "--no-probes",
            "--region",
            &e.region,
            "--endpoint-url",
            &e.account.url,
            "--format",
            "json",
            "--format",
            "table",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    // The checklist's own policy, as shipped.
    let out = run(base(&[])).await.unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = read_json(&dir.path().join("reports/report.json"));
    let got = verdicts_of(&report, EDGE_RULES);
    let live = [
        "dns-delegation-mismatch",
        "dns-name-not-resolving-to-alb",
        "mail-dns-records-missing",
        "served-certificate-not-from-listener",
        "tls-endpoint-invalid",
        "tls-certificate-expiring",
        "http-not-redirecting-to-https",
        "health-endpoint-failing",
    ];
    let mut want: Vec<(&str, &str, &str)> = live.iter().map(|r| (*r, "*", "skipped")).collect();
    want.extend([
        ("route53-zone-missing", e.zone.as_str(), "pass"),
        (
            "dns-record-not-pointing-at-alb",
            "app.lifetimecircle.de",
            "pass",
        ),
        (
            "dns-record-not-pointing-at-alb",
            "www.lifetimecircle.de",
            "pass",
        ),
        (
            "dns-record-not-pointing-at-alb",
            "api.lifetimecircle.de",
            "skipped",
        ),
        (
            "acm-certificate-not-covering-names",
            e.lc_cert.as_str(),
            "pass",
        ),
        (
            "acm-certificate-not-covering-names",
            e.tw_cert.as_str(),
            "fail",
        ),
        ("acm-certificate-expiring", e.lc_cert.as_str(), "pass"),
        ("acm-certificate-expiring", e.tw_cert.as_str(), "fail"),
        (
            "acm-certificate-not-auto-renewing",
            e.lc_cert.as_str(),
            "pass",
        ),
        (
            "acm-certificate-not-auto-renewing",
            e.tw_cert.as_str(),
            "fail",
        ),
        (
            "alb-https-certificate-not-covering-names",
            e.lc.0.as_str(),
            "pass",
        ),
        (
            "alb-https-certificate-not-covering-names",
            e.tw.0.as_str(),
            "fail",
        ),
        (
            "alb-https-certificate-not-covering-names",
            e.fwd.as_str(),
            "fail",
        ),
        ("alb-tls-policy-outdated", e.lc_443.as_str(), "pass"),
        ("alb-tls-policy-outdated", e.tw_443.as_str(), "fail"),
        ("http-listener-not-redirecting-301", e.lc.0.as_str(), "pass"),
        ("http-listener-not-redirecting-301", e.tw.0.as_str(), "fail"),
        ("http-listener-not-redirecting-301", e.fwd.as_str(), "fail"),
    ]);
    assert_exactly(&got, &want, &stdout(&out));
    let message = |rule: &str, id: &str| message(&report, rule, id);
    for (rule, id, says) in [
        (
            "acm-certificate-not-covering-names",
            e.tw_cert.as_str(),
            "does not cover www.lifetimecircle.de",
        ),
        (
            "acm-certificate-expiring",
            e.tw_cert.as_str(),
            "the policy wants more than 30",
        ),
        (
            "acm-certificate-not-auto-renewing",
            e.tw_cert.as_str(),
            "it is IMPORTED",
        ),
        // Joined with Route 53: shop leads to the twin.
        (
            "alb-https-certificate-not-covering-names",
            e.tw.0.as_str(),
            "shop.lifetimecircle.de",
        ),
        (
            "alb-https-certificate-not-covering-names",
            e.fwd.as_str(),
            "no HTTPS listener on port 443",
        ),
        (
            "alb-tls-policy-outdated",
            e.tw_443.as_str(),
            "also accepts TLSv1 and TLSv1.1",
        ),
        (
            "http-listener-not-redirecting-301",
            e.tw.0.as_str(),
            "HTTP_302 instead of HTTP_301",
        ),
        (
            "http-listener-not-redirecting-301",
            e.fwd.as_str(),
            "forwards to a target group",
        ),
    ] {
        let m = message(rule, id);
        assert!(m.contains(says), "{rule}: {m}");
    }
    assert_eq!(
        report["errors"],
        serde_json::json!([]),
        "no API call failed"
    );

    // A policy that also lists a name leading elsewhere, and a zone that does not exist.
    write(
        dir.path(),
        "names.toml",
        r#"
[policy]
domain = "lifetimecircle.de"

[rules.dns-record-not-pointing-at-alb]
names = ["app", "www", "old"]
optional-names = []

[rules.route53-zone-missing]
zone = "lifetimecircle.example"
"#,
    );
    let out = run(base(&["--policy", "names.toml", "--out-dir", "names"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = read_json(&dir.path().join("names/report.json"));
    assert_exactly(
        &verdicts_of(&report, EDGE_RULES),
        &[
            (
                "dns-record-not-pointing-at-alb",
                "app.lifetimecircle.de",
                "pass",
            ),
            (
                "dns-record-not-pointing-at-alb",
                "www.lifetimecircle.de",
                "pass",
            ),
            (
                "dns-record-not-pointing-at-alb",
                "old.lifetimecircle.de",
                "fail",
            ),
            ("route53-zone-missing", "lifetimecircle.example", "fail"),
        ],
        &stdout(&out),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn joined_verdicts_compare_the_served_certificate_and_live_dns_with_aws() {
    let pki = Pki::new();
    let e = seed_edge("333333333333", "ap-south-1", &pki).await;
    // A certificate we hold the key for, on the compliant ALB's HTTPS listener: what the
    // live app. endpoint serves. www. serves another, valid but on no listener.
    let served = pki.leaf(&LeafSpec::valid(&[
        "app.lifetimecircle.de",
        "www.lifetimecircle.de",
    ]));
    let served_arn = e.account.import(&served).await;
    e.account
        .elb
        .add_listener_certificates()
        .listener_arn(&e.lc_443)
        .certificates(
            elb::Certificate::builder()
                .certificate_arn(&served_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let other = pki.leaf(&LeafSpec::valid(&["www.lifetimecircle.de"]));
    let app = TlsServer::with_leaf(&served, Routes::new(), BOTH);
    let www = TlsServer::with_leaf(&other, Routes::new(), BOTH);
    let ns = e
        .account
        .r53
        .get_hosted_zone()
        .id(&e.zone)
        .send()
        .await
        .unwrap()
        .delegation_set()
        .unwrap()
        .name_servers()
        .to_vec();
    let mut zone = Zone::new()
        .a("app.lifetimecircle.de", [127, 0, 0, 1])
        .cname("www.lifetimecircle.de", "app.lifetimecircle.de")
        .a(&e.lc.1, [127, 0, 0, 1])
        .a(&e.tw.1, [127, 0, 0, 3])
        .a("shop.lifetimecircle.de", [127, 0, 0, 9]);
    for n in &ns {
        zone = zone.ns("lifetimecircle.de", n);
    }
    let dns = DnsServer::start(zone);
    let dir = tempfile::tempdir().unwrap();
    let ca = pki.write_ca(dir.path());
    write(
        dir.path(),
        "joined.toml",
        r#"
[policy]
domain = "lifetimecircle.de"

[rules.served-certificate-not-from-listener]
[rules.dns-name-not-resolving-to-alb]
names = ["app", "www", "shop"]
[rules.dns-delegation-mismatch]
[rules.tls-endpoint-invalid]
"#,
    );
    let args: Vec<String> = [
        "scan",
        "--policy",
        "joined.toml",
        "--region",
        &e.region,
        "--endpoint-url",
        &e.account.url,
        "--dns-server",
        &dns.addr().to_string(),
        "--ca-file",
        ca.to_str().unwrap(),
        "--connect-to",
        &format!("app.lifetimecircle.de:443:127.0.0.1:{}", app.port()),
        "--connect-to",
        &format!("www.lifetimecircle.de:443:127.0.0.1:{}", www.port()),
        "--format",
        "json",
        "--save-snapshot",
        "joined.json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = crate::support::run_in(dir.path(), args).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = read_json(&dir.path().join("reports/report.json"));
    let ep = |h: &str| format!("{h}.lifetimecircle.de:443");
    assert_exactly(
        &verdicts_of(&report, EDGE_RULES),
        &[
            ("served-certificate-not-from-listener", &ep("app"), "pass"),
            ("served-certificate-not-from-listener", &ep("www"), "fail"),
            (
                "served-certificate-not-from-listener",
                &ep("api"),
                "skipped",
            ),
            ("tls-endpoint-invalid", &ep("app"), "pass"),
            ("tls-endpoint-invalid", &ep("www"), "pass"),
            ("tls-endpoint-invalid", &ep("api"), "skipped"),
            (
                "dns-name-not-resolving-to-alb",
                "app.lifetimecircle.de",
                "pass",
            ),
            (
                "dns-name-not-resolving-to-alb",
                "www.lifetimecircle.de",
                "pass",
            ),
            (
                "dns-name-not-resolving-to-alb",
                "shop.lifetimecircle.de",
                "fail",
            ),
            (
                "dns-name-not-resolving-to-alb",
                "api.lifetimecircle.de",
                "skipped",
            ),
            ("dns-delegation-mismatch", e.zone.as_str(), "pass"),
        ],
        &stdout(&out),
    );
    // The snapshot holds both sides: evaluating it offline gives the same verdicts.
    let offline = infraverify(dir.path())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args([
            "evaluate",
            "joined.json",
            "--policy",
            "joined.toml",
            "--format",
            "json",
            "--out-dir",
            "offline",
        ])
        .output()
        .unwrap();
    assert_eq!(offline.status.code(), Some(1));
    let again = read_json(&dir.path().join("offline/report.json"));
    assert_eq!(verdicts(&again), verdicts(&report));
}
