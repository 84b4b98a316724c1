"""The document layer shared by FLEx, Toolbox, ELAN and CLDF files.

Each format reads its file into a tree that keeps everything needed to write
it back exactly (guids, unknown items, tier ids, column layout), and exposes
the sentences as :class:`Sentence` objects: words, and per word the gloss
*slots* (one per morpheme, or one for the whole word when the source has no
morpheme breakdown). Every slot knows its :class:`GlossState`. Glosses go back
into the tree only through :meth:`InterlinearDocument.set_gloss`, which
refuses to touch what a human approved.
"""

from __future__ import annotations

import enum
import io
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import AutoglossError, FormatError
from ..records import IGTRecord, Language, word_morphemes, words

#: Gloss values of a record (or a CLDF gloss word) that mean "not glossed
#: yet": records use ``?`` for a missing piece of a gloss word
#: (:meth:`Sentence.record`), and ``***`` is Toolbox's unanalysed item. A
#: Toolbox file itself has its own, narrower set (``toolbox.EMPTY_GLOSSES``):
#: there a ``?`` on the gloss line is what a person typed.
MISSING_GLOSSES = frozenset({"", "?", "***"})
MISSING_MARK = "?"


def is_missing_gloss(gloss: str, form: str) -> bool:
    """Whether a gloss read from a file stands for "not glossed yet"
    (:data:`MISSING_GLOSSES`); a question mark glossed as itself is a gloss."""
    return gloss in MISSING_GLOSSES and not (gloss and gloss == form.strip())
AFFIX_MARKERS = "-="


class GlossState(str, enum.Enum):
    """Where the gloss of one slot stands."""

    EMPTY = "empty"    # nothing yet: autogloss may fill it
    GUESS = "guess"    # a machine guess: replaced only with overwrite_guesses
    HUMAN = "human"    # a person's gloss: never changed by autogloss


class ProtectedGlossError(AutoglossError):
    """An attempt to write a machine gloss over a human-approved one."""


def xml_problem(error: Exception) -> str:
    """An XML parser's message without the position it repeats (the caller names the line)."""
    return re.sub(r"(, line \d+)?, column \d+$", "", getattr(error, "msg", str(error)))


