//! The command line (clap derive). Doc comments are the help text.

use clap::{Args, Parser, Subcommand};

use crate::finding::Severity;
use crate::report::Format;

/// Verifies live AWS infrastructure against an operations checklist, read-only, and reports
/// PASS / FAIL / ERROR per control.
///
/// Exit codes: 0 no fail at or above --fail-on; 1 violations; 2 invalid invocation or input
/// (nothing was evaluated); 3 scan incomplete (some controls are ERROR, no violation reached
/// the threshold).
#[derive(Debug, Parser)]
#[command(name = "infraverify", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log to standard error: -v the scan's progress, -vv every AWS call, -vvv also the AWS
    /// SDK's own debug logs.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// No progress bar (it is drawn only when standard error is a terminal and there is no
    /// -v).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect from AWS, evaluate the policy, and report.
    Scan(ScanArgs),
    /// Collect from AWS into a snapshot file, without evaluating.
    Collect(CollectArgs),
    /// Evaluate a snapshot offline: no network access at all.
    Evaluate(EvaluateArgs),
    /// List every rule: id, checklist controls, severity, title.
    Rules,
    /// Print a rule's documentation and parameters; with --policy, a team rule's too.
    Explain {
        /// The rule id, as `infraverify rules` lists it, or a team rule's id.
        rule: String,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Print a JSON Schema: `snapshot`, every kind and field a team rule can read.
    Schema {
        #[arg(value_enum, value_name = "WHAT")]
        what: SchemaOf,
    },
    /// Write the handoff document (docs/INFRASTRUCTURE_PROD.md) from a snapshot, with the
    /// checklist verdict. Exit code as for evaluate.
    Handoff(HandoffArgs),
    /// Compare two report.json files: new, fixed and unchanged failures. Exit 1 if any
    /// failure is new, else 0.
    Diff {
        /// The earlier report.json.
        #[arg(value_name = "OLD")]
        old: String,
        /// The later report.json.
        #[arg(value_name = "NEW")]
        new: String,
        /// Output as a table or as JSON.
        #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
        format: DiffFormat,
    },
    /// Print the least-privilege IAM policy (JSON) for the rules the policies enable: the
    /// read actions of exactly the services they read.
    IamPolicy {
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Join report.json files (shards of a fleet, or runs over different accounts) into one
    /// report: findings, errors and warnings together, summary and exit code recomputed.
    /// Exit code: the merged report's.
    Merge {
        /// The report.json files.
        #[arg(required = true, value_name = "REPORT")]
        reports: Vec<String>,
        /// Where to write the merged report (atomically).
        #[arg(long, value_name = "FILE")]
        out: String,
    },
    /// Write a signed evidence bundle from a snapshot: the snapshot, the policies, every
    /// report, a manifest of SHA-256 digests, and an in-toto statement of them in a DSSE
    /// envelope signed with an Ed25519 key. Exit 0 when written.
    Evidence {
        /// A snapshot written by `collect` or `scan --save-snapshot`.
        #[arg(value_name = "SNAPSHOT")]
        snapshot: String,
        #[command(flatten)]
        policy: PolicyArgs,
        /// The signing key: an Ed25519 private key, PKCS#8 PEM (`openssl genpkey -algorithm
        /// ed25519`).
        #[arg(long, value_name = "FILE")]
        key: String,
        /// The bundle's directory (must not exist, or be empty).
        #[arg(long, value_name = "DIR")]
        out: String,
    },
    /// Check an evidence bundle: the signature, every file's digest, nothing unsigned, and
    /// the reports reproduced byte for byte from its snapshot. Exit 0 if it holds, 2 naming
    /// the first file that does not.
    VerifyEvidence {
        /// The bundle's directory.
        #[arg(value_name = "DIR")]
        dir: String,
        /// The public key, PEM (`openssl pkey -in key.pem -pubout`).
        #[arg(long = "pub", value_name = "FILE")]
        public_key: String,
    },
    /// Print a shell completion script (`infraverify completions bash > /etc/bash_completion.d/infraverify`).
    Completions {
        /// The shell.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page, in roff (`infraverify man > infraverify.1; man ./infraverify.1`).
    Man,
    /// Validate policy files; exit 0 if valid, 2 with located errors if not.
    CheckPolicy {
        /// The policy files (TOML).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
    },
}

/// What `infraverify schema` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaOf {
    /// The snapshot (`infraverify/snapshot/v1`): what `collect` writes and team rules read.
    Snapshot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// A policy file (repeatable). Default: the embedded policies/lifetimecircle.toml.
    #[arg(long = "policy", value_name = "FILE")]
    pub policies: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AwsArgs {
    /// A region to scan (repeatable), or `all` for every region enabled for the account.
    /// Default: the policy's regions, else the AWS config's.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,

    /// The AWS profile to use (SSO profiles work). Default: the standard credential chain.
    #[arg(long, value_name = "PROFILE", env = "AWS_PROFILE")]
    pub profile: Option<String>,

    /// Send every AWS call to this endpoint, such as an emulator.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,

    /// Seconds allowed for one attempt of one AWS call; a call with retries gets twice that.
    #[arg(long, value_name = "SECONDS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub call_timeout: u64,

    /// Scan another account through this IAM role (repeatable); each finding carries its
    /// account, and the accounts are collected concurrently under one concurrency bound.
    #[arg(long = "assume-role", value_name = "ROLE_ARN")]
    pub assume_role: Vec<String>,

    /// The external id the roles of --assume-role require.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,

    /// A TOML file of accounts to scan: `role = "NAME"` (and `external-id`) for all, then
    /// `[[accounts]]` tables with `id` (and their own `role`, `external-id`).
    #[arg(long, value_name = "FILE")]
    pub accounts: Option<String>,

    /// Scan only shard I of N of the accounts (1-based; a deterministic split of the
    /// accounts sorted by id), for fanning out over CI jobs; `merge` joins the reports.
    /// `auto` (or `auto/N`) takes the share from the scheduler: a Kubernetes Indexed Job
    /// (JOB_COMPLETION_INDEX, with auto/N), GitLab parallel (CI_NODE_INDEX/CI_NODE_TOTAL), or
    /// INFRAVERIFY_SHARD_INDEX (0-based) and INFRAVERIFY_SHARD_TOTAL (a GitHub Actions
    /// matrix passes strategy.job-index and job-total as these).
    #[arg(long, value_name = "I/N|auto[/N]")]
    pub shard: Option<String>,

    /// Seconds the whole collection may take; what is not read by then is an error
    /// (timeout), and the reports are written. Default: no limit beyond each call's.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub timeout: Option<u64>,

    /// AWS calls in flight at once, across all accounts, regions and services.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,

    /// AWS calls in flight at once in one account and region, where AWS meters them
    /// (throttling is waited out, not failed).
    #[arg(long, value_name = "N", default_value_t = crate::collect::limit::REGION_CONCURRENCY as u64, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub region_concurrency: u64,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Skip the live TLS/DNS/HTTP probes (their controls become skipped).
    #[arg(long, conflicts_with = "no_aws")]
    pub no_probes: bool,

    /// Read no AWS API; run only the live probes (the AWS controls become skipped).
    #[arg(long)]
    pub no_aws: bool,

    /// Probes for HOST:PORT connect to ADDR:PORT2 instead, while SNI, certificate checks
    /// and the Host header keep HOST, as curl's --connect-to (repeatable; an empty field
    /// matches any host or port, or keeps the original).
    #[arg(long = "connect-to", value_name = "HOST:PORT:ADDR:PORT2")]
    pub connect_to: Vec<String>,

    /// Send every probe lookup to this DNS server (default: the system's resolver).
    #[arg(long, value_name = "ADDR[:PORT]", env = "INFRAVERIFY_DNS_SERVER")]
    pub dns_server: Option<String>,

    /// Trust the CA certificates in this PEM file as well as the public roots.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<String>,

    /// Seconds allowed for one probe step: a lookup, a connection and handshake, one HTTP
    /// exchange.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub probe_timeout: u64,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format (repeatable): table on standard output; json, junit, sarif and
    /// markdown as report.json, report.junit.xml, report.sarif and report.md in --out-dir.
    /// Default: table.
    #[arg(long = "format", value_enum, value_name = "FORMAT")]
    pub formats: Vec<Format>,

    /// What the terminal shows: `failures`, the checklist (one line per control) and then
    /// every failure and error in detail; `all`, every finding, passes and skips too, as
    /// one table per checklist section.
    #[arg(long, value_enum, value_name = "WHICH", default_value_t = crate::report::table::Details::Failures)]
    pub details: crate::report::table::Details,

    /// Directory for report files.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out_dir: String,

    /// The lowest severity whose failures make the exit code 1.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = Severity::Low)]
    pub fail_on: Severity,

    /// An earlier report.json: only failures not in it decide the exit code.
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<String>,

    /// Treat warnings (waivers that match nothing, unused attestations) as errors: exit 2
    /// after writing the reports.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct RepoArgs {
    /// The application repository, for its deploy script and workflow (DEP-2) and its
    /// handoff document (DOC-1). Only local files are read.
    #[arg(long, value_name = "PATH")]
    pub repo: Option<String>,
}

#[derive(Debug, Args)]
pub struct HandoffArgs {
    /// A snapshot written by `collect` or `scan --save-snapshot`.
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: String,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub repo: RepoArgs,

    /// Write the document here (atomically) instead of to standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,

    /// The lowest severity whose failures make the exit code 1.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = Severity::Low)]
    pub fail_on: Severity,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub probes: ProbeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub repo: RepoArgs,

    /// Also write the collected snapshot to this file, for `evaluate` later (several
    /// accounts: one file each, the account id added to the name).
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<String>,

    /// Also write a signed evidence bundle of this scan into DIR (must not exist, or be
    /// empty), as `infraverify evidence` does from a snapshot; one account only. Needs
    /// --key.
    #[arg(long, value_name = "DIR", requires = "key")]
    pub evidence: Option<String>,

    /// The Ed25519 private key (PKCS#8 PEM) that signs --evidence.
    #[arg(long, value_name = "FILE", requires = "evidence")]
    pub key: Option<String>,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub probes: ProbeArgs,
    #[command(flatten)]
    pub repo: RepoArgs,

    /// Where to write the snapshot (JSON; several accounts: one file each, the account id
    /// added to the name).
    #[arg(long, value_name = "FILE")]
    pub out: String,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Snapshots written by `collect` or `scan --save-snapshot` (several: one per account
    /// of a multi-account run, evaluated as one run).
    #[arg(value_name = "SNAPSHOT", required = true)]
    pub snapshots: Vec<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub repo: RepoArgs,

    /// Ignore the snapshot's live probes (their controls become skipped).
    #[arg(long)]
    pub no_probes: bool,
}
