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
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .errors import AutoglossError, FormatError
from .fileio import is_stream
from .formats import (document_format_of, layout_options, output_format_for, read_document, read_records,
                      recognised_format, write_document, write_records)
from .formats.plaintext import plain_text_records
from .interlinear.document import (MISSING_MARK, GlossSlot, GlossState, InterlinearDocument, RecordDocument, Sentence,
                                   affixed_forms)
from .models.base import MIN_KNOWN_SENTENCES, Glosser, TrainingData, language_names
from .models.seq2seq.prompt import declare_segmented
from .records import (SETTINGS, UNKNOWN_GLOSS, GlossedRecord, IGTRecord, Language, is_unknown_gloss, join_morphemes,
                      morphemes, setting_of, split_keep_boundaries, word_morphemes, words)
from .worklist import WorklistEntry, entry_of, write_worklist

class Segmented(StrEnum):
    """What is known of the records' transcriptions (see :func:`gloss_records`)."""

    AUTO = "auto"        # what each record says
    YES = "yes"          # segmented
    NO = "no"            # plain
    UNKNOWN = "unknown"  # nothing is known


#: Output formats for glossed records: those that hold a glossed record whole.
RECORD_OUTPUTS = ("sigmorphon", "jsonl")

#: Below this a confidence is low: the post-editor marks such guesses (red),
#: and every guess for a language the model was not trained on is capped below it.
LOW_CONFIDENCE = 0.5
#: The highest confidence a guess of a language or setting the model was not trained on keeps.
UNTRAINED_CONFIDENCE = round(LOW_CONFIDENCE - 0.01, 2)
#: The command a warning suggests: fine-tuning on a few glossed sentences of the language.
FINETUNE_HINT = "autogloss finetune --train GLOSSED-SENTENCES --out MY-MODEL, then gloss with --model MY-MODEL"


class TrainingCheck:
    """Glossing checked against what the model was trained on (its config's
    :class:`~autogloss.models.base.TrainingData`).

    A record in a **setting** (segmented, plain) the model saw fewer than
    :data:`~autogloss.models.base.MIN_KNOWN_SENTENCES` sentences of, in any
    language, is **refused**: it is left unglossed, because the part of the
    network that glosses that setting was never trained and its output is
    noise (``one one one`` for plain text from a model trained on segmented
    text), not a weak guess worth correcting. A record of a **language** the
    model saw fewer sentences of than that in its setting is glossed, with
    every confidence capped at :data:`UNTRAINED_CONFIDENCE`, so that each
    guess shows as low-confidence. A record naming no language is taken to be
    of the model's language when it was trained on one; for a multilingual
    model its language is unknown. A model whose training is not recorded is
    not checked. :meth:`warning` is the one line saying what happened and
    what to do.
    """

    def __init__(self, glosser: Glosser):
        recorded = getattr(glosser, "training_data", None)  # anything that glosses, Glosser or not
        self.data = recorded() if recorded is not None else TrainingData()
        self.name = getattr(glosser, "source", None) or type(glosser).__name__
        self.refused: dict[str, int] = {}
        self.capped: dict[str, int] = {}

    def verdict(self, record: IGTRecord) -> tuple[str, str] | None:
        """``("refuse" | "cap", what is unknown)`` for a record the model was not trained for, else None."""
        if not self.data.recorded:
            return None
        setting = setting_of(record)
        total = self.data.sentences(setting) or 0
        if total < MIN_KNOWN_SENTENCES:
            other = next(s for s in SETTINGS if s != setting)
            return "refuse", f"{setting} text (trained on {total:,} {setting} sentences, only {other} ones)"
        if not language_names(record.language):
            known = len(self.data.languages or {})
            if known <= 1:
                return None
            return "cap", f"text naming no language (the model knows {known:,}: name it with --language)"
        count = self.data.sentences(setting, record.language) or 0
        if count < MIN_KNOWN_SENTENCES:
            other = next(s for s in SETTINGS if s != setting)
            elsewhere = self.data.sentences(other, record.language) or 0
            return "cap", (f"{record.language.label()} in {setting} text ({count:,} {setting} training sentences"
                           + (f", {elsewhere:,} {other}" if elsewhere else "") + ")")
        return None

    def gloss(self, records: Iterable[IGTRecord], glosser: Glosser) -> Iterator[GlossedRecord]:
        """``glosser``'s outputs for ``records``, streaming, refused ones unglossed and unfamiliar ones capped."""
        pending: deque[IGTRecord] = deque()

        def fed() -> Iterator[IGTRecord]:
            for record in records:
                pending.append(record)
                yield record

        for output in glosser.gloss_with_confidence(fed()):
            yield self.checked(pending.popleft(), output)

    def checked(self, record: IGTRecord, output: GlossedRecord) -> GlossedRecord:
        """One output as the check leaves it (see :class:`TrainingCheck`)."""
        verdict = self.verdict(record)
        if verdict is None:
            return output
        action, what = verdict
        tally = self.refused if action == "refuse" else self.capped
        tally[what] = tally.get(what, 0) + 1
        if action == "refuse":
            return _unglossed(record, output)
        capped = [[min(confidence, UNTRAINED_CONFIDENCE) for confidence in word] for word in output.confidences]
        return GlossedRecord(output.record, capped, output.repairs)

    def warning(self) -> str | None:
        """One line: what the model was not trained on, what was done about it and what to do (None: nothing)."""
        if not self.refused and not self.capped:
            return None
        parts = []
        if self.refused:
            parts.append(f"left {sum(self.refused.values()):,} sentence(s) unglossed, since it was not trained on "
                         f"{'; '.join(self.refused)}")
        if self.capped:
            parts.append(f"glossed {sum(self.capped.values()):,} sentence(s) of {'; '.join(self.capped)} with every "
                         f"confidence capped at {UNTRAINED_CONFIDENCE} (guesses)")
        which = "some glossed sentences of the language"
        if any(what.startswith("plain") for what in self.refused):
            which += " (for plain text: glossed sentences without a morpheme segmentation line)"
        return f"warning: {self.name}: {', and '.join(parts)}; fine-tune it on {which}: {FINETUNE_HINT}"


