"""Opening a desktop session: clear errors without a display, the virtual display
helper, and the desktop:// address the permission gate reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_agent.desktop import DesktopSession, Xvfb, open_desktop_session
from operator_agent.perception.screen import desktop_url, parse_desktop_url
from operator_agent.protocols import ConfigError, Environment


def test_no_display_says_how_to_use_xvfb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(ConfigError) as info:
        open_desktop_session()
    message = str(info.value)
    assert "DISPLAY is not set" in message
    assert 'xvfb-run -s "-screen 0 1280x800x24" operator run --desktop' in message
    with pytest.raises(ConfigError, match="xvfb-run"):
        DesktopSession()


def test_a_display_that_is_not_there(xvfb_display: str) -> None:
    with pytest.raises(ConfigError, match=r"cannot open the X display :4242 .*xvfb-run"):
        open_desktop_session(":4242")


def test_open_desktop_session_on_a_real_display(xvfb_display: str, tesseract: str) -> None:
    with open_desktop_session(xvfb_display) as session:
        assert isinstance(session, Environment)
        assert session.display == xvfb_display


def test_xvfb_starts_on_a_free_display_and_stops() -> None:
    import shutil

    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    xvfb = Xvfb(640, 480)
    display = xvfb.start()
    try:
        assert display.startswith(":") and Path(f"/tmp/.X11-unix/X{display[1:]}").exists()
        from operator_agent.perception.screen import ScreenCapture

        capture = ScreenCapture(display)
        assert capture.grab().shape == (480, 640, 3)
        capture.close()
    finally:
        xvfb.stop()
    assert xvfb.proc is None


def test_desktop_urls() -> None:
    assert desktop_url(":1", "Invoice - Editor") == "desktop://:1/Invoice - Editor"
    odd = "Report 100% done / draft? #2"
    url = desktop_url(":1", odd)
    assert "/" not in url[len("desktop://:1/"):] and "?" not in url and "#" not in url
    assert parse_desktop_url(url) == (":1", odd)
    assert parse_desktop_url(desktop_url(":0", "Café – Übersicht")) == (":0", "Café – Übersicht")
    with pytest.raises(ValueError):
        parse_desktop_url("https://example.org/")
