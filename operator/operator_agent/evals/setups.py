"""What a task starts from, and what is read back once it has run: the worker's
practice sites reset (and their server state, catalogue and schedule for the checks),
or a seeded MiniWoB episode (and its reward)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext

from ..permissions.vault import Vault
from ..protocols import Environment
from ..session import BrowserSession
from .checks import Outcome
from .miniwob import MiniWobEnvironment, read_reward, start_episode
from .tasks import Task
from .worker import Worker

STATE_SITES = ("shop", "flights", "payments")


@dataclass
class Setup:
    env: Environment
    goal: str  # the task's words (MiniWoB: the instruction on the page)
    site_url: str  # the site's root, for planners that replay what was recorded elsewhere
    read_back: Callable[[Outcome], Awaitable[None]]  # fills the outcome from the servers / page
    vault: Vault | None = None
    start_url: str | None = None  # opened by the episode once the gate guards the network


def _cheapest(db: Any, kind: str) -> float | None:
    row = db.one("SELECT min(v.price) AS cents FROM variants v JOIN products p ON p.id = v.product_id"
                 " WHERE p.kind = ? AND v.stock > 0", (kind,))
    return None if row is None or row["cents"] is None else row["cents"] / 100


def _itineraries(schedule: Any, origin: str, dest: str, day: str) -> list[dict[str, Any]]:
    try:
        found = schedule.search(origin, dest, dt.date.fromisoformat(day))
    except (KeyError, ValueError):  # an unknown airport or a malformed date sells nothing
        return []
    return [{"id": i.id, "price": i.price / 100, "stops": i.stops, "redeye": i.redeye} for i in found]


async def site_setup(worker: Worker, task: Task, seed: int, context: BrowserContext) -> Setup:
    from operator_bench.sites.vault import practice_vault  # the practice sites are the bench's

    sites = await worker.sites(seed)
    vault = practice_vault(sites) if task.vault or worker.settings.vault else None
    sites.reset()
    if task.knobs:
        sites.configure(**task.knobs)
    if task.dismiss_banners:
        await context.add_cookies(sites.dismissed_cookies())  # type: ignore[arg-type]
    env = BrowserSession(context, vault=vault)  # the executor fills placeholders from it
    root = sites.url(task.site).rstrip("/")
    shop, flights = sites.shop, sites.flights

    async def read_servers(o: Outcome) -> None:
        o.state = {name: sites.state(name) for name in STATE_SITES}
        if shop is not None:
            o.product = shop.catalog.product
            o.cheapest = functools.partial(_cheapest, shop.catalog.db)
        if flights is not None:
            o.itineraries = functools.partial(_itineraries, flights.schedule)

    return Setup(env, task.goal or "", root + "/", read_servers, vault,
                 start_url=root + "/" + task.start.lstrip("/"))


async def miniwob_setup(worker: Worker, task: Task, seed: int, context: BrowserContext) -> Setup:
    page = context.pages[0] if context.pages else await context.new_page()
    url = worker.miniwob().url("/" + task.start)
    instruction = await start_episode(page, url, seed, task.episode_ms)
    env = MiniWobEnvironment(BrowserSession(context), page)

    async def read_reward_globals(o: Outcome) -> None:
        reward = await read_reward(page)
        o.raw_reward, o.reward_reason = reward.raw, reward.reason
        o.state = {"miniwob": {"done": reward.done, "reward": reward.reward, "raw": reward.raw}}

    parts = urlsplit(url)
    return Setup(env, task.goal or instruction, f"{parts.scheme}://{parts.netloc}/", read_reward_globals)


async def set_up(worker: Worker, task: Task, seed: int, context: BrowserContext) -> Setup:
    setup = miniwob_setup if task.site == "miniwob" else site_setup
    return await setup(worker, task, seed, context)
