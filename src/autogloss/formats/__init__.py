"""Reading and writing IGT records: one module per file format.

:func:`read_records` and :func:`write_records` pick the format from a name or
the file's extension, so commands accept any supported file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import AutoglossError, FormatError
from ..fileio import is_stdio, is_stream
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
    """Stream records from a file in any supported format (see :data:`FORMATS`).

    ``-`` reads standard input, and a pipe or device is read like it: the
    format is ``format``, else guessed from the content as for a file
    without an extension.
    """
    if is_stream(path) and not Path(path).is_dir():
        return _read_stream(path, format, options)
    format = format or guess_format(path)
    if format == "cldf" and _is_cldf_dataset(path) and Path(path).exists():
        from ..interlinear import read_document
        return iter(read_document(path, "cldf").records())
    if Path(path).is_dir():  # (a CLDF dataset directory was read above)
        raise AutoglossError(f"{path}: is a directory, not a file")
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


def _read_stream(path: str | os.PathLike, format: str | None, options: dict) -> Iterator[IGTRecord]:
    """Read standard input (``-``) or a pipe through a temporary copy, as the
    readers need a file; errors name the stream, not the copy."""
    import shutil
    import sys
    import tempfile

    shown = "<stdin>" if is_stdio(path) else os.fspath(path)
    with tempfile.TemporaryDirectory(prefix="autogloss-") as folder:
        copy = Path(folder) / ("stdin" if is_stdio(path) else Path(path).name)
        with open(copy, "wb") as spool:
            if is_stdio(path):
                shutil.copyfileobj(sys.stdin.buffer, spool)
            else:
                with open(path, "rb") as stream:
                    shutil.copyfileobj(stream, spool)
        skipped = options.get("skipped")
        found: list[FormatError] = []
        if skipped is not None:
            options = {**options, "skipped": found}
        try:
            yield from read_records(copy, format, **options)
        except FormatError as error:
            raise FormatError(shown if error.path == os.fspath(copy) else error.path, error.line,
                              error.message.replace(os.fspath(copy), shown)) from None
        except AutoglossError as error:
            error.args = tuple(str(arg).replace(os.fspath(copy), shown) for arg in error.args)
            raise
        finally:
            if skipped is not None:
                skipped.extend(FormatError(shown if e.path == os.fspath(copy) else e.path, e.line, e.message)
                               for e in found)


def write_records(records: Iterable[IGTRecord], path: str | os.PathLike, format: str | None = None) -> int:
    """Write records atomically in any supported format; returns the count.

    For ``cldf`` the path names the directory that receives a CLDF dataset
    (``Generic-metadata.json``, ``examples.csv``, ``languages.csv``).
    """
    format = format or guess_format(path)
    if format == "cldf" and is_stream(path):
        raise AutoglossError(f"{path}: a CLDF dataset is a directory, it cannot be written to a stream")
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
