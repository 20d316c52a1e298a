//! A small evaluator of IAM policy documents: does a set of identity policies allow an
//! action on a resource, and whom does a trust policy let assume a role.
//!
//! It honours Allow and Deny (an explicit deny wins), `Action`/`NotAction`,
//! `Resource`/`NotResource`, `*` and `?` wildcards in actions (case-insensitive) and ARNs,
//! and statements given as one object or an array. It does not guess conditions: a
//! statement with a `Condition` makes the answer [`Decision::Conditional`]. Permission
//! boundaries, session policies and organisation SCPs can only narrow what is allowed, so
//! "allowed" here means "allowed by the identity's own policies".

use std::sync::Arc;

use serde_json::Value;

/// What the policies say about one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// An unconditional Allow matches and no Deny does.
    Allowed,
    /// An unconditional Deny matches.
    Denied,
    /// Nothing allows it (IAM's implicit deny).
    NotAllowed,
    /// Whether it is allowed depends on a condition (of an Allow or a Deny that matches).
    Conditional,
}

impl Decision {
    pub fn allowed(self) -> bool {
        self == Decision::Allowed
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Match {
    /// `Action` / `Resource`: matches what any pattern matches.
    Any(Vec<String>),
    /// `NotAction` / `NotResource`: matches what no pattern matches.
    NoneOf(Vec<String>),
}

/// One statement of a policy document, as far as evaluation needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub allow: bool,
    actions: Match,
    resources: Match,
    pub conditional: bool,
    /// The `Condition` block, when it has one.
    condition: Option<Value>,
    principals: Vec<(String, String)>,
    /// Its `Sid`, if it has one.
    pub sid: Option<String>,
    /// Its position in the document's `Statement` list, from 0.
    pub index: usize,
    /// Where it comes from, once its principal's policies are gathered.
    pub origin: Option<Arc<Origin>>,
}

/// The path from a principal to a policy document: which group, which policy, which version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The principal whose permissions it is part of: `user/NAME` or `role/NAME`.
    pub principal: String,
    /// The group it comes through, for a user.
    pub group: Option<String>,
    /// The policy's name.
    pub policy: String,
    /// A managed policy's ARN; `None` for an inline policy.
    pub policy_arn: Option<String>,
    /// A managed policy's default version.
    pub version: Option<String>,
}

impl Statement {
    /// `Sid "AllowPush"` or `#2`: how to find it in its document.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(s) if !s.is_empty() => format!("statement {s:?}"),
            _ => format!("statement #{}", self.index),
        }
    }
}

/// Why a decision came out as it did: the statement that decides it and the patterns in it
/// that matched the request.
#[derive(Clone, Debug)]
pub struct Grant<'a> {
    pub statement: &'a Statement,
    /// Whether its condition leaves the decision open for this request.
    pub conditional: bool,
    /// The `Action` pattern that matched, or `NotAction [..]`.
    pub action: String,
    /// The `Resource` pattern that matched, or `NotResource [..]`.
    pub resource: String,
}

impl Grant<'_> {
    /// `user deploy → group admins → managed policy AdministratorAccess (v1) → statement #0
    /// → Action "*" on Resource "*"`.
    pub fn path(&self) -> String {
        let mut parts = Vec::new();
        if let Some(o) = &self.statement.origin {
            parts.push(o.principal.replacen('/', " ", 1));
            if let Some(g) = o
                .group
                .as_ref()
                .filter(|g| o.principal != format!("group/{g}"))
            {
                parts.push(format!("group {g}"));
            }
            parts.push(match (&o.policy_arn, &o.version) {
                (Some(_), Some(v)) => format!("managed policy {} ({v})", o.policy),
                (Some(_), None) => format!("managed policy {}", o.policy),
                (None, _) => format!("inline policy {}", o.policy),
            });
        }
        parts.push(self.statement.label());
        parts.push(format!("{} on {}", self.action, self.resource));
        parts.join(" → ")
    }

    /// The same path as structured evidence.
    pub fn json(&self) -> Value {
        let o = self.statement.origin.as_deref();
        serde_json::json!({
            "principal": o.map(|o| o.principal.clone()),
            "group": o.and_then(|o| o.group.clone()),
            "policy": o.map(|o| o.policy.clone()),
            "policy_arn": o.and_then(|o| o.policy_arn.clone()),
            "version": o.and_then(|o| o.version.clone()),
            "statement": self.statement.sid.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| format!("#{}", self.statement.index)),
            "effect": if self.statement.allow { "Allow" } else { "Deny" },
            "conditional": self.conditional,
            "action": self.action,
            "resource": self.resource,
        })
    }
}

