//! 2.4 TLS: TLS-1 (an issued ACM certificate covers the app's names, far from expiry),
//! TLS-2 (it renews by itself), TLS-3 (it is the ALB HTTPS listener's, and the one
//! served), TLS-4 (the live handshake, and the listener's security policy).

use std::collections::BTreeSet;

use super::web::{
    self, alb_ref, cert_relevant, internet_albs, listener_ref, probe, public_zones, serial_key,
    uncovered, used_optional, zone_of,
};
use super::{declare_rule, join_words, region_items, Cx, Rule};
use crate::finding::{Evidence, ResourceRef};
use crate::inventory::acm::Certificate;
use crate::inventory::acm::{DESCRIBE_CERTIFICATE, LIST_CERTIFICATES};
use crate::inventory::elbv2::DESCRIBE_LISTENERS;
use crate::inventory::elbv2::{Listener, LoadBalancer};
use crate::inventory::probe::{tls_key, TlsResult};
use crate::inventory::probe::{ProbePlan, PROBE_TLS};
use crate::inventory::route53::LIST_RESOURCE_RECORD_SETS;
use crate::inventory::{CollectError, ErrorKind};
use crate::rule_params;
use crate::rules::params::{host_list, host_names, in_range, tls_version};

fn cert_ref(cx: &Cx<'_>, region: &str, c: &Certificate) -> ResourceRef {
    cx.resource("acm-certificate", &c.arn, region)
        .name(Some(&c.domain_name))
        .arn(Some(c.arn.clone()))
}

fn endpoint_ref(cx: &Cx<'_>, host: &str, port: u16) -> ResourceRef {
    ResourceRef::new("tls-endpoint", format!("{host}:{port}"))
        .name(Some(host))
        .account(cx.account())
}

/// The names a certificate must cover: the required ones and the optional ones in use
/// (`names`), and optional ones whose use Route 53 could not tell (`unsure`, with why).
struct Wanted {
    names: Vec<String>,
    unsure: Vec<String>,
    why: Option<CollectError>,
}

impl Wanted {
    /// Every name that could be the app's, for finding its certificates.
    fn all(&self) -> Vec<String> {
        self.names.iter().chain(&self.unsure).cloned().collect()
    }

    /// The error to report when a certificate covers all sure names but not every unsure
    /// one: whether it must is unknown.
    fn unsure_gap(&self, covered: &[String]) -> Option<CollectError> {
        let gap = uncovered(&self.unsure, covered);
        (!gap.is_empty()).then(|| {
            let why = self.why.clone().map(|e| e.message).unwrap_or_default();
            CollectError {
                source: LIST_RESOURCE_RECORD_SETS.into(),
                region: None,
                kind: self.why.as_ref().map_or(ErrorKind::Other, |e| e.kind),
                message: format!(
                    "whether {} is in use cannot be told from Route 53 ({why}), and nothing covers it",
                    join_words(&gap)
                ),
            }
        })
    }
}

fn wanted_names(cx: &Cx<'_>, names: &[String], optional: &[String]) -> Wanted {
    let mut sure: Vec<String> = names.iter().map(|n| cx.host(n)).collect();
    let used = used_optional(cx, optional);
    sure.extend(used.used);
    sure.sort();
    sure.dedup();
    Wanted {
        names: sure,
        unsure: used.unsure,
        why: used.why,
    }
}

/// The app's certificates: ACM certificates of the domain or covering its names that are
/// issued or in use, per region. A region whose certificates could not be listed is an
/// `error` finding.
fn app_certificates<'a>(cx: &mut Cx<'a>, names: &[String]) -> Vec<(&'a str, &'a Certificate)> {
    let regions: Vec<_> = cx.regions().collect();
    let domain = cx.domain();
    let mut out = Vec::new();
    for r in regions {
        let Ok(Some(certs)) = r.inv.acm.certificates.get() else {
            if let Err(e) = r.inv.acm.certificates.get() {
                cx.unavailable(r.name, "ACM certificates", e);
            }
            continue;
        };
        for c in certs.values() {
            // Whether it is in use is unknown when its details could not be read: it is
            // kept, and each rule says `error` on it rather than judging it.
            let in_use = match c.detail.get() {
                Ok(Some(d)) => !d.in_use_by.is_empty(),
                Ok(None) => false,
                Err(_) => true,
            };
            if cert_relevant(c, domain, names) && (c.status == "ISSUED" || in_use) {
                out.push((r.name, c));
            }
        }
    }
    out
}

/// Fails when the scanned regions hold no certificate for the app at all.
fn no_certificate(cx: &mut Cx<'_>, names: &[String]) {
    let what = cx
        .domain()
        .map(str::to_string)
        .unwrap_or_else(|| join_words(names));
    let regions: Vec<String> = cx.regions().map(|r| r.name.to_string()).collect();
    let r = ResourceRef::new("acm-certificate", what.clone()).account(cx.account());
    let msg = format!(
        "There is no issued ACM certificate for {what} in {}.",
        join_words(&regions)
    );
    let ev = Evidence::new(
        "acm:ListCertificates",
        serde_json::json!({ "certificates": 0 }),
        Some(format!(
            "an ISSUED certificate covering {}",
            join_words(names)
        )),
    );
    cx.fail(r, msg, vec![ev]);
}

// ---------------------------------------------------------------------------------------
rule_params! {
    pub struct CoverParams {
        /// Names every certificate of the app must cover (`app` is `app.<domain>`).
        "names" => names: Vec<String> = vec!["app".to_string(), "www".to_string()], check = host_list;
        /// Names to cover only when Route 53 holds a record for them ("api., if used").
        "optional-names" => optional_names: Vec<String> = vec!["api".to_string()], check = host_names;
    }
}

declare_rule! {
    /// TLS-1: an issued certificate covers the app's names; every one of the app's does.
    pub struct AcmCertificateNotCoveringNames {
        id: "acm-certificate-not-covering-names",
        scope: "ACM certificate of the app",
        controls: ["TLS-1"],
        severity: High,
        kind: "acm-certificate",
        title: "An ACM certificate of the app is not issued or does not cover all of its names",
        reads: [Acm, Route53],
    }
}

impl Rule for AcmCertificateNotCoveringNames {
    type Params = CoverParams;

