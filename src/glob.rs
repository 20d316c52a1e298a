//! `*` and `?` wildcards, as policies write resource names and as IAM writes actions and
//! resources.

/// A `*` / `?` wildcard pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob(pub String);

impl Glob {
    pub fn matches(&self, s: &str) -> bool {
        matches(&self.0, s)
    }
}

/// Whether `s` matches the wildcard `pattern`.
pub fn matches(pattern: &str, s: &str) -> bool {
    glob_match(pattern.as_bytes(), s.as_bytes())
}

/// Whether `s` matches any of `patterns`, as a policy's list of names does.
pub fn any_matches(patterns: &[String], s: &str) -> bool {
    patterns.iter().any(|p| matches(p, s))
}

fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_wildcards() {
        assert!(Glob("api*".into()).matches("api-prod"));
        assert!(Glob("*-db".into()).matches("lc-prod-db"));
        assert!(Glob("a?c".into()).matches("abc"));
        assert!(!Glob("api".into()).matches("api-prod"));
        assert!(Glob("*".into()).matches(""));
    }
}
