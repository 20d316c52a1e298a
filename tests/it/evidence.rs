//! Evidence bundles end to end: written from the example snapshot with a fresh Ed25519 key,
//! verified with its public key, and refused, naming the file, after any one byte of any
//! bundled file changes, an unsigned file is added, or another key is used.

use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use infraverify::evidence::{
    base64, pem, public_key_pem, sha256_hex, unbase64, ENVELOPE, MANIFEST, PREDICATE_TYPE,
};

use crate::support::{infraverify, read_json, stderr, stdout};

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/lifetimecircle/snapshot.json"
);

/// A fresh key pair as PEM files `NAME.pem` (PKCS#8) and `NAME.pub.pem` in `dir`.
fn keys(dir: &Path, name: &str) {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    std::fs::write(
        dir.join(format!("{name}.pem")),
        pem("PRIVATE KEY", pkcs8.as_ref()),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("{name}.pub.pem")),
        public_key_pem(pair.public_key().as_ref()),
    )
    .unwrap();
}

fn verify(dir: &Path, bundle: &str, key: &str) -> std::process::Output {
    infraverify(dir)
        .args(["verify-evidence", bundle, "--pub", key])
        .output()
        .unwrap()
}

fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(
                files(&p)
                    .into_iter()
                    .map(|f| format!("{}/{f}", p.file_name().unwrap().to_string_lossy())),
            );
        } else {
            out.push(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

fn copy(from: &Path, to: &Path) {
    for f in files(from) {
        let target = to.join(&f);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&f), target).unwrap();
    }
}

