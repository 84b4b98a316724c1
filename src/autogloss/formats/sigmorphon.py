"""The SIGMORPHON 2023 shared-task text format, also used by ODIN and Guarani.

One record per blank-line separated block; each line starts with a marker::

    \\t Esnazał xizaz ixiw raład boqno.          transcription (required, first)
    \\m esyu-bi-ł xizaz ixiw raład b-oq-n        morpheme segmentation
    \\p ...                                      part of speech
    \\g sister-PL-CONT.ESS behind big sea ...    glosses (empty in "covered" inputs)
    \\l And a big sea formed behind the sisters. translation

The ``\\g`` line has a gloss for every morpheme or is empty: the format has no
mark for "not glossed yet" (a ``?`` is read as a label, by scorers and
training alike), so a sentence glossed only in part (a FLEx, Toolbox, ELAN or
CLDF sentence with empty glosses) is written with an empty ``\\g`` line, as a
sentence still to be glossed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from ..errors import FormatError, skip_or_raise
from ..fileio import atomic_write, read_lines
from ..records import IGTRecord, text_problem

#: Marker -> record field.
TIERS = {"\\t": "transcription", "\\m": "segmentation", "\\p": "pos", "\\g": "glosses", "\\l": "translation"}
_ORDER = ("\\t", "\\m", "\\p", "\\g", "\\l")


class _Block:
    """The lines of one record while it is being read."""

    def __init__(self) -> None:
        self.tiers: dict[str, str] = {}
        self.first_line: int | None = None
        self.error: FormatError | None = None

    def add(self, path: str, number: int, line: str) -> None:
        if self.first_line is None:
            self.first_line = number
        problem = text_problem(line, "column")
        if problem is not None:
            raise FormatError(path, number, problem)
        marker, *rest = line.split(maxsplit=1)
        content = rest[0] if rest else ""
        if marker not in TIERS:
            shown = marker if marker.startswith("\\") else line[:20]
            raise FormatError(path, number, f"unknown marker '{shown}' (expected one of {' '.join(_ORDER)})")
        if marker != "\\t" and "\\t" not in self.tiers:
            raise FormatError(path, number, f"'{marker}' line before any '\\t' line of its record")
        if marker in self.tiers:
            raise FormatError(path, number, f"second '{marker}' line in one record (missing blank line?)")
        self.tiers[marker] = content.strip()


def _build(block: _Block, path: str, record_number: int, id_prefix: str, fields: dict) -> IGTRecord:
    transcription = block.tiers.get("\\t", "")
    if not transcription:
        raise FormatError(path, block.first_line, "record has no transcription ('\\t' line is empty)")
    values = {TIERS[marker]: text for marker, text in block.tiers.items()}
    values.setdefault("glosses", "")
    return IGTRecord(
        id=f"{id_prefix}{record_number}",
        origin=f"{path}:{block.first_line}",
        **values,
        **fields,
    )


def read_sigmorphon(
    path: str | os.PathLike,
    *,
    skip_invalid: bool = False,
    skipped: list[FormatError] | None = None,
    id_prefix: str | None = None,
    **fields,
) -> Iterator[IGTRecord]:
    """Stream the records of a shared-task format file.

    ``fields`` (language, split, source, ...) are set on every record; ids
    are ``id_prefix`` (default: the file name and ``-``) plus the record's
    position. Malformed input raises :class:`FormatError`; with
    ``skip_invalid`` the bad record is left out, the error appended to
    ``skipped``, and reading goes on.
    """
    path = os.fspath(path)
    if id_prefix is None:
        id_prefix = f"{Path(path).name}-"
    block = _Block()
    count = 0

    def finish() -> Iterator[IGTRecord]:
        nonlocal block, count
        current, block = block, _Block()
        if current.first_line is None:
            return
        count += 1
        try:
            if current.error is not None:
                raise current.error
            yield _build(current, path, count, id_prefix, fields)
        except FormatError as error:
            skip_or_raise(error, skip_invalid, skipped)

    for number, line, problem in read_lines(path):
        if line is not None and not line.strip():
            yield from finish()
            continue
        if block.error is not None:
            continue  # rest of a record already found bad
        try:
            if problem is not None:
                raise FormatError(path, number, problem)
            block.add(path, number, line)
        except FormatError as error:
            if not skip_invalid:
                raise
            block.error = error
            if block.first_line is None:
                block.first_line = number
    yield from finish()


def _one_line(text: str) -> str:
    """A tier as one line: a line break in it (FLEx, ELAN and CLDF text may
    hold one) becomes a space, which splits its words as the break did."""
    return text.replace("\r\n", " ").replace("\n", " ")


def format_record(record: IGTRecord) -> str:
    """One record as a block of marker lines (no trailing blank line)."""
    lines = [f"\\t {_one_line(record.transcription)}"]
    if record.segmentation is not None:
        lines.append(f"\\m {_one_line(record.segmentation)}")
    if record.pos is not None:
        lines.append(f"\\p {_one_line(record.pos)}")
    # the gaps of a sentence glossed in part are not labels (see the module docstring)
    glosses = "" if record.glosses_partial else record.glosses
    lines.append(f"\\g {_one_line(glosses)}".rstrip())
    if record.translation is not None:
        lines.append(f"\\l {_one_line(record.translation)}".rstrip())
    return "\n".join(lines)


def write_sigmorphon_to(records: Iterable[IGTRecord], handle: IO[str]) -> int:
    """Write records to an open text handle; returns how many were written."""
    count = 0
    for record in records:
        handle.write(format_record(record))
        handle.write("\n\n")
        count += 1
    return count


def write_sigmorphon(records: Iterable[IGTRecord], path: str | os.PathLike) -> int:
    """Write records to ``path`` atomically; returns how many were written."""
    with atomic_write(path) as handle:
        return write_sigmorphon_to(records, handle)
