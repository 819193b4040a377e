#!/usr/bin/env bash
# `npm test`: every check and every test. Obtains the Temporal servers first (cached after the
# first run), then type-checks, lints and runs node:test over test/**/*.test.ts (the reliability
# suite last, with its own time bound).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/temporal-tools.sh all
# The browser test's Chromium (Debian package): required on CI, otherwise that test skips itself.
if ! bash scripts/chromium.sh; then
  [ "${CI:-}" = true ] && exit 1
  echo "warning: no Chromium at /usr/bin/chromium: test/browser will be skipped" >&2
  export BROWSER_AVAILABLE=0
fi
echo "== typecheck"; npx tsc --noEmit -p .
echo "== lint"; npx eslint .
echo "== format"; npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
echo "== tests"
mapfile -t files < <(find test -name '*.test.ts' -not -path 'test/reliability/*' | sort)
# Each file gets its own process; a hung server cannot hang CI past the per-test timeout.
status=0
node --import tsx --test --test-timeout=180000 --test-reporter=spec "${files[@]}" || status=$?
echo "== reliability"
# One file of scenarios sharing one set of engine processes and one summary table: the runner's
# timeout covers the whole file, so it gets 10 minutes; each scenario bounds itself (240 s). It
# runs even when a test above failed, so that one run reports everything.
node --import tsx --test --test-timeout=600000 --test-reporter=spec test/reliability/*.test.ts || status=$?
exit "$status"
