"""Plain text input: one sentence per line, optionally ``transcription<TAB>translation``.

The simplest way to hand new text to a glosser; blank lines are skipped. A
file and text pasted into the post-editor are read by the same rules
(:func:`plain_text_records`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import FormatError, skip_or_raise
from ..fileio import content_lines
from ..records import IGTRecord, squash_space, text_problem


def read_plain_text(path: str | os.PathLike, *, skip_invalid: bool = False,
                    skipped: list[FormatError] | None = None, **fields) -> Iterator[IGTRecord]:
    path = os.fspath(path)
    return plain_text_records(content_lines(path, skip_invalid, skipped), path, f"{Path(path).name}-",
                              skip_invalid=skip_invalid, skipped=skipped, **fields)


def plain_text_records(lines: Iterable[tuple[int, str]], source: str, id_prefix: str, *,
                       skip_invalid: bool = False, skipped: list[FormatError] | None = None,
                       **fields) -> Iterator[IGTRecord]:
    """Records of ``(line number, line)`` pairs of plain text from ``source``
    (a path, or a name such as ``pasted text``), blank lines skipped; each
    record's id is ``id_prefix`` and its line number."""
    for number, line in lines:
        if not line.strip():
            continue
        try:
            problem = text_problem(line, "column")
            if problem is not None:
                raise FormatError(source, number, problem)
            transcription, _, translation = line.partition("\t")
            if "\t" in translation:
                raise FormatError(source, number, "more than one tab: expected 'transcription<TAB>translation'")
            if not transcription.strip():
                raise FormatError(source, number, "record has no transcription (text before the tab is empty)")
            yield IGTRecord(id=f"{id_prefix}{number}", transcription=squash_space(transcription),
                            translation=squash_space(translation) or None, origin=f"{source}:{number}", **fields)
        except FormatError as error:
            skip_or_raise(error, skip_invalid, skipped)
