"""CLDF datasets with an ExampleTable, read and written through ``pycldf``.

A dataset is named by its metadata file (``Generic-metadata.json``, a
cldfbench ``metadata.json``, ...) or the directory holding it. Each example
row with an analysis is a sentence: the words of ``Analyzed_Word`` (else of
``Primary_Text``), their morphemes split at the Leipzig boundaries, and the
``Gloss`` word under each. A word that starts or ends with a boundary marker
is a clitic (or affix) written as a word of its own: ``=a`` glossed ``=FOC``
is one morpheme, and its gloss keeps its ``=`` (Leipzig rule 2). A row
without ``Analyzed_Word`` or ``Gloss`` (a translation pointing at its glossed
row, an unanalysed dictionary example) has nothing to gloss: it is no
sentence, and is written back as it was.

CLDF has no notion of a machine guess, so autogloss lists the morphemes it
glossed in an extra ExampleTable column, ``Autogloss_Guesses`` (``2.1``:
word 2, morpheme 1), added to the schema when first needed. A gloss not
listed there is a person's and is never changed.

A dataset is written back as it was read, file by file: every file byte for
byte, except the Gloss cells (and guess lists) of the rows autogloss
glossed, whose other words stay as written, and the metadata when the guess
column is added to it. Line ends, quoting and the dialect stay the file's.

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

import codecs
import csv
import json
import logging
import os
import re
import shutil
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pycldf
from csvw.dsv import UnicodeReader
from csvw.dsv_dialects import Dialect

from ..errors import AutoglossError, FormatError, skip_or_raise
from ..fileio import atomic_directory
from ..records import IGTRecord, Language, squash_space, text_problem
from .cldf_metadata import CLDF_TERMS, describes_cldf_dataset
from .document import (AFFIX_MARKERS, MISSING_MARK, GlossSlot, GlossState, InterlinearDocument,
                       Sentence, Word, affixed_forms, is_missing_gloss, leipzig_gloss, marks_only)

GUESS_COLUMN = "Autogloss_Guesses"
_GUESS_COLUMN_SPEC = {
    "name": GUESS_COLUMN, "separator": " ", "datatype": "string",
    "dc:description": "Morphemes whose gloss is a machine guess by autogloss, as WORD.MORPHEME "
                      "(1-based); a linguist accepts a gloss by removing it from this list.",
}


#: A URL scheme (``http:``, ``file:`` ...): csvw fetches such references.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def metadata_file(path: str | os.PathLike) -> Path:
    """The metadata JSON of a dataset named by that file or by its directory:
    its ``*-metadata.json``, else the JSON file there that describes a CLDF
    dataset (cldfbench datasets may call it ``metadata.json``)."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.glob("*-metadata.json")) or list(filter(describes_cldf_dataset, sorted(path.glob("*.json"))))
        if not found:
            raise FormatError(path, None, "no CLDF metadata file (*-metadata.json, or a metadata.json whose "
                                          "dc:conformsTo is a CLDF module) in this directory")
        return found[0]
    return path


@dataclass(eq=False)
class _GlossWord:
    """How one word's gloss is written: the pieces under its morphemes and the
    boundary markers before, between and after them, as the Gloss cell has
    them. A person's pieces are written back as they were ("call; call.out"),
    only the pieces autogloss fills change."""

    pieces: list[str]
    between: list[str]
    lead: str = ""
    trail: str = ""
    #: The word's place in the row's Gloss list (as in Analyzed_Word, whose empty items are no words).
    item: int = 0

    def text(self) -> str:
        """The word's gloss ("" while nothing is glossed; a missing piece as ``?``)."""
        if not any(self.pieces):
            return ""
        pieces = [piece or MISSING_MARK for piece in self.pieces]
        return self.lead + pieces[0] + "".join(m + p for m, p in zip(self.between, pieces[1:])) + self.trail


