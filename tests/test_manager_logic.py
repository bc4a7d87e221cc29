"""The manager's own logic, with a stand-in model and stand-in workers (no browser): results
sent back with the reason and retried a bounded number of times, refusals not retried, at
most N workers at once, every question to the person one at a time and named, and the
manager's run folder read back as a tree (`operator report last`).

The real thing (Chromium, the practice sites, the fake model server) is tests/test_manager.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from operator_agent import cli
from operator_agent.manager import (
    Fact,
    FinalAnswer,
    Manager,
    ManagerConfig,
    PersonDesk,
    Plan,
    Spec,
    SubTask,
    WorkerCheck,
    WorkerReport,
)
from operator_agent.manager.crew import Attempted, TeamRun
from operator_agent.manager.manager import SENT_BACK
from operator_agent.manager.trace import load_manager_run
from operator_agent.permissions.gate import CallbackApprover
from operator_agent.protocols import PlannerError
from operator_agent.report import write_report
from operator_agent.traces import RunTrace
from operator_agent.types import Action, RunResult, Usage, Verdict, Wait


def _sub(ident: str, label: str, *facts: Fact) -> SubTask:
    return SubTask(id=ident, label=label, task=f"do {label}", start_url=None,
                   spec=Spec(must_state=list(facts), constraints=[]))


PRICE = Fact(name="price", kind="money")


class Brain:
    """A stand-in for the manager's model: a fixed plan, scripted verdicts per sub-task."""

    def __init__(self, plan: Plan | None, verdicts: dict[str, list[WorkerCheck]] | None = None) -> None:
        self._plan, self.verdicts = plan, verdicts or {}
        self.checked: list[tuple[str, str | None]] = []

    async def plan(self, task: str, *, start_url: str | None, max_subtasks: int) -> tuple[Plan, Usage]:
        if self._plan is None:
            raise PlannerError("the model gave an invalid plan twice")
        return self._plan, Usage(calls=1, input_tokens=10, output_tokens=5)

    async def check(self, task: str, subtask: SubTask, result: RunResult) -> tuple[WorkerCheck, Usage]:
        self.checked.append((subtask.id, result.answer))
        verdicts = self.verdicts.get(subtask.id) or [WorkerCheck(ok=True, reason="meets the spec")]
        return verdicts.pop(0), Usage(calls=1)

    async def answer(self, task: str, workers: Sequence[WorkerReport]) -> tuple[FinalAnswer, Usage]:
        text = "; ".join(f"{w.subtask.id}: {w.attempts[-1].result.answer}" for w in workers)
        return FinalAnswer(answer=text, success=all(w.passed for w in workers)), Usage(calls=1)


Script = list[tuple[str, bool, "str | None"]]  # per attempt: (answer, finished, refused)


class Crew:
    """Stand-in workers: each attempt answers from a script and writes a real run folder."""

    def __init__(self, script: dict[str, Script], *, parallel: int = 1, asks: bool = False) -> None:
        self.script, self.parallel, self.asks = script, parallel, asks
        self.tasks: dict[str, list[str]] = {}
        self.live = self.peak = 0
        self._together = asyncio.Event()

    @asynccontextmanager
    async def team(self, run: TeamRun) -> AsyncIterator[Crew]:
        self.run = run
        yield self

    @asynccontextmanager
    async def worker(self, number: int, label: str, subtask: SubTask) -> AsyncIterator[_Worker]:
        yield _Worker(self, label, subtask)


class _Worker:
    def __init__(self, crew: Crew, label: str, subtask: SubTask) -> None:
        self.crew, self.label, self.subtask = crew, label, subtask

    def stop(self) -> None:
        pass

    async def attempt(self, task: str, run_dir: Path) -> Attempted:
        crew = self.crew
        crew.tasks.setdefault(self.subtask.id, []).append(task)
        crew.live += 1
        crew.peak = max(crew.peak, crew.live)
        if crew.live >= crew.parallel:
            crew._together.set()
        # Waits for the others it should be running beside (a manager running them one by one
        # would time out here).
        await asyncio.wait_for(crew._together.wait(), timeout=10)
        if crew.asks:
            await crew.run.desk.approver(self.label).approve(
                Verdict(decision="ask", reason="a purchase", summary="Purchase at shop.example"), Wait())
        answer, finished, refused = crew.script[self.subtask.id].pop(0)
        result = RunResult(task=task, success=finished, answer=answer,
                           stop_reason="done" if finished else "failed",
                           message="done" if finished else "the agent could not complete the task", steps=3,
                           usage=Usage(calls=3, input_tokens=300, output_tokens=30), seconds=1.5)
        with RunTrace(run_dir, task=task) as trace:
            trace.finish(result)
        crew.live -= 1
        return Attempted(result=result, refused=refused)