    fn hosts<'p>(&self, p: &'p CoverParams) -> Vec<(&'static str, &'p [String])> {
        vec![("names", &p.names), ("optional-names", &p.optional_names)]
    }

    fn check(&self, cx: &mut Cx<'_>, p: &CoverParams) {
        cx.threshold("names");
        let wanted = wanted_names(cx, &p.names, &p.optional_names);
        let names = wanted.names.clone();
        let certs = app_certificates(cx, &wanted.all());
        if certs.is_empty() && cx.findings_so_far() == 0 {
            return no_certificate(cx, &names);
        }
        for (region, c) in certs {
            let r = cert_ref(cx, region, c);
            let d = match c.detail.get() {
                Err(e) => {
                    cx.error_on(r, "its names", e);
                    continue;
                }
                Ok(d) => d.cloned().unwrap_or_default(),
            };
            let missing = uncovered(&names, &d.names);
            let ev = vec![Evidence::new(
                DESCRIBE_CERTIFICATE,
                serde_json::json!({ "status": c.status, "names": d.names, "in_use_by": d.in_use_by }),
                Some(format!("ISSUED, covering {}", join_words(&names))),
            )];
            if c.status != "ISSUED" {
                let msg = format!(
                    "Certificate {} is in use but {}, not ISSUED.",
                    c.domain_name, c.status
                );
                cx.fail(r, msg, ev);
            } else if !missing.is_empty() {
                let msg = format!(
                    "Certificate {} does not cover {} (it covers {}).",
                    c.domain_name,
                    join_words(&missing),
                    join_words(&d.names)
                );
                cx.fail(r, msg, ev);
            } else if let Some(e) = wanted.unsure_gap(&d.names) {
                cx.error_on(r, "the names it must cover", &e);
            } else {
                let msg = format!(
                    "Certificate {} is ISSUED and covers {}.",
                    c.domain_name,
                    join_words(&names)
                );
                cx.pass(r, msg, ev);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
rule_params! {
    pub struct ExpiryParams {
        /// Fail when a certificate expires within this many days.
        "min-days" => min_days: u32 = 30, check = in_range(1, 365);
        /// The app's names, to find its certificates (`app` is `app.<domain>`).
        "names" => names: Vec<String> = vec!["app".to_string(), "www".to_string()], check = host_list;
        /// Further names whose certificates count ("api., if used").
        "optional-names" => optional_names: Vec<String> = vec!["api".to_string()], check = host_names;
    }
}

declare_rule! {
    /// TLS-1: the app's certificates are far from expiry.
    pub struct AcmCertificateExpiring {
        id: "acm-certificate-expiring",
        scope: "ACM certificate of the app",
        controls: ["TLS-1"],
        severity: High,
        kind: "acm-certificate",
        title: "An ACM certificate of the app expires within the planned days",
        reads: [Acm, Route53],
    }
}

impl Rule for AcmCertificateExpiring {
    type Params = ExpiryParams;

    fn hosts<'p>(&self, p: &'p ExpiryParams) -> Vec<(&'static str, &'p [String])> {
        vec![("names", &p.names), ("optional-names", &p.optional_names)]
    }

    fn check(&self, cx: &mut Cx<'_>, p: &ExpiryParams) {
        cx.threshold("min-days");
        let names = wanted_names(cx, &p.names, &p.optional_names).all();
        let as_of = cx.snap.collection.finished_at;
        for (region, c) in app_certificates(cx, &names) {
            let r = cert_ref(cx, region, c);
            if let (false, Err(e)) = (c.status == "ISSUED", c.detail.get()) {
                // Not issued, and whether it is in use could not be read.
                cx.error_on(r, "whether it is in use", e);
                continue;
            }
            let days = c.not_after.map(|t| t.days_since(as_of));
            let ev = vec![Evidence::new(
                DESCRIBE_CERTIFICATE,
                serde_json::json!({ "status": c.status, "not_after": c.not_after, "days_left": days }),
                Some(format!("more than {} days left", p.min_days)),
            )];
            match (days, c.not_after) {
                (Some(d), Some(t)) if d < 0 || c.status == "EXPIRED" => {
                    let msg = format!("Certificate {} expired on {t}.", c.domain_name);
                    cx.fail(r, msg, ev);
                }
                (Some(d), Some(t)) if d <= i64::from(p.min_days) => {
                    let msg = format!(
                        "Certificate {} expires in {d} days ({t}); the policy wants more than {}.",
                        c.domain_name, p.min_days
                    );
                    cx.fail(r, msg, ev);
                }
                (None, _) | (_, None) => {
                    let e = CollectError {
                        source: DESCRIBE_CERTIFICATE.into(),
                        region: Some(region.into()),
                        kind: ErrorKind::Other,
                        message: "the certificate's details carry no NotAfter".into(),
                    };
                    cx.error_on(r, "its expiry", &e);
                }
                (Some(d), Some(_)) => {
                    let msg = format!("Certificate {} expires in {d} days.", c.domain_name);
                    cx.pass(r, msg, ev);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// TLS-2: the app's certificates renew by themselves.
    pub struct AcmCertificateNotAutoRenewing {
        id: "acm-certificate-not-auto-renewing",
        scope: "ACM certificate of the app",
        controls: ["TLS-2"],
        severity: Medium,
        kind: "acm-certificate",
        title: "An ACM certificate of the app cannot renew by itself (imported, or not DNS-validated)",
        reads: [Acm, Route53],
    }
}

impl Rule for AcmCertificateNotAutoRenewing {
    type Params = CoverParams;

    fn hosts<'p>(&self, p: &'p CoverParams) -> Vec<(&'static str, &'p [String])> {
        vec![("names", &p.names), ("optional-names", &p.optional_names)]
    }

    fn check(&self, cx: &mut Cx<'_>, p: &CoverParams) {
        let names = wanted_names(cx, &p.names, &p.optional_names).all();
        let zones = public_zones(cx).map_err(Clone::clone);
        for (region, c) in app_certificates(cx, &names) {
            let r = cert_ref(cx, region, c);
            let d = match c.detail.get() {
                Err(e) => {
                    cx.error_on(r, "how it is validated", e);
                    continue;
                }
                Ok(Some(d)) if !(c.cert_type == "AMAZON_ISSUED" && d.validation.is_empty()) => {
                    d.clone()
                }
                Ok(found) => {
                    let e = CollectError {
                        source: DESCRIBE_CERTIFICATE.into(),
                        region: Some(region.into()),
                        kind: ErrorKind::Other,
                        message: if found.is_some() {
                            "no domain validation options were returned"
                        } else {
                            "the certificate was not described"
                        }
                        .into(),
                    };
                    cx.error_on(r, "how it is validated", &e);
                    continue;
                }
            };
            if d.in_use_by.is_empty() {
                // ACM renews a certificate only while a service uses it (or after an export).
                let msg = format!(
                    "Certificate {} is not in use: ACM renews a certificate only while a service uses it, and nothing serves this one.",
                    c.domain_name
                );
                cx.skip(r, msg);
                continue;
            }
            let mut problems = Vec::new();
            let mut unknown = None;
            let mut records = Vec::new();
            if c.cert_type == "PRIVATE" {
                // Issued by a private CA through ACM: ACM renews it, no validation needed.
            } else if c.cert_type != "AMAZON_ISSUED" {
                problems.push(format!(
                    "it is {} (ACM renews only certificates it issued)",
                    c.cert_type
                ));
            } else {
                for v in &d.validation {
                    match v.method.as_deref() {
                        Some("DNS") => {}
                        other => {
                            problems.push(format!(
                                "{} is validated by {} (only DNS validation renews unattended)",
                                v.domain,
                                other.unwrap_or("an unknown method")
                            ));
                            continue;
                        }
                    }
                    let Some(rec) = &v.record else {
                        problems.push(format!("{} has no validation record", v.domain));
                        continue;
                    };
                    if records.iter().any(|(n, _, _)| n == &rec.name) {
                        continue;
                    }
                    let found = match &zones {
                        Err(e) => Err(e.clone()),
                        Ok(z) => match zone_of(z, &rec.name) {
                            Err(e) => Err(e),
                            Ok(None) => Ok(None),
                            Ok(Some(zone)) => web::records(zone).map(|recs| {
                                Some(recs.iter().any(|r| {
                                    r.name == rec.name
                                        && r.rtype == rec.rtype
                                        && r.values.iter().any(|v| {
                                            crate::inventory::route53::canonical_name(v)
                                                == rec.value
                                        })
                                }))
                            }),
                        },
                    };
                    match found {
                        Err(e) => unknown = Some(e),
                        Ok(Some(true)) => {
                            records.push((rec.name.clone(), rec.rtype.clone(), "present"))
                        }
                        Ok(Some(false)) => {
                            records.push((rec.name.clone(), rec.rtype.clone(), "missing"));
                            problems.push(format!(
                                "the validation record {} {} is not in Route 53",
                                rec.rtype, rec.name
                            ));
                        }
                        Ok(None) => {
                            records.push((rec.name.clone(), rec.rtype.clone(), "no zone"));
                            problems.push(format!(
                                "no public Route 53 zone holds the validation record {}",
                                rec.name
                            ));
                        }
                    }
                }
            }
            let ev = vec![Evidence::new(
                DESCRIBE_CERTIFICATE,
                serde_json::json!({
                    "type": c.cert_type,
                    "renewal_eligibility": c.renewal_eligibility,
                    "validation": d.validation.iter().map(|v| serde_json::json!({ "domain": v.domain, "method": v.method })).collect::<Vec<_>>(),
                    "validation_records": records.iter().map(|(n, t, s)| serde_json::json!({ "name": n, "type": t, "in_route53": s })).collect::<Vec<_>>(),
                }),
                Some("AMAZON_ISSUED, DNS-validated, validation records in Route 53".into()),
            )];
            if !problems.is_empty() {
                let msg = format!(
                    "Certificate {} will not renew by itself: {}.",
                    c.domain_name,
                    problems.join("; ")
                );
                cx.fail(r, msg, ev);
            } else if let Some(e) = unknown {
                cx.error_on(r, "its validation records", &e);
            } else if c.cert_type == "PRIVATE" {
                let msg = format!(
                    "Certificate {} is a private certificate issued through ACM, which renews it without validation while it is in use.",
                    c.domain_name
                );
                cx.pass(r, msg, ev);
            } else {
                let msg = format!(
                    "Certificate {} is Amazon-issued and DNS-validated, with its validation records in Route 53.",
                    c.domain_name
                );
                cx.pass(r, msg, ev);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
/// The HTTPS listeners on `port` of an ALB, or the error that hides them.
fn https_listeners(lb: &LoadBalancer, port: u16) -> Result<Vec<&Listener>, &CollectError> {
    Ok(lb
        .listeners
        .get()?
        .map(|ls| {
            ls.iter()
                .filter(|l| l.is_https() && l.port == Some(i32::from(port)))
                .collect()
        })
        .unwrap_or_default())
}

/// The ACM certificates on a listener, with the names they cover. A certificate that is
/// not in ACM (deleted, or an IAM server certificate) comes back as `Err(arn)`.
fn listener_certs<'a>(
    cx: &Cx<'a>,
    region: &str,
    l: &'a Listener,
) -> Result<Vec<Result<&'a Certificate, String>>, CollectError> {
    let attached = match &l.certificates {
        Some(o) => o.get().map_err(Clone::clone)?.cloned().unwrap_or_default(),
        None => vec![],
    };
    let inv = &cx.snap.regions[region];
    let acm = inv.acm.certificates.get().map_err(Clone::clone)?;
    Ok(attached
        .iter()
        .map(|a| match acm.and_then(|m| m.get(&a.arn)) {
            Some(c) => Ok(c),
            None => Err(a.arn.clone()),
        })
        .collect())
}

rule_params! {
    pub struct ListenerCertParams {
        /// The app's names (`app` is `app.<domain>`): the listener's certificates must cover
        /// them (and every Route 53 name that leads to the ALB), and they are probed.
        "names" => names: Vec<String> = vec!["app".to_string(), "www".to_string()], check = host_list;
        /// Names counted only when in use ("api., if used": in Route 53, or resolving live).
        "optional-names" => optional_names: Vec<String> = vec!["api".to_string()], check = host_names;
        /// The HTTPS listener's port, and the port probed.
        "port" => port: u16 = 443;
        /// Name (wildcards allowed) of the internet-facing ALBs that serve the app: every
        /// one by default; narrow it where other apps' ALBs share the account.
        "load-balancer" => load_balancer: String = "*".to_string();
    }
}

declare_rule! {
    /// TLS-3: the ALB's HTTPS listener carries issued certificates covering the app's
    /// names and every Route 53 name that leads to the ALB.
    pub struct AlbHttpsCertificateNotCoveringNames {
        id: "alb-https-certificate-not-covering-names",
        scope: "internet-facing ALB",
        controls: ["TLS-3"],
        severity: High,
        kind: "elbv2-load-balancer",
        title: "The ALB has no HTTPS listener whose certificates cover every name that leads to it",
        reads: [Elbv2, Acm, Route53],
    }
}

impl Rule for AlbHttpsCertificateNotCoveringNames {
    type Params = ListenerCertParams;

    fn hosts<'p>(&self, p: &'p ListenerCertParams) -> Vec<(&'static str, &'p [String])> {
        vec![("names", &p.names), ("optional-names", &p.optional_names)]
    }

    fn check(&self, cx: &mut Cx<'_>, p: &ListenerCertParams) {
        let wanted = wanted_names(cx, &p.names, &p.optional_names);
        let policy_names = wanted.names.clone();
        let (albs, errors) = internet_albs(cx);
        for e in errors {
            let region = e.region.clone().unwrap_or_default();
            cx.unavailable(&region, "the load balancers", e);
        }
        let zones = public_zones(cx).map_err(Clone::clone);
        for (region, lb) in albs
            .into_iter()
            .filter(|(_, lb)| crate::glob::matches(&p.load_balancer, &lb.name))
        {
            let r = alb_ref(cx, region, lb);
            let listeners = match https_listeners(lb, p.port) {
                Err(e) => {
                    cx.error_on(r, "its listeners", e);
                    continue;
                }
                Ok(l) => l,
            };
            let Some(listener) = listeners.first() else {
                let msg = format!("ALB {} has no HTTPS listener on port {}.", lb.name, p.port);
                let ev = Evidence::new(
                    DESCRIBE_LISTENERS,
                    serde_json::json!({ "https_listeners": 0 }),
                    Some(format!("an HTTPS listener on {}", p.port)),
                );
                cx.fail(r, msg, vec![ev]);
                continue;
            };
            let certs = match listener_certs(cx, region, listener) {
                Err(e) => {
                    cx.error_on(r, "its listener's certificates", &e);
                    continue;
                }
                Ok(c) => c,
            };
            // Joined with Route 53: every name that leads to this ALB must be covered.
            let dns_names = match (&zones, lb.dns_name.as_deref()) {
                (Ok(z), Some(d)) => web::names_pointing_at(z, d),
                (Err(e), _) => Err(e.clone()),
                (_, None) => Ok(BTreeSet::new()),
            };
            let mut problems = Vec::new();
            let mut covered: Vec<String> = Vec::new();
            let mut listed = Vec::new();
            let mut unknown_names: Option<CollectError> = None;
            for c in &certs {
                match c {
                    Err(arn) => problems.push(format!(
                        "certificate {arn} is not an ACM certificate in {region} (deleted, or an IAM server certificate)"
                    )),
                    Ok(c) => {
                        let d = match c.detail.get() {
                            Ok(Some(d)) => d.clone(),
                            Ok(None) => {
                                unknown_names = Some(CollectError {
                                    source: DESCRIBE_CERTIFICATE.into(),
                                    region: Some(region.into()),
                                    kind: ErrorKind::Other,
                                    message: format!("certificate {} was not described", c.arn),
                                });
                                continue;
                            }
                            Err(e) => {
                                unknown_names = Some(e.clone());
                                continue;
                            }
                        };
                        listed.push(serde_json::json!({ "arn": c.arn, "status": c.status, "names": d.names }));
                        if c.status == "ISSUED" {
                            covered.extend(d.names.iter().cloned());
                        } else {
                            problems.push(format!("certificate {} is {}", c.domain_name, c.status));
                        }
                    }
                }
            }
            if certs.is_empty() {
                problems.push("the listener has no certificate".into());
            }
            let mut required: BTreeSet<String> = policy_names.iter().cloned().collect();
            if let Ok(n) = &dns_names {
                required.extend(n.iter().cloned());
            }
            let required: Vec<String> = required.into_iter().collect();
            let missing = uncovered(&required, &covered);
            // A certificate whose names could not be read might cover what is missing.
            if !missing.is_empty() && unknown_names.is_none() {
                problems.push(format!("nothing covers {}", join_words(&missing)));
            }
            let ev = vec![Evidence::new(
                "elasticloadbalancing:DescribeListenerCertificates",
                serde_json::json!({
                    "listener": listener.arn, "certificates": listed,
                    "route53_names": dns_names.as_ref().ok(), "policy_names": policy_names,
                }),
                Some(format!(
                    "ISSUED certificates covering {}",
                    join_words(&required)
                )),
            )];
            if !problems.is_empty() {
                let msg = format!(
                    "ALB {}'s HTTPS listener on {}: {}.",
                    lb.name,
                    p.port,
                    problems.join("; ")
                );
                cx.fail(r, msg, ev);
            } else if let Some(e) = &unknown_names {
                cx.error_on(r, "its listener's certificates", e);
            } else if let Some(e) = wanted.unsure_gap(&covered) {
                cx.error_on(r, "the names its certificates must cover", &e);
            } else if let Err(e) = &dns_names {
                cx.error_on(r, "which Route 53 names lead to it", e);
            } else {
                let msg = format!(
                    "ALB {}'s HTTPS listener on {} has issued certificates covering {}.",
                    lb.name,
                    p.port,
                    join_words(&required)
                );
                cx.pass(r, msg, ev);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
/// The TLS versions of AWS's predefined ELB security policies, for a policy the
/// DescribeSSLPolicies answer lacks (an emulator knows only some; a region may lag).
///
/// Source: "Security policies for your Application Load Balancer" and its Network Load
/// Balancer twin in the Elastic Load Balancing guide, as revised after the post-quantum
/// (`PQ`) policies of September 2025; checked 2026-12-03 against AWS's s2n-tls library
/// (`tls/s2n_security_policies.c`, which names each ELB policy's lowest version). The
/// `TLS13-1-<n>` policies accept TLS 1.<n> up to 1.3.
const PREDEFINED_POLICIES: &[(&str, &[&str])] = &[
    ("ELBSecurityPolicy-2015-05", TLS10_12),
    ("ELBSecurityPolicy-2016-08", TLS10_12),
    ("ELBSecurityPolicy-FS-2018-06", TLS10_12),
    ("ELBSecurityPolicy-FS-1-1-2019-08", TLS11_12),
    ("ELBSecurityPolicy-FS-1-2-2019-08", TLS12),
    ("ELBSecurityPolicy-FS-1-2-Res-2019-08", TLS12),
    ("ELBSecurityPolicy-FS-1-2-Res-2020-10", TLS12),
    ("ELBSecurityPolicy-TLS-1-0-2015-04", TLS10_12),
    ("ELBSecurityPolicy-TLS-1-1-2017-01", TLS11_12),
    ("ELBSecurityPolicy-TLS-1-2-2017-01", TLS12),
    ("ELBSecurityPolicy-TLS-1-2-Ext-2018-06", TLS12),
    ("ELBSecurityPolicy-TLS13-1-0-2021-06", TLS10_13),
    ("ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04", TLS10_13),
    ("ELBSecurityPolicy-TLS13-1-0-PQ-2025-09", TLS10_13),
    ("ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09", TLS10_13),
    ("ELBSecurityPolicy-TLS13-1-1-2021-06", TLS11_13),
    ("ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", TLS11_13),
    ("ELBSecurityPolicy-TLS13-1-2-2021-06", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Res-2021-06", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-3-2021-06", TLS13),
    ("ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", TLS13),
    ("ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", TLS13),
    ("ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09", TLS13),
];

const TLS10_12: &[&str] = &["TLSv1", "TLSv1.1", "TLSv1.2"];
const TLS11_12: &[&str] = &["TLSv1.1", "TLSv1.2"];
const TLS12: &[&str] = &["TLSv1.2"];
const TLS10_13: &[&str] = &["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
const TLS11_13: &[&str] = &["TLSv1.1", "TLSv1.2", "TLSv1.3"];
const TLS12_13: &[&str] = &["TLSv1.2", "TLSv1.3"];
const TLS13: &[&str] = &["TLSv1.3"];

/// A TLS version's rank: TLSv1 < TLSv1.1 < TLSv1.2 < TLSv1.3; SSLv3 lowest.
fn rank(v: &str) -> u8 {
    match v {
        "TLSv1.3" => 4,
        "TLSv1.2" => 3,
        "TLSv1.1" => 2,
        "TLSv1" | "TLSv1.0" => 1,
        _ => 0,
    }
}

rule_params! {
    pub struct TlsPolicyParams {
        /// The lowest TLS version the listener may accept.
        "min-version" => min_version: String = "TLSv1.2".to_string(), check = tls_version;
        /// The HTTPS listener's port.
        "port" => port: u16 = 443;
        /// Name (wildcards allowed) of the internet-facing ALBs judged: every one by default.
        "load-balancer" => load_balancer: String = "*".to_string();
    }
}

declare_rule! {
    /// TLS-4 (API): the HTTPS listener's security policy allows nothing below TLS 1.2.
    pub struct AlbTlsPolicyOutdated {
        id: "alb-tls-policy-outdated",
        scope: "HTTPS listener of the internet-facing ALB",
        controls: ["TLS-4"],
        severity: High,
        kind: "elbv2-listener",
        title: "The ALB's HTTPS listener accepts TLS versions below the planned minimum",
        reads: [Elbv2],
    }
}

impl Rule for AlbTlsPolicyOutdated {
    type Params = TlsPolicyParams;

    fn check(&self, cx: &mut Cx<'_>, p: &TlsPolicyParams) {
        cx.threshold("min-version");
        let (albs, errors) = internet_albs(cx);
        for e in errors {
            let region = e.region.clone().unwrap_or_default();
            cx.unavailable(&region, "the load balancers", e);
        }
        for (region, lb) in albs
            .into_iter()
            .filter(|(_, lb)| crate::glob::matches(&p.load_balancer, &lb.name))
        {
            let listeners = match https_listeners(lb, p.port) {
                Err(e) => {
                    cx.error_on(alb_ref(cx, region, lb), "its listeners", e);
                    continue;
                }
                Ok(l) => l,
            };
            for l in listeners {
                let r = listener_ref(cx, region, lb, l);
                let Some(name) = &l.ssl_policy else {
                    // Every HTTPS listener has one: the answer lacked it.
                    let msg = format!(
                        "Could not check HTTPS listener {}:{}: {DESCRIBE_LISTENERS} did not report its security policy.",
                        lb.name, p.port
                    );
                    cx.emit(crate::finding::Status::Error, r, msg, vec![]);
                    continue;
                };
                let from_api = match region_items(
                    cx,
                    region,
                    "TLS security policies",
                    &cx.snap.regions[region].elbv2.ssl_policies,
                ) {
                    None => continue,
                    // An answer without protocols says nothing: look the policy up instead.
                    Some(m) => m.get(name).filter(|v| !v.is_empty()).cloned(),
                };
                let (protocols, source) = match from_api {
                    Some(v) => (v, "elasticloadbalancing:DescribeSSLPolicies"),
                    None => match PREDEFINED_POLICIES.iter().find(|(n, _)| n == name) {
                        Some((_, v)) => (
                            v.iter().map(|s| s.to_string()).collect(),
                            "AWS's published predefined policies (DescribeSSLPolicies did not list it)",
                        ),
                        None => {
                            let e = CollectError {
                                source: "elasticloadbalancing:DescribeSSLPolicies".into(),
                                region: Some(region.into()),
                                kind: ErrorKind::Other,
                                message: format!("the security policy {name} is unknown"),
                            };
                            cx.error_on(r, "which TLS versions it accepts", &e);
                            continue;
                        }
                    },
                };
                let below: Vec<String> = protocols
                    .iter()
                    .filter(|v| rank(v) < rank(&p.min_version))
                    .cloned()
                    .collect();
                let ev = vec![Evidence::new(
                    source,
                    serde_json::json!({ "ssl_policy": name, "protocols": protocols }),
                    Some(format!("nothing below {}", p.min_version)),
                )];
                if below.is_empty() {
                    let msg = format!(
                        "HTTPS listener {}:{} uses {name}, which accepts {} only.",
                        lb.name,
                        p.port,
                        join_words(&protocols)
                    );
                    cx.pass(r, msg, ev);
                } else {
                    let msg = format!(
                        "HTTPS listener {}:{} uses {name}, which also accepts {}; the policy's minimum is {}.",
                        lb.name,
                        p.port,
                        join_words(&below),
                        p.min_version
                    );
                    cx.fail(r, msg, ev);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
/// The live TLS results of the wanted names, each with whether it is optional; an
/// optional name that does not resolve is `skipped` here and left out.
fn live_results<'a>(
    cx: &mut Cx<'a>,
    names: &[String],
    optional: &[String],
    port: u16,
) -> Vec<(String, Result<&'a TlsResult, CollectError>)> {
    let Some(probes) = cx.probes() else {
        return vec![];
    };
    let mut out = Vec::new();
    for (n, required) in web::required_then_optional(names, optional) {
        let host = cx.host(n);
        let res = probe(&probes.tls, &tls_key(&host, port), PROBE_TLS);
        if let Ok(t) = &res {
            if t.name_not_found && !required {
                let r = endpoint_ref(cx, &host, port);
                cx.skip(r, format!("{host} is optional and not in DNS: not used."));
                continue;
            }
        }
        out.push((host, res));
    }
    out
}

/// A certificate check with no certificate to look at. When the endpoint served none (the
/// handshake failed), it is `skipped`: `tls-endpoint-invalid` reports the failure. When the
/// handshake completed but the certificate could not be parsed, it is `error`.
fn no_certificate_served(cx: &mut Cx<'_>, r: ResourceRef, host: &str, t: &TlsResult) {
    match &t.failure {
        Some(f) => cx.skip(
            r,
            format!("{host} served no certificate ({f}); tls-endpoint-invalid reports the failed handshake."),
        ),
        None => {
            let e = CollectError {
                source: PROBE_TLS.into(),
                region: None,
                kind: ErrorKind::Other,
                message: format!("{host} completed the handshake, but its certificate could not be parsed"),
            };
            cx.error_on(r, "the served certificate", &e);
        }
    }
}

fn plan_tls(
    names: &[String],
    optional: &[String],
    port: u16,
    domain: Option<&str>,
    plan: &mut ProbePlan,
) {
    for n in names.iter().chain(optional) {
        if let Some(h) = super::resolve_host(n, domain) {
            plan.tls(&h, port);
        }
    }
}

fn tls_evidence(t: &TlsResult, expected: String) -> Vec<Evidence> {
    vec![Evidence::new(
        PROBE_TLS,
        serde_json::json!({
            "address": t.address, "failure": t.failure, "protocol": t.protocol,
            "verify_error": t.verify_error,
            "certificate": t.certificate.as_ref().map(|c| serde_json::json!({
                "subject": c.subject, "issuer": c.issuer, "serial": c.serial,
                "not_after": c.not_after, "dns_names": c.dns_names, "sha256": c.sha256,
            })),
        }),
        Some(expected),
    )]
}

rule_params! {
    pub struct LiveTlsParams {
        /// Names to shake hands with (`app` is `app.<domain>`).
        "names" => names: Vec<String> = vec!["app".to_string(), "www".to_string()], check = host_list;
        /// Names probed only when they resolve ("api., if used").
        "optional-names" => optional_names: Vec<String> = vec!["api".to_string()], check = host_names;
        /// The port to connect to.
        "port" => port: u16 = 443;
        /// The lowest TLS version the handshake may settle on.
        "min-version" => min_version: String = "TLSv1.2".to_string(), check = tls_version;
    }
}

declare_rule! {
    /// TLS-4 (live): the handshake succeeds, the chain verifies, the name matches, TLS 1.2+.
    pub struct TlsEndpointInvalid {
        id: "tls-endpoint-invalid",
        scope: "live HTTPS endpoint of the app",
        controls: ["TLS-4"],
        severity: High,
        kind: "tls-endpoint",
        title: "A live HTTPS endpoint fails the handshake, serves an untrusted or wrong-name certificate, or old TLS",
        source: Probes,
    }
}

impl Rule for TlsEndpointInvalid {
    type Params = LiveTlsParams;

    fn hosts<'p>(&self, p: &'p LiveTlsParams) -> Vec<(&'static str, &'p [String])> {
        vec![("names", &p.names), ("optional-names", &p.optional_names)]
    }

    fn plan(&self, p: &LiveTlsParams, domain: Option<&str>, plan: &mut ProbePlan) {
        plan_tls(&p.names, &p.optional_names, p.port, domain, plan);
    }

    fn check(&self, cx: &mut Cx<'_>, p: &LiveTlsParams) {
        for (host, res) in live_results(cx, &p.names, &p.optional_names, p.port) {
            let r = endpoint_ref(cx, &host, p.port);
            let t = match res {
                Err(e) => {
                    cx.error_on(r, "the TLS handshake", &e);
                    continue;
                }
                Ok(t) => t,
            };
            let ev = tls_evidence(
                t,
                format!(
                    "a handshake at {} or above with a trusted certificate for {host}",
                    p.min_version
                ),
            );
            let mut problems = Vec::new();
            if let Some(f) = &t.failure {
                problems.push(f.clone());
            }
            if let Some(v) = &t.verify_error {
                let detail = match (v.as_str(), &t.certificate) {
                    ("name mismatch", Some(c)) => format!(
                        "the certificate is for {}, not {host}",
                        if c.dns_names.is_empty() {
                            format!("no DNS name ({})", c.subject)
                        } else {
                            join_words(&c.dns_names)
                        }
                    ),
                    ("unknown issuer", Some(c)) if c.self_signed => {
                        "the certificate is self-signed".to_string()
                    }
                    ("unknown issuer", Some(c)) if c.chain_length == 1 => format!(
                        "the server sends only its own certificate, without the intermediate that links it to a trusted root (issuer {})",
                        c.issuer
                    ),
                    ("unknown issuer", Some(c)) => {
                        format!("the certificate's issuer ({}) is not trusted", c.issuer)
                    }
                    ("expired", Some(c)) => format!("the certificate expired on {}", c.not_after),
                    ("not yet valid", Some(c)) => {
                        format!("the certificate is not valid before {}", c.not_before)
                    }
                    (other, _) => format!("the certificate does not verify: {other}"),
                };
                problems.push(detail);
            }
            if let Some(v) = &t.protocol {
                if rank(v) < rank(&p.min_version) {
                    problems.push(format!("it negotiated {v}, below {}", p.min_version));
                }
            }
            if problems.is_empty() {
                let c = t.certificate.as_ref();
                let msg = format!(
                    "{host}:{} completes a {} handshake with a trusted certificate for the name{}.",
                    p.port,
                    t.protocol.clone().unwrap_or_default(),
                    c.map(|c| format!(" (issued by {})", c.issuer))
                        .unwrap_or_default()
                );
                cx.pass(r, msg, ev);
            } else {
                let msg = format!("{host}:{}: {}.", p.port, problems.join("; "));
                cx.fail(r, msg, ev);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
rule_params! {
    pub struct LiveExpiryParams {
        /// Fail when the served certificate expires within this many days.
        "min-days" => min_days: u32 = 30, check = in_range(1, 365);
        /// Names to shake hands with (`app` is `app.<domain>`).
        "names" => names: Vec<String> = vec!["app".to_string(), "www".to_string()], check = host_list;
        /// Names probed only when they resolve ("api., if used").
        "optional-names" => optional_names: Vec<String> = vec!["api".to_string()], check = host_names;
        /// The port to connect to.
        "port" => port: u16 = 443;
    }
}

declare_rule! {
    /// TLS-4 (live): the served certificate is far from expiry.
    pub struct TlsCertificateExpiring {
        id: "tls-certificate-expiring",
        scope: "live HTTPS endpoint of the app",
        controls: ["TLS-4"],
        severity: High,
        kind: "tls-endpoint",
        title: "A live HTTPS endpoint serves a certificate that expires within the planned days",
        source: Probes,
    }
}

impl Rule for TlsCertificateExpiring {
    type Params = LiveExpiryParams;

    fn hosts<'p>(&self, p: &'p LiveExpiryParams) -> Vec<(&'static str, &'p [String])> {
        vec![("names", &p.names), ("optional-names", &p.optional_names)]
    }

    fn plan(&self, p: &LiveExpiryParams, domain: Option<&str>, plan: &mut ProbePlan) {
        plan_tls(&p.names, &p.optional_names, p.port, domain, plan);
    }

    fn check(&self, cx: &mut Cx<'_>, p: &LiveExpiryParams) {
        cx.threshold("min-days");
        let as_of = cx.snap.collection.finished_at;
        for (host, res) in live_results(cx, &p.names, &p.optional_names, p.port) {
            let r = endpoint_ref(cx, &host, p.port);
            let t = match res {
                Err(e) => {
                    cx.error_on(r, "the served certificate", &e);
                    continue;
                }
                Ok(t) => t,
            };
            let Some(c) = &t.certificate else {
                no_certificate_served(cx, r, &host, t);
                continue;
            };
            let d = c.not_after.days_since(as_of);
            let ev = tls_evidence(t, format!("more than {} days left", p.min_days));
            if d < 0 {
                cx.fail(
                    r,
                    format!(
                        "{host} serves a certificate that expired on {}.",
                        c.not_after
                    ),
                    ev,
                )
            } else if d <= i64::from(p.min_days) {
                cx.fail(
                    r,
                    format!(
                        "{host} serves a certificate that expires in {d} days ({}); the policy wants more than {}.",
                        c.not_after, p.min_days
                    ),
                    ev,
                )
            } else {
                cx.pass(
                    r,
                    format!("{host} serves a certificate that expires in {d} days."),
                    ev,
                )
            }
        }
    }
}

// ---------------------------------------------------------------------------------------

declare_rule! {
    /// TLS-3 (joined): the certificate served live is one ACM has on the ALB's HTTPS
    /// listener.
    pub struct ServedCertificateNotFromListener {
        id: "served-certificate-not-from-listener",
        scope: "live HTTPS endpoint of the app",
        controls: ["TLS-3"],
        severity: Medium,
        kind: "tls-endpoint",
        title: "A live HTTPS endpoint serves a certificate that is not the ALB listener's ACM certificate",
        source: Probes,
        reads: [Elbv2, Acm],
    }
}

impl Rule for ServedCertificateNotFromListener {
    type Params = ListenerCertParams;

    fn hosts<'p>(&self, p: &'p ListenerCertParams) -> Vec<(&'static str, &'p [String])> {
        vec![("names", &p.names), ("optional-names", &p.optional_names)]
    }

    fn plan(&self, p: &ListenerCertParams, domain: Option<&str>, plan: &mut ProbePlan) {
        plan_tls(&p.names, &p.optional_names, p.port, domain, plan);
    }

    fn check(&self, cx: &mut Cx<'_>, p: &ListenerCertParams) {
        if cx.probes().is_none() {
            return;
        }
        if !cx.snap.collection.aws {
            let r = ResourceRef::new("tls-endpoint", "*").account(cx.account());
            return cx.skip(r, "AWS was not read (--no-aws): there is no listener certificate to compare the served one with.");
        }
        // Serial → (ARN, listener) of every certificate on an ALB's HTTPS listener.
        let (albs, errors) = internet_albs(cx);
        let mut attached: Vec<(String, String, String)> = Vec::new();
        let mut unknown: Option<CollectError> = errors.first().map(|e| e.as_ref().clone());
        for (region, lb) in albs
            .iter()
            .filter(|(_, lb)| crate::glob::matches(&p.load_balancer, &lb.name))
        {
            match https_listeners(lb, p.port) {
                Err(e) => unknown = Some(e.clone()),
                Ok(ls) => {
                    for l in ls {
                        match listener_certs(cx, region, l) {
                            Err(e) => unknown = Some(e),
                            Ok(certs) => {
                                for c in certs {
                                    // A certificate on the listener that ACM does not list
                                    // (an IAM server certificate): its serial is unknown.
                                    let c = match c {
                                        Ok(c) => c,
                                        Err(arn) => {
                                            unknown = Some(CollectError {
                                                source: LIST_CERTIFICATES.into(),
                                                region: Some(region.to_string()),
                                                kind: ErrorKind::Other,
                                                message: format!(
                                                    "the listener's certificate {arn} is not an ACM certificate of {region} (an IAM server certificate?), so its serial is not known"
                                                ),
                                            });
                                            continue;
                                        }
                                    };
                                    match c.detail.get() {
                                        Ok(Some(d)) if d.serial.is_some() => {
                                            attached.push((
                                                serial_key(d.serial.as_deref().unwrap_or("")),
                                                c.arn.clone(),
                                                format!("{}:{}", lb.name, p.port),
                                            ));
                                        }
                                        Ok(_) => {
                                            unknown = Some(CollectError {
                                                source: DESCRIBE_CERTIFICATE.into(),
                                                region: Some(region.to_string()),
                                                kind: ErrorKind::Other,
                                                message: format!(
                                                "certificate {} has no serial in its description",
                                                c.arn
                                            ),
                                            })
                                        }
                                        Err(e) => unknown = Some(e.clone()),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for (host, res) in live_results(cx, &p.names, &p.optional_names, p.port) {
            let r = endpoint_ref(cx, &host, p.port);
            let t = match res {
                Err(e) => {
                    cx.error_on(r, "the served certificate", &e);
                    continue;
                }
                Ok(t) => t,
            };
            let Some(c) = &t.certificate else {
                no_certificate_served(cx, r, &host, t);
                continue;
            };
            let key = serial_key(&c.serial);
            let ev = vec![
                Evidence::new(
                    PROBE_TLS,
                    serde_json::json!({ "serial": c.serial, "issuer": c.issuer, "sha256": c.sha256, "dns_names": c.dns_names }),
                    Some("the serial of an ACM certificate on the ALB's HTTPS listener".into()),
                ),
                Evidence::new(
                    DESCRIBE_CERTIFICATE,
                    serde_json::json!(attached.iter().map(|(s, arn, l)| serde_json::json!({ "serial": s, "arn": arn, "listener": l })).collect::<Vec<_>>()),
                    None,
                ),
            ];
            if let Some((_, arn, listener)) = attached.iter().find(|(s, _, _)| *s == key) {
                let msg = format!(
                    "{host} serves ACM certificate {arn}, which is on listener {listener}."
                );
                cx.pass(r, msg, ev);
            } else if let Some(e) = &unknown {
                cx.error_on(r, "the listener's certificates to compare with", e);
            } else if !albs
                .iter()
                .any(|(_, lb)| crate::glob::matches(&p.load_balancer, &lb.name))
            {
                let msg = if albs.is_empty() {
                    format!("{host} serves a certificate (serial {}), but there is no internet-facing ALB in the scanned regions.", c.serial)
                } else {
                    format!("{host} serves a certificate (serial {}), but no internet-facing ALB matches load-balancer {:?}.", c.serial, p.load_balancer)
                };
                cx.fail(r, msg, ev);
            } else {
                let msg = format!(
                    "{host} serves a certificate (serial {}, issuer {}) that is on no ALB HTTPS listener: the traffic does not reach the ALB, or something in front of it terminates TLS.",
                    c.serial, c.issuer
                );
                cx.fail(r, msg, ev);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Status::*;
    use crate::inventory::acm::Certificate;
    use crate::inventory::probe::{tls_key, TlsResult};
    use crate::inventory::route53::RecordSet;
    use crate::inventory::{ErrorKind, Observed, Snapshot};
    use crate::rules::testing::*;

    fn cert(s: &mut Snapshot) -> &mut Certificate {
        value(&mut inv(s).acm.certificates).get_mut(CERT).unwrap()
    }

    fn names(s: &mut Snapshot) -> &mut Vec<String> {
        &mut value(&mut cert(s).detail).names
    }

    fn zone_records(s: &mut Snapshot) -> &mut Vec<RecordSet> {
        match value(&mut s.route53.zones)
            .get_mut(ZONE)
            .unwrap()
            .records
            .as_mut()
            .unwrap()
        {
            Observed::Present { value } => value,
            _ => panic!(),
        }
    }

    fn cname(name: &str, to: &str) -> RecordSet {
        RecordSet {
            name: name.into(),
            rtype: "CNAME".into(),
            ttl: Some(60),
            values: vec![to.into()],
            alias: None,
            set_identifier: None,
        }
    }

    fn tls<'a>(s: &'a mut Snapshot, host: &str) -> &'a mut TlsResult {
        value(
            s.probes
                .as_mut()
                .unwrap()
                .tls
                .get_mut(&tls_key(host, 443))
                .unwrap(),
        )
    }

    #[test]
    fn certificates_cover_the_names_wildcards_included() {
        let rule = "acm-certificate-not-covering-names";
        assert_verdicts(&run(rule, "", &compliant()), &[(CERT, Pass)]);
        let mut s = compliant();
        names(&mut s).retain(|n| n != "www.lifetimecircle.de");
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[(CERT, Fail)]);
        assert!(
            f[0].message
                .contains("does not cover www.lifetimecircle.de"),
            "{}",
            f[0].message
        );
        // A wildcard covers one label.
        let mut s = compliant();
        *names(&mut s) = vec!["*.lifetimecircle.de".into()];
        assert_verdicts(&run(rule, "", &s), &[(CERT, Pass)]);
        assert_verdicts(&run(rule, "names = [\"@\", \"app\"]", &s), &[(CERT, Fail)]);
        // api. counts once Route 53 has a record for it.
        let mut s = compliant();
        zone_records(&mut s).push(cname("api.lifetimecircle.de", "app.lifetimecircle.de"));
        assert_verdicts(&run(rule, "", &s), &[(CERT, Fail)]);
        // In use but not issued.
        let mut s = compliant();
        cert(&mut s).status = "EXPIRED".into();
        assert_verdicts(&run(rule, "", &s), &[(CERT, Fail)]);
        // No certificate at all.
        let mut s = compliant();
        value(&mut inv(&mut s).acm.certificates).clear();
        assert_verdicts(&run(rule, "", &s), &[(DOMAIN, Fail)]);
        // Unreadable: error, and no claim that none exists.
        let mut s = compliant();
        cert(&mut s).detail = Observed::unavailable(denied("acm:DescribeCertificate"));
        assert_verdicts(&run(rule, "", &s), &[(CERT, Error)]);
        let mut s = compliant();
        inv(&mut s).acm.certificates = Observed::unavailable(denied("acm:ListCertificates"));
        assert_verdicts(&run(rule, "", &s), &[("*", Error)]);
    }

    #[test]
    fn certificate_expiry_against_the_snapshot_day() {
        let rule = "acm-certificate-expiring";
        assert_verdicts(&run(rule, "", &compliant()), &[(CERT, Pass)]);
        let mut s = compliant();
        cert(&mut s).not_after = Some("2026-12-08T00:00:00Z".into());
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[(CERT, Fail)]);
        assert!(
            f[0].message.contains("expires in 9 days"),
            "{}",
            f[0].message
        );
        assert_verdicts(&run(rule, "min-days = 200", &compliant()), &[(CERT, Fail)]);
        let mut s = compliant();
        cert(&mut s).not_after = None;
        assert_verdicts(&run(rule, "", &s), &[(CERT, Error)]);
    }

    #[test]
    fn renewal_needs_amazon_dns_validation_and_the_records() {
        let rule = "acm-certificate-not-auto-renewing";
        assert_verdicts(&run(rule, "", &compliant()), &[(CERT, Pass)]);
        let mut s = compliant();
        cert(&mut s).cert_type = "IMPORTED".into();
        assert_verdicts(&run(rule, "", &s), &[(CERT, Fail)]);
        let mut s = compliant();
        value(&mut cert(&mut s).detail).validation[1].method = Some("EMAIL".into());
        let f = run(rule, "", &s);
        assert!(
            f[0].message.contains("validated by EMAIL"),
            "{}",
            f[0].message
        );
        let mut s = compliant();
        zone_records(&mut s).retain(|r| !r.name.starts_with("_v1."));
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[(CERT, Fail)]);
        assert!(f[0].message.contains("not in Route 53"), "{}", f[0].message);
        let mut s = compliant();
        value(&mut s.route53.zones).get_mut(ZONE).unwrap().records = Some(Observed::unavailable(
            denied("route53:ListResourceRecordSets"),
        ));
        assert_verdicts(&run(rule, "", &s), &[(CERT, Error)]);
    }

    /// The HTTPS listener serving an IAM server certificate, which ACM does not list.
    fn with_iam_server_certificate() -> Snapshot {
        let mut s = compliant();
        listener_443(&mut s).certificates = Some(Observed::present(vec![
            crate::inventory::elbv2::ListenerCertificate {
                arn: "arn:aws:iam::123456789012:server-certificate/old".into(),
                is_default: true,
            },
        ]));
        s
    }

    fn listener_443(s: &mut Snapshot) -> &mut crate::inventory::elbv2::Listener {
        let lb = value(&mut inv(s).elbv2.load_balancers)
            .get_mut("arn:alb")
            .unwrap();
        value(&mut lb.listeners)
            .iter_mut()
            .find(|l| l.port == Some(443))
            .unwrap()
    }

    #[test]
    fn the_listener_certificates_cover_policy_and_route53_names() {
        let rule = "alb-https-certificate-not-covering-names";
        assert_verdicts(&run(rule, "", &compliant()), &[("arn:alb", Pass)]);
        // Every internet-facing ALB by default; `load-balancer` narrows it (and the TLS-4
        // and HTTP-2 listener rules) where other apps' ALBs share the account.
        for (r, id) in [
            (rule, "arn:alb"),
            ("alb-tls-policy-outdated", "arn:listener-443"),
            ("http-listener-not-redirecting-301", "arn:alb"),
        ] {
            assert_verdicts(
                &run(r, "load-balancer = \"lc-*\"", &compliant()),
                &[(id, Pass)],
            );
            assert_verdicts(
                &run(r, "load-balancer = \"shop-*\"", &compliant()),
                &[("*", Skipped)],
            );
        }
        // Joined: a Route 53 name leading to the ALB that the certificate misses.
        let mut s = compliant();
        zone_records(&mut s).push(cname("shop.lifetimecircle.de", ALB_DNS));
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("arn:alb", Fail)]);
        assert!(
            f[0].message.contains("shop.lifetimecircle.de"),
            "{}",
            f[0].message
        );
        // A certificate the listener names that ACM does not hold.
        let s = with_iam_server_certificate();
        let f = run(rule, "", &s);
        assert!(
            f[0].message.contains("not an ACM certificate"),
            "{}",
            f[0].message
        );
        // No HTTPS listener.
        let mut s = compliant();
        listener_443(&mut s).protocol = Some("HTTP".into());
        assert_verdicts(&run(rule, "", &s), &[("arn:alb", Fail)]);
        let mut s = compliant();
        listener_443(&mut s).certificates = Some(Observed::unavailable(denied(
            "elasticloadbalancing:DescribeListenerCertificates",
        )));
        assert_verdicts(&run(rule, "", &s), &[("arn:alb", Error)]);
    }

    #[test]
    fn the_security_policy_allows_nothing_below_the_minimum() {
        let rule = "alb-tls-policy-outdated";
        // A policy the API did not list: AWS's published table decides.
        let tls10 = |s: &mut crate::inventory::Snapshot| {
            listener_443(s).ssl_policy = Some("ELBSecurityPolicy-TLS-1-0-2015-04".into())
        };
        four_ways(rule, "")
            .pass(&[("arn:listener-443", Pass)])
            .fail(tls10, &[("arn:listener-443", Fail)])
            .error(
                |s| {
                    inv(s).elbv2.ssl_policies = Observed::unavailable(denied(
                        crate::inventory::elbv2::DESCRIBE_SSL_POLICIES,
                    ))
                },
                &[("*", Error)],
            )
            .skipped(
                |s| value(&mut inv(s).elbv2.load_balancers).clear(),
                &[("*", Skipped)],
            );
        let mut s = compliant();
        tls10(&mut s);
        let f = run(rule, "", &s);
        assert!(
            f[0].message.contains("TLSv1 and TLSv1.1"),
            "{}",
            f[0].message
        );
        let mut s = compliant();
        listener_443(&mut s).ssl_policy = Some("Custom-Unknown".into());
        assert_verdicts(&run(rule, "", &s), &[("arn:listener-443", Error)]);
        assert_verdicts(
            &run(rule, "min-version = \"TLSv1.3\"", &compliant()),
            &[("arn:listener-443", Fail)],
        );
    }

    const ENDPOINTS: [&str; 3] = [
        "api.lifetimecircle.de:443",
        "app.lifetimecircle.de:443",
        "www.lifetimecircle.de:443",
    ];

    #[test]
    fn live_handshakes() {
        let rule = "tls-endpoint-invalid";
        let ok = [
            (ENDPOINTS[0], Skipped),
            (ENDPOINTS[1], Pass),
            (ENDPOINTS[2], Pass),
        ];
        assert_verdicts(&run(rule, "", &compliant()), &ok);
        let cases: [(Break<TlsResult>, &str); 5] = [
            (|t| t.verify_error = Some("expired".into()), "expired on"),
            (
                |t| t.verify_error = Some("name mismatch".into()),
                "not www.lifetimecircle.de",
            ),
            (
                |t| {
                    t.verify_error = Some("unknown issuer".into());
                    t.certificate.as_mut().unwrap().self_signed = true;
                },
                "self-signed",
            ),
            (
                |t| {
                    *t = TlsResult {
                        failure: Some("connection refused".into()),
                        ..TlsResult::default()
                    }
                },
                "connection refused",
            ),
            (|t| t.protocol = Some("TLSv1.1".into()), "below TLSv1.2"),
        ];
        for (breaks, says) in cases {
            let mut s = compliant();
            breaks(tls(&mut s, "www.lifetimecircle.de"));
            let f = run(rule, "", &s);
            assert_verdicts(&f, &[ok[0], ok[1], (ENDPOINTS[2], Fail)]);
            assert!(f[2].message.contains(says), "{says}: {}", f[2].message);
        }
        // The probe timed out: error.
        let mut s = compliant();
        let mut e = denied("probe:tls");
        e.kind = ErrorKind::Timeout;
        s.probes.as_mut().unwrap().tls.insert(
            tls_key("app.lifetimecircle.de", 443),
            Observed::unavailable(e),
        );
        assert_eq!(run(rule, "", &s)[1].status, Error);
        // A required name that is not in DNS fails; --no-probes skips.
        let f = run(
            rule,
            "names = [\"app\", \"api\"]\noptional-names = []",
            &compliant(),
        );
        assert_verdicts(&f, &[(ENDPOINTS[0], Fail), (ENDPOINTS[1], Pass)]);
        let mut s = compliant();
        s.probes = None;
        assert_verdicts(&run(rule, "", &s), &[("*", Skipped)]);
    }

    #[test]
    fn live_certificate_expiry() {
        let rule = "tls-certificate-expiring";
        let ok = [
            (ENDPOINTS[0], Skipped),
            (ENDPOINTS[1], Pass),
            (ENDPOINTS[2], Pass),
        ];
        assert_verdicts(&run(rule, "", &compliant()), &ok);
        let mut s = compliant();
        tls(&mut s, "app.lifetimecircle.de")
            .certificate
            .as_mut()
            .unwrap()
            .not_after = "2026-12-10T00:00:00Z".into();
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[ok[0], (ENDPOINTS[1], Fail), ok[2]]);
        assert!(
            f[1].message.contains("expires in 11 days"),
            "{}",
            f[1].message
        );
        let mut s = compliant();
        *tls(&mut s, "app.lifetimecircle.de") = TlsResult {
            failure: Some("connection refused".into()),
            ..TlsResult::default()
        };
        let f = run(rule, "", &s);
        assert_eq!(f[1].status, Skipped);
        assert!(
            f[1].message.contains("tls-endpoint-invalid"),
            "{}",
            f[1].message
        );
    }

    #[test]
    fn the_served_certificate_is_the_listeners() {
        let rule = "served-certificate-not-from-listener";
        let ok = [
            (ENDPOINTS[0], Skipped),
            (ENDPOINTS[1], Pass),
            (ENDPOINTS[2], Pass),
        ];
        assert_verdicts(&run(rule, "", &compliant()), &ok);
        // Something else terminates TLS for www (an old server, a CDN).
        let mut s = compliant();
        tls(&mut s, "www.lifetimecircle.de")
            .certificate
            .as_mut()
            .unwrap()
            .serial = "77:01".into();
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[ok[0], ok[1], (ENDPOINTS[2], Fail)]);
        // The serial in decimal, as an emulator writes it, still matches: 0x0a1b2c = 662316.
        let mut s = compliant();
        value(&mut cert(&mut s).detail).serial = Some("662316".into());
        assert_verdicts(&run(rule, "", &s), &ok);
        let mut s = compliant();
        cert(&mut s).detail = Observed::unavailable(denied("acm:DescribeCertificate"));
        let f = run(rule, "", &s);
        assert_eq!((f[1].status, f[2].status), (Error, Error));
        // An IAM server certificate on the listener: ACM does not list it, so its serial
        // is not known and the served certificate cannot be matched.
        let s = with_iam_server_certificate();
        let f = run(rule, "", &s);
        assert_eq!((f[1].status, f[2].status), (Error, Error));
        assert!(
            f[1].message.contains("is not an ACM certificate"),
            "{}",
            f[1].message
        );
        let mut s = compliant();
        s.collection.aws = false;
        assert_verdicts(&run(rule, "", &s), &[("*", Skipped)]);
    }

    #[test]
    fn review_cases_never_pass_on_what_was_not_seen() {
        // A required name that is also listed as optional, and not in DNS: fail, not skip.
        let f = run(
            "tls-endpoint-invalid",
            "names = [\"app\", \"www\", \"api\"]",
            &compliant(),
        );
        assert_eq!(f[0].resource.id, ENDPOINTS[0]);
        assert_eq!(f[0].status, Fail, "{}", f[0].message);
        // An Amazon-issued certificate described without validation options: error.
        let mut s = compliant();
        value(&mut cert(&mut s).detail).validation.clear();
        assert_verdicts(
            &run("acm-certificate-not-auto-renewing", "", &s),
            &[(CERT, Error)],
        );
        // A private CA's certificate renews by itself.
        let mut s = compliant();
        cert(&mut s).cert_type = "PRIVATE".into();
        assert_verdicts(
            &run("acm-certificate-not-auto-renewing", "", &s),
            &[(CERT, Pass)],
        );
        // A policy listed without protocols is looked up, not passed.
        let mut s = compliant();
        listener_443(&mut s).ssl_policy = Some("ELBSecurityPolicy-2016-08".into());
        value(&mut inv(&mut s).elbv2.ssl_policies)
            .insert("ELBSecurityPolicy-2016-08".into(), vec![]);
        assert_verdicts(
            &run("alb-tls-policy-outdated", "", &s),
            &[("arn:listener-443", Fail)],
        );
        // A listener certificate whose names could not be read: error, not "nothing covers".
        let mut s = compliant();
        cert(&mut s).detail = Observed::unavailable(denied("acm:DescribeCertificate"));
        assert_verdicts(
            &run("alb-https-certificate-not-covering-names", "", &s),
            &[("arn:alb", Error)],
        );
        // ... or whose serial is missing: the served one cannot be matched.
        let mut s = compliant();
        value(&mut cert(&mut s).detail).serial = None;
        let f = run("served-certificate-not-from-listener", "", &s);
        assert_eq!((f[1].status, f[2].status), (Error, Error));
        // A handshake that completed with a certificate that could not be parsed: error.
        let mut s = compliant();
        tls(&mut s, "app.lifetimecircle.de").certificate = None;
        assert_eq!(run("tls-certificate-expiring", "", &s)[1].status, Error);
        // A leaf without its intermediate is named as such.
        let mut s = compliant();
        let t = tls(&mut s, "app.lifetimecircle.de");
        t.verify_error = Some("unknown issuer".into());
        t.certificate.as_mut().unwrap().chain_length = 1;
        let f = run("tls-endpoint-invalid", "", &s);
        assert!(
            f[1].message.contains("without the intermediate"),
            "{}",
            f[1].message
        );
    }
}
