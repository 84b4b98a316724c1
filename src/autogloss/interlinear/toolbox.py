"""Toolbox (Shoebox) standard format interlinear texts.

A file is a header (``\\_sh v3.0 ...``) and records, each starting with the
record marker (``\\ref``). Inside a record, interlinear lines (text ``\\tx``,
morphemes ``\\mb``, glosses ``\\ge``, parts of speech ``\\ps``) are aligned
by column: a morpheme belongs to the word it starts under, a gloss to the
morpheme it starts under. Long sentences wrap into several such line groups,
each starting with ``\\tx``; an unglossed ``\\tx`` may also simply wrap onto
lines without a marker. ``\\ft`` is the free translation. Lines of other
markers inside a group (a second gloss line, a word line) are kept; those
whose tokens start under morphemes move with their columns when a group is
re-aligned, the others stay as they are.

**Markers.** Toolbox's (``\\tx \\mb \\ge \\ps \\ft``) and Shoebox's
(``\\t \\m \\g \\p \\f``) are recognised role by role from the markers the
records use; any other set is given with :meth:`ToolboxMarkers.parse`.

**Columns.** Toolbox counts bytes: a file it saved as UTF-8 lines up by
bytes, while one edited in a Unicode editor lines up on screen (display
columns, :func:`display_columns`: a combining mark takes none, an East Asian
wide character two) or by characters. Each line group is read under the
measure its lines follow (every morpheme's word starts where its first
morpheme does, every gloss starts where a morpheme does); where several fit,
the one most of the file's groups follow wins. A group that received glosses
is re-aligned under its own measure. Lines with one token per word separated
by single spaces (not column-aligned) are read by token order when the
counts pair up, and refused otherwise, never guessed.

**Encodings.** An ``encoding`` option wins; else the Toolbox settings beside
the file (the ``.typ`` of the header's database type and the ``.lng`` of its
text marker: ``\\UnicodeLang`` means UTF-8); else UTF-8 when the file is
valid UTF-8 (a BOM kept), and Windows-1252 when none of its non-ASCII bytes
forms UTF-8 (an 8-bit Toolbox or Shoebox file). A UTF-8 file with stray
8-bit bytes is refused naming the line. The file is written back in its own
encoding, byte for byte where nothing changed.

Toolbox has no notion of a machine guess, so autogloss marks its guesses on
one more aligned line (``\\ag`` by default) with ``?`` under each guessed
gloss; a linguist who accepts a gloss deletes its ``?``. A gloss with no
``?`` under it is a person's and is never changed, a ``?`` typed on the gloss
line included; only ``***`` (Toolbox's own "not analysed") and a blank cell
count as empty.
"""

from __future__ import annotations

import codecs
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.cells import cell_len

from ..errors import AutoglossError, FormatError
from ..fileio import atomic_write
from ..records import Language, split_keep_boundaries, squash_space, text_problem
from .document import (AFFIX_MARKERS, GlossSlot, GlossState, InterlinearDocument, Sentence,
                       Word, affixed_forms, bare_form, leipzig_gloss, marks_only, parse_role_pairs)

GUESS_MARK = "?"
#: A morpheme's place on a token-aligned guess line when it is not a guess.
NOT_GUESSED = "*"
#: Gloss cells that mean "not glossed yet": blank, or Toolbox's ``***`` for an
#: item its parser could not analyse. Anything else (``?`` too) is a gloss.
EMPTY_GLOSSES = frozenset({"", "***"})
HEADER = "\\_sh v3.0  400  Text\n"
#: The encoding assumed for a file that is not UTF-8 (Toolbox's 8-bit files are Windows code page files).
LEGACY_ENCODING = "cp1252"
_TOKEN = re.compile(r"\S+")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
                            rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
                            rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")

#: How many columns a piece of text takes in an aligned line.
ColumnMeasure = Callable[[str], int]


def display_columns(text: str) -> int:
    """Columns ``text`` takes on screen: grapheme clusters, a combining mark
    adding none to its base and an East Asian wide character taking two (a
    tab counts as one, as a space). This is how lines line up in any editor
    showing a Unicode file in a monospaced font."""
    return cell_len(text.replace("\t", " "))


def character_columns(text: str) -> int:
    """Columns as code points, as editors that count characters line text up."""
    return len(text)


def byte_columns(encoding: str) -> ColumnMeasure:
    """Columns as bytes in ``encoding``, as Toolbox itself lines text up."""
    def measure(text: str) -> int:
        return len(text.encode(encoding, errors="replace"))
    measure.__name__ = f"{encoding} bytes"
    return measure


@dataclass(frozen=True)
class _Columns:
    """A way of counting columns: a measure, from the start of the line or
    from just after the marker (files whose lines are not padded after
    their markers, ``\\mot`` content starting one column after ``\\mb``'s)."""

    count: ColumnMeasure
    from_marker: bool = False

    def __call__(self, text: str) -> int:
        return self.count(text)

    @property
    def name(self) -> str:
        name = getattr(self.count, "__name__", "columns")
        return f"{name} after the marker" if self.from_marker else name


