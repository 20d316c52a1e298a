//! The edges: runs a parsed command line and maps every outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::cli::{
    AwsArgs, Cli, Command, DiffFormat, EvaluateArgs, HandoffArgs, OutputArgs, PolicyArgs,
    ProbeArgs, RepoArgs, ScanArgs, SchemaOf,
};
use crate::collect::probe::{self, CaFile, ConnectTo, ProbeOptions};
use crate::collect::{self, CollectOptions};
use crate::engine;
use crate::inventory::{Snapshot, Timestamp};
use crate::policy::{self, Policy, PolicySource};
use crate::progress::Progress;
use crate::report::{self, Format, Report};
use crate::rules;

/// Exit code for invalid invocation or input: nothing was evaluated.
pub const EXIT_INVALID: u8 = 2;

/// Runs the command; `Ok` carries the exit code, `Err` means exit 2.
pub fn run(cli: Cli) -> Result<u8> {
    init_logging(cli.verbose);
    // The progress bar: only on a terminal, and not beside logs or when asked for quiet.
    let progress = !cli.quiet && cli.verbose == 0 && std::io::stderr().is_terminal();
    match cli.command {
        Command::Rules => {
            print!("{}", rules_table());
            Ok(0)
        }
        Command::Explain { rule, policy } => {
            if !policy.policies.is_empty() {
                let p = load_policy(&policy.policies)?;
                if let Some(c) = p.custom.iter().find(|c| c.id == rule) {
                    print!("{}", c.page());
                    return Ok(0);
                }
            }
            print!("{}", explain(&rule)?);
            Ok(0)
        }
        Command::Schema {
            what: SchemaOf::Snapshot,
        } => {
            println!(
                "{}",
                serde_json::to_string_pretty(crate::rules::custom::snapshot_schema())?
            );
            Ok(0)
        }
        Command::CheckPolicy { files } => {
            let p = load_policy(&files)?;
            println!(
                "{}: valid; {} rule{} enabled{}{}.",
                files.join(", "),
                p.rules.len(),
                if p.rules.len() == 1 { "" } else { "s" },
                match p.custom.len() {
                    0 => String::new(),
                    1 => ", 1 team rule".to_string(),
                    n => format!(", {n} team rules"),
                },
                if p.regions.is_empty() {
                    String::new()
                } else {
                    format!(", regions {}", p.regions.join(", "))
                }
            );
            Ok(0)
        }
        Command::IamPolicy { policy } => {
            let p = load_policy(&policy.policies)?;
            print!("{}", collect::wiring::iam_policy(&engine::services(&p)));
            Ok(0)
        }
        Command::Evaluate(args) => evaluate(args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "infraverify", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .context("cannot write the man page")?;
            Ok(0)
        }
        Command::Evidence {
            snapshot,
            policy,
            key,
            out,
        } => crate::evidence::write(&snapshot, policy_sources(&policy.policies)?, &key, &out),
        Command::VerifyEvidence { dir, public_key } => crate::evidence::verify(&dir, &public_key),
        Command::Handoff(args) => handoff(args),
        Command::Diff { old, new, format } => {
            let old = Report::load(&old).map_err(anyhow::Error::msg)?;
            let new = Report::load(&new).map_err(anyhow::Error::msg)?;
            let d = crate::baseline::diff(&old, &new);
            print!(
                "{}",
                match format {
                    DiffFormat::Table => crate::baseline::render_table(&d),
                    DiffFormat::Json => crate::baseline::render_json(&d),
                }
            );
            Ok(if d.new.is_empty() {
                0
            } else {
                engine::Outcome::Violations.code()
            })
        }
        Command::Scan(args) => runtime()?.block_on(scan(args, progress)),
        Command::Merge { reports, out } => {
            let loaded = reports
                .iter()
                .map(|r| Report::load(r).map_err(anyhow::Error::msg))
                .collect::<Result<Vec<_>>>()?;
            let merged = Report::merge(loaded);
            write_file(Path::new(&out), report::json::render(&merged).as_bytes())?;
            eprintln!(
                "infraverify: merged {} reports into {out}: {} findings, exit code {}",
                reports.len(),
                merged.findings.len(),
                merged.exit_code
            );
            Ok(merged.exit_code)
        }
        Command::Collect(args) => {
            let policy = load_policy(&args.policy.policies)?;
            check_repo(&args.repo)?;
            runtime()?.block_on(async {
                let sink = Sink {
                    save: Some((&args.out, true)),
                    judge: None,
                };
                let Collected {
                    mut snaps, many, ..
                } = collect_snapshots(&args.aws, &args.probes, &policy, progress, sink).await?;
                read_repo(&args.repo, &mut snaps[0]);
                write_snapshot(&args.out, &snaps[0], many, true)?;
                let total: usize = snaps.iter().map(|s| s.errors.len()).sum();
                Ok(if total == 0 {
                    0
                } else {
                    engine::Outcome::Incomplete.code()
                })
            })
        }
    }
}

