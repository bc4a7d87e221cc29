"""MiniWoB++ tasks solved by a scripted "vision" model through the real agent loop, with pixel
actions that pass the real permission gate:

- drag-box: the boxes are found by their colours on the screenshot, never in the page's DOM;
- use-slider: the slider's handle is found on the screenshot and clicked to focus it, then arrow
  keys step it to the value asked for (read, as the page shows it, from the observation's text);
- click-shape: the shapes are SVG, nothing is listed; the fake model is an oracle for what is
  where (it reads the scene from the page before the run) and clicks at a pixel, where the
  screenshot must show a filled shape's colour (a character's box: ink).

A task that lists no element shows the model its screenshot."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("miniwob", reason="the MiniWoB++ suite needs the miniwob package "
                                      "(pip install 'operator-agent[evals]')")

from operator_agent.builder import build_agent, permissions
from operator_agent.evals.miniwob import (
    DRAWN_NOTE,
    ENDED_NOTE,
    MiniWobEnvironment,
    MiniWobServer,
    list_tasks,
    read_reward,
    start_episode,
)
from operator_agent.permissions.policy import Policy
from operator_agent.session import BrowserSession
from operator_agent.types import (
    Decision,
    Observation,
    PlannerOutput,
    PreferenceNote,
    RunResult,
    StepRecord,
    Usage,
    Verification,
)
from operator_bench.testing.script import find_index

Box = tuple[int, int, int, int]  # left, top, right, bottom (pixels, inclusive)
Step = Callable[[np.ndarray, str], dict[str, Any]]  # (screenshot, page text) -> decision


def pixels(observation: Observation) -> np.ndarray:
    assert observation.screenshot is not None, "the model was shown no screenshot"
    return np.asarray(Image.open(io.BytesIO(observation.screenshot)).convert("RGB"))


def box_of(image: np.ndarray, rgb: tuple[int, int, int]) -> Box | None:
    """The box around every pixel of exactly this colour (what a vision model sees as "the red box")."""
    ys, xs = np.nonzero(np.all(image == rgb, axis=-1))
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def solid_box_of(image: np.ndarray, rgb: tuple[int, int, int], side: int = 5) -> Box | None:
    """The box around every pixel of this colour inside a side x side square of it: a painted
    area, not the odd anti-aliased pixel of some text that happens to have the colour."""
    mask = np.all(image == rgb, axis=-1)
    h, w = mask.shape[0] - side + 1, mask.shape[1] - side + 1
    solid = np.ones((h, w), dtype=bool)  # solid[y, x]: the square with top left x, y is all rgb
    for dy in range(side):
        for dx in range(side):
            solid &= mask[dy:dy + h, dx:dx + w]
    ys, xs = np.nonzero(solid)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + side - 1, int(ys.max()) + side - 1


def centre(box: Box) -> tuple[int, int]:
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2


class VisionScript:
    """A fake vision model: each step a function of the screenshot (and the page text, for the
    indexes a set-of-marks picture would show) returns the decision."""

    model = "vision-script"
    sees_screenshots = True  # it acts on the exact pixels: a PNG every step

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = list(steps)
        self.seen: list[Observation] = []

    async def decide(self, task: str, observation: Observation, history: Sequence[StepRecord],
                     preferences: Sequence[PreferenceNote] = ()) -> PlannerOutput:
        self.seen.append(observation)
        step = self.steps.pop(0) if self.steps else (
            lambda image, text: {"reasoning": "no more steps", "actions": [
                {"action": "done", "answer": "script exhausted", "success": False}]})
        decision = Decision.model_validate(step(pixels(observation), observation.text))
        return PlannerOutput(decision=decision, usage=Usage(calls=1), model=self.model)

    async def verify(self, task: str, observation: Observation, answer: str) -> tuple[Verification, Usage]:
        return Verification(ok=True, reason="the page's reward judges"), Usage(calls=1)


def drag_small_into_large(image: np.ndarray, text: str) -> dict[str, Any]:
    small, large = box_of(image, (255, 0, 0)), box_of(image, (0, 0, 255))  # drag-box: red into blue
    assert small is not None and large is not None, "no red or blue box on the screenshot"
    (x0, y0), (x1, y1) = centre(small), centre(large)
    return {"reasoning": "the small red box goes into the middle of the large blue one", "actions": [
        {"action": "drag", "from_x": x0, "from_y": y0, "to_x": x1, "to_y": y1}]}


def submit(image: np.ndarray, text: str) -> dict[str, Any]:
    return {"reasoning": "submit", "actions": [
        {"action": "click", "index": find_index(text, "Submit")}, {"action": "done", "answer": "done"}]}


# --- use-slider ---------------------------------------------------------------------------------

# jQuery UI's default theme paints a slider's handle #f6f6f6 (.ui-state-default) in a #c5c5c5 border.
HANDLE = (246, 246, 246)


def slider_reading(text: str) -> tuple[int, int]:
    """The value asked for and the value the slider shows (its own line), as the page's text reads."""
    wanted = re.search(r"Select (-?\d+) with the slider", text)
    shown = re.findall(r"^(-?\d+)$", text, flags=re.MULTILINE)
    assert wanted is not None and len(shown) == 1, text
    return int(wanted.group(1)), int(shown[0])


