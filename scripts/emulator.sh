# Sourced by scripts/test.sh and scripts/bench.sh: the pinned emulator in its own
# virtualenv, and a moto server on a free loopback port that stops with the shell.
#
#   ensure_venv        creates (or reuses) "$venv"
#   ensure_sarif_multitool, ensure_chromium   the report consumers the tests run
#   start_moto         starts moto_server, exports INFRAVERIFY_TEST_ENDPOINT/_PYTHON

MOTO_VERSION=5.2.5
# The emulator, and the independent readers that check our reports: the JUnit XSD and
# SARIF schema validators and a real JUnit consumer (PyYAML and jsonschema come with moto).
REQUIREMENTS="moto[server]==$MOTO_VERSION xmlschema==4.3.2 junitparser==5.0.3"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/infraverify"
req_hash=$(printf '%s' "$REQUIREMENTS" | sha256sum | cut -c1-12)
venv="${INFRAVERIFY_VENV:-$cache/venv-$req_hash}"
python="${PYTHON:-python3}"

log() { printf '==> %s\n' "$*" >&2; }

# The emulator and the report validators, pinned, in their own virtualenv (reused when it
# was completed for the same requirements).
ensure_venv() {
  if [ ! -f "$venv/.complete" ]; then
    log "creating virtualenv at $venv: $REQUIREMENTS"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --disable-pip-version-check $REQUIREMENTS
    touch "$venv/.complete"
  fi
}

# GitHub's SARIF ingestion rules, as Microsoft's SARIF Multitool checks them (`validate
# --rule-kind "Gh;Ghas"`), pinned, from the npm registry; exports INFRAVERIFY_SARIF_MULTITOOL.
SARIF_MULTITOOL_VERSION=5.7.0
ensure_sarif_multitool() {
  local dir="$cache/sarif-multitool-$SARIF_MULTITOOL_VERSION"
  local bin="$dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
  if [ ! -f "$dir/.complete" ]; then
    log "installing @microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
      "@microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION" >&2
    # npm does not run the package's install script that marks the binary executable.
    chmod u+x "$bin"
    touch "$dir/.complete"
  fi
  export INFRAVERIFY_SARIF_MULTITOOL="$bin"
  # A self-contained .NET program: no ICU needed for what it does.
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
}

# Debian's Chromium and ChromeDriver, for the report.html tests (a browser from the
# distribution: a test tool's own browser download needs the open internet). Installed with
# apt-get when missing (as root, or through sudo); exports INFRAVERIFY_CHROMIUM and
# INFRAVERIFY_CHROMEDRIVER.
ensure_chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "installing Debian's chromium and chromium-driver"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      chromium chromium-driver >&2
  fi
  INFRAVERIFY_CHROMIUM="$(command -v chromium)"
  INFRAVERIFY_CHROMEDRIVER="$(command -v chromedriver)"
  export INFRAVERIFY_CHROMIUM INFRAVERIFY_CHROMEDRIVER
}

# moto on a free loopback port; exactly that process is stopped on exit.
start_moto() {
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  moto_log="$(mktemp "${TMPDIR:-/tmp}/infraverify-moto.XXXXXX")"
  MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ACM_VALIDATION_WAIT=0 MOTO_EC2_LOAD_DEFAULT_AMIS=false \
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$moto_log" 2>&1 &
  moto_pid=$!
  trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -f "$moto_log"' EXIT

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
  export INFRAVERIFY_TEST_ENDPOINT="http://127.0.0.1:$port"
  export INFRAVERIFY_TEST_PYTHON="$venv/bin/python"
}
