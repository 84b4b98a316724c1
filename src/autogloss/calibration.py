"""Calibrated confidence: how often a gloss given with confidence ``p`` is right.

The post-editor colours a guess red below a confidence of 0.5, so a
confidence must be a probability: of the morphemes glossed with confidence
about 0.8, about 80% should be right. What a model reports is not that (a
softmax maximum, the relative frequency of a memorised gloss, a lexicon
entry's Dice coefficient); a :class:`ConfidenceMap` fitted on glossed records
the model never trained on turns it into one, separately for each setting
(``segmented``: the morphemes are given; ``plain``: plain text).

Two maps, or none, chosen by calibration error on held-out sentences they
were not fitted on (:func:`choose_map`):

- **temperature**: one number ``T``; the log-odds of the reported confidence
  are divided by it (``sigmoid(logit(p) / T)``), ``T`` minimising the binary
  negative log-likelihood of right/wrong. It keeps the order of the
  confidences and needs few morphemes to fit. (Classic temperature scaling
  divides a network's logits; this is the same on the chosen label's odds,
  and so also applies to confidences that come from no network.)
- **isotonic**: the non-decreasing step function of least squared error
  (pool-adjacent-violators), interpolated between its steps; more flexible:
  it also straightens out lumps (a memorised gloss seen once reports 1.0).

A model that says what each confidence comes from (``GlossedRecord.sources``:
the memory of training glosses, the network, lexicon induction) also gets a
map per source within a setting (key ``setting:source``), where one fits
better than the setting's own map on sentences it was not fitted on: the three
are on different scales (on Gitksan dev, calibrated together, memorised
glosses were right 95% of the time at a confidence of 0.69, lexicon guesses
20% at 0.40), and their mix shifts between held-out sentences and new text.

The held-out sentences are a random part of the training data; where there
are too few to hold any out, the maps are fitted on the out-of-fold outputs
of cross-fitted models (:func:`cross_fitted_calibration`).

A morpheme is right when it equals the gold morpheme at the same position
of the same word (the official scorer's comparison, ``[UNK]`` never right),
so a word with one label too many or too few costs only its own morphemes.

Expected calibration error (:func:`reliability`): the confidences are cut
into :data:`BINS` equal-width bins on [0, 1]; ECE is the mean, weighted by
morphemes, of ``|accuracy - mean confidence|`` per bin.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .records import (CONFIDENCE_SOURCES, LEXICON, NETWORK, PLAIN, SEGMENTED, UNKNOWN_GLOSS, GlossedRecord,
                      IGTRecord, setting_of, word_morphemes, words)

#: Equal-width confidence bins of the expected calibration error and the reliability diagram.
BINS = 10
#: Confidences are kept this far from 0 and 1 in log-odds and likelihoods (a
#: memorised gloss seen once has relative frequency 1.0, which is not certainty).
EPSILON = 1e-4
#: Fewest held-out morphemes of a setting for which a map is fitted (fewer:
#: that setting's confidences stay as the model reports them).
MIN_MORPHEMES = 30
#: A source too rare in the held-out sentences for a map of its own is mapped
#: as the one it stands in for: lexicon induction relabels only stems the
#: memory does not know, which the network would otherwise guess (on Gitksan
#: dev both are right about as seldom, 20-40%, and both far less often than
#: their raw confidences say).
STANDS_IN_FOR = {LEXICON: NETWORK}

# -- right or wrong, per morpheme ---------------------------------------------------
def _split_like(gloss: str, count: int) -> list[str]:
    """A gloss word's morphemes, split the way its ``count`` confidences were:
    at ``-`` and ``=``, or, where that gives another number (a model of
    plain text keeps ``=`` inside a label), at ``-`` only."""
    parts = word_morphemes(gloss)
    return parts if len(parts) == count or "=" not in gloss else gloss.split("-")


def outcomes(gold: Sequence[IGTRecord], glossed: Sequence[GlossedRecord]) -> tuple[np.ndarray, np.ndarray]:
    """The confidence of every glossed morpheme and whether it is right
    (see the module docstring), as two arrays, in reading order."""
    confidences, right, _ = sourced_outcomes(gold, glossed)
    return confidences, right


def sourced_outcomes(gold: Sequence[IGTRecord],
                     glossed: Sequence[GlossedRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`outcomes` and, third, each morpheme's confidence source ("" where the model does not say)."""
    if len(gold) != len(glossed):
        raise ValueError(f"{len(glossed)} glossed records for {len(gold)} gold ones")
    confidences: list[float] = []
    right: list[bool] = []
    sources: list[str] = []
    for reference, output in zip(gold, glossed):
        gold_words = reference.gloss_words
        for index, (word, word_confidences) in enumerate(zip(words(output.record.glosses), output.confidences)):
            predicted = _split_like(word, len(word_confidences))
            expected = _split_like(gold_words[index], len(word_confidences)) if index < len(gold_words) else []
            for position, confidence in enumerate(word_confidences):
                label = predicted[position] if position < len(predicted) else None
                confidences.append(float(confidence))
                right.append(label is not None and label != UNKNOWN_GLOSS and position < len(expected)
                             and label == expected[position])
                sources.append(_source(output, index, position))
    return np.asarray(confidences, dtype=float), np.asarray(right, dtype=bool), np.asarray(sources, dtype=str)


