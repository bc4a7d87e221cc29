"""One self-contained HTML page for a results file: the summary table, a chart of
success by task group (inline SVG), and every task with its checks, a thumbnail of the
page its run ended on, and a link to its run's own report (operator_agent.report,
written next to the trace).

Everything that came from a page, a model or a suite file is escaped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from ..report import chosen_line, write_report
from .results import Summary, TaskResult, load_results, summarize

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em 1.5em;color:#1d1d1f}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;width:100%}
th,td{padding:.25em .6em;text-align:left;border-bottom:1px solid #e5e5ea;vertical-align:top}
th{background:#f5f5f7}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#0a7d2c;font-weight:600}.bad{color:#c0262d;font-weight:600}.warn{color:#b25000;font-weight:600}
.muted{color:#6e6e73}tr.total td{font-weight:600}
img.thumb{display:block;width:160px;border:1px solid #e5e5ea;margin-bottom:.2em}
details{margin:.2em 0}summary{cursor:pointer;color:#0057b8}
pre{font:12px/1.4 ui-monospace,monospace;background:#f5f5f7;padding:.5em;white-space:pre-wrap;margin:.3em 0}
"""


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _cost(c: float | None) -> str:
    return "—" if c is None else f"${c:.4f}"


def _summary_rows(rows: Sequence[Summary], total: bool = False) -> str:
    out = []
    for s in rows:
        d = s.as_dict()
        out.append(
            f"<tr{' class=total' if total else ''}><td>{escape(s.label)}</td><td class=num>{s.n}</td>"
            f"<td class=num>{s.passed}</td><td class=num>{s.failed}</td><td class=num>{s.failed_runs}</td>"
            f"<td class=num>{s.not_run}</td><td class=num>{_pct(s.rate)}</td><td class=num>{s.span()}</td>"
            f"<td class=num>{d['mean_steps']}</td><td class=num>{d['median_seconds']:.1f}s</td>"
            f"<td class=num>{s.tokens:,}</td><td class=num>{_cost(s.cost)}</td>"
            f"<td class=num>{s.approvals}</td><td class=num>{s.errors}</td></tr>")
    return "".join(out)


def summary_table(results: Sequence[TaskResult]) -> str:
    head = ("<tr><th></th><th class=num>tasks</th><th class=num>passed</th><th class=num>failed</th>"
            "<th class=num>harness errors</th><th class=num>not run</th><th class=num>success (of all)</th>"
            "<th class=num>95% interval</th>"
            "<th class=num>mean steps</th><th class=num>median time</th><th class=num>tokens</th>"
            "<th class=num>cost</th><th class=num>approvals asked</th><th class=num>model/action errors</th>"
            "</tr>")
    body = (_summary_rows(summarize(results), total=True) + _summary_rows(summarize(results, "suite"))
            + _summary_rows(summarize(results, "difficulty")))
    return f"<table>{head}{body}</table>"


def _whisker(g: Summary, left: int, width: int, y: float) -> str:
    lo, hi = (left + round(width * x) for x in g.interval())
    return f'<line x1="{lo}" x2="{hi}" y1="{y}" y2="{y}" stroke="#1d1d1f" stroke-width="1.5"/>'


