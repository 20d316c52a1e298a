//! Team rules: a security lead's own controls, written in the policy as CEL expressions
//! (`[[custom-rules]]`), with the guarantees of a built-in rule.
//!
//! A team rule judges every resource of one snapshot kind ([`KINDS`]): `resource` is the
//! item as the snapshot holds it (each `Observed` field unwrapped to its value, `null` when
//! AWS said there is none), `region` its region (`null` for IAM and Route 53), `snapshot`
//! the whole snapshot the same way (`snapshot.regions[region]` for the resource's region's
//! other resources), `policy.domain` the
//! policy's domain and `scan.time` (RFC 3339) and `scan.unix` (seconds) when collection
//! started. `where` narrows the scope, `check` is true when the resource complies.
//!
//! Never a false pass: before evaluating, the fields an expression can reach are read off
//! its syntax tree (`resource.a.b`, `snapshot.regions["r"].ec2`); if any of them, or
//! anything below or above one of them, could not be read from AWS, the finding is `error`
//! with the collection error, whatever the expression would have said. A field name the
//! snapshot's schema does not have is refused by `check-policy`, with a suggestion.
//!
//! Bounded: an expression is at most [`MAX_SOURCE`] characters and [`MAX_NODES`] syntax
//! nodes, with comprehensions (`all`, `exists`, `map`, `filter`) nested at most
//! [`MAX_NESTING`] deep; CEL has no loops, recursion or I/O, so an evaluation takes at most
//! polynomial time in the snapshot's size.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use cel::common::ast::{EntryExpr, Expr as Ast, LiteralValue};
use cel::{Context, Program, Value};
use serde_json::Value as Json;

use crate::finding::{Evidence, Finding, FindingBuilder, PolicyRef, ResourceRef, Severity, Status};
use crate::input::diag::{self, Diagnostic};
use crate::input::reader::{TableReader, TomlFile};
use crate::inventory::{Service, Snapshot};

/// The longest expression, in characters.
pub const MAX_SOURCE: usize = 4096;
/// The most syntax nodes an expression may have (after macro expansion).
pub const MAX_NODES: usize = 2000;
/// How deep comprehensions may nest.
pub const MAX_NESTING: usize = 2;
/// The deepest an expression's syntax may nest (brackets, or operators chained).
pub const MAX_DEPTH: usize = 32;

/// A kind of resource a team rule can judge: where its items are in the snapshot.
#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    /// `regions.<region>.<section>.<field>`, or `<section>.<field>` when `global`.
    pub section: &'static str,
    pub field: &'static str,
    pub global: bool,
    pub service: Service,
    /// In words, for messages: "DB instance".
    pub noun: &'static str,
}

const fn kind_at(
    name: &'static str,
    (section, field): (&'static str, &'static str),
    global: bool,
    service: Service,
    noun: &'static str,
) -> Kind {
    Kind {
        name,
        section,
        field,
        global,
        service,
        noun,
    }
}

const fn regional(
    name: &'static str,
    section: &'static str,
    field: &'static str,
    service: Service,
    noun: &'static str,
) -> Kind {
    kind_at(name, (section, field), false, service, noun)
}

const fn global(
    name: &'static str,
    section: &'static str,
    field: &'static str,
    service: Service,
    noun: &'static str,
) -> Kind {
    kind_at(name, (section, field), true, service, noun)
}

/// Every kind a team rule can name, with the snapshot field that holds its items (a map
/// from id to item).
pub const KINDS: &[Kind] = &[
    regional("ec2-vpc", "ec2", "vpcs", Service::Ec2, "VPC"),
    regional("ec2-subnet", "ec2", "subnets", Service::Ec2, "subnet"),
    regional(
        "ec2-route-table",
        "ec2",
        "route_tables",
        Service::Ec2,
        "route table",
    ),
    regional(
        "ec2-internet-gateway",
        "ec2",
        "internet_gateways",
        Service::Ec2,
        "internet gateway",
    ),
    regional(
        "ec2-nat-gateway",
        "ec2",
        "nat_gateways",
        Service::Ec2,
        "NAT gateway",
    ),
    regional(
        "ec2-security-group",
        "ec2",
        "security_groups",
        Service::Ec2,
        "security group",
    ),
    regional(
        "elbv2-load-balancer",
        "elbv2",
        "load_balancers",
        Service::Elbv2,
        "load balancer",
    ),
    regional(
        "ecs-cluster",
        "ecs",
        "clusters",
        Service::Ecs,
        "ECS cluster",
    ),
    regional(
        "ecs-task-definition",
        "ecs",
        "task_definitions",
        Service::Ecs,
        "task definition",
    ),
    regional(
        "rds-db-instance",
        "rds",
        "instances",
        Service::Rds,
        "DB instance",
    ),
    regional(
        "rds-db-cluster",
        "rds",
        "clusters",
        Service::Rds,
        "DB cluster",
    ),
    regional(
        "rds-parameter-group",
        "rds",
        "parameter_groups",
        Service::Rds,
        "DB parameter group",
    ),
    regional(
        "rds-db-snapshot",
        "rds",
        "snapshots",
        Service::Rds,
        "DB snapshot",
    ),
    regional(
        "ecr-repository",
        "ecr",
        "repositories",
        Service::Ecr,
        "ECR repository",
    ),
    regional(
        "secretsmanager-secret",
        "secrets",
        "secrets",
        Service::Secrets,
        "secret",
    ),
    regional(
        "scaling-target",
        "scaling",
        "targets",
        Service::Scaling,
        "scalable target",
    ),
    regional(
        "logs-log-group",
        "logs",
        "log_groups",
        Service::Logs,
        "log group",
    ),
    regional(
        "acm-certificate",
        "acm",
        "certificates",
        Service::Acm,
        "certificate",
    ),
    global("iam-role", "iam", "roles", Service::Iam, "IAM role"),
    global("iam-user", "iam", "users", Service::Iam, "IAM user"),
    global("iam-group", "iam", "groups", Service::Iam, "IAM group"),
    global("iam-policy", "iam", "policies", Service::Iam, "IAM policy"),
    global(
        "route53-hosted-zone",
        "route53",
        "zones",
        Service::Route53,
        "hosted zone",
    ),
];

pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Stands for the judged resource's region in a path (`snapshot.regions[region]`).
const REGION: &str = "\u{0}region";
/// Stands for an index that is not a constant (`policies[p.arn]`, `listeners[0]`) and for
/// a comprehension's element: any key or element. What could not be read anywhere there
/// counts, so a path through it is judged on all of them.
const ANY: &str = "\u{0}any";

/// A path as a rule author wrote it: `snapshot.regions[region].rds`, `resource.listeners[…]`.
fn show_path(p: &[String]) -> String {
    let mut out = String::new();
    for (i, c) in p.iter().enumerate() {
        match c.as_str() {
            REGION => out.push_str("[region]"),
            ANY => out.push_str("[…]"),
            _ if i == 0 => out.push_str(c),
            _ => {
                out.push('.');
                out.push_str(c);
            }
        }
    }
    out
}

/// `p` up to its first [`ANY`]: the part a finding's evidence can show.
fn fixed(p: &[String]) -> &[String] {
    &p[..p.iter().position(|c| c == ANY).unwrap_or(p.len())]
}

