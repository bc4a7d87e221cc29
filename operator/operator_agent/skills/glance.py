"""Replays that look only where the step acts (issue 14: fast replays).

Before each decision the agent loop observes. For a replay that is wasted on a step whose
recorded element is right there: the skill knows what it looks for. So the replay's
perceiver first asks the planner what its next decision acts on; when each of those
elements is found at once (by role and name, exactly one shown and enabled, in the page
itself) the "observation" is a glance: the URL and those elements only, stamped like any
observation's so the executor acts on them by index, through the gate, as always. No page
walk, no feature pass, no picture. Anything else (a check of page text, a choice among
items, a calendar, something not there at once, a retry, a heal) is a full observation and
the replay decides as it always did (replay.py).

The permission gate sees the glance. Its verdict can depend on the rest of the page (a card
field or an order total elsewhere makes a submit a payment, a password form makes "Save" an
account change): a glance is used only for an action whose verdict the element decides
alone (gate_sees_enough). Everything else is judged on the whole page, as before.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from ..perception.browser import ElementTarget
from ..permissions.detectors import account, payment
from ..permissions.detectors.elements import is_button, is_submit, submits
from ..permissions.placeholders import has_placeholder
from ..types import (
    Action,
    BBox,
    Click,
    Decision,
    Element,
    Observation,
    PlannerOutput,
    PreferenceNote,
    RunResult,
    Screenshot,
    Select,
    StepRecord,
    Type,
    Usage,
)
from .features import EnrichingPerceiver, flatten
from .locate import family, name_of
from .replay import SkillPlanner
from .templates import fill, glob_match, norm

# Where elements of a role can be, as a CSS selector (the role itself is then computed).
_FIELDS = ("input,textarea,select,[contenteditable],[role=textbox],[role=searchbox],[role=combobox],"
           "[role=spinbutton]")
_SELECTORS = {
    "button": "button,summary,input,[role=button]",
    "link": "a[href],area[href],[role=link]",
    "option": "option,[role=option],[role=treeitem]",
    "checkbox": "input,[role=checkbox],[role=switch],[role=menuitemcheckbox]",
    "radio": "input,[role=radio],[role=menuitemradio]",
    "textbox": _FIELDS, "searchbox": _FIELDS, "combobox": _FIELDS, "spinbutton": _FIELDS,
    "tab": "[role=tab]", "menuitem": "[role=menuitem]",
}
_ACTIONS = ("click", "type", "select", "check")
# The account detector's words of a form's generic submit ("Save", "Continue"): with a password
# or e-mail form on the page such a button changes the account, so the page must be seen.
_SUBMIT_WORDS = account.GENERIC_SUBMIT
_GLANCES = itertools.count(1)


@lru_cache(maxsize=1)
def _source() -> str:
    folder = resources.files(__package__)
    describe = folder.joinpath("describe.js").read_text("utf-8")
    return "(specs) => {\n" + describe + folder.joinpath("glance.js").read_text("utf-8") + "}"


def gate_sees_enough(action: Action, el: Element) -> bool:
    """Whether the gate's verdict on `action` depends on `el` alone, so a glance may stand
    for the page. Not for: a frame (a payment frame is known by its fields), a secret or
    card field, a secret placeholder, a submit (a card field or a total elsewhere makes it
    a payment; a password form an account change), a control that pays, a button whose
    name a form's submit says, or a control the account detector flags even without the page."""
    if el.frame or el.sensitive or payment.is_card_field(el, near_card=True):
        return False
    if isinstance(action, Type):
        return not has_placeholder(action.text) and not submits(action)
    if isinstance(action, Select):
        return True
    if not isinstance(action, Click):
        return False
    names = {el.name, name_of(el), el.attributes.get("oa:text", "")}
    for name in names:
        alike = el.model_copy(update={"name": name})
        if payment.is_pay_control(alike) or (is_button(alike) and _SUBMIT_WORDS.search(name.lower())):
            return False
        if account.detect(action, Observation(url="about:blank", elements=[alike])) is not None:
            return False
    return not is_submit(el)


