//! Runs the enabled rules over a snapshot, applies waivers, sorts the findings, and
//! decides the exit code; and tells the collection what the enabled rules need (the AWS
//! services they read, the live probes they want, the host names they name).

use std::collections::BTreeSet;

use crate::finding::{Finding, FindingBuilder, ResourceRef, Severity, Status, WaiverNote};
use crate::inventory::probe::ProbePlan;
use crate::inventory::{Service, Snapshot};
use crate::policy::{EnabledRule, Policy, Waiver};
use crate::rules::{self, Cx, DataSource, Setup};

/// Every host name the enabled rules name, resolved against the policy's domain: the
/// Route 53 zones that can hold them are the ones read in full.
pub fn policy_hosts(policy: &Policy) -> Vec<String> {
    let mut out: Vec<String> = policy
        .rules
        .iter()
        .flat_map(|r| r.check.hosts())
        .flat_map(|(_, names)| names)
        .filter_map(|n| rules::resolve_host(&n, policy.domain.as_deref()))
        .collect();
    out.extend(policy.domain.iter().cloned());
    out.sort();
    out.dedup();
    out
}

/// The AWS services the enabled rules read, with what those require.
pub fn services(policy: &Policy) -> BTreeSet<Service> {
    Service::closure(
        policy
            .rules
            .iter()
            .flat_map(|r| r.rule.meta().reads.iter().copied())
            .chain(policy.custom.iter().flat_map(|c| c.services())),
    )
}

/// What the enabled rules want probed.
pub fn probe_plan(policy: &Policy) -> ProbePlan {
    let mut plan = ProbePlan::default();
    for r in &policy.rules {
        r.check.plan(policy.domain.as_deref(), &mut plan);
    }
    plan
}

/// Runs one rule over a snapshot; a rule whose data the run did not gather is `skipped`
/// with the reason.
pub fn run_rule(snap: &Snapshot, rule: &EnabledRule, policy: &Policy) -> Vec<Finding> {
    let meta = rule.rule.meta();
    let setup = Setup {
        severity: rule.severity,
        origin: Some(rule.origin.clone()),
        key_lines: &rule.key_lines,
        keys: rule.rule.param_keys(),
    };
    let mut cx = Cx::new(
        snap,
        meta,
        setup,
        &policy.attestations,
        policy.domain.as_deref(),
    );
    let not_gathered = match meta.source {
        DataSource::Probes if snap.probes.is_none() => {
            Some("live probes were not run (--no-probes)")
        }
        DataSource::Aws if !snap.collection.aws => Some("AWS was not read (--no-aws)"),
        _ => None,
    };
    match not_gathered {
        Some(why) => {
            let r = ResourceRef::new(meta.resource_kind, "*").account(cx.account());
            let msg = format!(
                "Not checked: {why}, so {} is skipped.",
                meta.controls.join(", ")
            );
            cx.skip(r, msg);
        }
        None => rule.check.run(&mut cx),
    }
    cx.finish()
}

/// The time one team rule may take over one account's snapshot. CEL has no loops or I/O
/// and the policy's expressions are bounded in size and nesting, but a nested
/// comprehension over a large account can still be slow: past this, the rule is `error`
/// for the account and the scan goes on.
pub const TEAM_RULE_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs the team rules over a snapshot: each judges the items of its kind; without AWS
/// data (`--no-aws`) each is one `skipped`.
fn run_custom(snap: &Snapshot, policy: &Policy) -> Vec<Finding> {
    run_custom_within(snap, policy, TEAM_RULE_TIME_LIMIT)
}

/// [`run_custom`], each rule on a thread of its own, all at once, each given `limit`: a
/// rule that takes longer is one `error` for the account (its thread is left to finish
/// and its answer dropped).
fn run_custom_within(snap: &Snapshot, policy: &Policy, limit: std::time::Duration) -> Vec<Finding> {
    if policy.custom.is_empty() {
        return vec![];
    }
    let account = snap.collection.account.as_deref();
    let whole = |c: &crate::rules::custom::CustomRule, status: Status, message: String| {
        let controls: Vec<&str> = c.controls.iter().map(String::as_str).collect();
        FindingBuilder::new(
            &c.id,
            &controls,
            c.severity,
            ResourceRef::new(c.kind.name, "*").account(account),
            status,
            message,
        )
        .policy(Some(c.origin.clone()))
        .build()
    };
    if !snap.collection.aws {
        return policy
            .custom
            .iter()
            .map(|c| {
                let why = format!(
                    "Not checked: AWS was not read (--no-aws), so {} is skipped.",
                    c.controls.join(", ")
                );
                whole(c, Status::Skipped, why)
            })
            .collect();
    }
    let view = std::sync::Arc::new(crate::rules::custom::View::new(snap));
    let started = std::time::Instant::now();
    let running: Vec<_> = policy
        .custom
        .iter()
        .map(|c| {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            let (c, view, domain) = (c.clone(), view.clone(), policy.domain.clone());
            std::thread::spawn(move || {
                let _ = tx.send(crate::rules::custom::run(&c, &view, domain.as_deref()));
            });
            rx
        })
        .collect();
    let mut out = Vec::new();
    for (c, rx) in policy.custom.iter().zip(running) {
        let left = limit.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(findings) => out.extend(findings),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => out.push(whole(
                c,
                Status::Error,
                format!(
                    "The team rule did not finish within {} s over this account, so its \
                     verdicts are unknown (each team rule gets that long, so that a policy \
                     cannot hang a scan).",
                    limit.as_secs_f64()
                ),
            )),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => out.push(whole(
                c,
                Status::Error,
                "The team rule failed while it was evaluated (a bug: please report it), so \
                 its verdicts are unknown."
                    .to_string(),
            )),
        }
    }
    out
}

