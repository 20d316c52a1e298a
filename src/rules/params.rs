//! Rule parameters: each rule's typed `Params` struct is declared once with
//! [`rule_params!`](crate::rule_params), which gives it its defaults (the only place a
//! threshold's default lives), its reader (typed, range-checked, unknown keys refused)
//! and its documentation (printed by `infraverify explain`).

use std::fmt::Display;

use crate::input::reader::TableReader;

/// One documented parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamDoc {
    pub key: &'static str,
    pub ty: &'static str,
    /// The default, written as TOML.
    pub default: String,
    pub doc: String,
}

pub trait RuleParams: Sized + Send + Sync + 'static {
    /// The keys a policy may set, as written there (`min-days`).
    const KEYS: &'static [&'static str];
    /// Reads the parameters from a rule's table; problems are reported to the reader.
    fn read(r: &mut TableReader<'_, '_>) -> Self;
    fn docs() -> Vec<ParamDoc>;
}

/// Declares a rule's parameters:
///
/// ```ignore
/// rule_params! {
///     pub(crate) struct Params {
///         /// Minimum number of days automated backups are kept.
///         "min-days" => min_days: u32 = 30, check = in_range(1, 35);
///     }
/// }
/// ```
#[macro_export]
macro_rules! rule_params {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])+
                $key:literal => $field:ident : $ty:ty = $default:expr $(, check = $check:expr)? ;
            )*
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq)]
        $vis struct $name {
            $( $(#[doc = $doc])+ pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $crate::rules::params::RuleParams for $name {
            const KEYS: &'static [&'static str] = &[$($key),*];

            #[allow(unused_variables, unused_mut)]
            fn read(r: &mut $crate::input::reader::TableReader<'_, '_>) -> Self {
                let d = Self::default();
                Self {
                    $( $field: {
                        let v: $ty = r.get($key, d.$field);
                        $( let v = r.check($key, v, $check); )?
                        v
                    }, )*
                }
            }

            #[allow(unused_variables)]
            fn docs() -> Vec<$crate::rules::params::ParamDoc> {
                let d = Self::default();
                vec![ $( $crate::rules::params::ParamDoc {
                    key: $key,
                    ty: <$ty as $crate::input::reader::FromToml>::TYPE,
                    default: $crate::input::reader::FromToml::to_toml(&d.$field),
                    doc: [$($doc),+].iter().map(|l| l.trim()).collect::<Vec<_>>().join(" "),
                }, )* ]
            }
        }
    };
}

/// A host name as the edge rules take it: a full name (`app.example.com`), a label under
/// the policy's domain (`app`), or `@` for the domain itself.
#[allow(clippy::ptr_arg)]
pub fn host_name(s: &String) -> Result<(), String> {
    let n = s.trim_end_matches('.');
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if n == "@" || (n.len() <= 253 && n.split('.').all(label_ok)) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a host name such as \"app\" (under the policy's domain), \"@\" (the domain) or \"app.example.com\""
        ))
    }
}

/// [`host_name`] for each of a list.
#[allow(clippy::ptr_arg)]
pub fn host_names(v: &Vec<String>) -> Result<(), String> {
    v.iter().try_for_each(host_name)
}

/// A non-empty list of [`host_name`]s.
pub fn host_list(v: &Vec<String>) -> Result<(), String> {
    non_empty(v)?;
    host_names(v)
}

/// A URL path: starts with `/`, no spaces.
#[allow(clippy::ptr_arg)]
pub fn url_path(s: &String) -> Result<(), String> {
    if s.starts_with('/') && !s.chars().any(|c| c.is_whitespace() || c == '#') {
        Ok(())
    } else {
        Err(format!("{s:?} is not a URL path such as \"/api/health\""))
    }
}

