"""Actions by capability: every action of the union has one registry entry (a description for
the model, a gate class, who performs it); each environment declares what it performs, its
executor really performs all of it, and the model is offered exactly that."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from operator_agent.actions import (
    GATE_CLASSES,
    REGISTRY,
    action_name,
    action_types,
    capability,
    gate_class,
    performed_in,
)
from operator_agent.agent import Agent, AgentConfig
from operator_agent.evals.miniwob import MiniWobEnvironment
from operator_agent.executors.browser import BrowserExecutor
from operator_agent.executors.desktop import DesktopExecutor
from operator_agent.permissions.gate import AllowEverythingUnsafe
from operator_agent.planner.messages import action_catalog, system_prompt
from operator_agent.session import BrowserSession
from operator_agent.types import (
    Back,
    Click,
    ClickAt,
    CloseTab,
    Drag,
    MoveMouse,
    Navigate,
    Observation,
    OpenApp,
    Press,
    Scroll,
    Select,
    SwitchTab,
    Type,
    TypeAt,
    Upload,
    Wait,
)
from operator_bench.testing.fake_openai import FakeOpenAIServer, planner_factory
from operator_bench.testing.script import find_index

NOT_AN_ENVIRONMENT = {"loop", "planner"}  # done, ask_user, hand_over: the agent loop; use_skill: the planner
CATALOG_LINE = re.compile(r"^- (\w+)\(", re.M)


def test_every_action_has_a_description_a_gate_class_and_a_performer() -> None:
    names = [action_name(m) for m in action_types()]
    assert sorted(REGISTRY) == sorted(names), "an action of the union without a registry entry (or reverse)"
    for model in action_types():
        entry = capability(action_name(model))
        assert entry.model is model
        assert len(entry.description) > 20, f"{entry.name}: no description for the model"
        assert entry.gate in GATE_CLASSES, f"{entry.name}: no gate class"
        assert entry.performed_by, f"{entry.name}: nobody performs it"
        # Performed by an environment: some executor declares it.
        for env in entry.performed_by - NOT_AN_ENVIRONMENT:
            executor = {"browser": BrowserExecutor, "desktop": DesktopExecutor}[env]
            assert entry.name in executor.actions, f"{entry.name}: the {env} executor does not declare it"


async def test_environments_declare_what_their_executors_perform(context, page) -> None:
    assert BrowserExecutor.actions == performed_in("browser")
    assert DesktopExecutor.actions == performed_in("desktop")
    session = BrowserSession(context)
    assert session.actions == performed_in("browser")
    assert MiniWobEnvironment(session, page).actions == session.actions
    assert (await session.observe()).actions == sorted(session.actions)  # what the planner reads
    # The desktop has no address bar, history or file input of its own; it types at a point.
    assert {"navigate", "back", "close_tab", "upload"}.isdisjoint(performed_in("desktop"))
    assert "type_at" in performed_in("desktop")
    assert "open_app" in performed_in("desktop") and "open_app" not in performed_in("browser")  # no programs


def test_the_gate_classes_what_changes_something() -> None:
    changes = {n for n, c in REGISTRY.items() if c.gate == "changes"}
    assert changes == {"click", "type", "select", "upload", "press", "click_at", "drag", "type_at"}
    assert gate_class(Press(keys="Tab")) == gate_class(Press(keys="Shift+Tab Escape")) == "looks"
    # On a focused slider, select or radio group, arrows and Home/End set the value.
    assert gate_class(Press(keys="Tab ArrowDown")) == gate_class(Press(keys="End")) == "changes"
    assert gate_class(Press(keys="Enter")) == gate_class(Press(keys="Tab Enter")) == "changes"
    assert gate_class(MoveMouse(x=1, y=1)) == gate_class(Scroll(x=1, y=1)) == "looks"
    assert gate_class(Navigate(url="https://a.test/")) == "navigates"
    assert {capability(n).gate for n in ("done", "ask_user", "hand_over")} == {"speaks"}
    assert gate_class(OpenApp(app="mousepad")) == "launches"  # starting a program: its own class


def test_the_catalog_lists_only_what_the_environment_performs() -> None:
    desktop = set(CATALOG_LINE.findall(system_prompt(actions=DesktopExecutor.actions)))
    assert desktop == set(DesktopExecutor.actions) | {"done", "ask_user", "hand_over", "use_skill"}
    assert "navigate" not in desktop and "click_at" in desktop
    assert set(CATALOG_LINE.findall(action_catalog())) == set(REGISTRY)  # not said: every action


async def test_a_browser_runs_prompt_lists_only_what_the_browser_performs(context, pages_server,
                                                                          tmp_path: Path) -> None:
    env = BrowserSession(context)
    await env.goto(pages_server.url("/executor/actions.html"))
    done = {"reasoning": "nothing to do", "actions": [{"action": "done", "answer": "ok"}]}
    with FakeOpenAIServer([done]) as server:
        async with planner_factory() as make:
            agent = Agent(planner=make(server), environment=env, gate=AllowEverythingUnsafe(),
                          config=AgentConfig(runs_dir=tmp_path, verify=False, screenshots=False))
            assert (await agent.run("say ok")).success
    system = server.requests[0]["messages"][0]
    assert system["role"] == "system"
    listed = set(CATALOG_LINE.findall(system["content"]))
    performed = set(BrowserExecutor.actions)
    assert listed - performed == {"done", "ask_user", "hand_over", "use_skill"}  # the loop's, the planner's
    assert performed <= listed


def _samples(text: str, upload: Path) -> dict[str, Callable[[], object]]:
    """One action of each kind the browser declares, on tests/pages/executor/actions.html."""
    return {
        "click": lambda: Click(index=find_index(text, "Remove me")),
        "type": lambda: Type(index=find_index(text, "Search"), text="cable"),
        "select": lambda: Select(index=find_index(text, "Size"), option="Large"),
        "press": lambda: Press(keys="Tab"),
        "scroll": lambda: Scroll(),
        "navigate": lambda: Navigate(url=re.search(r"url: (\S+)", text).group(1)),  # type: ignore[union-attr]
        "back": lambda: Back(),
        "switch_tab": lambda: SwitchTab(tab=0),
        "close_tab": lambda: CloseTab(),
        "upload": lambda: Upload(index=find_index(text, "Attachment"), path=str(upload)),
        "wait": lambda: Wait(seconds=0),
        "move": lambda: MoveMouse(x=600, y=300),
        "click_at": lambda: ClickAt(x=600, y=300),
        "drag": lambda: Drag(from_x=600, from_y=300, to_x=700, to_y=350),
        "type_at": lambda: TypeAt(x=600, y=300, text="x"),
    }


async def test_the_browser_performs_every_action_it_declares(context, pages_server, tmp_path: Path) -> None:
    upload = tmp_path / "note.txt"
    upload.write_text("hello")
    env = BrowserSession(context)
    url = pages_server.url("/executor/actions.html")
    await env.goto(pages_server.url("/executor/second.html"))  # so there is a page to go back to
    samples = _samples("", upload)
    assert set(samples) == set(env.actions), "a declared action without a sample here"
    for name in sorted(env.actions):
        await env.goto(url)
        obs: Observation = await env.observe()
        action = _samples(obs.text, upload)[name]()
        result = await env.perform(action, obs)  # type: ignore[arg-type]
        assert result.ok, f"{name}: {result.error}"

