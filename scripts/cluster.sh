#!/usr/bin/env bash
# A real multi-service Temporal cluster on PostgreSQL, on this machine, from package registries
# only: the engine's production-shaped Temporal (see README "Running on a Temporal cluster").
#
#   npm run cluster -- build    obtain temporal-server + temporal-sql-tool v1.32.2 and the Web UI
#                               server v2.58.1 (go install; cold about 11 min)
#   npm run cluster -- up       PostgreSQL, schema, frontend/history/matching/worker processes,
#                               namespace `default` + the engine's search attributes; waits until
#                               the cluster really serves. Starts only what is not running.
#   npm run cluster -- status   processes (PID, RSS), membership, health; exit 1 when not serving
#   npm run cluster -- down     stop the services and the Web UI (SIGTERM), then PostgreSQL; data kept
#   npm run cluster -- wipe     down, then delete the data dir (and, for the default data dir,
#                               the engine layout's sandbox state, which belongs to that history)
#
# Frontend 127.0.0.1:7833 (namespace default), PostgreSQL 127.0.0.1:55432.
# Environment:
#   CLUSTER_PORT_BASE   frontend gRPC port; the others follow it (default 7833: membership 7834,
#                       history 7835/7836, matching 7837/7838, worker 7839/7840, frontend HTTP
#                       7843, Prometheus 7850-7853)
#   CLUSTER_PG_PORT     PostgreSQL port (default 55432)
#   CLUSTER_DATA_DIR    data dir (default <repo>/.data/cluster: pg/, run/, logs/)
#   ALIPAY_QR_ENGINE_CACHE  binaries cache (default ~/.cache/alipay-qr-engine; here: cluster/)
#   CLUSTER_UI          1 (default): also build and run the Web UI server on port base+27
#                       (http://127.0.0.1:7860); 0: no Web UI
#   TEMPORAL_LOG_LEVEL  the services' log level (default warn)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

TEMPORAL_SERVER_VERSION=v1.32.2
# Server >= 1.30 declares go 1.26.10; the toolchain comes from the Go module proxy.
GO_TOOLCHAIN=go1.27.3
PG_MAJOR=15
# The Web UI server; its pinned echo v4.16.1 and api v1.64.0 are refused (403) by the module
# proxy here, so it is built in a throwaway module that requires newer, served patch releases.
UI_SERVER_VERSION=v2.58.1
UI_REQUIRES=(github.com/labstack/echo/v4@v4.16.4 go.temporal.io/api@v1.64.3)
SERVICES=(frontend history matching worker) # start order; roles 1-4 in cluster_membership

CACHE="${ALIPAY_QR_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alipay-qr-engine}"
TOOLS="$CACHE/cluster/temporal-$TEMPORAL_SERVER_VERSION"
DATA="${CLUSTER_DATA_DIR:-$REPO/.data/cluster}"
PGROOT="$DATA/pg" # owned by the postgres user when run as root
PGDATA="$PGROOT/data"
PGSOCK="$PGROOT/sock"
RUN="$DATA/run"
LOGS="$DATA/logs"

BASE="${CLUSTER_PORT_BASE:-7833}"
export CLUSTER_PG_PORT="${CLUSTER_PG_PORT:-55432}"
export CLUSTER_PG_PASSWORD=temporal # loopback only; the role exists for this cluster alone
export CLUSTER_FRONTEND_PORT=$BASE CLUSTER_FRONTEND_MEMBERSHIP_PORT=$((BASE + 1))
export CLUSTER_HISTORY_PORT=$((BASE + 2)) CLUSTER_HISTORY_MEMBERSHIP_PORT=$((BASE + 3))
export CLUSTER_MATCHING_PORT=$((BASE + 4)) CLUSTER_MATCHING_MEMBERSHIP_PORT=$((BASE + 5))
export CLUSTER_WORKER_PORT=$((BASE + 6)) CLUSTER_WORKER_MEMBERSHIP_PORT=$((BASE + 7))
export CLUSTER_FRONTEND_HTTP_PORT=$((BASE + 10))
UI_PORT=$((BASE + 27))
export CLUSTER_DYNAMIC_CONFIG="$REPO/scripts/cluster/dynamic.yaml"
ADDRESS="127.0.0.1:$CLUSTER_FRONTEND_PORT"
NAMESPACE=default
RETENTION=72h

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { printf 'cluster: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }

metrics_port() { # <service>
  case $1 in frontend) echo $((BASE + 17)) ;; history) echo $((BASE + 18)) ;;
    matching) echo $((BASE + 19)) ;; worker) echo $((BASE + 20)) ;; esac
}
role_of() { # <service>: its role number in cluster_membership
  case $1 in frontend) echo 1 ;; history) echo 2 ;; matching) echo 3 ;; worker) echo 4 ;; esac
}

