"""PreferenceGuard: a pick that breaks a must/never is put to the person before the
action, citing the preference; ordinary clicks always pass."""

from __future__ import annotations

import pytest

from operator_agent.preferences import Draft, PreferenceGuard, PreferenceStore, WithPreferences, parse
from operator_agent.protocols import Gate
from operator_agent.types import Back, Click, Navigate, Observation, Press, Scroll, Select, Type, Verdict


def _add(store: PreferenceStore, sentence: str) -> str:
    (p,) = [store.add(d) for d in parse(sentence)]
    return p.id


async def test_red_eye_result_is_asked_before_the_action(store: PreferenceStore,
                                                         flights_page: Observation) -> None:
    never = _add(store, "No red-eyes")
    guard: Gate = PreferenceGuard(store)
    verdict = await guard.check(Click(index=11), flights_page)  # Lusitania Air 22:35
    assert verdict.decision == "ask"
    assert f"[{never}]" in verdict.reason and "22:35" in verdict.reason
    assert "red-eye" in verdict.summary
    ordinary = await guard.check(Click(index=13), flights_page)  # Iberiana 07:10
    assert ordinary.decision == "allow"


@pytest.mark.parametrize("action", [
    Click(index=1), Click(index=2), Click(index=3), Click(index=4),  # navigation links
    Click(index=5), Click(index=6), Click(index=7),  # filter checkboxes are not choices
    Click(index=9), Click(index=10),  # Apply, sort
    Type(index=8, text="500"), Scroll(), Press(keys="Enter"), Back(),
    Navigate(url="https://skyway.test/"),
])
async def test_ordinary_actions_pass(store: PreferenceStore, flights_page: Observation, action) -> None:
    for sentence in ("No red-eyes", "Only nonstop flights", "Never fly Meridian Airways",
                     "I only fly Lusitania Air", "Never buy Voltix products", "No middle seats"):
        _add(store, sentence)
    assert (await PreferenceGuard(store).check(action, flights_page)).decision == "allow"


async def test_must_airline_asks_about_another_airline(store: PreferenceStore,
                                                       flights_page: Observation) -> None:
    only = _add(store, "I only fly Lusitania Air")
    guard = PreferenceGuard(store)
    assert (await guard.check(Click(index=11), flights_page)).decision == "allow"
    assert (await guard.check(Click(index=12), flights_page)).decision == "allow"  # codeshare with it
    verdict = await guard.check(Click(index=13), flights_page)
    assert verdict.decision == "ask" and f"[{only}]" in verdict.reason and "Iberiana" in verdict.reason


async def test_never_airline_and_max_stops(store: PreferenceStore, flights_page: Observation) -> None:
    meridian = _add(store, "Never fly Meridian Airways")
    nonstop = _add(store, "Only nonstop flights")
    guard = PreferenceGuard(store)
    v14 = await guard.check(Click(index=14), flights_page)
    assert v14.decision == "ask" and f"[{meridian}]" in v14.reason and f"[{nonstop}]" not in v14.reason
    v12 = await guard.check(Click(index=12), flights_page)
    assert v12.decision == "ask" and f"[{nonstop}]" in v12.reason and "1 stop" in v12.reason
    assert (await guard.check(Click(index=11), flights_page)).decision == "allow"


async def test_seats(store: PreferenceStore, seats_page: Observation) -> None:
    never_middle = _add(store, "Never a middle seat")
    guard = PreferenceGuard(store)
    assert (await guard.check(Click(index=6), seats_page)).decision == "allow"
    verdict = await guard.check(Click(index=5), seats_page)
    assert verdict.decision == "ask" and f"[{never_middle}]" in verdict.reason
    assert (await guard.check(Click(index=10), seats_page)).decision == "allow"  # skip seat selection
    must_aisle = _add(store, "Always an aisle seat")
    verdict = await guard.check(Click(index=4), seats_page)
    assert verdict.decision == "ask" and f"[{must_aisle}]" in verdict.reason


async def test_a_narrower_preference_lifts_the_rule_there(store: PreferenceStore,
                                                          seats_page: Observation) -> None:
    _add(store, "Never a middle seat")
    store.add(Draft(subject="flights.seat", value="middle", polarity="prefer", scope="site:skyway.test"))
    assert (await PreferenceGuard(store).check(Click(index=5), seats_page)).decision == "allow"


