//! `report.html`: one self-contained page for the person who signs the audit off, and for a
//! CI artifact. No script, font, image or style from elsewhere: the style is inline and the
//! page's Content-Security-Policy allows that one style (by its SHA-256) and nothing else,
//! so the page works offline and nothing in it can run. The template is compiled and
//! escapes every value (askama): resource names, tags and messages come from the account
//! and are attacker-controlled.

use askama::Template;

use super::overview::{self, ControlRow};
use super::{Report, Summary};
use crate::checklist::Section;
use crate::finding::{BaselineState, Finding, Status};

const STYLE: &str = include_str!("../../templates/report.css");

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    csp: String,
    style: &'static str,
    tool_version: &'a str,
    verdict: String,
    verdict_class: &'static str,
    /// New and known failures, with `--baseline`.
    baseline: Option<String>,
    exit_code: u8,
    summary: &'a Summary,
    total: usize,
    accounts: String,
    regions: String,
    /// Each policy file with its SHA-256 (empty when the report does not have it).
    policies: Vec<(String, String)>,
    started: String,
    finished: String,
    sections: Vec<SectionView>,
    /// Shown in full: failures, errors, manual controls and attestations, waivers.
    groups: Vec<Group>,
    /// Folded away: passes and skips.
    folded: Vec<Group>,
    collection_errors: Vec<String>,
    warnings: Vec<String>,
}

struct SectionView {
    title: &'static str,
    rows: Vec<Row>,
}

struct Row {
    /// The control id as shown; `anchor`, as an id (`[A-Za-z0-9-]`, anything else `_`).
    id: String,
    anchor: String,
    class: &'static str,
    symbol: &'static str,
    label: &'static str,
    counts: String,
    detail: String,
    /// The anchor of its first finding in detail, or empty.
    link: String,
    statement: String,
    show_statement: bool,
}

struct Group {
    id: &'static str,
    title: &'static str,
    items: Vec<Item>,
}

struct Item {
    anchor: String,
    /// `control-…-detail` anchors for the controls whose first detailed finding this is.
    anchors: Vec<String>,
    class: &'static str,
    symbol: &'static str,
    status: String,
    controls: String,
    rule: String,
    severity: String,
    baseline: Option<&'static str>,
    resource: String,
    message: String,
    evidence: Vec<Ev>,
    waiver: Option<String>,
    remediation: String,
    policy: Option<String>,
}

struct Ev {
    /// Compact JSON, or indented when `long`.
    observed: String,
    /// Longer than a line: folded, and indented.
    long: bool,
    expected: Option<String>,
    source: String,
}

fn class(s: Option<Status>) -> &'static str {
    match s {
        Some(s) => s.as_str(),
        None => "none",
    }
}

/// A mark beside each verdict, so the page reads without colour (in grey, or printed).
fn symbol(s: Option<Status>) -> &'static str {
    match s {
        Some(Status::Fail) => "✗",
        Some(Status::Error) => "!",
        Some(Status::Manual) => "?",
        Some(Status::Waived) => "~",
        Some(Status::Pass) => "✓",
        Some(Status::Skipped) => "–",
        None => "·",
    }
}

