//! 2.1 IAM: IAM-1 … IAM-5. The app's principals are found by intent: the execution and
//! task roles of the ECS services' task definitions, plus the CI/CD principal and any roles
//! or users the policy names. Their effective identity policies (inline, attached managed
//! policies' default versions, and for users their groups') are evaluated by
//! [`crate::iam_eval`]; a condition makes the answer `error`, never a guess.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::access;
use super::scope::Region;
use super::{declare_rule, join_words, Cx, Rule};
use crate::finding::{Evidence, ResourceRef, Status};
use crate::iam_eval::{self, Decision, Grant, Origin, Statement};
use crate::inventory::iam::GET_ACCOUNT_AUTHORIZATION_DETAILS;
use crate::inventory::iam::{AttachedPolicy, Iam};
use crate::inventory::secrets::Secret;
use crate::inventory::{CollectError, ErrorKind, Observed};
use crate::rule_params;
use crate::rules::params::non_empty;

/// A role or user, by name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Who {
    pub kind: &'static str,
    pub name: String,
    /// Why it is in scope: "execution role of api:3", "CI/CD principal".
    pub why: String,
    /// For an execution role: the (region, log group) its task definitions write to.
    pub logs: Vec<(String, String)>,
}

impl Who {
    fn resource(&self, cx: &Cx<'_>) -> ResourceRef {
        let arn = cx
            .account()
            .map(|a| format!("arn:aws:iam::{a}:{}/{}", self.kind, self.name));
        ResourceRef::new(
            if self.kind == "role" {
                "iam-role"
            } else {
                "iam-user"
            },
            self.name.clone(),
        )
        .name(Some(self.name.clone()))
        .arn(arn)
        .account(cx.account())
    }
}

/// `role/NAME` or `user/NAME`.
pub fn parse_principal(s: &str) -> Option<Who> {
    let (kind, name) = s.split_once('/')?;
    let kind = match kind {
        "role" => "role",
        "user" => "user",
        _ => return None,
    };
    (!name.is_empty()).then(|| Who {
        kind,
        name: name.to_string(),
        why: "named in the policy".into(),
        logs: vec![],
    })
}

#[allow(clippy::ptr_arg)]
fn principal_patterns(v: &Vec<String>) -> Result<(), String> {
    v.iter().try_for_each(|s| match s.split_once('/') {
        Some(("role" | "user", n)) if !n.is_empty() => Ok(()),
        _ => Err(format!(
            "{s:?} is not a principal such as \"role/github-deploy\" or \"user/ci-*\""
        )),
    })
}

#[allow(clippy::ptr_arg)]
fn principal_param(s: &String) -> Result<(), String> {
    if s.is_empty() || parse_principal(s).is_some() {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a principal such as \"role/github-deploy\" or \"user/ci\""
        ))
    }
}

/// The role name of a task definition's role: a role ARN's last path segment, or the short
/// name ECS also accepts (and reports back as given).
fn role_name(arn: &str) -> Option<String> {
    match arn.split_once(":role/") {
        Some((_, p)) => Some(p.rsplit('/').next().unwrap_or(p).to_string()),
        None if !arn.is_empty() && !arn.starts_with("arn:") => Some(arn.to_string()),
        None => None,
    }
}

/// Execution and task roles of the task definitions the ECS services run, in every region.
fn ecs_roles(cx: &mut Cx<'_>, execution: bool, task: bool) -> Result<BTreeSet<Who>, ()> {
    let regions: Vec<Region<'_>> = cx.regions().collect();
    let mut out = BTreeSet::new();
    let mut failed = false;
    for region in regions {
        match region.inv.ecs.task_definitions.get() {
            Err(e) => {
                cx.unavailable(region.name, "the ECS task definitions' roles", e);
                failed = true;
            }
            Ok(defs) => {
                for d in defs.into_iter().flat_map(|m| m.values()) {
                    let family = format!("{}:{}", d.family, d.arn.rsplit(':').next().unwrap_or(""));
                    if execution {
                        if let Some(n) = d.execution_role_arn.as_deref().and_then(role_name) {
                            let logs = d
                                .log_groups
                                .iter()
                                .map(|l| {
                                    (
                                        l.region.clone().unwrap_or_else(|| region.name.to_string()),
                                        l.group.clone(),
                                    )
                                })
                                .collect();
                            out.insert(Who {
                                kind: "role",
                                name: n,
                                why: format!("execution role of {family}"),
                                logs,
                            });
                        }
                    }
                    if task {
                        if let Some(n) = d.task_role_arn.as_deref().and_then(role_name) {
                            out.insert(Who {
                                kind: "role",
                                name: n,
                                why: format!("task role of {family}"),
                                logs: vec![],
                            });
                        }
                    }
                }
            }
        }
    }
    // One principal can be in scope for several reasons; keep one entry, all reasons.
    let mut merged: Vec<Who> = Vec::new();
    for w in out {
        match merged
            .iter_mut()
            .find(|m| m.kind == w.kind && m.name == w.name)
        {
            Some(m) => {
                m.why = format!("{}, {}", m.why, w.why);
                m.logs.extend(w.logs);
                m.logs.sort();
                m.logs.dedup();
            }
            None => merged.push(w),
        }
    }
    if failed {
        Err(())
    } else {
        Ok(merged.into_iter().collect())
    }
}

pub(crate) fn doc_statements(
    doc: &Observed<serde_json::Value>,
    what: &str,
    origin: Option<Origin>,
) -> Result<Vec<Statement>, CollectError> {
    let bad = |message: String| CollectError {
        source: GET_ACCOUNT_AUTHORIZATION_DETAILS.into(),
        region: None,
        kind: ErrorKind::Other,
        message,
    };
    let mut stmts = match doc.get() {
        Err(e) => return Err(e.clone()),
        Ok(None) => return Err(bad(format!("{what} has no document"))),
        Ok(Some(v)) => iam_eval::statements(v).map_err(|e| bad(format!("{what}: {e}")))?,
    };
    if let Some(o) = origin {
        let o = Arc::new(o);
        for s in &mut stmts {
            s.origin = Some(o.clone());
        }
    }
    Ok(stmts)
}

/// Where a principal's policy comes from: `principal` is `user/NAME` or `role/NAME`.
fn inline_origin(principal: &str, group: Option<&str>, name: &str) -> Origin {
    Origin {
        principal: principal.to_string(),
        group: group.map(str::to_string),
        policy: name.to_string(),
        policy_arn: None,
        version: None,
    }
}

fn managed(
    iam: &Iam,
    principal: &str,
    group: Option<&str>,
    list: &[AttachedPolicy],
    out: &mut Vec<Statement>,
) -> Result<(), CollectError> {
    if list.is_empty() {
        return Ok(());
    }
    let policies = iam.policies.get().map_err(Clone::clone)?;
    for p in list {
        match policies.and_then(|m| m.get(&p.arn)) {
            Some(mp) => {
                let origin = Origin {
                    principal: principal.to_string(),
                    group: group.map(str::to_string),
                    policy: mp.name.clone(),
                    policy_arn: Some(mp.arn.clone()),
                    version: mp.default_version.clone(),
                };
                out.extend(doc_statements(&mp.document, &p.arn, Some(origin))?)
            }
            None => {
                return Err(CollectError {
                    source: "iam:GetPolicyVersion".into(),
                    region: None,
                    kind: ErrorKind::NotCollected,
                    message: format!("the document of {} was not collected", p.arn),
                })
            }
        }
    }
    Ok(())
}

/// The statements of a group's own policies (inline and managed), as seen by `principal`.
pub fn group_statements(
    iam: &Iam,
    principal: &str,
    g: &crate::inventory::iam::Group,
) -> Result<Vec<Statement>, CollectError> {
    let mut stmts = Vec::new();
    for (name, d) in &g.inline {
        stmts.extend(doc_statements(
            d,
            &format!("inline policy {name} of group {}", g.name),
            Some(inline_origin(principal, Some(&g.name), name)),
        )?);
    }
    managed(iam, principal, Some(&g.name), &g.attached, &mut stmts)?;
    Ok(stmts)
}

/// A principal's identity policies, all together.
pub struct Effective {
    pub statements: Vec<Statement>,
    /// ARNs of the managed policies attached to it, directly or through its groups.
    pub attached: Vec<String>,
}

