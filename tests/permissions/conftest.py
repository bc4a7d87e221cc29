"""Fixtures for the permission layer: no test reads or writes the person's real
policy, audit log or vault; observations come from real pages or are built by hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from operator_agent.perception.browser import DomPerceiver
from operator_agent.types import Element, Observation


@pytest.fixture(autouse=True)
def _private_dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in ("OPERATOR_POLICY", "OPERATOR_AUDIT_DB", "OPERATOR_VAULT", "OPERATOR_VAULT_KEY",
                 "OPERATOR_VAULT_BACKEND"):
        monkeypatch.delenv(name, raising=False)


def el(index: int, role: str = "button", text: str = "", *, tag: str | None = None, frame: str = "",
       sensitive: bool = False, value: str | None = None, **attributes: str) -> Element:
    """A hand-built element named `text`; attribute names with "_" become "-"
    (form_action -> form-action)."""
    attrs = {k.replace("_", "-"): v for k, v in attributes.items()}
    default_tag = {"button": "button", "link": "a", "textbox": "input"}.get(role, "div")
    return Element(index=index, role=role, tag=tag or default_tag, name=text, frame=frame,
                   sensitive=sensitive, value=value, attributes=attrs)


def obs(url: str = "https://shop.test/checkout", *elements: Element, text: str = "",
        title: str = "") -> Observation:
    lines = [f"url: {url}"] + ([f"title: {title}"] if title else []) + ([text] if text else [])
    return Observation(url=url, title=title, elements=list(elements), text="\n".join(lines))


@pytest.fixture
def make() -> Any:
    """`make.el(...)`, `make.obs(url, *elements, text=...)`."""

    class Make:
        pass

    m = Make()
    m.el = el  # type: ignore[attr-defined]
    m.obs = obs  # type: ignore[attr-defined]
    return m


@pytest.fixture
def perceive(page: Any, pages_server: Any) -> Callable[[str], Awaitable[Observation]]:
    """Open tests/pages/<path> in the real browser and observe it."""

    async def go(path: str) -> Observation:
        await page.goto(pages_server.url(path))
        return await DomPerceiver().observe(page)

    return go