@dataclass
class _Glanced:
    observation: Observation
    decision: Decision
    inflight: list[tuple[int, str]]


class GlancingPlanner(SkillPlanner):
    """The SkillPlanner that decides from a glance when one was enough. It hears each
    finished step (a RunHook), so it knows before the next observation where it is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._glanced: _Glanced | None = None
        self.glances = 0  # decisions made from a glance, not a full observation

    # --- RunHook: the results of the last decision, before the next observation ---------

    def on_step(self, step: StepRecord) -> None:
        self._absorb([step])  # decide() absorbs again: a no-op once taken

    def on_run_end(self, result: RunResult) -> None:
        self._glanced = None

    # --- what to look for ---------------------------------------------------------------

    def wants(self, url: str) -> list[int] | None:
        """The steps the next decision acts on, if their elements show at once; None when
        the replay must see the whole page (a check of its text, a choice, a calendar, a
        retry, an optional step out of turn, the end)."""
        self._glanced = None
        if self._stop or self._go_to_start or self._widgets or self.finished is not None:
            return None
        steps = self.skill.steps
        if self._check is not None:
            expect = steps[self._check].expect
            if expect is None or expect.text or not self._holds(self._check, Observation(url=url)):
                return None
        k = self.pos
        if k >= len(steps) or not self._glanceable(k):
            return None
        run = [k]
        if steps[k].action in ("type", "select"):  # as _batch: the fills after it, and the click sending them
            for j in range(k + 1, min(len(steps), k + 8)):
                s = steps[j]
                if s.optional or s.action not in ("type", "select", "click") or not self._glanceable(j):
                    break
                run.append(j)
                if s.action == "click":
                    break
        return run

    def _glanceable(self, k: int) -> bool:
        s = self.skill.steps[k]
        t = s.target
        return (t is not None and s.action in _ACTIONS and not s.repeat and s.choose is None
                and not t.frame and bool(t.name) and t.role in _SELECTORS and self._tries[k].attempts == 0)

    def spec(self, k: int, stamp: str) -> dict[str, Any]:
        """What glance.js looks for: elements of the step's role (family) with its name."""
        t = self.skill.steps[k].target
        assert t is not None
        roles = [t.role] if t.match == "exact" else [r for r in _SELECTORS if family(r) == family(t.role)]
        # Any literal part of the name, or of its pattern (the varying parts of "Nonstop from *").
        needles = [fill(t.name, self.values), *(p.strip() for p in t.name_like.split("*") if p.strip())]
        return {"selector": _SELECTORS[t.role], "family": roles, "needles": needles, "stamp": stamp}

    def pick(self, k: int, found: list[Element]) -> Element | None:
        """As locate() does by role and name: the one element of that name, or the first that
        has the text for a "contains" target; None when that is not certain at once."""
        step = self.skill.steps[k]
        t = step.target
        assert t is not None
        name = norm(fill(t.name, self.values))
        if t.match == "contains":
            return found[0] if found else None
        hits = [el for el in found if name in (norm(name_of(el)), norm(el.name))]
        if not hits and t.name_like:  # its varying part varies (a price): the one that fits the pattern
            hits = [el for el in found if glob_match(t.name_like, name_of(el))]
        if len(hits) != 1:
            return None
        if step.action == "check" and hits[0].checked == step.checked:
            return None  # already as wanted: the full look says so and moves on
        return hits[0]

    def take_glance(self, steps: list[int], elements: list[Element], obs: Observation) -> bool:
        """Keep the decision the glance allows, if the gate can judge each of its actions on
        the glance (gate_sees_enough); False: observe the whole page instead."""
        actions = [self._action(self.skill.steps[k], el.index) for k, el in zip(steps, elements, strict=True)]
        if not all(gate_sees_enough(a, el) for a, el in zip(actions, elements, strict=True)):
            return False
        intent = self._say(self.skill.steps[steps[0]].intent)
        self._glanced = _Glanced(obs, Decision(reasoning=f"{intent} (found at once)", actions=actions),
                                 [(k, "step") for k in steps])
        return True

    # --- the Planner protocol -----------------------------------------------------------

    async def decide(self, task: str, observation: Observation, history: Sequence[StepRecord],
                     preferences: Sequence[PreferenceNote] = ()) -> PlannerOutput:
        glanced, self._glanced = self._glanced, None
        if glanced is None or glanced.observation is not observation:
            return await super().decide(task, observation, history, preferences)
        self._absorb(history)  # nothing left to take: on_step did
        self._check = None  # only a check of the address lets a glance come (wants()), and it held
        self._inflight = glanced.inflight
        self._chosen = ("skill", self.skill.steps[glanced.inflight[0][0]].id)
        self._seen = (observation.url, self._seen[1])
        self.glances += 1
        return self._output(glanced.decision, Usage())


