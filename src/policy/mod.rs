//! Policy files: parse every file, validate every rule table against the rule registry,
//! and only then hand a [`Policy`] to the engine. Problems come back as [`Diagnostics`]
//! with file:line:column; nothing is collected or evaluated when there is one.

use std::collections::BTreeMap;

use toml::de::{DeTable, DeValue};

use crate::finding::{PolicyRef, Severity};
use crate::glob::Glob;
pub use crate::input::diag::{self, Diagnostic, Diagnostics};
use crate::input::reader::{self, TableReader, TomlFile};
use crate::inventory::Day;
pub use crate::rules::Attestation;
use crate::rules::{self, AnyRule, Check};

/// The checklist's own policy, embedded in the binary as the default.
pub const DEFAULT_POLICY_NAME: &str = "policies/lifetimecircle.toml";
pub const DEFAULT_POLICY: &str = include_str!("../../policies/lifetimecircle.toml");

/// One policy file's name (as shown in diagnostics and reports) and text.
#[derive(Clone, Debug)]
pub struct PolicySource {
    pub name: String,
    pub text: String,
}

impl PolicySource {
    pub fn embedded_default() -> Self {
        PolicySource {
            name: DEFAULT_POLICY_NAME.to_string(),
            text: DEFAULT_POLICY.to_string(),
        }
    }

    pub fn read(path: &str) -> std::io::Result<Self> {
        Ok(PolicySource {
            name: path.to_string(),
            text: std::fs::read_to_string(path)?,
        })
    }
}

/// A validated, merged set of policy files.
#[derive(Debug)]
pub struct Policy {
    pub files: Vec<String>,
    /// The SHA-256 of each file's text, lowercase hex, in the order of `files`.
    pub sha256: Vec<String>,
    pub name: Option<String>,
    pub regions: Vec<String>,
    pub domain: Option<String>,
    /// Enabled rules, sorted by id.
    pub rules: Vec<EnabledRule>,
    pub waivers: Vec<Waiver>,
    pub attestations: Vec<Attestation>,
    /// The team's own rules (`[[custom-rules]]`), in the order the files give them.
    pub custom: Vec<std::sync::Arc<crate::rules::custom::CustomRule>>,
}

/// `[[waivers]]`: accepts one rule's failure on matching resources until a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiver {
    pub rule: String,
    /// Matched against the resource's id, ARN and name (wildcards allowed).
    pub resource: Glob,
    pub reason: String,
    pub owner: String,
    /// The last day the waiver applies.
    pub expires: Day,
    pub origin: PolicyRef,
}

/// A rule switched on by a policy, with its parameters read and checked.
pub struct EnabledRule {
    pub rule: &'static dyn AnyRule,
    pub severity: Severity,
    pub check: Box<dyn Check>,
    /// Where the rule's table starts.
    pub origin: PolicyRef,
    /// The line of each key set in the rule's table.
    pub key_lines: BTreeMap<String, u32>,
}

impl std::fmt::Debug for EnabledRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnabledRule")
            .field("rule", &self.rule.meta().id)
            .field("severity", &self.severity)
            .field("origin", &self.origin)
            .finish()
    }
}

impl Policy {
    pub fn rule(&self, id: &str) -> Option<&EnabledRule> {
        self.rules.iter().find(|r| r.rule.meta().id == id)
    }
}

