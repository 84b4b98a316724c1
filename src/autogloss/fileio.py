"""Atomic writes, so an interrupted job never leaves a half-written file or
directory that looks complete, and strict line reading for the parsers.

A file is written under a hidden temporary name beside its target and
renamed onto it when complete; the temporary name carries the writer's
process id (``.NAME.pidPID.RANDOM.tmp``, ``.NAME.pidPID.RANDOM.partial``
for directories), so that the next write to the same target removes what a
killed writer left behind. New files and directories get the modes the
umask allows, as with :func:`open` and :func:`os.mkdir`; a file that is
replaced keeps its mode. Where writing to a regular file makes no sense (the
path ``-`` for standard output, a terminal or other device, a pipe, a
socket, or a link to one of them), the output is written there directly.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import AutoglossError, FormatError, skip_or_raise

#: The path that means standard output (when written) or input (when read).
STDIO = "-"
# errno values that mean the disk (or the user's quota) is full
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}


class WriteError(AutoglossError):
    """An output could not be written (a full disk): names the output and
    says what became of what was there before."""

    def __init__(self, target: str | os.PathLike, error: OSError, previous: str | None):
        self.target, self.errno = os.fspath(target), error.errno
        after = f"; the previous {previous} is unchanged" if previous else ""
        super().__init__(f"{self.target}: cannot write: {os.strerror(error.errno)}{after}")


def is_stdio(path: str | os.PathLike) -> bool:
    """Whether ``path`` is ``-``: standard output or standard input."""
    return os.fspath(path) == STDIO


def is_stream(path: str | os.PathLike) -> bool:
    """Whether writing ``path`` writes a stream rather than a file: ``-``, a
    device, a pipe or a socket, or a symbolic link to one of them."""
    if is_stdio(path):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _temporary_name(path: Path, suffix: str) -> Path:
    return path.with_name(f".{path.name}.pid{os.getpid()}.{secrets.token_hex(4)}{suffix}")


def _owner_is_gone(pid: int) -> bool:
    """True only when no process ``pid`` runs on this machine (never on
    systems where that cannot be asked safely)."""
    if os.name != "posix" or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # (no process id is that large)
        return True
    except OSError:  # the process exists, under another user
        return False
    return False


def remove_leftovers(path: str | os.PathLike) -> list[Path]:
    """Remove what writers of ``path`` killed before they finished left beside
    it (temporary files and staging directories of processes that no longer
    run); returns what was removed. Those of running processes stay.

    If a writer was killed in the instant between retiring the previous
    directory and moving the new one into place, the previous one is put
    back.
    """
    path = Path(path)
    # "pid" before the number: no other target's leftover reads as this one's
    pattern = re.compile(rf"\.{re.escape(path.name)}\.pid(\d+)\.[0-9a-f]{{8}}\.(tmp|partial|old)")
    removed = []
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            match = pattern.fullmatch(entry.name)
            if not match or not _owner_is_gone(int(match.group(1))):
                continue
            if match.group(2) == "old" and not os.path.lexists(path):
                with contextlib.suppress(OSError):
                    os.replace(entry, path)
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed.append(entry)
    return removed


@contextlib.contextmanager
def _reported(target: str | os.PathLike, previous: str | None) -> Iterator[None]:
    """Turn a full disk while writing ``target`` into a :class:`WriteError` naming it."""
    try:
        yield
    except WriteError as error:
        if os.fspath(target) == error.target:
            raise
        raise WriteError(target, OSError(error.errno, os.strerror(error.errno)), previous) from error
    except OSError as error:
        if error.errno not in _FULL:
            raise
        raise WriteError(target, error, previous) from error


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8",
                 newline: str | None = "\n") -> Iterator[IO]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the
    block finishes without an exception.

    A symbolic link to a file stays a link: the file it points to is
    replaced. ``-`` (standard output), devices, pipes and sockets are written
    directly; binary output, a whole-file format, reaches them only when
    complete. A full disk raises :class:`WriteError`.
    """
    binary = "b" in mode
    text_options = {} if binary else {"encoding": encoding, "newline": newline}
    if is_stream(path):
        with _direct_write(path, mode, text_options) as handle:
            yield handle
        return
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    if target.is_dir():
        raise AutoglossError(f"{path}: is a directory, not a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    try:
        kept_mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        kept_mode = None
    while True:
        temporary = _temporary_name(target, ".tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with _reported(path, "file" if kept_mode is not None else None):
            if kept_mode is not None:
                os.chmod(temporary, kept_mode)
            with os.fdopen(fd, mode, **text_options) as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def _direct_write(path: str | os.PathLike, mode: str, text_options: dict) -> Iterator[IO]:
    name = "<stdout>" if is_stdio(path) else path
    with _reported(name, None):
        if "b" in mode:
            # nothing of a binary format is usable before its end: spool it,
            # so that a failure never sends out something that looks complete
            with tempfile.TemporaryFile() as spool:
                yield spool
                spool.seek(0)
                with _open_stream(path, mode) as stream:
                    shutil.copyfileobj(spool, stream)
            return
        with _open_stream(path, mode, text_options) as handle:
            yield handle


@contextlib.contextmanager
def _open_stream(path: str | os.PathLike, mode: str, text_options: dict | None = None) -> Iterator[IO]:
    if not is_stdio(path):
        with open(path, mode, **(text_options or {})) as handle:
            yield handle
        return
    sys.stdout.flush()
    if "b" in mode:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    handle = io.TextIOWrapper(sys.stdout.buffer, **(text_options or {}))
    try:
        yield handle
        handle.flush()
    finally:
        handle.detach()  # standard output stays open


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Build a directory under a temporary name and swap it into place at the end.

    The previous directory at ``path`` (if any) survives until the new one is
    complete, and keeps its mode; a crash leaves only a hidden
    ``.name.pidPID.RANDOM.partial`` folder behind, which the next write of
    ``path`` removes. A full disk raises :class:`WriteError`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    while True:
        staging = _temporary_name(path, ".partial")
        try:
            os.mkdir(staging, 0o777)
            break
        except FileExistsError:
            continue
    existed = path.is_dir()
    try:
        with _reported(path, "directory" if existed else None):
            yield staging
        if existed:  # last, as the mode may forbid writing
            os.chmod(staging, stat.S_IMODE(os.stat(path).st_mode))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = None
    if os.path.lexists(path):
        retired = _temporary_name(path, ".old")
        os.replace(path, retired)
    os.replace(staging, path)
    if retired is not None:
        if retired.is_dir() and not retired.is_symlink():
            shutil.rmtree(retired, ignore_errors=True)
        else:
            retired.unlink()


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