@dataclass(frozen=True)
class ToolboxMarkers:
    """Marker names (without the backslash) of each line the format uses."""

    record: str = "ref"
    text: str = "tx"
    morphemes: str = "mb"
    glosses: str = "ge"
    pos: str = "ps"
    translation: str = "ft"
    guess: str = "ag"

    @classmethod
    def parse(cls, spec: str | None) -> ToolboxMarkers:
        """From ``"ref=id,tx=t,ge=g"`` (role names or the default markers as keys)."""
        if not spec:
            return cls()
        defaults = cls()
        roles = {getattr(defaults, name): name for name in cls.__dataclass_fields__}  # default markers
        roles.update({name: name for name in cls.__dataclass_fields__})
        roles_help = ", ".join(f"{name} (\\{getattr(defaults, name)})" for name in cls.__dataclass_fields__)
        values = parse_role_pairs(spec, "--toolbox-markers", "MARKER", roles, roles_help, strip="\\")
        return cls(**values)

    @property
    def interlinear(self) -> tuple[str, ...]:
        return (self.text, self.morphemes, self.glosses, self.pos, self.guess)

    @property
    def aligned_roles(self) -> dict[str, str]:
        """The aligned lines under the text line, marker -> role."""
        return {self.morphemes: "morphemes", self.glosses: "glosses", self.pos: "pos", self.guess: "guess"}


#: Shoebox's markers, where Toolbox's are not used (``\\t \\m \\g \\p \\f``).
SHOEBOX_MARKERS = ToolboxMarkers(text="t", morphemes="m", glosses="g", pos="p", translation="f")


#: Other markers seen for a role, tried after Toolbox's and Shoebox's (``\\gl``: Dictionaria's and FLEx's glosses).
_MORE_MARKERS = {"glosses": ("gl",)}


def _found(markers_used: Counter) -> str:
    return ", ".join(f"\\{marker} ({count})" for marker, count in list(markers_used.items())[:12]) or "none"


def detect_markers(path: str, markers_used: Counter) -> ToolboxMarkers:
    """The marker set of a file without ``--toolbox-markers``: per role,
    Toolbox's marker where the records use it, else Shoebox's where they use
    that (Shoebox's first when its text marker ``\\t`` is the one used), else
    another common one (:data:`_MORE_MARKERS`), else Toolbox's (for lines
    autogloss adds). ``markers_used`` counts the markers of the file in the
    order they first occur; a file without records or interlinear lines of
    either kind is refused naming the markers found."""
    toolbox, shoebox = ToolboxMarkers(), SHOEBOX_MARKERS
    if not markers_used[toolbox.record]:
        raise FormatError(path, None, f"no Toolbox records (no line starts with \\{toolbox.record}); markers found: "
                                      f"{_found(markers_used)}: pass --toolbox-markers ref=MARKER,tx=MARKER,...")
    known = {getattr(markers, role) for markers in (toolbox, shoebox) for role in ("text", "morphemes", "glosses")}
    if not any(markers_used[marker] for marker in known):
        raise FormatError(path, None, f"no interlinear lines (\\{toolbox.text} or \\{shoebox.text}) in the records; "
                                      f"markers found: {_found(markers_used)}: pass --toolbox-markers "
                                      f"tx=MARKER,mb=MARKER,ge=MARKER")
    shoebox_text = bool(markers_used[shoebox.text]) and not markers_used[toolbox.text]
    values = {}
    for role in ("text", "morphemes", "glosses", "pos", "translation"):
        candidates = [getattr(toolbox, role), getattr(shoebox, role)]
        if shoebox_text:
            candidates.reverse()
        candidates += _MORE_MARKERS.get(role, ())
        values[role] = next((marker for marker in candidates if markers_used[marker]), candidates[0])
    return ToolboxMarkers(**values)


# -- the encoding ------------------------------------------------------------------------------
def _line_of(data: bytes, offset: int) -> tuple[int, int]:
    """The line (1-based) and byte column (1-based) of a byte offset."""
    newline = b"\n" if b"\n" in data else b"\r"
    return data.count(newline, 0, offset) + 1, offset - (data.rfind(newline, 0, offset) + 1) + 1


def _settings_encoding(path: Path, header: bytes) -> str | None:
    """The encoding Toolbox's settings beside the file give its text marker's
    language: the ``.typ`` whose ``\\+DatabaseType`` is the header's type
    names the language (``\\lng``) of each marker, and that language's
    ``.lng`` says ``\\UnicodeLang`` when it is UTF-8. None when the settings
    are not there."""
    match = re.match(rb"\\_sh\s+v\d+\.\d+\s+\d+\s+(.+?)\s*$", header)
    if match is None or not path.parent.is_dir():
        return None
    database_type = match.group(1).decode("latin-1")
    settings = [candidate for candidate in path.parent.iterdir() if candidate.suffix.lower() in (".typ", ".lng")]
    languages: dict[str, str] = {}
    for candidate in settings:
        if candidate.suffix.lower() != ".typ":
            continue
        text = candidate.read_bytes().decode("latin-1")
        if not re.match(rf"\\\+DatabaseType {re.escape(database_type)}\s*\n", text.replace("\r\n", "\n")):
            continue
        for block in re.split(r"\n\\\+mkr ", text.replace("\r\n", "\n"))[1:]:
            marker = block.split("\n", 1)[0].strip()
            found = re.search(r"^\\lng (.+?)\s*$", block, re.MULTILINE)
            if found:
                languages[marker] = found.group(1)
        break
    language = languages.get(ToolboxMarkers().text) or languages.get(SHOEBOX_MARKERS.text)
    if language is None:
        return None
    for candidate in settings:
        if candidate.suffix.lower() == ".lng":
            lines = candidate.read_bytes().decode("latin-1").splitlines()
            if lines and lines[0].strip() == f"\\+LanguageEncoding {language}":
                return "utf-8" if any(line.strip() == "\\UnicodeLang" for line in lines) else LEGACY_ENCODING
    return None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _decode(path: str, data: bytes, encoding: str | None = None) -> tuple[str, str, bool]:
    """A file's text, its encoding and whether it had a UTF-8 BOM (see the
    module's rules on encodings)."""
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if bom else data
    how = "--encoding"
    if encoding is None:
        encoding = _settings_encoding(Path(path), body.split(b"\n", 1)[0].rstrip(b"\r"))
        how = "the Toolbox settings beside the file"
    if encoding is None:
        try:
            return body.decode("utf-8"), "utf-8", bom
        except UnicodeDecodeError as error:
            if bom or _UTF8_SEQUENCE.search(body):
                line, column = _line_of(body, error.start)
                fallback = LEGACY_ENCODING if _decodes(body, LEGACY_ENCODING) else "latin-1"
                raise FormatError(path, line, f"byte 0x{body[error.start]:02X} at byte {column} is not UTF-8, though "
                                              f"the rest of the file is (a stray 8-bit byte): fix the line, or pass "
                                              f"--encoding {fallback} to read the whole file as {fallback}") from None
        encoding, how = LEGACY_ENCODING, "none of its non-ASCII bytes being UTF-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise AutoglossError(f"{path}: unknown encoding '{encoding}' (e.g. utf-8, cp1252, latin-1)") from None
    try:
        return body.decode(encoding), codecs.lookup(encoding).name, bom
    except UnicodeDecodeError as error:
        line, column = _line_of(body, error.start)
        raise FormatError(path, line, f"byte 0x{body[error.start]:02X} at byte {column} is not {encoding} (taken "
                                      f"from {how}): pass --encoding with the file's encoding "
                                      f"(e.g. latin-1, cp1250, cp1251)") from None