/// Parses and validates `sources` (in order) into one policy.
pub fn load(sources: &[PolicySource]) -> Result<Policy, Diagnostics> {
    let mut diags = Vec::new();
    let mut policy = Policy {
        files: sources.iter().map(|s| s.name.clone()).collect(),
        sha256: sources
            .iter()
            .map(|s| crate::evidence::sha256_hex(s.text.as_bytes()))
            .collect(),
        name: None,
        regions: Vec::new(),
        domain: None,
        rules: Vec::new(),
        waivers: Vec::new(),
        attestations: Vec::new(),
        custom: Vec::new(),
    };
    // Waivers naming a rule that is neither built in nor a team rule of any file: known
    // only once every file is read.
    let mut unknown_waived: Vec<(String, diag::Diagnostic)> = Vec::new();
    // Where each rule id was first enabled, to refuse a second definition.
    let mut enabled_at: BTreeMap<&'static str, PolicyRef> = BTreeMap::new();
    let mut domain_at: Option<PolicyRef> = None;

    for s in sources {
        let src = TomlFile::new(&s.name, &s.text);
        match DeTable::parse(&s.text) {
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                src.push(src.error(span, format!("invalid TOML: {}", e.message().trim())));
            }
            Ok(doc) => read_file(
                &src,
                doc.get_ref(),
                &mut policy,
                &mut enabled_at,
                &mut domain_at,
                &mut unknown_waived,
            ),
        }
        diags.extend(src.into_diagnostics());
    }
    for (id, d) in unknown_waived {
        if !policy.custom.iter().any(|c| c.id == id) {
            diags.push(d);
        }
    }
    let mut seen: BTreeMap<&str, &PolicyRef> = BTreeMap::new();
    for c in &policy.custom {
        if let Some(first) = seen.insert(&c.id, &c.origin) {
            diags.push(diag::Diagnostic {
                file: c.origin.file.clone(),
                line: c.origin.line,
                column: 1,
                message: format!(
                    "custom rule `{}` is defined twice (first at {}:{})",
                    c.id, first.file, first.line
                ),
                snippet: None,
                help: None,
            });
        }
    }
    if diags.is_empty() && policy.domain.is_none() {
        diags.extend(relative_hosts_without_domain(&policy, sources));
    }
    if diags.is_empty() {
        policy.rules.sort_by_key(|r| r.rule.meta().id);
        policy.regions.sort();
        policy.regions.dedup();
        Ok(policy)
    } else {
        diags.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        Err(Diagnostics(diags))
    }
}

/// Host names such as `app` mean `app.<domain>`; without a `[policy] domain` they mean
/// nothing, and each one is an error at the line that sets it.
fn relative_hosts_without_domain(policy: &Policy, sources: &[PolicySource]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in &policy.rules {
        for (key, names) in r.check.hosts() {
            let Some(bad) = names.iter().find(|n| rules::is_relative_host(n)) else {
                continue;
            };
            let line = r.key_lines.get(key).copied().unwrap_or(r.origin.line);
            let text = sources
                .iter()
                .find(|s| s.name == r.origin.file)
                .map(|s| s.text.as_str())
                .unwrap_or("");
            let start: usize = text
                .split_inclusive('\n')
                .take(line.saturating_sub(1) as usize)
                .map(str::len)
                .sum();
            let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            let how = if r.key_lines.contains_key(key) {
                format!("`{key}` names {bad:?}")
            } else {
                format!("`{key}` defaults to names such as {bad:?}")
            };
            out.push(
                Diagnostic::at(
                    &r.origin.file,
                    text,
                    start..end,
                    format!(
                        "[rules.{}]: {how}, which is relative to the policy's domain, but no [policy] domain is set",
                        r.rule.meta().id
                    ),
                )
                .with_help(Some(
                    "set `domain = \"example.com\"` in [policy], or write full names such as \"app.example.com\"".into(),
                )),
            );
        }
    }
    out
}

fn read_file(
    src: &TomlFile<'_>,
    doc: &DeTable<'_>,
    policy: &mut Policy,
    enabled_at: &mut BTreeMap<&'static str, PolicyRef>,
    domain_at: &mut Option<PolicyRef>,
    unknown_waived: &mut Vec<(String, diag::Diagnostic)>,
) {
    let mut top = TableReader::new(src, doc, "the policy file");
    if let Some(v) = top.value("policy") {
        match v.get_ref() {
            DeValue::Table(t) => read_header(src, t, policy, domain_at),
            _ => src.push(src.error(v.span(), "`policy` must be a table: write [policy]")),
        }
    }
    if let Some(v) = top.value("rules") {
        match v.get_ref() {
            DeValue::Table(t) => {
                for (key, value) in t.iter() {
                    read_rule(src, key, value, policy, enabled_at);
                }
            }
            _ => src.push(src.error(
                v.span(),
                "`rules` must be a table of rule tables: write [rules.RULE-ID]",
            )),
        }
    }
    for (i, t) in tables(src, top.value("waivers"), "waivers") {
        if let Some(w) = read_waiver(src, t, i, unknown_waived) {
            policy.waivers.push(w);
        }
    }
    for (i, t) in tables(src, top.value("custom-rules"), "custom-rules") {
        if let Some(c) = crate::rules::custom::read(src, t, i) {
            policy.custom.push(std::sync::Arc::new(c));
        }
    }
    for (i, t) in tables(src, top.value("attestations"), "attestations") {
        if let Some(a) = read_attestation(src, t, i) {
            policy.attestations.push(a);
        }
    }
    top.finish();
}

