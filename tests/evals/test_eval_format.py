"""The task format, the shipped suites, checks, results, report and compare: no browser."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from operator_agent.evals import checks as ck
from operator_agent.evals.compare import compare, render
from operator_agent.evals.miniwob import html_dir, list_tasks
from operator_agent.evals.planners import PlannerSpec, check_planner, register_planner
from operator_agent.evals.report import write_eval_report
from operator_agent.evals.results import ResultsFile, TaskResult, done_keys, load_results, summarize
from operator_agent.evals.runner import EvalRequest, prepare
from operator_agent.evals.suites import load_suite, parse_seeds, select, work_items
from operator_agent.evals.tasks import Task, parse_suite
from operator_agent.protocols import ConfigError


@pytest.mark.parametrize("name", ["shop", "flights"])
def test_site_suites_are_graded_and_complete(name: str) -> None:
    suite = load_suite(name)
    assert len(suite.tasks) >= 25
    groups = {t.group for t in suite.tasks}
    assert {"search", "filters", "preferences", "permission", "impossible"} <= groups
    assert len({t.difficulty for t in suite.tasks}) >= 3
    assert sum(t.script is not None for t in suite.tasks) >= 5  # runnable end to end without a model
    assert any(t.approve == "no" for t in suite.tasks)  # the gate must be hit and denied
    impossible = [t for t in suite.tasks if t.group == "impossible"]
    assert all(any(isinstance(c, ck.AgentCheck) and not c.success for c in t.checks) for t in impossible)
    assert any(t.preferences for t in suite.tasks)


def test_miniwob_suite_lists_every_task_in_the_package() -> None:
    pytest.importorskip("miniwob", reason="needs the miniwob package (pip install 'operator-agent[evals]')")
    suite = load_suite("miniwob")
    pages = {p.stem for p in (html_dir() / "miniwob").glob("*.html")}
    flights = {f"flight.{p.parent.name}" for p in (html_dir() / "flight").glob("*/wrapper.html")}
    assert {t.id for t in suite.tasks} == pages | flights == set(list_tasks())
    assert len(pages) >= 100
    solved = [t for t in suite.tasks if t.script is not None]
    assert len(solved) >= 15
    assert all((html_dir() / t.start).is_file() for t in suite.tasks)


def test_eval_list_without_a_suite_lists_every_shipped_suite(capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from operator_agent.evals import commands, miniwob

    def missing() -> Path:
        raise ConfigError("the MiniWoB++ suite needs the miniwob package: "
                          "pip install 'operator-agent[evals]'")

    monkeypatch.setattr(miniwob, "html_dir", missing)  # as on a machine without the package
    assert commands.main(["list"]) == 0
    lines = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert set(lines) == {"shop", "flights", "miniwob"}
    assert lines["shop"].startswith("30 tasks") and lines["flights"].startswith("27 tasks")
    assert "pip install 'operator-agent[evals]'" in lines["miniwob"]


def test_dates_are_filled_in_and_a_task_survives_a_round_trip() -> None:
    raw = {"suite": "s", "tasks": [{
        "id": "t", "site": "flights", "goal": "Fly on {date+10:long}, not {date-1}.", "approve": False,
        "checks": [{"booking": {"date": "{date+10}", "seat": "aisle"}}, {"no_payment": True}],
        "script": {"call": "m:f", "with": {"date": "{date+10:long}"}, "reads": "prompt"}}]}
    task = parse_suite(raw).tasks[0]
    assert task.approve == "no"  # YAML's bare `no` is a boolean
    today = dt.date(2026, 11, 21)
    filled = task.expanded(today)
    assert filled.goal == "Fly on Tuesday, 1 December 2026, not 2026-11-20."
    booking = filled.checks[0]
    assert isinstance(booking, ck.BookingCheck) and booking.date == "2026-12-01" and booking.seat == "aisle"
    assert filled.script is not None and filled.script.with_ == {"date": "Tuesday, 1 December 2026"}
    again = Task.model_validate(json.loads(filled.model_dump_json(by_alias=True)))
    assert again == filled


@pytest.mark.parametrize("bad, says", [
    ({"id": "t", "site": "shop", "goal": "g", "checks": [{"orderr": {}}]}, "unknown check 'orderr'"),
    ({"id": "t", "site": "shop", "goal": "g", "checks": [{"order": {"itemz": []}}]}, "itemz"),
    ({"id": "t", "site": "shop"}, "needs a goal"),
    ({"id": "t t", "site": "shop", "goal": "g"}, "letters, digits"),
    ({"id": "t", "site": "bank", "goal": "g"}, "site"),
])
def test_a_broken_task_fails_when_loaded_and_names_the_problem(bad: dict, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_suite({"suite": "s", "tasks": [bad]}, source="s.yaml")


def test_selection_and_seeds() -> None:
    pytest.importorskip("miniwob", reason="needs the miniwob package (pip install 'operator-agent[evals]')")
    tasks = load_suite("miniwob").tasks
    picked = select(tasks, "click-b*,miniwob/enter-text")
    assert {t.id for t in picked} == {"click-button", "click-button-sequence", "enter-text"}
    assert parse_seeds(["0-2", "5,7"]) == [0, 1, 2, 5, 7]
    assert parse_seeds(None) == [0]
    with pytest.raises(ConfigError, match="--seeds"):
        parse_seeds(["x"])
    items = work_items(picked[:2], [0, 1])
    assert [i.seed for i in items] == [0, 0, 1, 1]  # every task once before any task twice


def _shop_outcome(**kw: object) -> ck.Outcome:
    order = {"number": "BC-1", "total": 18.98, "shipping_option": "standard", "items": [
        {"product_id": 7, "title": "Tetherline Lite USB-C to USB-C Cable", "colour": "Blue", "size": "1 m",
         "quantity": 2, "unit_price": 6.99}]}
    state = {"shop": {"orders": [order], "carts": [], "newsletter": []},
             "payments": {"intents": [{"amount": 18.98}], "submissions": [
                 {"merchant": "Brightcart", "amount": 18.98, "status": "approved"}]}}
    shown = ck.ApprovalRecord(summary="Purchase at Brightcart\n  amount: 18.98 USD; limit", reason="r",
                              approved=True, amount=18.98, currency="USD")
    o = ck.Outcome(state=state, approvals=[shown], answer="Ordered BC-1", agent_success=True,
                   product=lambda pid: {"brand": "Tetherline", "rating": 4.5} if pid == 7 else None,
                   cheapest=lambda kind: 6.99)
    for k, v in kw.items():
        setattr(o, k, v)
    return o


@pytest.mark.parametrize("check, ok", [
    ({"order": {"items": [{"title": "usb-c", "colour": "blue", "quantity": 2, "max_unit_price": 7}]}}, True),
    ({"order": {"items": [{"title": "USB-C", "brand": "Tetherline", "min_rating": 4}], "only": True}}, True),
    ({"order": {"items": [{"title": "USB-C", "cheapest_of": "USB-C to USB-C Cable"}]}}, True),
    ({"order": {"items": [{"title": "USB-C", "brand_not": ["Tetherline"]}]}}, False),
    ({"order": {"items": [{"title": "HDMI"}]}}, False),
    ({"order": {"items": [{"title": "USB-C"}], "total": 18.98, "shipping": "express"}}, False),
    ({"no_order": True}, False),
    ({"no_payment": True}, False),
    ({"payment": {"status": "approved", "amount": 18.98}}, True),
    ({"approval": {"amount": "intent", "contains": "Brightcart"}}, True),
    ({"approval": {"amount": 20}}, False),
    ({"approval": {"asked": False}}, False),
    ({"answer": {"contains": "bc-1"}}, True),
    ({"agent": {"success": False}}, False),
    ({"state": {"path": "shop.newsletter", "length": 0}}, True),
    ({"state": {"path": "shop.orders.0.number", "equals": "BC-1"}}, True),
])
def test_checks_judge_the_servers_state(check: dict, ok: bool) -> None:
    result = ck.parse_check(check).evaluate(_shop_outcome())
    assert result.ok is ok, result


def test_booking_checks() -> None:
    booking = {"reference": "K7", "origin": "JFK", "destination": "LIS", "date": "2026-12-01",
               "itinerary": "2026-12-01.LU141", "stops": 0, "redeye": True, "fare": "light",
               "passengers": [{"first_name": "Ada", "last_name": "Lovelace"}], "total": 504.0,
               "price_per_person": 504.0,
               "segments": [{"flight": "LU 141", "airline": "Lusitania Air", "depart": "2026-12-01T22:55",
                             "seats": ["2D"], "seat_types": ["aisle"]}]}
    sold = [{"id": "2026-12-01.LU141", "price": 504.0, "stops": 0, "redeye": True},
            {"id": "2026-12-01.NW1.LU2", "price": 399.0, "stops": 1, "redeye": True}]
    o = ck.Outcome(state={"flights": {"bookings": [booking]}}, itineraries=lambda *_: sold)
    good = ck.parse_check({"booking": {"origin": "jfk", "stops": 0, "seat": "aisle",
                                       "names": ["ada lovelace"], "airline": "Lusitania Air",
                                       "depart_after": "18:00", "cheapest": True}})
    assert good.evaluate(o).ok  # cheapest among nonstops
    for bad in ({"redeye": False}, {"seat": "window"}, {"cheapest": True, "max_stops": 1},
                {"depart_before": "12:00"}, {"passengers": 2}):
        assert not ck.parse_check({"booking": bad}).evaluate(o).ok, bad
    assert not ck.parse_check({"no_booking": True}).evaluate(o).ok


def _result(task: str, seed: int = 0, success: bool = True, **kw: object) -> TaskResult:
    return TaskResult(suite="s", task=task, seed=seed, success=success, **kw)  # type: ignore[arg-type]


def test_results_file_survives_a_cut_off_line_and_knows_what_is_done(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with ResultsFile(path) as out:
        out.append(_result("a"))
        out.append(_result("b", error="boom"))
        out.append(_result("c", success=False))
        out.append(_result("e", success=False, not_run="not run: no replies"))
    with path.open("a") as f:
        f.write('{"suite": "s", "task": "d", "se')  # killed mid-write
    assert [r.task for r in load_results(path)] == ["a", "b", "c", "e"]
    # The harness error is run again, and so is what was not run.
    assert done_keys(path) == {("s", "a", 0), ("s", "c", 0)}
    with ResultsFile(path) as out:
        out.append(_result("b"))
    assert {r.task: r.error for r in load_results(path)}["b"] is None  # the last line wins


def test_metrics_group_by_suite_and_difficulty() -> None:
    rs = [_result("a", difficulty=1, steps=4, input_tokens=100, output_tokens=20, cost_usd=0.01,
                  approvals=[{"summary": "s", "approved": True}]),
          _result("b", success=False, difficulty=2, steps=6, errors=2),
          _result("c", difficulty=2, steps=2, cost_usd=None)]
    total = summarize(rs)[0].as_dict()
    assert total["n"] == 3 and total["passed"] == 2 and total["tokens"] == 120 and total["approvals"] == 1
    assert total["errors"] == 2 and total["cost_usd"] == 0.01 and total["mean_steps"] == 4.0
    assert [s.label for s in summarize(rs, "difficulty")] == ["difficulty 1", "difficulty 2"]
    assert summarize(rs, "difficulty")[1].rate == 0.5


def test_every_summary_counts_what_was_not_run_and_rates_over_all() -> None:
    rs = [_result("a", steps=4), _result("b", success=False, steps=2), _result("c", error="boom", steps=1),
          _result("d", success=False, not_run="not run: no replies"),
          _result("e", success=False, not_run="not run: no replies")]
    s = summarize(rs)[0]
    assert (s.n, s.ran, s.passed, s.failed, s.failed_runs, s.not_run) == (5, 3, 1, 1, 1, 2)
    assert s.rate == 0.2  # 1 of all 5, not 1 of the 3 run
    assert s.as_dict()["mean_steps"] == 2.33  # of what ran: (4 + 2 + 1) / 3
    assert s.headline() == "3 of 5 run: 1 passed, 1 failed, 1 errors, 2 not run (20% of 5 passed)"
    assert [r.outcome for r in rs] == ["passed", "failed", "error", "not run", "not run"]


def test_trials_give_a_95_percent_interval_and_compare_says_whether_it_is_noise() -> None:
    from operator_agent.evals.compare import sign_test
    from operator_agent.evals.results import wilson
    from operator_agent.evals.suites import parse_seeds

    assert parse_seeds(None, trials=5) == [0, 1, 2, 3, 4]
    with pytest.raises(ConfigError, match="not both"):
        parse_seeds(["0"], trials=2)
    with pytest.raises(ConfigError, match="at least 1"):
        parse_seeds(None, trials=0)
    # Wilson's interval (known values): 8 of 10 -> 49.0%-94.3%; 0 of 5 -> 0%-43.4%.
    lo, hi = wilson(8, 10)
    assert (round(lo, 3), round(hi, 3)) == (0.49, 0.943)
    assert [round(x, 3) for x in wilson(0, 5)] == [0.0, 0.434]
    s = summarize([_result(str(i), success=i < 8) for i in range(10)])[0]
    assert s.span() == "49%-94%" and s.as_dict()["rate_95"] == [0.4902, 0.9433]
    # Exact sign test: 6 of 6 changed pairs one way, p = 2/64; 3 against 1 is noise.
    assert sign_test(6, 0) == 2 / 64 and round(sign_test(3, 1), 3) == 0.625 and sign_test(0, 0) == 1.0
    a = [_result(f"t{i}", success=False) for i in range(6)]
    b = [_result(f"t{i}") for i in range(6)]
    assert compare(a, b).beyond_noise and "beyond noise" in "\n".join(render(compare(a, b)))
    assert "within noise" in "\n".join(render(compare(a[:2], b[:2])))


def test_answer_checks_that_a_list_of_every_candidate_does_not_pass() -> None:
    def judge(check: dict, answer: str, cheapest: float | None = None) -> bool:
        o = ck.Outcome(answer=answer, cheapest=lambda kind: cheapest if kind == "HDMI 2.1 Cable" else None)
        return ck.parse_check({"answer": check}).evaluate(o).ok

    assert judge({"amount": 9.99}, "Express delivery costs $9.99.")
    assert not judge({"amount": 9.99}, "It is $4.99, $9.99 or $14.99.")  # stuffed
    assert not judge({"amount": 9.99}, "It costs 9.99.") and not judge({"amount": 9.99}, "$10.99")
    assert judge({"amount": 1234.5}, "In all: $1,234.50")
    # The expected amount computed from the site's catalogue, whatever the seed made it.
    assert judge({"cheapest_of": "HDMI 2.1 Cable"}, "The cheapest is $12.49.", cheapest=12.49)
    assert not judge({"cheapest_of": "HDMI 2.1 Cable"}, "The cheapest is $12.49.", cheapest=11.0)
    assert judge({"one_of": ["Springfield", "Shelbyville"]}, "It is in Springfield.")
    assert not judge({"one_of": ["Springfield", "Shelbyville"]}, "Springfield or Shelbyville")


def test_compare_names_what_changed() -> None:
    a = [_result("x"), _result("y", success=False), _result("z"), _result("only-a")]
    b = [_result("x", success=False, checks=[{"name": "order", "ok": False, "detail": "0 orders"}]),
         _result("y"), _result("z"), _result("only-b")]
    c = compare(a, b)
    assert [r.task for r, _ in c.broken] == ["x"] and [r.task for r, _ in c.fixed] == ["y"] and c.same == 1
    text = "\n".join(render(c))
    assert "now fail" in text and "s/x#0: order: 0 orders" in text and "only in A: 1" in text
    # Not run on one side: counted apart, never as a task that now fails.
    c = compare([_result("x"), _result("w")], [_result("x"), _result("w", success=False, not_run="no")])
    assert not c.broken and c.same == 1 and c.not_run == [("s", "w", 0)]
    assert "not run in one or both: 1 (s/w#0)" in "\n".join(render(c))


def test_report_is_self_contained_and_escapes(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with ResultsFile(path) as out:
        out.append(_result("a", group="search", goal="<script>alert(1)</script>"))
        out.append(_result("b", success=False, group="impossible", answer="<b>bold</b>",
                           run_dir=str(tmp_path / "missing")))
        out.append(_result("c", success=False, not_run="not run: the scripted planner has no replies"))
    html = write_eval_report(path).read_text()
    assert "<svg" in html and "s/search" in html and "s/impossible" in html
    assert "2 of 3 run: 1 passed, 1 failed, 0 errors, 1 not run (33% of 3 passed)" in html
    assert "<span class=muted>not run</span>" in html and "the scripted planner has no replies" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "<b>bold" not in html
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched


def test_report_shows_the_page_each_run_ended_on(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    for n in (1, 2, 10):
        (run / f"step-{n:03d}.jpg").write_bytes(b"\xff\xd8 picture")
    path = tmp_path / "r.jsonl"
    with ResultsFile(path) as out:
        out.append(_result("a", run_dir=str(run)))
        out.append(_result("b", run_dir=str(tmp_path / "runs" / "gone")))
    html = write_eval_report(path, tmp_path / "out" / "report.html").read_text()
    # The last step's picture, by a path relative to the report, once: task b has none.
    assert html.count("<img class=thumb") == 1
    shown = "../runs/r1/step-010.jpg"
    assert f'src="{shown}"' in html and (tmp_path / "out" / shown).is_file()


def test_planner_registry(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown planner"):
        check_planner(PlannerSpec("nope"))
    with pytest.raises(ConfigError, match=r"model"):
        check_planner(PlannerSpec("openai"))  # no model configured in tests
    register_planner("fixed", lambda request: None)  # type: ignore[arg-type,return-value]
    check_planner(PlannerSpec("fixed"))


def test_skills_planner_is_skipped_with_a_clear_message_while_it_is_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from operator_agent.evals import planners

    # Whether or not the real module has landed, a missing one is reported in one line.
    monkeypatch.setattr(planners, "SKILLS_MODULE", "operator_agent.planner.no_such_skills_module")
    with pytest.raises(ConfigError, match="skills planner is not available"):
        check_planner(PlannerSpec("skills"))


def test_a_run_refuses_to_overwrite_results_and_skips_unscripted_tasks(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    plan = prepare(EvalRequest("shop", planner=PlannerSpec("scripted"), results=path))
    assert plan.items and plan.unscripted and all(i.task.script for i in plan.items)
    assert sorted(r.key[1] for r in plan.not_run) == sorted(k.split("/")[1] for k in plan.unscripted)
    assert all(r.outcome == "not run" and "no replies" in (r.not_run or "") for r in plan.not_run)
    path.write_text(_result("a", planner="scripted").model_dump_json() + "\n")
    with pytest.raises(ConfigError, match="--resume"):
        prepare(EvalRequest("shop", planner=PlannerSpec("scripted"), results=path))
    with pytest.raises(ConfigError, match="holds results of scripted"):
        prepare(EvalRequest("shop", planner=PlannerSpec("openai", "m", "http://127.0.0.1:9"), results=path,
                            resume=True))
    with pytest.raises(ConfigError, match="no task"):
        prepare(EvalRequest("shop", planner=PlannerSpec("scripted"), tasks="nothing-*",
                            results=tmp_path / "x"))
