"""Turning IGT records into model inputs and targets, and batches of them.

Two settings share one representation:

- **segmented**: the morpheme segmentation is given; every morpheme is one
  unit, and its target is its gloss label.
- **words**: only the transcription is given; every word is one unit, and its
  target is the sequence of its morpheme gloss labels, which the model emits
  one by one (and so also finds the morpheme boundaries).

Gloss labels outside the label vocabulary can still be produced by copying a
word of the translation: output index ``len(labels) + j`` means "translation
word j".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import torch

from ...records import IGTRecord, word_morphemes, words
from .vocab import Vocabulary

SEGMENTED, WORDS = "segmented", "words"
MAX_TRANSLATION_WORDS = 48
UNKNOWN_LANGUAGE = "unknown"
_EDGE_PUNCTUATION = re.compile(r"^\W+|\W+$")


def record_mode(record: IGTRecord) -> str:
    return SEGMENTED if record.segmented_form else WORDS


def input_words(record: IGTRecord) -> list[str]:
    """The words the model reads: the segmented line when there is one."""
    return words(record.segmented_form) if record.segmented_form else record.transcription_words


def language_key(record: IGTRecord) -> str:
    language = record.language
    return language.glottocode or language.iso639_3 or language.name or UNKNOWN_LANGUAGE


def translation_words(translation: str | None) -> list[str]:
    """Translation words without edge punctuation: the copy candidates. The
    first word is lower-cased; later capitals are kept (names stay names)."""
    found = []
    for token in (translation or "").split():
        token = _EDGE_PUNCTUATION.sub("", unicodedata.normalize("NFC", token))
        if token:
            found.append(token if found else token.lower())
    return found[:MAX_TRANSLATION_WORDS]


def word_labels(gloss_word: str, mode: str) -> list[str]:
    """Gloss labels of one word: split at - and = for given morphemes, at - when
    the model finds the morphemes itself (so = stays inside a label)."""
    return word_morphemes(gloss_word) if mode == SEGMENTED else gloss_word.split("-")


@dataclass
class Example:
    mode: str
    chars: list[int]
    language: int
    units: list[tuple[int, int]]           # char spans of morphemes (segmented) or words
    forms: list[int]                       # form-vocabulary id of each unit (memorised identity)
    translation_chars: list[int]
    translation_spans: list[tuple[int, int]]
    translation: list[str]
    # segmented: one list of acceptable output indices per unit (empty: no target)
    # words: per word, the acceptable outputs of each of its labels in order (empty: no target)
    targets: list[list[int]] = field(default_factory=list)


@dataclass
class Vocabularies:
    chars: Vocabulary
    labels: Vocabulary
    languages: Vocabulary
    forms: Vocabulary  # morphemes and words seen in training, for memorising them

    NAMES = ("chars", "labels", "languages", "forms")

    def to_json(self) -> dict:
        return {name: getattr(self, name).to_json() for name in self.NAMES}

    @classmethod
    def from_json(cls, data: dict) -> Vocabularies:
        return cls(*(Vocabulary.from_json(data[name]) for name in cls.NAMES))


def unit_forms(record: IGTRecord) -> list[str]:
    """The identity of every unit: ``m:`` + morpheme or ``w:`` + word, case-folded,
    words without edge punctuation."""
    if record_mode(record) == SEGMENTED:
        return [form_key(m, SEGMENTED) for word in input_words(record) for m in word_morphemes(word)]
    return [form_key(w, "words") for w in record.transcription_words]


def form_key(unit: str, mode: str) -> str:
    """The identity of one morpheme (``mode`` segmented) or word.

    Not :func:`autogloss.records.backoff_key`, on purpose: these keys are
    the entries of every saved model's form vocabulary (``vocab.json``, the
    packaged model's included), so they must stay as they were trained. They
    strip every non-word character (``\\W``: symbols such as ``+`` too, not
    ``_``) and keep a word that is nothing else; the memory's backoff key
    strips punctuation (category P) and leaves such a word empty."""
    if mode == SEGMENTED:
        return f"m:{unit.casefold()}"
    return f"w:{_EDGE_PUNCTUATION.sub('', unit).casefold() or unit}"


def _layout(tokens: list[str], split_morphemes: bool) -> tuple[str, list[tuple[int, int]]]:
    """The tokens joined by spaces, and the character span of every word or morpheme.

    An empty morpheme (as in ``a--b``) gets the span of the boundary after it,
    so that every unit has at least one character to be read from.
    """
    text = " ".join(tokens)
    spans: list[tuple[int, int]] = []
    offset = 0
    for token in tokens:
        if not split_morphemes:
            spans.append((offset, offset + len(token)))
        else:
            start = offset
            for part in word_morphemes(token):
                end = start + len(part)
                if end == start:
                    start = min(start, max(len(text) - 1, 0))
                    end = start + 1
                spans.append((start, end))
                start = start + len(part) + 1
        offset += len(token) + 1
    return text, spans


def encode(record: IGTRecord, vocabs: Vocabularies, with_targets: bool) -> Example:
    mode = record_mode(record)
    tokens = input_words(record)
    text, units = _layout(tokens, split_morphemes=mode == SEGMENTED)
    translation = translation_words(record.translation)
    translation_text, translation_spans = _layout(translation, split_morphemes=False)
    example = Example(
        mode=mode,
        chars=[vocabs.chars.id(c) for c in text] or [1],
        language=vocabs.languages.id(language_key(record)),
        units=units,
        forms=[vocabs.forms.id(form) for form in unit_forms(record)],
        translation_chars=[vocabs.chars.id(c) for c in translation_text] or [0],
        translation_spans=translation_spans,
        translation=translation,
    )
    if with_targets:
        example.targets = _targets(record, tokens, mode, translation, vocabs.labels)
    return example


def _label_options(label: str, translation: list[str], labels: Vocabulary) -> list[int]:
    options = [labels.id(label)] if label in labels else []
    options += [len(labels) + j for j, word in enumerate(translation) if word == label or word.lower() == label]
    return options or [1]


def _targets(record: IGTRecord, tokens: list[str], mode: str, translation: list[str], labels: Vocabulary) -> list[list[int]]:
    gloss_words = record.gloss_words
    aligned = len(gloss_words) == len(tokens)
    targets: list[list[int]] = []
    for index, token in enumerate(tokens):
        glosses = word_labels(gloss_words[index], mode) if aligned else []
        if mode == SEGMENTED:
            morphemes = word_morphemes(token)
            if len(glosses) != len(morphemes):
                targets.extend([] for _ in morphemes)
            else:
                targets.extend(_label_options(g, translation, labels) for g in glosses)
        else:
            targets.append([_label_options(g, translation, labels) for g in glosses])
    return targets


def _pad(sequences: list[list[int]], value: int = 0) -> torch.Tensor:
    width = max((len(s) for s in sequences), default=1) or 1
    return torch.tensor([s + [value] * (width - len(s)) for s in sequences], dtype=torch.long)


@dataclass
class Batch:
    mode: str
    chars: torch.Tensor               # (B, L)
    lengths: torch.Tensor             # (B,)
    languages: torch.Tensor           # (B,)
    unit_spans: torch.Tensor          # (B, U, 2)
    unit_mask: torch.Tensor           # (B, U)
    unit_forms: torch.Tensor          # (B, U)
    translation_chars: torch.Tensor   # (B, Lt)
    translation_lengths: torch.Tensor
    translation_spans: torch.Tensor   # (B, T, 2)
    translation_mask: torch.Tensor    # (B, T)
    targets: list[list[list[int]]]
    examples: list[Example]


def collate(examples: list[Example]) -> Batch:
    modes = {e.mode for e in examples}
    if len(modes) != 1:
        raise ValueError("a batch holds one setting only")
    unit_spans = [[list(s) for s in e.units] for e in examples]
    width = max(len(s) for s in unit_spans) or 1
    translation_spans = [[list(s) for s in e.translation_spans] for e in examples]
    twidth = max(len(s) for s in translation_spans) or 1
    return Batch(
        mode=modes.pop(),
        chars=_pad([e.chars for e in examples]),
        lengths=torch.tensor([len(e.chars) for e in examples]),
        languages=torch.tensor([e.language for e in examples]),
        unit_spans=torch.tensor([s + [[0, 1]] * (width - len(s)) for s in unit_spans], dtype=torch.long),
        unit_mask=_pad([[1] * len(e.units) for e in examples]).bool(),
        unit_forms=_pad([e.forms for e in examples]),
        translation_chars=_pad([e.translation_chars for e in examples]),
        translation_lengths=torch.tensor([max(len(e.translation_chars), 1) for e in examples]),
        translation_spans=torch.tensor([s + [[0, 1]] * (twidth - len(s)) for s in translation_spans], dtype=torch.long),
        translation_mask=_pad([[1] * len(e.translation_spans) for e in examples]).bool(),
        targets=[e.targets for e in examples],
        examples=examples,
    )
