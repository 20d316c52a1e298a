//! Reads the application repository's files that the checklist names (DOC-1, DEP-2) into
//! facts. Local files only; nothing here touches the network.

use std::collections::BTreeMap;
use std::path::Path;

use crate::inventory::repo::*;
use crate::inventory::{CollectError, ErrorKind, Observed};

/// Files larger than this are not read (a handoff document or workflow never is).
const MAX_BYTES: u64 = 4 * 1024 * 1024;

fn read(root: &Path, rel: &str) -> Observed<String> {
    let path = root.join(rel);
    let err = |kind, message: String| {
        Observed::unavailable(CollectError {
            source: format!("repo:{rel}"),
            region: None,
            kind,
            message,
        })
    };
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Observed::Absent,
        Err(e) => err(ErrorKind::Other, e.to_string()),
        Ok(m) if m.len() > MAX_BYTES => {
            err(ErrorKind::Other, format!("larger than {MAX_BYTES} bytes"))
        }
        Ok(_) => match std::fs::read(&path) {
            Ok(bytes) => Observed::present(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) => err(ErrorKind::Other, e.to_string()),
        },
    }
}

fn map<T, U>(o: Observed<T>, f: impl FnOnce(T) -> U) -> Observed<U> {
    match o {
        Observed::Present { value } => Observed::present(f(value)),
        Observed::Absent => Observed::Absent,
        Observed::Unavailable { error } => Observed::Unavailable { error },
    }
}

pub fn collect(root: &str) -> Repository {
    let base = Path::new(root);
    let deploy_script = match std::fs::metadata(base.join(DEPLOY_SCRIPT)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Observed::Absent,
        Err(e) => Observed::unavailable(CollectError {
            source: format!("repo:{DEPLOY_SCRIPT}"),
            region: None,
            kind: ErrorKind::Other,
            message: e.to_string(),
        }),
        Ok(m) => Observed::present(FileFacts {
            executable: is_executable(&m),
        }),
    };
    let unreadable_root = !base.is_dir();
    let mut repo = Repository {
        path: root.to_string(),
        infrastructure_doc: map(read(base, INFRASTRUCTURE_DOC), |t| named_ids(&t)),
        deploy_script,
        deploy_workflow: map(read(base, DEPLOY_WORKFLOW), |t| workflow_facts(&t)),
    };
    if unreadable_root {
        let e = CollectError {
            source: "repo".into(),
            region: None,
            kind: ErrorKind::Other,
            message: format!("{root} is not a directory"),
        };
        repo.infrastructure_doc = Observed::unavailable(e.clone());
        repo.deploy_script = Observed::unavailable(e.clone());
        repo.deploy_workflow = Observed::unavailable(e);
    }
    repo
}

#[cfg(unix)]
fn is_executable(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    true
}

const ID_PREFIXES: &[&str] = &["vpc-", "subnet-", "sg-", "igw-", "nat-", "rtb-"];

/// AWS ids (`vpc-…`, `subnet-…`, `sg-…`, `igw-…`, `nat-…`, `rtb-…`), ARNs, and ELB / RDS
/// endpoints named in `text`, with the first line each appears on.
pub fn named_ids(text: &str) -> NamedIds {
    let mut ids = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        for raw in line.split(|c: char| c.is_whitespace() || "`|,;()[]<>\"'*".contains(c)) {
            let token = raw.trim_end_matches(['.', ':']).trim_start_matches(':');
            let token = token
                .split(':')
                .next()
                .filter(|_| !token.starts_with("arn:"))
                .unwrap_or(token);
            let is_id = ID_PREFIXES.iter().any(|p| {
                token.strip_prefix(p).is_some_and(|rest| {
                    (8..=17).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_hexdigit())
                })
            });
            let is_endpoint = (token.ends_with(".elb.amazonaws.com")
                || token.ends_with(".rds.amazonaws.com"))
                && token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            let is_arn = token.starts_with("arn:aws") && token.split(':').count() >= 6;
            if is_id || is_endpoint || is_arn {
                ids.entry(token.to_string()).or_insert(n as u32 + 1);
            }
        }
    }
    NamedIds { ids }
}

