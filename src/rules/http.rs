//! 2.4 HTTP and 3 Deployment: HTTP-2 (the ALB's port-80 listener redirects with a 301),
//! HTTP-1 (live: `http://` answers 301 to the same https URL, and following it ends in
//! 2xx), DEP-1 (live: the health endpoint answers 200).

use super::web::{alb_ref, internet_albs, probe};
use super::{declare_rule, Cx, Rule};
use crate::finding::{Evidence, ResourceRef, Status};
use crate::inventory::elbv2::{Action, Listener};
use crate::inventory::elbv2::{DESCRIBE_LISTENERS, DESCRIBE_RULES};
use crate::inventory::probe::HttpChain;
use crate::inventory::probe::{ProbePlan, PROBE_HTTP};
use crate::inventory::CollectError;
use crate::rule_params;
use crate::rules::params::{host_list, host_names, in_range, url_path};

fn endpoint_ref(cx: &Cx<'_>, url: &str, host: &str) -> ResourceRef {
    ResourceRef::new("http-endpoint", url)
        .name(Some(host))
        .account(cx.account())
}

// ---------------------------------------------------------------------------------------
rule_params! {
    pub struct ListenerParams {
        /// The plain-HTTP listener's port.
        "port" => port: u16 = 80;
        /// The port the redirect must lead to.
        "https-port" => https_port: u16 = 443;
        /// Name (wildcards allowed) of the internet-facing ALBs judged: every one by default.
        "load-balancer" => load_balancer: String = "*".to_string();
    }
}

declare_rule! {
    /// HTTP-2: the ALB's port-80 listener redirects to HTTPS:443 with HTTP_301.
    pub struct HttpListenerNotRedirecting301 {
        id: "http-listener-not-redirecting-301",
        scope: "internet-facing ALB",
        controls: ["HTTP-2"],
        severity: High,
        kind: "elbv2-load-balancer",
        title: "The ALB's HTTP listener does not answer every request with a 301 to HTTPS",
        reads: [Elbv2],
    }
}

/// What is wrong with an action as "301 to https://same host:443/same path?same query";
/// `None` when nothing is. AWS fills omitted parts with `#{host}`, `/#{path}`, `#{query}`.
fn redirect_problem(a: &Action, https_port: u16) -> Option<String> {
    if a.action_type != "redirect" {
        let what = match (a.action_type.as_str(), &a.fixed_status) {
            ("fixed-response", Some(s)) => format!("answers with a fixed {s} response"),
            ("forward", _) => "forwards to a target group, serving plain HTTP".into(),
            (t, _) => format!("performs the action {t}"),
        };
        return Some(what);
    }
    let Some(r) = &a.redirect else {
        return Some("redirects without a redirect configuration".into());
    };
    let mut bad = Vec::new();
    if r.protocol.as_deref() != Some("HTTPS") {
        bad.push(format!(
            "to protocol {}",
            r.protocol.as_deref().unwrap_or("#{protocol} (unchanged)")
        ));
    }
    if r.port.as_deref() != Some(&https_port.to_string()) {
        bad.push(format!(
            "to port {}",
            r.port.as_deref().unwrap_or("#{port} (unchanged)")
        ));
    }
    if r.status_code.as_deref() != Some("HTTP_301") {
        bad.push(format!(
            "with {} instead of HTTP_301",
            r.status_code.as_deref().unwrap_or("no status code")
        ));
    }
    for (part, got, keep) in [
        ("host", &r.host, "#{host}"),
        ("path", &r.path, "/#{path}"),
        ("query", &r.query, "#{query}"),
    ] {
        if let Some(v) = got.as_deref().filter(|v| *v != keep) {
            bad.push(format!("with {part} {v:?} instead of keeping it ({keep})"));
        }
    }
    (!bad.is_empty()).then(|| format!("redirects {}", bad.join(", ")))
}

impl Rule for HttpListenerNotRedirecting301 {
    type Params = ListenerParams;