/// Logs on standard error: warnings; with -v the tool's progress, -vv its every AWS call,
/// -vvv also the AWS SDK's and HTTP stack's own debug logs (which are large).
fn init_logging(verbose: u8) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let (ours, theirs) = match verbose {
        0 => (LevelFilter::WARN, LevelFilter::WARN),
        1 => (LevelFilter::INFO, LevelFilter::WARN),
        2 => (LevelFilter::DEBUG, LevelFilter::WARN),
        _ => (LevelFilter::DEBUG, LevelFilter::DEBUG),
    };
    let filter = Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), ours)
        .with_default(theirs);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none());
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(filter)
        .try_init();
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The policy files' texts (the embedded default when none is given).
pub fn policy_sources(files: &[String]) -> Result<Vec<PolicySource>> {
    if files.is_empty() {
        return Ok(vec![PolicySource::embedded_default()]);
    }
    files
        .iter()
        .map(|f| PolicySource::read(f).with_context(|| format!("cannot read policy file {f}")))
        .collect()
}

/// Reads and validates the policy files (the embedded default when none is given).
pub fn load_policy(files: &[String]) -> Result<Policy> {
    policy::load(&policy_sources(files)?).map_err(anyhow::Error::new)
}

/// Reads and checks the probe options before anything is collected: a bad
/// `--connect-to`, `--dns-server` or `--ca-file` is invalid input.
fn probe_options(p: &ProbeArgs, concurrency: usize) -> Result<ProbeOptions> {
    let connect_to = p
        .connect_to
        .iter()
        .map(|c| ConnectTo::parse(c).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let dns_server = p
        .dns_server
        .as_deref()
        .map(|s| {
            s.parse::<std::net::SocketAddr>()
                .or_else(|_| {
                    s.parse::<std::net::IpAddr>()
                        .map(|ip| std::net::SocketAddr::new(ip, 53))
                })
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--dns-server {s:?} is not an address such as 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53"
                    )
                })
        })
        .transpose()?;
    let ca_file = p
        .ca_file
        .as_deref()
        .map(|f| CaFile::read(f).map_err(anyhow::Error::msg))
        .transpose()?;
    Ok(ProbeOptions {
        dns_server,
        connect_to,
        ca_file,
        timeout: Duration::from_secs(p.probe_timeout),
        concurrency,
        deadline: None,
    })
}

/// The accounts to scan through roles (`--assume-role`, `--accounts`, `--shard`), sorted;
/// empty for the credentials' own account.
fn targets(aws: &AwsArgs) -> Result<Vec<collect::Target>> {
    let mut out = Vec::new();
    for arn in &aws.assume_role {
        out.push(collect::Target::new(arn, aws.external_id.clone()).map_err(anyhow::Error::msg)?);
    }
    if let Some(path) = &aws.accounts {
        out.extend(crate::accounts::read(path)?);
    }
    out.sort();
    out.dedup();
    if let Some(shard) = &aws.shard {
        let (i, n) = crate::accounts::resolve_shard(shard, |k| std::env::var(k).ok())
            .map_err(anyhow::Error::msg)?;
        if out.is_empty() {
            bail!("--shard splits the accounts of --accounts or --assume-role; none were given");
        }
        let total = out.len();
        out = out
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i - 1)
            .map(|(_, t)| t)
            .collect();
        // Without accounts the run would scan the credentials' own account instead.
        if out.is_empty() {
            bail!(
                "--shard {i}/{n} has no accounts: {total} account{} over {n} shards leave it \
                 empty; run at most {total} shards",
                if total == 1 { "" } else { "s" }
            );
        }
    }
    Ok(out)
}