# ---------------------------------------------------------------------------------------- build

# One builder at a time (parallel `up`s); held only while building, released before anything else.
lock_builds() {
  mkdir -p "$CACHE/cluster"
  exec 8>"$CACHE/cluster/.lock"
  flock 8
}
unlock_builds() { exec 8>&-; }

cmd_build() {
  if [ -x "$TOOLS/bin/server" ] && [ -x "$TOOLS/bin/sql" ] && [ -d "$TOOLS/schema" ]; then
    return 0
  fi
  lock_builds
  if [ -x "$TOOLS/bin/server" ] && [ -x "$TOOLS/bin/sql" ] && [ -d "$TOOLS/schema" ]; then
    unlock_builds
    return 0
  fi
  command -v go >/dev/null ||
    die "Go is required to build the Temporal server $TEMPORAL_SERVER_VERSION (install Go >= 1.21, e.g. apt-get install golang-go; it fetches $GO_TOOLCHAIN itself)"
  log "building temporal-server and temporal-sql-tool $TEMPORAL_SERVER_VERSION with $GO_TOOLCHAIN (cold: about 11 min, CPU-heavy; cached in $TOOLS)"
  rm -rf "$TOOLS.tmp" && mkdir -p "$TOOLS.tmp/bin"
  local started=$SECONDS
  GOTOOLCHAIN=$GO_TOOLCHAIN CGO_ENABLED=0 GOBIN="$TOOLS.tmp/bin" \
    go install "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" \
    "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION" ||
    die "go install of the Temporal server $TEMPORAL_SERVER_VERSION failed (see above)"
  # The schema ships in the server module; keep our own copy next to the binaries so that a
  # cleaned module cache does not break `up`.
  local mod
  mod=$(GOTOOLCHAIN=$GO_TOOLCHAIN go env GOMODCACHE)/go.temporal.io/server@$TEMPORAL_SERVER_VERSION
  [ -d "$mod/schema/postgresql/v12" ] || die "schema not found in the module cache at $mod"
  mkdir -p "$TOOLS.tmp/schema" && cp -r "$mod/schema/postgresql/v12/." "$TOOLS.tmp/schema/"
  chmod -R u+w "$TOOLS.tmp/schema"
  rm -rf "$TOOLS" && mv "$TOOLS.tmp" "$TOOLS"
  unlock_builds
  log "built in $((SECONDS - started)) s: $TOOLS/bin/{server,sql}"
}

UI_BIN="$CACHE/cluster/ui-server-$UI_SERVER_VERSION/ui-server"

