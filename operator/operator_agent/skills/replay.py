"""Replaying a skill as a Planner: the normal Agent loop (permission gate, executor,
trace, report) runs the skill's steps unchanged, and no model token is spent
unless a step cannot be found and a model is there to heal it.

Each decide(): absorb the results of the last decision (a step is done only when
its action succeeded; a permission denial stops the replay), verify the last
step's check, deal with whatever is in the way (a pop-up the skill knows how to
dismiss), then find the next step's element and emit its action, with the
following form fills on the same page in the same decision. When the element is
not there: wait for a loading page, scroll, skip ahead when the page is already
further on (signed in before), ask the model (the healer), or give up saying why.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from ..types import (
    Action,
    Chosen,
    Click,
    CloseTab,
    Decision,
    Done,
    Element,
    Navigate,
    Observation,
    PlannerOutput,
    PreferenceNote,
    Press,
    Scroll,
    Select,
    StepRecord,
    SwitchTab,
    Type,
    Usage,
    Verification,
    Wait,
)
from . import datepicker
from .features import features
from .format import Skill, Step
from .heal import Heal, ModelHealer, public_values, target_from_element
from .locate import Match, choose, locate
from .templates import fill, norm, path_matches

_LOADING = re.compile(r"\b(?:loading|searching|please wait|just a moment|processing)\b", re.I)
_MORE_BELOW = re.compile(r"more below|screens? below", re.I)
_COVERED = re.compile(r"did not respond in time|covered|intercepts pointer|not visible", re.I)
_STOPPED = ("not allowed", "not approved")
_FILLS = ("type", "select")
_ANSWER = re.compile(r"number|reference|total|confirm|booked|placed|thank|success", re.I)


def _add(usage: Usage, spent: Usage) -> None:
    """In place: the decision's usage object is the one reported."""
    for name in ("input_tokens", "output_tokens", "calls", "retries", "repairs"):
        setattr(usage, name, getattr(usage, name) + getattr(spent, name))
    if spent.cost_usd is not None:
        usage.cost_usd = (usage.cost_usd or 0.0) + spent.cost_usd
    usage.estimated = usage.estimated or spent.estimated


def _alerts(obs: Observation) -> list[str]:
    """The page's alert, status and error lines ("! ..." in the observation)."""
    return [line[2:].strip() for line in obs.text.splitlines() if line.startswith("! ")]


def _group(el: Element) -> tuple[str, int] | None:
    """Which of several like widgets (seat maps) the element is in, when there are several:
    their kind (a CSS signature) and number in page order."""
    sig, _, index = features(el).get("group", "").rpartition("#")
    return (sig, int(index)) if sig and index.isdigit() else None


@dataclass
class _Tries:
    attempts: int = 0
    waits: int = 0
    scrolls: int = 0
    repeats: int = 0
    asides: int = 0
    escapes: int = 0
    healed: bool = False


