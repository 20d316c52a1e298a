//! Baselines: which failures are new since an earlier report. Findings are matched by
//! identity, (rule, resource ARN, or account/region/kind/id where there is no ARN), so
//! reworded messages or changed thresholds do not make an old failure look new.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::finding::{BaselineState, Finding, Status};
use crate::report::Report;

fn failing(f: &Finding) -> bool {
    // A waived finding is still a known failure: if its waiver lapses it is not "new".
    matches!(f.status, Status::Fail | Status::Waived)
}

/// Marks each current failure `new` or `unchanged` against `old`.
pub fn apply(findings: &mut [Finding], old: &Report) {
    let known: BTreeSet<(String, String)> = old
        .findings
        .iter()
        .filter(|f| failing(f))
        .map(Finding::identity)
        .collect();
    for f in findings.iter_mut().filter(|f| f.status == Status::Fail) {
        f.baseline = Some(if known.contains(&f.identity()) {
            BaselineState::Unchanged
        } else {
            BaselineState::New
        });
    }
}

/// `infraverify diff OLD NEW`.
#[derive(Debug, Serialize)]
pub struct Diff {
    /// Failing now, not before.
    pub new: Vec<Finding>,
    /// Failing before; now passing, skipped, or gone.
    pub fixed: Vec<Finding>,
    /// Failing in both.
    pub unchanged: Vec<Finding>,
    /// Failing before, and now `error`: not known to be fixed.
    pub unknown: Vec<Finding>,
}

pub fn diff(old: &Report, new: &Report) -> Diff {
    let fails = |r: &Report| -> Vec<Finding> {
        r.findings.iter().filter(|f| failing(f)).cloned().collect()
    };
    let ids =
        |v: &[Finding]| -> BTreeSet<(String, String)> { v.iter().map(Finding::identity).collect() };
    let (old_fails, new_fails) = (fails(old), fails(new));
    let (old_ids, new_ids) = (ids(&old_fails), ids(&new_fails));
    let errors_now: BTreeSet<(String, String)> = new
        .findings
        .iter()
        .filter(|f| f.status == Status::Error)
        .map(Finding::identity)
        .collect();
    let mut d = Diff {
        new: vec![],
        fixed: vec![],
        unchanged: vec![],
        unknown: vec![],
    };
    for f in new_fails {
        if old_ids.contains(&f.identity()) {
            d.unchanged.push(f);
        } else {
            d.new.push(f);
        }
    }
    for f in old_fails {
        let id = f.identity();
        if new_ids.contains(&id) {
            continue;
        }
        // A resource the new scan could not read is not fixed; nor is one whose whole
        // rule errored in its region.
        let rule_errored = new.findings.iter().any(|n| {
            n.rule == f.rule
                && n.status == Status::Error
                && n.resource.id == "*"
                && (n.resource.region.is_none() || n.resource.region == f.resource.region)
        });
        if errors_now.contains(&id) || rule_errored {
            d.unknown.push(f);
        } else {
            d.fixed.push(f);
        }
    }
    d
}

pub fn render_table(d: &Diff) -> String {
    let mut out = String::new();
    let section = |out: &mut String, title: &str, v: &[Finding]| {
        out.push_str(&format!("{title} ({}):\n", v.len()));
        for f in v {
            out.push_str(&format!(
                "  {:<8} {:<7} {} {}: {}\n",
                f.severity.as_str(),
                f.controls.join(","),
                f.rule,
                f.where_(),
                f.message
            ));
        }
        out.push('\n');
    };
    section(&mut out, "New failures", &d.new);
    section(&mut out, "Fixed", &d.fixed);
    if !d.unknown.is_empty() {
        section(&mut out, "No longer observable (now error)", &d.unknown);
    }
    section(&mut out, "Unchanged failures", &d.unchanged);
    out.push_str(&format!(
        "{} new, {} fixed, {} unchanged, {} unknown.\n",
        d.new.len(),
        d.fixed.len(),
        d.unchanged.len(),
        d.unknown.len()
    ));
    out
}

pub fn render_json(d: &Diff) -> String {
    let mut s = serde_json::to_string_pretty(d).expect("diff serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample_report;

    #[test]
    fn identity_decides_new_fixed_unchanged_and_unknown() {
        let old = sample_report();
        let mut new = old.clone();
        // One failure fixed, one new, one reworded (still the same finding).
        let fixed_at = new
            .findings
            .iter()
            .position(|f| f.status == Status::Fail)
            .unwrap();
        let fixed_rule = new.findings[fixed_at].rule.clone();
        new.findings[fixed_at].status = Status::Pass;
        let fresh = new
            .findings
            .iter()
            .position(|f| f.status == Status::Pass && f.rule != fixed_rule)
            .unwrap();
        new.findings[fresh].status = Status::Fail;
        let fresh_rule = new.findings[fresh].rule.clone();
        if let Some(f) = new
            .findings
            .iter_mut()
            .find(|f| f.status == Status::Fail && f.rule != fresh_rule)
        {
            f.message = "reworded".into();
        }
        let d = diff(&old, &new);
        assert_eq!(d.new.len(), 1);
        assert_eq!(d.new[0].rule, fresh_rule);
        assert_eq!(d.fixed.len(), 1);
        assert_eq!(d.fixed[0].rule, fixed_rule);
        let old_fails = old.findings.iter().filter(|f| failing(f)).count();
        assert_eq!(d.unchanged.len(), old_fails - 1);
        // Now unreadable: not fixed.
        let mut errored = old.clone();
        let i = errored
            .findings
            .iter()
            .position(|f| f.status == Status::Fail)
            .unwrap();
        errored.findings[i].status = Status::Error;
        let d = diff(&old, &errored);
        assert_eq!((d.fixed.len(), d.unknown.len()), (0, 1));
    }

    #[test]
    fn a_baseline_marks_failures_new_or_unchanged() {
        let old = sample_report();
        let mut findings = old.findings.clone();
        let i = findings
            .iter()
            .position(|f| f.status == Status::Pass)
            .unwrap();
        findings[i].status = Status::Fail;
        apply(&mut findings, &old);
        let new: Vec<_> = findings
            .iter()
            .filter(|f| f.baseline == Some(BaselineState::New))
            .collect();
        assert_eq!(new.len(), 1);
        assert!(findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .all(|f| f.baseline.is_some()));
    }
}