/// What evaluating a policy over a snapshot gives.
#[derive(Debug)]
pub struct Evaluation {
    /// Every enabled rule's findings, waivers applied, in a stable order.
    pub findings: Vec<Finding>,
    /// Waivers that matched nothing, attestations no enabled rule reads.
    pub warnings: Vec<String>,
}

pub fn evaluate(policy: &Policy, snap: &Snapshot) -> Evaluation {
    evaluate_many(policy, std::slice::from_ref(snap))
}

/// Evaluates several accounts' snapshots as one run: every AWS rule on each; the rules that
/// read probes, the repository or attestations (the same whatever the account) once, on the
/// first. Waivers apply across all, "today" being the first snapshot's day.
pub fn evaluate_many(policy: &Policy, snaps: &[Snapshot]) -> Evaluation {
    let judged = judge_accounts(policy, snaps.get(1..).unwrap_or_default());
    evaluate_run(policy, snaps, judged)
}

/// The findings of the rules that read an account's AWS inventory (the built-in AWS rules
/// and the team rules): what a fleet makes of each account but the first as soon as it is
/// collected, so that its snapshot need not be kept.
pub fn judge_account(policy: &Policy, snap: &Snapshot) -> Vec<Finding> {
    let mut findings: Vec<Finding> = policy
        .rules
        .iter()
        .filter(|r| r.rule.meta().source == DataSource::Aws)
        .flat_map(|rule| run_rule(snap, rule, policy))
        .collect();
    findings.extend(run_custom(snap, policy));
    findings
}

/// [`judge_account`] for each of `snaps`.
pub fn judge_accounts(policy: &Policy, snaps: &[Snapshot]) -> Vec<Finding> {
    snaps
        .iter()
        .flat_map(|s| judge_account(policy, s))
        .collect()
}

/// Evaluates a run whose first snapshot is whole and whose other accounts were already
/// judged (`judged`, by [`judge_account`]): every rule on the first, then waivers over all.
pub fn evaluate_run(policy: &Policy, snaps: &[Snapshot], judged: Vec<Finding>) -> Evaluation {
    let Some(first) = snaps.first() else {
        return Evaluation {
            findings: vec![],
            warnings: vec![],
        };
    };
    let mut findings = judged;
    for rule in &policy.rules {
        findings.extend(run_rule(first, rule, policy));
    }
    findings.extend(run_custom(first, policy));
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let mut warnings = apply_waivers(&mut findings, &policy.waivers, first);
    for a in &policy.attestations {
        let read = policy.rules.iter().any(|r| {
            let m = r.rule.meta();
            m.resource_kind == "checklist-control" && m.controls.contains(&a.control.as_str())
        });
        if !read {
            warnings.push(format!(
                "the attestation for {} at {}:{} is not read by any enabled rule",
                a.control, a.origin.file, a.origin.line
            ));
        }
    }
    Evaluation { findings, warnings }
}

fn waiver_matches(w: &Waiver, f: &Finding) -> bool {
    let r = &f.resource;
    w.rule == f.rule
        && (w.resource.matches(&r.id)
            || r.arn.as_deref().is_some_and(|a| w.resource.matches(a))
            || r.name.as_deref().is_some_and(|n| w.resource.matches(n)))
}

