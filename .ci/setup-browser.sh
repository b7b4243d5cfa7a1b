#!/bin/sh
# Install Debian's chromium for the browser tests (tests/test_web.py drives it with Playwright).
# Tolerant of failure: without chromium those tests are skipped with the reason, the rest run.
# Never 'playwright install': the tests use the system browser at /usr/bin/chromium.
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
( $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver ) \
    || echo "setup-browser: could not install chromium; the browser tests will be skipped" >&2
exit 0