/// The tables of an array of tables (`[[waivers]]`), with the line each starts on.
fn tables<'s, 'i>(
    src: &TomlFile<'_>,
    v: Option<&'s reader::Value<'i>>,
    key: &str,
) -> Vec<(u32, &'s DeTable<'i>)> {
    let Some(v) = v else { return vec![] };
    let DeValue::Array(items) = v.get_ref() else {
        src.push(src.error(
            v.span(),
            format!("`{key}` must be an array of tables: write [[{key}]]"),
        ));
        return vec![];
    };
    items
        .iter()
        .filter_map(|item| match item.get_ref() {
            DeValue::Table(t) => Some((src.line(&item.span()), t)),
            _ => {
                src.push(src.error(item.span(), format!("each of `{key}` must be a table")));
                None
            }
        })
        .collect()
}

/// A required, non-empty string key.
fn required(
    r: &mut TableReader<'_, '_>,
    key: &'static str,
    what: &str,
    line: u32,
) -> Option<String> {
    match r.optional::<String>(key) {
        Some(s) if !s.trim().is_empty() => Some(s),
        Some(_) => {
            let d = r.line_of(key).unwrap_or(line);
            r.src.push(diag::Diagnostic {
                file: r.src.file.to_string(),
                line: d,
                column: 1,
                message: format!("`{key}` of {what} must not be empty"),
                snippet: None,
                help: None,
            });
            None
        }
        None if r.line_of(key).is_some() => None, // wrong type, already reported
        None => {
            r.src.push(diag::Diagnostic {
                file: r.src.file.to_string(),
                line,
                column: 1,
                message: format!("{what} needs `{key}`"),
                snippet: None,
                help: None,
            });
            None
        }
    }
}

fn read_waiver(
    src: &TomlFile<'_>,
    t: &DeTable<'_>,
    line: u32,
    unknown: &mut Vec<(String, diag::Diagnostic)>,
) -> Option<Waiver> {
    let mut r = TableReader::new(src, t, "[[waivers]]");
    let what = "a waiver";
    let rule = required(&mut r, "rule", what, line);
    if let (Some(id), Some(v)) = (&rule, t.get("rule")) {
        if rules::find(id).is_none() {
            let help = rules::registry::unknown_help(id);
            // A team rule of this or another policy file may have the id.
            unknown.push((
                id.clone(),
                src.error(v.span(), format!("waiver names unknown rule `{id}`"))
                    .with_help(help),
            ));
        }
    }
    let resource = required(&mut r, "resource", what, line);
    let reason = required(&mut r, "reason", what, line);
    let owner = required(&mut r, "owner", what, line);
    let expires: Option<Day> = r.optional("expires");
    if expires.is_none() && r.line_of("expires").is_none() {
        src.push(diag::Diagnostic {
            file: src.file.to_string(),
            line,
            column: 1,
            message:
                "a waiver needs `expires` (YYYY-MM-DD): waivers that never end are not accepted"
                    .into(),
            snippet: None,
            help: None,
        });
    }
    r.finish();
    Some(Waiver {
        rule: rule?,
        resource: Glob(resource?),
        reason: reason?,
        owner: owner?,
        expires: expires?,
        origin: PolicyRef {
            file: src.file.to_string(),
            line,
        },
    })
}

fn read_attestation(src: &TomlFile<'_>, t: &DeTable<'_>, line: u32) -> Option<Attestation> {
    let mut r = TableReader::new(src, t, "[[attestations]]");
    let what = "an attestation";
    let control = required(&mut r, "control", what, line);
    if let (Some(c), Some(v)) = (&control, t.get("control")) {
        if crate::checklist::section_of(c).is_none() {
            let help = diag::closest(c, crate::checklist::CONTROLS.iter().map(|(id, _, _)| *id))
                .map(|c| format!("did you mean `{c}`?"));
            src.push(
                src.error(v.span(), format!("attestation names unknown control `{c}`"))
                    .with_help(help),
            );
        }
    }
    let by = required(&mut r, "by", what, line);
    let date: Option<Day> = r.optional("date");
    if date.is_none() && r.line_of("date").is_none() {
        src.push(diag::Diagnostic {
            file: src.file.to_string(),
            line,
            column: 1,
            message: "an attestation needs `date` (YYYY-MM-DD)".into(),
            snippet: None,
            help: None,
        });
    }
    let evidence = required(&mut r, "evidence", what, line);
    r.finish();
    Some(Attestation {
        control: control.filter(|c| crate::checklist::section_of(c).is_some())?,
        by: by?,
        date: date?,
        evidence: evidence?,
        origin: PolicyRef {
            file: src.file.to_string(),
            line,
        },
    })
}

