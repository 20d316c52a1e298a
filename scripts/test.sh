#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit tests, and the integration tests against the
# AWS emulator (moto's server mode) and in-process servers, all on loopback.
#
#   scripts/test.sh            # everything
#   scripts/test.sh NAME       # only tests whose name contains NAME (cargo test filter)
#
# Environment:
#   CARGO_TARGET_DIR       reuse a target directory kept outside the clone (CI caches it)
#   INFRAVERIFY_VENV       where the moto virtualenv lives (default: a cache directory)
#   INFRAVERIFY_SKIP_LINT  set to 1 to skip cargo fmt --check and clippy
#   INFRAVERIFY_SCHEMAS    the official JUnit XSD / SARIF schema directory
#                          (default: ../shared/schemas beside the checkout)
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/emulator.sh
. scripts/emulator.sh

# 1. The emulator and the report validators.
ensure_venv

# 2. Lints (cheap compared with the build; CI runs them too).
if [ "${INFRAVERIFY_SKIP_LINT:-0}" != 1 ]; then
  log "cargo fmt --check"
  cargo fmt --check
  log "cargo clippy"
  cargo clippy --all-targets --quiet -- -D warnings
fi

# 3. Build the tests before starting the emulator, so it does not idle through a build.
log "building tests"
cargo test --no-run --quiet

# 4. The emulator on a free loopback port, stopped on exit.
start_moto

# 5. Every test: unit tests, the integration binary, doc tests.
log "cargo test"
cargo test -- "$@"
