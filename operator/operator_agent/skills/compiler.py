"""Turns a recording into a skill (`operator learn`), without a model.

Events become steps: a click on a field followed by typing in it is the typing;
typing then Enter is one submitted step; repeated "Next month" clicks are one
step done as often as needed; clicks on cookie banners and pop-ups are optional.
Navigations caused by a step become its check (`expect.url`); a heading that
appears after a step (a dialog) becomes a text check. Parameters: see params.py.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .events import Event, Recording
from .format import Expect, Position, Skill, Step, Target
from .params import (
    Params,
    autocomplete_param,
    choice_param,
    date_param,
    describe_task,
    find_date,
    infer_choice,
    secret_param,
    typed_param,
)
from .templates import generalize, norm, path_pattern, prices, slug

ACTIONS = {"click", "fill", "select", "check", "press", "scroll"}
_FIELD_ROLES = {"textbox", "searchbox", "combobox", "spinbutton"}
_REPEATABLE = re.compile(r"^(?:next|previous|prev|more|load more|show more|[›»‹«>]+)\b", re.I)
_DISMISS = re.compile(r"accept|reject|necessary|cookies?|no thanks|not now|close|dismiss|later|got it"
                      r"|continue shopping|^[×✕x]$", re.I)
_BANNER = re.compile(r"cookie|consent|newsletter|privacy|subscribe", re.I)


@dataclass
class _Raw:
    kind: str
    event: Event
    after_url: str = ""  # where the page was once the step had its effect
    after_headings: list[str] = field(default_factory=list)
    submit: bool = False
    repeat: bool = False
    scroll_pages: float = 0.0


def _same_element(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    if not a or not b:
        return False
    return (a.get("css"), a.get("name"), a.get("role")) == (b.get("css"), b.get("name"), b.get("role"))


def _raw_steps(rec: Recording) -> list[_Raw]:
    """Actions in order, each with where it led; navigations the person typed become steps."""
    raws: list[_Raw] = []
    acted_since_nav = True
    last_nav_t = 0.0
    first_nav = True
    for ev in rec.events:
        if ev.type == "navigate":
            if raws and not acted_since_nav and ev.t - last_nav_t > 1500 and not first_nav:
                raws.append(_Raw("navigate", ev, after_url=ev.url))
            elif raws:
                raws[-1].after_url = ev.url  # the last navigation before the next action counts
            after = rec.after.get(ev.seq)
            if raws and after is not None and after.headings:
                raws[-1].after_headings = after.headings
            acted_since_nav, last_nav_t, first_nav = False, ev.t, False
            continue
        if ev.type in ("switch_tab", "close_tab"):
            raws.append(_Raw(ev.type, ev))
            continue
        if ev.type not in ACTIONS:
            continue
        acted_since_nav = True
        raws.append(_Raw(ev.type, ev, after_url=ev.url))
    for r in raws:
        # What the page showed once the step settled, if that report is about where it led
        # (a late one from after a later navigation is not).
        after = rec.after.get(r.event.seq)
        if after is not None and path_pattern(after.url or r.after_url) == path_pattern(r.after_url):
            r.after_headings = r.after_headings or list(after.headings or [])
    tidy = _tidy(raws, rec)
    # The person closing the window at the end is no step. Checked after tidying: a click
    # the page reports late can land after the browser's close event in the recording.
    while tidy and tidy[-1].kind == "close_tab":
        tidy.pop()
    return tidy


def _tidy(raws: list[_Raw], rec: Recording) -> list[_Raw]:
    out: list[_Raw] = []
    for i, r in enumerate(raws):
        nxt = raws[i + 1] if i + 1 < len(raws) else None
        t = r.event.target or {}
        same_next = nxt is not None and _same_element(t, nxt.event.target)
        if r.kind == "click" and nxt is not None and nxt.kind == "fill" and same_next:
            continue  # clicking into a field to type in it
        if r.kind == "fill" and nxt is not None and nxt.kind == "fill" and _same_element(t, nxt.event.target):
            continue  # typed again into the same field: the last text counts
        if r.kind == "press" and out and out[-1].kind == "fill" and r.event.key == "Enter" \
                and _same_element(out[-1].event.target, t):
            out[-1].submit = True
            out[-1].after_url, out[-1].after_headings = r.after_url, r.after_headings
            continue
        if r.kind == "click" and _REPEATABLE.search(t.get("name", "")) and r.after_url == r.event.url:
            if out and out[-1].kind == "click" and out[-1].repeat and _same_element(out[-1].event.target, t):
                out[-1].after_headings = r.after_headings
                continue
            r.repeat = True
        if r.kind == "scroll":
            grew = [x for x in raws[i + 1:i + 4] if x.kind == "scroll" and (x.event.height or 0) > (
                r.event.height or 0)]
            if not grew:
                continue  # the replay scrolls by itself when an element is out of view
            r.scroll_pages = round(max(0.5, (r.event.dy or 0) / max(r.event.view or 800, 1)), 1)
        out.append(r)
    return out


# --- targets and intents ------------------------------------------------------------


def target_of(ev: Event, image_base: Path | None, rec_path: Path) -> Target:
    d = ev.target or {}
    name = norm(d.get("name", ""))
    label = norm(d.get("label", ""))
    text = norm(d.get("text", ""))
    bbox = d.get("bbox") or []
    item = d.get("item") or {}
    frame = ev.frame or {}
    image = ""
    if ev.crop:
        crop = rec_path / ev.crop
        image = os.path.relpath(crop, image_base) if image_base else str(crop)
    href = d.get("href", "")
    return Target(
        role=d.get("role", ""), name=name, name_like=generalize(name) or "",
        label=label if label != name else "", text=text if text not in (name, label) else "",
        placeholder=d.get("placeholder", ""), testid=d.get("testid", ""), id=d.get("id", ""),
        field=d.get("field", ""), tag=d.get("tag", ""), type=d.get("type", ""),
        href=urlsplit(href).path if href else "", css=d.get("css", ""),
        classes=list(d.get("classes") or [])[:4],
        context=norm(d.get("context", "")), item=item.get("sig", "") if item.get("count", 0) >= 3 else "",
        frame=str(frame.get("path", "")), frame_title=str(frame.get("title", "")),
        position=Position(x=bbox[0], y=bbox[1], width=bbox[2], height=bbox[3]) if len(bbox) == 4 else None,
        image=image)


def _q(text: str) -> str:
    return f'"{text}"' if text else "the element"


def _intent(step: Step) -> str:
    t = step.target or Target()
    what = _q(t.name_like or t.name or t.label or t.placeholder)
    where = f" in {_q(t.context)}" if t.context and t.context != (t.name or t.label) else ""
    match step.action:
        case "type":
            return f"Type {step.text} into {what}" + (" and press Enter" if step.submit else "")
        case "select":
            return f"Choose {step.option} in {what}"
        case "check":
            return f"{'Tick' if step.checked else 'Untick'} {what}"
        case "press":
            return f"Press {step.keys}"
        case "scroll":
            return "Scroll down to load more"
        case "navigate":
            return f"Go to {step.url}"
        case "switch_tab":
            return f"Switch to tab {step.tab}"
        case "close_tab":
            return "Close the tab"
    c = step.choose
    if c is not None:
        tests = [x for x in (
            "available" if c.available else "", f"named with the words {c.words}" if c.words else "",
            f"at most {c.max_price}" if c.max_price else "", f'like "{c.like}"' if c.like else "") if x]
        order = {"first": "the first", "cheapest": "the cheapest",
                 "nth": f"number {c.nth + 1} of the"}[c.pick]
        return f"Click {order} {t.role or 'item'}" + (" that is " + ", ".join(tests) if tests else "")
    return f"Click {what}{where}" + (" (as often as needed)" if step.repeat else "")


# --- expectations ------------------------------------------------------------------------


def _stable(heading: str, ps: Params) -> bool:
    values = [p.example.lower() for p in ps.params.values() if p.example]
    return bool(heading) and len(heading) <= 80 and not re.search(r"\d|@", heading) and not any(
        v in heading.lower() for v in values)


def _expect(r: _Raw, before_url: str, before_headings: list[str], ps: Params, last: bool) -> Expect | None:
    if r.kind not in ("click", "fill", "press", "select", "check", "navigate"):
        return None
    if r.kind == "fill" and not r.submit:
        return None
    new_path = path_pattern(r.after_url) if r.after_url else ""
    fresh = [h for h in r.after_headings if h not in before_headings and _stable(h, ps)]
    if new_path and new_path != path_pattern(before_url):
        text = fresh[0] if last and fresh else ""
        return Expect(url=new_path, text=text)
    if fresh and r.kind == "click":
        return Expect(text=fresh[0])
    return None


# --- the skill ------------------------------------------------------------------------------


def compile_recording(rec: Recording, *, name: str | None = None, skill_dir: Path | None = None) -> Skill:
    """The skill a recording teaches (parameters named from labels; see naming.py for a model's)."""
    raws = _raw_steps(rec)
    limits = re.findall(r"(?:under|below|less than|at most|max(?:imum)?|up to)\s*\$?\s*(\d+(?:\.\d+)?)",
                        rec.meta.task, re.I)
    ps = Params(task_money=prices(rec.meta.task) + [float(m) for m in limits])
    steps: list[Step] = []
    before_url = rec.meta.start_url
    before_headings: list[str] = []
    first = rec.events[0] if rec.events else None
    if first is not None and first.type == "navigate" and first.seq in rec.after:
        before_headings = list(rec.after[first.seq].headings or [])
    skip_next = False
    for i, r in enumerate(raws):
        if skip_next:
            skip_next = False
            continue
        ev = r.event
        d = ev.target or {}
        target = target_of(ev, skill_dir, rec.path) if ev.target else None
        step = Step(id=len(steps) + 1, intent="", action="click", target=target)
        nxt = raws[i + 1] if i + 1 < len(raws) else None
        if r.kind == "fill":
            step.action, step.submit = "type", r.submit
            if ev.secret:
                step.text = secret_param(ps, ev.secret, d)
            elif nxt is not None and nxt.kind == "click" and _suggestion(ev, nxt.event):
                pname = autocomplete_param(ps, d, ev.value or "", norm(nxt.event.target.get("name", "")))
                step.text = "{" + pname + "}"
                step.intent = _intent(step)
                steps.append(step)
                pick = Step(id=len(steps) + 1, intent="", action="click",
                            target=target_of(nxt.event, skill_dir, rec.path))
                assert pick.target is not None
                pick.target.name, pick.target.name_like, pick.target.match = "{" + pname + "}", "", "contains"
                pick.target.text = ""
                pick.intent = f"Pick the suggestion that has {{{pname}}}"
                step, r, skip_next = pick, nxt, True
            else:
                step.text = typed_param(ps, d, ev.value or "")
        elif r.kind == "select":
            step.action, step.option = "select", choice_param(ps, d, ev.option or "")
        elif r.kind == "check":
            step.action, step.checked = "check", bool(ev.checked)
        elif r.kind == "press":
            step.action, step.keys, step.target = "press", ev.key or "Enter", None
        elif r.kind == "scroll":
            step.action, step.pages, step.optional, step.target = "scroll", r.scroll_pages, True, None
        elif r.kind == "navigate":
            step.action, step.target = "navigate", None
            step.url = _site_relative(ev.url, rec.meta.start_url)
        elif r.kind in ("switch_tab", "close_tab"):
            step.action, step.tab, step.target = r.kind, ev.page, None  # type: ignore[assignment]
        else:  # click
            step.repeat = r.repeat
            _click_params(step, d, ps)
            step.optional = bool(target and r.after_url == ev.url and (
                _BANNER.search(target.context) or (d.get("dialog") and _DISMISS.search(target.name))))
        step.expect = _expect(r, before_url, before_headings, ps, last=i == len(raws) - 1)
        step.intent = step.intent or _intent(step)
        steps.append(step)
        # Only what can change the page moves "before" on: a field's own after-state may have been
        # reported late (an iframe's, after the page had already moved on).
        if r.kind in ("click", "press", "select", "check", "navigate") or r.submit:
            before_url = r.after_url or before_url
            before_headings = r.after_headings or before_headings
    skill_name = name or rec.meta.name or rec.path.name
    site = urlsplit(rec.meta.start_url)
    return Skill(
        name=slug(skill_name, "skill").replace("_", "-"),
        description=describe_task(rec.meta.task, ps) if rec.meta.task else _summary(steps, rec),
        site=f"{site.scheme}://{site.netloc}" if site.netloc else "", start_url=rec.meta.start_url,
        parameters=ps.params, steps=steps,
        recording=os.path.relpath(rec.path, skill_dir) if skill_dir else str(rec.path),
        learned=dt.date.today().isoformat())


def _suggestion(typed: Event, click: Event) -> bool:
    """Typing, then picking a suggestion (an option) that has the typed text."""
    t = click.target or {}
    typed_text = (typed.value or "").strip().lower()
    return t.get("role") == "option" and typed_text in norm(t.get("name", "")).lower()


def _click_params(step: Step, d: dict[str, Any], ps: Params) -> None:
    """A date in the clicked name, or a choice among similar items."""
    t = step.target
    if t is None:
        return
    found = find_date(t.name)
    if found is not None:
        day, fmt = found
        pname = date_param(ps, t.context, day)
        t.name, t.name_like, t.text = "{" + pname + ":" + fmt + "}", "", ""
        return
    choice = infer_choice(ps, d)
    if choice is not None:
        step.choose = choice


def _site_relative(url: str, start_url: str) -> str:
    a, b = urlsplit(url), urlsplit(start_url)
    if (a.scheme, a.netloc) == (b.scheme, b.netloc):
        return a.path + (f"?{a.query}" if a.query else "")
    return url


def _summary(steps: list[Step], rec: Recording) -> str:
    host = urlsplit(rec.meta.start_url).netloc or "the site"
    key = [s.intent for s in steps if not s.optional][:6]
    return f"On {host}: " + "; ".join(key) + ("; ..." if len(steps) > 6 else "")
