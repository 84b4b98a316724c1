"""IMTVault: interlinear examples from Language Science Press books.

One JSON file per book chapter (``store-<book>-<part>examples.json``), each a
list of examples extracted from the books' LaTeX sources: ``srcwordsbare``
(the words, morphemes hyphen-joined where the book segments them) and
``imtwordsbare`` (their glosses, word for word), ``trs`` (the translation),
the language's codes and name where the book gave them, the book's id and
title, and the example's ``license``.

A row keeps the book's words: their morpheme breaks are its segmentation
line, and the same words without the breaks its plain transcription (the
build makes the segmented and the plain example of it). What the extraction
left of LaTeX is handled so that no word is changed in meaning: braces
(LaTeX groups, which print nothing) are removed, and a row with a LaTeX
command or math (``\\ul{se}``, ``$~$``) in its words is left out. Rows that
are not IGT are left out too, each with its reason (see :func:`igt_problem`).

Translations are cleaned by :func:`clean_translation` (the rule is in the
dataset card). Every record's id is ``imtvault/<book_ID>/<example ID>`` and
its origin ``<store file>:<example ID>``, so the book (and with it the book's
``abbrkey`` abbreviation table) is known for every row.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from ..errors import FormatError
from ..records import IGTRecord, squash_space, text_problem, word_morphemes
from .languages import Evidence, LanguageIdentifier, glottocode_table, iso_name

IMTVAULT = "imtvault"
IMTVAULT_LICENSE = "CC BY 4.0"
_CC_LICENSE = re.compile(r"https?://creativecommons\.org/licenses/([a-z-]+)/(\d\.\d)/?")
#: LaTeX accents: the command's character and the combining mark it puts on a letter.
_ACCENTS = {"'": "\u0301", "`": "\u0300", "=": "\u0304", "~": "\u0303", "^": "\u0302", '"': "\u0308",
            ".": "\u0307", "v": "\u030c", "u": "\u0306", "H": "\u030b", "c": "\u0327", "k": "\u0328",
            "d": "\u0323", "b": "\u0331"}
_ACCENT = re.compile(r"\\(?:(['`=~^\".])|([vuHcdbk])(?=[{\s]))\s*(?:\{(\\i|[^{}\\])\}|(\\i|[^{}\\\s]))")
#: Commands that only format their argument (it prints as written), and escaped characters.
_FORMATTING = re.compile(r"\\(?:textbf|textit|emph|ul|underline|textup|textrm|textnormal)\b")
_ESCAPED = re.compile(r"\\([&{}%#_])")
_UNKNOWN_LATEX = re.compile(r"\\(?![&{}%#_])|\$")


class SkippedRow(FormatError):
    """A source row left out of the corpus for a reason the build report counts."""

    def __init__(self, path: str | Path, line: int | None, reason: str, where: str = ""):
        super().__init__(path, line, f"{where}{reason}")
        self.reason = reason


def load_imtvault(data_dir: Path, skipped: list[FormatError], notes: list[str]) -> Iterator[IGTRecord]:
    """Every IMTVault store in ``data_dir/imtvault``; a store that is not a
    JSON list of examples refuses the build, naming the file."""
    folder = data_dir / IMTVAULT
    if not folder.is_dir():
        notes.append(f"{IMTVAULT}: folder {folder} not found; left out")
        return
    rows: list[tuple[IGTRecord, Evidence]] = []
    for path in sorted(folder.glob("store-*.json")):
        for number, entry in enumerate(_entries(path), start=1):
            try:
                rows.append(imtvault_row(path, number, entry))
            except FormatError as error:
                skipped.append(error)
    identifier = LanguageIdentifier(glottocode_table(data_dir))
    identifier.learn((evidence.iso639_3, evidence.glottocode) for _, evidence in rows)
    for record, evidence in rows:
        language, method = identifier.decide(evidence)
        yield record.replace(language=language, language_method=method)


def _entries(path: Path) -> list:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise FormatError(path, None, "not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise FormatError(path, error.lineno, f"not JSON: {error.msg}") from None
    if not isinstance(data, list):
        raise FormatError(path, None, f"an IMTVault store is a JSON list of examples, not a {type(data).__name__}")
    return data


def _field(path: Path, where: str, entry: dict, name: str, kind: type, required: bool = False):
    """An entry's field, checked to be of ``kind`` (``list``: of strings) and to hold text a record can."""
    value = entry.get(name)
    if value is None and not required:
        return None
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise FormatError(path, None, f"{where}field '{name}' must be a list of strings")
    elif not isinstance(value, kind) or isinstance(value, bool):
        raise FormatError(path, None, f"{where}field '{name}' must be a {kind.__name__}")
    for text in value if kind is list else [value] if isinstance(value, str) else []:
        problem = text_problem(text)
        if problem is not None:
            raise FormatError(path, None, f"{where}field '{name}' holds {problem}")
    return value


