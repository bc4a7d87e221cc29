"""The checks against shortcuts: models that cheat, run through the real harness on the
shop's and the flights site's tasks, must score 0 on every task they should fail (issue 15).

- gives-up: says done(success=false) at once, with no reason (passes a check that only
  asks for "no order, and the agent said it could not");
- claims-success: says done(success=true) at once, as if it had bought what was asked;
- stuffs-answers: answers with every price it can think of (passes "the answer contains 9.99");
- clicks-wrong: clicks the first thing on every page, then says it is done;
- pays-twice: buys the cable as asked, then goes back and buys it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from operator_agent.evals.planners import PlannerRequest, PlannerSpec, register_planner
from operator_agent.evals.results import TaskResult, load_results
from operator_agent.evals.runner import EvalRequest, execute, prepare
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.protocols import Planner
from operator_agent.types import Decision, Done
from operator_bench.solutions.page import click, done, elements, step
from operator_bench.solutions.shop import shop

# Every task here has checks a shortcut must not pass: the impossible ones (it looked, and
# says why), the permission ones (the person was asked; the card was tried), a purchase.
TASKS = ["usb-c-under-1", "unknown-brand", "ten-metre-cable", "no-3d-printers", "approval-denied",
         "nobody-to-approve", "over-spending-limit", "declined-card", "usb-c-under-15", "express-price",
         "unknown-airport", "same-airport", "eight-travellers", "cheap-business", "yesterday",
         "jfk-lis-nonstop-aisle"]
BAD = {
    "gives-up": Done(answer="I could not do it.", success=False),
    "claims-success": Done(answer="Done: bought it, all as you asked.", success=True),
    "stuffs-answers": Done(answer="It is $4.99, $9.99, $14.99 or $19.99, in Springfield or Shelbyville; "
                                  "none under $1, no Zentrix, no 10 m cable, no 3D printers.", success=True),
}


def _bad(finish: Done) -> object:
    def factory(request: PlannerRequest) -> Planner:
        return ScriptedPlanner([Decision(reasoning="shortcut", actions=[finish])])

    return factory


def _clicks_wrong(request: PlannerRequest) -> Planner:
    def first_thing(page: str) -> dict[str, Any]:
        listed = elements(page)
        return step("the first thing there", click(listed[0])) if listed else step("?", done("Done."))

    return ScriptedPlanner([first_thing] * 4 + [step("claims it", done("Done: all as you asked."))])


def _pays_twice(request: PlannerRequest) -> Planner:
    memory: dict[str, Any] = {}
    bought = [False]

    def again(page: str) -> dict[str, Any]:
        if "Thank you, your order has been placed." in page and not bought[0]:
            bought[0] = True
            return step("And once more.", {"action": "navigate", "url": request.site_url})
        return shop(page, query="usb-c cable", title="USB-C", max_price=15, memory=memory)

    return ScriptedPlanner([again] * 40)


def _run(name: str, suites: str, tasks: list[str], directory: Path) -> list[TaskResult]:
    path = directory / "results.jsonl"
    plan = prepare(EvalRequest(suites, planner=PlannerSpec(name), tasks=",".join(tasks), results=path,
                               screenshots=False, timeout_s=180))
    execute(plan, progress="none")
    return load_results(path)


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[TaskResult]]]:
    out: dict[str, list[TaskResult]] = {}
    for name, finish in BAD.items():
        register_planner(name, _bad(finish))  # type: ignore[arg-type]
        out[name] = _run(name, "shop,flights", TASKS, tmp_path_factory.mktemp(name))
    yield out


@pytest.mark.parametrize(("name", "factory", "tasks"), [
    ("clicks-wrong", _clicks_wrong, ["usb-c-under-15", "cheapest-hdmi", "usb-c-under-1", "express-price"]),
    ("pays-twice", _pays_twice, ["usb-c-under-15"]),
])
def test_a_model_that_acts_wrongly_scores_0(tmp_path: Path, name: str, factory: Any,
                                            tasks: list[str]) -> None:
    register_planner(name, factory)
    results = _run(name, "shop", tasks, tmp_path)
    assert {r.task for r in results} == set(tasks) and all(r.error is None for r in results)
    passed = [(r.task, r.answer) for r in results if r.success]
    assert not passed, f"{name} passed: {passed}"
    if name == "pays-twice":  # it did pay twice, and the check saw it
        (r,) = results
        assert len(r.approvals) == 2 and any(c.name.startswith("order") and not c.ok for c in r.checks)


@pytest.mark.parametrize("model", sorted(BAD))
def test_a_cheating_model_scores_0(scores: dict[str, list[TaskResult]], model: str) -> None:
    results = scores[model]
    assert {r.task for r in results} == set(TASKS)  # every task ran (some are in both suites)
    assert all(r.error is None and r.steps == 1 for r in results), [(r.task, r.error) for r in results]
    passed = [(r.task, [c.name for c in r.checks if c.ok]) for r in results if r.success]
    assert not passed, f"{model} passed: {passed}"


def test_what_stops_giving_up_is_that_it_never_looked(scores: dict[str, list[TaskResult]]) -> None:
    """On the impossible tasks the shortcut fails the new checks, not the old ones."""
    for r in scores["gives-up"]:
        if r.group != "impossible":
            continue
        failed = {c.name.split()[0] for c in r.checks if not c.ok}
        assert failed and failed <= {"searched", "answer"}, (r.task, failed)


# The scripted solutions of tasks with the new checks, in both suites (flights' nobody-to-
# approve has none: it is counted as not run).
HONEST = "usb-c-under-1,unknown-brand,nobody-to-approve,over-spending-limit,unknown-airport,eight-travellers"


def test_the_honest_scripted_model_passes_the_same_checks(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    plan = prepare(EvalRequest("shop,flights", planner=PlannerSpec("scripted"), tasks=HONEST, results=path,
                               screenshots=False, timeout_s=120))
    execute(plan, progress="none")
    ran = [r for r in load_results(path) if r.outcome != "not run"]
    assert len(ran) == 7 and all(r.success for r in ran), [
        (r.suite, r.task, r.answer, [(c.name, c.detail) for c in r.checks if not c.ok]) for r in ran]


def test_a_computed_expectation_holds_on_two_seeds(tmp_path: Path) -> None:
    """cheapest-hdmi's check computes the cheapest in-stock HDMI 2.1 cable from each seed's
    own catalogue: the scripted solution passes on both, though what it buys differs."""
    path = tmp_path / "r.jsonl"
    plan = prepare(EvalRequest("shop", planner=PlannerSpec("scripted"), tasks="cheapest-hdmi", seeds=[0, 1],
                               results=path, screenshots=False, timeout_s=120))
    execute(plan, progress="none")
    results = sorted(load_results(path), key=lambda r: r.seed)
    assert [r.seed for r in results] == [0, 1]
    assert all(r.success for r in results), [(r.seed, [c.detail for c in r.checks]) for r in results]
    bought = [next(c.detail for c in r.checks if c.name.startswith("order")) for r in results]
    assert bought[0] != bought[1]  # two catalogues, two answers, one check
