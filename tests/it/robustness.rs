//! Property tests of the two inputs a user hands the tool: policy files and snapshots.
//! Thousands of mutated inputs, seeded and repeatable; the properties: nothing panics, a
//! rejected policy gets located diagnostics, and a snapshot that loads evaluates and
//! renders in every format. No extra crate: a small deterministic generator is enough.

use infraverify::engine;
use infraverify::inventory::Snapshot;
use infraverify::policy::{self, PolicySource};
use infraverify::report::{self, Format, Report};

const EXAMPLE: &str = include_str!("../../examples/lifetimecircle/snapshot.json");

/// xorshift64*: deterministic, so a failure names the case that reproduces it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Fragments that stress a TOML reader: structure, types, quoting, unicode, size.
const TOML_BITS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "\"",
    "'",
    "\n",
    "{",
    "}",
    ",",
    "#",
    "\\",
    "[rules]",
    "[policy]",
    "[[waivers]]",
    "[[attestations]]",
    "[rules.rds-multi-az-disabled]",
    "[rules.tls-endpoint-invalid]",
    "names = [\"app\"]",
    "min-days = -1",
    "min-days = 1e309",
    "regions = 7",
    "domain = \"\"",
    "domain = \"ex ample\"",
    "expires = 2026-13-45",
    "port = 70000",
    "ports = [\"80\"]",
    "severity = \"urgent\"",
    "é",
    "\u{0}",
    "\u{feff}",
    "🦀",
    "\r\n",
    "\t",
    "x = { y = [1, [2, [3]]] }",
    "a.b.c = 1",
    "\"\"\"",
    "0x10",
    "inf",
    "nan",
    "true",
    "9999999999999999999999",
];

