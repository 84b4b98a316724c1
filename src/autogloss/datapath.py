"""Where the IGT source data lives.

The data is never shipped with the package: it is read from a folder given
by the user, or from ``../shared/data`` next to a source checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DataNotFoundError

ENV_VARIABLE = "AUTOGLOSS_DATA"
PUBLIC_SOURCES = (
    "SIGMORPHON 2023 shared task (github.com/sigmorphon/2023glossingST, folder data/), "
    "ODIN, Guarani and UraTyp as converted by GlossLM (github.com/foltaProject/glosslm, folder data/)"
)


def _candidates() -> list[Path]:
    found = []
    if os.environ.get(ENV_VARIABLE):
        found.append(Path(os.environ[ENV_VARIABLE]))
    found.append(Path.cwd().parent / "shared" / "data")
    # A source checkout: <repo>/src/autogloss/datapath.py -> <repo>/../shared/data
    found.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    return found


def find_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data folder: ``explicit`` if given, else ``$AUTOGLOSS_DATA``, else ``../shared/data``."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_dir():
            raise DataNotFoundError(f"{path}: no such data folder")
        return path
    for path in _candidates():
        if (path / "sigmorphon2023").is_dir():
            return path
    raise DataNotFoundError(
        "no IGT data found in ../shared/data; pass --data-dir DIR (or set "
        f"{ENV_VARIABLE}) to a folder holding sigmorphon2023/, odin/, guarani/ and uratyp/, "
        f"fetched from the public sources: {PUBLIC_SOURCES}"
    )
