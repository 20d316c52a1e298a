#!/usr/bin/env bash
# A fleet at real latency (a benchmark: it prints figures and asserts nothing): K accounts,
# each seeded with a compact LifetimeCircle stack and scanned through AssumeRole, behind a
# proxy that delays every AWS call.
#
#   scripts/bench-fleet.sh               # K = 1, 10, 50, 200 at 40 ms per call
#   scripts/bench-fleet.sh 40 "1 10"     # DELAY_MS, then the scales
#
# Environment: INFRAVERIFY_BENCH_PROFILE (default release), INFRAVERIFY_BENCH_CONCURRENCY
# (default 16), INFRAVERIFY_BENCH_THROTTLE (the share of calls throttled for the second
# table, default 0.1; 0 skips it), CARGO_TARGET_DIR, INFRAVERIFY_VENV as for scripts/test.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/emulator.sh
. scripts/emulator.sh

profile="${INFRAVERIFY_BENCH_PROFILE:-release}"
delay="${1:-40}"
shift || true
ensure_venv
log "cargo build --profile $profile"
cargo build --profile "$profile" --quiet --bin infraverify
dir="${CARGO_TARGET_DIR:-target}/$([ "$profile" = dev ] && echo debug || echo "$profile")"
start_moto
"$venv/bin/python" scripts/bench_fleet.py "$INFRAVERIFY_TEST_ENDPOINT" "$dir/infraverify" "$profile" "$delay" "${@:-1 10 50 200}"
