"""A real flair model, trained small: it learns, it survives being saved and loaded, and
training it twice on the same data gives the same predictions (seeded)."""

import pytest
from flair.data import Sentence

from spanledger.ner.evaluation import evaluate
from spanledger.ner.model import Tagger, token_batches, train
from spanledger.ner.recipes import minilm_path, onehot_char, transformer_char
from spanledger.ner.spans import LabeledText, Span
from tests.training_data import documents


def corpus(count: int) -> list[LabeledText]:
    return [LabeledText(doc.text, tuple(Span(l.offset, l.offset + l.length, l.category) for l in labels), doc.name)
            for doc, labels in documents(count)]


def test_a_small_model_learns_and_predicts_the_same_after_loading_and_retraining(tmp_path):
    data = corpus(40)
    train_docs, test_docs = data[:30], data[30:]
    recipe = onehot_char(max_epochs=15, hidden_size=64, mini_batch_size=4)
    first = train(train_docs, recipe, tmp_path / "a", threads=2)
    second = train(train_docs, recipe, tmp_path / "b", threads=2)
    texts = [d.text for d in test_docs]
    predicted = Tagger(first.path).predict(texts)  # loaded from its file, as a worker does
    again = Tagger(second.path).predict(texts)
    # Same spans; scores equal up to float reassociation (threads sized to free cores may differ).
    assert [[(s.start, s.end, s.label) for s in d] for d in predicted] == [[(s.start, s.end, s.label) for s in d]
                                                                         for d in again]
    assert [s.score for d in predicted for s in d] == pytest.approx([s.score for d in again for s in d], abs=1e-6)
    assert evaluate([d.spans for d in test_docs], predicted).micro.f1 > 0.5
    assert all(texts[i][s.start:s.end].strip() == texts[i][s.start:s.end] for i, spans in enumerate(predicted)
               for s in spans)


@pytest.mark.parametrize("name", ["onehot-char", "minilm-char"])
def test_a_loaded_model_knows_whether_it_embeds_with_a_transformer(tmp_path, name):
    """A transformer model predicts in batches cut to a token budget; others in flair's
    fixed-size batches (bench/README "Prediction")."""
    settings = {"max_epochs": 1, "hidden_size": 8}
    recipe = onehot_char(**settings) if name == "onehot-char" else transformer_char(minilm_path(), **settings)
    data = corpus(4)
    tagger = Tagger(train(data, recipe, tmp_path, threads=2).path)
    assert tagger.transformer == (name == "minilm-char")
    assert len(tagger.predict([d.text for d in data])) == len(data)


def test_batches_are_cut_shortest_first_to_a_padded_token_budget():
    sentences = [Sentence(" ".join(["w"] * n)) for n in (30, 3, 250, 9, 10, 4, 60, 11)]
    batches = token_batches(sentences, 40)
    assert [[len(s) for s in b] for b in batches] == [[3, 4, 9, 10], [11], [30], [60], [250]]
    assert all(len(b) * max(len(s) for s in b) <= 40 or len(b) == 1 for b in batches)