fn read_header(
    src: &TomlFile<'_>,
    t: &DeTable<'_>,
    policy: &mut Policy,
    domain_at: &mut Option<PolicyRef>,
) {
    let mut r = TableReader::new(src, t, "[policy]");
    if let Some(name) = r.optional::<String>("name") {
        policy.name = Some(match policy.name.take() {
            Some(prev) => format!("{prev} + {name}"),
            None => name,
        });
    }
    let _description: Option<String> = r.optional("description");
    if let Some(regions) = r.optional::<Vec<String>>("regions") {
        let regions = r.check("regions", regions, |v| {
            match v.iter().find(|r| !is_region_name(r)) {
                Some(bad) => Err(format!(
                    "{bad:?} is not an AWS region name such as \"eu-central-1\""
                )),
                None => Ok(()),
            }
        });
        policy.regions.extend(regions);
    }
    if let Some(domain) = r.optional::<String>("domain") {
        let domain = r.check("domain", domain, |d| {
            if is_domain_name(d) {
                Ok(())
            } else {
                Err(format!(
                    "{d:?} is not a domain name such as \"example.com\""
                ))
            }
        });
        let here = PolicyRef {
            file: src.file.to_string(),
            line: r.line_of("domain").unwrap_or(1),
        };
        match (&policy.domain, domain_at.as_ref()) {
            (Some(prev), Some(at)) if *prev != domain => {
                if let Some(v) = t.get("domain") {
                    src.push(src.error(
                        v.span(),
                        format!(
                            "`domain` {domain:?} conflicts with {prev:?} set at {}:{}",
                            at.file, at.line
                        ),
                    ));
                }
            }
            _ => {
                policy.domain = Some(domain);
                *domain_at = Some(here);
            }
        }
    }
    r.finish();
}

fn read_rule(
    src: &TomlFile<'_>,
    key: &toml::Spanned<std::borrow::Cow<'_, str>>,
    value: &reader::Value<'_>,
    policy: &mut Policy,
    enabled_at: &mut BTreeMap<&'static str, PolicyRef>,
) {
    let id: &str = key.get_ref();
    let Some(rule) = rules::find(id) else {
        let help = rules::registry::unknown_help(id)
            .unwrap_or_else(|| "`infraverify rules` lists every rule id".to_string());
        src.push(
            src.error(key.span(), format!("unknown rule `{id}`"))
                .with_help(Some(help)),
        );
        return;
    };
    let meta = rule.meta();
    let origin = PolicyRef {
        file: src.file.to_string(),
        line: src.line(&key.span()),
    };
    if let Some(first) = enabled_at.get(meta.id) {
        src.push(src.error(
            key.span(),
            format!(
                "rule `{id}` is already configured at {}:{}; a rule may be configured once",
                first.file, first.line
            ),
        ));
        return;
    }
    let DeValue::Table(table) = value.get_ref() else {
        src.push(src.error(
            value.span(),
            format!(
                "rule `{id}` must be a table of parameters: write [rules.{id}] (an empty table enables it with its defaults)"
            ),
        ));
        return;
    };
    let mut r = TableReader::new(src, table, format!("[rules.{id}]"));
    let severity = r.get("severity", meta.severity);
    let check = rule.configure(&mut r);
    let key_lines = r.key_lines().into_iter().collect();
    r.finish();
    enabled_at.insert(meta.id, origin.clone());
    policy.rules.push(EnabledRule {
        rule,
        severity,
        check,
        origin,
        key_lines,
    });
}