# -- the document tree ------------------------------------------------------------------------
@dataclass(eq=False)
class _Morph:
    form: str
    gloss: str = ""       # as written in the file (affix hyphens included)
    pos: str = ""
    guess: bool = False
    group: _Group | None = None
    #: True for a word left blank on the morpheme line: it stands for the whole word.
    whole_word: bool = False

    @property
    def glossable(self) -> bool:
        """A morpheme that is only a boundary (``-`` alone) takes no gloss."""
        return self.whole_word or bare_form(self.form) != ""


@dataclass(eq=False)
class _GroupWord:
    form: str
    morphs: list[_Morph]

    @property
    def segmented(self) -> bool:
        return not (len(self.morphs) == 1 and self.morphs[0].whole_word)


@dataclass(eq=False)
class _Line:
    number: int
    raw: str              # as read, line end included (and any lines continuing it)
    marker: str | None    # None: a line continuing the text line above it
    role: str             # text, morphemes, glosses, pos, guess, other


@dataclass(eq=False)
class _Group:
    """One wrapped block of aligned lines (``\\tx`` and the lines under it)."""

    lines: list[_Line]
    words: list[_GroupWord]
    segmented: bool                # has a morpheme line with morphemes
    measure: ColumnMeasure = display_columns
    newline: str = "\n"
    token_aligned: bool = False    # one token per word, single spaces, not columns
    modified: bool = False
    #: Other pieces of one ``\\tx`` wrapped onto lines without a marker: written together.
    siblings: list[_Group] = field(default_factory=list)
    #: Cells of other aligned lines, per line (index into ``lines``), per unit.
    other_cells: dict[int, list[str]] = field(default_factory=dict)

    @property
    def raw(self) -> list[str]:
        return [line.raw for line in self.lines]


@dataclass(eq=False)
class _Record:
    parts: list = field(default_factory=list)   # raw lines (str) and _Group objects


