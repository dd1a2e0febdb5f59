#!/bin/sh
# The real programs the browser and recalculation tests drive: Debian's Chromium (through
# Playwright, which then downloads no browser of its own) and LibreOffice Calc without a
# display. Installed when missing and this machine lets us (root and apt-get); otherwise
# the tests skip and `make test` says so in its last line (tests/conftest.py).
# Exits 0 when both are there afterwards, 1 when one is still missing.
missing() {
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || echo chromium
  command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1 \
    || echo libreoffice-calc-nogui
}

# shellcheck disable=SC2046  # one word per package
set -- $(missing)
packages="$*"
[ -z "$packages" ] && exit 0

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
[ -z "$(missing)" ]
