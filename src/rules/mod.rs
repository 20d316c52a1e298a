//! Rules: pure functions of (snapshot, parameters) to findings.
//!
//! Each rule is a unit struct declared with [`declare_rule!`] in the file of its checklist
//! area (`network.rs`, `security_groups.rs`, `rds.rs`), its parameters declared beside it
//! with [`rule_params!`](crate::rule_params), its doc page in `docs/<rule-id>.md`, and it
//! is registered once, in [`RULES`]. A rule never calls the network.

pub mod access;
pub mod custom;
pub mod deployment;
pub mod dns;
pub mod ecr;
pub mod engines;
pub mod http;
pub mod iam;
pub mod network;
pub mod operations;
pub mod params;
pub mod rds;
pub mod registry;
pub mod scope;
pub mod secrets;
pub mod security_groups;
pub mod selector;
#[cfg(test)]
pub(crate) mod testing;
pub mod tls;
pub mod web;

use std::collections::BTreeMap;

pub use registry::{find, RULES};

use crate::checklist::{self, Section};
use crate::finding::{Evidence, Finding, FindingBuilder, PolicyRef, ResourceRef, Severity, Status};
use crate::input::reader::TableReader;
use crate::inventory::probe::ProbePlan;
use crate::inventory::{CollectError, Day, Service, Snapshot};
use params::{ParamDoc, RuleParams};

/// What every rule declares about itself.
#[derive(Debug)]
pub struct RuleMeta {
    /// Kebab-case, names the hazard: `rds-backup-retention-too-short`.
    pub id: &'static str,
    /// The checklist control ids the rule covers.
    pub controls: &'static [&'static str],
    pub severity: Severity,
    /// One line, stating the hazard.
    pub title: &'static str,
    /// The kind of resource its findings are about (`rds-db-instance`).
    pub resource_kind: &'static str,
    /// What the rule looks at, in words, singular: "security group of an RDS DB instance".
    pub scope: &'static str,
    /// The doc page (Markdown), `docs/<id>.md`.
    pub doc: &'static str,
    /// The data the rule reads; a run that did not gather it skips the rule.
    pub source: DataSource,
    /// The AWS services whose data it reads: a scan collects only what the enabled rules
    /// read, and `iam-policy` grants only that.
    pub reads: &'static [Service],
}

/// Where a rule's verdict comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataSource {
    /// The AWS APIs (skipped with `--no-aws`).
    Aws,
    /// Live probes (skipped with `--no-probes`); such a rule may also read AWS data to know
    /// what to expect.
    Probes,
    /// The application repository (`--repo`).
    Repository,
    /// Attestations in the policy.
    Policy,
}

impl RuleMeta {
    /// The first paragraph of the doc page's `## Remediation` section.
    pub fn remediation(&self) -> String {
        doc_section(self.doc, "Remediation")
            .split("\n\n")
            .map(str::trim)
            .find(|p| !p.is_empty())
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }

    pub fn section(&self) -> Option<Section> {
        self.controls.first().and_then(|c| checklist::section_of(c))
    }
}

/// The body of `## {heading}` in a Markdown page, up to the next `## `.
pub fn doc_section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let marker = format!("## {heading}\n");
    let Some(start) = doc.find(&marker) else {
        return "";
    };
    let body = &doc[start + marker.len()..];
    match body.find("\n## ") {
        Some(end) => &body[..end],
        None => body,
    }
}

