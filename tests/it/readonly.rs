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

/// The AWS operations the collectors declare: `pub const NAME: &str = "service:Operation";`.
fn declared_operations(files: &[(String, String)]) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, text) in files {
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("pub const ") else {
                continue;
            };
            let Some((_, value)) = rest.split_once("= \"") else {
                continue;
            };
            let op = value.trim_end_matches("\";");
            if let Some((service, name)) = op.split_once(':') {
                if !service.is_empty()
                    && service
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && name.starts_with(|c: char| c.is_ascii_uppercase())
                {
                    ops.push((path.clone(), op.to_string()));
                }
            }
        }
    }
    ops
}

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
            // The SDK method anywhere; the operation's name in the collectors (rules name it
            // as an IAM permission they look for in policies, which is fine).
            if code.contains("get_secret_value")
                || (is_collector && code.contains("GetSecretValue"))
            {
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
    // A field of the GetAccountAuthorizationDetails answer (the trust policy).
    "assume_role_policy_document",
    // Paging fields of a ListResourceRecordSets request, and a field of its answer.
    "start_record_name",
    "start_record_type",
    "set_start_record_identifier",
    "set_identifier",
    // The key-type and key-pair-origin filters of a ListCertificates request.
    "set_key_types",
    "set_certificate_key_pair_origins",
    // A field of a target-tracking policy in the DescribeScalingPolicies answer.
    "disable_scale_in",
    // The policy names of a DescribeSSLPolicies request.
    "set_names",
];

#[test]
fn every_declared_operation_is_a_read() {
    // The operations the snapshot's parts name, and every action a collector may call.
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/inventory"),
        &mut files,
    );
    let mut ops = declared_operations(&files);
    for s in infraverify::inventory::Service::ALL {
        for a in infraverify::collect::wiring::wiring(s).actions {
            ops.push((format!("the wiring table's row for {s:?}"), a.to_string()));
        }
    }
    for (path, op) in &ops {
        let name = op.split_once(':').map(|(_, n)| n).unwrap_or_default();
        assert!(
            ["Describe", "List", "Get"]
                .iter()
                .any(|p| name.starts_with(p)),
            "{path}: {op} is not a Describe/List/Get operation"
        );
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
                // The first cell lists the rule's controls: `| DNS-2, DNS-3 |`.
                let first = line.split('|').nth(1).unwrap_or("").trim();
                let listed: Vec<&str> = first.split(", ").collect();
                if listed != m.controls {
                    missing.push(format!(
                        "rule {}: row starts with {first:?}, not its controls {:?}",
                        m.id, m.controls
                    ));
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
    for op in infraverify::inventory::Service::ALL
        .into_iter()
        .flat_map(|s| infraverify::collect::wiring::wiring(s).actions.iter())
    {
        if !readme.split_whitespace().any(|w| w == *op) {
            missing.push(format!("operation {op} is not in the README's permissions"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
