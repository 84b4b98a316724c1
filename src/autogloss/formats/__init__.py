"""Reading and writing IGT records: one module per file format.

:func:`read_records` and :func:`write_records` pick the format from a name or
the file's extension, so commands accept any supported file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import AutoglossError
from ..records import IGTRecord
from .cldf import read_cldf_examples, write_cldf_examples
from .jsonl import read_jsonl, write_jsonl
from .plaintext import read_plain_text
from .sigmorphon import read_sigmorphon, write_sigmorphon
from .store import read_store, write_store

FORMATS = ("sigmorphon", "cldf", "parquet", "jsonl", "text", "flextext", "toolbox", "elan")
#: Formats read and written through the interlinear document layer.
DOCUMENT_FORMATS = ("flextext", "toolbox", "elan")
_BY_SUFFIX = {".parquet": "parquet", ".csv": "cldf", ".jsonl": "jsonl"}


def guess_format(path: str | os.PathLike) -> str:
    """``parquet``, ``cldf`` (``.csv``, a ``*-metadata.json`` or a dataset
    directory), ``jsonl``, ``flextext``, ``elan`` (``.eaf``) or ``toolbox``
    (``.sfm``, ``.tbx``, or a ``\\_sh`` header) by the path, else the
    shared-task text format."""
    from ..interlinear import guess_document_format

    return _BY_SUFFIX.get(Path(path).suffix.lower()) or guess_document_format(path) or "sigmorphon"


def _is_cldf_dataset(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() == ".json" or Path(path).is_dir()


def read_records(path: str | os.PathLike, format: str | None = None, **options) -> Iterator[IGTRecord]:
    """Stream records from a file in any supported format (see :data:`FORMATS`)."""
    format = format or guess_format(path)
    if format == "cldf" and _is_cldf_dataset(path) and Path(path).exists():
        from ..interlinear import read_document
        return iter(read_document(path, "cldf").records())
    if not Path(path).is_file():
        raise AutoglossError(f"{path}: no such file")
    if format in DOCUMENT_FORMATS:
        from ..interlinear import read_document
        # a document is read whole: malformed input stops it, there is no record to skip
        layout = {k: v for k, v in options.items() if k not in ("skip_invalid", "skipped")}
        return iter(read_document(path, format, **layout).records())
    if format == "sigmorphon":
        return read_sigmorphon(path, **options)
    if format == "cldf":
        return read_cldf_examples(path, **options)
    if format == "parquet":
        return read_store(path)
    if format == "jsonl":
        return read_jsonl(path, **{k: v for k, v in options.items() if k in ("skip_invalid", "skipped")})
    if format == "text":
        return read_plain_text(path, **options)
    raise AutoglossError(f"unknown format '{format}' (choose from {', '.join(FORMATS)})")


def write_records(records: Iterable[IGTRecord], path: str | os.PathLike, format: str | None = None) -> int:
    """Write records atomically in any supported format; returns the count.

    For ``cldf`` the path names the directory that receives a CLDF dataset
    (``Generic-metadata.json``, ``examples.csv``, ``languages.csv``).
    """
    format = format or guess_format(path)
    if format in DOCUMENT_FORMATS:
        from ..interlinear import documents_from_records
        records = list(records)
        documents_from_records(records, format).write(path)
        return len(records)
    if format == "sigmorphon":
        return write_sigmorphon(records, path)
    if format == "cldf":
        return write_cldf_examples(records, Path(path).parent if Path(path).suffix in (".csv", ".json") else path)
    if format == "parquet":
        return write_store(records, path)
    if format == "jsonl":
        return write_jsonl(records, path)
    raise AutoglossError(f"unknown format '{format}' (choose from {', '.join(FORMATS)})")

__all__ = [
    "FORMATS", "guess_format", "read_records", "write_records",
    "read_sigmorphon", "write_sigmorphon", "read_cldf_examples", "write_cldf_examples",
    "read_store", "write_store", "read_jsonl", "write_jsonl", "read_plain_text",
]