def _source(output: GlossedRecord, word: int, position: int) -> str:
    """What a morpheme's confidence comes from, as the output says ("" where it does not)."""
    if output.sources is None or word >= len(output.sources) or position >= len(output.sources[word]):
        return ""
    return output.sources[word][position]


# -- how well calibrated ---------------------------------------------------------------
@dataclass(frozen=True)
class ReliabilityBin:
    """One confidence bin: its bounds, morphemes, mean confidence and share right."""

    low: float
    high: float
    count: int
    confidence: float
    accuracy: float


@dataclass(frozen=True)
class Reliability:
    """Calibration of a set of glossed morphemes: ECE, the bins of the reliability diagram."""

    ece: float
    morphemes: int
    confidence: float  # mean confidence
    accuracy: float    # share right
    bins: list[ReliabilityBin]

    def to_json(self) -> dict:
        return {"ece": round(self.ece, 4), "morphemes": self.morphemes, "mean_confidence": round(self.confidence, 4),
                "accuracy": round(self.accuracy, 4), "bins": BINS_NAME,
                "reliability": [[round(b.confidence, 4), round(b.accuracy, 4), b.count] for b in self.bins]}


BINS_NAME = f"{BINS} equal-width bins"


def reliability(confidences: np.ndarray, right: np.ndarray, bins: int = BINS) -> Reliability:
    """The reliability diagram and expected calibration error of morphemes
    with these confidences and right/wrong outcomes (empty bins are left out)."""
    confidences = np.clip(np.asarray(confidences, dtype=float), 0.0, 1.0)
    right = np.asarray(right, dtype=float)
    if confidences.size == 0:
        return Reliability(0.0, 0, float("nan"), float("nan"), [])
    index = np.minimum((confidences * bins).astype(int), bins - 1)  # 1.0 goes into the last bin
    found, error = [], 0.0
    for b in range(bins):
        chosen = index == b
        count = int(chosen.sum())
        if not count:
            continue
        mean, accuracy = float(confidences[chosen].mean()), float(right[chosen].mean())
        error += count / confidences.size * abs(accuracy - mean)
        found.append(ReliabilityBin(b / bins, (b + 1) / bins, count, mean, accuracy))
    return Reliability(error, int(confidences.size), float(confidences.mean()), float(right.mean()), found)


def expected_calibration_error(confidences: np.ndarray, right: np.ndarray, bins: int = BINS) -> float:
    """ECE over ``bins`` equal-width bins (see :func:`reliability`)."""
    return reliability(confidences, right, bins).ece


#: Draws of simulated outcomes behind :func:`chance_ece`.
CHANCE_DRAWS = 200


def chance_ece(confidences: np.ndarray, bins: int = BINS, draws: int = CHANCE_DRAWS, seed: int = 0) -> dict:
    """The ECE a perfectly calibrated glosser would still show with these
    confidences on this many morphemes: each morpheme right with probability
    its confidence, ``draws`` times (fixed seed). ECE over few morphemes is
    above 0 by chance alone; one above this range's 95th percentile is
    miscalibration, not noise."""
    confidences = np.clip(np.asarray(confidences, dtype=float), 0.0, 1.0)
    if confidences.size == 0:
        return {"mean": 0.0, "p95": 0.0, "draws": 0}
    generator = np.random.default_rng(seed)
    found = np.array([reliability(confidences, generator.random(confidences.size) < confidences, bins).ece
                      for _ in range(draws)])
    return {"mean": round(float(found.mean()), 4), "p95": round(float(np.percentile(found, 95)), 4), "draws": draws}


