//! The terminal view. By default the checklist at a glance: one line per control with its
//! verdict, counts and first failing resource, then every failure and error in detail.
//! `--details all` gives every finding as one table per checklist section instead. Both end
//! with the summary line and the collection errors. Pure: colour, width and the view are
//! parameters.

use comfy_table::{presets, Cell, Color, ContentArrangement, Table};

use super::overview::status_rank;
use super::Report;
use crate::checklist::{control_order, Section};
use crate::finding::{Finding, Status};

#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// ANSI colours on the status column.
    pub color: bool,
    /// The terminal's width. The checklist keeps to it (80 when `None`); the full table
    /// wraps to it, and never wraps when `None`.
    pub width: Option<u16>,
    /// Which findings are shown one by one.
    pub details: Details,
}

/// How much the terminal shows of each finding (`--details`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Details {
    /// The checklist, one line per control, then every failure and error in detail.
    #[default]
    Failures,
    /// Every finding, passes and skips too, as one table per checklist section.
    All,
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

fn section_of(f: &Finding) -> Option<Section> {
    f.controls
        .first()
        .and_then(|c| crate::checklist::section_of(c))
}

pub fn render(report: &Report, style: Style) -> String {
    let mut out = header(report, style);
    match style.details {
        Details::Failures => checklist(&mut out, report, style),
        Details::All => full_table(&mut out, report, style),
    }
    footer(&mut out, report);
    out
}

fn header(report: &Report, style: Style) -> String {
    let account = match (&report.run.account, report.run.accounts.len()) {
        (Some(a), _) => format!("account {a}"),
        (None, 0) => "account unknown".to_string(),
        (None, n) => format!("{n} accounts"),
    };
    let regions = if report.run.regions.is_empty() {
        "no region".to_string()
    } else {
        report.run.regions.join(", ")
    };
    let width = usize::from(style.width.unwrap_or(80));
    format!(
        "{}{}",
        wrap(
            &format!("infraverify {}: {account}, {regions}", report.tool.version),
            0,
            width
        ),
        wrap(
            &format!("policy {}", report.run.policies.join(", ")),
            0,
            width
        )
    )
}

fn full_table(out: &mut String, report: &Report, style: Style) {
    let multi_region = report.run.regions.len() > 1;
    let mut sections: Vec<Option<Section>> = report.findings.iter().map(section_of).collect();
    sections.sort();
    sections.dedup();
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
                Cell::new(clean(&f.controls.join(", "))),
                Cell::new(&f.rule),
                Cell::new(clean(&resource)),
                Cell::new(clean(&f.message)),
            ]);
        }
        out.push_str(&table.to_string());
        out.push('\n');
    }
}

