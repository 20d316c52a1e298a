//! Runs the enabled rules over a snapshot, sorts the findings, and decides the exit code.

use crate::finding::{Finding, Severity, Status};
use crate::inventory::Snapshot;
use crate::policy::Policy;
use crate::rules;

/// Every enabled rule's findings, in a stable order.
pub fn evaluate(policy: &Policy, snap: &Snapshot) -> Vec<Finding> {
    let mut findings: Vec<Finding> = policy
        .rules
        .iter()
        .flat_map(|rule| rules::run_rule(snap, rule))
        .collect();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// The run's outcome, as the process exit code promises it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No fail at or above the threshold, and every control observed.
    Clean = 0,
    /// At least one fail at or above the threshold.
    Violations = 1,
    /// Some controls are `error` and no violation reached the threshold.
    Incomplete = 3,
}

impl Outcome {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Exit 1 if a fail reaches `fail_on`; else 3 if anything is `error` or anything could not
/// be collected (`collection_errors`, even if no enabled rule needed it); else 0.
pub fn outcome(findings: &[Finding], fail_on: Severity, collection_errors: usize) -> Outcome {
    if findings
        .iter()
        .any(|f| f.status == Status::Fail && f.severity >= fail_on)
    {
        Outcome::Violations
    } else if collection_errors > 0 || findings.iter().any(|f| f.status == Status::Error) {
        Outcome::Incomplete
    } else {
        Outcome::Clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{FindingBuilder, ResourceRef};

    fn f(status: Status, severity: Severity) -> Finding {
        FindingBuilder::new(
            "r",
            &["RDS-3"],
            severity,
            ResourceRef::new("k", "id"),
            status,
            "m",
        )
        .build()
    }

    #[test]
    fn exit_codes_follow_the_threshold_and_errors() {
        use Severity::*;
        use Status::*;
        assert_eq!(outcome(&[f(Pass, High)], Low, 0), Outcome::Clean);
        assert_eq!(outcome(&[f(Fail, Low)], Low, 0), Outcome::Violations);
        // Below the threshold a fail informs but does not fail the gate...
        assert_eq!(outcome(&[f(Fail, Low)], High, 0), Outcome::Clean);
        // ...while an error always says the scan is incomplete.
        assert_eq!(
            outcome(&[f(Fail, Low), f(Error, Info)], High, 0),
            Outcome::Incomplete
        );
        assert_eq!(
            outcome(&[f(Fail, Critical), f(Error, Info)], High, 0),
            Outcome::Violations
        );
        assert_eq!(
            outcome(&[f(Fail, Info)], Low, 0),
            Outcome::Clean,
            "info never fails the default gate"
        );
        assert_eq!(
            outcome(&[f(Skipped, High), f(Waived, High)], Low, 0),
            Outcome::Clean
        );
    }

    #[test]
    fn a_failed_read_makes_the_run_incomplete_even_if_no_rule_needed_it() {
        use Severity::*;
        use Status::*;
        assert_eq!(outcome(&[f(Pass, High)], Low, 1), Outcome::Incomplete);
        assert_eq!(outcome(&[f(Fail, High)], Low, 1), Outcome::Violations);
    }

    #[test]
    fn a_region_listed_but_missing_from_a_snapshot_is_error_not_skipped() {
        let mut snap = crate::rules::testing::compliant();
        snap.collection.regions.push("eu-west-1".into());
        snap.normalize();
        let policy =
            crate::policy::load(&[crate::policy::PolicySource::embedded_default()]).unwrap();
        let findings = evaluate(&policy, &snap);
        let west: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.resource.region.as_deref() == Some("eu-west-1"))
            .collect();
        assert!(!west.is_empty());
        assert!(west.iter().all(|f| f.status == Status::Error), "{west:?}");
        assert_eq!(snap.errors.len(), 1);
        assert_eq!(
            outcome(&findings, Severity::Low, snap.errors.len()),
            Outcome::Incomplete
        );
    }

    #[test]
    fn the_default_policy_over_the_compliant_fixture_passes() {
        let policy =
            crate::policy::load(&[crate::policy::PolicySource::embedded_default()]).unwrap();
        let snap = crate::rules::testing::compliant();
        let findings = evaluate(&policy, &snap);
        let bad: Vec<String> = findings
            .iter()
            .filter(|f| f.status != Status::Pass)
            .map(|f| format!("{} {} {}: {}", f.status, f.rule, f.resource.id, f.message))
            .collect();
        assert!(bad.is_empty(), "{}", bad.join("\n"));
        assert_eq!(outcome(&findings, Severity::Low, 0), Outcome::Clean);
        // Every enabled rule appears.
        for r in &policy.rules {
            assert!(
                findings.iter().any(|f| f.rule == r.rule.meta().id),
                "{} missing",
                r.rule.meta().id
            );
        }
    }
}
