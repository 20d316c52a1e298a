//! 2.4 Domain: DNS-1 (the Route 53 zone exists and the domain is delegated to it),
//! DNS-2/DNS-3 (the app's names lead to the ALB, in Route 53 and live), DNS-4 (SPF and
//! DKIM when the domain sends mail).

use std::collections::BTreeSet;

use super::web::{
    self, internet_albs, probe, public_zones, required_then_optional, route53_targets, zone_of,
    Points,
};
use super::{declare_rule, join_words, Cx, Rule};
use crate::finding::{Evidence, ResourceRef};
use crate::inventory::probe::{dns_key, DnsAnswer};
use crate::inventory::probe::{ProbePlan, RecordType, PROBE_DNS};
use crate::inventory::route53::canonical_name;
use crate::inventory::route53::{GET_HOSTED_ZONE, LIST_HOSTED_ZONES, LIST_RESOURCE_RECORD_SETS};
use crate::rule_params;
use crate::rules::params::{host_list, host_name, host_names};

fn zone_ref(cx: &Cx<'_>, name: &str, id: Option<&str>) -> ResourceRef {
    ResourceRef::new("route53-hosted-zone", id.unwrap_or(name))
        .name(Some(name))
        .arn(id.map(|i| format!("arn:aws:route53:::hostedzone/{i}")))
        .account(cx.account())
}

fn name_ref(cx: &Cx<'_>, kind: &str, name: &str) -> ResourceRef {
    ResourceRef::new(kind, name)
        .name(Some(name))
        .account(cx.account())
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// DNS-1 (API): the public hosted zone of the domain exists.
    pub struct Route53ZoneMissing {
        id: "route53-zone-missing",
        scope: "public hosted zone of the domain",
        controls: ["DNS-1"],
        severity: High,
        kind: "route53-hosted-zone",
        title: "The domain has no public Route 53 hosted zone",
        reads: [Route53],
    }
}

rule_params! {
    pub struct ZoneParams {
        /// The zone's name: `@` is the policy's domain.
        "zone" => zone: String = "@".to_string(), check = host_name;
    }
}

impl Rule for Route53ZoneMissing {
    type Params = ZoneParams;