async def test_soft_preferences_are_never_enforced(store: PreferenceStore, flights_page: Observation) -> None:
    _add(store, "I'd rather avoid red-eye flights")
    _add(store, "I prefer Iberiana")
    assert (await PreferenceGuard(store).check(Click(index=11), flights_page)).decision == "allow"


async def test_opening_a_product_commits_to_nothing(store: PreferenceStore, shop_page: Observation) -> None:
    _add(store, "Never buy Voltix products")
    _add(store, "Keep it under $15")
    guard = PreferenceGuard(store)
    for harmless in (Click(index=8), Click(index=9), Click(index=10),  # look at a product
                     Click(index=3), Click(index=4), Click(index=5), Type(index=2, text="Voltix cable"),
                     Select(index=7, option="Price: low to high")):
        assert (await guard.check(harmless, shop_page)).decision == "allow"


async def test_brand_and_budget_on_add_to_cart_in_a_list(store: PreferenceStore, page_of) -> None:
    voltix = _add(store, "Never buy Voltix products")
    budget = _add(store, "Keep it under $15")
    text = """url: {url}
title: Cables | Example Shop
[1] link "Amperio Premium USB-C to USB-A Cable"
by Amperio · 4.3 out of 5 stars · $4.99
[2] button "Add to cart"
[3] link "Voltix Plus USB-C to USB-A Cable"
by Voltix · 4.7 out of 5 stars · $13.99
[4] button "Add to cart"
[5] link "Cordova Everyday USB-C to USB-C Cable"
by Cordova · 4.1 out of 5 stars · $16.95
[6] button "Add to cart"
"""
    page = page_of(text, "http://shop.test/cables")
    guard = PreferenceGuard(store)
    assert (await guard.check(Click(index=2), page)).decision == "allow"
    v4 = await guard.check(Click(index=4), page)
    assert v4.decision == "ask" and f"[{voltix}]" in v4.reason and f"[{budget}]" not in v4.reason
    v6 = await guard.check(Click(index=6), page)
    assert v6.decision == "ask" and f"[{budget}]" in v6.reason and "16.95" in v6.reason


async def test_add_to_cart_on_a_product_page(store: PreferenceStore, page_of) -> None:
    voltix = _add(store, "Never buy Voltix products")
    text = """url: {url}
title: Voltix Plus USB-C to USB-A Cable, USB 3.0, 5Gbps | Brightcart
[1] link "brightcart"
# Voltix Plus USB-C to USB-A Cable, USB 3.0, 5Gbps
Brand:
[2] link "Voltix"
4.7 out of 5 stars (6,398 ratings)
[3] link "See reviews"
$13.99 · In stock · Colour: Space Grey
[4] radio "Space Grey" checked
[5] combobox "Quantity" value="1" options=[1, 2, 3]
[6] button "Add to cart"
"""
    page = page_of(text, "http://brightcart.test/product/109")
    verdict = await PreferenceGuard(store).check(Click(index=6), page)
    assert verdict.decision == "ask" and f"[{voltix}]" in verdict.reason
    assert (await PreferenceGuard(store).check(Select(index=5, option="2"), page)).decision == "allow"


async def test_delivery_options(store: PreferenceStore, delivery_page: Observation) -> None:
    standard = _add(store, "Always use standard shipping")
    guard = PreferenceGuard(store)
    assert (await guard.check(Click(index=1), delivery_page)).decision == "allow"
    verdict = await guard.check(Click(index=3), delivery_page)
    assert verdict.decision == "ask" and f"[{standard}]" in verdict.reason
    assert (await guard.check(Click(index=4), delivery_page)).decision == "allow"  # continue


async def test_select_option(store: PreferenceStore, page_of) -> None:
    never_red = _add(store, "No red-eyes")
    text = """url: {url}
title: Pick a flight | Example Air
[1] combobox "Flight" value="" options=[LU 134 22:35 Lusitania Air, IA 230 07:10 Iberiana]
[2] button "Continue"
"""
    page = page_of(text, "http://example-air.test/pick")
    guard = PreferenceGuard(store)
    verdict = await guard.check(Select(index=1, option="LU 134 22:35 Lusitania Air"), page)
    assert verdict.decision == "ask" and f"[{never_red}]" in verdict.reason
    assert (await guard.check(Select(index=1, option="IA 230 07:10 Iberiana"), page)).decision == "allow"


