"""Toolbox (Shoebox) standard format interlinear texts.

A file is a header (``\\_sh v3.0 ...``) and records, each starting with the
record marker (``\\ref``). Inside a record, interlinear lines (text ``\\tx``,
morphemes ``\\mb``, glosses ``\\ge``, parts of speech ``\\ps``) are aligned
by column: a morpheme belongs to the word it starts under, a gloss to the
morpheme it starts under. Columns are display columns (:func:`display_columns`):
a combining mark (g + U+0332) takes none, an East Asian wide character two,
as the lines line up on screen. Long sentences wrap into several such line groups,
each starting with ``\\tx``. ``\\ft`` is the free translation. All markers
are configurable (:class:`ToolboxMarkers`).

Toolbox has no notion of a machine guess, so autogloss marks its guesses on
one more aligned line (``\\ag`` by default) with ``?`` under each guessed
gloss; a linguist who accepts a gloss deletes its ``?``. A gloss with no
``?`` under it is a person's and is never changed, a ``?`` typed on the gloss
line included; only ``***`` (Toolbox's own "not analysed") and a blank cell
count as empty.

Groups whose glosses did not change are written back byte for byte; a group
that received glosses is re-aligned.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.cells import cell_len

from ..errors import FormatError
from ..fileio import atomic_write
from ..records import Language, squash_space, text_problem
from .document import (AFFIX_MARKERS, GlossSlot, GlossState, InterlinearDocument, Sentence,
                       Word, leipzig_gloss, parse_role_pairs)

GUESS_MARK = "?"
#: Gloss cells that mean "not glossed yet": blank, or Toolbox's ``***`` for an
#: item its parser could not analyse. Anything else (``?`` too) is a gloss.
EMPTY_GLOSSES = frozenset({"", "***"})
HEADER = "\\_sh v3.0  400  Text\n"
_TOKEN = re.compile(r"\S+")

#: How many columns a piece of text takes in an aligned line.
ColumnMeasure = Callable[[str], int]


def display_columns(text: str) -> int:
    """Columns ``text`` takes on screen: grapheme clusters, a combining mark
    adding none to its base and an East Asian wide character taking two (a
    tab counts as one, as a space). This is how lines line up in Toolbox and
    any editor showing a Unicode file in a monospaced font; a file whose
    columns count bytes (legacy 8-bit encodings) needs a byte measure instead."""
    return cell_len(text.replace("\t", " "))


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


@dataclass(eq=False)
class _Morph:
    form: str
    gloss: str = ""       # as written in the file (affix hyphens included)
    pos: str = ""
    guess: bool = False
    group: _Group | None = None


@dataclass(eq=False)
class _GroupWord:
    form: str
    morphs: list[_Morph]


@dataclass(eq=False)
class _Group:
    """One wrapped block of aligned lines (``\\tx`` and the lines under it)."""

    raw: list[str]                 # the lines as read, line ends included
    markers: list[str]             # which interlinear lines it has, in order
    words: list[_GroupWord]
    segmented: bool                # has a morpheme line
    newline: str = "\n"
    modified: bool = False


@dataclass(eq=False)
class _Record:
    parts: list = field(default_factory=list)   # raw lines (str) and _Group objects


class ToolboxDocument(InterlinearDocument):
    format_name = "toolbox"

    def __init__(self, header: list[str], records: list[_Record], sentences: list[Sentence],
                 markers: ToolboxMarkers, language: Language | None = None,
                 measure: ColumnMeasure = display_columns):
        super().__init__(sentences, language)
        self.header = header
        self.record_parts = records
        self.markers = markers
        self.measure = measure

    # -- reading ------------------------------------------------------------
    @classmethod
    def read(cls, path: str | os.PathLike, markers: ToolboxMarkers | None = None,
             measure: ColumnMeasure = display_columns) -> ToolboxDocument:
        """Read a file; ``measure`` says how its aligned lines count columns."""
        path = os.fspath(path)
        markers = markers or ToolboxMarkers()
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                lines = handle.read().splitlines(keepends=True)
        except UnicodeDecodeError as error:
            raise FormatError(path, None, f"bytes that are not UTF-8 at byte {error.start + 1}") from None
        if lines:
            lines[0] = lines[0].removeprefix("\ufeff")
        header, records, sentences = [], [], []
        current: list[tuple[int, str]] | None = None
        for number, line in enumerate(lines, start=1):
            if _marker(line) == markers.record:
                if current is not None:
                    records.append(_read_record(path, current, markers, sentences, measure))
                current = []
            if current is None:
                header.append(line)
            else:
                current.append((number, line))
        if current is not None:
            records.append(_read_record(path, current, markers, sentences, measure))
        if not records:
            raise FormatError(path, None, f"no Toolbox records (no line starts with \\{markers.record})")
        return cls(header, records, sentences, markers, measure=measure)

    # -- writing ------------------------------------------------------------
    def write(self, path: str | os.PathLike) -> None:
        with atomic_write(path, newline="") as handle:
            handle.writelines(self.header)
            for record in self.record_parts:
                for part in record.parts:
                    if isinstance(part, str):
                        handle.write(part)
                    elif part.modified:
                        handle.writelines(_render_group(part, self.markers, self.measure))
                    else:
                        handle.writelines(part.raw)

    def _store(self, sentence: Sentence, word: Word, slot: GlossSlot, gloss: str, state: GlossState) -> None:
        morph: _Morph = slot.handle
        morph.gloss = _with_affix_markers(gloss, morph.form) if word.segmented else gloss
        morph.guess = state is GlossState.GUESS
        morph.group.modified = True

    # -- new documents --------------------------------------------------------
    @classmethod
    def from_sentences(cls, sentences: list[Sentence], language: Language | None = None,
                       markers: ToolboxMarkers | None = None, width: int = 72,
                       measure: ColumnMeasure = display_columns) -> ToolboxDocument:
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
        return cls([HEADER, "\n"], records, built, markers, language, measure)


def _marker(line: str) -> str | None:
    if not line.startswith("\\"):
        return None
    return line[1:].split(maxsplit=1)[0] if line[1:].strip() else ""


def _content(line: str) -> str:
    """A line's text after its marker ("" for a field left empty, as ``\\ft`` often is)."""
    parts = line.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def _read_record(path: str, lines: list[tuple[int, str]], markers: ToolboxMarkers,
                 sentences: list[Sentence], measure: ColumnMeasure) -> _Record:
    record = _Record()
    record_id, translation, groups = "", [], []
    group_lines: list[tuple[int, str]] = []
    last_marker = None

    def close_group() -> None:
        if group_lines:
            group = _read_group(path, group_lines, markers, measure)
            record.parts.append(group)
            groups.append(group)
            group_lines.clear()

    for number, line in lines:
        marker = _marker(line)
        continues_translation = marker is None and last_marker == markers.translation
        if marker in markers.interlinear or marker in (markers.record, markers.translation) or continues_translation:
            problem = text_problem(line, "column")   # text that goes into a record: every format must hold it
            if problem is not None:
                raise FormatError(path, number, problem)
        if marker is None and last_marker in markers.interlinear and line.strip():
            raise FormatError(path, number, f"text without a marker inside the aligned lines of \\{last_marker}")
        if marker == markers.text:
            close_group()
        if marker in markers.interlinear:
            if not group_lines and marker != markers.text:
                raise FormatError(path, number, f"\\{marker} line before any \\{markers.text} line of its record")
            group_lines.append((number, line))
        else:
            close_group()
            record.parts.append(line)
            if marker == markers.record:
                record_id = _content(line).strip()
            elif marker == markers.translation or continues_translation:
                translation.append(_content(line) if marker else line)
        if marker is not None:
            last_marker = marker
    close_group()
    if not record_id:
        raise FormatError(path, lines[0][0], f"\\{markers.record} without a record name")
    text = squash_space(" ".join(translation)) or None
    if any(group.words for group in groups):
        # a record without text (a header, a note, an empty \tx) is kept but has nothing to gloss
        sentences.append(_sentence(record_id, groups, text))
    return record


