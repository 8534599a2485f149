"""A span's probability under a CRF, checked against enumerating every tag path of a tiny
random CRF; calibration and the post-processing a model chooses."""

import itertools
import math
import random

import numpy as np
import torch
from flair.data import Dictionary, get_spans_from_bio
from flair.models.sequence_tagger_utils.viterbi import ViterbiDecoder

from spanledger.ner import calibration
from spanledger.ner.confidence import SpanProbabilities, SpanProbabilityDecoder
from spanledger.ner.postprocess import choose, estimate, labels_adjacent, merge_adjacent
from spanledger.ner.spans import LabeledText, Span

TAGS = ["O", "B-X", "I-X", "B-Y", "I-Y", "<START>", "<STOP>"]


def crf(length: int, seed: int) -> tuple[Dictionary, torch.Tensor, torch.Tensor]:
    """flair's CRF layout: features[batch, t, to, from] = emission + transitions[to, from]."""
    tags = Dictionary(add_unk=False)
    for tag in TAGS:
        tags.add_item(tag)
    generator = torch.Generator().manual_seed(seed)
    emissions = torch.randn(1, length, len(TAGS), generator=generator) * 2
    transitions = torch.randn(len(TAGS), len(TAGS), generator=generator)
    transitions[tags.get_idx_for_item("<START>"), :] = -10000
    transitions[:, tags.get_idx_for_item("<STOP>")] = -10000
    features = emissions.unsqueeze(-1) + transitions.unsqueeze(0).unsqueeze(0)
    return tags, features, transitions


def path_probabilities(features: torch.Tensor, transitions: torch.Tensor, start: int, stop: int) -> dict:
    """Every tag path over the real tags with its probability, by brute force."""
    f = features[0].double().numpy()
    real = [i for i, t in enumerate(TAGS) if not t.startswith("<")]
    scores = {}
    for path in itertools.product(real, repeat=f.shape[0]):
        score = f[0, path[0], start] + sum(f[t, path[t], path[t - 1]] for t in range(1, len(path)))
        scores[path] = score + float(transitions[stop, path[-1]])
    top = max(scores.values())
    z = sum(math.exp(s - top) for s in scores.values())
    return {path: math.exp(s - top) / z for path, s in scores.items()}


def test_forward_backward_gives_the_probability_of_exactly_a_span_under_every_path():
    for seed in range(5):
        tags, features, transitions = crf(5, seed)
        start, stop = tags.get_idx_for_item("<START>"), tags.get_idx_for_item("<STOP>")
        paths = path_probabilities(features, transitions, start, stop)
        model = SpanProbabilities(features[0].double().numpy(), transitions[stop].double().numpy(), start)
        for first, span_tags in [(0, ["B-X"]), (1, ["B-X", "I-X"]), (2, ["B-Y", "I-Y", "I-Y"]), (4, ["B-Y"]),
                                 (1, ["I-X"])]:
            ids = [TAGS.index(t) for t in span_tags]
            label = span_tags[0][2:]
            continues = np.array([t in (f"I-{label}",) for t in TAGS])
            same = np.array([t[2:] == label for t in TAGS])
            before = ~same if span_tags[0].startswith("I-") else np.ones(len(TAGS), bool)
            last = first + len(ids) - 1
            expected = sum(
                p for path, p in paths.items()
                if list(path[first:last + 1]) == ids
                and (first == 0 or before[path[first - 1]])
                and (last == len(path) - 1 or not continues[path[last + 1]])
            )
            assert math.isclose(model.of(first, ids, before, ~continues), expected, rel_tol=1e-6, abs_tol=1e-12)


