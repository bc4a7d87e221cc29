"""Windows under a real window manager (openbox, EWMH): titles, focus, the windows as
tabs, and switching between them with SwitchTab."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from desktop_helpers import FORM_APP, poll, require

from operator_agent.types import SwitchTab, Type
from operator_bench.testing.script import find_index

SECOND = ("import tkinter as tk; r = tk.Tk(); r.title('Second window'); r.geometry('320x200+600+300'); "
          "tk.Label(r, text='Hello from the second window').pack(pady=40); r.mainloop()")


@pytest.fixture
def wm_display(tesseract: str, tk_python: str, tmp_path: Path) -> Iterator[str]:
    """A display of its own with openbox and two Tk windows on it."""
    require("Xvfb", "xvfb")
    require("openbox", "openbox")
    from operator_agent.desktop import Xvfb
    from operator_agent.perception.screen import WindowList

    with Xvfb(1024, 700) as display:
        env = {**os.environ, "DISPLAY": display}
        procs = [subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        windows = WindowList(display)
        try:
            # The window manager owns the screen once it announces itself (EWMH).
            poll(lambda: windows._root.get_full_property(windows._d.intern_atom("_NET_SUPPORTING_WM_CHECK"),
                                                         0) is not None, what="openbox")
            for args in ([tk_python, str(FORM_APP), str(tmp_path / "form.json")], [tk_python, "-c", SECOND]):
                procs.append(subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
            poll(lambda: {"Operator Test Form", "Second window"} <= {w.title for w in windows.windows()},
                 what="both windows")
            yield display
        finally:
            windows.close()
            for proc in reversed(procs):
                proc.terminate()
                proc.wait(timeout=10)


async def test_windows_are_tabs_and_switch(wm_display: str) -> None:
    from operator_agent.desktop import DesktopSession

    with DesktopSession(wm_display) as session:
        assert await session.settle()
        obs = await session.observe()
        titles = {t.title: t for t in obs.tabs}
        assert set(titles) == {"Operator Test Form", "Second window"}
        assert sum(t.active for t in obs.tabs) == 1
        assert obs.title in titles and titles[obs.title].active
        assert '-- window "Second window"' in obs.text and "Hello from the second window" in obs.text

        for title in ("Second window", "Operator Test Form"):
            result = await session.perform(SwitchTab(tab=titles[title].index), obs)
            assert result.ok, result.error
            obs = await session.observe()
            assert obs.title == title and obs.url.endswith("/" + title)
            assert f'-- window "{title}" (focused) --' in obs.text

        field = find_index(obs.text, "Full name", "textbox")
        assert (await session.perform(Type(index=field, text="Grace Hopper"), obs)).ok
        obs = await session.observe()
        assert 'textbox "Full name" value="Grace Hopper"' in obs.text
        # The window manager's title-bar buttons are buttons, not checkboxes.
        assert "checkbox checked" not in obs.text
    assert sys.modules["pyautogui._pyautogui_x11"]._display.get_display_name() == wm_display
