//! What the edge rules (TLS, DNS, HTTP) share: certificate name coverage, the
//! internet-facing ALBs, Route 53 lookups, and access to probe results.

use std::collections::{BTreeMap, BTreeSet};

use super::Cx;
use crate::finding::ResourceRef;
use crate::inventory::acm::Certificate;
use crate::inventory::elbv2::{Listener, LoadBalancer};
use crate::inventory::route53::{canonical_name, HostedZone, RecordSet};
use crate::inventory::route53::{LIST_HOSTED_ZONES, LIST_RESOURCE_RECORD_SETS};
use crate::inventory::{CollectError, ErrorKind, Observed};

/// Whether certificate name `pattern` covers host `name`: the same name, or a wildcard
/// `*.rest` for exactly one more label (`*.example.com` covers `app.example.com`, not
/// `example.com` nor `a.b.example.com`).
pub fn covers(pattern: &str, name: &str) -> bool {
    let (p, n) = (canonical_name(pattern), canonical_name(name));
    if p == n {
        // Also a wildcard DNS name (`*.example.com`), which only the same wildcard covers.
        return true;
    }
    match p.strip_prefix("*.") {
        Some(rest) => n
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && label != "*" && tail == rest),
        None => p == n,
    }
}

/// The names in `names` that none of `sans` covers.
pub fn uncovered(names: &[String], sans: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| !sans.iter().any(|s| covers(s, n)))
        .cloned()
        .collect()
}

/// An ALB's DNS name as aliases name it: without `dualstack.`, lowercase, no dot.
pub fn alb_dns(name: &str) -> String {
    let n = canonical_name(name);
    n.strip_prefix("dualstack.")
        .map(str::to_string)
        .unwrap_or(n)
}

/// The internet-facing ALBs of every scanned region; a region whose load balancers could
/// not be listed is an `error` finding and left out.
pub fn internet_albs<'a>(
    cx: &mut Cx<'a>,
) -> (
    Vec<(&'a str, &'a LoadBalancer)>,
    Vec<std::borrow::Cow<'a, CollectError>>,
) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let regions: Vec<_> = cx.regions().collect();
    for r in regions {
        match r.internet_facing_albs(&None) {
            Ok(lbs) => out.extend(lbs.into_iter().map(|lb| (r.name, lb))),
            Err(e) => errors.push(e),
        }
    }
    (out, errors)
}

/// The ALB as a finding's resource.
pub fn alb_ref(cx: &Cx<'_>, region: &str, lb: &LoadBalancer) -> ResourceRef {
    cx.resource("elbv2-load-balancer", &lb.arn, region)
        .name(Some(&lb.name))
        .arn(Some(lb.arn.clone()))
}

/// A listener as a finding's resource: `lc-alb:443`.
pub fn listener_ref(cx: &Cx<'_>, region: &str, lb: &LoadBalancer, l: &Listener) -> ResourceRef {
    cx.resource("elbv2-listener", &l.arn, region)
        .name(Some(format!("{}:{}", lb.name, l.port.unwrap_or_default())))
        .arn(Some(l.arn.clone()))
}

/// The public hosted zones.
pub fn public_zones<'a>(cx: &Cx<'a>) -> Result<Vec<&'a HostedZone>, &'a CollectError> {
    Ok(cx
        .snap
        .route53
        .zones
        .get()?
        .map(|z| z.values().filter(|z| !z.private).collect())
        .unwrap_or_default())
}

