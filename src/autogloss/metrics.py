"""Glossing metrics exactly as published.

``official`` reproduces the SIGMORPHON 2023 shared-task evaluation script
(``baseline/src/eval.py`` of sigmorphon/2023glossingST), which produced the
leaderboard: words are whitespace tokens of the gloss line; morphemes come
from splitting the stripped line at every single whitespace character and
hyphen (``re.split(r"\\s|-", line)``); a prediction counts when it is equal
to the gold token at the same position and is not ``[UNK]``; accuracy is
micro-averaged over all gold tokens, so missing predictions are wrong and
extra ones are ignored; punctuation tokens count like any other.

``glosslm`` is the same after GlossLM's ``strip_gloss_punctuation``: every
stand-alone single non-word character token is removed from both lines
first (``re.sub(r"(\\s|^)[^\\w\\s](\\s|$)", " ", line)``).

Every result carries a signature naming its scorer and options, so two
numbers are never silently incomparable.

Segmentation (the ``\\m`` line, see :func:`evaluate_segmentation`) is scored
apart from the glosses: morpheme-boundary precision, recall and F1, and the
share of words segmented exactly as in the gold.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from . import __version__
from .errors import AutoglossError
from .records import UNKNOWN_GLOSS, IGTRecord, is_grammatical, word_morphemes, words

if TYPE_CHECKING:  # numpy and sacrebleu load when a score is computed: commands that only name a scorer start fast
    import numpy as np


class Scorer(StrEnum):
    """The two scorers (see the module docstring)."""

    OFFICIAL = "official"
    GLOSSLM = "glosslm"


SCORERS = tuple(Scorer)
_MORPHEME_SPLIT = re.compile(r"\s|-")
_STANDALONE_PUNCTUATION = re.compile(r"(\s|^)[^\w\s](\s|$)")


def strip_gloss_punctuation(line: str) -> str:
    """GlossLM's rule: drop single non-word characters standing alone."""
    return _STANDALONE_PUNCTUATION.sub(" ", line).strip()


def prepare_line(line: str | None, scorer: str) -> str:
    """The gloss line as the scorer sees it."""
    line = (line or "").strip()
    return strip_gloss_punctuation(line) if scorer == "glosslm" else line


def word_tokens(line: str) -> list[str]:
    return line.split()


def morpheme_tokens(line: str) -> list[str]:
    """Official morpheme tokens; an empty line has none."""
    return _MORPHEME_SPLIT.split(line) if line else []


def _correct(pred: Sequence[str], gold: Sequence[str]) -> int:
    return sum(1 for p, g in zip(pred, gold) if p == g and p != UNKNOWN_GLOSS)  # never counted correct, as in the official script


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float

    @classmethod
    def from_counts(cls, correct: int, predicted: int, gold: int) -> PRF:
        precision = correct / predicted if predicted else 0.0
        recall = correct / gold if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(100 * precision, 100 * recall, 100 * f1)


def stem_gram_scores(pred: list[list[str]], gold: list[list[str]]) -> dict[str, PRF]:
    """Precision/recall/F1 of stems and grammatical labels, as the official
    script counts them: a token is grammatical when it is upper case; a
    prediction is typed by its own case; the type of a hit is the gold's."""
    counts = {kind: {"correct": 0, "pred": 0, "gold": 0} for kind in ("stem", "gram")}
    for entry_pred, entry_gold in zip(pred, gold):
        for index, gold_token in enumerate(entry_gold):
            kind = "gram" if is_grammatical(gold_token) else "stem"
            counts[kind]["gold"] += 1
            if index < len(entry_pred):
                counts["gram" if is_grammatical(entry_pred[index]) else "stem"]["pred"] += 1
                if entry_pred[index] == gold_token:
                    counts[kind]["correct"] += 1
    return {kind: PRF.from_counts(c["correct"], c["pred"], c["gold"]) for kind, c in counts.items()}


def _bootstrap_interval(correct: np.ndarray, total: np.ndarray, samples: int, seed: int) -> tuple[float, float]:
    """95% percentile interval of micro accuracy over sentences drawn with replacement."""
    import numpy as np

    if samples <= 0 or total.sum() == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(total), size=(samples, len(total)))
    accuracy = correct[draws].sum(axis=1) / np.maximum(total[draws].sum(axis=1), 1)
    low, high = np.percentile(accuracy, [2.5, 97.5])
    return (100 * float(low), 100 * float(high))