/// Whether the principal exists, and if so, its effective identity policies.
pub fn effective(iam: &Iam, who: &Who) -> Result<Option<Effective>, CollectError> {
    let mut stmts = Vec::new();
    let mut attached = Vec::new();
    let me = format!("{}/{}", who.kind, who.name);
    if who.kind == "role" {
        let roles = iam.roles.get().map_err(Clone::clone)?;
        let Some(r) = roles.and_then(|m| m.get(&who.name)) else {
            return Ok(None);
        };
        for (name, d) in &r.inline {
            stmts.extend(doc_statements(
                d,
                &format!("inline policy {name}"),
                Some(inline_origin(&me, None, name)),
            )?);
        }
        managed(iam, &me, None, &r.attached, &mut stmts)?;
        attached.extend(r.attached.iter().map(|p| p.arn.clone()));
    } else {
        let users = iam.users.get().map_err(Clone::clone)?;
        let Some(u) = users.and_then(|m| m.get(&who.name)) else {
            return Ok(None);
        };
        for (name, d) in &u.inline {
            stmts.extend(doc_statements(
                d,
                &format!("inline policy {name}"),
                Some(inline_origin(&me, None, name)),
            )?);
        }
        managed(iam, &me, None, &u.attached, &mut stmts)?;
        attached.extend(u.attached.iter().map(|p| p.arn.clone()));
        let groups = iam.groups.get().map_err(Clone::clone)?;
        for name in &u.groups {
            let Some(g) = groups.and_then(|m| m.get(name)) else {
                return Err(CollectError {
                    source: GET_ACCOUNT_AUTHORIZATION_DETAILS.into(),
                    region: None,
                    kind: ErrorKind::NotCollected,
                    message: format!(
                        "user {} is in group {name}, which was not collected",
                        u.name
                    ),
                });
            };
            stmts.extend(group_statements(iam, &me, g)?);
            attached.extend(g.attached.iter().map(|p| p.arn.clone()));
        }
    }
    iam_eval::bind_variables(&mut stmts, who.kind, &who.name);
    Ok(Some(Effective {
        statements: stmts,
        attached,
    }))
}

/// The account, and every scanned region: what permissions are probed against.
fn arn_base(cx: &Cx<'_>) -> (Vec<String>, String) {
    let mut regions: Vec<String> = cx.snap.regions.keys().cloned().collect();
    if regions.is_empty() {
        regions.push("us-east-1".into());
    }
    (regions, cx.account().unwrap_or("123456789012").to_string())
}

/// The ARNs of the named repositories: as collected where they exist, else as they would
/// be in every scanned region.
fn repo_arns(cx: &Cx<'_>, names: &[String]) -> Vec<String> {
    let (regions, account) = arn_base(cx);
    let mut out = Vec::new();
    for name in names {
        let found: Vec<String> = cx
            .snap
            .regions
            .values()
            .filter_map(|inv| inv.ecr.repositories.get().ok().flatten())
            .filter_map(|m| m.get(name))
            .map(|r| r.arn.clone())
            .collect();
        if found.is_empty() {
            out.extend(
                regions
                    .iter()
                    .map(|r| format!("arn:aws:ecr:{r}:{account}:repository/{name}")),
            );
        } else {
            out.extend(found);
        }
    }
    out
}