/// Where a snapshot of a run is written: `path` itself when the run has one account,
/// `path` with the account id added before the extension when it has several.
fn snapshot_path(path: &str, snap: &Snapshot, many: bool) -> String {
    if !many {
        return path.to_string();
    }
    let p = Path::new(path);
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("snapshot");
    let ext = p.extension().and_then(|s| s.to_str()).unwrap_or("json");
    let account = snap.collection.account.as_deref().unwrap_or("unknown");
    let name = format!("{stem}-{account}.{ext}");
    p.with_file_name(name).to_string_lossy().into_owned()
}

/// Writes a snapshot where `--save-snapshot` or `collect --out` says; with `announce`, says
/// so on stderr with its collection errors.
fn write_snapshot(path: &str, snap: &Snapshot, many: bool, announce: bool) -> Result<()> {
    let path = snapshot_path(path, snap, many);
    write_file(Path::new(&path), snap.to_json().as_bytes())?;
    if announce {
        let n = snap.errors.len();
        eprintln!(
            "infraverify: wrote {path} ({} region{}, {n} collection error{})",
            snap.regions.len(),
            if snap.regions.len() == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" }
        );
        for e in &snap.errors {
            eprintln!("  {e}");
        }
    }
    Ok(())
}

/// What a fleet does with each account's snapshot as soon as it is collected (all but the
/// first account's, which stays whole for the probes and the repository): write it, judge
/// it, and keep only what the reports need, so memory stays flat however many accounts.
struct Sink<'a> {
    /// `--save-snapshot` / `collect --out`, and whether to announce each file.
    save: Option<(&'a str, bool)>,
    /// The policy whose AWS and team rules judge each account.
    judge: Option<&'a Policy>,
}

/// What collection gives: the first account's snapshot whole, then (in a fleet) each other
/// account's reduced to its collection's facts and errors, with the findings of the rules
/// that read its inventory.
struct Collected {
    snaps: Vec<Snapshot>,
    judged: Vec<crate::finding::Finding>,
    /// Whether the run has several accounts (each snapshot's file names its account).
    many: bool,
}