ui_build() {
  local ui="${UI_BIN%/*}"
  [ -x "$UI_BIN" ] && return 0
  lock_builds
  [ -x "$UI_BIN" ] && { unlock_builds; return 0; }
  command -v go >/dev/null || die "Go is required to build the Web UI server $UI_SERVER_VERSION"
  log "building the Web UI server $UI_SERVER_VERSION (about 1 min; cached in $ui)"
  rm -rf "$ui.tmp" && mkdir -p "$ui.tmp/module"
  if ! (
    cd "$ui.tmp/module"
    export GOTOOLCHAIN=$GO_TOOLCHAIN CGO_ENABLED=0
    go mod init local/ui-server-build &&
      go get "github.com/temporalio/ui-server/v2/cmd/server@$UI_SERVER_VERSION" "${UI_REQUIRES[@]}" &&
      GOBIN="$ui.tmp/bin" go install github.com/temporalio/ui-server/v2/cmd/server
  ) >"$CACHE/cluster/ui-build.log" 2>&1; then
    tail -5 "$CACHE/cluster/ui-build.log" >&2
    die "building the Web UI server failed ($CACHE/cluster/ui-build.log); CLUSTER_UI=0 runs the cluster without it"
  fi
  mv "$ui.tmp/bin/server" "$ui.tmp/ui-server" && rm -rf "$ui.tmp/bin" "$ui.tmp/module"
  rm -rf "$ui" && mv "$ui.tmp" "$ui"
  unlock_builds
  log "built the Web UI server: $UI_BIN"
}