fn strings(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("expected a string, found {i}"))
            })
            .collect(),
        other => Err(format!(
            "expected a string or a list of strings, found {other}"
        )),
    }
}

fn matcher(stmt: &serde_json::Map<String, Value>, yes: &str, no: &str) -> Result<Match, String> {
    match (stmt.get(yes), stmt.get(no)) {
        (Some(v), None) => Ok(Match::Any(strings(v)?)),
        (None, Some(v)) => Ok(Match::NoneOf(strings(v)?)),
        (None, None) => Ok(Match::Any(vec!["*".into()])),
        (Some(_), Some(_)) => Err(format!("a statement has both {yes} and {no}")),
    }
}

fn principals(v: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    match v {
        None => Ok(vec![]),
        Some(Value::String(s)) if s == "*" => Ok(vec![("AWS".into(), "*".into())]),
        Some(Value::Object(m)) => {
            let mut out = Vec::new();
            for (kind, ids) in m {
                for id in strings(ids)? {
                    out.push((kind.clone(), id));
                }
            }
            Ok(out)
        }
        Some(other) => Err(format!("unreadable Principal {other}")),
    }
}

/// The statements of a policy document (identity or trust policy).
pub fn statements(doc: &Value) -> Result<Vec<Statement>, String> {
    let stmts: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        Some(other) => {
            return Err(format!(
                "Statement is neither an object nor a list: {other}"
            ))
        }
        None => return Err("the document has no Statement".into()),
    };
    stmts
        .into_iter()
        .enumerate()
        .map(|(index, s)| {
            let m = s
                .as_object()
                .ok_or_else(|| format!("a statement is not an object: {s}"))?;
            let allow = match m.get("Effect").and_then(Value::as_str) {
                Some("Allow") => true,
                Some("Deny") => false,
                other => return Err(format!("a statement has Effect {other:?}")),
            };
            Ok(Statement {
                allow,
                actions: matcher(m, "Action", "NotAction")?,
                resources: matcher(m, "Resource", "NotResource")?,
                conditional: m
                    .get("Condition")
                    .is_some_and(|c| c.as_object().is_none_or(|o| !o.is_empty())),
                condition: m.get("Condition").cloned(),
                principals: match (m.get("Principal"), m.get("NotPrincipal")) {
                    // Everyone except the named: for an Allow, effectively anyone.
                    (None, Some(not)) => vec![("AWS".into(), format!("* except {not}"))],
                    (p, _) => principals(p)?,
                },
                sid: m.get("Sid").and_then(Value::as_str).map(str::to_string),
                index,
                origin: None,
            })
        })
        .collect()
}

/// `*` and `?` wildcard match.
fn wildcard(pattern: &str, text: &str) -> bool {
    crate::glob::matches(pattern, text)
}

/// How a pattern list matches a request: surely, perhaps (a pattern with a policy variable
/// such as `${aws:username}`, whose value depends on the caller), or not.
enum Hit {
    Yes(String),
    Maybe(String),
    No,
}

