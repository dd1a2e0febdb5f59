#!/bin/sh
# The real programs the browser and recalculation tests drive: Debian's Chromium (through
# Playwright, which then downloads no browser of its own) and LibreOffice Calc without a
# display. Installed when missing and this machine lets us (root and apt-get); otherwise
# the tests skip and `make test` says so in its last line (tests/conftest.py).
# axe-core (package.json, pinned in package-lock.json) comes from the npm registry with
# `npm ci` when node_modules lacks it and npm is there; without it the accessibility tests
# skip (tests/browser/axe.py) and the run's last line says so too.
# Exits 0 when all are there afterwards, 1 when one is still missing.
cd "$(dirname "$0")/.." || exit 1
axe_status=0
if [ ! -f node_modules/axe-core/axe.min.js ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "ensure-test-tools: installing axe-core (npm ci, once)" >&2
    npm ci --no-audit --no-fund --loglevel=error >/dev/null || axe_status=1
  else
    axe_status=1
  fi
  [ "$axe_status" = 0 ] || echo "ensure-test-tools: axe-core missing and npm could not" \
    "install it: the accessibility tests will be skipped" >&2
fi

missing() {
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || echo chromium
  command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1 \
    || echo libreoffice-calc-nogui
}

# shellcheck disable=SC2046  # one word per package
set -- $(missing)
packages="$*"
[ -z "$packages" ] && exit "$axe_status"

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-tools: $packages missing and not installable here (needs root and" \
       "apt-get): their tests will be skipped" >&2
  exit 1
fi

echo "ensure-test-tools: installing $packages (apt-get, once)" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086  # the package names are meant to split
if ! { apt-get update -qq >/dev/null && apt-get install -y -qq $packages >/dev/null; }; then
  echo "ensure-test-tools: apt-get could not install $packages: their tests will be" \
       "skipped" >&2
  exit 1
fi
[ -z "$(missing)" ] && exit "$axe_status"