ui_up() {
  [ "${CLUSTER_UI:-1}" = 1 ] || return 0
  local pid
  ui_build
  pid=$(cat "$RUN/ui.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && runs "$pid" ui-server; then return 0; fi
  mkdir -p "$DATA/ui/config"
  cat >"$DATA/ui/config/development.yaml" <<YAML
temporalGrpcAddress: $ADDRESS
host: 127.0.0.1
port: $UI_PORT
enableUi: true
defaultNamespace: $NAMESPACE
disableNewsFetch: true
notifyOnNewVersion: false
refreshInterval: 1m
cors:
  allowOrigins: ["http://localhost:$UI_PORT", "http://127.0.0.1:$UI_PORT"]
YAML
  log "starting the Web UI"
  setsid "$UI_BIN" --root "$DATA/ui" --config config --env development start >>"$LOGS/ui.log" 2>&1 </dev/null &
  echo $! >"$RUN/ui.pid"
  wait_for 30 "Web UI" curl -fs -o /dev/null "http://127.0.0.1:$UI_PORT/" ||
    die "the Web UI did not answer on 127.0.0.1:$UI_PORT in 30 s: $LOGS/ui.log"
}

# ----------------------------------------------------------------------------------- PostgreSQL

pg_bin() {
  local dir=/usr/lib/postgresql/$PG_MAJOR/bin
  if [ ! -x "$dir/postgres" ]; then
    log "PostgreSQL $PG_MAJOR not found in $dir: installing the Debian package postgresql-$PG_MAJOR"
    local sudo=
    [ "$(id -u)" = 0 ] || { sudo -n true 2>/dev/null && sudo=sudo; }
    if [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; then
      # Empty package lists (a fresh image) need an update first.
      $sudo apt-get install -y "postgresql-$PG_MAJOR" >&2 ||
        { $sudo apt-get update >&2 && $sudo apt-get install -y "postgresql-$PG_MAJOR" >&2; } ||
        die "apt-get install -y postgresql-$PG_MAJOR failed"
    else
      die "PostgreSQL $PG_MAJOR is missing: run 'apt-get install -y postgresql-$PG_MAJOR' as root"
    fi
  fi
  echo "$dir"
}

# PostgreSQL refuses to run as root: as root, its files and processes belong to `postgres`.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_admin() { # <db> <sql>: as the superuser, over the socket; prints unaligned rows
  as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -At -h "$PGSOCK" -p "$CLUSTER_PG_PORT" -U postgres \
    -d "$1" -c "$2"
}

pg_running() { [ -n "${PGBIN:-}" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

pg_up() {
  PGBIN=$(pg_bin)
  mkdir -p "$PGROOT"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PGROOT"
    runuser -u postgres -- test -w "$PGROOT" ||
      die "the postgres user cannot reach $PGROOT (a parent directory is closed to it): set CLUSTER_DATA_DIR elsewhere"
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    log "initdb $PGDATA"
    rm -rf "$PGDATA"
    as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >"$LOGS/initdb.log" 2>&1 ||
      die "initdb failed: $LOGS/initdb.log"
  fi
  as_pg mkdir -p "$PGSOCK"
  if ! pg_running; then
    log "starting PostgreSQL $PG_MAJOR on 127.0.0.1:$CLUSTER_PG_PORT"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGROOT/postgres.log" -w -t 60 \
      -o "-p $CLUSTER_PG_PORT -k $PGSOCK -c listen_addresses=127.0.0.1 -c max_connections=200" \
      start >/dev/null || die "PostgreSQL did not start: $PGROOT/postgres.log"
  fi
  if [ "$(psql_admin postgres "SELECT 1 FROM pg_roles WHERE rolname='temporal'")" != 1 ]; then
    psql_admin postgres "CREATE ROLE temporal LOGIN CREATEDB PASSWORD '$CLUSTER_PG_PASSWORD'"
  fi
}

pg_down() {
  PGBIN=$(pg_bin)
  if pg_running; then
    log "stopping PostgreSQL"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  fi
}

sql_tool() { # <db> <args...>
  local db=$1; shift
  "$TOOLS/bin/sql" --plugin postgres12 --ep 127.0.0.1 -p "$CLUSTER_PG_PORT" -u temporal \
    --pw "$CLUSTER_PG_PASSWORD" --db "$db" "$@"
}

schema_up() { # <db> <schema subdir>: create, set up once, then apply newer versions (idempotent)
  local db=$1 dir=$2
  if [ "$(psql_admin postgres "SELECT 1 FROM pg_database WHERE datname='$db'")" != 1 ]; then
    log "creating database $db"
    sql_tool "$db" create-database >>"$LOGS/schema.log" 2>&1 || die "create-database $db failed: $LOGS/schema.log"
  fi
  if [ "$(psql_admin "$db" "SELECT 1 FROM pg_tables WHERE tablename='schema_version'")" != 1 ]; then
    sql_tool "$db" setup-schema -v 0.0 >>"$LOGS/schema.log" 2>&1 || die "setup-schema $db failed: $LOGS/schema.log"
  fi
  sql_tool "$db" update-schema -d "$TOOLS/schema/$dir/versioned" >>"$LOGS/schema.log" 2>&1 ||
    die "update-schema $db failed: $LOGS/schema.log"
}

# ------------------------------------------------------------------------------------- services

runs() { # <pid> <text>: that process is alive and its command line contains the text
  local cmdline
  cmdline=$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) || return 1
  [[ $cmdline == *"$2"* ]]
}

pid_of() { # <service>: its PID when that process runs, else nothing
  local f="$RUN/$1.pid" pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  # The PID must still be our server with that service (PIDs are reused).
  if runs "$pid" "--service=$1"; then
    echo "$pid"
  fi
}

start_service() { # <service>
  local svc=$1
  [ -n "$(pid_of "$svc")" ] && return 0
  log "starting $svc"
  SERVICE_METRICS_PORT=$(metrics_port "$svc") setsid "$TOOLS/bin/server" \
    --config-file "$REPO/scripts/cluster/temporal.yaml" --allow-no-auth start --service="$svc" \
    >>"$LOGS/$svc.log" 2>&1 </dev/null &
  echo $! >"$RUN/$svc.pid"
  date +%s >"$RUN/$svc.started"
}

# Roles whose current process has joined: a cluster_membership row that started with this process
# and heartbeats (the services refresh it every ~10 s; 20 s is the server's own cutoff).
joined() { # <service>
  local since
  since=$(cat "$RUN/$1.started" 2>/dev/null || echo 0)
  [ "$(psql_admin temporal "SELECT count(*) FROM cluster_membership WHERE role = $(role_of "$1")
    AND extract(epoch FROM session_start) >= $since - 5
    AND last_heartbeat > (now() AT TIME ZONE 'UTC') - interval '20 seconds'" 2>/dev/null)" -ge 1 ] 2>/dev/null
}

wait_for() { # <seconds> <what> <command...>
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

metadata_ready() {
  [ "$(psql_admin temporal "SELECT count(*) FROM cluster_metadata_info" 2>/dev/null)" -ge 1 ] 2>/dev/null &&
    [ "$(psql_admin temporal "SELECT count(*) FROM namespaces WHERE name = 'temporal-system'" 2>/dev/null)" = 1 ]
}

all_joined() { for s in "${SERVICES[@]}"; do joined "$s" || return 1; done; }

temporal_cli() {
  [ -n "${TEMPORAL_CLI:-}" ] || TEMPORAL_CLI=$(bash "$REPO/scripts/temporal-tools.sh" cli) ||
    die "no Temporal CLI (scripts/temporal-tools.sh cli failed)"
  TEMPORAL_VERSION_CHECK_DISABLED=1 "$TEMPORAL_CLI" --address "$ADDRESS" "$@"
}

frontend_serving() {
  local health
  health=$(temporal_cli operator cluster health 2>/dev/null) || return 1
  grep -qw SERVING <<<"$health" # -w: not NOT_SERVING
}
namespace_visible() { temporal_cli operator search-attribute list -n "$NAMESPACE" >/dev/null 2>&1; }

# The engine's search attributes (src/search-attributes.ts; test/cluster checks both agree).
SEARCH_ATTRIBUTES=(PaymentStatus:Keyword AlipayPartnerId:Keyword AlipayOutTradeNo:Keyword
  AlipayTradeNo:Keyword AlipayStoreId:Keyword PaymentCurrency:Keyword PaidMinor:Int
  RefundedMinor:Int LastRefundAt:Datetime QrCodeStatus:Keyword)

register_namespace() {
  if ! temporal_cli operator namespace describe -n "$NAMESPACE" >/dev/null 2>&1; then
    log "registering namespace $NAMESPACE (retention $RETENTION)"
    temporal_cli operator namespace create -n "$NAMESPACE" --retention "$RETENTION" >/dev/null
  fi
  # A new namespace takes a moment to be visible to every frontend cache.
  wait_for 60 "namespace $NAMESPACE" namespace_visible || die "namespace $NAMESPACE not visible after 60 s"
  local have sa missing=()
  have=$(temporal_cli operator search-attribute list -n "$NAMESPACE" -o json)
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    # --name and --type pair up in order (one --type for several names registers only the first).
    grep -q "\"${sa%%:*}\"" <<<"$have" || missing+=(--name "${sa%%:*}" --type "${sa#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "registering $((${#missing[@]} / 4)) search attributes"
    temporal_cli operator search-attribute create -n "$NAMESPACE" "${missing[@]}" >/dev/null
  fi
}

cmd_up() {
  local started=$SECONDS
  cmd_build
  mkdir -p "$RUN" "$LOGS"
  pg_up
  schema_up temporal temporal
  schema_up temporal_visibility visibility
  if [ -n "$(pid_of frontend)" ] || metadata_ready; then
    # A restart with data: start everything at once. Waiting for the frontend's health first
    # stalls (it stays NOT_SERVING until ringpop reaches the members recorded in the DB).
    for s in "${SERVICES[@]}"; do start_service "$s"; done
  else
    # First boot: every service inserts the cluster metadata row and the losers exit, so one
    # goes first and the others follow once the row (and the system namespace) exist.
    start_service frontend
    wait_for 90 "cluster metadata" metadata_ready || die "no cluster metadata after 90 s: $LOGS/frontend.log"
    for s in history matching worker; do start_service "$s"; done
  fi
  local s p
  # The health RPC answers SERVING even with history dead: membership is the real test.
  if ! wait_for 90 "membership" all_joined; then
    for s in "${SERVICES[@]}"; do
      p=$(pid_of "$s")
      joined "$s" || log "$s has not joined (PID ${p:-none}); see $LOGS/$s.log"
    done
    die "the cluster did not form in 90 s"
  fi
  wait_for 60 "frontend health" frontend_serving || die "frontend not SERVING after 60 s: $LOGS/frontend.log"
  register_namespace
  ui_up
  log "serving at $ADDRESS (namespace $NAMESPACE) in $((SECONDS - started)) s$([ "${CLUSTER_UI:-1}" = 1 ] && echo "; Web UI http://127.0.0.1:$UI_PORT")"
}

stop_services() { # <service...>: SIGTERM to all, then wait (SIGKILL after 30 s)
  local svc pid pids=()
  for svc in "$@"; do
    pid=$(pid_of "$svc")
    rm -f "$RUN/$svc.pid"
    [ -n "$pid" ] || continue
    log "stopping $svc (PID $pid)"
    kill -TERM "$pid" && pids+=("$pid")
  done
  local deadline=$((SECONDS + 30))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      if [ $SECONDS -ge $deadline ]; then log "PID $pid ignored SIGTERM for 30 s: SIGKILL"; kill -KILL "$pid"; fi
      sleep 0.2
    done
  done
}

cmd_down() {
  stop_services "${SERVICES[@]}"
  local ui
  ui=$(cat "$RUN/ui.pid" 2>/dev/null || true)
  if [ -n "$ui" ] && runs "$ui" ui-server; then
    log "stopping the Web UI (PID $ui)"
    kill -TERM "$ui"
  fi
  rm -f "$RUN/ui.pid"
  if [ -d "$PGDATA" ]; then pg_down; fi
}

# PostgreSQL's processes share its buffers: their RSS would count them once per process.
pg_pss() {
  local p kb=0 pm
  pm=$(head -1 "$PGDATA/postmaster.pid")
  for p in $pm $(pgrep -P "$pm"); do
    kb=$((kb + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
  done
  echo "$((kb / 1024)) MiB"
}

rss_mib() { awk '/^VmRSS/ { printf "%d MiB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }

cmd_status() {
  local ok=0 s pid
  PGBIN=$(pg_bin)
  printf '%-10s %-8s %-9s %-8s %s\n' SERVICE PID RSS JOINED METRICS
  for s in "${SERVICES[@]}"; do
    pid=$(pid_of "$s")
    if [ -z "$pid" ]; then
      printf '%-10s %-8s\n' "$s" down; ok=1; continue
    fi
    local j=no
    joined "$s" && j=yes || ok=1
    printf '%-10s %-8s %-9s %-8s %s\n' "$s" "$pid" "$(rss_mib "$pid")" "$j" "http://127.0.0.1:$(metrics_port "$s")/metrics"
  done
  if pg_running; then
    printf '%-10s %-8s %-9s %s\n' postgres "$(head -1 "$PGDATA/postmaster.pid")" "$(pg_pss)" \
      "127.0.0.1:$CLUSTER_PG_PORT (PSS summed over its $(($(pgrep -c -P "$(head -1 "$PGDATA/postmaster.pid")") + 1)) processes)"
  else
    printf '%-10s %-8s\n' postgres down; ok=1
  fi
  pid=$(cat "$RUN/ui.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && runs "$pid" ui-server; then
    printf '%-10s %-8s %-9s %-8s %s\n' web-ui "$pid" "$(rss_mib "$pid")" "" "http://127.0.0.1:$UI_PORT"
  fi
  if [ $ok = 0 ] && frontend_serving; then
    echo "serving at $ADDRESS (namespace $NAMESPACE)"
  else
    echo "not serving"; ok=1
  fi
  return $ok
}

cmd_wipe() {
  cmd_down
  log "deleting $DATA"
  rm -rf "$DATA"
  # The engine layout's sandbox is the Alipay of the default cluster's payments: it goes with them.
  if [ -z "${CLUSTER_DATA_DIR:-}" ]; then rm -f "$REPO/.data/engine-layout/sandbox-state.json"; fi
}

case "${1:-}" in
  build)
    cmd_build
    echo "$TOOLS/bin"
    if [ "${CLUSTER_UI:-1}" = 1 ]; then ui_build && echo "$UI_BIN"; fi
    ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  wipe) cmd_wipe ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