def imtvault_row(path: Path, number: int, entry: object) -> tuple[IGTRecord, Evidence]:
    """The record of one store entry (``number``: its place in the file) and
    what it says about its language; a :class:`FormatError` naming file and
    entry for a malformed entry, a :class:`SkippedRow` for one that is no IGT."""
    if not isinstance(entry, dict):
        raise FormatError(path, None, f"entry {number}: an example is a JSON object, not a {type(entry).__name__}")
    example_id = entry.get("ID")
    if not isinstance(example_id, str) or not example_id.strip():
        raise FormatError(path, None, f"entry {number}: no example 'ID'")
    where = f"entry {example_id}: "
    words = _field(path, where, entry, "srcwordsbare", list, required=True)
    glosses = _field(path, where, entry, "imtwordsbare", list, required=True)
    book = entry.get("book_ID")
    if not isinstance(book, (int, str)) or isinstance(book, bool) or not str(book).strip():
        raise FormatError(path, None, f"{where}no 'book_ID'")
    translation = _field(path, where, entry, "trs", str)
    text = {name: _field(path, where, entry, name, str) for name in (
        "language_iso6393", "language_glottocode", "language_name", "book_title", "book_metalanguage", "license")}
    words, glosses = [render_latex(word) for word in words], [render_latex(gloss) for gloss in glosses]
    if None in words or None in glosses:
        raise SkippedRow(path, None, "LaTeX markup in the words", where)
    words, glosses = aligned_words(words, glosses, path, None, where)
    translation = clean_translation(translation)
    problem = igt_problem(words, glosses, translation)
    if problem:
        raise SkippedRow(path, None, problem, where)
    metalanguage = text["book_metalanguage"]
    record = IGTRecord(
        id=f"{IMTVAULT}/{book}/{example_id}",
        transcription=" ".join(plain_word(word) for word in words),
        segmentation=" ".join(words),
        glosses=" ".join(glosses),
        translation=translation,
        metalanguage=(iso_name(metalanguage) or metalanguage) if metalanguage else None,
        source=IMTVAULT,
        split="pretrain",
        license=license_name(text["license"]) or IMTVAULT_LICENSE,
        origin=f"{path}:{example_id}",
    )
    evidence = Evidence(iso639_3=text["language_iso6393"], glottocode=text["language_glottocode"],
                        name=text["language_name"], book_title=text["book_title"])
    return record, evidence


def license_name(value: str | None) -> str | None:
    """A Creative Commons licence URL as its short name (``CC BY 4.0``);
    any other licence as given."""
    if not value or not value.strip():
        return None
    found = _CC_LICENSE.fullmatch(value.strip())
    return f"CC {found.group(1).upper()} {found.group(2)}" if found else value.strip()


def plain_word(word: str) -> str:
    """A segmented word without its morpheme breaks (``hel-tːi=ra`` ->
    ``heltːira``); a word of breaks only (a dash) stays as it is."""
    return "".join(word_morphemes(word)) or word


def render_latex(word: str) -> str | None:
    """A word as the book prints it, where its LaTeX says for certain how:
    accents on their letter (``n\\'{ɔ}`` -> ``nɔ́``), formatting commands
    and grouping braces (which print nothing) removed, escaped characters
    (``\\&``) as themselves. None when any other command or math is left
    (``\\pl{}``, a book's own macro, or ``$~$``): what it prints is not known."""
    word = _ACCENT.sub(_accented, _FORMATTING.sub("", word))
    if _UNKNOWN_LATEX.search(word):
        return None
    # odd pieces are escaped characters, the rest text whose braces group
    pieces = _ESCAPED.split(word)
    word = "".join(piece if index % 2 else piece.replace("{", "").replace("}", "") for index, piece in enumerate(pieces))
    return unicodedata.normalize("NFC", word).strip()


