#!/bin/sh
# Browser for the web tests (tests/web/test_browser.py): Debian's Chromium, driven by the
# playwright package from the test extras. Playwright's own browser download
# (`playwright install`) is never used. Idempotent; needs root for apt-get.
set -eu
if [ ! -x /usr/bin/chromium ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
/usr/bin/chromium --version