    fn hosts<'p>(&self, p: &'p ZoneParams) -> Vec<(&'static str, &'p [String])> {
        vec![("zone", std::slice::from_ref(&p.zone))]
    }

    fn check(&self, cx: &mut Cx<'_>, p: &ZoneParams) {
        let name = cx.host(&p.zone);
        let all = match cx.snap.route53.zones.get() {
            Err(e) => return cx.error_on(zone_ref(cx, &name, None), "the hosted zones", e),
            Ok(z) => z.map(|z| z.values().filter(|z| z.name == name).collect::<Vec<_>>()),
        };
        let all = all.unwrap_or_default();
        let public: Vec<_> = all.iter().filter(|z| !z.private).collect();
        if public.is_empty() {
            let private = all.len();
            let msg = if private > 0 {
                format!("{name} has only a private hosted zone ({private}); the public name has no Route 53 zone.")
            } else {
                format!("There is no Route 53 hosted zone for {name}.")
            };
            let ev = Evidence::new(
                LIST_HOSTED_ZONES,
                serde_json::json!({ "zone": name, "public": 0, "private": private }),
                Some("one public hosted zone".into()),
            );
            return cx.fail(zone_ref(cx, &name, None), msg, vec![ev]);
        }
        for z in &public {
            let ns = match &z.name_servers {
                Some(o) => o.get().ok().flatten().cloned().unwrap_or_default(),
                None => vec![],
            };
            let extra = if public.len() > 1 {
                format!(
                    " There are {} public zones with this name; only the delegated one answers.",
                    public.len()
                )
            } else {
                String::new()
            };
            let msg = format!("{name} has the public hosted zone {}.{extra}", z.id);
            let ev = Evidence::new(
                LIST_HOSTED_ZONES,
                serde_json::json!({ "zone": z.id, "name": z.name, "name_servers": ns }),
                Some("one public hosted zone".into()),
            );
            cx.pass(zone_ref(cx, &name, Some(&z.id)), msg, vec![ev]);
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// DNS-1 (live): the domain's live NS records are the zone's delegation set.
    pub struct DnsDelegationMismatch {
        id: "dns-delegation-mismatch",
        scope: "delegation of the domain",
        controls: ["DNS-1"],
        severity: High,
        kind: "route53-hosted-zone",
        title: "The domain is not delegated to its Route 53 zone's name servers",
        source: Probes,
        reads: [Route53],
    }
}

impl Rule for DnsDelegationMismatch {
    type Params = ZoneParams;

    fn hosts<'p>(&self, p: &'p ZoneParams) -> Vec<(&'static str, &'p [String])> {
        vec![("zone", std::slice::from_ref(&p.zone))]
    }

    fn plan(&self, p: &ZoneParams, domain: Option<&str>, plan: &mut ProbePlan) {
        if let Some(n) = super::resolve_host(&p.zone, domain) {
            plan.dns(&n, RecordType::Ns);
        }
    }

    fn check(&self, cx: &mut Cx<'_>, p: &ZoneParams) {
        let name = cx.host(&p.zone);
        let r = zone_ref(cx, &name, None);
        let Some(probes) = cx.probes() else { return };
        let live = match probe(&probes.dns, &dns_key(&name, RecordType::Ns), PROBE_DNS) {
            Err(e) => return cx.error_on(r, "the live NS records", &e),
            Ok(a) => a,
        };
        if !cx.snap.collection.aws {
            let msg = format!("AWS was not read (--no-aws), so the delegation of {name} has nothing to be compared with.");
            return cx.skip(r, msg);
        }
        let zones = match cx.snap.route53.zones.get() {
            Err(e) => return cx.error_on(r, "the hosted zones", e),
            Ok(z) => z
                .map(|z| {
                    z.values()
                        .filter(|z| z.name == name && !z.private)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
        };
        let live_ns: BTreeSet<String> = answer_set(live);
        let mut sets = Vec::new();
        for z in &zones {
            match &z.name_servers {
                Some(o) => match o.get() {
                    Ok(ns) => sets.push((
                        z.id.clone(),
                        ns.cloned()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|n| canonical_name(&n))
                            .collect::<BTreeSet<_>>(),
                    )),
                    Err(e) => {
                        return cx.error_on(
                            zone_ref(cx, &name, Some(&z.id)),
                            "the zone's delegation set",
                            e,
                        )
                    }
                },
                None => {
                    let e = crate::inventory::CollectError {
                        source: GET_HOSTED_ZONE.into(),
                        region: None,
                        kind: crate::inventory::ErrorKind::NotCollected,
                        message: format!("the delegation set of zone {} was not read", z.id),
                    };
                    return cx.error_on(
                        zone_ref(cx, &name, Some(&z.id)),
                        "the zone's delegation set",
                        &e,
                    );
                }
            }
        }
        let ev = vec![
            Evidence::new(
                PROBE_DNS,
                serde_json::json!({ "query": format!("{name} NS"), "rcode": live.rcode, "name_servers": live_ns }),
                Some("the zone's delegation set".into()),
            ),
            Evidence::new(
                GET_HOSTED_ZONE,
                serde_json::json!(sets
                    .iter()
                    .map(|(id, ns)| serde_json::json!({ "zone": id, "name_servers": ns }))
                    .collect::<Vec<_>>()),
                None,
            ),
        ];
        if let Some((id, _)) = sets.iter().find(|(_, ns)| !ns.is_empty() && *ns == live_ns) {
            let msg = format!(
                "{name} is delegated to the name servers of Route 53 zone {id} ({}).",
                join_words(&live_ns.iter().cloned().collect::<Vec<_>>())
            );
            return cx.pass(zone_ref(cx, &name, Some(id)), msg, ev);
        }
        let live_text = if live_ns.is_empty() {
            format!("has no live NS records ({})", live.rcode)
        } else {
            format!(
                "is delegated to {}",
                join_words(&live_ns.iter().cloned().collect::<Vec<_>>())
            )
        };
        let msg = match sets.as_slice() {
            [] => format!("{name} {live_text}, and there is no public Route 53 zone for it to match."),
            [(id, ns)] => format!(
                "{name} {live_text}, but its Route 53 zone {id} is served by {}: update the delegation at the registrar.",
                join_words(&ns.iter().cloned().collect::<Vec<_>>())
            ),
            many => format!(
                "{name} {live_text}, which matches none of its {} public Route 53 zones.",
                many.len()
            ),
        };
        let id = sets.first().map(|(id, _)| id.clone());
        cx.fail(zone_ref(cx, &name, id.as_deref()), msg, ev);
    }
}

fn answer_set(a: &DnsAnswer) -> BTreeSet<String> {
    a.records.iter().map(|r| canonical_name(r)).collect()
}

// ---------------------------------------------------------------------------------------
rule_params! {
    pub struct NamesParams {
        /// The names that must lead to the ALB (`app` is `app.<domain>`).
        "names" => names: Vec<String> = vec!["app".to_string(), "www".to_string()], check = host_list;
        /// Names checked only when they exist ("api., if used").
        "optional-names" => optional_names: Vec<String> = vec!["api".to_string()], check = host_names;
        /// Accept a CloudFront distribution (`*.cloudfront.net`) as the target. The
        /// distribution itself is not read.
        "allow-cloudfront" => allow_cloudfront: bool = false;
    }
}

declare_rule! {
    /// DNS-2/DNS-3 (API): the app's names lead to the ALB in Route 53.
    pub struct DnsRecordNotPointingAtAlb {
        id: "dns-record-not-pointing-at-alb",
        scope: "DNS name of the app",
        controls: ["DNS-2", "DNS-3"],
        severity: High,
        kind: "dns-record",
        title: "An app name's Route 53 records do not lead to the ALB",
        reads: [Route53, Elbv2],
    }
}

impl Rule for DnsRecordNotPointingAtAlb {
    type Params = NamesParams;

    fn hosts<'p>(&self, p: &'p NamesParams) -> Vec<(&'static str, &'p [String])> {
        vec![("names", &p.names), ("optional-names", &p.optional_names)]
    }

    fn check(&self, cx: &mut Cx<'_>, p: &NamesParams) {
        let (albs, alb_errors) = internet_albs(cx);
        let alb_names: BTreeSet<String> = albs
            .iter()
            .filter_map(|(_, lb)| lb.dns_name.as_deref().map(web::alb_dns))
            .collect();
        let zones = match public_zones(cx) {
            Ok(z) => z,
            Err(e) => {
                let e = e.clone();
                for n in p.names.iter().chain(&p.optional_names) {
                    let h = cx.host(n);
                    cx.error_on(name_ref(cx, "dns-record", &h), "its records", &e);
                }
                return;
            }
        };
        for (n, required) in required_then_optional(&p.names, &p.optional_names) {
            let host = cx.host(n);
            let r = name_ref(cx, "dns-record", &host);
            let zone = match zone_of(&zones, &host) {
                Ok(z) => z,
                Err(e) => {
                    cx.error_on(r, "its records", &e);
                    continue;
                }
            };
            let Some(zone) = zone else {
                if required {
                    let msg = format!("No public Route 53 zone holds {host}.");
                    cx.fail(r, msg, vec![]);
                } else {
                    cx.skip(
                        r,
                        format!("{host} is optional and no public Route 53 zone holds it."),
                    );
                }
                continue;
            };
            let targets = match route53_targets(&zones, &host, &alb_names) {
                Ok(t) => t,
                Err(e) => {
                    cx.error_on(r, "its records", &e);
                    continue;
                }
            };
            let ev = vec![Evidence::new(
                LIST_RESOURCE_RECORD_SETS,
                serde_json::json!({
                    "zone": zone.id,
                    "records": targets.iter().map(|(how, to)| serde_json::json!({ "record": how, "leads_to": describe(to) })).collect::<Vec<_>>(),
                    "load_balancers": alb_names,
                }),
                Some(if p.allow_cloudfront {
                    "alias or CNAME to the ALB or to CloudFront".into()
                } else {
                    "alias or CNAME to the internet-facing ALB".into()
                }),
            )];
            if targets.is_empty() {
                if required {
                    let msg = format!(
                        "{host} has no A, AAAA or CNAME record in zone {}.",
                        zone.name
                    );
                    cx.fail(r, msg, ev);
                } else {
                    let msg = format!(
                        "{host} is optional and has no record in zone {}: not used.",
                        zone.name
                    );
                    cx.skip(r, msg);
                }
                continue;
            }
            let bad: Vec<String> = targets
                .iter()
                .filter(|(_, to)| match to {
                    Points::Alb(_) => false,
                    Points::CloudFront(_) => !p.allow_cloudfront,
                    Points::Elsewhere(_) => true,
                })
                .map(|(how, to)| format!("{how} leads to {}", describe(to)))
                .collect();
            if bad.is_empty() {
                let to: Vec<String> = targets.iter().map(|(_, t)| describe(t)).collect();
                let msg = format!("{host} leads to {}.", join_words(&dedup(to)));
                cx.pass(r, msg, ev);
            } else if !alb_errors.is_empty() {
                // The target may be an ALB in a region that could not be read.
                cx.error_on(r, "whether its target is the ALB", &alb_errors[0]);
            } else if albs.is_empty() {
                let msg = format!(
                    "{host}: {}; there is no internet-facing ALB in the scanned regions to lead to.",
                    bad.join("; ")
                );
                cx.fail(r, msg, ev);
            } else {
                let msg = format!("{host} does not lead to the ALB: {}.", bad.join("; "));
                cx.fail(r, msg, ev);
            }
        }
    }
}

