"""A predicted span's probability under the tagger's CRF.

flair scores a span with the mean of its tokens' softmax over Viterbi path scores: a
ranking, not a probability. Here the forward-backward algorithm gives the probability the
CRF assigns to exactly this span: its tokens tagged as decoded, the token before it not
joining it, the token after it not continuing it. The decoder hands flair that probability
for each token of the span, so flair's mean over the span's tokens is the span's probability.
"""

from __future__ import annotations

import numpy as np
import torch
from flair.data import Dictionary, get_spans_from_bio
from flair.models.sequence_tagger_utils.viterbi import ViterbiDecoder


def _logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    top = values.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log(np.exp(values - top).sum(axis=axis))


class SpanProbabilities:
    """Forward-backward over one sequence's CRF scores.

    `scores[t, to, from]` is the score of tag `to` at position t after tag `from` (flair's
    layout: emission plus transition; at t = 0, `from` is the start tag); `to_stop[from]`
    the transition to the stop tag.
    """

    def __init__(self, scores: np.ndarray, to_stop: np.ndarray, start: int):
        n, size, _ = scores.shape
        self.scores, self.to_stop, self.start = scores, to_stop, start
        self.alpha = np.empty((n, size))
        self.alpha[0] = scores[0, :, start]
        for t in range(1, n):
            self.alpha[t] = _logsumexp(scores[t] + self.alpha[t - 1][None, :], axis=1)
        self.beta = np.empty((n, size))
        self.beta[n - 1] = to_stop
        for t in range(n - 2, -1, -1):
            self.beta[t] = _logsumexp(scores[t + 1] + self.beta[t + 1][:, None], axis=0)
        self.log_z = float(_logsumexp(self.alpha[n - 1] + to_stop, axis=0))

    def of(self, first: int, tags: list[int], before: np.ndarray, after: np.ndarray) -> float:
        """P(positions first.. are tagged `tags`, the tag before is in `before` (a mask over
        tags), the tag after is in `after`); at the sequence's edges only start/stop apply."""
        s = self.scores
        if first == 0:
            log_p = s[0, tags[0], self.start]
        else:
            log_p = _logsumexp(np.where(before, self.alpha[first - 1] + s[first, tags[0], :], -np.inf), axis=0)
        for k in range(1, len(tags)):
            log_p += s[first + k, tags[k], tags[k - 1]]
        last = first + len(tags) - 1
        if last == len(s) - 1:
            log_p += self.to_stop[tags[-1]]
        else:
            log_p += _logsumexp(np.where(after, s[last + 1, :, tags[-1]] + self.beta[last + 1], -np.inf), axis=0)
        return float(np.exp(min(0.0, log_p - self.log_z)))


class SpanProbabilityDecoder(ViterbiDecoder):
    """flair's Viterbi decoding, with each span's tokens scored by the span's probability."""

    def __init__(self, tag_dictionary: Dictionary):
        super().__init__(tag_dictionary)
        tags = tag_dictionary.get_items()
        self._index = {tag: i for i, tag in enumerate(tags)}
        self._type = [tag[2:] if tag[:2] in ("B-", "I-", "E-", "S-") else None for tag in tags]
        self._inside = np.array([tag[:2] in ("I-", "E-") for tag in tags])

    def decode(self, features_tuple: tuple, probabilities_for_all_classes: bool, sentences: list) -> tuple:
        tags, all_tags = super().decode(features_tuple, probabilities_for_all_classes, sentences)
        features, lengths, transitions = features_tuple
        to_stop = transitions[self.stop_tag].detach().double().cpu().numpy()
        for b, sequence in enumerate(tags):
            if not sequence:
                continue
            n = int(lengths[b])
            spans = get_spans_from_bio([tag for tag, _ in sequence])
            if not spans:
                continue
            crf = SpanProbabilities(features[b, :n].detach().double().cpu().numpy(), to_stop, self.start_tag)
            for positions, _, label in spans:
                ids = [self._index[sequence[p][0]] for p in positions]
                same = np.array([t == label for t in self._type])
                continues = same & self._inside
                # A span opened by B- or S- starts whatever came before; one opened by I- only
                # when the tag before is of another type (flair's reading of BIO).
                before = ~same if self._inside[ids[0]] else np.ones_like(same)
                probability = crf.of(positions[0], ids, before, ~continues)
                for p in positions:
                    sequence[p] = (sequence[p][0], probability)
        return tags, all_tags


def install(model: torch.nn.Module) -> None:
    """Makes a loaded flair SequenceTagger (with a CRF) score spans by their probability."""
    if getattr(model, "use_crf", False):
        model.viterbi_decoder = SpanProbabilityDecoder(model.label_dictionary)
