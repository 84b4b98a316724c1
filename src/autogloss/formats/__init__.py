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
from .sigmorphon import read_sigmorphon, write_sigmorphon
from .store import read_store, write_store

FORMATS = ("sigmorphon", "cldf", "parquet")


def guess_format(path: str | os.PathLike) -> str:
    """``parquet`` for ``.parquet``, ``cldf`` for ``.csv``, else the shared-task text format."""
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix == ".csv":
        return "cldf"
    return "sigmorphon"


def read_records(path: str | os.PathLike, format: str | None = None, **options) -> Iterator[IGTRecord]:
    """Stream records from a file in any supported format (see :data:`FORMATS`)."""
    if not Path(path).is_file():
        raise AutoglossError(f"{path}: no such file")
    format = format or guess_format(path)
    if format == "sigmorphon":
        return read_sigmorphon(path, **options)
    if format == "cldf":
        return read_cldf_examples(path, **options)
    if format == "parquet":
        return read_store(path)
    raise AutoglossError(f"unknown format '{format}' (choose from {', '.join(FORMATS)})")


def write_records(records: Iterable[IGTRecord], path: str | os.PathLike, format: str | None = None) -> int:
    """Write records atomically in any supported format; returns the count.

    For ``cldf`` the path names the directory that receives ``examples.csv``
    and ``languages.csv``.
    """
    format = format or guess_format(path)
    if format == "sigmorphon":
        return write_sigmorphon(records, path)
    if format == "cldf":
        return write_cldf_examples(records, Path(path).parent if Path(path).suffix == ".csv" else path)
    if format == "parquet":
        return write_store(records, path)
    raise AutoglossError(f"unknown format '{format}' (choose from {', '.join(FORMATS)})")

__all__ = [
    "FORMATS", "guess_format", "read_records", "write_records",
    "read_sigmorphon", "write_sigmorphon", "read_cldf_examples", "write_cldf_examples",
    "read_store", "write_store",
]