/// Collects AWS (unless `--no-aws`) for every target account (or the credentials' own) and
/// runs the live probes the policy asks for (unless `--no-probes`) once, concurrently; the
/// probes are attached to the first snapshot.
///
/// A fleet is collected `--concurrency` accounts at a time (each in flight has a call
/// waiting, so the bound on calls stays full), each account handed to `sink` as it
/// finishes.
async fn collect_snapshots(
    aws: &AwsArgs,
    probes: &ProbeArgs,
    policy: &Policy,
    show_progress: bool,
    sink: Sink<'_>,
) -> Result<Collected> {
    let targets = targets(aws)?;
    let mut popts = probe_options(probes, aws.concurrency as usize)?;
    let mut opts = if probes.no_aws {
        None
    } else {
        Some(aws_options(aws, policy).await?)
    };
    let deadline = aws
        .timeout
        .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    popts.deadline = deadline;
    // One configuration (one HTTP client, one credentials cache) for the credentials check
    // and every account's collection: the credentials are resolved once.
    let mut base = None;
    if let Some(o) = opts.as_mut() {
        o.deadline = deadline;
        let cfg = collect::sdk_config(o, Some(&collect::home(o))).await;
        o.account = preflight(o, &cfg).await?;
        base = Some(cfg);
    }
    let plan = engine::probe_plan(policy);
    let accounts = targets.len().max(1) as u64;
    let steps = opts
        .as_ref()
        .map(|o| collect::steps(&o.services, o.regions.len()) * accounts)
        .unwrap_or(0)
        + u64::from(!probes.no_probes);
    let progress = Progress::new(steps, show_progress);
    if let Some(o) = opts.as_mut() {
        o.progress = progress.clone();
    }
    let started_at = Timestamp::now();
    let mut judged = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    let aws_part = async {
        match (&opts, &base) {
            (Some(opts), Some(base)) if targets.is_empty() => {
                tracing::info!(regions = ?opts.regions, endpoint = ?opts.endpoint_url, "collecting");
                Ok(vec![collect::collect_as(opts, base, None).await])
            }
            (Some(opts), Some(base)) => {
                tracing::info!(accounts = targets.len(), regions = ?opts.regions, "collecting");
                let many = targets.len() > 1;
                let mut snaps: Vec<Option<Snapshot>> = (0..targets.len()).map(|_| None).collect();
                let mut running = tokio::task::JoinSet::new();
                let mut next = targets.iter().enumerate();
                loop {
                    while running.len() < opts.concurrency.max(1) {
                        let Some((i, t)) = next.next() else { break };
                        let (opts, base, t) = (opts.clone(), base.clone(), t.clone());
                        running.spawn(async move {
                            (i, collect::collect_as(&opts, &base, Some(&t)).await)
                        });
                    }
                    let Some(joined) = running.join_next().await else {
                        break;
                    };
                    let (i, mut snap) = match joined {
                        Ok(done) => done,
                        Err(e) => std::panic::resume_unwind(e.into_panic()),
                    };
                    if i > 0 {
                        if let Some((path, announce)) = sink.save {
                            write_snapshot(path, &snap, many, announce)?;
                        }
                        if let Some(policy) = sink.judge {
                            judged.extend(engine::judge_account(policy, &snap));
                        }
                        if plan.load_balancer_names {
                            names.extend(probe::load_balancer_names(&snap));
                        }
                        snap.reduce();
                    }
                    snaps[i] = Some(snap);
                }
                Ok(snaps
                    .into_iter()
                    .map(|s| s.expect("every account collected"))
                    .collect())
            }
            _ => Ok::<_, anyhow::Error>(vec![collect::without_aws(started_at)]),
        }
    };
    let probe_part = async {
        if probes.no_probes {
            None
        } else {
            tracing::info!(
                dns = plan.dns.len(),
                tls = plan.tls.len(),
                http = plan.http.len(),
                "probing"
            );
            let live = probe::run(&plan, popts.clone()).await.0;
            progress.step("live probes");
            Some(live)
        }
    };
    let (snaps, live) = tokio::join!(aws_part, probe_part);
    let mut snaps: Vec<Snapshot> = snaps?;
    progress.finish();
    if let Some(mut live) = live {
        if plan.load_balancer_names {
            if let Some(first) = snaps.first().filter(|s| s.collection.aws) {
                names.extend(probe::load_balancer_names(first));
            }
            live.dns
                .extend(probe::probe_names(&names, popts.clone()).await);
        }
        let snap = &mut snaps[0];
        snap.errors.extend(probe::errors(&live));
        snap.probes = Some(live);
        snap.collection.finished_at = Timestamp::now();
        snap.normalize();
    }
    Ok(Collected {
        snaps,
        judged,
        many: targets.len() > 1,
    })
}

/// The AWS collection's options, checked: bad regions, or none at all, are invalid input
/// before anything is collected or probed.
async fn aws_options(aws: &AwsArgs, policy: &Policy) -> Result<CollectOptions> {
    let mut opts = CollectOptions {
        regions: aws.regions.clone(),
        profile: aws.profile.clone(),
        endpoint_url: aws.endpoint_url.clone().filter(|e| !e.is_empty()),
        call_timeout: Duration::from_secs(aws.call_timeout),
        concurrency: aws.concurrency as usize,
        region_concurrency: aws.region_concurrency as usize,
        slots: std::sync::Arc::new(tokio::sync::Semaphore::new(aws.concurrency as usize)),
        domains: engine::policy_hosts(policy),
        deadline: None,
        services: engine::services(policy),
        progress: Progress::default(),
        account: None,
    };
    let all = opts.regions.iter().any(|r| r == "all");
    if all && opts.regions.len() > 1 {
        bail!("--region all scans every enabled region; it cannot be combined with other --region values");
    }
    for r in opts.regions.iter().filter(|r| *r != "all") {
        if !policy::is_region_name(r) {
            bail!("--region {r:?} is not an AWS region name such as \"eu-central-1\", or \"all\"");
        }
    }
    if all {
        let cfg = collect::sdk_config(&opts, None).await;
        let home = cfg
            .region()
            .map(|r| r.to_string())
            .or_else(|| policy.regions.first().cloned())
            .unwrap_or_else(|| "us-east-1".to_string());
        let cfg = collect::sdk_config(&opts, Some(&home)).await;
        let ctx = collect::Caller::new(&opts, &home, collect::limit::Gate::new(1));
        opts.regions = collect::ec2::enabled_regions(&ctx, &cfg)
            .await
            .map_err(|e| {
                anyhow::anyhow!("--region all: cannot list the account's enabled regions: {e}")
            })?;
        tracing::info!(regions = ?opts.regions, "enabled regions");
    }
    if opts.regions.is_empty() {
        opts.regions = policy.regions.clone();
    }
    if opts.regions.is_empty() {
        let cfg = collect::sdk_config(&opts, None).await;
        match cfg.region() {
            Some(r) => opts.regions.push(r.to_string()),
            None => bail!(
                "no region to scan: pass --region, list regions in the policy's [policy] table, or set AWS_REGION"
            ),
        }
    }
    opts.regions.sort();
    opts.regions.dedup();
    Ok(opts)
}