@dataclass(eq=False)
class _Row:
    """One example row: its values as pycldf read them, the line it starts
    on, and (for an analysed row) how each word's gloss is written."""

    values: dict
    line: int
    words: list[_GlossWord]
    #: The Gloss items autogloss changed.
    changed: set[int] = field(default_factory=set)


@dataclass(eq=False)
class _Cell:
    """Where a slot's gloss lives: its row, word and morpheme."""

    row: _Row
    word: int
    morph: int


class CldfDocument(InterlinearDocument):
    format_name = "cldf"

    def __init__(self, dataset: pycldf.Dataset | None, metadata: Path | None, rows: list[_Row],
                 languages: list[dict], sentences: list[Sentence], columns: dict[str, str],
                 table_text: _TableText | None = None):
        super().__init__(sentences)
        self.dataset = dataset
        #: The metadata file read (None for a new dataset).
        self.metadata = metadata
        self.metadata_name = metadata.name if metadata is not None else "Generic-metadata.json"
        self.rows = rows
        self.languages = languages
        self.columns = columns
        #: The ExampleTable file as read, to write changed cells back into (None: rewritten by csvw).
        self.table_text = table_text
        self.needs_guess_column = False

    # -- reading ------------------------------------------------------------
    @classmethod
    def read(cls, path: str | os.PathLike, root: str | os.PathLike | None = None) -> CldfDocument:
        """Read a dataset. With ``root``, every file it names must lie inside
        that folder (see :func:`check_references`).

        Only rows with an analysis (``Analyzed_Word``, or a ``Gloss``) are
        sentences: a row with neither, such as a translation pointing at its
        glossed row (``Main_Example_ID``) or an unanalysed dictionary example,
        has nothing to gloss and is written back as it was."""
        metadata = metadata_file(path)
        check_references(metadata, root)
        try:
            dataset = pycldf.Dataset.from_metadata(metadata)
            _check_resolved(dataset, metadata, root)
            table = dataset["ExampleTable"]
            read = [(line, dict(row)) for _, line, row in table.iterdicts(with_metadata=True)]
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
        values = [row for _, row in read]
        _check_word_lists(metadata, table, values, [columns["analyzed"], columns["gloss"]])
        data_file = Path(metadata).parent / table.url.string
        text = _TableText.read(table.url.resolve(table.base), table, [line for line, _ in read])
        starts = text.starts() if text is not None else [_first_line(line, row) for line, row in read]
        rows = [_Row(row, start, []) for start, (_, row) in zip(starts, read)]
        document = cls(dataset, metadata, rows, languages, [], columns, text)
        by_id = {language.get("ID"): _language(language) for language in languages}
        sentences = (document._sentence(data_file, row, by_id) for row in rows)
        document.sentences = [sentence for sentence in sentences if sentence is not None]
        return document

    def _sentence(self, path: Path, row: _Row, languages: dict) -> Sentence | None:
        """The sentence of an analysed row (None for a row with nothing to gloss)."""
        columns, values = self.columns, row.values
        listed = (values.get(columns["analyzed"]) or []) if columns["analyzed"] else []
        items = [item for item, word in enumerate(listed) if word]
        analyzed = [listed[item] for item in items]
        glosses = [g or "" for g in (values.get(columns["gloss"]) or [])]
        if columns["analyzed"] and not analyzed and not any(glosses):
            return None
        for role in ("id", "text", "analyzed", "gloss", "translation"):  # text that goes into a record
            value = values.get(columns[role]) if columns[role] else None
            for part in value if isinstance(value, list) else [value]:
                problem = text_problem(part) if isinstance(part, str) else None
                if problem is not None:
                    raise FormatError(path, row.line, f"{columns[role]}: {problem}")
        text = (values.get(columns["text"]) or "").split()
        forms = analyzed or text
        if not forms:
            raise FormatError(path, row.line, f"example {values.get(columns['id'])} has no text")
        guesses = set(values.get(GUESS_COLUMN) or [])
        # an analysis that only repeats the text's words is none (a sentence written without one)
        segmented = bool(analyzed) and (analyzed != text or any(_BOUNDARY.search(form) for form in analyzed))
        words = []
        for index, form in enumerate(forms):
            item = items[index] if analyzed else index
            gloss_word = glosses[item] if item < len(glosses) else ""
            word, gloss = _word(row, index, form, gloss_word, segmented, guesses)
            gloss.item = item
            words.append(word)
            row.words.append(gloss)
        if analyzed and len(text) == len(analyzed):
            for word, surface in zip(words, text):
                word.form = surface
        translation = None
        if columns["translation"]:
            translation = (values.get(columns["translation"]) or "").strip() or None
        language = languages.get(values.get(columns["language"])) if columns["language"] else None
        return Sentence(str(values.get(columns["id"])), words, translation, handle=values, language=language,
                        origin=f"{path}:{row.line}")

    # -- writing ------------------------------------------------------------
    def write(self, path: str | os.PathLike) -> None:
        """Write the dataset into directory ``path`` (a ``.json`` path names its metadata file).

        A dataset that was read is written back as it was, file by file:
        only the Gloss cells (and the guess list) of the rows autogloss
        glossed change, and the metadata only when the guess column is
        added. Written into the folder it was read from, the folder's other
        files are kept too."""
        path = Path(path)
        directory, name = (path.parent, path.name) if path.suffix == ".json" else (path, self.metadata_name)
        with atomic_directory(directory) as staging:
            if self.dataset is None:
                self._write_new(staging, name)
            else:
                self._write_back(staging, name, directory)
            _validate(staging / name, self.metadata, staging, directory)

    def _write_new(self, staging: Path, name: str) -> None:
        dataset = pycldf.Generic.in_dir(staging)
        dataset.add_component("LanguageTable")
        dataset.add_component("ExampleTable")
        if self.needs_guess_column:
            dataset.add_columns("ExampleTable", dict(_GUESS_COLUMN_SPEC))
        dataset.write(fname=staging / name, ExampleTable=[row.values for row in self.rows],
                      LanguageTable=self.languages)

    def _write_back(self, staging: Path, name: str, directory: Path) -> None:
        source = self.metadata.parent
        if directory.resolve() == source.resolve():  # in place: nothing of the folder may go
            for entry in source.iterdir():
                if entry.name != self.metadata.name:
                    (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, staging / entry.name)
        examples = self.dataset["ExampleTable"]
        add_column = self.needs_guess_column and GUESS_COLUMN not in _column_names(self.dataset)
        metadata_bytes = self.metadata.read_bytes()
        if add_column:
            metadata_bytes = _with_guess_column(metadata_bytes, examples.url.string)
        (staging / name).write_bytes(metadata_bytes)
        for table in self.dataset.tables:
            target, source = _inside(staging, table.url.string), _data_file(table)
            if table is not examples and source is not None:  # (a table missing from a partial copy stays missing)
                _copy(source, target.with_name(source.name))
        if self.dataset.bibpath.exists():  # named by dc:source, else sources.bib by default
            _copy(self.dataset.bibpath, _inside(staging, self.dataset.properties.get("dc:source") or "sources.bib"))
        _copy_media(self.dataset, staging)
        target, source = _inside(staging, examples.url.string), _data_file(examples)
        if self.table_text is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.table_text.patched(self._cells(), GUESS_COLUMN if add_column else None))
        elif source is not None and not add_column and not any(row.changed for row in self.rows):
            _copy(source, target.with_name(source.name))
        else:  # a zipped table, or rows that could not be found in the file: csvw writes it
            written = pycldf.Dataset.from_metadata(staging / name)
            written["ExampleTable"].write([row.values for row in self.rows],
                                          _zipped=source is not None and source.suffix == ".zip")

    def _cells(self) -> dict[int, dict[str, str]]:
        """The new text of the changed cells, by row number and column name:
        of a Gloss cell only the words glossed, the others as written."""
        gloss_name = self.columns["gloss"]
        schema = self.dataset["ExampleTable"].tableSchema
        separator = schema.get_column(gloss_name).separator
        guess_column = schema.get_column(GUESS_COLUMN)
        guess_separator = (guess_column.separator if guess_column is not None else None) or " "
        cells = {}
        for number, row in enumerate(self.rows):
            if not row.changed:
                continue
            words = {word.item: word.text() for word in row.words if word.item in row.changed}
            new = {gloss_name: self.table_text.list_cell(number, gloss_name, separator, words)}
            if GUESS_COLUMN in row.values:
                new[GUESS_COLUMN] = guess_separator.join(row.values[GUESS_COLUMN] or [])
            cells[number] = new
        return cells

    def _store(self, sentence: Sentence, word: Word, slot: GlossSlot, gloss: str, state: GlossState) -> None:
        cell: _Cell = slot.handle
        row = cell.row
        gloss_word = row.words[cell.word]
        gloss_word.pieces[cell.morph] = gloss
        glosses = list(row.values.get(self.columns["gloss"]) or [])
        glosses += [""] * (gloss_word.item + 1 - len(glosses))
        glosses[gloss_word.item] = gloss_word.text()
        row.values[self.columns["gloss"]] = glosses
        position = f"{cell.word + 1}.{cell.morph + 1}"
        guesses = [g for g in (row.values.get(GUESS_COLUMN) or []) if g != position]
        if state is GlossState.GUESS:
            guesses.append(position)
            self.needs_guess_column = True
        if guesses or GUESS_COLUMN in row.values:
            row.values[GUESS_COLUMN] = guesses
        row.changed.add(gloss_word.item)

    # -- new documents --------------------------------------------------------
    @classmethod
    def from_sentences(cls, sentences: list[Sentence], language: Language | None = None) -> CldfDocument:
        languages: dict[Language, str] = {}
        rows = []
        for number, sentence in enumerate(sentences, start=2):
            language_of = sentence.language or language or Language()
            language_id = languages.setdefault(language_of, _language_id(language_of, len(languages)))
            rows.append(_Row({"ID": _example_id(sentence.id), "Language_ID": language_id,
                              "Primary_Text": " ".join(w.form for w in sentence.words),
                              "Analyzed_Word": [w.segmented_form for w in sentence.words],
                              "Gloss": [w.gloss_word for w in sentence.words],
                              "Translated_Text": sentence.translation or ""}, number, []))
        language_rows = [{"ID": language_id, "Name": lang.name, "Glottocode": lang.glottocode,
                          "ISO639P3code": lang.iso639_3} for lang, language_id in languages.items()]
        columns = {"id": "ID", "language": "Language_ID", "text": "Primary_Text", "analyzed": "Analyzed_Word",
                   "gloss": "Gloss", "translation": "Translated_Text"}
        document = cls(None, None, rows, language_rows, [], columns)
        by_id = {row["ID"]: _language(row) for row in language_rows}
        document.sentences = [document._sentence(Path("<new>"), row, by_id) for row in rows]
        for row, sentence in zip(rows, document.sentences):
            if sentence is None:
                raise FormatError("<new>", row.line, f"example {row.values['ID']} has no text")
        for source, target in zip(sentences, document.sentences):
            target.accepted = source.accepted
            for (w, m, old), (_, _, new) in zip(source.slots(), target.slots()):
                if old.gloss and old.state is GlossState.GUESS:
                    new.state = GlossState.GUESS
                    cell = new.handle
                    cell.row.values.setdefault(GUESS_COLUMN, []).append(f"{cell.word + 1}.{cell.morph + 1}")
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
            dataset.add_component({"url": path.name, "dc:conformsTo": CLDF_TERMS + component,
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


# -- the ExampleTable file as written ------------------------------------------------------------
@dataclass(eq=False)
class _Record:
    """One row of a CSV file as its text has it: the lines it spans, where it
    lies (without its line end) and where each of its cells lies."""

    first_line: int
    last_line: int
    start: int
    end: int
    cells: list[tuple[int, int]]


class _TableText:
    """A CSV file's text with where each data row and cell lies, so that the
    cells autogloss changes are written into it and every other byte (line
    ends, quoting, a BOM, comments) stays as it was."""

    def __init__(self, data: bytes, prefix: bytes, text: str, encoding: str, table, header: _Record | None,
                 rows: list[_Record]):
        self.data = data
        self.prefix = prefix
        self.text = text
        self.encoding = encoding
        self.table = table
        self.dialect = table._get_dialect()
        self.header = header
        self.rows = rows
        self._positions: dict[str, int | None] = {}

    @classmethod
    def read(cls, path: Path, table, ends: list[int]) -> _TableText | None:
        """The file of a csvw table, its rows found as csvw read them (``ends``:
        the line each row read ends on); None when they cannot be found."""
        dialect = table._get_dialect()
        if len(dialect.delimiter) != 1 or (dialect.quoteChar is not None and len(dialect.quoteChar) != 1):
            return None
        if not Path(path).is_file():  # (csvw reads a table.csv.zip in its place)
            return None
        data = Path(path).read_bytes()
        encoding = dialect.python_encoding
        prefix = b""
        if encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig") and data.startswith(codecs.BOM_UTF8):
            prefix, encoding = codecs.BOM_UTF8, "utf-8"
        try:
            text = data[len(prefix):].decode(encoding)
        except (UnicodeDecodeError, LookupError):
            return None
        found = cls(data, prefix, text, encoding, table, None, [])
        records = [r for r in found._records() if not found._skipped(r)]
        if dialect.header and records:
            found.header = records.pop(0)
        if [record.last_line for record in records] != ends:
            return None
        found.rows = records
        return found

    def starts(self) -> list[int]:
        """The line each data row starts on."""
        return [record.first_line for record in self.rows]

    def _records(self) -> Iterator[_Record]:
        """Every row of the text (comments and blank lines too), split at line
        ends outside quotes and at delimiters outside quotes (a quote opens a
        quoted cell only at the cell's start, as in Python's csv)."""
        text, delimiter, quote = self.text, self.dialect.delimiter, self.dialect.quoteChar
        escape = None if self.dialect.doubleQuote else "\\"
        plain = re.compile(f"[{re.escape(delimiter)}\n]")
        quoted = re.compile(f"[{re.escape((quote or '') + (escape or ''))}]") if quote is not None else None
        position, line, length = 0, 1, len(text)
        while position < length:
            start, first_line, cell_start, cells = position, line, position, []
            while True:
                if quoted is not None and position == cell_start and text.startswith(quote, position):
                    position, line = self._past_quotes(position + 1, line, quoted, escape)
                found = plain.search(text, position)
                end = found.start() if found is not None else length
                if found is not None and found.group() == delimiter:
                    cells.append((cell_start, end))
                    position = cell_start = end + 1
                    continue
                if found is not None and end > cell_start and text[end - 1] == "\r":
                    end -= 1  # a CRLF line end
                cells.append((cell_start, end))
                yield _Record(first_line, line, start, end, cells)
                position = (found.start() if found is not None else length) + 1
                line += 1
                break

    def _past_quotes(self, position: int, line: int, quoted: re.Pattern, escape: str | None) -> tuple[int, int]:
        """Where a quoted cell's closing quote ends, and the line it is on."""
        text, quote = self.text, self.dialect.quoteChar
        while True:
            found = quoted.search(text, position)
            if found is None:
                return len(text), line + text.count("\n", position)
            line += text.count("\n", position, found.start())
            if escape is not None and found.group() == escape:
                line += text.count("\n", found.start() + 1, found.start() + 2)
                position = found.start() + 2
            elif escape is None and text.startswith(quote, found.start() + 1):
                position = found.start() + 2
            else:
                return found.end(), line

    def _skipped(self, record: _Record) -> bool:
        """Whether csvw passes over a row: a comment, a blank row it skips, or
        one of the rows skipped at the start."""
        prefix = self.dialect.commentPrefix
        if record.last_line - 1 < self.dialect.skipRows:
            return True
        if prefix and self._value(record.cells[0]).startswith(prefix):
            return True
        return self.dialect.skipBlankRows and all(not self._value(span) for span in record.cells)

    def _value(self, span: tuple[int, int]) -> str:
        raw = self.text[span[0]:span[1]]
        quote = self.dialect.quoteChar
        if quote is None or len(raw) < 2 or not (raw.startswith(quote) and raw.endswith(quote)):
            return raw
        inner = raw[1:-1]
        return inner.replace(quote * 2, quote) if self.dialect.doubleQuote else re.sub(r"\\(.)", r"\1", inner)

    def _position(self, name: str) -> int | None:
        """The cell number of a column in each row (None: not in the file)."""
        if name not in self._positions:
            self._positions[name] = self._find_position(name)
        return self._positions[name]

    def _find_position(self, name: str) -> int | None:
        columns = [c for c in self.table.tableSchema.columns if not c.virtual]
        if self.header is None:
            names = [c.name for c in columns]
        else:
            names = [self.dialect.trimmer(self._value(span)) for span in self.header.cells][self.dialect.skipColumns:]
        column = self.table.tableSchema.get_column(name)
        wanted = {name} | ({title for titles in column.titles.values() for title in titles}
                           if column is not None and column.titles else set())
        for index, header in enumerate(names):
            if header in wanted:
                return index + self.dialect.skipColumns
        return None

    def list_cell(self, row: int, name: str, separator: str, items: dict[int, str]) -> str:
        """A list cell of a row with some of its items replaced (the others as written)."""
        position = self._position(name)
        record = self.rows[row]
        value = self._value(record.cells[position]) if position is not None and position < len(record.cells) else ""
        parts = value.split(separator) if value else []
        for index, item in sorted(items.items()):
            parts += [""] * (index + 1 - len(parts))
            parts[index] = item
        return separator.join(parts)

    def _quoted(self, value: str, like: str | None = None) -> str:
        """A cell as the file writes it: quoted where the file quoted it before or where it must be."""
        quote, delimiter = self.dialect.quoteChar, self.dialect.delimiter
        if quote is None:
            return value
        must = any(char in value for char in (delimiter, quote, "\r", "\n"))
        if not must and not (like is not None and like.startswith(quote)):
            return value
        escaped = value.replace(quote, quote * 2) if self.dialect.doubleQuote else \
            value.replace("\\", "\\\\").replace(quote, "\\" + quote)
        return quote + escaped + quote

    def patched(self, cells: dict[int, dict[str, str]], added: str | None = None) -> bytes:
        """The file with these cells (by row number and column name) changed,
        and with a column named ``added`` appended to every row (its values
        among ``cells``); with nothing to change, the bytes that were read."""
        if not cells and added is None:
            return self.data
        edits: list[tuple[int, int, str]] = []
        delimiter = self.dialect.delimiter
        if added is not None and self.header is not None:
            edits.append((self.header.end, self.header.end, delimiter + self._quoted(added)))
        for number, record in enumerate(self.rows):
            changes = cells.get(number, {})
            for name, value in changes.items():
                if name == added:
                    continue
                position = self._position(name)
                if position is None:
                    raise AutoglossError(f"{self.table.url}: column {name} is not in the file's header")
                if position < len(record.cells):
                    start, end = record.cells[position]
                    edits.append((start, end, self._quoted(value, self.text[start:end])))
                else:  # a short row: the cells up to this one are added, empty
                    edits.append((record.end, record.end,
                                  delimiter * (position - len(record.cells) + 1) + self._quoted(value)))
            if added is not None:
                edits.append((record.end, record.end, delimiter + self._quoted(changes.get(added, ""))))
        pieces, position = [], 0
        for start, end, new in sorted(edits, key=lambda edit: (edit[0], edit[1])):
            pieces += [self.text[position:start], new]
            position = end
        pieces.append(self.text[position:])
        return self.prefix + "".join(pieces).encode(self.encoding)


#: A word's boundary markers at its edges, and what lies between them.
_EDGES = re.compile(f"^([{re.escape(AFFIX_MARKERS)}]*)(.*?)([{re.escape(AFFIX_MARKERS)}]*)$", re.DOTALL)
_BOUNDARY = re.compile(f"([{re.escape(AFFIX_MARKERS)}])")


def _split_word(word: str) -> tuple[str, str, list[str], list[str], str]:
    """A word's markers at its start, its core, the core's morphemes and the
    markers between them, and its markers at the end. A word that starts or
    ends with a marker is a clitic (or an affix) written as a word of its
    own, ``=a`` glossed ``=FOC``: the marker is its boundary with the
    neighbouring word (Leipzig rule 2), not a morpheme boundary inside it."""
    if not _BOUNDARY.search(word):
        return "", word, [word], [], ""
    lead, core, trail = _EDGES.match(word).groups()
    parts = _BOUNDARY.split(core)
    return lead, core, parts[0::2], parts[1::2], trail


def _word(row: _Row, index: int, form: str, gloss_word: str, analyzed: bool,
          guesses: set[str]) -> tuple[Word, _GlossWord]:
    """A word of a row and how its gloss is written. A clitic word ``=a`` is
    one morpheme ``=a``; its gloss ``=FOC`` is read as ``FOC`` and written
    back as it was."""
    if analyzed and not marks_only(form):
        lead, core, morphs, between, trail = _split_word(form)
        forms = affixed_forms(core) if between else morphs
        forms[0] = lead + forms[0]
        forms[-1] = forms[-1] + trail
        if gloss_word and not is_missing_gloss(gloss_word, form):
            gloss_lead, _, pieces, gloss_between, gloss_trail = _split_word(gloss_word)
            gloss = _GlossWord(pieces, gloss_between, gloss_lead, gloss_trail)
        else:  # glossed with the word's own markers
            gloss = _GlossWord([gloss_word] if len(forms) == 1 else [""] * len(forms), between, lead, trail)
    else:
        forms, gloss = [form], _GlossWord([gloss_word], [])
    if len(forms) == 1 and len(gloss.pieces) > 1:
        # one morpheme under a gloss of several: the word was not analysed (a
        # shared-task track 1 sentence), and the gloss is the whole word's
        gloss = _GlossWord([gloss_word], [])
    aligned = len(gloss.pieces) == len(forms)
    # a person's gloss word that does not line up with the morphemes is left whole and untouched
    locked = not aligned and bool(gloss_word)
    slots = []
    for morph, morph_form in enumerate(forms):
        piece = gloss.pieces[morph] if aligned else ""
        piece = "" if is_missing_gloss(piece, morph_form) else leipzig_gloss(piece)
        if piece:
            guessed = bool(guesses) and f"{index + 1}.{morph + 1}" in guesses
            state = GlossState.GUESS if guessed else GlossState.HUMAN
        else:
            state = GlossState.EMPTY
        slots.append(GlossSlot(morph_form, piece, state, locked=locked, handle=_Cell(row, index, morph)))
    return Word(form, slots, segmented=analyzed, unaligned_gloss=gloss_word if locked else None), gloss


def _first_line(last_line: int, row: dict) -> int:
    """The line a row starts on, from the line csvw says it ends on (a quoted cell may hold line breaks)."""
    values = [v for value in row.values() for v in (value if isinstance(value, list) else [value])]
    return last_line - sum(value.count("\n") for value in values if isinstance(value, str))


def _with_guess_column(metadata: bytes, url: str) -> bytes:
    """The metadata with the guess column added to the ExampleTable (before
    any virtual column), written in the file's own indentation; everything
    else (numbers, the dialect, unknown properties) as it was."""
    text = metadata.decode("utf-8")
    description = json.loads(text)
    table = next(t for t in description["tables"] if t.get("url") == url)
    columns = table["tableSchema"].setdefault("columns", [])
    position = next((i for i, column in enumerate(columns) if column.get("virtual")), len(columns))
    columns.insert(position, dict(_GUESS_COLUMN_SPEC))
    indented = re.search(r"\n([ \t]+)\S", text)
    indent = (len(indented.group(1)) if set(indented.group(1)) == {" "} else indented.group(1)) if indented else None
    written = json.dumps(description, indent=indent, ensure_ascii=text.isascii())
    return (written + ("\n" if text.endswith("\n") else "")).encode("utf-8")


def _inside(folder: Path, name: str) -> Path:
    """Where a file the metadata names goes in the folder written."""
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise AutoglossError(f"'{name}': the dataset names a file outside its folder; a dataset is written as "
                             f"one folder: move the file next to the metadata and name it by its file name")
    return folder / relative


def _data_file(table) -> Path | None:
    """The file a table is read from: its own, else the zipped copy csvw reads in its place (None: neither)."""
    path = Path(table.url.resolve(table.base))
    zipped = path.with_name(path.name + ".zip")
    return path if path.exists() else zipped if zipped.exists() else None


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _copy_media(dataset: pycldf.Dataset, folder: Path) -> None:
    """The dataset's own media files (a MediaTable's local files), as pycldf copies a dataset."""
    if not _has(dataset, "MediaTable"):
        return
    from pycldf.media import MediaTable

    for media in MediaTable(dataset):
        if media.scheme == "file" and media.local_path().exists():
            _copy(media.local_path(), _inside(folder, urllib.parse.unquote(media.relpath)))


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


def _validate(metadata: Path, original: Path | None, folder: Path, shown: Path) -> None:
    """Refuse a dataset written invalid, saying what pycldf found wrong.

    pycldf's warnings (a URI template naming an unknown column, a table
    without a primary key) do not make a dataset invalid and do not stop the
    write; nor do problems the dataset read already had (``original``): a
    dataset is written no worse than it came (a table missing from a partial
    copy stays missing). Metadata pycldf cannot check at all refuses the write."""
    try:
        problems = _problems(metadata)
    except (ValueError, KeyError) as error:  # KeyError: metadata without what pycldf looks up
        raise AutoglossError(f"the CLDF dataset written would not be valid: pycldf cannot check it "
                             f"({type(error).__name__}: {error})") from None
    if problems is None:
        return
    if original is not None:
        try:
            known = _problems(original)
        except (ValueError, KeyError):
            known = None
        if known is not None:
            seen = {_unplaced(problem, original.parent) for problem in known}
            problems = [problem for problem in problems if _unplaced(problem, folder) not in seen]
            if not problems:
                return
    reasons = "; ".join(problem.replace(str(folder), str(shown)) for problem in problems[:3])
    raise AutoglossError(f"the CLDF dataset written would not be valid: {reasons}")


def _unplaced(problem: str, folder: Path) -> str:
    """A validation message without the folder it names (to compare a dataset's with its copy's)."""
    for name in sorted({str(folder.resolve()), str(folder)}, key=len, reverse=True):
        problem = problem.replace(name, "")
    return problem


def _problems(metadata: Path) -> list[str] | None:
    """What pycldf's validation reports for a dataset it finds invalid (None: valid)."""
    messages: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                messages.append(record.getMessage())

    logger = logging.getLogger("autogloss.cldf.validate")
    logger.propagate = False
    handler = _Collect()
    logger.addHandler(handler)
    try:
        valid = pycldf.Dataset.from_metadata(metadata).validate(log=logger)
    except OSError as error:  # a table the metadata names is not there (a partial copy of a dataset)
        return [f"pycldf cannot check it: {error.strerror}: {error.filename}"]
    finally:
        logger.removeHandler(handler)
    if valid:
        return None
    return messages or ["pycldf reports it invalid without naming a problem (run 'cldf validate' on it)"]
