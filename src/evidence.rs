//! Evidence bundles: a snapshot, the policies it was judged by, every report, a manifest of
//! SHA-256 digests, and an in-toto statement of them in a DSSE envelope signed with Ed25519.
//! `verify` checks the signature and every digest and evaluates the snapshot again, offline,
//! to byte-identical reports: what was true then can be shown later, and any changed byte is
//! found and named.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};

use crate::engine;
use crate::finding::Severity;
use crate::inventory::Snapshot;
use crate::policy::{self, PolicySource};
use crate::report::{Format, Report};

/// The DSSE envelope's file in a bundle.
pub const ENVELOPE: &str = "evidence.dsse.json";
/// The manifest's file in a bundle.
pub const MANIFEST: &str = "manifest.json";
const SNAPSHOT: &str = "snapshot.json";
const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of an infraverify evidence statement.
pub const PREDICATE_TYPE: &str = "https://github.com/infraverify/evidence/v1";
/// The report formats a bundle holds.
const FORMATS: [Format; 5] = [
    Format::Json,
    Format::Junit,
    Format::Sarif,
    Format::Markdown,
    Format::Html,
];
/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32 key bytes follow.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// What the manifest records beside the digests: where each policy came from, in the order
/// given, so the re-evaluation reads them as the original did.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub files: BTreeMap<String, String>,
    pub policies: Vec<BundledPolicy>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BundledPolicy {
    /// Where it is in the bundle.
    pub file: String,
    /// The name it was read under (it appears in the reports).
    pub name: String,
}

/// Everything a bundle holds but its envelope, built from its inputs: what `write` signs
/// and what `verify` must find.
struct Contents {
    /// (path in the bundle, bytes), the manifest last.
    files: Vec<(String, Vec<u8>)>,
    statement: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    payload: String,
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<Signature>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Signature {
    /// Optional in DSSE; ours is the SHA-256 of the public key.
    #[serde(default)]
    keyid: String,
    sig: String,
}

/// The SHA-256 of `bytes`, as lowercase hex (what a bundle's manifest and statement hold).
pub fn sha256_hex(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard (or URL-safe) base64 with padding, decoded; `None` for anything else, padding
/// other than at the end or unused bits that are not zero included. Line breaks, as PEM
/// has them, are allowed.
pub fn unbase64(s: &str) -> Option<Vec<u8>> {
    let clean: Vec<u8> = s.bytes().filter(|b| *b != b'\n' && *b != b'\r').collect();
    if !clean.len().is_multiple_of(4) {
        return None;
    }
    let groups = clean.len() / 4;
    let mut out = Vec::with_capacity(groups * 3);
    for (g, chunk) in clean.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && g + 1 != groups) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            let v = match c {
                b'-' => 62,
                b'_' => 63,
                _ => B64.iter().position(|&x| x == c)? as u32,
            };
            n = (n << 6) | v;
        }
        n <<= 6 * pad;
        // The bits padding leaves unused must be zero: one text, one value.
        if (pad == 1 && n & 0xff != 0) || (pad == 2 && n & 0xffff != 0) {
            return None;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// PEM text of `der` under `label` (`PRIVATE KEY`, `PUBLIC KEY`).
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = base64(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn unpem(text: &str, label: &str, what: &str) -> Result<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .ok_or_else(|| anyhow!("{what} is not a PEM \"{label}\" block"))?;
    let body = &text[start + begin.len()..];
    let stop = body
        .find(&end)
        .ok_or_else(|| anyhow!("{what}: no \"{end}\" line"))?;
    unbase64(&body[..stop]).ok_or_else(|| anyhow!("{what}: the PEM body is not base64"))
}

/// The SubjectPublicKeyInfo PEM of an Ed25519 public key.
pub fn public_key_pem(raw: &[u8]) -> String {
    let mut der = ED25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(raw);
    pem("PUBLIC KEY", &der)
}

fn read_key(path: &str) -> Result<Ed25519KeyPair> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read --key {path}"))?;
    let der = unpem(&text, "PRIVATE KEY", &format!("--key {path}"))?;
    Ed25519KeyPair::from_pkcs8(&der)
        .or_else(|_| Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der))
        .map_err(|_| anyhow!("--key {path} is not an Ed25519 private key in PKCS#8"))
}

fn read_public_key(path: &str) -> Result<Vec<u8>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read --pub {path}"))?;
    let der = unpem(&text, "PUBLIC KEY", &format!("--pub {path}"))?;
    match der.strip_prefix(&ED25519_SPKI_PREFIX[..]) {
        Some(raw) if raw.len() == 32 => Ok(raw.to_vec()),
        _ => bail!("--pub {path} is not an Ed25519 public key"),
    }
}