    fn check(&self, cx: &mut Cx<'_>, p: &ListenerParams) {
        let (albs, errors) = internet_albs(cx);
        for e in errors {
            let region = e.region.clone().unwrap_or_default();
            cx.unavailable(&region, "the load balancers", e);
        }
        for (region, lb) in albs
            .into_iter()
            .filter(|(_, lb)| crate::glob::matches(&p.load_balancer, &lb.name))
        {
            let r = alb_ref(cx, region, lb);
            let listeners = match lb.listeners.get() {
                Err(e) => {
                    cx.error_on(r, "its listeners", e);
                    continue;
                }
                Ok(l) => l.cloned().unwrap_or_default(),
            };
            let Some(l) = listeners
                .iter()
                .find(|l| l.is_http() && l.port == Some(i32::from(p.port)))
            else {
                let msg = format!(
                    "ALB {} has no HTTP listener on port {}, so http:// requests are refused instead of redirected.",
                    lb.name, p.port
                );
                let ev = Evidence::new(
                    DESCRIBE_LISTENERS,
                    serde_json::json!({ "listeners": listeners.iter().map(|l| format!("{}:{}", l.protocol.clone().unwrap_or_default(), l.port.unwrap_or_default())).collect::<Vec<_>>() }),
                    Some(format!(
                        "an HTTP listener on {} redirecting with 301",
                        p.port
                    )),
                );
                cx.fail(r, msg, vec![ev]);
                continue;
            };
            check_listener(cx, r, &lb.name, l, p);
        }
    }
}

fn check_listener(cx: &mut Cx<'_>, r: ResourceRef, lb: &str, l: &Listener, p: &ListenerParams) {
    let rules = match &l.rules {
        Some(o) => match o.get() {
            Err(e) => return cx.error_on(r, "its HTTP listener's rules", e),
            Ok(v) => v.cloned().unwrap_or_default(),
        },
        None => vec![],
    };
    let mut problems = Vec::new();
    let default = l
        .default_actions
        .iter()
        .min_by_key(|a| a.order.unwrap_or(i32::MAX));
    match default {
        None => problems.push("its default action is missing".to_string()),
        Some(a) => {
            if let Some(why) = redirect_problem(a, p.https_port) {
                problems.push(format!("its default action {why}"));
            }
        }
    }
    for rule in rules.iter().filter(|r| !r.is_default) {
        let first = rule
            .actions
            .iter()
            .min_by_key(|a| a.order.unwrap_or(i32::MAX));
        if let Some(why) = first.and_then(|a| redirect_problem(a, p.https_port)) {
            problems.push(format!(
                "rule {} ({}) {why}",
                rule.priority.clone().unwrap_or_default(),
                rule.conditions.join("; ")
            ));
        }
    }
    let ev = vec![Evidence::new(
        DESCRIBE_RULES,
        serde_json::json!({
            "listener": l.arn,
            "default_actions": l.default_actions,
            "rules": rules.iter().filter(|r| !r.is_default).map(|r| serde_json::json!({ "priority": r.priority, "conditions": r.conditions, "actions": r.actions })).collect::<Vec<_>>(),
        }),
        Some(format!(
            "every request redirected to HTTPS:{} with HTTP_301, host, path and query kept",
            p.https_port
        )),
    )];
    if problems.is_empty() {
        let msg = format!(
            "ALB {lb}'s HTTP listener on {} redirects every request to HTTPS:{} with a 301.",
            p.port, p.https_port
        );
        cx.pass(r, msg, ev);
    } else {
        let msg = format!(
            "ALB {lb}'s HTTP listener on {}: {}.",
            p.port,
            problems.join("; ")
        );
        cx.fail(r, msg, ev);
    }
}

// ---------------------------------------------------------------------------------------
rule_params! {
    pub struct RedirectParams {
        /// Names whose `http://` must redirect (`app` is `app.<domain>`).
        "names" => names: Vec<String> = vec!["app".to_string(), "www".to_string()], check = host_list;
        /// Names probed only when they resolve ("api., if used").
        "optional-names" => optional_names: Vec<String> = vec!["api".to_string()], check = host_names;
        /// A path below the root, with a query, whose redirect must keep both.
        "path" => path: String = "/infraverify/redirect-check?probe=1".to_string(), check = url_path;
        /// Fail when the final https answer lacks a Strict-Transport-Security header.
        "require-hsts" => require_hsts: bool = false;
    }
}

declare_rule! {
    /// HTTP-1 (live): `http://NAME/` answers 301 to `https://NAME/`, path kept, and the
    /// redirect ends in 2xx.
    pub struct HttpNotRedirectingToHttps {
        id: "http-not-redirecting-to-https",
        scope: "live http:// endpoint of the app",
        controls: ["HTTP-1"],
        severity: High,
        kind: "http-endpoint",
        title: "A live http:// URL does not answer 301 to the same https URL, or the https side fails",
        source: Probes,
    }
}

fn root_url(host: &str) -> String {
    format!("http://{host}/")
}

