"""Whether a JSON file is a CLDF dataset's metadata, told without pycldf
(the format registry asks this of every ``.json`` file and folder it sniffs,
and must stay light)."""

from __future__ import annotations

import json
from pathlib import Path

#: The namespace of CLDF's modules and components (``dc:conformsTo``).
CLDF_TERMS = "http://cldf.clld.org/v1.0/terms.rdf#"
#: Larger JSON files are not read to find out (CLDF metadata is small).
_MAX_METADATA_BYTES = 16_000_000


def describes_cldf_dataset(path: str | Path) -> bool:
    """Whether ``path`` is a JSON file describing a CLDF dataset: its own or
    a table's ``dc:conformsTo`` is a CLDF term. Datasets made with cldfbench
    often call it ``metadata.json``, a name other JSON files have too."""
    path = Path(path)
    try:
        if path.suffix.lower() != ".json" or not path.is_file() or path.stat().st_size > _MAX_METADATA_BYTES:
            return False
        description = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    if not isinstance(description, dict):
        return False
    tables = description.get("tables") if isinstance(description.get("tables"), list) else []
    return any(isinstance(part, dict) and str(part.get("dc:conformsTo", "")).startswith(CLDF_TERMS)
               for part in (description, *tables))
