#!/usr/bin/env bash
# The wheel is the product: build it, install it into a fresh venv outside the checkout,
# and from another folder run the demo, list the suites, serve the practice sites and list the
# MCP server's tools.
# Catches package data that only the repository has. Needs ./.venv (scripts/install.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

echo "operator: building the wheel and installing it outside the checkout ..." >&2
# From a copy: setuptools leaves build/ in the source folder, and stale files there would
# end up in later wheels.
mkdir "$work/src"
tar -C "$repo" --exclude=./.venv --exclude=./.git --exclude=./build --exclude=./runs -cf - . | tar -C "$work/src" -xf -
"$repo/.venv/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps -w "$work/dist" "$work/src"
"$repo/.venv/bin/python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check "$work"/dist/*.whl
mkdir "$work/elsewhere"
cd "$work/elsewhere"
# The user's folders go to the scratch folder too: nothing of this check stays behind.
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" OPERATOR_RUNS_DIR="$work/runs"
op="$work/venv/bin/operator"

"$op" demo
"$op" eval list

"$op" sites serve >"$work/sites.log" 2>&1 &
pid=$!
for port in 8001 8002 8003; do
  ok=""
  for _ in $(seq 1 300); do  # up to 30 s for each site to answer
    if "$work/venv/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
        "http://127.0.0.1:$port/" 2>/dev/null; then ok=1; break; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    echo "operator: the installed wheel's practice site on port $port did not answer:" >&2
    cat "$work/sites.log" >&2
    exit 1
  fi
done
echo "operator: the installed wheel serves all three practice sites" >&2

# The agent as a service, from the wheel with its [mcp] extra: the MCP client lists its tools
# over stdio (nobody to approve anything: nothing is run).
wheel="$(ls "$work"/dist/*.whl)"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check "${wheel}[mcp]"
"$work/venv/bin/python" - "$op" <<'PY'
import asyncio
import sys

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main() -> None:
    params = StdioServerParameters(command=sys.argv[1], args=["mcp", "--ask-on", "none"])
    async with asyncio.timeout(120), Client(stdio_client(params)) as client:
        names = sorted(t.name for t in (await client.list_tools()).tools)
    wanted = ["add_preference", "get_preferences", "list_skills", "observe", "run_skill", "run_task"]
    if names != wanted:
        sys.exit(f"operator: the installed wheel's MCP server lists {names}, not {wanted}")
    print("operator: the installed wheel's MCP server lists its tools: " + ", ".join(names), file=sys.stderr)


asyncio.run(main())
PY
