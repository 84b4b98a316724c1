"""Optional normalisation of grammatical gloss labels to UniMorph-style labels.

Different sources write the same category differently (``PAST``, ``Pst``,
``past``; ``3SG``, ``3sg``, ``3S``). Labels the table keeps (``=``) are
still brought to their canonical capitals (``Acc`` -> ``ACC``). The mapping is a versioned data file in
the package (``data/gloss_labels_v1.tsv``, ``v2``, each documented beside it); a
changed mapping gets a new version so that an old corpus can be rebuilt exactly.

Labels are looked up per ``.``-separated component of a morpheme gloss, by
their upper-cased form. An all-lower-case component is only mapped when the
table says its lower-case form is unambiguous (``acc`` yes, ``past`` no: the
latter is usually the English word). Normalising a record keeps its original
gloss line in ``glosses_original``, so :func:`restore_record` undoes it.

From version 2 a row may carry a ``scope``: the collection whose own
abbreviation table it comes from (``imtvault:<book_ID>``, ``apics``). A
label means what its book says it means, so a scoped row replaces the shared
row of its label for the records of that scope only; every other record is
normalised by the shared rows alone, exactly as in version 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from .errors import AutoglossError, FormatError
from .records import IGTRecord, join_morphemes, split_keep_boundaries

DEFAULT_VERSION = "v2"
KEEP = "="
# A label may be wrapped in brackets or carry a stray soft hyphen: "(DAT)", "SG)".
_WRAPPED = re.compile(r"^([\W_]*)(.*?)([\W_]*)$")
_IMTVAULT_ID = re.compile(r"imtvault/([^/]+)/")


@dataclass(frozen=True)
class LabelEntry:
    unimorph: str
    lowercase_ok: bool


@dataclass(frozen=True)
class LabelTable:
    version: str
    entries: dict[str, LabelEntry]
    #: ``{scope: {label: entry}}``: a collection's own labels (see the module docstring).
    scopes: dict[str, dict[str, LabelEntry]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        scoped = sum(map(len, self.scopes.values()))
        own = f" + {scoped} labels of {len(self.scopes)} source tables" if self.scopes else ""
        return f"autogloss gloss_labels_{self.version} ({len(self.entries)} labels{own})"

    def component(self, label: str, scope: str | None = None) -> str:
        """The normalised form of one ``.``-separated label (brackets kept)."""
        before, core, after = _WRAPPED.match(label).groups()
        key = core.upper()
        entry = self.scopes.get(scope, {}).get(key) or self.entries.get(key)
        if entry is None or (core.islower() and not entry.lowercase_ok):
            return label
        # '=' keeps the label itself, in its canonical capitals (Acc -> ACC).
        canonical = key if entry.unimorph == KEEP else entry.unimorph
        return f"{before}{canonical}{after}"

    def morpheme(self, gloss: str, scope: str | None = None) -> str:
        return ".".join(self.component(part, scope) if part else part for part in gloss.split("."))

    def line(self, glosses: str, scope: str | None = None) -> str:
        """A whole gloss line, keeping words, boundaries and spacing."""
        return " ".join(
            join_morphemes([self.morpheme(part, scope) for part in parts], boundaries)
            for parts, boundaries in map(split_keep_boundaries, glosses.split())
        )


def _parse_table(text: str, source: str, version: str) -> LabelTable:
    entries: dict[str, LabelEntry] = {}
    scopes: dict[str, dict[str, LabelEntry]] = {}
    header: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        columns = raw.split("\t")
        if header is None:
            header = columns
            if columns[:3] != ["label", "unimorph", "lowercase_ok"]:
                raise FormatError(source, number, "expected the header 'label<TAB>unimorph<TAB>lowercase_ok<TAB>note'")
            continue
        if len(columns) < 3 or not columns[0] or not columns[1]:
            raise FormatError(source, number, "a row needs label, unimorph and lowercase_ok")
        if columns[2] not in ("yes", "no"):
            raise FormatError(source, number, f"lowercase_ok must be yes or no, not '{columns[2]}'")
        scope = columns[4] if header[4:5] == ["scope"] and len(columns) > 4 else ""
        table = scopes.setdefault(scope, {}) if scope else entries
        label = columns[0].upper()
        if label in table:
            raise FormatError(source, number, f"label '{label}' listed twice" + (f" in scope {scope}" if scope else ""))
        table[label] = LabelEntry(columns[1], columns[2] == "yes")
    return LabelTable(version, entries, scopes)


@lru_cache(maxsize=4)
def load_table(version: str = DEFAULT_VERSION) -> LabelTable:
    """The packaged label table of a given version (``v1``, ...)."""
    name = f"gloss_labels_{version}.tsv"
    resource = resources.files("autogloss") / "data" / name
    if not resource.is_file():
        raise AutoglossError(f"no gloss-label table version '{version}' in this autogloss installation ({name})")
    return _parse_table(resource.read_text(encoding="utf-8"), name, version)


def record_scope(record: IGTRecord) -> str | None:
    """The scope of the source table whose labels a record uses: its IMTVault
    book (``imtvault:<book_ID>``, from its id ``imtvault/<book_ID>/<example>``),
    APiCS, or None (shared rows only)."""
    if record.source == "apics":
        return "apics"
    if record.source == "imtvault":
        book = _IMTVAULT_ID.match(record.id)
        return f"imtvault:{book[1]}" if book else None
    return None


def normalise_record(record: IGTRecord, table: LabelTable | None = None) -> IGTRecord:
    """The record with normalised glosses (by its source table's labels where
    it has one); the original line is kept when it changed."""
    table = table or load_table()
    if not record.glosses or record.glosses_original is not None:
        return record
    normalised = table.line(record.glosses, record_scope(record))
    if normalised == record.glosses:
        return record
    return record.replace(glosses=normalised, glosses_original=record.glosses)


def restore_record(record: IGTRecord) -> IGTRecord:
    """Undo :func:`normalise_record`."""
    if record.glosses_original is None:
        return record
    return record.replace(glosses=record.glosses_original, glosses_original=None)
