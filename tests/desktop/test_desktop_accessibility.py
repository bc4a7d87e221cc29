"""The desktop through the accessibility tree, with programs nobody here wrote: galculator
and mousepad (GTK 3, from Debian) publish their widgets over AT-SPI on a private session
bus, under openbox on a private Xvfb display. Only the model is scripted, and it chooses
elements by their names, as a model reading the observation would."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from desktop_helpers import SCREEN, apt_install, poll, require

from operator_agent.types import Click, Observation, Press

ATSPI_LAUNCHER = Path("/usr/libexec/at-spi-bus-launcher")


@dataclass
class Desk:
    display: str
    bus: str
    env: dict[str, str]
    home: Path


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, tesseract: str) -> Iterator[Desk]:
    """Xvfb, a session bus (with at-spi2-core behind it) and openbox, all private."""
    require("Xvfb", "xvfb")
    require("dbus-daemon", "dbus")
    require("openbox", "openbox")
    if not ATSPI_LAUNCHER.exists() and not apt_install("at-spi2-core"):
        pytest.skip("at-spi2-core is not installed and could not be installed (apt-get install at-spi2-core)")
    from operator_agent.headless import SessionBus, Xvfb
    from operator_agent.perception.screen import WindowList

    home = tmp_path_factory.mktemp("home")
    with Xvfb(*SCREEN) as display, SessionBus(display) as bus:
        # Each program's settings and files stay in this test's folders.
        env = {**os.environ, **SessionBus.env(display, bus), "XDG_CONFIG_HOME": str(home / "config"),
               "XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache"),
               "GSETTINGS_BACKEND": "memory"}
        env.pop("NO_AT_BRIDGE", None)
        wm = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        windows = WindowList(display)
        try:
            poll(lambda: windows._root.get_full_property(windows._d.intern_atom("_NET_SUPPORTING_WM_CHECK"),
                                                         0) is not None, what="openbox")
            yield Desk(display, bus, env, home)
        finally:
            windows.close()
            wm.terminate()
            wm.wait(timeout=10)


@pytest.fixture
def session(desk: Desk) -> Iterator[Any]:
    from operator_agent.desktop import DesktopSession

    with DesktopSession(desk.display, session_bus=desk.bus) as s:
        assert s.accessibility == "on", s.accessibility
        yield s


def start(desk: Desk, program: str, package: str, title: str,
          *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """The program, started as a person would, until its window is listed in the tree."""
    require(program, package)
    from operator_agent.perception.atspi import Accessibility

    proc = subprocess.Popen([program, *args], env=desk.env, cwd=desk.home, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    tree = Accessibility.connect(desk.display, session_bus=desk.bus)
    try:
        poll(lambda: proc.poll() is not None or any(
            title in top.name and len(top.nodes) > 5 for top in tree.windows()), what=f"{program}'s window")
        assert proc.poll() is None, f"{program} exited with {proc.returncode}"
        yield proc
    finally:
        tree.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def galculator(desk: Desk) -> Iterator[subprocess.Popen[bytes]]:
    yield from start(desk, "galculator", "galculator", "galculator")


@pytest.fixture
def mousepad(desk: Desk) -> Iterator[subprocess.Popen[bytes]]:
    yield from start(desk, "mousepad", "mousepad", "Mousepad")


def named(obs: Observation, role: str, name: str, window: str = "") -> list[int]:
    """Indexes of the elements with exactly this role and name (in a window whose title holds
    `window`): what a model reading `[7] button "7"` picks."""
    return [e.index for e in obs.elements if e.role == role and e.name == name and window in e.frame]


def index_by_name(text: str, role: str, name: str) -> int:
    """The same, read off the observation's text as the model gets it."""
    m = re.search(rf'^\[(\d+)\] {re.escape(role)} "{re.escape(name)}"(?: |$)', text, re.M)
    assert m is not None, f'no {role} "{name}" in:\n{text}'
    return int(m.group(1))


# --- what the tree shows -----------------------------------------------------------------


async def test_every_calculator_button_and_menu_is_an_element_with_its_name(session: Any,
                                                                            galculator: Any) -> None:
    obs = await session.observe()
    mine = [e for e in obs.elements if e.frame.endswith("/galculator")]
    buttons = [e.name for e in mine if e.role == "button"]
    wanted = [*"0123456789", "+", "-", "*", "/", "=", ".", "C", "AC", "%", "sqrt", "+/-", "(", ")", "MS"]
    assert all(buttons.count(name) == 1 for name in wanted), buttons
    assert {"File", "Edit", "View", "Calculator", "Help"} <= {e.name for e in mine if e.role == "menu"}
    assert all(e.attributes.get("via") == "accessibility" for e in mine), [e for e in mine if "via" not in
                                                                           e.attributes]
    boxes = [(e.bbox.x, e.bbox.y) for e in mine if e.role == "button" and e.bbox]
    assert len(set(boxes)) == len(boxes)  # one element per button, each in its own place
    # A greyed-out button (memory recall with nothing stored) is read as text, not offered.
    assert "MR" not in buttons and any(e.name == "MR" and e.role == "text" for e in mine)


