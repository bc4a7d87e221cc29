"""The rule-based parser: a sentence from the person -> typed preferences.

Handles the common forms (prefer/avoid/never/must/always/don't; budgets; seat
kinds; airlines; brands; nonstop and max stops; red-eye/morning/evening
departures; shipping speed; addresses; loyalty numbers). What it cannot type is
kept as a free-text note, so nothing the person says is lost. Used when no model
is configured, and whenever the model fails.

Brands and airlines are not looked up in a list: they are found by where they stand
in the sentence, helped by the names the person's own data holds (names.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from .model import EVERYWHERE, Draft, Polarity, Preference, subject_info
from .names import SUBJECTS, WORLD, Names, sentence_names
from .vocab import speed_of

_CLAUSES = re.compile(
    r"[;!?\n]+|\.(?=\s|$)|,?\s+but\s+|,\s*and\s+|\s+and\s+(?=(?:i\b|i'm|i'd|never|always|avoid|prefer|don'?t|"
    r"do not|no\b|only|must|please))", re.IGNORECASE)
_SITE = re.compile(r"\b(?:on|at|from|with|for)\s+((?:www\.)?(?:[a-z0-9-]+\.)+[a-z]{2,})\b", re.IGNORECASE)
_CATEGORY = {"flights": re.compile(r"\b(when|while) (flying|travel+ing)\b|\bfor flights\b|\bon flights\b"),
             "shopping": re.compile(r"\b(when|while) (shopping|buying|ordering)\b|\bonline shopping\b")}

_CUES: list[tuple[Polarity, re.Pattern[str]]] = [
    ("avoid", re.compile(r"\b(?:prefer|rather|like|want) not\b|\bwould rather not\b")),
    ("prefer", re.compile(r"\b(?:always|usually|generally) (?:prefer|like|choose|pick|go for)\b")),
    ("never", re.compile(r"\bnever\b|\b(?:don'?t|do not) ever\b|\bunder no circumstances\b|\bnot ever\b"
                         r"|\bno\b(?! more than| later than| earlier than| preference)")),
    ("avoid", re.compile(r"\b(?:avoid|dislike|hate|detest|can'?t stand|not a fan of)\b"
                         r"|\b(?:don'?t|do not|doesn'?t|does not|won'?t)\b")),
    ("must", re.compile(r"\b(?:must|always|only|have to|has to|need to|needs to|requires?|insist)\b")),
    ("prefer", re.compile(r"\b(?:prefer|preferably|rather|like|love|favou?r|want|enjoy|ideally|please)\b")),
]
_SOFT = re.compile(r"\b(?:prefer|preferably|ideally|if possible|try to|rather|like)\b")
_FLIGHTY = re.compile(r"\b(?:flights?|fly|flying|depart\w*|leav\w*|take ?offs?|departures?|red-?eyes?)\b")
_SHIPPY = re.compile(r"\b(?:shipping|delivery|deliver(?:ed)?|ship(?:ped)?|postage|courier)\b")
_LEADING_CUES = {"i", "never", "always", "only", "prefer", "avoid", "no", "please", "must", "don't",
                 "book", "fly", "use", "choose", "pick"}

Found = list[tuple[str, str, Polarity]]


def polarity_of(clause: str) -> Polarity | None:
    """The first cue that matches, strongest first; None: the clause has no cue."""
    low = clause.casefold()
    for polarity, pat in _CUES:
        if pat.search(low):
            if polarity == "avoid" and re.search(r"\balways\b", low):
                return "never"  # "always avoid X" is a rule, not a leaning
            return polarity
    return None


def _seat(c: str, low: str, pol: Polarity) -> Found:
    m = re.search(r"\b(window|aisle|middle|exit[- ]row|bulkhead)\b", low)
    if not m:
        return []
    kind = m.group(1).replace("-", " ")
    seaty = re.search(r"\b(?:seats?|sit|sitting|row)\b", low)
    if kind in ("window", "middle") and not seaty:
        return []
    return [("flights.seat", kind, pol)]


def _departure(c: str, low: str, pol: Polarity) -> Found:
    if re.search(r"\bred[- ]?eyes?\b|\b(?:overnight|night|late[- ]night) (?:flights?|departures?)\b", low):
        return [("flights.departure_time", "red-eye", pol)]
    m = re.search(r"\b(early[- ]morning|morning|afternoon|evening)\b", low)
    if m and _FLIGHTY.search(low):
        return [("flights.departure_time", m.group(1).replace(" ", "-"), pol)]
    return []


_NUM = {"zero": "0", "one": "1", "two": "2", "three": "3", "a": "1", "single": "1"}


def _stops(c: str, low: str, pol: Polarity) -> Found:
    m = re.search(r"\b(?:at most|no more than|not more than|max(?:imum)?(?: of)?|up to)\s+"
                  r"(zero|one|two|three|a|single|\d)\s+(?:stops?|layovers?|connections?)\b", low)
    if m:
        n = _NUM.get(m.group(1), m.group(1))
        return [("flights.max_stops", n, "prefer" if _SOFT.search(low) else "must")]
    if re.search(r"\bnon-?stops?\b", low) or (re.search(r"\bdirect\b", low) and _FLIGHTY.search(low)):
        if pol in ("avoid", "never"):
            return []  # "avoid nonstop flights" is not a preference we can type
        return [("flights.max_stops", "0", pol)]
    if re.search(r"\b(?:layovers?|connections?|connecting flights?|stopovers?|stops)\b", low):
        if pol == "never":
            return [("flights.max_stops", "0", "must")]
        if pol == "avoid":
            return [("flights.max_stops", "0", "prefer")]
    return []


def _cabin(c: str, low: str, pol: Polarity) -> Found:
    m = re.search(r"\b(basic economy|premium economy|business class|first class|economy class)\b", low) \
        or re.search(r"\bfly(?:ing)? (business|first|economy)\b", low)
    if not m:
        return []
    return [("flights.cabin", m.group(1).removesuffix(" class"), pol)]


def _strip_cues(name: str) -> str:
    parts = name.split()
    while parts and parts[0].casefold() in _LEADING_CUES:
        parts.pop(0)
    return " ".join(parts)


def _names(c: str, low: str, pol: Polarity, *, names: Names, flighty: bool, any_case: bool) -> Found:
    flighty = flighty or bool(_FLIGHTY.search(low) or re.search(r"\b(?:airlines?|carriers?)\b", low))
    found: Found = []
    for kind, name, against in sentence_names(c, names, flighty=flighty, any_case=any_case):
        # "Anker, not Belkin": the name set against the preferred one is avoided.
        found.append((SUBJECTS[kind], name, "avoid" if against and pol in ("prefer", "must") else pol))
    return found


_MONEY = re.compile(
    r"(?:under|below|less than|at most|no more than|not more than|max(?:imum)?(?: of)?|up to|cheaper than|"
    r"within|budget(?: for [\w\s-]{1,40}?)?(?: is| of)?:?|more than|over|exceed|above)\s*"
    r"(?P<cur>[$€£]|usd\s?|eur\s?|gbp\s?)?(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<word>dollars?|usd|euros?|eur|pounds?|gbp)?",
    re.IGNORECASE)
_SYMBOL = {"$": "$", "usd": "$", "dollar": "$", "dollars": "$", "€": "€", "eur": "€", "euro": "€",
           "euros": "€", "£": "£", "gbp": "£", "pound": "£", "pounds": "£"}


def _budget(c: str, low: str, pol: Polarity) -> Found:
    for m in _MONEY.finditer(c):
        cur = (m.group("cur") or m.group("word") or "").strip().casefold()
        if not cur and "budget" not in low:
            continue  # "at most 1 stop" is not money
        value = f"{_SYMBOL.get(cur, '$')}{m.group('num').replace(',', '')}"
        soft = _SOFT.search(low) and not re.search(r"\b(?:never|must|only|always)\b", low)
        return [("shopping.budget", value, "prefer" if soft else "must")]
    return []


def _speed(c: str, low: str, pol: Polarity) -> Found:
    if not _SHIPPY.search(low):
        return []
    speed = speed_of(low)
    return [("shipping.speed", speed, pol)] if speed else []


def _address(c: str, low: str, pol: Polarity) -> Found:
    m = re.search(r"\b(?:ship|deliver|send)(?:\s+\w+)?\s+to\s+(.*\d.*)$", c, re.IGNORECASE) \
        or re.search(r"\b(?:shipping |delivery |home )?address is\s+(.+)$", c, re.IGNORECASE)
    if not m:
        return []
    return [("shipping.address", m.group(1).strip(" ,"), "never" if pol == "never" else "prefer")]


def _loyalty(c: str, low: str, pol: Polarity, *, names: Names) -> Found:
    m = re.search(r"(?:my\s+)?(.+?)\s+(?:frequent[- ]flyer|loyalty|miles|rewards|membership|mileage)"
                  r"\s+(?:number|no\.?|#|id|account)\s*(?:is|:)?\s*([A-Z0-9][A-Z0-9-]{3,})", c, re.IGNORECASE)
    if not m:
        return []
    program = _strip_cues(re.sub(r"^(?:my|use)\s+", "", m.group(1).strip(), flags=re.IGNORECASE))
    program = names.spelling(program)
    return [("travel.loyalty_number", f"{program}: {m.group(2)}", "prefer")]


Extractor = Callable[[str, str, Polarity], Found]


def _extractors(names: Names, *, flighty: bool, any_case: bool) -> list[Extractor]:
    """Order matters where phrases overlap: a budget before stops ("no more than $50" vs
    "no more than 1 stop"), the address and loyalty number before names in them."""
    return [partial(_loyalty, names=names), _address, _budget, _seat, _departure, _stops, _cabin, _speed,
            partial(_names, names=names, flighty=flighty, any_case=any_case)]


def _lower_case(text: str) -> bool:
    """Written without capitals (but "I" and the first letter): names may be too."""
    return not any(ch.isupper() for ch in re.sub(r"\bI\b|^\W*\w", "", text))


def _scope(sentence: str) -> str | None:
    m = _SITE.search(sentence)
    if m:
        host = m.group(1).lower().removeprefix("www.")
        if not re.fullmatch(r"\d+(\.\d+)+", host):  # "$12.50" is not a site
            return f"site:{host}"
    return None


def _category(sentence: str) -> str | None:
    low = sentence.casefold()
    for name, pat in _CATEGORY.items():
        if pat.search(low):
            return f"category:{name}"
    return None


def parse(sentence: str, *, notes: bool = True, names: Names | None = None) -> list[Draft]:
    """Typed preferences in `sentence`; with notes, what cannot be typed becomes a
    note (subject "note") rather than being dropped. `names`: the brands and airlines
    the person's data knows (PreferenceStore.names()), to tell which a name is."""
    text = " ".join(sentence.split())
    if not text:
        return []
    site = _scope(text)
    default = polarity_of(text) or "prefer"
    extractors = _extractors(WORLD if names is None else names, flighty=_category(text) == "category:flights",
                             any_case=_lower_case(text))
    found: list[tuple[str, str, Polarity]] = []
    for clause in _CLAUSES.split(text):
        clause = clause.strip(" ,")
        if not clause:
            continue
        low = clause.casefold()
        pol = polarity_of(clause) or "prefer"
        taken: set[str] = set()
        for extract in extractors:
            for subject, value, polarity in extract(clause, low, pol):
                # An address or loyalty number swallows the names inside it.
                if subject in taken or (taken & {"shipping.address", "travel.loyalty_number"}):
                    continue
                if subject_info(subject).kind != "set":  # several brands or airlines may be named
                    taken.add(subject)
                found.append((subject, value, polarity))
    drafts = [Draft(subject=s, value=v, polarity=p, scope=site or EVERYWHERE) for s, v, p in found]
    if not drafts and notes:
        drafts = [Draft(subject="note", value=text, polarity=default,
                        scope=site or _category(text) or EVERYWHERE)]
    return list({(d.subject, d.value.casefold()): d for d in drafts}.values())


def maybe_preference(answer_text: str, *, names: Names | None = None) -> list[Preference]:
    """Preferences an ask_user answer states, for the agent to offer to remember
    ("remember that?"). Only clear statements count: a preference cue and a typed
    subject; a plain answer ("the 14th", "aisle please") gives nothing."""
    text = answer_text.strip()
    if not text or len(text) > 500 or polarity_of(text) is None:
        return []
    if polarity_of(text) == "prefer" and not re.search(
            r"\b(?:prefer|always|never|usually|generally|in general|like|love|rather)\b", text.casefold()):
        return []  # "please" alone answers this question, it does not state a habit
    return [Preference(**d.model_dump(), source="asked", evidence=[f"answered: {text}"], confidence=0.9)
            for d in parse(text, notes=False, names=names)]
