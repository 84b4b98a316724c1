"""JSON lines: one record per line, with the field names of :class:`IGTRecord`.

Glossed output (a :class:`GlossedRecord`) adds ``confidence``: one list of
per-morpheme confidences per word, and ``repairs`` when a generated gloss
was aligned with the input. A segmentation a model predicted for plain
input comes with ``"segmentation_predicted": true``, so that it is read back
as a guess, never as a person's morpheme line (nor trained on).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from typing import IO

from ..errors import FormatError, skip_or_raise
from ..fileio import atomic_write, content_lines
from ..records import GlossedRecord, IGTRecord, Language, text_problem

_TEXT_FIELDS = ("transcription", "segmentation", "glosses", "translation", "metalanguage", "source", "split",
                "license", "glosses_original", "pos")


def record_to_json(record: IGTRecord, confidences: list[list[float]] | None = None) -> dict:
    data = {"id": record.id, **{name: getattr(record, name) for name in _TEXT_FIELDS},
            "language": record.language.name, "iso639_3": record.language.iso639_3,
            "glottocode": record.language.glottocode, "is_segmented": record.is_segmented}
    if record.glosses_partial:
        # glossed in part: each "?" morpheme stands for a gloss nobody gave yet,
        # and the record is never training data (read back as it was written)
        data["glosses_partial"] = True
    if record.segmentation_predicted:
        data["segmentation_predicted"] = True
    if confidences is not None:
        data["confidence"] = confidences
    return data


_JSON_TYPES = {dict: "an object", list: "an array", bool: "true or false", int: "a number", float: "a number"}


def _kind(value: object) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _checked_text(value: str, name: str, path: str, number: int) -> str:
    # JSON can escape what no record can hold: a lone surrogate ("\\ud800"), a control character
    problem = text_problem(value)
    if problem is not None:
        raise FormatError(path, number, f"field '{name}' has {problem}")
    return value


def _text_field(data: dict, name: str, path: str, number: int, what: str = "a string") -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FormatError(path, number, f"field '{name}' must be {what} or null, not {_kind(value)}")
    return _checked_text(value, name, path, number)


def _record_id(data: dict, path: str, number: int) -> str:
    value = data.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int, type(None))):
        raise FormatError(path, number, f"field 'id' must be a string or an integer, not {_kind(value)}")
    if isinstance(value, str):
        _checked_text(value, "id", path, number)
    return str(value or number)


def _record(data: object, path: str, number: int) -> IGTRecord:
    if not isinstance(data, dict):
        raise FormatError(path, number, "expected a JSON object per line")
    transcription = data.get("transcription")
    if not isinstance(transcription, str) or not transcription.strip():
        raise FormatError(path, number, "record has no transcription (field 'transcription')")
    values = {name: _text_field(data, name, path, number) for name in _TEXT_FIELDS}
    values["glosses"] = values["glosses"] or ""
    is_segmented = data.get("is_segmented")
    if is_segmented is not None and not isinstance(is_segmented, bool):
        raise FormatError(path, number, "field 'is_segmented' must be true, false or null")
    partial = data.get("glosses_partial", False)
    if not isinstance(partial, bool):
        raise FormatError(path, number, "field 'glosses_partial' must be true or false")
    predicted = data.get("segmentation_predicted", False)
    if not isinstance(predicted, bool):
        raise FormatError(path, number, "field 'segmentation_predicted' must be true or false")
    language = Language(_text_field(data, "language", path, number, "a string (the language's name)"),
                        _text_field(data, "iso639_3", path, number), _text_field(data, "glottocode", path, number))
    return IGTRecord(id=_record_id(data, path, number), language=language, is_segmented=is_segmented,
                     glosses_partial=partial, segmentation_predicted=predicted and bool(values["segmentation"]),
                     origin=f"{path}:{number}", **values)


def parse_json_line(line: str, path: str, number: int) -> object:
    """One line of a JSON-lines file, or a :class:`FormatError` naming where and what."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise FormatError(path, number, f"invalid JSON: {error.msg} at column {error.colno}") from None
    except RecursionError:
        raise FormatError(path, number, "invalid JSON: nested too deeply to read") from None
    except ValueError:  # json's only other ValueError: an integer longer than Python converts
        raise FormatError(path, number, f"invalid JSON: a number of more than {sys.get_int_max_str_digits()} "
                                        "digits") from None


def read_jsonl(path: str | os.PathLike, *, skip_invalid: bool = False,
               skipped: list[FormatError] | None = None) -> Iterator[IGTRecord]:
    path = os.fspath(path)
    for number, line in content_lines(path, skip_invalid, skipped):
        try:
            yield _record(parse_json_line(line, path, number), path, number)
        except FormatError as error:
            skip_or_raise(error, skip_invalid, skipped)


def glossed_to_json(glossed: GlossedRecord) -> dict:
    """A model's output as a JSON object: the record, its confidences, and its repairs if any."""
    data = record_to_json(glossed.record, glossed.confidences)
    if glossed.repairs:
        data["repairs"] = list(glossed.repairs)
    return data


def write_jsonl_to(records: Iterable[IGTRecord | GlossedRecord], handle: IO[str]) -> int:
    count = 0
    for item in records:
        data = glossed_to_json(item) if isinstance(item, GlossedRecord) else record_to_json(item)
        handle.write(json.dumps(data, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_jsonl(records: Iterable[IGTRecord | GlossedRecord], path: str | os.PathLike) -> int:
    with atomic_write(path) as handle:
        return write_jsonl_to(records, handle)


def record_from_json(data: object, path: str, number: int) -> IGTRecord:
    """One record from a parsed JSON object (as :func:`record_to_json` writes it)."""
    return _record(data, path, number)