@dataclass
class Evaluation:
    """All scores of one prediction file against its gold file (percentages)."""

    scorer: str
    records: int
    word_accuracy: float
    morpheme_accuracy: float
    word_accuracy_per_sentence: float
    morpheme_accuracy_per_sentence: float
    chrf_pp: float
    bleu: float
    stem: PRF
    gram: PRF
    word_accuracy_ci: tuple[float, float]
    morpheme_accuracy_ci: tuple[float, float]
    gold_words: int
    gold_morphemes: int
    warnings: list[str] = field(default_factory=list)
    bootstrap_samples: int = 0
    #: Scores of the predicted ``\m`` line, when asked for and both files have one.
    segmentation: SegmentationScores | None = None

    @property
    def signature(self) -> str:
        punctuation = "kept" if self.scorer == "official" else "standalone-stripped"
        return (f"scorer:{self.scorer}|words:whitespace|morphemes:whitespace+hyphen|punct:{punctuation}"
                f"|avg:micro|unk:wrong|chrf:word_order=2|bleu:morpheme,4-gram,no-smoothing"
                f"|ci:bootstrap95|autogloss:{__version__}")

    def interval_note(self) -> str | None:
        """Why the 95% intervals are missing (``None`` in JSON), if they are."""
        if not any(math.isnan(bound) for bound in (*self.word_accuracy_ci, *self.morpheme_accuracy_ci)):
            return None
        if self.bootstrap_samples <= 0:
            return "no 95% intervals: no bootstrap samples were asked for (bootstrap 0)"
        return "no 95% intervals: the gold records have no glosses to resample"

    def to_json(self) -> dict:
        """The scores as JSON values: a missing interval is ``null``, never NaN,
        and ``ci95_note`` says why."""
        def interval(bounds: tuple[float, float]) -> list[float] | None:
            return None if any(math.isnan(bound) for bound in bounds) else list(bounds)

        return {
            "word_accuracy": self.word_accuracy,
            "morpheme_accuracy": self.morpheme_accuracy,
            "chrf_pp": self.chrf_pp,
            "bleu": self.bleu,
            "word_accuracy_per_sentence": self.word_accuracy_per_sentence,
            "morpheme_accuracy_per_sentence": self.morpheme_accuracy_per_sentence,
            "stem": vars(self.stem),
            "gram": vars(self.gram),
            "word_accuracy_ci95": interval(self.word_accuracy_ci),
            "morpheme_accuracy_ci95": interval(self.morpheme_accuracy_ci),
            "ci95_note": self.interval_note(),
            "bootstrap_samples": self.bootstrap_samples,
            "records": self.records,
            "gold_words": self.gold_words,
            "gold_morphemes": self.gold_morphemes,
            "scorer": self.scorer,
            "signature": self.signature,
            "warnings": self.warnings,
            **({"segmentation": self.segmentation.to_json()} if self.segmentation is not None else {}),
        }


