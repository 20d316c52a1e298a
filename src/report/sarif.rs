//! `report.sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! Every rule with a finding becomes a `reportingDescriptor` (title, what it checks, the
//! whole doc page as Markdown help, `security-severity`). Failures are results; waived
//! failures are results with an external suppression carrying the waiver; errors are
//! tool execution notifications. Each result names the resource (its ARN where AWS has one)
//! as a logical location and the policy line that set the threshold as its physical
//! location, so code scanning can anchor it in the repository.

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, ReportingDescriptorReference, Result as SarifResult, ResultLevel, Run,
    RunAutomationDetails, Sarif, Suppression, Tool, ToolComponent,
};

use super::Report;
use crate::finding::{Finding, Severity, Status};
use crate::rules::{self, doc_section};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

impl From<Severity> for ResultLevel {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Critical | Severity::High => ResultLevel::Error,
            Severity::Medium => ResultLevel::Warning,
            Severity::Low | Severity::Info => ResultLevel::Note,
        }
    }
}

/// GitHub's scale: 9.0+ critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn level_name(l: &ResultLevel) -> &'static str {
    match l {
        ResultLevel::Error => "error",
        ResultLevel::Warning => "warning",
        ResultLevel::Note => "note",
        ResultLevel::None => "none",
    }
}

fn props(pairs: impl IntoIterator<Item = (&'static str, serde_json::Value)>) -> PropertyBag {
    PropertyBag::builder()
        .additional_properties(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<BTreeMap<_, _>>(),
        )
        .build()
}

fn text(s: impl Into<String>) -> Message {
    Message::builder().text(s.into()).build()
}

/// FNV-1a over the parts, joined by zero bytes.
fn fnv(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        let sep = (i > 0).then_some(0u8);
        for b in sep.into_iter().chain(p.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// A stable fingerprint of a finding's identity (rule and resource).
fn fingerprint(f: &Finding) -> String {
    let (rule, resource) = f.identity();
    fnv(&[&rule, &resource])
}

/// What GitHub code scanning tells alerts apart by, since every result's physical location
/// is the policy line of its rule: the rule, the account, the region and the resource (its
/// ARN, or its kind and id), so each resource failing a rule is an alert of its own.
fn location_hash(f: &Finding) -> String {
    let (rule, resource) = f.identity();
    let r = &f.resource;
    fnv(&[
        &rule,
        r.account.as_deref().unwrap_or("-"),
        r.region.as_deref().unwrap_or("-"),
        &resource,
    ])
}

/// GitHub shows at most 1,024 characters of a rule's full description: whole paragraphs of
/// `text` while they fit, else the first cut at a sentence (or word) end, marked `…`.
fn brief(text: &str, max: usize) -> String {
    let mut out = String::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let sep = if out.is_empty() { 0 } else { 2 };
        if out.chars().count() + sep + para.chars().count() > max {
            break;
        }
        if sep > 0 {
            out.push_str("\n\n");
        }
        out.push_str(para);
    }
    if !out.is_empty() {
        return out;
    }
    let cut: String = text.trim().chars().take(max - 1).collect();
    let end = cut
        .rfind(". ")
        .map(|i| i + 1)
        .or_else(|| cut.rfind(' '))
        .unwrap_or(cut.len());
    format!("{}…", cut[..end].trim_end())
}

/// A rule's `name`, which SARIF wants distinct from its id: `AdminAccessNotAllowed`.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The descriptor of a rule; `example`, one of its findings, describes a rule this build
/// does not have (a team rule of the policy, a rule of another version's report).
fn descriptor(id: &str, severity: Severity, example: Option<&Finding>) -> ReportingDescriptor {
    let level: ResultLevel = severity.into();
    let config = ReportingConfiguration::builder()
        .level(serde_json::json!(level_name(&level)))
        .build();
    match rules::find(id) {
        Some(rule) => {
            let m = rule.meta();
            let checks = doc_section(m.doc, "What it checks").trim().to_string();
            ReportingDescriptor::builder()
                .id(m.id)
                .name(pascal(m.id))
                .short_description(MultiformatMessageString::builder().text(m.title).build())
                .full_description(
                    MultiformatMessageString::builder()
                        .text(if checks.is_empty() {
                            m.title.to_string()
                        } else {
                            brief(&checks, 1024)
                        })
                        .build(),
                )
                .help(
                    MultiformatMessageString::builder()
                        .text(m.remediation())
                        .markdown(rules::page(rule))
                        .build(),
                )
                .default_configuration(config)
                .properties(
                    PropertyBag::builder()
                        .tags(
                            ["security".to_string(), "infrastructure".to_string()]
                                .into_iter()
                                .chain(m.controls.iter().map(|c| format!("checklist/{c}")))
                                .collect::<Vec<_>>(),
                        )
                        .additional_properties(BTreeMap::from([
                            (
                                "security-severity".to_string(),
                                serde_json::json!(security_severity(severity)),
                            ),
                            ("controls".to_string(), serde_json::json!(m.controls)),
                        ]))
                        .build(),
                )
                .build()
        }
        // A team rule of the policy, or a rule of another version's report.
        None => {
            let controls = example.map(|f| f.controls.join(", ")).unwrap_or_default();
            let what =
                format!(
                "Rule {id}{}: a team rule of the policy, or a rule of another infraverify version",
                if controls.is_empty() { String::new() } else { format!(" ({controls})") }
            );
            let help = example
                .map(|f| f.remediation.clone())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| {
                    format!(
                        "`infraverify explain {id} --policy FILE` prints a team rule's definition."
                    )
                });
            ReportingDescriptor::builder()
                .id(id)
                .name(pascal(id))
                .short_description(
                    MultiformatMessageString::builder()
                        .text(what.clone())
                        .build(),
                )
                .full_description(MultiformatMessageString::builder().text(what).build())
                .help(
                    MultiformatMessageString::builder()
                        .text(help.clone())
                        .markdown(help)
                        .build(),
                )
                .default_configuration(config)
                .properties(props([(
                    "security-severity",
                    serde_json::json!(security_severity(severity)),
                )]))
                .build()
        }
    }
}

/// A policy file as a SARIF artifact URI: a relative path stays relative (to the
/// repository, where GitHub finds it); an absolute one becomes a `file://` URI, since a
/// relative reference must not begin with a slash.
fn policy_uri(file: &str) -> String {
    if !std::path::Path::new(file).is_absolute() {
        return file.to_string();
    }
    let mut uri = String::from("file://");
    for b in file.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                uri.push(b as char)
            }
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri
}