/// The functions and macros of CEL's standard environment as built here (no `timestamp`,
/// `duration` or string extensions): what a misspelt function is compared with.
const FUNCTIONS: &[&str] = &[
    "all",
    "bytes",
    "contains",
    "double",
    "dyn",
    "endsWith",
    "exists",
    "exists_one",
    "filter",
    "has",
    "int",
    "map",
    "matches",
    "size",
    "startsWith",
    "string",
    "type",
    "uint",
];

/// The variables an expression may read.
const VARIABLES: [&str; 5] = ["resource", "region", "snapshot", "policy", "scan"];

/// A field path an expression reaches: its root variable and the fields below it. A
/// component that is not a constant (an index by a variable) ends the path.
type Path = Vec<String>;

/// A compiled expression with what it reaches.
pub struct Expr {
    pub source: String,
    program: Program,
    /// The `resource.…` and `snapshot.…` paths (root included) it can read.
    paths: Vec<Path>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expr")
            .field("source", &self.source)
            .finish()
    }
}

/// A message with `{{ expression }}` parts.
#[derive(Debug)]
pub enum Part {
    Text(String),
    Expr(Expr),
}

/// A team rule, as the policy declares it.
#[derive(Debug)]
pub struct CustomRule {
    pub id: String,
    pub controls: Vec<String>,
    pub severity: Severity,
    pub title: String,
    pub kind: &'static Kind,
    pub scope: Option<Expr>,
    pub check: Expr,
    pub message: Vec<Part>,
    pub remediation: String,
    pub origin: PolicyRef,
}

impl CustomRule {
    /// Every expression of the rule.
    fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.scope
            .iter()
            .chain([&self.check])
            .chain(self.message.iter().filter_map(|p| match p {
                Part::Expr(e) => Some(e),
                Part::Text(_) => None,
            }))
    }

    /// The AWS services the rule reads: its kind's, and those of every part of the
    /// snapshot its expressions reach (all of them when a path stops above a service).
    pub fn services(&self) -> Vec<Service> {
        let mut out = vec![self.kind.service];
        for p in self
            .exprs()
            .flat_map(|e| e.paths.iter())
            .filter(|p| p[0] == "snapshot")
        {
            let section = match p.get(1).map(String::as_str) {
                Some("regions") => p.get(3),
                Some("iam" | "route53") => p.get(1),
                // The collection's metadata, errors, probes: no service of their own.
                Some(_) => continue,
                None => None,
            };
            let service = section.and_then(|s| {
                KINDS
                    .iter()
                    .find(|k| k.section == s.as_str())
                    .map(|k| k.service)
            });
            match service {
                Some(s) => out.push(s),
                None => out.extend(Service::ALL),
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The page `explain` prints.
    pub fn page(&self) -> String {
        let mut out = format!(
            "# {}\n\nA team rule, from {}:{}.\n\n- Controls: {}\n- Severity: {}\n- Default scope: every {} (`{}`){}\n- Reads: {}\n\n## What it checks\n\n{}\n\n`check = {}`\n",
            self.id,
            self.origin.file,
            self.origin.line,
            self.controls.join(", "),
            self.severity,
            self.kind.noun,
            self.kind.name,
            self.scope
                .as_ref()
                .map(|w| format!(" where `{}`", w.source))
                .unwrap_or_default(),
            self.services()
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", "),
            self.title,
            self.check.source,
        );
        if !self.remediation.is_empty() {
            out.push_str(&format!("\n## Remediation\n\n{}\n", self.remediation));
        }
        out
    }
}

/// Rule ids name a hazard in kebab-case, as the built-in ones do.
fn kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Reads one `[[custom-rules]]` table; every problem is a located diagnostic.
pub fn read(src: &TomlFile<'_>, t: &toml::de::DeTable<'_>, line: u32) -> Option<CustomRule> {
    let mut r = TableReader::new(src, t, "[[custom-rules]]");
    let here = |key: &str, r: &TableReader<'_, '_>| PolicyRef {
        file: src.file.to_string(),
        line: r.line_of(key).unwrap_or(line),
    };
    let missing = |key: &str| Diagnostic {
        file: src.file.to_string(),
        line,
        column: 1,
        message: format!("a custom rule needs `{key}`"),
        snippet: None,
        help: None,
    };
    let id: Option<String> = r.optional("id");
    if let (Some(id), Some(v)) = (&id, t.get("id")) {
        if !kebab(id) {
            src.push(src.error(
                v.span(),
                format!("custom rule id `{id}` must be kebab-case (`rds-owner-tag-missing`)"),
            ));
        } else if super::find(id).is_some() {
            src.push(src.error(
                v.span(),
                format!("`{id}` is a built-in rule; give the team rule its own id"),
            ));
        }
    }
    let controls: Option<Vec<String>> = r.optional("controls");
    if let (Some(c), Some(v)) = (&controls, t.get("controls")) {
        if c.is_empty() || c.iter().any(|c| c.trim().is_empty()) {
            src.push(src.error(v.span(), "`controls` must name at least one control id"));
        }
    }
    let severity: Option<Severity> = r.optional("severity");
    let title: Option<String> = r.optional("title");
    let kind_name: Option<String> = r.optional("resource");
    let kind = match (&kind_name, t.get("resource")) {
        (Some(k), Some(v)) => match kind(k) {
            Some(kind) => Some(kind),
            None => {
                let help = diag::closest(k, KINDS.iter().map(|k| k.name))
                    .map(|c| format!("did you mean `{c}`?"))
                    .unwrap_or_else(|| {
                        format!(
                            "the kinds are {}",
                            KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
                        )
                    });
                src.push(
                    src.error(v.span(), format!("unknown resource kind `{k}`"))
                        .with_help(Some(help)),
                );
                None
            }
        },
        _ => None,
    };
    let compile = |key: &'static str, r: &mut TableReader<'_, '_>| -> Option<Expr> {
        let text: String = r.optional(key)?;
        let v = t.get(key)?;
        compile_at(src, v, &text, 0, kind)
    };
    let scope = compile("where", &mut r);
    let check = compile("check", &mut r);
    let message_text: Option<String> = r.optional("message");
    let message = match (&message_text, t.get("message")) {
        (Some(m), Some(v)) => template(src, v, m, kind),
        _ => None,
    };
    let remediation: String = r.get("remediation", String::new());
    let origin = here("id", &r);
    r.finish();
    for (key, present) in [
        ("id", id.is_some()),
        ("controls", controls.is_some()),
        ("severity", severity.is_some()),
        ("title", title.is_some()),
        ("resource", kind_name.is_some()),
        ("check", t.get("check").is_some()),
        ("message", message_text.is_some()),
    ] {
        if !present {
            src.push(missing(key));
        }
    }
    Some(CustomRule {
        id: id.filter(|i| kebab(i) && super::find(i).is_none())?,
        controls: controls.filter(|c| !c.is_empty())?,
        severity: severity?,
        title: title?,
        kind: kind?,
        scope: match (t.get("where"), scope) {
            (Some(_), None) => return None,
            (_, s) => s,
        },
        check: check?,
        message: message?,
        remediation,
        origin: PolicyRef {
            file: origin.file,
            line,
        },
    })
}

