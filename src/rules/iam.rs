//! 2.1 IAM: IAM-1 … IAM-5. The app's principals are found by intent: the execution and
//! task roles of the ECS services' task definitions, plus the CI/CD principal and any roles
//! or users the policy names. Their effective identity policies (inline, attached managed
//! policies' default versions, and for users their groups') are evaluated by
//! [`crate::iam_eval`]; a condition makes the answer `error`, never a guess.

use std::collections::BTreeSet;

use super::scope::Region;
use super::{declare_rule, join_words, Cx, Rule};
use crate::finding::{Evidence, ResourceRef, Status};
use crate::iam_eval::{self, Decision, Statement};
use crate::inventory::iam::GET_ACCOUNT_AUTHORIZATION_DETAILS;
use crate::inventory::iam::{AttachedPolicy, Iam};
use crate::inventory::{CollectError, ErrorKind, Observed};
use crate::rule_params;
use crate::rules::params::non_empty;

const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

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

fn doc_statements(
    doc: &Observed<serde_json::Value>,
    what: &str,
) -> Result<Vec<Statement>, CollectError> {
    let bad = |message: String| CollectError {
        source: GET_ACCOUNT_AUTHORIZATION_DETAILS.into(),
        region: None,
        kind: ErrorKind::Other,
        message,
    };
    match doc.get() {
        Err(e) => Err(e.clone()),
        Ok(None) => Err(bad(format!("{what} has no document"))),
        Ok(Some(v)) => iam_eval::statements(v).map_err(|e| bad(format!("{what}: {e}"))),
    }
}

