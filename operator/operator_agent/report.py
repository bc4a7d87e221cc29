"""One self-contained HTML report of a run, built from its folder.

Everything is inline (CSS, screenshots as data URIs) so the file can be mailed
or attached to a bug as is. All text that came from a page or the model is
escaped: page text is untrusted and must never become markup.
"""

from __future__ import annotations

import base64
import io
import json
from collections import Counter
from collections.abc import Mapping
from html import escape
from pathlib import Path

from PIL import Image

from .budget import Budget, tokens, usd
from .private_files import private_dir, write_private
from .traces import LoadedRun, load_run
from .types import (
    Action,
    ActionResult,
    AskUser,
    Back,
    BBox,
    Click,
    CloseTab,
    Done,
    HandOver,
    HandOverNote,
    Navigate,
    OpenApp,
    Press,
    Scroll,
    Select,
    StepRecord,
    SwitchTab,
    Type,
    Upload,
    Usage,
    Wait,
)

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em 1.5em;color:#1d1d1f}
h1{font-size:1.35em;margin:.2em 0 .6em}
h2{font-size:1.1em;margin:0 0 .4em}
table{border-collapse:collapse}
td,th{padding:.15em .8em .15em 0;text-align:left;vertical-align:top}
.ok{color:#0a7d2c}.err{color:#c0262d}.muted{color:#6e6e73}
.outcome{font-weight:600}
.handover{border-left:3px solid #0057b8;padding-left:.6em}
.step{border-top:1px solid #d2d2d7;padding:1em 0}
.reasoning{background:#f5f5f7;border-radius:6px;padding:.5em .8em;white-space:pre-wrap}
ol.actions{padding-left:1.6em}
code,pre{font:12px/1.4 ui-monospace,monospace}
pre{background:#f5f5f7;padding:.6em;overflow:auto;white-space:pre-wrap;max-height:40em}
details{margin:.3em 0}summary{cursor:pointer;color:#0057b8}
.shot{position:relative;display:inline-block;max-width:min(100%,960px);margin:.5em 0;border:1px solid #d2d2d7}
.shot img{display:block;max-width:100%;height:auto}
.mark{position:absolute;box-sizing:border-box;border:2px solid #e8590c;background:rgba(232,89,12,.08)}
.mark.err{border-color:#c0262d;border-style:dashed}
.mark span{position:absolute;left:-2px;top:-2px;background:#e8590c;color:#fff;font:bold 11px/1 sans-serif;
padding:2px 4px}
.mark.err span{background:#c0262d}
"""


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the report of a run folder (default run_dir/report.html) and return its path."""
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    if run.meta.get("kind") == "manager":  # a manager's run: the tree of its workers' runs
        from .manager.report import write_manager_report

        return write_manager_report(run_dir, out)
    out = Path(out) if out is not None else run_dir / "report.html"
    if not out.parent.exists():
        private_dir(out.parent)
    # Owner-only like the trace it is built from; the trace is redacted, so is the report.
    write_private(out, render_report(run).encode("utf-8"))
    return out


# --- text ---------------------------------------------------------------------


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _target(index: int | None, result: ActionResult | None) -> str:
    el = result.target if result else None
    if el is not None:
        return f'[{el.index}] {el.role} "{_clip(el.name, 60)}"' if el.name else f"[{el.index}] {el.role}"
    return f"[{index}]" if index is not None else ""


def describe_action(action: Action, result: ActionResult | None = None) -> str:
    """A one-line, human-readable action, e.g. `click [12] button "Add to cart"` (unescaped)."""
    match action:
        case Click():
            verb = "double-click" if action.double else (
                "click" if action.button == "left" else f"{action.button}-click")
            return f"{verb} {_target(action.index, result)}"
        case Type():
            then = " then Enter" if action.submit else ""
            # What went into a password or card field is never shown, even on the person's screen.
            secret = result is not None and result.target is not None and result.target.sensitive
            text = "•••" if secret else f'"{_clip(action.text)}"'
            return f"type {text} into {_target(action.index, result)}{then}"
        case Select():
            return f'select "{_clip(action.option)}" in {_target(action.index, result)}'
        case Upload():
            return f'upload "{action.path}" to {_target(action.index, result)}'
        case Press():
            return f"press {action.keys}"
        case Scroll():
            where = f" in {_target(action.index, result)}" if action.index is not None else ""
            unit = "page" if action.pages == 1 else "pages"
            return f"scroll {action.direction} {action.pages:g} {unit}{where}"
        case Navigate():
            return f"navigate to {action.url}"
        case Back():
            return "go back"
        case SwitchTab():
            return f"switch to tab {action.tab}"
        case CloseTab():
            return "close tab" + (f" {action.tab}" if action.tab is not None else "")
        case Wait():
            return f"wait {action.seconds:g}s"
        case OpenApp():
            with_file = f' with "{_clip(action.file)}"' if action.file else ""
            return f'open the program "{_clip(action.app)}"{with_file}'
        case AskUser():
            return f'ask the user: "{_clip(action.question, 200)}"'
        case Done():
            return f'done ({"success" if action.success else "failure"}): "{_clip(action.answer, 200)}"'
        case HandOver():
            return f'hand control to the person: "{_clip(action.reason, 200)}"'
    return str(action)  # pragma: no cover - the Action union is exhaustive above


def _cost(usage: Usage) -> str:
    return "unknown" if usage.cost_usd is None else f"${usage.cost_usd:.4f}"


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 120 else f"{int(value // 60)} min {value % 60:.0f} s"


# --- screenshot ---------------------------------------------------------------


def _mark(number: int, bbox: BBox, width: int, height: int, ok: bool) -> str:
    # Clip to the image: an element partly scrolled out of view still gets the
    # part that shows; one wholly outside gets no box.
    x0, y0 = max(0.0, bbox.x), max(0.0, bbox.y)
    x1, y1 = min(float(width), bbox.x + bbox.width), min(float(height), bbox.y + bbox.height)
    if x1 <= x0 or y1 <= y0:
        return ""
    # Percentages of the PNG's pixel size (CSS px at device scale 1), so the
    # boxes follow the image however wide it is drawn.
    style = (f"left:{100 * x0 / width:.2f}%;top:{100 * y0 / height:.2f}%;"
             f"width:{100 * (x1 - x0) / width:.2f}%;height:{100 * (y1 - y0) / height:.2f}%")
    cls = "mark" if ok else "mark err"
    return f'<div class="{cls}" style="{style}" title="action {number}"><span>{number}</span></div>'


def _screenshot(run_dir: Path, step: StepRecord) -> str:
    if not step.screenshot:
        return ""
    path = run_dir / step.screenshot
    try:
        data = path.read_bytes()
    except OSError:
        return f'<p class="muted">screenshot {escape(step.screenshot)} is missing</p>'
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            mime = Image.MIME.get(img.format or "", "image/png")
    except Exception:  # a broken image still shows, just without marks
        width = height = 0
        mime = "image/png"
    marks = []
    if width and height:
        for number, result in enumerate(step.results, 1):
            if result.target is not None and result.target.bbox is not None:
                marks.append(_mark(number, result.target.bbox, width, height, result.ok))
    src = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    alt = f"screenshot of step {step.step}"
    return f'<div class="shot"><img src="{src}" alt="{alt}">{"".join(marks)}</div>'


# --- sections -----------------------------------------------------------------


def _details(summary: str, text: str) -> str:
    if not text:
        return ""
    return f"<details><summary>{escape(summary)}</summary><pre>{escape(text)}</pre></details>"


def _outcome(run: LoadedRun) -> str:
    if run.result is None:
        return f'<span class="outcome err">incomplete: stopped after {len(run.steps)} steps</span>'
    r = run.result
    cls, word = ("ok", "success") if r.success else ("err", "failed")
    message = f" — {escape(r.message)}" if r.message else ""
    return f'<span class="outcome {cls}">{word}</span> ({escape(r.stop_reason)}){message}'


_CHOSEN = {"model": "the model", "scripted": "a script", "skill": "the skill",
           "healed-score": "the skill, its element found by likeness",
           "healed-model": "the skill, its element found by the model",
           "after-skill": "the model, after the skill it ran had ended"}


def chosen_line(counts: Mapping[str, int]) -> str:
    """`8 skill · 1 healed-score · 2 model`: how a run's steps were chosen."""
    return " · ".join(f"{n} {how}" for how, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "—"


def _chosen(s: StepRecord) -> str:
    if not s.chosen:
        return ""
    step = f" (step {s.skill_step})" if s.skill_step is not None else ""
    cited = {p.id: p.text for p in s.preferences}
    prefs = [cited.get(i, i) for i in s.preference_ids]
    said = f" · preferences cited: {escape('; '.join(prefs))}" if prefs else ""
    return f'<p class="muted">chosen by {escape(_CHOSEN.get(s.chosen, s.chosen))}{step}{said}</p>'


def _header(run: LoadedRun) -> str:
    r = run.result
    usage = r.usage if r is not None else sum((s.usage for s in run.steps), Usage())
    steps = r.steps if r is not None and r.steps else len(run.steps)
    if r is not None:
        wall = _seconds(r.seconds)
    else:  # killed: the step phases are all we know, a lower bound
        total = sum(sum(s.timings.values()) for s in run.steps)
        wall = f"at least {_seconds(total)}" if total else "unknown"
    rows = [
        ("Outcome", _outcome(run)),
        ("Answer", escape(r.answer) if r is not None and r.answer is not None else "—"),
    ]
    if r is not None and r.verification is not None:
        v = r.verification
        rows.append(("Verification", f'<span class="{"ok" if v.ok else "err"}">'
                     f'{"passed" if v.ok else "failed"}</span> — {escape(v.reason)}'))
    rows += [
        ("Steps", str(steps)),
        ("Chosen by", escape(chosen_line(Counter(s.chosen for s in run.steps if s.chosen)))),
        ("Tokens", f"{usage.input_tokens:,} in / {usage.output_tokens:,} out"),
        ("Cost", _cost(usage)),
    ]
    budget = Budget.from_meta(run.meta.get("budget"))
    if budget:
        rows.append(("Budget", escape(budget.against(usage))))
    handovers = [h for s in run.steps for h in s.handovers]
    if handovers:  # time the person had control is part of the wall time, not the agent's
        rows.append(("Hand-overs", f"{len(handovers)}, the person had control for "
                                   f"{_seconds(sum(h.seconds for h in handovers))}"))
    rows += [
        ("Wall time", wall),
        ("Started", escape(run.started.isoformat(timespec="seconds")) if run.started else "unknown"),
        ("Run", escape(run.run_dir.name)),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    meta = _details("run settings", json.dumps(run.meta, indent=2, ensure_ascii=False)) if run.meta else ""
    return f"<h1>{escape(run.task) or 'Untitled run'}</h1><table>{table}</table>{meta}"


def _index(run: LoadedRun) -> str:
    """A compact list of the steps, linking to each: a 50-step run stays navigable. Each row
    shows what the step spent on the model and the run's total so far (what a budget counts)."""
    if not run.steps:
        return "<p class=muted>No steps were recorded.</p>"
    rows = ["<tr><th>Step</th><th></th><th>Actions</th><th>Page</th><th>Tokens</th><th>Cost</th>"
            "<th>Total</th></tr>"]
    total = Usage()
    for s in run.steps:
        total += s.usage
        so_far = f"{tokens(total):,}" + (f" · {usd(total.cost_usd)}" if total.cost_usd is not None else "")
        spent = f"<td>{tokens(s.usage):,}</td><td>{_cost(s.usage)}</td><td>{so_far}</td>"
        first = describe_action(s.actions[0], s.results[0] if s.results else None) if s.actions else ""
        more = f" (+{len(s.actions) - 1})" if len(s.actions) > 1 else ""
        bad = s.error is not None or any(not r.ok for r in s.results)
        status = '<span class="err">error</span>' if bad else '<span class="ok">ok</span>'
        rows.append(f'<tr><td><a href="#step-{s.step}">{s.step}</a></td><td>{status}</td>'
                    f"<td>{escape(_clip(first, 100))}{more}</td>"
                    f"<td class=muted>{escape(_clip(s.url, 70))}</td>{spent}</tr>")
    return f"<details open><summary>Steps</summary><table>{''.join(rows)}</table></details>"


def _action_item(number: int, action: Action, result: ActionResult | None) -> str:
    text = f"<code>{escape(describe_action(action, result))}</code>"
    if result is None:
        status = '<span class="muted">not run</span>'
    elif result.ok:
        status = '<span class="ok">ok</span>' + (f" — {escape(result.detail)}" if result.detail else "")
    else:
        status = f'<span class="err">error</span> — {escape(result.error or result.detail or "failed")}'
    extra = f" — answer: {escape(result.extracted)}" if result is not None and result.extracted else ""
    return f'<li value="{number}">{text}: {status}{extra}</li>'


def _step(run_dir: Path, s: StepRecord) -> str:
    title = f"{escape(s.title)} — " if s.title else ""
    parts = [f'<section class="step" id="step-{s.step}"><h2>Step {s.step}</h2>',
             f'<p>{title}<span class="muted">{escape(s.url)}</span></p>']
    if s.error:
        parts.append(f'<p class="err">Error: {escape(s.error)}</p>')
    parts.append(_chosen(s))
    if s.reasoning:
        parts.append(f'<div class="reasoning">{escape(s.reasoning)}</div>')
    if s.actions:
        items = [_action_item(i, a, s.results[i - 1] if i <= len(s.results) else None)
                 for i, a in enumerate(s.actions, 1)]
        parts.append(f'<ol class="actions">{"".join(items)}</ol>')
    for asked in s.approvals:  # what the person was shown, word for word, and what they said
        answer = '<span class="ok">approved</span>' if asked.approved else '<span class="err">denied</span>'
        parts.append(f"<p>The person was asked — {answer}</p><pre>{escape(asked.summary)}</pre>")
    parts.extend(_handover(h) for h in s.handovers)
    model = f" · {escape(s.model)}" if s.model else ""
    parts.append(
        f'<p class="muted">observation {s.observation_tokens:,} tokens, {s.elements} elements · '
        f"model {s.usage.input_tokens:,} in / {s.usage.output_tokens:,} out · "
        f"cost {_cost(s.usage)}{model}</p>")
    if s.timings:
        phases = " · ".join(f"{escape(k)} {v:.2f} s" for k, v in s.timings.items())
        parts.append(f'<p class="muted">timings: {phases}</p>')
    parts.append(_screenshot(run_dir, s))
    parts.append(_details("observation", s.observation_text))
    parts.append(_details("model input", s.model_input))
    parts.append(_details("model output", s.model_output))
    parts.append("</section>")
    return "".join(parts)


_ASKED_BY = {"model": "the agent asked", "person": "they asked themselves"}
_BACK = {"done": "handed back", "gave_up": "handed back without doing it", "stop": "ended the run"}


def _handover(h: HandOverNote) -> str:
    """Who asked, why, how long the person had control and where the page was before and after."""
    note = f" — their note: {escape(h.note)}" if h.note else ""
    return (f'<p class="handover">The person had control for {_seconds(h.seconds)} '
            f"({escape(_ASKED_BY.get(h.asked_by, h.asked_by))}: {escape(h.reason)}), then "
            f"{escape(_BACK.get(h.outcome, h.outcome))}{note}<br>"
            f'<span class="muted">{escape(h.url_before)} → {escape(h.url_after)}</span></p>')


def render_report(run: LoadedRun) -> str:
    """The report as one HTML string."""
    body = [_header(run), _index(run)] + [_step(run.run_dir, s) for s in run.steps]
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            '<meta name=viewport content="width=device-width,initial-scale=1">'
            f"<title>{escape(_clip(run.task, 80)) or 'run'} — operator report</title>"
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")
