"""Morpheme segmentation of plain words from their glosses, learnt from glosses alone.

A model that glosses plain text (the shared task's track 1) gives each word
a sequence of gloss labels but no morphemes; the word still has to be cut
into one piece per label. Training data without a ``\\m`` line says how many
morphemes each word has (its gloss), not where they are; but a label's form
recurs across the data (``AOR`` is spelt ``-на`` in hundreds of Lezgi
words), so where each label sits can be induced: :class:`Segmenter` learns,
by expectation maximisation over every way of cutting each training word
into its gloss's number of pieces, how each label is spelt
(P(characters | label)), and cuts a new word for its labels at the most
probable place (Viterbi). Words with a ``\\m`` line count as they are cut
(no induction needed).

The spelling of a label is smoothed towards a base distribution that
favours no cut over another (a fixed probability per character), so a label
seen once, or never (a new stem), takes whatever the labels around it leave.
Forms are compared case-folded; punctuation at a word's edges is no morpheme
and stays on the outer pieces; a hyphen the word is written with is a
boundary.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..records import IGTRecord, aligned_morphemes, split_keep_boundaries, word_morphemes

if TYPE_CHECKING:  # numpy is imported only when spellings are induced: start-up stays light
    import numpy as np

#: Rounds of expectation maximisation: on the shared-task dev sets, cut for
#: their gold glosses, twelve rounds move boundary F1 by under half a point more.
EM_ROUNDS = 6
#: The weight of the base distribution against a label's counts: how many
#: sightings a label needs before its own spelling dominates.
SMOOTHING = 1.0
#: The base distribution's probability of one character: every cut of a word
#: has the same base probability, so only the labels' counts decide.
CHARACTER_PROBABILITY = 0.05
#: Expected counts below this are dropped when the spellings are kept.
MIN_COUNT = 0.05
#: Plain training words longer than this (in characters) are left out of the
#: induction, whose arrays grow with the square of a word's length.
MAX_INDUCED_LENGTH = 40


@dataclass(frozen=True)
class _Word:
    """A word as the segmenter cuts it: its characters (case-folded, edge
    punctuation and hyphens removed), where its hyphens were (forced
    boundaries) and the punctuation around it."""

    core: str
    folded: str
    forced: frozenset[int]
    prefix: str
    suffix: str

    @classmethod
    def of(cls, word: str) -> _Word:
        start, end = 0, len(word)
        while start < end and unicodedata.category(word[start]).startswith("P"):
            start += 1
        while end > start and unicodedata.category(word[end - 1]).startswith("P"):
            end -= 1
        pieces = word[start:end].split("-")
        forced, position = [], 0
        for piece in pieces[:-1]:
            position += len(piece)
            forced.append(position)
        core = "".join(pieces)
        return cls(core, core.casefold(), frozenset(forced), word[:start], word[end:])

    def allows(self, start: int, end: int) -> bool:
        """Whether ``core[start:end]`` may be one morpheme: no written hyphen inside it."""
        return not any(start < position < end for position in self.forced)


class Segmenter:
    """How each gloss label is spelt, learnt from glossed words (see the module docstring)."""

    def __init__(self, counts: dict[str, dict[str, float]] | None = None):
        #: label -> form -> (expected) count
        self.counts: dict[str, dict[str, float]] = counts or {}
        self._totals = {label: sum(forms.values()) for label, forms in self.counts.items()}

    # -- training -----------------------------------------------------------
    @classmethod
    def train(cls, records: Iterable[IGTRecord], rounds: int = EM_ROUNDS) -> Segmenter:
        """Learn the labels' spellings from glossed records: the cut words of
        records with a segmentation as they are, the plain words of the others by EM."""
        known: dict[str, Counter] = defaultdict(Counter)
        plain: Counter = Counter()  # (folded core, forced, labels) -> how often
        for record in records:
            gloss_words = record.gloss_words
            if not gloss_words:
                continue
            if record.segmented_form:
                for form, label in aligned_morphemes(record):
                    known[label][form.casefold()] += 1
                continue
            plain_words = record.transcription_words
            if len(plain_words) != len(gloss_words):
                continue
            for word, gloss in zip(plain_words, gloss_words):
                shape, labels = _Word.of(word), tuple(word_morphemes(gloss))
                if _cuttable(shape, len(labels)) and len(shape.core) <= MAX_INDUCED_LENGTH:
                    plain[(shape.folded, shape.forced, labels)] += 1
        if not plain:
            return cls({label: dict(forms) for label, forms in known.items()})
        return _Induction(known, plain).run(rounds)

    def _emissions(self, shape: _Word, labels: tuple[str, ...]) -> list[dict[int, dict[int, float]]]:
        """For each label, the log probability of each span it may take
        (start -> end -> score), every later label keeping a character."""
        n, k = len(shape.folded), len(labels)
        emit = []
        for i, label in enumerate(labels):
            spans: dict[int, dict[int, float]] = {}
            for start in range(i, n - (k - i) + 1):
                ends = {end: self.score(label, shape.folded[start:end]) for end in range(start + 1, n - (k - i - 1) + 1)
                        if shape.allows(start, end)}
                if ends:
                    spans[start] = ends
            emit.append(spans)
        if k:
            emit[-1] = {start: {n: ends[n]} for start, ends in emit[-1].items() if n in ends}
        return emit

    def score(self, label: str, form: str) -> float:
        """log P(form | label): the label's counts smoothed towards the base distribution."""
        base = SMOOTHING * CHARACTER_PROBABILITY ** len(form)
        forms = self.counts.get(label)
        if not forms:
            return math.log(CHARACTER_PROBABILITY) * len(form)
        return math.log((forms.get(form, 0.0) + base) / (self._totals[label] + SMOOTHING))

    @property
    def learnt(self) -> bool:
        """Whether any label's spelling was learnt (a segmenter that learnt none does not cut)."""
        return bool(self.counts)

    # -- cutting -------------------------------------------------------------
    def segment(self, word: str, gloss_word: str) -> str:
        """``word`` cut into one morpheme per label of ``gloss_word``, joined
        with the gloss's own markers (``-``, ``=``; a hyphen the word has
        stays one); the word as it is when it has one label, too few
        characters for its labels, or nothing was learnt."""
        labels, markers = split_keep_boundaries(gloss_word)  # at - and =
        shape = _Word.of(word)
        if len(labels) < 2 or not self.learnt or not _cuttable(shape, len(labels)):
            return word
        cuts = self._best_cuts(shape, tuple(labels))
        if cuts is None:
            return word
        pieces = [shape.core[start:end] for start, end in zip([0, *cuts], [*cuts, len(shape.core)])]
        joined = pieces[0] + "".join(("-" if cut in shape.forced else marker) + piece
                                     for cut, marker, piece in zip(cuts, markers, pieces[1:]))
        return shape.prefix + joined + shape.suffix

    def _best_cuts(self, shape: _Word, labels: tuple[str, ...]) -> list[int] | None:
        """The positions of the most probable cut (Viterbi), or None when none is allowed."""
        n, k = len(shape.folded), len(labels)
        emit = self._emissions(shape, labels)
        best: list[dict[int, tuple[float, int]]] = [{0: (0.0, -1)}] + [{} for _ in range(k)]
        for i in range(k):
            for start, (score, _) in best[i].items():
                for end, emission in emit[i].get(start, {}).items():
                    total = score + emission
                    if end not in best[i + 1] or total > best[i + 1][end][0]:
                        best[i + 1][end] = (total, start)
        if n not in best[k]:
            return None
        cuts, position = [], n
        for i in range(k, 1, -1):
            position = best[i][position][1]
            cuts.append(position)
        return cuts[::-1]

    # -- saving ---------------------------------------------------------------
    def to_json(self) -> dict[str, dict[str, float]]:
        return {label: {form: round(count, 3) for form, count in forms.items() if count >= MIN_COUNT}
                for label, forms in self.counts.items()}

    @classmethod
    def from_json(cls, data: dict) -> Segmenter:
        return cls({str(label): {str(form): float(count) for form, count in forms.items()}
                    for label, forms in data.items()})