/// Declares a rule's unit struct and its [`RuleMeta`]; the doc page is embedded from
/// `src/rules/docs/<id>.md`.
macro_rules! declare_rule {
    (@source) => { $crate::rules::DataSource::Aws };
    (@source $source:ident) => { $crate::rules::DataSource::$source };
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            id: $id:literal,
            scope: $scope:literal,
            controls: [$($control:literal),+ $(,)?],
            severity: $severity:ident,
            kind: $kind:literal,
            title: $title:literal
            $(, source: $source:ident)?
            $(, reads: [$($reads:ident),* $(,)?])? $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;

        impl $crate::rules::Declared for $name {
            fn declared() -> &'static $crate::rules::RuleMeta {
                static META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                    id: $id,
                    controls: &[$($control),+],
                    severity: $crate::finding::Severity::$severity,
                    title: $title,
                    resource_kind: $kind,
                    scope: $scope,
                    doc: include_str!(concat!("docs/", $id, ".md")),
                    source: $crate::rules::declare_rule!(@source $($source)?),
                    reads: &[$($($crate::inventory::Service::$reads),*)?],
                };
                &META
            }
        }
    };
}
pub(crate) use declare_rule;

/// What [`declare_rule!`] gives a rule: its metadata.
pub trait Declared {
    fn declared() -> &'static RuleMeta;
}

/// A rule: its metadata (from [`declare_rule!`]), its parameters, and its check.
pub trait Rule: Declared + Sync + Send + 'static {
    type Params: RuleParams;
    fn check(&self, cx: &mut Cx<'_>, params: &Self::Params);

    /// A live rule adds the probes it reads to the plan (names resolved against the
    /// policy's `domain`).
    fn plan(&self, _params: &Self::Params, _domain: Option<&str>, _plan: &mut ProbePlan) {}

    /// The parameters that hold host names, which may be relative to the policy's
    /// `domain` (`app`, or `@` for the domain itself): (key, names).
    fn hosts<'p>(&self, _params: &'p Self::Params) -> Vec<(&'static str, &'p [String])> {
        vec![]
    }
}

/// A rule with its parameters read: what the engine runs.
pub trait Check: Send + Sync {
    fn run(&self, cx: &mut Cx<'_>);
    fn plan(&self, domain: Option<&str>, plan: &mut ProbePlan);
    fn hosts(&self) -> Vec<(&'static str, Vec<String>)>;
}

/// The object-safe face of a [`Rule`], for the registry.
pub trait AnyRule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// The keys of the rule's parameters.
    fn param_keys(&self) -> &'static [&'static str];
    /// Reads the rule's parameters from its policy table.
    fn configure(&'static self, r: &mut TableReader<'_, '_>) -> Box<dyn Check>;
    fn param_docs(&self) -> Vec<ParamDoc>;
}

struct Configured<R: Rule> {
    rule: &'static R,
    params: R::Params,
}

impl<R: Rule> Check for Configured<R> {
    fn run(&self, cx: &mut Cx<'_>) {
        self.rule.check(cx, &self.params);
    }

    fn plan(&self, domain: Option<&str>, plan: &mut ProbePlan) {
        self.rule.plan(&self.params, domain, plan);
    }

    fn hosts(&self) -> Vec<(&'static str, Vec<String>)> {
        self.rule
            .hosts(&self.params)
            .into_iter()
            .map(|(k, v)| (k, v.to_vec()))
            .collect()
    }
}

/// A host name parameter as probed: `@` is the domain, a name without a dot is a label
/// under it, anything else is taken as written. `None` for a relative name without a
/// domain (the policy loader refuses those).
pub fn resolve_host(name: &str, domain: Option<&str>) -> Option<String> {
    let name = crate::inventory::route53::canonical_name(name);
    match (name.as_str(), domain) {
        ("@", Some(d)) => Some(crate::inventory::route53::canonical_name(d)),
        (n, Some(d)) if !n.contains('.') => Some(format!(
            "{n}.{}",
            crate::inventory::route53::canonical_name(d)
        )),
        (n, _) if n.contains('.') => Some(n.to_string()),
        _ => None,
    }
}

/// Whether `name` needs the policy's `domain` to mean anything.
pub fn is_relative_host(name: &str) -> bool {
    !name.trim_end_matches('.').contains('.')
}

impl<R: Rule> AnyRule for R {
    fn meta(&self) -> &'static RuleMeta {
        R::declared()
    }