class ToolboxDocument(InterlinearDocument):
    format_name = "toolbox"

    def __init__(self, header: list[str], records: list[_Record], sentences: list[Sentence],
                 markers: ToolboxMarkers, language: Language | None = None,
                 measure: ColumnMeasure = display_columns, encoding: str = "utf-8", bom: bool = False):
        super().__init__(sentences, language)
        self.header = header
        self.record_parts = records
        self.markers = markers
        self.measure = measure
        self.encoding = encoding
        self.bom = bom

    # -- reading ------------------------------------------------------------
    @classmethod
    def read(cls, path: str | os.PathLike, markers: ToolboxMarkers | None = None,
             measure: ColumnMeasure | None = None, encoding: str | None = None) -> ToolboxDocument:
        """Read a file. ``markers`` default to those detected
        (:func:`detect_markers`), ``measure`` (how aligned lines count
        columns) to the one each group's lines follow, ``encoding`` to the
        one detected (see the module's rules)."""
        path = os.fspath(path)
        with open(path, "rb") as handle:
            data = handle.read()
        text, encoding, bom = _decode(path, data, encoding)
        lines = _LINE.findall(text)
        if markers is None:
            used = Counter(_marker(line) for line in lines if line.startswith("\\") and not line.startswith("\\_"))
            markers = detect_markers(path, used)
        header, records = [], []
        current: list[tuple[int, str]] | None = None
        for number, line in enumerate(lines, start=1):
            if _marker(line) == markers.record:
                if current is not None:
                    records.append(current)
                current = []
            if current is None:
                header.append(line)
            else:
                current.append((number, line))
        if current is not None:
            records.append(current)
        if not records:
            raise FormatError(path, None, f"no Toolbox records (no line starts with \\{markers.record})")
        segmented = [_segment(path, record, markers) for record in records]
        measures = _measure_order(measure, encoding, [parts for parts, _ in segmented])
        built, sentences = [], []
        for parts, (record_id, translation, number) in segmented:
            record = _build_record(path, parts, markers, measures)
            built.append(record)
            groups = [part for part in record.parts if isinstance(part, _Group)]
            if any(group.words for group in groups):
                # a record without text (a header, a note, an empty \tx) is kept but has nothing to gloss
                text = squash_space(" ".join(translation)) or None
                sentence = _sentence(record_id, groups, text)
                sentence.origin = f"{path}:{number}"
                sentences.append(sentence)
        return cls(header, built, sentences, markers, measure=measures[0], encoding=encoding, bom=bom)

    # -- writing ------------------------------------------------------------
    def write(self, path: str | os.PathLike) -> None:
        pieces = list(self.header)
        for record in self.record_parts:
            for part in record.parts:
                if isinstance(part, str):
                    pieces.append(part)
                elif part.modified:
                    pieces.extend(_render_group(part, self.markers))
                else:
                    pieces.extend(part.raw)
        text = "".join(pieces)
        try:
            data = text.encode(self.encoding)
        except UnicodeEncodeError as error:
            raise AutoglossError(f"{path}: '{text[error.start:error.end]}' cannot be written in the file's encoding "
                                 f"({self.encoding})") from None
        with atomic_write(path, "wb") as handle:
            handle.write((codecs.BOM_UTF8 if self.bom else b"") + data)

    def _store(self, sentence: Sentence, word: Word, slot: GlossSlot, gloss: str, state: GlossState) -> None:
        morph: _Morph = slot.handle
        written = _with_affix_markers(gloss, morph.form) if word.segmented else gloss
        try:
            written.encode(self.encoding)
        except UnicodeEncodeError:
            raise AutoglossError(f"sentence {sentence.id}: the gloss '{gloss}' cannot be written in the file's "
                                 f"encoding ({self.encoding})") from None
        morph.gloss = written
        morph.guess = state is GlossState.GUESS
        for group in [morph.group, *morph.group.siblings]:
            group.modified = True

    # -- new documents --------------------------------------------------------
    @classmethod
    def from_sentences(cls, sentences: list[Sentence], language: Language | None = None,
                       markers: ToolboxMarkers | None = None, width: int = 72,
                       measure: ColumnMeasure = display_columns, encoding: str = "utf-8") -> ToolboxDocument:
        markers = markers or ToolboxMarkers()
        records, built = [], []
        for sentence in sentences:
            record = _Record([f"\\{markers.record} {sentence.id}\n"])
            groups = _wrap(sentence, width, markers, measure)
            record.parts.extend(groups)
            if sentence.translation:
                record.parts.append(f"\\{markers.translation} {sentence.translation}\n")
            record.parts.append("\n")
            records.append(record)
            built.append(_sentence(sentence.id, groups, sentence.translation))
            for (_, _, old), (_, _, new) in zip(sentence.slots(), built[-1].slots()):
                new.confidence = old.confidence
            built[-1].accepted = sentence.accepted
        return cls([HEADER, "\n"], records, built, markers, language, measure, codecs.lookup(encoding).name)


def _marker(line: str) -> str | None:
    """A line's marker: the characters right after its backslash up to the
    first space ("" for a backslash followed by a space or nothing, as in
    ``\\   text``: that is no ``\\text`` line); None for a line without one."""
    if not line.startswith("\\"):
        return None
    rest = line[1:]
    return "" if not rest or rest[0].isspace() else rest.split(maxsplit=1)[0]


def _content(line: str) -> str:
    """A line's text after its marker ("" for a field left empty, as ``\\ft`` often is)."""
    parts = line.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


# -- records into parts ---------------------------------------------------------------------------
def _segment(path: str, lines: list[tuple[int, str]], markers: ToolboxMarkers) -> tuple[list, tuple]:
    """A record's lines as raw lines (str) and line groups (lists of
    :class:`_Line`, one list per group), with the record's name, translation
    and line number."""
    parts: list = []
    record_id, translation = "", []
    group: list[_Line] | None = None
    last_marker = None
    seen_text = False
    aligned = markers.aligned_roles

    def close() -> None:
        nonlocal group
        if group is not None:
            parts.extend(_split_wrapped(path, group, markers))
            group = None

    for number, line in lines:
        marker = _marker(line)
        blank = marker is None and not line.strip()
        continues_translation = marker is None and not blank and last_marker == markers.translation and group is None
        if marker in markers.interlinear or marker in (markers.record, markers.translation) or continues_translation:
            problem = text_problem(line, "column")   # text that goes into a record: every format must hold it
            if problem is not None:
                raise FormatError(path, number, problem)
        if marker == markers.text:
            close()
            group = [_Line(number, line, marker, "text")]
            seen_text = True
        elif marker in aligned and group is None and seen_text and aligned[marker] == "pos":
            parts.append(line)   # a part-of-speech line a blank line parted from its group: kept, not read
        elif marker in aligned:
            if group is None:
                where = "before any" if not seen_text else "not under a"
                raise FormatError(path, number, f"\\{marker} line {where} \\{markers.text} line of its record "
                                                f"(a blank line or another field parts it from the one above)")
            if any(item.marker == marker for item in group):
                raise FormatError(path, number, f"second \\{marker} line under one \\{markers.text} line")
            group.append(_Line(number, line, marker, aligned[marker]))
        elif marker is None and not blank and group is not None:
            previous = group[-1]
            if previous.role in ("text", "wrapped"):
                problem = text_problem(line, "column")
                if problem is not None:
                    raise FormatError(path, number, problem)
                group.append(_Line(number, line, None, "wrapped"))
            elif previous.role == "other":
                previous.raw += line        # an unknown field that wraps: kept with it
            else:
                raise FormatError(path, number, f"text without a marker inside the aligned lines of "
                                                f"\\{previous.marker}")
        elif group is not None and marker not in (None, markers.record, markers.translation):
            group.append(_Line(number, line, marker, "other"))
        else:
            close()
            parts.append(line)
            if marker == markers.record:
                record_id = _content(line).strip()
            elif marker == markers.translation or continues_translation:
                translation.append(_content(line) if marker else line)
        if marker is not None:
            last_marker = marker
    close()
    if not record_id:
        # an unnamed record (Toolbox allows them) is named by where it starts
        record_id = f"{os.path.basename(path)}:{lines[0][0]}"
    return parts, (record_id, translation, lines[0][0])