class _Induction:
    """Expectation maximisation of the labels' spellings over the plain
    training words, vectorised: every (label, form) pair a word's cuts can
    give is a parameter, each word type an array of the parameters its
    spans read, and words of the same length and label count are done together."""

    def __init__(self, known: dict[str, Counter], plain: Counter):
        import numpy as np

        self.pairs: dict[tuple[str, str], int] = {}
        self.labels: dict[str, int] = {}
        self.by_label: dict[str, dict[str, int]] = {}
        for label, forms in known.items():
            for form in forms:
                self._pair(label, form)
        groups: dict[tuple[int, int], list[tuple[np.ndarray, float]]] = defaultdict(list)
        for (folded, forced, labels), weight in plain.items():
            shape, n, k = _Word(folded, folded, forced, "", ""), len(folded), len(labels)
            index = np.full((k, n + 1, n + 1), -1, dtype=np.int32)
            for i, label in enumerate(labels):
                label_pairs = self._label_pairs(label)
                for start in range(i, n - (k - i) + 1):
                    ends = range(start + 1, n - (k - i - 1) + 1) if i < k - 1 else (n,)
                    for end in ends:
                        if not forced or shape.allows(start, end):
                            form = folded[start:end]
                            pair = label_pairs.get(form)
                            if pair is None:
                                pair = label_pairs[form] = len(self.pairs)
                                self.pairs[(label, form)] = pair
                            index[i, start, end] = pair
            groups[(k, n)].append((index, float(weight)))
        self.groups = [(np.stack([index for index, _ in members]), np.array([weight for _, weight in members]))
                       for members in groups.values()]
        size = len(self.pairs)
        self.label_of = np.zeros(size, dtype=np.int64)
        self.length_of = np.zeros(size)
        for (label, form), pair in self.pairs.items():
            self.label_of[pair], self.length_of[pair] = self.labels[label], len(form)
        self.known = np.zeros(size)
        for label, forms in known.items():
            for form, count in forms.items():
                self.known[self.pairs[(label, form)]] += count
        self.base = SMOOTHING * CHARACTER_PROBABILITY ** self.length_of

    def _label_pairs(self, label: str) -> dict[str, int]:
        """The parameter of each form of ``label`` so far (a new label gets an empty table)."""
        if label not in self.labels:
            self.labels[label] = len(self.labels)
            self.by_label[label] = {}
        return self.by_label[label]

    def _pair(self, label: str, form: str) -> int:
        """The parameter of a (label, form) pair, new or not."""
        label_pairs = self._label_pairs(label)
        if form not in label_pairs:
            label_pairs[form] = len(self.pairs)
            self.pairs[(label, form)] = label_pairs[form]
        return label_pairs[form]

    def run(self, rounds: int) -> Segmenter:
        counts = self.known
        for _ in range(rounds):
            counts = self.known + self._expected(counts)
        spellings: dict[str, dict[str, float]] = defaultdict(dict)
        for (label, form), pair in self.pairs.items():
            if counts[pair] >= MIN_COUNT:
                spellings[label][form] = float(counts[pair])
        return Segmenter(dict(spellings))

    def _expected(self, counts: np.ndarray) -> np.ndarray:
        """The expected count of every (label, form) pair over the plain words (forward-backward)."""
        import numpy as np

        totals = np.bincount(self.label_of, weights=counts, minlength=len(self.labels))
        unseen = totals[self.label_of] == 0  # a label never counted: the base distribution alone
        theta = np.where(unseen, CHARACTER_PROBABILITY ** self.length_of,
                         (counts + self.base) / (totals[self.label_of] + SMOOTHING))
        expected = np.zeros(len(counts))
        for index, weights in self.groups:
            emit = np.where(index >= 0, theta[np.maximum(index, 0)], 0.0)   # (T, k, n+1, n+1)
            types, k, width = emit.shape[0], emit.shape[1], emit.shape[2]
            forward = np.zeros((types, k + 1, width))
            forward[:, 0, 0] = 1.0
            for i in range(k):
                forward[:, i + 1] = np.einsum("ta,tab->tb", forward[:, i], emit[:, i])
            backward = np.zeros((types, k + 1, width))
            backward[:, k, width - 1] = 1.0
            for i in range(k - 1, -1, -1):
                backward[:, i] = np.einsum("tab,tb->ta", emit[:, i], backward[:, i + 1])
            total = forward[:, k, width - 1]
            scale = np.where(total > 0, weights / np.where(total > 0, total, 1.0), 0.0)
            posterior = forward[:, :k, :, None] * emit * backward[:, 1:, None, :] * scale[:, None, None, None]
            used = index >= 0
            expected += np.bincount(index[used], weights=posterior[used], minlength=len(counts))
        return expected


def _cuttable(shape: _Word, labels: int) -> bool:
    """Whether a word can be cut into ``labels`` non-empty pieces at its written hyphens."""
    return len(shape.forced) + 1 <= labels <= len(shape.core)