#[test]
fn a_signed_bundle_verifies_and_any_changed_byte_is_found_and_named() {
    let dir = tempfile::tempdir().unwrap();
    keys(dir.path(), "key");
    keys(dir.path(), "other");
    let out = infraverify(dir.path())
        .args(["evidence", EXAMPLE, "--key", "key.pem", "--out", "bundle"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bundle = dir.path().join("bundle");
    assert_eq!(
        files(&bundle),
        [
            ENVELOPE,
            MANIFEST,
            "policies/000-lifetimecircle.toml",
            "reports/report.html",
            "reports/report.json",
            "reports/report.junit.xml",
            "reports/report.md",
            "reports/report.sarif",
            "snapshot.json",
        ]
    );
    // The statement: every other file a subject, and the verdict per control.
    let envelope = read_json(&bundle.join(ENVELOPE));
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    let payload = infraverify_payload(&envelope);
    assert_eq!(payload["predicateType"], PREDICATE_TYPE);
    assert_eq!(payload["subject"].as_array().unwrap().len(), 8);
    assert_eq!(payload["predicate"]["verdicts"]["IAM-4"], "fail");
    assert_eq!(payload["predicate"]["verdicts"]["RDS-3"], "pass");
    assert_eq!(payload["predicate"]["account"], "123456789012");
    // The reports are the ones `evaluate` writes for the same snapshot and policy.
    let eval = infraverify(dir.path())
        .args(["evaluate", EXAMPLE, "--format", "json", "--out-dir", "eval"])
        .output()
        .unwrap();
    assert_eq!(eval.status.code(), Some(1));
    assert_eq!(
        std::fs::read(dir.path().join("eval/report.json")).unwrap(),
        std::fs::read(bundle.join("reports/report.json")).unwrap()
    );

    let ok = verify(dir.path(), "bundle", "key.pub.pem");
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("verified: 8 files"), "{}", stdout(&ok));
    // Another key: refused, naming the envelope.
    let other = verify(dir.path(), "bundle", "other.pub.pem");
    assert_eq!(other.status.code(), Some(2));
    assert!(stderr(&other).contains(ENVELOPE), "{}", stderr(&other));

    // One byte changed, in each file in turn (a digest, a policy, the signature): exit 2,
    // the file named.
    for (i, f) in files(&bundle).iter().enumerate() {
        let copy_dir = dir.path().join(format!("t{i}"));
        copy(&bundle, &copy_dir);
        let path = copy_dir.join(f);
        let mut bytes = std::fs::read(&path).unwrap();
        // The signature's middle for the envelope, the middle for any other file.
        let at = if f == ENVELOPE {
            let text = String::from_utf8(bytes.clone()).unwrap();
            text.find("\"sig\": \"").unwrap() + 20
        } else {
            bytes.len() / 2
        };
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        std::fs::write(&path, bytes).unwrap();
        let out = verify(dir.path(), &format!("t{i}"), "key.pub.pem");
        assert_eq!(out.status.code(), Some(2), "{f}: {}", stdout(&out));
        assert!(stderr(&out).contains(f.as_str()), "{f}: {}", stderr(&out));
    }
    // Signed by the right key, digests right, but a report that the bundled snapshot does
    // not give: the holder of the key cannot vouch for a report the inputs do not support.
    let forged = dir.path().join("forged");
    copy(&bundle, &forged);
    let report = forged.join("reports/report.json");
    let text = std::fs::read_to_string(&report)
        .unwrap()
        .replacen("\"fail\"", "\"pass\"", 1);
    std::fs::write(&report, &text).unwrap();
    let mut statement = infraverify_payload(&read_json(&forged.join(ENVELOPE)));
    for s in statement["subject"].as_array_mut().unwrap() {
        if s["name"] == "reports/report.json" {
            s["digest"]["sha256"] = serde_json::json!(sha256_hex(text.as_bytes()));
        }
    }
    resign(dir.path(), &forged, &statement);
    let out = verify(dir.path(), "forged", "key.pub.pem");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "reports/report.json: evaluating the bundled snapshot again gives another file"
        ),
        "{}",
        stderr(&out)
    );
    // ... or a predicate that says another verdict than the contents give.
    let forged = dir.path().join("forged2");
    copy(&bundle, &forged);
    let mut statement = infraverify_payload(&read_json(&forged.join(ENVELOPE)));
    statement["predicate"]["verdicts"]["IAM-4"] = serde_json::json!("pass");
    resign(dir.path(), &forged, &statement);
    let out = verify(dir.path(), "forged2", "key.pub.pem");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the signed statement is not the one the bundle's contents give"),
        "{}",
        stderr(&out)
    );
    // A link in the bundle (to a file outside it): refused, not followed.
    let linked = dir.path().join("linked");
    copy(&bundle, &linked);
    std::fs::remove_file(linked.join("snapshot.json")).unwrap();
    std::os::unix::fs::symlink(EXAMPLE, linked.join("snapshot.json")).unwrap();
    let out = verify(dir.path(), "linked", "key.pub.pem");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("snapshot.json: not a regular file"),
        "{}",
        stderr(&out)
    );
    // A file the statement does not sign.
    let extra = dir.path().join("extra");
    copy(&bundle, &extra);
    std::fs::write(extra.join("reports/notes.txt"), "added later").unwrap();
    let out = verify(dir.path(), "extra", "key.pub.pem");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("reports/notes.txt: in the bundle but not in the signed statement"),
        "{}",
        stderr(&out)
    );
}

/// Signs `statement` into `bundle`'s envelope with the test key, as DSSE v1 does.
fn resign(dir: &Path, bundle: &Path, statement: &serde_json::Value) {
    let pem_text = std::fs::read_to_string(dir.join("key.pem")).unwrap();
    let body: String = pem_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let pair = Ed25519KeyPair::from_pkcs8(&unbase64(&body).unwrap()).unwrap();
    let payload = serde_json::to_vec(statement).unwrap();
    let t = "application/vnd.in-toto+json";
    let mut pae = format!("DSSEv1 {} {t} {} ", t.len(), payload.len()).into_bytes();
    pae.extend_from_slice(&payload);
    let envelope = serde_json::json!({
        "payload": base64(&payload),
        "payloadType": t,
        "signatures": [{"keyid": "", "sig": base64(pair.sign(&pae).as_ref())}],
    });
    std::fs::write(bundle.join(ENVELOPE), envelope.to_string()).unwrap();
}