    fn param_keys(&self) -> &'static [&'static str] {
        R::Params::KEYS
    }

    fn configure(&'static self, r: &mut TableReader<'_, '_>) -> Box<dyn Check> {
        Box::new(Configured {
            rule: self,
            params: R::Params::read(r),
        })
    }

    fn param_docs(&self) -> Vec<ParamDoc> {
        R::Params::docs()
    }
}

/// A rule's whole documentation page: its doc file and the table of its parameters, with
/// defaults from the rule's own `Params` (`infraverify explain`, SARIF help).
pub fn page(rule: &dyn AnyRule) -> String {
    let m = rule.meta();
    let mut out = m.doc.trim_end().to_string();
    out.push_str("\n\n## Parameters\n\n");
    out.push_str(&format!(
        "Enable the rule with a `[rules.{}]` table in a policy file. Every rule also takes \
         `severity` (default `{}`).\n\n",
        m.id, m.severity
    ));
    let params = rule.param_docs();
    if params.is_empty() {
        out.push_str("This rule has no other parameters.\n");
    } else {
        out.push_str("| key | type | default | meaning |\n|---|---|---|---|\n");
        for p in params {
            out.push_str(&format!(
                "| `{}` | {} | `{}` | {} |\n",
                p.key, p.ty, p.default, p.doc
            ));
        }
    }
    out
}

/// `[[attestations]]` in a policy: a person's signed-off statement for a control no API can
/// prove, which rules of `checklist-control` kind read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attestation {
    pub control: String,
    pub by: String,
    pub date: Day,
    pub evidence: String,
    pub origin: PolicyRef,
}

/// How a policy sets a rule up: its severity, where its table starts, the line of each key
/// set there, and the keys the rule's parameters have.
pub struct Setup<'a> {
    pub severity: Severity,
    pub origin: Option<PolicyRef>,
    pub key_lines: &'a BTreeMap<String, u32>,
    pub keys: &'static [&'static str],
}

/// Everything a rule needs while it runs, and where its findings go.
pub struct Cx<'a> {
    pub snap: &'a Snapshot,
    meta: &'static RuleMeta,
    severity: Severity,
    origin: Option<PolicyRef>,
    key_lines: &'a BTreeMap<String, u32>,
    keys: &'static [&'static str],
    policy: Option<PolicyRef>,
    findings: Vec<Finding>,
    attestations: &'a [Attestation],
    domain: Option<&'a str>,
}

impl<'a> Cx<'a> {
    /// A rule's run over `snap`, set up as the policy says, with the policy's attestations
    /// and its domain.
    pub fn new(
        snap: &'a Snapshot,
        meta: &'static RuleMeta,
        setup: Setup<'a>,
        attestations: &'a [Attestation],
        domain: Option<&'a str>,
    ) -> Self {
        Cx {
            snap,
            meta,
            severity: setup.severity,
            policy: setup.origin.clone(),
            origin: setup.origin,
            key_lines: setup.key_lines,
            keys: setup.keys,
            findings: Vec::new(),
            attestations,
            domain,
        }
    }

    /// How many findings the rule has emitted so far.
    pub fn findings_so_far(&self) -> usize {
        self.findings.len()
    }