const CREDENTIAL_KEYS: &[&str] = &[
    "aws-access-key-id",
    "aws-secret-access-key",
    "aws-session-token",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

fn key_value(line: &str) -> Option<(&str, &str)> {
    let body = line.trim_start().trim_start_matches("- ");
    let (k, v) = body.split_once(':')?;
    let k = k.trim().trim_matches(['"', '\'']);
    Some((k, v.trim()))
}

fn source_of(value: &str, env: &BTreeMap<String, String>) -> CredentialSource {
    let v = value.trim().trim_matches(['"', '\'']);
    if let Some(expr) = v.strip_prefix("${{").and_then(|e| e.strip_suffix("}}")) {
        let expr = expr.trim();
        if expr.starts_with("secrets.") {
            return CredentialSource::Secret;
        }
        if let Some(name) = expr.strip_prefix("env.") {
            if let Some(def) = env.get(name) {
                if def.contains("${{") && def.contains("secrets.") && !def.contains("env.") {
                    return source_of(def, &BTreeMap::new());
                }
            }
        }
        return CredentialSource::Expression;
    }
    CredentialSource::Literal
}

/// How a GitHub Actions workflow sets AWS credentials, line by line: each credential key
/// with a value, and whether the value is a secret, another expression, or written in the
/// file. Bare access key ids (`AKIA…`, `ASIA…`) anywhere are literals too.
pub fn workflow_facts(text: &str) -> WorkflowFacts {
    let mut env = BTreeMap::new();
    for line in text.lines() {
        if let Some((k, v)) = key_value(line) {
            if !v.is_empty() {
                env.entry(k.to_string())
                    .or_insert_with(|| v.trim_matches(['"', '\'']).to_string());
            }
        }
    }
    let mut facts = WorkflowFacts::default();
    for (n, line) in text.lines().enumerate() {
        let code = line.split(" #").next().unwrap_or("");
        if code.trim_start().starts_with('#') {
            continue;
        }
        if let Some((k, v)) = key_value(code) {
            if k == "role-to-assume" && !v.is_empty() {
                facts.uses_oidc_role = true;
            }
            if CREDENTIAL_KEYS.contains(&k) && !v.is_empty() {
                facts.credentials.push(CredentialUse {
                    line: n as u32 + 1,
                    key: k.to_string(),
                    source: source_of(v, &env),
                });
                continue;
            }
        }
        let bare_key = code.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
            w.len() == 20
                && (w.starts_with("AKIA") || w.starts_with("ASIA"))
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        });
        if bare_key {
            facts.credentials.push(CredentialUse {
                line: n as u32 + 1,
                key: "access key id".into(),
                source: CredentialSource::Literal,
            });
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ids_endpoints_and_arns_with_their_lines() {
        let doc = "# Prod\n\n| VPC | `vpc-0a1b2c3d4e5f60718` |\nALB: lc-alb-123.eu-central-1.elb.amazonaws.com.\nDB lc-prod-db.abc.eu-central-1.rds.amazonaws.com:5432\nsg-0123456789abcdef0, sg-zz, vpc-12\narn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/app/lc-alb/50dc6c495c0c9188\n";
        let ids = named_ids(doc).ids;
        let got: Vec<(&str, u32)> = ids.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(
            got,
            vec![
                ("arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/app/lc-alb/50dc6c495c0c9188", 7),
                ("lc-alb-123.eu-central-1.elb.amazonaws.com", 4),
                ("lc-prod-db.abc.eu-central-1.rds.amazonaws.com", 5),
                ("sg-0123456789abcdef0", 6),
                ("vpc-0a1b2c3d4e5f60718", 3),
            ]
        );
    }

    #[test]
    fn credentials_from_secrets_literals_and_expressions() {
        let wf = r#"
env:
  KEY_FROM_SECRET: ${{ secrets.DEPLOY_KEY }}
jobs:
  deploy:
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}
          aws-secret-access-key: ${{ env.KEY_FROM_SECRET }}
      - run: ./tools/deploy_prod.sh
        env:
          AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
          AWS_SESSION_TOKEN: ${{ vars.TOKEN }}
      - run: echo AKIAIOSFODNN7EXAMPLE   # a bare key id
"#;
        let f = workflow_facts(wf);
        let got: Vec<(u32, &str, CredentialSource)> = f
            .credentials
            .iter()
            .map(|c| (c.line, c.key.as_str(), c.source))
            .collect();
        assert_eq!(
            got,
            vec![
                (9, "aws-access-key-id", CredentialSource::Secret),
                (10, "aws-secret-access-key", CredentialSource::Secret),
                (13, "AWS_SECRET_ACCESS_KEY", CredentialSource::Literal),
                (14, "AWS_SESSION_TOKEN", CredentialSource::Expression),
                (15, "access key id", CredentialSource::Literal),
            ]
        );
        assert!(!f.uses_oidc_role);
        // The facts never carry the value itself.
        assert!(!serde_json::to_string(&f).unwrap().contains("wJalr"));
        assert!(workflow_facts("      role-to-assume: arn:aws:iam::1:role/deploy").uses_oidc_role);
    }
}
