#!/usr/bin/env bash
# Speed and memory at scale, against the emulator (a benchmark: it prints figures and
# asserts nothing).
#
#   scripts/bench.sh                 # N = 0, 20, 100 with the release build
#   scripts/bench.sh 0 20            # other scales
#
# For each scale N it resets the emulator and seeds one region with N x 10 security groups,
# N DB instances, N ACM certificates and N load balancers (each with an HTTP listener), then
# prints the scan's wall time, its peak RSS, the API calls per operation, and the floor: the
# same scan with one call in flight at a time (--concurrency 1), which is what the emulator,
# answering roughly one call at a time, needs to serve that set of reads.
#
# Environment: INFRAVERIFY_BENCH_PROFILE (default release; "dev" builds faster and runs
# slower), CARGO_TARGET_DIR, INFRAVERIFY_VENV as for scripts/test.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/emulator.sh
. scripts/emulator.sh

profile="${INFRAVERIFY_BENCH_PROFILE:-release}"
ensure_venv
log "cargo build --profile $profile"
cargo build --profile "$profile" --quiet --bin infraverify
dir="${CARGO_TARGET_DIR:-target}/$([ "$profile" = dev ] && echo debug || echo "$profile")"
start_moto
"$venv/bin/python" scripts/bench.py "$INFRAVERIFY_TEST_ENDPOINT" "$dir/infraverify" "$profile" "${@:-0 20 100}"
