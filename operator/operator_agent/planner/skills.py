"""The offline planner: with no model configured, `operator run "TASK"` picks the taught
skill that fits the task best, fills its parameters from the task's words (amounts,
dates, quoted text, the phrases around the skill's own wording), then from the
person's stored preferences, then from what was recorded, says what it chose, and
replays it. When no skill fits it says so, lists the skills it knows, and how to
configure a model.

Matching: a skill's description is a template ("Buy a {query} under ${max_price}");
a task that reads like it matches outright and fills the slots. Otherwise the
task's words are compared with the skill's (name, description, examples).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..protocols import ConfigError
from ..skills.format import Skill
from ..skills.library import Entry, SkillLibrary
from ..skills.replay import SkillPlanner
from ..skills.templates import SLOT, words
from ..skills.values import MONEY, find_date, resolve

_STOP = {"a", "an", "the", "to", "for", "of", "on", "in", "at", "and", "or", "me", "my", "i", "please",
         "with",
         "from", "by", "under", "below", "some", "one", "it", "this", "that", "is", "be", "can", "you"}
_VERBS = {"buy", "order", "purchase", "get", "find", "book", "reserve", "search", "look", "shop", "grab"}
# Verbs that mean the same job; and words that say nothing about which job.
_SAME = {"order": "buy", "purchase": "buy", "get": "buy", "grab": "buy", "shop": "buy", "reserve": "book",
         "fly": "flight", "plane": "flight", "ticket": "flight"}
_FILLER = {"less", "than", "more", "cheaper", "dollar", "dollars", "euro", "euros", "cheap", "please", "me",
           "want", "need", "would", "like", "could", "new", "just"}
_CUT = re.compile(r"\s+(?:under|below|less than|for less than|cheaper than|at most|up to|max|for|on|by|with|"
                  r"from|to|before|after|in|at)\b|[,.;!?]", re.I)
MIN_SCORE = 0.34


@dataclass
class Filled:
    value: str
    source: str  # "the task", "your preferences", "recorded example", "vault placeholder"


@dataclass
class SkillChoice:
    entry: Entry
    score: float
    given: dict[str, str] = field(default_factory=dict)
    filled: dict[str, Filled] = field(default_factory=dict)

    @property
    def skill(self) -> Skill:
        return self.entry.skill


# --- matching -------------------------------------------------------------------------


def _word(w: str) -> str:
    if w in ("$", "€", "£"):
        return r"[$€£]?"  # a currency sign may be left out
    if w.lower() in ("a", "an"):
        return r"an?\b"
    return re.escape(w) + (r"\b" if w[-1:].isalnum() else "")


def _literal(text: str) -> str:
    """Words of the description, as whole words, any spacing."""
    return r"\s*".join(_word(w) for w in text.split())


def _template_regex(description: str) -> re.Pattern[str] | None:
    """The description as a pattern: its words loosely, each slot a lazy group."""
    parts: list[str] = []
    pos = 0
    names = []
    for m in SLOT.finditer(description):
        literal = description[pos:m.start()]
        parts.append(_literal(literal) + (r"\s*" if literal.strip() else ""))
        if m.group(1) in names:
            return None
        names.append(m.group(1))
        parts.append(rf"(?P<{m.group(1)}>.+?)")
        pos = m.end()
    if not names:
        return None
    tail = description[pos:].strip().rstrip(".")
    parts.append(_literal(tail))
    return re.compile(r"^\s*" + r"\s*".join(p for p in parts if p) + r"\s*[.!]?\s*$", re.I)


def _skill_words(skill: Skill) -> set[str]:
    text = " ".join([skill.name.replace("-", " "), SLOT.sub(" ", skill.description),
                     *[p.example or "" for p in skill.parameters.values() if p.type != "secret"]])
    return {w for w in words(text) if w not in _STOP}


def _stem(w: str) -> str:
    w = _SAME.get(w, w)
    return w[:-1] if w.endswith("s") and len(w) > 3 else w


def word_score(task: str, skill: Skill) -> float:
    """0..1: the task's words against the skill's. Words that would be parameter values
    (place names, products) do not count against it, and another verb rules it out: a
    task to find something never replays a skill that buys it."""
    day = find_date(task)
    task = task.replace(day[1], " ") if day else task  # "next friday" says nothing about which job
    mine = {_stem(w) for w in words(task)
            if w not in _STOP and w not in _FILLER and not w.startswith("$") and not w[0].isdigit()}
    verbs = {_SAME.get(v, v) for v in _VERBS}
    theirs = {_stem(w) for w in _skill_words(skill)}
    first = words(skill.description)[:1]
    skill_verb = _stem(first[0]) if first and _stem(first[0]) in verbs else None
    task_verbs = mine & verbs
    if skill_verb and task_verbs and skill_verb not in task_verbs:
        return 0.0
    content = mine - verbs
    hits = len(content & theirs)
    object_is_slot = re.match(r"^\s*\w+\s+(?:an?\s+|the\s+)?\{", skill.description) is not None
    if not hits and not (skill_verb in task_verbs and object_is_slot):
        return 0.0
    free = sum(1 for n, p in skill.parameters.items() if p.type in ("text", "number", "choice")
               and "{" + n in skill.description)
    return min(1.0, (hits + 0.5 * bool(task_verbs & theirs)) / max(1, len(content) - free))


# --- filling parameters -------------------------------------------------------------------


def _phrase_after(task: str, anchor: str) -> str | None:
    m = re.search(rf"\b{re.escape(anchor)}\s+(.+)", task, re.I)
    if not m:
        return None
    rest = m.group(1)
    cut = _CUT.search(rest)
    value = (rest[:cut.start()] if cut else rest).strip(" '\"")
    return value or None


def _object_phrase(task: str) -> str | None:
    """What a task is about: "buy a USB-C cable under $15" -> "USB-C cable"."""
    text = re.sub(r"^\s*(?:please\s+)?(?:can you\s+)?", "", task, flags=re.I)
    first = text.split(maxsplit=1)
    if first and first[0].lower() in _VERBS and len(first) > 1:
        text = first[1]
    text = re.sub(r"^(?:me\s+)?(?:an?|the|some|one)\s+", "", text, flags=re.I)
    cut = _CUT.search(text)
    value = (text[:cut.start()] if cut else text).strip(" '\"")
    return value or None


def fill_from_task(task: str, skill: Skill, today: dt.date | None = None) -> dict[str, str]:
    """Parameter values the task's own words give."""
    found: dict[str, str] = {}
    pattern = _template_regex(skill.description)
    m = pattern.match(task) if pattern else None
    if m:
        found.update({k: v.strip(" '\"") for k, v in m.groupdict().items() if v and k in skill.parameters})
    quoted = re.findall(r"[\"“']([^\"”']{2,80})[\"”']", task)
    amounts = [a or b for a, b in MONEY.findall(task)]
    day = find_date(task, today)
    # Free text is read from what is left once the date and amounts are taken out.
    rest = MONEY.sub(" ", task.replace(day[1], " ") if day else task)
    for name, p in skill.parameters.items():
        if name in found or p.type == "secret":
            continue
        if p.type == "money" and amounts:
            found[name] = amounts[0].replace(",", "")
        elif p.type == "date" and day is not None:
            found[name] = day[0].isoformat()
        elif p.type == "choice" and p.options:
            hit = next((o for o in p.options if o.lower() in task.lower()), None)
            number = re.search(r"\b(\d+)\s+(?:adults?|people|persons|passengers|tickets?|items?)\b",
                               task, re.I)
            if hit is None and number:
                hit = next((o for o in p.options if re.match(rf"{number.group(1)}\b", o)), None)
            if hit:
                found[name] = hit
        elif p.type in ("text", "number"):
            anchor = _anchor(skill.description, name)
            value = _phrase_after(rest, anchor) if anchor else None
            if value is None and quoted:
                value = quoted.pop(0)
            if value is None and name == "query":
                value = _object_phrase(rest)
            if value:
                found[name] = value
    return found


