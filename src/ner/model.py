"""Training a flair SequenceTagger on labeled texts, and predicting spans with it.

Seeded, so the same data and recipe give the same model on CPU; flair puts the model on a
GPU by itself when one is present. The mini-batch and epochs come from the data
(ner.schedule); torch uses the cores other processes leave free (ner.cpu).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import flair
import torch
from flair.data import Corpus, Dictionary, Sentence
from flair.datasets import FlairDatapointDataset
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

from spanledger.ner import confidence
from spanledger.ner.cpu import FreeCores
from spanledger.ner.postprocess import Postprocessing
from spanledger.ner.recipes import Recipe
from spanledger.ner.schedule import Plan, Stopping, learns_words, min_learning_rate, plan
from spanledger.ner.sequences import TAG_TYPE, predicted_spans, to_sequences
from spanledger.ner.spans import LabeledText, Span

log = logging.getLogger(__name__)

# Sentences a prediction embeds at once. A transformer pads every sentence of a batch to the
# longest one, and on a CPU its attention and feed-forward over that padding cost more than
# batching saves: for a transformer model, sentences go shortest first into batches of at most
# PREDICT_TOKENS padded tokens (MiniLM: 6-11% quicker than batches of 8, which were quicker than
# flair's 32). Without one, batches of PREDICT_BATCH are quickest (one-hot + characters: 0.85
# of flair's predict over the whole set with 32, 0.79 with 8). bench/README "Prediction".
PREDICT_BATCH = 32
PREDICT_TOKENS = 200
_CPU_SAMPLE_SECONDS = 0.25  # how long the load of other processes is watched before training


class TrainingCancelled(Exception):
    pass


class _Progress(TrainerPlugin):
    """Reports the share of epochs done, stops training when asked to or when time is up,
    keeps the epochs' training losses, and sizes torch's threads to the free cores."""

    def __init__(self, max_epochs: int, stopping: Stopping, report: Callable[[float], None] | None,
                 should_stop: Callable[[], bool] | None, cores: FreeCores | None):
        super().__init__()
        self.max_epochs, self.stopping, self.report, self.should_stop = max_epochs, stopping, report, should_stop
        self.started = time.perf_counter()
        self.cores = cores
        self.threads: list[int] = [torch.get_num_threads()]
        self.losses: list[float] = []
        self.cancelled = False

    @TrainerPlugin.hook
    def after_training_batch(self, **_: object) -> None:
        if self.should_stop and self.should_stop():
            self.cancelled = True
            raise TrainingInterrupt("cancelled")

    @TrainerPlugin.hook
    def after_training_epoch(self, epoch: int, **_: object) -> None:
        if self.report:
            self.report(epoch / self.max_epochs)
        if self.cores is not None:
            threads = self.cores.threads()
            if threads != torch.get_num_threads():
                torch.set_num_threads(threads)
                self.threads.append(threads)

    @TrainerPlugin.hook
    def after_evaluation(self, validation_scores: tuple, **_: object) -> None:
        # Without a dev split flair passes the epoch's training loss (per token); its
        # annealing plugin, which runs after this one, stops training once the loss converged.
        self.losses.append(float(validation_scores[0]))
        if self.stopping.after_epoch(time.perf_counter() - self.started):
            raise TrainingInterrupt(self.stopping.stopped_because)

    def stopped_because(self) -> str:
        if self.stopping.stopped_because == "timeLimit" or len(self.losses) >= self.max_epochs:
            return self.stopping.stopped_because
        return "converged"


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
    if not recipe.transformer or recipe.learned_words:
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
    plan: Plan
    epochs: int
    stopped_because: str  # converged, maxEpochs or timeLimit
    final_loss: float | None
    threads: list[int]  # torch threads used, in the order they changed
    learned_words: bool  # word vectors learned from the data (always without a transformer)

    def run(self) -> dict[str, object]:
        """What the training did, for the record of the model."""
        return {**self.plan.to_dict(), "epochs": self.epochs, "stoppedBecause": self.stopped_because,
                "finalLoss": self.final_loss, "seconds": round(self.seconds, 3), "threads": self.threads,
                "learnedWords": self.learned_words}


def seed_everything(seed: int) -> None:
    flair.set_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def train(texts: Sequence[LabeledText], recipe: Recipe, work_dir: Path, *,
          progress: Callable[[float], None] | None = None,
          should_stop: Callable[[], bool] | None = None, threads: int | None = None) -> Trained:
    """Trains a tagger on `texts`; raises TrainingCancelled when `should_stop` said so.

    `threads`: None sizes torch's threads to the cores other processes leave free, epoch by
    epoch; a number fixes them. Results depend on the thread count (floating-point sums
    split differently), so only a fixed count makes the same data give the same model
    whatever else the machine is doing.
    """
    started = time.perf_counter()
    seed_everything(recipe.seed)
    cores = FreeCores() if threads is None else None
    if cores is not None:
        time.sleep(_CPU_SAMPLE_SECONDS)
        torch.set_num_threads(cores.threads())
    else:
        torch.set_num_threads(threads)
    sequences = to_sequences(list(texts), with_labels=True)
    schedule = plan([len(s.sentence) for s in sequences], mini_batch_size=recipe.mini_batch_size,
                    max_epochs=recipe.max_epochs)
    corpus = Corpus(train=FlairDatapointDataset([s.sentence for s in sequences]), dev=None, test=None,
                    name="spanledger", sample_missing_splits=False)
    recipe = replace(recipe, learned_words=not recipe.transformer or learns_words(recipe.learned_words, schedule))
    tags = corpus.make_label_dictionary(TAG_TYPE, add_unk=False)
    tagger = SequenceTagger(
        embeddings=build_embeddings(recipe, corpus), tag_dictionary=tags, tag_type=TAG_TYPE,
        tag_format=recipe.tag_format, hidden_size=recipe.hidden_size, use_crf=True,
    )
    plugin = _Progress(schedule.max_epochs, Stopping(recipe.max_seconds), progress, should_stop, cores)
    ModelTrainer(tagger, corpus).train(
        work_dir,
        learning_rate=recipe.learning_rate,
        mini_batch_size=schedule.mini_batch_size,
        max_epochs=schedule.max_epochs,
        # No dev split: with train_with_dev flair anneals on the training loss going down;
        # without it, it reads falling loss as no improvement and halves the rate early.
        train_with_dev=True,
        # Halve the rate when the training loss has not reached a new low for `patience`
        # epochs; stop at the `anneals`-th halving: the loss has converged.
        patience=recipe.patience,
        min_learning_rate=min_learning_rate(recipe.learning_rate, recipe.anneals),
        embeddings_storage_mode="cpu" if recipe.transformer else "none",
        create_file_logs=False,
        create_loss_file=False,
        plugins=[plugin],
    )
    if plugin.cancelled or (should_stop and should_stop()):
        raise TrainingCancelled
    losses = plugin.losses
    return Trained(work_dir / "final-model.pt", time.perf_counter() - started, len(sequences), schedule,
                   len(losses), plugin.stopped_because(), round(losses[-1], 6) if losses else None,
                   plugin.threads, recipe.learned_words)


def token_batches(sentences: Sequence[Sentence], budget: int) -> list[list[Sentence]]:
    """The sentences, shortest first, in batches whose padded size (sentences x the longest's
    tokens) stays within `budget`; a sentence longer than that is a batch of its own."""
    batches: list[list[Sentence]] = []
    batch: list[Sentence] = []
    for sentence in sorted(sentences, key=len):
        if batch and (len(batch) + 1) * len(sentence) > budget:
            batches.append(batch)
            batch = []
        batch.append(sentence)
    if batch:
        batches.append(batch)
    return batches


class Tagger:
    """A trained model, loaded for prediction: spans scored by their probability under the
    CRF, then post-processed as the model file says (merging, calibration). Each prediction
    uses as many threads as other processes leave cores free, as training does (two threads
    beside a busy process predicted 25 sentences in 2-7 s instead of 0.3 s)."""

    def __init__(self, path: Path):
        self.cores = FreeCores()
        self.model = SequenceTagger.load(path)
        self.model.eval()
        confidence.install(self.model)
        card = self.model.model_card or {}
        self.postprocessing = Postprocessing.from_dict(card.get("spanledger", {}).get("postprocessing"))
        stacked = getattr(self.model.embeddings, "embeddings", [self.model.embeddings])
        self.transformer = any(isinstance(e, TransformerWordEmbeddings) for e in stacked)

    @property
    def entity_types(self) -> list[str]:
        # tags are O, B-X, I-X (and the CRF's <START>, <STOP>)
        return sorted({tag.split("-", 1)[1] for tag in self.model.label_dictionary.get_items() if "-" in tag})

    def predict(self, texts: Sequence[str], *, raw: bool = False) -> list[list[Span]]:
        """Each text's spans; `raw`: as decoded, before merging and calibration."""
        docs = [LabeledText(text) for text in texts]
        sequences = to_sequences(docs, with_labels=False)
        torch.set_num_threads(self.cores.threads())
        with torch.inference_mode():
            sentences = [s.sentence for s in sequences]
            batches = token_batches(sentences, PREDICT_TOKENS) if self.transformer else [sentences]
            for batch in batches:
                self.model.predict(batch, mini_batch_size=len(batch) if self.transformer else PREDICT_BATCH,
                                   label_name=TAG_TYPE)
        spans: list[list[Span]] = [[] for _ in texts]
        for sequence in sequences:
            spans[sequence.document].extend(predicted_spans(sequence))
        if raw:
            return spans
        return [self.postprocessing.apply(found, text) for found, text in zip(spans, texts, strict=True)]

    def keep(self, postprocessing: Postprocessing, path: Path) -> None:
        """Uses `postprocessing` from now on and writes the model, with it, to `path`."""
        self.postprocessing = postprocessing
        card = dict(self.model.model_card or {})
        card["spanledger"] = {"postprocessing": postprocessing.to_dict()}
        self.model.model_card = card
        self.model.save(path)
