//! How a policy names resources: by intent (`attached-to`), or pinned by id, name or tag.
//!
//! ```toml
//! target = { attached-to = "rds" }                       # the DB instances' security groups
//! allowed-sources = [{ attached-to = "ecs-service", name = "api" }]
//! exempt = [{ id = "sg-0123456789abcdef0" }, { tag = "Role=bastion" }]
//! ```

use crate::glob::Glob;
use crate::input::reader::{as_table, FromToml, TableReader, TomlFile, Value, ValueError};

/// The kinds of resource a selector can find things through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AttachKind {
    /// Internet-facing application load balancers.
    Alb,
    /// ECS services (their awsvpc network configuration).
    EcsService,
    /// RDS DB instances.
    Rds,
}

impl AttachKind {
    pub const ALL: [AttachKind; 3] = [AttachKind::Alb, AttachKind::EcsService, AttachKind::Rds];

    pub fn as_str(self) -> &'static str {
        match self {
            AttachKind::Alb => "alb",
            AttachKind::EcsService => "ecs-service",
            AttachKind::Rds => "rds",
        }
    }

    /// How the kind reads in a sentence.
    pub fn noun(self) -> &'static str {
        match self {
            AttachKind::Alb => "internet-facing ALB",
            AttachKind::EcsService => "ECS service",
            AttachKind::Rds => "RDS DB instance",
        }
    }
}

/// Picks resources (security groups, VPCs, subnets) for a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Those attached to (or hosting) resources of `kind`, optionally only those whose
    /// resource name (ALB name, ECS service name, DB identifier) matches `name`.
    AttachedTo {
        kind: AttachKind,
        name: Option<Glob>,
    },
    /// Pinned by AWS id (`sg-…`, `vpc-…`, `subnet-…`).
    Id(String),
    /// Pinned by name: a security group's group name, or the `Name` tag otherwise.
    Name(Glob),
    /// Pinned by tag: `Key=Value` (value may use wildcards) or just `Key`.
    Tag { key: String, value: Option<Glob> },
}

impl Selector {
    pub fn attached(kind: AttachKind) -> Self {
        Selector::AttachedTo { kind, name: None }
    }

    pub fn attached_named(kind: AttachKind, name: &str) -> Self {
        Selector::AttachedTo {
            kind,
            name: Some(Glob(name.to_string())),
        }
    }

    /// How the selector reads in a sentence.
    pub fn describe(&self) -> String {
        match self {
            Selector::AttachedTo { kind, name: None } => format!("the {}s", kind.noun()),
            Selector::AttachedTo {
                kind,
                name: Some(n),
            } => format!("the {} {}", kind.noun(), n.0),
            Selector::Id(id) => id.clone(),
            Selector::Name(n) => format!("name {}", n.0),
            Selector::Tag { key, value: None } => format!("tag {key}"),
            Selector::Tag {
                key,
                value: Some(v),
            } => format!("tag {key}={}", v.0),
        }
    }

    pub fn matches_tags(
        key: &str,
        value: &Option<Glob>,
        tags: &std::collections::BTreeMap<String, String>,
    ) -> bool {
        match (tags.get(key), value) {
            (Some(_), None) => true,
            (Some(v), Some(g)) => g.matches(v),
            (None, _) => false,
        }
    }
}

impl FromToml for Selector {
    const TYPE: &'static str =
        "a selector table ({ attached-to = \"…\" }, { id = \"…\" }, { name = \"…\" } or { tag = \"Key=Value\" })";