/// `text` as it stands in the file at `v`, or `None` when escapes or a multi-line form
/// make its characters differ from the file's.
fn verbatim_start(
    src: &TomlFile<'_>,
    v: &crate::input::reader::Value<'_>,
    text: &str,
) -> Option<usize> {
    let raw = src.text.get(v.span())?;
    for quote in ["'''", "\"\"\"", "'", "\""] {
        if let Some(inner) = raw.strip_prefix(quote).and_then(|r| r.strip_suffix(quote)) {
            if inner == text {
                return Some(v.span().start + quote.len());
            }
        }
    }
    None
}

/// A diagnostic at `offset` characters into `text` (the value of `v`), at that very column
/// where the file holds the text verbatim, else at the value.
fn error_in(
    src: &TomlFile<'_>,
    v: &crate::input::reader::Value<'_>,
    text: &str,
    offset: usize,
    len: usize,
    message: String,
) -> Diagnostic {
    match verbatim_start(src, v, text) {
        Some(start) => {
            let byte = text
                .char_indices()
                .nth(offset)
                .map(|(i, _)| i)
                .unwrap_or(text.len());
            let end = text[byte..]
                .char_indices()
                .nth(len.max(1))
                .map(|(i, _)| byte + i)
                .unwrap_or(text.len());
            src.error(
                start + byte..start + end.max(byte + 1).min(text.len().max(byte + 1)),
                message,
            )
        }
        None => src.error(v.span(), message),
    }
}

/// Compiles `text` (which starts `at` characters into the value `v`), checks its size and
/// the fields it reaches against the kind's schema.
fn compile_at(
    src: &TomlFile<'_>,
    v: &crate::input::reader::Value<'_>,
    text: &str,
    at: usize,
    kind: Option<&'static Kind>,
) -> Option<Expr> {
    let whole = src.text.get(v.span()).map(|_| ()).and(Some(()));
    let _ = whole;
    let value_text = value_text(src, v);
    let here = |offset: usize, len: usize, message: String| {
        error_in(src, v, &value_text, at + offset, len, message)
    };
    if text.chars().count() > MAX_SOURCE {
        src.push(here(
            0,
            1,
            format!("an expression may be at most {MAX_SOURCE} characters"),
        ));
        return None;
    }
    // The parser and the evaluator recurse: deep nesting is refused before either sees it.
    let (mut depth, mut deepest, mut quote) = (0usize, 0usize, None);
    for c in text.chars() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_DEPTH {
        src.push(here(
            0,
            1,
            format!("the expression nests brackets {deepest} deep; at most {MAX_DEPTH}"),
        ));
        return None;
    }
    let program = match Program::compile(text) {
        Ok(p) => p,
        Err(errors) => {
            for e in errors.errors.iter().take(3) {
                // CEL's positions are 1-based.
                let (line, col) = (e.pos.0.max(1) as usize, e.pos.1.max(1) as usize - 1);
                let offset = text
                    .split_inclusive('\n')
                    .take(line - 1)
                    .map(|l| l.chars().count())
                    .sum::<usize>()
                    + col;
                src.push(here(offset, 1, format!("invalid CEL: {}", e.msg)));
            }
            return None;
        }
    };
    let ast = program.expression();
    let (nodes, nesting) = size(&ast.expr, 0);
    let deep = depth_of(&ast.expr);
    if nodes > MAX_NODES || nesting > MAX_NESTING || deep > MAX_DEPTH {
        src.push(here(
            0,
            1,
            format!(
                "the expression is too large to bound: at most {MAX_NODES} nodes, {MAX_DEPTH} deep, and comprehensions nested {MAX_NESTING} deep"
            ),
        ));
        return None;
    }
    let mut paths = Vec::new();
    reached(&ast.expr, &Vec::new(), &mut paths);
    let mut ok = true;
    for p in &paths {
        if !matches!(p[0].as_str(), "resource" | "snapshot" | "policy" | "scan") {
            continue;
        }
        if let Err(e) = check_path(p, kind) {
            ok = false;
            let needle = p.last().map(String::as_str).unwrap_or("");
            let offset = text
                .find(&e.field)
                .or_else(|| text.find(needle))
                .unwrap_or(0);
            let offset = text[..offset].chars().count();
            src.push(
                here(offset, e.field.chars().count(), e.message)
                    .with_help(e.suggestion.map(|s| format!("did you mean `{s}`?"))),
            );
        }
    }
    // A name the expression uses that does not exist, at its first use.
    let unknown_name = |name: &str, what: &str, help: Option<String>| {
        let offset = text
            .find(name)
            .map(|o| text[..o].chars().count())
            .unwrap_or(0);
        src.push(
            here(
                offset,
                name.chars().count(),
                format!("unknown {what} `{name}`"),
            )
            .with_help(help),
        );
    };
    for name in program.references().variables() {
        if !VARIABLES.contains(&name) && !bound(&ast.expr, name) {
            ok = false;
            let help = diag::closest(name, VARIABLES).map(|s| {
                format!("did you mean `{s}`? (resource, region, snapshot, policy and scan exist)")
            });
            unknown_name(name, "variable", help);
        }
    }
    for name in program.references().functions() {
        // Operators (`_&&_`, `@in`) and the `optional.` namespace are the interpreter's own;
        // a function name the standard environment declares cannot be declared again.
        let operator =
            name.starts_with('_') || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if operator
            || ["of", "ofNonZeroValue", "none"].contains(&name)
            || Context::default().add_function(name, |a: i64| a).is_err()
        {
            continue;
        }
        ok = false;
        let help = diag::closest(name, FUNCTIONS.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| Some(format!("the functions are {}", FUNCTIONS.join(", "))));
        unknown_name(name, "function", help);
    }
    ok.then(|| Expr {
        source: text.to_string(),
        program,
        paths,
    })
}

/// The value's text as TOML read it (for offsets into it).
fn value_text(src: &TomlFile<'_>, v: &crate::input::reader::Value<'_>) -> String {
    match v.get_ref() {
        toml::de::DeValue::String(s) => s.to_string(),
        _ => src.text.get(v.span()).unwrap_or("").to_string(),
    }
}

/// A message template: text with `{{ expression }}` parts.
fn template(
    src: &TomlFile<'_>,
    v: &crate::input::reader::Value<'_>,
    text: &str,
    kind: Option<&'static Kind>,
) -> Option<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = text;
    let mut at = 0;
    let mut ok = true;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            src.push(error_in(
                src,
                v,
                text,
                at + rest[..open].chars().count(),
                2,
                "`{{` without its `}}`".to_string(),
            ));
            return None;
        };
        let inner = &after[..close];
        let inner_at = at + rest[..open + 2].chars().count();
        match compile_at(src, v, inner, inner_at, kind) {
            Some(e) => parts.push(Part::Expr(e)),
            None => ok = false,
        }
        at = inner_at + inner.chars().count() + 2;
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    ok.then_some(parts)
}

