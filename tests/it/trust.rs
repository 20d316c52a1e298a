//! Trusting the scanner itself: it reads, and only reads, and what it reads of secrets
//! stays in AWS.

use std::sync::{Arc, Mutex};

use crate::proxy::{self, Request};
use crate::seed::{seed, Options};
use crate::support::{endpoint, infraverify, read_json, stderr, stdout};

/// Every request a whole scan makes, seen on the wire: only reads, never a secret's value,
/// and none of the seeded secret values in any output at any verbosity.
#[tokio::test(flavor = "multi_thread")]
async fn a_scan_only_reads_and_no_secret_value_leaves_aws() {
    let region = "ca-central-1";
    seed(region, Options::default()).await;
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let log = seen.clone();
    let watch = proxy::start(
        &endpoint(),
        Arc::new(move |r: &Request| {
            log.lock().unwrap().push((r.service.clone(), r.operation()));
            None
        }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "-vv",
        "scan",
        "--no-probes",
        "--region",
        region,
        "--endpoint-url",
        &watch.url,
        "--format",
        "table",
        "--format",
        "json",
        "--format",
        "junit",
        "--format",
        "sarif",
        "--format",
        "markdown",
        "--save-snapshot",
        "snap.json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = crate::support::run_in(dir.path(), args).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    // On the wire: Describe, List and Get only (and STS's GetCallerIdentity), and never
    // the one Get that returns a secret.
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() > 20, "{seen:?}");
    for (service, op) in &seen {
        assert!(
            ["Describe", "List", "Get", "GET "]
                .iter()
                .any(|p| op.starts_with(p)),
            "{service}:{op} is not a read"
        );
        assert_ne!(op, "GetSecretValue", "a secret's value was requested");
    }
    assert!(seen
        .iter()
        .any(|(s, o)| s == "secretsmanager" && o == "ListSecrets"));

    // Nothing the scan wrote or printed holds a secret's value; the names are there.
    let mut texts = vec![
        ("stdout".to_string(), stdout(&out)),
        ("stderr".to_string(), stderr(&out)),
    ];
    for entry in walk(dir.path()) {
        texts.push((
            entry.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned(),
        ));
    }
    assert!(
        texts.len() >= 7,
        "{:?}",
        texts.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for (name, text) in &texts {
        assert!(
            !text.contains("seeded-value-of-"),
            "{name} holds a secret value"
        );
    }
    let snapshot = &texts
        .iter()
        .find(|(n, _)| n.ends_with("snap.json"))
        .unwrap()
        .1;
    assert!(
        snapshot.contains("prod/db/password"),
        "the secret's name is collected"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A moto server of this test's own, for what would disturb the shared one: IAM
/// enforcement is server-wide.
struct PrivateMoto {
    child: std::process::Child,
    url: String,
}

impl PrivateMoto {
    fn start() -> PrivateMoto {
        let python = std::env::var("INFRAVERIFY_TEST_PYTHON")
            .expect("INFRAVERIFY_TEST_PYTHON is set by scripts/test.sh");
        let bin = std::path::Path::new(&python).with_file_name("moto_server");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("MOTO_ACM_VALIDATION_WAIT", "0")
            .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let url = format!("http://127.0.0.1:{port}");
        let up = (0..300).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(100));
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "the private emulator did not start");
        PrivateMoto { child, url }
    }

    /// Turns IAM enforcement on (`0` requests without authentication) or off (`inf`).
    fn enforce(&self, on: bool) {
        let body = if on { "0" } else { "inf" };
        let mut s = std::net::TcpStream::connect(self.url.trim_start_matches("http://")).unwrap();
        use std::io::{Read, Write};
        write!(
            s,
            "POST /moto-api/reset-auth HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

impl Drop for PrivateMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A user holding exactly `policy` (JSON), with an access key.
async fn user_with(endpoint: &str, name: &str, policy: &str) -> (String, String) {
    let cfg = crate::support::sdk_at(endpoint, "us-east-1").await;
    let iam = aws_sdk_iam::Client::new(&cfg);
    iam.create_user().user_name(name).send().await.unwrap();
    let arn = iam
        .create_policy()
        .policy_name(format!("{name}-policy"))
        .policy_document(policy)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    iam.attach_user_policy()
        .user_name(name)
        .policy_arn(arn)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let k = key.access_key().unwrap();
    (
        k.access_key_id().to_string(),
        k.secret_access_key().to_string(),
    )
}

/// `infraverify iam-policy` is enough, and nothing less is: with IAM enforcement on, a user
/// holding exactly the generated policy scans without an access error; the same policy
/// without RDS's actions gives `error` on exactly the controls that read RDS, exit 3.
#[tokio::test(flavor = "multi_thread")]
async fn the_generated_iam_policy_is_enough_and_fails_closed_without_a_service() {
    let moto = PrivateMoto::start();
    let region = "eu-central-1";
    crate::seed::seed_at(&moto.url, region, Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = infraverify(dir.path()).arg("iam-policy").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let policy = stdout(&out);
    let doc: serde_json::Value = serde_json::from_str(&policy).unwrap();
    let actions: Vec<String> = doc["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert!(actions.iter().all(|a| {
        let op = a.split_once(':').unwrap().1;
        ["Describe", "List", "Get"]
            .iter()
            .any(|p| op.starts_with(p))
    }));
    let mut without_rds = doc.clone();
    without_rds["Statement"][0]["Action"] = actions
        .iter()
        .filter(|a| !a.starts_with("rds:"))
        .cloned()
        .collect();
    let full = user_with(&moto.url, "ci-full", &policy).await;
    let partial = user_with(&moto.url, "ci-no-rds", &without_rds.to_string()).await;
    moto.enforce(true);

    let scan = |(key, secret): (String, String), out_dir: &'static str| {
        let (dir, url) = (dir.path().to_path_buf(), moto.url.clone());
        tokio::task::spawn_blocking(move || {
            infraverify(&dir)
                .env("AWS_ACCESS_KEY_ID", key)
                .env("AWS_SECRET_ACCESS_KEY", secret)
                .args([
                    "scan",
                    "--no-probes",
                    "--region",
                    region,
                    "--endpoint-url",
                    &url,
                ])
                .args([
                    "--fail-on",
                    "critical",
                    "--format",
                    "json",
                    "--out-dir",
                    out_dir,
                ])
                .output()
                .unwrap()
        })
    };
    let reads_route53 = |rule: &str| {
        infraverify::rules::find(rule)
            .unwrap()
            .meta()
            .reads
            .contains(&infraverify::inventory::Service::Route53)
    };
    let out = scan(full, "full").await.unwrap();
    let report = read_json(&dir.path().join("full/report.json"));
    // moto 5.2.5 cannot check signatures of Route 53's REST calls with enforcement on: those
    // fail whatever the policy (a known emulator gap); every other call must succeed.
    for e in report["errors"].as_array().unwrap() {
        assert!(
            e["source"].as_str().unwrap().starts_with("route53:"),
            "{e}\n{}",
            stdout(&out)
        );
    }
    for f in report["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap();
        if f["status"] == "error" {
            assert!(reads_route53(rule), "{rule}: {}", f["message"]);
        }
    }

    let out = scan(partial, "partial").await.unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let report = read_json(&dir.path().join("partial/report.json"));
    let denied: Vec<&serde_json::Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["source"].as_str().unwrap().starts_with("route53:"))
        .collect();
    assert!(!denied.is_empty());
    for e in &denied {
        assert!(e["source"].as_str().unwrap().starts_with("rds:"), "{e}");
        assert!(
            e["message"].as_str().unwrap().starts_with("access-denied:"),
            "{e}"
        );
    }
    for f in report["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap();
        let reads_rds = infraverify::rules::find(rule)
            .unwrap()
            .meta()
            .reads
            .contains(&infraverify::inventory::Service::Rds);
        if f["status"] == "error" {
            assert!(reads_rds || reads_route53(rule), "{rule}: {}", f["message"]);
        } else if reads_rds
            && rule.starts_with("rds-")
            && f["resource"]["kind"] != "checklist-control"
        {
            panic!(
                "{rule} on {} is {} without RDS data",
                f["resource"]["id"], f["status"]
            );
        }
    }
    moto.enforce(false);
}