def negative_log_likelihood(confidences: np.ndarray, right: np.ndarray) -> float:
    """Mean binary negative log-likelihood of the outcomes under the confidences."""
    p = np.clip(np.asarray(confidences, dtype=float), EPSILON, 1 - EPSILON)
    right = np.asarray(right, dtype=bool)
    return float(-np.mean(np.where(right, np.log(p), np.log1p(-p)))) if p.size else float("nan")


# -- maps from reported to calibrated confidence -------------------------------------
@dataclass(frozen=True)
class ConfidenceMap:
    """A fitted map from a reported confidence to a calibrated one:
    ``temperature`` (with ``temperature``) or ``isotonic`` (with the step
    points ``xs`` -> ``ys``, interpolated)."""

    method: str
    temperature: float = 1.0
    xs: tuple[float, ...] = ()
    ys: tuple[float, ...] = ()

    def __call__(self, confidences: np.ndarray) -> np.ndarray:
        p = np.clip(np.asarray(confidences, dtype=float), EPSILON, 1 - EPSILON)
        if self.method == "temperature":
            return 1 / (1 + np.exp(-np.log(p / (1 - p)) / self.temperature))
        return np.interp(p, self.xs, self.ys)

    def to_dict(self) -> dict:
        if self.method == "temperature":
            return {"method": "temperature", "temperature": round(self.temperature, 6)}
        return {"method": "isotonic", "xs": [round(x, 6) for x in self.xs], "ys": [round(y, 6) for y in self.ys]}

    @classmethod
    def from_dict(cls, data: dict) -> ConfidenceMap:
        """A map from :meth:`to_dict`; a :class:`ValueError` names what is wrong."""
        method = data.get("method")
        if method == "temperature":
            temperature = float(data["temperature"])
            if not temperature > 0:
                raise ValueError(f"temperature {temperature} is not positive")
            return cls("temperature", temperature)
        if method == "isotonic":
            xs, ys = tuple(map(float, data["xs"])), tuple(map(float, data["ys"]))
            if not xs or len(xs) != len(ys) or list(xs) != sorted(xs) or list(ys) != sorted(ys):
                raise ValueError("isotonic points must be two non-decreasing lists of one length")
            return cls("isotonic", xs=xs, ys=ys)
        raise ValueError(f"unknown calibration method {method!r} (temperature or isotonic)")


def fit_temperature(confidences: np.ndarray, right: np.ndarray) -> ConfidenceMap:
    """The temperature of least negative log-likelihood (golden-section search
    over its logarithm, between 1/20 and 20: the likelihood is unimodal in it)."""
    low, high = math.log(0.05), math.log(20.0)
    ratio = (math.sqrt(5) - 1) / 2

    def loss(log_t: float) -> float:
        return negative_log_likelihood(ConfidenceMap("temperature", math.exp(log_t))(confidences), right)

    a, b = high - ratio * (high - low), low + ratio * (high - low)
    loss_a, loss_b = loss(a), loss(b)
    for _ in range(60):
        if loss_a < loss_b:
            high, b, loss_b = b, a, loss_a
            a = high - ratio * (high - low)
            loss_a = loss(a)
        else:
            low, a, loss_a = a, b, loss_b
            b = low + ratio * (high - low)
            loss_b = loss(b)
    return ConfidenceMap("temperature", math.exp((low + high) / 2))


def fit_isotonic(confidences: np.ndarray, right: np.ndarray) -> ConfidenceMap:
    """The isotonic map (pool adjacent violators on the sorted confidences),
    as points at each pooled block's mean confidence; each block's share
    right is smoothed (Laplace), so that a small block of all-right or
    all-wrong guesses does not make a certainty."""
    # equal confidences are one point (so the map's points strictly increase)
    values, where, counts = np.unique(np.asarray(confidences, float), return_inverse=True, return_counts=True)
    rights = np.bincount(where.ravel(), weights=np.asarray(right, float).ravel(), minlength=values.size)
    blocks: list[list[float]] = []  # [sum of x, sum of y, count]
    for x, y, count in zip(values, rights, counts):
        blocks.append([x * count, y, float(count)])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            x_sum, y_sum, count = blocks.pop()
            blocks[-1][0] += x_sum
            blocks[-1][1] += y_sum
            blocks[-1][2] += count
    xs = [x_sum / count for x_sum, _, count in blocks]
    smoothed = [(y_sum + 1) / (count + 2) for _, y_sum, count in blocks]  # one right and one wrong added: never 0 or 1
    ys = np.maximum.accumulate(smoothed).tolist()  # smoothing a small block may undo the order: restore it
    return ConfidenceMap("isotonic", xs=tuple(float(x) for x in xs), ys=tuple(float(y) for y in ys))


