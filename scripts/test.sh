#!/usr/bin/env bash
# The whole test suite: unit tests, and the integration tests against the AWS emulator
# (moto's server mode) and in-process servers, all on loopback. Lints are .ci/run's.
#
#   scripts/test.sh            # everything
#   scripts/test.sh NAME       # only tests whose name contains NAME (cargo test filter)
#
# Environment:
#   CARGO_TARGET_DIR       reuse a target directory kept outside the clone (CI caches it)
#   INFRAVERIFY_VENV       where the moto virtualenv lives (default: a cache directory)
#   INFRAVERIFY_SCHEMAS    another directory with the JUnit XSD and SARIF schema (default:
#                          the copies in tests/schemas)
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/emulator.sh
. scripts/emulator.sh

# 1. The emulator, the report validators and the browser.
ensure_venv
ensure_sarif_multitool
ensure_chromium

# 2. Build the tests before starting the emulator, so it does not idle through a build.
log "building tests"
cargo test --no-run --quiet

# 3. The emulator on a free loopback port, stopped on exit.
start_moto

# 4. Every test: unit tests, the integration binary, doc tests.
log "cargo test"
cargo test -- "$@"
