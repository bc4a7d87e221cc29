"""What a request asked the server for, read the same way for Chat Completions and Responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from operator_agent.planner.openai import OpenAIPlanner
from operator_agent.types import Click, Observation

PlannerFactory = Callable[..., OpenAIPlanner]  # conftest.planner_for

OBS = Observation(url="http://shop.test/", title="Shop", text="URL: http://shop.test/\n[1] button Search")
CLICK = {"reasoning": "The search button is visible.", "actions": [{"action": "click", "index": 1}]}
CLICKED = [Click(index=1)]


def json_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The json_schema format asked for (chat: response_format; Responses: text.format)."""
    if "response_format" in body:
        return body["response_format"]["json_schema"]  # type: ignore[no-any-return]
    fmt = (body.get("text") or {}).get("format")
    return fmt if isinstance(fmt, dict) and fmt.get("type") == "json_schema" else None


def tool(body: dict[str, Any]) -> dict[str, Any] | None:
    """The one function offered (chat nests it under "function")."""
    tools = body.get("tools") or []
    if not tools:
        return None
    return tools[0].get("function", tools[0])  # type: ignore[no-any-return]


def forced(body: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice")
    if not isinstance(choice, dict):
        return None
    return (choice.get("function") or {}).get("name") or choice.get("name")  # type: ignore[no-any-return]


def turns(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of every message after the system text."""
    items = body["messages"][1:] if "messages" in body else body["input"]
    out = []
    for item in items:
        content = item["content"]
        text = content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
        out.append((item["role"], text))
    return out


def system(body: dict[str, Any]) -> str:
    return body["messages"][0]["content"] if "messages" in body else body["instructions"]  # type: ignore[no-any-return]
