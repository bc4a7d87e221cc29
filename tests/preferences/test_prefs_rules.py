"""Precedence: later explicit overrides earlier (same subject and scope), narrower scope
beats wider, explicit beats learned; as pure rules and as the store applies them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from operator_agent.preferences import Draft, Preference, PreferenceStore
from operator_agent.preferences.context import Context
from operator_agent.preferences.rules import conflicts, resolve

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def pref(subject: str, value: str, polarity: str = "prefer", *, scope: str = "everywhere",
         source: str = "told", minutes: int = 0, pid: str = "") -> Preference:
    t = T0 + timedelta(minutes=minutes)
    return Preference(id=pid or f"p{minutes + 1}", subject=subject, value=value, polarity=polarity,
                      scope=scope, source=source, created=t, updated=t)


def ids(prefs: list[Preference]) -> set[str]:
    return {p.id for p in prefs}


# --- the rules as functions --------------------------------------------------------


def test_later_statement_wins_on_the_same_subject_and_scope() -> None:
    old = pref("flights.seat", "window", minutes=0)
    new = pref("flights.seat", "aisle", minutes=5)
    assert ids(resolve([old, new])) == {new.id}
    assert ids(resolve([new, old])) == {new.id}  # order of input does not matter


def test_same_value_with_another_polarity_is_a_conflict() -> None:
    old = pref("shopping.brand", "Voltix", "prefer", minutes=0)
    new = pref("shopping.brand", "voltix", "never", minutes=1)
    assert conflicts(old, new)
    assert [p.polarity for p in resolve([old, new])] == ["never"]


def test_narrower_scope_beats_wider_even_when_older() -> None:
    site = pref("flights.seat", "window", scope="site:skyway.test", minutes=0)
    category = pref("flights.seat", "middle", scope="category:flights", minutes=1)
    everywhere = pref("flights.seat", "aisle", minutes=2)
    assert ids(resolve([site, category, everywhere])) == {site.id}
    assert ids(resolve([category, everywhere])) == {category.id}


def test_explicit_beats_learned_even_at_a_narrower_scope_and_later() -> None:
    told = pref("flights.seat", "window", source="told", minutes=0)
    learned = pref("flights.seat", "aisle", source="learned", scope="site:skyway.test", minutes=9)
    asked = pref("flights.seat", "middle", source="asked", minutes=1)
    assert ids(resolve([told, learned])) == {told.id}
    assert ids(resolve([told, learned, asked])) == {asked.id}  # asked is explicit, and later


def test_set_subjects_keep_several_values_but_must_is_exclusive() -> None:
    a = pref("shopping.brand", "Anker", minutes=0)
    b = pref("shopping.brand", "Amperio", minutes=1)
    avoid = pref("shopping.brand", "Voltix", "never", minutes=2)
    assert ids(resolve([a, b, avoid])) == {a.id, b.id, avoid.id}
    only = pref("flights.airline", "Lusitania Air", "must", minutes=3)
    other = pref("flights.airline", "Iberiana", "prefer", minutes=4)
    shunned = pref("flights.airline", "Meridian Airways", "never", minutes=5)
    assert ids(resolve([only, other, shunned])) == {other.id, shunned.id}


def test_departure_windows_one_positive_many_negatives() -> None:
    no_redeye = pref("flights.departure_time", "red-eye", "never", minutes=0)
    no_evening = pref("flights.departure_time", "evening", "avoid", minutes=1)
    morning = pref("flights.departure_time", "morning", "prefer", minutes=2)
    afternoon = pref("flights.departure_time", "afternoon", "prefer", minutes=3)
    assert ids(resolve([no_redeye, no_evening, morning, afternoon])) == {
        no_redeye.id, no_evening.id, afternoon.id}


def test_loyalty_numbers_are_one_per_programme() -> None:
    a = pref("travel.loyalty_number", "Lusitania Air: LU1", minutes=0)
    b = pref("travel.loyalty_number", "Iberiana: IB2", minutes=1)
    c = pref("travel.loyalty_number", "lusitania air: LU3", minutes=2)
    assert ids(resolve([a, b, c])) == {b.id, c.id}


def test_different_subjects_never_conflict() -> None:
    assert not conflicts(pref("flights.seat", "aisle"), pref("flights.cabin", "aisle"))
    notes = [pref("note", "quiet hotels", minutes=0), pref("note", "late checkout", minutes=1)]
    assert len(resolve(notes)) == 2


# --- the store applies them -----------------------------------------------------------


def test_store_marks_the_earlier_statement_superseded(store: PreferenceStore) -> None:
    old = store.add(Draft(subject="flights.seat", value="window"))
    new = store.add(Draft(subject="flights.seat", value="aisle"))
    assert store.require(old.id).status == "superseded"
    assert store.require(old.id).superseded_by == new.id
    assert [p.id for p in store.preferences()] == [new.id]
    assert [p.id for p in store.superseded_by(new.id)] == [old.id]


def test_store_keeps_other_scopes_and_resolves_by_scope(store: PreferenceStore) -> None:
    everywhere = store.add(Draft(subject="flights.seat", value="aisle"))
    site = store.add(Draft(subject="flights.seat", value="window", scope="site:skyway.test"))
    assert {p.id for p in store.preferences()} == {everywhere.id, site.id}
    here = Context(host="skyway.test", categories=frozenset({"flights"}), task_words=frozenset(),
                   page_words=frozenset())
    elsewhere = Context(host="other.test", categories=frozenset({"flights"}), task_words=frozenset(),
                        page_words=frozenset())
    assert ids(resolve(store.candidates(here))) == {site.id}
    assert ids(resolve(store.candidates(elsewhere))) == {everywhere.id}


def test_a_subdomain_is_inside_its_site_scope(store: PreferenceStore) -> None:
    site = store.add(Draft(subject="flights.seat", value="window", scope="site:skyway.test"))
    for host, inside in (("book.skyway.test", True), ("skyway.test", True), ("notskyway.test", False)):
        ctx = Context(host=host, categories=frozenset({"flights"}), task_words=frozenset(),
                      page_words=frozenset())
        assert (site.id in ids(store.candidates(ctx))) is inside


def test_learned_proposal_never_supersedes_until_accepted(store: PreferenceStore) -> None:
    told = store.add(Draft(subject="flights.seat", value="window"))
    proposal = store.propose(Draft(subject="flights.seat", value="aisle", polarity="must"),
                             evidence=["run a step 1"], confidence=0.8)
    assert proposal is not None
    assert proposal.polarity == "prefer"  # a learned preference is never a must on its own
    assert store.require(told.id).status == "active"
    accepted = store.accept(proposal.id, "must")  # the person makes it a must
    assert accepted.polarity == "must" and accepted.status == "active"
    assert store.require(told.id).status == "superseded"


def test_a_rejected_proposal_is_not_proposed_again(store: PreferenceStore) -> None:
    p = store.propose(Draft(subject="flights.seat", value="aisle"), evidence=["x"], confidence=0.8)
    assert p is not None
    store.reject(p.id)
    assert store.propose(Draft(subject="flights.seat", value="Aisle"), evidence=["y"], confidence=0.9) is None
    assert store.proposals() == []


def _pairwise(prefs: list[Preference]) -> list[Preference]:
    """The rules' definition, checked against every kept rival (slow but plain)."""
    from operator_agent.preferences.rules import priority

    kept: list[Preference] = []
    for p in sorted(prefs, key=priority, reverse=True):
        if not any(conflicts(p, q) for q in kept):
            kept.append(p)
    return kept


_prefs = st.lists(st.tuples(
    st.sampled_from(["flights.seat", "shopping.brand", "flights.airline", "travel.loyalty_number", "note"]),
    st.sampled_from(["a", "b", "c", "A"]),
    st.sampled_from(["prefer", "avoid", "must", "never"]),
    st.sampled_from(["everywhere", "site:x.test", "category:flights"]),
    st.sampled_from(["told", "asked", "learned"]),
), max_size=12)


@settings(max_examples=300, deadline=None)
@given(_prefs)
def test_one_pass_resolve_equals_the_pairwise_rules(rows) -> None:
    prefs = [pref(s, v, pol, scope=sc, source=src, minutes=i) for i, (s, v, pol, sc, src) in enumerate(rows)]
    assert ids(resolve(prefs)) == ids(_pairwise(prefs))