fn paint(text: &str, status: Option<Status>, color: bool) -> String {
    let code = match status {
        _ if !color => return text.to_string(),
        Some(Status::Pass) => "32",
        Some(Status::Fail) => "31",
        Some(Status::Error) => "35",
        Some(Status::Manual) => "36",
        Some(Status::Waived) => "34",
        Some(Status::Skipped) | None => "90",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}

/// `text` with every control character (a newline, a tab, an escape sequence's ESC)
/// made visible and harmless: names come from the account, and a raw ESC or carriage
/// return could redraw the terminal's lines.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' | '\r' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// The terminal columns `text` takes (a CJK character two, a combining mark none).
fn columns(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

fn char_columns(c: char) -> usize {
    unicode_width::UnicodeWidthChar::width(c).unwrap_or(0)
}

/// `text`, cleaned, cut to `max` columns, the cut marked with an ellipsis.
fn fit(text: &str, max: usize) -> String {
    let text = clean(text);
    if columns(&text) <= max {
        return text;
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_columns(c);
        if used + w + 1 > max {
            break;
        }
        used += w;
        cut.push(c);
    }
    cut.push('…');
    cut
}

/// `text`, cleaned, broken into lines of at most `width` columns at spaces (a longer word
/// is broken where it must), each line indented by `indent` spaces.
fn wrap(text: &str, indent: usize, width: usize) -> String {
    let room = width.saturating_sub(indent).max(20);
    let pad = " ".repeat(indent);
    let mut out = String::new();
    let mut line = String::new();
    let mut used = 0;
    let flush = |line: &mut String, used: &mut usize, out: &mut String| {
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
            out.push('\n');
            line.clear();
            *used = 0;
        }
    };
    for word in clean(text).split_whitespace() {
        let mut word: &str = word;
        loop {
            let w = columns(word);
            let gap = usize::from(used > 0);
            if used + gap + w <= room {
                if gap == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                used += gap + w;
                break;
            }
            if used > 0 {
                flush(&mut line, &mut used, &mut out);
                continue;
            }
            // A word wider than a whole line: as much as fits, then the rest.
            let mut taken = 0;
            let mut split = 0;
            for (i, c) in word.char_indices() {
                let cw = char_columns(c);
                if taken + cw > room && i > 0 {
                    break;
                }
                taken += cw;
                split = i + c.len_utf8();
            }
            line.push_str(&word[..split]);
            used = taken;
            flush(&mut line, &mut used, &mut out);
            word = &word[split..];
            if word.is_empty() {
                break;
            }
        }
    }
    flush(&mut line, &mut used, &mut out);
    out
}

/// The longest evidence value shown in the terminal's details; report.json has it whole.
const EVIDENCE_SHOWN: usize = 200;

/// One line per checklist control (every control of the checklist, and any other control a
/// finding names), then every failure and error in detail.
fn checklist(out: &mut String, report: &Report, style: Style) {
    let width = usize::from(style.width.unwrap_or(80).max(60));
    let rows = super::overview::controls(report);
    let id_width = rows.iter().map(|c| columns(c.id)).max().unwrap_or(6);
    // The widest count, and two spaces before the detail.
    let counts_width = rows.iter().map(|c| columns(&c.counts)).max().unwrap_or(0) + 2;
    for (i, row) in rows.iter().enumerate() {
        if i == 0 || row.section != rows[i - 1].section {
            out.push('\n');
            out.push_str(row.section.map_or("Other", |s| s.title()));
            out.push('\n');
        }
        let id = clean(row.id);
        let lead = format!(
            "  {id}{}  ",
            " ".repeat(id_width.saturating_sub(columns(&id)))
        );
        let rest = width.saturating_sub(columns(&lead) + 8 + counts_width);
        out.push_str(&lead);
        out.push_str(&paint(
            &format!("{:<8}", row.label),
            row.verdict,
            style.color,
        ));
        out.push_str(&format!(
            "{:<counts_width$}{}\n",
            row.counts,
            fit(&row.detail, rest)
        ));
    }

    let details = super::overview::in_detail(report);
    if details.is_empty() {
        return;
    }
    let fails = details.iter().filter(|f| f.status == Status::Fail).count();
    let errors = details.len() - fails;
    out.push_str(&format!(
        "\n{fails} failure{}, {errors} error{}:\n",
        if fails == 1 { "" } else { "s" },
        if errors == 1 { "" } else { "s" }
    ));
    for f in details {
        let label = match f.baseline {
            Some(crate::finding::BaselineState::New) => " (new)",
            Some(crate::finding::BaselineState::Unchanged) => " (known)",
            None => "",
        };
        out.push('\n');
        out.push_str(&paint(
            &format!("{}{label}", f.status.as_str().to_uppercase()),
            Some(f.status),
            style.color,
        ));
        out.push_str(&fit(
            &format!(" {} {} ({})", f.controls.join(", "), f.rule, f.severity),
            width.saturating_sub(f.status.as_str().len() + label.len()),
        ));
        out.push('\n');
        out.push_str(&wrap(&f.where_(), 2, width));
        out.push_str(&wrap(&f.message, 2, width));
        for e in &f.evidence {
            let observed = e.observed.to_string();
            let observed = if observed.chars().count() <= EVIDENCE_SHOWN {
                observed
            } else {
                format!(
                    "{} characters of evidence, whole in report.json (--format json)",
                    observed.chars().count()
                )
            };
            let expected = e
                .expected
                .as_deref()
                .map(|x| format!(", expected {x}"))
                .unwrap_or_default();
            out.push_str(&wrap(
                &format!("Observed {observed}{expected} (from {})", e.source),
                2,
                width,
            ));
        }
        if f.status == Status::Fail && !f.remediation.is_empty() {
            out.push_str(&wrap(&format!("Fix: {}", f.remediation), 2, width));
        }
        if let Some(p) = &f.policy {
            out.push_str(&wrap(&format!("Policy: {}:{}", p.file, p.line), 2, width));
        }
    }
}

fn footer(out: &mut String, report: &Report) {
    let s = &report.summary;
    let (verdict, _) = super::overview::verdict(report);
    out.push_str(&format!(
        "\n{} findings: {} pass, {} fail, {} error, {} skipped, {} manual, {} waived.\nExit {}: {verdict}.\n",
        report.findings.len(),
        s.pass,
        s.fail,
        s.error,
        s.skipped,
        s.manual,
        s.waived,
        report.exit_code
    ));
    if let Some(line) = super::overview::baseline_line(report) {
        out.push_str(&line);
        out.push('\n');
    }
    if !report.errors.is_empty() {
        out.push_str("\nCollection errors (the controls that needed this data are ERROR):\n");
        out.push_str(&grouped_errors(&report.errors));
    }
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
            out.push_str(&format!("  {}\n", clean(&g[0].to_string())));
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
            clean(&g[0].message),
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

    /// The example report's RDS-3 finding, to copy.
    fn rds3(r: &Report) -> Finding {
        r.findings
            .iter()
            .find(|f| f.controls == ["RDS-3"])
            .unwrap()
            .clone()
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
        Report::new(&snap, &policy, findings, o)
    }

    const ALL: Style = Style {
        color: false,
        width: None,
        details: Details::All,
    };

    #[test]
    fn groups_by_section_with_failures_first_and_a_summary() {
        let text = render(&report(), ALL);
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
                details: Details::All,
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

    #[test]
    fn the_checklist_is_one_line_per_control_within_80_columns() {
        let r = report();
        let text = render(&r, Style::default());
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
        for (id, _, _) in crate::checklist::CONTROLS {
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| l.split_whitespace().next() == Some(id))
                .collect();
            assert_eq!(lines.len(), 1, "{id}: {lines:?}\n{text}");
        }
        let rds3 = text.lines().find(|l| l.starts_with("  RDS-3 ")).unwrap();
        assert!(
            rds3.contains("FAIL") && rds3.contains("1 of 1") && rds3.contains("lc-prod-db"),
            "{rds3}"
        );
        // Passes are counted, not listed; the failure follows in detail.
        let pass = r
            .findings
            .iter()
            .find(|f| f.status == Status::Pass)
            .unwrap();
        assert!(!text.contains(&pass.message), "{text}");
        let detail = text.find("1 failure, ").expect("the failures in detail");
        let fail = r
            .findings
            .iter()
            .find(|f| f.status == Status::Fail)
            .unwrap();
        let rest = &text[detail..];
        assert!(
            rest.contains("FAIL RDS-3 rds-multi-az-disabled (high)"),
            "{rest}"
        );
        assert!(rest.contains("  Fix: "), "{rest}");
        assert!(
            rest.contains("  Policy: policies/lifetimecircle.toml:"),
            "{rest}"
        );
        assert!(
            rest.replace("\n  ", " ").contains(&fail.message),
            "the message, wrapped: {rest}"
        );
        assert!(text.contains("\nExit 1: violations found.\n"), "{text}");
    }

    #[test]
    fn a_control_shows_its_worst_finding_and_its_first_resource() {
        let mut r = report();
        let base = rds3(&r);
        let mut other = base.clone();
        other.resource.id = "a-db".into();
        other.status = Status::Error;
        r.findings.push(other);
        let mut third = base.clone();
        third.resource.id = "b-db".into();
        third.resource.name = None;
        r.findings.push(third);
        r.findings
            .retain(|f| !f.controls.iter().any(|c| c == "NET-1"));
        let mut team = base;
        team.controls = vec!["TEAM-1".into()];
        team.status = Status::Pass;
        r.findings.push(team);
        let text = render(&r, Style::default());
        let line = |id: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("  {id} ")))
                .unwrap()
                .to_string()
        };
        let rds3 = line("RDS-3");
        assert!(
            rds3.contains("FAIL") && rds3.contains("2 of 3") && rds3.contains("b-db +1 more"),
            "{rds3}"
        );
        assert!(
            line("NET-1").contains("no rule of the policy checks it"),
            "{text}"
        );
        assert!(text.contains("\nOther\n  TEAM-1 "), "{text}");
        assert!(text.contains("2 failures, 1 error:"), "{text}");
    }

    #[test]
    fn wrapping_keeps_to_the_width_and_loses_no_word() {
        let text = "a Security group sg-0123 admits tcp 22 from 0.0.0.0/0 arn:aws:iam::123456789012:role/a-very-long-role-name-that-does-not-fit-on-one-line-at-all";
        let out = wrap(text, 2, 40);
        for l in out.lines() {
            assert!(l.chars().count() <= 40 && l.starts_with("  "), "{l:?}");
        }
        assert_eq!(
            out.replace("\n  ", "").replace(' ', "").trim(),
            text.replace(' ', "")
        );
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }

    #[test]
    fn hostile_names_wide_names_and_large_counts_keep_to_80_columns() {
        let mut r = report();
        let base = rds3(&r);
        // Many failing resources, names in CJK (two columns each), and one that tries to
        // redraw the terminal: a carriage return and an escape sequence.
        for i in 0..1300 {
            let mut f = base.clone();
            f.resource.id = format!("db-{i}");
            f.resource.name = Some(match i {
                0 => "x\r\u{1b}[2K  RDS-3   PASS    1 pass".to_string(),
                _ => "データベース本番環境の主要インスタンス".repeat(3),
            });
            f.message = format!("DB {} is single-AZ: {}", i, "本番".repeat(40));
            r.findings.push(f);
        }
        let text = render(&r, Style::default());
        assert!(
            !text.contains('\u{1b}') && !text.contains('\r'),
            "control characters pass through"
        );
        for line in text.lines() {
            assert!(columns(line) <= 80, "{} columns: {line}", columns(line));
        }
        let rds3 = text.lines().find(|l| l.starts_with("  RDS-3 ")).unwrap();
        assert!(rds3.contains("FAIL    1301 of 1301  "), "{rds3}");
        assert!(rds3.contains("db-0 (x \u{fffd}[2K"), "{rds3}");
    }

    #[test]
    fn a_failing_control_shows_its_errors_and_counts_resources_not_findings() {
        let mut r = report();
        let base = rds3(&r);
        // A second rule failing the same DB, and a finding that could not be judged.
        let mut again = base.clone();
        again.rule = "another-rule".into();
        r.findings.push(again);
        let mut error = base.clone();
        error.resource.id = "other-db".into();
        error.status = Status::Error;
        r.findings.push(error);
        let text = render(&r, Style::default());
        let rds3 = text.lines().find(|l| l.starts_with("  RDS-3 ")).unwrap();
        assert!(rds3.contains("2 of 3, 1 error"), "{rds3}");
        assert!(
            rds3.trim_end().ends_with("lc-prod-db"),
            "one resource fails: {rds3}"
        );
    }
}