class GlancingPerceiver(EnrichingPerceiver):
    """The replay's perceiver: a glance when the planner's next steps show at once (see the
    module docstring), else the full, enriched observation."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.planner: GlancingPlanner | None = None
        self._glance: dict[int, ElementTarget] | None = None

    async def observe(self, page: Page, *, screenshot: Screenshot = False) -> Observation:
        if self.planner is not None and screenshot is not True:
            obs = await self._look(page, self.planner)
            if obs is not None:
                return obs
        self._glance = None
        return await super().observe(page, screenshot=screenshot)

    def target(self, index: int) -> ElementTarget:
        if self._glance is not None and index in self._glance:
            return self._glance[index]
        return super().target(index)

    async def picture(self, page: Page, *, exact: bool = False) -> bytes | None:
        if self._glance is not None and not exact:
            return None  # a glance is no look at the page: nothing to show either
        return await super().picture(page, exact=exact)

    async def _look(self, page: Page, planner: GlancingPlanner) -> Observation | None:
        steps = planner.wants(page.url)
        if not steps:
            return None
        gen = f"s{next(_GLANCES)}"
        specs = [planner.spec(k, f"{gen}k{i}e") for i, k in enumerate(steps)]
        frame = page.main_frame
        try:
            data = json.loads(await frame.evaluate(_source(), specs))
        except (PlaywrightError, ValueError):
            return None  # mid-navigation, a broken page: the full observation copes
        picked: list[Element] = []
        targets: dict[int, ElementTarget] = {}
        for k, found in zip(steps, data["found"], strict=True):
            el = planner.pick(k, [_element(i, d) for i, d in enumerate(found, start=1)])
            if el is None and not picked:
                return None
            if el is None:  # as _batch: the fills found go now, the rest after them
                steps = steps[:len(picked)]
                break
            selector = f'[data-oa="{el.locator}"]'
            el = el.model_copy(update={"index": len(picked) + 1, "locator": selector})
            picked.append(el)
            targets[el.index] = ElementTarget(element=el, frame=frame, locator=frame.locator(selector),
                                              selector=selector)
        lines = [f"url: {page.url}", f"title: {data['title']}",
                 "(a glance: only the elements the skill's next steps act on)"]
        lines += [f'[{el.index}] {el.role} "{el.name}"' for el in picked]
        obs = Observation(url=page.url, title=str(data["title"]), elements=picked, text="\n".join(lines))
        if not planner.take_glance(steps, picked, obs):
            return None
        self._glance = targets
        return obs


def _element(index: int, d: Mapping[str, Any]) -> Element:
    """describe.js's description as an observed element (its stamp in `locator`)."""
    x, y, w, h = (float(v) for v in d["bbox"])
    attributes = {str(k): str(v) for k, v in d.get("attrs", {}).items()}
    attributes.update(flatten(dict(d)))
    return Element(index=index, role=d["role"], tag=d["tag"], name=d["name"], value=d.get("value") or None,
                   placeholder=d.get("placeholder") or None, attributes=attributes, checked=d.get("checked"),
                   bbox=BBox(x=x, y=y, width=w, height=h), sensitive=bool(d.get("secret")),
                   in_viewport=bool(d.get("viewport")), locator=str(d["stamp"]))