/// Runs `judge` for each principal that exists; `fail` for one named that does not,
/// `error` where its policies cannot be read.
fn each_principal(
    cx: &mut Cx<'_>,
    who: &[Who],
    mut judge: impl FnMut(&mut Cx<'_>, &Who, ResourceRef, &[Statement], &[String]),
) {
    for w in who {
        let r = w.resource(cx);
        match effective(&cx.snap.iam, w) {
            Err(e) => cx.error_on(r, "the policies", &e),
            Ok(None) => {
                let msg = format!("The {} {} ({}) does not exist.", w.kind, w.name, w.why);
                cx.fail(
                    r,
                    msg,
                    vec![Evidence::new(
                        GET_ACCOUNT_AUTHORIZATION_DETAILS,
                        serde_json::Value::Null,
                        Some("exists".into()),
                    )],
                );
            }
            Ok(Some(e)) => judge(cx, w, r, &e.statements, &e.attached),
        }
    }
}

/// The app's principals: the ECS roles, the CI/CD principal, and the roles and users the
/// policy names. `Err` after an `error` finding when the ECS roles cannot be known.
fn app_principals(
    cx: &mut Cx<'_>,
    roles: &[String],
    users: &[String],
    ci: &str,
) -> Result<Vec<Who>, ()> {
    let mut who: BTreeSet<Who> = ecs_roles(cx, true, true)?;
    let mut extra = BTreeSet::new();
    if let Some(w) = parse_principal(ci) {
        extra.insert(Who {
            why: "CI/CD principal".into(),
            ..w
        });
    }
    let iam = &cx.snap.iam;
    for (kind, globs) in [("role", roles), ("user", users)] {
        if globs.is_empty() {
            continue;
        }
        let names: Vec<String> = match kind {
            "role" => iam
                .roles
                .get()
                .ok()
                .flatten()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            _ => iam
                .users
                .get()
                .ok()
                .flatten()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
        };
        for n in names
            .into_iter()
            .filter(|n| crate::glob::any_matches(globs, n))
        {
            extra.insert(Who {
                kind,
                name: n,
                why: "named in the policy".into(),
                logs: vec![],
            });
        }
    }
    for w in extra {
        if !who.iter().any(|x| x.kind == w.kind && x.name == w.name) {
            who.insert(w);
        }
    }
    Ok(who.into_iter().collect())
}

fn decision_words(d: Decision) -> &'static str {
    match d {
        Decision::Allowed => "allowed",
        Decision::Denied => "explicitly denied",
        Decision::NotAllowed => "not allowed",
        Decision::Conditional => "allowed only under a condition",
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// IAM-1: the task execution role.
    pub struct EcsExecutionRoleMisconfigured {
        id: "ecs-execution-role-misconfigured",
        scope: "execution role of an ECS task definition",
        controls: ["IAM-1"],
        severity: High,
        kind: "iam-role",
        title: "The ECS task execution role is missing, trusts more than ECS tasks, or cannot log or pull images",
        reads: [Iam, Ecs, Ecr],
    }
}

rule_params! {
    pub struct ExecRoleParams {
        /// ECR repositories the tasks pull from; the role must be able to pull each.
        "repositories" => repositories: Vec<String> = vec!["lifetimecircle-api".to_string()], check = non_empty;
        /// Execution roles named outright (role names), beyond those the task definitions use.
        "roles" => roles: Vec<String> = vec![];
    }
}

const PULL: [&str; 3] = [
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
];
const LOG: [&str; 2] = ["logs:CreateLogStream", "logs:PutLogEvents"];

impl Rule for EcsExecutionRoleMisconfigured {
    type Params = ExecRoleParams;

    fn check(&self, cx: &mut Cx<'_>, p: &ExecRoleParams) {
        let Ok(mut roles) = ecs_roles(cx, true, false) else {
            return;
        };
        for name in &p.roles {
            if !roles.iter().any(|w| &w.name == name) {
                roles.insert(Who {
                    kind: "role",
                    name: name.clone(),
                    why: "named in the policy".into(),
                    logs: vec![],
                });
            }
        }
        let roles: Vec<Who> = roles.into_iter().collect();
        let (_, account) = arn_base(cx);
        let repos = repo_arns(cx, &p.repositories);
        each_principal(cx, &roles, |cx, who, r, stmts, _| {
            let mut problems = Vec::new();
            let mut unsure = Vec::new();
            // Trust: ECS tasks, and nobody else.
            let roles = cx.snap.iam.roles.get().ok().flatten();
            let trust = roles
                .and_then(|m| m.get(&who.name))
                .map(|role| doc_statements(&role.trust, "the trust policy", None));
            let trusted = match trust {
                Some(Ok(t)) => iam_eval::trusted(&t),
                Some(Err(e)) => return cx.error_on(r, "the trust policy", &e),
                None => vec![],
            };
            // A condition on the ECS trust (aws:SourceAccount, as AWS advises) only narrows it.
            if !trusted
                .iter()
                .any(|(k, v, _)| k == "Service" && v == "ecs-tasks.amazonaws.com")
            {
                problems.push("is not trusted by ecs-tasks.amazonaws.com".to_string());
            }
            let others: Vec<String> = trusted
                .iter()
                .filter(|(k, v, _)| !(k == "Service" && v == "ecs-tasks.amazonaws.com"))
                .map(|(k, v, _)| format!("{k} {v}"))
                .collect();
            if !others.is_empty() {
                problems.push(format!("is also trusted by {}", join_words(&others)));
            }
            // Permissions: write logs, pull images.
            let mut checks: Vec<(String, String)> =
                vec![("ecr:GetAuthorizationToken".into(), "*".into())];
            for arn in &repos {
                for a in PULL {
                    checks.push((a.into(), arn.clone()));
                }
            }
            // The log groups of the task definitions this role serves, in their regions.
            for (region, g) in &who.logs {
                for a in LOG {
                    checks.push((
                        a.into(),
                        format!("arn:aws:logs:{region}:{account}:log-group:{g}:log-stream:probe"),
                    ));
                }
            }
            let mut decided = Vec::new();
            for (action, resource) in &checks {
                let d = iam_eval::decide(stmts, action, resource);
                decided.push(serde_json::json!({ "action": action, "resource": resource, "decision": decision_words(d) }));
                match d {
                    Decision::Allowed => {}
                    Decision::Conditional => unsure.push(format!("{action} on {resource}")),
                    _ => problems.push(format!("cannot {action} on {resource}")),
                }
            }
            let ev = vec![Evidence::new(
                GET_ACCOUNT_AUTHORIZATION_DETAILS,
                serde_json::json!({ "trusted_by": trusted.iter().map(|(k, v, c)| format!("{k} {v}{}", if *c { " (conditional)" } else { "" })).collect::<Vec<_>>(), "permissions": decided }),
                Some(
                    "trusted only by ecs-tasks.amazonaws.com; can write logs and pull images"
                        .into(),
                ),
            )];
            if !problems.is_empty() {
                let msg = format!(
                    "Execution role {} ({}) {}.",
                    who.name,
                    who.why,
                    join_words(&problems)
                );
                cx.fail(r, msg, ev);
            } else if !unsure.is_empty() {
                let msg = format!(
                    "Could not decide execution role {}: {} is allowed only under a condition.",
                    who.name,
                    join_words(&unsure)
                );
                cx.emit(Status::Error, r, msg, ev);
            } else {
                let msg = format!(
                    "Execution role {} ({}) is trusted only by ECS tasks and can write logs and pull images.",
                    who.name, who.why
                );
                cx.pass(r, msg, ev);
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
rule_params! {
    pub struct AppParams {
        /// The CI/CD principal, as `role/NAME` or `user/NAME` (empty: none).
        "ci-principal" => ci_principal: String = String::new(), check = principal_param;
        /// More roles of the app, by name (wildcards allowed), beyond the ECS roles.
        "roles" => roles: Vec<String> = vec![];
        /// Users of the app, by name (wildcards allowed).
        "users" => users: Vec<String> = vec![];
    }
}

/// A synthetic resource no real policy names: allowed on it means allowed on anything.
fn probe_check(cx: &mut Cx<'_>, p: &AppParams, checks: &[(&str, String)], what: &str, ok: &str) {
    let Ok(who) = app_principals(cx, &p.roles, &p.users, &p.ci_principal) else {
        return;
    };
    each_principal(cx, &who, |cx, w, r, stmts, _| {
        let decided: Vec<(String, Decision)> = checks
            .iter()
            .map(|(a, res)| (format!("{a} on {res}"), iam_eval::decide(stmts, a, res)))
            .collect();
        let ev = vec![Evidence::new(
            GET_ACCOUNT_AUTHORIZATION_DETAILS,
            decided
                .iter()
                .map(|(k, d)| serde_json::json!({ "request": k, "decision": decision_words(*d) }))
                .collect::<Vec<_>>(),
            Some(format!("not allowed: {what}")),
        )];
        let allowed: Vec<String> = decided
            .iter()
            .filter(|(_, d)| d.allowed())
            .map(|(k, _)| k.clone())
            .collect();
        let conditional = decided.iter().any(|(_, d)| *d == Decision::Conditional);
        if !allowed.is_empty() {
            let msg = format!(
                "The {} {} ({}) may {}: {what}.",
                w.kind,
                w.name,
                w.why,
                join_words(&allowed)
            );
            cx.fail(r, msg, ev);
        } else if conditional {
            let msg = format!("Could not decide whether the {} {} has {what}: a matching statement has a condition.", w.kind, w.name);
            cx.emit(Status::Error, r, msg, ev);
        } else {
            let msg = format!("The {} {} ({}) {ok}.", w.kind, w.name, w.why);
            cx.pass(r, msg, ev);
        }
    });
}

declare_rule! {
    /// IAM-2: S3 access scoped to the frontend bucket.
    pub struct S3AccessNotScoped {
        id: "s3-access-not-scoped-to-bucket",
        scope: "app role or user",
        controls: ["IAM-2"],
        severity: High,
        kind: "iam-role",
        title: "An app principal may use S3 on buckets other than the frontend bucket",
        reads: [Iam, Ecs],
    }
}

impl Rule for S3AccessNotScoped {
    type Params = AppParams;

    fn check(&self, cx: &mut Cx<'_>, p: &AppParams) {
        let other = "arn:aws:s3:::infraverify-probe-unrelated-bucket";
        let checks = [
            ("s3:GetObject", format!("{other}/key")),
            ("s3:PutObject", format!("{other}/key")),
            ("s3:DeleteObject", format!("{other}/key")),
            ("s3:ListBucket", other.to_string()),
        ];
        probe_check(
            cx,
            p,
            &checks,
            "S3 access beyond its own bucket",
            "has no S3 access beyond named buckets",
        );
    }
}

declare_rule! {
    /// IAM-3: secrets access scoped to named secrets.
    pub struct SecretsAccessNotScoped {
        id: "secrets-access-not-scoped",
        scope: "app role or user",
        controls: ["IAM-3"],
        severity: High,
        kind: "iam-role",
        title: "An app principal may read secrets other than the ones named for it",
        reads: [Iam, Ecs, Secrets],
    }
}

impl Rule for SecretsAccessNotScoped {
    type Params = AppParams;

    fn check(&self, cx: &mut Cx<'_>, p: &AppParams) {
        let (regions, account) = arn_base(cx);
        let checks: Vec<(&str, String)> = regions
            .iter()
            .map(|region| {
                (
                    "secretsmanager:GetSecretValue",
                    format!("arn:aws:secretsmanager:{region}:{account}:secret:infraverify-probe-unrelated-AbCdEf"),
                )
            })
            .collect();
        probe_check(
            cx,
            p,
            &checks,
            "GetSecretValue on secrets it was not given",
            "can read only the secrets named for it",
        );
    }
}

declare_rule! {
    /// IAM-3: the app's secrets can be read only by the roles that use them.
    pub struct AppSecretReadableByOthers {
        id: "app-secret-readable-by-others",
        scope: "IAM user or role of the account (service-linked roles aside)",
        controls: ["IAM-3"],
        severity: High,
        kind: "iam-role",
        title: "A principal other than the roles that use them may read the application's secrets",
        reads: [Iam, Ecs, Secrets],
    }
}

rule_params! {
    pub struct SecretReadersParams {
        /// The application's secrets, by name (those `required-secret-missing` requires).
        "secrets" => secrets: Vec<String> = vec!["prod/db/password".to_string(), "prod/LTC_SECRET_KEY".to_string(), "prod/DATABASE_URL".to_string()], check = non_empty;
        /// Principals that may read them besides the roles of the task definitions that
        /// reference them, as `role/NAME` or `user/NAME` (wildcards allowed).
        "readers" => readers: Vec<String> = vec![], check = principal_patterns;
        /// Roles allowed to administer the account (see `admin-access-not-allowed`), who
        /// can read anything.
        "admin-roles" => admin_roles: Vec<String> = default_admin_roles();
    }
}

/// Whether a task definition's `valueFrom` names `secret`: its ARN, or its ARN without the
/// random suffix (a partial ARN), either alone or with a JSON key, version stage or version
/// id after it. A bare name is an SSM parameter, not a Secrets Manager secret.
fn references(value_from: &str, secret: &Secret) -> bool {
    let Some(arn) = &secret.arn else { return false };
    let partial = arn.rsplit_once('-').map(|(p, _)| p).unwrap_or(arn);
    [arn.as_str(), partial]
        .iter()
        .any(|a| value_from == *a || value_from.starts_with(&format!("{a}:")))
}

impl Rule for AppSecretReadableByOthers {
    type Params = SecretReadersParams;

    fn check(&self, cx: &mut Cx<'_>, p: &SecretReadersParams) {
        // The app's secrets as they exist, in every scanned region, and who uses each (a
        // task definition may name a secret of another region by its ARN).
        let regions: Vec<Region<'_>> = cx.regions().collect();
        let mut found: Vec<&Secret> = Vec::new();
        let mut defs = Vec::new();
        for region in regions {
            match region.inv.secrets.secrets.get() {
                Ok(l) => found.extend(l.into_iter().flat_map(|m| m.values())),
                Err(e) => return cx.unavailable(region.name, "the secrets", e),
            }
            match region.inv.ecs.task_definitions.get() {
                Ok(d) => defs.extend(d.into_iter().flat_map(|m| m.values())),
                Err(e) => {
                    return cx.unavailable(region.name, "the ECS task definitions' secrets", e)
                }
            }
        }
        let secrets: Vec<(Secret, BTreeSet<String>)> = found
            .into_iter()
            .filter(|s| p.secrets.contains(&s.name) && s.arn.is_some())
            .map(|s| {
                let users = defs
                    .iter()
                    .filter(|d| d.secrets.iter().any(|v| references(v, s)))
                    .flat_map(|d| [d.execution_role_arn.as_deref(), d.task_role_arn.as_deref()])
                    .flatten()
                    .filter_map(role_name)
                    .collect();
                (s.clone(), users)
            })
            .collect();
        if secrets.is_empty() {
            let r = ResourceRef::new("iam-role", "*").account(cx.account());
            return cx.skip(
                r,
                format!(
                    "None of the application's secrets ({}) exists; required-secret-missing reports that.",
                    join_words(&p.secrets)
                ),
            );
        }
        let Some(acct) = account_principals(cx) else {
            return;
        };
        let admins = allowed_admins(&acct, &p.admin_roles);
        for (pr, admin) in acct.principals.iter().zip(admins) {
            let r = principal_ref(cx, pr);
            let stmts = match &pr.policies {
                Err(e) => {
                    cx.error_on(r, "the policies", e);
                    continue;
                }
                Ok(s) => s,
            };
            if admin {
                let msg = format!(
                    "The {} can administer the account, as admin-roles allows, and so may read any secret.",
                    pr.label()
                );
                cx.pass(r, msg, vec![]);
                continue;
            }
            let mut can = Vec::new();
            let mut steps = Vec::new();
            let mut unsure = Vec::new();
            for (secret, users) in &secrets {
                let arn = secret.arn.as_deref().unwrap_or_default();
                let (d, g) = iam_eval::explain(stmts, "secretsmanager:GetSecretValue", arn);
                let allowed_here = (pr.who.kind == "role" && users.contains(&pr.who.name))
                    || access::principal_matches(&p.readers, pr);
                if allowed_here {
                    continue;
                }
                match d {
                    Decision::Allowed => {
                        can.push((
                            secret.name.clone(),
                            g.as_ref().map(Grant::path).unwrap_or_default(),
                        ));
                        steps.push(g.as_ref().map(Grant::json).unwrap_or_default());
                    }
                    Decision::Conditional => {
                        unsure.push(secret.name.clone());
                        steps.push(g.as_ref().map(Grant::json).unwrap_or_default());
                    }
                    _ => {}
                }
            }
            let ev = vec![Evidence::new(
                GET_ACCOUNT_AUTHORIZATION_DETAILS,
                serde_json::json!({ "may_read": steps }),
                Some("secretsmanager:GetSecretValue only for the roles of task definitions that reference the secret".into()),
            )];
            if !can.is_empty() {
                let msg = format!(
                    "The {} may read the application's secrets, which only the roles that use them may: GetSecretValue on {}.",
                    pr.label(),
                    by_route(&can)
                );
                cx.fail(r, msg, ev);
            } else if !unsure.is_empty() {
                let msg = format!(
                    "Could not decide whether the {} may read {}: a matching statement has a condition.",
                    pr.label(),
                    join_words(&unsure)
                );
                cx.emit(Status::Error, r, msg, ev);
            } else {
                let msg = format!(
                    "The {} may read none of the application's secrets it does not use.",
                    pr.label()
                );
                cx.pass(r, msg, ev);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// IAM-4: nobody but the allowed roles can administer the account.
    pub struct AdminAccessNotAllowed {
        id: "admin-access-not-allowed",
        scope: "IAM user or role of the account (service-linked roles aside)",
        controls: ["IAM-4"],
        severity: Critical,
        kind: "iam-role",
        title: "An IAM user, or a role not allowed to, can administer the account",
        reads: [Iam],
    }
}

/// AWS IAM Identity Center's permission-set roles and the role AWS Organizations creates
/// for the management account.
pub fn default_admin_roles() -> Vec<String> {
    vec![
        "/aws-reserved/sso.amazonaws.com/*".to_string(),
        "OrganizationAccountAccessRole".to_string(),
    ]
}

rule_params! {
    pub struct AdminParams {
        /// Roles allowed to administer the account: a role name, or a path and name when
        /// the pattern starts with `/` (wildcards allowed). No IAM user is ever allowed.
        "admin-roles" => admin_roles: Vec<String> = default_admin_roles();
    }
}

/// For each principal, whether it is an administrator role `admin-roles` allows: only
/// such a role may also do what the app's principals alone may. A role the patterns match
/// that cannot in fact administer the account is judged like any other.
fn allowed_admins(acct: &access::Account, admin_roles: &[String]) -> Vec<bool> {
    acct.admins()
        .into_iter()
        .zip(&acct.principals)
        .map(|(st, pr)| {
            matches!(st, access::Standing::Admin(_)) && access::role_matches(admin_roles, pr)
        })
        .collect()
}

/// What a principal may do, grouped by the route that grants it: `prod/a and prod/b (user x
/// → … → Action "*" on Resource "*"); prod/c (…)`.
fn by_route(items: &[(String, String)]) -> String {
    let mut routes: Vec<(&str, Vec<String>)> = Vec::new();
    for (what, route) in items {
        match routes.iter_mut().find(|(r, _)| r == route) {
            Some((_, list)) => list.push(what.clone()),
            None => routes.push((route, vec![what.clone()])),
        }
    }
    routes
        .iter()
        .map(|(route, list)| format!("{} ({route})", join_words(list)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The account's users and roles; `None` after an `error` finding when IAM cannot be read.
fn account_principals(cx: &mut Cx<'_>) -> Option<access::Account> {
    match access::Account::read(&cx.snap.iam, cx.account()) {
        Ok(a) => Some(a),
        Err(e) => {
            let r = ResourceRef::new("iam-role", "*").account(cx.account());
            cx.error_on(r, "the account's users and roles", &e);
            None
        }
    }
}

fn principal_ref(cx: &Cx<'_>, p: &access::Principal) -> ResourceRef {
    ResourceRef::new(
        if p.who.kind == "role" {
            "iam-role"
        } else {
            "iam-user"
        },
        p.who.name.clone(),
    )
    .name(Some(p.who.name.clone()))
    .arn(Some(p.arn.clone()))
    .account(cx.account())
}

impl Rule for AdminAccessNotAllowed {
    type Params = AdminParams;

    fn check(&self, cx: &mut Cx<'_>, p: &AdminParams) {
        let Some(acct) = account_principals(cx) else {
            return;
        };
        let standing = acct.admins();
        for (pr, st) in acct.principals.iter().zip(standing) {
            let r = principal_ref(cx, pr);
            let allowed = access::role_matches(&p.admin_roles, pr);
            let ev = |steps: &[serde_json::Value]| {
                vec![Evidence::new(
                    GET_ACCOUNT_AUTHORIZATION_DETAILS,
                    serde_json::json!({ "allowed_admin_role": allowed, "path": steps }),
                    Some(if pr.who.kind == "user" {
                        "no way to administer the account".into()
                    } else {
                        "no way to administer the account, unless admin-roles allows the role"
                            .into()
                    }),
                )]
            };
            match st {
                access::Standing::Unknown(e) => cx.error_on(r, "the policies", &e),
                access::Standing::Admin(route) if allowed => {
                    let msg = format!(
                        "The {} can administer the account, as admin-roles allows: it {}.",
                        pr.label(),
                        route.how
                    );
                    cx.pass(r, msg, ev(&route.steps));
                }
                access::Standing::Admin(route) => {
                    let msg = format!(
                        "The {} can administer the account{}: it {}.",
                        pr.label(),
                        if pr.who.kind == "user" {
                            ", and no IAM user may"
                        } else {
                            " and is not among the allowed roles (admin-roles)"
                        },
                        route.how
                    );
                    cx.fail(r, msg, ev(&route.steps));
                }
                access::Standing::Maybe(_) if allowed => {
                    let msg = format!(
                        "The {} may be able to administer the account, as admin-roles allows.",
                        pr.label()
                    );
                    cx.pass(r, msg, ev(&[]));
                }
                access::Standing::Maybe(route) => {
                    let msg = format!(
                        "Could not decide whether the {} can administer the account: it {}, which depends on a condition or on policies that could not be read.",
                        pr.label(),
                        route.how
                    );
                    cx.emit(Status::Error, r, msg, ev(&route.steps));
                }
                access::Standing::Not => {
                    let msg = format!(
                        "The {} cannot administer the account: no Action \"*\" on Resource \"*\", no write to IAM permissions, and no administrator it can become.",
                        pr.label()
                    );
                    cx.pass(r, msg, ev(&[]));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// IAM-5: CI/CD can push; nobody else can.
    pub struct EcrPushMisassigned {
        id: "ecr-push-permissions-misassigned",
        scope: "IAM user or role of the account (service-linked roles aside)",
        controls: ["IAM-5"],
        severity: High,
        kind: "iam-role",
        title: "The CI/CD principal cannot push to the app's ECR repositories, or another principal can",
        reads: [Iam, Ecs, Ecr],
    }
}

rule_params! {
    pub struct PushParams {
        /// The CI/CD principal, as `role/NAME` or `user/NAME`; it must be able to push.
        "ci-principal" => ci_principal: String = String::new(), check = principal_param;
        /// The ECR repositories pushed to.
        "repositories" => repositories: Vec<String> = vec!["lifetimecircle-api".to_string(), "lifetimecircle-web".to_string()], check = non_empty;
        /// Roles allowed to administer the account (see `admin-access-not-allowed`), who
        /// can push as they can do anything.
        "admin-roles" => admin_roles: Vec<String> = default_admin_roles();
    }
}

/// The actions that write images into a repository: a manifest (`PutImage`, which can
/// also point a tag at layers already there) and layers.
const WRITE: [&str; 4] = [
    "ecr:PutImage",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
];

const PUSH: [&str; 5] = [
    "ecr:PutImage",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:BatchCheckLayerAvailability",
];

impl Rule for EcrPushMisassigned {
    type Params = PushParams;

    fn check(&self, cx: &mut Cx<'_>, p: &PushParams) {
        cx.threshold("ci-principal");
        let repo_arns = repo_arns(cx, &p.repositories);
        match parse_principal(&p.ci_principal) {
            None => {
                let r = ResourceRef::new("iam-role", "*").account(cx.account());
                cx.skip(
                    r,
                    "No CI/CD principal is named (ci-principal); who may push is not checked."
                        .to_string(),
                );
            }
            Some(ci) => {
                let ci = Who {
                    why: "CI/CD principal".into(),
                    ..ci
                };
                each_principal(cx, std::slice::from_ref(&ci), |cx, w, r, stmts, _| {
                    let mut missing = Vec::new();
                    let mut unsure = false;
                    for (action, res) in
                        std::iter::once(("ecr:GetAuthorizationToken", "*".to_string())).chain(
                            repo_arns
                                .iter()
                                .flat_map(|a| PUSH.iter().map(move |x| (*x, a.clone()))),
                        )
                    {
                        match iam_eval::decide(stmts, action, &res) {
                            Decision::Allowed => {}
                            Decision::Conditional => unsure = true,
                            _ => missing.push(format!("{action} on {res}")),
                        }
                    }
                    let ev = vec![Evidence::new(
                        GET_ACCOUNT_AUTHORIZATION_DETAILS,
                        serde_json::json!({ "missing": missing }),
                        Some("may push to every repository".into()),
                    )];
                    if !missing.is_empty() {
                        let msg = format!(
                            "CI/CD principal {} cannot push: it lacks {}.",
                            w.name,
                            join_words(&missing)
                        );
                        cx.fail(r, msg, ev);
                    } else if unsure {
                        let msg = format!("Could not decide whether CI/CD principal {} can push: a statement has a condition.", w.name);
                        cx.emit(Status::Error, r, msg, ev);
                    } else {
                        let msg = format!(
                            "CI/CD principal {} may push to {}.",
                            w.name,
                            join_words(&p.repositories)
                        );
                        cx.pass(r, msg, ev);
                    }
                });
            }
        }
        // Nobody else: every user and role of the account that may write to them.
        let Some(acct) = account_principals(cx) else {
            return;
        };
        let ci = parse_principal(&p.ci_principal);
        let admins = allowed_admins(&acct, &p.admin_roles);
        for (pr, admin) in acct.principals.iter().zip(admins) {
            if ci
                .as_ref()
                .is_some_and(|c| c.kind == pr.who.kind && c.name == pr.who.name)
            {
                continue;
            }
            let r = principal_ref(cx, pr);
            let stmts = match &pr.policies {
                Err(e) => {
                    cx.error_on(r, "the policies", e);
                    continue;
                }
                Ok(s) => s,
            };
            let mut can = Vec::new();
            let mut steps = Vec::new();
            let mut unsure = false;
            for arn in &repo_arns {
                for action in WRITE {
                    let (d, g) = iam_eval::explain(stmts, action, arn);
                    match d {
                        Decision::Allowed => {
                            let repo = arn
                                .rsplit_once(":repository/")
                                .map_or(arn.as_str(), |(_, n)| n);
                            can.push((
                                format!("{action} on {repo}"),
                                g.as_ref().map(Grant::path).unwrap_or_default(),
                            ));
                            steps.push(g.as_ref().map(Grant::json).unwrap_or_default());
                            break;
                        }
                        Decision::Conditional => {
                            unsure = true;
                            steps.push(g.as_ref().map(Grant::json).unwrap_or_default());
                        }
                        _ => {}
                    }
                }
            }
            let ev = vec![Evidence::new(
                GET_ACCOUNT_AUTHORIZATION_DETAILS,
                serde_json::json!({ "may_push": steps, "allowed_admin_role": admin }),
                Some("no ecr:PutImage, InitiateLayerUpload, UploadLayerPart or CompleteLayerUpload on the repositories".into()),
            )];
            if admin {
                let msg = format!(
                    "The {} can administer the account, as admin-roles allows, and so may push images.",
                    pr.label()
                );
                cx.pass(r, msg, ev);
            } else if !can.is_empty() {
                let msg = format!(
                    "The {} may push images, which only the CI/CD principal may: {}.",
                    pr.label(),
                    by_route(&can)
                );
                cx.fail(r, msg, ev);
            } else if unsure {
                let msg = format!(
                    "Could not decide whether the {} may push images: a matching statement has a condition.",
                    pr.label()
                );
                cx.emit(Status::Error, r, msg, ev);
            } else {
                let msg = format!(
                    "The {} cannot push images to {}.",
                    pr.label(),
                    join_words(&p.repositories)
                );
                cx.pass(r, msg, ev);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::finding::Status::*;
    use crate::inventory::Observed;

    fn with_iam(f: impl FnOnce(&mut Iam)) -> crate::inventory::Snapshot {
        let mut s = compliant();
        f(&mut s.iam);
        s
    }

    fn set_inline(iam: &mut Iam, role: &str, doc: serde_json::Value) {
        let r = value(&mut iam.roles).get_mut(role).unwrap();
        r.inline.insert("extra".into(), present(doc));
    }

    const CI: &str = "ci-principal = \"role/lifetimecircle-ci\"";

    #[test]
    fn execution_role() {
        let rule = "ecs-execution-role-misconfigured";
        assert_verdicts(&run(rule, "", &compliant()), &[("lc-exec", Pass)]);
        // Trusted by another account too, and without the managed policy.
        let s = with_iam(|iam| {
            let r = value(&mut iam.roles).get_mut("lc-exec").unwrap();
            r.trust = present(serde_json::json!({"Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]}));
            r.attached.clear();
        });
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("lc-exec", Fail)]);
        assert!(
            f[0].message
                .contains("is also trusted by AWS arn:aws:iam::999999999999:root"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message
                .contains("cannot ecr:GetAuthorizationToken on *"),
            "{}",
            f[0].message
        );
        // A condition on the ECS trust (AWS's aws:SourceAccount guard) only narrows it.
        let s = with_iam(|iam| {
            value(&mut iam.roles).get_mut("lc-exec").unwrap().trust = present(
                serde_json::json!({"Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]}),
            );
        });
        assert_verdicts(&run(rule, "", &s), &[("lc-exec", Pass)]);
        // NotPrincipal in an Allow trusts everyone else.
        let s = with_iam(|iam| {
            value(&mut iam.roles).get_mut("lc-exec").unwrap().trust = present(
                serde_json::json!({"Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}),
            );
        });
        assert_verdicts(&run(rule, "", &s), &[("lc-exec", Fail)]);
        // A task definition may name its role by short name, as ECS accepts and reports it.
        let mut s = compliant();
        value(&mut inv(&mut s).ecs.task_definitions)
            .get_mut("arn:td-api")
            .unwrap()
            .execution_role_arn = Some("lc-exec".into());
        assert_verdicts(&run(rule, "", &s), &[("lc-exec", Pass)]);
        // Named by the task definition but gone.
        let s = with_iam(|iam| {
            value(&mut iam.roles).remove("lc-exec");
        });
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("lc-exec", Fail)]);
        assert!(
            f[0].message.ends_with("does not exist."),
            "{}",
            f[0].message
        );
        // IAM unreadable: error on the role; task definitions unreadable: error for the region.
        let s = with_iam(|iam| {
            iam.roles = Observed::unavailable(denied("iam:GetAccountAuthorizationDetails"))
        });
        assert_verdicts(&run(rule, "", &s), &[("lc-exec", Error)]);
        let mut s = compliant();
        inv(&mut s).ecs.task_definitions =
            Observed::unavailable(denied("ecs:DescribeTaskDefinition"));
        assert_verdicts(&run(rule, "", &s), &[("*", Error)]);
        let mut s = compliant();
        value(&mut inv(&mut s).ecs.task_definitions).clear();
        assert_verdicts(&run(rule, "", &s), &[("*", Skipped)]);
        // Pinned by name, even with no task definition using it.
        assert_verdicts(
            &run(rule, "roles = [\"lc-exec\"]", &s),
            &[("lc-exec", Pass)],
        );
        assert_verdicts(
            &run(rule, "roles = [\"lc-gone\"]", &s),
            &[("lc-gone", Fail)],
        );
    }

    #[test]
    fn s3_and_secrets_scoping_probe_with_an_unrelated_resource() {
        let s = compliant();
        assert_verdicts(
            &run("s3-access-not-scoped-to-bucket", CI, &s),
            &[
                ("lc-exec", Pass),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Pass),
            ],
        );
        assert_verdicts(
            &run("secrets-access-not-scoped", CI, &s),
            &[
                ("lc-exec", Pass),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Pass),
            ],
        );
        let s = with_iam(|iam| {
            set_inline(
                iam,
                "lc-task",
                serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}),
            );
        });
        let f = run("s3-access-not-scoped-to-bucket", "", &s);
        assert_verdicts(&f, &[("lc-exec", Pass), ("lc-task", Fail)]);
        assert!(
            f[1].message.contains(
                "may s3:GetObject on arn:aws:s3:::infraverify-probe-unrelated-bucket/key"
            ),
            "{}",
            f[1].message
        );
        assert_verdicts(
            &run("secrets-access-not-scoped", "", &s),
            &[("lc-exec", Pass), ("lc-task", Fail)],
        );
        // A conditional grant cannot be judged.
        let s = with_iam(|iam| {
            set_inline(
                iam,
                "lc-task",
                serde_json::json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}}),
            );
        });
        assert_verdicts(
            &run("s3-access-not-scoped-to-bucket", "", &s),
            &[("lc-exec", Pass), ("lc-task", Error)],
        );
        let mut s = compliant();
        value(&mut inv(&mut s).ecs.task_definitions).clear();
        assert_verdicts(&run("secrets-access-not-scoped", "", &s), &[("*", Skipped)]);
    }

    fn message_of<'a>(f: &'a [crate::finding::Finding], id: &str) -> &'a str {
        &f.iter()
            .find(|f| f.resource.id == id)
            .unwrap_or_else(|| panic!("no finding for {id}: {f:#?}"))
            .message
    }

    /// An account with principals that can administer it by each route, and their twins.
    fn admin_account() -> crate::inventory::Snapshot {
        with_iam(|iam| {
            admin_policy(iam);
            let pass_all = serde_json::json!({"Statement": [
                {"Sid": "Deploy", "Effect": "Allow", "Action": ["ecs:RegisterTaskDefinition", "ecs:UpdateService"], "Resource": "*"},
                {"Sid": "PassAny", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]});
            let pass_app = serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": [
                    "arn:aws:iam::123456789012:role/lc-exec", "arn:aws:iam::123456789012:role/lc-task"]}]});
            let assume_admin = serde_json::json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole",
                "Resource": "arn:aws:iam::123456789012:role/ops-admin"}});
            let keys = serde_json::json!({"Statement": {"Effect": "Allow", "Action": "iam:CreateAccessKey",
                "Resource": "arn:aws:iam::123456789012:user/*"}});
            let attach = serde_json::json!({"Statement": {"Effect": "Allow", "Action": ["iam:AttachRolePolicy", "iam:Get*"], "Resource": "*"}});
            let roles = value(&mut iam.roles);
            let admin_trust = present(serde_json::json!({"Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}));
            for (name, r) in [
                role(
                    "ops-admin",
                    admin_trust,
                    &[ADMIN_POLICY],
                    serde_json::Value::Null,
                ),
                role("deployer", trust("codebuild.amazonaws.com"), &[], pass_all),
                role(
                    "deployer-ok",
                    trust("codebuild.amazonaws.com"),
                    &[],
                    pass_app,
                ),
                role("assumer", trust("ec2.amazonaws.com"), &[], assume_admin),
                role("attacher", trust("apigateway.amazonaws.com"), &[], attach),
            ] {
                roles.insert(name, r);
            }
            let saml = present(serde_json::json!({"Statement": {"Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::123456789012:saml-provider/AWSSSO_0123_DO_NOT_DELETE"},
                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"]}}));
            let (name, mut sso) = role(
                "AWSReservedSSO_AdministratorAccess_0123abcd",
                saml,
                &[ADMIN_POLICY],
                serde_json::Value::Null,
            );
            sso.arn = format!(
                "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-central-1/{name}"
            );
            roles.insert(name, sso);
            let (name, mut slr) = role(
                "AWSServiceRoleForECS",
                trust("ecs.amazonaws.com"),
                &[ADMIN_POLICY],
                serde_json::Value::Null,
            );
            slr.arn =
                format!("arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/{name}");
            roles.insert(name, slr);
            let groups = value(&mut iam.groups);
            let (n, g) = iam_group("admins", &[ADMIN_POLICY], serde_json::Value::Null);
            groups.insert(n, g);
            let (n, g) = iam_group(
                "readers",
                &[],
                serde_json::json!({"Statement": {"Effect": "Allow", "Action": ["ecr:Describe*", "ecr:List*"], "Resource": "*"}}),
            );
            groups.insert(n, g);
            let users = value(&mut iam.users);
            for (n, u) in [
                user(
                    "lc-cicd-legacy",
                    &[],
                    &[ADMIN_POLICY],
                    serde_json::Value::Null,
                ),
                user("deploy", &["admins"], &[], serde_json::Value::Null),
                user("auditor", &["readers"], &[], serde_json::Value::Null),
                user("helpdesk", &[], &[], keys),
                user(
                    "joiner",
                    &[],
                    &[],
                    serde_json::json!({"Statement": {"Effect": "Allow", "Action": "iam:AddUserToGroup",
                        "Resource": "arn:aws:iam::123456789012:group/admins"}}),
                ),
            ] {
                users.insert(n, u);
            }
        })
    }

    #[test]
    fn admin_access_by_every_route_and_nobody_else() {
        let rule = "admin-access-not-allowed";
        assert_verdicts(
            &run(rule, "", &compliant()),
            &[
                ("lc-exec", Pass),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Pass),
            ],
        );
        let s = admin_account();
        let f = run(rule, "", &s);
        assert_verdicts(
            &f,
            &[
                ("AWSReservedSSO_AdministratorAccess_0123abcd", Pass),
                ("assumer", Fail),
                ("attacher", Fail),
                ("deployer", Fail),
                ("deployer-ok", Pass),
                ("lc-exec", Pass),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Pass),
                ("ops-admin", Fail),
                ("auditor", Pass),
                ("deploy", Fail),
                ("helpdesk", Fail),
                ("joiner", Fail),
                ("lc-cicd-legacy", Fail),
            ],
        );
        assert!(
            message_of(&f, "joiner").contains("may iam:AddUserToGroup on group admins (user joiner → inline policy app → statement #0 → Action \"iam:AddUserToGroup\" on Resource \"arn:aws:iam::123456789012:group/admins\"), and group admins may perform any action on any resource (group admins → managed policy AdministratorAccess (v1)"),
            "{}",
            message_of(&f, "joiner")
        );
        // The path: principal → group → policy (version) → statement → the patterns.
        assert!(message_of(&f, "lc-cicd-legacy").contains(
            "user lc-cicd-legacy → managed policy AdministratorAccess (v1) → statement #0 → Action \"*\" on Resource \"*\""
        ), "{}", message_of(&f, "lc-cicd-legacy"));
        assert!(message_of(&f, "lc-cicd-legacy").contains("no IAM user may"));
        assert!(
            message_of(&f, "deploy")
                .contains("user deploy → group admins → managed policy AdministratorAccess (v1)"),
            "{}",
            message_of(&f, "deploy")
        );
        let deployer = message_of(&f, "deployer");
        assert!(
            deployer.contains("may iam:PassRole role ops-admin (role deployer → inline policy app → statement \"PassAny\" → Action \"iam:PassRole\" on Resource \"*\") to ecs-tasks.amazonaws.com"),
            "{deployer}"
        );
        assert!(
            deployer.contains("role ops-admin may perform any action on any resource"),
            "{deployer}"
        );
        assert!(message_of(&f, "assumer").contains("may sts:AssumeRole into role ops-admin"));
        assert!(message_of(&f, "attacher")
            .contains("may iam:AttachRolePolicy on arn:aws:iam::123456789012:role/"));
        assert!(
            message_of(&f, "helpdesk").contains("may iam:CreateAccessKey for user deploy"),
            "{}",
            message_of(&f, "helpdesk")
        );
        assert!(
            message_of(&f, "ops-admin").contains("is not among the allowed roles (admin-roles)")
        );
        let sso = f
            .iter()
            .find(|f| f.resource.id.starts_with("AWSReservedSSO"))
            .unwrap();
        assert!(
            sso.message.contains("as admin-roles allows"),
            "{}",
            sso.message
        );
        // The evidence carries the same path, structured.
        let ev = &f
            .iter()
            .find(|f| f.resource.id == "deploy")
            .unwrap()
            .evidence[0];
        let path = &ev.observed["path"][0];
        assert_eq!(path["group"], "admins");
        assert_eq!(path["policy"], "AdministratorAccess");
        assert_eq!(path["version"], "v1");
        assert_eq!(path["statement"], "#0");
        // Narrowed: allowing ops-admin by name clears it, not those who can become it.
        let f = run(rule, "admin-roles = [\"ops-admin\"]", &s);
        assert_eq!(
            f.iter()
                .find(|f| f.resource.id == "ops-admin")
                .unwrap()
                .status,
            Pass
        );
        assert_eq!(
            f.iter()
                .find(|f| f.resource.id == "deployer")
                .unwrap()
                .status,
            Fail
        );
        // An explicit deny of iam:PassRole on all but the app's roles closes that route.
        let mut s2 = s.clone();
        set_inline(
            &mut s2.iam,
            "deployer",
            serde_json::json!({"Statement": [
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:PassRole", "NotResource": [
                "arn:aws:iam::123456789012:role/lc-exec", "arn:aws:iam::123456789012:role/lc-task"]}]}),
        );
        let f = run(rule, "", &s2);
        assert_eq!(
            f.iter()
                .find(|f| f.resource.id == "deployer")
                .unwrap()
                .status,
            Pass
        );
        // iam:PassedToService is decided: passing only to Lambda reaches no administrator
        // role (they trust ECS tasks and EC2); passing to ECS tasks does.
        // Passing alone, with nothing to start there, runs nothing: pass.
        for (service, launch, want) in [
            ("lambda.amazonaws.com", "ecs:RunTask", Pass),
            ("ecs-tasks.amazonaws.com", "ecs:RunTask", Fail),
            ("ecs-tasks.amazonaws.com", "ecs:DescribeServices", Pass),
        ] {
            let mut s2 = s.clone();
            value(&mut s2.iam.roles)
                .get_mut("deployer")
                .unwrap()
                .inline
                .insert(
                    "app".into(),
                    present(serde_json::json!({"Statement": [
                    {"Effect": "Allow", "Action": launch, "Resource": "*"},
                    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
                     "Condition": {"StringEquals": {"iam:PassedToService": service}}}]})),
                );
            let f = run(rule, "", &s2);
            let d = f.iter().find(|f| f.resource.id == "deployer").unwrap();
            assert_eq!(d.status, want, "{service}: {}", d.message);
        }
        // AWS's "manage your own credentials" policy: ${aws:username} is the user's own
        // name, so it cannot create keys for the administrator user: pass, not error. On a
        // role the variable has no value and matches nothing.
        let self_manage = serde_json::json!({"Statement": {"Effect": "Allow",
            "Action": ["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"],
            "Resource": "arn:aws:iam::*:user/${aws:username}"}});
        let mut s2 = s.clone();
        value(&mut s2.iam.users).extend([user("bob", &[], &[], self_manage.clone())]);
        value(&mut s2.iam.roles).extend([role(
            "selfish",
            trust("ec2.amazonaws.com"),
            &[],
            self_manage,
        )]);
        let f = run(rule, "", &s2);
        for who in ["bob", "selfish"] {
            let b = f.iter().find(|f| f.resource.id == who).unwrap();
            assert_eq!(b.status, Pass, "{who}: {}", b.message);
        }
        // ... but a policy variable it cannot bind leaves the route open: error.
        let mut s2 = s.clone();
        value(&mut s2.iam.users).extend([user("tagged", &[], &[], serde_json::json!({"Statement": {"Effect": "Allow",
            "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::*:user/${aws:PrincipalTag/team}-svc"}}))]);
        let f = run(rule, "", &s2);
        assert_eq!(
            f.iter().find(|f| f.resource.id == "tagged").unwrap().status,
            Pass,
            "no user matches the widened pattern"
        );
        value(&mut s2.iam.users).extend([user("tagged2", &[], &[], serde_json::json!({"Statement": {"Effect": "Allow",
            "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::*:user/${aws:PrincipalTag/team}"}}))]);
        let f = run(rule, "", &s2);
        assert_eq!(
            f.iter()
                .find(|f| f.resource.id == "tagged2")
                .unwrap()
                .status,
            Error
        );
        // A Deny with a condition, and a trust that names the principal: open, not a pass
        // or a fail, whether or not its own policies also allow the call.
        let mut s2 = s.clone();
        let mfa = serde_json::json!({"Statement": {"Effect": "Deny", "NotAction": "iam:ListMFADevices", "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}});
        value(&mut s2.iam.users).extend([user("alice", &[], &[], mfa)]);
        value(&mut s2.iam.roles).get_mut("ops-admin").unwrap().trust = present(
            serde_json::json!({"Statement": {
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"}, "Action": "sts:AssumeRole"}}),
        );
        let f = run(rule, "", &s2);
        assert_eq!(
            f.iter().find(|f| f.resource.id == "alice").unwrap().status,
            Error
        );
        // NotAction: everything but IAM is still any action on any resource.
        let s = with_iam(|iam| {
            set_inline(
                iam,
                "lc-task",
                serde_json::json!({"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}),
            );
        });
        let f = run(rule, "", &s);
        assert!(
            message_of(&f, "lc-task").contains("NotAction [\"iam:*\"] on Resource \"*\""),
            "{}",
            message_of(&f, "lc-task")
        );
        // A condition: error, for it and for whoever can become it.
        let s = with_iam(|iam| {
            set_inline(
                iam,
                "lc-task",
                serde_json::json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}}),
            );
        });
        assert_verdicts(
            &run(rule, "", &s),
            &[
                ("lc-exec", Pass),
                ("lc-task", Error),
                ("lifetimecircle-ci", Pass),
            ],
        );
        // Unreadable: the managed policy's document, or IAM as a whole.
        let s =
            with_iam(|iam| iam.policies = Observed::unavailable(denied("iam:GetPolicyVersion")));
        assert_verdicts(
            &run(rule, "", &s),
            &[
                ("lc-exec", Error),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Pass),
            ],
        );
        let s = with_iam(|iam| {
            iam.roles = Observed::unavailable(denied("iam:GetAccountAuthorizationDetails"))
        });
        assert_verdicts(&run(rule, "", &s), &[("*", Error)]);
        // No users and no roles: nothing to judge.
        let s = with_iam(|iam| {
            value(&mut iam.roles).clear();
        });
        assert_verdicts(&run(rule, "", &s), &[("*", Skipped)]);
        // The old id is answered with the new one.
        let e = crate::policy::load(&[crate::policy::PolicySource {
            name: "p.toml".into(),
            text: "[rules.app-principal-admin-access]\n".into(),
        }])
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("was renamed to `admin-access-not-allowed`"),
            "{e}"
        );
    }

    #[test]
    fn the_app_secrets_are_read_only_by_the_roles_that_use_them() {
        let rule = "app-secret-readable-by-others";
        assert_verdicts(
            &run(rule, "", &compliant()),
            &[
                ("lc-exec", Pass),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Pass),
            ],
        );
        let reader = serde_json::json!({"Statement": {"Sid": "ReadDb", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/db/*"}});
        let other = serde_json::json!({"Statement": {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:staging/*"}});
        let s = with_iam(|iam| {
            admin_policy(iam);
            let roles = value(&mut iam.roles);
            roles.extend([
                role(
                    "reporting",
                    trust("lambda.amazonaws.com"),
                    &[],
                    reader.clone(),
                ),
                role(
                    "reporting-staging",
                    trust("lambda.amazonaws.com"),
                    &[],
                    other,
                ),
            ]);
            let (name, mut sso) = role(
                "AWSReservedSSO_Admin_1",
                trust("ecs-tasks.amazonaws.com"),
                &[ADMIN_POLICY],
                serde_json::Value::Null,
            );
            sso.arn =
                format!("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/{name}");
            roles.insert(name, sso);
            // A permission set that is no administrator but reads every secret: no exemption.
            let (name, mut dev) = role(
                "AWSReservedSSO_Developer_2",
                trust("ecs-tasks.amazonaws.com"),
                &[],
                serde_json::json!({"Statement": {"Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue", "Resource": "*"}}),
            );
            dev.arn =
                format!("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/{name}");
            roles.insert(name, dev);
            value(&mut iam.users).extend([user(
                "analyst",
                &[],
                &[ADMIN_POLICY],
                serde_json::Value::Null,
            )]);
        });
        let f = run(rule, "", &s);
        assert_verdicts(
            &f,
            &[
                ("AWSReservedSSO_Admin_1", Pass),
                ("AWSReservedSSO_Developer_2", Fail),
                ("lc-exec", Pass),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Pass),
                ("reporting", Fail),
                ("reporting-staging", Pass),
                ("analyst", Fail),
            ],
        );
        assert!(
            message_of(&f, "reporting").contains("GetSecretValue on prod/db/password (role reporting → inline policy app → statement \"ReadDb\" → Action \"secretsmanager:GetSecretValue\" on Resource \"arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/db/*\")"),
            "{}",
            message_of(&f, "reporting")
        );
        // Allowed by the policy: a named reader.
        let f = run(rule, "readers = [\"role/report*\"]", &s);
        assert_eq!(
            f.iter()
                .find(|f| f.resource.id == "reporting")
                .unwrap()
                .status,
            Pass
        );
        // The task definition no longer references the secrets: its roles may not read them.
        let mut s = compliant();
        value(&mut inv(&mut s).ecs.task_definitions)
            .get_mut("arn:td-api")
            .unwrap()
            .secrets = vec![
            // A partial ARN with a JSON key, as CDK writes it for a secret imported by name.
            "arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/db/password:password::"
                .into(),
            // A bare name is an SSM parameter's.
            "prod/LTC_SECRET_KEY".into(),
        ];
        let f = run(rule, "", &s);
        assert_verdicts(
            &f,
            &[
                ("lc-exec", Pass),
                ("lc-task", Fail),
                ("lifetimecircle-ci", Pass),
            ],
        );
        assert!(message_of(&f, "lc-task").contains("prod/LTC_SECRET_KEY"));
        assert!(
            !message_of(&f, "lc-task").contains("prod/db/password"),
            "referenced by a partial ARN with a JSON key"
        );
        // Conditional grant: error. Secrets unreadable: error. None exists: skipped.
        let s = with_iam(|iam| {
            value(&mut iam.roles).extend([role("cond", trust("lambda.amazonaws.com"), &[], serde_json::json!({"Statement": {
                "Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/team": "x"}}}}))]);
        });
        assert_eq!(
            run(rule, "", &s)
                .iter()
                .find(|f| f.resource.id == "cond")
                .unwrap()
                .status,
            Error
        );
        let mut s = compliant();
        inv(&mut s).secrets.secrets = Observed::unavailable(denied("secretsmanager:ListSecrets"));
        assert_verdicts(&run(rule, "", &s), &[("*", Error)]);
        let mut s = compliant();
        value(&mut inv(&mut s).secrets.secrets).clear();
        assert_verdicts(&run(rule, "", &s), &[("*", Skipped)]);
    }

    #[test]
    fn push_rights_belong_to_ci_only() {
        let rule = "ecr-push-permissions-misassigned";
        assert_verdicts(
            &run(rule, CI, &compliant()),
            &[
                ("lc-exec", Pass),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Pass),
            ],
        );
        let s = with_iam(|iam| {
            set_inline(
                iam,
                "lc-exec",
                serde_json::json!({"Statement": {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}}),
            );
            value(&mut iam.roles)
                .get_mut("lifetimecircle-ci")
                .unwrap()
                .inline
                .clear();
            // A user in a group whose policy can push; its twin's group can only read.
            let push = serde_json::json!({"Statement": {"Sid": "Push", "Effect": "Allow", "Action": "ecr:PutImage",
                "Resource": "arn:aws:ecr:eu-central-1:123456789012:repository/lifetimecircle-api"}});
            let read = serde_json::json!({"Statement": {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"}});
            value(&mut iam.groups).extend([
                iam_group("pushers", &[], push),
                iam_group("pullers", &[], read),
            ]);
            value(&mut iam.users).extend([
                user("old-ci", &["pushers"], &[], serde_json::Value::Null),
                user("dev", &["pullers"], &[], serde_json::Value::Null),
            ]);
        });
        let f = run(rule, CI, &s);
        assert_verdicts(
            &f,
            &[
                ("lc-exec", Fail),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Fail),
                ("dev", Pass),
                ("old-ci", Fail),
            ],
        );
        assert!(
            message_of(&f, "lifetimecircle-ci")
                .contains("cannot push: it lacks ecr:GetAuthorizationToken on *"),
            "{}",
            message_of(&f, "lifetimecircle-ci")
        );
        assert!(
            message_of(&f, "old-ci").contains("ecr:PutImage on lifetimecircle-api (user old-ci → group pushers → inline policy app → statement \"Push\""),
            "{}",
            message_of(&f, "old-ci")
        );
        // No CI principal named: said so, everybody else still checked.
        assert_verdicts(
            &run(rule, "", &compliant()),
            &[
                ("*", Skipped),
                ("lc-exec", Pass),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Fail),
            ],
        );
        let e = crate::policy::load(&[crate::policy::PolicySource {
            name: "p.toml".into(),
            text: "[rules.ecr-push-permissions-misassigned]\nci-principal = \"ci\"\n".into(),
        }])
        .unwrap_err();
        assert!(
            e.0[0]
                .message
                .contains("is not a principal such as \"role/github-deploy\""),
            "{e}"
        );
        let mut s = compliant();
        s.iam.users = Observed::unavailable(denied("iam:GetAccountAuthorizationDetails"));
        let f = run(rule, CI, &s);
        assert!(
            f.iter().any(|f| f.resource.id == "*" && f.status == Error),
            "{f:#?}"
        );
    }
}
