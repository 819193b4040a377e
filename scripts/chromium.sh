#!/usr/bin/env bash
# Makes sure the browser for test/browser exists: Debian's `chromium` package at /usr/bin/chromium
# (driven by playwright-core; Playwright's own browser download is never used). Silent when it is
# already there; otherwise installs it with apt-get (as root, or through `sudo -n`).
#
#   scripts/chromium.sh          ensure /usr/bin/chromium (exit 1 with the fix when impossible)
#   scripts/chromium.sh --help   this text
set -euo pipefail

CHROMIUM=/usr/bin/chromium

case "${1:-}" in
  -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  '') ;;
  *) echo "chromium: unknown option $1 (try --help)" >&2; exit 2 ;;
esac

[ -x "$CHROMIUM" ] && exit 0

fail() { echo "chromium: $* (the browser test needs $CHROMIUM)" >&2; exit 1; }

command -v apt-get >/dev/null ||
  fail "$CHROMIUM is missing and apt-get is not available: install Chromium from your distribution and link it to $CHROMIUM"

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  fail "$CHROMIUM is missing and installing it needs root: run 'sudo apt-get install -y --no-install-recommends chromium'"
fi

install() {
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2
}

echo "chromium: installing Debian's chromium package" >&2
if ! install; then
  echo "chromium: install failed; refreshing the package lists and retrying" >&2
  "${as_root[@]}" apt-get update >&2 || fail "apt-get update failed"
  install || fail "apt-get install chromium failed (see the output above)"
fi
[ -x "$CHROMIUM" ] || fail "the chromium package installed but $CHROMIUM is still missing"
