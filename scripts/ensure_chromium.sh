#!/usr/bin/env bash
# Make sure headless Chromium is there for the browser tests.
# On Debian as root it is installed from the distribution's packages; elsewhere the
# browser tests are skipped with a loud reason (and fail under CI=true).
set -u
for candidate in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser \
    "/Applications/Chromium.app/Contents/MacOS/Chromium" \
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    exit 0
  fi
done
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (apt-get install chromium)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null \
    && exit 0
  echo "WARNING: could not install Chromium with apt-get." >&2
fi
echo "WARNING: no Chromium found: the browser tests will be SKIPPED." >&2
echo "         Install Chromium (Debian: apt-get install chromium) or set CHROMIUM=/path." >&2
exit 0
