//! Test helpers for rules: a runner that reads a rule's parameters through the real policy
//! loader, compact assertions, and the four cases every rule is tested in. The fixtures
//! themselves are in [`crate::inventory::testing`], re-exported here.

pub use crate::inventory::testing::*;

use crate::finding::{Finding, Status};
use crate::inventory::Snapshot;
use crate::policy::{self, PolicySource};

/// Runs `rule` with parameters `params` (TOML lines) through the real policy loader.
pub fn run(rule: &str, params: &str, snap: &Snapshot) -> Vec<Finding> {
    // The [policy] table last, so that the rule's lines keep their numbers.
    let text = format!("[rules.{rule}]\n{params}\n\n[policy]\ndomain = \"{DOMAIN}\"\n");
    let policy = policy::load(&[PolicySource {
        name: "test.toml".into(),
        text,
    }])
    .unwrap_or_else(|d| panic!("{d}"));
    let mut findings = crate::engine::run_rule(snap, &policy.rules[0], &policy);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// `(resource id, status)` of every finding, for compact assertions.
pub fn verdicts(findings: &[Finding]) -> Vec<(String, Status)> {
    findings
        .iter()
        .map(|f| (f.resource.id.clone(), f.status))
        .collect()
}

/// The finding on the resource `id`.
#[track_caller]
pub fn finding<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.resource.id == id)
        .unwrap_or_else(|| panic!("no finding on {id}"))
}

/// Asserts the verdicts, printing the messages when they differ.
#[track_caller]
pub fn assert_verdicts(findings: &[Finding], expected: &[(&str, Status)]) {
    let got = verdicts(findings);
    let want: Vec<(String, Status)> = expected.iter().map(|(i, s)| (i.to_string(), *s)).collect();
    assert_eq!(
        got,
        want,
        "\nmessages:\n{}",
        findings
            .iter()
            .map(|f| format!("  {} {}: {}", f.status, f.resource.id, f.message))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The four cases every rule is tested in, each checked as it is given: `pass` on the
/// compliant environment, `fail` once a change breaks it, `error` once a change makes its
/// data unreadable, `skipped` once a change leaves nothing in scope. Each case lists the
/// verdicts `(resource id, status)` the rule must give; dropping the checker before all four
/// were given fails the test, so none is forgotten.
///
/// ```ignore
/// four_ways("ecr-tags-mutable", "")
///     .pass(&[("lifetimecircle-api", Pass), ("lifetimecircle-web", Pass)])
///     .fail(|s| ..., &[("lifetimecircle-api", Pass), ("lifetimecircle-web", Fail)])
///     .error(|s| ..., &[("*", Error)])
///     .skipped(|s| ..., &[("*", Skipped)]);
/// ```
pub struct FourWays {
    rule: String,
    params: String,
    base: Box<dyn Fn(&mut Snapshot)>,
    seen: [bool; 4],
}

pub fn four_ways(rule: &str, params: &str) -> FourWays {
    FourWays {
        rule: rule.to_string(),
        params: params.to_string(),
        base: Box::new(|_| {}),
        seen: [false; 4],
    }
}

impl FourWays {
    /// Starts every case from the compliant environment changed by `base` (for rules whose
    /// data the environment lacks, such as the repository's).
    pub fn given(mut self, base: impl Fn(&mut Snapshot) + 'static) -> Self {
        self.base = Box::new(base);
        self
    }

    #[track_caller]
    fn case(
        mut self,
        i: usize,
        change: impl FnOnce(&mut Snapshot),
        want: Status,
        expect: &[(&str, Status)],
    ) -> Self {
        assert!(
            expect.iter().any(|(_, s)| *s == want),
            "{}: the {want} case expects no {want} verdict",
            self.rule
        );
        let mut s = compliant();
        (self.base)(&mut s);
        change(&mut s);
        assert_verdicts(&run(&self.rule, &self.params, &s), expect);
        self.seen[i] = true;
        self
    }

    #[track_caller]
    pub fn pass(self, expect: &[(&str, Status)]) -> Self {
        self.case(0, |_| {}, Status::Pass, expect)
    }

    #[track_caller]
    pub fn fail(self, broken: impl FnOnce(&mut Snapshot), expect: &[(&str, Status)]) -> Self {
        self.case(1, broken, Status::Fail, expect)
    }

    #[track_caller]
    pub fn error(self, denied: impl FnOnce(&mut Snapshot), expect: &[(&str, Status)]) -> Self {
        self.case(2, denied, Status::Error, expect)
    }

    #[track_caller]
    pub fn skipped(self, empty: impl FnOnce(&mut Snapshot), expect: &[(&str, Status)]) -> Self {
        self.case(3, empty, Status::Skipped, expect)
    }
}

impl Drop for FourWays {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let names = ["pass", "fail", "error", "skipped"];
            let missing: Vec<&str> = (0..4)
                .filter(|i| !self.seen[*i])
                .map(|i| names[i])
                .collect();
            assert!(
                missing.is_empty(),
                "{}: the {} case(s) were not tested",
                self.rule,
                missing.join(", ")
            );
        }
    }
}
