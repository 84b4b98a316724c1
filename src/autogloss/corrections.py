"""Corrections accepted in the post-editor: an append-only JSON-lines log.

Each line is one accepted sentence as a record (the fields of
:func:`autogloss.formats.jsonl.record_to_json`) plus ``document`` (the name
of the file it came from), ``accepted_at`` and ``edited`` (the morphemes a
person changed, as ``[word, morpheme, model gloss, new gloss]``). A sentence
accepted twice appears twice; :func:`read_corrections` keeps the latest.
``autogloss finetune --from-corrections FILE`` trains on them
(:func:`training_corrections`: those with every morpheme glossed).
"""

from __future__ import annotations

import datetime
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from .errors import FormatError, skip_or_raise
from .fileio import content_lines
from .formats.jsonl import parse_json_line, record_from_json, record_to_json
from .interlinear.document import TrainingSelection, select_training_records
from .records import IGTRecord


class CorrectionsLog:
    """Appends corrections; safe to share between the server's threads."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def append(self, record: IGTRecord, document: str, edited: Iterable[tuple[int, int, str, str]] = ()) -> dict:
        entry = record_to_json(record)
        entry.update(document=document, accepted_at=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"), edited=[list(edit) for edit in edited])
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        # One write() of the whole line on an O_APPEND descriptor: a crash
        # leaves the log without the line, never with half of it among others.
        with self._lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, line)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        return entry


def read_corrections(path: str | os.PathLike, *, skip_invalid: bool = False,
                     skipped: list[FormatError] | None = None) -> list[IGTRecord]:
    """The corrected sentences of a log, the latest correction of each
    (document, sentence id) only, in the order they were first accepted."""
    path = os.fspath(path)
    if not Path(path).is_file():
        raise FormatError(path, None, "no such corrections file")
    latest: dict[tuple[str, str], IGTRecord] = {}
    for number, line in content_lines(path, skip_invalid, skipped):
        try:
            data = parse_json_line(line, path, number)
            record = record_from_json(data, path, number)
            if not record.has_glosses:
                raise FormatError(path, number, "a correction without glosses")
            latest[(str(data.get("document", "")), record.id)] = record
        except FormatError as error:
            skip_or_raise(error, skip_invalid, skipped)
    return list(latest.values())


def training_corrections(path: str | os.PathLike, *, skip_invalid: bool = False,
                         skipped: list[FormatError] | None = None) -> TrainingSelection:
    """The corrections a model may learn from. A correction is a sentence as
    the post-editor holds it (:meth:`~autogloss.interlinear.Sentence.record`),
    so a ``?`` in its glosses is a morpheme left without a gloss (one of an
    analysis approved as a whole in FLEx, say): such sentences are left out."""
    return select_training_records(read_corrections(path, skip_invalid=skip_invalid, skipped=skipped),
                                   placeholders=True)