fn infraverify_payload(envelope: &serde_json::Value) -> serde_json::Value {
    let bytes = unbase64(envelope["payload"].as_str().unwrap()).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn bad_keys_and_a_used_directory_are_invalid_input_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    keys(dir.path(), "key");
    std::fs::write(dir.path().join("not-a-key.pem"), "hello").unwrap();
    let out = infraverify(dir.path())
        .args(["evidence", EXAMPLE, "--key", "not-a-key.pem", "--out", "b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--key not-a-key.pem is not a PEM \"PRIVATE KEY\" block"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("b").exists());
    std::fs::create_dir(dir.path().join("used")).unwrap();
    std::fs::write(dir.path().join("used/keep.txt"), "mine").unwrap();
    let out = infraverify(dir.path())
        .args(["evidence", EXAMPLE, "--key", "key.pem", "--out", "used"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--out used exists and is not an empty directory"),
        "{}",
        stderr(&out)
    );
    assert_eq!(files(&dir.path().join("used")), ["keep.txt"]);
    // A private key given as the public one.
    let out = verify(dir.path(), "used", "key.pem");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a PEM \"PUBLIC KEY\" block"),
        "{}",
        stderr(&out)
    );
}

/// `scan --evidence DIR --key K`: the bundle of the scan's own snapshot, with the reports
/// the scan wrote, verified like any other; a bad key or a used directory is refused before
/// anything is collected.
#[tokio::test(flavor = "multi_thread")]
async fn a_scan_writes_its_own_evidence_bundle() {
    let region = "eu-south-2";
    crate::seed::seed(region, crate::seed::Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    keys(dir.path(), "key");
    let out = crate::support::scan(dir.path(), region)
        .formats(&["json", "html"])
        .out_dir("reports")
        .args(&["--evidence", "bundle", "--key", "key.pem"])
        .run_async()
        .await;
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("wrote the evidence bundle bundle"),
        "{}",
        stderr(&out)
    );
    let bundle = dir.path().join("bundle");
    for report in ["report.json", "report.html"] {
        assert_eq!(
            std::fs::read(dir.path().join("reports").join(report)).unwrap(),
            std::fs::read(bundle.join("reports").join(report)).unwrap(),
            "{report}: the bundle holds what the scan reported"
        );
    }
    let snap = read_json(&bundle.join("snapshot.json"));
    assert_eq!(snap["collection"]["regions"], serde_json::json!([region]));
    let ok = verify(dir.path(), "bundle", "key.pub.pem");
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));

    // Refused up front: the directory is used now, and a key that is not one.
    let used = crate::support::scan(dir.path(), region)
        .args(&["--evidence", "bundle", "--key", "key.pem"])
        .run_async()
        .await;
    assert_eq!(used.status.code(), Some(2), "{}", stderr(&used));
    assert!(
        stderr(&used).contains("--evidence bundle exists and is not an empty directory"),
        "{}",
        stderr(&used)
    );
    std::fs::write(dir.path().join("bad.pem"), "not a key").unwrap();
    let bad = crate::support::scan(dir.path(), region)
        .via("http://127.0.0.1:9")
        .args(&["--evidence", "other", "--key", "bad.pem"])
        .run_async()
        .await;
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("bad.pem"), "{}", stderr(&bad));
    assert!(!dir.path().join("other").exists());
    // The bundle cannot share a directory with the reports, and a non-default gate is
    // noted, since the bundle holds the plain evaluation.
    let overlap = infraverify(dir.path())
        .args(["scan", "--no-aws", "--timeout", "10", "--format", "json"])
        .args([
            "--out-dir",
            "reports",
            "--evidence",
            "reports/bundle",
            "--key",
            "key.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(overlap.status.code(), Some(2), "{}", stderr(&overlap));
    assert!(
        stderr(&overlap).contains("--evidence reports/bundle and --out-dir reports overlap"),
        "{}",
        stderr(&overlap)
    );
    let gated = infraverify(dir.path())
        .args([
            "scan",
            "--no-aws",
            "--timeout",
            "10",
            "--fail-on",
            "critical",
        ])
        .args(["--evidence", "gated", "--key", "key.pem"])
        .output()
        .unwrap();
    assert!(
        stderr(&gated).contains("note: the evidence bundle's reports are the plain evaluation"),
        "{}",
        stderr(&gated)
    );
    assert_eq!(
        verify(dir.path(), "gated", "key.pub.pem").status.code(),
        Some(0)
    );
    // --evidence needs --key.
    let alone = crate::support::scan(dir.path(), region)
        .args(&["--evidence", "other"])
        .run_async()
        .await;
    assert_eq!(alone.status.code(), Some(2), "{}", stderr(&alone));
}
