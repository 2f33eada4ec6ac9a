#!/usr/bin/env bash
# Prepare a machine for chatcart: system packages, then .venv with the project.
#   scripts/setup.sh run    -> what `make run` needs (Python venv, redis-server)
#   scripts/setup.sh test   -> what `make test` needs (plus Chromium for browser tests and
#                              PostgreSQL for the tests that run the schema on it)
# System packages are installed with apt-get when missing and we are root;
# otherwise the script stops and prints the exact command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

purpose=${1:-run}
PYTHON=${PYTHON:-python3}
missing=()

if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
if [ -z "${REDIS_URL:-}" ] || [ "$purpose" = test ]; then
  command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
fi
if [ "$purpose" = test ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ "$purpose" = test ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "chatcart needs: ${missing[*]}. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

stamp=.venv/.installed-$purpose
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  if [ "$purpose" = test ]; then
    .venv/bin/python -m pip install -q -e '.[test]'
  else
    .venv/bin/python -m pip install -q -e .
  fi
  touch "$stamp"
fi
