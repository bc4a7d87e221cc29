#!/usr/bin/env bash
# The skills and sites tests again with the clock on other days (libfaketime): the 31st
# of a month and a day in the next year, so no test passes only on the day it was written.
# Chromium keeps the real clock (it aborts under libfaketime); the practice sites tell
# their pages what day it is, so the browser's clock does not matter to them.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v faketime >/dev/null; then  # scripts/install.sh --test installs it
  echo "operator: the date runs need libfaketime: run scripts/install.sh --test (or apt-get install faketime)" >&2
  exit 2
fi

browser=$(.venv/bin/python -c 'from operator_agent.launch import find_chromium, _playwright_chromium
print(find_chromium() or _playwright_chromium() or "")')
wrapper="$(mktemp -d)/chromium"
trap 'rm -rf "$(dirname "$wrapper")"' EXIT
printf '#!/bin/sh\nunset LD_PRELOAD FAKETIME\nexec "%s" "$@"\n' "$browser" >"$wrapper"
chmod +x "$wrapper"

# Offsets in days from today (the clock keeps ticking): the next 31st after tomorrow, and
# the same day next year. Monotonic clocks move with it: with them left real, libfaketime
# makes every time.sleep() fail with EINVAL.
offsets=$(.venv/bin/python - <<'PY'
import datetime as dt
today = dt.date.today()
day = today + dt.timedelta(days=1)
while day.day != 31:
    day += dt.timedelta(days=1)
print((day - today).days, (dt.date(today.year + 1, today.month, min(today.day, 28)) - today).days)
PY
)
for days in $offsets; do
  when=$(.venv/bin/python -c "import datetime as dt, sys; print(dt.date.today() + dt.timedelta(days=int(sys.argv[1])))" "$days")
  echo "operator: the skills and sites tests with the clock at $when" >&2
  OPERATOR_CHROMIUM="$wrapper" faketime -f "+${days}d" \
    .venv/bin/python -m pytest -q -p no:cacheprovider tests/skills tests/sites "$@"
done