/// A TLS version as AWS and the probes name it.
#[allow(clippy::ptr_arg)]
pub fn tls_version(s: &String) -> Result<(), String> {
    match s.as_str() {
        "TLSv1.2" | "TLSv1.3" => Ok(()),
        _ => Err(format!("{s:?} is not \"TLSv1.2\" or \"TLSv1.3\"")),
    }
}

/// A check that a number lies in `lo..=hi`.
pub fn in_range<T: PartialOrd + Display + Copy>(lo: T, hi: T) -> impl Fn(&T) -> Result<(), String> {
    move |v| {
        if *v < lo || *v > hi {
            Err(format!("must be between {lo} and {hi}, found {v}"))
        } else {
            Ok(())
        }
    }
}

/// A check that a list is not empty. (Checks take `&T` of the parameter's own type,
/// hence `&Vec`.)
#[allow(clippy::ptr_arg)]
pub fn non_empty<T>(v: &Vec<T>) -> Result<(), String> {
    if v.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(())
    }
}

/// A check that a string is an IPv4 CIDR block such as `10.0.0.0/16`.
#[allow(clippy::ptr_arg)]
pub fn ipv4_cidr(v: &String) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "{v:?} is not an IPv4 CIDR block such as \"10.0.0.0/16\""
        ))
    };
    let Some((addr, len)) = v.split_once('/') else {
        return bad();
    };
    let Ok(addr) = addr.parse::<std::net::Ipv4Addr>() else {
        return bad();
    };
    let Ok(len) = len.parse::<u8>() else {
        return bad();
    };
    if len > 32 {
        return bad();
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    if u32::from(addr) & !mask != 0 {
        return Err(format!(
            "{v:?} has host bits set; the network is \"{}/{len}\"",
            std::net::Ipv4Addr::from(u32::from(addr) & mask)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::reader::TomlFile;
    use toml::de::DeTable;

    crate::rule_params! {
        struct Demo {
            /// Minimum days.
            /// Second line.
            "min-days" => min_days: u32 = 30, check = in_range(1, 35);
            /// Ports.
            "ports" => ports: Vec<u16> = vec![80, 443], check = non_empty;
        }
    }

    fn read(text: &str) -> (Demo, Vec<String>) {
        let doc = DeTable::parse(text).unwrap();
        let src = TomlFile::new("t.toml", text);
        let mut r = TableReader::new(&src, doc.get_ref(), "[rules.demo]");
        let p = Demo::read(&mut r);
        r.finish();
        (
            p,
            src.into_diagnostics()
                .into_iter()
                .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
                .collect(),
        )
    }

    #[test]
    fn defaults_fill_what_the_policy_leaves_out() {
        let (p, d) = read("ports = [443]");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            p,
            Demo {
                min_days: 30,
                ports: vec![443]
            }
        );
    }

    #[test]
    fn checks_report_at_the_value() {
        let (_, d) = read("min-days = 90\nports = []");
        assert_eq!(
            d,
            vec![
                "1:12 invalid `min-days`: must be between 1 and 35, found 90",
                "2:9 invalid `ports`: must not be empty"
            ]
        );
    }

    #[test]
    fn the_key_list_is_every_key_in_order() {
        assert_eq!(Demo::KEYS, ["min-days", "ports"]);
    }

    #[test]
    fn docs_print_defaults_from_the_one_place() {
        let docs = Demo::docs();
        assert_eq!(docs[0].key, "min-days");
        assert_eq!(docs[0].default, "30");
        assert_eq!(docs[0].doc, "Minimum days. Second line.");
        assert_eq!(docs[1].default, "[80, 443]");
    }

    #[test]
    fn cidr_check_wants_a_network_address() {
        assert!(ipv4_cidr(&"10.0.0.0/16".into()).is_ok());
        assert!(ipv4_cidr(&"10.0.1.0/16".into())
            .unwrap_err()
            .contains("10.0.0.0/16"));
        assert!(ipv4_cidr(&"10.0.0.0".into()).is_err());
        assert!(ipv4_cidr(&"10.0.0.0/33".into()).is_err());
    }
}