/// Turns each failure a current waiver covers into `waived`; a failure whose only
/// matching waiver has expired stays `fail`, with a note. Returns a warning per waiver
/// that matched no failure. "Today" is the snapshot's day, so re-evaluating a snapshot
/// gives the same answer.
fn apply_waivers(findings: &mut [Finding], waivers: &[Waiver], snap: &Snapshot) -> Vec<String> {
    let today = snap.as_of();
    let mut used = vec![false; waivers.len()];
    for f in findings.iter_mut().filter(|f| f.status == Status::Fail) {
        let matching: Vec<(usize, &Waiver)> = waivers
            .iter()
            .enumerate()
            .filter(|(_, w)| waiver_matches(w, f))
            .collect();
        // A current waiver wins over an expired one; among equals, the latest expiry.
        let current = |w: &Waiver| today.is_none_or(|d| w.expires >= d);
        let Some((i, w)) = matching
            .iter()
            .max_by_key(|(_, w)| (current(w), w.expires))
            .copied()
        else {
            continue;
        };
        used[i] = true;
        let expired = !current(w);
        f.waiver = Some(WaiverNote {
            reason: w.reason.clone(),
            owner: w.owner.clone(),
            expires: w.expires.to_string(),
            expired,
            policy: w.origin.clone(),
        });
        if expired {
            f.message = format!(
                "{} (The waiver by {} expired on {}.)",
                f.message, w.owner, w.expires
            );
        } else {
            f.status = Status::Waived;
        }
    }
    waivers
        .iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|(w, _)| {
            format!(
                "the waiver for {} on {} at {}:{} matches no failing finding; remove it if the failure is gone",
                w.rule, w.resource.0, w.origin.file, w.origin.line
            )
        })
        .collect()
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

