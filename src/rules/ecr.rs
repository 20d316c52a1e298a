//! 2.3 Container registry: ECR-1 … ECR-3, plus scan-on-push and tag immutability as
//! baseline hygiene. Repositories are named in the policy (wildcards allowed).

use super::scope::Region;
use super::{declare_rule, join_words, region_items, Cx, Rule};
use crate::finding::{Evidence, ResourceRef};
use crate::glob::Glob;
use crate::inventory::ecr::Repository;
use crate::inventory::ecr::DESCRIBE_REPOSITORIES;
use crate::rule_params;
use crate::rules::params::{in_range, non_empty};

fn planned() -> Vec<String> {
    vec![
        "lifetimecircle-api".to_string(),
        "lifetimecircle-web".to_string(),
    ]
}

fn repo_ref(cx: &Cx<'_>, region: &str, r: &Repository) -> ResourceRef {
    cx.resource("ecr-repository", &r.name, region)
        .name(Some(&r.name))
        .arn(Some(&r.arn))
}

/// Every repository whose name one of `names` matches, in every region.
fn each_repository(
    cx: &mut Cx<'_>,
    names: &[String],
    mut f: impl FnMut(&mut Cx<'_>, Region<'_>, &Repository),
) {
    let regions: Vec<Region<'_>> = cx.regions().collect();
    for region in regions {
        let Some(repos) = region_items(
            cx,
            region.name,
            "ECR repositories",
            &region.inv.ecr.repositories,
        ) else {
            continue;
        };
        for r in repos
            .values()
            .filter(|r| crate::glob::any_matches(names, &r.name))
        {
            f(cx, region, r);
        }
    }
}

rule_params! {
    pub struct RepoParams {
        /// The repositories that must exist (wildcards allowed).
        "repositories" => repositories: Vec<String> = planned(), check = non_empty;
    }
}

/// Every repository: what the checklist says of repositories holds for each of them.
fn every() -> Vec<String> {
    vec!["*".to_string()]
}