    /// The policy's `[policy] domain`.
    pub fn domain(&self) -> Option<&'a str> {
        self.domain
    }

    /// A host name parameter, resolved against the policy's domain (see [`resolve_host`]).
    pub fn host(&self, name: &str) -> String {
        resolve_host(name, self.domain)
            .unwrap_or_else(|| crate::inventory::route53::canonical_name(name))
    }

    /// The live probes, when they ran.
    pub fn probes(&self) -> Option<&'a crate::inventory::probe::Probes> {
        self.snap.probes.as_ref()
    }

    /// The verdict on a control only a person can vouch for: `pass` with the newest
    /// attestation no older than `max_age_days` (and not dated after the scan), else
    /// `manual`, saying what is missing. `what` names the control in words.
    pub fn attested(&mut self, control: &str, what: &str, max_age_days: u32) {
        let as_of = self.snap.as_of();
        let r = ResourceRef::new("checklist-control", control).account(self.account());
        let mut mine: Vec<&Attestation> = self
            .attestations
            .iter()
            .filter(|a| a.control == control && as_of.is_none_or(|d| a.date <= d))
            .collect();
        mine.sort_by_key(|a| std::cmp::Reverse(a.date));
        let Some(a) = mine.first() else {
            let msg = format!(
                "{control} ({what}) needs an attestation: add [[attestations]] with control = \"{control}\", by, date and evidence to the policy."
            );
            return self.emit(Status::Manual, r, msg, vec![]);
        };
        let age = as_of.map(|d| (d.0 - a.date.0).whole_days());
        let ev = vec![Evidence::new(
            "policy attestation",
            serde_json::json!({
                "by": a.by, "date": a.date.to_string(), "evidence": a.evidence,
                "age_days": age, "policy": format!("{}:{}", a.origin.file, a.origin.line),
            }),
            Some(format!("attested within {max_age_days} days")),
        )];
        self.policy = Some(a.origin.clone());
        match age {
            Some(days) if days > i64::from(max_age_days) => {
                let msg = format!(
                    "{control} ({what}) was last attested by {} on {}, {days} days ago; the policy accepts at most {max_age_days}.",
                    a.by, a.date
                );
                self.emit(Status::Manual, r, msg, ev);
            }
            _ => {
                let msg = format!(
                    "{control} ({what}) attested by {} on {}: {}.",
                    a.by, a.date, a.evidence
                );
                self.emit(Status::Pass, r, msg, ev);
            }
        }
    }

    pub fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    /// Points findings' policy reference at `key`'s line, when the policy sets it (the
    /// threshold that decided the verdict), else at the rule's table.
    pub fn threshold(&mut self, key: &str) {
        debug_assert!(
            self.keys.contains(&key),
            "{}: `{key}` is none of its parameters {:?}",
            self.meta.id,
            self.keys
        );
        self.policy = match (&self.origin, self.key_lines.get(key)) {
            (Some(o), Some(line)) => Some(PolicyRef {
                file: o.file.clone(),
                line: *line,
            }),
            (o, _) => o.clone(),
        };
    }

    pub fn account(&self) -> Option<&'a str> {
        self.snap.collection.account.as_deref()
    }

    /// The scanned regions, sorted.
    pub fn regions(&self) -> impl Iterator<Item = scope::Region<'a>> + 'a {
        self.snap.regions.iter().map(|(name, inv)| scope::Region {
            name: name.as_str(),
            inv,
        })
    }

    /// A resource reference in `region` of the scanned account.
    pub fn resource(&self, kind: &str, id: &str, region: &str) -> ResourceRef {
        ResourceRef::new(kind, id)
            .region(region)
            .account(self.account())
    }

    pub fn emit(
        &mut self,
        status: Status,
        resource: ResourceRef,
        message: impl Into<String>,
        evidence: Vec<Evidence>,
    ) {
        let f = FindingBuilder::new(
            self.meta.id,
            self.meta.controls,
            self.severity,
            resource,
            status,
            message,
        )
        .evidences(evidence)
        .remediation(&self.meta.remediation())
        .policy(self.policy.clone())
        .build();
        self.findings.push(f);
    }

    pub fn pass(&mut self, r: ResourceRef, message: impl Into<String>, ev: Vec<Evidence>) {
        self.emit(Status::Pass, r, message, ev);
    }

    pub fn fail(&mut self, r: ResourceRef, message: impl Into<String>, ev: Vec<Evidence>) {
        self.emit(Status::Fail, r, message, ev);
    }

    pub fn verdict(
        &mut self,
        ok: bool,
        r: ResourceRef,
        message: impl Into<String>,
        ev: Vec<Evidence>,
    ) {
        self.emit(if ok { Status::Pass } else { Status::Fail }, r, message, ev);
    }

    /// `error` on a known resource: something it needs could not be read.
    pub fn error_on(&mut self, r: ResourceRef, what: &str, err: impl AsRef<CollectError>) {
        let err = err.as_ref();
        let msg = format!(
            "Could not check {what} of {} {}: {err}.",
            r.kind,
            r.display()
        );
        self.emit(Status::Error, r, msg, vec![error_evidence(err)]);
    }

    /// `error` for a whole region: the resources themselves could not be listed.
    pub fn unavailable(&mut self, region: &str, what: &str, err: impl AsRef<CollectError>) {
        let err = err.as_ref();
        let r = self.resource(self.meta.resource_kind, "*", region);
        let msg = format!("Could not check {what} in {region}: {err}.");
        self.emit(Status::Error, r, msg, vec![error_evidence(err)]);
    }

    /// The repository given with `--repo`; without one, a `skipped` finding saying so.
    pub fn repository(&mut self) -> Option<&'a crate::inventory::repo::Repository> {
        let repo = self.snap.repository.as_ref();
        if repo.is_none() {
            let r = ResourceRef::new("repository", "*");
            let msg = format!(
                "No application repository given (--repo PATH), so {} is not checked.",
                self.meta.controls.join(", ")
            );
            self.skip(r, msg);
        }
        repo
    }

    /// `skipped` with a reason, for a resource the rule does not apply to.
    pub fn skip(&mut self, r: ResourceRef, message: impl Into<String>) {
        self.emit(Status::Skipped, r, message, vec![]);
    }

    /// The findings, with one `skipped` finding if the rule had nothing to look at.
    pub fn finish(mut self) -> Vec<Finding> {
        let mut seen = std::collections::BTreeSet::new();
        self.findings.retain(|f| {
            seen.insert((
                f.resource.region.clone(),
                f.resource.kind.clone(),
                f.resource.id.clone(),
            ))
        });
        if self.findings.is_empty() {
            let regions: Vec<&str> = self.snap.regions.keys().map(String::as_str).collect();
            let where_ = if regions.is_empty() {
                "no region was scanned".to_string()
            } else {
                format!("none found in {}", regions.join(", "))
            };
            let r = ResourceRef::new(self.meta.resource_kind, "*").account(self.account());
            let msg = format!("Nothing to check: no {} ({where_}).", self.meta.scope);
            self.skip(r, msg);
        }
        self.findings
    }
}

