//! The major versions of every RDS engine, and when AWS's standard support for each ends:
//! the one table `rds-engine-version-too-old` reads to judge an engine the policy does not
//! pin to a version.
//!
//! Source: AWS's release calendars, read through endoflife.date's mechanical copies of them
//! (2026-08-22) and AWS's version pages (as noted per engine), checked 2026-12-03:
//! - RDS for PostgreSQL and Aurora PostgreSQL: "Amazon RDS for PostgreSQL release calendar"
//!   and "Aurora PostgreSQL release calendar";
//! - RDS for MySQL: "MySQL on Amazon RDS versions"; Aurora MySQL: "Release calendars for
//!   Amazon Aurora MySQL";
//! - RDS for MariaDB: "MariaDB on Amazon RDS versions" (no Extended Support for MariaDB);
//! - RDS for Oracle: "Overview of RDS for Oracle engine upgrades";
//! - RDS for SQL Server: "Version policy for Amazon RDS for Microsoft SQL Server";
//! - RDS for Db2: "Db2 on Amazon RDS versions".
//!
//! A major newer than the newest listed for its engine is taken as supported (AWS adds
//! majors after this table was written); an engine not listed here is not judged.

use crate::inventory::Day;

/// (engine, major, the last day of standard support).
const STANDARD_SUPPORT: &[(&str, &str, &str)] = &[
    ("postgres", "11", "2024-02-29"),
    ("postgres", "12", "2025-02-28"),
    ("postgres", "13", "2026-02-28"),
    ("postgres", "14", "2027-02-28"),
    ("postgres", "15", "2028-02-29"),
    ("postgres", "16", "2029-02-28"),
    ("postgres", "17", "2030-02-28"),
    ("postgres", "18", "2031-02-28"),
    ("aurora-postgresql", "11", "2024-02-29"),
    ("aurora-postgresql", "12", "2025-02-28"),
    ("aurora-postgresql", "13", "2026-02-28"),
    ("aurora-postgresql", "14", "2027-02-28"),
    ("aurora-postgresql", "15", "2028-02-29"),
    ("aurora-postgresql", "16", "2029-02-28"),
    ("aurora-postgresql", "17", "2030-02-28"),
    ("aurora-postgresql", "18", "2031-02-28"),
    ("mysql", "5.7", "2024-02-29"),
    ("mysql", "8.0", "2026-07-31"),
    ("mysql", "8.4", "2029-07-31"),
    // Aurora MySQL version 2 is MySQL 5.7 compatible, version 3 MySQL 8.0.
    ("aurora-mysql", "5.7", "2024-10-31"),
    ("aurora-mysql", "8.0", "2028-04-30"),
    ("aurora-mysql", "8.4", "2032-04-30"),
    ("mariadb", "10.4", "2025-02-28"),
    ("mariadb", "10.5", "2026-08-31"),
    ("mariadb", "10.6", "2026-12-31"),
    ("mariadb", "10.11", "2028-02-29"),
    ("mariadb", "11.4", "2029-05-31"),
    ("oracle", "19", "2029-12-31"),
    ("oracle", "21", "2027-07-31"),
    // SQL Server 2016, 2017, 2019 and 2022 (13.00 … 16.00).
    ("sqlserver", "13", "2026-07-14"),
    ("sqlserver", "14", "2027-10-12"),
    ("sqlserver", "15", "2030-01-08"),
    ("sqlserver", "16", "2033-01-11"),
    ("db2", "11.5", "2027-04-30"),
];

/// The table's name for an engine: Oracle, SQL Server and Db2 editions share one line
/// (`oracle-ee-cdb` is `oracle`).
fn family(engine: &str) -> &str {
    for f in ["oracle", "sqlserver", "db2"] {
        if engine.starts_with(f) {
            return f;
        }
    }
    engine
}