def _unglossed(record: IGTRecord, output: GlossedRecord) -> GlossedRecord:
    """A refused record's output: every morpheme's gloss unknown, with confidence 0 (writers leave gaps)."""
    if record.segmented_form:
        split = [split_keep_boundaries(word) for word in words(record.segmented_form)]
        glosses = [join_morphemes([UNKNOWN_GLOSS] * len(parts), boundaries) for parts, boundaries in split]
        confidences = [[0.0] * len(parts) for parts, _ in split]
    else:
        glosses = [UNKNOWN_GLOSS] * len(record.transcription_words)
        confidences = [[0.0] for _ in glosses]
    return GlossedRecord(record.replace(glosses=" ".join(glosses)), confidences, output.repairs)


@dataclass
class FillSummary:
    """What glossing did to a document's slots."""

    filled: int = 0          # empty slots that got a machine gloss
    overwritten: int = 0     # earlier guesses replaced (overwrite_guesses)
    kept_human: int = 0      # human-approved glosses, untouched
    kept_guesses: int = 0    # earlier guesses left as they were
    skipped: int = 0         # empty slots the model had no gloss for
    #: What the model was not trained on, and what was done about it (see :class:`TrainingCheck`).
    warning: str | None = None

    @property
    def kept(self) -> int:
        return self.kept_human + self.kept_guesses

    def add(self, other: FillSummary) -> None:
        for name in ("filled", "overwritten", "kept_human", "kept_guesses", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.warning = self.warning or other.warning

    def __str__(self) -> str:
        text = (f"{self.filled:,} morpheme gloss(es) filled, {self.kept:,} kept "
                f"({self.kept_human:,} human-approved, {self.kept_guesses:,} earlier guesses), "
                f"{self.skipped:,} skipped (no confident gloss)")
        if self.overwritten:
            text += f", {self.overwritten:,} earlier guesses overwritten"
        return text


def fill_document(document: InterlinearDocument, glosser: Glosser, overwrite_guesses: bool = False,
                  sentences: list[Sentence] | None = None, language: Language | None = None) -> FillSummary:
    """Gloss the empty slots of ``sentences`` (default: all) in place
    (``language``: of the sentences that name none, as the model sees them)."""
    sentences = document.sentences if sentences is None else sentences
    summary = FillSummary()
    todo = [s for s in sentences if any(_wants_gloss(slot.state, slot.locked, overwrite_guesses)
                                         for _, _, slot in s.slots())]
    inputs = (with_language(s.record(document.language, with_glosses=False), language) for s in todo)
    check = TrainingCheck(glosser)
    # Keyed by object: sentence ids need not be unique in a source file.
    glossed = dict(zip(map(id, todo), check.gloss(inputs, glosser)))
    for sentence in sentences:
        result = glossed.get(id(sentence))
        summary.add(_fill_sentence(document, sentence, result, overwrite_guesses))
    summary.warning = check.warning()
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
    one slot per gloss piece, so that each morpheme can be checked on its own;
    the words say the cut is predicted, and so do the records written of them."""
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
            word.segmented = word.segmentation_predicted = True


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


def gloss_records(records: Iterable[IGTRecord], glosser: Glosser, segmented: str = "auto",
                  check: TrainingCheck | None = None) -> Iterator[GlossedRecord]:
    """Gloss records, streaming, with per-morpheme confidences.

    ``segmented`` says what the transcriptions are: ``auto`` (what each
    record says), ``yes`` (segmented), ``no`` (plain) or ``unknown``.
    ``check`` (a :class:`TrainingCheck` of ``glosser``) refuses or caps
    records the model was not trained for and collects the warning; None
    leaves the model's outputs as they are (scoring).
    """
    if segmented not in tuple(Segmented):
        raise AutoglossError(f"unknown --segmented '{segmented}' (choose {', '.join(Segmented)})")
    declared = (declare_segmented(record, segmented) for record in records)
    return check.gloss(declared, glosser) if check is not None else glosser.gloss_with_confidence(declared)


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
    #: Records that already had their glosses, written back as they were (see :func:`gloss_file`).
    kept: int = 0
    #: What the model was not trained on, and what was done about it (see :class:`TrainingCheck`).
    warning: str | None = None
    #: The worklist written (``worklist``), and how many sentences it lists.
    worklist: str | None = None
    listed: int = 0

    def __str__(self) -> str:
        if self.fill is not None:
            text = f"{self.input} -> {self.output} ({self.output_format}): {self.fill}"
        else:
            kept = f", {self.kept:,} kept (already glossed)" if self.kept else ""
            text = f"{self.records:,} records glossed{kept}, written to {self.output}"
        if self.worklist is not None:
            text += f"; worklist of {self.listed:,} sentences, least confident first: {self.worklist}"
        return text


def gloss_file(input: str | os.PathLike, output: str | os.PathLike, glosser: Glosser, *,
               input_format: str | None = None, output_format: str | None = None, overwrite_guesses: bool = False,
               segmented: str = "auto", toolbox_markers: str | None = None, elan_tiers: str | None = None,
               encoding: str | None = None, skip_invalid: bool = False, progress: Callable[[], None] | None = None,
               language: str | None = None, overwrite_glosses: bool = False,
               write_segmentation: bool = False, worklist: str | os.PathLike | None = None) -> GlossingResult:
    """Gloss a file (``-``: standard input) into ``output`` (``-``: standard output).

    A document is filled and written back whole (in its own format, or the
    one ``output_format`` or the output's extension names); records are
    written as shared-task text or JSON lines (with confidences; the default
    for a ``.jsonl`` output). ``toolbox_markers``, ``elan_tiers`` and
    ``encoding`` give a document's layout (see the registry's layout options). ``progress`` is
    called once per record glossed.

    ``language`` (an ISO 639-3 code or a glottocode) is the language of
    sentences that name none, as the model sees them. Records keep the
    glosses they have, as FLEx keeps a person's analysis: a record with a
    gloss line is written back as it was, not glossed (counted as kept), a
    record glossed in part (JSON lines ``glosses_partial``) gets only its
    ``?`` gaps filled (see :func:`fill_gaps`); ``overwrite_glosses`` glosses
    every record afresh. (A document's human-approved glosses are never
    replaced; ``overwrite_guesses`` replaces its machine guesses.)

    For plain input a model also finds each word's morphemes (one per gloss
    label): JSON lines keeps that segmentation, marked
    ``segmentation_predicted``; shared-task text, which has no mark for a
    guess, gets its ``\\m`` line only with ``write_segmentation`` (see
    :func:`~autogloss.formats.write_records`).

    ``worklist``: also write there the sentences the model glossed, least
    confident first (:func:`autogloss.worklist.write_worklist`); the output
    stays in document order. A document lists its sentences with a guess or
    an empty gloss left; records, those the model glossed (not those kept).
    """
    known = language_from_code(language) if language else None
    document_format = document_format_of(input, input_format)
    if document_format:
        output_format = output_format or output_format_for(output, document_format)
        document = read_document(input, document_format,
                                 **layout_options(document_format, toolbox_markers, elan_tiers, encoding))
        summary = fill_document(document, glosser, overwrite_guesses=overwrite_guesses, language=known)
        write_document(document, output, output_format,
                       **layout_options(output_format, toolbox_markers, elan_tiers, encoding))
        result = GlossingResult(os.fspath(input), os.fspath(output), output_format, fill=summary,
                                warning=summary.warning)
        if worklist is not None:
            result.worklist, result.listed = os.fspath(worklist), write_worklist(
                (entry_of(s) for s in document.sentences if any(slot.editable for _, _, slot in s.slots())), worklist)
        return result
    output_format = output_format or ("jsonl" if Path(output).suffix.lower() == ".jsonl" else "sigmorphon")
    if output_format not in RECORD_OUTPUTS:
        raise AutoglossError(f"unknown --output-format '{output_format}' (choose {' or '.join(RECORD_OUTPUTS)})")
    result = GlossingResult(os.fspath(input), os.fspath(output), output_format)
    check = TrainingCheck(glosser)
    records = read_records(input, input_format, skip_invalid=skip_invalid, skipped=result.skipped)
    # shared-task text drops the gloss line of a record with gaps; glossed output keeps its ``?`` instead
    glossed = _gloss_keeping(records, glosser, segmented, check, overwrite_glosses, known,
                             partial=output_format == "jsonl")
    listed: list[WorklistEntry] = []
    if worklist is not None:
        glossed = _listing(glossed, listed)
    write_records(_counted(glossed, result, progress), output, output_format, write_segmentation=write_segmentation)
    result.warning = check.warning()
    if worklist is not None:
        result.worklist, result.listed = os.fspath(worklist), write_worklist(listed, worklist)
    return result


def _listing(glossed: Iterator[IGTRecord | GlossedRecord],
             listed: list[WorklistEntry]) -> Iterator[IGTRecord | GlossedRecord]:
    """The outputs as they pass, each one the model glossed noted for the worklist."""
    for output in glossed:
        if isinstance(output, GlossedRecord):
            listed.append(entry_of(output))
        yield output


def _gloss_keeping(records: Iterable[IGTRecord], glosser: Glosser, segmented: str, check: TrainingCheck | None,
                   overwrite_glosses: bool, language: Language | None,
                   partial: bool) -> Iterator[IGTRecord | GlossedRecord]:
    """Records in their order: those with a gloss line as they were (unless
    ``overwrite_glosses``), the others glossed, streaming (the model reads
    ahead in chunks, so a record it is not given waits in a queue for its turn)."""
    queue: deque[tuple[IGTRecord, bool]] = deque()

    def to_model() -> Iterator[IGTRecord]:
        for record in records:
            wanted = overwrite_glosses or record.glosses_partial or not record.glosses.strip()
            queue.append((record, wanted))
            if wanted:  # the model sees no gloss of the input, as with a document's sentences
                yield with_language(record.replace(glosses="", glosses_partial=False), language)

    def kept() -> Iterator[IGTRecord]:
        while queue and not queue[0][1]:
            yield queue.popleft()[0]

    for output in gloss_records(to_model(), glosser, segmented, check):
        yield from kept()
        record, _ = queue.popleft()
        output = unknowns_as_gaps(output, partial=partial)
        if record.glosses_partial and not overwrite_glosses:
            yield fill_gaps(record, output) or record
        else:
            yield output
    yield from kept()


def fill_gaps(record: IGTRecord, output: GlossedRecord) -> GlossedRecord | None:
    """A record glossed in part (``glosses_partial``: each ``?`` morpheme a
    gloss nobody gave yet) with its gaps filled from the model's ``output``.

    Every gloss the person gave is kept as it was, with confidence 1; a
    word glossed ``?`` as a whole takes the model's gloss of the word; a gap
    the model has no gloss for stays ``?`` (and the record partial). None
    when the output does not line up with the record's words and morphemes:
    the record is then kept as it was, never half-merged.
    """
    given, guessed = record.gloss_words, output.record.gloss_words
    if len(given) != len(guessed):
        return None
    gloss_words, confidences = [], []
    for index, (word, guess) in enumerate(zip(given, guessed)):
        scores = output.confidences[index] if index < len(output.confidences) else []
        if word == MISSING_MARK:  # the whole word still to gloss
            gloss_words.append(guess)
            confidences.append([float(score) for score in scores])
            continue
        parts, boundaries = split_keep_boundaries(word)
        guesses = word_morphemes(guess)
        if len(guesses) != len(parts):
            return None
        confidences.append([1.0 if part != MISSING_MARK else float(scores[piece]) if piece < len(scores) else 0.0
                            for piece, part in enumerate(parts)])
        parts = [guesses[piece] if part == MISSING_MARK else part for piece, part in enumerate(parts)]
        gloss_words.append(join_morphemes(parts, boundaries))
    still_partial = any(part == MISSING_MARK for word in gloss_words for part in word_morphemes(word))
    return GlossedRecord(record.replace(glosses=" ".join(gloss_words), glosses_partial=still_partial), confidences,
                         output.repairs)


def language_from_code(code: str) -> Language:
    """The language an ISO 639-3 code (with its name, when the ISO tables
    know it) or a glottocode names; anything else is refused in one line."""
    code = code.strip()
    if re.fullmatch(r"[a-z]{4}[0-9]{4}", code):
        return Language(glottocode=code)
    if not re.fullmatch(r"[a-z]{3}", code):
        raise AutoglossError(f"--language '{code}': expected an ISO 639-3 code (three lower-case letters, "
                             f"e.g. lez) or a glottocode (e.g. lezg1247)")
    import pycountry  # (its tables take half a second to load: only when a language is given)

    entry = pycountry.languages.get(alpha_3=code)
    return Language(name=entry.name if entry is not None else None, iso639_3=code)


def with_language(record: IGTRecord, language: Language | None) -> IGTRecord:
    """``record`` with ``language`` when it names none (a language it names is its own)."""
    if language is None or any((record.language.name, record.language.iso639_3, record.language.glottocode)):
        return record
    return record.replace(language=language)


@dataclass
class FileOutcome:
    """What glossing one file of a folder did: a result, or why not."""

    #: The file (or CLDF dataset folder), relative to the input folder.
    name: str
    result: GlossingResult | None = None
    #: Why the file was left alone (a format autogloss does not read or write back).
    skipped: str | None = None
    #: The one-line error the file failed with.
    error: str | None = None

    def __str__(self) -> str:
        if self.error is not None:
            return f"{self.name}: failed: {self.error}"
        if self.skipped is not None:
            return f"{self.name}: skipped ({self.skipped})"
        result = self.result
        done = (str(result.fill) if result.fill is not None
                else f"{result.records:,} records glossed, {result.kept:,} kept (already glossed)")
        return f"{self.name}: {done} -> {result.output} ({result.output_format})"


@dataclass
class FolderResult:
    """What glossing a folder did, file by file."""

    files: list[FileOutcome] = field(default_factory=list)

    @property
    def glossed(self) -> list[FileOutcome]:
        return [outcome for outcome in self.files if outcome.result is not None]

    @property
    def failed(self) -> list[FileOutcome]:
        return [outcome for outcome in self.files if outcome.error is not None]

    def __str__(self) -> str:
        skipped = len(self.files) - len(self.glossed) - len(self.failed)
        return f"{len(self.glossed):,} file(s) glossed, {skipped:,} skipped, {len(self.failed):,} failed"


def gloss_folder(input: str | os.PathLike, output: str | os.PathLike, glosser: Glosser, *,
                 input_format: str | None = None, on_file: Callable[[FileOutcome], None] | None = None,
                 **options) -> FolderResult:
    """Gloss every file of a folder (and its subfolders) that autogloss
    reads, each into the same relative name under ``output``, in its own format.

    A file's format is detected from its name and content (``input_format``
    names one for all); a CLDF dataset folder is one input. Files no format
    names are skipped, as are tables whose format cannot hold glossed
    records (Parquet, a bare CLDF ``examples.csv``: gloss them on their own
    into ``.jsonl``), and hidden files. A file that fails is recorded with
    its one-line error and the others go on; ``on_file`` hears of each file
    as it is done. ``options`` are :func:`gloss_file`'s.
    """
    source, target = Path(input), Path(output)
    if not source.is_dir():
        raise AutoglossError(f"{input}: not a folder")
    if target.exists() and not target.is_dir():
        raise AutoglossError(f"{output}: not a folder (a folder is glossed into a folder)")
    if target.resolve() == source.resolve():
        raise AutoglossError(f"{output}: the output folder is the input folder (the files would be replaced)")
    folder = FolderResult()
    for path in _folder_inputs(source, target):
        name = path.relative_to(source).as_posix()
        outcome = _gloss_in_folder(path, target / path.relative_to(source), name, glosser, input_format, options)
        folder.files.append(outcome)
        if on_file is not None:
            on_file(outcome)
    return folder


def is_folder_of_files(path: str | os.PathLike) -> bool:
    """Whether ``path`` is glossed file by file (:func:`gloss_folder`): a
    folder that is not itself a CLDF dataset (which is one document)."""
    return Path(path).is_dir() and recognised_format(path) is None


def _folder_inputs(source: Path, target: Path) -> Iterator[Path]:
    """The files (and CLDF dataset folders) under ``source`` in name order,
    without hidden ones or the output folder, if it lies inside."""
    skip = target.resolve()
    for entry in sorted(source.iterdir()):
        if entry.name.startswith(".") or entry.resolve() == skip:
            continue
        if entry.is_dir() and recognised_format(entry) is None:
            yield from _folder_inputs(entry, target)
        elif entry.is_dir() or entry.is_file():
            yield entry


def _gloss_in_folder(path: Path, output: Path, name: str, glosser: Glosser, input_format: str | None,
                     options: dict) -> FileOutcome:
    format = input_format or recognised_format(path)
    if format is None:
        return FileOutcome(name, skipped="not a format autogloss reads")
    document = document_format_of(path, format)
    output_format = document or ("sigmorphon" if format == "text" else format)
    if document is None and output_format not in RECORD_OUTPUTS:
        return FileOutcome(name, skipped=f"a {format} table cannot hold glossed records: gloss it on its own "
                                         f"with --output FILE.jsonl")
    try:
        result = gloss_file(path, output, glosser, input_format=format, output_format=output_format, **options)
    except (AutoglossError, OSError) as error:
        return FileOutcome(name, error=_one_line(error))
    return FileOutcome(name, result)


def _one_line(error: Exception) -> str:
    """An error as one line (an operating-system error as FILE: PROBLEM)."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return " ".join(str(error).split())


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


def _counted(glossed: Iterator[IGTRecord | GlossedRecord], result: GlossingResult,
             progress: Callable[[], None] | None) -> Iterator[IGTRecord | GlossedRecord]:
    for output in glossed:
        if not isinstance(output, GlossedRecord):  # a record kept as it was
            result.kept += 1
        else:
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


def count_records(input: str | os.PathLike, input_format: str | None = None) -> int | None:
    """How many records a regular file holds, read once without keeping them
    (so that progress has a total); None for a stream, which can be read only
    once, and for a document, which is glossed whole."""
    if is_stream(input) or not Path(input).is_file() or document_format_of(input, input_format):
        return None
    try:
        return sum(1 for _ in read_records(input, input_format, skip_invalid=True, skipped=[]))
    except (AutoglossError, OSError, UnicodeDecodeError):
        return None  # the reading proper reports it
