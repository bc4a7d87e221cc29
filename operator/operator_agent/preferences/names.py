"""Brand and airline names: found in a sentence by its structure, and learned from data.

Nothing here knows a brand in advance. A name is a run of capitalised words
("Sony", "Air New Zealand", "easyJet") standing where a name stands:

- before a kind of thing: "Sony headphones" (a brand), "Qantas flights" (an airline);
- after a verb: "fly X", "book me on X" (an airline); "buy X", "buy from X" (a brand);
- after a word naming its kind: "the brand X", "the airline X";
- after a preference word: "I prefer X", "never X", "not X" - its kind then comes
  from what the person's data says about it, its ending ("Condor Air"), or the
  sentence (flying or not).

`Names` is what the person's data says: the brands and airlines of their stored
preferences and of the choices they made (runs and recordings), so that a name
seen once is known later: "I prefer X" is about an airline once X was flown.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from .context import STOPWORDS
from .vocab import (
    AIRLINE_ALIASES,
    AIRLINE_PREFIX,
    AIRLINE_SUFFIX,
    AIRLINE_WORDS,
    BRAND_WORDS,
    FLIGHT_NOUNS,
    PRODUCT_NOUNS,
    WELL_KNOWN_AIRLINES,
    general,
    name_key,
)

Kind = Literal["airline", "brand"]
SUBJECTS: dict[Kind, str] = {"airline": "flights.airline", "brand": "shopping.brand"}
KINDS: dict[str, Kind] = {subject: kind for kind, subject in SUBJECTS.items()}

_MAX_WORDS = 6  # the longest name looked for, in words
_TOKEN = re.compile(r"\w+(?:['’&.-]\w+)*")
_POSSESSIVE = re.compile(r"['’]s$")


@dataclass(frozen=True)
class Known:
    kind: Kind
    name: str  # the spelling to store
    written: str  # the form it is known by (an alias, or the name)
    learned: bool  # from the person's data (else world knowledge, matched only as written)


def _clean(name: str) -> str:
    return _POSSESSIVE.sub("", " ".join(name.split()).strip(" .,"))


class Names:
    """Names with their kind, looked up loosely ("condor" finds "Condor Air").
    Later entries win, so the person's latest word on a name is what counts."""

    def __init__(self, learned: Iterable[tuple[Kind, str]] = ()) -> None:
        self._known: dict[str, Known] = {}
        for name in WELL_KNOWN_AIRLINES:
            self._put(Known("airline", name, name, learned=False))
        for alias, name in AIRLINE_ALIASES.items():
            self._put(Known("airline", name, alias, learned=False))
            self._put(Known("airline", name, name, learned=False))
        for kind, name in learned:
            if (name := _clean(name)) and not general(name):
                self._put(Known(kind, name, name, learned=True))

    def _put(self, known: Known) -> None:
        self._known[name_key(known.written)] = known

    def __len__(self) -> int:
        return sum(k.learned for k in self._known.values())

    def get(self, span: str, *, any_case: bool = False) -> Known | None:
        """The name `span` is, if known. World names count only as written ("Swiss",
        not "swiss"); learned ones when capitalised, or in any case with `any_case`."""
        span = _clean(span)
        known = self._known.get(name_key(span))
        if known is None:
            return None
        if not known.learned:
            return known if " ".join(span.split()) in (known.written, known.name) else None
        return known if any_case or not span[:1].islower() or span == known.written else None

    def kind_of(self, name: str) -> Kind | None:
        known = self.get(name, any_case=True)
        return known.kind if known else None

    def spelling(self, name: str) -> str:
        """The known spelling of a name ("TAP" -> "TAP Air Portugal"), else as written."""
        known = self.get(name)
        return known.name if known else _clean(name)

    def find(self, text: str, *, kind: Kind | None = None, any_case: bool = False,
             ) -> list[tuple[int, int, Known]]:
        """Known names in `text`, leftmost-longest, as (start, end, known)."""
        return _find(self, text, list(_TOKEN.finditer(text)), kind=kind, any_case=any_case)

    def named(self, text: str, kind: Kind) -> list[str]:
        """The known names of this kind that `text` mentions (capitalised, as pages do)."""
        return list(dict.fromkeys(k.name for _, _, k in self.find(text, kind=kind)))


def _joined(text: str, a: re.Match[str], b: re.Match[str]) -> bool:
    """Whether two words are parts of one name: only spaces (or an "&") between them."""
    between = text[a.end():b.start()]
    return bool(re.fullmatch(r"\s+|\s*&\s*", between))


