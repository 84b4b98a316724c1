"""CLDF datasets with an ExampleTable, read and written through ``pycldf``.

A dataset is named by its metadata file (``Generic-metadata.json``, ...)
or the directory holding it. Each example row is a sentence: the words of
``Analyzed_Word`` (else of ``Primary_Text``), their morphemes split at the
Leipzig boundaries, and the ``Gloss`` word under each.

CLDF has no notion of a machine guess, so autogloss lists the morphemes it
glossed in an extra ExampleTable column, ``Autogloss_Guesses`` (``2.1``:
word 2, morpheme 1), added to the schema when first needed. A gloss not
listed there is a person's and is never changed; rows and gloss words that
get no new gloss are written back as they were read.

Every file the metadata names (tables, a dialect, foreign-key tables, the
sources) is read from disk only: a URL is refused, and with ``root`` (the
folder an uploaded dataset was unpacked into) so is any path outside it.

A bare ``examples.csv`` (sources such as UraTyp ship the table without its
metadata, a ``languages.csv`` beside it) is read through pycldf too
(:func:`read_examples`): described in memory as a Generic dataset whose
columns are the file's own, every cell text as written, and its rows mapped
to records (no gloss states: a person's glosses throughout).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pycldf
from csvw.dsv import UnicodeReader
from csvw.dsv_dialects import Dialect

from ..errors import AutoglossError, FormatError, skip_or_raise
from ..fileio import atomic_directory
from ..records import IGTRecord, Language, squash_space, text_problem, word_morphemes
from .document import (MISSING_GLOSSES, MISSING_MARK, GlossSlot, GlossState, InterlinearDocument, Sentence, Word,
                       affixed_forms, join_morphemes, leipzig_gloss)

GUESS_COLUMN = "Autogloss_Guesses"
_GUESS_COLUMN_SPEC = {
    "name": GUESS_COLUMN, "separator": " ", "datatype": "string",
    "dc:description": "Morphemes whose gloss is a machine guess by autogloss, as WORD.MORPHEME "
                      "(1-based); a linguist accepts a gloss by removing it from this list.",
}


#: A URL scheme (``http:``, ``file:`` ...): csvw fetches such references.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def metadata_file(path: str | os.PathLike) -> Path:
    """The metadata JSON of a dataset named by that file or by its directory."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.glob("*-metadata.json")) or sorted(path.glob("*.json"))
        if not found:
            raise FormatError(path, None, "no CLDF metadata file (*-metadata.json) in this directory")
        return found[0]
    return path


@dataclass(eq=False)
class _Cell:
    """Where a slot's gloss lives: its row, word and morpheme."""

    row: dict
    word: int
    morph: int