fn mutate_text(rng: &mut Rng, text: &str) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(s.len() + 1);
        match rng.below(5) {
            0 => {
                let end = (at + rng.below(40)).min(s.len());
                s.drain(at..end);
            }
            1 => {
                let bit: Vec<char> = rng.pick(TOML_BITS).chars().collect();
                s.splice(at..at, bit);
            }
            2 => {
                let end = (at + rng.below(200)).min(s.len());
                let copy: Vec<char> = s[at..end].to_vec();
                let to = rng.below(s.len() + 1);
                s.splice(to..to, copy);
            }
            3 => s.truncate(at),
            _ => {
                if at < s.len() {
                    s[at] = char::from_u32(rng.below(0x3000) as u32).unwrap_or('?');
                }
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn mutated_policies_are_accepted_or_refused_with_located_diagnostics() {
    let base = policy::DEFAULT_POLICY;
    let snap = Snapshot::from_json("example.json", EXAMPLE).unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut refused = 0;
    for case in 0..1500 {
        let text = mutate_text(&mut rng, base);
        let lines = text.lines().count() as u32 + 1;
        let src = PolicySource {
            name: "fuzz.toml".into(),
            text: text.clone(),
        };
        match policy::load(&[src]) {
            Ok(p) => {
                // An accepted policy must run: plan its probes and evaluate a snapshot.
                let _ = engine::probe_plan(&p);
                let _ = engine::evaluate(&p, &snap);
            }
            Err(d) => {
                refused += 1;
                assert!(!d.0.is_empty(), "case {case}: refused without a diagnostic");
                for diag in &d.0 {
                    assert!(
                        !diag.message.trim().is_empty(),
                        "case {case}: empty message"
                    );
                    assert!(
                        diag.line >= 1 && diag.line <= lines && diag.column >= 1,
                        "case {case}: {}:{} is outside the file\n{text}",
                        diag.line,
                        diag.column
                    );
                }
                // Rendering the diagnostics (what the user sees, exit 2) must not panic.
                let _ = d.to_string();
            }
        }
    }
    assert!(
        refused > 500,
        "the mutations should break most policies ({refused})"
    );
}

/// Every node of a JSON tree, as a path of keys and indexes.
fn paths(v: &serde_json::Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(here.clone());
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                here.push(k.clone());
                paths(child, here, out);
                here.pop();
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                here.push(i.to_string());
                paths(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut serde_json::Value, path: &[String]) -> &'a mut serde_json::Value {
    path.iter().fold(v, |node, step| match node {
        serde_json::Value::Object(m) => m.get_mut(step).expect("path from this tree"),
        serde_json::Value::Array(a) => &mut a[step.parse::<usize>().expect("index")],
        _ => unreachable!("paths end at leaves"),
    })
}

/// Damages a few nodes of a snapshot, mostly keeping their shape so that many mutants
/// still load and reach the rules: odd strings and numbers, emptied lists, an observed
/// value turned absent or unavailable, a key removed or a value of another type.
fn mutate_json(rng: &mut Rng, v: &mut serde_json::Value) {
    use serde_json::Value;
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    let strings = [
        "",
        "not-a-timestamp",
        "2026-02-30T25:61:00Z",
        "é🦀",
        "0.0.0.0/0",
        "*",
        "::/0",
    ];
    for _ in 0..=rng.below(4) {
        let path = rng.pick(&all).clone();
        let node = at(v, &path);
        *node = match node {
            Value::String(_) => Value::from(*rng.pick(&strings)),
            Value::Number(_) => rng
                .pick(&[
                    Value::from(-1),
                    Value::from(0),
                    Value::from(65535),
                    Value::from(1e300),
                ])
                .clone(),
            Value::Bool(b) => Value::Bool(!*b),
            Value::Array(items) => match rng.below(3) {
                0 => Value::Array(vec![]),
                1 => Value::Array(items.iter().chain(items.iter()).cloned().collect()),
                _ => Value::Null,
            },
            Value::Object(m) if m.contains_key("status") => match rng.below(3) {
                0 => serde_json::json!({"status": "absent"}),
                1 => serde_json::json!({"status": "unavailable", "error": {
                    "source": "fuzz:Op", "region": null, "kind": "throttled", "message": "m"}}),
                _ => Value::from(7),
            },
            Value::Object(m) => {
                let mut m = m.clone();
                if let Some(k) = m.keys().nth(rng.below(m.len())).cloned() {
                    m.remove(&k);
                }
                Value::Object(m)
            }
            Value::Null => Value::from(*rng.pick(&strings)),
        };
        // Paths below a replaced node are gone: start over from the new tree.
        all.clear();
        paths(v, &mut Vec::new(), &mut all);
    }
}

#[test]
fn mutated_snapshots_load_or_are_refused_and_what_loads_evaluates_and_renders() {
    let base: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
    let policy = policy::load(&[PolicySource::embedded_default()]).unwrap();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut loaded = 0;
    for case in 0..300 {
        let text = if case % 4 == 0 {
            // Byte-level damage: most of it is not JSON any more.
            let bytes = EXAMPLE.as_bytes();
            let cut = rng.below(bytes.len());
            String::from_utf8_lossy(&bytes[..cut]).into_owned()
        } else {
            let mut v = base.clone();
            mutate_json(&mut rng, &mut v);
            v.to_string()
        };
        match Snapshot::from_json("fuzz.json", &text) {
            Err(e) => assert!(e.to_string().contains("fuzz.json"), "case {case}: {e}"),
            Ok(snap) => {
                loaded += 1;
                let eval = engine::evaluate(&policy, &snap);
                let outcome = engine::outcome(
                    &eval.findings,
                    infraverify::finding::Severity::Low,
                    snap.errors.len(),
                );
                let r = Report::new(&snap, &policy, eval.findings, outcome);
                for f in [
                    Format::Json,
                    Format::Junit,
                    Format::Sarif,
                    Format::Markdown,
                    Format::Html,
                ] {
                    assert!(r.render(f).is_some());
                }
                for details in [
                    report::table::Details::Failures,
                    report::table::Details::All,
                ] {
                    let _ = report::table::render(
                        &r,
                        report::table::Style {
                            color: false,
                            width: None,
                            details,
                        },
                    );
                }
                let _ = report::handoff::render(&snap, &r, policy.name.as_deref());
            }
        }
    }
    assert!(
        loaded > 50,
        "too few mutated snapshots loaded to exercise the rules ({loaded})"
    );
}
