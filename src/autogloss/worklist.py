"""What to correct first: sentences ordered least confident first, and the worklist file.

A sentence's **score** is the lowest confidence among the glosses a person
still has to check: its machine guesses, with a gloss the model could not
give (an empty slot, or ``?``) counting as confidence 0. Confidences are the
model's calibrated per-morpheme confidences (:mod:`autogloss.calibration`)
where the model has a calibration, so a score of 0.3 means the sentence's
weakest gloss is right about three times in ten. A sentence with nothing
left to check (every gloss a person's, or accepted in the post-editor) has
no score (None). One weak gloss is enough to make a sentence worth a look,
which a mean would hide in a long sentence; ties (common: a model reports
few distinct confidences) are broken by the mean confidence, then by the
sentence's place in the document.

:func:`least_confident_first` is the one ordering the post-editor, ``autogloss
gloss --order least-confident`` and the annotation benchmark use. It takes
anything that carries per-morpheme confidences: a model's
:class:`~autogloss.records.GlossedRecord`, a post-editor
:class:`~autogloss.interlinear.Sentence` (its guesses' confidences), or a
plain list of words, each a list of morpheme confidences::

    order = least_confident_first(glossed)          # positions, least confident first
    pool = [glossed[i] for i in order]

The worklist (:func:`write_worklist`) is a tab-separated file with a header:
``rank`` (1 = correct first), ``score`` and ``mean`` (four decimals; empty
when there is nothing to check), ``sentence`` (the sentence id), ``origin``
(``file:line`` where the sentence starts, when known) and ``transcription``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from .errors import AutoglossError
from .fileio import atomic_write, is_stream
from .interlinear.document import GlossState, Sentence
from .records import GlossedRecord, squash_space

T = TypeVar("T")
#: Confidences as a sentence holds them: one list per word, one number per morpheme.
Confidences = Sequence[Sequence[float]]
#: The worklist's columns.
WORKLIST_COLUMNS = ("rank", "score", "mean", "sentence", "origin", "transcription")
#: The worklist written next to an output file: ``OUTPUT.worklist.tsv``.
WORKLIST_SUFFIX = ".worklist.tsv"


def confidences_of(item: GlossedRecord | Sentence | Confidences) -> Confidences:
    """The per-morpheme confidences of what a person still has to check in ``item``.

    A glossed record: the model's confidences. A post-editor sentence: those
    of its machine guesses, 0 for an empty slot the person has to fill;
    nothing for an accepted sentence or a person's glosses. A list of lists:
    itself.
    """
    if isinstance(item, GlossedRecord):
        return item.confidences
    if isinstance(item, Sentence):
        if item.accepted:
            return []
        return [[(slot.confidence or 0.0) if slot.state is GlossState.GUESS else 0.0
                 for slot in word.slots if slot.editable] for word in item.words]
    return item


def sentence_score(confidences: Confidences) -> tuple[float, float] | None:
    """(lowest, mean) of a sentence's morpheme confidences; None when it has none."""
    flat = [float(value) for word in confidences for value in word]
    if not flat:
        return None
    return min(flat), sum(flat) / len(flat)


def least_confident_first(items: Sequence[T],
                          confidences: Callable[[T], Confidences] = confidences_of) -> list[int]:
    """The positions of ``items``, least confident first (see the module
    docstring: the lowest morpheme confidence, then the mean, then the
    position); items with nothing to check come last, in their order.
    ``confidences`` gives an item's per-morpheme confidences (default:
    :func:`confidences_of`)."""
    scores = [sentence_score(confidences(item)) for item in items]
    return sorted(range(len(items)), key=lambda i: (scores[i] is None, scores[i] or (0.0, 0.0), i))


@dataclass(frozen=True)
class WorklistEntry:
    """One sentence of a worklist."""

    sentence: str
    origin: str | None
    transcription: str
    confidences: Confidences


def entry_of(item: GlossedRecord | Sentence) -> WorklistEntry:
    """A glossed record or a document's sentence as a worklist entry."""
    if isinstance(item, GlossedRecord):
        record = item.record
        return WorklistEntry(record.id, record.origin, record.transcription, item.confidences)
    return WorklistEntry(item.id, item.origin, " ".join(word.form for word in item.words), confidences_of(item))


def write_worklist(entries: Iterable[WorklistEntry], path: str | os.PathLike) -> int:
    """Write the worklist of ``entries`` (least confident first) to ``path``,
    atomically; returns how many sentences it lists."""
    entries = list(entries)
    order = least_confident_first(entries, lambda entry: entry.confidences)
    with atomic_write(path) as handle:
        handle.write("\t".join(WORKLIST_COLUMNS) + "\n")
        for rank, index in enumerate(order, start=1):
            entry = entries[index]
            score = sentence_score(entry.confidences)
            shown = [f"{value:.4f}" for value in score] if score is not None else ["", ""]
            cells = [str(rank), *shown, entry.sentence, entry.origin or "", entry.transcription]
            handle.write("\t".join(squash_space(cell.replace("\t", " ")) for cell in cells) + "\n")
    return len(entries)


class Order(StrEnum):
    """The order ``autogloss gloss --order`` offers the sentences in."""

    DOCUMENT = "document"                # the output alone, in document order
    LEAST_CONFIDENT = "least-confident"  # and a worklist, least confident first


def worklist_path(order: Order, output: str | os.PathLike, worklist: str | os.PathLike | None = None) -> str | None:
    """Where a gloss command writes its worklist: ``worklist``, or
    ``OUTPUT.worklist.tsv`` beside the output (None: no worklist)."""
    if Order(order) is Order.DOCUMENT:
        if worklist is not None:
            raise AutoglossError("--worklist: give --order least-confident too")
        return None
    if worklist is None:
        if is_stream(output):
            raise AutoglossError("--order least-confident: the output is a stream; name the worklist with "
                                 "--worklist FILE")
        return os.fspath(output) + WORKLIST_SUFFIX
    if not is_stream(worklist) and not is_stream(output) and Path(worklist).resolve() == Path(output).resolve():
        raise AutoglossError(f"--worklist {worklist}: that is the output file")
    return os.fspath(worklist)