/// The major version of `version` as `engine` counts it: `16` of PostgreSQL `16.4`, `8.0`
/// of MySQL `8.0.39` and of Aurora MySQL `8.0.mysql_aurora.3.05.2`, `10.11` of MariaDB
/// `10.11.8`, `19` of Oracle `19.0.0.0.ru-2024-07.rur-2024-07.r1`, `15` of SQL Server
/// `15.00.4365.2.v1`, `11.5` of Db2 `11.5.9.0.sb00000000.r1`; PostgreSQL before 10 counted
/// two parts (`9.6`).
pub fn major(engine: &str, version: &str) -> Option<String> {
    let mut parts = version.split('.');
    let first = parts.next().filter(|p| !p.is_empty())?;
    let first_n: u32 = first.parse().ok()?;
    let one_part = match family(engine) {
        "postgres" | "aurora-postgresql" => first_n >= 10,
        "oracle" | "sqlserver" => true,
        _ => false,
    };
    if one_part {
        return Some(first_n.to_string());
    }
    let second: u32 = parts.next()?.parse().ok()?;
    Some(format!("{first_n}.{second}"))
}

/// What the table says of `engine`'s `major` on `day`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Support {
    /// In standard support until that day (inclusive).
    Until(Day),
    /// Standard support ended after that day.
    EndedOn(Day),
    /// Older than the oldest major the table lists for the engine, whose standard support
    /// ended after that day: so did this one's.
    Older(Day),
    /// Newer than the newest major the table lists for the engine.
    Newer,
    /// The engine is in the table, this major is not, and is neither older nor newer than
    /// every major listed.
    UnknownMajor,
    /// The engine is not in the table.
    UnknownEngine,
}

/// Orders majors written as `16` or `10.11`.
fn key(major: &str) -> Vec<u32> {
    major.split('.').filter_map(|p| p.parse().ok()).collect()
}

pub fn support(engine: &str, major: &str, day: Day) -> Support {
    let f = family(engine);
    let rows: Vec<&(&str, &str, &str)> = STANDARD_SUPPORT.iter().filter(|r| r.0 == f).collect();
    if rows.is_empty() {
        return Support::UnknownEngine;
    }
    if let Some(row) = rows.iter().find(|r| r.1 == major) {
        let end = Day::parse(row.2).expect("the table's dates are valid");
        return if day <= end {
            Support::Until(end)
        } else {
            Support::EndedOn(end)
        };
    }
    let newest = rows.iter().map(|r| key(r.1)).max().unwrap_or_default();
    let oldest = rows
        .iter()
        .min_by_key(|r| key(r.1))
        .expect("rows are not empty");
    if key(major) > newest {
        Support::Newer
    } else if key(major) < key(oldest.1) {
        Support::Older(Day::parse(oldest.2).expect("the table's dates are valid"))
    } else {
        Support::UnknownMajor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors_as_each_engine_counts_them() {
        for (engine, version, want) in [
            ("postgres", "16.4", "16"),
            ("postgres", "9.6.22", "9.6"),
            ("aurora-postgresql", "15.4", "15"),
            ("mysql", "8.0.39", "8.0"),
            ("aurora-mysql", "8.0.mysql_aurora.3.05.2", "8.0"),
            ("aurora-mysql", "5.7.mysql_aurora.2.12.1", "5.7"),
            ("mariadb", "10.11.8", "10.11"),
            ("oracle-ee", "19.0.0.0.ru-2024-07.rur-2024-07.r1", "19"),
            ("sqlserver-se", "15.00.4365.2.v1", "15"),
            ("db2-se", "11.5.9.0.sb00000000.r1", "11.5"),
        ] {
            assert_eq!(
                major(engine, version).as_deref(),
                Some(want),
                "{engine} {version}"
            );
        }
        assert_eq!(major("postgres", "latest"), None);
    }

    #[test]
    fn support_by_the_day() {
        let day = |s| Day::parse(s).unwrap();
        assert_eq!(
            support("mysql", "8.0", day("2026-07-31")),
            Support::Until(day("2026-07-31"))
        );
        assert_eq!(
            support("mysql", "8.0", day("2026-08-01")),
            Support::EndedOn(day("2026-07-31"))
        );
        assert_eq!(
            support("oracle-se2-cdb", "19", day("2026-12-03")),
            Support::Until(day("2029-12-31"))
        );
        assert_eq!(support("postgres", "19", day("2026-12-03")), Support::Newer);
        assert_eq!(
            support("postgres", "9.6", day("2026-12-03")),
            Support::Older(day("2024-02-29"))
        );
        assert_eq!(
            support("mariadb", "10.7", day("2026-12-03")),
            Support::UnknownMajor
        );
        assert_eq!(
            support("docdb", "5.0", day("2026-12-03")),
            Support::UnknownEngine
        );
    }
}
