"""The glossing pipeline: input + glosser + options -> glossed output, with a summary.

Every caller glosses through here: ``autogloss gloss``, the post-editor and
the shared-task runner. Two kinds of input take two roads, chosen once, by
the format registry (:mod:`autogloss.formats`):

* a **document** (FLEx, Toolbox, ELAN, a CLDF dataset) is read whole, only
  its empty glosses are filled (and machine guesses with
  ``overwrite_guesses``), each marked as a guess with its confidence, and
  it is written back whole (:func:`fill_document`); human-approved glosses
  are counted as kept, never touched. The model sees each sentence with the
  source's own morpheme breakdown, so its glosses line up with the slots
  one to one;
* **records** (shared-task text, plain text, JSON lines, Parquet, a bare
  ``examples.csv``) stream through the model in chunks and are written as
  they come, with their per-morpheme confidences where the format holds
  them (:func:`gloss_records`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .errors import AutoglossError, FormatError
from .formats import (document_format_of, layout_options, output_format_for, read_document, read_records,
                      write_document, write_records)
from .formats.plaintext import plain_text_records
from .interlinear.document import (MISSING_MARK, GlossSlot, GlossState, InterlinearDocument, RecordDocument, Sentence,
                                   affixed_forms)
from .models.base import Glosser
from .models.seq2seq.prompt import declare_segmented
from .records import (GlossedRecord, IGTRecord, is_unknown_gloss, join_morphemes, morphemes, split_keep_boundaries,
                      word_morphemes, words)

class Segmented(StrEnum):
    """What is known of the records' transcriptions (see :func:`gloss_records`)."""

    AUTO = "auto"        # what each record says
    YES = "yes"          # segmented
    NO = "no"            # plain
    UNKNOWN = "unknown"  # nothing is known


#: Output formats for glossed records: those that hold a glossed record whole.
RECORD_OUTPUTS = ("sigmorphon", "jsonl")


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
    form = word.slots[slot_index].form
    if not gloss or (gloss != form.strip() and any(map(is_unknown_gloss, word_morphemes(gloss)))):
        return None
    return gloss, float(confidence)


def gloss_records(records: Iterable[IGTRecord], glosser: Glosser, segmented: str = "auto") -> Iterator[GlossedRecord]:
    """Gloss records, streaming, with per-morpheme confidences.

    ``segmented`` says what the transcriptions are: ``auto`` (what each
    record says), ``yes`` (segmented), ``no`` (plain) or ``unknown``.
    """
    if segmented not in tuple(Segmented):
        raise AutoglossError(f"unknown --segmented '{segmented}' (choose {', '.join(Segmented)})")
    return glosser.gloss_with_confidence(declare_segmented(record, segmented) for record in records)


@dataclass
class GlossingResult:
    """What glossing one input did: a filled document, or glossed records."""

    input: str
    output: str
    output_format: str
    #: For a document: what happened to its slots.
    fill: FillSummary | None = None
    #: For records: how many were glossed, which were skipped as malformed
    #: (``skip_invalid``), and the ids of those whose generated glosses had to
    #: be aligned with the input.
    records: int = 0
    skipped: list[FormatError] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.fill is not None:
            return f"{self.input} -> {self.output} ({self.output_format}): {self.fill}"
        return f"{self.records:,} records glossed, written to {self.output}"


