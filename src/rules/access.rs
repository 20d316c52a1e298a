//! Who in the account can do what. Every IAM user and role of the account is a principal
//! here (service-linked roles aside: only their AWS service can assume them, and nobody can
//! change their permissions), with its effective identity policies; [`Account::admins`]
//! finds which of them can administer the account, directly or through the IAM actions
//! that grant administration.

use serde_json::{json, Value};

use super::iam::{doc_statements, effective, group_statements, Who};
use crate::iam_eval::{self, Decision, Grant, Statement};
use crate::inventory::iam::Iam;
use crate::inventory::CollectError;

/// A made-up action on a made-up resource: no policy names them, so only an `Action: "*"`
/// on `Resource: "*"` grant (in any form, `NotAction` included) allows them.
pub const ANY_ACTION: (&str, &str) = (
    "infraverifyprobe:AnyAction",
    "arn:aws:infraverifyprobe:::anything",
);

/// The services that run code, templates or API calls with a role passed to them, as their
/// trust policies name them: the `iam:PassedToService` value a pass to them carries, and the
/// actions that start that code (any one is enough). Passing an administrator role to one
/// of them, and starting it, runs anything as an administrator. `None` for other services.
pub fn launch_actions(service: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match service {
        "airflow-env.amazonaws.com" | "airflow.amazonaws.com" => (
            "airflow.amazonaws.com",
            &["airflow:CreateEnvironment", "airflow:UpdateEnvironment"],
        ),
        "cloudformation.amazonaws.com" => (
            "cloudformation.amazonaws.com",
            &[
                "cloudformation:CreateStack",
                "cloudformation:UpdateStack",
                "cloudformation:CreateChangeSet",
                "cloudformation:CreateStackSet",
            ],
        ),
        "codebuild.amazonaws.com" => (
            "codebuild.amazonaws.com",
            &[
                "codebuild:CreateProject",
                "codebuild:UpdateProject",
                "codebuild:StartBuild",
                "codebuild:StartBuildBatch",
            ],
        ),
        "codepipeline.amazonaws.com" => (
            "codepipeline.amazonaws.com",
            &["codepipeline:CreatePipeline", "codepipeline:UpdatePipeline"],
        ),
        "ec2.amazonaws.com" => (
            "ec2.amazonaws.com",
            &[
                "ec2:RunInstances",
                "ec2:RequestSpotInstances",
                "ec2:CreateFleet",
                "ec2:CreateLaunchTemplateVersion",
                "ec2:AssociateIamInstanceProfile",
                "ec2:ReplaceIamInstanceProfileAssociation",
                "autoscaling:CreateAutoScalingGroup",
                "autoscaling:UpdateAutoScalingGroup",
                "autoscaling:CreateLaunchConfiguration",
            ],
        ),
        "ecs-tasks.amazonaws.com" => (
            "ecs-tasks.amazonaws.com",
            &[
                "ecs:RegisterTaskDefinition",
                "ecs:RunTask",
                "ecs:StartTask",
                "batch:RegisterJobDefinition",
                "batch:SubmitJob",
            ],
        ),
        "elasticmapreduce.amazonaws.com" => (
            "elasticmapreduce.amazonaws.com",
            &["elasticmapreduce:RunJobFlow"],
        ),
        "glue.amazonaws.com" => (
            "glue.amazonaws.com",
            &[
                "glue:CreateJob",
                "glue:UpdateJob",
                "glue:CreateDevEndpoint",
                "glue:CreateSession",
            ],
        ),
        "lambda.amazonaws.com" => (
            "lambda.amazonaws.com",
            &[
                "lambda:CreateFunction",
                "lambda:UpdateFunctionConfiguration",
            ],
        ),
        "pods.eks.amazonaws.com" => (
            "pods.eks.amazonaws.com",
            &[
                "eks:CreatePodIdentityAssociation",
                "eks:UpdatePodIdentityAssociation",
            ],
        ),
        "sagemaker.amazonaws.com" => (
            "sagemaker.amazonaws.com",
            &[
                "sagemaker:CreateNotebookInstance",
                "sagemaker:UpdateNotebookInstance",
                "sagemaker:CreateTrainingJob",
                "sagemaker:CreateProcessingJob",
                "sagemaker:CreateHyperParameterTuningJob",
                "sagemaker:CreateModel",
                "sagemaker:CreateDomain",
                "sagemaker:CreateUserProfile",
            ],
        ),
        "scheduler.amazonaws.com" => (
            "scheduler.amazonaws.com",
            &["scheduler:CreateSchedule", "scheduler:UpdateSchedule"],
        ),
        "ssm.amazonaws.com" => ("ssm.amazonaws.com", &["ssm:StartAutomationExecution"]),
        "states.amazonaws.com" => (
            "states.amazonaws.com",
            &["states:CreateStateMachine", "states:UpdateStateMachine"],
        ),
        "tasks.apprunner.amazonaws.com" => (
            "tasks.apprunner.amazonaws.com",
            &["apprunner:CreateService", "apprunner:UpdateService"],
        ),
        _ => return None,
    })
}

