#!/bin/sh
# Browser for the web tests (tests/web/test_browser.py): Debian's Chromium, driven by the
# Python playwright package from PyPI. Playwright's own browser download
# (`playwright install`) is never used. Idempotent; needs root for apt-get.
set -eu
if [ ! -x /usr/bin/chromium ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
PY="${PYTHON:-${VENV:-.venv}/bin/python}"
if ! "$PY" -c "import playwright" 2>/dev/null; then
    "$PY" -m pip install -q "playwright>=1.45"
fi
/usr/bin/chromium --version
