#!/usr/bin/env bash
# System dependency of the browser tests (tests/browser): Debian's Chromium at /usr/bin/chromium.
# Idempotent and quiet: does nothing when Chromium is already there; installs it with apt-get only
# when running as root on a machine that has apt-get (a failed install there is an error); otherwise
# says so and leaves the browser tests to skip, saying why.
# The Python side (jupyterlab, playwright) comes with the [dev] extra. Never `playwright install`.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "browser-deps: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get);" \
         "the browser tests will be skipped. Install it with: apt-get install chromium" >&2
    exit 0
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
        >"$log" 2>&1; then
    echo "browser-deps: apt-get install chromium failed:" >&2
    tail -n 20 "$log" >&2
    exit 1
fi