async def test_a_menu_opened_through_the_tree_lists_its_items(session: Any, mousepad: Any) -> None:
    obs = await session.observe()
    menus = {e.name for e in obs.elements if e.role == "menu" and "Mousepad" in e.frame}
    assert {"File", "Edit", "Search", "View", "Document", "Help"} <= menus, obs.text
    done = await session.perform(Click(index=named(obs, "menu", "File", "Mousepad")[0]), obs)
    assert done.ok and "accessibility tree" in (done.detail or ""), done
    opened = await session.observe()
    items = [e.name for e in opened.elements if e.role.startswith("menuitem")]
    assert {"New", "Save", "Close Window"} <= set(items), opened.text
    assert any(name.startswith("Save As") for name in items) and items.count("Save") == 1
    assert "-- popup (menu or list) --" in opened.text  # the open menu is listed first, as its own
    await session.perform(Press(keys="Escape"), opened)


async def test_a_drop_down_is_chosen_through_the_tree(session: Any, mousepad: Any) -> None:
    from operator_agent.types import Select

    obs = await session.observe()
    await session.perform(Press(keys="Control+s"), obs)
    dialog = await session.observe()
    assert dialog.title == "Save As", dialog.text
    done = await session.perform(Select(index=named(dialog, "combobox", "Text Files")[0], option="All Files"),
                                 dialog)
    assert done.ok and "accessibility tree" in (done.detail or ""), done
    after = await session.observe()
    assert named(after, "combobox", "All Files") and not named(after, "combobox", "Text Files"), after.text
    await session.perform(Press(keys="Escape"), after)


