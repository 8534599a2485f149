"""NER quality and speed: spanledger's recipes vs spaCy's blank English NER, same data.

For each corpus in ../shared/data, train on the first N sentences of its training file and
score exact-span entity micro F1 on its test file (each sentence one document, tokens joined
by single spaces: the product's own CoNLL reader). spaCy is the peer: a blank English
pipeline with a default `ner` component, trained on the same texts and character spans.
Reports F1, precision, recall, training time, and prediction throughput per system.

Needs spaCy (`pip install 'spacy>=3.8,<3.9'`): it is a benchmark peer, not a dependency.
"""

from __future__ import annotations

import argparse
import logging
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import machine
from spanledger.ner.conll import read_conll
from spanledger.ner.evaluation import evaluate
from spanledger.ner.model import Tagger, train
from spanledger.ner.recipes import default_recipe, onehot_char
from spanledger.ner.spans import LabeledText, Span

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = {
    "WNUT-17": ("wnut17/wnut17train.conll", "wnut17/emerging.test.annotated"),
    "BTC": ("btc/btc.train", "btc/btc.test"),
    "NCBI-disease": ("ncbi-disease/train.tsv", "ncbi-disease/test.tsv"),
}
SPACY_EPOCHS = 30
SEED = 13


def spacy_system(train_docs: list[LabeledText], seed: int = SEED) -> Callable[[list[str]], list[list[Span]]]:
    """The peer: spaCy's blank English NER trained on the same texts and spans."""
    import spacy
    from spacy.training import Example
    from spacy.util import compounding, fix_random_seed, minibatch

    fix_random_seed(seed)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    examples = [
        Example.from_dict(nlp.make_doc(d.text), {"entities": [(s.start, s.end, s.label) for s in d.spans]})
        for d in train_docs
    ]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    for _ in range(SPACY_EPOCHS):
        rng.shuffle(examples)
        for batch in minibatch(examples, size=compounding(4.0, 32.0, 1.001)):
            nlp.update(batch, drop=0.2, sgd=optimizer)

    def predict(texts: list[str]) -> list[list[Span]]:
        return [[Span(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]

    return predict


def spanledger_system(recipe) -> Callable[[list[LabeledText]], Callable[[list[str]], list[list[Span]]]]:
    def fit(train_docs: list[LabeledText]) -> Callable[[list[str]], list[list[Span]]]:
        work = Path(tempfile.mkdtemp(prefix="ner-bench-"))
        trained = train(train_docs, recipe, work)
        return Tagger(trained.path).predict

    return fit


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sentences", type=int, default=1000, help="training sentences per corpus")
    p.add_argument("--epochs", type=int, default=None, help="override the recipes' epochs")
    p.add_argument("--corpus", choices=list(CORPORA), action="append")
    p.add_argument("--system", choices=["onehot-char", "minilm-char", "spacy"], action="append")
    args = p.parse_args()
    logging.getLogger("flair").setLevel(logging.WARNING)
    settings = {"max_epochs": args.epochs} if args.epochs else {}
    systems = {
        "onehot-char": spanledger_system(onehot_char(**settings)),
        "minilm-char": spanledger_system(default_recipe(**settings)),
        "spacy": spacy_system,
    }
    chosen = args.system or list(systems)
    print(f"machine: {machine()}; first {args.sentences} training sentences; exact-span micro F1")
    rows = []
    for corpus in args.corpus or list(CORPORA):
        train_file, test_file = CORPORA[corpus]
        train_docs = read_conll(DATA / train_file, args.sentences)
        test_docs = read_conll(DATA / test_file)
        texts = [d.text for d in test_docs]
        characters = sum(len(t) for t in texts)
        for name in chosen:
            started = time.perf_counter()
            predict = systems[name](train_docs)
            trained = time.perf_counter() - started
            started = time.perf_counter()
            predicted = predict(texts)
            seconds = time.perf_counter() - started
            micro = evaluate([d.spans for d in test_docs], predicted).micro
            row = (corpus, name, micro.f1, micro.precision, micro.recall, trained,
                   len(texts) / seconds, characters / seconds)
            rows.append(row)
            print("{:<13} {:<12} F1 {:.3f}  P {:.3f}  R {:.3f}  train {:6.0f}s  "
                  "predict {:7.0f} sentences/s {:9.0f} chars/s".format(*row), flush=True)
    print("\n| corpus | system | F1 | precision | recall | training | sentences/s | characters/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for corpus, name, f1, precision, recall, trained, sentences_s, chars_s in rows:
        print(f"| {corpus} | {name} | {f1:.3f} | {precision:.3f} | {recall:.3f} | {trained:.0f} s | "
              f"{sentences_s:,.0f} | {chars_s:,.0f} |")


if __name__ == "__main__":
    main()
