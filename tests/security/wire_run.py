"""A run of the real agent loop for the disk and upload tests: our own pages on
*.test hosts (the suite's Chromium maps them to 127.0.0.1), the policy gate wired
by builder.permissions with its audit log and a vault in the test's folder, and a
scripted model. Plus `leaked`: whether a secret shows in stored text in any form."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_plus

from operator_agent.builder import build_agent, permissions
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.session import BrowserSession
from operator_agent.types import RunResult

StepFn = Callable[[str], dict[str, Any]]


async def run_agent(context: Any, start_url: str, steps: list[StepFn], *, run_dir: Path, policy: Path,
                    overrides: dict[str, Any] | None = None) -> tuple[RunResult, ScriptedPlanner, Any]:
    """Nobody at the terminal (unattended): what the gate would ask is refused."""
    perms = permissions(run_id=run_dir.name, policy_path=str(policy), overrides=overrides or {},
                        interactive=False)
    page = context.pages[0] if context.pages else await context.new_page()
    await page.goto(start_url)
    planner = ScriptedPlanner(list(steps))
    agent = build_agent(planner=planner, environment=BrowserSession(context, vault=perms.vault),
                        max_steps=len(steps) + 1, verify=False, run_dir=run_dir, perms=perms)
    agent.config.screenshots = False
    try:
        result = await agent.run("sign in")
    finally:
        perms.gate.audit.close()  # type: ignore[attr-defined]
    return result, planner, perms


_B64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{6,}")
_DIGITS = re.compile(r"\d(?:[\d \-.]|%20)*\d")


def leaked(text: str, secret: str) -> str | None:
    """How `secret` shows in `text`, or None: as is, %-encoded, in base64 at any
    alignment (standard or URL-safe), or as digits grouped by spaces or dashes."""
    for label, form in (("raw", text), ("url-encoded", unquote(text)), ("form-encoded", unquote_plus(text))):
        if secret in form:
            return label
    want = secret.encode()
    for run in _B64_RUN.findall(text):
        run = run.replace("-", "+").replace("_", "/")
        for start in range(4):
            chunk = run[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                if want in base64.b64decode(chunk):
                    return "base64"
            except (binascii.Error, ValueError):
                continue
    if secret.isdigit() and any(secret in re.sub(r"\D", "", unquote(m)) for m in _DIGITS.findall(text)):
        return "grouped digits"
    return None