fn path_url(host: &str, path: &str) -> String {
    format!("http://{host}{path}")
}

/// `location` resolved against `base`, normalised (default port dropped, host lowercase).
fn absolute(base: &str, location: &str) -> Option<String> {
    let base = reqwest::Url::parse(base).ok()?;
    base.join(location).ok().map(|u| u.to_string())
}

fn hops_evidence(chains: &[(&str, &HttpChain)], expected: String) -> Vec<Evidence> {
    vec![Evidence::new(
        PROBE_HTTP,
        serde_json::json!(chains
            .iter()
            .map(
                |(url, c)| serde_json::json!({ "url": url, "hops": c.hops, "failure": c.failure,
                "unobserved": c.unobserved.as_ref().map(|e| &e.message) })
            )
            .collect::<Vec<_>>()),
        Some(expected),
    )]
}

/// What is wrong with a chain's first answer, for a redirect to `want`.
fn first_hop_problem(chain: &HttpChain, url: &str, want: &str) -> Option<String> {
    let Some(first) = chain.hops.first() else {
        return Some(format!(
            "{url} gave no answer: {}",
            chain.failure.clone().unwrap_or_default()
        ));
    };
    let location = first.location.as_deref().and_then(|l| absolute(url, l));
    match (first.status, location.as_deref()) {
        (301, Some(l)) if l == want => None,
        (301, Some(l)) => Some(format!("{url} redirects to {l}, not {want}")),
        (301, None) => Some(format!("{url} answers 301 without a usable Location")),
        (s @ (302 | 303 | 307 | 308), Some(l)) => Some(format!(
            "{url} answers {s} (to {l}); a permanent redirect must be 301"
        )),
        (s, _) if (300..400).contains(&s) => Some(format!("{url} answers {s} without a Location")),
        (s, _) => Some(format!("{url} answers {s} instead of redirecting to https")),
    }
}

impl Rule for HttpNotRedirectingToHttps {
    type Params = RedirectParams;

