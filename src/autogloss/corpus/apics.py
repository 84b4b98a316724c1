"""APiCS, the Atlas of Pidgin and Creole Language Structures (a CLDF dataset).

``examples.csv`` holds the examples: ``Analyzed_Word`` and ``Gloss`` word for
word, separated by what the metadata names as separator (the two characters
``\\t``) or, in some rows, by a real tab; ``Language_ID`` points into
``languages.csv``, which gives the language's name, ``Glottocode`` and
``ISO639P3code``.

The file is read with the ``csv`` module, not pycldf: pycldf reads it (in
about 5 seconds, against 0.1), but one invalid cell (an ID outside the
metadata's pattern) stops it reading the whole table, where a corpus build
leaves that one row out and says why; and the rows separated by real tabs
need splitting again either way.

``Analyzed_Word`` is the row's segmentation when it has morpheme breaks
(else it is only the analysed spelling, not a segmentation), ``Primary_Text``
its transcription when it has as many words (it is often in the source's own
spelling), else the analysed words without their morpheme breaks.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import FormatError
from ..records import IGTRecord, squash_space, text_problem
from .imtvault import SkippedRow, aligned_words, igt_problem, plain_word
from .languages import Evidence, LanguageIdentifier, glottocode_table

APICS = "apics"
APICS_LICENSE = "CC BY 4.0"
REQUIRED_COLUMNS = ("ID", "Language_ID", "Primary_Text", "Analyzed_Word", "Gloss")
_SEPARATOR = re.compile(r"\\t|\t")


def load_apics(data_dir: Path, skipped: list[FormatError], notes: list[str]) -> Iterator[IGTRecord]:
    """The APiCS examples in ``data_dir/apics``, all in the ``pretrain`` split."""
    path = data_dir / APICS / "examples.csv"
    if not path.exists():
        notes.append(f"{APICS}: {path} not found; left out")
        return
    languages = _languages(path.with_name("languages.csv"), notes)
    identifier = LanguageIdentifier(glottocode_table(data_dir))
    for line, row in _rows(path, REQUIRED_COLUMNS):
        try:
            record, evidence = apics_row(path, line, row, languages)
        except FormatError as error:
            skipped.append(error)
            continue
        language, method = identifier.decide(evidence)
        yield record.replace(language=language, language_method=method)


def _rows(path: Path, required: tuple[str, ...] = ()) -> Iterator[tuple[int, dict]]:
    """The rows of a CSV file with the line each starts on; the file must have the ``required`` columns."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in required if column not in (reader.fieldnames or [])]
            if missing:
                raise FormatError(path, 1, f"not a CLDF ExampleTable: missing column(s) {', '.join(missing)}")
            line = reader.line_num + 1
            for row in reader:
                yield line, row
                line = reader.line_num + 1
    except UnicodeDecodeError:
        raise FormatError(path, None, "not UTF-8 text") from None
    except csv.Error as error:
        raise FormatError(path, None, f"invalid CSV: {error}") from None


def _languages(path: Path, notes: list[str]) -> dict[str, Evidence]:
    """``{ID: what languages.csv says of it}``."""
    if not path.exists():
        notes.append(f"{APICS}: {path} not found; the languages are not known")
        return {}
    return {row.get("ID") or "": Evidence(iso639_3=row.get("ISO639P3code"), glottocode=row.get("Glottocode"),
                                          name=row.get("Name"))
            for _, row in _rows(path)}


def _cells(value: str) -> list[str]:
    """The words of a word column: split at its separators; a cell without
    any is one word, or words separated by spaces."""
    cells = _SEPARATOR.split(value)
    return [cell.strip() for cell in cells] if len(cells) > 1 else value.split()


def apics_row(path: Path, line: int, row: dict, languages: dict[str, Evidence]) -> tuple[IGTRecord, Evidence]:
    """The record of one example row and what is known of its language; a
    :class:`FormatError` naming file and line for a malformed row, a
    :class:`SkippedRow` for one that is no IGT."""
    example_id = (row.get("ID") or "").strip()
    if not example_id:
        raise FormatError(path, line, "row has no ID")
    if None in row or any(value is None for value in row.values()):
        raise FormatError(path, line, "row has another number of cells than the header")
    for column, value in row.items():
        problem = text_problem(value)
        if problem is not None:
            raise FormatError(path, line, f"{column} holds {problem}")
    words, glosses = aligned_words(_cells(row["Analyzed_Word"]), _cells(row["Gloss"]), path, line)
    translation = squash_space(row.get("Translated_Text") or "") or None
    problem = igt_problem(words, glosses, translation)
    if problem:
        raise SkippedRow(path, line, problem)
    primary = squash_space(row.get("Primary_Text") or "")
    transcription = primary if len(primary.split()) == len(words) else " ".join(plain_word(word) for word in words)
    language_id = (row.get("Language_ID") or "").strip()
    evidence = languages.get(language_id, Evidence())
    meta = languages.get((row.get("Meta_Language_ID") or "").strip())
    record = IGTRecord(
        id=f"{APICS}/{example_id}",
        transcription=transcription,
        segmentation=" ".join(words) if any(plain_word(word) != word for word in words) else None,
        glosses=" ".join(glosses),
        translation=translation,
        metalanguage=(meta.name if meta else None) or "English",
        source=APICS,
        split="pretrain",
        license=APICS_LICENSE,
        origin=f"{path}:{line}",
    )
    return record, evidence

