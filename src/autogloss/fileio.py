"""Atomic writes, so an interrupted job never leaves a half-written file or
directory that looks complete, and strict line reading for the parsers."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import FormatError, skip_or_raise



@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8",
                 newline: str | None = "\n") -> Iterator[IO]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the
    block finishes without an exception."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding,
                       newline=None if binary else newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Build a directory under a temporary name and swap it into place at the end.

    The previous directory at ``path`` (if any) survives until the new one is
    complete; a crash leaves only a hidden ``.name.*.partial`` folder behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = None
    if path.exists():
        retired = path.with_name(f".{path.name}.{os.getpid()}.old")
        os.replace(path, retired)
    os.replace(staging, path)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def read_lines(path: str | os.PathLike) -> Iterator[tuple[int, str | None, str | None]]:
    """Yield ``(line_number, text, problem)`` for a UTF-8 text file, streaming.

    Accepts a byte-order mark and CRLF line ends and drops trailing
    whitespace. A line whose bytes are not UTF-8 comes back with ``text``
    ``None`` and ``problem`` saying where, so that a parser can either stop
    with a :class:`FormatError` or skip the record and read on.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                yield number, None, f"bytes that are not UTF-8 at column {error.start + 1}"
                continue
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield number, text.rstrip(), None


def content_lines(path: str | os.PathLike, skip_invalid: bool, skipped: list | None) -> Iterator[tuple[int, str]]:
    """``(line_number, text)`` of the non-blank lines of a one-record-per-line
    file; a line that is not UTF-8 raises, or with ``skip_invalid`` is noted in
    ``skipped`` and passed over."""
    for number, line, problem in read_lines(path):
        if problem is not None:
            skip_or_raise(FormatError(path, number, problem), skip_invalid, skipped)
        elif line.strip():
            yield number, line
