"""The public IGT sources the corpus is compiled from, one loader each.

Every loader yields :class:`SourceRecord` pairs: the record as read (one
sentence) and nothing else; expanding a sentence into its segmented and
unsegmented training examples happens in :mod:`autogloss.corpus.build`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import FormatError
from ..formats import read_records
from ..formats.sigmorphon import read_sigmorphon
from ..records import IGTRecord, Language
from .apics import APICS, load_apics
from .imtvault import IMTVAULT, load_imtvault
from .languages import ISO_GIVEN, UND, iso_code, iso_name


@dataclass(frozen=True)
class SharedTaskLanguage:
    folder: str
    iso639_3: str
    glottocode: str
    metalanguage: str
    license: str

    @property
    def language(self) -> Language:
        return Language(name=self.folder, iso639_3=self.iso639_3, glottocode=self.glottocode)


_BY_NC = "CC BY-NC 4.0"
#: The seven SIGMORPHON 2023 languages, keyed by the code used in file names.
SHARED_TASK_LANGUAGES = {
    "arp": SharedTaskLanguage("Arapaho", "arp", "arap1274", "English", _BY_NC),
    "ddo": SharedTaskLanguage("Tsez", "ddo", "dido1241", "English", _BY_NC),
    "git": SharedTaskLanguage("Gitksan", "git", "gitx1241", "English", "CC BY-NC-ND 4.0"),
    "lez": SharedTaskLanguage("Lezgi", "lez", "lezg1247", "English", _BY_NC),
    "ntu": SharedTaskLanguage("Natugu", "ntu", "natu1246", "English", _BY_NC),
    "nyb": SharedTaskLanguage("Nyangbo", "nyb", "nyan1302", "English", _BY_NC),
    "usp": SharedTaskLanguage("Uspanteko", "usp", "uspa1245", "Spanish", _BY_NC),
}
SHARED_TASK_SPLITS = ("train", "dev", "test")

SIGMORPHON = "sigmorphon2023"
ODIN = "odin"
GUARANI = "guarani"
URATYP = "uratyp"
SOURCES = (SIGMORPHON, ODIN, GUARANI, URATYP, IMTVAULT, APICS)

ODIN_LICENSE = "ODIN 2.1 terms (odin.linguistlist.org)"
GUARANI_LICENSE = "Guarani Corpus terms (not stated in the source)"
URATYP_LICENSE = "UraTyp CLDF dataset terms"
GUARANI_LANGUAGE = Language(name="Paraguayan Guaraní", iso639_3="gug", glottocode="para1311")


def shared_task_file(data_dir: Path, iso: str, split: str, track: int, covered: bool) -> Path:
    """Path of one shared-task file, e.g. ``Tsez/ddo-dev-track2-uncovered``."""
    folder = SHARED_TASK_LANGUAGES[iso].folder
    kind = "covered" if covered else "uncovered"
    return data_dir / SIGMORPHON / folder / f"{iso}-{split}-track{track}-{kind}"


def shared_task_input(data_dir: Path, iso: str, split: str) -> Path | None:
    """The richest file of a language and split: gold with segmentation when
    there is one, else gold without, else (test) the covered input."""
    for track, covered in ((2, False), (1, False), (2, True)):
        path = shared_task_file(data_dir, iso, split, track, covered)
        if path.exists() and (split == "test" or not covered):
            return path
    return None


def load_shared_task(data_dir: Path, skipped: list[FormatError], notes: list[str]) -> Iterator[IGTRecord]:
    """SIGMORPHON 2023 records of every language and split, splits as given."""
    for iso, info in SHARED_TASK_LANGUAGES.items():
        for split in SHARED_TASK_SPLITS:
            path = shared_task_input(data_dir, iso, split)
            if path is None:
                notes.append(f"{SIGMORPHON}: no gold {split} file for {iso} ({info.folder}); left out")
                continue
            yield from read_sigmorphon(
                path, skip_invalid=True, skipped=skipped, id_prefix=f"{SIGMORPHON}/{iso}/{split}/",
                language=info.language, metalanguage=info.metalanguage, source=SIGMORPHON,
                split=split, license=info.license, is_segmented=False,
            )


def odin_language(file_stem: str) -> tuple[Language, str]:
    """The language of an ODIN file from its name, and how it was decided (a
    ``language_method``): a valid ISO 639-3 code gives code and name
    (``iso639-3 given``). Anything else is ``und`` with the reason: a
    hyphen-joined list names several languages, and the two-letter and other
    names of the conversion are not codes one can trust (``ja.txt`` holds
    Jamaican Creole, not Japanese)."""
    code = iso_code(file_stem) if re.fullmatch(r"[a-z]{3}", file_stem) else None
    if code is not None:
        return Language(name=iso_name(code), iso639_3=code), ISO_GIVEN
    if re.fullmatch(r"[a-z]{2,3}(-[a-z]{2,3})+", file_stem):
        reason = "file name is a list of codes"
    else:
        reason = "file name is no ISO 639-3 code"
    return Language(iso639_3=UND), f"{UND}: {reason}"


def load_odin(data_dir: Path, skipped: list[FormatError], notes: list[str]) -> Iterator[IGTRecord]:
    folder = data_dir / ODIN
    if not folder.is_dir():
        notes.append(f"{ODIN}: folder {folder} not found; left out")
        return
    for path in sorted(folder.glob("*.txt")):
        language, method = odin_language(path.stem)
        for record in read_sigmorphon(
            path, skip_invalid=True, skipped=skipped, id_prefix=f"{ODIN}/{path.stem}/",
            language=language, metalanguage="English", source=ODIN,
            split="pretrain", license=ODIN_LICENSE,
        ):
            yield record.replace(language_method=method)


def load_guarani(data_dir: Path, skipped: list[FormatError], notes: list[str]) -> Iterator[IGTRecord]:
    """The Guarani stories; the ``-fixed`` files carry both the unsegmented
    transcription and the segmentation, so they are preferred."""
    folder = data_dir / GUARANI
    if not folder.is_dir():
        notes.append(f"{GUARANI}: folder {folder} not found; left out")
        return
    stories = sorted(folder.glob("Story*.txt"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    for path in stories:
        if not path.stem.endswith("-fixed") and path.with_name(f"{path.stem}-fixed.txt").exists():
            continue
        yield from read_sigmorphon(
            path, skip_invalid=True, skipped=skipped, id_prefix=f"{GUARANI}/{path.stem}/",
            language=GUARANI_LANGUAGE, metalanguage="English", source=GUARANI,
            split="pretrain", license=GUARANI_LICENSE, is_segmented=False,
        )


def load_uratyp(data_dir: Path, skipped: list[FormatError], notes: list[str]) -> Iterator[IGTRecord]:
    path = data_dir / URATYP / "examples.csv"
    if not path.exists():
        notes.append(f"{URATYP}: {path} not found; left out")
        return
    for record in read_records(
        path, "cldf", skip_invalid=True, skipped=skipped, metalanguage="English",
        source=URATYP, split="pretrain", license=URATYP_LICENSE,
    ):
        yield record.replace(id=f"{URATYP}/{record.id}")


LOADERS = {SIGMORPHON: load_shared_task, ODIN: load_odin, GUARANI: load_guarani, URATYP: load_uratyp,
           IMTVAULT: load_imtvault, APICS: load_apics}
