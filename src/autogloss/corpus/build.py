"""Compile every source into one deduplicated, leak-free corpus on disk.

Layout of a built corpus directory (loadable with Hugging Face
``datasets.load_dataset("parquet", data_dir=DIR)``, which reads the split
names from the file names)::

    data/train.parquet  data/dev.parquet  data/test.parquet  data/pretrain.parquet
    manifest.json       what was read, removed and written (the build report)
    README.md           dataset card

Each sentence with a morpheme segmentation becomes two examples, as in the
GlossLM corpus: one whose transcription is the segmented line
(``is_segmented=True``) and one with the plain transcription and no
segmentation (``is_segmented=False``), which is what a model is given for
plain text: a copy that kept the segmentation would be read, and counted, as
segmented (:attr:`~autogloss.records.IGTRecord.segmented_form`).
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..errors import AutoglossError, FormatError
from ..fileio import atomic_directory, atomic_write
from ..progress import Progress, Reporter, task
from ..records import IGTRecord, squash_space
from .imtvault import TRANSLATION_CLEANING, SkippedRow
from .languages import LANGUAGE_DECISION, UND, method_key
from .sources import LOADERS, SHARED_TASK_LANGUAGES, SIGMORPHON, SOURCES

EVALUATION_SPLITS = ("dev", "test")
TRAINING_SPLITS = ("train", "pretrain")
SPLIT_ORDER = ("train", "dev", "test", "pretrain")
MANIFEST = "manifest.json"


def squash(text: str | None) -> str | None:
    """Whitespace-normalised text (``None`` stays ``None``)."""
    return squash_space(text) if text is not None else None


@functools.cache
def _punctuation_as_space() -> dict[int, str]:
    """``str.translate`` table: every Unicode punctuation character (category P*) to a space."""
    return {code: " " for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)).startswith("P")}


def sentence_key(text: str | None) -> str:
    """What makes two sentences "the same" for leakage: Unicode NFC, case,
    punctuation and spacing ignored."""
    if not text:
        return ""
    return squash_space(unicodedata.normalize("NFC", text).casefold().translate(_punctuation_as_space()))


def examples(record: IGTRecord) -> Iterator[IGTRecord]:
    """The corpus examples of one sentence: segmented and plain (without the
    segmentation: the text as a model glosses plain text) when a distinct
    segmentation exists, else the sentence alone."""
    record = record.replace(
        transcription=squash(record.transcription), segmentation=squash(record.segmentation),
        glosses=squash(record.glosses), translation=squash(record.translation) or None,
    )
    if record.segmentation and record.segmentation != record.transcription:
        yield record.replace(id=f"{record.id}/seg", transcription=record.segmentation, is_segmented=True)
        yield record.replace(id=f"{record.id}/unseg", segmentation=None, is_segmented=False)
    elif record.segmentation:
        # The "segmentation" repeats the transcription: whether the text is
        # segmented is unknown (mono-morphemic words, or no analysis given).
        yield record.replace(is_segmented=None)
    else:
        yield record


@dataclass
class BuildReport:
    """What a build read, removed and wrote; saved as ``manifest.json``."""

    sentences_read: Counter = field(default_factory=Counter)
    unglossed_dropped: Counter = field(default_factory=Counter)
    duplicates_removed: Counter = field(default_factory=Counter)
    leaks_removed: Counter = field(default_factory=Counter)
    leak_examples: list[dict] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    skipped_by_source: Counter = field(default_factory=Counter)
    #: Rows left out because they are not IGT, by ``"source: reason"``.
    skipped_by_reason: Counter = field(default_factory=Counter)
    #: Sentences per source and way their language was decided (see corpus.languages).
    languages_decided: dict[str, Counter] = field(default_factory=dict)
    #: Sentences given the code ``und``, by ``"source: reason"``.
    undetermined: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    normalised: str | None = None
    #: ``{source: {licence: sentences}}``, for the dataset card
    licenses: dict[str, Counter] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "autogloss_version": __version__,
            "built": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "sentences_read": dict(self.sentences_read),
            "unglossed_dropped": dict(self.unglossed_dropped),
            "duplicates_removed": dict(self.duplicates_removed),
            "leaks_removed": dict(self.leaks_removed),
            "leak_examples": self.leak_examples[:50],
            "rows_written": self.rows_written,
            "skipped_by_source": dict(self.skipped_by_source),
            "skipped_by_reason": dict(self.skipped_by_reason.most_common()),
            "languages_decided": {source: dict(methods.most_common()) for source, methods in self.languages_decided.items()},
            "undetermined_languages": dict(self.undetermined.most_common()),
            "skipped_invalid": self.skipped,
            "notes": self.notes,
            "gloss_normalisation": self.normalised,
            "licenses_by_source": {source: dict(counts) for source, counts in self.licenses.items()},
        }


def _evaluation_keys(records: list[IGTRecord]) -> set[str]:
    keys = set()
    for record in records:
        if record.source == SIGMORPHON and record.split in EVALUATION_SPLITS:
            keys.update(k for k in (sentence_key(record.transcription), sentence_key(record.segmentation)) if k)
    return keys


def _leaks(record: IGTRecord, evaluation_keys: set[str]) -> bool:
    return any(sentence_key(text) in evaluation_keys for text in (record.transcription, record.segmentation) if text)


def _duplicate_key(record: IGTRecord) -> tuple:
    return (record.language, record.is_segmented, record.transcription, record.segmentation,
            record.glosses, record.translation)


def compile_examples(records: Iterable[IGTRecord], report: BuildReport) -> dict[str, list[IGTRecord]]:
    """Expand, clean and split the source records; fills ``report``."""
    sentences = list(records)
    for record in sentences:
        report.sentences_read[record.source] += 1
        if record.language_method:
            method = method_key(record.language_method)
            report.languages_decided.setdefault(record.source, Counter())[method] += 1
            if method == UND:
                report.undetermined[f"{record.source}: {record.language_method.split(': ', 1)[-1]}"] += 1
        report.licenses.setdefault(record.source, Counter())[record.license or "not stated by the source"] += 1
    evaluation_keys = _evaluation_keys(sentences)
    seen: set[tuple] = set()
    splits: dict[str, list[IGTRecord]] = {split: [] for split in SPLIT_ORDER}
    for sentence in sentences:
        # Shared-task test inputs have no gold glosses here; keep them as inputs.
        if not sentence.has_glosses and sentence.split != "test":
            report.unglossed_dropped[sentence.source] += 1
            continue
        # judged on the sentence, so both copies go when either of its lines is a dev or test sentence
        leaks = _leaks(sentence, evaluation_keys)
        for example in examples(sentence):
            if example.split in TRAINING_SPLITS:
                if leaks:
                    report.leaks_removed[f"{example.source}/{example.split}"] += 1
                    if len(report.leak_examples) < 50:
                        report.leak_examples.append({"id": example.id, "transcription": example.transcription})
                    continue
                key = _duplicate_key(example)
                if key in seen:
                    report.duplicates_removed[f"{example.source}/{example.split}"] += 1
                    continue
                seen.add(key)
            splits.setdefault(example.split, []).append(example)
    return splits


def build_corpus(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    sources: Iterable[str] | None = None,
    labels: str | None = None,
    normaliser: Callable[[IGTRecord], IGTRecord] | None = None,
    normaliser_name: str | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Read ``sources`` (default: all) from ``data_dir`` and write the corpus to ``out_dir``.

    ``labels`` names a version of the gloss-label table (``v1``) to
    normalise the gloss labels with (the originals are kept); ``normaliser``
    is any other rewriting of the records, recorded as ``normaliser_name``.
    The corpus is assembled in a temporary folder beside ``out_dir`` and
    swapped into place only when complete, so an interrupted build leaves
    any previous corpus untouched and never a partial one. ``progress``
    gets the sources read out of all and the splits written (with a
    :class:`~autogloss.progress.Reporter`: as tasks with totals, else as lines).
    """
    if labels is not None:
        from ..normalise import load_table, normalise_record

        table = load_table(labels)
        normaliser, normaliser_name = (lambda record: normalise_record(record, table)), table.name
    sources = list(SOURCES if sources is None else sources)
    data_dir = Path(data_dir)
    report = BuildReport(normalised=normaliser_name)
    skipped: list[FormatError] = []
    unknown = [name for name in sources if name not in LOADERS]
    if unknown:
        raise AutoglossError(f"unknown source(s) {', '.join(unknown)} (choose from {', '.join(SOURCES)})")

    def read_all() -> Iterator[IGTRecord]:
        with task(progress, "reading sources", len(sources)) as shown:
            for index, name in enumerate(sources):
                shown.update(completed=index, description=f"reading {name} (source {index + 1}/{len(sources)})")
                _say(progress, f"reading {name}")
                before = len(skipped)
                yield from LOADERS[name](data_dir, skipped, report.notes)
                if len(skipped) > before:
                    report.skipped_by_source[name] += len(skipped) - before
                    report.skipped_by_reason.update(
                        f"{name}: {error.reason if isinstance(error, SkippedRow) else 'malformed record'}"
                        for error in skipped[before:])
            shown.update(completed=len(sources))

    from ..formats.store import write_store  # (pyarrow loads only when a corpus is built or read)

    splits = compile_examples(read_all(), report)
    report.skipped = [str(error) for error in skipped]
    with atomic_directory(out_dir) as staging:
        with task(progress, "writing splits", len(SPLIT_ORDER)) as shown:
            for index, split in enumerate(SPLIT_ORDER):
                rows = splits.get(split, [])
                if normaliser is not None:
                    rows = [normaliser(record) for record in rows]
                shown.update(completed=index, description=f"writing {split} ({len(rows):,} examples)")
                _say(progress, f"writing {split} ({len(rows):,} examples)")
                report.rows_written[split] = write_store(rows, staging / "data" / f"{split}.parquet")
            shown.update(completed=len(SPLIT_ORDER))
        with atomic_write(staging / MANIFEST) as handle:
            json.dump(report.to_json(), handle, indent=2, ensure_ascii=False)
        with atomic_write(staging / "README.md") as handle:
            handle.write(dataset_card(report))
    return report