def _split_wrapped(path: str, group: list[_Line], markers: ToolboxMarkers) -> list[list[_Line]]:
    """A text line wrapped onto lines without a marker, as one group per line
    (each written back as a ``\\tx`` group of its own once glossed)."""
    wrapped = [index for index, line in enumerate(group) if line.role == "wrapped"]
    if not wrapped:
        return [group]
    under = [line for line in group if line.role in markers.aligned_roles.values()]
    if under:
        raise FormatError(path, group[wrapped[0]].number,
                          f"\\{markers.text} wrapped onto a line without a marker has a \\{under[0].marker} line under "
                          f"it: start each wrapped piece with \\{markers.text}, as Toolbox does")
    pieces, current = [], []
    for line in group:
        if line.role == "wrapped" and current:
            pieces.append(current)
            current = []
        current.append(line)
    pieces.append(current)
    return pieces


# -- columns ------------------------------------------------------------------------------------
def _tokens(line: str, measure: ColumnMeasure) -> list[tuple[int, str]]:
    """``(column, token)`` of the content of one line (after its marker, if
    it has one), columns counted by ``measure`` from the start of the line."""
    body = line.rstrip("\r\n")
    marker_end = len(body.split(maxsplit=1)[0]) if body.startswith("\\") else 0
    tokens, column, position = [], 0, 0
    if getattr(measure, "from_marker", False) and marker_end:
        position = min(marker_end + 1, len(body))   # columns counted from after the marker and one space
    for match in _TOKEN.finditer(body, marker_end):
        column += measure(body[position:match.start()])
        position = match.start()
        tokens.append((column, match.group()))
    return tokens


def _owner(column: int, starts: list[int]) -> int | None:
    """Index of the column range a token starting at ``column`` falls into."""
    owner = None
    for index, start in enumerate(starts):
        if start <= column:
            owner = index
    return owner


def _cells_fit(tokens: list[tuple[int, str]], starts: list[int]) -> bool:
    """Whether every cell's first token starts where its column does."""
    seen = set()
    for column, _ in tokens:
        index = _owner(column, starts)
        if index is None:
            return True   # left of the first column: reported by the reader itself
        if index not in seen and column != starts[index]:
            return False
        seen.add(index)
    return True


def _units(text: list[tuple[int, str]], morphs: list[tuple[int, str]]) -> list[tuple[int, int, str, bool]]:
    """``(column, word, form, whole_word)`` of each glossable unit: the
    morphemes, and a word left blank on the morpheme line standing for itself."""
    starts = [column for column, _ in text]
    owned: dict[int, list[tuple[int, str]]] = {}
    for column, token in morphs:
        owner = _owner(column, starts)
        if owner is not None:
            owned.setdefault(owner, []).append((column, token))
    units = []
    for index, (column, word) in enumerate(text):
        if index in owned:
            units.extend((c, index, token, False) for c, token in owned[index])
        else:
            units.append((column, index, word, True))
    return units


def _words_fit(group: list[_Line], measure: ColumnMeasure) -> bool:
    """Whether each word's first morpheme starts where the word does under ``measure``."""
    by_role = {line.role: line for line in group}
    if "morphemes" not in by_role:
        return True
    starts = [column for column, _ in _tokens(group[0].raw, measure)]
    firsts: dict[int, int] = {}
    for column, _ in _tokens(by_role["morphemes"].raw, measure):
        owner = _owner(column, starts)
        if owner is not None:
            firsts.setdefault(owner, column)
    return all(starts[owner] == column for owner, column in firsts.items())


def _unit_starts(group: list[_Line], measure: ColumnMeasure) -> list[int]:
    by_role = {line.role: line for line in group}
    text = _tokens(group[0].raw, measure)
    morphs = _tokens(by_role["morphemes"].raw, measure) if "morphemes" in by_role else []
    return [column for column, _, _, _ in _units(text, morphs)] if morphs else [column for column, _ in text]


def _exact_lines(group: list[_Line], measure: ColumnMeasure) -> int:
    """How many lines under the morphemes start each cell exactly where its morpheme does."""
    starts = _unit_starts(group, measure)
    return sum(_cells_fit(_tokens(line.raw, measure), starts) for line in group
               if line.role in ("glosses", "pos", "guess"))


def _best_measure(group: list[_Line], measures: list[ColumnMeasure]) -> ColumnMeasure | None:
    """The measure a group's lines follow: one under which every word starts
    with its first morpheme, the one with the most exactly aligned lines
    under the morphemes among those (the earlier on a tie); None if none."""
    fitting = [measure for measure in measures if _words_fit(group, measure)]
    if not fitting:
        return None
    return max(fitting, key=lambda measure: (_exact_lines(group, measure), -measures.index(measure)))


def _measure_order(measure: ColumnMeasure | None, encoding: str, records: list[list]) -> list[_Columns]:
    """The measures a group is tried under, in order: the one given, else
    the one most of the file's groups follow among those that tell them
    apart (display columns when none do)."""
    counts = [measure] if measure is not None else [display_columns, character_columns, byte_columns(encoding)]
    candidates = [_Columns(count, from_marker) for from_marker in (False, True) for count in counts]
    votes = Counter()
    for parts in records:
        for part in parts:
            if isinstance(part, list) and len(part) > 1:
                best = _best_measure(part, candidates)
                scores = {_exact_lines(part, candidate) for candidate in candidates if _words_fit(part, candidate)}
                fitting = [candidate for candidate in candidates if _words_fit(part, candidate)]
                if best is not None and (len(fitting) < len(candidates) or len(scores) > 1):
                    votes[candidates.index(best)] += 1
    best = max(range(len(candidates)), key=lambda index: (votes[index], -index))
    return [candidates[best]] + [candidate for index, candidate in enumerate(candidates) if index != best]


