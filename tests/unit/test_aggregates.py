"""The rules the aggregates guard, without any store."""

from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from spanledger.domain.document import Document
from spanledger.domain.errors import Conflict, InvalidArgument, NotFound
from spanledger.domain.project import Project
from spanledger.domain.resource import Resource
from spanledger.domain.rules import MAX_DOCUMENTS_PER_PROJECT, MAX_ENTITIES_PER_PROJECT, check_document_capacity

ACTOR = "key:test"


def project(overlap: str = "reject", entities=("Person", "Org")) -> Project:
    p = Project.create(uuid4(), uuid4(), "p", {"language": "en", "overlap_policy": overlap}, ACTOR)
    for e in entities:
        p.add_entity(e, ACTOR)
    return p


def document(p: Project, text: str = "Alice met Bob at Acme Corp.") -> Document:
    return Document.add(uuid4(), p, "d", text, None, "Train", ACTOR)


def test_every_event_has_a_stable_topic_an_actor_and_a_timestamp():
    p = project()
    d = document(p)
    d.add_label(p, "Person", 0, 5, ACTOR)
    for event in [*p.collect_events(), *d.collect_events()]:
        assert get_topic(type(event)) == type(event).TOPIC and "." not in type(event).TOPIC
        assert event.actor == ACTOR
        assert event.timestamp.tzinfo is not None
    assert {Document.Created.TOPIC, Document.LabelAdded.TOPIC} == {"DocumentAdded", "LabelAdded"}


def test_a_label_must_lie_inside_the_text_and_be_1_to_500_long():
    p = project()
    d = document(p, "x" * 600)
    with pytest.raises(InvalidArgument, match="inside"):
        d.add_label(p, "Person", 599, 2, ACTOR)
    for length in (0, 501):
        with pytest.raises(InvalidArgument) as error:
            d.add_label(p, "Person", 0, length, ACTOR)
        assert error.value.target == "length"
    assert d.add_label(p, "Person", 0, 500, ACTOR) == "L1"


def test_a_label_must_name_an_existing_entity():
    p = project()
    with pytest.raises(InvalidArgument) as error:
        document(p).add_label(p, "Date", 0, 5, ACTOR)
    assert error.value.target == "category"


def test_overlapping_labels_are_refused_unless_the_policy_allows_them():
    strict, lenient = project("reject"), project("allow")
    for p, allowed in ((strict, False), (lenient, True)):
        d = document(p)
        d.add_label(p, "Person", 0, 5, ACTOR)
        if allowed:
            d.add_label(p, "Org", 2, 5, ACTOR)
        else:
            with pytest.raises(Conflict, match="overlaps"):
                d.add_label(p, "Org", 2, 5, ACTOR)
        d.add_label(p, "Org", 5, 1, ACTOR)  # touching is not overlapping


def test_an_exact_duplicate_label_is_refused_even_when_overlaps_are_allowed():
    p = project("allow")
    d = document(p)
    d.add_label(p, "Person", 0, 5, ACTOR)
    with pytest.raises(Conflict, match="same label"):
        d.add_label(p, "Person", 0, 5, ACTOR)
    d.add_label(p, "Org", 0, 5, ACTOR)  # same span, other entity: allowed by the policy


def test_removing_an_entity_removes_its_labels_and_re_adding_it_does_not_bring_them_back():
    p = project()
    d = document(p)
    kept = d.add_label(p, "Org", 17, 4, ACTOR)
    gone = d.add_label(p, "Person", 0, 5, ACTOR)
    p.remove_entity("Person", ACTOR)
    assert set(d.live_labels(p)) == {kept}
    p.add_entity("Person", ACTOR)
    assert set(d.live_labels(p)) == {kept}
    with pytest.raises(NotFound):
        d.remove_label(p, gone, ACTOR)
    d.add_label(p, "Person", 0, 5, ACTOR)  # the span is free again


def test_label_ids_are_never_reused_within_a_document():
    p = project()
    d = document(p)
    first = d.add_label(p, "Person", 0, 5, ACTOR)
    d.remove_label(p, first, ACTOR)
    assert d.add_label(p, "Person", 0, 5, ACTOR) != first


def test_at_most_200_entities_per_project():
    p = project(entities=())
    for i in range(MAX_ENTITIES_PER_PROJECT):
        p.add_entity(f"E{i}", ACTOR)
    with pytest.raises(Conflict, match="maximum"):
        p.add_entity("one-too-many", ACTOR)
    assert p.add_entity("E0", ACTOR) is False  # existing: nothing to do


def test_at_most_100000_documents_per_project():
    check_document_capacity(MAX_DOCUMENTS_PER_PROJECT - 1, 1)
    with pytest.raises(Conflict):
        check_document_capacity(MAX_DOCUMENTS_PER_PROJECT - 1, 2)


def test_a_deleted_document_can_be_added_again_fresh():
    p = project()
    d = document(p)
    first = d.add_label(p, "Person", 0, 5, ACTOR)
    d.delete(ACTOR)
    d.readd(p, "New text", None, "Test", ACTOR)
    assert (d.text, d.dataset, d.labels, d.deleted) == ("New text", "Test", {}, False)
    assert d.add_label(p, "Person", 0, 3, ACTOR) != first  # a stale id cannot hit a new label


def test_api_keys_are_stored_hashed_and_can_be_revoked():
    r = Resource.create(uuid4(), "acme", 5000, ACTOR)
    r.issue_key("k1", "secret-key-1", ACTOR)
    assert "secret-key-1" not in repr(r.keys)
    assert r.key_id_for("secret-key-1") == "k1"
    assert r.key_id_for("secret-key-2") is None
    r.revoke_key("k1", ACTOR)
    assert r.key_id_for("secret-key-1") is None


def test_ten_thousand_labels_are_checked_in_n_log_n_and_a_document_holds_no_more():
    import time

    from spanledger.domain.rules import MAX_LABELS_PER_DOCUMENT

    p = project()
    d = document(p, "ab " * MAX_LABELS_PER_DOCUMENT)
    started = time.process_time()
    for i in range(MAX_LABELS_PER_DOCUMENT):
        d.add_label(p, "Person", 3 * i, 2, ACTOR)
    # Measured: about 0.2 s here; checking each label against every other took minutes.
    assert time.process_time() - started < 20
    with pytest.raises(Conflict) as overlapping:
        d.add_label(p, "Org", 1, 1, ACTOR)
    assert "overlaps label L1" in overlapping.value.message
    d.remove_label(p, "L2", ACTOR)
    d.add_label(p, "Org", 3, 2, ACTOR)  # the index follows removals
    with pytest.raises(Conflict) as full:
        d.add_label(p, "Org", 2, 1, ACTOR)
    assert "the most a document may hold" in full.value.message


def test_a_key_name_says_who_holds_it_and_a_bad_one_is_refused_naming_the_field():
    resource = Resource.create(uuid4(), "acme", 100, "cli:test")
    resource.issue_key("k1", "sl-secret-1", "cli:test", "alice")
    resource.issue_key("k2", "sl-secret-2", "cli:test")
    assert (resource.key_name("k1"), resource.key_name("k2")) == ("alice", None)
    for bad in ("", " alice", "al\u202eice", "a" * 41, "two  spaces"):
        with pytest.raises(InvalidArgument) as refused:
            resource.issue_key("k3", "sl-secret-3", "cli:test", bad)
        assert refused.value.target == "keyName"
    assert "k3" not in resource.keys