/// The most specific zone among `zones` that holds `name`. Two public zones of the same
/// name (a zone re-created, the old one kept) make the answer unknowable from the API:
/// only the delegated one answers, and the records of either could be the live ones.
pub fn zone_of<'a>(
    zones: &[&'a HostedZone],
    name: &str,
) -> Result<Option<&'a HostedZone>, CollectError> {
    let name = canonical_name(name);
    let holding: Vec<&HostedZone> = zones
        .iter()
        .filter(|z| name == z.name || name.ends_with(&format!(".{}", z.name)))
        .copied()
        .collect();
    let Some(longest) = holding.iter().map(|z| z.name.len()).max() else {
        return Ok(None);
    };
    let best: Vec<&HostedZone> = holding
        .into_iter()
        .filter(|z| z.name.len() == longest)
        .collect();
    match best.as_slice() {
        [one] => Ok(Some(one)),
        many => Err(CollectError {
            source: LIST_HOSTED_ZONES.into(),
            region: None,
            kind: ErrorKind::Other,
            message: format!(
                "{} public hosted zones are named {} ({}); which one is delegated cannot be told from the API: delete the stale one",
                many.len(),
                many[0].name,
                many.iter().map(|z| z.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}

/// The required names, then the optional ones that are not also required, each with
/// whether it is required.
pub fn required_then_optional<'a>(
    names: &'a [String],
    optional: &'a [String],
) -> impl Iterator<Item = (&'a String, bool)> + 'a {
    names.iter().map(|n| (n, true)).chain(
        optional
            .iter()
            .filter(move |o| !names.contains(o))
            .map(|n| (n, false)),
    )
}

/// A zone's records, or why they are not there.
pub fn records(zone: &HostedZone) -> Result<&[RecordSet], CollectError> {
    match &zone.records {
        Some(Observed::Present { value }) => Ok(value),
        Some(Observed::Absent) => Ok(&[]),
        Some(Observed::Unavailable { error }) => Err(error.clone()),
        None => Err(CollectError {
            source: LIST_RESOURCE_RECORD_SETS.into(),
            region: None,
            kind: ErrorKind::NotCollected,
            message: format!(
                "the records of zone {} were not read: it is outside the policy's domain",
                zone.name
            ),
        }),
    }
}

/// Where a name's address records lead, as Route 53 holds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Points {
    /// At this ALB DNS name.
    Alb(String),
    /// At a CloudFront distribution.
    CloudFront(String),
    /// Somewhere else, described.
    Elsewhere(String),
}

/// Follows `name`'s A, AAAA and CNAME record sets through the public zones (aliases and
/// CNAMEs to other names in them) until each reaches something outside. `Ok(empty)`:
/// the name has no such record. `albs`: the known ALB DNS names.
pub fn route53_targets(
    zones: &[&HostedZone],
    name: &str,
    albs: &BTreeSet<String>,
) -> Result<Vec<(String, Points)>, CollectError> {
    let mut out = Vec::new();
    follow(zones, &canonical_name(name), albs, 0, &mut out)?;
    Ok(out)
}

fn follow(
    zones: &[&HostedZone],
    name: &str,
    albs: &BTreeSet<String>,
    depth: usize,
    out: &mut Vec<(String, Points)>,
) -> Result<(), CollectError> {
    let Some(zone) = zone_of(zones, name)? else {
        return Ok(());
    };
    let sets: Vec<&RecordSet> = records(zone)?
        .iter()
        .filter(|r| r.name == name && matches!(r.rtype.as_str(), "A" | "AAAA" | "CNAME"))
        .collect();
    for r in sets {
        let what = format!("{} {}", r.name, r.rtype);
        let target = match (&r.alias, r.rtype.as_str()) {
            (Some(a), _) => Some((alb_dns(&a.dns_name), format!("{what} alias"))),
            (None, "CNAME") => r
                .values
                .first()
                .map(|v| (alb_dns(v), format!("{what} record"))),
            (None, _) => {
                out.push((
                    what,
                    Points::Elsewhere(format!("fixed addresses {}", r.values.join(", "))),
                ));
                continue;
            }
        };
        let Some((target, how)) = target else {
            out.push((what, Points::Elsewhere("an empty CNAME".into())));
            continue;
        };
        if albs.contains(&target) {
            out.push((how, Points::Alb(target)));
        } else if target.ends_with(".cloudfront.net") {
            out.push((how, Points::CloudFront(target)));
        } else if depth < 5 && zone_of(zones, &target)?.is_some() && target != name {
            let before = out.len();
            follow(zones, &target, albs, depth + 1, out)?;
            if out.len() == before {
                out.push((
                    how,
                    Points::Elsewhere(format!("{target}, which has no record")),
                ));
            }
        } else {
            out.push((how, Points::Elsewhere(target)));
        }
    }
    Ok(())
}

/// The names in the public zones whose records lead to `alb_dns_name` (aliases, CNAMEs,
/// and names that lead to those).
pub fn names_pointing_at(
    zones: &[&HostedZone],
    alb_dns_name: &str,
) -> Result<BTreeSet<String>, CollectError> {
    let target = alb_dns(alb_dns_name);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Zones outside the policy's domain were listed but deliberately not read.
    for z in zones.iter().filter(|z| z.records.is_some()) {
        for r in records(z)? {
            if !matches!(r.rtype.as_str(), "A" | "AAAA" | "CNAME") {
                continue;
            }
            let to = match &r.alias {
                Some(a) => Some(alb_dns(&a.dns_name)),
                None if r.rtype == "CNAME" => r.values.first().map(|v| alb_dns(v)),
                None => None,
            };
            if let Some(to) = to {
                edges.entry(r.name.clone()).or_default().insert(to);
            }
        }
    }
    let mut found: BTreeSet<String> = BTreeSet::new();
    let mut frontier: BTreeSet<String> = [target].into();
    for _ in 0..6 {
        let next: BTreeSet<String> = edges
            .iter()
            .filter(|(from, tos)| {
                !found.contains(*from) && tos.iter().any(|t| frontier.contains(t))
            })
            .map(|(from, _)| from.clone())
            .collect();
        if next.is_empty() {
            break;
        }
        found.extend(next.iter().cloned());
        frontier = next;
    }
    Ok(found)
}

/// Which optional names are in use: those Route 53 holds an address record for.
pub struct OptionalUse {
    pub used: Vec<String>,
    /// Names Route 53 could not tell about, and why.
    pub unsure: Vec<String>,
    pub why: Option<CollectError>,
}

/// Sorts `optional` into used, unused and unknown (Route 53 unreadable, or two zones of the
/// name).
pub fn used_optional(cx: &Cx<'_>, optional: &[String]) -> OptionalUse {
    let hosts: Vec<String> = optional.iter().map(|n| cx.host(n)).collect();
    let mut out = OptionalUse {
        used: vec![],
        unsure: vec![],
        why: None,
    };
    let zones = match public_zones(cx) {
        Ok(z) => z,
        Err(e) => {
            out.unsure = hosts;
            out.why = Some(e.clone());
            return out;
        }
    };
    for h in hosts {
        let answer = zone_of(&zones, &h).and_then(|zone| match zone {
            None => Ok(false),
            Some(zone) => records(zone).map(|recs| {
                recs.iter()
                    .any(|r| r.name == h && matches!(r.rtype.as_str(), "A" | "AAAA" | "CNAME"))
            }),
        });
        match answer {
            Ok(true) => out.used.push(h),
            Ok(false) => {}
            Err(e) => {
                out.unsure.push(h);
                out.why = Some(e);
            }
        }
    }
    out
}

/// Whether an ACM certificate belongs to the app: one of its names is the policy's
/// domain or under it, or covers one of `names`.
pub fn cert_relevant(cert: &Certificate, domain: Option<&str>, names: &[String]) -> bool {
    let mut cert_names = vec![cert.domain_name.clone()];
    if let Ok(Some(d)) = cert.detail.get() {
        cert_names.extend(d.names.iter().cloned());
    }
    cert_names.iter().any(|c| {
        let bare = c.trim_start_matches("*.");
        domain.is_some_and(|d| {
            let d = canonical_name(d);
            bare == d || bare.ends_with(&format!(".{d}"))
        }) || names.iter().any(|n| covers(c, n))
    })
}

/// A probe result by key, or the error that stands in its way; a probe the snapshot
/// lacks (it was taken with another policy) is `not-collected`.
pub fn probe<'a, T>(
    results: &'a BTreeMap<String, Observed<T>>,
    key: &str,
    source: &str,
) -> Result<&'a T, CollectError> {
    match results.get(key) {
        Some(Observed::Present { value }) => Ok(value),
        Some(Observed::Unavailable { error }) => Err(error.clone()),
        Some(Observed::Absent) | None => Err(CollectError {
            source: source.to_string(),
            region: None,
            kind: ErrorKind::NotCollected,
            message: format!(
                "the snapshot holds no probe of {key} (it was collected with another policy)"
            ),
        }),
    }
}

/// A certificate serial in one form: lowercase hex without separators or leading zeros.
/// ACM writes colon-separated hex; an emulator may write decimal, which is converted.
pub fn serial_key(serial: &str) -> String {
    let s = serial.trim().to_ascii_lowercase();
    let hex: String = if !s.contains(':') && s.len() > 2 && s.chars().all(|c| c.is_ascii_digit()) {
        decimal_to_hex(&s)
    } else {
        s.chars().filter(|c| c.is_ascii_hexdigit()).collect()
    };
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.to_string()
    }
}

