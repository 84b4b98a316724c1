"""CLDF ExampleTable CSV (as in UraTyp): one example per row, the words of
``Analyzed_Word`` and ``Gloss`` separated by tabs.

This reads a bare ``examples.csv`` (sources ship them without metadata);
whole datasets are read and written through pycldf in
:mod:`autogloss.interlinear.cldf`.

Column names follow the CLDF ExampleTable defaults. A ``languages.csv``
beside the examples (CLDF LanguageTable) supplies names, glottocodes and ISO
codes for ``Language_ID``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import FormatError, skip_or_raise
from ..records import IGTRecord, Language, text_problem

REQUIRED_COLUMNS = ("ID", "Language_ID", "Primary_Text", "Analyzed_Word", "Gloss")


def _decoded_lines(path: str) -> Iterator[str]:
    """The file's lines decoded one by one, so a bad byte is reported on its own line."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise FormatError(path, number, "bytes that are not UTF-8") from None
            problem = text_problem(text.rstrip("\r\n"), "column")
            if problem is not None:
                raise FormatError(path, number, problem)
            yield text.removeprefix("\ufeff") if number == 1 else text


def _csv_rows(path: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Stream the rows of a UTF-8 CSV file with the line each starts on."""
    reader = csv.DictReader(_decoded_lines(path))
    try:
        if reader.fieldnames is None:
            raise FormatError(path, 1, "empty file: no CSV header")
        start = reader.line_num + 1
        for row in reader:
            if None in row:
                raise FormatError(path, start, f"{len(reader.fieldnames)} columns in the header but more in this row")
            yield start, row
            start = reader.line_num + 1
    except csv.Error as error:
        raise FormatError(path, reader.line_num, f"invalid CSV: {error}") from None


def read_languages(path: str | os.PathLike) -> dict[str, Language]:
    """A CLDF LanguageTable as ``{ID: Language}``."""
    path = os.fspath(path)
    languages = {}
    for _, row in _csv_rows(path):
        languages[row.get("ID", "")] = Language(
            name=(row.get("Name") or "").replace("_", " ") or None,
            iso639_3=row.get("ISO639P3code") or None,
            glottocode=row.get("Glottocode") or None,
        )
    return languages


def _tab_words(value: str | None) -> str:
    return " ".join(word.strip() for word in (value or "").split("\t") if word.strip())


def read_cldf_examples(
    path: str | os.PathLike,
    *,
    languages: dict[str, Language] | None = None,
    skip_invalid: bool = False,
    skipped: list[FormatError] | None = None,
    **fields,
) -> Iterator[IGTRecord]:
    """Stream the examples of a CLDF ExampleTable CSV file as records.

    When ``languages`` is not given, a ``languages.csv`` beside the file is
    read if present. Records with an empty ``Primary_Text`` are malformed.
    """
    path = os.fspath(path)
    if languages is None:
        table = Path(path).with_name("languages.csv")
        languages = read_languages(table) if table.exists() else {}
    header_checked = False
    for line, row in _csv_rows(path):
        if not header_checked:
            missing = [column for column in REQUIRED_COLUMNS if column not in row]
            if missing:
                raise FormatError(path, 1, f"not a CLDF ExampleTable: missing column(s) {', '.join(missing)}")
            header_checked = True
        try:
            yield _row_record(path, line, row, languages, fields)
        except FormatError as error:
            skip_or_raise(error, skip_invalid, skipped)


def _row_record(path: str, line: int, row: dict[str, str], languages: dict[str, Language], fields: dict) -> IGTRecord:
    transcription = " ".join((row.get("Primary_Text") or "").split())
    if not transcription:
        raise FormatError(path, line, "record has no transcription (Primary_Text is empty)")
    for column in ("ID", "Analyzed_Word", "Gloss"):
        if "\n" in (row.get(column) or "") or "\r" in (row.get(column) or ""):
            raise FormatError(path, line, f"{column} has a line break (a quoted field over more than one line)")
    language_id = row.get("Language_ID") or ""
    values = dict(
        id=row.get("ID") or str(line),
        transcription=transcription,
        segmentation=_tab_words(row.get("Analyzed_Word")) or None,
        glosses=_tab_words(row.get("Gloss")),
        translation=(row.get("Translated_Text") or "").strip() or None,
        language=languages.get(language_id, Language(name=None, iso639_3=None, glottocode=None)),
        is_segmented=False,
        origin=f"{path}:{line}",
    )
    values.update(fields)
    return IGTRecord(**values)


def write_cldf_examples(records: Iterable[IGTRecord], directory: str | os.PathLike) -> int:
    """Write a valid CLDF dataset (Generic module: ``Generic-metadata.json``,
    ``examples.csv``, ``languages.csv``) into ``directory`` atomically, through pycldf."""
    from ..interlinear.cldf import CldfDocument

    records = list(records)
    CldfDocument.from_records(records).write(directory)
    return len(records)