async def test_chromium_with_accessibility_on_is_read_through_its_tree(session: Any, desk: Desk,
                                                                       tmp_path: Path) -> None:
    """Chromium (and so Electron) publishes its pages' controls once accessibility is on."""
    from operator_agent.launch import DEBIAN_CHROMIUM, QUIET_ARGS, find_chromium

    page = tmp_path / "form.html"
    page.write_text("<title>Order form</title><label>City <input></label> <button>Send it</button>")
    browser = [find_chromium() or DEBIAN_CHROMIUM, "--no-sandbox", "--disable-gpu", *QUIET_ARGS,
               f"--user-data-dir={tmp_path / 'profile'}", "--force-renderer-accessibility", page.as_uri()]
    proc = subprocess.Popen(browser, env=desk.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        obs = await _observe_until(session, "Send it")
        button = next(e for e in obs.elements if e.role == "button" and e.name == "Send it")
        city = next(e for e in obs.elements if e.role == "textbox" and e.name == "City")
        assert button.attributes["via"] == city.attributes["via"] == "accessibility"
        assert button.frame.endswith("Chromium")  # in the browser's window
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_a_qt_program_is_read_and_driven_through_its_tree(session: Any, desk: Desk) -> None:
    """Qt 6 answers AT-SPI differently from GTK (no Properties.GetAll, for one): its button,
    checkbox and labelled field are elements, typing sets the field, the button is pressed."""
    pytest.importorskip("PySide6", reason="the Qt program needs PySide6 (bash scripts/install.sh --test)")
    import sys

    from operator_agent.types import Type

    app = Path(__file__).with_name("qt_form_app.py")
    proc = subprocess.Popen([sys.executable, str(app)], env={**desk.env, "QT_QPA_PLATFORM": "xcb"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        obs = await _observe_until(session, "Send it")
        mine = [e for e in obs.elements if e.frame.endswith("/Qt Order Form")]
        wanted = {("button", "Send it"), ("checkbox", "Gift wrap")}
        assert {(e.role, e.name) for e in mine} >= wanted, obs.text
        assert all(e.attributes.get("via") == "accessibility" for e in mine)
        field = next(e for e in mine if e.role == "textbox")
        typed = await session.perform(Type(index=field.index, text="Lisbon"), obs)
        assert typed.ok, typed
        obs = await session.observe()
        done = await session.perform(Click(index=named(obs, "button", "Send it")[0]), obs)
        assert done.ok, done
        after = await session.observe()
        assert after.title == "Sent: Lisbon", after.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _observe_until(session: Any, name: str, timeout: float = 30.0) -> Observation:
    """Observe again (each observation takes its time) until an element has this name."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        obs = await session.observe()
        if any(e.name == name for e in obs.elements):
            return obs
        assert time.monotonic() < deadline, f"no element named {name!r} after {timeout:g}s:\n{obs.text}"


# --- tasks through the whole loop, with a model choosing by name ----------------------------


async def _run(session: Any, replies: list[Any], task: str, tmp_path: Path, **policy: Any) -> Any:
    from operator_agent.builder import build_agent, model_planner, permissions
    from operator_agent.permissions.policy import Policy
    from operator_bench.testing.fake_openai import FakeOpenAIServer

    perms = permissions(policy=Policy.default().with_overrides(policy), interactive=False,
                        audit_path=tmp_path / "audit.sqlite", vault=None)
    with FakeOpenAIServer(replies) as server:
        planner = model_planner(model="local-model", base_url=server.base_url, api_key="test-key",
                                environment="desktop")
        try:
            agent = build_agent(planner=planner, environment=session, perms=perms, verify=False,
                                max_steps=len(replies) + 1, run_dir=tmp_path / "run", learn=False)
            return await agent.run(task)
        finally:
            await planner.aclose()
            perms.close()


def _observation(body: dict[str, Any]) -> str:
    from operator_bench.testing.script import user_text

    return user_text(body)


async def test_the_agent_opens_the_calculator_and_computes_12_times_7(session: Any, desk: Desk,
                                                                      tmp_path: Path) -> None:
    """The model starts the program itself (allowed in the policy), and the program joins the
    session's bus: its buttons come from its tree."""
    require("galculator", "galculator")

    def open_calculator(body: dict[str, Any]) -> dict[str, Any]:
        return {"reasoning": "Start the calculator.",
                "actions": [{"action": "open_app", "app": "galculator"}]}

    def press_keys(body: dict[str, Any]) -> dict[str, Any]:
        text = _observation(body)
        return {"reasoning": "Press 1, 2, times, 7, equals.", "actions": [
            {"action": "click", "index": index_by_name(text, "button", key)}
            for key in ("1", "2", "*", "7", "=")]}

    def read_result(body: dict[str, Any]) -> dict[str, Any]:
        text = _observation(body)
        shown = re.search(r'^\[\d+\] text "(\d+)"', text, re.M)
        assert shown is not None, text
        return {"reasoning": "The display shows the product.", "actions": [
            {"action": "done", "answer": shown.group(1)}]}

    from operator_agent.executors import launch

    before = {p.pid for p in launch.children()}
    try:
        result = await _run(session, [open_calculator, press_keys, read_result],
                            "compute 12 x 7 with the calculator", tmp_path, allow_apps=["galculator"])
        assert result.success and result.answer == "84", result
        obs = await session.observe()  # the program's own display, read again from the tree
        assert any(e.role == "text" and e.name == "84" and e.frame.endswith("/galculator")
                   and e.attributes.get("via") == "accessibility" for e in obs.elements), obs.text
    finally:
        for proc in launch.children():
            if proc.pid not in before:
                proc.terminate()
                proc.wait(timeout=10)


async def test_type_a_sentence_and_save_it_as_a_file(session: Any, mousepad: Any, desk: Desk,
                                                     tmp_path: Path) -> None:
    target = tmp_path / "note.txt"
    sentence = "The agent wrote this sentence through the accessibility tree."

    def write(body: dict[str, Any]) -> dict[str, Any]:
        text = _observation(body)
        field = re.search(r"^\[(\d+)\] textbox(?: |$)", text, re.M)
        assert field is not None, text
        return {"reasoning": "Type the sentence, then save.", "actions": [
            {"action": "type", "index": int(field.group(1)), "text": sentence},
            {"action": "press", "keys": "Control+s"}]}

    def name_file(body: dict[str, Any]) -> dict[str, Any]:
        text = _observation(body)
        # The dialog is on screen and drawn when the model is shown it, with its own fields.
        assert "title: Save As" in text and '"Save As (current)' not in text, text
        return {"reasoning": "Name the file and save it.", "actions": [
            {"action": "type", "index": index_by_name(text, "textbox", "Name"), "text": str(target)}]}

    def save(body: dict[str, Any]) -> dict[str, Any]:
        text = _observation(body)
        return {"reasoning": "Save.", "actions": [
            {"action": "click", "index": index_by_name(text, "button", "Save")}]}

    def finish(body: dict[str, Any]) -> dict[str, Any]:
        text = _observation(body)
        assert "note.txt - Mousepad" in text, text
        return {"reasoning": "Saved.", "actions": [{"action": "done", "answer": f"saved {target}"}]}

    result = await _run(session, [write, name_file, save, finish],
                        f"type a sentence and save it as {target}", tmp_path)
    assert result.success, result
    poll(target.exists, what=str(target))
    assert target.read_text().rstrip("\n") == sentence


# --- settling on evidence --------------------------------------------------------------------


async def test_a_window_mapped_and_titled_but_not_painted_is_waited_for(session: Any, desk: Desk) -> None:
    """A slow program's window is on the list, with its title, while the screen still shows
    what was under it: the executor waits until it is painted (old rule: two equal
    screenshots, which a window that is not painted yet gives at once)."""
    import sys

    from operator_agent.perception.screen import WindowList

    before = await session._call(session.executor.before)
    app = Path(__file__).with_name("slow_window_app.py")
    proc = subprocess.Popen([sys.executable, str(app), "Slow Dialog"], env=desk.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    windows = WindowList(desk.display)
    try:
        window = poll(lambda: next((w for w in windows.windows() if w.title == "Slow Dialog"), None),
                      what="the slow window to be mapped")
        assert await session._call(session.executor.settle, before)
        shot = await session._call(session.perceiver.grab)
        x, y = window.content.center
        ox, oy = session.perceiver.origin
        assert tuple(int(v) for v in shot[y - oy, x - ox]) == (0, 128, 255)  # BGR: painted orange
    finally:
        windows.close()
        proc.terminate()
        proc.wait(timeout=10)


# --- OCR beside the tree ---------------------------------------------------------------------


def test_a_label_in_one_window_never_names_a_field_in_another() -> None:
    """Two windows side by side: a "Password:" label at the right edge of one, an empty field
    at the left edge of the other, on the same row. Read window by window, the field is not
    named by the other window's label (it would be taken for a password field)."""
    from operator_agent.desktop import merge_by_window
    from operator_agent.perception.controls import Control
    from operator_agent.perception.ocr import TextLine
    from operator_agent.perception.screen import Region, Window

    left = Window(id=1, title="Notes", region=Region(0, 0, 400, 300))
    right = Window(id=2, title="Search", region=Region(400, 0, 400, 300))
    field = Control(role="textbox", outer=Region(410, 100, 200, 24), hole=Region(412, 102, 196, 20),
                    lighter=True)
    label = TextLine(text="Password:", region=Region(300, 104, 90, 16), conf=95.0)
    items = merge_by_window([field], [label], [left, right], (0, 0))
    box = next(it for it in items if it.role == "textbox")
    assert box.name == "" and not box.sensitive
    assert any(it.role == "text" and it.name == "Password:" for it in items)
    # In one window, the same label does name the field.
    together = merge_by_window([field], [label], [Window(id=3, title="Form", region=Region(0, 0, 800, 300))],
                                (0, 0))
    assert next(it for it in together if it.role == "textbox").name == "Password"


def test_secret_fields_from_the_tree_are_never_read_out() -> None:
    from operator_agent.perception.accessible import item_of
    from operator_agent.perception.atspi import Node, Ref
    from operator_agent.perception.screen import Region

    def field(role: str, name: str, value: str, *states: str) -> Node:
        return Node(ref=Ref(":1.5", "/org/a11y/atspi/accessible/9"), role=role, name=name,
                    states=frozenset({"showing", "enabled", "editable", *states}),
                    box=Region(10, 10, 200, 24), interfaces=frozenset({"Component", "Text", "EditableText"}),
                    value=value, length=len(value))

    card = item_of(field("text", "Card number", "4242 4242 4242 4242"))
    assert card is not None and card.sensitive and card.value is None and card.attributes["filled"] == "true"
    password = item_of(field("password text", "Login", ""))
    assert password is not None and password.sensitive and password.attributes["filled"] == "false"
    plain = item_of(field("text", "City", "Lisbon"))
    assert plain is not None and not plain.sensitive and plain.value == "Lisbon"
    assert plain.attributes["editable"] == "text"
    assert plain.attributes["ref"] == ":1.5/org/a11y/atspi/accessible/9"
    # A greyed-out button is read as text and cannot be acted on through the tree.
    grey = item_of(Node(ref=Ref(":1.5", "/x"), role="push button", name="Save", states=frozenset({"showing"}),
                        box=Region(0, 0, 80, 30), interfaces=frozenset({"Action", "Component"})))
    assert grey is not None and grey.role == "text" and "ref" not in grey.attributes
