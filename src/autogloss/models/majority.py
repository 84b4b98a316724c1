"""The majority baseline: the most frequent gloss seen in training.

Segmented input (a morpheme segmentation is given): each morpheme gets the
gloss it most often had. Unsegmented input: each word gets the whole word
gloss it most often had, and its most frequent segmentation. Unseen
morphemes and words get :data:`UNKNOWN_GLOSS`. It is the floor every model
must beat, and needs nothing but the standard library.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from .. import __version__
from ..fileio import atomic_directory
from ..records import UNKNOWN_GLOSS, GlossedRecord, IGTRecord, words, word_morphemes
from .base import CARD_NAME, CONFIG_NAME, Glosser, read_json_part

TABLES_NAME = "majority_tables.json"
Table = dict[str, tuple[str, float]]  # key -> (most frequent value, its relative frequency)


def backoff_key(token: str) -> str:
    """A looser key for unseen tokens: case-folded, edge punctuation removed."""
    start, end = 0, len(token)
    while start < end and unicodedata.category(token[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(token[end - 1]).startswith("P"):
        end -= 1
    return token[start:end].casefold()


def split_keep_boundaries(word: str) -> tuple[list[str], list[str]]:
    """Morphemes of a word and the boundary markers between them."""
    parts = word_morphemes(word)
    boundaries, position = [], 0
    for part in parts[:-1]:
        position += len(part)
        boundaries.append(word[position])
        position += 1
    return parts, boundaries


def _majority(counts: dict[str, Counter]) -> Table:
    table: Table = {}
    for key, values in counts.items():
        value, count = values.most_common(1)[0]
        table[key] = (value, count / sum(values.values()))
    return table


def _with_backoff(counts: dict[str, Counter]) -> dict[str, Counter]:
    """Add the looser keys, each pooling the counts of every exact key it covers."""
    pooled = defaultdict(Counter, {key: Counter(values) for key, values in counts.items()})
    for key, values in counts.items():
        loose = "\0" + backoff_key(key)
        pooled[loose].update(values)
    return pooled


class MajorityGlosser(Glosser):
    model_type = "majority"

    def __init__(self, morphemes: Table, words: Table, segmentations: Table, trained_on: dict | None = None):
        self.morphemes = morphemes
        self.words = words
        self.segmentations = segmentations
        self.trained_on = trained_on or {}

    # -- training -----------------------------------------------------------
    @classmethod
    def train(cls, records: Iterable[IGTRecord], description: str | None = None) -> MajorityGlosser:
        morpheme_counts: dict[str, Counter] = defaultdict(Counter)
        word_counts: dict[str, Counter] = defaultdict(Counter)
        segmentation_counts: dict[str, Counter] = defaultdict(Counter)
        sentences = 0
        for record in records:
            if not record.has_glosses:
                continue
            sentences += 1
            gloss_words = record.gloss_words
            segmented = words(record.segmented_form)
            if len(segmented) == len(gloss_words):
                for word, gloss in zip(segmented, gloss_words):
                    parts, glosses = word_morphemes(word), word_morphemes(gloss)
                    if len(parts) == len(glosses):
                        for part, part_gloss in zip(parts, glosses):
                            morpheme_counts[part][part_gloss] += 1
            plain = record.transcription_words if not record.is_segmented else []
            if plain and len(plain) == len(gloss_words):
                for index, (word, gloss) in enumerate(zip(plain, gloss_words)):
                    word_counts[word][gloss] += 1
                    if len(segmented) == len(plain):
                        segmentation_counts[word][segmented[index]] += 1
        trained_on = {"sentences": sentences, "description": description}
        return cls(_majority(_with_backoff(morpheme_counts)), _majority(_with_backoff(word_counts)),
                   _majority(_with_backoff(segmentation_counts)), trained_on)

    # -- glossing -----------------------------------------------------------
    @staticmethod
    def _lookup(table: Table, key: str) -> tuple[str, float] | None:
        return table.get(key) or table.get("\0" + backoff_key(key))

    def lookup(self, table: str, key: str) -> tuple[str, float] | None:
        """Most frequent value and its relative frequency for a morpheme
        (``morphemes``), word (``words``) or word segmentation (``segmentations``)."""
        return self._lookup(getattr(self, table), key)

    def tables(self) -> dict[str, Table]:
        return {"morphemes": self.morphemes, "words": self.words, "segmentations": self.segmentations}

    @classmethod
    def from_tables(cls, tables: dict, trained_on: dict | None = None) -> MajorityGlosser:
        def table(name: str) -> Table:
            return {key: (value[0], float(value[1])) for key, value in tables.get(name, {}).items()}

        return cls(table("morphemes"), table("words"), table("segmentations"), trained_on)

    def _gloss_segmented(self, record: IGTRecord) -> GlossedRecord:
        gloss_words, confidences = [], []
        for word in words(record.segmented_form):
            parts, boundaries = split_keep_boundaries(word)
            found = [self._lookup(self.morphemes, part) or (UNKNOWN_GLOSS, 0.0) for part in parts]
            pieces = [found[0][0]]
            for boundary, (gloss, _) in zip(boundaries, found[1:]):
                pieces += [boundary, gloss]
            gloss_words.append("".join(pieces))
            confidences.append([confidence for _, confidence in found])
        return GlossedRecord(record.replace(glosses=" ".join(gloss_words)), confidences)

    def _gloss_words(self, record: IGTRecord) -> GlossedRecord:
        gloss_words, segmented, confidences = [], [], []
        for word in record.transcription_words:
            gloss, confidence = self._lookup(self.words, word) or (UNKNOWN_GLOSS, 0.0)
            segmentation = self._lookup(self.segmentations, word)
            segmented.append(segmentation[0] if segmentation else backoff_key(word) or word)
            gloss_words.append(gloss)
            confidences.append([confidence] * len(word_morphemes(gloss)))
        output = record.replace(glosses=" ".join(gloss_words), segmentation=" ".join(segmented))
        return GlossedRecord(output, confidences)

    def _gloss_chunk(self, records: list[IGTRecord]) -> list[GlossedRecord]:
        return [self._gloss_segmented(record) if record.segmented_form else self._gloss_words(record)
                for record in records]

    # -- saving and loading --------------------------------------------------
    def save_pretrained(self, directory: str | os.PathLike) -> None:
        config = {"model_type": self.model_type, "autogloss_version": __version__,
                  "unknown_gloss": UNKNOWN_GLOSS, "trained_on": self.trained_on}
        tables = self.tables()
        with atomic_directory(directory) as staging:
            (staging / CONFIG_NAME).write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
            (staging / TABLES_NAME).write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
            (staging / CARD_NAME).write_text(self._card(), encoding="utf-8")

    def _card(self) -> str:
        return f"""---
library_name: autogloss
tags: [interlinear-glossed-text, glossing, baseline]
---
# Majority-gloss baseline (autogloss {__version__})

Glosses each morpheme (segmented input) or word (unsegmented input) with the
gloss it most often had in training; unseen ones get `{UNKNOWN_GLOSS}`.

- Trained on: {self.trained_on.get("description") or "unspecified"} ({self.trained_on.get("sentences", 0):,} glossed sentences)
- Morphemes known: {sum(1 for k in self.morphemes if not k.startswith(chr(0))):,}
- Words known: {sum(1 for k in self.words if not k.startswith(chr(0))):,}

Load with `autogloss.models.load_glosser(path)` or `autogloss gloss --model PATH`.
"""

    @classmethod
    def _load(cls, directory: Path, config: dict) -> MajorityGlosser:
        return cls.from_tables(read_json_part(directory, TABLES_NAME), config.get("trained_on"))
