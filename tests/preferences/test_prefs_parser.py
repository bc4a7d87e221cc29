"""The rule-based parser on the common forms, table-driven; and which ask_user answers
count as a preference to offer to remember."""

from __future__ import annotations

import pytest

from operator_agent.preferences import maybe_preference, parse

# sentence -> [(subject, value, polarity)]
CASES: list[tuple[str, list[tuple[str, str, str]]]] = [
    # seats
    ("I prefer aisle seats", [("flights.seat", "aisle", "prefer")]),
    ("I like window seats", [("flights.seat", "window", "prefer")]),
    ("Never book a middle seat", [("flights.seat", "middle", "never")]),
    ("I hate middle seats", [("flights.seat", "middle", "avoid")]),
    ("Exit row seats please", [("flights.seat", "exit row", "prefer")]),
    ("Always an aisle seat for me", [("flights.seat", "aisle", "must")]),
    ("I'd rather not sit in the middle seat", [("flights.seat", "middle", "avoid")]),
    # departure times
    ("No red-eyes", [("flights.departure_time", "red-eye", "never")]),
    ("I never take red-eye flights", [("flights.departure_time", "red-eye", "never")]),
    ("Don't book overnight flights", [("flights.departure_time", "red-eye", "avoid")]),
    ("I prefer morning flights", [("flights.departure_time", "morning", "prefer")]),
    ("Avoid evening departures", [("flights.departure_time", "evening", "avoid")]),
    ("I don't like early morning flights", [("flights.departure_time", "early-morning", "avoid")]),
    # stops
    ("Only nonstop flights", [("flights.max_stops", "0", "must")]),
    ("I prefer direct flights", [("flights.max_stops", "0", "prefer")]),
    ("Avoid layovers", [("flights.max_stops", "0", "prefer")]),
    ("Never connecting flights", [("flights.max_stops", "0", "must")]),
    ("At most one stop", [("flights.max_stops", "1", "must")]),
    ("No more than 1 stop please", [("flights.max_stops", "1", "must")]),
    # airlines
    ("I prefer Lusitania Air", [("flights.airline", "Lusitania Air", "prefer")]),
    ("Never fly Meridian Airways", [("flights.airline", "Meridian Airways", "never")]),
    ("I always fly with Iberiana", [("flights.airline", "Iberiana", "must")]),
    ("Don't book me on Ryanair", [("flights.airline", "Ryanair", "avoid")]),
    ("I prefer Condor Air", [("flights.airline", "Condor Air", "prefer")]),
    ("fly TAP when possible", [("flights.airline", "TAP Air Portugal", "prefer")]),
    # cabin
    ("I prefer business class", [("flights.cabin", "business", "prefer")]),
    ("Never basic economy", [("flights.cabin", "basic economy", "never")]),
    # brands
    ("I prefer Anker", [("shopping.brand", "Anker", "prefer")]),
    ("Never buy Voltix products", [("shopping.brand", "Voltix", "never")]),
    ("I like the brand Cordova", [("shopping.brand", "Cordova", "prefer")]),
    ("Avoid Zentro products", [("shopping.brand", "Zentro", "avoid")]),
    # budgets
    ("Keep it under $15", [("shopping.budget", "$15", "must")]),
    ("No more than $50", [("shopping.budget", "$50", "must")]),
    ("My budget is 200 dollars", [("shopping.budget", "$200", "must")]),
    ("Ideally under €30", [("shopping.budget", "€30", "prefer")]),
    ("I never spend more than $100", [("shopping.budget", "$100", "must")]),
    ("at most £12.50 for cables", [("shopping.budget", "£12.50", "must")]),
    # shipping
    ("I prefer express shipping", [("shipping.speed", "express", "prefer")]),
    ("Always use standard shipping", [("shipping.speed", "standard", "must")]),
    ("I'd rather not pay for next-day delivery", [("shipping.speed", "next-day", "avoid")]),
    ("Free shipping only", [("shipping.speed", "free", "must")]),
    ("Ship to 12 Main Street, Springfield", [("shipping.address", "12 Main Street, Springfield", "prefer")]),
    ("My address is 5 Rue de la Paix, Paris", [("shipping.address", "5 Rue de la Paix, Paris", "prefer")]),
    # loyalty
    ("My Lusitania Air frequent flyer number is LU123456",
     [("travel.loyalty_number", "Lusitania Air: LU123456", "prefer")]),
    # several in one sentence
    ("I prefer aisle seats and never red-eyes",
     [("flights.seat", "aisle", "prefer"), ("flights.departure_time", "red-eye", "never")]),
    ("I prefer aisle seats but avoid Northwind Airways",
     [("flights.seat", "aisle", "prefer"), ("flights.airline", "Northwind Airways", "avoid")]),
    # the rest is kept as a note
    ("I like quiet hotels near the center", [("note", "I like quiet hotels near the center", "prefer")]),
    ("Never leave packages with the neighbours",
     [("note", "Never leave packages with the neighbours", "never")]),
]


@pytest.mark.parametrize(("sentence", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rule_parser(sentence: str, expected: list[tuple[str, str, str]]) -> None:
    got = [(d.subject, d.value, d.polarity) for d in parse(sentence)]
    assert got == expected


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_a_named_site_scopes_the_preference() -> None:
    (d,) = parse("On skyway.test I prefer window seats")
    assert (d.subject, d.value, d.scope) == ("flights.seat", "window", "site:skyway.test")
    (note,) = parse("When shopping, I like recycled packaging")
    assert (note.subject, note.scope) == ("note", "category:shopping")


def test_a_price_is_not_a_site() -> None:
    (d,) = parse("Keep it under $12.50")
    assert d.scope == "everywhere" and d.value == "$12.50"


@pytest.mark.parametrize(("answer", "expected"), [
    ("I always prefer aisle seats", [("flights.seat", "aisle", "prefer")]),
    ("I never fly red-eyes, please remember", [("flights.departure_time", "red-eye", "never")]),
    ("Only nonstop flights for me", [("flights.max_stops", "0", "must")]),
])
def test_an_answer_that_states_a_preference(answer: str, expected: list[tuple[str, str, str]]) -> None:
    prefs = maybe_preference(answer)
    assert [(p.subject, p.value, p.polarity) for p in prefs] == expected
    assert all(p.source == "asked" and p.id == "" and answer in p.evidence[0] for p in prefs)


@pytest.mark.parametrize("answer", ["aisle please", "the 14th", "Yes, go ahead", "12C",
                                    "I like quiet hotels", ""])
def test_a_plain_answer_is_not_a_preference(answer: str) -> None:
    assert maybe_preference(answer) == []


def test_a_remembered_answer_is_stored_as_asked(tmp_path) -> None:
    from operator_agent.preferences import PreferenceStore

    (p,) = maybe_preference("I always prefer aisle seats")
    with PreferenceStore(tmp_path / "p.db") as store:
        stored = store.add(p)  # the person said yes to "remember that?"
        assert (stored.id, stored.source, stored.status) == ("p1", "asked", "active")
        assert stored.evidence == ["answered: I always prefer aisle seats"]
