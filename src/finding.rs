//! What a rule says about one resource: [`Finding`], with its [`Status`], [`Severity`],
//! [`ResourceRef`] and [`Evidence`]. Findings are made only through [`FindingBuilder`],
//! whose constructor takes the resource and the message, so none can lack either.

use serde::{Deserialize, Serialize};

/// How much a failing control matters. Ordered: `info < low < medium < high < critical`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict on one (rule, resource).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The control holds.
    Pass,
    /// The control is violated.
    Fail,
    /// The data needed could not be observed or evaluated; never a pass.
    Error,
    /// Not applicable: no such resource where none is required, or the probe was turned off.
    Skipped,
    /// Needs a human attestation, and the policy has none.
    Manual,
    /// A fail covered by a valid, unexpired waiver.
    Waived,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Pass,
        Status::Fail,
        Status::Error,
        Status::Skipped,
        Status::Manual,
        Status::Waived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skipped => "skipped",
            Status::Manual => "manual",
            Status::Waived => "waived",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The resource a finding is about. `id` is AWS's own identifier (`sg-…`, a DB
/// identifier, an ARN where the resource has no shorter id).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceRef {
    pub kind: String,
    pub id: String,
    pub name: Option<String>,
    pub arn: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
}

impl ResourceRef {
    pub fn new(kind: &str, id: impl Into<String>) -> Self {
        ResourceRef {
            kind: kind.to_string(),
            id: id.into(),
            name: None,
            arn: None,
            region: None,
            account: None,
        }
    }

    pub fn name(mut self, name: Option<impl Into<String>>) -> Self {
        self.name = name.map(Into::into);
        self
    }

    pub fn arn(mut self, arn: Option<impl Into<String>>) -> Self {
        self.arn = arn.map(Into::into);
        self
    }

    pub fn region(mut self, region: &str) -> Self {
        self.region = Some(region.to_string());
        self
    }

    pub fn account(mut self, account: Option<&str>) -> Self {
        self.account = account.map(str::to_string);
        self
    }

    /// How the resource reads in a sentence: `sg-0abc (api-sg)` or `lc-prod-db`.
    pub fn display(&self) -> String {
        match &self.name {
            Some(n) if n != &self.id && !n.is_empty() => format!("{} ({})", self.id, n),
            _ => self.id.clone(),
        }
    }
}

/// One observation behind a verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What was seen, as data.
    pub observed: serde_json::Value,
    /// What the policy requires, in words (`">= 30"`).
    pub expected: Option<String>,
    /// Where it was seen: an API operation (`rds:DescribeDBInstances`) or a probe.
    pub source: String,
}

impl Evidence {
    pub fn new(source: &str, observed: impl Serialize, expected: Option<String>) -> Self {
        Evidence {
            observed: serde_json::to_value(observed).unwrap_or(serde_json::Value::Null),
            expected,
            source: source.to_string(),
        }
    }
}

/// The policy file and line that enabled the rule or set the threshold.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PolicyRef {
    pub file: String,
    pub line: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub controls: Vec<String>,
    pub severity: Severity,
    pub status: Status,
    pub resource: ResourceRef,
    pub message: String,
    pub evidence: Vec<Evidence>,
    pub remediation: String,
    pub policy: Option<PolicyRef>,
    /// The waiver that covers (or, expired, no longer covers) this finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<WaiverNote>,
    /// With `--baseline`: whether this failure is new or was already in the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineState>,
}

/// A waiver as it applied to a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverNote {
    pub reason: String,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
    /// True when the waiver matched but had expired: the finding stays `fail`.
    pub expired: bool,
    pub policy: PolicyRef,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    /// Not in the baseline: it decides the exit code.
    New,
    /// Already failing in the baseline.
    Unchanged,
}

