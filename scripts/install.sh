#!/usr/bin/env bash
# Installs operator-agent into ./.venv on a bare machine: Python packages from
# PyPI, and a browser when none is found (Debian's chromium when we are root on
# Debian). `--test` adds what the test suite needs (pytest, ruff, hypothesis).
set -euo pipefail
cd "$(dirname "$0")/.."

extras="[desktop,mcp]"  # mcp: `operator mcp`, the agent as an MCP server
if [ "${1:-}" = "--test" ]; then extras="[test,desktop,mcp]"; fi

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

# Desktop mode reads the screen with Tesseract and runs programs on a virtual X screen.
if ! command -v tesseract >/dev/null || ! command -v Xvfb >/dev/null; then
  if is_root_debian; then
    echo "operator: installing tesseract-ocr, xvfb (desktop mode) ..." >&2
    apt_install tesseract-ocr tesseract-ocr-eng xvfb xauth python3-tk fonts-dejavu-core openbox
  else
    echo "operator: desktop mode needs tesseract-ocr and xvfb (apt-get install tesseract-ocr xvfb)" >&2
  fi
fi

# Desktop mode reads programs' accessibility trees (AT-SPI) over a D-Bus session bus; the
# tests drive GTK programs that publish theirs (mousepad, galculator) and one X toolkit
# program that publishes none (xcalc).
if ! command -v dbus-daemon >/dev/null || [ ! -x /usr/libexec/at-spi-bus-launcher ]; then
  if is_root_debian; then
    echo "operator: installing at-spi2-core, dbus (desktop accessibility) ..." >&2
    apt_install at-spi2-core dbus
  else
    echo "operator: desktop mode reads accessibility trees with at-spi2-core and dbus (apt-get install at-spi2-core dbus)" >&2
  fi
fi
if [ "${1:-}" = "--test" ] && is_root_debian && \
   { ! command -v mousepad >/dev/null || ! command -v galculator >/dev/null || ! command -v xcalc >/dev/null \
     || [ ! -e /usr/share/doc/libxkbcommon-x11-0 ]; }; then
  # ... and the X libraries Qt's xcb platform plugin needs (the Qt test program, PySide6).
  apt_install mousepad galculator x11-apps libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 \
    libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1
fi

# The Ray test runs its cluster in a network namespace with only loopback up.
if [ "${1:-}" = "--test" ] && ! command -v ip >/dev/null && is_root_debian; then
  apt_install iproute2
fi
# scripts/test-dates.sh runs the skills and sites tests with the clock on other days.
if [ "${1:-}" = "--test" ] && ! command -v faketime >/dev/null && is_root_debian; then
  apt_install faketime
fi

echo "operator: installing Python packages into .venv ..." >&2
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
# Finds Chromium (OPERATOR_CHROMIUM, Playwright's own, /usr/bin/chromium) or installs Debian's.
.venv/bin/operator doctor --install
