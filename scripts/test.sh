#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs them. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
# Every dependency at the version the tests were run with (constraints.txt), so that no upstream release changes
# behaviour unseen. The CPU build of PyTorch first: an unpinned torch would pull a multi-GB CUDA build.
pip install -q -c constraints.txt torch==2.13.0
pip install -q -c constraints.txt -e ".[serve,bench,test]"
# Headless Chromium for the browser tests, from Debian (nothing downloads a browser at test time).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; browser tests will be skipped" >&2
  else
    echo "warning: chromium is not installed; browser tests will be skipped (apt-get install chromium)" >&2
  fi
fi
python -m pytest -q "$@"
