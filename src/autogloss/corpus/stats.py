"""Summary statistics of a built corpus, per source next to GlossLM's published counts."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..records import is_grammatical, word_morphemes
from .apics import APICS
from .build import corpus_files, read_manifest
from .imtvault import IMTVAULT
from .languages import UND
from .sources import GUARANI, ODIN, SIGMORPHON, URATYP

if TYPE_CHECKING:  # pyarrow loads when statistics are computed, not with the package
    import pyarrow as pa


@dataclass(frozen=True)
class PublishedSource:
    """One source of a published corpus as its paper counts it."""

    name: str
    instances: int  # IGT sentences taken from the source
    languages: int


#: GlossLM's corpus by source: Ginn et al. (EMNLP 2024), "GlossLM: A Massively Multilingual Corpus
#: and Pretrained Model for Interlinear Glossed Text", Table 1 (IGT instances and languages per
#: source, before each segmented sentence is doubled into a segmented and an unsegmented example;
#: 451,129 examples in all after that). https://arxiv.org/abs/2403.06399 (v3); the numbers as
#: transcribed from that table in https://api.emergentmind.com/topics/glosslm
GLOSSLM_SOURCES: dict[str, PublishedSource] = {
    ODIN: PublishedSource("ODIN", 83_661, 936),
    SIGMORPHON: PublishedSource("SIGMORPHON 2023 shared task", 68_604, 7),
    IMTVAULT: PublishedSource("IMTVault 1.1", 79_522, 1_116),
    APICS: PublishedSource("APiCS", 15_805, 76),
    URATYP: PublishedSource("UraTyp", 1_719, 35),
    GUARANI: PublishedSource("Guarani Corpus", 803, 1),
}
GLOSSLM_EXAMPLES = 451_129


@dataclass(frozen=True)
class SourceStats:
    """One source in a built corpus."""

    sentences_read: int  # from the source, before unglossed rows, duplicates and leaks were removed
    examples: int  # rows written, a segmented sentence counted twice
    languages: int  # distinct languages; rows whose language was not decided (``und``) not counted
    segmented_share: float  # of the examples


@dataclass(frozen=True)
class SourceComparison:
    """A source side by side: this corpus (None: not built from it) and GlossLM (None: not in it)."""

    source: str
    ours: SourceStats | None
    glosslm: PublishedSource | None

    COLUMNS = ("source", "sentences read", "examples", "languages", "segmented",
               "GlossLM sentences", "GlossLM languages")

    def cells(self) -> tuple[str, ...]:
        """The row as a table shows it, in :attr:`COLUMNS` order."""
        ours = (f"{self.ours.sentences_read:,}", f"{self.ours.examples:,}", f"{self.ours.languages:,}",
                f"{100 * self.ours.segmented_share:.1f}%") if self.ours else ("not read", "", "", "")
        theirs = (f"{self.glosslm.instances:,}", f"{self.glosslm.languages:,}") if self.glosslm else ("not in GlossLM", "")
        return (self.source, *ours, *theirs)


@dataclass
class CorpusStats:
    examples_by_split: dict[str, int]
    examples_by_source_split: dict[tuple[str, str], int]
    examples_by_language: dict[str, int]
    languages: int  # distinct languages; rows whose language was not decided (``und``) not counted
    segmented_share: float
    top_glosses: list[tuple[str, int]]
    top_grammatical: list[tuple[str, int]]
    manifest: dict
    by_source: dict[str, SourceStats]

    def next_to_glosslm(self) -> list[SourceComparison]:
        """Every source of this corpus or of GlossLM's, in GlossLM's order, then any others."""
        names = list(GLOSSLM_SOURCES) + [name for name in self.by_source if name not in GLOSSLM_SOURCES]
        return [SourceComparison(name, self.by_source.get(name), GLOSSLM_SOURCES.get(name)) for name in names]


def _language_label(table: pa.Table) -> pa.Array:
    """``name (code)`` for each row; unknown ODIN languages by file code."""
    import pyarrow as pa

    labels = []
    for name, iso, glotto, origin in zip(*(table.column(c).to_pylist() for c in ("language", "iso639_3", "glottocode", "origin"))):
        code = iso or glotto
        if name:
            labels.append(f"{name} ({code})" if code else name)
        elif code == UND:
            labels.append(f"Undetermined ({UND})")
        elif code:
            labels.append(code)
        else:
            stem = os.path.basename((origin or "").rsplit(":", 1)[0]).removesuffix(".txt")
            labels.append(f"unknown ({stem})" if stem else "unknown")
    return pa.array(labels)


def gloss_label_counts(glosses: list[str]) -> Counter:
    """How often each morpheme gloss occurs in a list of gloss lines."""
    counts: Counter = Counter()
    for line in glosses:
        for word in (line or "").split():
            counts.update(label for label in word_morphemes(word) if label)
    return counts


def _by_source(table: pa.Table, languages: list[str], sentences_read: dict[str, int]) -> dict[str, SourceStats]:
    rows: dict[str, list[tuple[str, bool, bool]]] = {}
    for source, language, iso, segmented in zip(table.column("source").to_pylist(), languages,
                                                 table.column("iso639_3").to_pylist(),
                                                 table.column("is_segmented").to_pylist()):
        rows.setdefault(source, []).append((language, iso == UND, segmented is True))
    names = list(sentences_read) + [name for name in rows if name not in sentences_read]
    return {name: SourceStats(
        sentences_read=sentences_read.get(name, 0),
        examples=len(rows.get(name, [])),
        languages=len({language for language, und, _ in rows.get(name, []) if not und}),
        segmented_share=sum(segmented for *_, segmented in rows[name]) / len(rows[name]) if rows.get(name) else 0.0,
    ) for name in names}


def corpus_stats(corpus_dir: str | os.PathLike, top: int = 20) -> CorpusStats:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    manifest = read_manifest(corpus_dir)
    columns = ["language", "iso639_3", "glottocode", "origin", "source", "split", "is_segmented", "glosses"]
    tables = {split: pq.read_table(path, columns=columns) for split, path in corpus_files(corpus_dir).items()}
    table = pa.concat_tables(tables.values()) if tables else pa.table({c: [] for c in columns})
    by_source_split = Counter(zip(table.column("source").to_pylist(), table.column("split").to_pylist()))
    languages = _language_label(table).to_pylist()
    by_language = Counter(languages)
    segmented = pc.sum(pc.equal(table.column("is_segmented"), True)).as_py() or 0
    # Count each sentence once: the segmented copies repeat the gloss line.
    once = table.filter(pc.invert(pc.fill_null(table.column("is_segmented"), False)))
    labels = gloss_label_counts(once.column("glosses").to_pylist())
    grammatical = Counter({label: n for label, n in labels.items() if is_grammatical(label)})
    return CorpusStats(
        examples_by_split={split: t.num_rows for split, t in tables.items()},
        examples_by_source_split=dict(sorted(by_source_split.items())),
        examples_by_language=dict(by_language.most_common()),
        languages=len({label for label, iso in zip(languages, table.column("iso639_3").to_pylist()) if iso != UND}),
        segmented_share=segmented / table.num_rows if table.num_rows else 0.0,
        top_glosses=labels.most_common(top),
        top_grammatical=grammatical.most_common(top),
        manifest=manifest,
        by_source=_by_source(table, languages, manifest.get("sentences_read", {})),
    )
