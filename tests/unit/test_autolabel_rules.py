"""The rules of auto-labeling and the quota, without any store."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from spanledger.domain.autolabel import AutoLabelJob, check_min_confidence, choose_entities
from spanledger.domain.errors import Conflict, InvalidArgument, QuotaExceeded
from spanledger.domain.jobs import MAX_ATTEMPTS
from spanledger.domain.quota import QuotaLedger, month_of
from tests.unit.test_aggregates import ACTOR, document, project

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def ledger() -> QuotaLedger:
    return QuotaLedger.open(uuid4(), uuid4(), month_of(NOW), ACTOR)


def job(documents=(("a", 2), ("b", 1))) -> AutoLabelJob:
    return AutoLabelJob.start(
        uuid4(), actor=ACTOR, project_id=str(uuid4()), resource_id=str(uuid4()), incarnation=1, model_label="m",
        model_job_id=str(uuid4()), artifact="0" * 64, entities=["Person"], documents=[list(d) for d in documents],
        text_records=sum(r for _, r in documents), month=month_of(NOW), min_confidence=0.0, idempotency_key=None,
    )


def test_a_reservation_must_fit_what_remains_of_the_month():
    book = ledger()
    book.reserve("j1", "p", 3, limit=5, actor=ACTOR)
    book.reserve("j2", "p", 2, limit=5, actor=ACTOR)  # exactly full
    with pytest.raises(QuotaExceeded) as refused:
        book.reserve("j3", "p", 1, limit=5, actor=ACTOR)
    assert refused.value.details[0]["needed"] == 1 and refused.value.details[0]["remaining"] == 0
    book.reserve("j1", "p", 3, limit=5, actor=ACTOR)  # the same job again: already reserved, nothing new
    assert (book.reserved, book.used, book.remaining(5)) == (5, 5, 0)


def test_settling_charges_what_was_processed_refunds_the_rest_and_happens_once():
    book = ledger()
    book.reserve("j1", "p", 4, limit=10, actor=ACTOR)
    book.settle("j1", 3, ACTOR)
    book.settle("j1", 4, ACTOR)  # a second end of the same job changes nothing
    assert (book.reserved, book.charged, book.refunded, book.used) == (4, 3, 1, 3)
    book.reserve("j2", "p", 7, limit=10, actor=ACTOR)  # the refund is room again
    events = book.collect_events()
    assert [type(e).TOPIC for e in events] == ["QuotaLedgerOpened", "QuotaReserved", "QuotaSettled", "QuotaReserved"]
    assert all(get_topic(type(e)) == type(e).TOPIC and e.resource_id == book.resource_id for e in events)


def test_a_suggestion_never_lands_on_a_user_label_and_the_same_pending_span_is_one():
    p = project()
    d = document(p, "Alice met Bob at Acme Corp.")
    d.add_label(p, "Person", 0, 5, ACTOR)
    assert d.suggest(p, "Org", 0, 5, 0.9, "m", "j", ACTOR) is None  # any user label wins
    assert d.suggest(p, "Org", 3, 6, 0.9, "m", "j", ACTOR) is None  # overlapping it, too
    assert d.suggest(p, "Person", 10, 3, 0.8, "m", "j", ACTOR) == "S1"
    assert d.suggest(p, "Person", 10, 3, 0.7, "m", "j2", ACTOR) is None  # already pending
    assert d.suggest(p, "Date", 17, 4, 0.9, "m", "j", ACTOR) is None  # not an entity of the project
    assert d.suggest(p, "Org", 17, 40, 0.9, "m", "j", ACTOR) is None  # outside the text

    allowing = project(overlap="allow")
    d = document(allowing, "Alice met Bob at Acme Corp.")
    d.add_label(allowing, "Person", 0, 5, ACTOR)
    assert d.suggest(allowing, "Person", 0, 9, 0.9, "m", "j", ACTOR) is None  # a label of its entity blocks it
    assert d.suggest(allowing, "Org", 0, 5, 0.9, "m", "j", ACTOR) == "S1"  # another entity may overlap


def test_a_job_is_claimed_with_a_lease_taken_over_when_it_runs_out_and_given_up_after_three_attempts():
    j = job()
    assert j.claim("w1", NOW, LEASE)
    with pytest.raises(Conflict):
        j.claim("w2", NOW + LEASE / 2, LEASE)
    j.progress(1, 1, 2, 2, NOW, LEASE)
    assert (j.documents_done, j.suggestions, j.records_processed) == (1, 2, 2)
    later = NOW + 2 * LEASE
    assert j.claim("w2", later, LEASE) and j.attempt == 2
    with pytest.raises(Conflict):  # the first worker no longer holds it
        j.progress(1, 1, 0, 1, later, LEASE)
    for attempt in range(3, MAX_ATTEMPTS + 1):
        later += 2 * LEASE
        assert j.claim(f"w{attempt}", later, LEASE)
    assert not j.claim("w9", later + 2 * LEASE, LEASE) and j.status == "failed"


def test_cancel_ends_a_job_nobody_runs_and_asks_a_running_one_to_stop():
    waiting = job()
    waiting.cancel(ACTOR, NOW)
    assert waiting.status == "cancelled"
    with pytest.raises(Conflict, match="already ended"):
        waiting.cancel(ACTOR, NOW)
    running = job()
    running.claim("w", NOW, LEASE)
    running.cancel(ACTOR, NOW)
    assert running.status == "cancelling" and running.cancel_requested
    running.acknowledge_cancel(1)
    assert running.status == "cancelled"


def test_entities_and_confidence_are_checked_against_the_model_and_the_project():
    known, in_project = ["Org", "Person"], {"Person": "e1", "Date": "e2"}
    assert choose_entities("m", known, in_project, None) == ["Person"]
    with pytest.raises(InvalidArgument) as error:
        choose_entities("m", known, in_project, ["Person", "Date"])
    assert error.value.target == "entities[1]"
    with pytest.raises(InvalidArgument) as error:
        choose_entities("m", known, in_project, ["Org"])  # the model knows it, the project no longer has it
    assert error.value.target == "entities[0]"
    with pytest.raises(InvalidArgument):
        choose_entities("m", ["Org"], in_project, None)
    for bad in (-0.1, 1.5, True, "0.5"):
        with pytest.raises(InvalidArgument):
            check_min_confidence(bad)
