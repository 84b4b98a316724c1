"""Plain text input: one sentence per line, optionally ``transcription<TAB>translation``.

The simplest way to hand new text to a glosser; blank lines are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import FormatError, skip_or_raise
from ..fileio import content_lines
from ..records import IGTRecord, text_problem


def read_plain_text(path: str | os.PathLike, *, skip_invalid: bool = False,
                    skipped: list[FormatError] | None = None, **fields) -> Iterator[IGTRecord]:
    path = os.fspath(path)
    stem = Path(path).name
    for number, line in content_lines(path, skip_invalid, skipped):
        try:
            problem = text_problem(line, "column")
            if problem is not None:
                raise FormatError(path, number, problem)
            transcription, _, translation = line.partition("\t")
            if "\t" in translation:
                raise FormatError(path, number, "more than one tab: expected 'transcription<TAB>translation'")
            if not transcription.strip():
                raise FormatError(path, number, "record has no transcription (text before the tab is empty)")
            yield IGTRecord(id=f"{stem}-{number}", transcription=" ".join(transcription.split()),
                            translation=" ".join(translation.split()) or None, origin=f"{path}:{number}", **fields)
        except FormatError as error:
            skip_or_raise(error, skip_invalid, skipped)