# -- groups ---------------------------------------------------------------------------------------
def _build_record(path: str, parts: list, markers: ToolboxMarkers, measures: list[ColumnMeasure]) -> _Record:
    record = _Record()
    wrapped: list[_Group] = []
    for part in parts:
        if isinstance(part, str):
            record.parts.append(part)
            wrapped = []
            continue
        group = _read_group(path, part, markers, measures)
        record.parts.append(group)
        if part[0].role == "wrapped" and wrapped:
            wrapped.append(group)
            for member in wrapped:
                member.siblings = [other for other in wrapped if other is not member]
        else:
            wrapped = [group]
    return record


def _align(path: str, number: int, marker: str | None, tokens: list[tuple[int, str]], starts: list[int],
           under: str) -> list[str]:
    """The tokens of a line, one string per column range of the line above."""
    cells = [""] * len(starts)
    for column, token in tokens:
        index = _owner(column, starts)
        if index is None:
            raise FormatError(path, number, f"\\{marker} '{token}' at column {column + 1} starts left of "
                                            f"the first {under}")
        cells[index] = f"{cells[index]} {token}".strip()
    return cells


def _read_group(path: str, lines: list[_Line], markers: ToolboxMarkers, measures: list[ColumnMeasure]) -> _Group:
    by_role = {line.role: line for line in lines}
    newline = "\r\n" if lines[0].raw.endswith("\r\n") else "\r" if lines[0].raw.endswith("\r") else "\n"
    first = lines[0]
    text_tokens = _tokens(first.raw, measures[0])
    if not text_tokens:
        for line in lines[1:]:
            if line.role != "other" and _tokens(line.raw, measures[0]):
                raise FormatError(path, line.number, f"\\{line.marker} line under an empty \\{markers.text} line")
        # a record not transcribed yet: nothing to gloss, kept as it is
        return _Group(lines, [], False, measures[0], newline)
    morph_line = by_role.get("morphemes")
    morph_tokens = _tokens(morph_line.raw, measures[0]) if morph_line else []
    if morph_tokens and morph_tokens[0][0] < text_tokens[0][0]:
        column, token = morph_tokens[0]
        raise FormatError(path, morph_line.number,
                          f"morpheme '{token}' at column {column + 1} starts left of the first word")
    measure = _best_measure(lines, measures)
    if measure is None:
        return _read_token_aligned(path, lines, markers, newline)
    text_tokens = _tokens(first.raw, measure)
    # an empty morpheme line is an analysis not made yet: the words stand unanalysed
    morph_tokens = _tokens(morph_line.raw, measure) if morph_line else []
    segmented = bool(morph_tokens)
    units = _units(text_tokens, morph_tokens) if segmented else \
        [(column, index, word, True) for index, (column, word) in enumerate(text_tokens)]
    unit_starts = [column for column, _, _, _ in units]
    under = "morpheme" if segmented else "word"
    cells = {}
    for role in ("glosses", "pos", "guess"):
        line = by_role.get(role)
        tokens = _tokens(line.raw, measure) if line else []
        if line is None:
            cells[role] = [""] * len(units)
        elif _cells_fit(tokens, unit_starts):
            cells[role] = _align(path, line.number, line.marker, tokens, unit_starts, under)
        elif len(tokens) == len(units):
            cells[role] = [token for _, token in tokens]   # one per morpheme, in order, not in columns
        else:
            column, token = next((c, t) for c, t in tokens if c not in unit_starts)
            if column < unit_starts[0]:
                raise FormatError(path, line.number, f"\\{line.marker} '{token}' at column {column + 1} starts left "
                                                     f"of the first {under}")
            raise FormatError(path, line.number,
                              f"\\{line.marker} does not line up with the {under}s above: '{token}' (column "
                              f"{column + 1}) does not start where one does, counting {measure.name}, and its "
                              f"{len(tokens)} tokens are not one per {under} ({len(units)}): align the lines in "
                              f"Toolbox")
    group = _Group(lines, [_GroupWord(word, []) for _, word in text_tokens], segmented, measure, newline)
    for index, (_, owner, form, whole) in enumerate(units):
        group.words[owner].morphs.append(_Morph(form, cells["glosses"][index], cells["pos"][index],
                                                cells["guess"][index] == GUESS_MARK, group, whole))
    for index, line in enumerate(lines):
        if line.role == "other":
            # counted as the group is, or from after its marker (an unpadded \\mot under a padded \\tx)
            for origin in (measure, _Columns(measure.count, not measure.from_marker)):
                tokens, starts = _tokens(line.raw, origin), _unit_starts(lines, origin)
                if len(tokens) > 1 and tokens[0][0] >= starts[0] and _cells_fit(tokens, starts):
                    group.other_cells[index] = _align(path, line.number, line.marker, tokens, starts, under)
                    break
    return group


def _misfit(lines: list[_Line], measure: ColumnMeasure) -> tuple[_Line, str]:
    """The first line of a group that does not line up under ``measure``, and how."""
    by_role = {line.role: line for line in lines}
    text = _tokens(lines[0].raw, measure)
    starts = [column for column, _ in text]
    morph_line = by_role.get("morphemes")
    morphs = _tokens(morph_line.raw, measure) if morph_line else []
    seen = set()
    for column, token in morphs:
        owner = _owner(column, starts)
        if owner is not None and owner not in seen and column != starts[owner]:
            return morph_line, (f"morpheme '{token}' (column {column + 1}) starts inside the word "
                                f"'{text[owner][1]}' (column {starts[owner] + 1}), not where it starts")
        seen.add(owner)
    unit_starts = [column for column, _, _, _ in _units(text, morphs)] if morphs else starts
    for role in ("glosses", "pos", "guess"):
        line = by_role.get(role)
        if line is None:
            continue
        seen = set()
        for column, token in _tokens(line.raw, measure):
            owner = _owner(column, unit_starts)
            if owner is not None and owner not in seen and column != unit_starts[owner]:
                return line, f"'{token}' (column {column + 1}) does not start where a morpheme or word does"
            seen.add(owner)
    return lines[0], "the lines do not line up"


