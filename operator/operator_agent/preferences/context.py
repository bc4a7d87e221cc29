"""Where the agent is and what it is doing, in the terms preferences are matched on:
the site's host, the task's categories (flights, shopping) and the words in play."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..types import Observation

_WORD = re.compile(r"[a-z0-9][a-z0-9'&-]*[a-z0-9]|[a-z0-9]")

def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _wordset("""
a an the and or but if then so to of in on at by for with from into over under up down out
about as is are was were be been being am do does did done have has had i me my mine we our you
your it its this that these those there here what which who whom whose when where why how all any
both each few more most other some such no nor not only own same than too very can will just should
would could may might must shall please want like get got make go going s t don't i'm i'd let
per via also new now one two page see more less one
""")

CATEGORY_WORDS: dict[str, frozenset[str]] = {
    "flights": _wordset("""flight flights fly flying flies airline airlines airport airports plane
        planes airfare airfares depart departure departures layover layovers nonstop itinerary
        boarding seat seats aisle round-trip one-way red-eye trip trips"""),
    "shopping": _wordset("""buy buying shop shopping store cart basket checkout purchase order orders
        product products deliver delivery shipping brand brands add-to-cart"""),
}
# "book" is a travel verb ("book a flight") unless it is a noun ("buy a book").
_BOOK_VERB = re.compile(
    r"\b(?<!\ba )(?<!\bthe )(?<!\bthis )(?<!\bthat )(?<!\bmy )(?<!\bnew )book(s|ing|ed)?\b")

_PAGE_CHARS = 4000  # how much of the page text decides its category (the top says what it is)


def words(text: str) -> set[str]:
    """Lower-case content words (stop words dropped)."""
    return {w for w in _WORD.findall(text.casefold()) if w not in STOPWORDS and len(w) > 1}


def host_of(url: str) -> str:
    """"shop.example.com" from any URL (no port, no leading www.)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.")


def site_scopes(host: str) -> list[str]:
    """The site scopes that apply on `host`: itself and each parent domain."""
    if not host:
        return []
    parts = host.split(".")
    if all(p.isdigit() for p in parts):  # an IP address has no parent domains
        return [f"site:{host}"]
    return [f"site:{'.'.join(parts[i:])}" for i in range(len(parts) - 1)]


def categories_of(text: str) -> dict[str, int]:
    """How many distinct words of each category the text has."""
    ws = words(text)
    hits = {c: len(ws & vocab) for c, vocab in CATEGORY_WORDS.items()}
    if _BOOK_VERB.search(text.casefold()):
        hits["flights"] += 1
    return {c: n for c, n in hits.items() if n}


@dataclass(frozen=True)
class Context:
    host: str
    categories: frozenset[str]
    task_words: frozenset[str]
    page_words: frozenset[str]

    @property
    def scopes(self) -> list[str]:
        return ["everywhere", *site_scopes(self.host), *(f"category:{c}" for c in sorted(self.categories))]

    def applies(self, scope: str) -> bool:
        if scope == "everywhere":
            return True
        kind, _, rest = scope.partition(":")
        if kind == "site":
            return bool(self.host) and (self.host == rest or self.host.endswith("." + rest))
        return rest in self.categories


def page_categories(observation: Observation) -> dict[str, int]:
    return categories_of(f"{observation.title}\n{observation.url}\n{observation.text[:_PAGE_CHARS]}")


def build_context(task: str, observation: Observation) -> Context:
    """The task names the category ("book a flight" -> flights); only a task that names
    none takes it from the page, so a detour through another kind of page does not
    bring that page's preferences along."""
    cats = set(categories_of(task))
    if not cats:
        cats = {c for c, n in page_categories(observation).items() if n >= 2}
    page_text = f"{observation.title}\n{observation.text}"
    return Context(host=host_of(observation.url), categories=frozenset(cats),
                   task_words=frozenset(words(task)), page_words=frozenset(words(page_text)))
