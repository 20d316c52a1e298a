//! Reading what a user writes in TOML (policy files): typed reading of spanned tables, and
//! diagnostics that point at file:line:column. A leaf: it knows nothing of rules or AWS.

pub mod diag;
pub mod reader;

pub use diag::{Diagnostic, Diagnostics};
