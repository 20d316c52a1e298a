//! The application repository, as far as the checklist asks about it (DOC-1, DEP-2). Only
//! extracted facts are kept, never file contents: a workflow with a literal secret must not
//! carry it into a snapshot or a report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Observed;

/// The files of the application repository the checklist names.
pub const INFRASTRUCTURE_DOC: &str = "docs/INFRASTRUCTURE_PROD.md";
pub const DEPLOY_SCRIPT: &str = "tools/deploy_prod.sh";
pub const DEPLOY_WORKFLOW: &str = ".github/workflows/deploy-prod.yml";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Repository {
    /// The path given with `--repo`, as given.
    pub path: String,
    /// `docs/INFRASTRUCTURE_PROD.md`: the identifiers it names (`Absent` if no such file).
    pub infrastructure_doc: Observed<NamedIds>,
    /// `tools/deploy_prod.sh`.
    pub deploy_script: Observed<FileFacts>,
    /// `.github/workflows/deploy-prod.yml`: how it gets AWS credentials.
    pub deploy_workflow: Observed<WorkflowFacts>,
}

/// AWS identifiers and endpoints a document names, each with the first line it is on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NamedIds {
    pub ids: BTreeMap<String, u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileFacts {
    pub executable: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkflowFacts {
    /// Every place the workflow sets an AWS credential, and where the value comes from.
    pub credentials: Vec<CredentialUse>,
    /// Whether it assumes a role through OIDC (`role-to-assume`), needing no stored keys.
    pub uses_oidc_role: bool,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct CredentialUse {
    pub line: u32,
    /// `aws-secret-access-key`, `AWS_ACCESS_KEY_ID`, or `access key id` for a bare key.
    pub key: String,
    pub source: CredentialSource,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialSource {
    /// `${{ secrets.NAME }}`, directly or through an `env` entry that is one.
    Secret,
    /// Another expression (`vars.`, `env.` of something not a secret, inputs, …).
    Expression,
    /// A value written in the file (redacted here).
    Literal,
}
