"""The report of a manager's run: the tree of its runs (the manager, each worker, each
attempt, linked to that attempt's own report), the plan, the checks and why a result was
sent back, every question put to the person, and the answer.

report.write_report() hands a manager's run folder here, so `operator report last` works
on one. Each attempt's own report (report.html in its folder) is written too; links are
relative, so the folder can be moved or zipped whole. All page- and model-derived text
is escaped, as in report.py.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from ..private_files import private_dir, write_private
from ..protocols import ConfigError
from ..report import _CSS, write_report  # the same look as a single run's report
from ..traces import TRACE_FILE
from ..types import Usage
from .brain import spec_text
from .trace import AttemptView, ManagerView, load_manager_run

_TREE_CSS = """
ul.tree{list-style:none;padding-left:1.2em;border-left:1px solid #d2d2d7;margin:.3em 0}
ul.tree li{margin:.35em 0}
.tag{display:inline-block;border-radius:4px;padding:0 .4em;font-size:.85em;background:#f5f5f7}
"""


def write_manager_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the manager's report (default run_dir/report.html) and each attempt's own."""
    view = load_manager_run(run_dir)
    out = Path(out) if out is not None else view.run_dir / "report.html"
    if not out.parent.exists():
        private_dir(out.parent)
    links: dict[tuple[int, int], str] = {}
    for attempt in view.attempts:
        if (attempt.run_dir / TRACE_FILE).is_file():
            try:
                page = write_report(attempt.run_dir)
            except (ConfigError, ValueError):
                continue  # a worker's trace that cannot be read: the tree says "no report"
            links[(attempt.worker, attempt.number)] = os.path.relpath(page, out.parent)
    write_private(out, render_manager_report(view, links).encode("utf-8"))
    return out


def render_manager_report(view: ManagerView, links: dict[tuple[int, int], str] | None = None) -> str:
    links = links or {}
    body = [_header(view), _tree(view, links), _asked(view)]
    if view.plan is not None and view.plan.reasoning:
        body.append(f"<h2>The plan</h2><p>{escape(view.plan.reasoning)}</p>")
    title = escape(view.task[:80]) or "manager run"
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            '<meta name=viewport content="width=device-width,initial-scale=1">'
            f"<title>{title} — operator report</title><style>{_CSS}{_TREE_CSS}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def _header(view: ManagerView) -> str:
    r = view.result
    if r is None:
        outcome = '<span class="outcome err">incomplete: the manager was stopped before it finished</span>'
    else:
        cls, word = ("ok", "success") if r.success else ("err", "failed")
        outcome = f'<span class="outcome {cls}">{word}</span> ({escape(r.stop_reason)}) — {escape(r.message)}'
    answer = view.answer.answer if view.answer else (r.answer if r else None)
    done = [a.result for a in view.attempts if a.result is not None]
    worker_time = sum(x.seconds for x in done)
    usage = r.usage if r is not None else sum((x.usage for x in done), Usage())
    subtasks = len(view.plan.subtasks) if view.plan else 0
    rows = [("Outcome", outcome), ("Answer", f"<pre>{escape(answer)}</pre>" if answer else "—"),
            ("Sub-tasks", f"{subtasks}, at most {escape(str(view.meta.get('workers', '?')))} at once; "
                          f"{sum(1 for a in view.attempts if a.number > 1)} sent back"),
            ("Tokens", f"{usage.input_tokens:,} in / {usage.output_tokens:,} out (manager and workers)"),
            ("Cost", "unknown" if usage.cost_usd is None else f"${usage.cost_usd:.4f}")]
    if r is not None:
        rows.append(("Wall time", f"{_seconds(r.seconds)} (the workers' own times add up to "
                                  f"{_seconds(worker_time)})"))
    rows += [("Started", escape(view.started.isoformat(timespec="seconds")) if view.started else "unknown"),
             ("Run", escape(view.run_dir.name))]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<h1>{escape(view.task) or 'Manager run'}</h1><table>{table}</table>"


def _tree(view: ManagerView, links: dict[tuple[int, int], str]) -> str:
    items = []
    for n, sub in enumerate(view.plan.subtasks if view.plan else [], 1):
        attempts = view.worker_attempts(n)
        last = attempts[-1] if attempts else None
        if last is None or last.check is None:
            status = '<span class="muted">not finished</span>'
        elif last.check.ok:
            status = '<span class="ok">passed</span>'
        else:
            status = f'<span class="err">{"refused" if last.checked_by == "refusal" else "failed"}</span>'
        rows = "".join(_attempt(a, links.get((a.worker, a.number)), retried=a is not last) for a in attempts)
        label = escape(attempts[0].label if attempts else f"worker {n} ({sub.label})")
        items.append(f"<li><b>{label}</b> {status} <span class=tag>{escape(sub.id)}</span>"
                     f"<br>{escape(sub.task)}<br><span class=muted>spec: {escape(spec_text(sub))}</span>"
                     f"<ul class=tree>{rows}</ul></li>")
    if not items:
        items.append('<li class="muted">no plan was made</li>')
    return (f"<h2>Runs</h2><ul class=tree><li><b>manager</b> — {escape(view.run_dir.name)}"
            f"<ul class=tree>{''.join(items)}</ul></li></ul>")


def _attempt(a: AttemptView, link: str | None, *, retried: bool) -> str:
    where = f'<a href="{escape(link)}">report</a>' if link else '<span class="muted">no report</span>'
    if a.result is None:
        return f"<li>attempt {a.number}: still running when the trace ended — {where}</li>"
    r = a.result
    run = (f'<span class="{"ok" if r.success else "err"}">{"finished" if r.success else "did not finish"}'
           f"</span> ({escape(r.stop_reason)}), {r.steps} steps, {_seconds(r.seconds)}")
    answer = f"<br>answer: {escape(r.answer)}" if r.answer else ""
    refused = f'<br><span class="err">refused: {escape(a.refused)}</span>' if a.refused else ""
    check = ""
    if a.check is not None:
        verdict = ('<span class="ok">passed</span>' if a.check.ok else
                   '<span class="err">sent back</span>' if retried else '<span class="err">not passed</span>')
        check = f"<br>check ({escape(a.checked_by)}): {verdict} — {escape(a.check.reason)}"
    return f"<li>attempt {a.number} — {where}: {run}{answer}{refused}{check}</li>"


def _asked(view: ManagerView) -> str:
    if not view.asked:
        return "<h2>Questions to the person</h2><p class=muted>None.</p>"
    rows = []
    for q in view.asked:
        answer = str(q.get("answer", ""))
        shown = {"yes": '<span class="ok">approved</span>', "no": '<span class="err">denied</span>'}.get(
            answer, escape(answer) or '<span class="muted">no answer</span>')
        kind, text = escape(str(q.get("kind", ""))), escape(str(q.get("text", "")))
        rows.append(f"<li>{kind} — {shown}<pre>{text}</pre></li>")
    return f"<h2>Questions to the person (one at a time)</h2><ol>{''.join(rows)}</ol>"
