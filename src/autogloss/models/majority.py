"""The majority baseline: the most frequent gloss seen in training.

Segmented input (a morpheme segmentation is given): each morpheme gets the
gloss it most often had. Unsegmented input: each word gets the whole word
gloss it most often had, and its most frequent segmentation. Unseen
morphemes and words get :data:`UNKNOWN_GLOSS`. It is the floor every model
must beat, and needs nothing but the standard library.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..records import (UNKNOWN_GLOSS, GlossedRecord, IGTRecord, backoff_key, join_morphemes, split_keep_boundaries,
                       word_morphemes, words)
from .base import (Glosser, ModelConfig, TrainingData, card, confidence_line, read_json_part, source_files,
                   training_card_lines, write_json)

TABLES_NAME = "majority_tables.json"
Table = dict[str, tuple[str, float]]  # key -> (most frequent value, its relative frequency)


@dataclass
class MajorityConfig(ModelConfig):
    """The ``config.json`` of a majority model."""

    model_type = "majority"
    unknown_gloss: str = UNKNOWN_GLOSS
    trained_on: dict = field(default_factory=dict)
    #: Languages, settings and files of the training (a :class:`~autogloss.models.base.TrainingData`).
    training_data: dict = field(default_factory=dict)


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


def _settings_taught(record: IGTRecord) -> list[str]:
    """The settings a record teaches the baseline: segmented from its
    segmentation, plain from an unsegmented transcription (both, when it has both)."""
    return [setting for setting, taught in (("segmented", bool(record.segmented_form)),
                                            ("plain", not record.is_segmented)) if taught]


class MajorityGlosser(Glosser):
    model_type = "majority"

    def __init__(self, morphemes: Table, words: Table, segmentations: Table, trained_on: dict | None = None):
        self.morphemes = morphemes
        self.words = words
        self.segmentations = segmentations
        self.trained_on = trained_on or {}
        self.training = TrainingData()

    # -- training -----------------------------------------------------------
    @classmethod
    def train(cls, records: Iterable[IGTRecord], description: str | None = None) -> MajorityGlosser:
        records = list(records)
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
        data = TrainingData.count(records, _settings_taught,
                                  files=source_files(records) or ([description] if description else []))
        trained_on = {"sentences": sentences, "description": description}
        model = cls(_majority(_with_backoff(morpheme_counts)), _majority(_with_backoff(word_counts)),
                    _majority(_with_backoff(segmentation_counts)), trained_on)
        model.training = data
        return model

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
            gloss_words.append(join_morphemes([gloss for gloss, _ in found], boundaries))
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
    def config(self) -> MajorityConfig:
        return MajorityConfig(trained_on=self.trained_on, training_data=self.training.to_dict())

    def training_data(self) -> TrainingData:
        return self.training

    def _save_files(self, staging: Path, **options) -> None:
        write_json(staging / TABLES_NAME, self.tables(), indent=None)

    def model_card(self) -> str:
        return card(["interlinear-glossed-text", "glossing", "baseline"], f"""# Majority-gloss baseline (autogloss {__version__})

Glosses each morpheme (segmented input) or word (unsegmented input) with the
gloss it most often had in training; unseen ones get `{UNKNOWN_GLOSS}`.

- Trained on: {self.trained_on.get("description") or "unspecified"} ({self.trained_on.get("sentences", 0):,} glossed sentences)
{training_card_lines(self.training_data())}
- Morphemes known: {sum(1 for k in self.morphemes if not k.startswith(chr(0))):,}
- Words known: {sum(1 for k in self.words if not k.startswith(chr(0))):,}
- Confidence: {confidence_line(self)}

Load with `autogloss.models.load_model(path)` or `autogloss gloss --model PATH`.
""")

    @classmethod
    def _load(cls, directory: Path, config: dict) -> MajorityGlosser:
        settings = MajorityConfig.read(directory, config)
        model = cls.from_tables(read_json_part(directory, TABLES_NAME), settings.trained_on)
        if settings.training_data:
            model.training = TrainingData.from_dict(settings.training_data)
        return model
