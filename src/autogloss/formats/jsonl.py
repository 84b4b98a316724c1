"""JSON lines: one record per line, with the field names of :class:`IGTRecord`.

Glossed output adds ``confidence``: one list of per-morpheme confidences per word.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import IO

from ..errors import FormatError, skip_or_raise
from ..fileio import atomic_write, content_lines
from ..records import IGTRecord, Language

_TEXT_FIELDS = ("transcription", "segmentation", "glosses", "translation", "metalanguage", "source", "split",
                "license", "glosses_original", "pos")


def record_to_json(record: IGTRecord, confidences: list[list[float]] | None = None) -> dict:
    data = {"id": record.id, **{name: getattr(record, name) for name in _TEXT_FIELDS},
            "language": record.language.name, "iso639_3": record.language.iso639_3,
            "glottocode": record.language.glottocode, "is_segmented": record.is_segmented}
    if confidences is not None:
        data["confidence"] = confidences
    return data


def _record(data: object, path: str, number: int) -> IGTRecord:
    if not isinstance(data, dict):
        raise FormatError(path, number, "expected a JSON object per line")
    transcription = data.get("transcription")
    if not isinstance(transcription, str) or not transcription.strip():
        raise FormatError(path, number, "record has no transcription (field 'transcription')")
    values = {}
    for name in _TEXT_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise FormatError(path, number, f"field '{name}' must be a string, not {type(value).__name__}")
        values[name] = value
    values["glosses"] = values["glosses"] or ""
    is_segmented = data.get("is_segmented")
    if is_segmented is not None and not isinstance(is_segmented, bool):
        raise FormatError(path, number, "field 'is_segmented' must be true, false or null")
    language = Language(data.get("language"), data.get("iso639_3"), data.get("glottocode"))
    return IGTRecord(id=str(data.get("id") or number), language=language, is_segmented=is_segmented,
                     origin=f"{path}:{number}", **values)


def parse_json_line(line: str, path: str, number: int) -> object:
    """One line of a JSON-lines file, or a :class:`FormatError` naming where and what."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise FormatError(path, number, f"invalid JSON: {error.msg} at column {error.colno}") from None


def read_jsonl(path: str | os.PathLike, *, skip_invalid: bool = False,
               skipped: list[FormatError] | None = None) -> Iterator[IGTRecord]:
    path = os.fspath(path)
    for number, line in content_lines(path, skip_invalid, skipped):
        try:
            yield _record(parse_json_line(line, path, number), path, number)
        except FormatError as error:
            skip_or_raise(error, skip_invalid, skipped)


def write_jsonl_to(records: Iterable[IGTRecord], handle: IO[str]) -> int:
    count = 0
    for record in records:
        handle.write(json.dumps(record_to_json(record), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_jsonl(records: Iterable[IGTRecord], path: str | os.PathLike) -> int:
    with atomic_write(path) as handle:
        return write_jsonl_to(records, handle)


def record_from_json(data: object, path: str, number: int) -> IGTRecord:
    """One record from a parsed JSON object (as :func:`record_to_json` writes it)."""
    return _record(data, path, number)
