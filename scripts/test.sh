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

MOTO_VERSION=5.2.5
# The emulator, and the independent readers that check our reports: the JUnit XSD and
# SARIF schema validators and a real JUnit consumer (PyYAML and jsonschema come with moto).
REQUIREMENTS="moto[server]==$MOTO_VERSION xmlschema==4.3.2 junitparser==5.0.3"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/infraverify"
req_hash=$(printf '%s' "$REQUIREMENTS" | sha256sum | cut -c1-12)
venv="${INFRAVERIFY_VENV:-$cache/venv-$req_hash}"
python="${PYTHON:-python3}"

log() { printf '==> %s\n' "$*" >&2; }

# 1. The emulator and the report validators, pinned, in their own virtualenv (reused when
#    it was completed for the same requirements).
if [ ! -f "$venv/.complete" ]; then
  log "creating virtualenv at $venv: $REQUIREMENTS"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check $REQUIREMENTS
  touch "$venv/.complete"
fi

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

# 4. Start moto on a free loopback port; stop exactly that process on exit.
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_log="$(mktemp "${TMPDIR:-/tmp}/infraverify-moto.XXXXXX")"
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ACM_VALIDATION_WAIT=0 MOTO_EC2_LOAD_DEFAULT_AMIS=false \
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$moto_log" 2>&1 &
moto_pid=$!
cleanup() {
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  rm -f "$moto_log"
}
trap cleanup EXIT

for _ in $(seq 1 200); do
  if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then
    log "moto_server exited:"; cat "$moto_log" >&2; exit 1
  fi
  sleep 0.1
done
log "moto $MOTO_VERSION listening on 127.0.0.1:$port (pid $moto_pid)"

# 5. Every test: unit tests, the integration binary, doc tests.
export INFRAVERIFY_TEST_ENDPOINT="http://127.0.0.1:$port"
export INFRAVERIFY_TEST_PYTHON="$venv/bin/python"
log "cargo test"
cargo test -- "$@"
