"""The rules of reviewing suggestions, without any store."""

import pytest

from spanledger.domain.errors import Conflict, NotFound
from tests.unit.test_aggregates import ACTOR, document, project

TEXT = "Alice met Bob at Acme Corp."


def suggested(overlap="reject"):
    p = project(overlap=overlap)
    d = document(p, TEXT)
    d.suggest(p, "Person", 0, 5, 0.9, "m", "j", ACTOR)  # S1 Alice
    d.suggest(p, "Person", 10, 3, 0.8, "m", "j", ACTOR)  # S2 Bob
    d.suggest(p, "Org", 17, 9, 0.7, "m", "j", ACTOR)  # S3 Acme Corp
    d.suggest(p, "Org", 17, 4, 0.6, "m2", "j2", ACTOR)  # S4 Acme, overlapping S3
    return p, d


def test_an_accepted_suggestion_is_a_user_label_with_its_origin_and_can_be_removed():
    p, d = suggested()
    label_id = d.accept(p, "S1", ACTOR)
    assert d.live_labels(p)[label_id]["origin"] == {"suggestion_id": "S1", "job_id": "j", "model_label": "m"}
    assert d.suggestions["S1"]["state"] == "accepted"
    with pytest.raises(Conflict):
        d.accept(p, "S1", ACTOR)
    d.remove_label(p, label_id, ACTOR)
    assert label_id not in d.live_labels(p)


def test_accepting_covers_overlapping_suggestions_and_accept_all_goes_in_text_order():
    p, d = suggested()
    labels = d.accept_all(p, ACTOR)
    assert len(labels) == 3  # S3 (the longer, at the same place) first; S4 then lies under it
    assert {i: s["state"] for i, s in d.suggestions.items()} == {
        "S1": "accepted", "S2": "accepted", "S3": "accepted", "S4": "superseded"}


def test_accepting_where_a_user_label_is_in_the_way_is_refused_not_merged():
    p, d = suggested(overlap="allow")  # where overlaps are allowed, another entity may lie under a suggestion
    d.add_label(p, "Person", 17, 4, ACTOR)  # does not supersede the Org suggestions
    assert d.suggestions["S3"]["state"] == "pending"
    d.add_label(p, "Org", 17, 9, ACTOR)  # the same span as S3: that one is superseded
    assert d.suggestions["S3"]["state"] == "superseded"
    with pytest.raises(Conflict, match="not pending"):
        d.accept(p, "S3", ACTOR)
    q, e = suggested()
    e.add_label(q, "Person", 16, 3, ACTOR)  # " Ac": overlaps S3 and S4, which give way
    assert [e.suggestions[i]["state"] for i in ("S3", "S4")] == ["superseded", "superseded"]


def test_reject_and_undo_in_reverse_order():
    p, d = suggested()
    d.reject(p, "S2", ACTOR)
    label_id = d.accept(p, "S1", ACTOR)
    assert d.undo(p, 1, ACTOR) == ["S1"]
    assert d.suggestions["S1"]["state"] == "pending" and label_id not in d.labels
    assert d.undo(p, 5, ACTOR) == ["S2"]
    assert d.suggestions["S2"]["state"] == "pending"
    with pytest.raises(Conflict, match="no review decision"):
        d.undo(p, 1, ACTOR)


def test_an_undone_rejection_under_a_user_label_is_superseded_not_pending():
    p, d = suggested()
    d.reject(p, "S2", ACTOR)
    d.add_label(p, "Person", 10, 3, ACTOR)
    d.undo(p, 1, ACTOR)
    assert d.suggestions["S2"]["state"] == "superseded"


def test_discarding_drops_every_pending_suggestion_in_one_event():
    p, d = suggested()
    d.accept(p, "S1", ACTOR)
    d.collect_events()
    assert d.discard_pending(p, "t1", ACTOR) == 3
    (event,) = d.collect_events()
    assert type(event).TOPIC == "AutoLabelDiscarded" and event.suggestion_ids == ["S2", "S3", "S4"]
    assert event.training_job_id == "t1"
    assert d.discard_pending(p, "t2", ACTOR) == 0


def test_a_suggestion_of_a_removed_entity_is_gone():
    p, d = suggested()
    p.remove_entity("Org", ACTOR)
    assert set(d.pending_suggestions(p)) == {"S1", "S2"}
    with pytest.raises(NotFound):
        d.accept(p, "S3", ACTOR)