/// A principal's (or a group's) identity policies, or why they could not be read.
pub type Policies = Result<Vec<Statement>, CollectError>;

/// One user or role of the account.
pub struct Principal {
    pub who: Who,
    pub arn: String,
    /// Its path and name as the ARN gives them: `/aws-reserved/sso.amazonaws.com/X`.
    pub path_name: String,
    /// Its effective identity policies (for a user, its groups' too).
    pub policies: Policies,
}

impl Principal {
    /// `user deploy` or `role lc-task`.
    pub fn label(&self) -> String {
        format!("{} {}", self.who.kind, self.who.name)
    }
}

/// A role AWS creates for one of its services, and only that service uses.
pub fn is_service_linked(arn: &str) -> bool {
    arn.contains(":role/aws-service-role/")
}

/// Whether `pattern` matches the principal's name, or, when it starts with `/`, its path
/// and name.
fn name_matches(pattern: &str, p: &Principal) -> bool {
    if pattern.starts_with('/') {
        crate::glob::matches(pattern, &p.path_name)
    } else {
        crate::glob::matches(pattern, &p.who.name)
    }
}

/// Whether a role matches one of `patterns`: a pattern that starts with `/` is matched
/// against the role's path and name, any other against its name.
pub fn role_matches(patterns: &[String], p: &Principal) -> bool {
    p.who.kind == "role" && patterns.iter().any(|pat| name_matches(pat, p))
}

/// Whether a user or role matches one of `patterns`, written `role/NAME` or `user/NAME`
/// (wildcards allowed in the name; `role//PATH/NAME` matches a role's path and name).
pub fn principal_matches(patterns: &[String], p: &Principal) -> bool {
    patterns.iter().any(|pat| {
        pat.split_once('/')
            .is_some_and(|(kind, rest)| kind == p.who.kind && name_matches(rest, p))
    })
}

/// How a principal can administer the account: in words, with the evidence of each step.
#[derive(Clone, Debug)]
pub struct Route {
    pub how: String,
    pub steps: Vec<Value>,
}

/// Whether a principal can administer the account.
#[derive(Clone, Debug)]
pub enum Standing {
    /// By no path this analysis follows.
    Not,
    /// It can.
    Admin(Route),
    /// It can if a condition holds, or if policies that could not be read allow it.
    Maybe(Route),
    /// Its own policies could not be read.
    Unknown(CollectError),
}

impl Standing {
    fn rank(&self) -> u8 {
        match self {
            Standing::Not => 0,
            Standing::Unknown(_) => 1,
            Standing::Maybe(_) => 2,
            Standing::Admin(_) => 3,
        }
    }

    fn possibly(&self) -> bool {
        !matches!(self, Standing::Not)
    }
}

/// The principals of the account and what the analysis needs besides.
pub struct Account {
    pub principals: Vec<Principal>,
    account: String,
    /// The ARN partition: `aws`, `aws-cn`, `aws-us-gov`.
    partition: String,
    /// Each role's trust policy, by index into `principals` (users: `None`).
    trusts: Vec<Option<Policies>>,
    /// Groups: name, ARN and their own policies (what a member gets from them).
    groups: Vec<(String, String, Policies)>,
    /// Customer-managed policies attached to anything: whoever may write a new default
    /// version of one writes the permissions of everything it is attached to.
    customer_policies: Vec<String>,
}