/// `pattern` with each `${...}` policy variable widened to `*`, when it has one.
fn widened(pattern: &str) -> Option<String> {
    if !pattern.contains("${") {
        return None;
    }
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        out.push('*');
        rest = match rest[i..].find('}') {
            Some(j) => &rest[i + j + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    Some(out)
}

/// The pattern of `m` that matches `text` (`NotAction [..]` for a negative match).
fn matched(m: &Match, text: &str, fold_case: bool, not: &str) -> Hit {
    let matches = |p: &str| {
        if fold_case {
            wildcard(&p.to_ascii_lowercase(), &text.to_ascii_lowercase())
        } else {
            wildcard(p, text)
        }
    };
    let hit = |pats: &[String]| -> Hit {
        if let Some(p) = pats.iter().find(|p| !p.contains("${") && matches(p)) {
            return Hit::Yes(p.clone());
        }
        match pats
            .iter()
            .find(|p| widened(p).is_some_and(|w| matches(&w)))
        {
            Some(p) => Hit::Maybe(p.clone()),
            None => Hit::No,
        }
    };
    match m {
        Match::Any(p) => match hit(p) {
            Hit::Yes(p) => Hit::Yes(format!("{p:?}")),
            Hit::Maybe(p) => Hit::Maybe(format!("{p:?}")),
            Hit::No => Hit::No,
        },
        Match::NoneOf(p) => match hit(p) {
            Hit::Yes(_) => Hit::No,
            Hit::Maybe(_) => Hit::Maybe(format!("{not} {p:?}")),
            Hit::No => Hit::Yes(format!("{not} {p:?}")),
        },
    }
}

fn action_matches(m: &Match, action: &str) -> bool {
    !matches!(matched(m, action, true, "NotAction"), Hit::No)
}

/// Whether a statement's condition holds for a request whose context is `context`
/// (`(key, value)` pairs): `Some(true)` holds, `Some(false)` does not, `None` cannot be told
/// (a key the context does not have, an operator not evaluated). One condition known to be
/// false is enough for `Some(false)`, whatever the others are.
fn condition_holds(s: &Statement, context: &[(&str, &str)]) -> Option<bool> {
    if !s.conditional {
        return Some(true);
    }
    let Some(Value::Object(ops)) = &s.condition else {
        return None;
    };
    let mut unknown = false;
    for (op, block) in ops {
        let Value::Object(block) = block else {
            return None;
        };
        for (key, want) in block {
            let known = context.iter().find(|(k, _)| k.eq_ignore_ascii_case(key));
            let wants = strings(want)
                .ok()
                .filter(|w| !w.iter().any(|w| w.contains("${")));
            let (Some((_, have)), Some(wants)) = (known, wants) else {
                unknown = true;
                continue;
            };
            let holds = match op.as_str() {
                "StringEquals" | "ArnEquals" => wants.iter().any(|w| w == have),
                "StringLike" | "ArnLike" => wants.iter().any(|w| wildcard(w, have)),
                "StringNotEquals" | "ArnNotEquals" => !wants.iter().any(|w| w == have),
                "StringNotLike" | "ArnNotLike" => !wants.iter().any(|w| wildcard(w, have)),
                _ => {
                    unknown = true;
                    continue;
                }
            };
            if !holds {
                return Some(false);
            }
        }
    }
    if unknown {
        None
    } else {
        Some(true)
    }
}

/// The statement's patterns that match the request, if both do and its condition does not
/// rule it out. A policy variable in a matching pattern leaves it open, as a condition does.
fn grant<'a>(
    s: &'a Statement,
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> Option<Grant<'a>> {
    let mut conditional = match condition_holds(s, context) {
        Some(false) => return None,
        Some(true) => false,
        None => true,
    };
    let mut part =
        |m: &Match, text: &str, fold: bool, yes: &str, not: &str| match matched(m, text, fold, not)
        {
            Hit::No => None,
            Hit::Yes(p) => Some(if matches!(m, Match::Any(_)) {
                format!("{yes} {p}")
            } else {
                p
            }),
            Hit::Maybe(p) => {
                conditional = true;
                Some(if matches!(m, Match::Any(_)) {
                    format!("{yes} {p}")
                } else {
                    p
                })
            }
        };
    let action = part(&s.actions, action, true, "Action", "NotAction")?;
    let resource = part(&s.resources, resource, false, "Resource", "NotResource")?;
    Some(Grant {
        statement: s,
        conditional,
        action,
        resource,
    })
}

/// Whether any Allow statement names an action matching `action`, on any resource: a cheap
/// test before evaluating the action against many resources.
pub fn may_allow_action(stmts: &[Statement], action: &str) -> bool {
    stmts
        .iter()
        .any(|s| s.allow && action_matches(&s.actions, action))
}

/// The decision of a principal's identity policies (all of them together) on `action`
/// against `resource`.
pub fn decide(stmts: &[Statement], action: &str, resource: &str) -> Decision {
    explain(stmts, action, resource).0
}

/// The decision, and the statement that makes it: the unconditional Deny, the first
/// unconditional Allow, or the statement whose condition leaves it open.
pub fn explain<'a>(
    stmts: &'a [Statement],
    action: &str,
    resource: &str,
) -> (Decision, Option<Grant<'a>>) {
    explain_in(stmts, action, resource, &[])
}

