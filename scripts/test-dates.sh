#!/usr/bin/env bash
# The skills and sites tests again with the clock on other days (libfaketime): the 31st
# of a month and a day in the next year, so no test passes only on the day it was written.
# Chromium keeps the real clock (it aborts under libfaketime); the practice sites tell
# their pages what day it is, so the browser's clock does not matter to them.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v faketime >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q faketime >/dev/null
  else
    echo "operator: the date runs need libfaketime (apt-get install faketime)" >&2; exit 2
  fi
fi

browser=$(.venv/bin/python -c 'from operator_agent.launch import find_chromium, _playwright_chromium
print(find_chromium() or _playwright_chromium() or "")')
wrapper="$(mktemp -d)/chromium"
trap 'rm -rf "$(dirname "$wrapper")"' EXIT
printf '#!/bin/sh\nunset LD_PRELOAD FAKETIME\nexec "%s" "$@"\n' "$browser" >"$wrapper"
chmod +x "$wrapper"

days=$(.venv/bin/python - <<'PY'
import datetime as dt
today = dt.date.today()
day = today + dt.timedelta(days=1)
while day.day != 31:  # the next 31st after tomorrow
    day += dt.timedelta(days=1)
print(day, dt.date(today.year + 1, today.month, min(today.day, 28)))
PY
)
for day in $days; do
  echo "operator: the skills and sites tests with the clock at $day" >&2
  FAKETIME_DONT_FAKE_MONOTONIC=1 OPERATOR_CHROMIUM="$wrapper" faketime -f "@$day 10:00:00" \
    .venv/bin/python -m pytest -q -p no:cacheprovider tests/skills tests/sites "$@"
done
