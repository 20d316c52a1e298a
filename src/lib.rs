//! infraverify: verifies live AWS infrastructure against an operations checklist.
//!
//! Pipeline: [`policy`] (parse, validate) → [`collect`] (the only code that touches AWS) →
//! [`inventory`] (the SDK-free snapshot) → [`engine`] and [`rules`] (pure) → [`report`].

pub mod accounts;
pub mod app;
pub mod baseline;
pub mod checklist;
pub mod cli;
pub mod collect;
pub mod engine;
pub mod evidence;
pub mod finding;
pub mod glob;
pub mod iam_eval;
pub mod input;
pub mod inventory;
pub mod policy;
pub mod progress;
pub mod report;
pub mod rules;