def _find(names: Names, text: str, toks: list[re.Match[str]], *, kind: Kind | None = None,
          any_case: bool = False) -> list[tuple[int, int, Known]]:
    joined = [_joined(text, a, b) for a, b in pairwise(toks)]
    found, i = [], 0
    while i < len(toks):
        reach = 1  # how many words from i could be one name
        while reach < _MAX_WORDS and i + reach < len(toks) and joined[i + reach - 1]:
            reach += 1
        width = 1
        for n in range(reach, 0, -1):
            start, end = toks[i].start(), toks[i + n - 1].end()
            known = names.get(text[start:end], any_case=any_case)
            if known and (kind is None or known.kind == kind):
                found.append((start, end, known))
                width = n
                break
        i += width
    return found


# --- a sentence's structure ---------------------------------------------------------

WORLD = Names()  # no data: the general vocabulary and the few real airlines only

_VERBS = r"(?:\s+(?:only|always|just|mostly|usually))?"
_AIRLINE_BEFORE = re.compile(
    rf"\b(?:fly|flying|flies|flew|flown){_VERBS}(?:\s+(?:with|on|via))?\s+$"
    rf"|\b(?:travel\w*|go|going|put\s+me|get\s+me|seat\s+me)\s+(?:with|on|via)\s+$"
    rf"|\bbook(?:s|ed|ing)?(?:\s+(?:me|us|myself))?(?:\s+(?:with|on|via))?\s+$"
    rf"|\b(?:flights?|class|cabin|economy|business|first|seats?)\s+(?:with|on|via)\s+$"
    rf"|\b(?:{'|'.join(AIRLINE_WORDS)})s?\s+(?:like\s+|such\s+as\s+|called\s+|named\s+)?$", re.IGNORECASE)
_BRAND_BEFORE = re.compile(
    r"\b(?:buy|buys|buying|bought|order|orders|ordering|ordered|purchase\w*|shop|shopping|get)\b"
    r"(?:\s+[\w-]+){0,3}?\s+(?:from|at)\s+(?:the\s+)?$"
    rf"|\b(?:buy|buys|buying|bought|order|orders|ordering|purchase\w*){_VERBS}\s+$"
    rf"|\b(?:{'|'.join(BRAND_WORDS)})s?\s+(?:like\s+|such\s+as\s+|called\s+|named\s+)?$", re.IGNORECASE)
_CUE_BEFORE = re.compile(
    r"\b(?:prefer|like|love|favou?r|want|choose|pick|use|trust|enjoy|avoid|hate|dislike|detest|never|"
    r"only|always|no|not|rather|stand|go\s+for|go\s+with|stick\s+(?:with|to)|stay\s+away\s+from|fan\s+of|"
    r"over|than|instead\s+of|except)\s+(?:the\s+)?$", re.IGNORECASE)
_AGAINST = re.compile(r"\b(?:not|over|than|instead\s+of|except)\s+(?:the\s+)?$", re.IGNORECASE)
_ALONE_AFTER = re.compile(r"\s*(?:only|please|if possible|when(?:ever)? possible|for me|all the way)?\W*$",
                          re.IGNORECASE)
_NOUN_AFTER = re.compile(r"[ \t]+([\w-]+(?:[ \t]+[\w-]+){0,2})")
_LIST_SEP = re.compile(r"\s*,?\s*(?:(?:and|or|nor|&|/)\s+)?|\s*/\s*")
# Words that cannot stand between a name and its kind ("In Lisbon I want flights").
_NOT_MODIFIERS = STOPWORDS | {"i", "i'd", "i'm", "when", "while"}
# Words that may lead up to a name in a run of capitalised words ("Only American Airlines").
_LEAD = STOPWORDS | {"i", "i'd", "i'm", "never", "always", "only", "prefer", "avoid", "please", "don't",
                     "no", "not", "book", "fly", "use", "choose", "pick", "buy"}



def _namey(word: str) -> bool:
    """Written as a name: capitalised ("Sony", "TAP") or camel-cased ("easyJet")."""
    return word[:1].isupper() or (word[:1].islower() and any(c.isupper() for c in word[1:]))


def _not_name(word: str) -> bool:
    return general(word) or any(c.isdigit() for c in word)


def _trimmed(text: str, run: list[re.Match[str]]) -> tuple[int, int] | None:
    """The name in a run of capitalised words: without the general words at its edges
    ("Never Sony", "Anker USB-C"). A run ending in Air/Airways/Airlines is an
    airline's name whole, but for the words leading up to it ("Only American Airlines")."""
    a, b = 0, len(run)
    if AIRLINE_SUFFIX.search(text[run[0].start():run[-1].end()]):
        while a < b - 1 and run[a].group().casefold() in _LEAD:
            a += 1
        if AIRLINE_SUFFIX.search(text[run[a].start():run[-1].end()]):
            return run[a].start(), run[-1].end()
        a = 0
    while a < b and _not_name(run[a].group()):
        a += 1
    while b > a and _not_name(run[b - 1].group()):
        b -= 1
    return (run[a].start(), run[b - 1].end()) if a < b else None


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    name: str
    known: Known | None