def chart(groups: Sequence[Summary]) -> str:
    """Horizontal bars: success rate per task group, with n and the 95% interval (a line)."""
    bar_w, row_h, label_w = 420, 22, 230
    height = row_h * len(groups) + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 170}" height="{height}" '
             'role="img" aria-label="success by task group" font-family="system-ui,sans-serif" '
             'font-size="12">']
    for i, g in enumerate(groups):
        y = i * row_h + 4
        w = round(bar_w * g.rate)
        colour = "#0a7d2c" if g.rate >= 0.8 else "#e0a000" if g.rate >= 0.5 else "#c0262d"
        parts.append(f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">{escape(g.label)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{row_h - 6}" fill="#f0f0f3"/>'
                     f'<rect x="{label_w}" y="{y}" width="{w}" height="{row_h - 6}" fill="{colour}"/>'
                     f'{_whisker(g, label_w, bar_w, y + (row_h - 6) / 2)}'
                     f'<text x="{label_w + bar_w + 6}" y="{y + 14}">'
                     f'{_pct(g.rate)} of {g.n} ({g.span()})</text>')
    axis_y = len(groups) * row_h + 16
    for frac in (0, 0.5, 1):
        x = label_w + round(bar_w * frac)
        parts.append(f'<text x="{x}" y="{axis_y}" text-anchor="middle" fill="#6e6e73">{_pct(frac)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _trace_link(r: TaskResult, out_dir: Path, traces: bool) -> str:
    if not r.run_dir or not (Path(r.run_dir) / "trace.jsonl").is_file():
        return '<span class=muted>no trace</span>'
    page = Path(r.run_dir) / "report.html"
    if traces:
        try:
            page = write_report(Path(r.run_dir))
        except (ValueError, OSError) as exc:
            return f'<span class=muted>trace unreadable: {escape(str(exc)[:80])}</span>'
    if not page.is_file():
        return '<span class=muted>no report</span>'
    href = os.path.relpath(page, out_dir)
    return f'<a href="{escape(Path(href).as_posix(), quote=True)}">trace</a>'


_OUTCOME = {"passed": '<span class=ok>pass</span>', "failed": '<span class=bad>fail</span>',
            "error": '<span class=warn>error</span>', "not run": '<span class=muted>not run</span>'}


def _thumbnail(r: TaskResult, out_dir: Path) -> str:
    """The page as the run's last step saw it, small, linked to the full picture."""
    if not r.run_dir or not Path(r.run_dir).is_dir():
        return ""
    pictures = sorted(p for p in Path(r.run_dir).glob("step-*") if p.suffix in (".jpg", ".png"))
    if not pictures:
        return ""
    href = escape(Path(os.path.relpath(pictures[-1], out_dir)).as_posix(), quote=True)
    return (f'<a href="{href}"><img class=thumb src="{href}" loading=lazy '
            f'alt="the page at step {len(pictures)}"></a>')


def _task_row(r: TaskResult, out_dir: Path, traces: bool) -> str:
    outcome = _OUTCOME[r.outcome]
    checks = "".join(f"<div>{'✓' if c.ok else '✗'} {escape(c.name)}"
                     f"{' — ' + escape(c.detail) if c.detail else ''}</div>" for c in r.checks)
    shown = "".join(f"<pre>{escape(a.summary)}\n→ {'approved' if a.approved else 'denied'}</pre>"
                    for a in r.approvals)
    details = (f"<details><summary>{escape(r.goal[:90] or r.task)}</summary>{checks}"
               + (f"<div><b>answer:</b> {escape(r.answer or '')}</div>" if r.answer else "")
               + (f"<div><b>approvals shown:</b>{shown}</div>" if shown else "")
               + (f"<div class=muted>chosen by: {escape(chosen_line(r.chosen))}</div>" if r.chosen else "")
               + (f"<div class=warn>{escape(r.error)}</div><pre>{escape(r.message)}</pre>" if r.error else
                  f"<div class=muted>{escape(r.not_run)}</div>" if r.not_run else
                  f"<div class=muted>{escape(r.stop_reason)}: {escape(r.message[:200])}</div>")
               + "</details>")
    return (f"<tr><td>{escape(r.suite)}</td><td>{escape(r.task)}</td><td class=num>{r.seed}</td>"
            f"<td>{escape(r.group)}</td><td class=num>{r.difficulty}</td><td>{outcome}</td>"
            f"<td class=num>{r.steps}</td><td class=num>{r.seconds:.1f}s</td><td class=num>{r.tokens:,}</td>"
            f"<td class=num>{_cost(r.cost_usd)}</td><td class=num>{r.approvals_asked}</td>"
            f"<td>{details}</td><td>{_thumbnail(r, out_dir)}{_trace_link(r, out_dir, traces)}</td></tr>")


def _headline(results: Sequence[TaskResult]) -> str:
    return f"task × seed pairs: {summarize(results)[0].headline()}" if results else "no results"


def render(results: Sequence[TaskResult], *, title: str, out_dir: Path, traces: bool = True) -> str:
    planners = sorted({r.planner for r in results})
    rows = "".join(_task_row(r, out_dir, traces) for r in sorted(
        results, key=lambda r: (r.suite, r.difficulty, r.task, r.seed)))
    groups = summarize(results, "group")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{escape(title)}</h1>"
            f"<p class=muted>{escape(_headline(results))} · planner {escape(', '.join(planners))}</p>"
            f"<h2>Summary</h2>{summary_table(results)}"
            f"<h2>Success by task group</h2>{chart(groups)}"
            f"<h2>Tasks</h2><table><tr><th>suite</th><th>task</th><th class=num>seed</th><th>group</th>"
            f"<th class=num>difficulty</th><th>outcome</th><th class=num>steps</th><th class=num>time</th>"
            f"<th class=num>tokens</th><th class=num>cost</th><th class=num>approvals</th>"
            f"<th>goal, checks</th>"
            f"<th>run</th></tr>{rows}</table></body></html>")


def write_eval_report(results_path: Path, out: Path | None = None, *, traces: bool = True) -> Path:
    """Write the report (default: next to the results, .html) and each run's own report."""
    results_path = Path(results_path)
    out = Path(out) if out is not None else results_path.with_suffix(".html")
    out.parent.mkdir(parents=True, exist_ok=True)
    results = load_results(results_path)
    html = render(results, title=f"Evaluation: {results_path.name}", out_dir=out.parent.resolve(),
                  traces=traces)
    out.write_text(html, encoding="utf-8")
    return out
