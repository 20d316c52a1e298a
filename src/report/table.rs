//! The terminal table: one table per checklist section, failures and errors first, then a
//! summary line and the collection errors. Pure: colour and width are parameters.

use comfy_table::{presets, Cell, Color, ContentArrangement, Table};

use super::Report;
use crate::checklist::{control_order, Section};
use crate::engine::Outcome;
use crate::finding::{Finding, Status};

#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// ANSI colours on the status column.
    pub color: bool,
    /// Wrap to this many columns (a terminal's width); `None` never wraps.
    pub width: Option<u16>,
}

fn status_cell(f: &Finding, color: bool) -> Cell {
    let s = f.status;
    let label = match f.baseline {
        Some(crate::finding::BaselineState::New) => format!("{} (new)", s.as_str().to_uppercase()),
        Some(crate::finding::BaselineState::Unchanged) => {
            format!("{} (known)", s.as_str().to_uppercase())
        }
        None => s.as_str().to_uppercase(),
    };
    let cell = Cell::new(label);
    if !color {
        return cell;
    }
    match s {
        Status::Pass => cell.fg(Color::Green),
        Status::Fail => cell.fg(Color::Red),
        Status::Error => cell.fg(Color::Magenta),
        Status::Skipped => cell.fg(Color::DarkGrey),
        Status::Manual => cell.fg(Color::Cyan),
        Status::Waived => cell.fg(Color::Blue),
    }
}

/// Fail and error first within a section, so the eye lands on them.
fn status_rank(s: Status) -> u8 {
    match s {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Manual => 2,
        Status::Waived => 3,
        Status::Pass => 4,
        Status::Skipped => 5,
    }
}

fn section_of(f: &Finding) -> Option<Section> {
    f.controls
        .first()
        .and_then(|c| crate::checklist::section_of(c))
}

pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    let multi_region = report.run.regions.len() > 1;
    let mut sections: Vec<Option<Section>> = report.findings.iter().map(section_of).collect();
    sections.sort();
    sections.dedup();

    out.push_str(&format!(
        "infraverify {}: account {}, {}, policy {}\n",
        report.tool.version,
        report.run.account.as_deref().unwrap_or("unknown"),
        if report.run.regions.is_empty() {
            "no region".to_string()
        } else {
            report.run.regions.join(", ")
        },
        report.run.policies.join(", ")
    ));
    for section in sections {
        let mut rows: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| section_of(f) == section)
            .collect();
        rows.sort_by(|a, b| {
            let ka = (
                status_rank(a.status),
                a.controls.first().map(|c| control_order(c)),
                &a.rule,
                a.sort_key(),
            );
            let kb = (
                status_rank(b.status),
                b.controls.first().map(|c| control_order(c)),
                &b.rule,
                b.sort_key(),
            );
            ka.cmp(&kb)
        });
        out.push('\n');
        out.push_str(section.map_or("Other", Section::title));
        out.push('\n');
        let mut table = Table::new();
        table.load_style(presets::UTF8_FULL_CONDENSED);
        if style.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        match style.width {
            Some(w) => {
                table.set_content_arrangement(ContentArrangement::Dynamic);
                table.set_width(w);
            }
            None => {
                table.set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        table.set_header(vec!["Status", "Control", "Rule", "Resource", "Message"]);
        for f in rows {
            let resource = match (&f.resource.region, multi_region) {
                (Some(r), true) => format!("{} [{r}]", f.resource.display()),
                _ => f.resource.display(),
            };
            table.add_row(vec![
                status_cell(f, style.color),
                Cell::new(f.controls.join(", ")),
                Cell::new(&f.rule),
                Cell::new(resource),
                Cell::new(&f.message),
            ]);
        }
        out.push_str(&table.to_string());
        out.push('\n');
    }
    let s = &report.summary;
    let verdict = match report.exit_code {
        c if c == Outcome::Violations.code() => "violations found",
        c if c == Outcome::Incomplete.code() => {
            "scan incomplete: some controls could not be observed"
        }
        _ => "no violations",
    };
    out.push_str(&format!(
        "\n{} findings: {} pass, {} fail, {} error, {} skipped, {} manual, {} waived. Exit {}: {verdict}.\n",
        report.findings.len(),
        s.pass,
        s.fail,
        s.error,
        s.skipped,
        s.manual,
        s.waived,
        report.exit_code
    ));
    let new = report
        .findings
        .iter()
        .filter(|f| f.baseline == Some(crate::finding::BaselineState::New))
        .count();
    let unchanged = report
        .findings
        .iter()
        .filter(|f| f.baseline == Some(crate::finding::BaselineState::Unchanged))
        .count();
    if new + unchanged > 0 {
        out.push_str(&format!(
            "Baseline: {new} new failure{}, {unchanged} already in the baseline (these do not fail the gate).\n",
            if new == 1 { "" } else { "s" }
        ));
    }
    if !report.errors.is_empty() {
        out.push_str("\nCollection errors (the controls that needed this data are ERROR):\n");
        out.push_str(&grouped_errors(&report.errors));
    }
    out
}

