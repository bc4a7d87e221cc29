"""A computer-use model drives the real Tk form on the virtual display through the whole loop:
the Responses API's computer actions (from the fake server) become pixel actions on the
desktop, each judged by the real gate by the window and the field under its point."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from desktop_helpers import SCREEN
from PIL import Image

from operator_agent.builder import build_agent, model_planner, permissions
from operator_agent.permissions.policy import Policy
from operator_bench.testing.fake_openai import FakeOpenAIServer, Reply, computer_call, output_message
from operator_bench.testing.script import find_index


def _centre(obs: Any, name: str, role: str) -> tuple[int, int]:
    el = obs.element(find_index(obs.text, name, role))
    assert el is not None and el.bbox is not None, obs.text
    x, y = el.bbox.center
    return round(x), round(y)


def _call(n: int, action: dict[str, Any]) -> Reply:
    return Reply(content="", output=[computer_call(action, call_id=f"call_{n}")])


def _screenshot_size(body: dict[str, Any]) -> tuple[int, int]:
    """The size of the screenshot a request carries (with the task, or as a call's output)."""
    images = [part for item in body["input"] for part in (item.get("content") or [item.get("output") or {}])
              if isinstance(part, dict) and part.get("type") == "input_image"]
    png = base64.b64decode(images[-1]["image_url"].split(",", 1)[1])
    return Image.open(io.BytesIO(png)).size


async def test_a_computer_use_model_fills_and_saves_the_form(desktop: Any, form_app: Any,
                                                             tmp_path: Path) -> None:
    # Where things are, as a vision model would find them on the screenshot.
    seen = await desktop.observe()
    name = _centre(seen, "Full name", "textbox")
    password = _centre(seen, "Password", "textbox")
    save = _centre(seen, "Save", "button")
    script = [
        _call(1, {"type": "click", "button": "left", "x": name[0], "y": name[1]}),
        _call(2, {"type": "type", "text": "Ada Lovelace"}),
        _call(3, {"type": "click", "button": "left", "x": password[0], "y": password[1]}),
        _call(4, {"type": "type", "text": "hunter2"}),  # typed by hand into a password field: refused
        _call(5, {"type": "click", "button": "left", "x": save[0], "y": save[1]}),
        Reply(content="", output=[output_message("Saved the form for Ada Lovelace.")]),
    ]
    perms = permissions(policy=Policy.default(), interactive=False, audit_path=tmp_path / "audit.sqlite",
                        vault=None)
    with FakeOpenAIServer(script) as server:
        planner = model_planner(computer_use=True, environment="desktop", model="computer-use-preview",
                                base_url=server.base_url, api_key="test-key", approver=perms.approver)
        try:
            agent = build_agent(planner=planner, environment=desktop, perms=perms, verify=False,
                                max_steps=8, run_dir=tmp_path / "run", learn=False)
            result = await agent.run("Fill in the form for Ada Lovelace and save it")
        finally:
            await planner.aclose()  # type: ignore[attr-defined]
            perms.close()
        requests = server.requests

    assert result.success, result.message
    assert result.answer == "Saved the form for Ada Lovelace."
    saved = form_app.saved()
    assert saved["full_name"] == "Ada Lovelace"
    assert saved["password_set"] is False  # the refused typing never reached the field
    # The model was told the desktop's size, and shown the whole screen each time.
    tool = requests[0]["tools"][0]
    assert (tool["environment"], tool["display_width"], tool["display_height"]) == ("linux", *SCREEN)
    assert all(_screenshot_size(body) == SCREEN for body in requests)
    # The refusal went back to the model with the next screenshot, and the password nowhere.
    assert "type into it with type and its index" in str(requests[4]["input"])
    traces = list((tmp_path / "run").rglob("*.json*"))
    assert traces and all("hunter2" not in p.read_text(errors="replace") for p in traces)