    fn hosts<'p>(&self, p: &'p RedirectParams) -> Vec<(&'static str, &'p [String])> {
        vec![("names", &p.names), ("optional-names", &p.optional_names)]
    }

    fn plan(&self, p: &RedirectParams, domain: Option<&str>, plan: &mut ProbePlan) {
        for n in p.names.iter().chain(&p.optional_names) {
            if let Some(h) = super::resolve_host(n, domain) {
                plan.http(&root_url(&h));
                plan.http(&path_url(&h, &p.path));
            }
        }
    }

    fn check(&self, cx: &mut Cx<'_>, p: &RedirectParams) {
        let Some(probes) = cx.probes() else { return };
        for (n, required) in super::web::required_then_optional(&p.names, &p.optional_names) {
            let host = cx.host(n);
            let (root, below) = (root_url(&host), path_url(&host, &p.path));
            let r = endpoint_ref(cx, &root, &host);
            let want_root = format!("https://{host}/");
            let want_path = absolute(&want_root, &p.path).unwrap_or_default();
            let rc = probe(&probes.http, &root, PROBE_HTTP);
            let pc = probe(&probes.http, &below, PROBE_HTTP);
            // Either chain answering "no such name" says the host is not in DNS.
            let not_in_dns = [&rc, &pc]
                .iter()
                .any(|c| c.as_ref().is_ok_and(|c| c.name_not_found));
            if not_in_dns && !required {
                cx.skip(r, format!("{host} is optional and not in DNS: not used."));
                continue;
            }
            // Every violation observed counts, whatever could not be observed after it (a
            // later hop, or the other chain); only when nothing observed is wrong does an
            // unobserved part make the verdict `error`.
            let mut problems: Vec<String> = Vec::new();
            let mut open: Option<CollectError> = None;
            match &rc {
                Ok(c) => match first_hop_problem(c, &root, &want_root) {
                    Some(problem) => problems.push(problem),
                    // Following the root redirect must end on a 2xx answer.
                    None => match (c.last(), &c.failure, &c.unobserved) {
                        (_, Some(f), _) => {
                            problems.push(format!("following the redirect fails: {f}"))
                        }
                        (Some(last), None, None) if !(200..300).contains(&last.status) => problems
                            .push(format!(
                                "following the redirect ends in {} at {}",
                                last.status, last.url
                            )),
                        (Some(last), None, None) if p.require_hsts && last.hsts.is_none() => {
                            problems.push(format!(
                                "{} sends no Strict-Transport-Security header",
                                last.url
                            ))
                        }
                        (_, None, Some(e)) => open = Some(e.clone()),
                        _ => {}
                    },
                },
                Err(e) => open = Some(e.clone()),
            }
            match &pc {
                Ok(c) => problems.extend(first_hop_problem(c, &below, &want_path)),
                Err(e) => open = open.or(Some(e.clone())),
            }
            let observed: Vec<(&str, &HttpChain)> = [(&root, &rc), (&below, &pc)]
                .into_iter()
                .filter_map(|(u, c)| Some((u.as_str(), *c.as_ref().ok()?)))
                .collect();
            let ev = hops_evidence(
                &observed,
                format!("301 to {want_root} (and {want_path}), ending in 2xx"),
            );
            if !problems.is_empty() {
                let msg = format!("{}.", problems.join("; "));
                cx.fail(r, msg, ev);
            } else if let Some(e) = open.as_ref().filter(|_| observed.is_empty()) {
                cx.error_on(r, "the redirect", e);
            } else if let Some(e) = open {
                let msg = format!(
                    "Could not check the redirect of http://{host}/: what was observed is right, but {}.",
                    e.message
                );
                cx.emit(Status::Error, r, msg, ev);
            } else if let Ok(c) = &rc {
                let end = c.last().map(|h| h.status).unwrap_or_default();
                let hsts = c.last().and_then(|h| h.hsts.clone());
                let msg = format!(
                    "http://{host}/ answers 301 to {want_root}, keeps the path, and ends in {end}{}.",
                    if hsts.is_some() { " with HSTS" } else { " (no HSTS header)" }
                );
                cx.pass(r, msg, ev);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
rule_params! {
    pub struct HealthParams {
        /// Hosts whose health endpoint is called: `app` is `app.<domain>`; a staging host
        /// may be added by its full name.
        "hosts" => hosts: Vec<String> = vec!["app".to_string()], check = host_list;
        /// The health endpoint's path.
        "path" => path: String = "/api/health".to_string(), check = url_path;
        /// The status it must answer with.
        "expected-status" => expected_status: u16 = 200, check = in_range(100, 599);
    }
}

declare_rule! {
    /// DEP-1 (live): the smoke test, `GET https://HOST/api/health`, answers 200.
    pub struct HealthEndpointFailing {
        id: "health-endpoint-failing",
        scope: "health endpoint of the app",
        controls: ["DEP-1"],
        severity: High,
        kind: "http-endpoint",
        title: "The app's health endpoint does not answer with the expected status",
        source: Probes,
    }
}

fn health_url(host: &str, path: &str) -> String {
    format!("https://{host}{path}")
}

impl Rule for HealthEndpointFailing {
    type Params = HealthParams;

    fn hosts<'p>(&self, p: &'p HealthParams) -> Vec<(&'static str, &'p [String])> {
        vec![("hosts", &p.hosts)]
    }

    fn plan(&self, p: &HealthParams, domain: Option<&str>, plan: &mut ProbePlan) {
        for h in &p.hosts {
            if let Some(h) = super::resolve_host(h, domain) {
                plan.http(&health_url(&h, &p.path));
            }
        }
    }

    fn check(&self, cx: &mut Cx<'_>, p: &HealthParams) {
        cx.threshold("expected-status");
        let Some(probes) = cx.probes() else { return };
        for h in &p.hosts {
            let host = cx.host(h);
            let url = health_url(&host, &p.path);
            let r = endpoint_ref(cx, &url, &host);
            let chain = match probe(&probes.http, &url, PROBE_HTTP) {
                Err(e) => {
                    cx.error_on(r, "the health endpoint", &e);
                    continue;
                }
                Ok(c) => c,
            };
            let ev = hops_evidence(
                &[(&url, chain)],
                format!("{} on the first answer", p.expected_status),
            );
            match chain.hops.first() {
                None => {
                    let msg = format!(
                        "GET {url} gave no answer: {}.",
                        chain.failure.clone().unwrap_or_default()
                    );
                    cx.fail(r, msg, ev);
                }
                Some(first) if first.status == p.expected_status => {
                    cx.pass(r, format!("GET {url} answers {}.", first.status), ev)
                }
                Some(first) => {
                    let to = first
                        .location
                        .as_deref()
                        .map(|l| format!(" (redirect to {l})"))
                        .unwrap_or_default();
                    let msg = format!(
                        "GET {url} answers {}{to}; the policy expects {}.",
                        first.status, p.expected_status
                    );
                    cx.fail(r, msg, ev);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Status::*;
    use crate::inventory::elbv2::{Action, Listener, ListenerRule};
    use crate::inventory::probe::HttpChain;
    use crate::inventory::{ErrorKind, Observed, Snapshot};
    use crate::rules::testing::*;

    fn listener_80(s: &mut Snapshot) -> &mut Listener {
        let lb = value(&mut inv(s).elbv2.load_balancers)
            .get_mut("arn:alb")
            .unwrap();
        value(&mut lb.listeners)
            .iter_mut()
            .find(|l| l.port == Some(80))
            .unwrap()
    }

    fn forward() -> Action {
        Action {
            action_type: "forward".into(),
            order: Some(1),
            redirect: None,
            fixed_status: None,
        }
    }

    #[test]
    fn the_port_80_listener_redirects_everything_with_301() {
        let rule = "http-listener-not-redirecting-301";
        assert_verdicts(&run(rule, "", &compliant()), &[("arn:alb", Pass)]);
        // Omitted host/path/query are AWS's defaults, which keep them.
        let mut s = compliant();
        let r = listener_80(&mut s).default_actions[0]
            .redirect
            .as_mut()
            .unwrap();
        (r.host, r.path, r.query) = (None, None, None);
        assert_verdicts(&run(rule, "", &s), &[("arn:alb", Pass)]);
        let cases: [(Break<Listener>, &str); 5] = [
            (
                |l| {
                    l.default_actions[0].redirect.as_mut().unwrap().status_code =
                        Some("HTTP_302".into())
                },
                "HTTP_302 instead of HTTP_301",
            ),
            (
                |l| l.default_actions = vec![forward()],
                "forwards to a target group",
            ),
            (
                |l| l.default_actions[0].redirect.as_mut().unwrap().port = Some("#{port}".into()),
                "to port #{port}",
            ),
            (
                |l| l.default_actions[0].redirect.as_mut().unwrap().path = Some("/".into()),
                "path \"/\"",
            ),
            (
                |l| {
                    l.rules = Some(Observed::present(vec![ListenerRule {
                        arn: "arn:rule-10".into(),
                        priority: Some("10".into()),
                        is_default: false,
                        actions: vec![forward()],
                        conditions: vec!["path-pattern: /api/*".into()],
                    }]))
                },
                "rule 10 (path-pattern: /api/*) forwards",
            ),
        ];
        for (breaks, says) in cases {
            let mut s = compliant();
            breaks(listener_80(&mut s));
            let f = run(rule, "", &s);
            assert_verdicts(&f, &[("arn:alb", Fail)]);
            assert!(f[0].message.contains(says), "{says}: {}", f[0].message);
        }
        let mut s = compliant();
        listener_80(&mut s).port = Some(8080);
        let f = run(rule, "", &s);
        assert!(
            f[0].message.contains("no HTTP listener on port 80"),
            "{}",
            f[0].message
        );
        let mut s = compliant();
        listener_80(&mut s).rules = Some(Observed::unavailable(denied(
            "elasticloadbalancing:DescribeRules",
        )));
        assert_verdicts(&run(rule, "", &s), &[("arn:alb", Error)]);
    }

    const ROOTS: [&str; 3] = [
        "http://api.lifetimecircle.de/",
        "http://app.lifetimecircle.de/",
        "http://www.lifetimecircle.de/",
    ];

    fn chain_of<'a>(s: &'a mut Snapshot, url: &str) -> &'a mut HttpChain {
        value(s.probes.as_mut().unwrap().http.get_mut(url).unwrap())
    }

    #[test]
    fn live_http_answers_301_to_the_same_https_url() {
        let rule = "http-not-redirecting-to-https";
        let ok = [(ROOTS[0], Skipped), (ROOTS[1], Pass), (ROOTS[2], Pass)];
        assert_verdicts(&run(rule, "", &compliant()), &ok);
        let www = "http://www.lifetimecircle.de/";
        let cases: [(Break<HttpChain>, &str); 6] = [
            (|c| c.hops[0].status = 302, "answers 302"),
            (|c| c.hops[0].status = 308, "answers 308"),
            (
                |c| {
                    c.hops.truncate(1);
                    c.hops[0].status = 200;
                    c.hops[0].location = None;
                },
                "answers 200 instead of redirecting",
            ),
            (
                |c| c.hops[0].location = Some("https://app.lifetimecircle.de/".into()),
                "not https://www.lifetimecircle.de/",
            ),
            (|c| c.hops[1].status = 503, "ends in 503"),
            (
                |c| {
                    c.hops.truncate(1);
                    c.failure = Some("https://www.lifetimecircle.de/: TLS: expired".into());
                },
                "TLS: expired",
            ),
        ];
        for (breaks, says) in cases {
            let mut s = compliant();
            breaks(chain_of(&mut s, www));
            let f = run(rule, "", &s);
            assert_verdicts(&f, &[ok[0], ok[1], (ROOTS[2], Fail)]);
            assert!(f[2].message.contains(says), "{says}: {}", f[2].message);
        }
        // The path below the root must be kept.
        let mut s = compliant();
        let below = format!("http://www.lifetimecircle.de{REDIRECT_PATH}");
        chain_of(&mut s, &below).hops[0].location = Some("https://www.lifetimecircle.de/".into());
        let f = run(rule, "", &s);
        assert_eq!(f[2].status, Fail);
        assert!(f[2].message.contains(&below), "{}", f[2].message);
        // HSTS only when the policy requires it.
        let mut s = compliant();
        chain_of(&mut s, www).hops[1].hsts = None;
        assert_eq!(run(rule, "", &s)[2].status, Pass);
        assert_eq!(run(rule, "require-hsts = true", &s)[2].status, Fail);
        // Nothing observed: error.
        let mut s = compliant();
        let mut e = denied("probe:http");
        e.kind = ErrorKind::Timeout;
        s.probes
            .as_mut()
            .unwrap()
            .http
            .insert(www.into(), Observed::unavailable(e.clone()));
        assert_eq!(run(rule, "", &s)[2].status, Error);
        // An observed violation is not hidden behind a later hop nobody could observe: a
        // 301 to another host whose name does not resolve fails at that hop.
        let unresolved = |c: &mut HttpChain| {
            c.hops.truncate(1);
            c.unobserved = Some(denied("probe:http"));
        };
        let mut s = compliant();
        let c = chain_of(&mut s, www);
        unresolved(c);
        c.hops[0].location = Some("https://elsewhere.example/".into());
        let f = run(rule, "", &s);
        assert_eq!(f[2].status, Fail, "{}", f[2].message);
        assert!(
            f[2].message
                .contains("redirects to https://elsewhere.example/"),
            "{}",
            f[2].message
        );
        assert_eq!(
            f[2].evidence[0].observed[0]["hops"][0]["location"],
            "https://elsewhere.example/"
        );
        // The right redirect, then nothing observed: error.
        let mut s = compliant();
        unresolved(chain_of(&mut s, www));
        let f = run(rule, "", &s);
        assert_eq!(f[2].status, Error, "{}", f[2].message);
        assert!(
            f[2].message.contains("what was observed is right, but"),
            "{}",
            f[2].message
        );
        // One chain unobserved as a whole, the other showing a 302: fail, from what was seen.
        let mut s = compliant();
        chain_of(&mut s, www).hops[0].status = 302;
        let below = format!("http://www.lifetimecircle.de{REDIRECT_PATH}");
        s.probes
            .as_mut()
            .unwrap()
            .http
            .insert(below, Observed::unavailable(e));
        assert_eq!(run(rule, "", &s)[2].status, Fail);
    }

    #[test]
    fn the_health_endpoint_answers_200() {
        let rule = "health-endpoint-failing";
        let url = "https://app.lifetimecircle.de/api/health";
        assert_verdicts(&run(rule, "", &compliant()), &[(url, Pass)]);
        let mut s = compliant();
        chain_of(&mut s, url).hops[0].status = 500;
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[(url, Fail)]);
        assert!(f[0].message.contains("answers 500"), "{}", f[0].message);
        assert_verdicts(&run(rule, "expected-status = 500", &s), &[(url, Pass)]);
        let mut s = compliant();
        *chain_of(&mut s, url) = HttpChain {
            name_not_found: false,
            hops: vec![],
            failure: Some("connection refused".into()),
            unobserved: None,
        };
        assert_verdicts(&run(rule, "", &s), &[(url, Fail)]);
        // A staging host this snapshot never probed: error, not a pass.
        let f = run(
            rule,
            "hosts = [\"app\", \"staging.lifetimecircle.de\"]",
            &compliant(),
        );
        assert_verdicts(
            &f,
            &[
                (url, Pass),
                ("https://staging.lifetimecircle.de/api/health", Error),
            ],
        );
    }
}