/// Collection errors with the same cause (the same kind and message) as one line with a
/// count and the calls it hit, so a 5xx storm or an unreachable endpoint is one line, not
/// one per service and region.
fn grouped_errors(errors: &[super::ErrorEntry]) -> String {
    let mut groups: Vec<Vec<&super::ErrorEntry>> = Vec::new();
    for e in errors {
        match groups.iter_mut().find(|g| g[0].message == e.message) {
            Some(g) => g.push(e),
            None => groups.push(vec![e]),
        }
    }
    let mut out = String::new();
    for g in groups {
        if g.len() == 1 {
            out.push_str(&format!("  {}\n", g[0]));
            continue;
        }
        const SHOWN: usize = 4;
        let calls: Vec<String> = g
            .iter()
            .take(SHOWN)
            .map(|e| {
                let mut c = e.source.clone();
                if let Some(r) = &e.region {
                    c.push_str(&format!(" in {r}"));
                }
                if let Some(a) = &e.account {
                    c.push_str(&format!(" ({a})"));
                }
                c
            })
            .collect();
        out.push_str(&format!(
            "  {} calls failed: {}\n    {}{}\n",
            g.len(),
            g[0].message,
            calls.join(", "),
            if g.len() > SHOWN {
                format!(" and {} more", g.len() - SHOWN)
            } else {
                String::new()
            }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{evaluate, outcome};
    use crate::finding::Severity;
    use crate::inventory::testing::*;

    #[test]
    fn errors_with_one_cause_are_one_line_with_a_count() {
        let e = |source: &str, region: &str, message: &str| crate::report::ErrorEntry {
            source: source.into(),
            region: Some(region.into()),
            message: message.into(),
            account: None,
        };
        let errors: Vec<crate::report::ErrorEntry> = [
            "ec2:DescribeVpcs",
            "rds:DescribeDBInstances",
            "ecs:ListClusters",
            "elasticloadbalancing:DescribeLoadBalancers",
            "acm:ListCertificates",
            "logs:DescribeLogGroups",
        ]
        .iter()
        .map(|s| e(s, "eu-central-1", "service-error: HTTP 503"))
        .chain([e(
            "iam:GetAccountAuthorizationDetails",
            "us-east-1",
            "access-denied: AccessDenied: not authorized",
        )])
        .collect();
        let text = grouped_errors(&errors);
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(
            text.contains("  6 calls failed: service-error: HTTP 503\n"),
            "{text}"
        );
        assert!(text.contains("ec2:DescribeVpcs in eu-central-1, rds:DescribeDBInstances in eu-central-1, ecs:ListClusters in eu-central-1, elasticloadbalancing:DescribeLoadBalancers in eu-central-1 and 2 more"), "{text}");
        assert!(
            text.contains("  iam:GetAccountAuthorizationDetails in us-east-1: access-denied: AccessDenied: not authorized"),
            "{text}"
        );
    }

    fn report() -> Report {
        let policy =
            crate::policy::load(&[crate::policy::PolicySource::embedded_default()]).unwrap();
        let mut snap = compliant();
        value(&mut inv(&mut snap).rds.instances)
            .get_mut("lc-prod-db")
            .unwrap()
            .multi_az = Some(false);
        let findings = evaluate(&policy, &snap).findings;
        let o = outcome(&findings, Severity::Low, 0);
        Report::new(&snap, &policy.files, findings, o)
    }

    #[test]
    fn groups_by_section_with_failures_first_and_a_summary() {
        let text = render(&report(), Style::default());
        let net = text.find("\n2.1 Network\n").expect("network section");
        let sg = text.find("\n2.1 Security groups\n").expect("sg section");
        let rds = text.find("\n2.2 RDS PostgreSQL\n").expect("rds section");
        assert!(net < sg && sg < rds);
        let rds_part = &text[rds..];
        // The first data row comes after the header and its separator.
        let first_row = rds_part
            .lines()
            .skip_while(|l| !l.starts_with('╞'))
            .nth(1)
            .unwrap();
        assert!(
            first_row.contains("FAIL") && first_row.contains("rds-multi-az-disabled"),
            "{first_row}"
        );
        assert!(text.contains(" 1 fail, 0 error,"), "{text}");
        assert!(text.contains("Exit 1: violations found."), "{text}");
        assert!(!text.contains('\u{1b}'), "no colour unless asked");
    }

    #[test]
    fn colour_only_when_asked() {
        let text = render(
            &report(),
            Style {
                color: true,
                width: Some(120),
            },
        );
        assert!(text.contains('\u{1b}'));
        for line in text.lines().filter(|l| l.starts_with('│')) {
            assert!(
                line.chars().filter(|c| !c.is_control()).count() <= 140,
                "{line}"
            );
        }
    }
}
