//! Secrets Manager: RDS-9 (the database password is kept there), OPS-4 (the named secrets
//! exist), OPS-5 (secrets rotate). Read with ListSecrets only: names and rotation, never
//! a value.

use super::rds::{db_ref, each_instance, replica_of, Decider};
use super::scope::Region;
use super::{declare_rule, join_words, region_items, Cx, Rule};
use crate::finding::{Evidence, ResourceRef};
use crate::inventory::secrets::Secret;
use crate::inventory::secrets::LIST_SECRETS;
use crate::rule_params;
use crate::rules::params::non_empty;

fn secret_ref(cx: &Cx<'_>, region: &str, s: &Secret) -> ResourceRef {
    cx.resource("secretsmanager-secret", &s.name, region)
        .name(Some(&s.name))
        .arn(s.arn.clone())
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// RDS-9: the database's admin password lives in Secrets Manager.
    pub struct RdsPasswordNotInSecretsManager {
        id: "rds-password-not-in-secrets-manager",
        scope: "DB instance",
        controls: ["RDS-9"],
        severity: High,
        kind: "rds-db-instance",
        title: "The database's admin password is not kept in Secrets Manager",
        reads: [Rds, Secrets],
    }
}

rule_params! {
    pub struct PasswordParams {
        /// The secret that holds the admin password (an RDS-managed master secret also counts).
        "secret" => secret: String = "prod/db/password".to_string();
        /// DB instance identifiers in scope (wildcards allowed).
        "instances" => instances: Vec<String> = vec!["*".to_string()], check = non_empty;
    }
}

impl Rule for RdsPasswordNotInSecretsManager {
    type Params = PasswordParams;