def _say(progress: Progress | None, message: str) -> None:
    """A step as a line, where there is no task to show it in (a plain callback)."""
    if progress is not None and not isinstance(progress, Reporter):
        progress(message)


def dataset_card(report: BuildReport) -> str:
    languages = ", ".join(f"{info.folder} ({iso})" for iso, info in SHARED_TASK_LANGUAGES.items())
    rows = "\n".join(f"| {split} | {count:,} |" for split, count in report.rows_written.items())
    read = "\n".join(f"| {source} | {count:,} | {_licenses(report.licenses.get(source, Counter()))} |"
                     for source, count in report.sentences_read.items())
    return f"""---
license: other
task_categories: [text2text-generation]
tags: [interlinear-glossed-text, igt, morphology, low-resource]
---
# autogloss IGT corpus

Compiled by `autogloss corpus build` (autogloss {__version__}) from public IGT sources:
SIGMORPHON 2023 shared task ({languages}; splits kept as given), ODIN 2.1,
Guarani stories, UraTyp, IMTVault and APiCS (all in the `pretrain` split). Licences differ by
source (see the table below) and are recorded per row in the `license` column;
the shared-task data is non-commercial (CC BY-NC 4.0, Gitksan CC BY-NC-ND 4.0).

Sentences with a morpheme segmentation appear twice: segmented
(`is_segmented=true`, the transcription is the segmented line) and unsegmented
(`is_segmented=false`, the plain transcription with an empty `segmentation`).
Exact duplicates are removed from the training splits, and no SIGMORPHON dev or
test sentence (compared without case, punctuation and spacing) is left in
`train` or `pretrain`; see `manifest.json` for the counts.
Gloss normalisation: {report.normalised or "none (original glosses)"}.

IMTVault translations are cleaned of what the extraction from the books kept
around them: {TRANSLATION_CLEANING}
IMTVault and APiCS rows that are not IGT are left out, counted by reason in
`manifest.json` (`skipped_by_reason`).

## How languages were decided

{LANGUAGE_DECISION} The `language_method` column says which way decided each
row; the reasons for `und` are counted in `manifest.json` (`undetermined_languages`).

| source | way decided | sentences |
|---|---|---|
{_decisions(report)}

## Sources and their licences

| source | sentences read | licence (sentences) |
|---|---|---|
{read}

## Examples per split

| split | examples |
|---|---|
{rows}
"""


