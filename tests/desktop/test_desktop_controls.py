"""Controls found with OpenCV on the real Tk form, and template matching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from operator_agent.perception.controls import find_controls, find_template
from operator_agent.perception.screen import Region, to_gray
from operator_bench.testing.script import find_index


def _grab(desktop: Any) -> np.ndarray:
    return desktop._thread.submit(desktop.perceiver.grab).result()


async def test_controls_of_the_form(desktop: Any, form_app: Any) -> None:
    gray = to_gray(_grab(desktop))
    roles = sorted(c.role for c in find_controls(gray))
    # Fields and the button are "box" until their text decides; see the observation below.
    assert roles == ["box", "box", "box", "box", "box", "checkbox", "combobox"], roles

    obs = await desktop.observe()
    lines = [ln for ln in obs.text.splitlines() if ln.startswith("[")]
    assert [ln.split(" @(")[0] for ln in lines] == [
        '[1] textbox "Full name" value=""',
        '[2] textbox "Email" value=""',
        '[3] textbox "City" value=""',
        '[4] textbox "Password" secret',
        '[5] combobox "Country" value="Choose..."',
        '[6] checkbox "Subscribe to newsletter" unchecked',
        '[7] button "Save"',
    ]
    assert obs.tabs and obs.tabs[0].active and obs.tabs[0].title == "Operator Test Form"


async def test_template_matching_finds_a_saved_image(desktop: Any, form_app: Any, tmp_path: Path) -> None:
    obs = await desktop.observe()
    save = obs.element(find_index(obs.text, "Save", "button"))
    assert save is not None and save.bbox is not None
    b = save.bbox
    image = _grab(desktop)
    icon = tmp_path / "save.png"
    cv2.imwrite(str(icon), image[int(b.y):int(b.y + b.height), int(b.x):int(b.x + b.width)])

    hits = find_template(to_gray(image), icon)
    assert len(hits) == 1
    region, score = hits[0]
    assert region == Region(int(b.x), int(b.y), int(b.width), int(b.height)) and score > 0.99
    assert find_template(np.full((300, 300), 200, np.uint8), icon) == []

    # Named images become elements the model can click.
    desktop.perceiver.icons = {"save icon": icon}
    try:
        obs = await desktop.observe()
    finally:
        desktop.perceiver.icons = {}
    assert find_index(obs.text, "save icon", "icon") > 0


async def test_a_small_change_is_read_alone_and_equals_a_full_read(desktop: Any, form_app: Any) -> None:
    from operator_agent.perception.controls import merge, to_elements
    from operator_agent.perception.ocr import ScreenReader
    from operator_agent.types import Press, Type

    obs = await desktop.observe()
    await desktop.perform(Type(index=find_index(obs.text, "City", "textbox"), text="Lisbo"), obs)
    await desktop.observe()  # the screen as it is now is the reader's last one
    await desktop.perform(Press(keys="n"), obs)  # one more letter: a small change

    def read_both() -> tuple[Any, Any, Any]:
        perceiver = desktop.perceiver
        gray = to_gray(perceiver.grab())
        controls = find_controls(gray)
        frames = [f for c in controls for f in c.frames()]
        incremental = perceiver.reader.read(gray, frames)
        stats = perceiver.reader.stats
        full = ScreenReader(pool=perceiver.reader.pool).read(gray, frames)
        return (to_elements(merge(controls, incremental)), stats, to_elements(merge(controls, full)))

    incremental, stats, full = desktop._thread.submit(read_both).result()
    assert not stats.full and stats.pages <= 2, stats
    assert sum(w.area for w in stats.windows) < 0.02 * 1280 * 800, stats.windows
    assert incremental == full
    city = next(e for e in incremental if e.name == "City")
    assert city.value == "Lisbon"


async def test_a_region_of_the_screen(desktop: Any, form_app: Any) -> None:
    """Observing only a region: the same elements, in screen coordinates."""
    from operator_agent.desktop import DesktopPerceiver
    from operator_agent.perception.ocr import ScreenReader

    whole = await desktop.observe()

    def region_observe() -> Any:
        perceiver = DesktopPerceiver(desktop.display, region=Region(20, 20, 500, 400),
                                     reader=ScreenReader(pool=desktop.perceiver.reader.pool))
        try:
            return perceiver.observe()
        finally:
            perceiver.capture.close()
            perceiver.window_list.close()

    part = desktop._thread.submit(region_observe).result()
    assert [(e.role, e.name, e.bbox) for e in part.elements] == [
        (e.role, e.name, e.bbox) for e in whole.elements]
    assert "screen: 500x400" in part.text


def test_a_caret_touching_the_text_does_not_split_the_field() -> None:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (320, 60), 217)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 15, 264, 38), fill=255)
    draw.line((20, 15, 264, 15), fill=130, width=2)  # a sunken frame: dark top and left
    draw.line((20, 15, 20, 38), fill=130, width=2)
    font = ImageFont.load_default(size=15)
    draw.text((24, 18), "abcD", font=font, fill=0)
    right = int(draw.textbbox((24, 18), "abcD", font=font)[2])
    draw.rectangle((right, 18, right + 1, 36), fill=0)  # the caret, touching the D and the frame
    controls = find_controls(np.array(image))
    assert [c.role for c in controls] == ["box"], controls
    assert controls[0].hole.x <= 23 and controls[0].hole.right >= 262
    assert controls[0].lighter


def test_buttons_side_by_side_stay_apart() -> None:
    """A keypad: framed buttons 2 pixels apart. What parts two of them is two frames with
    the background between, not a caret cutting one field in two."""
    image = np.full((60, 260), 255, np.uint8)
    for left in range(10, 240, 48):  # 1-pixel black frames, 46 wide, 2 apart
        cv2.rectangle(image, (left, 10), (left + 45, 40), 0, 1)
        cv2.putText(image, "7", (left + 17, 32), cv2.FONT_HERSHEY_PLAIN, 1.2, 0, 1)
    controls = find_controls(image)
    assert len(controls) == 5, controls
    for c, left in zip(controls, range(10, 240, 48), strict=True):
        assert left <= c.hole.x and c.hole.right <= left + 46, (left, c.hole)
