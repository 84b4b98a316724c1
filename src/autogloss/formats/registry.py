"""The format registry: every file format autogloss reads or writes, one entry each.

An entry says how a format is known (its name, the file suffixes that name
it, a check of the content), how it is read and written, and what the
post-editor offers for it (upload suffixes, the download's suffix and media
type). Flat formats (records one after another: shared-task text, plain
text, JSON lines, Parquet, a bare CLDF ``examples.csv``) have a record reader
and writer; documents (FLEx, Toolbox, ELAN, a CLDF dataset) a document
class, whose records come from the document. Commands and the server find
every format here, so a format is added in one place.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import AutoglossError, FormatError
from ..fileio import is_stdio, is_stream
from ..interlinear.cldf_metadata import describes_cldf_dataset
from ..interlinear.document import (InterlinearDocument, RecordDocument, TrainingSelection,
                                    select_training_records, training_records)
from ..records import GlossedRecord, IGTRecord
from .jsonl import read_jsonl, write_jsonl
from .plaintext import read_plain_text
from .sigmorphon import TIERS as SIGMORPHON_MARKERS, read_sigmorphon, write_sigmorphon

#: What a record reader takes to skip malformed records.
_SKIPPING = frozenset({"skip_invalid", "skipped"})


@dataclass(frozen=True)
class Download:
    """How the post-editor hands a document out in a format."""

    suffix: str
    media_type: str
    #: Place in the editor's download menu; the first is the default.
    rank: int


@dataclass(frozen=True)
class Format:
    """One file format: how it is recognised, read and written."""

    name: str
    #: Suffixes that name the format (lower case).
    suffixes: tuple[str, ...] = ()
    #: A check of a path no suffix names (its content, or what a folder holds).
    sniff: Callable[[Path], bool] | None = None
    #: Flat formats: the record reader, and the keywords it takes (None: any,
    #: such as record fields or an id prefix).
    read: Callable[..., Iterator[IGTRecord]] | None = None
    read_options: frozenset[str] | None = None
    #: Flat formats: the record writer (streaming, atomic); returns the count.
    write: Callable[[Iterable, str | os.PathLike], int] | None = None
    #: Whether the writer keeps what a :class:`GlossedRecord` adds (confidences, repairs).
    writes_glossed: bool = False
    #: Whether the writer marks a segmentation a model predicted as predicted
    #: (:attr:`IGTRecord.segmentation_predicted`); other formats write one only when asked.
    marks_predicted_segmentation: bool = False
    #: Documents: their class (imported when first used).
    document: Callable[[], type[InterlinearDocument]] | None = None
    #: For a format that is both (CLDF): whether a path is the document, else a flat table.
    is_document_path: Callable[[Path], bool] | None = None
    #: Written as a folder (a CLDF dataset): never to a stream, and a file path names its folder.
    folder: bool = False
    #: Suffixes of the files the post-editor accepts in this format.
    uploads: tuple[str, ...] = ()
    download: Download | None = None

    def document_at(self, path: str | os.PathLike) -> bool:
        """Whether ``path`` in this format is read as a document (else as records)."""
        if self.document is None:
            return False
        return self.is_document_path is None or self.is_document_path(Path(path))

    def document_class(self) -> type[InterlinearDocument]:
        if self.document is None:
            raise AutoglossError(f"unknown interlinear format '{self.name}' (choose from {', '.join(DOCUMENT_FORMATS)})")
        return self.document()


# -- the entries' parts -----------------------------------------------------------------------
def _flextext() -> type[InterlinearDocument]:
    from ..interlinear.flextext import FlexTextDocument
    return FlexTextDocument


def _toolbox() -> type[InterlinearDocument]:
    from ..interlinear.toolbox import ToolboxDocument
    return ToolboxDocument


def _elan() -> type[InterlinearDocument]:
    from ..interlinear.elan import ElanDocument
    return ElanDocument


def _cldf() -> type[InterlinearDocument]:
    from ..interlinear.cldf import CldfDocument
    return CldfDocument


def _read_cldf_table(path: str | os.PathLike, **options) -> Iterator[IGTRecord]:
    from ..interlinear.cldf import read_examples
    return read_examples(path, **options)


def _read_store(path: str | os.PathLike) -> Iterator[IGTRecord]:
    from .store import read_store  # pyarrow takes a second to load: only when a Parquet file is read
    return read_store(path)


def _write_store(records: Iterable[IGTRecord], path: str | os.PathLike) -> int:
    from .store import write_store
    return write_store(records, path)


def _names_cldf_metadata(path: Path) -> bool:
    return path.name.endswith("-metadata.json")


def _is_cldf_dataset(path: Path) -> bool:
    """A ``*-metadata.json`` file or another JSON file describing a CLDF
    dataset (``metadata.json``), or a folder holding one."""
    if path.is_dir():
        return any(path.glob("*-metadata.json")) or any(map(describes_cldf_dataset, path.glob("*.json")))
    return _names_cldf_metadata(path) or describes_cldf_dataset(path)


def _is_cldf_document_path(path: Path) -> bool:
    """A dataset is named by its metadata (any ``.json``) or its folder; anything else is a bare table."""
    return path.suffix.lower() == ".json" or path.is_dir()


def _has_toolbox_header(path: Path) -> bool:
    """A text file whose first line is a Toolbox ``\\_sh`` header."""
    if not (path.is_file() and path.suffix.lower() in ("", ".txt", ".db")):
        return False
    with open(path, "rb") as handle:
        return handle.read(64).removeprefix(b"\xef\xbb\xbf").startswith(b"\\_sh")


#: Suffixes of text files whose format only their content tells (shared-task, plain text or Toolbox).
_AMBIGUOUS_SUFFIXES = ("", ".txt")
#: How much of a file is read to find its first non-blank line.
_SNIFF_BYTES = 4096


def _first_line(path: Path) -> bytes | None:
    """The first non-blank line of a regular file (its start, if long), None
    if it has none or is not a regular file (a pipe is never read here)."""
    if not path.is_file():
        return None
    with open(path, "rb") as handle:
        start = handle.read(_SNIFF_BYTES).removeprefix(b"\xef\xbb\xbf")
    return next((line.strip(b" \t\r\f\v") for line in start.split(b"\n") if line.strip()), None)


def looks_like_sigmorphon(path: str | os.PathLike) -> bool:
    """Whether a file's first non-blank line starts with a shared-task marker
    (``\\t``, ``\\m``, ``\\p``, ``\\g``, ``\\l``, then a space or the line's end)."""
    line = _first_line(Path(path))
    if line is None:
        return False
    marker = line.split(maxsplit=1)[0]
    return marker.decode("utf-8", "replace") in SIGMORPHON_MARKERS


def _is_sigmorphon_text(path: Path) -> bool:
    """A ``.txt`` or extensionless file that begins like the shared-task format."""
    return path.suffix.lower() in _AMBIGUOUS_SUFFIXES and looks_like_sigmorphon(path)


def _is_plain_text(path: Path) -> bool:
    """A ``.txt`` or extensionless file with a first line in no marker format (a sentence per line)."""
    if path.suffix.lower() not in _AMBIGUOUS_SUFFIXES:
        return False
    line = _first_line(path)
    return line is not None and not line.startswith(b"\\")


_TEXT = "text/plain; charset=utf-8"

#: Every format, in the order they are listed to users.
FORMATS: dict[str, Format] = {entry.name: entry for entry in (
    Format("sigmorphon", sniff=_is_sigmorphon_text, read=read_sigmorphon, write=write_sigmorphon, uploads=(".txt",),
           download=Download(".txt", _TEXT, 4)),
    Format("cldf", suffixes=(".csv",), sniff=_is_cldf_dataset, read=_read_cldf_table, document=_cldf,
           is_document_path=_is_cldf_document_path, folder=True, uploads=(".zip",),
           download=Download(".zip", "application/zip", 3)),
    Format("parquet", suffixes=(".parquet",), read=_read_store, read_options=frozenset(), write=_write_store),
    Format("jsonl", suffixes=(".jsonl",), read=read_jsonl, read_options=_SKIPPING, write=write_jsonl,
           writes_glossed=True, marks_predicted_segmentation=True, uploads=(".jsonl",),
           download=Download(".jsonl", "application/x-ndjson", 5)),
    Format("text", sniff=_is_plain_text, read=read_plain_text),
    Format("flextext", suffixes=(".flextext",), document=_flextext, uploads=(".flextext",),
           download=Download(".flextext", "application/xml", 0)),
    Format("toolbox", suffixes=(".sfm", ".tbx", ".toolbox"), sniff=_has_toolbox_header, document=_toolbox,
           uploads=(".sfm", ".tbx", ".toolbox"), download=Download(".txt", _TEXT, 1)),
    Format("elan", suffixes=(".eaf",), document=_elan, uploads=(".eaf",),
           download=Download(".eaf", "application/xml", 2)),
)}
#: Formats with a document class (whose gloss states a file keeps).
DOCUMENT_FORMATS = tuple(name for name, entry in FORMATS.items() if entry.document is not None)
#: The format names, as command-line choices.
FormatName = enum.StrEnum("FormatName", {name: name for name in FORMATS})


def format_of(name: str) -> Format:
    """The registry entry of a format name."""
    try:
        return FORMATS[name]
    except KeyError:
        raise AutoglossError(f"unknown format '{name}' (choose from {', '.join(FORMATS)})") from None


def document_class(format: str) -> type[InterlinearDocument]:
    """The document class of a document format's name."""
    return FORMATS.get(format, Format(format)).document_class()  # (an unknown name has no class either)


# -- what a path is ------------------------------------------------------------------------------
def detect_format(path: str | os.PathLike) -> str:
    """The format of a path: by its suffix (``.parquet``, ``.csv``, ``.jsonl``,
    ``.flextext``, ``.eaf``, ``.sfm``/``.tbx``/``.toolbox``), else by what it
    holds (a CLDF ``*-metadata.json``, another JSON file describing a CLDF
    dataset such as ``metadata.json``, or a folder holding one, a Toolbox
    ``\\_sh`` header; a ``.txt`` or extensionless file is shared-task text
    when its first non-blank line starts with a ``\\t``, ``\\m``, ``\\p``,
    ``\\g`` or ``\\l`` marker, plain text when it starts with no marker),
    else the shared-task text format (so also a path not written yet)."""
    return recognised_format(path) or "sigmorphon"


def recognised_format(path: str | os.PathLike) -> str | None:
    """The format a path's suffix or content names (see :func:`detect_format`),
    or None when nothing does (a file autogloss does not read, an empty file,
    a folder that is no CLDF dataset)."""
    path = Path(path)
    suffix = path.suffix.lower()
    for entry in FORMATS.values():
        if suffix in entry.suffixes:
            return entry.name
    for entry in FORMATS.values():
        if entry.sniff is not None and entry.sniff(path):
            return entry.name
    return None


def document_format_of(path: str | os.PathLike, format: str | None = None) -> str | None:
    """The document format ``path`` is read in (``format``, else detected),
    or None when it is read as records (a bare CLDF ``examples.csv`` too)."""
    format = format or detect_format(path)
    entry = FORMATS.get(format)
    return format if entry is not None and entry.document_at(path) else None


def output_format_for(path: str | os.PathLike, input_format: str) -> str:
    """The format to write ``path`` in: by its suffix or a CLDF metadata
    name, else the input's (a ``.txt`` output of a Toolbox input stays
    Toolbox, of any other input is shared-task text)."""
    path = Path(path)
    suffix = path.suffix.lower()
    for entry in FORMATS.values():
        if suffix in entry.suffixes and not entry.folder:  # a dataset is named by its metadata, not a table
            return entry.name
    if _names_cldf_metadata(path):
        return "cldf"
    if suffix == ".txt" and input_format != "toolbox":
        return "sigmorphon"
    return input_format


def layout_options(format: str, toolbox_markers: str | None = None, elan_tiers: str | None = None,
                   encoding: str | None = None) -> dict:
    """A document format's reader/writer options from the command-line layout
    strings (``encoding``: a Toolbox file's character encoding)."""
    if format == "toolbox":
        from ..interlinear.toolbox import ToolboxMarkers
        # markers not given are detected from the file (Toolbox's or Shoebox's)
        options = {"markers": ToolboxMarkers.parse(toolbox_markers)} if toolbox_markers else {}
        if encoding:
            options["encoding"] = encoding
        return options
    if format == "elan":
        from ..interlinear.elan import ElanTiers
        # without --elan-tiers a file's layout is detected (a new file gets the default tier names)
        return {"tiers": ElanTiers.parse(elan_tiers)} if elan_tiers else {}
    return {}


def upload_suffixes() -> frozenset[str]:
    """The file suffixes the post-editor accepts."""
    return frozenset(suffix for entry in FORMATS.values() for suffix in entry.uploads)


def downloads() -> dict[str, Download]:
    """The formats the post-editor offers for download, in menu order."""
    offered = [entry for entry in FORMATS.values() if entry.download is not None]
    return {entry.name: entry.download for entry in sorted(offered, key=lambda entry: entry.download.rank)}


# -- reading -------------------------------------------------------------------------------------
def read_records(path: str | os.PathLike, format: str | None = None, *, skip_invalid: bool = False,
                 skipped: list[FormatError] | None = None, **options) -> Iterator[IGTRecord]:
    """Stream records from a file in any format (see :data:`FORMATS`).

    ``options`` are a document's layout (Toolbox markers, ELAN tiers) or
    fields set on every record of a flat file; ``skip_invalid`` leaves a
    malformed record out (noted in ``skipped``) where the format has records
    to skip (a document is read whole). ``-`` reads standard input, and a
    pipe or device is read like it: the format is ``format``, else guessed
    from the content as for a file without an extension.
    """
    if is_stream(path) and not Path(path).is_dir():
        return _read_stream(path, format, skip_invalid, skipped, options)
    format = format or detect_format(path)
    entry = FORMATS.get(format)
    if entry is not None and entry.read is not None and entry.document_at(path) and Path(path).exists():
        return iter(entry.document_class().read(path, **options).records())  # a CLDF dataset
    if Path(path).is_dir():  # (a CLDF dataset directory was read above)
        raise AutoglossError(f"{path}: is a directory, not a file")
    if not Path(path).is_file():
        raise AutoglossError(f"{path}: no such file")
    entry = format_of(format)
    if entry.read is None:
        return iter(entry.document_class().read(path, **options).records())
    options = {**options, "skip_invalid": skip_invalid, "skipped": skipped}
    if entry.read_options is not None:
        options = {key: value for key, value in options.items() if key in entry.read_options}
    if entry.name == "sigmorphon" and not looks_like_sigmorphon(path):
        return _with_format_hint(entry.read(path, **options), path)
    return entry.read(path, **options)


def _with_format_hint(records: Iterator[IGTRecord], path: str | os.PathLike) -> Iterator[IGTRecord]:
    """Shared-task records from a file that does not begin like one: a parse
    error names the format the file looks like."""
    try:
        yield from records
    except FormatError as error:
        line = _first_line(Path(path)) or b""
        hint = ("--format toolbox (a Toolbox file without its \\_sh header)" if line.startswith(b"\\")
                else "--format text (one sentence per line)")
        raise FormatError(error.path, error.line, f"{error.message}; the file does not begin like the "
                                                  f"shared-task format (a '\\t' line): for this file try {hint}") from None


def _read_stream(path: str | os.PathLike, format: str | None, skip_invalid: bool,
                 skipped: list[FormatError] | None, options: dict) -> Iterator[IGTRecord]:
    """Read standard input (``-``) or a pipe through a temporary copy, as the
    readers need a file; errors name the stream, not the copy."""
    shown = "<stdin>" if is_stdio(path) else os.fspath(path)
    with tempfile.TemporaryDirectory(prefix="autogloss-") as folder:
        copy = Path(folder) / ("stdin" if is_stdio(path) else Path(path).name)
        with open(copy, "wb") as spool:
            if is_stdio(path):
                shutil.copyfileobj(sys.stdin.buffer, spool)
            else:
                with open(path, "rb") as stream:
                    shutil.copyfileobj(stream, spool)
        found: list[FormatError] | None = [] if skipped is not None else None
        try:
            yield from read_records(copy, format, skip_invalid=skip_invalid, skipped=found, **options)
        except FormatError as error:
            raise FormatError(shown if error.path == os.fspath(copy) else error.path, error.line,
                              error.message.replace(os.fspath(copy), shown)) from None
        except AutoglossError as error:
            error.args = tuple(str(arg).replace(os.fspath(copy), shown) for arg in error.args)
            raise
        finally:
            if skipped is not None:
                skipped.extend(FormatError(shown if e.path == os.fspath(copy) else e.path, e.line, e.message)
                               for e in found)


def read_document(path: str | os.PathLike, format: str | None = None, **options) -> InterlinearDocument:
    """A file of any format as a document: FLEx, Toolbox, ELAN and CLDF
    datasets with their gloss states, flat files as a :class:`RecordDocument`
    of their records. ``options`` are the document's layout (or the reader's)."""
    format = format or detect_format(path)
    entry = format_of(format)
    if not entry.document_at(path):
        return RecordDocument.from_records(read_records(path, format, **options))
    if not Path(path).exists():
        raise AutoglossError(f"{path}: no such file")
    return entry.document_class().read(path, **options)


def read_training_records(path: str | os.PathLike, format: str | None = None, *, skip_invalid: bool = False,
                          skipped: list | None = None, **options) -> TrainingSelection:
    """The sentences of any IGT file a model may learn from: only glosses a person gave.

    From a FLEx, Toolbox, ELAN or CLDF document, the sentences whose every
    morpheme has a person's gloss (no guess status in FLEx, no guess mark in
    the others): never machine guesses, never empty glosses
    (:func:`~autogloss.interlinear.document.training_records`). Files
    without gloss states (shared-task, JSON lines, Parquet, a bare CLDF
    ``examples.csv``) are a person's glosses throughout; only their
    unglossed records are left out. ``options`` are the document's layout
    (Toolbox markers, ELAN tiers).
    """
    format = format or detect_format(path)
    document = document_format_of(path, format)
    if document and is_stream(path) and format != "cldf":
        # read as records, a stream would lose the gloss states that keep guesses out
        shown = "standard input" if is_stdio(path) else os.fspath(path)
        raise AutoglossError(f"{shown}: give the {format} file by its path to train on it "
                             f"(its gloss states, which keep machine guesses out, are read from the file)")
    if document:
        return training_records(read_document(path, format, **options))
    return select_training_records(read_records(path, format, skip_invalid=skip_invalid, skipped=skipped))


# -- writing -------------------------------------------------------------------------------------
def write_records(records: Iterable[IGTRecord | GlossedRecord], path: str | os.PathLike,
                  format: str | None = None, *, write_segmentation: bool = False, **options) -> int:
    """Write records atomically in any format; returns the count.

    Records may come glossed (:class:`GlossedRecord`): JSON lines keeps their
    confidences (and repairs), other formats write the record. A
    segmentation a model predicted for plain input
    (:attr:`IGTRecord.segmentation_predicted`) goes only into a format that
    marks it as predicted (JSON lines, ``segmentation_predicted``), or, with
    ``write_segmentation``, into any (a shared-task ``\\m`` line cannot say it
    is a guess, so it is not written unasked). Flat formats
    stream what they are given; a document is built from all the records,
    with ``options`` as its layout. For ``cldf`` the path names the directory
    that receives a CLDF dataset (``Generic-metadata.json``, ``examples.csv``,
    ``languages.csv``); a ``.csv`` or ``.json`` path names its directory.
    """
    if format is None:
        # a sentence-per-line file being replaced has no writer of its own: records go there as shared-task text
        detected = detect_format(path)
        format = "sigmorphon" if detected == "text" else detected
    entry = format_of(format)
    if entry.folder and is_stream(path):
        raise AutoglossError(f"{path}: a CLDF dataset is a directory, it cannot be written to a stream")
    if not (write_segmentation or entry.marks_predicted_segmentation):
        records = map(_without_predicted_segmentation, records)
    if not entry.writes_glossed:
        records = (item.record if isinstance(item, GlossedRecord) else item for item in records)
    if entry.write is not None:
        return entry.write(records, path)
    if entry.document is None:
        raise AutoglossError(f"unknown format '{entry.name}' (choose from {', '.join(FORMATS)})")
    records = list(records)
    if entry.folder and Path(path).suffix in (".csv", ".json"):
        path = Path(path).parent
    entry.document_class().from_records(records, **options).write(path)
    return len(records)


def _without_predicted_segmentation(item: IGTRecord | GlossedRecord) -> IGTRecord | GlossedRecord:
    """A record (glossed or not) without the segmentation a model predicted for it, if it has one."""
    record = item.record if isinstance(item, GlossedRecord) else item
    if not record.segmentation_predicted:
        return item
    plain = record.replace(segmentation=None, segmentation_predicted=False)
    return dataclasses.replace(item, record=plain) if isinstance(item, GlossedRecord) else plain


def convert_file(input: str | os.PathLike, output: str | os.PathLike, from_format: str | None = None,
                 to_format: str | None = None, *, skip_invalid: bool = False, skipped: list[FormatError] | None = None,
                 toolbox_markers: str | None = None, elan_tiers: str | None = None,
                 encoding: str | None = None) -> int:
    """Convert a file to another format (or the same one); returns the number of sentences written.

    A document (FLEx, Toolbox, ELAN, a CLDF dataset) goes over as a document:
    into its own format it is written back whole (a copy that keeps every
    guid, item and tier), into another document format with its glosses and
    their states. Records stream into a flat format. The layout strings are
    the document's (:func:`layout_options`), for both sides.
    """
    layout = {"toolbox_markers": toolbox_markers, "elan_tiers": elan_tiers, "encoding": encoding}
    source = document_format_of(input, from_format)
    if source is None:
        records = read_records(input, from_format, skip_invalid=skip_invalid, skipped=skipped)
        return write_records(records, output, to_format)
    document = read_document(input, source, **layout_options(source, **layout))
    target = to_format or output_format_for(output, source)
    write_document(document, output, target, **layout_options(target, **layout))
    return len(document.sentences)


def write_document(document: InterlinearDocument, path: str | os.PathLike, format: str | None = None,
                   **options) -> None:
    """Write a document in its own format, or converted to another one
    (glosses and their guess/human states carried over to another document
    format; a flat format gets the document's records)."""
    format = format or document.format_name
    if format == document.format_name:
        document.write(path)
        return
    entry = format_of(format)
    if entry.document is not None:
        entry.document_class().from_sentences(document.copy_sentences(), document.language, **options).write(path)
        return
    write_records(document.records(), path, format)