/// The sub-expressions of `e`.
fn children(e: &Ast) -> Vec<&Ast> {
    match e {
        Ast::Call(c) => c
            .target
            .iter()
            .map(|t| &t.expr)
            .chain(c.args.iter().map(|a| &a.expr))
            .collect(),
        Ast::Comprehension(c) => [
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ]
        .iter()
        .map(|x| &x.expr)
        .collect(),
        Ast::List(l) => l.elements.iter().map(|x| &x.expr).collect(),
        Ast::Map(m) => m
            .entries
            .iter()
            .filter_map(|x| match &x.expr {
                EntryExpr::MapEntry(me) => Some([&me.key.expr, &me.value.expr]),
                _ => None,
            })
            .flatten()
            .collect(),
        Ast::Struct(st) => st
            .entries
            .iter()
            .filter_map(|x| match &x.expr {
                EntryExpr::StructField(f) => Some(&f.value.expr),
                _ => None,
            })
            .collect(),
        Ast::Select(sel) => vec![&sel.operand.expr],
        Ast::Ident(_) | Ast::Literal(_) | Ast::Unspecified => vec![],
    }
}

/// How deep the syntax tree is (the evaluator recurses that deep).
fn depth_of(e: &Ast) -> usize {
    1 + children(e).into_iter().map(depth_of).max().unwrap_or(0)
}

/// Syntax nodes, and the deepest comprehension nesting.
fn size(e: &Ast, depth: usize) -> (usize, usize) {
    let mut nodes = 1;
    let mut deepest = depth;
    let mut add = |(n, d): (usize, usize)| {
        nodes += n;
        deepest = deepest.max(d);
    };
    match e {
        Ast::Call(c) => {
            if let Some(t) = &c.target {
                add(size(&t.expr, depth));
            }
            for a in &c.args {
                add(size(&a.expr, depth));
            }
        }
        Ast::Comprehension(c) => {
            add(size(&c.iter_range.expr, depth));
            for x in [&c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                add(size(&x.expr, depth + 1));
            }
        }
        Ast::List(l) => l.elements.iter().for_each(|x| add(size(&x.expr, depth))),
        Ast::Map(m) => m.entries.iter().for_each(|x| {
            if let EntryExpr::MapEntry(me) = &x.expr {
                add(size(&me.key.expr, depth));
                add(size(&me.value.expr, depth));
            }
        }),
        Ast::Struct(s) => s.entries.iter().for_each(|x| {
            if let EntryExpr::StructField(f) = &x.expr {
                add(size(&f.value.expr, depth));
            }
        }),
        Ast::Select(s) => add(size(&s.operand.expr, depth)),
        Ast::Ident(_) | Ast::Literal(_) | Ast::Unspecified => {}
    }
    (nodes, deepest)
}

/// Whether `name` is a comprehension's variable somewhere in `e` (then not a free one).
fn bound(e: &Ast, name: &str) -> bool {
    let here = match e {
        Ast::Comprehension(c) => {
            c.iter_var == name || c.iter_var2.as_deref() == Some(name) || c.accu_var == name
        }
        _ => false,
    };
    here || children(e).into_iter().any(|x| bound(x, name))
}

/// The comprehension variables in scope, each with the path of what it ranges over.
type Bindings = Vec<(String, Path)>;

/// The field path `e` selects, if it is a chain of fields and indexes on a variable (a
/// comprehension's variable stands for an element of what it ranges over).
fn chain(e: &Ast, env: &Bindings) -> Option<Path> {
    match e {
        Ast::Ident(name) => Some(
            env.iter()
                .rev()
                .find(|(v, _)| v == name)
                .map(|(_, p)| p.clone())
                .unwrap_or_else(|| vec![name.clone()]),
        ),
        Ast::Select(s) => {
            let mut p = chain(&s.operand.expr, env)?;
            p.push(s.field.clone());
            Some(p)
        }
        Ast::Call(c) if c.func_name == "_[_]" && c.args.len() == 2 => {
            let mut p = chain(&c.args[0].expr, env)?;
            match &c.args[1].expr {
                Ast::Literal(LiteralValue::String(s)) => p.push(s.inner().to_string()),
                // The resource's own region: known when it is judged.
                Ast::Ident(name) if name == "region" && !env.iter().any(|(v, _)| v == "region") => {
                    p.push(REGION.to_string())
                }
                // An index by anything else: any key or element.
                _ => p.push(ANY.to_string()),
            }
            Some(p)
        }
        _ => None,
    }
}

/// What the indexes along a chain read (`policies[p.arn]` reads `p.arn`).
fn indexes(e: &Ast, env: &Bindings, out: &mut Vec<Path>) {
    match e {
        Ast::Select(s) => indexes(&s.operand.expr, env, out),
        Ast::Call(c) if c.func_name == "_[_]" && c.args.len() == 2 => {
            indexes(&c.args[0].expr, env, out);
            reached(&c.args[1].expr, env, out);
        }
        _ => {}
    }
}

/// Every maximal field path `e` reads.
fn reached(e: &Ast, env: &Bindings, out: &mut Vec<Path>) {
    if let Some(p) = chain(e, env) {
        out.push(p);
        indexes(e, env, out);
        return;
    }
    match e {
        Ast::Call(c) => {
            if let Some(t) = &c.target {
                reached(&t.expr, env, out);
            }
            for a in &c.args {
                reached(&a.expr, env, out);
            }
        }
        Ast::Comprehension(c) => {
            reached(&c.iter_range.expr, env, out);
            // The variables stand for an element (a list's) or a key (a map's) of the range.
            let mut inner = env.clone();
            if let Some(range) = chain(&c.iter_range.expr, env) {
                let mut element = range;
                element.push(ANY.to_string());
                inner.push((c.iter_var.clone(), element.clone()));
                if let Some(v2) = &c.iter_var2 {
                    inner.push((v2.clone(), element));
                }
            } else {
                // A range that is not a path: its variables read nothing of the snapshot.
                inner.push((c.iter_var.clone(), vec![c.iter_var.clone()]));
            }
            inner.push((c.accu_var.clone(), vec![c.accu_var.clone()]));
            for x in [&c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                reached(&x.expr, &inner, out);
            }
        }
        Ast::Select(s) => reached(&s.operand.expr, env, out),
        Ast::List(l) => l.elements.iter().for_each(|x| reached(&x.expr, env, out)),
        Ast::Map(m) => m.entries.iter().for_each(|x| {
            if let EntryExpr::MapEntry(me) = &x.expr {
                reached(&me.key.expr, env, out);
                reached(&me.value.expr, env, out);
            }
        }),
        _ => {}
    }
}

struct PathError {
    field: String,
    message: String,
    suggestion: Option<String>,
}

/// The snapshot's JSON Schema, as `infraverify schema snapshot` prints it.
pub fn snapshot_schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut s =
            serde_json::to_value(schemars::schema_for!(Snapshot)).expect("a schema is JSON");
        if let Some(o) = s.as_object_mut() {
            o.insert(
                "$id".into(),
                Json::String(format!("{}/schema.json", crate::inventory::SNAPSHOT_SCHEMA)),
            );
        }
        s
    })
}

