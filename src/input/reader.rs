//! Typed reading of spanned TOML tables: every value is checked for type and range, every
//! key not read is reported as unknown, and every problem points at file:line:column.

use std::cell::RefCell;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::diag::{closest, Diagnostic};
use crate::finding::Severity;
use crate::inventory::Day;

pub type Value<'i> = Spanned<DeValue<'i>>;

/// One policy file being read; collects diagnostics as readers find problems.
pub struct TomlFile<'a> {
    pub file: &'a str,
    pub text: &'a str,
    diags: RefCell<Vec<Diagnostic>>,
}

impl<'a> TomlFile<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        TomlFile {
            file,
            text,
            diags: RefCell::new(Vec::new()),
        }
    }

    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at(self.file, self.text, span, message)
    }

    pub fn push(&self, d: Diagnostic) {
        self.diags.borrow_mut().push(d);
    }

    pub fn line(&self, span: &Range<usize>) -> u32 {
        super::diag::locate(self.text, span.start).0
    }

    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diags.into_inner()
    }
}

/// What TOML calls the value's type, for messages.
pub fn type_of(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Reads the keys of one table. Call [`TableReader::finish`] when done: it reports every
/// key that was never asked for.
pub struct TableReader<'s, 'i> {
    pub src: &'s TomlFile<'s>,
    table: &'s DeTable<'i>,
    /// Where the table is, for messages: `[rules.rds-multi-az-disabled]`.
    pub path: String,
    known: Vec<&'static str>,
}

impl<'s, 'i> TableReader<'s, 'i> {
    pub fn new(src: &'s TomlFile<'s>, table: &'s DeTable<'i>, path: impl Into<String>) -> Self {
        TableReader {
            src,
            table,
            path: path.into(),
            known: Vec::new(),
        }
    }

    /// The raw value of `key`, marking the key as known.
    pub fn value(&mut self, key: &'static str) -> Option<&'s Value<'i>> {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
        self.table.get(key)
    }

    /// `key` parsed as `T`, or `None` if absent or invalid (invalid is reported).
    pub fn optional<T: FromToml>(&mut self, key: &'static str) -> Option<T> {
        let v = self.value(key)?;
        match T::from_toml(v, self.src) {
            Ok(t) => Some(t),
            Err(d) => {
                self.src.push(d.named(key));
                None
            }
        }
    }

    /// `key` parsed as `T`, or `default` if absent (or invalid, which is reported).
    pub fn get<T: FromToml>(&mut self, key: &'static str, default: T) -> T {
        self.optional(key).unwrap_or(default)
    }

    /// Reports `check`'s complaint about `value` at `key`'s position, if `key` was set.
    pub fn check<T>(
        &mut self,
        key: &'static str,
        value: T,
        check: impl Fn(&T) -> Result<(), String>,
    ) -> T {
        if let Err(why) = check(&value) {
            if let Some(v) = self.table.get(key) {
                self.src
                    .push(self.src.error(v.span(), format!("invalid `{key}`: {why}")));
            }
        }
        value
    }

    /// The 1-based line of `key`, if it is set.
    pub fn line_of(&self, key: &str) -> Option<u32> {
        self.table
            .get_key_value(key)
            .map(|(k, _)| self.src.line(&k.span()))
    }

    /// Every key that is set, with its line.
    pub fn key_lines(&self) -> Vec<(String, u32)> {
        self.table
            .iter()
            .map(|(k, _)| (k.get_ref().to_string(), self.src.line(&k.span())))
            .collect()
    }

    /// Reports every key that was not read, with the closest known key as a hint.
    pub fn finish(self) {
        for (k, _) in self.table.iter() {
            let key: &str = k.get_ref();
            if self.known.contains(&key) {
                continue;
            }
            let help = match closest(key, self.known.iter().copied()) {
                Some(c) => Some(format!("did you mean `{c}`?")),
                None if self.known.is_empty() => Some(format!("{} takes no keys", self.path)),
                None => {
                    let mut keys = self.known.clone();
                    keys.sort();
                    Some(format!("known keys: {}", keys.join(", ")))
                }
            };
            self.src.push(
                self.src
                    .error(k.span(), format!("unknown key `{key}` in {}", self.path))
                    .with_help(help),
            );
        }
    }
}

/// A diagnostic about a value, before it knows which key it belongs to.
pub struct ValueError {
    diag: Diagnostic,
    /// Whether the message still needs the key's name put in front.
    unnamed: bool,
}

impl ValueError {
    pub fn new(src: &TomlFile<'_>, span: Range<usize>, message: impl Into<String>) -> Self {
        ValueError {
            diag: src.error(span, message),
            unnamed: true,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.diag.help = Some(help.into());
        self
    }

    fn named(mut self, key: &str) -> Diagnostic {
        if self.unnamed {
            self.diag.message = format!("`{key}` {}", self.diag.message);
        }
        self.diag
    }
}

/// A type a policy value can be read as. `TYPE` reads in messages ("must be {TYPE}").
pub trait FromToml: Sized {
    const TYPE: &'static str;
    fn from_toml(v: &Value<'_>, src: &TomlFile<'_>) -> Result<Self, ValueError>;

    /// How the value is written in TOML, for documentation of defaults.
    fn to_toml(&self) -> String;
}

fn mismatch<T: FromToml>(v: &Value<'_>, src: &TomlFile<'_>) -> ValueError {
    ValueError::new(
        src,
        v.span(),
        format!("must be {}, found {}", T::TYPE, type_of(v.get_ref())),
    )
}

fn integer(v: &Value<'_>) -> Option<i128> {
    match v.get_ref() {
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

macro_rules! int_from_toml {
    ($($t:ty => $name:literal),*) => {$(
        impl FromToml for $t {
            const TYPE: &'static str = $name;
            fn from_toml(v: &Value<'_>, src: &TomlFile<'_>) -> Result<Self, ValueError> {
                let i = integer(v).ok_or_else(|| mismatch::<Self>(v, src))?;
                <$t>::try_from(i).map_err(|_| {
                    ValueError::new(src, v.span(), format!(
                        "must be {} between {} and {}, found {i}", $name, <$t>::MIN, <$t>::MAX))
                })
            }
            fn to_toml(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

int_from_toml!(u16 => "an integer", u32 => "an integer", i64 => "an integer");

impl FromToml for bool {
    const TYPE: &'static str = "a boolean";
    fn from_toml(v: &Value<'_>, src: &TomlFile<'_>) -> Result<Self, ValueError> {
        v.get_ref()
            .as_bool()
            .ok_or_else(|| mismatch::<Self>(v, src))
    }
    fn to_toml(&self) -> String {
        self.to_string()
    }
}

impl FromToml for String {
    const TYPE: &'static str = "a string";
    fn from_toml(v: &Value<'_>, src: &TomlFile<'_>) -> Result<Self, ValueError> {
        v.get_ref()
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| mismatch::<Self>(v, src))
    }
    fn to_toml(&self) -> String {
        format!("{self:?}")
    }
}

impl<T: FromToml> FromToml for Vec<T> {
    const TYPE: &'static str = "an array";
    fn from_toml(v: &Value<'_>, src: &TomlFile<'_>) -> Result<Self, ValueError> {
        match v.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .map(|item| T::from_toml(item, src).map_err(|e| e.prefixed("each element")))
                .collect(),
            _ => Err(mismatch::<Self>(v, src)),
        }
    }
    fn to_toml(&self) -> String {
        let items: Vec<String> = self.iter().map(FromToml::to_toml).collect();
        format!("[{}]", items.join(", "))
    }
}

impl<T: FromToml> FromToml for Option<T> {
    const TYPE: &'static str = T::TYPE;
    fn from_toml(v: &Value<'_>, src: &TomlFile<'_>) -> Result<Self, ValueError> {
        T::from_toml(v, src).map(Some)
    }
    fn to_toml(&self) -> String {
        match self {
            Some(v) => v.to_toml(),
            None => "(not set)".to_string(),
        }
    }
}

impl ValueError {
    fn prefixed(mut self, what: &str) -> Self {
        if self.unnamed {
            self.diag.message = format!("{what} {}", self.diag.message);
            self.unnamed = true;
        }
        self
    }
}

impl FromToml for Severity {
    const TYPE: &'static str = "a severity (info, low, medium, high, critical)";
    fn from_toml(v: &Value<'_>, src: &TomlFile<'_>) -> Result<Self, ValueError> {
        let s = v
            .get_ref()
            .as_str()
            .ok_or_else(|| mismatch::<Self>(v, src))?;
        Severity::parse(s).ok_or_else(|| {
            let names = Severity::ALL.map(|s| s.as_str());
            let e = ValueError::new(
                src,
                v.span(),
                format!("must be one of info, low, medium, high, critical, found {s:?}"),
            );
            match closest(s, names) {
                Some(c) => e.help(format!("did you mean {c:?}?")),
                None => e,
            }
        })
    }
    fn to_toml(&self) -> String {
        format!("{:?}", self.as_str())
    }
}

impl FromToml for Day {
    const TYPE: &'static str = "a date (YYYY-MM-DD)";
    fn from_toml(v: &Value<'_>, src: &TomlFile<'_>) -> Result<Self, ValueError> {
        let text = match v.get_ref() {
            DeValue::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
                .date
                .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)),
            DeValue::String(s) => Some(s.to_string()),
            _ => None,
        };
        text.as_deref()
            .and_then(Day::parse)
            .ok_or_else(|| mismatch::<Self>(v, src))
    }
    fn to_toml(&self) -> String {
        self.to_string()
    }
}

/// Reads `v` as a table, for types made of several keys.
pub fn as_table<'s, 'i>(
    v: &'s Value<'i>,
    src: &TomlFile<'_>,
    ty: &str,
) -> Result<&'s DeTable<'i>, ValueError> {
    match v.get_ref() {
        DeValue::Table(t) => Ok(t),
        other => Err(ValueError::new(
            src,
            v.span(),
            format!("must be {ty}, found {}", type_of(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<T: FromToml>(text: &str) -> (Option<T>, Vec<Diagnostic>) {
        let doc = DeTable::parse(text).unwrap();
        let src = TomlFile::new("t.toml", text);
        let mut r = TableReader::new(&src, doc.get_ref(), "[t]");
        let v = r.optional::<T>("k");
        r.finish();
        (v, src.into_diagnostics())
    }

    #[test]
    fn reads_typed_values() {
        assert_eq!(read::<u32>("k = 30").0, Some(30));
        assert_eq!(read::<u32>("k = 0x1f").0, Some(31));
        assert_eq!(read::<Vec<u16>>("k = [80, 443]").0, Some(vec![80, 443]));
        assert_eq!(read::<Severity>("k = \"high\"").0, Some(Severity::High));
    }

    #[test]
    fn a_wrong_type_names_key_type_and_position() {
        let (v, d) = read::<u32>("\nk = \"30\"");
        assert_eq!(v, None);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].message, "`k` must be an integer, found a string");
        assert_eq!((d[0].line, d[0].column), (2, 5));
    }

    #[test]
    fn out_of_range_and_bad_elements_are_reported() {
        let (_, d) = read::<u16>("k = 70000");
        assert!(d[0].message.contains("between 0 and 65535"), "{:?}", d);
        let (_, d) = read::<Vec<u16>>("k = [80, \"443\"]");
        assert_eq!(
            d[0].message,
            "`k` each element must be an integer, found a string"
        );
        assert_eq!(d[0].column, 10);
    }

    #[test]
    fn unknown_keys_get_the_closest_known_key() {
        let text = "k = 1\nkk = 2\nzzzzzz = 3";
        let doc = DeTable::parse(text).unwrap();
        let src = TomlFile::new("t.toml", text);
        let mut r = TableReader::new(&src, doc.get_ref(), "[t]");
        let _ = r.optional::<u32>("k");
        let _ = r.optional::<u32>("kkk");
        r.finish();
        let d = src.into_diagnostics();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].message, "unknown key `kk` in [t]");
        assert_eq!(d[0].help.as_deref(), Some("did you mean `k`?"));
        assert_eq!(d[1].line, 3);
        assert_eq!(d[1].help.as_deref(), Some("known keys: k, kkk"));
    }

    #[test]
    fn dates_read_from_toml_dates_and_strings() {
        assert_eq!(
            read::<Day>("k = 2026-12-31").0.unwrap().to_string(),
            "2026-12-31"
        );
        assert_eq!(
            read::<Day>("k = \"2026-03-02\"").0.unwrap().to_string(),
            "2026-03-02"
        );
        let (v, d) = read::<Day>("k = \"2026-02-30\"");
        assert!(v.is_none());
        assert_eq!(
            d[0].message,
            "`k` must be a date (YYYY-MM-DD), found a string"
        );
        assert!(read::<Day>("k = 2026-12-31T10:00:00Z").0.is_none());
    }

    #[test]
    fn severity_typo_is_suggested() {
        let (_, d) = read::<Severity>("k = \"hihg\"");
        assert_eq!(d[0].help.as_deref(), Some("did you mean \"high\"?"));
    }
}
