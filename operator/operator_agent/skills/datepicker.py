"""Date pickers in a replay. A recorded "Next month" step (done as often as needed)
followed by a click on a day whose name is a date parameter ("{departure_date:%A,
%-d %B %Y}") is a move to the month of that date: forward or back, any distance,
across years, whatever month the calendar opens on and whatever day the skill was
recorded or is replayed on. How many times the person clicked is never replayed.

The month the calendar shows is read from its day buttons' own names, parsed with
the next step's date format (so it is the page's truth, not the clock's), or else
from a "December 2026" title on the page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from ..types import Element, Observation
from .features import features
from .format import Skill, Step
from .templates import SLOT, fill, norm

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_TITLE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{4})\b")
_FORWARD = re.compile(r"\b(?:next|forward|later|following)\b|^[›»→>]+$|^[›»→>]", re.I)
_BACK = re.compile(r"\b(?:prev|previous|back|earlier|last)\b|^[‹«←<]+$|^[‹«←<]", re.I)

Month = tuple[int, int]  # (year, month)


@dataclass(frozen=True)
class DateGoal:
    """The date a day-click step will pick, and how to read dates off day buttons."""

    param: str
    day: dt.date
    prefix: str  # the name's text around the date, other slots filled
    suffix: str
    fmt: str  # strptime format of the date part

    @property
    def month(self) -> Month:
        return (self.day.year, self.day.month)

    def parse(self, name: str) -> dt.date | None:
        text = norm(name)
        if not (text.startswith(self.prefix) and text.endswith(self.suffix)):
            return None
        middle = text[len(self.prefix):len(text) - len(self.suffix) if self.suffix else None]
        try:
            return dt.datetime.strptime(middle.strip(), self.fmt).date()
        except ValueError:
            return None


def goal(step: Step | None, values: Mapping[str, str]) -> DateGoal | None:
    """The date goal of a step whose target name is a formatted date parameter."""
    if step is None or step.target is None or not step.target.name:
        return None
    template = step.target.name
    for m in SLOT.finditer(template):
        param, fmt = m.group(1), m.group(2)
        if not fmt or param not in values:
            continue
        try:
            day = dt.date.fromisoformat(values[param])
        except ValueError:
            continue
        prefix = norm(fill(template[:m.start()], values))
        suffix = norm(fill(template[m.end():], values))
        # "%-d" is glibc's day without a leading zero; strptime reads "%d" either way.
        return DateGoal(param, day, prefix, suffix, fmt.replace("%-d", "%d").replace("%-m", "%m"))
    return None


def shown_month(obs: Observation, target: DateGoal) -> Month | None:
    """The month the calendar shows: most of its day buttons' dates, else a month title."""
    months = Counter((d.year, d.month) for el in obs.elements if (d := target.parse(el.name)) is not None)
    if months:
        return months.most_common(1)[0][0]
    titles = [(int(m.group(2)), _MONTHS.index(m.group(1)) + 1) for m in _TITLE.finditer(obs.text)]
    return titles[0] if len(set(titles)) == 1 else None


def months_apart(start: Month, end: Month) -> int:
    return (end[0] * 12 + end[1]) - (start[0] * 12 + start[1])


def month_name(month: Month) -> str:
    return f"{_MONTHS[month[1] - 1]} {month[0]}"


def direction(el: Element) -> int:
    """+1 for a control that moves later ("Next month", "›"), -1 for earlier, 0 unknown."""
    for text in (el.name, features(el).get("text", "")):
        text = norm(text)
        if _FORWARD.search(text):
            return 1
        if _BACK.search(text):
            return -1
    return 0


def control(obs: Observation, step: int, like: Element | None) -> Element | None:
    """The calendar's control that moves `step` (+1/-1): the recorded one when it goes that
    way, else its counterpart of the same role in the same frame, nearest to it. None when
    the recorded control is gone (a disabled "Next month" at the end of the range)."""
    if like is None:
        return None
    if (direction(like) or 1) == step:  # an unnamed arrow was most likely recorded going forward
        return like
    pool = [el for el in obs.elements if el.role == like.role and el.frame == like.frame
            and el.index != like.index and direction(el) == step]
    if like.bbox is not None:
        x, y = like.bbox.center
        pool.sort(key=lambda el: abs(el.bbox.center[0] - x) + abs(el.bbox.center[1] - y)
                  if el.bbox is not None else 1e9)
    return pool[0] if pool else None



def steps_needed(skill: Skill, values: Mapping[str, str], today: dt.date | None = None) -> int:
    """Loop steps a replay may spend on its repeated steps, each calendar month one click:
    a bound, not a plan (a calendar may open on today's month or on the taught one)."""
    total = 0
    for k, step in enumerate(skill.steps):
        if not step.repeat:
            continue
        total += 24
        nxt = skill.next_target(k)
        when = goal(nxt, values)
        if when is None:
            continue
        day = today or dt.date.today()
        starts = [(day.year, day.month)]
        taught = skill.parameters[when.param].example if when.param in skill.parameters else None
        if taught and (was := goal(nxt, {**values, when.param: taught})) is not None:
            starts.append(was.month)
        total += max(abs(months_apart(start, when.month)) for start in starts)
    return total


@dataclass(frozen=True)
class Move:
    """A calendar step's next move: click `control`, or stop saying `stop`."""

    control: Element | None = None
    stop: str = ""
    say: str = ""


def next_move(obs: Observation, target: DateGoal, shown: Month, recorded: Element | None,
              last: tuple[Month, int] | None, repeats: int) -> Move:
    """From the month shown to the goal's: the control that goes that way, or why not.
    `last`: the month seen at an earlier repeat, and that repeat's number (a calendar that
    did not move after a click is stuck)."""
    want = month_name(target.month)
    now = month_name(shown)
    apart = months_apart(shown, target.month)
    if apart == 0:
        return Move(stop=f"the calendar shows {want} but offers no {target.day.day} {want} to pick: "
                         "the site may not allow that date")
    if repeats >= 120 or (last is not None and last[0] == shown and repeats > last[1]):
        return Move(stop=f"the calendar stays on {now} and does not move to {want}: the date may be out "
                         "of its range")
    way = 1 if apart > 0 else -1
    said = "forward" if way > 0 else "back"
    el = control(obs, way, recorded)
    if el is None:
        return Move(stop=f"the calendar shows {now} and has no control to go {said} to {want}: the date "
                         "may be out of its range")
    return Move(control=el, say=f"the calendar shows {now}: {said} to {want} ({abs(apart)} to go)")
