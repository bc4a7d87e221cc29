"""Run folders, the incremental trace, redaction and the HTML report."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from PIL import Image

from operator_agent.protocols import ConfigError
from operator_agent.report import describe_action, write_report
from operator_agent.traces import (
    REDACTED,
    Redactor,
    RunTrace,
    find_run,
    load_run,
    new_run_dir,
)
from operator_agent.types import (
    ActionResult,
    ApprovalNote,
    BBox,
    Click,
    Done,
    Element,
    PreferenceNote,
    RunResult,
    StepRecord,
    Type,
    Usage,
)


def png(width: int = 200, height: int = 100, color: str = "white") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def lines(run_dir: Path) -> list[dict]:
    return [json.loads(ln) for ln in (run_dir / "trace.jsonl").read_text().splitlines()]


def button(index: int = 12, name: str = "Add to cart", bbox: BBox | None = None) -> Element:
    return Element(index=index, role="button", tag="button", name=name,
                   bbox=bbox or BBox(x=50, y=25, width=20, height=10))


def click_step(n: int, *, title: str = "Shop", reasoning: str = "The cart button is visible.") -> StepRecord:
    return StepRecord(
        step=n, url=f"http://127.0.0.1:8000/page{n}", title=title,
        observation_text=f"[12] button \"Add to cart\" (step {n})", observation_tokens=40, elements=3,
        reasoning=reasoning,
        actions=[Click(index=12)],
        results=[ActionResult(ok=True, detail="clicked", target=button())],
        usage=Usage(input_tokens=1000, output_tokens=50, cost_usd=0.001, calls=1),
        model="fake-model", model_input="task and page", model_output='{"actions": []}',
        timings={"observe": 0.2, "decide": 1.0, "act": 0.1},
    )


def result(steps: int, **kw) -> RunResult:
    base = dict(task="buy a cable", success=True, answer="bought", stop_reason="done", message="finished",
                steps=steps, usage=Usage(input_tokens=2000, output_tokens=100), seconds=3.5)
    return RunResult(**{**base, **kw})


# --- run folders ---------------------------------------------------------------


def test_new_run_dir_is_unique_and_named_after_task(tmp_path: Path) -> None:
    a = new_run_dir(tmp_path, "Buy a USB-C cable under $15!")
    b = new_run_dir(tmp_path, "Buy a USB-C cable under $15!")
    assert a != b and a.is_dir() and b.is_dir()
    assert re.fullmatch(r"\d{8}-\d{6}-buy-a-usb-c-cable-under-15-[0-9a-f]{4}", a.name)
    assert re.fullmatch(r"\d{8}-\d{6}-run-[0-9a-f]{4}", new_run_dir(tmp_path, "").name)


def test_new_run_dir_honours_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert new_run_dir(task="x").parent == tmp_path / "elsewhere"


# --- the incremental trace -----------------------------------------------------


def test_each_record_is_on_disk_at_once(tmp_path: Path) -> None:
    run_dir = new_run_dir(tmp_path, "buy a cable")
    trace = RunTrace(run_dir, task="buy a cable", meta={"model": "fake"})
    first = lines(run_dir)
    assert len(first) == 1 and first[0]["type"] == "run"
    assert first[0]["task"] == "buy a cable" and first[0]["meta"] == {"model": "fake"} and first[0]["started"]

    step = click_step(1)
    trace.record(step, png())
    after_one = lines(run_dir)
    assert [ln["type"] for ln in after_one] == ["run", "step"]
    assert after_one[1]["screenshot"] == "step-001.png" and step.screenshot == "step-001.png"
    assert (run_dir / "step-001.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    trace.record(click_step(2), None)
    after_two = lines(run_dir)
    assert len(after_two) == 3 and after_two[2]["step"] == 2 and after_two[2]["screenshot"] is None

    trace.finish(result(2))
    final = lines(run_dir)
    assert final[-1]["type"] == "result" and final[-1]["success"] is True

    loaded = load_run(run_dir)
    assert loaded.task == "buy a cable" and loaded.meta == {"model": "fake"} and loaded.started
    assert [s.step for s in loaded.steps] == [1, 2]
    assert loaded.steps[0].results[0].target == button()
    assert loaded.result is not None and loaded.result.answer == "bought"
    with pytest.raises(RuntimeError):
        trace.record(click_step(3), None)


def test_truncated_last_line_is_skipped(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    trace = RunTrace(run_dir, task="t", meta={})
    trace.record(click_step(1), None)
    trace.record(click_step(2), None)
    trace.close()
    whole = json.dumps({"type": "step", **click_step(3).model_dump(mode="json")})
    with (run_dir / "trace.jsonl").open("a") as f:
        f.write(whole[: len(whole) // 2])  # killed mid-write

    loaded = load_run(run_dir)
    assert [s.step for s in loaded.steps] == [1, 2]
    assert loaded.result is None


def test_broken_middle_line_raises(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    RunTrace(run_dir, task="t", meta={}).close()
    with (run_dir / "trace.jsonl").open("a") as f:
        f.write('{"type": "step", "st\n')
        f.write(json.dumps({"type": "step", **click_step(2).model_dump(mode="json")}) + "\n")
    with pytest.raises(ValueError, match=":2:"):
        load_run(run_dir)


# --- redaction -----------------------------------------------------------------


SECRET = 'hunter2"\\ü-pw'  # quote, backslash and non-ASCII: JSON would escape them


def test_redactor_ignores_short_values() -> None:
    r = Redactor(["ab", "", SECRET])
    assert r.redact(f"cab {SECRET}!") == f"cab {REDACTED}!"
    # escaped forms too: inside the model's raw JSON reply, and in a URL query
    assert r.redact(json.dumps({"text": SECRET})) == f'{{"text": "{REDACTED}"}}'
    assert r.redact(f"/login?pw={quote_plus(SECRET)}") == f"/login?pw={REDACTED}"


def test_secret_never_reaches_trace_or_report(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    trace = RunTrace(run_dir, task="log in", meta={})
    trace.redactor.add(SECRET)
    field = Element(index=3, role="textbox", tag="input", name="Password", sensitive=True,
                    bbox=BBox(x=10, y=10, width=50, height=10))
    trace.record(StepRecord(
        step=1, url="http://127.0.0.1/login", reasoning=f"Type the password {SECRET}.",
        actions=[Type(index=3, text=SECRET, submit=True)],
        results=[ActionResult(ok=True, detail=f"typed {SECRET}", target=field)],
        model_output=json.dumps({"actions": [{"action": "type", "text": SECRET}]}),
    ), png())
    trace.record(StepRecord(step=2, url=f"http://127.0.0.1/home?pw={quote_plus(SECRET)}"), None)
    trace.finish(result(2, answer=f"logged in with {SECRET}"))

    raw = (run_dir / "trace.jsonl").read_text(encoding="utf-8")
    for form in (SECRET, json.dumps(SECRET)[1:-1], json.dumps(SECRET, ensure_ascii=True)[1:-1]):
        assert form not in raw
    assert REDACTED in raw
    lines(run_dir)  # redaction left every line valid JSON
    report = write_report(run_dir).read_text(encoding="utf-8")
    assert "hunter2" not in report
    assert REDACTED in report


# --- the report ----------------------------------------------------------------


def test_report_is_self_contained_and_marks_elements(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    trace = RunTrace(run_dir, task="buy a cable", meta={"model": "fake"})
    trace.record(click_step(1, title="<script>alert(1)</script>", reasoning="I see <b>the</b> button."),
                 png(200, 100))
    trace.record(StepRecord(
        step=2, url="https://shop.example/cart", title="Cart",
        reasoning="All done.", actions=[Done(answer="bought it")], results=[ActionResult(ok=True)],
    ), png(200, 100))
    trace.finish(result(2))
    out = write_report(run_dir)
    assert out == run_dir / "report.html"
    html = out.read_text(encoding="utf-8")

    # no external resources: every src/href is a data URI or an in-page anchor
    refs = re.findall(r'(?:src|href)\s*=\s*["\']?([^"\'\s>]+)', html)
    assert refs and all(r.startswith(("data:", "#")) for r in refs)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    imgs = re.findall(r'<img src="([^"]+)"', html)
    assert len(imgs) == 2 and all(s.startswith("data:image/png;base64,") for s in imgs)

    # page text is escaped, never markup
    assert "<script>alert(1)</script>" not in html and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "I see &lt;b&gt;the&lt;/b&gt; button." in html

    # steps, actions and totals
    assert 'id="step-1"' in html and 'id="step-2"' in html
    assert escape_q('click [12] button "Add to cart"') in html
    assert "success" in html and "bought" in html and "2,000 in / 100 out" in html
    assert "<details" in html and "task and page" in html

    # the clicked element's box: bbox (50, 25, 20x10) on a 200x100 screenshot
    assert 'class="mark" style="left:25.00%;top:25.00%;width:10.00%;height:10.00%"' in html


def escape_q(text: str) -> str:
    return text.replace('"', "&quot;")


def test_report_says_how_each_step_was_chosen_what_was_asked_and_which_preferences(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    trace = RunTrace(run_dir, task="book a flight", meta={})
    step = click_step(1).model_copy(update={
        "chosen": "model", "preferences": [PreferenceNote(id="p1", text="prefer aisle seats (flights.seat)")],
        "preference_ids": ["p1"],
        "approvals": [ApprovalNote(summary="Purchase at <Skyway>\n  amount: 634.00 USD", approved=True)]})
    trace.record(step, None)
    trace.record(click_step(2).model_copy(update={"chosen": "healed-score", "skill_step": 7}), None)
    trace.record(click_step(3).model_copy(update={"chosen": "skill", "skill_step": 8}), None)
    trace.finish(result(3))
    assert [x["chosen"] for x in lines(run_dir) if "step" in x] == ["model", "healed-score", "skill"]
    html = write_report(run_dir).read_text(encoding="utf-8")
    assert "1 model · 1 healed-score · 1 skill" in html
    assert "chosen by the model · preferences cited: prefer aisle seats (flights.seat)" in html
    assert "chosen by the skill, its element found by likeness (step 7)" in html
    assert "The person was asked" in html and "Purchase at &lt;Skyway&gt;\n  amount: 634.00 USD" in html


def test_killed_run_reports_incomplete(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    trace = RunTrace(run_dir, task="t", meta={})
    trace.record(click_step(1), png())
    trace.record(click_step(2), None)
    trace.close()
    html = write_report(run_dir, tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert "incomplete: stopped after 2 steps" in html


def test_report_of_fifty_steps(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    trace = RunTrace(run_dir, task="long", meta={})
    shot = png(320, 200)
    for n in range(1, 51):
        trace.record(click_step(n), shot)
    trace.finish(result(50, usage=Usage(input_tokens=5, output_tokens=5, cost_usd=None)))
    html = write_report(run_dir).read_text(encoding="utf-8")
    assert html.count('<section class="step"') == 50 and html.count("<img ") == 50
    assert "unknown" in html  # cost not known


def test_report_shows_spend_per_step_against_the_budget(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    trace = RunTrace(run_dir, task="t", meta={"budget": {"max_tokens": 3000, "max_cost": 0.01}})
    for n in (1, 2):
        trace.record(click_step(n), None)  # 1,050 tokens and $0.0010 each
    trace.finish(result(2, success=False, stop_reason="budget", message="stopped before step 3's model call",
                        usage=Usage(input_tokens=2000, output_tokens=100, cost_usd=0.002)))
    html = write_report(run_dir).read_text(encoding="utf-8")
    assert "<th>Budget</th><td>2,100 of 3,000 tokens (70%) · $0.0020 of $0.0100 (20%)</td>" in html
    assert "<td>1,050</td><td>$0.0010</td><td>1,050 · $0.0010</td>" in html  # the step, the total so far
    assert "<td>1,050</td><td>$0.0010</td><td>2,100 · $0.0020</td>" in html
    assert "(budget)" in html


def test_offscreen_element_gets_no_box(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    trace = RunTrace(run_dir, task="t", meta={})
    step = click_step(1)
    step.results[0].target = button(bbox=BBox(x=10, y=500, width=20, height=10))
    trace.record(step, png(200, 100))
    trace.close()
    assert 'class="mark' not in write_report(run_dir).read_text(encoding="utf-8")


def test_describe_action() -> None:
    assert describe_action(Click(index=12), ActionResult(ok=True, target=button())) == \
        'click [12] button "Add to cart"'
    assert describe_action(Click(index=4)) == "click [4]"
    assert describe_action(Type(index=3, text="hi", submit=True)) == 'type "hi" into [3] then Enter'


# --- finding runs ----------------------------------------------------------------


def test_find_run_last_id_and_path(tmp_path: Path) -> None:
    made = []
    for task in ("first", "second", "third"):
        run_dir = new_run_dir(tmp_path, task)
        RunTrace(run_dir, task=task, meta={}).close()
        made.append(run_dir)
    (tmp_path / "not-a-run").mkdir()
    assert find_run("last", tmp_path) == made[-1]
    assert find_run("latest", tmp_path) == made[-1]
    assert find_run(made[0].name, tmp_path) == made[0]
    assert find_run(str(made[1])) == made[1]


def test_find_run_orders_by_start_time(tmp_path: Path) -> None:
    # Names sort one way, start times the other: the recorded start time wins.
    for name, started in (("20250101-000000-b-0000", "2025-01-02T00:00:00+00:00"),
                          ("20250101-000000-a-0000", "2025-01-01T00:00:00+00:00")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "trace.jsonl").write_text(
            json.dumps({"type": "run", "task": name, "started": started, "meta": {}}) + "\n")
    assert find_run("last", tmp_path).name == "20250101-000000-b-0000"


def test_find_run_missing_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'last'") as info:
        find_run("20990101-000000-nope-ffff", tmp_path)
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="no runs"):
        find_run("last", tmp_path / "empty")
