//! `report.md`: for a pull-request comment or `$GITHUB_STEP_SUMMARY`. Summary counts,
//! failures first with evidence and remediation, then errors, manual controls and waivers,
//! with passes and skips folded into collapsible sections.

use std::fmt::Write;

use super::Report;
use crate::finding::{Finding, Status};

/// Escapes text for a Markdown table cell or inline text.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn code(s: &str) -> String {
    // Inline code cannot hold a backtick run longer than its fence; JSON has none of ours.
    format!("`{}`", s.replace('`', "'").replace('\n', " "))
}

fn detailed(out: &mut String, title: &str, findings: &[&Finding]) {
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(out, "## {title} ({})\n", findings.len());
    for f in findings {
        let _ = writeln!(
            out,
            "### {} `{}`: {}\n\n**{}** · {}\n",
            f.controls.join(", "),
            f.rule,
            cell(&f.where_()),
            f.severity,
            cell(&f.message)
        );
        for e in &f.evidence {
            let _ = writeln!(
                out,
                "- Observed {}{} (from {})",
                code(&e.observed.to_string()),
                e.expected
                    .as_deref()
                    .map(|x| format!(", expected {}", code(x)))
                    .unwrap_or_default(),
                code(&e.source)
            );
        }
        if let Some(w) = &f.waiver {
            let _ = writeln!(
                out,
                "- Waiver{}: {} (owner {}, expires {}, {}:{})",
                if w.expired { " **expired**" } else { "" },
                cell(&w.reason),
                cell(&w.owner),
                w.expires,
                w.policy.file,
                w.policy.line
            );
        }
        if !f.remediation.is_empty() && matches!(f.status, Status::Fail | Status::Waived) {
            let _ = writeln!(out, "- Remediation: {}", cell(&f.remediation));
        }
        if let Some(p) = &f.policy {
            let _ = writeln!(out, "- Policy: `{}:{}`", p.file, p.line);
        }
        out.push('\n');
    }
}

fn folded(out: &mut String, title: &str, findings: &[&Finding]) {
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details><summary>{title} ({})</summary>\n\n| Control | Rule | Resource | Message |\n|---|---|---|---|",
        findings.len()
    );
    for f in findings {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            f.controls.join(", "),
            f.rule,
            cell(&f.where_()),
            cell(&f.message)
        );
    }
    out.push_str("\n</details>\n\n");
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let (verdict, _) = super::overview::verdict(report);
    let _ = writeln!(
        out,
        "# infraverify report\n\nAccount `{}` · regions {} · policy {} · collected {}\n",
        report.run.account.as_deref().unwrap_or("unknown"),
        report
            .run
            .regions
            .iter()
            .map(|r| code(r))
            .collect::<Vec<_>>()
            .join(", "),
        report
            .run
            .policies
            .iter()
            .map(|p| code(p))
            .collect::<Vec<_>>()
            .join(", "),
        report.run.finished_at
    );
    let _ = writeln!(
        out,
        "| pass | fail | error | skipped | manual | waived |\n|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {} |\n\n**Exit {}: {verdict}.**\n",
        s.pass, s.fail, s.error, s.skipped, s.manual, s.waived, report.exit_code
    );
    if let Some(line) = super::overview::baseline_line(report) {
        let _ = writeln!(out, "{line}\n");
    }
    let with = |status: Status| -> Vec<&Finding> {
        report
            .findings
            .iter()
            .filter(|f| f.status == status)
            .collect()
    };
    let mut fails = with(Status::Fail);
    fails.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.sort_key().cmp(&b.sort_key()))
    });
    detailed(&mut out, "Failures", &fails);
    detailed(&mut out, "Errors", &with(Status::Error));
    detailed(&mut out, "Manual", &with(Status::Manual));
    detailed(&mut out, "Waived", &with(Status::Waived));
    folded(&mut out, "Passed", &with(Status::Pass));
    folded(&mut out, "Skipped", &with(Status::Skipped));
    if !report.errors.is_empty() {
        out.push_str("## Collection errors\n\n");
        for e in &report.errors {
            let _ = writeln!(out, "- {}", cell(&e.to_string()));
        }
        out.push('\n');
    }
    for w in &report.warnings {
        let _ = writeln!(out, "> Warning: {}", cell(w));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_come_first_passes_are_folded() {
        let report = super::super::tests::sample_report();
        let md = render(&report);
        let fail = md.find("## Failures").unwrap();
        let errors = md.find("## Errors").unwrap();
        let passed = md.find("<details><summary>Passed").unwrap();
        assert!(fail < errors && errors < passed, "{md}");
        assert!(md.contains("- Remediation: "), "{md}");
        assert!(md.contains("**Exit 1: violations found.**"), "{md}");
        // The highest severity leads the failures.
        let first = &md[fail..].lines().nth(2).unwrap();
        assert!(first.contains("rds-publicly-accessible"), "{first}");
    }

    #[test]
    fn table_cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc<d>"), "a\\|b c&lt;d&gt;");
    }
}