/// Arbitrary-length decimal to hex, by long division.
fn decimal_to_hex(dec: &str) -> String {
    let mut digits: Vec<u32> = dec.bytes().map(|b| u32::from(b - b'0')).collect();
    let mut out = Vec::new();
    while digits.iter().any(|d| *d != 0) {
        let mut rem = 0u32;
        let mut next = Vec::with_capacity(digits.len());
        for d in &digits {
            let cur = rem * 10 + d;
            next.push(cur / 16);
            rem = cur % 16;
        }
        out.push(std::char::from_digit(rem, 16).expect("below 16"));
        digits = next;
    }
    out.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_exactly_one_label() {
        assert!(covers("*.example.com", "app.example.com"));
        assert!(covers("*.Example.com.", "APP.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(!covers("*.example.com", "a.b.example.com"));
        assert!(!covers("*.example.com", "appexample.com"));
        assert!(covers("example.com", "example.com"));
        assert!(covers("*.example.com", "*.example.com"));
        assert!(!covers("*.example.com", "*.a.example.com"));
        assert!(!covers("app.example.com", "www.example.com"));
        let names = vec!["app.x.de".to_string(), "x.de".to_string()];
        assert_eq!(
            uncovered(&names, &["*.x.de".into()]),
            vec!["x.de".to_string()]
        );
    }

    #[test]
    fn serials_compare_across_notations() {
        assert_eq!(serial_key("0a:1B:ff"), "a1bff");
        assert_eq!(serial_key("00:01"), "1");
        // 255 * 256 + 1 = 65281 = 0xff01
        assert_eq!(serial_key("65281"), "ff01");
        // 10^21: long division, not a machine integer.
        assert_eq!(serial_key("1000000000000000000000"), "3635c9adc5dea00000");
    }

    #[test]
    fn alb_names_drop_dualstack() {
        assert_eq!(
            alb_dns("DualStack.LC-ALB-1.eu.elb.amazonaws.com."),
            "lc-alb-1.eu.elb.amazonaws.com"
        );
    }
}