def _anchor(description: str, name: str) -> str | None:
    """The word before a slot in the description ("from" in "from {origin}")."""
    m = re.search(r"(\w+)\s+\$?\{" + re.escape(name) + r"(?::[^}]*)?\}", description)
    return m.group(1) if m and m.group(1).lower() not in {"a", "an", "the"} else None


def fill_from_preferences(skill: Skill, missing: list[str]) -> dict[str, str]:
    """Values for parameters the task left open, from stored preferences (if that module is
    there and has a store): a preference whose subject ends with the parameter's name."""
    try:
        from ..preferences import PreferenceStore, default_path
    except ImportError:
        return {}
    if not missing or not default_path().exists():
        return {}
    aliases = {"max_price": "shopping.budget"}
    found: dict[str, str] = {}
    try:
        with PreferenceStore() as store:
            prefs = [p for p in store.list() if p.polarity in ("prefer", "must")]
    except Exception:
        return {}
    for name in missing:
        for p in prefs:
            if p.subject == aliases.get(name) or p.subject.rsplit(".", 1)[-1] == name:
                found[name] = p.value
                break
    return found


def choose_skill(task: str, library: SkillLibrary | None = None, *,
                 today: dt.date | None = None) -> SkillChoice:
    """The skill for this task, with its parameters filled; ConfigError when none fits."""
    library = library or SkillLibrary()
    entries = library.entries()
    ranked: list[SkillChoice] = []
    for entry in entries:
        pattern = _template_regex(entry.skill.description)
        score = 1.0 if pattern and pattern.match(task) else word_score(task, entry.skill)
        ranked.append(SkillChoice(entry, score))
    ranked.sort(key=lambda c: -c.score)
    if not ranked or ranked[0].score < MIN_SCORE:
        known = "; ".join(f"{e.skill.name} ({e.skill.description})" for e in entries) or "none yet"
        raise ConfigError(
            f"no model is configured and no taught skill fits {task!r} (skills: {known}); set OPERATOR_MODEL "
            "(and OPENAI_API_KEY, or OPENAI_BASE_URL for a local server), or teach one with "
            "`operator record NAME --url URL` and `operator learn NAME`")
    choice = ranked[0]
    skill = choice.skill
    given = fill_from_task(task, skill, today)
    sources = {k: "the task" for k in given}
    rest = [n for n, p in skill.parameters.items() if n not in given and p.type != "secret"]
    prefs = fill_from_preferences(skill, rest)
    given.update(prefs)
    sources.update({k: "your preferences" for k in prefs})
    values = resolve(skill, given, today=today)
    for name, value in values.items():
        p = skill.parameters[name]
        source = sources.get(name) or ("vault placeholder" if p.type == "secret" else "recorded example")
        choice.filled[name] = Filled(value, source)
    choice.given = given
    return choice


def describe_choice(choice: SkillChoice) -> list[str]:
    lines = [f"Using the skill {choice.skill.name} ({choice.entry.path}): {choice.skill.description}"]
    for name, f in choice.filled.items():
        shown = f.value if choice.skill.parameters[name].type != "secret" or f.source == "vault placeholder" \
            else "(given)"
        lines.append(f"  {name} = {shown}  ({f.source})")
    return lines


def offline_planner(task: str, *, library: SkillLibrary | None = None, base_url: str | None = None,
                    report: Callable[[str], None] | None = None,
                    values: dict[str, str] | None = None) -> tuple[SkillPlanner, SkillChoice]:
    """The SkillPlanner for `task` (no model), and what was chosen. `values` override."""
    choice = choose_skill(task, library)
    if values:
        resolved = resolve(choice.skill, {**choice.given, **values})
        for k in values:
            choice.filled[k] = Filled(resolved[k], "given")
    else:
        resolved = {k: f.value for k, f in choice.filled.items()}
    for line in describe_choice(choice):
        (report or print)(line)
    planner = SkillPlanner(choice.skill, resolved, base_url=base_url or choice.skill.start_url, report=report)
    return planner, choice