async def test_failed_results_go_back_with_the_reason_and_pass_the_second_time(
        capsys: pytest.CaptureFixture[str]) -> None:
    plan = Plan(reasoning="two independent things", subtasks=[_sub("cable", "USB-C cable", PRICE),
                                                              _sub("fare", "Lisbon fare", PRICE)])
    brain = Brain(plan, {"fare": [WorkerCheck(ok=False, reason="not the cheapest fare on that date"),
                                  WorkerCheck(ok=True, reason="the cheapest fare")]})
    crew = Crew({"cable": [("a cable", True, None), ("the cable, total $9.48", True, None)],
                 "fare": [("Meridian, $812.00", True, None), ("Aerolis, $640.00", True, None)]}, parallel=2)
    manager = Manager(brain=brain, crew=crew, config=ManagerConfig(workers=2, max_retries=1))
    result = await manager.run("buy a USB-C cable and find the cheapest fare to Lisbon")

    assert result.success and result.retries == 2 and crew.peak == 2
    cable, fare = result.workers
    # No model call for a missing price: the cheap check sees it.
    assert [a.checked_by for a in cable.attempts] == ["structure", "model"]
    assert "does not state the price" in cable.attempts[0].check.reason
    assert [a.checked_by for a in fare.attempts] == ["model", "model"]
    assert SENT_BACK in crew.tasks["cable"][1] and "does not state the price" in crew.tasks["cable"][1]
    assert "not the cheapest fare" in crew.tasks["fare"][1] and "Meridian, $812.00" in crew.tasks["fare"][1]
    assert SENT_BACK not in crew.tasks["fare"][0]
    assert result.answer == "cable: the cable, total $9.48; fare: Aerolis, $640.00"
    # The manager's calls (plan, 3 model checks, answer) and every attempt's, added up.
    assert result.usage.calls == 5 + 4 * 3 and result.worker_seconds == 6.0

    run_dir = Path(result.run_dir or "")
    view = load_manager_run(run_dir)
    assert view.plan == plan and view.answer is not None and view.result is not None and view.result.success
    assert sorted((a.worker, a.number, a.checked_by) for a in view.attempts) == [
        (1, 1, "structure"), (1, 2, "model"), (2, 1, "model"), (2, 2, "model")]
    html = write_report(run_dir).read_text()
    for link in ("w1/a1/report.html", "w1/a2/report.html", "w2/a1/report.html", "w2/a2/report.html"):
        assert f'href="{link}"' in html and (run_dir / link).is_file()
    assert "sent back" in html and "worker 2 (Lisbon fare)" in html and "not the cheapest fare" in html
    # `operator report last`: the manager's run is the newest run folder.
    assert await asyncio.to_thread(cli.main, ["report", "last"]) == 0
    assert capsys.readouterr().out.strip().endswith("report.html")


async def test_retries_are_bounded_and_refusals_are_not_retried() -> None:
    plan = Plan(reasoning="two purchases",
                subtasks=[_sub("usb", "USB-C cable", PRICE), _sub("hdmi", "HDMI cable")])
    refusal = "purchase refused: 14.98 USD would bring today's spending to 24.46 USD, over the daily limit"
    crew = Crew({"usb": [("no price", True, None), ("still no price", True, None)],
                 "hdmi": [("I did not buy it", False, refusal)]}, parallel=2)
    manager = Manager(brain=Brain(plan), crew=crew, config=ManagerConfig(max_retries=1))
    result = await manager.run("buy two cables")

    usb, hdmi = result.workers
    assert len(usb.attempts) == 2 and not usb.passed  # sent back once, then reported as failed
    assert len(hdmi.attempts) == 1 and hdmi.attempts[0].checked_by == "refusal"
    assert "daily limit" in hdmi.attempts[0].check.reason
    assert not result.success and result.stop_reason == "failed" and result.retries == 1
    assert "worker 1 (USB-C cable)" in result.message and "worker 2 (HDMI cable)" in result.message


