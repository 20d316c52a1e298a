//! The accounts of a fleet scan: `--accounts FILE` and `--shard I/N`.

use serde::Deserialize;

use crate::collect::Target;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct AccountsFile {
    /// The role to assume in each account: a name, or a full ARN.
    role: Option<String>,
    external_id: Option<String>,
    #[serde(default)]
    accounts: Vec<Account>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Account {
    id: String,
    role: Option<String>,
    external_id: Option<String>,
}

/// Reads an accounts file:
///
/// ```toml
/// role = "InfraverifyAudit"        # for every account, unless it names its own
/// external-id = "…"                # optional
///
/// [[accounts]]
/// id = "111122223333"
///
/// [[accounts]]
/// id = "444455556666"
/// role = "arn:aws:iam::444455556666:role/SecurityAudit"
/// ```
pub fn read(path: &str) -> anyhow::Result<Vec<Target>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read --accounts {path}: {e}"))?;
    parse(&text).map_err(|e| anyhow::anyhow!("--accounts {path}: {e}"))
}

fn parse(text: &str) -> Result<Vec<Target>, String> {
    let file: AccountsFile = toml::from_str(text).map_err(|e| e.to_string())?;
    if file.accounts.is_empty() {
        return Err("no [[accounts]] listed".into());
    }
    file.accounts
        .iter()
        .map(|a| {
            if a.id.len() != 12 || !a.id.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!("account id {:?} is not 12 digits", a.id));
            }
            let role = a.role.as_ref().or(file.role.as_ref()).ok_or_else(|| {
                format!(
                    "account {} has no role: set `role` for it or at the top of the file",
                    a.id
                )
            })?;
            let arn = if role.starts_with("arn:") {
                role.clone()
            } else {
                format!("arn:aws:iam::{}:role/{role}", a.id)
            };
            let target = Target::new(
                &arn,
                a.external_id.clone().or_else(|| file.external_id.clone()),
            )?;
            if target.account() != a.id {
                return Err(format!(
                    "account {}: the role {arn} is in another account",
                    a.id
                ));
            }
            Ok(target)
        })
        .collect()
}

/// Where `--shard auto` finds its share, in this order: each scheduler's index variable,
/// whether it is 0-based, and its count variable (`None`: the count is given as `auto/N`
/// or in `INFRAVERIFY_SHARD_TOTAL`).
const SCHEDULERS: [(&str, &str, bool, Option<&str>); 3] = [
    // A Kubernetes Indexed Job: the pod's index; the Job's completions are not in the
    // pod's environment.
    (
        "a Kubernetes Indexed Job",
        "JOB_COMPLETION_INDEX",
        true,
        None,
    ),
    // GitLab CI `parallel:`.
    (
        "GitLab parallel",
        "CI_NODE_INDEX",
        false,
        Some("CI_NODE_TOTAL"),
    ),
    // Any other scheduler, and a GitHub Actions matrix (whose `strategy.job-index` and
    // `strategy.job-total` a workflow passes on as these).
    (
        "INFRAVERIFY_SHARD_INDEX",
        "INFRAVERIFY_SHARD_INDEX",
        true,
        Some("INFRAVERIFY_SHARD_TOTAL"),
    ),
];

