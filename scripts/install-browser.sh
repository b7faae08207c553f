#!/bin/sh
# Browser for the web tests (tests/web/test_browser*.py): Debian's Chromium, driven by the
# playwright package from the test extras. Playwright's own browser download
# (`playwright install`) is never used. Also axe-core (the accessibility engine the tests
# inject into the pages) from npm into .browser-tools/, which git ignores.
# Idempotent; needs root for apt-get.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
/usr/bin/chromium --version
AXE_VERSION=4.14.1
if [ ! -f .browser-tools/node_modules/axe-core/axe.min.js ]; then
    if ! command -v npm >/dev/null 2>&1; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm
    fi
    mkdir -p .browser-tools
    # Without it only the accessibility tests skip (with their reason): not a failure here.
    npm install --prefix .browser-tools --no-save --no-audit --no-fund "axe-core@$AXE_VERSION" \
        || echo "warning: axe-core could not be installed; the axe tests will skip"
fi
if [ -f .browser-tools/node_modules/axe-core/package.json ]; then
    echo "axe-core: $(sed -n 's/.*"version": "\(.*\)".*/\1/p' .browser-tools/node_modules/axe-core/package.json | head -1)"
fi
