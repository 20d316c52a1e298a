//! 3 Deployment: DEP-2, the repository's deploy script and workflow (read with `--repo`).
//! DEP-1, the live smoke test, is a probe and comes with them.

use super::{declare_rule, join_words, Cx, Rule};
use crate::finding::{Evidence, ResourceRef, Status};
use crate::inventory::repo::CredentialSource;
use crate::inventory::repo::{DEPLOY_SCRIPT, DEPLOY_WORKFLOW};
use crate::rule_params;

declare_rule! {
    /// DEP-2: the deploy script and workflow exist.
    pub struct DeployFilesMissing {
        id: "deploy-files-missing",
        scope: "repository given with --repo",
        controls: ["DEP-2"],
        severity: Medium,
        kind: "repository",
        title: "The repository lacks tools/deploy_prod.sh or .github/workflows/deploy-prod.yml",
        source: Repository,
    }
}

rule_params! {
    pub struct NoParams {}
}

impl Rule for DeployFilesMissing {
    type Params = NoParams;

    fn check(&self, cx: &mut Cx<'_>, _: &NoParams) {
        let Some(repo) = cx.repository() else {
            return;
        };
        let r = ResourceRef::new("repository", repo.path.clone());
        let mut problems = Vec::new();
        let script = match repo.deploy_script.get() {
            Err(e) => return cx.error_on(r, DEPLOY_SCRIPT, e),
            Ok(s) => s,
        };
        match script {
            None => problems.push(format!("has no {DEPLOY_SCRIPT}")),
            Some(f) if !f.executable => {
                problems.push(format!("has {DEPLOY_SCRIPT}, but it is not executable"))
            }
            Some(_) => {}
        }
        match repo.deploy_workflow.get() {
            Err(e) => return cx.error_on(r, DEPLOY_WORKFLOW, e),
            Ok(None) => problems.push(format!("has no {DEPLOY_WORKFLOW}")),
            Ok(Some(_)) => {}
        }
        let ev = vec![Evidence::new(
            "repository",
            serde_json::json!({ DEPLOY_SCRIPT: script.is_some(), DEPLOY_WORKFLOW: repo.deploy_workflow.get().ok().flatten().is_some() }),
            Some("both present, the script executable".into()),
        )];
        if problems.is_empty() {
            let msg = format!(
                "The repository {} has {DEPLOY_SCRIPT} and {DEPLOY_WORKFLOW}.",
                repo.path
            );
            cx.pass(r, msg, ev);
        } else {
            let msg = format!("The repository {} {}.", repo.path, join_words(&problems));
            cx.fail(r, msg, ev);
        }
    }
}

declare_rule! {
    /// DEP-2: the workflow takes AWS credentials from secrets, never literals.
    pub struct DeployWorkflowLiteralCredentials {
        id: "deploy-workflow-literal-credentials",
        scope: "deploy workflow",
        controls: ["DEP-2"],
        severity: Critical,
        kind: "repository-file",
        title: "The deploy workflow sets AWS credentials from something other than repository secrets",
        source: Repository,
    }
}

impl Rule for DeployWorkflowLiteralCredentials {
    type Params = NoParams;