impl Finding {
    /// The identity a finding keeps across runs: rule and resource (ARN where AWS has one).
    pub fn identity(&self) -> (String, String) {
        let r = &self.resource;
        let resource = match &r.arn {
            Some(arn) => arn.clone(),
            None => format!(
                "{}/{}/{}/{}",
                r.account.as_deref().unwrap_or("-"),
                r.region.as_deref().unwrap_or("-"),
                r.kind,
                r.id
            ),
        };
        (self.rule.clone(), resource)
    }

    /// How the resource reads in a sentence or a table cell, with its region.
    pub fn where_(&self) -> String {
        match &self.resource.region {
            Some(region) => format!("{} in {region}", self.resource.display()),
            None => self.resource.display(),
        }
    }

    /// Sort key that makes report order independent of collection order.
    pub fn sort_key(&self) -> (&str, &Option<String>, &Option<String>, &str, &str) {
        (
            &self.rule,
            &self.resource.account,
            &self.resource.region,
            &self.resource.kind,
            &self.resource.id,
        )
    }
}

/// Builds a [`Finding`]. The constructor takes what every finding must have: the rule's
/// identity, the resource, the status and the one-sentence message.
#[derive(Debug)]
pub struct FindingBuilder {
    finding: Finding,
}

impl FindingBuilder {
    pub fn new(
        rule: &str,
        controls: &[&str],
        severity: Severity,
        mut resource: ResourceRef,
        status: Status,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        debug_assert!(
            !message.trim().is_empty() && !resource.kind.is_empty(),
            "finding for rule {rule} built without a message or resource kind"
        );
        // A damaged or hand-edited snapshot can hold a resource without a name: say so
        // rather than stop.
        if resource.id.is_empty() {
            resource.id = "(no id)".into();
        }
        FindingBuilder {
            finding: Finding {
                rule: rule.to_string(),
                controls: controls.iter().map(|c| c.to_string()).collect(),
                severity,
                status,
                resource,
                message,
                evidence: Vec::new(),
                remediation: String::new(),
                policy: None,
                waiver: None,
                baseline: None,
            },
        }
    }

    pub fn evidence(mut self, evidence: Evidence) -> Self {
        self.finding.evidence.push(evidence);
        self
    }

    pub fn evidences(mut self, evidence: impl IntoIterator<Item = Evidence>) -> Self {
        self.finding.evidence.extend(evidence);
        self
    }

    pub fn remediation(mut self, text: &str) -> Self {
        self.finding.remediation = text.to_string();
        self
    }

    pub fn policy(mut self, policy: Option<PolicyRef>) -> Self {
        self.finding.policy = policy;
        self
    }

    pub fn build(self) -> Finding {
        self.finding
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_from_info_to_critical() {
        let mut v = Severity::ALL.to_vec();
        v.reverse();
        v.sort();
        assert_eq!(v, Severity::ALL.to_vec());
        assert!(Severity::Info < Severity::Low && Severity::High < Severity::Critical);
        assert_eq!(Severity::parse("medium"), Some(Severity::Medium));
        assert_eq!(Severity::parse("severe"), None);
    }

    #[test]
    #[should_panic(expected = "without a message")]
    fn builder_refuses_an_empty_message() {
        FindingBuilder::new(
            "x",
            &[],
            Severity::Low,
            ResourceRef::new("k", "id"),
            Status::Pass,
            " ",
        );
    }

    #[test]
    fn status_serializes_lowercase() {
        assert_eq!(
            serde_json::to_string(&Status::Waived).unwrap(),
            "\"waived\""
        );
        assert_eq!(
            serde_json::to_string(&Severity::Critical).unwrap(),
            "\"critical\""
        );
    }

    #[test]
    fn resource_display_names_id_and_name() {
        let r = ResourceRef::new("ec2-security-group", "sg-1").name(Some("api"));
        assert_eq!(r.display(), "sg-1 (api)");
        let r = ResourceRef::new("rds-db-instance", "db").name(Some("db"));
        assert_eq!(r.display(), "db");
    }
}
