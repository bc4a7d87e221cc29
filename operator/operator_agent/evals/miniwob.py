"""MiniWoB++ tasks from the `miniwob` package, run through the real agent loop.

The package's html folder is served over http on loopback; an episode is started
the way the package's own environment does it (`Math.seedrandom(seed)` then
`core.startEpisodeReal()`), with the episode time limit raised so a slow model is
not cut off, and the outcome is read from the page's reward globals
(WOB_RAW_REWARD_GLOBAL above zero is a success).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from ..localserver import LocalServer
from ..protocols import ConfigError, Environment
from ..types import Action, ActionResult, Observation, Screenshot

ENDED_NOTE = "(The task page has ended this episode: it accepts no more input. Finish now.)"
DRAWN_NOTE = ("(Nothing on this page is listed as an element: it is drawn (SVG, canvas) or moved by the "
              "mouse. Act on the screenshot at its pixels: click_at, drag, move, type_at.)")

_UTTERANCE_JS = """() => { const u = core.getUtterance();
  return typeof u === 'string' ? u : (u && u.utterance) || JSON.stringify(u); }"""

# core.startEpisode would show the "START" cover and, when clicked, a new problem that
# resets the reward globals; replacing it keeps the first episode's reward readable.
# The reward HUD is hidden: it is not part of the task, and it shows the last reward.
_START_JS = """([seed, limit]) => {
  Math.seedrandom(seed);
  core.EPISODE_MAX_TIME = limit;
  core.startEpisode = function () {};
  core.startEpisodeReal();
  for (const id of ['reward-display', 'click-canvas']) {
    const el = document.getElementById(id);
    if (el) el.style.display = 'none';
  }
  const ready = typeof WOB_TASK_READY !== 'undefined' && WOB_TASK_READY === true;
  return ready ? (UTTERANCE)() : null;  // the instruction, in the same round trip
}""".replace("UTTERANCE", _UTTERANCE_JS)

_REWARD_JS = """() => ({done: WOB_DONE_GLOBAL, reward: WOB_REWARD_GLOBAL, raw: WOB_RAW_REWARD_GLOBAL,
                       reason: WOB_REWARD_REASON === null ? null : String(WOB_REWARD_REASON)})"""


def html_dir() -> Path:
    try:
        import miniwob
    except ImportError:
        raise ConfigError("the MiniWoB++ suite needs the miniwob package: "
                          "pip install 'operator-agent[evals]' (or pip install miniwob)") from None
    return Path(miniwob.__file__).resolve().parent / "html"


def list_tasks(root: Path | None = None) -> dict[str, str]:
    """Every task in the package: name -> page path under the html folder.

    The miniwob/*.html pages, and the FlightWoB sites as flight.<name> (flight/<name>/wrapper.html).
    """
    root = root or html_dir()
    tasks = {p.stem: f"miniwob/{p.name}" for p in sorted((root / "miniwob").glob("*.html"))}
    for wrapper in sorted((root / "flight").glob("*/wrapper.html")):
        tasks[f"flight.{wrapper.parent.name}"] = f"flight/{wrapper.parent.name}/wrapper.html"
    return tasks


class MiniWobServer(LocalServer):
    """The package's html folder on 127.0.0.1 (FlightWoB needs http, not file://)."""

    def __init__(self, root: Path | None = None) -> None:
        super().__init__(root or html_dir())


@dataclass
class Reward:
    done: bool
    reward: float
    raw: float
    reason: str | None


async def start_episode(page: Page, url: str, seed: int, limit_ms: int) -> str:
    """Open the task page, start a seeded episode, and return its instruction."""
    await page.goto(url, wait_until="load")  # core.startEpisode runs on window.onload
    instruction = await page.evaluate(_START_JS, [seed, limit_ms])
    if instruction is None:  # some tasks build the problem asynchronously (FlightWoB loads an iframe)
        await page.wait_for_function("WOB_TASK_READY === true", timeout=30_000)
        instruction = await page.evaluate(_UTTERANCE_JS)
    return str(instruction)


async def read_reward(page: Page) -> Reward:
    try:
        r: dict[str, Any] = await page.evaluate(_REWARD_JS)
    except PlaywrightError:  # the agent left the task page: no reward to read
        return Reward(done=False, reward=0.0, raw=0.0, reason="the task page was left")
    return Reward(done=bool(r["done"]), reward=float(r["reward"] or 0), raw=float(r["raw"] or 0),
                  reason=r["reason"])


class MiniWobEnvironment:
    """The browser session, plus a note in the observation once the page has ended the
    episode (in MiniWoB a cover appears then): the model knows to stop. A page that lists
    no element (shapes in SVG, a canvas, things to drag or hover) is observed with its
    screenshot whether or not screenshots were asked for: it is all a model can act on."""

    def __init__(self, inner: Environment, page: Page) -> None:
        self.inner = inner
        self.page = page
        self.actions: frozenset[str] = getattr(inner, "actions", frozenset())  # the browser's

    async def observe(self, *, screenshot: Screenshot = False) -> Observation:
        obs = await self.inner.observe(screenshot=screenshot)
        if not obs.elements and (obs.screenshot is None or screenshot == "jpeg"):
            obs = await self.inner.observe(screenshot=True)  # exact pixels, for the model
        if not obs.elements:
            obs.text = f"{obs.text}\n{DRAWN_NOTE}"
        if not self.page.is_closed() and (await read_reward(self.page)).done:
            obs.text = f"{ENDED_NOTE}\n{obs.text}"
        return obs

    async def picture(self) -> bytes | None:
        """The trace's picture of the page as last observed (see BrowserSession.picture)."""
        picture = getattr(self.inner, "picture", None)
        return await picture() if picture is not None else None

    async def perform(self, action: Action, observation: Observation) -> ActionResult:
        return await self.inner.perform(action, observation)
