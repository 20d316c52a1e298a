//! A small evaluator of IAM policy documents: does a set of identity policies allow an
//! action on a resource, and whom does a trust policy let assume a role.
//!
//! It honours Allow and Deny (an explicit deny wins), `Action`/`NotAction`,
//! `Resource`/`NotResource`, `*` and `?` wildcards in actions (case-insensitive) and ARNs,
//! and statements given as one object or an array. It does not guess conditions: a
//! statement with a `Condition` makes the answer [`Decision::Conditional`]. Permission
//! boundaries, session policies and organisation SCPs can only narrow what is allowed, so
//! "allowed" here means "allowed by the identity's own policies".

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
    principals: Vec<(String, String)>,
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
        .map(|s| {
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
                principals: match (m.get("Principal"), m.get("NotPrincipal")) {
                    // Everyone except the named: for an Allow, effectively anyone.
                    (None, Some(not)) => vec![("AWS".into(), format!("* except {not}"))],
                    (p, _) => principals(p)?,
                },
            })
        })
        .collect()
}

/// `*` and `?` wildcard match.
fn wildcard(pattern: &str, text: &str) -> bool {
    crate::glob::matches(pattern, text)
}

fn action_matches(m: &Match, action: &str) -> bool {
    let hit = |pats: &[String]| {
        pats.iter()
            .any(|p| wildcard(&p.to_ascii_lowercase(), &action.to_ascii_lowercase()))
    };
    match m {
        Match::Any(p) => hit(p),
        Match::NoneOf(p) => !hit(p),
    }
}

fn resource_matches(m: &Match, resource: &str) -> bool {
    let hit = |pats: &[String]| pats.iter().any(|p| wildcard(p, resource));
    match m {
        Match::Any(p) => hit(p),
        Match::NoneOf(p) => !hit(p),
    }
}

/// The decision of a principal's identity policies (all of them together) on `action`
/// against `resource`.
pub fn decide(stmts: &[Statement], action: &str, resource: &str) -> Decision {
    let matching = |allow: bool| {
        stmts.iter().filter(move |s| {
            s.allow == allow
                && action_matches(&s.actions, action)
                && resource_matches(&s.resources, resource)
        })
    };
    if matching(false).any(|s| !s.conditional) {
        return Decision::Denied;
    }
    let conditional_deny = matching(false).any(|s| s.conditional);
    let mut allows = matching(true).peekable();
    if allows.peek().is_none() {
        return Decision::NotAllowed;
    }
    if !conditional_deny && matching(true).any(|s| !s.conditional) {
        Decision::Allowed
    } else {
        Decision::Conditional
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