def _accented(found: re.Match) -> str:
    letter = found.group(3) or found.group(4)
    return ("i" if letter == "\\i" else letter) + _ACCENTS.get(found.group(1) or found.group(2), "")


def _punctuation(word: str) -> bool:
    return bool(word) and all(unicodedata.category(char)[0] in "PSZ" for char in word)


def aligned_words(words: list[str], glosses: list[str], path: str | Path, line: int | None,
                  where: str = "") -> tuple[list[str], list[str]]:
    """A row's words and glosses, word for word, with the places that are
    nothing (an empty word and gloss: spacing left by the extraction) or
    unglossed punctuation (a dash glossed with a blank) left out; a
    :class:`SkippedRow` when the two cannot be lined up word for word."""
    if not any(glosses):
        raise SkippedRow(path, line, "no glosses", where)
    if len(words) != len(glosses):
        raise SkippedRow(path, line, "word counts disagree", where)
    kept = [(word, gloss) for word, gloss in zip(words, glosses) if gloss or not (not word or _punctuation(word))]
    if any(not word or not gloss for word, gloss in kept):
        raise SkippedRow(path, line, "a word or gloss is empty", where)
    if any(len(part.split()) > 1 for pair in kept for part in pair):
        raise SkippedRow(path, line, "a word or gloss with a space inside", where)
    return [word for word, _ in kept], [gloss for _, gloss in kept]


def igt_problem(words: list[str], glosses: list[str], translation: str | None) -> str | None:
    """Why a row with aligned words and glosses is not IGT, or None: only
    punctuation to gloss; or glosses that are the free
    translation itself (the same text, with its sentence punctuation, which
    no gloss line has). Glosses that only coincide with the translation word
    for word (APiCS "my grandfather had five acres of land here") or repeat
    the words (an English-based creole's "Sue house") are real glosses."""
    if all(_punctuation(word) for word in words):
        return "only punctuation"
    line = " ".join(glosses)
    if len(glosses) >= 2 and line[-1] in _SENTENCE_END and line == translation:
        return "glosses are the translation"
    return None


# -- translations ------------------------------------------------------------------------------
#: The cleaning rule of :func:`clean_translation`, for the dataset card.
TRANSLATION_CLEANING = (
    "LaTeX braces, commands (their text kept) and footnotes are removed; the translation ends at its "
    "closing quote that no opening quote matches when that quote follows a sentence's end or a bracket, "
    "or only brackets follow it (`a Roman people rose' (Cicero, Brutus 12)` becomes `a Roman people rose`); "
    "brackets after the last sentence's end are a source or a comment and go (`He fell. (E)`); brackets "
    "inside the translation stay (`cut (into) the leg`, `white reindeer (pl.)`); an unmatched quote at "
    "either end, and quotes around the whole, go. Apostrophes in words (`didn't`) are no quotes, and "
    "nothing is cut that would leave the translation empty."
)
_OPENING = "‘“`ʽ"
_CLOSING = "’”'ʼ"
_SENTENCE_END = ".!?…"
_BRACKETS = {")": "(", "]": "["}
_LATEX_COMMAND = re.compile(r"\\(?:[A-Za-z]+\*?|-)")
_LATEX_ESCAPE = re.compile(r"\\(.)")
_FOOTNOTE = re.compile(r"\\footnote\{(?:[^{}]|\{[^{}]*\})*(?:\}|$)")
#: Direction marks and byte-order marks: invisible, left by the extraction.
_INVISIBLE = re.compile("[\u200e\u200f\ufeff]")


