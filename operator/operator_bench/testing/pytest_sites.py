"""pytest plugin: the practice sites for tests.

Enable with `pytest_plugins = ["operator_bench.testing.pytest_sites"]` in a conftest.

- `practice_sites` (session): one started PracticeSites (seed 0) on free loopback ports.
- `sites` (function): the same sites, reset before the test (state emptied, default
  knobs back), so every test starts from a known state.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from operator_bench.sites import PracticeSites


@pytest.fixture(scope="session")
def practice_sites() -> Iterator[PracticeSites]:
    with PracticeSites(seed=0) as sites:
        yield sites


@pytest.fixture
def sites(practice_sites: PracticeSites) -> PracticeSites:
    practice_sites.reset()
    return practice_sites
