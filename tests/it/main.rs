//! The integration tests: one binary, so the AWS SDK is linked once.
//!
//! Tests that need the AWS emulator read its address from `INFRAVERIFY_TEST_ENDPOINT`,
//! which `scripts/test.sh` sets after starting moto on a free loopback port. Each such
//! test seeds its own region, so tests run in parallel without seeing each other.

mod browser;
mod cli;
mod edge;
mod emulator;
mod evidence;
mod example;
mod faults;
mod fleet;
mod proxy;
mod readonly;
mod replay;
mod reports;
mod robustness;
mod seed;
mod servers;
mod shapes;
mod support;
mod team;
mod trust;