async def test_at_most_n_workers_at_once() -> None:
    plan = Plan(reasoning="three", subtasks=[_sub(f"t{i}", f"thing {i}") for i in range(3)])
    crew = Crew({f"t{i}": [(f"thing {i} done", True, None)] for i in range(3)}, parallel=2)
    result = await Manager(brain=Brain(plan), crew=crew, config=ManagerConfig(workers=2)).run("three things")
    assert result.success and crew.peak == 2


async def test_questions_reach_the_person_one_at_a_time_each_naming_its_worker() -> None:
    shown: list[str] = []
    first_in, release = asyncio.Event(), asyncio.Event()

    async def person(verdict: Verdict, action: Action) -> bool:
        shown.append(verdict.summary)
        first_in.set()
        await release.wait()  # the person takes their time over the first question
        return True

    desk = PersonDesk(CallbackApprover(person), interactive=True)
    verdict = Verdict(decision="ask", reason="a purchase", summary="Purchase at Brightcart (127.0.0.1)")
    one = asyncio.ensure_future(desk.approver("worker 1 (USB-C cable)").approve(verdict, Wait()))
    two = asyncio.ensure_future(desk.approver("worker 2 (HDMI cable)").approve(verdict, Wait()))
    await first_in.wait()
    assert len(shown) == 1 and not two.done()  # the second waits for the first's answer
    release.set()
    assert await one and await two
    assert shown == ["worker 1 (USB-C cable): Purchase at Brightcart (127.0.0.1)",
                     "worker 2 (HDMI cable): Purchase at Brightcart (127.0.0.1)"]
    assert verdict.summary == "Purchase at Brightcart (127.0.0.1)"  # the gate's own verdict is untouched
    assert [(a.worker, a.answer) for a in desk.asked] == [("worker 1 (USB-C cable)", "yes"),
                                                          ("worker 2 (HDMI cable)", "yes")]


async def test_workers_questions_are_named_in_the_managers_trace() -> None:
    plan = Plan(reasoning="one", subtasks=[_sub("mug", "coffee mug")])
    manager = Manager(brain=Brain(plan), crew=Crew({"mug": [("bought, $12.00", True, None)]}, asks=True),
                      approver=CallbackApprover(lambda verdict, action: True))
    result = await manager.run("buy a mug")
    view = load_manager_run(Path(result.run_dir or ""))
    assert [(q["worker"], q["answer"]) for q in view.asked] == [("worker 1 (coffee mug)", "yes")]
    assert view.asked[0]["text"] == "worker 1 (coffee mug): Purchase at shop.example"


async def test_a_plan_the_model_cannot_give_ends_the_run_saying_so() -> None:
    result = await Manager(brain=Brain(None), crew=Crew({})).run("do something")
    assert not result.success and "could not plan" in result.message and result.workers == []
    html = write_report(Path(result.run_dir or "")).read_text()
    assert "no plan was made" in html and "could not plan" in html


async def test_a_workers_question_goes_to_the_person_named_or_gets_no_answer() -> None:
    class Person:
        def __init__(self) -> None:
            self.heard: list[str] = []

        async def ask(self, question: str) -> str | None:
            self.heard.append(question)
            return "the blue one"

    person = Person()
    desk = PersonDesk(CallbackApprover(lambda verdict, action: False), person, interactive=True)
    channel = desk.user("worker 1 (USB-C cable)")
    assert channel is not None and await channel.ask("Which colour?") == "the blue one"
    assert person.heard == ["worker 1 (USB-C cable): Which colour?"]
    nobody = PersonDesk(CallbackApprover(lambda verdict, action: False), None, interactive=False)
    assert nobody.user("worker 1 (USB-C cable)") is None  # the agent then hears "nobody is there"