/// [`explain`] for a request whose context is known in part: conditions on only those keys,
/// with the `String` operators, are decided instead of left open (`iam:PassedToService`
/// when asking about passing a role to one service).
pub fn explain_in<'a>(
    stmts: &'a [Statement],
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> (Decision, Option<Grant<'a>>) {
    let matching = |allow: bool| {
        stmts
            .iter()
            .filter(move |s| s.allow == allow)
            .filter_map(move |s| grant(s, action, resource, context))
    };
    let denies: Vec<Grant<'a>> = matching(false).collect();
    if let Some(d) = denies.iter().find(|g| !g.conditional) {
        return (Decision::Denied, Some(d.clone()));
    }
    let allows: Vec<Grant<'a>> = matching(true).collect();
    let allow = allows
        .iter()
        .find(|g| !g.conditional)
        .or(allows.first())
        .cloned();
    match (allow, denies.first()) {
        (None, _) => (Decision::NotAllowed, None),
        (Some(a), None) if !a.conditional => (Decision::Allowed, Some(a)),
        // Open: the grant shown is the Allow; [`conditional_deny`] names the Deny.
        (Some(a), _) => (Decision::Conditional, Some(a)),
    }
}

/// A Deny with a condition that matches the request, if there is one (and no Deny without
/// one): whatever grants the request, it may not apply.
pub fn conditional_deny<'a>(
    stmts: &'a [Statement],
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> Option<Grant<'a>> {
    let denies: Vec<Grant<'a>> = stmts
        .iter()
        .filter(|s| !s.allow)
        .filter_map(|s| grant(s, action, resource, context))
        .collect();
    if denies.iter().any(|g| !g.conditional) {
        return None;
    }
    denies.into_iter().next()
}

/// Binds the policy variables the principal fixes, as AWS does when it evaluates a request
/// of that principal: for a user, `${aws:username}` is its name; for a role there is no
/// `aws:username`, so a pattern that needs it matches nothing. Other variables stay open.
pub fn bind_variables(stmts: &mut [Statement], kind: &str, name: &str) {
    let bind = |pats: &mut Vec<String>| {
        pats.retain_mut(|p| {
            let lower = p.to_ascii_lowercase();
            if !lower.contains("${aws:username}") {
                return true;
            }
            if kind != "user" {
                return false;
            }
            while let Some(i) = p.to_ascii_lowercase().find("${aws:username}") {
                p.replace_range(i..i + "${aws:username}".len(), name);
            }
            true
        })
    };
    for s in stmts {
        for m in [&mut s.actions, &mut s.resources] {
            match m {
                Match::Any(p) | Match::NoneOf(p) => bind(p),
            }
        }
    }
}