def click_slider_handle(image: np.ndarray, text: str) -> dict[str, Any]:
    handle = solid_box_of(image, HANDLE)
    assert handle is not None, "no slider handle on the screenshot"
    x, y = centre(handle)
    return {"reasoning": "the slider's handle: a click at its centre focuses it and leaves its value",
            "actions": [{"action": "click_at", "x": x, "y": y}]}


def step_slider_to_value(image: np.ndarray, text: str) -> dict[str, Any]:
    wanted, shown = slider_reading(text)
    if wanted == shown:
        return submit(image, text)
    # A focused jQuery UI slider steps up on ArrowRight (as on ArrowUp), whichever way it lies.
    key = "ArrowRight" if wanted > shown else "ArrowLeft"
    return {"reasoning": f"the slider shows {shown}: {abs(wanted - shown)} steps to {wanted}",
            "actions": [{"action": "press", "keys": " ".join([key] * abs(wanted - shown))}]}


def submit_slider_value(image: np.ndarray, text: str) -> dict[str, Any]:
    wanted, shown = slider_reading(text)
    assert shown == wanted, f"the slider shows {shown}, not {wanted}"
    return submit(image, text)


# --- click-shape --------------------------------------------------------------------------------

COLOURS: dict[str, tuple[int, int, int]] = {  # shapes.COLORS, as CSS names them
    "red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255), "aqua": (0, 255, 255),
    "black": (0, 0, 0), "magenta": (255, 0, 255), "yellow": (255, 255, 0)}
SHAPE_TAGS = {"rect": "rectangle", "circle": "circle", "polygon": "triangle"}
LARGE = 20.0  # shapes.renderGrid draws a large item 20 px (a rect's side, a circle's diameter, a font size)

# Each item of the scene: its tag, fill, text, drawn size and box in viewport pixels.
_SCENE_JS = """() => [...document.querySelectorAll('#area_svg > *')].map(el => {
  const r = el.getBoundingClientRect();
  return {tag: el.tagName, fill: el.getAttribute('fill'), text: el.textContent,
          size: el.tagName === 'text' ? parseFloat(el.getAttribute('font-size')) : el.getBBox().width,
          box: [r.left, r.top, r.width, r.height]};
})"""


@dataclass(frozen=True)
class Shape:
    """One item of a click-shape scene, in shapes.js's terms."""

    type: str  # letter, digit or shape
    text: str  # the letter or digit, or circle, rectangle, triangle
    color: str
    large: bool
    box: tuple[float, float, float, float]  # left, top, width, height (viewport pixels)

    def point(self) -> tuple[int, int]:
        """The pixel at the centre of its box (inside a triangle too: it is half as wide there)."""
        left, top, width, height = self.box
        return int(left + width / 2), int(top + height / 2)


async def read_scene(page: Any) -> list[Shape]:
    """The items drawn in the SVG (fixed once the episode has started)."""
    scene: list[Shape] = []
    for item in await page.evaluate(_SCENE_JS):
        if item["tag"] == "text":
            kind, text = ("digit" if item["text"].isdigit() else "letter"), item["text"]
        else:
            kind, text = "shape", SHAPE_TAGS[item["tag"]]
        left, top, width, height = item["box"]
        scene.append(Shape(kind, text, item["fill"], item["size"] == LARGE, (left, top, width, height)))
    return scene


def described(instruction: str) -> tuple[str, str, str]:
    """The parts of shapes.generalDesc in "Click on a <desc>": size ("" or large, small), colour
    ("" or its name) and what ("item", a type, or a shape's or character's text)."""
    *words, what = instruction.removeprefix("Click on a ").split()
    size = words.pop(0) if words and words[0] in ("large", "small") else ""
    colour = words.pop(0) if words and words[0] in COLOURS else ""
    assert not words, instruction
    return size, colour, what


def matches(shape: Shape, parts: tuple[str, str, str]) -> bool:
    """shapes.shapeMatchesText."""
    size, colour, what = parts
    return ((not size or size == ("large" if shape.large else "small"))
            and (not colour or colour == shape.color)
            and (what == "item" or what in (shape.text, shape.type)))