def _read_token_aligned(path: str, lines: list[_Line], markers: ToolboxMarkers, newline: str) -> _Group:
    """A group whose lines are not column-aligned: read by token order when
    every line has one token per word (a word's morphemes joined by their
    boundaries, ``i=pamɛori`` under ``ipamɛori``), else refused naming the
    line that does not line up."""
    by_role = {line.role: line for line in lines}
    words = _content(lines[0].raw).split()
    columns = {role: _content(by_role[role].raw).split() for role in ("morphemes", "glosses", "pos", "guess")
               if role in by_role}
    if not all(not tokens or len(tokens) == len(words) for tokens in columns.values()):
        line, problem = _misfit(lines, display_columns)
        counted = ", ".join(f"{len(tokens)} on \\{by_role[role].marker}" for role, tokens in columns.items())
        raise FormatError(path, line.number, f"\\{line.marker} does not line up with the \\{markers.text} line "
                                             f"{lines[0].number}: {problem}, counting screen columns, characters "
                                             f"or bytes; nor token by token ({len(words)} words, {counted}): "
                                             f"align the lines in Toolbox")
    segmented = bool(columns.get("morphemes"))
    group = _Group(lines, [], segmented, _Columns(display_columns), newline, token_aligned=True)
    for index, word in enumerate(words):
        forms = affixed_forms(columns["morphemes"][index]) if segmented else [word]
        pieces = {}
        for role in ("glosses", "pos", "guess"):
            token = columns[role][index] if columns.get(role) else ""
            split = split_keep_boundaries(token)[0] if token else [""] * len(forms)
            if len(split) != len(forms):
                line = by_role[role]
                raise FormatError(path, line.number, f"\\{line.marker} '{token}' has {len(split)} parts for the "
                                                     f"{len(forms)} morphemes of '{word}': align the lines in Toolbox")
            pieces[role] = split
        morphs = [_Morph(form, pieces["glosses"][position], pieces["pos"][position],
                         pieces["guess"][position] == GUESS_MARK, group, whole_word=not segmented)
                  for position, form in enumerate(forms)]
        group.words.append(_GroupWord(word, morphs))
    return group


def _sentence(sentence_id: str, groups: list[_Group], translation: str | None) -> Sentence:
    words = []
    for group in groups:
        for word in group.words:
            morphs = [morph for morph in word.morphs if morph.glossable] or word.morphs
            words.append(Word(word.form, [_slot(morph) for morph in morphs], segmented=word.segmented, handle=word))
    return Sentence(sentence_id, words, translation, handle=groups)


def _slot(morph: _Morph) -> GlossSlot:
    bare = _bare_gloss(morph.gloss)
    gloss = leipzig_gloss(bare) if bare not in EMPTY_GLOSSES else ""
    if not gloss:
        state = GlossState.EMPTY
    else:
        state = GlossState.GUESS if morph.guess else GlossState.HUMAN
    return GlossSlot(morph.form, gloss, state, handle=morph)


def _bare_gloss(gloss: str) -> str:
    """A gloss as written in the file without its affix markers (``-PST`` ->
    ``PST``); a dash glossed as itself (marks only) is a gloss, kept whole."""
    return gloss.strip() if marks_only(gloss) else gloss.strip(AFFIX_MARKERS)


def _with_affix_markers(gloss: str, form: str) -> str:
    """A gloss written the way its morpheme is: ``-n`` gets ``-PST``, ``b-``
    gets ``III-``; a morpheme of marks only (a dash word) takes its gloss as it is."""
    if marks_only(form):
        return gloss
    start = form[0] if form[:1] in AFFIX_MARKERS else ""
    end = form[-1] if form[-1:] in AFFIX_MARKERS and len(form) > 1 else ""
    return f"{start}{gloss}{end}"


# -- writing groups -------------------------------------------------------------------------------
def _render_group(group: _Group, markers: ToolboxMarkers) -> list[str]:
    """A group's lines after glossing: its own pieces if it is one of a
    wrapped text's, each line re-aligned (or, token-aligned, re-tokenised)."""
    if group.token_aligned:
        return _render_tokens(group, markers)
    return _render_columns(group, markers)


def _line_order(group: _Group, markers: ToolboxMarkers) -> list[tuple[str, int | None]]:
    """``(role, index of the line read)`` of each line to write, the gloss
    and guess lines added where missing."""
    has_guesses = any(m.guess for w in group.words for m in w.morphs)
    order = [("text" if line.role == "wrapped" else line.role, index) for index, line in enumerate(group.lines)
             if line.role != "guess" or has_guesses]
    roles = [role for role, _ in order]
    if "glosses" not in roles:
        if "morphemes" in roles:
            after = roles.index("morphemes")
        else:   # under the text and any word line aligned with it (Toolbox's \\mot)
            after = 0
            while after + 1 < len(order) and order[after + 1][0] == "other" and \
                    order[after + 1][1] in group.other_cells:
                after += 1
        order.insert(after + 1, ("glosses", None))
        roles.insert(after + 1, "glosses")
    if has_guesses and "guess" not in roles:
        order.insert(roles.index("glosses") + 1, ("guess", None))
    return order