def _mentions(clause: str, names: Names, any_case: bool) -> list[_Mention]:
    """Every name-like run of words in the clause, cut to its name: a known name inside
    a run is taken as it is ("Never Delta"); otherwise the general words
    at its edges are dropped ("Never Sony", "Anker USB-C")."""
    toks = list(_TOKEN.finditer(clause))
    out: list[_Mention] = []
    i = 0
    while i < len(toks):
        if not _namey(toks[i].group()):
            i += 1
            continue
        j = i
        while j + 1 < len(toks) and _namey(toks[j + 1].group()) and _joined(clause, toks[j], toks[j + 1]):
            j += 1
        run = toks[i:j + 1]
        known = _find(names, clause, run)
        if known:
            out += [_Mention(s, e, k.name, k) for s, e, k in known]
        elif span := _trimmed(clause, run):
            out.append(_Mention(*span, _clean(clause[span[0]:span[1]]), None))
        i = j + 1
    if any_case:  # a person who writes in lower case still means the names they used before
        taken = [(m.start, m.end) for m in out]
        out += [_Mention(s, e, k.name, k) for s, e, k in names.find(clause, any_case=True)
                if not any(s < te and ts < e for ts, te in taken)]
    return sorted(out, key=lambda m: m.start)


def _noun_kind(after: str) -> Kind | None:
    """The kind a name is from the thing named after it: "X noise-cancelling headphones"."""
    m = _NOUN_AFTER.match(after)
    for word in m.group(1).split() if m else ():
        w = word.casefold()
        if w in FLIGHT_NOUNS:
            return "airline"
        if w in PRODUCT_NOUNS:
            return "brand"
        if w in _NOT_MODIFIERS:
            return None
    return None


def _groups(clause: str, found: list[_Mention]) -> list[list[_Mention]]:
    """Names listed together share their slot: "Sony or Bose headphones"."""
    groups: list[list[_Mention]] = []
    for m in found:
        if groups and _LIST_SEP.fullmatch(clause[groups[-1][-1].end:m.start]):
            groups[-1].append(m)
        else:
            groups.append([m])
    return groups


def sentence_names(clause: str, names: Names, *, flighty: bool, any_case: bool = False,
                   ) -> list[tuple[Kind, str, bool]]:
    """The brands and airlines a clause speaks of, as (kind, name, against): against is
    True for a name set against the preferred one ("Anker, not Belkin")."""
    out: list[tuple[Kind, str, bool]] = []
    for group in _groups(clause, _mentions(clause, names, any_case)):
        before, after = clause[:group[0].start], clause[group[-1].end:]
        noun = _noun_kind(after)
        verb: Kind | None = "airline" if _AIRLINE_BEFORE.search(before) else \
            "brand" if _BRAND_BEFORE.search(before) else None
        slot = noun or verb or _CUE_BEFORE.search(before) or (
            not before.strip() and _ALONE_AFTER.fullmatch(after))
        against = bool(_AGAINST.search(before))
        own = [_own_kind(m) for m in group]
        # Names listed together are of one kind: "Delta, Condor Air and Finnair".
        listed = next((k for k in own if k), None) or ("airline" if flighty else "brand")
        for m, kind in zip(group, own, strict=True):
            if not (slot or kind):
                continue  # a capitalised word standing where no name stands ("In Lisbon")
            suffixed = "airline" if m.known is None and kind == "airline" else None
            out.append((noun or suffixed or verb or kind or listed, m.name, against))
    return out


def _own_kind(m: _Mention) -> Kind | None:
    """What a name says of itself: the person's data knows it, or it ends in "Air"."""
    if m.known:
        return m.known.kind
    return "airline" if AIRLINE_SUFFIX.search(m.name) or AIRLINE_PREFIX.search(m.name) else None


def learned_names(db: sqlite3.Connection) -> Names:
    """The names in the person's own data: the options they chose among (runs and
    recordings), then their stored preferences, which have the last word on a kind."""
    where = f"WHERE subject IN ({','.join('?' * len(KINDS))})"
    pairs: list[tuple[Kind, str]] = []
    for r in db.execute(f"SELECT DISTINCT subject, chosen, alternatives FROM choices {where}", tuple(KINDS)):
        kind = KINDS[r["subject"]]
        try:
            others = [str(a) for a in json.loads(r["alternatives"])]
        except (ValueError, TypeError):
            others = []
        pairs += [(kind, r["chosen"]), *((kind, a) for a in others)]
    for r in db.execute(f"SELECT subject, value FROM prefs {where} ORDER BY n", tuple(KINDS)):
        pairs.append((KINDS[r["subject"]], r["value"]))
    return Names(pairs)