/// Field `n` (from 0) of the first principal's ARN: 1 the partition, 4 the account.
fn arn_field(principals: &[Principal], n: usize) -> Option<String> {
    principals
        .first()
        .and_then(|p| p.arn.split(':').nth(n))
        .filter(|f| !f.is_empty())
        .map(str::to_string)
}

/// `path` of a grant, in parentheses after what it allows.
fn via(g: &Option<Grant<'_>>) -> String {
    g.as_ref()
        .map(|g| format!(" ({})", g.path()))
        .unwrap_or_default()
}

fn step(g: &Option<Grant<'_>>, action: &str, resource: &str) -> Value {
    let mut v = g.as_ref().map(Grant::json).unwrap_or_else(|| json!({}));
    v["request"] = json!(format!("{action} on {resource}"));
    v
}

impl Account {
    /// Every user and role of the account but service-linked roles. `Err` when the users,
    /// roles or groups could not be listed.
    /// `account` is the scanned account when known; otherwise it is read from the ARNs, as
    /// is the partition.
    pub fn read(iam: &Iam, account: Option<&str>) -> Result<Account, CollectError> {
        let roles = iam.roles.get().map_err(Clone::clone)?;
        let users = iam.users.get().map_err(Clone::clone)?;
        let groups = iam.groups.get().map_err(Clone::clone)?;
        let mut principals = Vec::new();
        let mut trusts = Vec::new();
        let principal = |kind: &'static str, name: &str, arn: &str| {
            let who = Who {
                kind,
                name: name.to_string(),
                why: String::new(),
                logs: vec![],
            };
            let policies =
                effective(iam, &who).map(|e| e.map(|e| e.statements).unwrap_or_default());
            Principal {
                who,
                arn: arn.to_string(),
                path_name: arn
                    .split_once(&format!(":{kind}"))
                    .map(|(_, p)| p.to_string())
                    .unwrap_or_default(),
                policies,
            }
        };
        for u in users.into_iter().flat_map(|m| m.values()) {
            principals.push(principal("user", &u.name, &u.arn));
            trusts.push(None);
        }
        for r in roles.into_iter().flat_map(|m| m.values()) {
            if is_service_linked(&r.arn) {
                continue;
            }
            principals.push(principal("role", &r.name, &r.arn));
            trusts.push(Some(doc_statements(
                &r.trust,
                &format!("the trust policy of role {}", r.name),
                None,
            )));
        }
        let groups = groups
            .into_iter()
            .flat_map(|m| m.values())
            .map(|g| {
                let stmts = group_statements(iam, &format!("group/{}", g.name), g);
                (g.name.clone(), g.arn.clone(), stmts)
            })
            .collect();
        let attached: std::collections::BTreeSet<&str> = roles
            .into_iter()
            .flat_map(|m| m.values())
            .filter(|r| !is_service_linked(&r.arn))
            .flat_map(|r| &r.attached)
            .chain(
                users
                    .into_iter()
                    .flat_map(|m| m.values())
                    .flat_map(|u| &u.attached),
            )
            .chain(groups_attached(iam))
            .map(|p| p.arn.as_str())
            .filter(|a| !a.contains(":iam::aws:policy/"))
            .collect();
        let account = account
            .map(str::to_string)
            .or_else(|| arn_field(&principals, 4))
            .unwrap_or_default();
        let partition = arn_field(&principals, 1).unwrap_or_else(|| "aws".to_string());
        Ok(Account {
            principals,
            account,
            partition,
            trusts,
            groups,
            customer_policies: attached.into_iter().map(str::to_string).collect(),
        })
    }

    /// Which principals can administer the account: by an `Action "*"` on `Resource "*"`
    /// grant; by writing any principal's or group's permissions (`iam:Attach*Policy`,
    /// `iam:Put*Policy`, `iam:CreatePolicyVersion` of an attached customer-managed policy,
    /// `iam:AddUserToGroup` into an administrators' group); or by becoming an administrator
    /// principal (`sts:AssumeRole` into an administrator role its trust policy lets it
    /// assume, `iam:UpdateAssumeRolePolicy` of one, `iam:PassRole` of one that a service
    /// running code trusts, `iam:CreateAccessKey` or a login profile for an administrator
    /// user), followed until nothing changes. One [`Standing`] per principal, in order.
    pub fn admins(&self) -> Vec<Standing> {
        // Groups are judged as subjects too (what their members get), so that adding a user
        // to a group that can administer, by any route, counts; they are not reported.
        let subjects: Vec<(&Policies, Option<usize>)> = self
            .principals
            .iter()
            .enumerate()
            .map(|(i, p)| (&p.policies, Some(i)))
            .chain(self.groups.iter().map(|(_, _, st)| (st, None)))
            .collect();
        let mut standing: Vec<Standing> = subjects
            .iter()
            .map(|(policies, _)| match policies {
                Err(e) => Standing::Unknown(e.clone()),
                Ok(stmts) => self.own(stmts),
            })
            .collect();
        // In rounds, each against the standings of the round before: the shortest route wins.
        loop {
            let before = standing.clone();
            let mut changed = false;
            for (i, ((policies, me), now)) in subjects.iter().zip(standing.iter_mut()).enumerate() {
                let Ok(stmts) = policies else { continue };
                if matches!(now, Standing::Admin(_)) {
                    continue;
                }
                if let Some(new) = self.through_others(i, *me, stmts, &before) {
                    if new.rank() > now.rank() {
                        *now = new;
                        changed = true;
                    }
                }
            }
            if !changed {
                standing.truncate(self.principals.len());
                return standing;
            }
        }
    }

    /// What a principal's own policies grant, without regard to other principals.
    fn own(&self, stmts: &[Statement]) -> Standing {
        let (d, g) = iam_eval::explain(stmts, ANY_ACTION.0, ANY_ACTION.1);
        let route = |g: &Option<Grant<'_>>| Route {
            how: format!(
                "may perform {} on any resource{}",
                match g {
                    Some(g) if g.action.starts_with("NotAction") =>
                        "every action but those a NotAction lists",
                    _ => "any action",
                },
                via(g)
            ),
            steps: vec![step(g, ANY_ACTION.0, ANY_ACTION.1)],
        };
        match d {
            Decision::Allowed => return Standing::Admin(route(&g)),
            Decision::Denied => {}
            _ => {}
        }
        let mut best = if d == Decision::Conditional {
            Standing::Maybe(route(&g))
        } else {
            Standing::Not
        };
        let kinds = |kind: &str| -> Vec<&str> {
            match kind {
                "user" | "role" => self
                    .principals
                    .iter()
                    .filter(|q| q.who.kind == kind)
                    .map(|q| q.arn.as_str())
                    .collect(),
                "group" => self.groups.iter().map(|(_, a, _)| a.as_str()).collect(),
                _ => self.customer_policies.iter().map(String::as_str).collect(),
            }
        };
        let writes: [(&str, &str, &str); 7] = [
            (
                "iam:AttachUserPolicy",
                "user",
                "attach any policy, AdministratorAccess included, to",
            ),
            ("iam:PutUserPolicy", "user", "write an inline policy of"),
            (
                "iam:AttachRolePolicy",
                "role",
                "attach any policy, AdministratorAccess included, to",
            ),
            ("iam:PutRolePolicy", "role", "write an inline policy of"),
            (
                "iam:AttachGroupPolicy",
                "group",
                "attach any policy, AdministratorAccess included, to",
            ),
            ("iam:PutGroupPolicy", "group", "write an inline policy of"),
            (
                "iam:CreatePolicyVersion",
                "policy",
                "rewrite the attached customer-managed policy",
            ),
        ];
        for (action, kind, what) in writes {
            if !iam_eval::may_allow_action(stmts, action) {
                continue;
            }
            for target in kinds(kind) {
                let (d, g) = iam_eval::explain(stmts, action, target);
                let route = || {
                    Route {
                    how: format!(
                        "may {action} on {target}{}: it can {what} it, and so grant administrator rights",
                        via(&g)
                    ),
                    steps: vec![step(&g, action, target)],
                }
                };
                match d {
                    Decision::Allowed => return Standing::Admin(route()),
                    Decision::Conditional if !best.possibly() => best = Standing::Maybe(route()),
                    _ => {}
                }
            }
        }
        best
    }

    /// What subject `i` (a principal, `me`, or a group) gains from administrator principals
    /// it can become or empower, and from groups that can administer which it can add a
    /// user to.
    fn through_others(
        &self,
        i: usize,
        me: Option<usize>,
        stmts: &[Statement],
        standing: &[Standing],
    ) -> Option<Standing> {
        let caller = me.map(|m| self.principals[m].arn.as_str());
        let mut maybe: Option<Standing> = None;
        let targets = self
            .principals
            .iter()
            .map(|q| (q.who.kind, q.who.name.as_str(), q.arn.as_str()))
            .chain(
                self.groups
                    .iter()
                    .map(|(name, arn, _)| ("group", name.as_str(), arn.as_str())),
            );
        for (j, (kind, name, arn)) in targets.enumerate() {
            if i == j || !standing[j].possibly() {
                continue;
            }
            let (target_how, target_steps) = match &standing[j] {
                Standing::Admin(r) | Standing::Maybe(r) => (r.how.clone(), r.steps.clone()),
                Standing::Unknown(e) => (
                    format!(
                        "may be an administrator: its policies could not be read ({})",
                        e.message
                    ),
                    vec![],
                ),
                Standing::Not => unreachable!(),
            };
            let mut edges: Vec<(Decision, String, Vec<Value>)> = Vec::new();
            match kind {
                "role" => {
                    edges.push(self.assume(caller, stmts, j));
                    edges.extend(self.pass(stmts, j));
                    let (d, g) = iam_eval::explain(stmts, "iam:UpdateAssumeRolePolicy", arn);
                    edges.push((
                        d,
                        format!(
                            "may iam:UpdateAssumeRolePolicy on role {name}{}, so it can let itself assume it",
                            via(&g)
                        ),
                        vec![step(&g, "iam:UpdateAssumeRolePolicy", arn)],
                    ));
                }
                "user" => {
                    for action in [
                        "iam:CreateAccessKey",
                        "iam:CreateLoginProfile",
                        "iam:UpdateLoginProfile",
                    ] {
                        let (d, g) = iam_eval::explain(stmts, action, arn);
                        edges.push((
                            d,
                            format!(
                                "may {action} for user {name}{}, so it can sign in as that user",
                                via(&g)
                            ),
                            vec![step(&g, action, arn)],
                        ));
                    }
                }
                _ => {
                    let (d, g) = iam_eval::explain(stmts, "iam:AddUserToGroup", arn);
                    edges.push((
                        d,
                        format!("may iam:AddUserToGroup on group {name}{}", via(&g)),
                        vec![step(&g, "iam:AddUserToGroup", arn)],
                    ));
                }
            }
            for (d, how, mut steps) in edges {
                if !matches!(d, Decision::Allowed | Decision::Conditional) {
                    continue;
                }
                steps.extend(target_steps.iter().cloned());
                let route = Route {
                    how: format!("{how}, and {kind} {name} {target_how}"),
                    steps,
                };
                if d == Decision::Allowed && matches!(standing[j], Standing::Admin(_)) {
                    return Some(Standing::Admin(route));
                }
                if maybe.is_none() {
                    maybe = Some(Standing::Maybe(route));
                }
            }
        }
        maybe
    }

    /// Passing role `j` to a service that runs code with it, which the caller can also
    /// start code on: one edge per such service the role trusts.
    fn pass(&self, stmts: &[Statement], j: usize) -> Vec<(Decision, String, Vec<Value>)> {
        let role = &self.principals[j];
        let services: Vec<String> = match &self.trusts[j] {
            Some(Ok(t)) => iam_eval::trusted(t)
                .into_iter()
                .filter(|(k, v, _)| k == "Service" && launch_actions(v).is_some())
                .map(|(_, v, _)| v)
                .collect(),
            _ => vec![],
        };
        let mut out = Vec::new();
        for service in services {
            let Some((passed_to, launch)) = launch_actions(&service) else {
                continue;
            };
            // Passing alone runs nothing: the caller must also be able to start code there.
            let Some(start) = launch.iter().find(|a| iam_eval::may_allow_action(stmts, a)) else {
                continue;
            };
            // Each service separately: a pass may be limited by iam:PassedToService.
            let (d, g) = iam_eval::explain_in(
                stmts,
                "iam:PassRole",
                &role.arn,
                &[("iam:PassedToService", passed_to)],
            );
            out.push((
                d,
                format!(
                    "may iam:PassRole role {}{} to {service} and {start} there, which runs code with the role",
                    role.who.name,
                    via(&g),
                ),
                vec![step(&g, "iam:PassRole", &role.arn)],
            ));
        }
        out
    }

    /// Whether principal `p` can assume role `j`. Within one account, a trust policy that
    /// names `p` is enough; one that trusts the account delegates to `p`'s own policies,
    /// which must allow `sts:AssumeRole` on the role. A trust of `"*"` without the identity
    /// grant is left open: whether a wildcard principal grants by itself is not decided here.
    fn assume(
        &self,
        caller: Option<&str>,
        stmts: &[Statement],
        j: usize,
    ) -> (Decision, String, Vec<Value>) {
        let role = &self.principals[j];
        let (ident, g) = iam_eval::explain(stmts, "sts:AssumeRole", &role.arn);
        let none = (Decision::NotAllowed, String::new(), vec![]);
        if ident == Decision::Denied {
            return none;
        }
        // A Deny with a condition in the identity policies leaves even a direct trust open.
        let ident_deny_open =
            iam_eval::conditional_deny(stmts, "sts:AssumeRole", &role.arn, &[]).is_some();
        let trust = match &self.trusts[j] {
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                return (
                    Decision::Conditional,
                    format!(
                        "may sts:AssumeRole into role {}{} if its trust policy allows, which could not be read ({})",
                        role.who.name,
                        via(&g),
                        e.message
                    ),
                    vec![step(&g, "sts:AssumeRole", &role.arn)],
                )
            }
            None => return none,
        };
        let context: Vec<(&str, &str)> = caller
            .map(|c| vec![("aws:PrincipalArn", c)])
            .unwrap_or_default();
        let (who, deny) = iam_eval::assumers(trust, caller.unwrap_or(""), &context);
        if deny == Some(true) {
            return none;
        }
        let deny_open = deny.is_some() || ident_deny_open;
        let root = format!("arn:{}:iam::{}:root", self.partition, self.account);
        let mut best = none;
        for (kind, id, conditional) in who {
            if kind != "AWS" {
                continue;
            }
            let (d, how) = if Some(id.as_str()) == caller {
                (
                    if conditional || deny_open {
                        Decision::Conditional
                    } else {
                        Decision::Allowed
                    },
                    format!(
                        "may sts:AssumeRole into role {}: its trust policy names it",
                        role.who.name
                    ),
                )
            } else if id == root || id == self.account || id == "*" {
                let d = match ident {
                    Decision::Allowed if !(conditional || deny_open) => Decision::Allowed,
                    Decision::Allowed | Decision::Conditional => Decision::Conditional,
                    // A wildcard trust may grant without the identity policy: open.
                    _ if id == "*" => Decision::Conditional,
                    _ => Decision::NotAllowed,
                };
                (
                    d,
                    format!(
                        "may sts:AssumeRole into role {}{}, whose trust policy trusts {id}",
                        role.who.name,
                        via(&g)
                    ),
                )
            } else {
                continue;
            };
            let better = match (d, best.0) {
                (Decision::Allowed, Decision::Allowed) => false,
                (Decision::Allowed, _) => true,
                (Decision::Conditional, Decision::NotAllowed) => true,
                _ => false,
            };
            if better {
                let mut s = step(&g, "sts:AssumeRole", &role.arn);
                s["trust_policy_principal"] = json!(id);
                best = (d, how, vec![s]);
            }
        }
        best
    }
}

fn groups_attached(iam: &Iam) -> impl Iterator<Item = &crate::inventory::iam::AttachedPolicy> {
    iam.groups
        .get()
        .ok()
        .flatten()
        .into_iter()
        .flat_map(|m| m.values())
        .flat_map(|g| &g.attached)
}