fn location(f: &Finding) -> Location {
    let r = &f.resource;
    let logical = LogicalLocation::builder()
        .name(r.id.clone())
        .fully_qualified_name(r.arn.clone().unwrap_or_else(|| f.identity().1))
        .kind("resource")
        .build();
    let mut loc = Location::builder().logical_locations(vec![logical]).build();
    loc.physical_location = f.policy.as_ref().map(|p| {
        PhysicalLocation::builder()
            .artifact_location(ArtifactLocation::builder().uri(policy_uri(&p.file)).build())
            .region(
                Region::builder()
                    .start_line(i64::from(p.line.max(1)))
                    .build(),
            )
            .build()
    });
    loc
}

pub fn render(report: &Report) -> String {
    // Rules in a stable order; each result points at its rule by index.
    let mut rule_ids: Vec<(&str, Severity)> = report
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity))
        .collect();
    rule_ids.sort();
    rule_ids.dedup_by(|a, b| a.0 == b.0);
    let index: BTreeMap<&str, usize> = rule_ids
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let descriptors: Vec<ReportingDescriptor> = rule_ids
        .iter()
        .map(|(id, s)| descriptor(id, *s, report.findings.iter().find(|f| f.rule == *id)))
        .collect();

    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for f in &report.findings {
        match f.status {
            Status::Fail | Status::Waived => {
                let level: ResultLevel = f.severity.into();
                let evidence = serde_json::to_value(&f.evidence).unwrap_or_default();
                let mut result = SarifResult::builder()
                    .rule_id(f.rule.clone())
                    .rule_index(index[f.rule.as_str()] as i64)
                    .level(level)
                    .message(text(format!(
                        "{} Remediation: {}",
                        f.message, f.remediation
                    )))
                    .locations(vec![location(f)])
                    .partial_fingerprints(BTreeMap::from([
                        ("infraverify/v1".to_string(), fingerprint(f)),
                        ("primaryLocationLineHash".to_string(), location_hash(f)),
                    ]))
                    .properties(props([
                        ("controls", serde_json::json!(f.controls)),
                        ("severity", serde_json::json!(f.severity)),
                        ("evidence", evidence),
                    ]))
                    .build();
                if let (Status::Waived, Some(w)) = (f.status, &f.waiver) {
                    result.suppressions = Some(vec![Suppression::builder()
                        .kind(serde_json::json!("external"))
                        .justification(format!(
                            "{} (owner {}, expires {}, {}:{})",
                            w.reason, w.owner, w.expires, w.policy.file, w.policy.line
                        ))
                        .build()]);
                }
                results.push(result);
            }
            Status::Error => notifications.push(
                Notification::builder()
                    .level(serde_json::json!("error"))
                    .message(text(f.message.clone()))
                    .descriptor(
                        ReportingDescriptorReference::builder()
                            .id(f.rule.clone())
                            .build(),
                    )
                    .locations(vec![location(f)])
                    .build(),
            ),
            Status::Pass | Status::Skipped | Status::Manual => {}
        }
    }
    for e in &report.errors {
        notifications.push(
            Notification::builder()
                .level(serde_json::json!("error"))
                .message(text(e.to_string()))
                .build(),
        );
    }
    let invocation = Invocation::builder()
        .execution_successful(notifications.is_empty())
        .exit_code(i64::from(report.exit_code))
        .start_time_utc(report.run.started_at.to_string())
        .end_time_utc(report.run.finished_at.to_string())
        .tool_execution_notifications(notifications)
        .build();
    let driver = ToolComponent::builder()
        .name(report.tool.name.clone())
        .version(report.tool.version.clone())
        .semantic_version(report.tool.version.clone())
        .rules(descriptors)
        .build();
    // GitHub keeps one analysis per category (all of `id` up to its last slash): one per
    // account set and regions, so shards and accounts do not replace each other's alerts.
    let accounts = if report.run.accounts.is_empty() {
        report
            .run
            .account
            .clone()
            .unwrap_or_else(|| "unknown-account".into())
    } else {
        report.run.accounts.join("+")
    };
    let automation = RunAutomationDetails::builder()
        .id(format!(
            "infraverify/{accounts}/{}/{}",
            if report.run.regions.is_empty() {
                "no-region".to_string()
            } else {
                report.run.regions.join("+")
            },
            report.run.started_at
        ))
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .automation_details(automation)
        .invocations(vec![invocation])
        .results(results)
        .properties(props([
            ("account", serde_json::json!(report.run.account)),
            ("regions", serde_json::json!(report.run.regions)),
            ("policies", serde_json::json!(report.run.policies)),
            (
                "summary",
                serde_json::to_value(&report.summary).unwrap_or_default(),
            ),
        ]))
        .build();
    let sarif = Sarif::builder()
        .schema(SARIF_SCHEMA)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut s = serde_json::to_string_pretty(&sarif).expect("SARIF serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_results_errors_are_notifications_waivers_are_suppressions() {
        let report = super::super::tests::sample_report();
        let v: serde_json::Value = serde_json::from_str(&render(&report)).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), report.summary.fail + report.summary.waived);
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
            assert!(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].is_string());
            assert_eq!(
                r["partialFingerprints"]["infraverify/v1"]
                    .as_str()
                    .unwrap()
                    .len(),
                16
            );
        }
        let waived: Vec<_> = results
            .iter()
            .filter(|r| r.get("suppressions").is_some())
            .collect();
        assert_eq!(waived.len(), report.summary.waived);
        let notes = run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        assert_eq!(notes.len(), report.summary.error + report.errors.len());
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);
        let critical = rules
            .iter()
            .find(|r| r["id"] == "rds-publicly-accessible")
            .unwrap();
        assert_eq!(critical["properties"]["security-severity"], "9.5");
        assert!(critical["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("## Remediation"));
    }

    #[test]
    fn fingerprints_follow_identity_not_wording() {
        let report = super::super::tests::sample_report();
        let mut f = report.findings[0].clone();
        let a = fingerprint(&f);
        f.message = "different words".into();
        assert_eq!(a, fingerprint(&f));
        f.resource.id = "other".into();
        f.resource.arn = None;
        assert_ne!(a, fingerprint(&f));
        // GitHub's own key: one per rule, account, region and resource.
        let g = report.findings[0].clone();
        let mut h = g.clone();
        h.message = "different words".into();
        assert_eq!(location_hash(&g), location_hash(&h));
        for change in [
            |f: &mut Finding| f.resource.account = Some("210987654321".into()),
            |f: &mut Finding| f.resource.region = Some("us-east-1".into()),
            |f: &mut Finding| f.resource.arn = Some("arn:aws:ec2:eu-central-1:1:x/other".into()),
            |f: &mut Finding| f.rule = "another-rule".into(),
        ] {
            let mut h = g.clone();
            change(&mut h);
            assert_ne!(location_hash(&g), location_hash(&h));
        }
    }

    #[test]
    fn what_github_reads_keeps_its_limits() {
        let report = super::super::tests::sample_report();
        let v: serde_json::Value = serde_json::from_str(&render(&report)).unwrap();
        let run = &v["runs"][0];
        for r in run["results"].as_array().unwrap() {
            assert_eq!(
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap()
                    .len(),
                16
            );
        }
        let id = run["automationDetails"]["id"].as_str().unwrap();
        let category = &id[..id.rfind('/').unwrap()];
        assert_eq!(
            category,
            format!(
                "infraverify/{}/{}",
                report.run.account.clone().unwrap(),
                report.run.regions.join("+")
            )
        );
        // Every rule, not only the sample's: a full description GitHub shows whole, a name
        // apart from the id, and the whole page as help.
        for rule in crate::rules::RULES {
            let d = descriptor(rule.meta().id, rule.meta().severity, None);
            let full = d.full_description.unwrap().text;
            assert!(
                full.chars().count() <= 1024,
                "{}: {} characters",
                rule.meta().id,
                full.chars().count()
            );
            assert!(
                full.starts_with("Default scope: "),
                "{}: {full}",
                rule.meta().id
            );
            assert_ne!(d.name.as_deref(), Some(rule.meta().id));
            assert!(d
                .help
                .unwrap()
                .markdown
                .unwrap()
                .contains("## What it checks"));
        }
        assert_eq!(brief("One. Two three.", 10), "One.…");
        assert_eq!(brief("a\n\nb", 1024), "a\n\nb");
    }
}