    fn check(&self, cx: &mut Cx<'_>, p: &PasswordParams) {
        cx.threshold("secret");
        let regions: Vec<Region<'_>> = cx.regions().collect();
        each_instance(cx, &p.instances, |cx, region, db| {
            let r = db_ref(cx, region.name, db);
            // A cluster member's master password is its cluster's, a read replica's its
            // source's.
            let replica = replica_of(&regions, region, db);
            let decider = match &replica {
                Ok(Some(r)) => Ok(r.decider),
                Ok(None) => Decider::of(region, db),
                Err(e) => Err(e.clone()),
            };
            let replica_of = replica.as_ref().ok().and_then(|r| r.map(|r| r.id));
            if let Some(arn) = decider
                .as_ref()
                .ok()
                .and_then(|d| d.master_user_secret_arn())
            {
                let d = decider.as_ref().expect("read above");
                let whose = match (replica_of, d.cluster()) {
                    (None, None) => format!("DB instance {}'s", db.id),
                    (None, Some(c)) => format!(
                        "DB instance {} is a member of {} {}, whose",
                        db.id,
                        c.kind(),
                        c.id
                    ),
                    (Some(src), None) => {
                        format!("DB instance {} is a read replica of {src}, whose", db.id)
                    }
                    (Some(src), Some(c)) if src == c.id => format!(
                        "DB instance {} is a read replica of {} {}, whose",
                        db.id,
                        c.kind(),
                        c.id
                    ),
                    (Some(src), Some(c)) => format!(
                        "DB instance {} is a read replica of {src}, a member of {} {}, whose",
                        db.id,
                        c.kind(),
                        c.id
                    ),
                };
                let msg = format!("{whose} admin password is an RDS-managed secret ({arn}).");
                let mut observed = serde_json::json!({ "master_user_secret": arn });
                if let Some(c) = d.cluster() {
                    observed["db_cluster"] = serde_json::json!(c.id);
                }
                if let Some(src) = replica_of {
                    observed["read_replica_of"] = serde_json::json!(src);
                }
                cx.pass(r, msg, vec![Evidence::new(d.source(), observed, None)]);
                return;
            }
            match region.inv.secrets.secrets.get() {
                Err(e) => cx.error_on(r, "whether its password is in Secrets Manager", e),
                Ok(secrets) => {
                    let found = secrets.and_then(|m| m.get(&p.secret));
                    let ev = vec![Evidence::new(
                        LIST_SECRETS,
                        serde_json::json!({ "secret": p.secret, "exists": found.is_some(), "master_user_secret": null }),
                        Some(format!(
                            "{} exists, or an RDS-managed master secret",
                            p.secret
                        )),
                    )];
                    if let (None, Err(e)) = (found, &decider) {
                        // No named secret, and whether RDS manages one is not known.
                        let whose = if replica.is_err() {
                            "its source's master user secret"
                        } else {
                            "its DB cluster's master user secret"
                        };
                        cx.error_on(r, whose, e);
                        return;
                    }
                    match found {
                        Some(s) => {
                            // Only that the secret exists was seen, not what it holds.
                            let msg = if decider.is_ok() {
                                format!(
                                    "DB instance {} has no RDS-managed master secret; a secret named {} exists in {}.",
                                    db.id, s.name, region.name
                                )
                            } else {
                                // What decides could not be read: say only what was seen.
                                format!(
                                    "A secret named {} exists in {} for DB instance {}.",
                                    s.name, region.name, db.id
                                )
                            };
                            cx.pass(r, msg, ev);
                        }
                        None => {
                            let msg = format!(
                                    "DB instance {} has no RDS-managed master secret and there is no secret {} in {}.",
                                    db.id, p.secret, region.name
                                );
                            cx.fail(r, msg, ev);
                        }
                    }
                }
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// OPS-4: the app's secrets exist.
    pub struct RequiredSecretMissing {
        id: "required-secret-missing",
        scope: "required secret",
        controls: ["OPS-4"],
        severity: High,
        kind: "secretsmanager-secret",
        title: "A secret the app needs does not exist in Secrets Manager",
        reads: [Secrets],
    }
}

rule_params! {
    pub struct RequiredParams {
        /// The secrets that must exist, by name.
        "names" => names: Vec<String> = vec!["prod/db/password".to_string(), "prod/LTC_SECRET_KEY".to_string(), "prod/DATABASE_URL".to_string()], check = non_empty;
    }
}

impl Rule for RequiredSecretMissing {
    type Params = RequiredParams;

    fn check(&self, cx: &mut Cx<'_>, p: &RequiredParams) {
        cx.threshold("names");
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for name in &p.names {
            let mut found = None;
            let mut unknown = None;
            for region in &regions {
                match region.inv.secrets.secrets.get() {
                    Ok(m) => {
                        if let Some(s) = m.and_then(|m| m.get(name)) {
                            found = Some((region.name, s));
                            break;
                        }
                    }
                    Err(e) => unknown = Some(e),
                }
            }
            let ev = vec![Evidence::new(
                LIST_SECRETS,
                serde_json::json!({ "name": name, "exists": found.is_some() }),
                Some("exists".into()),
            )];
            match (found, unknown) {
                (Some((region, s)), _) => {
                    let r = secret_ref(cx, region, s);
                    let msg = format!("Secret {name} exists in {region}.");
                    cx.pass(r, msg, ev);
                }
                (None, Some(e)) => {
                    let r = ResourceRef::new("secretsmanager-secret", name.clone())
                        .account(cx.account());
                    cx.error_on(r, "whether the secret exists", e);
                }
                (None, None) => {
                    let r = ResourceRef::new("secretsmanager-secret", name.clone())
                        .account(cx.account());
                    let names: Vec<String> = regions.iter().map(|r| r.name.to_string()).collect();
                    let msg = format!("Secret {name} does not exist in {}.", join_words(&names));
                    cx.fail(r, msg, ev);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// OPS-5: secrets rotate.
    pub struct SecretRotationDisabled {
        id: "secret-rotation-disabled",
        scope: "secret",
        controls: ["OPS-5"],
        severity: Medium,
        kind: "secretsmanager-secret",
        title: "A secret does not rotate automatically",
        reads: [Secrets],
    }
}

rule_params! {
    pub struct RotationParams {
        /// Secrets that need not rotate, by name (wildcards allowed).
        "exempt" => exempt: Vec<String> = vec![];
    }
}

impl Rule for SecretRotationDisabled {
    type Params = RotationParams;

    fn check(&self, cx: &mut Cx<'_>, p: &RotationParams) {
        cx.threshold("exempt");
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for region in regions {
            let Some(secrets) =
                region_items(cx, region.name, "secrets", &region.inv.secrets.secrets)
            else {
                continue;
            };
            for s in secrets.values() {
                let r = secret_ref(cx, region.name, s);
                let ev = vec![Evidence::new(
                    LIST_SECRETS,
                    serde_json::json!({ "rotation_enabled": s.rotation_enabled, "rotation_days": s.rotation_days, "last_rotated": s.last_rotated }),
                    Some("rotation_enabled = true".into()),
                )];
                if crate::glob::any_matches(&p.exempt, &s.name) {
                    let msg = format!("Secret {} is exempt from rotation by the policy.", s.name);
                    cx.skip(r, msg);
                } else if let (Some(owner), false) =
                    (&s.owning_service, s.rotation_enabled == Some(true))
                {
                    let msg = format!(
                        "Secret {} is owned by {owner} (OwningService), which manages it: its rotation is set through that service, not on the secret.",
                        s.name
                    );
                    cx.skip(r, msg);
                } else if s.rotation_enabled == Some(true) {
                    let every = s
                        .rotation_days
                        .map(|d| format!(" every {d} days"))
                        .unwrap_or_default();
                    let msg = format!("Secret {} rotates automatically{every}.", s.name);
                    cx.pass(r, msg, ev);
                } else {
                    let msg = format!("Secret {} does not rotate automatically.", s.name);
                    cx.fail(r, msg, ev);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::finding::Status::*;
    use crate::inventory::Observed;

    fn secrets_denied() -> crate::inventory::Snapshot {
        let mut s = compliant();
        inv(&mut s).secrets.secrets = Observed::unavailable(denied("secretsmanager:ListSecrets"));
        s
    }

    #[test]
    fn db_password_in_secrets_manager() {
        let rule = "rds-password-not-in-secrets-manager";
        assert_verdicts(&run(rule, "", &compliant()), &[("lc-prod-db", Pass)]);
        let mut s = compliant();
        value(&mut inv(&mut s).secrets.secrets).remove("prod/db/password");
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("lc-prod-db", Fail)]);
        // An RDS-managed master secret counts, even with ListSecrets denied.
        let mut s = secrets_denied();
        value(&mut inv(&mut s).rds.instances)
            .get_mut("lc-prod-db")
            .unwrap()
            .master_user_secret_arn = Some("arn:aws:secretsmanager:x:1:secret:rds!db-1".into());
        assert_verdicts(&run(rule, "", &s), &[("lc-prod-db", Pass)]);
        assert_verdicts(&run(rule, "", &secrets_denied()), &[("lc-prod-db", Error)]);
        // A cluster member's admin password is its cluster's.
        let clustered = |s: &mut crate::inventory::Snapshot| {
            let rds = &mut inv(s).rds;
            value(&mut rds.instances)
                .get_mut("lc-prod-db")
                .unwrap()
                .cluster_id = Some("lc-aurora".into());
            rds.clusters = present(keyed(vec![(
                "lc-aurora",
                db_cluster("lc-aurora", &["lc-prod-db"]),
            )]));
        };
        let mut s = secrets_denied();
        clustered(&mut s);
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("lc-prod-db", Pass)]);
        assert!(
            f[0].message
                .starts_with("DB instance lc-prod-db is a member of Aurora DB cluster lc-aurora, whose admin password is an RDS-managed secret"),
            "{}",
            f[0].message
        );
        // The cluster unreadable: the named secret still counts, and the message does not
        // claim there is no managed one; without it, not known.
        let mut s = compliant();
        clustered(&mut s);
        inv(&mut s).rds.clusters = Observed::unavailable(denied("rds:DescribeDBClusters"));
        let f = run(rule, "", &s);
        assert_verdicts(&f, &[("lc-prod-db", Pass)]);
        assert_eq!(
            f[0].message,
            "A secret named prod/db/password exists in eu-central-1 for DB instance lc-prod-db."
        );
        value(&mut inv(&mut s).secrets.secrets).remove("prod/db/password");
        assert_verdicts(&run(rule, "", &s), &[("lc-prod-db", Error)]);
        let mut s = compliant();
        value(&mut inv(&mut s).rds.instances).clear();
        assert_verdicts(&run(rule, "", &s), &[("*", Skipped)]);
    }

    #[test]
    fn required_secrets_exist() {
        let rule = "required-secret-missing";
        assert_verdicts(
            &run(rule, "", &compliant()),
            &[
                ("prod/DATABASE_URL", Pass),
                ("prod/LTC_SECRET_KEY", Pass),
                ("prod/db/password", Pass),
            ],
        );
        let mut s = compliant();
        value(&mut inv(&mut s).secrets.secrets).remove("prod/DATABASE_URL");
        assert_verdicts(
            &run(rule, "", &s),
            &[
                ("prod/DATABASE_URL", Fail),
                ("prod/LTC_SECRET_KEY", Pass),
                ("prod/db/password", Pass),
            ],
        );
        assert_verdicts(
            &run(rule, "names = [\"prod/x\"]", &secrets_denied()),
            &[("prod/x", Error)],
        );
    }

    #[test]
    fn secrets_rotate_unless_exempt() {
        let rule = "secret-rotation-disabled";
        let stop_two = |s: &mut crate::inventory::Snapshot| {
            let secrets = value(&mut inv(s).secrets.secrets);
            secrets
                .get_mut("prod/LTC_SECRET_KEY")
                .unwrap()
                .rotation_enabled = None;
            secrets
                .get_mut("prod/DATABASE_URL")
                .unwrap()
                .rotation_enabled = Some(false);
        };
        four_ways(rule, "")
            .pass(&[
                ("prod/DATABASE_URL", Pass),
                ("prod/LTC_SECRET_KEY", Pass),
                ("prod/db/password", Pass),
            ])
            .fail(
                stop_two,
                &[
                    ("prod/DATABASE_URL", Fail),
                    ("prod/LTC_SECRET_KEY", Fail),
                    ("prod/db/password", Pass),
                ],
            )
            .error(|s| *s = secrets_denied(), &[("*", Error)])
            .skipped(
                |s| value(&mut inv(s).secrets.secrets).clear(),
                &[("*", Skipped)],
            );
        let mut s = compliant();
        stop_two(&mut s);
        assert_verdicts(
            &run(rule, "exempt = [\"prod/LTC_*\"]", &s),
            &[
                ("prod/DATABASE_URL", Fail),
                ("prod/LTC_SECRET_KEY", Skipped),
                ("prod/db/password", Pass),
            ],
        );
    }
}