def click_shape(shape: Shape) -> Step:
    def step(image: np.ndarray, text: str) -> dict[str, Any]:
        x, y = shape.point()
        if shape.type == "shape":  # filled: the screenshot shows its colour where it is clicked
            assert tuple(image[y, x]) == COLOURS[shape.color], (shape, image[y, x])
        else:  # a character's thin, anti-aliased strokes: its box shows ink at least
            left, top, width, height = (int(v) for v in shape.box)
            assert np.any(image[top:top + height + 1, left:left + width + 1] != 255), shape
        return {"reasoning": f"the {shape.color} {shape.text} is the one asked for", "actions": [
            {"action": "click_at", "x": x, "y": y}]}

    return step


def finish(image: np.ndarray, text: str) -> dict[str, Any]:
    assert ENDED_NOTE in text, "the click did not end the episode"
    return {"reasoning": "the page has ended the episode", "actions": [
        {"action": "done", "answer": "clicked it"}]}


@pytest.fixture(scope="module")
def miniwob() -> Iterator[MiniWobServer]:
    with MiniWobServer() as server:
        yield server


@pytest.fixture
async def episode(context: Any, miniwob: MiniWobServer) -> AsyncIterator[Any]:
    """start(task, seed) -> (environment, instruction, page) of a seeded episode."""
    async def start(task: str, seed: int) -> tuple[MiniWobEnvironment, str, Any]:
        page = await context.new_page()
        instruction = await start_episode(page, miniwob.url("/" + list_tasks()[task]), seed, 600_000)
        return MiniWobEnvironment(BrowserSession(context), page), instruction, page

    yield start


async def solve(steps: Sequence[Step], env: MiniWobEnvironment, instruction: str, page: Any,
                tmp_path: Path) -> None:
    """Run the scripted model through the real gate, as an evaluation builds it (the shipped
    policy, nobody to ask): the run succeeds and the page's own reward says solved."""
    perms = permissions(policy=Policy.default(), interactive=False, audit_path=tmp_path / "audit.sqlite",
                        vault=None)
    try:
        agent = build_agent(planner=VisionScript(steps), environment=env, perms=perms, verify=False,
                            max_steps=len(steps) + 2, run_dir=tmp_path / "run", learn=False)
        result: RunResult = await agent.run(instruction)
    finally:
        perms.close()
    assert result.success, result.message
    reward = await read_reward(page)
    assert reward.done and reward.raw > 0, reward


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_drag_box_is_solved_by_pixels(episode: Any, tmp_path: Path, seed: int) -> None:
    env, instruction, page = await episode("drag-box", seed)
    await solve([drag_small_into_large, submit], env, instruction, page, tmp_path)


# Seed 1 asks for the value the slider already shows (nothing to move): 0 and 8 step a vertical
# slider down and up, 2 a horizontal one down.
@pytest.mark.parametrize("seed", [0, 2, 8])
async def test_use_slider_is_solved_by_pixels(episode: Any, tmp_path: Path, seed: int) -> None:
    env, instruction, page = await episode("use-slider", seed)
    await solve([click_slider_handle, step_slider_to_value, submit_slider_value], env, instruction, page,
                tmp_path)


# Seeds 1 and 2 ask for characters, as 0 does; 4 and 6 ask for a (small green) triangle and a
# (large black) circle, so a filled shape's colour is checked where it is clicked.
@pytest.mark.parametrize("seed", [0, 4, 6])
async def test_click_shape_is_solved_by_pixels(episode: Any, tmp_path: Path, seed: int) -> None:
    env, instruction, page = await episode("click-shape", seed)
    parts = described(instruction)
    target = next(shape for shape in await read_scene(page) if matches(shape, parts))
    await solve([click_shape(target), finish], env, instruction, page, tmp_path)


@pytest.mark.parametrize("task", ["click-shape", "tic-tac-toe", "hover-shape", "chase-circle"])
async def test_a_task_that_lists_no_element_shows_its_screenshot(episode: Any, task: str) -> None:
    env, _, page = await episode(task, 0)
    obs = await env.observe(screenshot=False)  # as in a run without screenshots
    assert not obs.elements and DRAWN_NOTE in obs.text
    image = pixels(obs)
    assert image.shape[:2] == (page.viewport_size["height"], page.viewport_size["width"])
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 2  # something is drawn on it


async def test_no_task_shows_the_model_neither_an_element_nor_a_screenshot(
        context: Any, miniwob: MiniWobServer) -> None:
    """Every one of the package's tasks, observed as a run without screenshots would: each shows
    the model an element to act on or, failing that, its screenshot."""
    tasks = list_tasks()
    blind, drawn = [], []
    page = await context.new_page()
    for name, path in tasks.items():
        await start_episode(page, miniwob.url("/" + path), 0, 600_000)
        obs = await MiniWobEnvironment(BrowserSession(context), page).observe(screenshot=False)
        if not obs.elements:
            drawn.append(name)
            if obs.screenshot is None:
                blind.append(name)
    assert len(tasks) >= 134 and not blind, f"{len(blind)} of {len(tasks)} tasks show nothing: {blind}"
    assert "click-shape" in drawn and "click-button" not in drawn  # the sweep tells the two apart
