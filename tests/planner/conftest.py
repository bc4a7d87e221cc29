"""Planners against the fake OpenAI-compatible server, for each API a model is asked through."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from planner_wire import PlannerFactory

from operator_bench.testing.fake_openai import FakeOpenAIServer, planner_factory


@pytest.fixture(params=["chat", "responses"])
def api(request: pytest.FixtureRequest) -> str:
    """Each test runs once over Chat Completions and once over the Responses API."""
    return str(request.param)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as s:
        yield s


@pytest.fixture
async def planner_for(api: str) -> AsyncIterator[PlannerFactory]:
    """Make planners for a server over `api` (no backoff delay) and close them afterwards."""
    async with planner_factory(api=api) as make:
        yield make