/// `schema` with `$ref`s, `Option`s and `Observed` unwrapped: what the CEL view holds.
fn resolve<'a>(root: &'a Json, mut schema: &'a Json) -> &'a Json {
    for _ in 0..32 {
        if let Some(r) = schema.get("$ref").and_then(Json::as_str) {
            let name = r.trim_start_matches("#/$defs/");
            match root.get("$defs").and_then(|d| d.get(name)) {
                Some(s) => {
                    schema = s;
                    continue;
                }
                None => return schema,
            }
        }
        let variants = schema
            .get("oneOf")
            .or_else(|| schema.get("anyOf"))
            .and_then(Json::as_array);
        if let Some(vs) = variants {
            // Observed: the variant whose status is "present" holds the value.
            if let Some(present) = vs.iter().find(|v| {
                v.pointer("/properties/status/const").and_then(Json::as_str) == Some("present")
            }) {
                match present.pointer("/properties/value") {
                    Some(value) => {
                        schema = value;
                        continue;
                    }
                    None => return schema,
                }
            }
            // Option<T>: the variant that is not null.
            let not_null: Vec<&Json> = vs
                .iter()
                .filter(|v| v.get("type").and_then(Json::as_str) != Some("null"))
                .collect();
            if not_null.len() == 1 {
                schema = not_null[0];
                continue;
            }
        }
        return schema;
    }
    schema
}

/// The item schema of a kind.
fn kind_schema(kind: &Kind) -> Option<&'static Json> {
    let root = snapshot_schema();
    let mut s = resolve(root, root);
    if !kind.global {
        s = resolve(root, s.pointer("/properties/regions/additionalProperties")?);
    }
    s = resolve(root, s.get("properties")?.get(kind.section)?);
    s = resolve(root, s.get("properties")?.get(kind.field)?);
    Some(resolve(root, s.get("additionalProperties")?))
}

/// Checks a `resource.…`, `policy.…` or `scan.…` path against what exists; `snapshot.…`
/// paths against the snapshot's schema.
fn check_path(path: &[String], kind: Option<&'static Kind>) -> Result<(), PathError> {
    let root = snapshot_schema();
    let unknown = |field: &str, known: Vec<&str>, at: &str| PathError {
        field: field.to_string(),
        message: format!("`{at}` has no field `{field}`"),
        suggestion: diag::closest(field, known).map(str::to_string),
    };
    let mut schema = match path[0].as_str() {
        "resource" => match kind.and_then(kind_schema) {
            Some(s) => s,
            None => return Ok(()),
        },
        "snapshot" => resolve(root, root),
        "policy" => {
            return match path.get(1).map(String::as_str) {
                None | Some("domain") if path.len() <= 2 => Ok(()),
                Some(f) => Err(unknown(f, vec!["domain"], "policy")),
                None => Ok(()),
            }
        }
        "scan" => {
            return match path.get(1).map(String::as_str) {
                None | Some("time" | "unix") if path.len() <= 2 => Ok(()),
                Some(f) => Err(unknown(f, vec!["time", "unix"], "scan")),
                None => Ok(()),
            }
        }
        _ => return Ok(()),
    };
    for (i, field) in path.iter().enumerate().skip(1) {
        let at = show_path(&path[..i]);
        if field == ANY {
            // An element of a list, a value of a map; of anything else, unknown.
            match schema
                .get("items")
                .or_else(|| schema.get("additionalProperties"))
                .filter(|s| s.is_object())
            {
                Some(items) => {
                    schema = resolve(root, items);
                    continue;
                }
                None => return Ok(()),
            }
        }
        if let Some(props) = schema.get("properties").and_then(Json::as_object) {
            match props.get(field) {
                Some(s) => schema = resolve(root, s),
                None => {
                    return Err(unknown(
                        field,
                        props.keys().map(String::as_str).collect(),
                        &at,
                    ))
                }
            }
        } else if let Some(items) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            // A map: any key.
            schema = resolve(root, items);
        } else {
            let ty = schema
                .get("type")
                .map(|t| t.to_string())
                .unwrap_or_default();
            if ty.contains("object") || ty.is_empty() {
                // A map of anything (a policy document): any key.
                return Ok(());
            }
            return Err(PathError {
                field: field.clone(),
                message: format!(
                    "`{at}` is {} and has no field `{field}`",
                    ty.trim_matches('"')
                ),
                suggestion: None,
            });
        }
    }
    Ok(())
}

/// The snapshot as team rules see it: `Observed` unwrapped, and where each field that could
/// not be read is, with why.
pub struct View {
    json: Json,
    value: Value,
    /// Path (from the snapshot's root) → the collection error's message.
    unavailable: Vec<(Path, String)>,
    account: Option<String>,
    time: String,
    unix: i64,
}

impl View {
    pub fn new(snap: &Snapshot) -> View {
        let raw = serde_json::to_value(snap).expect("a snapshot is JSON");
        let mut unavailable = Vec::new();
        let json = unwrap(raw, &mut Vec::new(), &mut unavailable);
        let value = cel::to_value(&json).unwrap_or(Value::Null);
        View {
            json,
            value,
            unavailable,
            account: snap.collection.account.clone(),
            time: snap.collection.started_at.to_string(),
            unix: snap.collection.started_at.0.unix_timestamp(),
        }
    }

    /// The first unreadable field at, above or below `path` (from the root); an [`ANY`]
    /// in `path` matches any key or element.
    fn unreadable(&self, path: &[String]) -> Option<&(Path, String)> {
        self.unavailable
            .iter()
            .find(|(u, _)| u.iter().zip(path).all(|(a, b)| b == ANY || a == b))
    }
}

/// `Observed` values replaced by what they hold (`null` when absent or unavailable), the
/// unavailable ones recorded.
fn unwrap(v: Json, at: &mut Path, unavailable: &mut Vec<(Path, String)>) -> Json {
    match v {
        Json::Object(mut o) => {
            let status = o.get("status").and_then(Json::as_str).map(str::to_string);
            match (status.as_deref(), o.len()) {
                (Some("present"), 2) if o.contains_key("value") => {
                    let inner = o.remove("value").unwrap_or(Json::Null);
                    return unwrap(inner, at, unavailable);
                }
                (Some("absent"), 1) => return Json::Null,
                (Some("unavailable"), 2) if o.contains_key("error") => {
                    let e = &o["error"];
                    let why = format!(
                        "{} ({}: {})",
                        e.get("source").and_then(Json::as_str).unwrap_or("AWS"),
                        e.get("kind").and_then(Json::as_str).unwrap_or("error"),
                        e.get("message").and_then(Json::as_str).unwrap_or("")
                    );
                    unavailable.push((at.clone(), why));
                    return Json::Null;
                }
                _ => {}
            }
            Json::Object(
                o.into_iter()
                    .map(|(k, v)| {
                        at.push(k.clone());
                        let v = unwrap(v, at, unavailable);
                        at.pop();
                        (k, v)
                    })
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    at.push(i.to_string());
                    let v = unwrap(v, at, unavailable);
                    at.pop();
                    v
                })
                .collect(),
        ),
        v => v,
    }
}

/// A CEL value as a message shows it.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}

