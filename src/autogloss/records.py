"""The interlinear glossed text (IGT) record shared by every source, format and model.

A record holds the four classic IGT tiers (transcription, morpheme segmentation,
glosses, translation) and what is known about where it came from. Words are
whitespace tokens; morphemes are the pieces of a word between the Leipzig
boundary markers ``-`` (affix) and ``=`` (clitic).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

#: The gloss a model gives a morpheme or word it has nothing for; never
#: written into a document (see :mod:`autogloss.glossing`).
UNKNOWN_GLOSS = "[UNK]"
#: A gloss that is only question marks (``???``): a data set's placeholder
#: for "not known" that models learn as if it were a label.
_PLACEHOLDER_GLOSS = re.compile(r"\?+")
#: Leipzig Glossing Rules boundary markers inside a word (rule 2).
MORPHEME_BOUNDARIES = "-="
_BOUNDARY_SPLIT = re.compile(f"[{re.escape(MORPHEME_BOUNDARIES)}]")
#: What no tier can hold: control characters other than tab and line ends
#: (XML, so FLEx and ELAN, cannot hold them), lone surrogates (no UTF-8
#: file can) and the noncharacters U+FFFE and U+FFFF.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text_problem(text: str, unit: str = "character") -> str | None:
    """Why ``text`` cannot be a tier of a record, or None: readers refuse
    such text where they read it, so every format can write what they read.
    ``unit`` names the position (``column`` for a line of a file)."""
    found = _NOT_TEXT.search(text)
    if found is None:
        return None
    character = ord(found.group())
    kind = ("a lone surrogate" if 0xD800 <= character <= 0xDFFF else
            "a control character" if character < 0x20 else "a noncharacter")
    return f"{kind} (U+{character:04X}) at {unit} {found.start() + 1}"


def words(line: str | None) -> list[str]:
    """Whitespace tokens of one tier; an absent tier has no words."""
    return line.split() if line else []


def squash_space(text: str) -> str:
    """Runs of whitespace as one space, none at the ends: a tier as its words."""
    return " ".join(text.split())


def word_morphemes(word: str) -> list[str]:
    """The morphemes of one word, split at ``-`` and ``=``."""
    return _BOUNDARY_SPLIT.split(word)


def split_keep_boundaries(word: str) -> tuple[list[str], list[str]]:
    """The morphemes of a word and the boundary markers between them, so
    that a gloss of it can be written with the word's own markers (see
    :func:`join_morphemes`)."""
    parts = word_morphemes(word)
    boundaries, position = [], 0
    for part in parts[:-1]:
        position += len(part)
        boundaries.append(word[position])
        position += 1
    return parts, boundaries


def join_morphemes(parts: list[str], boundaries: list[str]) -> str:
    """A word from its morphemes and the markers between them (the inverse of
    :func:`split_keep_boundaries`); extra markers are ignored."""
    return parts[0] + "".join(marker + part for marker, part in zip(boundaries, parts[1:]))


def is_unknown_gloss(gloss: str, form: str = "") -> bool:
    """Whether a morpheme's gloss says "not known" rather than glossing it:
    the models' :data:`UNKNOWN_GLOSS` anywhere in it (a word model may join
    it to other labels), or question marks only (``???``), unless the form
    glossed is itself those marks (a question mark glossed as itself)."""
    return UNKNOWN_GLOSS in gloss or (_PLACEHOLDER_GLOSS.fullmatch(gloss) is not None and gloss != form.strip())


#: The two ways a record is glossed: from its morphemes, or from plain words.
SEGMENTED, PLAIN = "segmented", "plain"
SETTINGS = (SEGMENTED, PLAIN)


def setting_of(record: IGTRecord) -> str:
    """The setting a model glosses a record in: ``segmented`` when its
    morphemes are given (:attr:`IGTRecord.segmented_form`), else ``plain``."""
    return SEGMENTED if record.segmented_form else PLAIN


def backoff_key(token: str) -> str:
    """A looser key for a token not seen as written: case-folded, edge
    punctuation (Unicode category P) removed; "" for punctuation alone."""
    start, end = 0, len(token)
    while start < end and unicodedata.category(token[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(token[end - 1]).startswith("P"):
        end -= 1
    return token[start:end].casefold()


def is_grammatical(label: str) -> bool:
    """A grammatical label (``PL``, ``3SG``): written in capitals (Leipzig
    rule 3), as the official SIGMORPHON 2023 scorer tells grams from stems."""
    return label.isupper()


def is_lexical(label: str) -> bool:
    """A lexical gloss (``dog``, ``sit.PL``), starting in lower case: neither a
    grammatical label (``PL``) nor a name (``Jacob``)."""
    return label[:1].islower()


def morphemes(line: str | None) -> list[list[str]]:
    """Morphemes of every word of a tier, grouped by word."""
    return [word_morphemes(word) for word in words(line)]


@dataclass(frozen=True)
class Language:
    """A language as far as it is known: any field may be missing."""

    name: str | None = None
    iso639_3: str | None = None
    glottocode: str | None = None

    def label(self) -> str:
        """A short human-readable name, e.g. for tables and prompts."""
        return self.name or self.iso639_3 or self.glottocode or "unknown"


@dataclass(frozen=True)
class IGTRecord:
    """One sentence of interlinear glossed text, from any source.

    ``glosses`` is empty when the record is an input still to be glossed (a
    shared-task "covered" record). ``is_segmented`` says whether the
    transcription itself is written with morpheme boundaries (``True``),
    without them (``False``) or whether that is not known (``None``).
    ``glosses_original`` keeps the source's gloss line when ``glosses`` was
    rewritten by label normalisation, so that normalisation is reversible.
    """

    id: str
    transcription: str
    glosses: str = ""
    segmentation: str | None = None
    translation: str | None = None
    language: Language = field(default_factory=Language)
    metalanguage: str | None = None
    is_segmented: bool | None = None
    source: str | None = None
    split: str | None = None
    license: str | None = None
    glosses_original: str | None = None
    pos: str | None = None
    #: Where the record was read from ("file:line"); provenance, not content,
    #: so two records that differ only here are equal.
    origin: str | None = field(default=None, compare=False)
    #: True when ``glosses`` holds ``?`` for morphemes not glossed yet (a
    #: sentence of a FLEx, Toolbox, ELAN or CLDF file glossed in part): those
    #: ``?`` are gaps, not labels. Not compared, like ``origin``.
    glosses_partial: bool = field(default=False, compare=False)
    #: True when ``segmentation`` is a model's guess for a plain transcription
    #: (where it cut each word for its glosses), not a person's analysis: it
    #: is no input morpheme line (:attr:`segmented_form` leaves it out, so it
    #: never trains a model), and it is written only where the format can
    #: mark it as predicted, or when asked (see :func:`autogloss.formats.write_records`).
    segmentation_predicted: bool = field(default=False, compare=False)
    #: How the language was decided from what the source gave (``iso639-3
    #: given``, ``glottocode mapped``, ..., ``und: <reason>``; see
    #: :mod:`autogloss.corpus.languages`); provenance, not compared.
    language_method: str | None = field(default=None, compare=False)

    # -- word and morpheme views ------------------------------------------
    @property
    def transcription_words(self) -> list[str]:
        return words(self.transcription)

    @property
    def segmentation_words(self) -> list[str]:
        return words(self.segmentation)

    @property
    def gloss_words(self) -> list[str]:
        return words(self.glosses)

    @property
    def segmentation_morphemes(self) -> list[list[str]]:
        return morphemes(self.segmentation)

    @property
    def gloss_morphemes(self) -> list[list[str]]:
        return morphemes(self.glosses)

    @property
    def has_glosses(self) -> bool:
        return bool(self.glosses.strip())

    @property
    def segmented_form(self) -> str | None:
        """The morpheme-segmented line: the segmentation tier (unless a model
        predicted it), or the transcription when that is itself segmented."""
        if self.segmentation and not self.segmentation_predicted:
            return self.segmentation
        return self.transcription if self.is_segmented else None

    def replace(self, **changes) -> IGTRecord:
        """A copy with some fields changed (records are immutable)."""
        return dataclasses.replace(self, **changes)

    def alignment_problems(self) -> list[AlignmentProblem]:
        """Leipzig rule 1 and 2 violations of this record (see :func:`check_alignment`)."""
        return check_alignment(self)


@dataclass(frozen=True)
class GlossedRecord:
    """A model's output for one input record: the record with its glosses
    filled in, and one confidence in [0, 1] per gloss morpheme. ``repairs``
    says what was changed to align a free-text output with the input (empty
    when nothing was). ``sources``, where a model says it, is what each
    confidence comes from, shaped like ``confidences`` (one of
    :data:`CONFIDENCE_SOURCES`): calibration maps each kind on its own."""

    record: IGTRecord
    confidences: list[list[float]]
    repairs: tuple[str, ...] = ()
    sources: list[list[str]] | None = None


#: What a confidence comes from: the memory of training glosses (a relative
#: frequency), the network (a probability), lexicon induction (a Dice coefficient).
MEMORY, NETWORK, LEXICON = "memory", "network", "lexicon"
CONFIDENCE_SOURCES = (MEMORY, NETWORK, LEXICON)


def aligned_morphemes(record: IGTRecord) -> Iterator[tuple[str, str]]:
    """(morpheme, its gloss) for every morpheme of the record's segmented
    line, in the words that line up with their glosses (as many words, and
    in a word as many morphemes as gloss pieces: Leipzig rules 1 and 2);
    nothing for a record without a segmented line."""
    segmented, gloss_words = words(record.segmented_form), record.gloss_words
    if len(segmented) != len(gloss_words):
        return
    for word, gloss in zip(segmented, gloss_words):
        forms, glosses = word_morphemes(word), word_morphemes(gloss)
        if len(forms) == len(glosses):
            yield from zip(forms, glosses)


@dataclass(frozen=True)
class AlignmentProblem:
    """One way a record breaks Leipzig rule 1 (word alignment) or 2 (morpheme alignment)."""

    record_id: str
    rule: int
    message: str
    word_index: int | None = None

    def __str__(self) -> str:
        where = f" word {self.word_index + 1}" if self.word_index is not None else ""
        return f"{self.record_id}{where}: rule {self.rule}: {self.message}"


def check_alignment(record: IGTRecord) -> list[AlignmentProblem]:
    """Check a glossed record against Leipzig Glossing Rules 1 and 2.

    Rule 1: the gloss line has one word per word of the object line (the
    segmentation when there is one, else the transcription). Rule 2: each
    segmented word has as many morphemes as its gloss. Morpheme counts are
    only compared against a segmented line, since an unsegmented
    transcription has no boundaries to count. Unglossed records pass.
    """
    if not record.has_glosses:
        return []
    object_line = record.segmented_form or record.transcription
    object_words = words(object_line)
    gloss_words = record.gloss_words
    problems: list[AlignmentProblem] = []
    if len(object_words) != len(gloss_words):
        tier = "segmentation" if record.segmented_form else "transcription"
        problems.append(
            AlignmentProblem(
                record.id,
                1,
                f"{len(object_words)} {tier} words but {len(gloss_words)} gloss words",
            )
        )
    if record.segmented_form is None:
        return problems
    for index, (word, gloss) in enumerate(zip(object_words, gloss_words)):
        word_parts, gloss_parts = word_morphemes(word), word_morphemes(gloss)
        if len(word_parts) != len(gloss_parts):
            problems.append(
                AlignmentProblem(
                    record.id,
                    2,
                    f"'{word}' has {len(word_parts)} morphemes but its gloss "
                    f"'{gloss}' has {len(gloss_parts)}",
                    word_index=index,
                )
            )
    return problems
