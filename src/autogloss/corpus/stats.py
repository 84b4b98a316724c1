"""Summary statistics of a built corpus."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..records import is_grammatical, word_morphemes
from .build import corpus_files, read_manifest

if TYPE_CHECKING:  # pyarrow loads when statistics are computed, not with the package
    import pyarrow as pa


@dataclass
class CorpusStats:
    examples_by_split: dict[str, int]
    examples_by_source_split: dict[tuple[str, str], int]
    examples_by_language: dict[str, int]
    languages: int
    segmented_share: float
    top_glosses: list[tuple[str, int]]
    top_grammatical: list[tuple[str, int]]
    manifest: dict


def _language_label(table: pa.Table) -> pa.Array:
    """``name (code)`` for each row; unknown ODIN languages by file code."""
    import pyarrow as pa

    labels = []
    for name, iso, glotto, origin in zip(*(table.column(c).to_pylist() for c in ("language", "iso639_3", "glottocode", "origin"))):
        code = iso or glotto
        if name:
            labels.append(f"{name} ({code})" if code else name)
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


def corpus_stats(corpus_dir: str | os.PathLike, top: int = 20) -> CorpusStats:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    manifest = read_manifest(corpus_dir)
    columns = ["language", "iso639_3", "glottocode", "origin", "source", "split", "is_segmented", "glosses"]
    tables = {split: pq.read_table(path, columns=columns) for split, path in corpus_files(corpus_dir).items()}
    table = pa.concat_tables(tables.values()) if tables else pa.table({c: [] for c in columns})
    by_source_split = Counter(zip(table.column("source").to_pylist(), table.column("split").to_pylist()))
    by_language = Counter(_language_label(table).to_pylist())
    segmented = pc.sum(pc.equal(table.column("is_segmented"), True)).as_py() or 0
    # Count each sentence once: the segmented copies repeat the gloss line.
    once = table.filter(pc.invert(pc.fill_null(table.column("is_segmented"), False)))
    labels = gloss_label_counts(once.column("glosses").to_pylist())
    grammatical = Counter({label: n for label, n in labels.items() if is_grammatical(label)})
    return CorpusStats(
        examples_by_split={split: t.num_rows for split, t in tables.items()},
        examples_by_source_split=dict(sorted(by_source_split.items())),
        examples_by_language=dict(by_language.most_common()),
        languages=len(by_language),
        segmented_share=segmented / table.num_rows if table.num_rows else 0.0,
        top_glosses=labels.most_common(top),
        top_grammatical=grammatical.most_common(top),
        manifest=manifest,
    )
