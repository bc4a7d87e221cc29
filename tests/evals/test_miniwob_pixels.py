"""MiniWoB++ tasks that list nothing to act on by index, solved by a scripted "vision" model:
it reads the screenshot's pixels, never the page's DOM, and acts with pixel actions that pass
the real permission gate. A task that lists no element shows the model its screenshot."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator, Sequence
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
    StepRecord,
    Usage,
    Verification,
)
from operator_bench.testing.script import find_index

Box = tuple[int, int, int, int]  # left, top, right, bottom (pixels, inclusive)


def pixels(observation: Observation) -> np.ndarray:
    assert observation.screenshot is not None, "the model was shown no screenshot"
    return np.asarray(Image.open(io.BytesIO(observation.screenshot)).convert("RGB"))


def box_of(image: np.ndarray, rgb: tuple[int, int, int]) -> Box | None:
    """The box around every pixel of exactly this colour (what a vision model sees as "the red box")."""
    ys, xs = np.nonzero(np.all(image == rgb, axis=-1))
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def centre(box: Box) -> tuple[int, int]:
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2


class VisionScript:
    """A fake vision model: each step a function of the screenshot (and the page text, for the
    indexes a set-of-marks picture would show) returns the decision."""

    model = "vision-script"

    def __init__(self, steps: Sequence[Any]) -> None:
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


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_drag_box_is_solved_by_pixels(episode: Any, tmp_path: Path, seed: int) -> None:
    env, instruction, page = await episode("drag-box", seed)
    planner = VisionScript([drag_small_into_large, submit])
    # The real gate, as an evaluation builds it (the shipped policy, nobody to ask).
    perms = permissions(policy=Policy.default(), interactive=False, audit_path=tmp_path / "audit.sqlite",
                        vault=None)
    try:
        agent = build_agent(planner=planner, environment=env, perms=perms, verify=False, max_steps=4,
                            run_dir=tmp_path / "run", learn=False)
        result = await agent.run(instruction)
    finally:
        perms.close()
    assert result.success, result.message
    reward = await read_reward(page)
    assert reward.done and reward.raw > 0, reward


@pytest.mark.parametrize("task", ["click-shape", "tic-tac-toe", "hover-shape", "chase-circle"])
async def test_a_task_that_lists_no_element_shows_its_screenshot(episode: Any, task: str) -> None:
    env, _, page = await episode(task, 0)
    obs = await env.observe(screenshot=False)  # as in a run without screenshots
    assert not obs.elements and DRAWN_NOTE in obs.text
    image = pixels(obs)
    assert image.shape[:2] == (page.viewport_size["height"], page.viewport_size["width"])
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 2  # something is drawn on it
