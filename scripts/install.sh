#!/usr/bin/env bash
# Installs operator-agent into ./.venv on a bare machine: Python packages from
# PyPI, and a browser when none is found (Debian's chromium when we are root on
# Debian). `--test` adds what the test suite needs (pytest, ruff, hypothesis).
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
if [ "${1:-}" = "--test" ]; then extras="[test]"; fi

is_root_debian() { [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update -q >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

PY="${PYTHON:-python3}"
if ! command -v "$PY" >/dev/null; then
  if is_root_debian; then apt_install python3 python3-venv; else
    echo "operator: python3 (3.11 or newer) is needed: install it, then run this again" >&2; exit 2
  fi
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "operator: Python 3.11 or newer is needed (found $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 2
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv >/dev/null 2>&1; then
    rm -rf .venv  # a failed venv (no ensurepip) leaves a broken folder behind
    if is_root_debian; then
      ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      apt_install "python${ver}-venv" || apt_install python3-venv
      "$PY" -m venv .venv
    else
      echo "operator: cannot create a virtual environment: install python3-venv, then run this again" >&2
      exit 2
    fi
  fi
fi

echo "operator: installing Python packages into .venv ..." >&2
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
# Finds Chromium (OPERATOR_CHROMIUM, Playwright's own, /usr/bin/chromium) or installs Debian's.
.venv/bin/operator doctor --install