/// Fails each pinned selector (`id`, `name`, `tag`) of parameter `key` that matched
/// nothing in any scanned region: a policy that pins a resource expects it to exist, and a
/// silent "nothing to check" would read as compliance. `matches` answers, per region,
/// whether the selector found anything (`None`: the lookup failed, already an `error`).
/// Returns whether a pin was missing.
pub fn missing_pins(
    cx: &mut Cx<'_>,
    selectors: &[selector::Selector],
    key: &str,
    kind: &str,
    matches: impl Fn(scope::Region<'_>, &selector::Selector) -> Option<bool>,
) -> bool {
    use selector::Selector;
    let regions: Vec<scope::Region<'_>> = cx.regions().collect();
    let mut missing = false;
    for sel in selectors
        .iter()
        .filter(|s| !matches!(s, Selector::AttachedTo { .. }))
    {
        let answers: Vec<Option<bool>> = regions.iter().map(|r| matches(*r, sel)).collect();
        if answers.iter().any(|a| *a != Some(false)) {
            continue;
        }
        missing = true;
        let names: Vec<String> = regions.iter().map(|r| r.name.to_string()).collect();
        let r = ResourceRef::new(kind, sel.describe()).account(cx.account());
        let msg = format!(
            "The policy pins {} in `{key}`, but it matches no {} in {}.",
            sel.describe(),
            cx.meta.scope,
            if names.is_empty() {
                "any region".to_string()
            } else {
                join_words(&names)
            }
        );
        let ev = Evidence::new(
            "policy",
            serde_json::Value::Null,
            Some(format!("{key} finds {}", sel.describe())),
        );
        cx.fail(r, msg, vec![ev]);
    }
    missing
}

/// Evidence that names the failed operation and why it failed.
pub fn error_evidence(err: &CollectError) -> Evidence {
    Evidence::new(
        &err.source,
        serde_json::json!({ "error": err.kind.as_str(), "message": err.message }),
        None,
    )
}

/// For rules' messages: `a, b and c`.
pub fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Items of a region-level collection, or `None` after emitting an `error` finding.
pub fn region_items<'a, T: Clone + Default>(
    cx: &mut Cx<'_>,
    region: &str,
    what: &str,
    observed: &'a crate::inventory::Observed<T>,
) -> Option<std::borrow::Cow<'a, T>> {
    match observed.items() {
        Ok(v) => Some(v),
        Err(e) => {
            cx.unavailable(region, what, e);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUIRED_HEADINGS: [&str; 4] = [
        "## What it checks",
        "## Why it matters",
        "## Evidence",
        "## Remediation",
    ];

    #[test]
    fn ids_are_unique_kebab_case_and_name_known_controls() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.meta().id).collect();
        for id in &ids {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !id.starts_with('-')
                    && !id.ends_with('-')
                    && !id.contains("--"),
                "{id} is not kebab-case"
            );
        }
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule ids");
        for r in RULES {
            let m = r.meta();
            assert!(!m.controls.is_empty(), "{} lists no control", m.id);
            for c in m.controls {
                assert!(
                    checklist::section_of(c).is_some(),
                    "{}: unknown control {c}",
                    m.id
                );
            }
            assert!(
                !m.title.starts_with("Ensure"),
                "{}: title starts with Ensure",
                m.id
            );
            assert!(m.title.len() <= 100, "{}: title too long", m.id);
        }
    }

    #[test]
    fn every_rule_has_a_complete_doc_page_and_a_remediation() {
        for r in RULES {
            let m = r.meta();
            assert!(
                m.doc.starts_with(&format!("# {}\n", m.id)),
                "docs/{}.md must start with `# {}`",
                m.id,
                m.id
            );
            for h in REQUIRED_HEADINGS {
                assert!(
                    m.doc.contains(&format!("{h}\n")),
                    "docs/{}.md lacks {h}",
                    m.id
                );
            }
            assert!(
                !m.doc.contains("## Parameters"),
                "docs/{}.md: parameters are generated from the rule's Params; do not write them by hand",
                m.id
            );
            assert!(!m.remediation().is_empty(), "{}: empty remediation", m.id);
            assert!(
                doc_section(m.doc, "What it checks")
                    .trim_start()
                    .starts_with("Default scope: "),
                "docs/{}.md: `## What it checks` must open with its `Default scope:`",
                m.id
            );
        }
    }

    #[test]
    fn no_doc_page_without_a_rule() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/rules/docs");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let id = name.trim_end_matches(".md");
            assert!(find(id).is_some(), "docs/{name} belongs to no rule");
        }
    }

    #[test]
    fn every_parameter_is_documented() {
        for r in RULES {
            for p in r.param_docs() {
                assert!(!p.doc.is_empty(), "{}: `{}` has no doc", r.meta().id, p.key);
            }
        }
    }

    #[test]
    fn remediation_is_the_first_paragraph() {
        let doc = "# x\n\n## Remediation\n\nTurn it\non.\n\nMore.\n\n## Next\n";
        assert_eq!(doc_section(doc, "Remediation"), "\nTurn it\non.\n\nMore.\n");
        let m = RuleMeta {
            id: "x",
            controls: &["RDS-3"],
            severity: Severity::Low,
            title: "t",
            resource_kind: "k",
            scope: "s",
            doc,
            source: DataSource::Aws,
            reads: &[],
        };
        assert_eq!(m.remediation(), "Turn it on.");
    }
}
