"""The rule parser understands general language: brands and airlines it has never
seen are typed by where they stand in the sentence ("fly X", "X headphones", "buy
from X"), and names learned from the person's own data (their preferences, the
options they chose among) tell it later what a bare name is."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from operator_agent.preferences import Learner, PreferenceGuard, PreferenceStore, maybe_preference, parse
from operator_agent.preferences.commands import add_commands
from operator_agent.preferences.model import subject_info
from operator_agent.preferences.names import Names
from operator_agent.types import ActionResult, Click, Observation, StepRecord

# sentence -> [(domain, key, value, strength)]; every name here is unknown to the code.
CASES: list[tuple[str, list[tuple[str, str, str, str]]]] = [
    # airlines, by the verb, the noun after them, their ending, or the words around them
    ("I prefer to fly Qantara", [("flights", "airline", "Qantara", "prefer")]),
    ("never book Norvane flights", [("flights", "airline", "Norvane", "never")]),
    ("Book me on Velmora whenever possible", [("flights", "airline", "Velmora", "prefer")]),
    ("I only fly with Ostrava Airways", [("flights", "airline", "Ostrava Airways", "must")]),
    ("Never fly American Airlines", [("flights", "airline", "American Airlines", "never")]),
    ("I prefer Air Selvana", [("flights", "airline", "Air Selvana", "prefer")]),
    ("When flying, I prefer Qantara", [("flights", "airline", "Qantara", "prefer")]),
    ("I'd like to fly business on Norvane",
     [("flights", "cabin", "business", "prefer"), ("flights", "airline", "Norvane", "prefer")]),
    ("Avoid Norvane red-eye flights",
     [("flights", "departure_time", "red-eye", "avoid"), ("flights", "airline", "Norvane", "avoid")]),
    ("I'd rather fly Qantara than Norvane",
     [("flights", "airline", "Qantara", "prefer"), ("flights", "airline", "Norvane", "avoid")]),
    ("I prefer Tarsis, Ostrava Air and Velmora",
     [("flights", "airline", "Tarsis", "prefer"), ("flights", "airline", "Ostrava Air", "prefer"),
      ("flights", "airline", "Velmora", "prefer")]),
    ("Never fly Spirit or Frontier",
     [("flights", "airline", "Spirit", "never"), ("flights", "airline", "Frontier", "never")]),
    ("Avoid easyJet", [("flights", "airline", "easyJet", "avoid")]),
    # brands, by the thing named after them, the verb, or the word "brand"
    ("I always buy Zentrix headphones", [("shopping", "brand", "Zentrix", "must")]),
    ("I like Anker chargers", [("shopping", "brand", "Anker", "prefer")]),
    ("I like Anker USB-C chargers", [("shopping", "brand", "Anker", "prefer")]),
    ("I prefer Zentrix noise-cancelling headphones", [("shopping", "brand", "Zentrix", "prefer")]),
    ("never buy from BrandX", [("shopping", "brand", "BrandX", "never")]),
    ("I only shop at Kitmart", [("shopping", "brand", "Kitmart", "must")]),
    ("The brand Solenne is great", [("shopping", "brand", "Solenne", "prefer")]),
    ("I love Patagonia jackets", [("shopping", "brand", "Patagonia", "prefer")]),
    ("I trust Brewster & Co tools", [("shopping", "brand", "Brewster & Co", "prefer")]),
    ("I never buy Plumora or Dexley products.",
     [("shopping", "brand", "Plumora", "never"), ("shopping", "brand", "Dexley", "never")]),
    ("I prefer Anker, not Belkin",
     [("shopping", "brand", "Anker", "prefer"), ("shopping", "brand", "Belkin", "avoid")]),
    ("Zentrix only", [("shopping", "brand", "Zentrix", "must")]),
    # the general vocabulary: budgets, seats, speeds
    ("my budget for headphones is $80", [("shopping", "budget", "$80", "must")]),
    ("aisle seats please", [("flights", "seat", "aisle", "prefer")]),
    ("Exit Row Seats Please", [("flights", "seat", "exit row", "prefer")]),
    ("Only Nonstop Flights", [("flights", "max_stops", "0", "must")]),
    ("ship everything by next-day delivery", [("shopping", "speed", "next-day", "prefer")]),
    ("My Qantara frequent flyer number is QA12345",
     [("flights", "loyalty_number", "Qantara: QA12345", "prefer")]),
]

# Capitalised words that stand where no brand or airline stands: kept as notes.
NOT_NAMES = [
    "In Lisbon I want a hotel near the Alfama",
    "Never buy cheap Chinese cables",
    "I want to arrive in Paris before noon",
    "Use my Visa card",
    "Don't book me on the 6am flight",
    "Never schedule meetings on Fridays",
]


def typed(drafts: list) -> list[tuple[str, str, str, str]]:
    return [(subject_info(d.subject).category or "", d.subject.split(".", 1)[1], d.value, d.polarity)
            for d in drafts]


@pytest.mark.parametrize(("sentence", "expected"), CASES, ids=[c[0] for c in CASES])
def test_unseen_names_are_typed_by_the_sentence(sentence: str, expected: list) -> None:
    assert typed(parse(sentence)) == expected


@pytest.mark.parametrize("sentence", NOT_NAMES)
def test_a_capitalised_word_is_not_a_name_by_itself(sentence: str) -> None:
    (note,) = parse(sentence)
    assert (note.subject, note.value) == ("note", sentence)


def test_real_world_airline_names_count_only_as_names() -> None:
    assert typed(parse("I prefer Swiss")) == [("flights", "airline", "Swiss", "prefer")]
    assert parse("I like swiss cheese")[0].subject == "note"
    assert Names().kind_of("Delta") == "airline" and Names().get("delta") is None


# --- names learned from data -------------------------------------------------------


def test_a_name_the_person_used_before_tells_a_bare_name_apart(store: PreferenceStore) -> None:
    assert typed(parse("I prefer Qantara")) == [("shopping", "brand", "Qantara", "prefer")]  # no clue yet
    for d in parse("I prefer to fly Qantara") + parse("I always buy Zentrix headphones"):
        store.add(d)
    names = store.names()
    assert (names.kind_of("qantara"), names.kind_of("Zentrix")) == ("airline", "brand")
    assert typed(parse("I prefer Qantara", names=names)) == [("flights", "airline", "Qantara", "prefer")]
    assert typed(parse("Never Qantara again", names=names)) == [("flights", "airline", "Qantara", "never")]
    # Written in lower case, a known name is still found, spelled as first written.
    assert typed(parse("i never buy zentrix", names=names)) == [("shopping", "brand", "Zentrix", "never")]
    assert parse("i never buy zentrix")[0].subject == "note"  # without the data: no name in it
    prefs = maybe_preference("I always prefer Qantara", names=names)
    assert [(p.subject, p.value, p.source) for p in prefs] == [("flights.airline", "Qantara", "asked")]


def test_the_persons_latest_word_on_a_name_wins(store: PreferenceStore) -> None:
    store.add(parse("I prefer Tarsis headphones")[0])
    assert store.names().kind_of("Tarsis") == "brand"
    store.add(parse("never book Tarsis flights")[0])
    assert store.names().kind_of("Tarsis") == "airline"  # read again after the write


FLIGHTS = """\
url: {url}
title: Results | Example Travel
## 3 flights found
Qantara · 07:10 – 09:40 · JFK → BOS · QN 12 · 2h 30m · Nonstop · $310.00
[1] button "Select"
Norvane · 09:00 – 12:55 · JFK → BOS · NV 80 · 3h 55m · 1 stop (1h 05m in PHL) · $190.00
[2] button "Select"
Velmora + Qantara · 13:15 – 15:40 · JFK → BOS · VM 5 · 2h 25m · Nonstop · $260.00
[3] button "Select"
"""


def _pick(page: Observation, index: int) -> StepRecord:
    return StepRecord(step=1, url=page.url, title=page.title, observation_text=page.text,
                      actions=[Click(index=index)],
                      results=[ActionResult(ok=True, target=page.element(index))])


def test_airlines_chosen_among_are_learned_and_then_understood(store: PreferenceStore, page_of) -> None:
    page = page_of(FLIGHTS, "http://travel.example/results")
    Learner(store).ingest("run-a", [_pick(page, 1)])
    names = store.names()
    # The chosen airline and the one on offer, read off the rows without knowing them (a
    # codeshare's airlines are no choice of one airline, so Velmora is not logged).
    assert {n: names.kind_of(n) for n in ("Qantara", "Norvane", "Velmora")} == {
        "Qantara": "airline", "Norvane": "airline", "Velmora": None}
    sentence = "I'd rather avoid Norvane"
    assert typed(parse(sentence, names=names)) == [("flights", "airline", "Norvane", "avoid")]
    assert typed(parse(sentence)) == [("shopping", "brand", "Norvane", "avoid")]  # no data: a brand


async def test_the_guard_holds_a_must_airline_it_never_knew(store: PreferenceStore, page_of) -> None:
    page = page_of(FLIGHTS, "http://travel.example/results")
    (only,) = [store.add(d) for d in parse("I only fly Qantara")]
    guard = PreferenceGuard(store)
    assert (await guard.check(Click(index=1), page)).decision == "allow"
    assert (await guard.check(Click(index=3), page)).decision == "allow"  # a codeshare with it
    verdict = await guard.check(Click(index=2), page)
    assert verdict.decision == "ask" and f"[{only.id}]" in verdict.reason and "Norvane" in verdict.reason


async def test_prefs_add_uses_the_names_in_the_store(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "p.db")

    async def add(sentence: str) -> None:
        parser = argparse.ArgumentParser(prog="operator")
        add_commands(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(["prefs", "add", sentence, "--no-model", "--prefs-db", db])
        assert await args.handler(args) == 0

    await add("never book Norvane flights")
    await add("I prefer Norvane")
    with PreferenceStore(Path(db)) as store:
        assert [(p.subject, p.value, p.polarity) for p in store.preferences()] == [
            ("flights.airline", "Norvane", "prefer")]  # the same airline: it replaced the "never"


# --- nothing of the practice sites in the parser -------------------------------------


def test_no_practice_site_name_in_the_preferences_code() -> None:
    from operator_agent import preferences
    from operator_bench.sites.flights.data import AIRLINES
    from operator_bench.sites.shop.catalog_data import CATEGORIES

    invented = {a.name for a in AIRLINES} | {b for c in CATEGORIES for b in c.brands}
    pattern = re.compile("|".join(rf"\b{re.escape(n)}\b" for n in sorted(invented)), re.IGNORECASE)
    for path in Path(preferences.__file__).parent.rglob("*.py"):
        found = pattern.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name} names {sorted(set(found))}"