def _tokens(line: str, measure: ColumnMeasure) -> list[tuple[int, str]]:
    """``(column, token)`` of the content of one interlinear line (after its
    marker), columns counted by ``measure`` from the start of the line."""
    marker_end = len(line.split(maxsplit=1)[0])
    tokens, column, position = [], 0, 0
    for match in _TOKEN.finditer(line.rstrip("\r\n")):
        column += measure(line[position:match.start()])
        position = match.start()
        if match.start() >= marker_end:
            tokens.append((column, match.group()))
    return tokens


def _owner(column: int, starts: list[int]) -> int | None:
    """Index of the column range a token starting at ``column`` falls into."""
    owner = None
    for index, start in enumerate(starts):
        if start <= column:
            owner = index
    return owner


def _align(path: str, number: int, marker: str, tokens: list[tuple[int, str]], starts: list[int],
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


def _read_group(path: str, lines: list[tuple[int, str]], markers: ToolboxMarkers,
                measure: ColumnMeasure) -> _Group:
    by_marker: dict[str, tuple[int, str]] = {}
    for number, line in lines:
        marker = _marker(line)
        if marker in by_marker:
            raise FormatError(path, number, f"second \\{marker} line under one \\{markers.text} line")
        by_marker[marker] = (number, line)
    newline = "\r\n" if lines[0][1].endswith("\r\n") else "\n"
    text_number, text_line = by_marker[markers.text]
    text_tokens = _tokens(text_line, measure)
    if not text_tokens:
        for number, line in lines[1:]:
            if _tokens(line, measure):
                raise FormatError(path, number, f"\\{_marker(line)} line under an empty \\{markers.text} line")
        # a record not transcribed yet: nothing to gloss, kept as it is
        return _Group([line for _, line in lines], [_marker(line) for _, line in lines], [], False, newline)
    word_starts = [column for column, _ in text_tokens]
    # an empty morpheme line is an analysis not made yet: the words stand unanalysed
    morph_tokens = _tokens(by_marker[markers.morphemes][1], measure) if markers.morphemes in by_marker else []
    segmented = bool(morph_tokens)
    if segmented:
        number = by_marker[markers.morphemes][0]
        owners = []
        for column, token in morph_tokens:
            owner = _owner(column, word_starts)
            if owner is None:
                raise FormatError(path, number, f"morpheme '{token}' at column {column + 1} starts left of the first word")
            owners.append(owner)
        units = morph_tokens
    else:
        owners = list(range(len(text_tokens)))
        units = text_tokens
    unit_starts = [column for column, _ in units]
    under = "morpheme" if segmented else "word"
    cells = {}
    for role in ("glosses", "pos", "guess"):
        marker = getattr(markers, role)
        if marker in by_marker:
            number, line = by_marker[marker]
            cells[role] = _align(path, number, marker, _tokens(line, measure), unit_starts, under)
        else:
            cells[role] = [""] * len(units)
    words = [_GroupWord(token, []) for _, token in text_tokens]
    group = _Group([line for _, line in lines], [_marker(line) for _, line in lines], words, segmented, newline)
    for index, ((_, form), owner) in enumerate(zip(units, owners)):
        morph = _Morph(form, cells["glosses"][index], cells["pos"][index],
                       cells["guess"][index] == GUESS_MARK, group)
        words[owner].morphs.append(morph)
    for word, (column, _) in zip(words, text_tokens):
        if not word.morphs:
            raise FormatError(path, by_marker[markers.morphemes][0],
                              f"word '{word.form}' (column {column + 1}) has no morpheme under it")
    return group


def _sentence(sentence_id: str, groups: list[_Group], translation: str | None) -> Sentence:
    words = []
    for group in groups:
        for word in group.words:
            slots = [_slot(morph) for morph in word.morphs]
            words.append(Word(word.form, slots, segmented=group.segmented, handle=word))
    return Sentence(sentence_id, words, translation, handle=groups)


def _slot(morph: _Morph) -> GlossSlot:
    bare = morph.gloss.strip(AFFIX_MARKERS)
    gloss = leipzig_gloss(bare) if bare not in EMPTY_GLOSSES else ""
    if not gloss:
        state = GlossState.EMPTY
    else:
        state = GlossState.GUESS if morph.guess else GlossState.HUMAN
    return GlossSlot(morph.form, gloss, state, handle=morph)


def _with_affix_markers(gloss: str, form: str) -> str:
    """A gloss written the way its morpheme is: ``-n`` gets ``-PST``, ``b-`` gets ``III-``."""
    start = form[0] if form[:1] in AFFIX_MARKERS else ""
    end = form[-1] if form[-1:] in AFFIX_MARKERS and len(form) > 1 else ""
    return f"{start}{gloss}{end}"


def _render_group(group: _Group, markers: ToolboxMarkers, measure: ColumnMeasure) -> list[str]:
    """The group's lines re-aligned: every column as wide as its widest cell
    (widths in ``measure``'s columns, so that they line up on screen)."""
    has_guesses = any(m.guess for w in group.words for m in w.morphs)
    order = [m for m in group.markers if m != markers.guess or has_guesses]
    if markers.glosses not in order:
        order.insert(order.index(markers.morphemes if markers.morphemes in order else markers.text) + 1,
                     markers.glosses)
    if has_guesses and markers.guess not in order:
        order.insert(order.index(markers.glosses) + 1, markers.guess)
    cells: dict[str, list[str]] = {marker: [] for marker in order}
    widths: list[int] = []
    spans: list[int] = []   # how many morpheme columns each word covers
    for word in group.words:
        first = len(widths)
        for morph in word.morphs:
            # a group without a morpheme line (or with an empty one) gets no morphemes written
            values = {markers.morphemes: morph.form if group.segmented else "", markers.glosses: morph.gloss,
                      markers.pos: morph.pos, markers.guess: GUESS_MARK if morph.guess else ""}
            for marker in order:
                cells[marker].append(values.get(marker, ""))
            widths.append(max(measure(values.get(marker, "")) for marker in order) + 1)
        # a word wider than its morphemes widens its last morpheme column
        shortfall = measure(word.form) + 1 - sum(widths[first:])
        if shortfall > 0:
            widths[-1] += shortfall
        spans.append(len(widths) - first)
    prefix_width = max(measure(marker) for marker in order) + 2

    def padded(text: str, width: int) -> str:
        return text + " " * (width - measure(text))

    lines = []
    for marker in order:
        if marker == markers.text:
            # a word spans all its morpheme columns
            starts = [sum(spans[:index]) for index in range(len(spans))]
            body = "".join(padded(word.form, sum(widths[start:start + span]))
                           for word, start, span in zip(group.words, starts, spans))
        else:
            body = "".join(padded(cell, width) for cell, width in zip(cells[marker], widths))
        lines.append((padded(f"\\{marker}", prefix_width) + body).rstrip() + group.newline)
    return lines


def _wrap(sentence: Sentence, width: int, markers: ToolboxMarkers, measure: ColumnMeasure) -> list[_Group]:
    """New line groups for a sentence, wrapped at about ``width`` columns."""
    groups, current, used = [], [], 0
    for word in sentence.words:
        morphs = [_Morph(slot.form, _with_affix_markers(slot.gloss, slot.form) if word.segmented and slot.gloss
                         else slot.gloss, "", slot.state is GlossState.GUESS) for slot in word.slots]
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
        markers_order = [markers.text, markers.morphemes] if segmented else [markers.text]
        group = _Group([], markers_order, group_words, segmented, modified=True)
        for word in group_words:
            for morph in word.morphs:
                morph.group = group
        built.append(group)
    return built
