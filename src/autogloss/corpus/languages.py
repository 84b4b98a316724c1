"""Which language a corpus row is in, decided from what its source says.

Sources name languages unevenly: an ISO 639-3 code, a glottocode, a name, or
only the title of the book the example comes from. A row's language is
decided by the first of these that identifies one language, and the record
keeps how (:attr:`~autogloss.records.IGTRecord.language_method`):

1. ``iso639-3 given``: the source's ISO 639-3 code (one that ISO 639-3 has,
   not a special code such as ``und`` or ``mul``);
2. ``glottocode mapped``: the source's glottocode, mapped to ISO 639-3
   through the CLDF LanguageTables (``*/languages.csv``) of the data folder
   and the source's own rows that give both codes; a glottocode mapped to two
   codes is not mapped;
3. ``glottocode given``: a glottocode with no known ISO 639-3 code; the
   language is identified, by its glottocode only;
4. ``name matched``: the source's language name, when it is exactly (without
   case) the name of one ISO 639-3 language (pycountry's tables);
5. ``book title``: the title of a book about one language ("A grammar of
   Mauwake", "The Ik language"), its language name matched as in 4;
6. ``und: <reason>``: nothing identifies the language; the row gets the
   explicit code ``und`` rather than a guess.

No partial match is tried: "A grammar of Rapa Nui" holds the ISO 639-3 name
"Rapa" (another language), and collection volumes name many languages.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import FormatError
from ..records import Language

UND = "und"
ISO_GIVEN = "iso639-3 given"
GLOTTOCODE_MAPPED = "glottocode mapped"
GLOTTOCODE_GIVEN = "glottocode given"
NAME_MATCHED = "name matched"
BOOK_TITLE = "book title"
METHODS = (ISO_GIVEN, GLOTTOCODE_MAPPED, GLOTTOCODE_GIVEN, NAME_MATCHED, BOOK_TITLE, UND)
#: The rule, for the dataset card.
LANGUAGE_DECISION = (
    "A row's language is decided by the first of: the source's ISO 639-3 code (`iso639-3 given`); its "
    "glottocode mapped to ISO 639-3 through the CLDF `languages.csv` tables of the data and the source's own "
    "rows giving both codes (`glottocode mapped`); a glottocode with no known ISO code (`glottocode given`); "
    "the source's language name when it is exactly one ISO 639-3 name (`name matched`); the title of a book "
    "about one language, such as \"A grammar of Mauwake\" (`book title`). Otherwise the row's language is "
    "`und`, never a guess."
)

#: ISO 639-3 codes that say the language is not one language.
_SPECIAL_CODES = frozenset({"mis", "mul", "und", "zxx"})
_GLOTTOCODE = re.compile(r"[a-z0-9]{4}[0-9]{4}")
#: Titles of books about one language; the name is the rest of the title.
_ONE_LANGUAGE_BOOK = re.compile(
    r"(?:an? |the )?(?:(?:short|descriptive|reference) )?"
    r"(?:grammar|dictionary|description|grammatical (?:outline|sketch|description))"
    r"(?: and (?:grammar|dictionary|grammatical (?:outline|sketch|description)))?"
    r" of (?:the )?(?P<name>.+?)(?: language)?"
    r"|the (?P<language>.+) language",
    re.IGNORECASE,
)


def method_key(method: str | None) -> str | None:
    """The method of a ``language_method`` value, without the reason of an ``und``."""
    return method.split(":", 1)[0] if method else None


@functools.cache
def _iso_names() -> tuple[dict[str, str], dict[str, str]]:
    """ISO 639-3 ``{code: name}`` and ``{casefolded name: code}`` (names
    that two languages share are left out of the second)."""
    import pycountry  # (its tables take half a second to load)

    names: dict[str, str] = {}
    codes: dict[str, set[str]] = defaultdict(set)
    for entry in pycountry.languages:
        names[entry.alpha_3] = entry.name
        for name in {entry.name, getattr(entry, "common_name", entry.name)}:
            codes[name.casefold()].add(entry.alpha_3)
    return names, {name: next(iter(found)) for name, found in codes.items() if len(found) == 1}


def iso_code(code: str | None) -> str | None:
    """``code`` when it is an ISO 639-3 code of a language (not ``und``, ``mul`` ...)."""
    code = (code or "").strip().lower()
    return code if code not in _SPECIAL_CODES and code in _iso_names()[0] else None


def iso_name(code: str) -> str | None:
    """The ISO 639-3 name of a code ("English" for ``eng``)."""
    return _iso_names()[0].get(code)


def code_of_name(name: str | None) -> str | None:
    """The ISO 639-3 code whose name is exactly ``name`` (case ignored), if one is."""
    return _iso_names()[1].get(" ".join((name or "").split()).casefold())


def book_language_name(title: str | None) -> str | None:
    """The language a book title says the book is about, for titles of
    single-language grammars and dictionaries ("A grammar of Mauwake")."""
    found = _ONE_LANGUAGE_BOOK.fullmatch(" ".join((title or "").split()))
    return (found.group("name") or found.group("language")) if found else None


def glottocode_table(data_dir: Path) -> dict[str, str]:
    """``{glottocode: ISO 639-3}`` from every CLDF LanguageTable one folder
    down in ``data_dir`` (``apics/languages.csv``, ``uratyp/languages.csv``)."""
    pairs: list[tuple[str | None, str | None]] = []
    for path in sorted(data_dir.glob("*/languages.csv")):
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                pairs.extend((row.get("ISO639P3code"), row.get("Glottocode")) for row in csv.DictReader(handle))
        except (UnicodeDecodeError, csv.Error) as error:
            raise FormatError(path, None, f"not a readable CSV file ({error})") from None
    return mapping(pairs)


def mapping(pairs: Iterable[tuple[str | None, str | None]]) -> dict[str, str]:
    """``{glottocode: ISO 639-3}`` from ``(iso, glottocode)`` pairs, leaving
    out a glottocode paired with two codes."""
    found: dict[str, set[str]] = defaultdict(set)
    for iso, glottocode in pairs:
        iso, glottocode = iso_code(iso), (glottocode or "").strip()
        if iso and _GLOTTOCODE.fullmatch(glottocode):
            found[glottocode].add(iso)
    return {glottocode: next(iter(codes)) for glottocode, codes in found.items() if len(codes) == 1}


@dataclass(frozen=True)
class Evidence:
    """What a source row says about its language."""

    iso639_3: str | None = None
    glottocode: str | None = None
    name: str | None = None
    book_title: str | None = None


class LanguageIdentifier:
    """Decides languages (see the module's docstring) with one glottocode table."""

    def __init__(self, glottocodes: dict[str, str]):
        self.glottocodes = dict(glottocodes)

    def learn(self, pairs: Iterable[tuple[str | None, str | None]]) -> None:
        """Add a source's own ``(iso, glottocode)`` pairs to the table; a
        glottocode they pair with another code than the table's is dropped."""
        for glottocode, iso in mapping(pairs).items():
            if self.glottocodes.setdefault(glottocode, iso) != iso:
                self.glottocodes[glottocode] = ""
        self.glottocodes = {glottocode: iso for glottocode, iso in self.glottocodes.items() if iso}

    def decide(self, evidence: Evidence) -> tuple[Language, str]:
        """The language of a row and how it was decided (a ``language_method``)."""
        name = " ".join((evidence.name or "").split()) or None
        if name and "\\" in name:  # a LaTeX macro (\LangTurk) left in place of the name
            name = None
        glottocode = (evidence.glottocode or "").strip()
        glottocode = glottocode if _GLOTTOCODE.fullmatch(glottocode) else None
        iso = iso_code(evidence.iso639_3)
        if iso:
            return Language(name=name or iso_name(iso), iso639_3=iso, glottocode=glottocode), ISO_GIVEN
        if glottocode and glottocode in self.glottocodes:
            iso = self.glottocodes[glottocode]
            return Language(name=name or iso_name(iso), iso639_3=iso, glottocode=glottocode), GLOTTOCODE_MAPPED
        if glottocode:
            return Language(name=name, glottocode=glottocode), GLOTTOCODE_GIVEN
        if name and code_of_name(name):
            return Language(name=name, iso639_3=code_of_name(name)), NAME_MATCHED
        book_name = book_language_name(evidence.book_title)
        if book_name and code_of_name(book_name):
            return Language(name=book_name, iso639_3=code_of_name(book_name)), BOOK_TITLE
        return Language(name=name, iso639_3=UND), f"{UND}: {_undetermined(evidence, name, book_name)}"


def _undetermined(evidence: Evidence, name: str | None, book_name: str | None) -> str:
    """Why no language could be decided (a short reason the build report counts)."""
    if (evidence.iso639_3 or "").strip() and not iso_code(evidence.iso639_3):
        given = f"code '{evidence.iso639_3.strip()}' is no ISO 639-3 language"
    elif (evidence.glottocode or "").strip():
        given = "glottocode malformed"
    elif name:
        given = "name is no ISO 639-3 name"
    else:
        given = "no code or name"
    if book_name:
        return f"{given}; book title's language is no ISO 639-3 name"
    return f"{given}; book title names no single language" if evidence.book_title else f"{given}; no book title"