def _decisions(report: BuildReport) -> str:
    return "\n".join(f"| {source} | {method} | {count:,} |" for source, methods in report.languages_decided.items()
                     for method, count in methods.most_common())


def _licenses(counts: Counter) -> str:
    """``CC BY-NC 4.0 (29,362); CC BY-NC-ND 4.0 (110)``: a source's licences, most sentences first."""
    return "; ".join(f"{license} ({count:,})" for license, count in counts.most_common())


def read_manifest(corpus_dir: str | os.PathLike) -> dict:
    path = Path(corpus_dir) / MANIFEST
    if not path.is_file():
        raise AutoglossError(f"{corpus_dir}: not an autogloss corpus (no {MANIFEST}); build one with 'autogloss corpus build'")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise FormatError(path, error.lineno, f"corrupt manifest: {error.msg}") from None


def corpus_files(corpus_dir: str | os.PathLike) -> dict[str, Path]:
    """``{split: parquet path}`` of a built corpus (checked to be complete)."""
    read_manifest(corpus_dir)
    files = {path.stem: path for path in sorted((Path(corpus_dir) / "data").glob("*.parquet"))}
    return dict(sorted(files.items(), key=lambda item: SPLIT_ORDER.index(item[0]) if item[0] in SPLIT_ORDER else 99))


def read_corpus(corpus_dir: str | os.PathLike, splits: Iterable[str] | None = None) -> Iterator[IGTRecord]:
    """Stream the records of a built corpus, optionally only some splits."""
    from ..formats.store import read_store

    files = corpus_files(corpus_dir)
    for split in splits or files:
        if split not in files:
            raise AutoglossError(f"{corpus_dir}: no split '{split}' (has {', '.join(files)})")
        yield from read_store(files[split])

