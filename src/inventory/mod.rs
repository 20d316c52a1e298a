//! The snapshot: a plain, SDK-free, serde model of everything collected.
//!
//! Collectors fill it, rules read it, `--save-snapshot` writes it and `evaluate` reads it
//! back. Keyed collections are `BTreeMap`s so that the JSON is sorted and diffs cleanly.
//! Every field that needs an API call is an [`Observed`], so "not configured" and "could
//! not be read" never look alike.

pub mod acm;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod elbv2;
pub mod iam;
pub mod logs;
pub mod probe;
pub mod rds;
pub mod repo;
pub mod route53;
pub mod scaling;
pub mod secrets;
pub mod service;
#[cfg(test)]
pub mod testing;
pub mod timestamp;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use ec2::Ec2;
pub use ecs::Ecs;
pub use elbv2::Elbv2;
pub use rds::Rds;
pub use service::Service;
pub use timestamp::{Day, Timestamp};

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_SCHEMA: &str = "infraverify/snapshot/v1";

/// The result of reading one thing from AWS.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Observed<T> {
    /// Read, and there.
    Present { value: T },
    /// Read, and AWS said there is none (a 404-style answer, not an error).
    Absent,
    /// Could not be read.
    Unavailable { error: CollectError },
}

impl<T> Observed<T> {
    pub fn present(value: T) -> Self {
        Observed::Present { value }
    }

    pub fn unavailable(error: CollectError) -> Self {
        Observed::Unavailable { error }
    }

    /// The value, or the error that stands in its way. `Absent` reads as `None`.
    pub fn get(&self) -> Result<Option<&T>, &CollectError> {
        match self {
            Observed::Present { value } => Ok(Some(value)),
            Observed::Absent => Ok(None),
            Observed::Unavailable { error } => Err(error),
        }
    }

    pub fn error(&self) -> Option<&CollectError> {
        match self {
            Observed::Unavailable { error } => Some(error),
            _ => None,
        }
    }
}

impl<T> From<Result<T, CollectError>> for Observed<T> {
    /// What a read gave: the value, or why it could not be read.
    fn from(r: Result<T, CollectError>) -> Self {
        match r {
            Ok(value) => Observed::Present { value },
            Err(error) => Observed::Unavailable { error },
        }
    }
}

impl<T: Default> Observed<T> {
    /// For collections, where "absent" means "none": the value or an empty one.
    pub fn items(&self) -> Result<std::borrow::Cow<'_, T>, &CollectError>
    where
        T: Clone,
    {
        match self {
            Observed::Present { value } => Ok(std::borrow::Cow::Borrowed(value)),
            Observed::Absent => Ok(std::borrow::Cow::Owned(T::default())),
            Observed::Unavailable { error } => Err(error),
        }
    }
}

impl<T> Default for Observed<T> {
    /// A field that no collector filled in: never mistaken for "none configured".
    fn default() -> Self {
        Observed::Unavailable {
            error: CollectError {
                source: "snapshot".into(),
                region: None,
                kind: ErrorKind::NotCollected,
                message: "the snapshot holds no such data (its service was not read, or an older infraverify wrote it)".into(),
            },
        }
    }
}

