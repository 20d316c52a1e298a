//! Read-only by construction: the product's source names no mutating or secret-reading
//! AWS operation, and every operation it declares is a Describe, List or Get.

use std::path::Path;

const MUTATING_VERBS: &[&str] = &[
    "create",
    "delete",
    "put",
    "modify",
    "update",
    "attach",
    "detach",
    "authorize",
    "revoke",
    "run",
    "start",
    "stop",
    "terminate",
    "reboot",
    "restore",
    "tag",
    "untag",
    "register",
    "deregister",
    "set",
    "enable",
    "disable",
    "import",
    "request",
    "change",
    "associate",
    "disassociate",
    "copy",
    "promote",
    "reset",
    "rotate",
    "allocate",
    "release",
    "replace",
    "accept",
    "reject",
    "cancel",
    "purchase",
    "send",
    "publish",
    "invoke",
    "assume",
];

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
}

#[test]
fn only_the_collectors_touch_the_aws_sdk() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let collect = root.join("collect");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut outside = Vec::new();
    for (path, text) in files
        .iter()
        .filter(|(p, _)| !Path::new(p).starts_with(&collect))
    {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("aws_sdk_") || code.contains("aws_config") {
                outside.push(format!("{path}:{}: {line}", n + 1));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "AWS SDK use outside src/collect/:\n{}",
        outside.join("\n")
    );
}

#[test]
fn the_product_never_calls_a_mutating_or_secret_reading_operation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let collect = root.join("collect");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(files.len() > 10);
    let mut hits = Vec::new();
    for (path, text) in &files {
        let is_collector = Path::new(path).starts_with(&collect);
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("get_secret_value") || code.contains("GetSecretValue") {
                hits.push(format!("{path}:{}: {line}", n + 1));
            }
            if !is_collector {
                continue;
            }
            // `.verb_something(`: an SDK fluent-builder call.
            for (i, _) in code.match_indices('.') {
                let rest = &code[i + 1..];
                let ident: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let Some((verb, _)) = ident.split_once('_') else {
                    continue;
                };
                if MUTATING_VERBS.contains(&verb)
                    && rest[ident.len()..].starts_with('(')
                    && !ALLOWED.contains(&ident.as_str())
                {
                    hits.push(format!("{path}:{}: {line}", n + 1));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "mutating or secret-reading calls in src/:\n{}",
        hits.join("\n")
    );
}

/// Names in the collectors that look mutating but are not AWS operations.
const ALLOWED: &[&str] = &[
    // A request field setter of DescribeServices.
    "set_services",
    // std/time, not AWS.
    "replace_nanosecond",
    // A field of the DescribeDBInstances answer.
    "tag_list",
];

#[test]
fn every_declared_operation_is_a_read() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/collect"),
        &mut files,
    );
    let mut ops = Vec::new();
    for (path, text) in &files {
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("pub const ") {
                if let Some((_, value)) = rest.split_once("= \"") {
                    let op = value.trim_end_matches("\";");
                    let (_, name) = op
                        .split_once(':')
                        .unwrap_or_else(|| panic!("{path}: {op} is not service:Operation"));
                    ops.push(op.to_string());
                    assert!(
                        ["Describe", "List", "Get"]
                            .iter()
                            .any(|p| name.starts_with(p)),
                        "{path}: {op} is not a Describe/List/Get operation"
                    );
                }
            }
        }
    }
    assert!(ops.len() >= 15, "{ops:?}");
}

#[test]
fn the_readme_lists_every_rule_and_every_permission() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut missing = Vec::new();
    for rule in infraverify::rules::RULES {
        let m = rule.meta();
        let row = format!("| `{}` |", m.id);
        match readme.lines().find(|l| l.contains(&row)) {
            None => missing.push(format!("rule {} has no row in the controls table", m.id)),
            Some(line) => {
                for c in m.controls {
                    if !line.starts_with(&format!("| {c} |")) {
                        missing.push(format!(
                            "rule {}: row does not start with control {c}",
                            m.id
                        ));
                    }
                }
                if !line.contains(&format!("| {} |", m.severity)) {
                    missing.push(format!(
                        "rule {}: row does not say severity {}",
                        m.id, m.severity
                    ));
                }
            }
        }
    }
    let mut files = Vec::new();
    sources(&root.join("src/collect"), &mut files);
    for (_, text) in &files {
        for line in text.lines() {
            if let Some((_, value)) = line
                .trim()
                .strip_prefix("pub const ")
                .and_then(|r| r.split_once("= \""))
            {
                let op = value.trim_end_matches("\";");
                if !readme.split_whitespace().any(|w| w == op) {
                    missing.push(format!("operation {op} is not in the README's permissions"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
