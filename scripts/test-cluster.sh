#!/usr/bin/env bash
# `npm run test:cluster`: the engine in its production layout on the real multi-service Temporal
# cluster (test/cluster/*.cluster.ts, not part of `npm test`).
#
# Brings the cluster up with scripts/cluster.sh (the first time on a machine this builds the
# Temporal server: about 11 min), runs the tests, and leaves the cluster as it found it: a cluster
# that was already serving stays up, one this command started is stopped again (its data is kept,
# so the next run restarts it in seconds). The engine processes are always stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "test-cluster: no arguments expected (try --help)" >&2; exit 2 ;;
esac

was_up=0
bash scripts/cluster.sh status >/dev/null 2>&1 && was_up=1
if [ $was_up = 0 ]; then
  trap 'bash scripts/cluster.sh down' EXIT
fi
started=$SECONDS
bash scripts/cluster.sh up
echo "== cluster ready in $((SECONDS - started)) s"
node --import tsx --test --test-timeout=1800000 --test-reporter=spec test/cluster/*.cluster.ts
echo "== test:cluster done in $((SECONDS - started)) s"