FITTERS = {"temperature": fit_temperature, "isotonic": fit_isotonic}


def _shown(mapping: ConfidenceMap) -> str:
    """A map as a model card names it."""
    return mapping.method + (f" (T = {mapping.temperature:.2f})" if mapping.method == "temperature"
                             else f" ({len(mapping.xs)} steps)")


def choose_map(confidences: np.ndarray, right: np.ndarray, method: str = "auto",
               sentences: np.ndarray | None = None, baseline: ConfidenceMap | None = None) -> ConfidenceMap | None:
    """The map of ``method``; ``auto``: temperature or isotonic, whichever
    has the lower expected calibration error in two-fold cross-fitting
    (fitted on alternate sentences, ``sentences`` being each morpheme's
    sentence number, or without it on alternate morphemes; scored on the
    others), or None (keep the confidences as they are) unless that map
    lowers the error on each half it was not fitted on, or where there are
    not two halves: a small held-out sample, or one whose sentences differ
    among themselves, should not make the confidences worse. ``baseline``:
    the map used where this one is not (the setting's, for a source's map),
    which a new map must beat instead of the confidences as they are."""
    if method != "auto":
        return FITTERS[method](confidences, right)
    parity = (np.arange(confidences.size) if sentences is None else np.asarray(sentences)) % 2 == 0
    if parity.all() or not parity.any():
        return None
    halves = (parity, ~parity)

    def held_out_errors(fitter) -> np.ndarray:  # fitter None: the baseline, or the confidences as they are
        kept = baseline if baseline is not None else (lambda found: found)
        return np.array([expected_calibration_error(kept(confidences[~fit]) if fitter is None
                                                    else fitter(confidences[fit], right[fit])(confidences[~fit]),
                                                    right[~fit])
                         for fit in halves])

    errors = {name: held_out_errors(fitter) for name, fitter in FITTERS.items()}
    best = min(errors, key=lambda name: errors[name].sum())
    if not np.all(errors[best] < held_out_errors(None)):
        return None
    return FITTERS[best](confidences, right)