def gloss_file(input: str | os.PathLike, output: str | os.PathLike, glosser: Glosser, *,
               input_format: str | None = None, output_format: str | None = None, overwrite_guesses: bool = False,
               segmented: str = "auto", toolbox_markers: str | None = None, elan_tiers: str | None = None,
               encoding: str | None = None, skip_invalid: bool = False, progress: Callable[[], None] | None = None) -> GlossingResult:
    """Gloss a file (``-``: standard input) into ``output`` (``-``: standard output).

    A document is filled and written back whole (in its own format, or the
    one ``output_format`` or the output's extension names); records are
    written as shared-task text or JSON lines (with confidences; the default
    for a ``.jsonl`` output). ``toolbox_markers``, ``elan_tiers`` and
    ``encoding`` give a document's layout (see the registry's layout options). ``progress`` is
    called once per record glossed.
    """
    document_format = document_format_of(input, input_format)
    if document_format:
        output_format = output_format or output_format_for(output, document_format)
        document = read_document(input, document_format,
                                 **layout_options(document_format, toolbox_markers, elan_tiers, encoding))
        summary = fill_document(document, glosser, overwrite_guesses=overwrite_guesses)
        write_document(document, output, output_format,
                       **layout_options(output_format, toolbox_markers, elan_tiers, encoding))
        return GlossingResult(os.fspath(input), os.fspath(output), output_format, fill=summary)
    output_format = output_format or ("jsonl" if Path(output).suffix.lower() == ".jsonl" else "sigmorphon")
    if output_format not in RECORD_OUTPUTS:
        raise AutoglossError(f"unknown --output-format '{output_format}' (choose {' or '.join(RECORD_OUTPUTS)})")
    result = GlossingResult(os.fspath(input), os.fspath(output), output_format)
    glossed = gloss_records(read_records(input, input_format, skip_invalid=skip_invalid, skipped=result.skipped),
                            glosser, segmented)
    # shared-task text drops the gloss line of a record with gaps; glossed output keeps its ``?`` instead
    marked = (unknowns_as_gaps(output, partial=output_format == "jsonl") for output in glossed)
    write_records(_counted(marked, result, progress), output, output_format)
    return result


def unknowns_as_gaps(output: GlossedRecord, partial: bool = True) -> GlossedRecord:
    """A model's output with every unknown morpheme gloss (``[UNK]``, ``???``:
    :func:`~autogloss.records.is_unknown_gloss`) written as a record writes a
    gloss not given yet: ``?`` with confidence 0, so that no file receives
    "not known" as if it were a gloss. ``partial`` sets the record's
    ``glosses_partial`` (JSON lines keeps it: reading the output back sees
    gaps to fill, not labels to learn)."""
    record = output.record
    form_words = morphemes(record.segmented_form or record.transcription)
    gloss_words, confidences, changed = [], [list(word) for word in output.confidences], False
    for index, gloss_word in enumerate(record.gloss_words):
        parts, boundaries = split_keep_boundaries(gloss_word)
        forms = form_words[index] if index < len(form_words) and len(form_words[index]) == len(parts) else []
        for piece, part in enumerate(parts):
            if is_unknown_gloss(part, forms[piece] if forms else ""):
                parts[piece], changed = MISSING_MARK, True
                if index < len(confidences) and piece < len(confidences[index]):
                    confidences[index][piece] = 0.0
        gloss_words.append(join_morphemes(parts, boundaries))
    if not changed:
        return output
    return GlossedRecord(record.replace(glosses=" ".join(gloss_words), glosses_partial=partial), confidences,
                         output.repairs)


def _counted(glossed: Iterator[GlossedRecord], result: GlossingResult,
             progress: Callable[[], None] | None) -> Iterator[GlossedRecord]:
    for output in glossed:
        result.records += 1
        if output.repairs:
            result.repaired.append(output.record.id)
        if progress is not None:
            progress()
        yield output


def gloss_text(text: str, glosser: Glosser, name: str = "pasted text") -> tuple[InterlinearDocument, FillSummary]:
    """Pasted text (a sentence per line, optionally ``TAB`` translation) as a
    document with its glosses filled; read by the plain-text format's rules,
    so a malformed line is a :class:`FormatError` naming ``name`` and the line."""
    records = list(plain_text_records(enumerate(text.splitlines(), start=1), name, "s"))
    if not records:
        raise AutoglossError(f"{name}: no sentence to gloss (one sentence per line)")
    document = RecordDocument.from_records(records)
    return document, fill_document(document, glosser)
