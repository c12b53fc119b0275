#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs them. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
# Every dependency at the version the tests were run with (constraints.txt), so that no upstream release changes
# behaviour unseen. The CPU build of PyTorch first: an unpinned torch would pull a multi-GB CUDA build.
pip install -q -c constraints.txt torch==2.13.0
pip install -q -c constraints.txt -e ".[serve,bench,map,test,ray]"
# Headless Chromium for the browser tests, and strace for the crash test that kills a build at its renames, from
# Debian (nothing downloads a browser at test time).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v strace >/dev/null 2>&1 || missing+=(strace)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
      || echo "warning: could not install ${missing[*]}; the tests that need them will be skipped" >&2
  else
    echo "warning: ${missing[*]} not installed; the tests that need them will be skipped (apt-get install ${missing[*]})" >&2
  fi
fi
python -m pytest -q "$@"