@dataclass
class Calibration:
    """A model's confidence maps, one per setting it was fitted for, and
    what it was fitted on (``fitted``: per setting, morphemes and ECE before
    and after, on the fitting data itself)."""

    maps: dict[str, ConfidenceMap] = field(default_factory=dict)
    fitted: dict[str, dict] = field(default_factory=dict)

    def apply(self, record: IGTRecord, output: GlossedRecord) -> GlossedRecord:
        """The output with its confidences calibrated: each by the map of its
        setting and source, else of its setting (unchanged without either)."""
        setting = setting_of(record)
        if not output.confidences or not any(key == setting or key.startswith(setting + ":") for key in self.maps):
            return output
        flat = np.asarray([c for word in output.confidences for c in word], dtype=float)
        sources = np.asarray([_source(output, index, position) for index, word in enumerate(output.confidences)
                              for position in range(len(word))], dtype=str)
        mapped = iter(np.round(self.mapped(setting, flat, sources), 4).tolist())
        calibrated = [[next(mapped) for _ in word] for word in output.confidences]
        return GlossedRecord(output.record, calibrated, output.repairs, output.sources)

    def map_for(self, setting: str, source: str = "") -> ConfidenceMap | None:
        """The map of a setting's confidences from ``source``: its own, else
        that of the source it stands in for (:data:`STANDS_IN_FOR`), else the
        setting's (None: none)."""
        for key in (source, STANDS_IN_FOR.get(source)):
            if key and f"{setting}:{key}" in self.maps:
                return self.maps[f"{setting}:{key}"]
        return self.maps.get(setting)

    def mapped(self, setting: str, confidences: np.ndarray, sources: np.ndarray) -> np.ndarray:
        """Confidences of one setting calibrated as :meth:`apply` does, by source."""
        result = np.asarray(confidences, dtype=float).copy()
        for source in set(sources.tolist()):
            mapping = self.map_for(setting, source)
            if mapping is not None:
                chosen = sources == source
                result[chosen] = mapping(result[chosen])
        return result

    def describe(self) -> str:
        """One line for a model card."""
        settings = list(self.fitted) + [setting for setting in self.maps
                                        if ":" not in setting and setting not in self.fitted]
        if not settings:
            return "not calibrated"
        parts = []
        for setting in settings:
            fitted = self.fitted.get(setting, {})
            on = (f"on {fitted.get('morphemes', '?')} {fitted.get('fitted_on', 'held-out')} morphemes, "
                  f"ECE {fitted.get('ece_before', float('nan')):.3f}")
            mapping = self.maps.get(setting)
            if mapping is None:
                part = (f"{setting}: kept as computed (no map lowered the calibration error on sentences it "
                        f"was not fitted on; {on})")
            else:
                part = f"{setting}: {_shown(mapping)} {on} -> {fitted.get('ece_after', float('nan')):.3f}"
            own = [f"{source} {_shown(self.maps[f'{setting}:{source}'])}" for source in CONFIDENCE_SOURCES
                   if f"{setting}:{source}" in self.maps]
            if own:
                part += f" (a map of its own for the confidences from the {', '.join(own)})"
            parts.append(part)
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {"bins": BINS, "maps": {setting: mapping.to_dict() for setting, mapping in self.maps.items()},
                "fitted": self.fitted}

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        """A calibration from :meth:`to_dict`; a :class:`ValueError` names what is wrong."""
        if not isinstance(data, dict) or not isinstance(data.get("maps", {}), dict):
            raise ValueError("calibration must be an object with a 'maps' object")
        maps = {}
        for setting, mapping in data.get("maps", {}).items():
            kind, _, source = setting.partition(":")
            if kind not in (SEGMENTED, PLAIN) or (source and source not in CONFIDENCE_SOURCES):
                raise ValueError(f"unknown setting {setting!r} (segmented or plain, optionally :"
                                 f"{', :'.join(CONFIDENCE_SOURCES)})")
            try:
                maps[setting] = ConfidenceMap.from_dict(mapping)
            except (KeyError, TypeError, AttributeError) as error:
                raise ValueError(f"{setting}: incomplete map ({error})") from None
        return cls(maps, dict(data.get("fitted") or {}))


def fit_calibration(inputs: Sequence[IGTRecord], gold: Sequence[IGTRecord], glossed: Sequence[GlossedRecord],
                    method: str = "auto", fitted_on: str = "held-out") -> Calibration:
    """Confidence maps fitted on a model's ``glossed`` outputs for ``inputs``
    held out of its training (``gold``: the same records with their person-given
    glosses), one per setting of the inputs with at least :data:`MIN_MORPHEMES`
    morphemes, where one helps (:func:`choose_map`; ``fitted`` records the
    settings where none did too). ``fitted_on`` says what the outputs are, for the model card."""
    if method not in ("auto", *FITTERS):
        raise ValueError(f"unknown calibration method {method!r} (auto, {', '.join(FITTERS)})")
    calibration = Calibration()
    for setting in (SEGMENTED, PLAIN):
        chosen = [i for i, record in enumerate(inputs) if setting_of(record) == setting]
        per_sentence = [sourced_outcomes([gold[i]], [glossed[i]]) for i in chosen]
        if sum(found.size for found, _, _ in per_sentence) < MIN_MORPHEMES:
            continue
        confidences = np.concatenate([found for found, _, _ in per_sentence])
        right = np.concatenate([found for _, found, _ in per_sentence])
        sources = np.concatenate([found for _, _, found in per_sentence])
        sentences = np.repeat(np.arange(len(per_sentence)), [found.size for found, _, _ in per_sentence])
        maps, by_source = _setting_maps(setting, confidences, right, sources, sentences, method)
        mapping = maps.get(setting)
        calibration.maps.update(maps)
        calibration.fitted[setting] = {
            "morphemes": int(confidences.size), "sentences": len(per_sentence), "fitted_on": fitted_on,
            "method": mapping.method if mapping is not None else "none",
            "accuracy": round(float(right.mean()), 4),
            "ece_before": round(expected_calibration_error(confidences, right), 4),
            "ece_after": round(expected_calibration_error(calibration.mapped(setting, confidences, sources), right), 4),
            **({"sources": by_source} if by_source else {})}
    return calibration