fn describe(p: &Points) -> String {
    match p {
        Points::Alb(d) => format!("the ALB {d}"),
        Points::CloudFront(d) => format!("CloudFront {d}"),
        Points::Elsewhere(d) => d.clone(),
    }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

// ---------------------------------------------------------------------------------------
rule_params! {
    pub struct LiveNamesParams {
        /// The names that must resolve to the ALB (`app` is `app.<domain>`).
        "names" => names: Vec<String> = vec!["app".to_string(), "www".to_string()], check = host_list;
        /// Names checked only when they resolve ("api., if used").
        "optional-names" => optional_names: Vec<String> = vec!["api".to_string()], check = host_names;
        /// Full names whose live addresses the names must resolve to. Default: the DNS
        /// names of the internet-facing ALBs AWS reports.
        "targets" => targets: Vec<String> = vec![], check = host_names;
    }
}

declare_rule! {
    /// DNS-2/DNS-3 (live): the app's names resolve to the ALB's addresses.
    pub struct DnsNameNotResolvingToAlb {
        id: "dns-name-not-resolving-to-alb",
        scope: "DNS name of the app",
        controls: ["DNS-2", "DNS-3"],
        severity: High,
        kind: "dns-name",
        title: "An app name does not resolve, live, to the ALB's addresses",
        source: Probes,
        reads: [Elbv2],
    }
}

impl Rule for DnsNameNotResolvingToAlb {
    type Params = LiveNamesParams;

    fn hosts<'p>(&self, p: &'p LiveNamesParams) -> Vec<(&'static str, &'p [String])> {
        vec![
            ("names", &p.names),
            ("optional-names", &p.optional_names),
            ("targets", &p.targets),
        ]
    }

    fn plan(&self, p: &LiveNamesParams, domain: Option<&str>, plan: &mut ProbePlan) {
        for n in p.names.iter().chain(&p.optional_names).chain(&p.targets) {
            if let Some(h) = super::resolve_host(n, domain) {
                plan.dns(&h, RecordType::A);
                plan.dns(&h, RecordType::Aaaa);
            }
        }
        // For a name without addresses: is it a CNAME to nothing?
        for n in p.names.iter().chain(&p.optional_names) {
            if let Some(h) = super::resolve_host(n, domain) {
                plan.dns(&h, RecordType::Cname);
            }
        }
        if p.targets.is_empty() {
            plan.load_balancer_names = true;
        }
    }

    fn check(&self, cx: &mut Cx<'_>, p: &LiveNamesParams) {
        let Some(probes) = cx.probes() else { return };
        let targets: Vec<String> = if p.targets.is_empty() {
            if !cx.snap.collection.aws {
                let r = name_ref(cx, "dns-name", "*");
                return cx.skip(
                    r,
                    "AWS was not read (--no-aws) and no `targets` are set, so there is no ALB to compare the live answers with.",
                );
            }
            let (albs, errors) = internet_albs(cx);
            if let Some(e) = errors.first() {
                let region = e.region.clone().unwrap_or_default();
                return cx.unavailable(&region, "the ALB to compare with", e);
            }
            albs.iter()
                .filter_map(|(_, lb)| lb.dns_name.as_deref().map(web::alb_dns))
                .collect()
        } else {
            p.targets.iter().map(|t| cx.host(t)).collect()
        };
        // The addresses the targets have right now.
        let mut expected: BTreeSet<String> = BTreeSet::new();
        let mut target_error = None;
        for t in &targets {
            for rtype in [RecordType::A, RecordType::Aaaa] {
                match probe(&probes.dns, &dns_key(t, rtype), PROBE_DNS) {
                    Ok(a) => expected.extend(a.records.iter().cloned()),
                    Err(e) => target_error = Some(e),
                }
            }
        }
        for (n, required) in required_then_optional(&p.names, &p.optional_names) {
            let host = cx.host(n);
            let r = name_ref(cx, "dns-name", &host);
            let answers = [RecordType::A, RecordType::Aaaa]
                .map(|t| probe(&probes.dns, &dns_key(&host, t), PROBE_DNS));
            let (a, aaaa) = match answers {
                [Ok(a), Ok(aaaa)] => (a, aaaa),
                [Err(e), _] | [_, Err(e)] => {
                    cx.error_on(r, "its live addresses", &e);
                    continue;
                }
            };
            let addresses: BTreeSet<String> =
                a.records.iter().chain(&aaaa.records).cloned().collect();
            let ev = vec![Evidence::new(
                PROBE_DNS,
                serde_json::json!({
                    "name": host, "rcode": a.rcode, "addresses": addresses, "cnames": a.cnames,
                    "targets": targets, "target_addresses": expected,
                }),
                Some(format!("only addresses of {}", join_words(&targets))),
            )];
            if addresses.is_empty() {
                let why = if a.rcode == "NXDOMAIN" {
                    "does not exist (NXDOMAIN)"
                } else {
                    "has no A or AAAA record"
                };
                // A CNAME to nothing is a takeover hazard, used or not.
                let cname = probe(&probes.dns, &dns_key(&host, RecordType::Cname), PROBE_DNS);
                if let Some(target) = cname.as_ref().ok().and_then(|c| c.records.first()) {
                    let msg = format!(
                        "{host} is a CNAME to {target}, which does not resolve: whoever can claim {target} can serve {host}."
                    );
                    cx.fail(r, msg, ev);
                    continue;
                }
                if required {
                    cx.fail(r, format!("{host} {why} in live DNS."), ev);
                } else {
                    cx.skip(
                        r,
                        format!("{host} is optional and {why} in live DNS: not used."),
                    );
                }
                continue;
            }
            if let Some(e) = &target_error {
                cx.error_on(r, "the ALB's live addresses", e);
                continue;
            }
            if targets.is_empty() {
                let msg = format!("{host} resolves to {}, but there is no internet-facing ALB in the scanned regions.", join_words(&addresses.iter().cloned().collect::<Vec<_>>()));
                cx.fail(r, msg, ev);
                continue;
            }
            let foreign: Vec<String> = addresses.difference(&expected).cloned().collect();
            if foreign.is_empty() {
                let via = if a.cnames.is_empty() {
                    String::new()
                } else {
                    format!(" (via {})", a.cnames.join(", "))
                };
                let msg = format!(
                    "{host} resolves to {}{via}, all addresses of {}.",
                    join_words(&addresses.iter().cloned().collect::<Vec<_>>()),
                    join_words(&targets)
                );
                cx.pass(r, msg, ev);
            } else {
                let msg = format!(
                    "{host} resolves to {}, which {} not an address of {} ({}).",
                    join_words(&foreign),
                    if foreign.len() == 1 { "is" } else { "are" },
                    join_words(&targets),
                    if expected.is_empty() {
                        "that has no live address".to_string()
                    } else {
                        join_words(&expected.iter().cloned().collect::<Vec<_>>())
                    }
                );
                cx.fail(r, msg, ev);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
rule_params! {
    pub struct MailParams {
        /// Whether the domain sends mail; when it does not, the rule is skipped.
        "sends-mail" => sends_mail: bool = false;
        /// The domain that sends mail: `@` is the policy's domain.
        "domain" => domain: String = "@".to_string(), check = host_name;
        /// DKIM selectors whose `<selector>._domainkey.<domain>` record must exist.
        "dkim-selectors" => dkim_selectors: Vec<String> = vec![];
    }
}

declare_rule! {
    /// DNS-4 (live): SPF and DKIM records of a domain that sends mail.
    pub struct MailDnsRecordsMissing {
        id: "mail-dns-records-missing",
        scope: "mail record of the domain",
        controls: ["DNS-4"],
        severity: Medium,
        kind: "dns-name",
        title: "The domain sends mail without one SPF record or without its DKIM records",
        source: Probes,
    }
}

/// An SPF record: `v=spf1` alone or followed by a space (RFC 7208 4.5).
fn is_spf(txt: &str) -> bool {
    let t = txt.trim_matches('"').to_ascii_lowercase();
    t == "v=spf1" || t.starts_with("v=spf1 ")
}

/// The public key tag of a DKIM record (`p=...`), trimmed; `Some("")` for a revoked key.
fn dkim_key(txt: &str) -> Option<&str> {
    txt.split(';')
        .map(str::trim)
        .find_map(|tag| tag.strip_prefix("p=").map(str::trim))
}

fn dkim_name(selector: &str, domain: &str) -> String {
    format!("{selector}._domainkey.{domain}")
}

impl Rule for MailDnsRecordsMissing {
    type Params = MailParams;

    fn hosts<'p>(&self, p: &'p MailParams) -> Vec<(&'static str, &'p [String])> {
        if p.sends_mail {
            vec![("domain", std::slice::from_ref(&p.domain))]
        } else {
            vec![]
        }
    }

    fn plan(&self, p: &MailParams, domain: Option<&str>, plan: &mut ProbePlan) {
        let Some(d) = super::resolve_host(&p.domain, domain).filter(|_| p.sends_mail) else {
            return;
        };
        plan.dns(&d, RecordType::Txt);
        for s in &p.dkim_selectors {
            plan.dns(&dkim_name(s, &d), RecordType::Txt);
        }
    }

    fn check(&self, cx: &mut Cx<'_>, p: &MailParams) {
        let domain = cx.host(&p.domain);
        if !p.sends_mail {
            cx.threshold("sends-mail");
            let r = name_ref(cx, "dns-name", &domain);
            return cx.skip(
                r,
                format!("The policy says {domain} sends no mail (sends-mail = false)."),
            );
        }
        let Some(probes) = cx.probes() else { return };
        let r = name_ref(cx, "dns-name", &domain);
        match probe(&probes.dns, &dns_key(&domain, RecordType::Txt), PROBE_DNS) {
            Err(e) => cx.error_on(r, "its SPF record", &e),
            Ok(a) => {
                let spf: Vec<&String> = a.records.iter().filter(|t| is_spf(t)).collect();
                let ev = vec![Evidence::new(
                    PROBE_DNS,
                    serde_json::json!({ "query": format!("{domain} TXT"), "rcode": a.rcode, "spf": spf }),
                    Some("exactly one v=spf1 record".into()),
                )];
                match spf.as_slice() {
                    [one] => cx.pass(r, format!("{domain} has one SPF record: {one}."), ev),
                    [] => cx.fail(r, format!("{domain} sends mail but has no SPF (v=spf1) TXT record."), ev),
                    many => cx.fail(
                        r,
                        format!("{domain} has {} SPF records; receivers treat that as an error (RFC 7208 4.5).", many.len()),
                        ev,
                    ),
                }
            }
        }
        for s in &p.dkim_selectors {
            let name = dkim_name(s, &domain);
            let r = name_ref(cx, "dns-name", &name);
            match probe(&probes.dns, &dns_key(&name, RecordType::Txt), PROBE_DNS) {
                Err(e) => cx.error_on(r, "its DKIM record", &e),
                Ok(a) => {
                    let key = a.records.iter().find(|t| dkim_key(t).is_some());
                    let revoked = key.is_some_and(|t| dkim_key(t) == Some(""));
                    let ev = vec![Evidence::new(
                        PROBE_DNS,
                        serde_json::json!({ "query": format!("{name} TXT"), "rcode": a.rcode, "records": a.records, "cnames": a.cnames }),
                        Some("a DKIM key record (p=...)".into()),
                    )];
                    match key {
                        Some(_) if revoked => cx.fail(
                            r,
                            format!("DKIM selector {s} of {domain} has an empty key (p=): the key is revoked."),
                            ev,
                        ),
                        Some(_) => cx.pass(r, format!("DKIM selector {s} of {domain} has a key record."), ev),
                        None => cx.fail(
                            r,
                            format!("DKIM selector {s} of {domain} has no key record at {name} ({}).", a.rcode),
                            ev,
                        ),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Status::*;
    use crate::inventory::probe::{dns_key, RecordType};
    use crate::inventory::route53::AliasTarget;
    use crate::inventory::Observed;
    use crate::rules::testing::*;

    fn records(
        s: &mut crate::inventory::Snapshot,
    ) -> &mut Vec<crate::inventory::route53::RecordSet> {
        let z = value(&mut s.route53.zones).get_mut(ZONE).unwrap();
        match z.records.as_mut().unwrap() {
            Observed::Present { value } => value,
            _ => panic!(),
        }
    }

    fn record<'a>(
        s: &'a mut crate::inventory::Snapshot,
        name: &str,
    ) -> &'a mut crate::inventory::route53::RecordSet {
        records(s).iter_mut().find(|r| r.name == name).unwrap()
    }

    #[test]
    fn zone_exists_is_private_or_unreadable() {
        let rule = "route53-zone-missing";
        assert_verdicts(&run(rule, "", &compliant()), &[(ZONE, Pass)]);
        let mut s = compliant();
        value(&mut s.route53.zones).get_mut(ZONE).unwrap().private = true;
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[(DOMAIN, Fail)]);
        assert!(
            f[0].message.contains("only a private hosted zone"),
            "{}",
            f[0].message
        );
        let mut s = compliant();
        value(&mut s.route53.zones).clear();
        assert_verdicts(&run(rule, "", &s), &[(DOMAIN, Fail)]);
        // A full name works without the domain too.
        assert_verdicts(
            &run(rule, "zone = \"example.org\"", &compliant()),
            &[("example.org", Fail)],
        );
        let mut s = compliant();
        s.route53.zones = Observed::unavailable(denied("route53:ListHostedZones"));
        assert_verdicts(&run(rule, "", &s), &[(DOMAIN, Error)]);
    }

    #[test]
    fn delegation_compares_live_ns_with_the_zone() {
        let rule = "dns-delegation-mismatch";
        assert_verdicts(&run(rule, "", &compliant()), &[(ZONE, Pass)]);
        // Delegated elsewhere (the registrar still points at the old provider).
        let mut s = compliant();
        let p = s.probes.as_mut().unwrap();
        p.dns.insert(
            dns_key(DOMAIN, RecordType::Ns),
            Observed::present(crate::inventory::probe::DnsAnswer {
                rcode: "NOERROR".into(),
                records: vec!["ns1.old-provider.example".into()],
                cnames: vec![],
            }),
        );
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[(ZONE, Fail)]);
        assert!(
            f[0].message.contains("update the delegation"),
            "{}",
            f[0].message
        );
        // The live lookup timed out: error, never a guess.
        let mut s = compliant();
        let mut e = denied("probe:dns");
        e.kind = crate::inventory::ErrorKind::Timeout;
        s.probes
            .as_mut()
            .unwrap()
            .dns
            .insert(dns_key(DOMAIN, RecordType::Ns), Observed::unavailable(e));
        assert_verdicts(&run(rule, "", &s), &[(DOMAIN, Error)]);
        // Without probes (--no-probes), or without AWS (--no-aws): skipped.
        let mut s = compliant();
        s.probes = None;
        assert_verdicts(&run(rule, "", &s), &[("*", Skipped)]);
        let mut s = compliant();
        s.collection.aws = false;
        assert_verdicts(&run(rule, "", &s), &[(DOMAIN, Skipped)]);
    }

    #[test]
    fn route53_records_must_lead_to_the_alb() {
        let rule = "dns-record-not-pointing-at-alb";
        let ok = [
            ("api.lifetimecircle.de", Skipped),
            ("app.lifetimecircle.de", Pass),
            ("www.lifetimecircle.de", Pass),
        ];
        assert_verdicts(&run(rule, "", &compliant()), &ok);

        // www is a CNAME to a host outside: a dangling or foreign target.
        let mut s = compliant();
        record(&mut s, "www.lifetimecircle.de").values = vec!["old-host.herokuapp.com".into()];
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[ok[0], ok[1], ("www.lifetimecircle.de", Fail)]);
        assert!(
            f[2].message.contains("old-host.herokuapp.com"),
            "{}",
            f[2].message
        );

        // app is a plain A record: the ALB's addresses change.
        let mut s = compliant();
        let app = record(&mut s, "app.lifetimecircle.de");
        app.alias = None;
        app.values = vec!["203.0.113.10".into()];
        let f = run(rule, "", &s);
        assert_eq!(f[1].status, Fail);
        assert!(f[1].message.contains("fixed addresses"), "{}", f[1].message);

        // CloudFront only when the policy allows it.
        let mut s = compliant();
        record(&mut s, "app.lifetimecircle.de").alias = Some(AliasTarget {
            hosted_zone_id: "Z2FDTNDATAQYW2".into(),
            dns_name: "d111111abcdef8.cloudfront.net".into(),
            evaluate_target_health: false,
        });
        assert_eq!(run(rule, "", &s)[1].status, Fail);
        assert_eq!(run(rule, "allow-cloudfront = true", &s)[1].status, Pass);

        // A missing required name fails; an optional one in use is checked.
        let mut s = compliant();
        records(&mut s).retain(|r| r.name != "app.lifetimecircle.de");
        let f = run(rule, "", &s);
        assert_eq!(
            (f[1].status, f[2].status),
            (Fail, Fail),
            "www leads to a missing app"
        );
        let mut s = compliant();
        let mut api = record(&mut s, "www.lifetimecircle.de").clone();
        api.name = "api.lifetimecircle.de".into();
        api.values = vec!["api.example.net".into()];
        records(&mut s).push(api);
        assert_eq!(run(rule, "", &s)[0].status, Fail);

        // Records that cannot be read: error for every name.
        let mut s = compliant();
        value(&mut s.route53.zones).get_mut(ZONE).unwrap().records = Some(Observed::unavailable(
            denied("route53:ListResourceRecordSets"),
        ));
        let f = run(rule, "", &s);
        assert!(f.iter().all(|f| f.status == Error), "{f:?}");
    }

    #[test]
    fn live_answers_must_be_the_albs_addresses() {
        let rule = "dns-name-not-resolving-to-alb";
        let ok = [
            ("api.lifetimecircle.de", Skipped),
            ("app.lifetimecircle.de", Pass),
            ("www.lifetimecircle.de", Pass),
        ];
        assert_verdicts(&run(rule, "", &compliant()), &ok);
        let mut s = compliant();
        s.probes.as_mut().unwrap().dns.insert(
            dns_key("www.lifetimecircle.de", RecordType::A),
            Observed::present(crate::inventory::probe::DnsAnswer {
                rcode: "NOERROR".into(),
                records: vec!["198.51.100.7".into()],
                cnames: vec![],
            }),
        );
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[ok[0], ok[1], ("www.lifetimecircle.de", Fail)]);
        assert!(f[2].message.contains("198.51.100.7"), "{}", f[2].message);
        // NXDOMAIN for a required name fails.
        let mut s = compliant();
        s.probes
            .as_mut()
            .unwrap()
            .dns
            .insert(dns_key("app.lifetimecircle.de", RecordType::A), nxdomain());
        s.probes.as_mut().unwrap().dns.insert(
            dns_key("app.lifetimecircle.de", RecordType::Aaaa),
            nxdomain(),
        );
        assert_eq!(run(rule, "", &s)[1].status, Fail);
        // A lookup that failed, or the ALB's own lookup missing: error.
        let mut s = compliant();
        s.probes
            .as_mut()
            .unwrap()
            .dns
            .remove(&dns_key(ALB_DNS, RecordType::A));
        let f = run(rule, "", &s);
        assert_eq!((f[1].status, f[2].status), (Error, Error));
        // Explicit targets replace the ALB.
        let f = run(rule, "targets = [\"www.lifetimecircle.de\"]", &compliant());
        assert_eq!(
            (f[1].status, f[2].status),
            (Fail, Pass),
            "app has one address www lacks"
        );
        let f = run(rule, "targets = [\"other.example.net\"]", &compliant());
        assert_eq!(
            f[1].status, Error,
            "no probe of that target in this snapshot"
        );
        let mut s = compliant();
        s.collection.aws = false;
        assert_verdicts(&run(rule, "", &s), &[("*", Skipped)]);
    }

    #[test]
    fn mail_records_only_when_the_domain_sends_mail() {
        let rule = "mail-dns-records-missing";
        assert_verdicts(&run(rule, "", &compliant()), &[(DOMAIN, Skipped)]);
        assert_verdicts(
            &run(rule, "sends-mail = true", &compliant()),
            &[(DOMAIN, Pass)],
        );
        let mut s = compliant();
        let p = s.probes.as_mut().unwrap();
        p.dns.insert(
            dns_key(DOMAIN, RecordType::Txt),
            Observed::present(crate::inventory::probe::DnsAnswer {
                rcode: "NOERROR".into(),
                records: vec!["v=spf1 -all".into(), "v=spf1 include:x.example ~all".into()],
                cnames: vec![],
            }),
        );
        let f = run(rule, "sends-mail = true", &s);
        assert_verdicts(&f, &[(DOMAIN, Fail)]);
        assert!(f[0].message.contains("2 SPF records"), "{}", f[0].message);
        let mut s = compliant();
        s.probes.as_mut().unwrap().dns.insert(
            dns_key("s1._domainkey.lifetimecircle.de", RecordType::Txt),
            nxdomain(),
        );
        let f = run(
            rule,
            "sends-mail = true\ndkim-selectors = [\"s1\", \"s2\"]",
            &s,
        );
        assert_verdicts(
            &f,
            &[
                (DOMAIN, Pass),
                ("s1._domainkey.lifetimecircle.de", Fail),
                ("s2._domainkey.lifetimecircle.de", Error),
            ],
        );
    }

    #[test]
    fn review_cases() {
        // A CNAME to the ALB's dualstack name leads to the ALB.
        let mut s = compliant();
        record(&mut s, "www.lifetimecircle.de").values = vec![format!("dualstack.{ALB_DNS}.")];
        assert_eq!(
            run("dns-record-not-pointing-at-alb", "", &s)[2].status,
            Pass
        );
        // Two public zones of the same name: which one answers cannot be told.
        let mut s = compliant();
        let mut twin = value(&mut s.route53.zones)[ZONE].clone();
        twin.id = "Z0STALE".into();
        value(&mut s.route53.zones).insert("Z0STALE".into(), twin);
        let f = run("dns-record-not-pointing-at-alb", "", &s);
        assert!(f.iter().all(|f| f.status == Error), "{f:?}");
        assert!(
            f[1].message.contains("delete the stale one"),
            "{}",
            f[1].message
        );
        // An optional name that is a CNAME to nothing: a takeover hazard, not "unused".
        let mut s = compliant();
        s.probes.as_mut().unwrap().dns.insert(
            dns_key("api.lifetimecircle.de", RecordType::Cname),
            Observed::present(crate::inventory::probe::DnsAnswer {
                rcode: "NOERROR".into(),
                records: vec!["lc-old.herokuapp.com".into()],
                cnames: vec![],
            }),
        );
        let f = run("dns-name-not-resolving-to-alb", "", &s);
        assert_eq!(f[0].status, Fail);
        assert!(
            f[0].message.contains("whoever can claim"),
            "{}",
            f[0].message
        );
        // A revoked DKIM key fails; `v=spf10` is not SPF.
        let mut s = compliant();
        let p = s.probes.as_mut().unwrap();
        p.dns.insert(
            dns_key("s1._domainkey.lifetimecircle.de", RecordType::Txt),
            Observed::present(crate::inventory::probe::DnsAnswer {
                rcode: "NOERROR".into(),
                records: vec!["v=DKIM1; k=rsa; p=".into()],
                cnames: vec![],
            }),
        );
        p.dns.insert(
            dns_key(DOMAIN, RecordType::Txt),
            Observed::present(crate::inventory::probe::DnsAnswer {
                rcode: "NOERROR".into(),
                records: vec!["v=spf10 nonsense".into()],
                cnames: vec![],
            }),
        );
        let f = run(
            "mail-dns-records-missing",
            "sends-mail = true\ndkim-selectors = [\"s1\"]",
            &s,
        );
        assert_verdicts(
            &f,
            &[(DOMAIN, Fail), ("s1._domainkey.lifetimecircle.de", Fail)],
        );
        assert!(f[1].message.contains("revoked"), "{}", f[1].message);
    }
}