async def test_typing_a_never_airline_into_an_autocomplete(store: PreferenceStore, page_of) -> None:
    meridian = _add(store, "Never fly Meridian Airways")
    text = 'url: {url}\ntitle: Flights\n[1] combobox "Airline"\n[2] textbox "Notes"\n'
    page = page_of(text, "http://example-air.test/")
    guard = PreferenceGuard(store)
    verdict = await guard.check(Type(index=1, text="Meridian"), page)
    assert verdict.decision == "ask" and f"[{meridian}]" in verdict.reason
    assert (await guard.check(Type(index=2, text="Meridian"), page)).decision == "allow"
    assert (await guard.check(Type(index=1, text="Iberiana"), page)).decision == "allow"


async def test_no_preferences_no_questions(store: PreferenceStore, flights_page: Observation) -> None:
    guard = PreferenceGuard(store)
    for el in flights_page.elements:
        assert (await guard.check(Click(index=el.index), flights_page)).decision == "allow"


class _Permissions:
    """A stand-in permission gate that asks about one element and records answers."""

    def __init__(self, decision: str = "ask", index: int = 11) -> None:
        self.decision, self.index = decision, index
        self.answers: list[tuple[str, bool]] = []

    async def check(self, action, observation) -> Verdict:
        if getattr(action, "index", None) == self.index:
            return Verdict(decision=self.decision, reason="payment page", summary="Pay $423?")
        return Verdict(decision="allow")

    def check_arrival(self, url: str) -> Verdict:
        return Verdict(decision="ask", reason="sensitive", summary=f"Stay on {url}?")

    def record_answer(self, verdict: Verdict, approved: bool) -> None:
        self.answers.append((verdict.summary, approved))


async def test_with_preferences_asks_once_and_answers_the_permission_gate(
        store: PreferenceStore, flights_page: Observation) -> None:
    never = _add(store, "No red-eyes")
    permissions = _Permissions()
    gate = WithPreferences(permissions, PreferenceGuard(store))
    both = await gate.check(Click(index=11), flights_page)
    assert both.decision == "ask" and "payment page" in both.reason and f"[{never}]" in both.reason
    gate.record_answer(both, True)
    assert permissions.answers == [("Pay $423?", True)]  # the gate's own verdict, as it gave it
    assert (await gate.check(Click(index=13), flights_page)).decision == "allow"
    arrival = gate.check_arrival("https://bank.test/")
    gate.record_answer(arrival, False)
    assert permissions.answers[-1] == ("Stay on https://bank.test/?", False)
    denied = await WithPreferences(_Permissions("deny"), PreferenceGuard(store)).check(
        Click(index=11), flights_page)
    assert denied.decision == "deny" and "payment" in denied.reason
    only_mine = await WithPreferences(_Permissions(index=99), PreferenceGuard(store)).check(
        Click(index=11), flights_page)
    assert only_mine.decision == "ask" and f"[{never}]" in only_mine.reason


def test_the_guard_alone_has_the_whole_gate_protocol(store: PreferenceStore) -> None:
    guard = PreferenceGuard(store)
    assert guard.check_arrival("https://anywhere.test/").decision == "allow"
    guard.record_answer(Verdict(decision="ask", reason="r", summary="s"), True)


async def test_a_time_that_is_not_a_flight_is_not_a_red_eye(store: PreferenceStore, page_of) -> None:
    _add(store, "No red-eyes")
    _add(store, "Never buy Voltix products")
    text = """url: {url}
title: Book a table | Trattoria
# Tables tonight
Terrace · 22:30 · 2 people
[1] button "Book" collapsed
Inside · 19:00 · 2 people
[2] button "Book" collapsed
[3] combobox "Brand filter" options=[Any, Voltix, Amperio]
"""
    page = page_of(text, "http://trattoria.test/")
    guard = PreferenceGuard(store)
    assert (await guard.check(Click(index=1), page)).decision == "allow"
    assert (await guard.check(Select(index=3, option="Voltix"), page)).decision == "allow"  # a filter


def test_with_preferences_passes_the_rest_of_the_protocol_through(store: PreferenceStore) -> None:
    class Filtering(_Permissions):
        filters_requests = True

        def check_request(self, url: str) -> Verdict:
            return Verdict(decision="deny", reason="denied host")

    gate = WithPreferences(Filtering(), PreferenceGuard(store))
    assert gate.filters_requests is True
    assert gate.check_request("https://evil.test/").decision == "deny"
    assert PreferenceGuard(store).filters_requests is False