/// Who a trust policy lets call `sts:AssumeRole` (and its SAML and web-identity forms):
/// `(kind, id, conditional)`, such as `("Service", "ecs-tasks.amazonaws.com", false)`.
pub fn trusted(stmts: &[Statement]) -> Vec<(String, String, bool)> {
    let assume = [
        "sts:AssumeRole",
        "sts:AssumeRoleWithWebIdentity",
        "sts:AssumeRoleWithSAML",
        "sts:TagSession",
    ];
    let mut out: Vec<(String, String, bool)> = stmts
        .iter()
        .filter(|s| s.allow && assume[..3].iter().any(|a| action_matches(&s.actions, a)))
        .flat_map(|s| {
            s.principals
                .iter()
                .map(move |(k, v)| (k.clone(), v.clone(), s.conditional))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Who a trust policy lets call `sts:AssumeRole` itself, for a caller whose request context
/// is `context` (`aws:PrincipalArn`): `(kind, id, conditional)` for each Allow whose
/// condition does not rule the caller out, and whether a Deny for that action applies to
/// the caller (`Some(true)`), may (`Some(false)`), or none does (`None`).
pub fn assumers(
    stmts: &[Statement],
    caller: &str,
    context: &[(&str, &str)],
) -> (Vec<(String, String, bool)>, Option<bool>) {
    let relevant = |s: &&Statement| action_matches(&s.actions, "sts:AssumeRole");
    let mut allowed = Vec::new();
    for s in stmts.iter().filter(|s| s.allow).filter(relevant) {
        let conditional = match condition_holds(s, context) {
            Some(false) => continue,
            Some(true) => false,
            None => true,
        };
        for (k, v) in &s.principals {
            allowed.push((k.clone(), v.clone(), conditional));
        }
    }
    let mut denied = None;
    for s in stmts.iter().filter(|s| !s.allow).filter(relevant) {
        // The account of the caller, whose root (or bare id) names every principal in it.
        let account = caller.split(':').nth(4).unwrap_or("");
        let names = s.principals.is_empty()
            || s.principals.iter().any(|(k, v)| {
                k == "AWS"
                    && (v == "*"
                        || v == caller
                        || (!account.is_empty()
                            && (v == account || v.ends_with(&format!(":iam::{account}:root"))))
                        // NotPrincipal: everyone but those it lists.
                        || (v.starts_with("* except") && !v.contains(caller)))
            });
        if !names {
            continue;
        }
        match condition_holds(s, context) {
            Some(true) => denied = Some(true),
            None if denied.is_none() => denied = Some(false),
            _ => {}
        }
    }
    (allowed, denied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(doc: Value, action: &str, resource: &str) -> Decision {
        decide(&statements(&doc).unwrap(), action, resource)
    }

    #[test]
    fn allow_deny_and_implicit_deny() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::web/*"},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
        ]});
        assert_eq!(
            d(doc.clone(), "s3:GetObject", "arn:aws:s3:::web/index.html"),
            Decision::Allowed
        );
        assert_eq!(
            d(doc.clone(), "S3:getobject", "arn:aws:s3:::web/a"),
            Decision::Allowed,
            "actions ignore case"
        );
        assert_eq!(
            d(doc.clone(), "s3:DeleteObject", "arn:aws:s3:::web/a"),
            Decision::Denied
        );
        assert_eq!(
            d(doc.clone(), "s3:GetObject", "arn:aws:s3:::other/a"),
            Decision::NotAllowed
        );
        assert_eq!(d(doc, "ec2:DescribeVpcs", "*"), Decision::NotAllowed);
    }

    #[test]
    fn single_statement_objects_and_string_or_list_fields() {
        let doc = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}});
        assert!(d(
            doc.clone(),
            "logs:PutLogEvents",
            "arn:aws:logs:eu-central-1:1:log-group:/ecs/api:*"
        )
        .allowed());
        assert!(!d(doc, "logs:DeleteLogGroup", "*").allowed());
    }

    #[test]
    fn not_action_and_not_resource() {
        // "Everything but IAM": still admin-like for every other service.
        let doc =
            json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]});
        assert!(d(doc.clone(), "s3:PutObject", "arn:aws:s3:::x/y").allowed());
        assert!(!d(doc, "iam:CreateUser", "*").allowed());
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "NotResource": "arn:aws:secretsmanager:*:*:secret:admin/*"}]});
        assert!(d(
            doc.clone(),
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:eu-central-1:1:secret:prod/db"
        )
        .allowed());
        assert!(!d(
            doc,
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:eu-central-1:1:secret:admin/root"
        )
        .allowed());
    }

    #[test]
    fn conditions_are_not_guessed() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
        assert_eq!(d(doc, "iam:CreateUser", "*"), Decision::Conditional);
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-central-1"}}}
        ]});
        assert_eq!(d(doc, "ec2:RunInstances", "*"), Decision::Conditional);
    }

    #[test]
    fn a_condition_on_a_known_context_key_is_decided() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}]});
        let st = statements(&doc).unwrap();
        let ecs = [("iam:PassedToService", "ecs-tasks.amazonaws.com")];
        let lambda = [("iam:PassedToService", "lambda.amazonaws.com")];
        assert_eq!(
            explain_in(&st, "iam:PassRole", "arn:aws:iam::1:role/r", &ecs).0,
            Decision::Allowed
        );
        assert_eq!(
            explain_in(&st, "iam:PassRole", "arn:aws:iam::1:role/r", &lambda).0,
            Decision::NotAllowed
        );
        assert_eq!(
            explain(&st, "iam:PassRole", "arn:aws:iam::1:role/r").0,
            Decision::Conditional
        );
        // Another key beside it: still open.
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
            "Condition": {"StringLike": {"iam:PassedToService": "ecs*", "aws:SourceIp": "10.0.0.0/8"}}}]});
        let st = statements(&doc).unwrap();
        assert_eq!(
            explain_in(&st, "iam:PassRole", "arn:aws:iam::1:role/r", &ecs).0,
            Decision::Conditional
        );
    }

    #[test]
    fn a_policy_variable_leaves_the_answer_open_where_it_could_match() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "iam:AttachUserPolicy",
            "Resource": "arn:aws:iam::*:user/${aws:username}"}]});
        assert_eq!(
            d(
                doc.clone(),
                "iam:AttachUserPolicy",
                "arn:aws:iam::1:user/bob"
            ),
            Decision::Conditional
        );
        assert_eq!(
            d(doc, "iam:AttachUserPolicy", "arn:aws:iam::1:role/bob"),
            Decision::NotAllowed
        );
        // In a Deny's NotResource: the deny may or may not apply.
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::home/${aws:username}/*"}]});
        assert_eq!(
            d(doc.clone(), "s3:GetObject", "arn:aws:s3:::home/bob/x"),
            Decision::Conditional
        );
        assert_eq!(
            d(doc, "s3:GetObject", "arn:aws:s3:::other/x"),
            Decision::Denied
        );
    }

    #[test]
    fn trust_policies_name_their_principals() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": ["ecs-tasks.amazonaws.com"]}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x"}}}
        ]});
        assert_eq!(
            trusted(&statements(&doc).unwrap()),
            vec![
                (
                    "AWS".to_string(),
                    "arn:aws:iam::999999999999:root".to_string(),
                    true
                ),
                (
                    "Service".to_string(),
                    "ecs-tasks.amazonaws.com".to_string(),
                    false
                ),
            ]
        );
        assert_eq!(trusted(&statements(&json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}})).unwrap())[0].1, "*");
        // NotPrincipal in an Allow trusts everyone but the named.
        let t = trusted(&statements(&json!({"Statement": {"Effect": "Allow", "NotPrincipal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}})).unwrap());
        assert!(t[0].1.starts_with("* except"), "{t:?}");
    }

    #[test]
    fn malformed_documents_are_errors_not_empty_policies() {
        assert!(statements(&json!({"Version": "2012-10-17"})).is_err());
        assert!(statements(&json!({"Statement": [{"Effect": "Maybe", "Action": "*"}]})).is_err());
        assert!(statements(&json!({"Statement": [{"Effect": "Allow", "Action": 3}]})).is_err());
        assert!(statements(
            &json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "x"}]})
        )
        .is_err());
    }
}
