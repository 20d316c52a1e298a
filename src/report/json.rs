//! `report.json`: the stable contract of DESIGN.md, pretty-printed with a fixed key order.

use super::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("report serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{evaluate, outcome};
    use crate::finding::Severity;

    #[test]
    fn follows_the_contract_and_round_trips() {
        let policy =
            crate::policy::load(&[crate::policy::PolicySource::embedded_default()]).unwrap();
        let mut snap = crate::inventory::testing::compliant();
        crate::inventory::testing::value(
            &mut crate::inventory::testing::inv(&mut snap).rds.instances,
        )
        .get_mut("lc-prod-db")
        .unwrap()
        .backup_retention_days = Some(7);
        let findings = evaluate(&policy, &snap).findings;
        let o = outcome(&findings, Severity::Low, 0);
        let report = Report::new(&snap, &policy, findings, o);
        let text = render(&report);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec![
            "schema",
            "tool",
            "run",
            "summary",
            "exit_code",
            "findings",
            "errors",
            "warnings",
        ];
        want.sort();
        assert_eq!(keys, want);
        assert_eq!(v["schema"], "infraverify/report/v1");
        assert_eq!(v["exit_code"], 1);
        assert_eq!(v["summary"]["fail"], 1);
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["status"] == "fail")
            .unwrap();
        assert_eq!(f["rule"], "rds-backup-retention-too-short");
        assert_eq!(f["controls"], serde_json::json!(["RDS-6"]));
        assert_eq!(f["severity"], "high");
        assert_eq!(f["resource"]["kind"], "rds-db-instance");
        assert_eq!(f["resource"]["id"], "lc-prod-db");
        assert_eq!(f["resource"]["account"], "123456789012");
        assert_eq!(f["resource"]["region"], "eu-central-1");
        assert_eq!(
            f["message"],
            "DB instance lc-prod-db keeps backups for 7 days; the policy requires at least 30."
        );
        assert_eq!(f["evidence"][0]["observed"]["backup_retention_days"], 7);
        assert_eq!(f["evidence"][0]["expected"], ">= 30");
        assert_eq!(f["evidence"][0]["source"], "rds:DescribeDBInstances");
        assert_eq!(f["policy"]["file"], "policies/lifetimecircle.toml");
        assert!(f["remediation"].as_str().unwrap().len() > 10);
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(back, report);
        // Same input, same bytes.
        assert_eq!(render(&back), text);
    }
}