/// Runs a team rule over one snapshot.
pub fn run(rule: &CustomRule, view: &View, domain: Option<&str>) -> Vec<Finding> {
    let kind = rule.kind;
    let mut root = Context::default();
    root.add_variable_from_value("snapshot", view.value.clone());
    let policy: BTreeMap<&str, Option<&str>> = BTreeMap::from([("domain", domain)]);
    let _ = root.add_variable("policy", policy);
    let _ = root.add_variable(
        "scan",
        serde_json::json!({"time": view.time, "unix": view.unix}),
    );
    let finding = |resource: ResourceRef, status: Status, message: String| {
        FindingBuilder::new(
            &rule.id,
            &rule.controls.iter().map(String::as_str).collect::<Vec<_>>(),
            rule.severity,
            resource,
            status,
            message,
        )
        .policy(Some(rule.origin.clone()))
    };
    // Where the kind's items are: each region's, or the account's.
    let places: Vec<(Option<String>, Path)> = if kind.global {
        vec![(None, vec![kind.section.to_string(), kind.field.to_string()])]
    } else {
        view.json
            .get("regions")
            .and_then(Json::as_object)
            .map(|r| {
                r.keys()
                    .map(|region| {
                        (
                            Some(region.clone()),
                            vec![
                                "regions".to_string(),
                                region.clone(),
                                kind.section.to_string(),
                                kind.field.to_string(),
                            ],
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    // What each part reads: `where`'s paths are checked before it decides the scope, the
    // others' only for what is in scope.
    let scope: Vec<&Expr> = rule.scope.iter().collect();
    let rest: Vec<&Expr> = rule
        .exprs()
        .filter(|e| !scope.iter().any(|s| std::ptr::eq(*s, *e)))
        .collect();
    let paths = |exprs: &[&Expr], root: &str| -> Vec<Path> {
        exprs
            .iter()
            .flat_map(|e| e.paths.iter())
            .filter(|p| p[0] == root)
            .map(|p| p[1..].to_vec())
            .collect()
    };
    let (scope_snapshot, rest_snapshot) = (paths(&scope, "snapshot"), paths(&rest, "snapshot"));
    let (scope_resource, rest_resource) = (paths(&scope, "resource"), paths(&rest, "resource"));
    let resource_paths: Vec<Path> = scope_resource
        .iter()
        .chain(&rest_resource)
        .cloned()
        .collect();
    for (region, place) in places {
        // A snapshot field the rule reads that could not be read: every resource here is
        // an error (for `where`'s, every resource; for the others', every one in scope).
        let in_region = |paths: &[Path]| {
            paths
                .iter()
                .map(|p| -> Path {
                    p.iter()
                        .map(|c| match (c.as_str(), &region) {
                            (REGION, Some(r)) => r.clone(),
                            _ => c.clone(),
                        })
                        .collect()
                })
                .find_map(|p| view.unreadable(&p).map(|(_, why)| why.clone()))
        };
        let (scope_error, rest_error) = (in_region(&scope_snapshot), in_region(&rest_snapshot));
        let at = |r: ResourceRef| match &region {
            Some(reg) => r.region(reg),
            None => r,
        };
        if let Some((_, why)) = view
            .unreadable(&place)
            .filter(|(u, _)| u.len() <= place.len())
        {
            let r = at(ResourceRef::new(kind.name, "*")).account(view.account.as_deref());
            out.push(
                finding(
                    r,
                    Status::Error,
                    format!("The {}s could not be listed: {why}.", kind.noun),
                )
                .build(),
            );
            continue;
        }
        let Some(items) = place
            .iter()
            .try_fold(&view.json, |v, k| v.get(k))
            .and_then(Json::as_object)
        else {
            continue;
        };
        for (id, item) in items {
            let mut r = ResourceRef::new(kind.name, id.clone())
                .name(
                    item.get("name")
                        .and_then(Json::as_str)
                        .or_else(|| item.pointer("/tags/Name").and_then(Json::as_str))
                        .filter(|n| n != id),
                )
                .arn(item.get("arn").and_then(Json::as_str))
                .account(view.account.as_deref());
            r = at(r);
            let item_path =
                |p: &Path| -> Path { place.iter().chain([id]).chain(p.iter()).cloned().collect() };
            let blocked = |global: &Option<String>, paths: &[Path]| {
                global.clone().or_else(|| {
                    paths
                        .iter()
                        .find_map(|p| view.unreadable(&item_path(p)))
                        .map(|(_, why)| why.clone())
                })
            };
            let noun = format!("{} {}", kind.noun, r.display());
            let unjudged = |why: String| {
                finding(
                    r.clone(),
                    Status::Error,
                    format!("{noun} could not be judged: {why}."),
                )
                .build()
            };
            if let Some(why) = blocked(&scope_error, &scope_resource) {
                out.push(unjudged(why));
                continue;
            }
            let mut cx = root.new_inner_scope();
            cx.add_variable_from_value("resource", cel::to_value(item).unwrap_or(Value::Null));
            cx.add_variable_from_value(
                "region",
                region
                    .clone()
                    .map_or(Value::Null, |r| Value::String(r.into())),
            );
            if let Some(scope) = &rule.scope {
                match scope.program.execute(&cx) {
                    Ok(Value::Bool(true)) => {}
                    Ok(Value::Bool(false)) => continue,
                    Ok(other) => {
                        out.push(
                            finding(
                                r,
                                Status::Error,
                                format!(
                                    "`where` gave {} for {noun}, not true or false.",
                                    show(&other)
                                ),
                            )
                            .build(),
                        );
                        continue;
                    }
                    Err(e) => {
                        out.push(
                            finding(r, Status::Error, format!("`where` failed for {noun}: {e}."))
                                .build(),
                        );
                        continue;
                    }
                }
            }
            if let Some(why) = blocked(&rest_error, &rest_resource) {
                out.push(unjudged(why));
                continue;
            }
            let observed: BTreeMap<String, Json> = resource_paths
                .iter()
                .map(|p| fixed(p))
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let v = p.iter().try_fold(item, |v, k| v.get(k)).cloned();
                    (format!("resource.{}", p.join(".")), v.unwrap_or(Json::Null))
                })
                .collect();
            let evidence = Evidence::new(
                "team rule",
                &observed,
                Some(format!("`{}` is true", rule.check.source)),
            );
            let (status, message) = match rule.check.program.execute(&cx) {
                Ok(Value::Bool(true)) => (
                    Status::Pass,
                    format!("{noun} meets `{}`.", rule.check.source),
                ),
                Ok(Value::Bool(false)) => {
                    let mut m = String::new();
                    for p in &rule.message {
                        match p {
                            Part::Text(t) => m.push_str(t),
                            Part::Expr(e) => match e.program.execute(&cx) {
                                Ok(v) => m.push_str(&show(&v)),
                                Err(err) => m.push_str(&format!("<{err}>")),
                            },
                        }
                    }
                    (Status::Fail, m)
                }
                Ok(other) => (
                    Status::Error,
                    format!(
                        "`check` gave {} for {noun}, not true or false.",
                        show(&other)
                    ),
                ),
                Err(e) => (Status::Error, format!("`check` failed for {noun}: {e}.")),
            };
            let mut b = finding(r, status, message).evidence(evidence);
            if !rule.remediation.is_empty() {
                b = b.remediation(&rule.remediation);
            }
            out.push(b.build());
        }
    }
    if out.is_empty() {
        let r = ResourceRef::new(kind.name, "*").account(view.account.as_deref());
        out.push(
            finding(
                r,
                Status::Skipped,
                format!(
                    "No {} in scope{}, so {} is skipped.",
                    kind.noun,
                    rule.scope
                        .as_ref()
                        .map(|w| format!(" (where `{}`)", w.source))
                        .unwrap_or_default(),
                    rule.controls.join(", ")
                ),
            )
            .build(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::testing::*;
    use crate::policy::{load, PolicySource};

    const EXAMPLES: &str = include_str!("../../policies/examples/team-rules.toml");

    fn policy(text: &str) -> crate::policy::Policy {
        load(&[PolicySource {
            name: "team.toml".into(),
            text: text.into(),
        }])
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn rule(id: &str, kind: &str, scope: Option<&str>, check: &str) -> String {
        format!(
            "[[custom-rules]]\nid = \"{id}\"\ncontrols = [\"TEAM-1\"]\nseverity = \"high\"\ntitle = \"t\"\nresource = \"{kind}\"\n{}check = '{check}'\nmessage = \"in {{{{region}}}} it fails\"\n",
            scope.map(|s| format!("where = '{s}'\n")).unwrap_or_default()
        )
    }

    fn verdicts(p: &crate::policy::Policy, snap: &Snapshot) -> Vec<(String, String, Status)> {
        let view = View::new(snap);
        p.custom
            .iter()
            .flat_map(|c| run(c, &view, p.domain.as_deref()))
            .map(|f| (f.rule, f.resource.id, f.status))
            .collect()
    }

    #[test]
    fn the_examples_judge_the_compliant_fixture() {
        let p = policy(EXAMPLES);
        assert_eq!(p.custom.len(), 5);
        let v = verdicts(&p, &compliant());
        for id in p.custom.iter().map(|c| &c.id) {
            assert!(
                v.iter().any(|(r, _, _)| r == id),
                "{id} gave no finding: {v:?}"
            );
        }
        assert!(
            v.iter().all(|(_, _, s)| *s != Status::Error),
            "nothing is unavailable in the fixture: {v:?}"
        );
    }

    #[test]
    fn a_field_that_could_not_be_read_is_error_even_where_the_expression_would_pass() {
        let mut snap = compliant();
        for pg in value(&mut inv(&mut snap).rds.parameter_groups).values_mut() {
            pg.parameters =
                crate::inventory::Observed::unavailable(denied("rds:DescribeDBParameters"));
        }
        // `in` on the unreadable map would be false (a fail), and `!("x" in …)` true (a
        // pass): both are errors, naming the call.
        let p = policy(&format!(
            "{}{}{}",
            rule(
                "reads-it",
                "rds-parameter-group",
                None,
                r#""rds.force_ssl" in resource.parameters"#
            ),
            rule(
                "negates-it",
                "rds-parameter-group",
                None,
                r#"!("x" in resource.parameters)"#
            )
            .replace("TEAM-1", "TEAM-2"),
            rule(
                "not-reading-it",
                "rds-parameter-group",
                None,
                r#"resource.name != """#
            )
            .replace("TEAM-1", "TEAM-3"),
        ));
        let view = View::new(&snap);
        for c in &p.custom {
            let fs = run(c, &view, None);
            assert!(!fs.is_empty());
            for f in fs {
                match c.id.as_str() {
                    "not-reading-it" => assert_eq!(f.status, Status::Pass, "{f:?}"),
                    _ => {
                        assert_eq!(f.status, Status::Error, "{f:?}");
                        assert!(
                            f.message.contains("rds:DescribeDBParameters"),
                            "{}",
                            f.message
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_kind_that_could_not_be_listed_is_one_error_per_region() {
        let mut snap = compliant();
        inv(&mut snap).rds.instances =
            crate::inventory::Observed::unavailable(denied("rds:DescribeDBInstances"));
        let p = policy(&rule("any-db", "rds-db-instance", None, "true"));
        let v = verdicts(&p, &snap);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!((v[0].1.as_str(), v[0].2), ("*", Status::Error));
    }

    #[test]
    fn nothing_in_scope_is_one_skipped_and_where_narrows() {
        let p = policy(&format!(
            "{}{}",
            rule(
                "none",
                "rds-db-instance",
                Some(r#"resource.id == "no-such-db""#),
                "false"
            ),
            rule(
                "prod",
                "ec2-security-group",
                Some(r#"resource.name == "lc-db""#),
                "false"
            )
            .replace("TEAM-1", "TEAM-2"),
        ));
        let v = verdicts(&p, &compliant());
        let none: Vec<_> = v.iter().filter(|(r, _, _)| r == "none").collect();
        assert_eq!(none.len(), 1);
        assert_eq!(none[0].2, Status::Skipped);
        let prod: Vec<_> = v.iter().filter(|(r, _, _)| r == "prod").collect();
        assert_eq!(prod.len(), 1, "only the group named lc-db: {prod:?}");
        assert_eq!(prod[0].2, Status::Fail);
    }

    #[test]
    fn a_check_that_is_not_a_bool_or_fails_to_evaluate_is_error() {
        let p = policy(&format!(
            "{}{}",
            rule("not-bool", "rds-db-instance", None, "resource.id"),
            rule(
                "no-key",
                "rds-db-instance",
                None,
                r#"resource.tags["owner"] == "x""#
            )
            .replace("TEAM-1", "TEAM-2"),
        ));
        let v = verdicts(&p, &compliant());
        assert!(!v.is_empty());
        assert!(v.iter().all(|(_, _, s)| *s == Status::Error), "{v:?}");
    }

    #[test]
    fn a_failure_message_fills_its_expressions() {
        let p = policy(&rule("msg", "rds-db-instance", None, "false"));
        let view = View::new(&compliant());
        let f = &run(&p.custom[0], &view, None)[0];
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.message.ends_with(" fails") && !f.message.contains("{{"),
            "{}",
            f.message
        );
        assert_eq!(f.controls, ["TEAM-1"]);
        assert_eq!(f.policy.as_ref().unwrap().line, 1);
    }

    #[test]
    fn an_unreadable_field_behind_a_dynamic_index_or_a_loop_variable_is_error() {
        let mut snap = compliant();
        for p in value(&mut snap.iam.policies).values_mut() {
            p.document = crate::inventory::Observed::unavailable(denied("iam:GetPolicyVersion"));
        }
        // Each would pass or fail on `null` if the unreadable document were not seen
        // through `policies[p.arn]` (a dynamic index) and `p` (a loop variable).
        let docs = "snapshot.iam.policies[p.arn].document";
        let p = policy(&format!(
            "{}{}",
            rule(
                "absent",
                "iam-role",
                None,
                &format!("resource.attached.all(p, {docs} == null)")
            ),
            rule(
                "present",
                "iam-role",
                None,
                &format!("resource.attached.all(p, {docs} != null)")
            )
            .replace("TEAM-1", "TEAM-2"),
        ));
        let view = View::new(&snap);
        for c in &p.custom {
            let fs = run(c, &view, None);
            let attached: Vec<&Finding> = fs.iter().filter(|f| f.resource.id != "*").collect();
            assert!(!attached.is_empty());
            for f in attached {
                assert_eq!(f.status, Status::Error, "{}: {f:?}", c.id);
                assert!(f.message.contains("iam:GetPolicyVersion"), "{}", f.message);
            }
        }
    }

    #[test]
    fn where_decides_the_scope_before_the_rest_is_looked_at() {
        let mut snap = compliant();
        for pg in value(&mut inv(&mut snap).rds.parameter_groups).values_mut() {
            pg.parameters =
                crate::inventory::Observed::unavailable(denied("rds:DescribeDBParameters"));
        }
        // Nothing is in scope, so the unreadable parameters do not matter: skipped, not
        // error.
        let p = policy(&rule(
            "params",
            "rds-parameter-group",
            Some(r#"resource.name == "no-such-group""#),
            r#""rds.force_ssl" in resource.parameters"#,
        ));
        let v = verdicts(&p, &snap);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].2, Status::Skipped, "{v:?}");
    }

    #[test]
    fn paths_through_indexes_and_loop_variables_are_checked() {
        // Joins through a dynamic index, a list index, and a loop variable are accepted.
        for (kind, check) in [
            (
                "ecs-task-definition",
                "resource.log_groups.all(l, l.group in snapshot.regions[l.region].logs.log_groups)",
            ),
            (
                "elbv2-load-balancer",
                r#"resource.listeners[0].protocol == "HTTPS""#,
            ),
            (
                "elbv2-load-balancer",
                "resource.listeners.all(resource, resource.port > 0)",
            ),
        ] {
            policy(&rule("ok", kind, None, check));
        }
        // Misspelt fields after them are refused, with a suggestion.
        for (kind, check, field, suggestion) in [
            (
                "iam-role",
                "resource.attached.all(p, snapshot.iam.policies[p.arn].documnt != null)",
                "documnt",
                "document",
            ),
            (
                "elbv2-load-balancer",
                "resource.listeners.all(l, !has(l.certificat))",
                "certificat",
                "certificates",
            ),
        ] {
            let e = refused(&rule("bad", kind, None, check));
            assert!(e.contains(&format!("no field `{field}`")), "{e}");
            assert!(e.contains(&format!("did you mean `{suggestion}`")), "{e}");
            assert!(!e.contains('\u{0}'), "{e:?}");
        }
    }

    #[test]
    fn an_unknown_function_is_refused_with_a_suggestion() {
        let e = refused(&rule(
            "typo",
            "rds-db-instance",
            None,
            r#"resource.id.startswith("lc") && size(resource.tags) > 0"#,
        ));
        assert!(e.contains("unknown function `startswith`"), "{e}");
        assert!(e.contains("did you mean `startsWith`"), "{e}");
        assert!(!e.contains("`size`"), "{e}");
        let e = refused(&rule(
            "later",
            "rds-db-instance",
            None,
            r#"timestamp(scan.time) > 0"#,
        ));
        assert!(e.contains("unknown function `timestamp`"), "{e}");
        // Operators, macros and the standard functions are known.
        policy(&rule(
            "known",
            "rds-db-instance",
            None,
            r#"resource.id.matches("^lc") && resource.id.endsWith("db") && int("1") in [1] && string(1).contains("1") && [1].exists_one(x, x > 0) ? true : !false"#,
        ));
    }

    #[test]
    fn deep_nesting_is_refused_before_it_is_parsed_or_evaluated() {
        let brackets = format!("{}1{} == [1]", "[".repeat(50), "]".repeat(50));
        let e = refused(&rule("deep", "rds-db-instance", None, &brackets));
        assert!(e.contains("nests brackets 50 deep"), "{e}");
        let sum = format!("1{} > 0", " + 1".repeat(100));
        let e = refused(&rule("long", "rds-db-instance", None, &sum));
        assert!(e.contains("too large to bound"), "{e}");
    }

    fn refused(text: &str) -> String {
        load(&[PolicySource {
            name: "team.toml".into(),
            text: text.into(),
        }])
        .expect_err("refused")
        .to_string()
    }

    #[test]
    fn bad_rules_are_refused_at_their_line_and_column_with_a_suggestion() {
        let e = refused(&rule("x", "rds-db-instance", None, "resource.multi_a"));
        assert!(
            e.contains("team.toml:7:19") && e.contains("did you mean `multi_az`?"),
            "{e}"
        );
        let e = refused(&rule("x", "rds-db-instanse", None, "true"));
        assert!(
            e.contains("unknown resource kind") && e.contains("`rds-db-instance`"),
            "{e}"
        );
        let e = refused(&rule("x", "rds-db-instance", None, "resource.id =="));
        assert!(
            e.contains("team.toml:7:") && e.contains("invalid CEL"),
            "{e}"
        );
        let e = refused(&rule("x", "rds-db-instance", None, "resourc.id == 1"));
        assert!(
            e.contains("unknown variable `resourc`") && e.contains("`resource`"),
            "{e}"
        );
        let e = refused(&rule(
            "rds-multi-az-disabled",
            "rds-db-instance",
            None,
            "true",
        ));
        assert!(e.contains("is a built-in rule"), "{e}");
        let e = refused(&rule("Not_Kebab", "rds-db-instance", None, "true"));
        assert!(e.contains("kebab-case"), "{e}");
        let deep = "[1].all(a, [1].all(b, [1].all(c, true)))";
        let e = refused(&rule("x", "rds-db-instance", None, deep));
        assert!(e.contains("too large to bound"), "{e}");
        let e = refused(&format!(
            "{}{}",
            rule("x", "rds-db-instance", None, "true"),
            rule("x", "rds-db-instance", None, "true")
        ));
        assert!(e.contains("defined twice"), "{e}");
    }

    #[test]
    fn waivers_may_name_a_team_rule_of_any_file() {
        let waiver = "[[waivers]]\nrule = \"team-one\"\nresource = \"*\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2099-01-01\n";
        let p = load(&[
            PolicySource {
                name: "a.toml".into(),
                text: waiver.into(),
            },
            PolicySource {
                name: "b.toml".into(),
                text: rule("team-one", "rds-db-instance", None, "false"),
            },
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let findings = crate::engine::evaluate(&p, &compliant()).findings;
        let mine: Vec<_> = findings.iter().filter(|f| f.rule == "team-one").collect();
        assert!(
            !mine.is_empty() && mine.iter().all(|f| f.status == Status::Waived),
            "{mine:?}"
        );
    }

    #[test]
    fn the_schema_describes_every_kind() {
        for k in KINDS {
            let s = kind_schema(k).unwrap_or_else(|| panic!("{} has no schema", k.name));
            assert!(s.get("properties").is_some(), "{}: {s}", k.name);
        }
    }
}

#[cfg(test)]
mod schema_file {
    /// `docs/snapshot.schema.json` is what `infraverify schema snapshot` prints, so the
    /// README's link is the contract and a change to it shows as a diff of that file
    /// (`INFRAVERIFY_BLESS=1` writes it anew, for review: additions only under v1).
    #[test]
    fn the_committed_schema_is_the_printed_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/snapshot.schema.json");
        let printed = format!(
            "{}\n",
            serde_json::to_string_pretty(super::snapshot_schema()).unwrap()
        );
        if std::env::var_os("INFRAVERIFY_BLESS").is_some() {
            std::fs::write(path, &printed).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap();
        assert!(
            committed == printed,
            "docs/snapshot.schema.json differs from `infraverify schema snapshot`; bless it and review the diff"
        );
    }
}
