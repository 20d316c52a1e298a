//! Policy diagnostics: an error with file, line and column, rendered like a compiler's.

use std::fmt;
use std::ops::Range;

/// One problem in a policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    pub message: String,
    /// The source line the problem is on, and how many characters to underline.
    pub snippet: Option<(String, usize)>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `span` (byte offsets) of `text`.
    pub fn at(file: &str, text: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let (line, column, line_text) = locate(text, span.start);
        let width = text
            .get(span.clone())
            .map(|s| s.lines().next().unwrap_or("").chars().count())
            .unwrap_or(1)
            .max(1);
        Diagnostic {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            snippet: Some((line_text, width)),
            help: None,
        }
    }

    pub fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

/// 1-based line and column of byte `offset` in `text`, and that line's text.
pub fn locate(text: &str, offset: usize) -> (u32, u32, String) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() as u32 + 1;
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    (
        line,
        column,
        text[line_start..line_end]
            .trim_end_matches('\r')
            .to_string(),
    )
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        let gutter = self.line.to_string().len();
        writeln!(
            f,
            "{:gutter$}--> {}:{}:{}",
            "", self.file, self.line, self.column
        )?;
        if let Some((text, width)) = &self.snippet {
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{} | {}", self.line, text)?;
            let pad: String = text
                .chars()
                .take(self.column.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{:gutter$} | {}{}", "", pad, "^".repeat(*width))?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "{:gutter$} = help: {}", "", help)?;
        }
        Ok(())
    }
}

/// Every problem found in the policy files; loading stops before any network call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(
            f,
            "\n{n} error{} in policy; nothing was evaluated",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let limit = (word.chars().count() / 3).max(2);
    let near = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c);
    // A truncated id (`rds-multi-az` for `rds-multi-az-disabled`): the shortest completion.
    near.or_else(|| {
        (word.len() >= 4)
            .then(|| {
                candidates
                    .iter()
                    .filter(|c| c.starts_with(word))
                    .min_by_key(|c| c.len())
                    .copied()
            })
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_line_and_column_in_characters() {
        let text = "a = 1\n[rules.x]\n  ü = 2\n";
        assert_eq!(locate(text, 0), (1, 1, "a = 1".into()));
        let off = text.find("x]").unwrap();
        assert_eq!(locate(text, off), (2, 8, "[rules.x]".into()));
        let off = text.find("= 2").unwrap();
        assert_eq!(locate(text, off).1, 5);
    }

    #[test]
    fn renders_like_a_compiler() {
        let text = "[rules.rds-multi-az]\n";
        let d = Diagnostic::at("p.toml", text, 7..19, "unknown rule `rds-multi-az`")
            .with_help(Some("did you mean `rds-multi-az-disabled`?".into()));
        let s = d.to_string();
        assert!(s.contains("--> p.toml:1:8"), "{s}");
        assert!(s.contains("1 | [rules.rds-multi-az]"), "{s}");
        assert!(s.contains("  |        ^^^^^^^^^^^^"), "{s}");
        assert!(s.contains("= help: did you mean"), "{s}");
    }

    #[test]
    fn suggests_only_near_misses() {
        let c = ["rds-multi-az-disabled", "sg-open-to-world"];
        assert_eq!(
            closest("rds-multi-az-disable", c),
            Some("rds-multi-az-disabled")
        );
        assert_eq!(closest("completely-different", c), None);
        assert_eq!(closest("rds-multi-az", c), Some("rds-multi-az-disabled"));
        assert_eq!(closest("rds", c), None, "too short to complete");
    }
}