def parse_xml(path: str, **parser_options):
    """An XML file as an lxml tree, with no entity expansion or network access
    (FLEx and ELAN files are plain data). Malformed XML, bytes invalid in the
    file's encoding included, raises :class:`FormatError` naming the line."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, **parser_options)
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        # parsed from memory: from a path, lxml reports encoding errors as an OSError without a line
        return etree.parse(io.BytesIO(data), parser)
    except etree.XMLSyntaxError as error:
        raise FormatError(path, error.lineno, f"not well-formed XML: {xml_problem(error)}") from None


def parse_role_pairs(spec: str, option: str, value_name: str, roles: dict[str, str], roles_help: str,
                     strip: str = "") -> dict[str, str]:
    """The ``ROLE=VALUE,ROLE=VALUE`` pairs of a command-line option such as
    ``--elan-tiers``. ``roles`` maps every accepted key (role names, and any
    aliases) to its role; ``strip`` is removed from the start of keys and
    values (Toolbox markers may be written with their backslash)."""
    values = {}
    for pair in spec.split(","):
        key, sep, value = pair.strip().partition("=")
        role = roles.get(key.strip().lstrip(strip))
        value = value.strip().lstrip(strip)
        if not sep or role is None or not value:
            raise FormatError(option, None, f"'{pair}' is not ROLE={value_name}; roles: {roles_help}")
        values[role] = value
    return values


def leipzig_gloss(gloss: str) -> str:
    """A gloss as one token: the words of a multi-word gloss joined by
    periods (Leipzig rule 4, "come out" -> "come.out")."""
    return ".".join(gloss.split())


def one_token(form: str) -> str:
    """A word or morpheme form as one token of a record: a unit the source
    analyses as one word though it is written with spaces (FLEx "go kerkap",
    a CLDF ``Analyzed_Word`` item "don konkon") has its parts joined by
    underscores, so that every line of the record has as many words."""
    return "_".join(form.split())


def bare_form(form: str) -> str:
    """A morpheme without its affix markers ("-n" -> "n", "b-" -> "b")."""
    return form.strip().strip(AFFIX_MARKERS)


def marks_only(form: str) -> bool:
    """Whether a word is nothing but boundary marks (a dash standing as a
    word, ``t’ay-ƛin - čara``): punctuation, one morpheme, not a break
    between two empty ones."""
    return bool(form.strip()) and not bare_form(form)


def join_morphemes(pieces: list[str], forms: list[str]) -> str:
    """Join morpheme pieces into one word with Leipzig boundaries.

    ``forms`` are the morphemes as the source writes them; a ``=`` on either
    side of a boundary makes it a clitic boundary, anything else an affix one.
    A word of marks only (:func:`marks_only`) is itself.
    """
    if len(pieces) == 1 and marks_only(pieces[0]):
        return pieces[0].strip()
    joined = bare_form(pieces[0]) if pieces else ""
    for index in range(1, len(pieces)):
        clitic = forms[index - 1].endswith("=") or forms[index].startswith("=")
        joined += ("=" if clitic else "-") + bare_form(pieces[index])
    return joined


@dataclass(eq=False)
class GlossSlot:
    """One glossable unit: a morpheme, or a whole unanalysed word.

    ``handle`` is the format's own pointer into its tree (an XML element, an
    annotation id, a column); ``locked`` marks an empty slot inside an analysis
    that a human approved as a whole, which autogloss must leave alone too.
    """

    form: str
    gloss: str = ""
    state: GlossState = GlossState.EMPTY
    locked: bool = False
    confidence: float | None = None
    handle: Any = None

    @property
    def editable(self) -> bool:
        """Whether a machine (or the post-editor) may write this slot."""
        return not self.locked and self.state is not GlossState.HUMAN


@dataclass(eq=False)
class Word:
    form: str
    slots: list[GlossSlot]
    #: True when the slots are the source's morphemes; False for one slot
    #: standing for the whole unanalysed word.
    segmented: bool
    handle: Any = None
    #: A person's gloss of the word that does not line up with its morphemes
    #: (its slots are locked and empty): the record carries it as written.
    unaligned_gloss: str | None = None
    #: True when the morphemes are a model's cut of an unanalysed word (see
    #: ``adopts_predicted_segmentation``), not the source's: its record's
    #: segmentation is marked as predicted.
    segmentation_predicted: bool = False

    @property
    def segmented_form(self) -> str:
        if not self.segmented:
            return one_token(self.form)
        forms = [one_token(slot.form) for slot in self.slots]
        return join_morphemes(forms, forms)

    @property
    def gloss_word(self) -> str:
        """The word's gloss as a record writes it ("" when nothing is glossed):
        one token, a person's multi-word gloss joined with periods (rule 4)."""
        glosses = [leipzig_gloss(slot.gloss) or MISSING_MARK for slot in self.slots]
        if all(not slot.gloss for slot in self.slots):
            return self.unaligned_gloss or ""
        if not self.segmented:
            return glosses[0]
        forms = [slot.form for slot in self.slots]
        return join_morphemes(glosses, forms)


@dataclass(eq=False)
class Sentence:
    id: str
    words: list[Word]
    translation: str | None = None
    handle: Any = None
    #: Set by the post-editor when a person accepted every gloss.
    accepted: bool = False
    #: The sentence's own language, where the format gives one per sentence.
    language: Language | None = None
    #: Where the sentence starts in its file ("path:line"), for messages.
    origin: str | None = None

    @property
    def segmented(self) -> bool:
        return any(word.segmented for word in self.words)

    def slots(self) -> Iterable[tuple[int, int, GlossSlot]]:
        for word_index, word in enumerate(self.words):
            for slot_index, slot in enumerate(word.slots):
                yield word_index, slot_index, slot

    def record(self, language: Language | None = None, with_glosses: bool = True) -> IGTRecord:
        """The sentence as an :class:`IGTRecord` (a missing morpheme gloss shows
        as ``?``, and the record says so with ``glosses_partial``)."""
        gloss_words = [word.gloss_word for word in self.words] if with_glosses else []
        glosses = " ".join(g or MISSING_MARK for g in gloss_words) if any(gloss_words) else ""
        partial = bool(glosses) and any(not slot.gloss for word in self.words if word.unaligned_gloss is None
                                        for slot in word.slots)
        return IGTRecord(
            id=self.id,
            transcription=" ".join(one_token(word.form) for word in self.words),
            segmentation=" ".join(word.segmented_form for word in self.words) if self.segmented else None,
            segmentation_predicted=any(word.segmentation_predicted for word in self.words),
            glosses=glosses,
            translation=self.translation,
            language=self.language or language or Language(),
            is_segmented=False,
            glosses_partial=partial,
            origin=self.origin,
        )


