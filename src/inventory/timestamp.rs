//! Points in time and calendar days, as the snapshot and policies write them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time as AWS and the probes report it, written as RFC 3339
/// (`2026-11-28T21:42:44Z`, fractions of a second only when there are any).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// Now, in UTC, to the second.
    pub fn now() -> Timestamp {
        Timestamp(
            OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .expect("0 ns is valid"),
        )
    }

    pub fn parse(s: &str) -> Option<Timestamp> {
        OffsetDateTime::parse(s, &Rfc3339).ok().map(Timestamp)
    }

    /// Whole seconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn seconds_since(self, earlier: Timestamp) -> i64 {
        (self.0 - earlier.0).whole_seconds()
    }

    /// Whole days from `earlier` to `self`, rounded down.
    pub fn days_since(self, earlier: Timestamp) -> i64 {
        self.seconds_since(earlier).div_euclid(86_400)
    }

    /// The calendar day, as written (in the timestamp's own offset).
    pub fn day(self) -> Day {
        Day(self.0.date())
    }
}

/// Test fixtures write times as text.
#[cfg(test)]
impl From<&str> for Timestamp {
    fn from(s: &str) -> Self {
        Timestamp::parse(s).unwrap_or_else(|| panic!("{s:?} is not an RFC 3339 time"))
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.format(&Rfc3339) {
            Ok(s) => f.write_str(&s),
            // Only years outside 0..=9999 cannot be written; none is ever collected.
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "An RFC 3339 time in UTC, such as \"2026-11-28T21:42:44Z\"."
        })
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{s:?} is not an RFC 3339 time such as \"2026-11-28T21:42:44Z\""
            ))
        })
    }
}

/// A calendar date, as policies write them (`2026-12-31`) and as "today" is: the day a
/// snapshot was collected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(pub time::Date);

impl Day {
    pub fn parse(s: &str) -> Option<Day> {
        let (y, rest) = s.split_once('-')?;
        let (m, d) = rest.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
        time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?)
            .ok()
            .map(Day)
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_as_written() {
        for s in [
            "2026-11-28T23:51:18Z",
            "2026-11-28T23:51:18.95112Z",
            "2026-11-28T23:51:18+02:00",
        ] {
            let t = Timestamp::parse(s).unwrap();
            assert_eq!(t.to_string(), s);
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{s}\""));
        }
        let e = serde_json::from_str::<Timestamp>("\"yesterday\"").unwrap_err();
        assert!(e.to_string().contains("not an RFC 3339 time"), "{e}");
    }

    #[test]
    fn spans_are_whole_units_rounded_down() {
        let t = |s| Timestamp::parse(s).unwrap();
        assert_eq!(
            t("2026-01-31T23:00:00Z").days_since(t("2026-01-01T00:00:00Z")),
            30
        );
        assert_eq!(
            t("2026-01-01T12:00:00Z").days_since(t("2026-01-02T00:00:00Z")),
            -1
        );
        assert_eq!(
            t("2026-01-01T00:15:00Z").seconds_since(t("2026-01-01T00:00:00Z")),
            900
        );
        assert_eq!(t("2026-11-28T23:51:18Z").day().to_string(), "2026-11-28");
    }

    #[test]
    fn now_is_whole_seconds_in_utc() {
        let s = Timestamp::now().to_string();
        assert_eq!(s.len(), 20, "{s}");
        assert!(s.ends_with('Z'));
    }
}