/// Before anything is collected: do the credentials work at all? Without them every call
/// fails the same way, so one message that says what was tried and how to fix it is invalid
/// input (exit 2), not an incomplete scan. Any other failure (an unreachable endpoint, a
/// timeout, the `--timeout` deadline) is left to the collection, which reports it per
/// control. The account the credentials belong to, when the answer named it: the
/// collection need not ask again.
async fn preflight(opts: &CollectOptions, cfg: &collect::SdkConfig) -> Result<Option<String>> {
    let check = preflight_call(opts, cfg);
    match opts.deadline {
        Some(d) => tokio::time::timeout_at(d, check).await.unwrap_or(Ok(None)),
        None => check.await,
    }
}

async fn preflight_call(opts: &CollectOptions, cfg: &collect::SdkConfig) -> Result<Option<String>> {
    let ctx = collect::Caller::new(opts, &collect::home(opts), collect::limit::Gate::new(1));
    match collect::sts::account(&ctx, cfg).await {
        Err(e) if e.kind == crate::inventory::ErrorKind::Credentials => {
            let profile = opts
                .profile
                .clone()
                .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
            let tried = match &profile {
                Some(p) => format!("profile {p:?} (its keys, SSO session or role)"),
                None => "the environment (AWS_ACCESS_KEY_ID), the default profile, web identity, and container and instance credentials".into(),
            };
            let fix = match &profile {
                Some(p) => format!("for an SSO profile, run `aws sso login --profile {p}`; else check the profile in ~/.aws/config"),
                None => "name a profile with `--profile P` or AWS_PROFILE (for SSO, `aws sso login --profile P` first), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; against an emulator, pass --endpoint-url and its test keys".into(),
            };
            bail!(
                "no usable AWS credentials, so nothing was collected.\n  tried: {tried}\n  sts:GetCallerIdentity said: {}\n  fix: {fix}",
                e.message
            )
        }
        Ok(account) => Ok(Some(account)),
        Err(_) => Ok(None),
    }
}