def test_the_decoder_keeps_viterbi_tags_and_scores_each_span_by_its_probability():
    tags, features, transitions = crf(5, 7)
    start, stop = tags.get_idx_for_item("<START>"), tags.get_idx_for_item("<STOP>")
    lengths = torch.tensor([5])
    plain, _ = ViterbiDecoder(tags).decode((features, lengths, transitions), False, [None])
    scored, _ = SpanProbabilityDecoder(tags).decode((features, lengths, transitions), False, [None])
    assert [t for t, _ in plain[0]] == [t for t, _ in scored[0]]
    paths = path_probabilities(features, transitions, start, stop)
    for positions, score, label in get_spans_from_bio([t for t, _ in scored[0]], [c for _, c in scored[0]]):
        # the probability that a path has exactly this span (same tokens, same type)
        exact = sum(p for path, p in paths.items()
                    if (positions, label) in [(pos, lab) for pos, _, lab in get_spans_from_bio([TAGS[i] for i in path])])
        assert 0 < score <= exact + 1e-9  # the decoded encoding of the span is part of that mass
        assert score > 0.5 * exact


def test_calibration_learns_from_many_held_out_spans_and_stays_near_identity_on_few():
    rng = random.Random(3)
    raw = [rng.uniform(0.9, 0.999) for _ in range(2000)]
    correct = [rng.random() < 0.6 for _ in raw]  # overconfident: about 60% right at ~95% confidence
    fitted = calibration.fit(raw, correct)
    assert abs(sum(fitted(r) for r in raw) / len(raw) - 0.6) < 0.03
    assert calibration.calibration_error([fitted(r) for r in raw], correct) < 0.05
    assert calibration.calibration_error(raw, correct) > 0.3
    few = calibration.fit(raw[:3], [True, False, True])
    assert abs(few(0.9) - 0.9) < 0.1


def test_calibration_error_weights_each_bin_by_its_spans():
    assert calibration.calibration_error([0.95, 0.95, 0.15, 0.15], [True, False, False, False]) == (
        abs(0.95 * 2 - 1) + abs(0.15 * 2 - 0)) / 4
    assert calibration.calibration_error([], []) == 0.0


def test_merging_joins_same_type_spans_that_only_spaces_separate():
    text = "New  York\nBoston Acme Inc"
    spans = [Span(0, 3, "LOC", 0.9), Span(5, 9, "LOC", 0.8), Span(10, 16, "LOC"), Span(17, 21, "ORG"),
             Span(22, 25, "ORG", 0.7)]
    merged = merge_adjacent(spans, text)
    assert [(text[s.start:s.end], s.label, s.score) for s in merged] == [
        ("New  York", "LOC", 0.8), ("Boston", "LOC", 1.0), ("Acme Inc", "ORG", 0.7)]
    assert labels_adjacent([LabeledText("Mary Ann", (Span(0, 4, "PER"), Span(5, 8, "PER")))])
    assert not labels_adjacent([LabeledText("Mary\nAnn", (Span(0, 4, "PER"), Span(5, 8, "PER")))])


def test_a_model_merges_only_when_its_labels_allow_it_and_calibrates_what_it_keeps():
    held_out = [LabeledText("We met in New York and Paris", (Span(10, 18, "LOC"), Span(23, 28, "LOC")))]
    raw = [[Span(10, 13, "LOC", 0.9), Span(14, 18, "LOC", 0.95), Span(23, 28, "LOC", 0.99), Span(0, 2, "PER", 0.6)]]
    chosen, report = choose(raw, held_out, training=[])
    assert chosen.merge_adjacent and report["mergeAdjacent"]
    assert report["calibration"]["heldOutSpans"] == 3
    apart = [LabeledText("Mary Ann", (Span(0, 4, "PER"), Span(5, 8, "PER")))]
    chosen, report = choose(raw, held_out, training=apart)
    assert not chosen.merge_adjacent and "training labels" in report["mergeReason"]
    table = report["byConfidence"]
    assert table["entities"]["*"]["expected"] == 2
    assert estimate(table, "*", 0.0) == {"precision": 1 / 4, "recall": 1 / 2}  # only Paris is right
    assert estimate(table, "nothing", 0.5) == {"precision": None, "recall": None}
