//! Shared test plumbing: the emulator's address, SDK configuration for seeding, and the
//! `infraverify` command with an environment that can only reach what the test names.

use std::path::Path;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::config::Credentials;

/// The emulator's endpoint; tests that need it fail with instructions when it is missing.
pub fn endpoint() -> String {
    std::env::var("INFRAVERIFY_TEST_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "INFRAVERIFY_TEST_ENDPOINT is not set: run the suite with scripts/test.sh, which starts \
             the AWS emulator (moto) and sets it"
        )
    })
}

/// SDK configuration for seeding the emulator at `endpoint` in `region` (tests may write;
/// the product never does).
pub async fn sdk_at(endpoint: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

/// `infraverify` with AWS settings from the environment removed, static test
/// credentials, no config files and no instance metadata: nothing but what the test passes.
pub fn infraverify(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("infraverify").expect("binary is built");
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_")
            || k.starts_with("INFRAVERIFY_")
            || k == "NO_COLOR"
            || k == "RUST_LOG"
        {
            cmd.env_remove(&k);
        }
    }
    cmd.current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // Tests contact loopback only: probe lookups go to a closed loopback port unless a
        // test names its own DNS server, so no probe can reach a real resolver.
        .env("INFRAVERIFY_DNS_SERVER", "127.0.0.1:9")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The message of the finding of `rule` on resource `id`.
pub fn message(report: &serde_json::Value, rule: &str, id: &str) -> String {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule && f["resource"]["id"] == id)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no finding of {rule} on {id}"))
}

/// `(rule, resource id) -> status` of a report's findings.
pub fn verdicts(
    report: &serde_json::Value,
) -> std::collections::BTreeMap<(String, String), String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["resource"]["id"].as_str().unwrap().to_string(),
                ),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The TLS, domain and HTTP rules. Route 53 is global in the emulator, so their API side is
/// tested in an account of its own (`edge.rs`); other emulator tests leave them out.
pub const EDGE_RULES: &[&str] = &[
    "route53-zone-missing",
    "dns-delegation-mismatch",
    "dns-record-not-pointing-at-alb",
    "dns-name-not-resolving-to-alb",
    "mail-dns-records-missing",
    "acm-certificate-not-covering-names",
    "acm-certificate-expiring",
    "acm-certificate-not-auto-renewing",
    "alb-https-certificate-not-covering-names",
    "served-certificate-not-from-listener",
    "alb-tls-policy-outdated",
    "tls-endpoint-invalid",
    "tls-certificate-expiring",
    "http-not-redirecting-to-https",
    "http-listener-not-redirecting-301",
    "health-endpoint-failing",
];

/// Runs `infraverify` with `args` in `dir` off the async runtime, so that the in-process
/// servers and proxies a test started keep answering it.
pub async fn run_in(dir: &Path, args: Vec<String>) -> std::process::Output {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || infraverify(&dir).args(&args).output().unwrap())
        .await
        .unwrap()
}

/// `infraverify scan` against the emulator, as the tests run it: a builder of the command
/// line, starting from `scan --no-probes --region REGION --endpoint-url EMULATOR`.
pub struct Scan {
    dir: std::path::PathBuf,
    region: String,
    endpoint: String,
    probes: bool,
    args: Vec<String>,
}

pub fn scan(dir: &Path, region: &str) -> Scan {
    Scan {
        dir: dir.to_path_buf(),
        region: region.to_string(),
        endpoint: endpoint(),
        probes: false,
        args: vec![],
    }
}

impl Scan {
    /// Send the AWS calls elsewhere (a proxy in front of the emulator).
    pub fn via(mut self, url: &str) -> Self {
        self.endpoint = url.to_string();
        self
    }

    /// Run the live probes too.
    pub fn with_probes(mut self) -> Self {
        self.probes = true;
        self
    }

    pub fn policy(self, file: &str) -> Self {
        self.args(&["--policy", file])
    }

    /// `--format F` for each, in order.
    pub fn formats(mut self, formats: &[&str]) -> Self {
        for f in formats {
            self.args.extend(["--format".to_string(), f.to_string()]);
        }
        self
    }

    pub fn out_dir(self, dir: &str) -> Self {
        self.args(&["--out-dir", dir])
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// The whole command line after `infraverify`.
    pub fn command_line(&self) -> Vec<String> {
        let mut out = vec!["scan".to_string()];
        if !self.probes {
            out.push("--no-probes".into());
        }
        out.extend(["--region".into(), self.region.clone()]);
        out.extend(["--endpoint-url".into(), self.endpoint.clone()]);
        out.extend(self.args.iter().cloned());
        out
    }

    pub fn run(self) -> std::process::Output {
        infraverify(&self.dir)
            .args(self.command_line())
            .output()
            .unwrap()
    }

    /// [`Scan::run`] off the async runtime, so in-process servers and proxies keep answering.
    pub async fn run_async(self) -> std::process::Output {
        let dir = self.dir.clone();
        run_in(&dir, self.command_line()).await
    }
}
