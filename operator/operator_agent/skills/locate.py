"""Finding a step's element in the current observation.

First the saved descriptions in order of reliability, each used only when it
singles out one element: test id, role and name, label, id, form field name,
CSS path. When none does (ids renamed, layout moved, wording changed), every
element of a compatible role is scored on all descriptions at once. A
description that no element on the page has any more (a renamed id) is left out
of the scale, so the score measures agreement with what still exists.

Choices among similar items (choose rules) are resolved here too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..types import Element, Observation
from .features import features
from .format import Choice, Target
from .params import UNAVAILABLE, has_words
from .templates import fill, glob_match, norm, path_matches, prices, similarity, slots

_FAMILY = {"textbox": "text", "searchbox": "text", "combobox": "text", "spinbutton": "text",
           "button": "press", "link": "press", "clickable": "press", "menuitem": "press", "tab": "press",
           "summary": "press", "option": "option", "treeitem": "option", "checkbox": "check",
           "radio": "check", "switch": "check", "menuitemcheckbox": "check", "menuitemradio": "check"}
_ELEMENT_LINE = re.compile(r"^\[(\d+)\] ")
ACCEPT = 0.55  # lowest score that is taken
CLEAR = 0.08  # ...when the runner-up is at least this far behind, or the score is high
SURE = 0.8


@dataclass(frozen=True)
class Match:
    index: int
    score: float
    method: str  # which description found it ("role+name", "score"...)
    runner_up: float = 0.0


def family(role: str) -> str:
    return _FAMILY.get(role, role)


def name_of(el: Element) -> str:
    return features(el).get("name") or el.name


def frame_ok(target: Target, el: Element) -> bool:
    if target.frame:
        return bool(el.frame) and path_matches(target.frame, el.frame)
    return not el.frame


def _exact(target: Target, el: Element, name: str) -> dict[str, bool]:
    f = features(el)
    a = el.attributes
    return {
        "testid": bool(target.testid) and f.get("testid") == target.testid,
        "role+name": bool(name) and target.match == "exact" and el.role == target.role and (
            norm(name_of(el)) == norm(name) or norm(el.name) == norm(name)),
        "label": bool(target.label) and family(el.role) == family(target.role) and norm(
            f.get("label", "")) == norm(target.label),
        "id": bool(target.id) and a.get("id") == target.id and el.tag == (target.tag or el.tag),
        "field": bool(target.field) and a.get("name") == target.field and el.tag == (target.tag or el.tag),
        "css": bool(target.css) and f.get("css") == target.css,
    }


_EXACT_ORDER = ("testid", "role+name", "label", "id", "field", "css")
_WEIGHTS = {"role": 2.0, "name": 4.0, "label": 2.0, "text": 1.0, "placeholder": 1.0, "testid": 3.0,
            "id": 2.0, "field": 2.0, "css": 1.5, "classes": 1.0, "type": 0.5, "tag": 0.5, "href": 1.5,
            "context": 1.5, "position": 1.0}
# Exact-match descriptions that count only while some element on the page still has them.
_STALE = ("testid", "id", "field", "css", "classes", "href", "placeholder", "type")


def _agree(target: Target, el: Element, name: str) -> dict[str, float]:
    """How well each description fits the element, 0..1 (absent descriptions are left out)."""
    f = features(el)
    a = el.attributes
    out: dict[str, float] = {}
    if target.role:
        out["role"] = 1.0 if el.role == target.role else 0.5
    if name:
        actual = name_of(el)
        if target.match == "contains":
            out["name"] = 1.0 if name.lower() in actual.lower() else 0.0
        elif norm(actual).lower() == norm(name).lower():
            out["name"] = 1.0
        elif target.name_like and glob_match(target.name_like, actual):
            out["name"] = 0.9
        else:
            sim = max(similarity(name, actual), similarity(name, el.name))
            out["name"] = sim if sim >= 0.45 else 0.0
    for key in ("label", "text", "context"):
        have = f.get(key, "")
        want = getattr(target, key)
        if want:
            out[key] = similarity(want, have)
    for key, have in (("placeholder", el.placeholder or ""), ("testid", f.get("testid", "")),
                      ("id", a.get("id", "")), ("field", a.get("name", "")), ("css", f.get("css", "")),
                      ("type", a.get("type", "")), ("tag", el.tag),
                      ("href", a.get("href", "").split("?")[0])):
        want = getattr(target, key)
        if want:
            out[key] = 1.0 if have == want else 0.0
    if target.classes:
        mine = set(f.get("classes", "").split())
        out["classes"] = len(mine & set(target.classes)) / len(set(target.classes))
    if target.position is not None and el.bbox is not None:
        p, b = target.position, el.bbox
        d = math.dist((p.x + p.width / 2, p.y + p.height / 2), b.center)
        out["position"] = max(0.0, 1.0 - d / 500)
    return out


def locate(target: Target, obs: Observation, values: Mapping[str, str],
           exclude: Sequence[int] = ()) -> Match | None:
    """The element a target describes, or None when nothing is good enough."""
    name = fill(target.name, values) if target.name else ""
    pool = [el for el in obs.elements if frame_ok(target, el) and el.index not in exclude]
    if target.match == "contains" and name:
        hits = [el for el in pool if family(el.role) == family(target.role)
                and name.lower() in name_of(el).lower()]
        return Match(hits[0].index, 1.0, "name contains") if hits else None
    exact = {el.index: _exact(target, el, name) for el in pool}
    for method in _EXACT_ORDER:
        hits = [i for i, e in exact.items() if e[method]]
        if len(hits) == 1 and (method in ("testid", "role+name") or _named_alike(target, name, hits[0], obs)):
            return Match(hits[0], 1.0, method)
    return _score(target, pool, name)


def _named_alike(target: Target, name: str, index: int, obs: Observation) -> bool:
    """A unique id or CSS path still has to agree with the name: the first filter box
    is not the same filter when it now says "1 stop" instead of "Nonstop"."""
    el = obs.element(index)
    if el is None or not name:
        return el is not None
    actual = name_of(el)
    if slots(target.name):  # a name made of parameters (a date) must be the one asked for
        return norm(name).lower() in (norm(actual).lower(), norm(el.name).lower())
    if target.name_like:
        return glob_match(target.name_like, actual) or glob_match(target.name_like, el.name)
    return max(similarity(name, actual), similarity(name, el.name)) >= 0.6


def _score(target: Target, pool: list[Element], name: str) -> Match | None:
    fits = [el for el in pool if not target.role or family(el.role) == family(target.role)]
    if not fits:
        return None
    agreements = {el.index: _agree(target, el, name) for el in fits}
    present = {k for a in agreements.values() for k, v in a.items() if v >= 1.0}
    # A name made of parameters (a date, a place) is what was asked for: only that name will do.
    needed = 1.0 if slots(target.name) else 1e-9
    scored: list[tuple[float, int]] = []
    for index, agree in agreements.items():
        keys = [k for k in agree if k not in _STALE or k in present]
        total = sum(_WEIGHTS[k] for k in keys)
        if total <= 0 or agree.get("name", 1.0) < needed:
            continue
        scored.append((sum(_WEIGHTS[k] * agree[k] for k in keys) / total, index))
    if not scored:
        return None
    scored.sort(reverse=True)
    best, index = scored[0]
    second = scored[1][0] if len(scored) > 1 else 0.0
    if best >= ACCEPT and (best - second >= CLEAR or best >= SURE):
        return Match(index, round(best, 3), "score", round(second, 3))
    return None


# --- choices among similar items ---------------------------------------------------------


def item_text(el: Element, obs: Observation) -> str:
    """The text of the item an element sits in: from the page when enriched, else the
    observation lines after the element (a result card reads on after its link)."""
    text = features(el).get("item-text")
    if text:
        return text
    lines = obs.text.splitlines()
    for i, line in enumerate(lines):
        m = _ELEMENT_LINE.match(line)
        if m and int(m.group(1)) == el.index:
            tail = []
            for nxt in lines[i + 1:i + 4]:
                if _ELEMENT_LINE.match(nxt):
                    break
                tail.append(nxt)
            return " ".join([line, *tail])
    return el.name


def choose(choice: Choice, target: Target, obs: Observation, values: Mapping[str, str]) -> Match | None:
    """The item a choice rule picks among the page's similar items, or None."""
    like = fill(choice.like, values)
    words = fill(choice.words, values)
    limit = _number(fill(choice.max_price, values))
    pool = [el for el in obs.elements if frame_ok(target, el)
            and (not target.role or family(el.role) == family(target.role))]
    if like:
        pool = [el for el in pool if glob_match(like, name_of(el)) or glob_match(like, el.name)]
    else:
        pool = [el for el in pool if _like_item(target, el, obs, priced=limit is not None)]
    groups = {features(el).get("group", "").rsplit("#", 1)[-1] for el in pool} - {""}
    if groups:  # several seat maps: the one the person used
        pool = [el for el in pool if features(el).get("group", "#0").rsplit("#", 1)[-1] == str(choice.group)]
    picked: list[tuple[float, Element]] = []
    for el in pool:
        text = item_text(el, obs)
        if choice.available and UNAVAILABLE.search(name_of(el) + " " + text):
            continue
        if words and not has_words(name_of(el), words):
            continue
        found = prices(text)
        if limit is not None and (not found or found[0] > limit):
            continue
        picked.append((found[0] if found else 0.0, el))
    if not picked:
        return None
    if choice.pick == "cheapest":
        el = min(picked, key=lambda p: p[0])[1]
    elif choice.pick == "nth":
        el = picked[min(choice.nth, len(picked) - 1)][1]
    else:
        el = picked[0][1]
    return Match(el.index, 1.0, f"choose {choice.pick}")


def _like_item(target: Target, el: Element, obs: Observation, *, priced: bool) -> bool:
    f = features(el)
    if target.item and f.get("item"):
        if f["item"] == target.item:
            return True
        if f["item"].split(".")[0] != target.item.split(".")[0]:  # classes renamed: the tag still tells
            return False
        return not priced or bool(prices(f.get("item-text", "")))
    return not priced or bool(prices(item_text(el, obs)))


def _number(text: str) -> float | None:
    m = re.search(r"\d+(?:[.,]\d+)?", text.replace(",", "")) if text else None
    return float(m.group(0)) if m else None