class SkillPlanner:
    """Planner that replays `skill` with `values` (see values.resolve)."""

    def __init__(self, skill: Skill, values: Mapping[str, str], *, base_url: str | None = None,
                 healer: ModelHealer | None = None, report: Callable[[str], None] | None = None,
                 max_waits: int = 1, max_scrolls: int = 4, go_to_start: bool = False) -> None:
        self.skill = skill
        self._go_to_start = go_to_start  # first open the skill's start page (a model called it elsewhere)
        self.values = dict(values)
        self.base = base_url or skill.start_url
        self.healer = healer
        self.report = report or (lambda line: None)
        self.max_waits, self.max_scrolls = max_waits, max_scrolls
        self.model = f"skill:{skill.name}"
        self.pos = 0
        self.heals: list[Heal] = []
        self.notes: list[str] = []
        self.finished: bool | None = None
        self.reason = ""
        self._inflight: list[tuple[int, str]] = []  # (step index, kind) per emitted action
        self._chosen: tuple[Chosen, int | None] = ("skill", None)  # this decision's provenance
        self._check: int | None = None  # step whose expectation is checked next
        self._check_waits = 0
        self._off_track = ""
        self._stop = ""
        self._tries: defaultdict[int, _Tries] = defaultdict(_Tries)
        self._last_error = ""
        # Where the page was when the last decision was made, and the "!" lines shown so far (a
        # status scrolled out of view counts); the same when the step now checked was sent: a
        # check that fails on the same page tells what the page says since.
        self._seen: tuple[str, frozenset[str]] = ("", frozenset())
        self._sent: tuple[str, frozenset[str]] = ("", frozenset())
        # Choice steps done in one of several like widgets (a seat map per flight): step index ->
        # the kind of widget and the next one to make the same choice in.
        self._widgets: dict[int, tuple[str, int]] = {}
        self._widget_scrolls = 0
        self._shown: dict[int, tuple[datepicker.Month, int]] = {}  # a calendar step's month, at repeat n

    # --- the Planner protocol ---------------------------------------------------------

    async def decide(self, task: str, observation: Observation, history: Sequence[StepRecord],
                     preferences: Sequence[PreferenceNote] = ()) -> PlannerOutput:
        usage = Usage()
        self._absorb(history)
        self._chosen = ("skill", None)  # until _decision says which step
        decision = await self._next(observation, usage)
        self._seen = (observation.url, self._seen[1] | set(_alerts(observation)))
        return self._output(decision, usage)

    def _output(self, decision: Decision, usage: Usage) -> PlannerOutput:
        chosen, step = self._chosen
        return PlannerOutput(decision=decision, usage=usage, model=self.model, chosen=chosen, skill_step=step,
                             model_output=decision.model_dump_json())

    async def verify(self, task: str, observation: Observation, answer: str) -> tuple[Verification, Usage]:
        # The steps' own checks decided already; no model is asked.
        ok = self.finished is True
        reason = self.reason or ("every step done and checked" if ok else "not done")
        return Verification(ok=ok, reason=reason), Usage()

    # --- bookkeeping -----------------------------------------------------------------------

    def _note(self, line: str) -> None:
        self.notes.append(line)
        self.report(line)

    def _absorb(self, history: Sequence[StepRecord]) -> None:
        inflight, self._inflight = self._inflight, []
        if not inflight or not history:
            return
        record = history[-1]
        for i, (k, kind) in enumerate(inflight):
            result = record.results[i] if i < len(record.results) else None
            if result is None:
                return  # not run: an earlier action changed the page
            step = self.skill.steps[k]
            if not result.ok:
                error = result.error or "failed"
                if error.startswith(_STOPPED):
                    self._stop = f"step {step.id} ({self._say(step.intent)}) was stopped: {error}"
                elif kind == "widget":
                    self._widgets.pop(k, None)  # not again: if the site needs it, its message says so
                    self._note(f"step {step.id} ({self._say(step.intent)}) failed in another of its "
                               f"kind on the page: {error}")
                else:
                    self._tries[k].attempts += 1
                    self._last_error = error
                return
            if kind == "step":
                self._complete(k)
            elif kind == "repeat":
                self._tries[k].repeats += 1
            elif kind == "aside":
                self._tries[k].asides += 1
            elif kind == "widget" and k in self._widgets:
                sig, g = self._widgets[k]
                self._widgets[k], self._widget_scrolls = (sig, g + 1), 0

    def _complete(self, k: int) -> None:
        self.pos = max(self.pos, k + 1)
        step = self.skill.steps[k]
        if step.expect is not None and (step.expect.url or step.expect.text):
            self._check, self._check_waits = k, 0
            self._sent = self._seen  # the page the step was done on

    def _say(self, text: str) -> str:
        return fill(text, public_values(self.skill, self.values))

    # --- deciding --------------------------------------------------------------------------

    def _decision(self, reasoning: str, actions: list[Action], inflight: list[tuple[int, str]],
                  chosen: Chosen = "skill") -> Decision:
        self._inflight = inflight
        self._chosen = (chosen, self.skill.steps[inflight[0][0]].id if inflight else None)
        return Decision(reasoning=reasoning, actions=actions)

    def _done(self, ok: bool, obs: Observation, why: str = "") -> Decision:
        self.finished, self.reason = ok, why
        if ok:
            answer = f"Done with the skill {self.skill.name}: {self._say(self.skill.description)}."
            facts = [line.lstrip("#! ").strip() for line in obs.text.splitlines()
                     if (line.startswith("# ") or _ANSWER.search(line))
                     and not line.startswith(("[", "url:", "title:", "page:", "tabs:"))]
            if facts:
                answer += " The page says: " + " · ".join(dict.fromkeys(facts))[:400]
        else:
            answer = f"The skill {self.skill.name} could not be finished: {why}"
        return Decision(reasoning=why or "every step of the skill is done",
                        actions=[Done(answer=answer, success=ok)])

    def _holds(self, k: int, obs: Observation) -> bool:
        expect = self.skill.steps[k].expect
        if expect is None:
            return True
        if expect.url and not path_matches(fill(expect.url, self.values), obs.url):
            return False
        text = norm(fill(expect.text, public_values(self.skill, self.values))).lower()
        return not text or text in norm(obs.text).lower()

    async def _next(self, obs: Observation, usage: Usage) -> Decision:
        if self._stop:
            return self._done(False, obs, self._stop)
        if self._go_to_start:
            self._go_to_start = False
            return self._decision(f"open the start page of the skill {self.skill.name}",
                                  [Navigate(url=self.skill.start_url)], [])
        if self._check is not None:
            k = self._check
            if self._holds(k, obs):
                self._check = None
            elif self._check_waits < self.max_waits:
                self._check_waits += 1
                return self._decision(f"waiting for the page after step {self.skill.steps[k].id}",
                                      [Wait(seconds=2.5)], [])  # (not the same action as below: no loop)
            else:
                self._check = None
                stuck = self._stuck(k, obs)
                if stuck:
                    return self._done(False, obs, stuck)
                self._off_track = (f"after step {self.skill.steps[k].id} the page was expected to show "
                                   f"{self.skill.steps[k].expect}, but it is {obs.url}")
                if k == len(self.skill.steps) - 1:
                    return self._done(False, obs, self._off_track)
                self._note(f"note: {self._off_track}; going on")
        while True:
            widget = self._next_widget(obs)
            if widget is not None:
                return widget
            if self.pos >= len(self.skill.steps):
                return self._done(True, obs)
            k = self.pos
            step = self.skill.steps[k]
            aside = self._in_the_way(obs, k)
            if aside is not None:
                return aside
            if self._tries[k].attempts and _COVERED.search(self._last_error) and self._tries[k].escapes < 1:
                self._tries[k].escapes += 1
                return self._decision("something may cover the element: close it with Escape",
                                      [Press(keys="Escape")], [(k, "escape")])
            if step.target is None:
                return self._decision(self._say(step.intent), [self._action(step, None)], [(k, "step")])
            found = self._find(step, obs)
            if step.repeat:
                repeated = self._repeat(k, step, found, obs)
                if repeated is not None:
                    return repeated
                continue
            if found is None or self._tries[k].attempts >= 2:
                outcome = await self._fallback(k, step, obs, usage, found)
                if isinstance(outcome, Decision):
                    return outcome
                if outcome == "again":
                    continue
                return self._done(False, obs, outcome)
            el = obs.element(found.index)
            if step.action == "check" and el is not None and el.checked == step.checked:
                self._complete(k)  # already as wanted
                continue
            self._remember_heal(step, found, obs)
            group = _group(el) if el is not None else None
            if step.choose is not None and step.choose.like and group is not None and k not in self._widgets:
                self._widgets[k] = (group[0], step.choose.group + 1)  # one of several: the others next
            actions, inflight = [self._action(step, found.index)], [(k, "step")]
            if step.action in _FILLS:
                self._batch(k, obs, actions, inflight)
            return self._decision(self._say(step.intent), actions, inflight,
                                  "healed-score" if found.method == "score" else "skill")

    def _find(self, step: Step, obs: Observation) -> Match | None:
        assert step.target is not None
        if step.choose is not None:
            return choose(step.choose, step.target, obs, self.values)
        return locate(step.target, obs, self.values)

    def _repeat(self, k: int, step: Step, found: Match | None, obs: Observation) -> Decision | None:
        """A step done as often as needed: until the next step's element shows."""
        nxt = self.skill.next_target(k)
        if nxt is not None and self._find(nxt, obs) is not None:
            self._complete(k)
            return None
        when = datepicker.goal(nxt, self.values)
        if when is not None:
            return self._to_month(k, step, found, when, obs)
        if found is None or self._tries[k].repeats >= 24:
            self._complete(k)
            return None
        return self._decision(f"{self._say(step.intent)} (again: the next step's element is not there yet)",
                              [self._action(step, found.index)], [(k, "repeat")])

    def _to_month(self, k: int, step: Step, found: Match | None, when: datepicker.DateGoal,
                  obs: Observation) -> Decision | None:
        """A calendar step: move to the month of the date it is given, as far as it takes."""
        tries = self._tries[k]
        shown = datepicker.shown_month(obs, when)
        want = datepicker.month_name(when.month)
        if shown is None:
            if found is None or tries.repeats >= 24:  # no month to read: the recorded control, bounded
                self._complete(k)
                return None
            return self._decision(f"{self._say(step.intent)} (looking for {want})",
                                  [self._action(step, found.index)], [(k, "repeat")])
        recorded = obs.element(found.index) if found is not None else None
        move = datepicker.next_move(obs, when, shown, recorded, self._shown.get(k), tries.repeats)
        if move.control is None:
            return self._done(False, obs, f"{move.stop} (step {step.id})")
        self._shown[k] = (shown, tries.repeats)
        return self._decision(move.say, [Click(index=move.control.index)], [(k, "repeat")])

    def _next_widget(self, obs: Observation) -> Decision | None:
        """The choice made in one of several like widgets is made in the others too: the
        person chose a seat in the one seat map of their trip, a trip with a connection has a
        seat map per flight and wants a seat on each. Not where a step of the skill does it, nor
        where something is chosen already. Widgets count in page order; the next is looked for
        further down, and when the page ends without it there is none."""
        for k in sorted(self._widgets):
            if k >= self.pos:
                continue  # the step itself is not done yet
            step = self.skill.steps[k]
            assert step.choose is not None and step.target is not None
            covered = {s.choose.group for s in self.skill.steps if s.choose is not None
                       and s.choose.like == step.choose.like and s.action == step.action}
            sig, g = self._widgets[k]
            while g in covered:
                g += 1
            self._widgets[k] = (sig, g)
            mine = [el for el in obs.elements if _group(el) == (sig, g)]
            if any(el.attributes.get("aria-pressed") == "true" or el.checked for el in mine):
                self._widgets[k], self._widget_scrolls = (sig, g + 1), 0  # chosen there already
                return self._next_widget(obs)
            if mine:
                found = choose(step.choose.model_copy(update={"group": g}), step.target, obs, self.values)
                if found is not None:
                    return self._decision(f"{self._say(step.intent)} (in the next one like it on the page, "
                                          f"number {g + 1}, too)", [self._action(step, found.index)],
                                          [(k, "widget")])
            if self._widget_scrolls < self.max_scrolls and _MORE_BELOW.search(obs.text):
                self._widget_scrolls += 1
                return self._decision(f"looking further down for another place to do step {step.id} "
                                      f"({self._say(step.intent)})", [Scroll(direction="down")], [])
            del self._widgets[k]  # no more of them
        return None

    def _stuck(self, k: int, obs: Observation) -> str:
        """Why step k did not get the page on, or "" when it may have: its check expected
        another address, the page is still the one the step was done on, and either the page
        says something new (a form error) or the next step's element is not here either."""
        step = self.skill.steps[k]
        url, before = self._sent
        if step.expect is None or not step.expect.url or not url \
                or urlsplit(url).path != urlsplit(obs.url).path:
            return ""
        said = [line for line in _alerts(obs) if line not in before]
        nxt = self.skill.next_target(k)
        if not said and (nxt is None or self._find(nxt, obs) is not None):
            return ""  # the next step can go on here: only the check was too strict
        why = f"step {step.id} ({self._say(step.intent)}): the page stayed on {urlsplit(obs.url).path}"
        return why + (f"; it says: {' · '.join(said)[:400]}" if said else "")

    def _in_the_way(self, obs: Observation, current: int) -> Decision | None:
        """A pop-up or banner the skill knows how to close, showing now (out of turn)."""
        for k, s in enumerate(self.skill.steps):
            if not s.optional or k == current or s.target is None or self._tries[k].asides >= 3:
                continue
            m = locate(s.target, obs, self.values)
            el = obs.element(m.index) if m is not None else None
            if m is not None and m.method != "score" and el is not None and el.in_viewport:
                return self._decision(f"{self._say(s.intent)} (it is in the way)", [self._action(s, m.index)],
                                      [(k, "aside")])
        return None

    def _batch(self, k: int, obs: Observation, actions: list[Action],
               inflight: list[tuple[int, str]]) -> None:
        """The next form fills on the same page go in the same decision, and the button that
        sends the form after them (found exactly: no guessing in a batch)."""
        for j in range(k + 1, len(self.skill.steps)):
            s = self.skill.steps[j]
            plain = not (s.optional or s.repeat or s.choose or s.target is None)
            if len(actions) >= 8 or not plain or s.action not in (*_FILLS, "click"):
                return
            assert s.target is not None
            m = locate(s.target, obs, self.values)
            if m is None or m.method == "score":
                return
            actions.append(self._action(s, m.index))
            inflight.append((j, "step"))
            if s.action == "click":
                return

    async def _fallback(self, k: int, step: Step, obs: Observation, usage: Usage,
                        found: Match | None) -> Decision | str:
        """The element is not there (or failed twice): a Decision, "again", or why we give up."""
        tries = self._tries[k]
        if found is None and step.optional:
            self._note(f"step {step.id} skipped: {self._say(step.intent)} (not on this page)")
            self.pos = k + 1
            return "again"
        if found is None:
            if tries.waits < 1 and _LOADING.search(obs.text):
                tries.waits += 1
                return self._decision("the page is still loading", [Wait(seconds=3)], [])
            if tries.scrolls < self.max_scrolls and _MORE_BELOW.search(obs.text):
                tries.scrolls += 1
                return self._decision(f"looking further down for step {step.id}",
                                      [Scroll(direction="down")], [])
            if tries.waits < self.max_waits:
                tries.waits += 1
                return self._decision(f"waiting for step {step.id}'s element to show",
                                      [Wait(seconds=1.5)], [])
            ahead = self._skip_ahead(k, obs)
            if ahead is not None:
                skipped = ", ".join(str(s.id) for s in self.skill.steps[k:ahead])
                self._note(f"steps {skipped} skipped: the page is already at step "
                           f"{self.skill.steps[ahead].id}")
                self.pos = ahead
                return "again"
        if self.healer is not None and not tries.healed:
            tries.healed = True
            index, spent = await self.healer.find(self.skill, step, self.values, obs)
            _add(usage, spent)
            el = obs.element(index) if index is not None else None
            if el is not None:
                heal = Heal(step=step.id, source="model", before=step.target or target_from_element(el),
                            after=target_from_element(el, step.target))
                self.heals.append(heal)
                self._note(f"healed by the model: {heal.describe()}")
                tries.attempts = 0
                return self._decision(f"{self._say(step.intent)} (the model found the element)",
                                      [self._action(step, el.index)], [(k, "step")], "healed-model")
        if found is not None:
            return f"step {step.id} ({self._say(step.intent)}) failed twice: {self._last_error}"
        what = self._off_track or f"it is not on {obs.url}"
        hint = "" if self.healer else " (with a model configured, the model would be asked to find it)"
        return f"could not find the element of step {step.id} ({self._say(step.intent)}): {what}{hint}"

    def _skip_ahead(self, k: int, obs: Observation) -> int | None:
        """A later step whose element is here for sure: the page is already past step k."""
        later = [j for j in range(k + 1, min(len(self.skill.steps), k + 6))
                 if not self.skill.steps[j].optional and self.skill.steps[j].target is not None]
        for j in later:
            s = self.skill.steps[j]
            if s.choose is not None or s.repeat:
                continue
            m = locate(s.target, obs, self.values) if s.target else None
            if m is not None and m.method != "score":
                return j
        return None

    def _remember_heal(self, step: Step, found: Match, obs: Observation) -> None:
        if found.method != "score" or step.target is None or any(h.step == step.id for h in self.heals):
            return
        el = obs.element(found.index)
        if el is None:
            return
        heal = Heal(step=step.id, source="score", before=step.target,
                    after=target_from_element(el, step.target), score=found.score)
        self.heals.append(heal)
        self._note(f"healed: {heal.describe()}")

    def _action(self, step: Step, index: int | None) -> Action:
        v = self.values
        match step.action:
            case "type":
                assert index is not None
                return Type(index=index, text=fill(step.text or "", v), submit=step.submit)
            case "select":
                assert index is not None
                return Select(index=index, option=fill(step.option or "", v))
            case "press":
                return Press(keys=step.keys or "Enter")
            case "scroll":
                return Scroll(direction=step.direction, pages=step.pages)
            case "navigate":
                url = fill(step.url or "", v)
                return Navigate(url=url if urlsplit(url).scheme else urljoin(self.base, url))
            case "switch_tab":
                return SwitchTab(tab=step.tab or 0)
            case "close_tab":
                return CloseTab(tab=step.tab)
        assert index is not None
        return Click(index=index)