/// Every collection error `data` (a snapshot or any part of it) holds: each [`Observed`]
/// that could not be read, found by one walk over its serialized form, so no field needs
/// listing by hand. A field no collector filled ([`ErrorKind::NotCollected`]: its service
/// was not wanted) is no error. Sorted, without repeats.
pub fn unavailable<T: Serialize>(data: &T) -> Vec<CollectError> {
    fn walk(v: &serde_json::Value, out: &mut Vec<CollectError>) {
        match v {
            serde_json::Value::Object(m) => {
                // `Observed::Unavailable`, as its serde tag writes it.
                if m.len() == 2 && m.get("status").and_then(|s| s.as_str()) == Some("unavailable") {
                    if let Some(Ok(e)) = m.get("error").map(CollectError::deserialize) {
                        if e.kind != ErrorKind::NotCollected {
                            out.push(e);
                        }
                        return;
                    }
                }
                m.values().for_each(|x| walk(x, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(
        &serde_json::to_value(data).expect("the snapshot serializes"),
        &mut out,
    );
    out.sort();
    out.dedup();
    out
}

/// Why something could not be read.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The credentials lack permission (HTTP 401/403, AccessDenied, UnauthorizedOperation).
    AccessDenied,
    /// No usable credentials, or they were rejected as invalid or expired.
    Credentials,
    /// Still throttled after the SDK's retries.
    Throttled,
    /// No answer within the time allowed.
    Timeout,
    /// The endpoint could not be reached (DNS, connection refused, TLS).
    Unreachable,
    /// The service answered with a server error (5xx).
    ServiceError,
    /// The endpoint does not implement the operation, or the region does not offer it.
    Unsupported,
    /// The collector never ran for this (for example, the data came from an older snapshot).
    NotCollected,
    /// Anything else; the message says what.
    Other,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::AccessDenied => "access-denied",
            ErrorKind::Credentials => "credentials",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::ServiceError => "service-error",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::NotCollected => "not-collected",
            ErrorKind::Other => "other",
        }
    }
}

/// A failed read, kept as data: it becomes `error` findings for exactly the rules that
/// needed it, and an entry in the report's `errors`.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct CollectError {
    /// The API operation, as `service:Operation`.
    pub source: String,
    pub region: Option<String>,
    pub kind: ErrorKind,
    pub message: String,
}

impl AsRef<CollectError> for CollectError {
    fn as_ref(&self) -> &CollectError {
        self
    }
}

impl std::fmt::Display for CollectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.kind == ErrorKind::NotCollected {
            return write!(f, "not collected: {}", self.message);
        }
        write!(f, "{} failed", self.source)?;
        if let Some(r) = &self.region {
            write!(f, " in {r}")?;
        }
        write!(f, " ({}): {}", self.kind.as_str(), self.message)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl ToolInfo {
    pub fn current() -> Self {
        ToolInfo {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// How a collection learns its account.
pub const GET_CALLER_IDENTITY: &str = "sts:GetCallerIdentity";

/// When, where and as whom the snapshot was collected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CollectionInfo {
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    /// The account the credentials belong to (STS GetCallerIdentity); `None` if unknown.
    pub account: Option<String>,
    pub regions: Vec<String>,
    /// Set when every call went to one endpoint (an emulator, say).
    pub endpoint_url: Option<String>,
    /// Whether AWS was read at all (`false` with `--no-aws`: only probes ran).
    #[serde(default = "yes")]
    pub aws: bool,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Snapshot {
    pub schema: String,
    pub tool: ToolInfo,
    pub collection: CollectionInfo,
    /// IAM is global: read once, from the first region.
    #[serde(default)]
    pub iam: iam::Iam,
    /// Route 53 is global: read once.
    #[serde(default)]
    pub route53: route53::Route53,
    /// Per region, everything read there.
    pub regions: BTreeMap<String, RegionInventory>,
    /// Every collection error, sorted.
    pub errors: Vec<CollectError>,
    /// The application repository (`--repo`), for the DOC-1 and DEP-2 controls.
    #[serde(default)]
    pub repository: Option<repo::Repository>,
    /// The live probes; `None` when they were not run (`--no-probes`).
    #[serde(default)]
    pub probes: Option<probe::Probes>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RegionInventory {
    pub ec2: Ec2,
    pub elbv2: Elbv2,
    pub ecs: Ecs,
    pub rds: Rds,
    #[serde(default)]
    pub ecr: ecr::Ecr,
    #[serde(default)]
    pub secrets: secrets::Secrets,
    #[serde(default)]
    pub scaling: scaling::Scaling,
    #[serde(default)]
    pub logs: logs::Logs,
    #[serde(default)]
    pub acm: acm::Acm,
}

/// `Name` tag of a tag map, the name the console shows.
pub fn name_tag(tags: &BTreeMap<String, String>) -> Option<String> {
    tags.get("Name").cloned()
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid snapshot: {message}")]
    Invalid { path: String, message: String },
    #[error("{path} has schema {found:?}; this version of infraverify reads {expected:?}")]
    Schema {
        path: String,
        found: String,
        expected: &'static str,
    },
}

impl Snapshot {
    pub fn from_json(path: &str, text: &str) -> Result<Snapshot, SnapshotError> {
        // Check the schema tag first, so an old or foreign file gets a clear message rather
        // than a complaint about some missing field.
        let head: serde_json::Value =
            serde_json::from_str(text).map_err(|e| SnapshotError::Invalid {
                path: path.into(),
                message: e.to_string(),
            })?;
        match head.get("schema").and_then(|s| s.as_str()) {
            Some(SNAPSHOT_SCHEMA) => {}
            Some(other) => {
                return Err(SnapshotError::Schema {
                    path: path.into(),
                    found: other.into(),
                    expected: SNAPSHOT_SCHEMA,
                })
            }
            None => {
                return Err(SnapshotError::Invalid {
                    path: path.into(),
                    message: format!("no \"schema\" field (expected {SNAPSHOT_SCHEMA:?})"),
                })
            }
        }
        let mut snap: Snapshot =
            serde_json::from_value(head).map_err(|e| SnapshotError::Invalid {
                path: path.into(),
                message: e.to_string(),
            })?;
        snap.normalize();
        Ok(snap)
    }

    /// The day the snapshot was taken: "today" for waivers and attestations, so that
    /// evaluating the same snapshot always gives the same verdicts.
    pub fn as_of(&self) -> Option<Day> {
        Some(self.collection.finished_at.day())
    }

    pub fn load(path: &str) -> Result<Snapshot, SnapshotError> {
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
            path: path.into(),
            source,
        })?;
        Snapshot::from_json(path, &text)
    }

    /// Drops the inventory and keeps what a report says of the account: its collection's
    /// facts and errors. For a fleet's accounts whose findings are already made.
    pub fn reduce(&mut self) {
        self.iam = Default::default();
        self.route53 = Default::default();
        self.regions = BTreeMap::new();
        self.repository = None;
        self.probes = None;
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("snapshot serializes");
        s.push('\n');
        s
    }

    /// Sorts everything that has no natural key, so output is deterministic. A region the
    /// collection lists but the file lacks gets an empty inventory, whose every field is
    /// unavailable: its controls come out `error`, never `skipped`.
    pub fn normalize(&mut self) {
        for r in &self.collection.regions {
            if !self.regions.contains_key(r) {
                self.regions.insert(r.clone(), RegionInventory::default());
                self.errors.push(CollectError {
                    source: "snapshot".into(),
                    region: Some(r.clone()),
                    kind: ErrorKind::NotCollected,
                    message: format!("the snapshot lists region {r} but holds no data for it"),
                });
            }
        }
        self.errors.sort();
        self.errors.dedup();
        self.collection.regions.sort();
        self.collection.regions.dedup();
        for region in self.regions.values_mut() {
            region.ec2.normalize();
            region.rds.normalize();
            region.elbv2.normalize();
            region.ecs.normalize();
            region.acm.normalize();
        }
        self.route53.normalize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_round_trips_with_a_status_tag() {
        let v: Observed<Vec<u32>> = Observed::present(vec![1, 2]);
        let s = serde_json::to_string(&v).unwrap();
        assert_eq!(s, r#"{"status":"present","value":[1,2]}"#);
        assert_eq!(serde_json::from_str::<Observed<Vec<u32>>>(&s).unwrap(), v);
        let a: Observed<u32> = Observed::Absent;
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"status":"absent"}"#);
    }

    #[test]
    fn a_field_no_collector_filled_is_unavailable_not_empty() {
        let v: Observed<Vec<u32>> = Observed::default();
        assert!(v.items().is_err());
        assert_eq!(v.error().unwrap().kind, ErrorKind::NotCollected);
    }

    #[test]
    fn a_foreign_schema_is_refused_by_name() {
        let e = Snapshot::from_json("x.json", r#"{"schema":"other/v9"}"#).unwrap_err();
        assert!(e.to_string().contains("other/v9"), "{e}");
        let e = Snapshot::from_json("x.json", "{]").unwrap_err();
        assert!(
            e.to_string().contains("x.json is not a valid snapshot"),
            "{e}"
        );
    }
}