/// DSSE's pre-authentication encoding of a payload.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The reports of `snapshot` judged by `sources`, as a scan or `evaluate` writes them.
fn reports(
    sources: &[PolicySource],
    snapshot: &Snapshot,
) -> Result<(Report, Vec<(String, String)>)> {
    let policy = policy::load(sources).map_err(anyhow::Error::new)?;
    let snaps = std::slice::from_ref(snapshot);
    let engine::Evaluation { findings, warnings } = engine::evaluate_many(&policy, snaps);
    let outcome = engine::outcome(&findings, Severity::Low, snapshot.errors.len());
    let mut report = Report::new_many(snaps, &policy, findings, outcome);
    report.warnings = warnings;
    let files = FORMATS
        .iter()
        .map(|f| {
            let name = format!(
                "reports/{}",
                f.file_name().expect("file formats have names")
            );
            (name, report.render(*f).expect("file formats render"))
        })
        .collect();
    Ok((report, files))
}

/// The bundle's contents from the snapshot's bytes and the policies: the files, the
/// manifest, and the statement that signs them.
fn build(snapshot: &[u8], sources: &[PolicySource]) -> Result<Contents> {
    let text = std::str::from_utf8(snapshot).map_err(|_| anyhow!("{SNAPSHOT}: not UTF-8"))?;
    let snap = Snapshot::from_json(SNAPSHOT, text)?;
    let (report, report_files) = reports(sources, &snap)?;
    let mut files: Vec<(String, Vec<u8>)> = vec![(SNAPSHOT.to_string(), snapshot.to_vec())];
    let mut policies = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        let base: String = Path::new(&s.name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let file = format!("policies/{i:03}-{}", base.trim_start_matches('.'));
        policies.push(BundledPolicy {
            file: file.clone(),
            name: s.name.clone(),
        });
        files.push((file, s.text.clone().into_bytes()));
    }
    files.extend(report_files.into_iter().map(|(n, t)| (n, t.into_bytes())));
    let manifest = Manifest {
        files: files
            .iter()
            .map(|(n, b)| (n.clone(), sha256_hex(b)))
            .collect(),
        policies,
    };
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    manifest_bytes.push(b'\n');
    files.push((MANIFEST.to_string(), manifest_bytes));
    let policy_digest = sha256_hex(
        sources
            .iter()
            .flat_map(|s| [s.name.as_bytes(), b"\0", s.text.as_bytes(), b"\0"])
            .flatten()
            .copied()
            .collect::<Vec<u8>>()
            .as_slice(),
    );
    let statement = serde_json::json!({
        "_type": STATEMENT_TYPE,
        "subject": files.iter().map(|(n, b)| serde_json::json!({
            "name": n, "digest": {"sha256": sha256_hex(b)}
        })).collect::<Vec<_>>(),
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "tool": {"name": report.tool.name, "version": report.tool.version},
            "policy_digest": {"sha256": policy_digest},
            "policies": sources.iter().map(|s| &s.name).collect::<Vec<_>>(),
            "run": {"started_at": report.run.started_at.to_string(), "finished_at": report.run.finished_at.to_string()},
            "account": report.run.account,
            "regions": report.run.regions,
            "exit_code": report.exit_code,
            "summary": report.summary,
            "verdicts": verdicts(&report),
        },
    });
    Ok(Contents { files, statement })
}

/// The verdict of each checklist control with findings: the worst of them, as every
/// report's checklist shows it.
fn verdicts(report: &Report) -> BTreeMap<String, String> {
    crate::report::overview::controls(report)
        .into_iter()
        .filter(|row| row.section.is_some())
        .filter_map(|row| row.verdict.map(|v| (row.id.to_string(), v.to_string())))
        .collect()
}

/// `infraverify evidence`: writes the bundle of a snapshot file into `out` (which must not
/// exist or be empty), all at once: nothing is left half-written on an error.
pub fn write(snapshot: &str, sources: Vec<PolicySource>, key: &str, out: &str) -> Result<u8> {
    let bundle = Bundle::prepare(key, out, "--out")?;
    let snap_bytes =
        std::fs::read(snapshot).with_context(|| format!("cannot read snapshot {snapshot}"))?;
    bundle.write(&snap_bytes, snapshot, &sources)?;
    Ok(0)
}

/// A bundle about to be written: the key read and the directory checked, so a scan with
/// `--evidence` refuses a bad key or a used directory before it collects anything.
pub struct Bundle {
    key: Ed25519KeyPair,
    out: PathBuf,
}

