"""Learning from choices: consistent picks across runs become a proposal with the runs
as evidence; only the person's acceptance puts it to use."""

from __future__ import annotations

from pathlib import Path

from operator_agent.preferences import Learner, LearningHook, PreferenceStore
from operator_agent.preferences.learning import choices_in_step
from operator_agent.traces import RunTrace
from operator_agent.types import ActionResult, Click, Observation, RunResult, StepRecord


def booking_step(page: Observation, index: int, *, step: int = 3, cited: list[str] | None = None,
                 ok: bool = True) -> StepRecord:
    """One recorded step: the agent (for the person) clicked element `index` on `page`."""
    target = page.element(index)
    return StepRecord(step=step, url=page.url, title=page.title, observation_text=page.text,
                      actions=[Click(index=index)], results=[ActionResult(ok=ok, target=target)],
                      preference_ids=cited or [])


def test_three_aisle_bookings_are_proposed_with_their_evidence(store: PreferenceStore,
                                                               seats_page: Observation) -> None:
    learner = Learner(store)
    for run, seat in (("run-a", 6), ("run-b", 9), ("run-c", 6)):  # 1C, 2D, 1C: all aisle
        learner.ingest(run, [booking_step(seats_page, seat)])
    (proposal,) = learner.propose()
    assert proposal.subject == "flights.seat" and proposal.value == "aisle"
    assert proposal.polarity == "prefer" and proposal.source == "learned" and proposal.status == "proposed"
    assert "prefer aisle seat" in proposal.text
    assert [e.split()[0] for e in proposal.evidence] == ["run-a", "run-b", "run-c"]
    assert "Seat 1C, aisle" in proposal.evidence[0]
    assert 0.5 < proposal.confidence < 1.0
    # Not used before the person accepts it.
    assert store.preferences() == []
    assert store.relevant("book a flight", seats_page) == []
    accepted = store.accept(proposal.id)
    assert [n.id for n in store.relevant("book a flight", seats_page)] == [accepted.id]


def test_two_runs_are_not_enough_and_mixed_choices_are_not_a_habit(store: PreferenceStore,
                                                                   seats_page: Observation) -> None:
    learner = Learner(store)
    learner.ingest("run-a", [booking_step(seats_page, 6)])
    learner.ingest("run-b", [booking_step(seats_page, 9)])
    assert learner.propose() == []
    learner.ingest("run-c", [booking_step(seats_page, 4)])  # a window seat
    learner.ingest("run-d", [booking_step(seats_page, 6)])
    assert learner.propose() == []  # 3 of 4 aisle is under the 80% bar


def test_a_run_is_read_once(store: PreferenceStore, seats_page: Observation) -> None:
    learner = Learner(store)
    assert learner.ingest("run-a", [booking_step(seats_page, 6)]) == 1
    assert learner.ingest("run-a", [booking_step(seats_page, 6)]) == 0
    learner.ingest("run-b", [booking_step(seats_page, 6)])
    assert learner.propose() == []


def test_what_is_not_evidence(seats_page: Observation, flights_page: Observation) -> None:
    # A choice made because of a stored preference, a failed click, a non-choice.
    assert choices_in_step("r", booking_step(seats_page, 6, cited=["p1"])) == []
    assert choices_in_step("r", booking_step(seats_page, 6, ok=False)) == []
    assert choices_in_step("r", booking_step(seats_page, 11)) == []
    assert choices_in_step("r", booking_step(flights_page, 2)) == []
    # A result row says what was chosen among what was offered.
    events = {e.subject: e for e in choices_in_step("r", booking_step(flights_page, 13))}
    assert events["flights.departure_time"].chosen == "morning"
    assert events["flights.airline"].chosen == "Iberiana"
    assert events["flights.max_stops"].chosen == "1"
    assert "red-eye" in events["flights.departure_time"].alternatives


def test_the_only_option_of_its_kind_says_nothing(page_of) -> None:
    text = ('url: {url}\ntitle: Seats\n[1] button "Seat 1C, aisle"\n[2] button "Seat 2C, aisle"\n')
    page = page_of(text, "http://skyway.test/seats")
    assert choices_in_step("r", booking_step(page, 1)) == []


def test_learned_from_run_folders_and_the_hook(store: PreferenceStore, seats_page: Observation,
                                               tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for i, seat in enumerate((6, 9)):
        run_dir = runs / f"20260101-00000{i}-book-{i}"
        run_dir.mkdir(parents=True)
        with RunTrace(run_dir, task="book a flight to Lisbon") as trace:
            trace.record(booking_step(seats_page, seat), None)
            trace.finish(RunResult(task="book", success=True, stop_reason="done"))
    learner = Learner(store)
    assert learner.ingest_runs(runs) == 2
    assert learner.ingest_runs(runs) == 0
    hook = LearningHook(learner)
    hook.on_step(booking_step(seats_page, 6))
    hook.on_run_end(RunResult(task="book", success=True, stop_reason="done",
                              run_dir=str(runs / "20260101-000009-book-hook")))
    (proposal,) = store.proposals()
    assert proposal.value == "aisle" and len(proposal.evidence) == 3
    assert proposal.evidence[-1].startswith("20260101-000009-book-hook step 3")


def test_brand_choices_on_a_shop(store: PreferenceStore, shop_page: Observation) -> None:
    learner = Learner(store)
    for run in ("a", "b", "c"):
        learner.ingest(run, [booking_step(shop_page, 8)])  # Amperio each time
    (proposal,) = learner.propose()
    assert (proposal.subject, proposal.value) == ("shopping.brand", "Amperio")


def test_learned_from_recordings_too(store: PreferenceStore, tmp_path: Path, write_recording) -> None:
    recordings = tmp_path / "recordings"
    for name in ("book-1", "book-2", "book-3"):
        write_recording(recordings, name, chosen=2)
    write_recording(recordings, "book-live", chosen=0, stopped=False)  # still recording: not read yet
    learner = Learner(store)
    assert learner.ingest_recordings(recordings) == 3
    assert learner.ingest_recordings(recordings) == 0
    (proposal,) = learner.propose()
    assert (proposal.subject, proposal.value) == ("flights.seat", "aisle")
    assert [e.split()[0] for e in proposal.evidence] == ["recording:book-1", "recording:book-2",
                                                         "recording:book-3"]
