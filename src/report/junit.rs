//! `report.junit.xml`: one `<testsuite>` per checklist section, one `<testcase>` per
//! (rule, resource). fail is `<failure>`, error is `<error>`, skipped and manual are
//! `<skipped>`, waived passes with the waiver in `<system-out>` and named as a suite
//! property. Counts are kept at both levels. Valid against the Surefire/Jenkins
//! `junit-10.xsd` (which allows properties on suites only).
//!
//! Written by hand: the junit-report crate cannot emit suite properties, a `skipped`
//! count or root counts, and stamps the current time, which would break reproducibility;
//! quick-junit (0.7) writes a `skipped` count on the root `<testsuites>`, which the
//! Jenkins `junit-10.xsd` refuses, and older versions no `skipped` count on suites.

use std::fmt::Write;

use super::Report;
use crate::checklist::Section;
use crate::finding::{Finding, Status};

/// Escapes text for XML attribute values and character data.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => {}
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Multi-line character data: newlines kept as newlines.
fn text(s: &str) -> String {
    escape(s).replace("&#10;", "\n")
}

fn section(f: &Finding) -> Option<Section> {
    f.controls
        .first()
        .and_then(|c| crate::checklist::section_of(c))
}

/// The body of a failure or error: evidence, remediation, policy line.
fn details(f: &Finding) -> String {
    let mut s = String::new();
    for e in &f.evidence {
        let _ = writeln!(
            s,
            "observed: {}\nexpected: {}\nsource: {}",
            e.observed,
            e.expected.as_deref().unwrap_or("-"),
            e.source
        );
    }
    if !f.remediation.is_empty() {
        let _ = writeln!(s, "remediation: {}", f.remediation);
    }
    if let Some(p) = &f.policy {
        let _ = writeln!(s, "policy: {}:{}", p.file, p.line);
    }
    s
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn add(&mut self, s: Status) {
        self.tests += 1;
        match s {
            Status::Fail => self.failures += 1,
            Status::Error => self.errors += 1,
            Status::Skipped | Status::Manual => self.skipped += 1,
            Status::Pass | Status::Waived => {}
        }
    }
}

/// A test case's name, unique with its classname across the whole report: consumers key
/// cases by both (GitLab drops a repeat), and one report can span accounts and regions, so
/// the name carries the resource, its region and its account (`lc-exec in eu-central-1,
/// account 111111111111`); a repeat that remains gets a number.
fn unique_name(
    seen: &mut std::collections::BTreeSet<(String, String)>,
    classname: &str,
    f: &Finding,
) -> String {
    let base = match &f.resource.account {
        Some(a) => format!("{}, account {a}", f.where_()),
        None => f.where_(),
    };
    let mut name = base.clone();
    let mut n = 1;
    while !seen.insert((classname.to_string(), name.clone())) {
        n += 1;
        name = format!("{base} ({n})");
    }
    name
}