/// `--shard`: `I/N` (1 <= I <= N), or `auto` / `auto/N`, the share the scheduler running
/// this job gives it, read through `env`.
pub fn resolve_shard(
    s: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(usize, usize), String> {
    let Some(rest) = s.strip_prefix("auto") else {
        return parse_shard(s);
    };
    let given: Option<usize> = match rest.strip_prefix('/') {
        Some(n) => Some(n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            format!("--shard {s:?}: the count after auto/ must be a number above 0")
        })?),
        None if rest.is_empty() => None,
        None => return Err(format!("--shard {s:?} is not I/N, auto or auto/N")),
    };
    let found: Vec<_> = SCHEDULERS
        .iter()
        .filter_map(|(who, var, zero, total)| env(var).map(|v| (*who, *var, v, *zero, *total)))
        .collect();
    let Some((who, var, value, zero_based, total)) = found.first().cloned() else {
        return Err(format!(
            "--shard {s:?}: no scheduler's index in the environment ({})",
            SCHEDULERS
                .iter()
                .map(|s| s.1)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    if found.len() > 1 {
        return Err(format!(
            "--shard {s:?}: both {var} and {} are set; give --shard I/N",
            found[1].1
        ));
    }
    let index: usize = value
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s:?}: {var}={value:?} is not a number ({who})"))?;
    let count_var = total.unwrap_or("INFRAVERIFY_SHARD_TOTAL");
    let count = match (given, env(count_var)) {
        (Some(n), _) => n,
        (None, Some(v)) => v
            .trim()
            .parse()
            .map_err(|_| format!("--shard {s:?}: {count_var}={v:?} is not a number"))?,
        (None, None) => {
            return Err(format!(
            "--shard {s:?}: {who} gives the index ({var}) but not the count; give --shard auto/N"
        ))
        }
    };
    let i = if zero_based { index + 1 } else { index };
    if i == 0 || count == 0 || i > count {
        return Err(format!(
            "--shard {s:?}: {var}={value} does not fit {count} shards ({who}, {}-based)",
            if zero_based { 0 } else { 1 }
        ));
    }
    Ok((i, count))
}

/// `I/N`, 1 <= I <= N.
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard {s:?} is not I/N with 1 <= I <= N, such as 2/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_take_the_default_role_or_their_own() {
        let t = parse(
            "role = \"Audit\"\nexternal-id = \"x1\"\n[[accounts]]\nid = \"111111111111\"\n\
             [[accounts]]\nid = \"222222222222\"\nrole = \"arn:aws:iam::222222222222:role/Other\"\nexternal-id = \"x2\"\n",
        )
        .unwrap();
        assert_eq!(t[0].role_arn, "arn:aws:iam::111111111111:role/Audit");
        assert_eq!(t[0].external_id.as_deref(), Some("x1"));
        assert_eq!(t[1].role_arn, "arn:aws:iam::222222222222:role/Other");
        assert_eq!(t[1].external_id.as_deref(), Some("x2"));
    }

    #[test]
    fn bad_accounts_files_say_what_is_wrong() {
        for (text, says) in [
            ("[[accounts]]\nid = \"111111111111\"\n", "has no role"),
            ("role = \"A\"\n[[accounts]]\nid = \"12\"\n", "not 12 digits"),
            ("role = \"A\"\n", "no [[accounts]]"),
            ("role = \"A\"\n[[accounts]]\nid = \"111111111111\"\nregion = \"x\"\n", "unknown field"),
            (
                "[[accounts]]\nid = \"111111111111\"\nrole = \"arn:aws:iam::222222222222:role/A\"\n",
                "in another account",
            ),
            ("role = \"A\"\n[[accounts]\n", "TOML parse error"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
        }
    }

    #[test]
    fn auto_reads_the_share_each_scheduler_gives() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        // Kubernetes: 0-based index, the count given.
        assert_eq!(
            resolve_shard("auto/4", env(&[("JOB_COMPLETION_INDEX", "3")])),
            Ok((4, 4))
        );
        assert_eq!(
            resolve_shard("auto/4", env(&[("JOB_COMPLETION_INDEX", "0")])),
            Ok((1, 4))
        );
        let e = resolve_shard("auto", env(&[("JOB_COMPLETION_INDEX", "0")])).unwrap_err();
        assert!(e.contains("give --shard auto/N"), "{e}");
        // GitLab: 1-based, with its total.
        let gitlab = env(&[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")]);
        assert_eq!(resolve_shard("auto", gitlab), Ok((2, 3)));
        // A GitHub Actions matrix, through the workflow's variables: 0-based.
        let gh = env(&[
            ("INFRAVERIFY_SHARD_INDEX", "1"),
            ("INFRAVERIFY_SHARD_TOTAL", "2"),
        ]);
        assert_eq!(resolve_shard("auto", gh), Ok((2, 2)));
        // I/N is unchanged; nothing found, two schedulers, or an index too large: refused.
        assert_eq!(resolve_shard("2/4", env(&[])), Ok((2, 4)));
        assert!(resolve_shard("auto", env(&[]))
            .unwrap_err()
            .contains("no scheduler"));
        let both = env(&[("JOB_COMPLETION_INDEX", "0"), ("CI_NODE_INDEX", "1")]);
        assert!(resolve_shard("auto/2", both).unwrap_err().contains("both"));
        let big = env(&[("CI_NODE_INDEX", "4"), ("CI_NODE_TOTAL", "3")]);
        assert!(resolve_shard("auto", big)
            .unwrap_err()
            .contains("does not fit 3"));
        assert!(resolve_shard("autox", env(&[])).is_err());
        assert!(resolve_shard("auto/0", env(&[])).is_err());
    }

    #[test]
    fn shards_are_one_based() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        for bad in ["0/4", "5/4", "1", "a/b", "1/0"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