def clean_translation(text: str | None) -> str | None:
    """A book's translation without what the extraction kept around it.

    1. LaTeX: braces and command names are removed (their text stays),
       ``~`` is a space, ``$`` goes.
    2. The translation ends at its unmatched closing quote when that quote
       follows the end of a sentence, a bracket, or is followed by nothing
       or a bracket: ``a Roman people rose' (Cicero, Brutus 12)`` -> ``a
       Roman people rose``. An apostrophe inside a word (``didn’t``) or
       before a word (``the boys’ books``) is no quote.
    3. Brackets after the end of the last sentence are a comment or a
       source (``He fell. (E)``, ``... now. [R229.198]``) and go; brackets
       inside the translation (``cut (into) the leg``, ``white reindeer
       (pl.)``) stay.
    4. A quote left unmatched at either end goes, and quotes around the
       whole translation.
    Nothing is cut that would leave the translation empty.
    """
    if text is None:
        return None
    text = _INVISIBLE.sub("", _FOOTNOTE.sub("", text)).strip()
    text = _leading_group(text) or text
    text = _LATEX_COMMAND.sub("", text.replace("$", "")).replace("~", " ")
    text = squash_space(_LATEX_ESCAPE.sub(r"\1", text))
    end = _translation_end(text)
    if end is not None and text[:end].strip():
        text = text[:end]
    text = _without_final_comments(squash_space(text.replace("{", "").replace("}", "")))
    return _without_stray_quotes(text) or None


def _leading_group(text: str) -> str | None:
    """The text of the brace group ``text`` opens with (the book's
    translation argument), when something follows it."""
    if not text.startswith("{"):
        return None
    depth = 0
    for index, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return text[1:index].strip() or None if text[index + 1:].strip() else None
    return None


def _quotes(text: str) -> list[tuple[int, str]]:
    """Where the quotes of a text are and which they are (``open``, ``close``);
    apostrophes inside a word are neither."""
    found = []
    for index, char in enumerate(text):
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        if char in _OPENING or (char == "'" and (before.isspace() or before in "([") and after.isalnum()):
            found.append((index, "open"))
        elif char in _CLOSING and not before.isspace() and not after.isalnum():
            found.append((index, "close"))
    return found


def _translation_end(text: str) -> int | None:
    """Where the translation ends: at a closing quote that no opening quote
    matches, outside brackets, that ends it (see :func:`clean_translation`)."""
    depth = 0
    marks = dict(_quotes(text))
    brackets = 0
    for index, char in enumerate(text):
        if char in "([":
            brackets += 1
        elif char in ")]":
            brackets = max(0, brackets - 1)
        kind = marks.get(index)
        if kind == "open":
            depth += 1
        elif kind == "close" and depth:
            depth -= 1
        elif kind == "close" and not brackets:
            rest = text[index + 1:].strip()
            before = text[:index].rstrip()[-1:]
            if not rest or rest[0] in "([{}" or (before and (before in _SENTENCE_END or before in ")]")):
                return index
    return None


def _final_group(text: str) -> int | None:
    """Where the bracketed group that ends ``text`` opens, if it ends with one."""
    if not text or text[-1] not in _BRACKETS:
        return None
    stack = []
    for index in range(len(text) - 1, -1, -1):
        char = text[index]
        if char in _BRACKETS:
            stack.append(_BRACKETS[char])
        elif char in "([":
            if not stack or stack.pop() != char:
                return None
            if not stack:
                return index
    return None


def _without_final_comments(text: str) -> str:
    """``text`` without the bracketed groups that follow its last sentence's end."""
    cut, before = None, text
    while (start := _final_group(before)) is not None:
        before = text[:start].rstrip()
        if before and before[-1] in _SENTENCE_END + _CLOSING:
            cut = len(before)
    return text[:cut] if cut else text


def _without_stray_quotes(text: str) -> str:
    """``text`` without a quote at either end that no other matches, and
    without quotes around the whole of it."""
    stack: list[int] = []
    unmatched: set[int] = set()
    pairs: dict[int, int] = {}
    for index, kind in _quotes(text):
        if kind == "open":
            stack.append(index)
        elif stack:
            pairs[stack.pop()] = index
        else:
            unmatched.add(index)
    unmatched.update(stack)
    start, end = 0, len(text)
    if 0 in unmatched or pairs.get(0) == len(text) - 1:
        start = 1
    if len(text) - 1 in unmatched or pairs.get(0) == len(text) - 1:
        end = len(text) - 1
    return text[start:end].strip() if text[start:end].strip() else text