fn managed(
    iam: &Iam,
    list: &[AttachedPolicy],
    out: &mut Vec<Statement>,
) -> Result<(), CollectError> {
    if list.is_empty() {
        return Ok(());
    }
    let policies = iam.policies.get().map_err(Clone::clone)?;
    for p in list {
        match policies.and_then(|m| m.get(&p.arn)) {
            Some(mp) => out.extend(doc_statements(&mp.document, &p.arn)?),
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
    if who.kind == "role" {
        let roles = iam.roles.get().map_err(Clone::clone)?;
        let Some(r) = roles.and_then(|m| m.get(&who.name)) else {
            return Ok(None);
        };
        for (name, d) in &r.inline {
            stmts.extend(doc_statements(d, &format!("inline policy {name}"))?);
        }
        managed(iam, &r.attached, &mut stmts)?;
        attached.extend(r.attached.iter().map(|p| p.arn.clone()));
    } else {
        let users = iam.users.get().map_err(Clone::clone)?;
        let Some(u) = users.and_then(|m| m.get(&who.name)) else {
            return Ok(None);
        };
        for (name, d) in &u.inline {
            stmts.extend(doc_statements(d, &format!("inline policy {name}"))?);
        }
        managed(iam, &u.attached, &mut stmts)?;
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
            for (name, d) in &g.inline {
                stmts.extend(doc_statements(
                    d,
                    &format!("inline policy {name} of group {}", g.name),
                )?);
            }
            managed(iam, &g.attached, &mut stmts)?;
            attached.extend(g.attached.iter().map(|p| p.arn.clone()));
        }
    }
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
                .map(|role| doc_statements(&role.trust, "the trust policy"));
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
    /// IAM-4: no app principal with administrator rights.
    pub struct AppPrincipalAdmin {
        id: "app-principal-admin-access",
        scope: "app role or user",
        controls: ["IAM-4"],
        severity: Critical,
        kind: "iam-role",
        title: "An app role or user has AdministratorAccess or an Action \"*\" on Resource \"*\"",
        reads: [Iam, Ecs],
    }
}

impl Rule for AppPrincipalAdmin {
    type Params = AppParams;

    fn check(&self, cx: &mut Cx<'_>, p: &AppParams) {
        let Ok(who) = app_principals(cx, &p.roles, &p.users, &p.ci_principal) else {
            return;
        };
        each_principal(cx, &who, |cx, w, r, stmts, attached| {
            // An action no policy names explicitly is allowed only by `*`-style grants.
            let d = iam_eval::decide(
                stmts,
                "infraverifyprobe:AnyAction",
                "arn:aws:infraverifyprobe:::anything",
            );
            let admin_policy = attached.iter().any(|a| a == ADMIN_POLICY);
            let ev = vec![Evidence::new(
                GET_ACCOUNT_AUTHORIZATION_DETAILS,
                serde_json::json!({ "attached": attached, "any_action_on_any_resource": decision_words(d) }),
                Some("no AdministratorAccess, no Action \"*\" on Resource \"*\"".into()),
            )];
            if admin_policy || d.allowed() {
                let how = if admin_policy {
                    "has AdministratorAccess attached".to_string()
                } else {
                    "may perform any action on any resource".to_string()
                };
                let msg = format!("The {} {} ({}) {how}.", w.kind, w.name, w.why);
                cx.fail(r, msg, ev);
            } else if d == Decision::Conditional {
                let msg = format!("Could not decide whether the {} {} is an administrator: its \"*\" grant has a condition.", w.kind, w.name);
                cx.emit(Status::Error, r, msg, ev);
            } else {
                let msg = format!(
                    "The {} {} ({}) has no administrator rights.",
                    w.kind, w.name, w.why
                );
                cx.pass(r, msg, ev);
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// IAM-5: CI/CD can push; the ECS roles cannot.
    pub struct EcrPushMisassigned {
        id: "ecr-push-permissions-misassigned",
        scope: "CI/CD principal or ECS role",
        controls: ["IAM-5"],
        severity: High,
        kind: "iam-role",
        title: "The CI/CD principal cannot push to ECR, or a production task or execution role can",
        reads: [Iam, Ecs, Ecr],
    }
}

rule_params! {
    pub struct PushParams {
        /// The CI/CD principal, as `role/NAME` or `user/NAME`; it must be able to push.
        "ci-principal" => ci_principal: String = String::new(), check = principal_param;
        /// The ECR repositories pushed to.
        "repositories" => repositories: Vec<String> = vec!["lifetimecircle-api".to_string(), "lifetimecircle-web".to_string()], check = non_empty;
    }
}

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
        let Ok(roles) = ecs_roles(cx, true, true) else {
            return;
        };
        let roles: Vec<Who> = roles.into_iter().collect();
        each_principal(cx, &roles, |cx, w, r, stmts, _| {
            let decided: Vec<(String, Decision)> = repo_arns
                .iter()
                .map(|a| (a.clone(), iam_eval::decide(stmts, "ecr:PutImage", a)))
                .collect();
            let can: Vec<String> = decided
                .iter()
                .filter(|(_, d)| d.allowed())
                .map(|(a, _)| a.clone())
                .collect();
            let ev = vec![Evidence::new(
                GET_ACCOUNT_AUTHORIZATION_DETAILS,
                serde_json::json!({ "may_push_to": can }),
                Some("no ecr:PutImage".into()),
            )];
            if !can.is_empty() {
                let msg = format!(
                    "The {} {} ({}) may push images (ecr:PutImage on {}).",
                    w.kind,
                    w.name,
                    w.why,
                    join_words(&can)
                );
                cx.fail(r, msg, ev);
            } else if decided.iter().any(|(_, d)| *d == Decision::Conditional) {
                let msg = format!(
                    "Could not decide whether {} may push: a statement has a condition.",
                    w.name
                );
                cx.emit(Status::Error, r, msg, ev);
            } else {
                let msg = format!("The {} {} ({}) cannot push images.", w.kind, w.name, w.why);
                cx.pass(r, msg, ev);
            }
        });
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

    #[test]
    fn admin_access_through_a_group_or_a_star_statement() {
        let rule = "app-principal-admin-access";
        assert_verdicts(
            &run(rule, CI, &compliant()),
            &[
                ("lc-exec", Pass),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Pass),
            ],
        );
        // A deploy user in an admin group, named in the policy; and */* via NotAction.
        let s = with_iam(|iam| {
            let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
            value(&mut iam.groups).insert(
                "admins".into(),
                crate::inventory::iam::Group {
                    name: "admins".into(),
                    arn: "arn:aws:iam::123456789012:group/admins".into(),
                    attached: vec![AttachedPolicy {
                        name: "AdministratorAccess".into(),
                        arn: admin.into(),
                    }],
                    inline: Default::default(),
                },
            );
            value(&mut iam.policies).insert(admin.into(), crate::inventory::iam::ManagedPolicy {
                arn: admin.into(),
                name: "AdministratorAccess".into(),
                default_version: Some("v1".into()),
                document: present(serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})),
            });
            value(&mut iam.users).insert(
                "deploy".into(),
                crate::inventory::iam::User {
                    name: "deploy".into(),
                    arn: "arn:aws:iam::123456789012:user/deploy".into(),
                    groups: vec!["admins".into()],
                    attached: vec![],
                    inline: Default::default(),
                },
            );
            set_inline(
                iam,
                "lc-task",
                serde_json::json!({"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}),
            );
        });
        let f = run(rule, "users = [\"deploy\"]", &s);
        assert_verdicts(
            &f,
            &[("lc-exec", Pass), ("lc-task", Fail), ("deploy", Fail)],
        );
        assert!(
            f[2].message.ends_with("has AdministratorAccess attached."),
            "{}",
            f[2].message
        );
        assert!(
            f[1].message
                .ends_with("may perform any action on any resource."),
            "{}",
            f[1].message
        );
        let s =
            with_iam(|iam| iam.policies = Observed::unavailable(denied("iam:GetPolicyVersion")));
        assert_verdicts(&run(rule, "", &s), &[("lc-exec", Error), ("lc-task", Pass)]);
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
        });
        let f = run(rule, CI, &s);
        assert_verdicts(
            &f,
            &[
                ("lc-exec", Fail),
                ("lc-task", Pass),
                ("lifetimecircle-ci", Fail),
            ],
        );
        assert!(
            f[2].message
                .contains("cannot push: it lacks ecr:GetAuthorizationToken on *"),
            "{}",
            f[2].message
        );
        // No CI principal named: said so, the ECS roles still checked.
        assert_verdicts(
            &run(rule, "", &compliant()),
            &[("*", Skipped), ("lc-exec", Pass), ("lc-task", Pass)],
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
    }
}