impl Bundle {
    /// `flag` names the option that gave `out`, for the messages.
    pub fn prepare(key: &str, out: &str, flag: &str) -> Result<Bundle> {
        let key = read_key(key)?;
        let out = PathBuf::from(out);
        if out.exists()
            && std::fs::read_dir(&out)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            bail!(
                "{flag} {} exists and is not an empty directory",
                out.display()
            );
        }
        let parent = parent_of(&out);
        if !parent.is_dir() {
            bail!(
                "{flag} {}: {} is not a directory",
                out.display(),
                parent.display()
            );
        }
        // The bundle is built beside its place and moved in: the parent must be writable.
        let probe = staging_dir(&out).with_context(|| format!("{flag} {}", out.display()))?;
        std::fs::remove_dir(&probe)?;
        Ok(Bundle { key, out })
    }

    /// Writes the bundle of the snapshot (its bytes, as bundled; `label` names it in
    /// messages) and the policies.
    pub fn write(&self, snap_bytes: &[u8], label: &str, sources: &[PolicySource]) -> Result<()> {
        let (key, out) = (&self.key, self.out.as_path());
        let Contents {
            mut files,
            statement,
        } = build(snap_bytes, sources).with_context(|| format!("snapshot {label}"))?;
        let payload = serde_json::to_vec(&statement)?;
        let sig = key.sign(&pae(PAYLOAD_TYPE, &payload));
        let envelope = Envelope {
            payload: base64(&payload),
            payload_type: PAYLOAD_TYPE.into(),
            signatures: vec![Signature {
                keyid: sha256_hex(key.public_key().as_ref()),
                sig: base64(sig.as_ref()),
            }],
        };
        let mut envelope_bytes = serde_json::to_vec_pretty(&envelope)?;
        envelope_bytes.push(b'\n');
        files.push((ENVELOPE.to_string(), envelope_bytes));

        // Everything into a new sibling directory first (created here, never reused), then one
        // rename.
        let staging = staging_dir(out)?;
        let result = (|| -> Result<()> {
            for (name, bytes) in &files {
                let path = staging.join(name);
                std::fs::create_dir_all(path.parent().expect("bundle files are in a directory"))?;
                std::fs::write(&path, bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            if out.exists() {
                std::fs::remove_dir(out).with_context(|| {
                    format!("cannot replace the empty directory {}", out.display())
                })?;
            }
            std::fs::rename(&staging, out)
                .with_context(|| format!("cannot move the bundle to {}", out.display()))?;
            Ok(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        eprintln!(
            "infraverify: wrote the evidence bundle {} ({} files, signed by key {})",
            out.display(),
            files.len(),
            envelope.signatures[0].keyid
        );
        Ok(())
    }
}

/// A new directory beside `out`, created here (never one that was there before).
fn staging_dir(out: &Path) -> Result<PathBuf> {
    let parent = parent_of(out);
    for n in 0..1000u32 {
        let p = parent.join(format!(".infraverify-evidence.{}.{n}", std::process::id()));
        match std::fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot create a directory in {}", parent.display()))
            }
        }
    }
    bail!("no free staging name in {}", parent.display())
}

fn parent_of(out: &Path) -> &Path {
    out.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The most a bundled file may hold: a snapshot of a large account is tens of MiB.
const MAX_FILE: u64 = 1 << 30;

/// `infraverify verify-evidence`: the signature, every digest, nothing unsigned, and the
/// whole bundle (reports, manifest, statement) rebuilt byte for byte from the bundled
/// snapshot and policies.
pub fn verify(dir: &str, public_key: &str) -> Result<u8> {
    let raw = read_public_key(public_key)?;
    let dir = Path::new(dir);
    // Every file, read once: regular files only, nothing followed out of the bundle.
    let mut bundle: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (name, path) in walk(dir)? {
        let size = std::fs::symlink_metadata(&path)?.len();
        if size > MAX_FILE {
            bail!("{name}: larger than a bundle's file may be");
        }
        let bytes = std::fs::read(&path).with_context(|| format!("{name}: cannot be read"))?;
        bundle.insert(name, bytes);
    }
    let file = |name: &str| {
        bundle
            .get(name)
            .ok_or_else(|| anyhow!("{name}: missing from the bundle"))
    };
    let envelope: Envelope = serde_json::from_slice(file(ENVELOPE)?)
        .map_err(|e| anyhow!("{ENVELOPE}: not a DSSE envelope: {e}"))?;
    let payload = unbase64(&envelope.payload)
        .ok_or_else(|| anyhow!("{ENVELOPE}: the payload is not base64"))?;
    let key = UnparsedPublicKey::new(&ED25519, &raw);
    let signed = envelope.payload_type == PAYLOAD_TYPE
        && envelope.signatures.iter().any(|s| {
            unbase64(&s.sig)
                .is_some_and(|sig| key.verify(&pae(PAYLOAD_TYPE, &payload), &sig).is_ok())
        });
    if !signed {
        bail!(
            "{ENVELOPE}: no signature by the key in {public_key} verifies (key {})",
            sha256_hex(&raw)
        );
    }
    let statement: serde_json::Value = serde_json::from_slice(&payload)
        .map_err(|e| anyhow!("{ENVELOPE}: the statement is not JSON: {e}"))?;
    if statement["_type"] != STATEMENT_TYPE || statement["predicateType"] != PREDICATE_TYPE {
        bail!("{ENVELOPE}: not an infraverify evidence statement");
    }
    // Each subject's digest, then nothing in the bundle that the statement does not sign.
    let mut signed_files = std::collections::BTreeSet::new();
    for s in statement["subject"].as_array().into_iter().flatten() {
        let (Some(name), Some(digest)) = (s["name"].as_str(), s["digest"]["sha256"].as_str())
        else {
            bail!("{ENVELOPE}: a subject without a name or a SHA-256 digest");
        };
        let actual = sha256_hex(file(name)?);
        if actual != digest {
            bail!("{name}: its SHA-256 is {actual}, the signed statement says {digest}");
        }
        if !signed_files.insert(name.to_string()) {
            bail!("{ENVELOPE}: {name} is a subject twice");
        }
    }
    for name in bundle.keys() {
        if name != ENVELOPE && !signed_files.contains(name) {
            bail!("{name}: in the bundle but not in the signed statement");
        }
    }
    let version = &statement["predicate"]["tool"]["version"];
    if version != env!("CARGO_PKG_VERSION") {
        bail!(
            "{ENVELOPE}: the bundle was made by infraverify {version}; verify it with that version (this is {})",
            env!("CARGO_PKG_VERSION")
        );
    }
    // Everything again from the bundled inputs, offline: the same files, the same statement.
    let manifest: Manifest = serde_json::from_slice(file(MANIFEST)?)
        .map_err(|e| anyhow!("{MANIFEST}: not a manifest: {e}"))?;
    let mut sources = Vec::new();
    for p in &manifest.policies {
        let text = String::from_utf8(file(&p.file)?.clone())
            .map_err(|_| anyhow!("{}: not UTF-8", p.file))?;
        sources.push(PolicySource {
            name: p.name.clone(),
            text,
        });
    }
    let again = build(file(SNAPSHOT)?, &sources)?;
    for (name, bytes) in &again.files {
        if file(name)? != bytes {
            bail!("{name}: evaluating the bundled snapshot again gives another file");
        }
    }
    if again.files.len() + 1 != bundle.len() || again.statement != statement {
        bail!("{ENVELOPE}: the signed statement is not the one the bundle's contents give");
    }
    println!(
        "verified: {} files signed by key {}, and the reports reproduced from {SNAPSHOT}",
        signed_files.len(),
        sha256_hex(&raw)
    );
    Ok(0)
}

/// Every regular file under `dir`, as (name with `/` between components, path). A symbolic
/// link, or anything but a file or a directory, makes the bundle invalid.
fn walk(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
        for entry in
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?
        {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            let rel = path.strip_prefix(root).expect("walked under the bundle");
            let parts: Option<Vec<&str>> =
                rel.components().map(|c| c.as_os_str().to_str()).collect();
            let name = match parts {
                Some(p) if p.iter().all(|c| !c.contains('\\')) => p.join("/"),
                _ => bail!("{}: not a name a bundle holds", rel.display()),
            };
            if kind.is_dir() {
                go(root, &path, out)?;
            } else if kind.is_file() {
                out.push((name, path));
            } else {
                bail!("{name}: not a regular file (a link, a pipe or a device)");
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    go(dir, dir, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_refuses_garbage() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            assert_eq!(unbase64(&base64(s.as_bytes())).unwrap(), s.as_bytes());
        }
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert!(unbase64("Zm9v!").is_none());
        assert!(unbase64("Zm=v").is_none());
        // One text, one value: no padding but at the end, no stray bits, no empty groups.
        for bad in ["====", "Z===", "Zg==Zg==", "Zh==", "Zm9=", "Zm 9v"] {
            assert!(unbase64(bad).is_none(), "{bad}");
        }
        assert_eq!(unbase64("-_8=").unwrap(), unbase64("+/8=").unwrap());
    }

    #[test]
    fn pae_is_dsse_v1() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }
}
