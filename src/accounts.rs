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
    fn shards_are_one_based() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        for bad in ["0/4", "5/4", "1", "a/b", "1/0"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
