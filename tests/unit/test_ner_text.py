"""CoNLL reading, tokenising with offsets, sequences, and evaluation: no model involved."""

import io

from spanledger.ner.conll import read_sentences, to_labeled_text
from spanledger.ner.evaluation import NONE, evaluate
from spanledger.ner.sequences import MAX_TOKENS, predicted_spans, to_sequences
from spanledger.ner.spans import LabeledText, Span
from spanledger.ner.tokens import tokenize


def test_conll_tokens_are_joined_with_exact_offsets_for_every_tag_scheme():
    iob2 = [("Empire", "B-location"), ("State", "I-location"), ("Building", "I-location"), ("=", "O"),
            ("ESB", "B-location"), ("and", "O"), ("Bob", "B-person")]
    doc = to_labeled_text(iob2)
    assert doc.text == "Empire State Building = ESB and Bob"
    assert [doc.text[s.start:s.end] for s in doc.spans] == ["Empire State Building", "ESB", "Bob"]
    iob1 = [("New", "I-LOC"), ("York", "I-LOC"), ("Paris", "B-LOC")]
    assert [(s.start, s.end) for s in to_labeled_text(iob1).spans] == [(0, 8), (9, 14)]
    bioes = [("New", "B-LOC"), ("York", "E-LOC"), ("Paris", "S-LOC"), ("x", "O")]
    assert [(s.start, s.end) for s in to_labeled_text(bioes).spans] == [(0, 8), (9, 14)]
    switched = [("Acme", "I-ORG"), ("Bob", "I-PER")]  # a new type opens a new entity
    assert [s.label for s in to_labeled_text(switched).spans] == ["ORG", "PER"]


def test_sentences_end_at_blank_lines_and_at_lines_holding_only_a_tab():
    lines = io.StringIO("a\tO\nb\tB-X\n\t\nc\tO\n\n\nd\tO\n\tO\ne f\n")
    assert [[t for t, _ in s] for s in read_sentences(lines)] == [["a", "b"], ["c"], ["d", "e"]]


def test_tokens_split_punctuation_and_every_label_boundary():
    text = "Pay $38,714.00 (5%) to Acme-Corp."
    spans = [(text[s:e]) for s, e in tokenize(text)]
    assert spans == ["Pay", "$", "38", ",", "714", ".", "00", "(", "5", "%", ")", "to", "Acme", "-", "Corp", "."]
    inside = text.index("Acme") + 2
    assert (inside - 2, inside) in tokenize(text, [inside]) and (inside, inside + 2) in tokenize(text, [inside])


def test_long_texts_are_cut_at_sentence_ends_and_never_inside_a_label():
    sentence = "Alice met Bob in Paris . "
    text = sentence * 200  # 1,200 tokens
    paris = [Span(i * len(sentence) + 17, i * len(sentence) + 22, "LOC") for i in range(200)]
    doc = LabeledText(text, tuple(paris))
    sequences = to_sequences([doc], with_labels=True)
    assert len(sequences) == 4 and all(len(s.offsets) <= MAX_TOKENS for s in sequences)  # 396 + 396 + 396 + 12
    assert all(text[s.offsets[-1][0]:s.offsets[-1][1]] == "." for s in sequences[:-1])
    labeled = [span for s in sequences for span in s.sentence.get_spans("ner")]
    assert len(labeled) == 200


def test_predicted_spans_map_back_to_exact_offsets():
    text = "I flew from New  York to 😀 Paris"
    sequence = to_sequences([LabeledText(text)], with_labels=False)[0]
    tokens = sequence.sentence
    tokens[3:5].add_label("ner", "LOC")  # New  York, two spaces apart
    tokens[7:8].add_label("ner", "LOC")  # Paris, after an emoji
    assert [(text[s.start:s.end], s.label) for s in predicted_spans(sequence)] == [
        ("New  York", "LOC"), ("Paris", "LOC")]


def test_a_label_that_took_whitespace_with_it_still_tags_its_tokens():
    text = "Ask  Alice Smith  today"
    doc = LabeledText(text, (Span(3, 17, "PER"),))  # "  Alice Smith  "-ish: both edges in whitespace
    (sequence,) = to_sequences([doc], with_labels=True)
    assert [(s.text, s.get_label("ner").value) for s in sequence.sentence.get_spans("ner")] == [
        ("Alice Smith", "PER")]


def test_evaluation_counts_exact_spans_and_fills_the_confusion_matrix():
    gold = [[Span(0, 5, "PER"), Span(10, 14, "ORG"), Span(20, 25, "LOC")]]
    guess = [[Span(0, 5, "PER"), Span(10, 14, "PER"), Span(30, 33, "LOC")]]
    result = evaluate(gold, guess, ["PER", "ORG", "LOC", "DATE"])
    per, org, loc = result.entities["PER"], result.entities["ORG"], result.entities["LOC"]
    assert (per.true_positives, per.false_positives, per.false_negatives) == (1, 1, 0)
    assert (org.true_positives, org.false_positives, org.false_negatives) == (0, 0, 1)
    assert (loc.true_positives, loc.false_positives, loc.false_negatives) == (0, 1, 1)
    assert result.entities["DATE"].f1 == 0.0
    micro = result.micro
    assert (micro.true_positives, micro.false_positives, micro.false_negatives) == (1, 2, 2)
    assert abs(micro.f1 - 1 / 3) < 1e-9
    assert result.confusion["ORG"]["PER"] == 1 and result.confusion["LOC"][NONE] == 1
    assert result.confusion[NONE]["LOC"] == 1 and result.confusion["PER"]["PER"] == 1
