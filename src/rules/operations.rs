//! 4 Operations: OPS-3's recovery-time objective, which only a person can vouch for.
//! (The API-checkable operations controls come with the ECS, logs and backup collectors.)

use super::{declare_rule, Cx, Rule};
use crate::policy::params::in_range;
use crate::rule_params;

declare_rule! {
    /// OPS-3: the RTO (recovery in under an hour) was demonstrated (attested).
    pub struct RtoNotAttested {
        id: "rto-not-attested",
        scope: "RTO attestation",
        controls: ["OPS-3"],
        severity: Medium,
        kind: "checklist-control",
        title: "No current attestation that recovery within the RTO was demonstrated",
    }
}

rule_params! {
    pub struct RtoParams {
        /// Oldest acceptable attestation, in days before the scan.
        "max-age-days" => max_age_days: u32 = 365, check = in_range(1, 3650);
    }
}

impl Rule for RtoNotAttested {
    type Params = RtoParams;

    fn check(&self, cx: &mut Cx<'_>, p: &RtoParams) {
        cx.attested("OPS-3", "recovery time objective", p.max_age_days);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::finding::Status::*;

    #[test]
    fn rto_is_manual_without_an_attestation() {
        let f = run("rto-not-attested", "", &compliant());
        assert_verdicts(&f, &[("OPS-3", Manual)]);
        assert!(
            f[0].message
                .starts_with("OPS-3 (recovery time objective) needs an attestation"),
            "{}",
            f[0].message
        );
    }
}
