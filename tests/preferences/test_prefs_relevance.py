"""relevant(): only what bears on this task on this page, resolved, within a budget;
and explain() turns cited ids into words."""

from __future__ import annotations

from operator_agent.preferences import Draft, PreferenceStore, parse
from operator_agent.protocols import PreferenceSource
from operator_agent.tokens import count_tokens
from operator_agent.types import Observation


def _add(store: PreferenceStore, sentence: str) -> list[str]:
    return [store.add(d).id for d in parse(sentence)]


def test_flight_task_gets_airline_and_seat_but_not_shopping(store: PreferenceStore,
                                                            flights_page: Observation) -> None:
    (airline,) = _add(store, "I prefer Lusitania Air")
    (seat,) = _add(store, "I prefer aisle seats")
    (brand,) = _add(store, "Never buy Voltix products")
    (budget,) = _add(store, "Keep it under $15")
    (speed,) = _add(store, "I prefer express shipping")
    notes = store.relevant("book a flight to Lisbon", flights_page)
    shown = {n.id for n in notes}
    assert {airline, seat} <= shown
    assert not shown & {brand, budget, speed}
    texts = {n.id: n.text for n in notes}
    assert texts[seat] == "prefer aisle seats (flights.seat)"
    assert texts[airline] == "prefer flights on Lusitania Air (flights.airline)"


def test_shopping_task_gets_shopping_but_not_flights(store: PreferenceStore, shop_page: Observation) -> None:
    (seat,) = _add(store, "I prefer aisle seats")
    (brand,) = _add(store, "Never buy Voltix products")
    (speed,) = _add(store, "I prefer express shipping")
    shown = {n.id for n in store.relevant("buy a USB-C cable under $15", shop_page)}
    assert {brand, speed} <= shown
    assert seat not in shown


def test_the_store_is_a_preference_source(store: PreferenceStore) -> None:
    source: PreferenceSource = store
    assert source.relevant("anything", Observation(url="about:blank")) == []


def test_conflicting_preferences_are_never_both_shown(store: PreferenceStore,
                                                     flights_page: Observation) -> None:
    store.add(Draft(subject="flights.seat", value="aisle"))
    site = store.add(Draft(subject="flights.seat", value="window", scope="site:skyway.test"))
    learned = store.propose(Draft(subject="flights.seat", value="middle"), evidence=["e"], confidence=0.9)
    assert learned is not None
    store.accept(learned.id)  # a learned one, accepted, on the wider scope
    seats = [n for n in store.relevant("book a flight", flights_page) if "flights.seat" in n.text]
    assert [n.id for n in seats] == [site.id]
    elsewhere = flights_page.model_copy(update={"url": "http://other-air.test/results"})
    seats = [n for n in store.relevant("book a flight", elsewhere) if "flights.seat" in n.text]
    assert len(seats) == 1 and "middle" in seats[0].text  # accepted later, same scope: it replaced aisle


def test_site_scope_only_applies_on_that_site(store: PreferenceStore, flights_page: Observation) -> None:
    other = store.add(Draft(subject="flights.airline", value="Iberiana", scope="site:elsewhere.test"))
    assert other.id not in {n.id for n in store.relevant("book a flight", flights_page)}


def test_notes_come_by_word_overlap(store: PreferenceStore, flights_page: Observation) -> None:
    (lisbon,) = _add(store, "In Lisbon I want a hotel near the Alfama")
    (tokyo,) = _add(store, "For Tokyo trips remember the rail pass")
    shown = {n.id for n in store.relevant("book a flight to Lisbon", flights_page)}
    assert lisbon in shown and tokyo not in shown


def test_within_the_token_budget_never_the_whole_store(tmp_path, flights_page: Observation) -> None:
    with PreferenceStore(tmp_path / "big.db", budget_tokens=60) as store:
        for i in range(40):
            store.add(Draft(subject="flights.airline", value=f"Carrier{i} Air"))
        notes = store.relevant("book a flight to Lisbon", flights_page)
        assert 0 < len(notes) < 40
        used = sum(count_tokens(f"- [{n.id}] {n.text}\n")[0] for n in notes)
        assert used <= 60


def test_hard_preferences_rank_first(store: PreferenceStore, flights_page: Observation) -> None:
    (soft,) = _add(store, "I prefer window seats")
    (hard,) = _add(store, "No red-eyes")
    ids = [n.id for n in store.relevant("book a flight to Lisbon", flights_page)]
    assert ids.index(hard) < ids.index(soft)


def test_explain_cited_ids(store: PreferenceStore) -> None:
    (seat,) = _add(store, "I prefer aisle seats")
    (redeye,) = _add(store, "No red-eyes")
    (lux,) = _add(store, "I prefer Lusitania Air")
    assert store.explain([seat]) == "because you prefer aisle seats"
    both = "because you prefer aisle seats and you never want red-eye flights"
    assert store.explain([seat, redeye]) == both
    assert store.explain([seat, redeye, lux]).count(",") == 1
    assert store.explain(["p999", "nonsense"]) == ""
    (note,) = _add(store, "I like quiet hotels")
    assert store.explain([note]) == "because you said: I like quiet hotels"


def test_a_wanted_brand_never_shows_past_a_rival_that_overrides_it(store: PreferenceStore,
                                                                   shop_page: Observation) -> None:
    # "prefer Zentro" comes by category; the site's "never Zentro" names nothing on this
    # page, yet it is found as a rival on the same value and wins (narrower scope).
    prefer = store.add(Draft(subject="shopping.brand", value="Zentro"))
    never = store.add(Draft(subject="shopping.brand", value="zentro", polarity="never",
                            scope="site:brightcart.test"))
    shown = {n.id for n in store.relevant("buy a cable", shop_page)}
    assert prefer.id not in shown and never.id in shown
    elsewhere = shop_page.model_copy(update={"url": "http://other-shop.test/"})
    shown = {n.id for n in store.relevant("buy a cable", elsewhere)}
    assert prefer.id in shown and never.id not in shown


def test_many_wanted_brands_only_the_likeliest_are_read(tmp_path, shop_page: Observation) -> None:
    with PreferenceStore(tmp_path / "brands.db") as store:
        for i in range(200):
            store.add(Draft(subject="shopping.brand", value=f"Maker{i}"))
        named = store.add(Draft(subject="shopping.brand", value="Amperio"))  # on the page
        ids = [n.id for n in store.relevant("buy a cable", shop_page)]
        assert ids[0] == named.id  # named on the page: first
        assert len(ids) < 60