/// `eu-central-1`, `us-gov-west-1`, `ap-southeast-2`.
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn is_domain_name(s: &str) -> bool {
    s.contains('.')
        && !s.starts_with('.')
        && !s.ends_with('.')
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::probe::RecordType;

    fn load_one(text: &str) -> Result<Policy, Diagnostics> {
        load(&[PolicySource {
            name: "p.toml".into(),
            text: text.into(),
        }])
    }

    fn errors(text: &str) -> Vec<String> {
        load_one(text)
            .expect_err("policy should be refused")
            .0
            .into_iter()
            .map(|d| {
                format!(
                    "{}:{}: {}{}",
                    d.line,
                    d.column,
                    d.message,
                    d.help.map(|h| format!(" ({h})")).unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn the_embedded_policy_is_valid_and_names_the_checklist_region() {
        let p = load(&[PolicySource::embedded_default()]).unwrap();
        assert_eq!(p.regions, vec!["eu-central-1"]);
        assert_eq!(p.domain.as_deref(), Some("lifetimecircle.de"));
        assert!(p.rules.len() >= 20, "{} rules", p.rules.len());
    }

    #[test]
    fn the_baseline_policy_is_valid() {
        let text = include_str!("../../policies/aws-baseline.toml");
        let p = load(&[PolicySource {
            name: "policies/aws-baseline.toml".into(),
            text: text.into(),
        }])
        .unwrap();
        assert!(!p.rules.is_empty());
    }

    #[test]
    fn unknown_rule_gets_the_closest_id() {
        assert_eq!(
            errors("[rules.rds-multi-az-disable]\n"),
            vec![
                "1:8: unknown rule `rds-multi-az-disable` (did you mean `rds-multi-az-disabled`?)"
            ]
        );
    }

    #[test]
    fn unknown_keys_wrong_types_and_ranges_are_located() {
        let e = errors(
            "[policy]\nregions = [\"eu-central-1\"]\nregion = \"x\"\n\n[rules.rds-backup-retention-too-short]\nmin-days = \"30\"\n\n[rules.rds-multi-az-disabled]\nseverity = \"hihg\"\n",
        );
        assert_eq!(
            e,
            vec![
                "3:1: unknown key `region` in [policy] (did you mean `regions`?)",
                "6:12: `min-days` must be an integer, found a string",
                "9:12: `severity` must be one of info, low, medium, high, critical, found \"hihg\" (did you mean \"high\"?)",
            ]
        );
        let e = errors("[rules.rds-backup-retention-too-short]\nmin-days = 36\n");
        assert_eq!(
            e,
            vec!["2:12: invalid `min-days`: must be between 1 and 35, found 36"]
        );
    }

    #[test]
    fn bad_toml_is_located() {
        let e = errors("[policy\nname = 1");
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("1:"), "{e:?}");
        assert!(e[0].contains("invalid TOML"), "{e:?}");
    }

    #[test]
    fn a_rule_configured_twice_across_files_is_refused() {
        let a = PolicySource {
            name: "a.toml".into(),
            text: "[rules.rds-multi-az-disabled]\n".into(),
        };
        let b = PolicySource {
            name: "b.toml".into(),
            text: "\n[rules.rds-multi-az-disabled]\n".into(),
        };
        let e = load(&[a, b]).unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert_eq!((e.0[0].file.as_str(), e.0[0].line), ("b.toml", 2));
        assert!(e.0[0].message.contains("already configured at a.toml:1"));
    }

    #[test]
    fn regions_and_domains_are_checked() {
        let e = errors("[policy]\nregions = [\"eu-central\"]\ndomain = \"https://x.de\"\n");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains("not an AWS region name"));
        assert!(e[1].contains("not a domain name"));
        assert!(is_region_name("us-gov-west-1"));
        assert!(!is_region_name("EU-central-1"));
    }

    #[test]
    fn severity_override_and_key_lines_are_kept() {
        let p = load_one(
            "[rules.rds-backup-retention-too-short]\nseverity = \"critical\"\nmin-days = 14\n",
        )
        .unwrap();
        let r = p.rule("rds-backup-retention-too-short").unwrap();
        assert_eq!(r.severity, Severity::Critical);
        assert_eq!(r.origin.line, 1);
        assert_eq!(r.key_lines.get("min-days"), Some(&3));
    }

    #[test]
    fn waivers_and_attestations_are_read_and_checked() {
        let p = load_one(
            "[[waivers]]\nrule = \"rds-multi-az-disabled\"\nresource = \"arn:aws:rds:*:db:staging-*\"\nreason = \"staging runs single-AZ\"\nowner = \"security-lead\"\nexpires = 2026-12-31\n\n[[attestations]]\ncontrol = \"RDS-11\"\nby = \"sre-lead\"\ndate = \"2026-03-02\"\nevidence = \"https://wiki.example/restore-test\"\n",
        )
        .unwrap();
        assert_eq!(p.waivers.len(), 1);
        assert_eq!(p.waivers[0].expires.to_string(), "2026-12-31");
        assert_eq!(p.waivers[0].origin.line, 1);
        assert_eq!(p.attestations[0].control, "RDS-11");
        assert_eq!(p.attestations[0].origin.line, 8);
        let e = errors(
            "[[waivers]]\nrule = \"rds-multi-az-disable\"\nresource = \"x\"\nreason = \"\"\nowner = \"me\"\n\n[[attestations]]\ncontrol = \"RDS-99\"\nby = \"me\"\ndate = \"yesterday\"\nevidence = \"e\"\nsigned = true\n",
        );
        assert_eq!(
            e,
            vec![
                "1:1: a waiver needs `expires` (YYYY-MM-DD): waivers that never end are not accepted",
                "2:8: waiver names unknown rule `rds-multi-az-disable` (did you mean `rds-multi-az-disabled`?)",
                "4:1: `reason` of a waiver must not be empty",
                "8:11: attestation names unknown control `RDS-99` (did you mean `RDS-9`?)",
                "10:8: `date` must be a date (YYYY-MM-DD), found a string",
                "12:1: unknown key `signed` in [[attestations]] (known keys: by, control, date, evidence)",
            ]
        );
    }

    #[test]
    fn rule_value_must_be_a_table() {
        let e = errors("[rules]\nrds-multi-az-disabled = true\n");
        assert!(e[0].contains("must be a table of parameters"), "{e:?}");
    }
    #[test]
    fn relative_host_names_need_the_domain() {
        let e = errors(
            "[rules.tls-endpoint-invalid]\nport = 443\nnames = [\"app\", \"www.example.com\"]\n",
        );
        assert_eq!(e.len(), 2, "{e:?}");
        // Diagnostics come in line order: the default sits on the table's header line.
        assert!(e[0].starts_with("1:1: [rules.tls-endpoint-invalid]: `optional-names` defaults to names such as \"api\""), "{e:?}");
        assert!(
            e[1].starts_with("3:1: [rules.tls-endpoint-invalid]: `names` names \"app\", which is relative to the policy's domain"),
            "{e:?}"
        );
        // Full names need no domain; with a domain, relative ones are fine.
        load_one(
            "[rules.tls-endpoint-invalid]\nnames = [\"app.example.com\"]\noptional-names = []\n",
        )
        .unwrap();
        load_one("[policy]\ndomain = \"example.com\"\n[rules.tls-endpoint-invalid]\n").unwrap();
        // A domain that sends no mail needs no domain to be named.
        load_one("[rules.mail-dns-records-missing]\n").unwrap();
        let e = errors("[rules.tls-endpoint-invalid]\nnames = [\"app..x\"]\n");
        assert!(e[0].contains("is not a host name"), "{e:?}");
    }

    #[test]
    fn the_probe_plan_lists_what_the_live_rules_read() {
        let p = load(&[PolicySource::embedded_default()]).unwrap();
        let plan = crate::engine::probe_plan(&p);
        assert!(plan
            .tls
            .contains(&("app.lifetimecircle.de".to_string(), 443)));
        assert!(plan
            .tls
            .contains(&("api.lifetimecircle.de".to_string(), 443)));
        assert!(plan.http.contains("http://www.lifetimecircle.de/"));
        assert!(plan
            .http
            .contains("https://app.lifetimecircle.de/api/health"));
        assert!(plan
            .dns
            .contains(&("lifetimecircle.de".to_string(), RecordType::Ns)));
        assert!(plan.load_balancer_names);
        // The domain sends no mail, so no TXT lookup.
        assert!(
            !plan.dns.iter().any(|(_, t)| *t == RecordType::Txt),
            "{:?}",
            plan.dns
        );
    }
}
