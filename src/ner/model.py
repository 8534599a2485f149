"""Training a flair SequenceTagger on labeled texts, and predicting spans with it.

Seeded, so the same data and recipe give the same model on CPU; flair puts the model on a
GPU by itself when one is present, and torch uses every core.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import flair
import torch
from flair.data import Corpus, Dictionary
from flair.datasets import SentenceDataset
from flair.embeddings import (
    CharacterEmbeddings,
    OneHotEmbeddings,
    StackedEmbeddings,
    TokenEmbeddings,
    TransformerWordEmbeddings,
)
from flair.models import SequenceTagger
from flair.trainers import ModelTrainer
from flair.trainers.plugins.base import TrainerPlugin, TrainingInterrupt

from ner.recipes import Recipe
from ner.sequences import TAG_TYPE, predicted_spans, to_sequences
from ner.spans import LabeledText, Span

log = logging.getLogger(__name__)

PREDICT_BATCH = 32


class TrainingCancelled(Exception):
    pass


class _Progress(TrainerPlugin):
    """Reports the share of epochs done, and stops training when asked to."""

    def __init__(self, max_epochs: int, report: Callable[[float], None] | None,
                 should_stop: Callable[[], bool] | None):
        super().__init__()
        self.max_epochs, self.report, self.should_stop = max_epochs, report, should_stop

    @TrainerPlugin.hook
    def after_training_batch(self, **_: object) -> None:
        if self.should_stop and self.should_stop():
            raise TrainingInterrupt("cancelled")

    @TrainerPlugin.hook
    def after_training_epoch(self, epoch: int, **_: object) -> None:
        if self.report:
            self.report(epoch / self.max_epochs)


def character_dictionary(texts: Iterable[str]) -> Dictionary:
    chars = Dictionary()
    for text in texts:
        for char in text:
            chars.add_item(char)
    return chars


def build_embeddings(recipe: Recipe, corpus: Corpus) -> TokenEmbeddings:
    texts = (token.text for sentence in corpus.train for token in sentence)
    stack: list[TokenEmbeddings] = []
    if recipe.transformer:
        stack.append(TransformerWordEmbeddings(
            recipe.transformer, layers="-1", subtoken_pooling="first", fine_tune=False,
            allow_long_sentences=True,
        ))
    else:
        stack.append(OneHotEmbeddings.from_corpus(
            corpus, field="text", min_freq=recipe.min_word_frequency,
            embedding_length=recipe.word_embedding_size,
        ))
    stack.append(CharacterEmbeddings(path_to_char_dict=character_dictionary(texts)))
    # Keep the embeddings' own (distinct) names: flair 0.15 prefixes them with their index in
    # the stack, but OneHotEmbeddings does not save its name, so a reloaded model looked its
    # vectors up under another name and predicted nothing.
    return StackedEmbeddings(stack, overwrite_names=False)


@dataclass(frozen=True)
class Trained:
    path: Path  # the model file flair wrote
    seconds: float
    sequences: int


def seed_everything(seed: int) -> None:
    flair.set_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(os.cpu_count() or 1)


def train(texts: Sequence[LabeledText], recipe: Recipe, work_dir: Path, *,
          progress: Callable[[float], None] | None = None,
          should_stop: Callable[[], bool] | None = None) -> Trained:
    """Trains a tagger on `texts`; raises TrainingCancelled when `should_stop` said so."""
    started = time.perf_counter()
    seed_everything(recipe.seed)
    sequences = to_sequences(list(texts), with_labels=True)
    corpus = Corpus(train=SentenceDataset([s.sentence for s in sequences]), dev=None, test=None,
                    name="spanledger", sample_missing_splits=False)
    tags = corpus.make_label_dictionary(TAG_TYPE, add_unk=False)
    tagger = SequenceTagger(
        embeddings=build_embeddings(recipe, corpus), tag_dictionary=tags, tag_type=TAG_TYPE,
        tag_format=recipe.tag_format, hidden_size=recipe.hidden_size, use_crf=True,
    )
    plugin = _Progress(recipe.max_epochs, progress, should_stop)
    ModelTrainer(tagger, corpus).train(
        work_dir,
        learning_rate=recipe.learning_rate,
        mini_batch_size=recipe.mini_batch_size,
        max_epochs=recipe.max_epochs,
        # No dev split: with train_with_dev flair anneals on the training loss going down;
        # without it, it reads falling loss as no improvement and halves the rate early.
        train_with_dev=True,
        embeddings_storage_mode="cpu" if recipe.transformer else "none",
        create_file_logs=False,
        create_loss_file=False,
        plugins=[plugin],
    )
    if should_stop and should_stop():
        raise TrainingCancelled
    return Trained(work_dir / "final-model.pt", time.perf_counter() - started, len(sequences))


class Tagger:
    """A trained model, loaded for prediction."""

    def __init__(self, path: Path):
        self.model = SequenceTagger.load(path)
        self.model.eval()

    @property
    def entity_types(self) -> list[str]:
        # tags are O, B-X, I-X (and the CRF's <START>, <STOP>)
        return sorted({tag.split("-", 1)[1] for tag in self.model.label_dictionary.get_items() if "-" in tag})

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        docs = [LabeledText(text) for text in texts]
        sequences = to_sequences(docs, with_labels=False)
        with torch.inference_mode():
            self.model.predict([s.sentence for s in sequences], mini_batch_size=PREDICT_BATCH,
                               label_name=TAG_TYPE)
        spans: list[list[Span]] = [[] for _ in texts]
        for sequence in sequences:
            spans[sequence.document].extend(predicted_spans(sequence, texts[sequence.document]))
        return spans