async fn scan(args: ScanArgs, show_progress: bool) -> Result<u8> {
    let ScanArgs {
        policy: p,
        aws,
        probes,
        output,
        repo,
        save_snapshot,
        evidence,
        key,
    } = args;
    let sources = policy_sources(&p.policies)?;
    let policy = policy::load(&sources).map_err(anyhow::Error::new)?;
    // Check every input and where reports go before spending minutes on collection.
    let baseline = prepare(&output)?;
    check_repo(&repo)?;
    let bundle = match (&evidence, &key) {
        (Some(dir), Some(key)) => {
            if aws.assume_role.len() > 1 || aws.accounts.is_some() {
                bail!(
                    "--evidence bundles one account's scan; with several accounts, save the \
                     snapshots (--save-snapshot) and run `infraverify evidence` on each"
                );
            }
            let bundle = crate::evidence::Bundle::prepare(key, dir, "--evidence")?;
            // The bundle moves into place whole: it cannot share a directory with files the
            // scan writes.
            let abs =
                |p: &str| std::path::absolute(p).unwrap_or_else(|_| std::path::PathBuf::from(p));
            let ev = abs(dir);
            let overlaps = |p: &Path| p.starts_with(&ev) || ev.starts_with(p);
            if output.formats.iter().any(|f| f.file_name().is_some())
                && overlaps(&abs(&output.out_dir))
            {
                bail!(
                    "--evidence {dir} and --out-dir {} overlap; give the bundle a directory of its own",
                    output.out_dir
                );
            }
            if let Some(snap) = &save_snapshot {
                if abs(snap).starts_with(&ev) {
                    bail!("--save-snapshot {snap} is inside --evidence {dir}; the bundle holds the snapshot itself");
                }
            }
            Some(bundle)
        }
        _ => None,
    };
    let sink = Sink {
        save: save_snapshot.as_deref().map(|p| (p, false)),
        judge: Some(&policy),
    };
    let Collected {
        mut snaps,
        judged,
        many,
    } = collect_snapshots(&aws, &probes, &policy, show_progress, sink).await?;
    read_repo(&repo, &mut snaps[0]);
    if let Some(path) = &save_snapshot {
        write_snapshot(path, &snaps[0], many, false)?;
    }
    let reported = report_on(&policy, &snaps, judged, &output, baseline.as_ref())?;
    let Some(bundle) = bundle else {
        return reported.strict(&output, "");
    };
    bundle
        .write(snaps[0].to_json().as_bytes(), "of this scan", &sources)
        .context("the reports were written, the evidence bundle was not")?;
    if output.fail_on != crate::finding::Severity::Low || output.baseline.is_some() {
        eprintln!(
            "note: the evidence bundle's reports are the plain evaluation (--fail-on low, no \
             baseline), so its exit code and verdicts may differ from this run's"
        );
    }
    reported.strict(&output, " and the evidence bundle")
}