class CldfDocument(InterlinearDocument):
    format_name = "cldf"

    def __init__(self, dataset: pycldf.Dataset | None, metadata_name: str, rows: list[dict],
                 languages: list[dict], sentences: list[Sentence], columns: dict[str, str]):
        super().__init__(sentences)
        self.dataset = dataset
        self.metadata_name = metadata_name
        self.rows = rows
        self.languages = languages
        self.columns = columns
        self.needs_guess_column = False

    # -- reading ------------------------------------------------------------
    @classmethod
    def read(cls, path: str | os.PathLike, root: str | os.PathLike | None = None) -> CldfDocument:
        """Read a dataset. With ``root``, every file it names must lie inside
        that folder (see :func:`check_references`)."""
        metadata = metadata_file(path)
        check_references(metadata, root)
        try:
            dataset = pycldf.Dataset.from_metadata(metadata)
            _check_resolved(dataset, metadata, root)
            table = dataset["ExampleTable"]
            rows = [dict(row) for row in table]
            languages = [dict(row) for row in dataset["LanguageTable"]] if _has(dataset, "LanguageTable") else []
        except KeyError:
            raise FormatError(metadata, None, "CLDF dataset without an ExampleTable") from None
        except (ValueError, OSError, TypeError, csv.Error) as error:
            raise FormatError(metadata, None, f"not a readable CLDF dataset: {error}") from None
        names = dataset.column_names.examples
        columns = {"id": names.id, "language": names.languageReference, "text": names.primaryText,
                   "analyzed": names.analyzedWord, "gloss": names.gloss, "translation": names.translatedText}
        for role in ("id", "text", "gloss"):
            if not columns[role]:
                raise FormatError(metadata, None, f"ExampleTable has no {role} column")
        _check_word_lists(metadata, table, rows, [columns["analyzed"], columns["gloss"]])
        by_id = {language.get("ID"): _language(language) for language in languages}
        document = cls(dataset, metadata.name, rows, languages, [], columns)
        data_file = Path(metadata).parent / str(table.url)
        document.sentences = [document._sentence(data_file, number, row, by_id)
                              for number, row in enumerate(rows, start=2)]
        return document

    def _sentence(self, path: Path, line: int, row: dict, languages: dict) -> Sentence:
        columns = self.columns
        for role in ("id", "text", "analyzed", "gloss", "translation"):  # text that goes into a record
            value = row.get(columns[role]) if columns[role] else None
            for part in value if isinstance(value, list) else [value]:
                problem = text_problem(part) if isinstance(part, str) else None
                if problem is not None:
                    raise FormatError(path, line, f"{columns[role]}: {problem}")
        analyzed = [w for w in (row.get(columns["analyzed"]) or []) if w] if columns["analyzed"] else []
        text = (row.get(columns["text"]) or "").split()
        forms = analyzed or text
        if not forms:
            raise FormatError(path, line, f"example {row.get(columns['id'])} has no text")
        glosses = [g or "" for g in (row.get(columns["gloss"]) or [])]
        guesses = set(row.get(GUESS_COLUMN) or [])
        words = []
        for index, form in enumerate(forms):
            gloss_word = glosses[index] if index < len(glosses) else ""
            words.append(_word(row, index, form, gloss_word, bool(analyzed), guesses))
        if analyzed and len(text) == len(analyzed):
            for word, surface in zip(words, text):
                word.form = surface
        translation = None
        if columns["translation"]:
            translation = (row.get(columns["translation"]) or "").strip() or None
        language = languages.get(row.get(columns["language"])) if columns["language"] else None
        return Sentence(str(row.get(columns["id"])), words, translation, handle=row, language=language)

    # -- writing ------------------------------------------------------------
    def write(self, path: str | os.PathLike) -> None:
        """Write the dataset into directory ``path`` (a ``.json`` path names its metadata file)."""
        path = Path(path)
        directory, name = (path.parent, path.name) if path.suffix == ".json" else (path, self.metadata_name)
        with atomic_directory(directory) as staging:
            if self.dataset is not None:
                self.dataset.copy(staging, mdname=name)
                dataset = pycldf.Dataset.from_metadata(staging / name)
            else:
                dataset = pycldf.Generic.in_dir(staging)
                dataset.add_component("LanguageTable")
                dataset.add_component("ExampleTable")
            if self.needs_guess_column and GUESS_COLUMN not in _column_names(dataset):
                dataset.add_columns("ExampleTable", dict(_GUESS_COLUMN_SPEC))
            tables = {"ExampleTable": self.rows}
            if self.dataset is None:
                tables["LanguageTable"] = self.languages
            dataset.write(fname=staging / name, **tables)
            _validate(dataset)

    def _store(self, sentence: Sentence, word: Word, slot: GlossSlot, gloss: str, state: GlossState) -> None:
        cell: _Cell = slot.handle
        slot_glosses = [s.gloss for s in word.slots]
        slot_glosses[cell.morph] = gloss
        glosses = list(cell.row.get(self.columns["gloss"]) or [])
        glosses += [""] * (len(sentence.words) - len(glosses))
        if word.segmented:
            forms = [s.form for s in word.slots]
            glosses[cell.word] = join_morphemes([g or MISSING_MARK for g in slot_glosses], forms)
        else:
            glosses[cell.word] = gloss
        cell.row[self.columns["gloss"]] = glosses
        position = f"{cell.word + 1}.{cell.morph + 1}"
        guesses = [g for g in (cell.row.get(GUESS_COLUMN) or []) if g != position]
        if state is GlossState.GUESS:
            guesses.append(position)
            self.needs_guess_column = True
        if guesses or GUESS_COLUMN in cell.row:
            cell.row[GUESS_COLUMN] = guesses

    # -- new documents --------------------------------------------------------
    @classmethod
    def from_sentences(cls, sentences: list[Sentence], language: Language | None = None) -> CldfDocument:
        languages: dict[Language, str] = {}
        rows = []
        for sentence in sentences:
            language_of = sentence.language or language or Language()
            language_id = languages.setdefault(language_of, _language_id(language_of, len(languages)))
            rows.append({"ID": _example_id(sentence.id), "Language_ID": language_id,
                         "Primary_Text": " ".join(w.form for w in sentence.words),
                         "Analyzed_Word": [w.segmented_form for w in sentence.words],
                         "Gloss": [w.gloss_word for w in sentence.words],
                         "Translated_Text": sentence.translation or ""})
        language_rows = [{"ID": language_id, "Name": lang.name, "Glottocode": lang.glottocode,
                          "ISO639P3code": lang.iso639_3} for lang, language_id in languages.items()]
        columns = {"id": "ID", "language": "Language_ID", "text": "Primary_Text", "analyzed": "Analyzed_Word",
                   "gloss": "Gloss", "translation": "Translated_Text"}
        document = cls(None, "Generic-metadata.json", rows, language_rows, [], columns)
        by_id = {row["ID"]: _language(row) for row in language_rows}
        document.sentences = [document._sentence(Path("<new>"), n, row, by_id) for n, row in enumerate(rows, 2)]
        for source, target in zip(sentences, document.sentences):
            target.accepted = source.accepted
            for (w, m, old), (_, _, new) in zip(source.slots(), target.slots()):
                if old.gloss and old.state is GlossState.GUESS:
                    new.state = GlossState.GUESS
                    cell = new.handle
                    cell.row.setdefault(GUESS_COLUMN, []).append(f"{cell.word + 1}.{cell.morph + 1}")
                    document.needs_guess_column = True
                new.confidence = old.confidence
        return document


