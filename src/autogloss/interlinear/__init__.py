"""Interlinear documents (FLEx, Toolbox, ELAN, CLDF): read, fill empty glosses, write back.

:func:`read_document` picks the format from a name or the path;
:func:`read_training_records` is what ``autogloss train`` learns from.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import AutoglossError
from ..records import IGTRecord
from .document import (GlossSlot, GlossState, InterlinearDocument, ProtectedGlossError, Sentence,
                       TrainingSelection, Word, count_states, leipzig_gloss, select_training_records,
                       sentence_from_record, training_records)

DOCUMENT_FORMATS = ("flextext", "toolbox", "elan", "cldf")
_BY_SUFFIX = {".flextext": "flextext", ".eaf": "elan", ".sfm": "toolbox", ".tbx": "toolbox",
              ".toolbox": "toolbox"}


def output_format_for(path: str | os.PathLike, input_format: str) -> str:
    """The format to write ``path`` in: by its extension, else the input's
    (a ``.txt`` output of a Toolbox input stays Toolbox)."""
    suffix = Path(path).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if suffix == ".jsonl":
        return "jsonl"
    if suffix == ".parquet":
        return "parquet"
    if Path(path).name.endswith("-metadata.json"):
        return "cldf"
    if suffix == ".txt" and input_format != "toolbox":
        return "sigmorphon"
    return input_format


def document_class(format: str) -> type[InterlinearDocument]:
    """The document class of a format name (imported only when used)."""
    if format == "flextext":
        from .flextext import FlexTextDocument
        return FlexTextDocument
    if format == "toolbox":
        from .toolbox import ToolboxDocument
        return ToolboxDocument
    if format == "elan":
        from .elan import ElanDocument
        return ElanDocument
    if format == "cldf":
        from .cldf import CldfDocument
        return CldfDocument
    raise AutoglossError(f"unknown interlinear format '{format}' (choose from {', '.join(DOCUMENT_FORMATS)})")


def guess_document_format(path: str | os.PathLike) -> str | None:
    """The interlinear format of a path, or None when it is not one.

    ``.flextext`` is FLEx, ``.eaf`` ELAN, ``.sfm``/``.tbx``/``.toolbox`` (or
    any text file whose first line is a ``\\_sh`` header) Toolbox, and a
    ``*-metadata.json`` file or a directory holding one a CLDF dataset.
    """
    path = Path(path)
    if path.suffix.lower() in _BY_SUFFIX:
        return _BY_SUFFIX[path.suffix.lower()]
    if path.name.endswith("-metadata.json") or (path.is_dir() and any(path.glob("*-metadata.json"))):
        return "cldf"
    if path.is_file() and path.suffix.lower() in ("", ".txt", ".db"):
        with open(path, "rb") as handle:
            if handle.read(64).removeprefix(b"\xef\xbb\xbf").startswith(b"\\_sh"):
                return "toolbox"
    return None


def format_options(format: str, toolbox_markers: str | None = None, elan_tiers: str | None = None) -> dict:
    """Reader/writer options of a format from the command-line layout strings."""
    if format == "toolbox":
        from .toolbox import ToolboxMarkers
        return {"markers": ToolboxMarkers.parse(toolbox_markers)}
    if format == "elan":
        from .elan import ElanTiers
        return {"tiers": ElanTiers.parse(elan_tiers)}
    return {}


def read_document(path: str | os.PathLike, format: str | None = None, **options) -> InterlinearDocument:
    if not Path(path).exists():
        raise AutoglossError(f"{path}: no such file")
    format = format or guess_document_format(path)
    if format is None:
        raise AutoglossError(f"{path}: not an interlinear document (give --format "
                             f"{'|'.join(DOCUMENT_FORMATS)})")
    return document_class(format).read(path, **options)


def write_document(document: InterlinearDocument, path: str | os.PathLike, format: str | None = None,
                   **options) -> None:
    """Write a document in its own format, or converted to another one
    (glosses and their guess/human states carried over)."""
    format = format or document.format_name
    if format == document.format_name:
        document.write(path)
        return
    if format in DOCUMENT_FORMATS:
        document_class(format).from_sentences(document.copy_sentences(), document.language, **options).write(path)
        return
    from ..formats import write_records
    write_records(document.records(), path, format)


def read_training_records(path: str | os.PathLike, format: str | None = None, *, skip_invalid: bool = False,
                          skipped: list | None = None, **options) -> TrainingSelection:
    """The sentences of any IGT file a model may learn from: only glosses a person gave.

    From a FLEx, Toolbox, ELAN or CLDF document, the sentences whose every
    morpheme has a person's gloss (no guess status in FLEx, no guess mark in
    the others): never machine guesses, never empty glosses
    (:func:`~autogloss.interlinear.document.training_records`). Files
    without gloss states (shared-task, JSON lines, Parquet, a bare CLDF
    ``examples.csv``) are a person's glosses throughout; only their
    unglossed records are left out. ``options`` are the document's layout
    (Toolbox markers, ELAN tiers).
    """
    from ..fileio import is_stdio, is_stream
    from ..formats import guess_format, read_records

    format = format or guess_format(path)
    if format == "cldf":   # a dataset, not a bare examples.csv
        is_document = Path(path).is_dir() or Path(path).suffix.lower() == ".json"
    else:
        is_document = format in DOCUMENT_FORMATS
        if is_document and is_stream(path):
            # read as records, a stream would lose the gloss states that keep guesses out
            shown = "standard input" if is_stdio(path) else os.fspath(path)
            raise AutoglossError(f"{shown}: give the {format} file by its path to train on it "
                                 f"(its gloss states, which keep machine guesses out, are read from the file)")
    if is_document:
        return training_records(read_document(path, format, **options))
    reading = {} if format == "parquet" else {"skip_invalid": skip_invalid, "skipped": skipped}
    return select_training_records(read_records(path, format, **reading))


def documents_from_records(records: Iterable[IGTRecord], format: str, **options) -> InterlinearDocument:
    return document_class(format).from_records(records, **options)


__all__ = [
    "DOCUMENT_FORMATS", "GlossSlot", "GlossState", "InterlinearDocument", "ProtectedGlossError",
    "Sentence", "TrainingSelection", "Word", "count_states", "document_class", "documents_from_records",
    "format_options", "output_format_for", "guess_document_format",
    "leipzig_gloss", "read_document", "read_training_records", "select_training_records", "sentence_from_record",
    "training_records", "write_document",
]