def _setting_maps(setting: str, confidences: np.ndarray, right: np.ndarray, sources: np.ndarray,
                  sentences: np.ndarray, method: str) -> tuple[dict[str, ConfidenceMap], dict[str, dict]]:
    """One setting's maps, keyed as :attr:`Calibration.maps`: the setting's
    own (:func:`choose_map`), and one per confidence source with at least
    :data:`MIN_MORPHEMES` morphemes where it beats the setting's on that
    source's morphemes; and what was found per source."""
    maps: dict[str, ConfidenceMap] = {}
    mapping = choose_map(confidences, right, method, sentences)
    if mapping is not None:
        maps[setting] = mapping
    by_source = {}
    for source in CONFIDENCE_SOURCES:
        part = sources == source
        if part.sum() < MIN_MORPHEMES or part.all():
            continue  # too few to fit, or the setting's own map was chosen on exactly these
        own = choose_map(confidences[part], right[part], method, sentences[part], baseline=mapping)
        if own is not None:
            maps[f"{setting}:{source}"] = own
        by_source[source] = {"morphemes": int(part.sum()), "accuracy": round(float(right[part].mean()), 4),
                             "method": own.method if own is not None else "the setting's"}
    return maps, by_source


class Calibrated(Protocol):
    """What calibration needs of a model (a :class:`~autogloss.models.base.Glosser`, a floor above)."""

    calibration: Calibration | None

    def gloss_with_confidence(self, records: Sequence[IGTRecord]) -> Iterable[GlossedRecord]: ...


#: Folds of cross-fitted calibration (:func:`cross_fitted_calibration`): each
#: auxiliary model trains on the other two thirds of the sentences.
CROSS_FIT_FOLDS = 3


def cross_fitted_calibration(records: Sequence[IGTRecord], train: Callable[[list[IGTRecord]], Calibrated],
                             folds: int = CROSS_FIT_FOLDS, method: str = "auto") -> Calibration:
    """Confidence maps for a model trained on all of ``records``, too few to
    hold any out: the glossed ones are cut into ``folds`` folds at random
    (seed 0); ``train`` trains, the way the model itself was trained, an
    auxiliary model on all records but one fold, which it then glosses
    (:func:`held_out_inputs`); the maps are fitted on those out-of-fold
    outputs, of models that never saw the sentences they gloss and were
    trained as the final one was, on a little less data."""
    glossed = [index for index, record in enumerate(records) if record.has_glosses]
    folds = min(folds, len(glossed))
    if folds < 2:
        return Calibration()
    order = random.Random(0).sample(glossed, len(glossed))
    fold_of = {index: position % folds for position, index in enumerate(order)}
    inputs, gold, outputs = [], [], []
    for fold in range(folds):
        model = train([record for index, record in enumerate(records) if fold_of.get(index) != fold])
        model.calibration = None
        fold_inputs, fold_gold = held_out_inputs([records[index] for index in glossed if fold_of[index] == fold])
        inputs += fold_inputs
        gold += fold_gold
        outputs += model.gloss_with_confidence(fold_inputs)
    return fit_calibration(inputs, gold, outputs, method, fitted_on=f"out-of-fold ({folds} cross-fitted models)")


def held_out_inputs(records: Sequence[IGTRecord]) -> tuple[list[IGTRecord], list[IGTRecord]]:
    """What a model glosses to be calibrated on held-out glossed ``records``:
    (inputs, their gold). Each record is glossed as given, glosses removed;
    one with a segmentation tier is also glossed as plain text (tier removed),
    so that the ``plain`` setting is calibrated too: a model that never saw
    plain text then reports how seldom it is right there."""
    inputs, gold = [], []
    for record in records:
        if not record.has_glosses:
            continue
        inputs.append(record.replace(glosses=""))
        gold.append(record)
        plain = record.replace(glosses="", segmentation=None)
        if record.segmentation and plain.segmented_form is None and plain.transcription_words:
            inputs.append(plain)
            gold.append(record)
    return inputs, gold