/// An anchor id from a control id: letters, digits and `-` kept, anything else `_`.
fn anchor(control: &str) -> String {
    control
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn item(f: &Finding, n: usize, anchors: Vec<String>) -> Item {
    Item {
        anchor: format!("finding-{n}"),
        anchors,
        class: class(Some(f.status)),
        symbol: symbol(Some(f.status)),
        status: f.status.as_str().to_uppercase(),
        controls: f.controls.join(", "),
        rule: f.rule.clone(),
        severity: f.severity.to_string(),
        baseline: match f.baseline {
            Some(BaselineState::New) => Some("new since the baseline"),
            Some(BaselineState::Unchanged) => Some("already in the baseline"),
            None => None,
        },
        resource: f.where_(),
        message: f.message.clone(),
        evidence: f
            .evidence
            .iter()
            .map(|e| {
                let compact = e.observed.to_string();
                let long = compact.chars().count() > 200;
                Ev {
                    observed: if long {
                        serde_json::to_string_pretty(&e.observed).unwrap_or(compact)
                    } else {
                        compact
                    },
                    long,
                    expected: e.expected.clone(),
                    source: e.source.clone(),
                }
            })
            .collect(),
        waiver: f.waiver.as_ref().map(|w| {
            format!(
                "Waived{}: {} (owner {}, expires {}, {}:{})",
                if w.expired {
                    ", but the waiver has expired"
                } else {
                    ""
                },
                w.reason,
                w.owner,
                w.expires,
                w.policy.file,
                w.policy.line
            )
        }),
        remediation: if matches!(f.status, Status::Fail | Status::Waived | Status::Manual) {
            f.remediation.clone()
        } else {
            String::new()
        },
        policy: f.policy.as_ref().map(|p| format!("{}:{}", p.file, p.line)),
    }
}

pub fn render(report: &Report) -> String {
    // Failures and errors in the terminal's order; each control links to its first one.
    let detailed = overview::in_detail(report);
    let mut first_of: std::collections::BTreeMap<&str, String> = Default::default();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    let mut failures = Vec::new();
    let mut errors = Vec::new();
    for f in &detailed {
        let mut anchors = Vec::new();
        for c in &f.controls {
            if !first_of.contains_key(c.as_str()) {
                let a = format!("control-{}-detail", anchor(c));
                first_of.insert(c, a.clone());
                anchors.push(a);
            }
        }
        let it = item(f, next(), anchors);
        match f.status {
            Status::Fail => failures.push(it),
            _ => errors.push(it),
        }
    }
    let with = |pred: &dyn Fn(&Finding) -> bool| -> Vec<&Finding> {
        let mut v: Vec<&Finding> = report.findings.iter().filter(|f| pred(f)).collect();
        v.sort_by(|a, b| {
            let key = |f: &Finding| {
                f.controls
                    .first()
                    .map(|c| crate::checklist::control_order(c))
            };
            key(a).cmp(&key(b)).then(a.sort_key().cmp(&b.sort_key()))
        });
        v
    };
    // Manual controls and attestations: the findings about a checklist control itself.
    let attest = with(&|f| {
        f.resource.kind == "checklist-control" && !matches!(f.status, Status::Fail | Status::Error)
    });
    let waived = with(&|f| f.status == Status::Waived && f.resource.kind != "checklist-control");
    let passed = with(&|f| f.status == Status::Pass && f.resource.kind != "checklist-control");
    let skipped = with(&|f| f.status == Status::Skipped && f.resource.kind != "checklist-control");
    let items = |v: Vec<&Finding>, next: &mut dyn FnMut() -> usize| -> Vec<Item> {
        v.into_iter().map(|f| item(f, next(), vec![])).collect()
    };
    let groups = vec![
        Group {
            id: "failures",
            title: "Failures",
            items: failures,
        },
        Group {
            id: "errors",
            title: "Errors: not observed, so not judged",
            items: errors,
        },
        Group {
            id: "attestations",
            title: "Manual controls and attestations",
            items: items(attest, &mut next),
        },
        Group {
            id: "waived",
            title: "Waived",
            items: items(waived, &mut next),
        },
    ];
    let folded = vec![
        Group {
            id: "passed",
            title: "Passed",
            items: items(passed, &mut next),
        },
        Group {
            id: "skipped",
            title: "Skipped",
            items: items(skipped, &mut next),
        },
    ];

    let mut sections: Vec<SectionView> = Vec::new();
    let mut current: Option<Option<Section>> = None;
    for row in overview::controls(report) {
        let ControlRow {
            id,
            section,
            statement,
            verdict,
            label,
            counts,
            detail,
        } = row;
        if current != Some(section) {
            current = Some(section);
            sections.push(SectionView {
                title: section.map_or("Other", Section::title),
                rows: Vec::new(),
            });
        }
        let link = match verdict {
            Some(Status::Fail | Status::Error) => first_of.get(id).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let show_statement = detail != statement && !statement.is_empty();
        sections
            .last_mut()
            .expect("a section was pushed")
            .rows
            .push(Row {
                id: id.to_string(),
                anchor: anchor(id),
                class: class(verdict),
                symbol: symbol(verdict),
                label,
                counts,
                detail,
                link,
                statement: statement.to_string(),
                show_statement,
            });
    }

    let (verdict, verdict_class) = overview::verdict(report);
    let baseline = overview::baseline_line(report);
    let accounts = match (&report.run.account, report.run.accounts.as_slice()) {
        (Some(a), _) => a.clone(),
        (None, []) => "unknown".to_string(),
        (None, many) => many.join(", "),
    };
    let policies = report
        .run
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let digest = if report.run.policy_sha256.len() == report.run.policies.len() {
                report.run.policy_sha256[i].clone()
            } else {
                String::new()
            };
            (p.clone(), digest)
        })
        .collect();
    let style_hash = crate::evidence::base64(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, STYLE.as_bytes()).as_ref(),
    );
    let page = Page {
        csp: format!(
            "default-src 'none'; style-src 'sha256-{style_hash}'; base-uri 'none'; form-action 'none'"
        ),
        style: STYLE,
        tool_version: &report.tool.version,
        verdict,
        verdict_class,
        baseline,
        exit_code: report.exit_code,
        summary: &report.summary,
        total: report.findings.len(),
        accounts,
        regions: if report.run.regions.is_empty() {
            "none".to_string()
        } else {
            report.run.regions.join(", ")
        },
        policies,
        started: report.run.started_at.to_string(),
        finished: report.run.finished_at.to_string(),
        sections,
        groups,
        folded,
        collection_errors: report.errors.iter().map(|e| {
            match &e.account {
                Some(a) => format!("{e} (account {a})"),
                None => e.to_string(),
            }
        }).collect(),
        warnings: report.warnings.clone(),
    };
    page.render()
        .expect("the report page renders: its values are plain strings")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOADS: [&str; 3] = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "'><svg onload=alert(1)>",
    ];

    fn hostile() -> Report {
        let mut r = super::super::tests::sample_report();
        for (i, f) in r.findings.iter_mut().enumerate() {
            let p = PAYLOADS[i % PAYLOADS.len()];
            f.resource.name = Some(format!("db{p}"));
            f.message = format!("{} {p}", f.message);
            f.remediation = format!("{} {p}", f.remediation);
            if let Some(w) = &mut f.waiver {
                w.reason = p.to_string();
            }
            for e in &mut f.evidence {
                e.observed = serde_json::json!({ "tags": { "Name": p } });
                e.expected = Some(p.to_string());
            }
        }
        r.errors[0].message = PAYLOADS[0].to_string();
        r.warnings.push(PAYLOADS[1].to_string());
        r
    }

    #[test]
    fn attacker_controlled_text_is_escaped_everywhere() {
        let page = render(&hostile());
        for p in PAYLOADS {
            assert!(!page.contains(p), "{p} unescaped");
        }
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "escaped as text"
        );
        // The handlers are text now: their quotes and brackets are escaped.
        for markup in ["<script", "<img", "<svg"] {
            assert!(!page.contains(markup), "{markup} in the page");
        }
    }

    #[test]
    fn the_page_is_self_contained_and_its_policy_admits_only_its_style() {
        let page = render(&super::super::tests::sample_report());
        for outside in [
            " src=",
            "href=\"http",
            "href=\"//",
            "url(",
            "@import",
            "<link",
            "<script",
        ] {
            assert!(!page.contains(outside), "{outside} in the page");
        }
        let style = &page[page.find("<style>").unwrap() + 7..page.find("</style>").unwrap()];
        let hash = crate::evidence::base64(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, style.as_bytes()).as_ref(),
        );
        assert!(
            page.contains(&format!(
                "content=\"default-src &#39;none&#39;; style-src &#39;sha256-{hash}&#39;;"
            )),
            "{}",
            &page[..600]
        );
    }

    #[test]
    fn every_part_of_the_audit_is_on_the_page() {
        let r = super::super::tests::sample_report();
        let page = render(&r);
        for part in [
            "id=\"checklist\"",
            "id=\"failures\"",
            "id=\"errors\"",
            "id=\"attestations\"",
            "id=\"waived\"",
            "id=\"passed\"",
            "id=\"skipped\"",
            "id=\"collection-errors\"",
            "id=\"warnings\"",
            "<strong>Exit 1: violations found.</strong>",
            "Policy</dt><dd><code>policies/lifetimecircle.toml</code> <span class=\"digest\">sha256 ",
        ] {
            assert!(page.contains(part), "{part}");
        }
        // A failing control links to its first failure in detail.
        let fail = r
            .findings
            .iter()
            .find(|f| f.status == Status::Fail)
            .unwrap();
        let control = &fail.controls[0];
        assert!(
            page.contains(&format!("<a href=\"#control-{control}-detail\">")),
            "{control}"
        );
        assert!(page.contains(&format!("<span id=\"control-{control}-detail\"></span>")));
        assert_eq!(
            page.matches("<article class=\"finding fail\"").count(),
            r.summary.fail
        );
    }

    #[test]
    fn exit_0_with_failures_is_not_shown_as_a_pass() {
        let mut r = super::super::tests::sample_report();
        for f in &mut r.findings {
            if f.status == Status::Fail {
                f.baseline = Some(BaselineState::Unchanged);
            }
        }
        r.exit_code = 0;
        let page = render(&r);
        assert!(
            page.contains("<p class=\"verdict known\""),
            "not styled as a pass"
        );
        assert!(
            page.contains(&format!(
                "Exit 0: no failure decides the exit code, but {} failures stand: all are in the baseline.",
                r.summary.fail
            )),
            "the failures are named"
        );
        assert!(page.contains(&format!(
            "Baseline: 0 new failures, {} already in the baseline",
            r.summary.fail
        )));
    }
}