def sentence_from_record(record: IGTRecord, state: GlossState = GlossState.HUMAN) -> Sentence:
    """A sentence built from a record; its glosses get ``state`` (a record's
    own glosses are taken as a person's unless said otherwise)."""
    plain = record.transcription_words
    segmented = words(record.segmentation) if record.segmentation else []
    gloss_words = record.gloss_words
    if segmented and len(segmented) != len(plain):
        plain = segmented  # the segmentation is the better word list when they disagree
    built = []
    for index, form in enumerate(plain):
        gloss_word = gloss_words[index] if index < len(gloss_words) else ""
        if segmented:
            forms = affixed_forms(segmented[index])
            glosses = ([gloss_word] if marks_only(segmented[index]) else word_morphemes(gloss_word)) if gloss_word else []
            if len(glosses) != len(forms):
                glosses = [""] * len(forms)
            slots = [_slot(f, g, state) for f, g in zip(forms, glosses)]
            built.append(Word(form, slots, segmented=True))
        else:
            built.append(Word(form, [_slot(form, gloss_word, state)], segmented=False))
    return Sentence(record.id, built, record.translation, language=record.language)


def _slot(form: str, gloss: str, state: GlossState) -> GlossSlot:
    gloss = "" if is_missing_gloss(gloss, form) else gloss
    return GlossSlot(form, gloss, state if gloss else GlossState.EMPTY)


def affixed_forms(word: str) -> list[str]:
    """The morphemes of a segmented word with their boundary markers on the
    affix side, as FLEx and Toolbox write them ("b-oq-n" -> "b-", "oq", "-n").

    A record does not say which morpheme is the root; the longest one is
    taken as the root, the pieces before it as prefixes (or proclitics) and
    the ones after it as suffixes (or enclitics).
    """
    if marks_only(word):
        return [word]
    pieces = re.split(f"([{re.escape(AFFIX_MARKERS)}])", word)
    morphs, boundaries = pieces[0::2], pieces[1::2]
    if len(morphs) == 1:
        return morphs
    root = max(range(len(morphs)), key=lambda index: (len(morphs[index]), -index))
    forms = []
    for index, morph in enumerate(morphs):
        if index < root:
            morph = morph + boundaries[index]
        elif index > root:
            morph = boundaries[index - 1] + morph
        forms.append(morph)
    return forms


class InterlinearDocument(ABC):
    """A file of one interlinear format, read into a tree kept for writing back."""

    format_name: ClassVar[str]
    #: Whether an unanalysed word may take the model's morpheme segmentation.
    #: Only formats without a tree of their own do: in FLEx, Toolbox, ELAN or
    #: CLDF a morpheme breakdown is a linguist's decision, not a gloss.
    adopts_predicted_segmentation: ClassVar[bool] = False

    def __init__(self, sentences: list[Sentence], language: Language | None = None):
        self.sentences = sentences
        self.language = language or Language()

    # -- reading and writing -------------------------------------------------
    @classmethod
    @abstractmethod
    def read(cls, path: str | os.PathLike, **options) -> InterlinearDocument:
        """Parse a file; malformed input raises :class:`FormatError`."""

    @classmethod
    @abstractmethod
    def from_sentences(cls, sentences: list[Sentence], language: Language | None = None,
                       **options) -> InterlinearDocument:
        """A new document of this format holding copies of these sentences
        (their glosses and states included)."""

    @classmethod
    def from_records(cls, records: Iterable[IGTRecord], **options) -> InterlinearDocument:
        records = list(records)
        language = records[0].language if records else None
        return cls.from_sentences([sentence_from_record(r) for r in records], language, **options)

    @abstractmethod
    def write(self, path: str | os.PathLike) -> None:
        """Write the document atomically."""

    # -- glosses ---------------------------------------------------------------
    @abstractmethod
    def _store(self, sentence: Sentence, word: Word, slot: GlossSlot, gloss: str, state: GlossState) -> None:
        """Put one gloss and its state into the format's tree."""

    def set_gloss(self, sentence: Sentence, word_index: int, slot_index: int, gloss: str,
                  state: GlossState, confidence: float | None = None) -> None:
        """Write one gloss, as a machine guess or as a person's (post-editor).

        Human-approved and locked slots are never written: this is the single
        gate that keeps autogloss from altering a person's analysis.
        """
        word = sentence.words[word_index]
        slot = word.slots[slot_index]
        if not slot.editable:
            raise ProtectedGlossError(f"sentence {sentence.id}, word {word_index + 1} ('{word.form}'), "
                                      f"morpheme {slot_index + 1}: human-approved, not changed")
        gloss = leipzig_gloss(gloss)
        if not gloss:
            raise AutoglossError(f"sentence {sentence.id}: an empty gloss cannot be written")
        self._store(sentence, word, slot, gloss, state)
        slot.gloss, slot.state, slot.confidence = gloss, state, confidence

    def records(self) -> list[IGTRecord]:
        return [sentence.record(self.language) for sentence in self.sentences]

    def copy_sentences(self) -> list[Sentence]:
        """Sentences detached from this document's tree (for another format)."""
        copies = []
        for sentence in self.sentences:
            copied_words = [Word(w.form, [GlossSlot(s.form, s.gloss, s.state, s.locked, s.confidence)
                                          for s in w.slots], w.segmented, unaligned_gloss=w.unaligned_gloss,
                                 segmentation_predicted=w.segmentation_predicted)
                            for w in sentence.words]
            copies.append(Sentence(sentence.id, copied_words, sentence.translation, accepted=sentence.accepted,
                                   language=sentence.language or self.language, origin=sentence.origin))
        return copies