    fn from_toml(v: &Value<'_>, src: &TomlFile<'_>) -> Result<Self, ValueError> {
        let table = as_table(v, src, Self::TYPE)?;
        let mut r = TableReader::new(src, table, "a selector");
        let attached: Option<String> = r.optional("attached-to");
        let name: Option<String> = r.optional("name");
        let id: Option<String> = r.optional("id");
        let tag: Option<String> = r.optional("tag");
        r.finish();
        let invalid = |msg: String| ValueError::new(src, v.span(), msg);
        let chosen = [attached.is_some(), id.is_some(), tag.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if chosen > 1 || (chosen == 1 && name.is_some() && attached.is_none()) {
            return Err(invalid(
                "selector must use exactly one of `attached-to` (optionally with `name`), `id`, `name` or `tag`"
                    .into(),
            ));
        }
        if let Some(kind) = attached {
            let Some(kind) = AttachKind::ALL.into_iter().find(|k| k.as_str() == kind) else {
                let e = invalid(format!(
                    "selector has unknown `attached-to` value {kind:?}; use \"alb\", \"ecs-service\" or \"rds\""
                ));
                return Err(
                    match crate::input::diag::closest(
                        &kind,
                        AttachKind::ALL.map(AttachKind::as_str),
                    ) {
                        Some(c) => e.help(format!("did you mean {c:?}?")),
                        None => e,
                    },
                );
            };
            return Ok(Selector::AttachedTo {
                kind,
                name: name.map(Glob),
            });
        }
        if let Some(id) = id {
            if id.is_empty() || id.contains(char::is_whitespace) {
                return Err(invalid(format!("selector has an invalid `id` {id:?}")));
            }
            return Ok(Selector::Id(id));
        }
        if let Some(tag) = tag {
            let (key, value) = match tag.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(Glob(v.to_string()))),
                None => (tag.clone(), None),
            };
            if key.is_empty() {
                return Err(invalid(format!(
                    "selector has an invalid `tag` {tag:?}; write \"Key=Value\" or \"Key\""
                )));
            }
            return Ok(Selector::Tag { key, value });
        }
        if let Some(name) = name {
            return Ok(Selector::Name(Glob(name)));
        }
        Err(invalid(
            "selector is empty; use `attached-to`, `id`, `name` or `tag`".into(),
        ))
    }

    fn to_toml(&self) -> String {
        match self {
            Selector::AttachedTo { kind, name: None } => {
                format!("{{ attached-to = {:?} }}", kind.as_str())
            }
            Selector::AttachedTo {
                kind,
                name: Some(n),
            } => format!("{{ attached-to = {:?}, name = {:?} }}", kind.as_str(), n.0),
            Selector::Id(id) => format!("{{ id = {id:?} }}"),
            Selector::Name(n) => format!("{{ name = {:?} }}", n.0),
            Selector::Tag { key, value: None } => format!("{{ tag = {key:?} }}"),
            Selector::Tag {
                key,
                value: Some(v),
            } => format!("{{ tag = \"{key}={}\" }}", v.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::de::DeTable;

    fn parse(text: &str) -> Result<Selector, String> {
        let doc = DeTable::parse(text).unwrap();
        let src = TomlFile::new("t.toml", text);
        let mut r = TableReader::new(&src, doc.get_ref(), "[t]");
        let v = r.optional::<Selector>("s");
        r.finish();
        let d = src.into_diagnostics();
        match v {
            Some(v) if d.is_empty() => Ok(v),
            _ => Err(d
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; ")),
        }
    }

    #[test]
    fn parses_each_form_and_round_trips_to_toml() {
        for text in [
            r#"s = { attached-to = "ecs-service", name = "api" }"#,
            r#"s = { attached-to = "rds" }"#,
            r#"s = { id = "sg-0123" }"#,
            r#"s = { name = "web-*" }"#,
            r#"s = { tag = "Role=db" }"#,
        ] {
            let sel = parse(text).unwrap();
            assert_eq!(format!("s = {}", sel.to_toml()), text);
        }
    }

    #[test]
    fn rejects_mixed_unknown_and_empty_selectors() {
        assert!(parse(r#"s = { id = "sg-1", tag = "a=b" }"#)
            .unwrap_err()
            .contains("exactly one"));
        let e = parse(r#"s = { attached-to = "ecs" }"#).unwrap_err();
        assert!(e.contains("unknown `attached-to` value \"ecs\""), "{e}");
        assert!(parse("s = {}").unwrap_err().contains("empty"));
        assert!(parse(r#"s = { idd = "x" }"#)
            .unwrap_err()
            .contains("unknown key `idd`"));
        assert!(parse(r#"s = "sg-1""#)
            .unwrap_err()
            .contains("must be a selector table"));
    }
}