/// Exit 1 if a fail reaches `fail_on` (with a baseline: a new one); else 3 if anything is
/// `error` or anything could not be collected (`collection_errors`, even if no enabled
/// rule needed it); else 0.
pub fn outcome(findings: &[Finding], fail_on: Severity, collection_errors: usize) -> Outcome {
    if findings.iter().any(|f| {
        f.status == Status::Fail
            && f.severity >= fail_on
            && f.baseline != Some(crate::finding::BaselineState::Unchanged)
    }) {
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
    fn a_team_rule_past_its_time_limit_is_one_error_and_the_others_are_judged() {
        use crate::inventory::testing::*;
        let mut snap = compliant();
        let groups = value(&mut inv(&mut snap).ec2.security_groups);
        for i in 0..400 {
            let id = format!("sg-{i:05}");
            groups.insert(id.clone(), sg(&id, &id, vec![]));
        }
        let rule = |id: &str, check: &str| {
            format!(
                "[[custom-rules]]\nid = \"{id}\"\ncontrols = [\"TEAM-1\"]\nseverity = \"low\"\n\
                 title = \"t\"\nresource = \"ec2-security-group\"\ncheck = '{check}'\n\
                 message = \"m\"\n"
            )
        };
        // For each of 400 groups, every pair of groups: 64 million steps.
        let all = "snapshot.regions[region].ec2.security_groups";
        let slow = format!("{all}.all(a, {all}.all(b, a != b || a == b))");
        let text = rule("slow-rule", &slow) + &rule("quick-rule", "true");
        let p = crate::policy::load(&[crate::policy::PolicySource {
            name: "team.toml".into(),
            text,
        }])
        .unwrap_or_else(|e| panic!("{e}"));
        let found = run_custom_within(&snap, &p, std::time::Duration::from_millis(500));
        let slow: Vec<&Finding> = found.iter().filter(|f| f.rule == "slow-rule").collect();
        assert_eq!(slow.len(), 1, "one finding for the account");
        assert_eq!(slow[0].status, Status::Error);
        assert!(
            slow[0].message.contains("did not finish within 0.5 s"),
            "{}",
            slow[0].message
        );
        let quick: Vec<&Finding> = found.iter().filter(|f| f.rule == "quick-rule").collect();
        assert!(quick.len() > 400);
        assert!(quick.iter().all(|f| f.status == Status::Pass));
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

    fn waived(text: &str) -> Evaluation {
        let mut snap = crate::inventory::testing::compliant();
        let dbs = crate::inventory::testing::value(
            &mut crate::inventory::testing::inv(&mut snap).rds.instances,
        );
        let mut staging = crate::inventory::testing::db("lc-staging-db");
        staging.multi_az = Some(false);
        dbs.insert("lc-staging-db".into(), staging);
        dbs.get_mut("lc-prod-db").unwrap().multi_az = Some(false);
        let policy = crate::policy::load(&[crate::policy::PolicySource {
            name: "p.toml".into(),
            text: format!("[rules.rds-multi-az-disabled]\n\n{text}"),
        }])
        .unwrap();
        evaluate(&policy, &snap)
    }

    fn status_of<'a>(e: &'a Evaluation, id: &str) -> &'a Finding {
        crate::rules::testing::finding(&e.findings, id)
    }

    #[test]
    fn a_current_waiver_waives_by_id_arn_or_glob() {
        // The fixture was collected on 2026-11-28.
        let e = waived("[[waivers]]\nrule = \"rds-multi-az-disabled\"\nresource = \"arn:aws:rds:*:db:lc-staging-*\"\nreason = \"staging runs single-AZ\"\nowner = \"security-lead\"\nexpires = 2026-11-28\n");
        let s = status_of(&e, "lc-staging-db");
        assert_eq!(s.status, Status::Waived);
        let w = s.waiver.as_ref().unwrap();
        assert_eq!(
            (
                w.owner.as_str(),
                w.expires.as_str(),
                w.expired,
                w.policy.line
            ),
            ("security-lead", "2026-11-28", false, 3)
        );
        assert_eq!(
            status_of(&e, "lc-prod-db").status,
            Status::Fail,
            "the waiver covers only staging"
        );
        assert!(e.warnings.is_empty(), "{:?}", e.warnings);
        assert_eq!(outcome(&e.findings, Severity::Low, 0), Outcome::Violations);
    }

    #[test]
    fn an_expired_waiver_leaves_the_failure_with_a_note() {
        let e = waived("[[waivers]]\nrule = \"rds-multi-az-disabled\"\nresource = \"lc-staging-db\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-11-27\n");
        let s = status_of(&e, "lc-staging-db");
        assert_eq!(s.status, Status::Fail);
        assert!(s.waiver.as_ref().unwrap().expired);
        assert!(
            s.message
                .ends_with("(The waiver by o expired on 2026-11-27.)"),
            "{}",
            s.message
        );
    }

    #[test]
    fn a_waiver_that_matches_nothing_is_a_warning() {
        let e = waived("[[waivers]]\nrule = \"rds-multi-az-disabled\"\nresource = \"lc-gone-db\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n\n[[attestations]]\ncontrol = \"RDS-11\"\nby = \"me\"\ndate = 2026-01-01\nevidence = \"e\"\n");
        assert_eq!(e.warnings.len(), 2, "{:?}", e.warnings);
        assert!(e.warnings[0].contains("the waiver for rds-multi-az-disabled on lc-gone-db at p.toml:3 matches no failing finding"));
        assert!(e.warnings[1]
            .contains("the attestation for RDS-11 at p.toml:10 is not read by any enabled rule"));
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
        let mut snap = crate::inventory::testing::compliant();
        snap.collection.regions.push("eu-west-1".into());
        snap.normalize();
        let policy =
            crate::policy::load(&[crate::policy::PolicySource::embedded_default()]).unwrap();
        let findings = evaluate(&policy, &snap).findings;
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
        let mut snap = crate::inventory::testing::compliant();
        snap.repository = Some(crate::inventory::testing::repository());
        let findings = evaluate(&policy, &snap).findings;
        let bad: Vec<String> = findings
            .iter()
            // Attestation controls are manual until someone attests; the optional api.
            // name is not in use, and the domain sends no mail.
            .filter(|f| {
                f.status != Status::Pass
                    && !(f.status == Status::Manual && f.resource.kind == "checklist-control")
                    && !(f.status == Status::Skipped
                        && (f.resource.id.starts_with("api.")
                            || f.resource.id.starts_with("http://api.")
                            || f.rule == "mail-dns-records-missing"))
            })
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

    /// Each rule reads only the services it declares: with every other service's data
    /// absent, as a scan that collects only what the enabled rules read leaves it, no rule
    /// of the shipped policies says `error`.
    #[test]
    fn rules_declare_every_service_they_read() {
        let sources = [
            crate::policy::PolicySource::embedded_default(),
            crate::policy::PolicySource {
                name: "policies/aws-baseline.toml".into(),
                text: include_str!("../policies/aws-baseline.toml").into(),
            },
        ];
        for src in sources {
            let policy = crate::policy::load(std::slice::from_ref(&src)).unwrap();
            for rule in &policy.rules {
                let m = rule.rule.meta();
                let mut snap = crate::inventory::testing::compliant();
                snap.repository = Some(crate::inventory::testing::repository());
                for s in Service::ALL {
                    if !Service::closure(m.reads.iter().copied()).contains(&s) {
                        (crate::collect::wiring::wiring(s).forget)(&mut snap);
                    }
                }
                for f in run_rule(&snap, rule, &policy) {
                    assert_ne!(
                        f.status,
                        Status::Error,
                        "{} reads more than {:?}: {}",
                        m.id,
                        m.reads,
                        f.message
                    );
                }
                if m.source == DataSource::Aws && m.id != "handoff-doc-drift" {
                    assert!(!m.reads.is_empty(), "{} declares no service", m.id);
                }
            }
        }
    }
}