pub fn render(report: &Report) -> String {
    let mut sections: Vec<Option<Section>> = report.findings.iter().map(section).collect();
    sections.sort();
    sections.dedup();

    let mut total = Counts::default();
    for f in &report.findings {
        total.add(f.status);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"infraverify\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"0\">",
        total.tests, total.failures, total.errors
    );
    let mut seen = std::collections::BTreeSet::new();
    for (i, sec) in sections.iter().enumerate() {
        let findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| section(f) == *sec)
            .collect();
        let mut c = Counts::default();
        for f in &findings {
            c.add(f.status);
        }
        let name = sec.map_or("Other", Section::title);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" id=\"{i}\" package=\"infraverify\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\" timestamp=\"{}\">",
            escape(name),
            c.tests,
            c.failures,
            c.errors,
            c.skipped,
            escape(&report.run.finished_at.to_string())
        );
        out.push_str("    <properties>\n");
        let mut props = vec![
            (
                "account".to_string(),
                report
                    .run
                    .account
                    .clone()
                    .unwrap_or_else(|| "unknown".into()),
            ),
            ("regions".to_string(), report.run.regions.join(",")),
            ("policies".to_string(), report.run.policies.join(",")),
        ];
        for f in findings.iter().filter(|f| f.status == Status::Waived) {
            if let Some(w) = &f.waiver {
                props.push((
                    format!("waiver {} {}", f.rule, f.resource.id),
                    format!(
                        "{} (owner {}, expires {}, {}:{})",
                        w.reason, w.owner, w.expires, w.policy.file, w.policy.line
                    ),
                ));
            }
        }
        for (k, v) in props {
            let _ = writeln!(
                out,
                "      <property name=\"{}\" value=\"{}\"/>",
                escape(&k),
                escape(&v)
            );
        }
        out.push_str("    </properties>\n");
        for f in findings {
            let classname = format!("{}.{}", f.controls.join("+"), f.rule);
            let name = unique_name(&mut seen, &classname, f);
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
                escape(&name),
                escape(&classname)
            );
            match f.status {
                Status::Pass => out.push_str("/>\n"),
                Status::Fail => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                        f.severity,
                        escape(&f.message),
                        text(&details(f))
                    );
                }
                Status::Error => {
                    let _ = writeln!(
                        out,
                        ">\n      <error type=\"error\" message=\"{}\">{}</error>\n    </testcase>",
                        escape(&f.message),
                        text(&details(f))
                    );
                }
                Status::Skipped | Status::Manual => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped type=\"{}\" message=\"{}\"/>\n    </testcase>",
                        f.status,
                        escape(&f.message)
                    );
                }
                Status::Waived => {
                    let note = match &f.waiver {
                        Some(w) => format!(
                            "Waived until {} by {}: {}\n{}",
                            w.expires, w.owner, w.reason, f.message
                        ),
                        None => format!("Waived: {}", f.message),
                    };
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>{}</system-out>\n    </testcase>",
                        text(&note)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{1}y\nz"), "x\u{FFFD}y&#10;z");
    }

    #[test]
    fn case_names_stay_unique_across_accounts_and_regions() {
        let mut report = super::super::tests::sample_report();
        // The same findings from a second account, and one finding twice over.
        let twin: Vec<Finding> = report
            .findings
            .iter()
            .cloned()
            .map(|mut f| {
                f.resource.account = Some("210987654321".into());
                f
            })
            .collect();
        report.findings.extend(twin);
        let again = report.findings[0].clone();
        report.findings.push(again);
        let xml = render(&report);
        let mut keys = std::collections::BTreeSet::new();
        for line in xml
            .lines()
            .filter(|l| l.trim_start().starts_with("<testcase "))
        {
            let attr = |k: &str| {
                let t = line.split(&format!("{k}=\"")).nth(1).unwrap();
                t[..t.find('"').unwrap()].to_string()
            };
            assert!(
                !attr("name").is_empty() && !attr("classname").is_empty(),
                "{line}"
            );
            assert!(
                keys.insert((attr("classname"), attr("name"))),
                "repeated: {line}"
            );
        }
        assert_eq!(keys.len(), report.findings.len());
        assert!(xml.contains(", account 210987654321\""), "{xml}");
    }

    #[test]
    fn counts_agree_at_both_levels() {
        let report = super::super::tests::sample_report();
        let xml = render(&report);
        let s = &report.summary;
        let root = format!(
            "<testsuites name=\"infraverify\" tests=\"{}\" failures=\"{}\" errors=\"{}\"",
            report.findings.len(),
            s.fail,
            s.error
        );
        assert!(xml.contains(&root), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), report.findings.len());
        assert_eq!(xml.matches("<failure ").count(), s.fail);
        assert_eq!(xml.matches("<error ").count(), s.error);
        assert_eq!(xml.matches("<skipped ").count(), s.skipped + s.manual);
        let suites: usize = xml
            .lines()
            .filter(|l| l.trim_start().starts_with("<testsuite "))
            .map(|l| {
                let t = l.split("tests=\"").nth(1).unwrap();
                t[..t.find('"').unwrap()].parse::<usize>().unwrap()
            })
            .sum();
        assert_eq!(suites, report.findings.len());
    }
}