def _marker_of(role: str, group: _Group, index: int | None, markers: ToolboxMarkers) -> str:
    if index is not None and group.lines[index].marker is not None:
        return group.lines[index].marker
    return {"text": markers.text, "morphemes": markers.morphemes, "glosses": markers.glosses, "pos": markers.pos,
            "guess": markers.guess}[role]


def _render_columns(group: _Group, markers: ToolboxMarkers) -> list[str]:
    """The group's lines re-aligned: every column as wide as its widest cell
    (widths in the group's measure, so that they line up as they did).
    Lines of other markers that were aligned move with their columns; the
    rest are written as they were."""
    measure = group.measure
    order = _line_order(group, markers)
    values_of = {"morphemes": lambda m: "" if m.whole_word else m.form, "glosses": lambda m: m.gloss,
                 "pos": lambda m: m.pos, "guess": lambda m: GUESS_MARK if m.guess else ""}
    rows: dict[tuple[str, int | None], list[str]] = {key: [] for key in order if key[0] != "text"}
    firsts = {sum(len(w.morphs) for w in group.words[:position]) for position in range(len(group.words))}
    # lines of other markers with a cell per word (a word line such as \\mot) span words, as the text does
    by_word = {index for index, cells in group.other_cells.items()
               if all(position in firsts for position, cell in enumerate(cells) if cell)}
    widths: list[int] = []
    spans: list[int] = []   # how many morpheme columns each word covers
    unit = 0
    for word in group.words:
        first, word_width = len(widths), measure(word.form)
        for morph in word.morphs:
            width = 0
            for key in rows:
                role, index = key
                if role in values_of:
                    value = values_of[role](morph)
                elif index in group.other_cells:
                    value = group.other_cells[index][unit]
                    if index in by_word:
                        rows[key].append(value)
                        word_width = max(word_width, measure(value))
                        continue
                else:
                    continue
                rows[key].append(value)
                width = max(width, measure(value))
            widths.append(width + 1)
            unit += 1
        # a word wider than its morphemes widens its last morpheme column
        shortfall = word_width + 1 - sum(widths[first:])
        if shortfall > 0:
            widths[-1] += shortfall
        spans.append(len(widths) - first)
    marker_names = [_marker_of(role, group, index, markers) for role, index in order
                    if role in values_of or role == "text" or index in group.other_cells]
    prefix_width = max(measure(marker) for marker in marker_names) + 2

    def padded(text: str, width: int) -> str:
        return text + " " * (width - measure(text))

    lines = []
    for role, index in order:
        marker = _marker_of(role, group, index, markers)
        if role == "text" or index in by_word:
            # a word spans all its morpheme columns
            starts = [sum(spans[:position]) for position in range(len(spans))]
            cells = [word.form for word in group.words] if role == "text" else \
                [rows[(role, index)][start] for start in starts]
            body = "".join(padded(cell, sum(widths[start:start + span]))
                           for cell, start, span in zip(cells, starts, spans))
        elif role in values_of or index in group.other_cells:
            body = "".join(padded(cell, width) for cell, width in zip(rows[(role, index)], widths))
        else:
            lines.append(group.lines[index].raw)   # a line that was not aligned: as it was
            continue
        lines.append((padded(f"\\{marker}", prefix_width) + body).rstrip() + group.newline)
    return lines


def _render_tokens(group: _Group, markers: ToolboxMarkers) -> list[str]:
    """A token-aligned group after glossing: the gloss and guess lines one
    token per word (a word's pieces joined by its own boundaries, ``***`` for
    a piece still unglossed), the other lines as they were."""
    lines = []
    for role, index in _line_order(group, markers):
        if role not in ("glosses", "guess"):
            lines.append(group.lines[index].raw)
            continue
        tokens = []
        for word in group.words:
            forms = [morph.form for morph in word.morphs]
            if role == "glosses":
                pieces = [_bare_gloss(morph.gloss) or "***" for morph in word.morphs]
            else:
                pieces = [GUESS_MARK if morph.guess else NOT_GUESSED for morph in word.morphs]
            boundaries = split_keep_boundaries("".join(forms))[1] if word.segmented else []
            token = pieces[0]
            for boundary, piece in zip(boundaries, pieces[1:]):
                token += boundary + piece
            tokens.append(token)
        marker = _marker_of(role, group, index, markers)
        lines.append(f"\\{marker} {' '.join(tokens)}{group.newline}")
    return lines


def _wrap(sentence: Sentence, width: int, markers: ToolboxMarkers, measure: ColumnMeasure) -> list[_Group]:
    """New line groups for a sentence, wrapped at about ``width`` columns."""
    groups, current, used = [], [], 0
    for word in sentence.words:
        morphs = [_Morph(slot.form, _with_affix_markers(slot.gloss, slot.form) if word.segmented and slot.gloss
                         else slot.gloss, "", slot.state is GlossState.GUESS, whole_word=not word.segmented)
                  for slot in word.slots]
        size = max(measure(word.form), sum(max(measure(m.form), measure(m.gloss)) + 1 for m in morphs)) + 1
        if current and used + size > width:
            groups.append(current)
            current, used = [], 0
        current.append(_GroupWord(word.form, morphs))
        used += size
    if current:
        groups.append(current)
    segmented = sentence.segmented
    built = []
    for group_words in groups:
        lines = [_Line(0, "", markers.text, "text")]
        if segmented:
            lines.append(_Line(0, "", markers.morphemes, "morphemes"))
        group = _Group(lines, group_words, segmented, measure, modified=True)
        for word in group_words:
            for morph in word.morphs:
                morph.group = group
        built.append(group)
    return built