def check_references(metadata: Path, root: str | os.PathLike | None = None) -> None:
    """Refuse a dataset whose metadata names a file that is not a local path
    (inside ``root`` when given), before csvw or pycldf opens anything.

    csvw follows a table's ``url``, a ``dialect`` or ``tableSchema`` given by
    reference, foreign-key ``resource`` and ``schemaReference`` and an
    ``@base`` wherever they point (URLs are fetched), and pycldf reads
    ``dc:source``: in a dataset uploaded to the server any of them would read
    the server's files or fetch from its network.
    """
    try:
        description = json.loads(Path(metadata).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise FormatError(metadata, None, f"not a readable CLDF metadata file: {error}") from None
    if not isinstance(description, dict):
        raise FormatError(metadata, None, "not a CLDF metadata file (not a JSON object)")
    inside = Path(root).resolve() if root is not None else None

    def check(what: str, value) -> None:
        if not isinstance(value, str):
            raise FormatError(metadata, None, f"{what} is not a file name: {json.dumps(value)[:80]}")
        if _SCHEME.match(value):
            raise FormatError(metadata, None, f"{what} '{value[:200]}' is a URL: "
                                              f"autogloss reads a dataset's files from its own folder only")
        if inside is not None and not (Path(metadata).parent / value).resolve().is_relative_to(inside):
            raise FormatError(metadata, None, f"{what} '{value[:200]}' lies outside the dataset's folder")

    if _has_key(description, "@base"):
        raise FormatError(metadata, None, "'@base' is not supported: name the dataset's files relative to "
                                          "its metadata file")
    tables = description.get("tables", [])
    if not isinstance(tables, list):
        raise FormatError(metadata, None, "'tables' is not a list")
    for number, table in enumerate([description, *tables]):
        if not isinstance(table, dict):
            raise FormatError(metadata, None, f"table {number} is not a JSON object")
        name = "the dataset" if number == 0 else f"table {number}"
        if "url" in table or number > 0:
            check(f"the url of {name}", table.get("url"))
        if isinstance(table.get("dialect"), str):
            check(f"the dialect of {name}", table["dialect"])
        schema = table.get("tableSchema")
        if isinstance(schema, str):
            raise FormatError(metadata, None, f"the tableSchema of {name} is given by reference "
                                              f"('{schema[:200]}'): write it into the metadata file")
        keys = schema.get("foreignKeys", []) if isinstance(schema, dict) else []
        for key in keys if isinstance(keys, list) else [keys]:
            reference = key.get("reference") if isinstance(key, dict) else None
            for field in ("resource", "schemaReference"):
                if isinstance(reference, dict) and field in reference:
                    check(f"a foreign key of {name} ({field})", reference[field])
    if description.get("dc:source"):
        check("the sources file (dc:source)", description["dc:source"])


def _has_key(value, key: str) -> bool:
    """Whether ``key`` is a key of any object nested in a JSON value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if key in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _check_word_lists(metadata: Path, table, rows: list[dict], names: list[str | None]) -> None:
    """Refuse word columns (``Analyzed_Word``, ``Gloss``) declared without a
    ``separator``: csvw reads each as one string, whose letters would be
    taken for words. The message says which separator the data uses."""
    for name in names:
        column = table.tableSchema.get_column(name) if name else None
        if column is None or column.separator:
            continue
        values = [row.get(name) for row in rows if isinstance(row.get(name), str)]
        uses = ('tabs: add "separator": "\\t"' if any("\t" in v for v in values)
                else 'spaces: add "separator": " "')
        raise FormatError(metadata, None, f"ExampleTable column {name} has no \"separator\", so its words "
                                          f"cannot be told apart (they would be read letter by letter); "
                                          f"its values separate them by {uses} to the column in the metadata")


def _check_resolved(dataset: pycldf.Dataset, metadata: Path, root: str | os.PathLike | None) -> None:
    """The same check on the paths csvw and pycldf resolved: what will be read."""
    inside = Path(root).resolve() if root is not None else None
    paths = [(f"table {table.url}", table.url.resolve(table.base)) for table in dataset.tables]
    paths.append(("the sources file", dataset.bibpath))
    for what, resolved in paths:
        if not isinstance(resolved, Path):
            raise FormatError(metadata, None, f"{what} is a URL: autogloss reads a dataset's files from "
                                              f"its own folder only")
        if inside is not None and not resolved.resolve().is_relative_to(inside):
            raise FormatError(metadata, None, f"{what} lies outside the dataset's folder")


# -- a bare ExampleTable (an examples.csv without metadata) -------------------------------------
#: The ExampleTable columns a bare examples.csv must have (CLDF's default names).
REQUIRED_COLUMNS = ("ID", "Language_ID", "Primary_Text", "Analyzed_Word", "Gloss")
_TERMS = "http://cldf.clld.org/v1.0/terms.rdf#"
#: How a bare table is read: its first row names the columns, every other row is data (none
#: is a comment), blank rows left out.
_BARE_DIALECT = {"commentPrefix": None, "header": False, "skipRows": 1, "skipBlankRows": True}
#: A column after the header's: it holds a value only in a row with more cells than the header.
_SURPLUS = "(cells after the header's)"


def read_examples(path: str | os.PathLike, *, skip_invalid: bool = False, skipped: list[FormatError] | None = None,
                  **fields) -> Iterator[IGTRecord]:
    """Stream the examples of a bare ExampleTable CSV file as records;
    ``fields`` (source, split, ...) are set on every record.

    A ``languages.csv`` beside the file (CLDF LanguageTable) names the
    languages of ``Language_ID``. A row with an empty ``Primary_Text`` or a
    line break in a word column is malformed (left out with
    ``skip_invalid``); a line that is not UTF-8 or holds text no record can
    refuses the file, naming the line.
    """
    path = os.fspath(path)
    dataset = _bare_dataset(Path(path))
    languages = ({row.get("ID"): _language(row) for _, row in _bare_rows(dataset, "LanguageTable")}
                 if _has(dataset, "LanguageTable") else {})
    for number, (line, row) in enumerate(_bare_rows(dataset, "ExampleTable")):
        if number == 0:
            missing = [column for column in REQUIRED_COLUMNS if column not in row]
            if missing:
                raise FormatError(path, 1, f"not a CLDF ExampleTable: missing column(s) {', '.join(missing)}")
        try:
            yield _example_record(path, line, row, languages, fields)
        except FormatError as error:
            skip_or_raise(error, skip_invalid, skipped)


def _bare_dataset(examples: Path) -> pycldf.Dataset:
    """A bare ``examples.csv`` (and a ``languages.csv`` beside it) described
    as a Generic dataset in memory, each table with its header's columns."""
    dataset = pycldf.Generic.from_metadata(examples.parent)
    del dataset.tables[:]
    languages = examples.with_name("languages.csv")
    for path, component in ((languages, "LanguageTable"), (examples, "ExampleTable")):
        if component == "ExampleTable" or languages.exists():
            dataset.add_component({"url": path.name, "dc:conformsTo": _TERMS + component,
                                   "dialect": dict(_BARE_DIALECT),
                                   "tableSchema": {"columns": _bare_columns(_bare_header(path))}})
    return dataset


def _bare_columns(header: list[str]) -> list[dict]:
    """Columns for the cells of a header, in order, untyped (each cell is
    read as the file writes it) and titled, not named (a CSV header may
    hold any text): where a title repeats, the last cell of that title is
    the column; then the surplus column, whose empty value is kept."""
    columns = []
    for index, title in enumerate(header):
        last = bool(title) and title not in header[index + 1:]
        columns.append({"titles": title if last else f"(cell {index + 1})", "datatype": "string"})
    return [*columns, {"titles": _SURPLUS, "datatype": "string", "null": []}]


def _bare_header(path: Path) -> list[str]:
    """The column names of a CSV file, after checking that each of its lines
    is UTF-8 text a record can hold (csvw would take anything)."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise FormatError(path, number, "bytes that are not UTF-8") from None
            problem = text_problem(text.rstrip("\r\n"), "column")
            if problem is not None:
                raise FormatError(path, number, problem)
    try:
        with UnicodeReader(path, dialect=Dialect(commentPrefix=None)) as reader:
            header = next(reader, None)
    except csv.Error as error:
        raise FormatError(path, 1, f"invalid CSV: {error}") from None
    if header is None:
        raise FormatError(path, 1, "empty file: no CSV header")
    return header


def _bare_rows(dataset: pycldf.Dataset, component: str) -> Iterator[tuple[int, dict]]:
    """The rows of a bare table with the line each starts on; a row with more
    cells than the header is refused (its cells would not line up)."""
    table = dataset[component]
    path = table.url.resolve(table.base)
    header = len(table.tableSchema.columns) - 1
    end = 1
    try:
        for _, end, row in table.iterdicts(with_metadata=True):
            # csvw numbers a row by its last line: a quoted cell may hold line breaks
            line = end - sum(value.count("\n") for value in row.values() if isinstance(value, str))
            if row.pop(_SURPLUS) is not None:
                raise FormatError(path, line, f"{header} columns in the header but more in this row")
            yield line, row
    except (csv.Error, ValueError) as error:
        raise FormatError(path, end + 1, f"invalid CSV: {error}") from None


def _tab_words(value: str | None) -> str:
    return " ".join(word.strip() for word in (value or "").split("\t") if word.strip())


def _example_record(path: str, line: int, row: dict, languages: dict[str | None, Language],
                    fields: dict) -> IGTRecord:
    transcription = squash_space(row.get("Primary_Text") or "")
    if not transcription:
        raise FormatError(path, line, "record has no transcription (Primary_Text is empty)")
    for column in ("ID", "Analyzed_Word", "Gloss"):
        if "\n" in (row.get(column) or "") or "\r" in (row.get(column) or ""):
            raise FormatError(path, line, f"{column} has a line break (a quoted field over more than one line)")
    values = dict(
        id=row.get("ID") or str(line),
        transcription=transcription,
        segmentation=_tab_words(row.get("Analyzed_Word")) or None,
        glosses=_tab_words(row.get("Gloss")),
        translation=(row.get("Translated_Text") or "").strip() or None,
        language=languages.get(row.get("Language_ID"), Language()),
        is_segmented=False,
        origin=f"{path}:{line}",
    )
    values.update(fields)
    return IGTRecord(**values)


def _word(row: dict, index: int, form: str, gloss_word: str, analyzed: bool, guesses: set[str]) -> Word:
    forms = affixed_forms(form) if analyzed else [form]
    pieces = word_morphemes(gloss_word) if gloss_word and analyzed else [gloss_word]
    aligned = len(pieces) == len(forms)
    slots = []
    for morph, morph_form in enumerate(forms):
        gloss = pieces[morph] if aligned else ""
        gloss = "" if gloss in MISSING_GLOSSES else leipzig_gloss(gloss)
        if gloss:
            state = GlossState.GUESS if f"{index + 1}.{morph + 1}" in guesses else GlossState.HUMAN
        else:
            state = GlossState.EMPTY
        # a person's gloss word that does not line up with the morphemes is left whole and untouched
        locked = not aligned and bool(gloss_word)
        slots.append(GlossSlot(morph_form, gloss, state, locked=locked, handle=_Cell(row, index, morph)))
    return Word(form, slots, segmented=analyzed)


def _has(dataset: pycldf.Dataset, component: str) -> bool:
    try:
        dataset[component]
    except KeyError:
        return False
    return True


def _column_names(dataset: pycldf.Dataset) -> list[str]:
    return [column.name for column in dataset["ExampleTable"].tableSchema.columns]


def _language(row: dict) -> Language:
    name = row.get("Name")
    return Language(name=name.replace("_", " ") if name else None, iso639_3=row.get("ISO639P3code") or None,
                    glottocode=row.get("Glottocode") or None)


def _language_id(language: Language, index: int) -> str:
    candidate = language.glottocode or language.iso639_3 or f"lang{index + 1}"
    return _example_id(candidate)


def _example_id(value: str) -> str:
    """CLDF ids allow letters, digits, ``_`` and ``-`` only."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_" for c in str(value)) or "_"


def _validate(dataset: pycldf.Dataset) -> None:
    problems: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                problems.append(record.getMessage())

    logger = logging.getLogger("autogloss.cldf.validate")
    handler = _Collect()
    logger.addHandler(handler)
    try:
        valid = dataset.validate(log=logger)
    except (ValueError, KeyError) as error:  # KeyError: metadata without what pycldf looks up
        raise AutoglossError(f"the CLDF dataset written would not be valid: {error}") from None
    finally:
        logger.removeHandler(handler)
    if not valid or problems:
        raise AutoglossError(f"the CLDF dataset written would not be valid: {'; '.join(problems[:3])}")