rule_params! {
    pub struct AllReposParams {
        /// The repositories judged (wildcards allowed): every repository by default.
        "repositories" => repositories: Vec<String> = every(), check = non_empty;
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// ECR-1: the planned repositories exist.
    pub struct EcrRepositoryMissing {
        id: "ecr-repository-missing",
        scope: "planned ECR repository",
        controls: ["ECR-1"],
        severity: Medium,
        kind: "ecr-repository",
        title: "A planned ECR repository does not exist",
        reads: [Ecr],
    }
}

impl Rule for EcrRepositoryMissing {
    type Params = RepoParams;

    fn check(&self, cx: &mut Cx<'_>, p: &RepoParams) {
        let regions: Vec<Region<'_>> = cx.regions().collect();
        for name in &p.repositories {
            let g = Glob(name.clone());
            let mut found = Vec::new();
            let mut unknown = None;
            for region in &regions {
                match region.inv.ecr.repositories.get() {
                    Ok(m) => found.extend(
                        m.into_iter()
                            .flat_map(|m| m.values())
                            .filter(|r| g.matches(&r.name))
                            .map(|r| (region.name, r)),
                    ),
                    Err(e) => unknown = Some(e),
                }
            }
            let ev = vec![Evidence::new(
                DESCRIBE_REPOSITORIES,
                found
                    .iter()
                    .map(|(reg, r)| format!("{} in {reg}", r.name))
                    .collect::<Vec<_>>(),
                Some(format!("{name} exists")),
            )];
            if let Some((region, r)) = found.first() {
                let res = repo_ref(cx, region, r);
                let msg = format!("ECR repository {} exists in {region}.", r.name);
                cx.pass(res, msg, ev);
            } else {
                let res = ResourceRef::new("ecr-repository", name.clone()).account(cx.account());
                match unknown {
                    Some(e) => cx.error_on(res, "whether the repository exists", e),
                    None => {
                        let names: Vec<String> =
                            regions.iter().map(|r| r.name.to_string()).collect();
                        let msg = format!(
                            "ECR repository {name} does not exist in {}.",
                            join_words(&names)
                        );
                        cx.fail(res, msg, ev);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// ECR-2: images expire.
    pub struct EcrLifecyclePolicyMissing {
        id: "ecr-lifecycle-policy-missing",
        scope: "ECR repository",
        controls: ["ECR-2"],
        severity: Medium,
        kind: "ecr-repository",
        title: "An ECR repository has no lifecycle rule that expires images within the planned days",
        reads: [Ecr],
    }
}

rule_params! {
    pub struct LifecycleParams {
        /// The longest an image may be kept before a rule expires it.
        "max-days" => max_days: u32 = 30, check = in_range(1, 3650);
        /// Whether a rule keeping only the newest N images (imageCountMoreThan, any tag) counts too.
        "accept-count-rules" => accept_count_rules: bool = true;
        /// The repositories judged (wildcards allowed): every repository by default.
        "repositories" => repositories: Vec<String> = every(), check = non_empty;
    }
}

/// What one lifecycle rule does, in words, and whether it satisfies the policy.
fn judge_rule(rule: &serde_json::Value, max_days: u32, accept_count: bool) -> (bool, String) {
    let action = rule["action"]["type"].as_str().unwrap_or("?");
    let sel = &rule["selection"];
    let tag = sel["tagStatus"].as_str().unwrap_or("?");
    let count_type = sel["countType"].as_str().unwrap_or("?");
    let n = sel["countNumber"].as_u64();
    let unit = sel["countUnit"].as_str().unwrap_or("");
    let words = match (count_type, n) {
        ("sinceImagePushed", Some(n)) => format!("{action} {tag} images {n} {unit} after push"),
        ("imageCountMoreThan", Some(n)) => format!("{action} {tag} images beyond the newest {n}"),
        _ => format!("{action} {tag} images ({count_type})"),
    };
    let ok = action == "expire"
        && tag == "any"
        && match (count_type, n) {
            ("sinceImagePushed", Some(n)) => unit == "days" && n <= u64::from(max_days),
            ("imageCountMoreThan", Some(_)) => accept_count,
            _ => false,
        };
    (ok, words)
}

impl Rule for EcrLifecyclePolicyMissing {
    type Params = LifecycleParams;

    fn check(&self, cx: &mut Cx<'_>, p: &LifecycleParams) {
        cx.threshold("max-days");
        each_repository(cx, &p.repositories, |cx, region, repo| {
            let r = repo_ref(cx, region.name, repo);
            let policy = match repo.lifecycle_policy.get() {
                Err(e) => return cx.error_on(r, "the lifecycle policy", e),
                Ok(None) => {
                    let msg = format!(
                        "ECR repository {} has no lifecycle policy: images are kept for ever.",
                        repo.name
                    );
                    return cx.fail(
                        r,
                        msg,
                        vec![Evidence::new(
                            "ecr:GetLifecyclePolicy",
                            serde_json::Value::Null,
                            Some("a lifecycle policy".into()),
                        )],
                    );
                }
                Ok(Some(v)) => v,
            };
            let rules: Vec<(bool, String)> = policy["rules"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| judge_rule(x, p.max_days, p.accept_count_rules))
                        .collect()
                })
                .unwrap_or_default();
            let described: Vec<String> = rules.iter().map(|(_, w)| w.clone()).collect();
            let ev = vec![Evidence::new(
                "ecr:GetLifecyclePolicy",
                &described,
                Some(format!(
                    "expire any image within {} days{}",
                    p.max_days,
                    if p.accept_count_rules {
                        " (or beyond a count)"
                    } else {
                        ""
                    }
                )),
            )];
            if rules.iter().any(|(ok, _)| *ok) {
                let msg = format!(
                    "ECR repository {}'s lifecycle policy will {}.",
                    repo.name,
                    join_words(&described)
                );
                cx.pass(r, msg, ev);
            } else {
                let msg = format!(
                    "ECR repository {}'s lifecycle policy does not expire every image within {} days (its rules: {}).",
                    repo.name,
                    p.max_days,
                    if described.is_empty() { "none".to_string() } else { join_words(&described) }
                );
                cx.fail(r, msg, ev);
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// ECR-3: image tags follow the strategy (informational).
    pub struct EcrImageTagOffStrategy {
        id: "ecr-image-tag-off-strategy",
        scope: "ECR repository",
        controls: ["ECR-3"],
        severity: Info,
        kind: "ecr-repository",
        title: "Images carry tags outside the release tag strategy",
        reads: [Ecr],
    }
}

rule_params! {
    pub struct TagParams {
        /// Tag patterns of the strategy (`?` is one character, `*` any run).
        "patterns" => patterns: Vec<String> = vec!["rc-????-??-??".to_string(), "latest".to_string(), "staging".to_string()], check = non_empty;
        /// The repositories judged (wildcards allowed): every repository by default.
        "repositories" => repositories: Vec<String> = every(), check = non_empty;
    }
}

impl Rule for EcrImageTagOffStrategy {
    type Params = TagParams;

    fn check(&self, cx: &mut Cx<'_>, p: &TagParams) {
        cx.threshold("patterns");
        each_repository(cx, &p.repositories, |cx, region, repo| {
            let r = repo_ref(cx, region.name, repo);
            let images = match repo.images.get() {
                Err(e) => return cx.error_on(r, "the image tags", e),
                Ok(i) => i.cloned().unwrap_or_default(),
            };
            let mut off: Vec<String> = images
                .iter()
                .flat_map(|i| &i.tags)
                .filter(|t| !crate::glob::any_matches(&p.patterns, t))
                .cloned()
                .collect();
            off.sort();
            off.dedup();
            let ev = vec![Evidence::new(
                "ecr:DescribeImages",
                &off,
                Some(format!("tags match {}", p.patterns.join(", "))),
            )];
            if off.is_empty() {
                let n = images.len();
                let msg = format!(
                    "Every tag in ECR repository {} follows the strategy ({n} image{}).",
                    repo.name,
                    if n == 1 { "" } else { "s" }
                );
                cx.pass(r, msg, ev);
            } else {
                let shown: Vec<String> = off.iter().take(10).cloned().collect();
                let msg = format!(
                    "ECR repository {} has {} tag{} outside the strategy: {}{}.",
                    repo.name,
                    off.len(),
                    if off.len() == 1 { "" } else { "s" },
                    join_words(&shown),
                    if off.len() > shown.len() { ", …" } else { "" }
                );
                cx.fail(r, msg, ev);
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
declare_rule! {
    /// Baseline: images are scanned on push.
    pub struct EcrScanOnPushDisabled {
        id: "ecr-scan-on-push-disabled",
        scope: "ECR repository",
        controls: ["ECR-1"],
        severity: Low,
        kind: "ecr-repository",
        title: "An ECR repository does not scan images on push",
        reads: [Ecr],
    }
}

impl Rule for EcrScanOnPushDisabled {
    type Params = AllReposParams;

    fn check(&self, cx: &mut Cx<'_>, p: &AllReposParams) {
        each_repository(cx, &p.repositories, |cx, region, repo| {
            let r = repo_ref(cx, region.name, repo);
            let ev = vec![Evidence::new(
                DESCRIBE_REPOSITORIES,
                serde_json::json!({ "scan_on_push": repo.scan_on_push }),
                Some("scan_on_push = true".into()),
            )];
            let Some(on) = repo.scan_on_push else {
                let msg = format!(
                    "Could not check ECR repository {}: {DESCRIBE_REPOSITORIES} did not report its scanning configuration.",
                    repo.name
                );
                return cx.emit(crate::finding::Status::Error, r, msg, ev);
            };
            let msg = format!(
                "ECR repository {} {} images on push.",
                repo.name,
                if on { "scans" } else { "does not scan" }
            );
            cx.verdict(on, r, msg, ev);
        });
    }
}

declare_rule! {
    /// Baseline: tags cannot be overwritten.
    pub struct EcrTagsMutable {
        id: "ecr-tags-mutable",
        scope: "ECR repository",
        controls: ["ECR-3"],
        severity: Low,
        kind: "ecr-repository",
        title: "An ECR repository lets a pushed tag be overwritten",
        reads: [Ecr],
    }
}

impl Rule for EcrTagsMutable {
    type Params = AllReposParams;

    fn check(&self, cx: &mut Cx<'_>, p: &AllReposParams) {
        each_repository(cx, &p.repositories, |cx, region, repo| {
            let r = repo_ref(cx, region.name, repo);
            let ev = vec![Evidence::new(
                DESCRIBE_REPOSITORIES,
                serde_json::json!({ "tag_mutability": repo.tag_mutability }),
                Some("IMMUTABLE".into()),
            )];
            let Some(m) = repo.tag_mutability.as_deref() else {
                let msg = format!(
                    "Could not check ECR repository {}: {DESCRIBE_REPOSITORIES} did not report its tag mutability.",
                    repo.name
                );
                return cx.emit(crate::finding::Status::Error, r, msg, ev);
            };
            let ok = m == "IMMUTABLE" || m == "IMMUTABLE_WITH_EXCLUSION";
            let msg = if ok {
                format!("ECR repository {} has immutable tags.", repo.name)
            } else {
                format!("ECR repository {} has {m} tags: a pushed tag such as an rc can be overwritten.", repo.name)
            };
            cx.verdict(ok, r, msg, ev);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::judge_rule;
    use crate::finding::Status::*;
    use crate::inventory::Observed;

    fn with_repo(
        name: &str,
        f: impl FnOnce(&mut crate::inventory::ecr::Repository),
    ) -> crate::inventory::Snapshot {
        let mut s = compliant();
        f(value(&mut inv(&mut s).ecr.repositories)
            .get_mut(name)
            .unwrap());
        s
    }

    fn denied_repos() -> crate::inventory::Snapshot {
        let mut s = compliant();
        inv(&mut s).ecr.repositories = Observed::unavailable(denied("ecr:DescribeRepositories"));
        s
    }

    #[test]
    fn planned_repositories_exist() {
        let rule = "ecr-repository-missing";
        assert_verdicts(
            &run(rule, "", &compliant()),
            &[("lifetimecircle-api", Pass), ("lifetimecircle-web", Pass)],
        );
        let mut s = compliant();
        value(&mut inv(&mut s).ecr.repositories).remove("lifetimecircle-web");
        let f = run(rule, "", &s);
        // A repository that does not exist has no region, so it sorts first.
        assert_verdicts(
            &f,
            &[("lifetimecircle-web", Fail), ("lifetimecircle-api", Pass)],
        );
        assert_eq!(
            f[0].message,
            "ECR repository lifetimecircle-web does not exist in eu-central-1."
        );
        assert_verdicts(
            &run(rule, "", &denied_repos()),
            &[("lifetimecircle-api", Error), ("lifetimecircle-web", Error)],
        );
    }

    /// A third repository of the product that no policy names, with nothing configured.
    fn with_unnamed_repo() -> crate::inventory::Snapshot {
        let mut s = compliant();
        let repos = value(&mut inv(&mut s).ecr.repositories);
        let mut jobs = repos["lifetimecircle-api"].clone();
        jobs.name = "lifetimecircle-jobs".into();
        jobs.arn = jobs
            .arn
            .replace("lifetimecircle-api", "lifetimecircle-jobs");
        jobs.lifecycle_policy = Observed::Absent;
        jobs.scan_on_push = Some(false);
        jobs.tag_mutability = Some("MUTABLE".into());
        repos.insert(jobs.name.clone(), jobs);
        s
    }

    #[test]
    fn a_property_of_repositories_holds_for_every_repository_unless_narrowed() {
        let s = with_unnamed_repo();
        for rule in [
            "ecr-lifecycle-policy-missing",
            "ecr-scan-on-push-disabled",
            "ecr-tags-mutable",
        ] {
            assert_verdicts(
                &run(rule, "", &s),
                &[
                    ("lifetimecircle-api", Pass),
                    ("lifetimecircle-jobs", Fail),
                    ("lifetimecircle-web", Pass),
                ],
            );
            assert_verdicts(
                &run(rule, "repositories = [\"lifetimecircle-a*\"]", &s),
                &[("lifetimecircle-api", Pass)],
            );
        }
        // A name in the policy is what must exist: ECR-1 does not judge the third one.
        assert_verdicts(
            &run("ecr-repository-missing", "", &s),
            &[("lifetimecircle-api", Pass), ("lifetimecircle-web", Pass)],
        );
    }

    #[test]
    fn lifecycle_rules_must_expire_every_image_in_time() {
        let rule = "ecr-lifecycle-policy-missing";
        assert_verdicts(
            &run(rule, "", &compliant()),
            &[("lifetimecircle-api", Pass), ("lifetimecircle-web", Pass)],
        );
        let s = with_repo("lifetimecircle-web", |r| {
            r.lifecycle_policy = Observed::Absent
        });
        assert_verdicts(
            &run(rule, "", &s),
            &[("lifetimecircle-api", Pass), ("lifetimecircle-web", Fail)],
        );
        // Only untagged images expire: tagged ones are kept for ever.
        let s = with_repo("lifetimecircle-api", |r| {
            r.lifecycle_policy = present(
                serde_json::json!({"rules": [{"rulePriority": 1, "selection":
                {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
                "action": {"type": "expire"}}]}),
            )
        });
        let f = run(rule, "", &s);
        assert_verdicts(
            &f,
            &[("lifetimecircle-api", Fail), ("lifetimecircle-web", Pass)],
        );
        assert!(
            f[0].message
                .contains("(its rules: expire untagged images 14 days after push)"),
            "{}",
            f[0].message
        );
        assert_verdicts(
            &run(rule, "max-days = 20", &compliant()),
            &[("lifetimecircle-api", Fail), ("lifetimecircle-web", Fail)],
        );
        let count = serde_json::json!({"action": {"type": "expire"}, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 20}});
        assert!(judge_rule(&count, 30, true).0);
        assert!(!judge_rule(&count, 30, false).0);
        let s = with_repo("lifetimecircle-api", |r| {
            r.lifecycle_policy = Observed::unavailable(denied("ecr:GetLifecyclePolicy"))
        });
        assert_verdicts(
            &run(rule, "", &s),
            &[("lifetimecircle-api", Error), ("lifetimecircle-web", Pass)],
        );
        assert_verdicts(
            &run(rule, "repositories = [\"other-*\"]", &compliant()),
            &[("*", Skipped)],
        );
    }

    #[test]
    fn tags_follow_the_strategy() {
        let rule = "ecr-image-tag-off-strategy";
        assert_verdicts(
            &run(rule, "", &compliant()),
            &[("lifetimecircle-api", Pass), ("lifetimecircle-web", Pass)],
        );
        let s = with_repo("lifetimecircle-api", |r| {
            r.images = present(vec![crate::inventory::ecr::Image {
                pushed_at: None,
                tags: vec!["v1.2".into(), "rc-2026-1-2".into()],
            }])
        });
        let f = run(rule, "", &s);
        assert_verdicts(
            &f,
            &[("lifetimecircle-api", Fail), ("lifetimecircle-web", Pass)],
        );
        assert_eq!(f[0].severity, crate::finding::Severity::Info);
        assert!(
            f[0].message
                .contains("2 tags outside the strategy: rc-2026-1-2 and v1.2"),
            "{}",
            f[0].message
        );
        let s = with_repo("lifetimecircle-api", |r| {
            r.images = Observed::unavailable(denied("ecr:DescribeImages"))
        });
        assert_verdicts(
            &run(rule, "", &s),
            &[("lifetimecircle-api", Error), ("lifetimecircle-web", Pass)],
        );
    }

    #[test]
    fn scan_on_push_and_immutability() {
        let s = with_repo("lifetimecircle-web", |r| {
            r.scan_on_push = Some(false);
            r.tag_mutability = Some("MUTABLE".into());
        });
        for rule in ["ecr-scan-on-push-disabled", "ecr-tags-mutable"] {
            four_ways(rule, "")
                .pass(&[("lifetimecircle-api", Pass), ("lifetimecircle-web", Pass)])
                .fail(
                    |b| *b = s.clone(),
                    &[("lifetimecircle-api", Pass), ("lifetimecircle-web", Fail)],
                )
                .error(|b| *b = denied_repos(), &[("*", Error)])
                .skipped(
                    |b| value(&mut inv(b).ecr.repositories).clear(),
                    &[("*", Skipped)],
                );
        }
    }
}