    fn check(&self, cx: &mut Cx<'_>, _: &NoParams) {
        let Some(repo) = cx.repository() else {
            return;
        };
        let r = ResourceRef::new("repository-file", DEPLOY_WORKFLOW).name(Some(repo.path.clone()));
        let facts = match repo.deploy_workflow.get() {
            Err(e) => return cx.error_on(r, "the deploy workflow", e),
            // A missing workflow is deploy-files-missing's finding.
            Ok(None) => {
                return cx.skip(
                    r,
                    format!("{DEPLOY_WORKFLOW} does not exist in {}.", repo.path),
                )
            }
            Ok(Some(f)) => f,
        };
        let bad: Vec<String> = facts
            .credentials
            .iter()
            .filter(|c| c.source != CredentialSource::Secret)
            .map(|c| {
                let how = match c.source {
                    CredentialSource::Literal => "a literal value",
                    CredentialSource::Expression => "an expression that is not a secret",
                    CredentialSource::Secret => "a secret",
                };
                format!("{} on line {} from {how}", c.key, c.line)
            })
            .collect();
        let ev = vec![Evidence::new(
            DEPLOY_WORKFLOW,
            serde_json::json!({ "credentials": facts.credentials, "uses_oidc_role": facts.uses_oidc_role }),
            Some("credentials only from ${{ secrets.… }} (or an OIDC role)".into()),
        )];
        if !bad.is_empty() {
            let msg = format!(
                "{DEPLOY_WORKFLOW} sets {}; AWS credentials must come from repository secrets.",
                join_words(&bad)
            );
            cx.fail(r, msg, ev);
        } else if facts.credentials.is_empty() && !facts.uses_oidc_role {
            let msg = format!(
                "{DEPLOY_WORKFLOW} sets no AWS credentials and assumes no role; it cannot deploy to AWS as written."
            );
            cx.emit(Status::Fail, r, msg, ev);
        } else {
            let how = if facts.credentials.is_empty() {
                "assumes a role through OIDC and stores no keys".to_string()
            } else {
                format!(
                    "takes its {} AWS credential setting(s) from secrets",
                    facts.credentials.len()
                )
            };
            let msg = format!("{DEPLOY_WORKFLOW} {how}.");
            cx.pass(r, msg, ev);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::finding::Status::*;
    use crate::inventory::repo::{
        CredentialSource, CredentialUse, FileFacts, Repository, WorkflowFacts,
    };
    use crate::inventory::Observed;

    fn uses(source: CredentialSource) -> WorkflowFacts {
        WorkflowFacts {
            credentials: vec![CredentialUse {
                line: 12,
                key: "aws-secret-access-key".into(),
                source,
            }],
            uses_oidc_role: false,
        }
    }

    #[test]
    fn deploy_files() {
        let rule = "deploy-files-missing";
        let e = crate::inventory::CollectError {
            source: "repo:tools/deploy_prod.sh".into(),
            region: None,
            kind: crate::inventory::ErrorKind::Other,
            message: "permission denied".into(),
        };
        fn repo(s: &mut crate::inventory::Snapshot) -> &mut Repository {
            s.repository.as_mut().unwrap()
        }
        four_ways(rule, "")
            .given(|s| s.repository = Some(repository()))
            .pass(&[("app", Pass)])
            .fail(
                |s| {
                    repo(s).deploy_script = present(FileFacts { executable: false });
                    repo(s).deploy_workflow = Observed::Absent;
                },
                &[("app", Fail)],
            )
            .error(
                |s| repo(s).deploy_script = Observed::unavailable(e),
                &[("app", Error)],
            )
            .skipped(|s| s.repository = None, &[("*", Skipped)]);
        let f = run(
            rule,
            "",
            &with_repo(|r| {
                r.deploy_script = present(FileFacts { executable: false });
                r.deploy_workflow = Observed::Absent;
            }),
        );
        assert_eq!(
            f[0].message,
            "The repository app has tools/deploy_prod.sh, but it is not executable and has no .github/workflows/deploy-prod.yml."
        );
    }

    #[test]
    fn workflow_credentials() {
        let rule = "deploy-workflow-literal-credentials";
        let id = ".github/workflows/deploy-prod.yml";
        assert_verdicts(&run(rule, "", &with_repo(|_| {})), &[(id, Pass)]);
        assert_verdicts(
            &run(
                rule,
                "",
                &with_repo(|r| r.deploy_workflow = present(uses(CredentialSource::Secret))),
            ),
            &[(id, Pass)],
        );
        let f = run(
            rule,
            "",
            &with_repo(|r| r.deploy_workflow = present(uses(CredentialSource::Literal))),
        );
        assert_verdicts(&f, &[(id, Fail)]);
        assert!(
            f[0].message
                .contains("aws-secret-access-key on line 12 from a literal value"),
            "{}",
            f[0].message
        );
        assert_verdicts(
            &run(
                rule,
                "",
                &with_repo(|r| r.deploy_workflow = present(uses(CredentialSource::Expression))),
            ),
            &[(id, Fail)],
        );
        assert_verdicts(
            &run(
                rule,
                "",
                &with_repo(|r| r.deploy_workflow = present(WorkflowFacts::default())),
            ),
            &[(id, Fail)],
        );
        let e = crate::inventory::CollectError {
            source: "repo".into(),
            region: None,
            kind: crate::inventory::ErrorKind::Other,
            message: "app is not a directory".into(),
        };
        assert_verdicts(
            &run(
                rule,
                "",
                &with_repo(|r| r.deploy_workflow = Observed::unavailable(e)),
            ),
            &[(id, Error)],
        );
        assert_verdicts(
            &run(
                rule,
                "",
                &with_repo(|r| r.deploy_workflow = Observed::Absent),
            ),
            &[(id, Skipped)],
        );
        assert_verdicts(&run(rule, "", &compliant()), &[("*", Skipped)]);
    }
}