@dataclass
class TrainingSelection:
    """The sentences of a file a model may learn from, and how many were left out and why.

    A model learns one gloss per morpheme, so a sentence is kept only when a
    person gave every one of its glosses: a machine guess or an empty slot
    among them leaves the whole sentence out (an empty gloss would be learnt
    as the label ``?``, a guess as if it were true).
    """

    records: list[IGTRecord] = field(default_factory=list)
    guessed: int = 0      # sentences with a machine guess among their glosses
    partial: int = 0      # sentences with some morphemes still unglossed (and no guess)
    unglossed: int = 0    # sentences without any gloss

    @property
    def left_out(self) -> int:
        return self.guessed + self.partial + self.unglossed

    def add(self, other: TrainingSelection) -> None:
        self.records.extend(other.records)
        self.guessed += other.guessed
        self.partial += other.partial
        self.unglossed += other.unglossed

    def __str__(self) -> str:
        text = f"{len(self.records):,} sentence(s) glossed by a person"
        reasons = [f"{count:,} {reason}" for count, reason in ((self.guessed, "with machine guesses"),
                                                             (self.partial, "with empty glosses"),
                                                             (self.unglossed, "without glosses")) if count]
        return text + (f"; left out {', '.join(reasons)}" if reasons else "")


def training_records(document: InterlinearDocument) -> TrainingSelection:
    """The sentences of a document whose every gloss a person gave
    (:attr:`GlossState.HUMAN`), as records, and the count of those left out."""
    selection = TrainingSelection()
    for sentence in document.sentences:
        states = {slot.state for _, _, slot in sentence.slots()}
        if states <= {GlossState.EMPTY}:
            selection.unglossed += 1
        elif GlossState.GUESS in states:
            selection.guessed += 1
        elif GlossState.EMPTY in states:
            selection.partial += 1
        else:
            selection.records.append(sentence.record(document.language))
    return selection


def select_training_records(records: Iterable[IGTRecord], placeholders: bool = False) -> TrainingSelection:
    """Records a model may learn from: glossed ones, whose glosses have no
    gap (:attr:`IGTRecord.glosses_partial`). Records of files without gloss
    states (shared-task, JSON lines, Parquet) count as a person's; their
    ``?`` is a label (the SIGMORPHON data has some) unless ``placeholders``
    says the records came from :meth:`Sentence.record`, where a ``?``
    morpheme stands for a missing gloss (the post-editor's corrections)."""
    selection = TrainingSelection()
    for record in records:
        if not record.has_glosses:
            selection.unglossed += 1
        elif record.glosses_partial or (placeholders and MISSING_MARK in
                                         (piece for pieces in record.gloss_morphemes for piece in pieces)):
            selection.partial += 1
        else:
            selection.records.append(record)
    return selection


def count_states(document: InterlinearDocument) -> dict[str, int]:
    counts = {state.value: 0 for state in GlossState}
    for sentence in document.sentences:
        for _, _, slot in sentence.slots():
            counts[slot.state.value] += 1
    return counts


class RecordDocument(InterlinearDocument):
    """Sentences that came as plain records (pasted text, shared-task or
    JSON-lines files): no tree of their own, so glosses live in the slots
    only, and reading and writing go through a flat format
    (:func:`autogloss.formats.read_document`, :func:`~autogloss.formats.write_document`)."""

    format_name = "records"
    adopts_predicted_segmentation = True

    @classmethod
    def read(cls, path: str | os.PathLike, **options) -> RecordDocument:
        raise AutoglossError(f"{path}: records have no file format of their own: read them as sigmorphon, text, "
                             f"jsonl, parquet or cldf")

    @classmethod
    def from_sentences(cls, sentences: list[Sentence], language: Language | None = None,
                       **options) -> RecordDocument:
        return cls(sentences, language)

    def write(self, path: str | os.PathLike) -> None:
        raise AutoglossError("records have no file format of their own: write them as sigmorphon, jsonl, "
                             "flextext, toolbox, elan or cldf")

    def _store(self, sentence: Sentence, word: Word, slot: GlossSlot, gloss: str, state: GlossState) -> None:
        """Nothing beyond the slot itself, which set_gloss updates."""