def _accuracies(pred: list[list[str]], gold: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    correct = np.array([_correct(p, g) for p, g in zip(pred, gold)], dtype=np.int64)
    total = np.array([len(g) for g in gold], dtype=np.int64)
    return correct, total


def _per_sentence(correct: np.ndarray, total: np.ndarray) -> float:
    # The official script divides by zero on a gold record without glosses;
    # such records carry no tokens and are left out of the per-sentence mean.
    scored = total > 0
    return 100 * float((correct[scored] / total[scored]).mean()) if scored.any() else 0.0


def evaluate_lines(gold_lines: Sequence[str | None], pred_lines: Sequence[str | None], scorer: str = "official",
                   bootstrap_samples: int = 1000, seed: int = 0) -> Evaluation:
    """Score predicted gloss lines against gold gloss lines, position by position."""
    from sacrebleu.metrics import BLEU, CHRF

    if scorer not in SCORERS:
        raise AutoglossError(f"unknown scorer '{scorer}' (choose from {', '.join(SCORERS)})")
    if len(gold_lines) != len(pred_lines):
        raise AutoglossError(f"{len(gold_lines)} gold records but {len(pred_lines)} predicted records")
    if not gold_lines:
        raise AutoglossError("no records to score")
    gold = [prepare_line(line, scorer) for line in gold_lines]
    pred = [prepare_line(line, scorer) for line in pred_lines]
    gold_words, pred_words = [word_tokens(x) for x in gold], [word_tokens(x) for x in pred]
    gold_morphs, pred_morphs = [morpheme_tokens(x) for x in gold], [morpheme_tokens(x) for x in pred]
    word_correct, word_total = _accuracies(pred_words, gold_words)
    morph_correct, morph_total = _accuracies(pred_morphs, gold_morphs)
    classes = stem_gram_scores(pred_morphs, gold_morphs)
    bleu = BLEU(tokenize="none", smooth_method="none", force=True).corpus_score(
        [" ".join(tokens) for tokens in pred_morphs], [[" ".join(tokens) for tokens in gold_morphs]])
    chrf = CHRF(word_order=2).corpus_score(pred, [gold])
    warnings = []
    empty_gold = int((word_total == 0).sum())
    if empty_gold:
        warnings.append(f"{empty_gold} gold record(s) have no glosses and carry no weight")
    return Evaluation(
        scorer=scorer,
        records=len(gold),
        word_accuracy=100 * float(word_correct.sum() / max(word_total.sum(), 1)),
        morpheme_accuracy=100 * float(morph_correct.sum() / max(morph_total.sum(), 1)),
        word_accuracy_per_sentence=_per_sentence(word_correct, word_total),
        morpheme_accuracy_per_sentence=_per_sentence(morph_correct, morph_total),
        chrf_pp=float(chrf.score),
        bleu=float(bleu.score),
        stem=classes["stem"],
        gram=classes["gram"],
        word_accuracy_ci=_bootstrap_interval(word_correct, word_total, bootstrap_samples, seed),
        morpheme_accuracy_ci=_bootstrap_interval(morph_correct, morph_total, bootstrap_samples, seed),
        gold_words=int(word_total.sum()),
        gold_morphemes=int(morph_total.sum()),
        warnings=warnings,
        bootstrap_samples=max(bootstrap_samples, 0),
    )


def evaluate_records(gold: Sequence[IGTRecord], pred: Sequence[IGTRecord], scorer: str = "official",
                     bootstrap_samples: int = 1000, seed: int = 0, *, gold_name: str | None = None,
                     pred_name: str | None = None, segmentation: bool = False) -> Evaluation:
    """Score predicted records against gold records of the same sentences, in order.

    Records that cannot be scored against each other are refused, naming the
    files (``gold_name``, ``pred_name``) when given: none at all, a different
    number of them, or gold without glosses (a covered file). With
    ``segmentation``, the predicted ``\\m`` lines are scored too when gold and
    prediction have them (:func:`evaluate_segmentation`); off by default
    because a prediction that copied its input's segmentation (track 2)
    would only score the gold against itself.
    """
    for name, records in ((gold_name, gold), (pred_name, pred)):
        if not records and name is not None:
            raise AutoglossError(f"{name}: no records to score")
    named = f"{gold_name} and {pred_name}: " if gold_name and pred_name else ""
    if len(gold) != len(pred):
        raise AutoglossError(f"{named}{len(gold)} gold records but {len(pred)} predicted records: "
                             "the files must hold the same sentences in the same order")
    if gold_name is not None and not any(record.has_glosses for record in gold):
        raise AutoglossError(f"{gold_name}: has no gloss lines: is it a covered file? "
                             f"(the gold file needs the glosses)")
    result = evaluate_lines([r.glosses for r in gold], [r.glosses for r in pred], scorer, bootstrap_samples, seed)
    differing = [i + 1 for i, (g, p) in enumerate(zip(gold, pred))
                 if g.transcription.split() != p.transcription.split()]
    if differing:
        shown = ", ".join(map(str, differing[:5])) + (" ..." if len(differing) > 5 else "")
        result.warnings.append(f"{len(differing)} record(s) have a different transcription in gold and "
                               f"prediction (records {shown}): are the files in the same order?")
    if segmentation:
        result.segmentation = evaluate_segmentation(gold, pred)
    return result


# -- segmentation ---------------------------------------------------------------
def segmented_word(word: str) -> tuple[str, frozenset[int]]:
    """A segmented word as its bare form and the positions of its morpheme boundaries.

    The form is the word without its ``-`` and ``=``, case-folded and without
    punctuation at its edges: the shared task's gold segmentations are mostly
    lower case and leave out the commas and full stops the transcription
    attaches to words, and neither is a matter of segmentation. A boundary at
    ``i`` lies between the form's characters ``i - 1`` and ``i``; which marker
    it was is not kept, so a clitic boundary predicted as an affix one still
    counts.
    """
    characters: list[str] = []
    boundaries: list[int] = []
    for index, piece in enumerate(word_morphemes(word)):
        if index:
            boundaries.append(len(characters))
        characters.extend(piece.casefold())
    start, end = 0, len(characters)
    while start < end and unicodedata.category(characters[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(characters[end - 1]).startswith("P"):
        end -= 1
    return "".join(characters[start:end]), frozenset(b - start for b in boundaries if start < b < end)


@dataclass(frozen=True)
class SegmentationScores:
    """How well a predicted ``\\m`` line matches the gold one (percentages).

    Words are compared by position, as the official scorer compares glosses.
    ``boundary`` counts every gold word: where the prediction has other
    characters (the gold writes an underlying form, or the prediction is
    missing) its gold boundaries are missed and its predicted ones wrong.
    ``boundary_same_form`` counts only the words whose characters agree, so
    it shows where the segmenter splits apart from what it cannot spell.
    ``word_accuracy`` is the share of gold words with the same form and the
    same boundaries; ``multi_morpheme_accuracy`` the same among gold words of
    two or more morphemes. A gold token of punctuation alone is not scored.
    """

    boundary: PRF
    boundary_same_form: PRF
    word_accuracy: float
    multi_morpheme_accuracy: float
    records: int
    words: int
    multi_morpheme_words: int
    differing_words: int  # gold words whose prediction has other characters, or none

    @property
    def signature(self) -> str:
        return (f"segmentation|words:whitespace,by-position|boundaries:positions,marker-ignored"
                f"|form:casefold,edge-punct-stripped|punct-only:skipped|other-form:miss|avg:micro"
                f"|autogloss:{__version__}")

    def to_json(self) -> dict:
        return {
            "boundary": vars(self.boundary),
            "boundary_same_form": vars(self.boundary_same_form),
            "word_accuracy": self.word_accuracy,
            "multi_morpheme_accuracy": self.multi_morpheme_accuracy,
            "records": self.records,
            "words": self.words,
            "multi_morpheme_words": self.multi_morpheme_words,
            "differing_words": self.differing_words,
            "signature": self.signature,
        }


def _missing_word() -> tuple[None, frozenset[int]]:
    return None, frozenset()


def segmentation_scores(gold_lines: Sequence[str | None], pred_lines: Sequence[str | None]) -> SegmentationScores:
    """Score predicted segmentation lines against gold ones (see
    :class:`SegmentationScores`); gold records without a line are left out."""
    if len(gold_lines) != len(pred_lines):
        raise AutoglossError(f"{len(gold_lines)} gold records but {len(pred_lines)} predicted records")
    counts = dict.fromkeys(("records", "words", "multi", "differing", "exact", "exact_multi", "gold", "predicted",
                            "correct", "same_gold", "same_predicted", "same_correct"), 0)
    for gold_line, pred_line in zip(gold_lines, pred_lines):
        if not (gold_line or "").strip():
            continue
        counts["records"] += 1
        gold = [segmented_word(word) for word in words(gold_line)]
        pred = [segmented_word(word) for word in words(pred_line)]
        for index, (form, boundaries) in enumerate(gold):
            if not form:
                continue  # punctuation alone: nothing to segment
            guess, guessed = pred[index] if index < len(pred) else _missing_word()
            hits = len(boundaries & guessed) if guess == form else 0
            counts["words"] += 1
            counts["multi"] += bool(boundaries)
            counts["gold"] += len(boundaries)
            counts["predicted"] += len(guessed)
            counts["correct"] += hits
            if guess != form:
                counts["differing"] += 1
                continue
            counts["same_gold"] += len(boundaries)
            counts["same_predicted"] += len(guessed)
            counts["same_correct"] += hits
            if boundaries == guessed:
                counts["exact"] += 1
                counts["exact_multi"] += bool(boundaries)
        counts["predicted"] += sum(len(guessed) for _, guessed in pred[len(gold):])  # words the gold lacks
    return SegmentationScores(
        boundary=PRF.from_counts(counts["correct"], counts["predicted"], counts["gold"]),
        boundary_same_form=PRF.from_counts(counts["same_correct"], counts["same_predicted"], counts["same_gold"]),
        word_accuracy=100 * counts["exact"] / counts["words"] if counts["words"] else 0.0,
        multi_morpheme_accuracy=100 * counts["exact_multi"] / counts["multi"] if counts["multi"] else 0.0,
        records=counts["records"],
        words=counts["words"],
        multi_morpheme_words=counts["multi"],
        differing_words=counts["differing"],
    )


def evaluate_segmentation(gold: Sequence[IGTRecord], pred: Sequence[IGTRecord]) -> SegmentationScores | None:
    """Score the predicted ``\\m`` lines against the gold ones, record by
    record; ``None`` when the gold or the prediction has none at all (a gold
    record without one is left out; a prediction without one, where the gold
    has it, misses all its boundaries)."""
    if not any(record.segmentation for record in gold) or not any(record.segmentation for record in pred):
        return None
    return segmentation_scores([record.segmentation for record in gold], [record.segmentation for record in pred])
