"""Errors that the command line turns into one clear line instead of a traceback."""

from __future__ import annotations

import os


class AutoglossError(Exception):
    """Base class of the errors autogloss reports to the user as one line."""


class FormatError(AutoglossError):
    """Malformed input: names the file, the line and what is wrong."""

    def __init__(self, path: str | os.PathLike, line: int | None, message: str):
        self.path = os.fspath(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


def skip_or_raise(error: FormatError, skip_invalid: bool, skipped: list[FormatError] | None) -> None:
    """What every reader does with a malformed record: raise, or (with
    ``skip_invalid``) note it in ``skipped`` and let reading go on."""
    if not skip_invalid:
        raise error
    if skipped is not None:
        skipped.append(error)


class DataNotFoundError(AutoglossError):
    """The IGT data folder could not be found."""


class ModelError(AutoglossError):
    """A model directory is missing, incomplete or corrupt."""
