//! The checklist at a glance, shared by the terminal and the HTML report: each control's
//! verdict (the worst of its findings), the count behind it and its first failing
//! resource; and the findings shown in detail, in the order both show them.

use super::Report;
use crate::checklist::{control_order, Section};
use crate::engine::Outcome;
use crate::finding::{BaselineState, Finding, Status};

/// One control of the checklist as the overview shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlRow<'a> {
    pub id: &'a str,
    /// `None` for a control the checklist does not have (a team's own).
    pub section: Option<Section>,
    pub statement: &'a str,
    /// The worst status of its findings; `None` when no finding names it.
    pub verdict: Option<Status>,
    /// The verdict in capitals, `-` for none.
    pub label: &'static str,
    /// `2 of 12` (findings with the verdict's status of all its findings; a failing
    /// control's errors beside: `2 of 12, 3 error`), `3 pass`.
    pub counts: String,
    /// The first resource with the verdict's status (`+N more resources`: other resources
    /// with that status), else the statement.
    pub detail: String,
}

/// Fail and error first, so the eye lands on them; the verdict of a control is the status
/// of lowest rank among its findings.
pub fn status_rank(s: Status) -> u8 {
    match s {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Manual => 2,
        Status::Waived => 3,
        Status::Pass => 4,
        Status::Skipped => 5,
    }
}

/// Every control of the checklist in its order, then any other control a finding names,
/// sorted, under no section.
pub fn controls(report: &Report) -> Vec<ControlRow<'_>> {
    let mut ids: Vec<(&str, Option<Section>, &str)> = crate::checklist::CONTROLS
        .iter()
        .map(|(id, section, statement)| (*id, Some(*section), *statement))
        .collect();
    let mut others: Vec<&str> = report
        .findings
        .iter()
        .flat_map(|f| f.controls.iter().map(String::as_str))
        .filter(|c| crate::checklist::section_of(c).is_none())
        .collect();
    others.sort_unstable();
    others.dedup();
    ids.extend(others.into_iter().map(|c| (c, None, "")));
    ids.into_iter()
        .map(|(id, section, statement)| {
            let mut mine: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.controls.iter().any(|c| c == id))
                .collect();
            mine.sort_by(|a, b| {
                b.severity
                    .cmp(&a.severity)
                    .then(a.sort_key().cmp(&b.sort_key()))
            });
            let verdict = mine
                .iter()
                .map(|f| f.status)
                .min_by_key(|s| status_rank(*s));
            let hits: Vec<&&Finding> = mine.iter().filter(|f| Some(f.status) == verdict).collect();
            let errors = mine.iter().filter(|f| f.status == Status::Error).count();
            let of = || format!("{} of {}", hits.len(), mine.len());
            let (label, counts) = match verdict {
                None => ("-", String::new()),
                // A control that fails may also have findings that could not be judged.
                Some(Status::Fail) if errors > 0 => ("FAIL", format!("{}, {errors} error", of())),
                Some(Status::Fail) => ("FAIL", of()),
                Some(Status::Error) => ("ERROR", of()),
                Some(Status::Waived) => ("WAIVED", of()),
                Some(Status::Manual) => ("MANUAL", "attest".to_string()),
                Some(Status::Pass) => ("PASS", format!("{} pass", hits.len())),
                Some(Status::Skipped) => ("SKIPPED", String::new()),
            };
            let detail = match verdict {
                Some(Status::Fail | Status::Error | Status::Waived) => {
                    // Several rules may fail one resource: count resources, not findings.
                    let mut resources: Vec<_> = hits
                        .iter()
                        .map(|f| {
                            let r = &f.resource;
                            (&r.kind, &r.id, &r.region, &r.account)
                        })
                        .collect();
                    resources.sort();
                    resources.dedup();
                    let first = hits[0].resource.display();
                    match resources.len() {
                        1 => first,
                        2 => format!("{first} +1 more resource"),
                        n => format!("{first} +{} more resources", n - 1),
                    }
                }
                None => "no rule of the policy checks it".to_string(),
                // A team's own control: the rules that check it.
                _ if statement.is_empty() => {
                    let mut rules: Vec<&str> = mine.iter().map(|f| f.rule.as_str()).collect();
                    rules.sort_unstable();
                    rules.dedup();
                    rules.join(", ")
                }
                _ => statement.to_string(),
            };
            ControlRow {
                id,
                section,
                statement,
                verdict,
                label,
                counts,
                detail,
            }
        })
        .collect()
}

/// The failures, then the errors: by checklist control, the most severe first.
pub fn in_detail(report: &Report) -> Vec<&Finding> {
    let mut details: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error))
        .collect();
    details.sort_by(|a, b| {
        let key = |f: &Finding| {
            (
                status_rank(f.status),
                f.controls.first().map(|c| control_order(c)),
                std::cmp::Reverse(f.severity),
            )
        };
        key(a).cmp(&key(b)).then(a.sort_key().cmp(&b.sort_key()))
    });
    details
}

/// What the exit code means, in words, and its kind (`fail`, `error`, `known`: exit 0 with
/// failures that do not decide it, `pass`). Every report says it the same way.
pub fn verdict(report: &Report) -> (String, &'static str) {
    let fails = report.summary.fail;
    match report.exit_code {
        c if c == Outcome::Violations.code() => ("violations found".to_string(), "fail"),
        c if c == Outcome::Incomplete.code() => (
            "scan incomplete: some controls could not be observed".to_string(),
            "error",
        ),
        // Exit 0 with failures: none of them decides the gate, but they are failures.
        _ if fails > 0 => {
            let known = report
                .findings
                .iter()
                .filter(|f| f.status == Status::Fail)
                .all(|f| f.baseline == Some(BaselineState::Unchanged));
            (
                format!(
                    "no failure decides the exit code, but {fails} failure{} stand{}: {}",
                    if fails == 1 { "" } else { "s" },
                    if fails == 1 { "s" } else { "" },
                    if known {
                        "all are in the baseline"
                    } else {
                        "in the baseline, or below --fail-on"
                    }
                ),
                "known",
            )
        }
        _ => ("no violations".to_string(), "pass"),
    }
}

/// With `--baseline`: how many failures are new and how many were known, in words.
pub fn baseline_line(report: &Report) -> Option<String> {
    let count = |state| {
        report
            .findings
            .iter()
            .filter(|f| f.baseline == Some(state))
            .count()
    };
    let (new, known) = (count(BaselineState::New), count(BaselineState::Unchanged));
    (new + known > 0).then(|| {
        format!(
            "Baseline: {new} new failure{}, {known} already in the baseline (these do not fail the gate).",
            if new == 1 { "" } else { "s" }
        )
    })
}
