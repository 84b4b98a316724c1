"""Filling a document's empty glosses from a :class:`Glosser`.

Only empty slots are written (and machine guesses with
``overwrite_guesses``); human-approved glosses are counted as kept. The
model sees each sentence with the source's own morpheme breakdown, so its
glosses line up with the slots one to one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .interlinear.document import GlossSlot, GlossState, InterlinearDocument, Sentence, affixed_forms
from .models.base import Glosser
from .records import UNKNOWN_GLOSS, GlossedRecord, word_morphemes, words


@dataclass
class FillSummary:
    """What glossing did to a document's slots."""

    filled: int = 0          # empty slots that got a machine gloss
    overwritten: int = 0     # earlier guesses replaced (overwrite_guesses)
    kept_human: int = 0      # human-approved glosses, untouched
    kept_guesses: int = 0    # earlier guesses left as they were
    skipped: int = 0         # empty slots the model had no gloss for

    @property
    def kept(self) -> int:
        return self.kept_human + self.kept_guesses

    def add(self, other: FillSummary) -> None:
        for name in ("filled", "overwritten", "kept_human", "kept_guesses", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __str__(self) -> str:
        text = (f"{self.filled:,} morpheme gloss(es) filled, {self.kept:,} kept "
                f"({self.kept_human:,} human-approved, {self.kept_guesses:,} earlier guesses), "
                f"{self.skipped:,} skipped (no confident gloss)")
        if self.overwritten:
            text += f", {self.overwritten:,} earlier guesses overwritten"
        return text


def fill_document(document: InterlinearDocument, glosser: Glosser, overwrite_guesses: bool = False,
                  sentences: list[Sentence] | None = None) -> FillSummary:
    """Gloss the empty slots of ``sentences`` (default: all) in place."""
    sentences = document.sentences if sentences is None else sentences
    summary = FillSummary()
    todo = [s for s in sentences if any(_wants_gloss(slot.state, slot.locked, overwrite_guesses)
                                         for _, _, slot in s.slots())]
    inputs = (s.record(document.language, with_glosses=False) for s in todo)
    # Keyed by object: sentence ids need not be unique in a source file.
    glossed = dict(zip(map(id, todo), glosser.gloss_with_confidence(inputs)))
    for sentence in sentences:
        result = glossed.get(id(sentence))
        summary.add(_fill_sentence(document, sentence, result, overwrite_guesses))
    return summary


def _wants_gloss(state: GlossState, locked: bool, overwrite_guesses: bool) -> bool:
    if locked:
        return False
    return state is GlossState.EMPTY or (overwrite_guesses and state is GlossState.GUESS)


def _fill_sentence(document: InterlinearDocument, sentence: Sentence, result: GlossedRecord | None,
                   overwrite_guesses: bool) -> FillSummary:
    summary = FillSummary()
    if document.adopts_predicted_segmentation and result is not None:
        _adopt_segmentation(sentence, result)
    gloss_words = result.record.gloss_words if result is not None else []  # split once: sentences can be long
    for word_index, slot_index, slot in sentence.slots():
        if slot.state is GlossState.HUMAN or slot.locked:
            summary.kept_human += 1
            continue
        if slot.state is GlossState.GUESS and not overwrite_guesses:
            summary.kept_guesses += 1
            continue
        predicted = _predicted(sentence, result, gloss_words, word_index, slot_index)
        if predicted is None:
            summary.skipped += 1
            continue
        gloss, confidence = predicted
        was_guess = slot.state is GlossState.GUESS
        document.set_gloss(sentence, word_index, slot_index, gloss, GlossState.GUESS, confidence)
        if was_guess:
            summary.overwritten += 1
        else:
            summary.filled += 1
    return summary


def _adopt_segmentation(sentence: Sentence, result: GlossedRecord) -> None:
    """Split unanalysed, unglossed words into the morphemes the model found,
    one slot per gloss piece, so that each morpheme can be checked on its own."""
    if sentence.segmented or not result.record.segmentation:
        return
    segmented, gloss_words = words(result.record.segmentation), result.record.gloss_words
    if not len(segmented) == len(gloss_words) == len(sentence.words):
        return
    for word, segmentation, gloss_word in zip(sentence.words, segmented, gloss_words):
        forms = affixed_forms(segmentation)
        if (len(forms) > 1 and len(forms) == len(word_morphemes(gloss_word))
                and all(slot.state is GlossState.EMPTY and not slot.locked for slot in word.slots)):
            word.slots = [GlossSlot(form) for form in forms]
            word.segmented = True


def _predicted(sentence: Sentence, result: GlossedRecord | None, gloss_words: list[str], word_index: int,
               slot_index: int) -> tuple[str, float] | None:
    """The model's gloss and confidence for one slot, or None when it has none
    (unknown, or its output does not line up with the sentence)."""
    if result is None:
        return None
    if len(gloss_words) != len(sentence.words):
        return None
    word = sentence.words[word_index]
    confidences = result.confidences[word_index] if word_index < len(result.confidences) else []
    if word.segmented or sentence.segmented:
        pieces = word_morphemes(gloss_words[word_index])
        if len(pieces) != len(word.slots):
            return None
        gloss = pieces[slot_index]
        confidence = confidences[slot_index] if slot_index < len(confidences) else 0.0
    else:
        # An unanalysed word keeps one slot: it takes the whole gloss word.
        gloss = gloss_words[word_index]
        confidence = min(confidences) if confidences else 0.0
    if not gloss or UNKNOWN_GLOSS in gloss:
        return None
    return gloss, float(confidence)


def gloss_document_file(input: str | os.PathLike, output: str | os.PathLike, glosser, *,
                        input_format: str | None = None, output_format: str | None = None,
                        overwrite_guesses: bool = False, input_options: dict | None = None,
                        output_options: dict | None = None) -> FillSummary:
    """Read an interlinear file, fill its empty glosses, write the result."""
    from .interlinear import read_document, write_document

    document = read_document(input, input_format, **(input_options or {}))
    summary = fill_document(document, glosser, overwrite_guesses=overwrite_guesses)
    write_document(document, output, output_format, **(output_options or {}))
    return summary
