"""The majority baseline: the most frequent gloss seen in training.

Segmented input (a morpheme segmentation is given): each morpheme gets the
gloss it most often had. Unsegmented input: each word gets the whole word
gloss it most often had, and its most frequent segmentation, or, where
training had none (plain training text), a cut into one morpheme per label
of its gloss where the labels' spellings learnt from the glosses put them
(:class:`~autogloss.models.segmentation.Segmenter`); either is marked as
predicted. Unseen morphemes and words get :data:`UNKNOWN_GLOSS`. It is the
floor every model must beat, and needs nothing but the standard library
(and numpy, to learn the spellings).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..records import (UNKNOWN_GLOSS, GlossedRecord, IGTRecord, aligned_morphemes, backoff_key, join_morphemes,
                       split_keep_boundaries, word_morphemes, words)
from .base import (Glosser, ModelConfig, TrainingData, card, confidence_line, read_json_part, source_files,
                   training_card_lines, write_json)
from .segmentation import Segmenter

TABLES_NAME = "majority_tables.json"
Table = dict[str, tuple[str, float]]  # key -> (most frequent value, its relative frequency)
#: The tables' key of the labels' learnt spellings (see :class:`Segmenter`).
SPELLINGS = "spellings"


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

    def __init__(self, morphemes: Table, words: Table, segmentations: Table, trained_on: dict | None = None,
                 segmenter: Segmenter | None = None):
        self.morphemes = morphemes
        self.words = words
        self.segmentations = segmentations
        #: How each label is spelt, for cutting a plain word no segmentation was seen of.
        self.segmenter = segmenter or Segmenter()
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
            for part, part_gloss in aligned_morphemes(record):
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
                    _majority(_with_backoff(segmentation_counts)), trained_on, Segmenter.train(records))
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

    def to_json(self) -> dict:
        """What is saved of the model: its tables and its labels' spellings
        (read back by :meth:`from_tables`)."""
        return {**self.tables(), SPELLINGS: self.segmenter.to_json()}

    @classmethod
    def from_tables(cls, tables: dict, trained_on: dict | None = None) -> MajorityGlosser:
        def table(name: str) -> Table:
            return {key: (value[0], float(value[1])) for key, value in tables.get(name, {}).items()}

        return cls(table("morphemes"), table("words"), table("segmentations"), trained_on,
                   Segmenter.from_json(tables.get(SPELLINGS, {})))

    def segment(self, word: str, gloss_word: str) -> str:
        """A plain word's morphemes for its gloss: its most frequent
        segmentation in training if that has as many morphemes as the gloss,
        else cut where the labels' spellings put the boundaries."""
        known = self._lookup(self.segmentations, word)
        if known is not None and len(word_morphemes(known[0])) == len(word_morphemes(gloss_word)):
            return known[0]
        return self.segmenter.segment(word, gloss_word)

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
            # a word left whole is written as the memory keys it (case-folded, no edge punctuation)
            whole = len(word_morphemes(gloss)) == 1 and self._lookup(self.segmentations, word) is None
            segmented.append(backoff_key(word) or word if whole else self.segment(word, gloss))
            gloss_words.append(gloss)
            confidences.append([confidence] * len(word_morphemes(gloss)))
        output = record.replace(glosses=" ".join(gloss_words), segmentation=" ".join(segmented),
                                segmentation_predicted=True)
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
        write_json(staging / TABLES_NAME, self.to_json(), indent=None)

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