fn evaluate(args: EvaluateArgs) -> Result<u8> {
    let EvaluateArgs {
        snapshots,
        policy: PolicyArgs { policies },
        output,
        repo,
        no_probes,
    } = args;
    let policy = load_policy(&policies)?;
    let mut snaps = snapshots
        .iter()
        .map(|p| Snapshot::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    if no_probes {
        for snap in &mut snaps {
            if let Some(live) = snap.probes.take() {
                let dropped = probe::errors(&live);
                snap.errors.retain(|e| !dropped.contains(e));
            }
        }
    }
    let baseline = prepare(&output)?;
    check_repo(&repo)?;
    read_repo(&repo, &mut snaps[0]);
    let judged = engine::judge_accounts(&policy, snaps.get(1..).unwrap_or_default());
    report_on(&policy, &snaps, judged, &output, baseline.as_ref())?.strict(&output, "")
}

fn check_repo(repo: &RepoArgs) -> Result<()> {
    match &repo.repo {
        Some(p) if !Path::new(p).is_dir() => bail!("--repo {p} is not a directory"),
        _ => Ok(()),
    }
}

/// With `--repo`, the repository's facts replace any the snapshot carries.
fn read_repo(repo: &RepoArgs, snap: &mut Snapshot) {
    if let Some(path) = &repo.repo {
        snap.repository = Some(collect::repo::collect(path));
    }
}

fn handoff(args: HandoffArgs) -> Result<u8> {
    let policy = load_policy(&args.policy.policies)?;
    let mut snap = Snapshot::load(&args.snapshot)?;
    check_repo(&args.repo)?;
    read_repo(&args.repo, &mut snap);
    let engine::Evaluation { findings, warnings } = engine::evaluate(&policy, &snap);
    let outcome = engine::outcome(&findings, args.fail_on, snap.errors.len());
    let mut report = Report::new(&snap, &policy, findings, outcome);
    report.warnings = warnings;
    let doc = report::handoff::render(&snap, &report, policy.name.as_deref());
    match &args.out {
        Some(path) => {
            write_file(Path::new(path), doc.as_bytes())?;
            eprintln!("infraverify: wrote {path}");
        }
        None => print!("{doc}"),
    }
    Ok(outcome.code())
}

/// Reads the baseline and checks the output directory before anything is collected or
/// evaluated, so bad output options are invalid input (exit 2), not a failure after a scan.
fn prepare(output: &OutputArgs) -> Result<Option<Report>> {
    check_out_dir(output)?;
    output
        .baseline
        .as_deref()
        .map(|p| Report::load(p).map_err(anyhow::Error::msg))
        .transpose()
}

fn check_out_dir(output: &OutputArgs) -> Result<()> {
    if output.formats.iter().any(|f| f.file_name().is_some()) {
        let dir = Path::new(&output.out_dir);
        if dir.exists() && !dir.is_dir() {
            bail!("--out-dir {} exists and is not a directory", output.out_dir);
        }
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create --out-dir {}", output.out_dir))?;
        let probe = dir.join(format!(".infraverify-write-test.{}", std::process::id()));
        std::fs::write(&probe, b"")
            .with_context(|| format!("cannot write into --out-dir {}", output.out_dir))?;
        let _ = std::fs::remove_file(&probe);
    }
    Ok(())
}

fn report_on(
    policy: &Policy,
    snaps: &[Snapshot],
    judged: Vec<crate::finding::Finding>,
    output: &OutputArgs,
    baseline: Option<&Report>,
) -> Result<Reported> {
    let engine::Evaluation {
        mut findings,
        warnings,
    } = engine::evaluate_run(policy, snaps, judged);
    if let Some(old) = baseline {
        crate::baseline::apply(&mut findings, old);
    }
    let errors = snaps.iter().map(|s| s.errors.len()).sum();
    let outcome = engine::outcome(&findings, output.fail_on, errors);
    let mut report = Report::new_many(snaps, policy, findings, outcome);
    report.warnings = warnings;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    let mut formats = output.formats.clone();
    if formats.is_empty() {
        formats.push(Format::Table);
    }
    formats.sort();
    formats.dedup();
    for format in formats {
        match format {
            Format::Table => {
                let stdout = std::io::stdout();
                let tty = stdout.is_terminal();
                let style = report::table::Style {
                    color: tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
                    width: if tty { terminal_width() } else { None },
                    details: output.details,
                };
                let mut lock = stdout.lock();
                lock.write_all(report::table::render(&report, style).as_bytes())?;
                lock.flush()?;
            }
            file_format => {
                let name = file_format
                    .file_name()
                    .expect("every format but the table is a file");
                let text = report.render(file_format).expect("file formats render");
                write_file(&Path::new(&output.out_dir).join(name), text.as_bytes())?;
            }
        }
    }
    Ok(Reported {
        code: outcome.code(),
        warnings: report.warnings.len(),
    })
}

/// What [`report_on`] leaves to its caller: the exit code, and the warnings `--strict`
/// turns into an error once everything the run writes is written.
struct Reported {
    code: u8,
    warnings: usize,
}

impl Reported {
    fn strict(self, output: &OutputArgs, also: &str) -> Result<u8> {
        if output.strict && self.warnings > 0 {
            bail!(
                "--strict: {} warning{} (listed above); the reports{also} were written",
                self.warnings,
                if self.warnings == 1 { "" } else { "s" }
            );
        }
        Ok(self.code)
    }
}

fn terminal_width() -> Option<u16> {
    comfy_table::Table::new().width().filter(|w| *w >= 60)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    report::write_atomic(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// `infraverify rules`: every rule as a table.
pub fn rules_table() -> String {
    let mut rows: Vec<&rules::RuleMeta> = rules::RULES.iter().map(|r| r.meta()).collect();
    rows.sort_by_key(|m| {
        (
            m.controls
                .first()
                .map(|c| crate::checklist::control_order(c)),
            m.id,
        )
    });
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.force_no_tty();
    t.set_header(vec!["Rule", "Controls", "Severity", "Title"]);
    for m in &rows {
        t.add_row(vec![
            m.id.to_string(),
            m.controls.join(", "),
            m.severity.to_string(),
            m.title.to_string(),
        ]);
    }
    format!(
        "{t}\n{} rules. `infraverify explain RULE` prints one's documentation.\n",
        rows.len()
    )
}

/// `infraverify explain RULE`: the doc page with its generated parameter table.
pub fn explain(id: &str) -> Result<String> {
    let Some(rule) = rules::find(id) else {
        let hint = crate::input::diag::closest(id, rules::RULES.iter().map(|r| r.meta().id))
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_else(|| "; `infraverify rules` lists every rule".to_string());
        bail!("unknown rule `{id}`{hint}");
    };
    Ok(rules::page(rule))
}
