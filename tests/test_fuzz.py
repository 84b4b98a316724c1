"""Every reader, fed random and broken input, fails only with autogloss's own errors.

Inputs come two ways: random bytes or marker lines, and small valid files of
each format broken the ways files get broken (lines lost, doubled or
swapped, bytes flipped, a file cut short, bytes that are not UTF-8, an XML
tag dropped or left open). Whatever is read is also written, in its own
format or converted to another, after filling its empty glosses as
``autogloss gloss`` would, and what was written must read back. The only
exception allowed while reading and writing is :class:`AutoglossError`
(``FormatError`` naming file and line for malformed input): anything else
would be a traceback on the command line and an HTTP 500 in the server.

The committed example counts keep this file quick; to hunt for crashes run
it with more, e.g. ``AUTOGLOSS_FUZZ_EXAMPLES=2000``.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autogloss.errors import AutoglossError, FormatError
from autogloss.formats import read_document, read_records, write_document, write_records
from autogloss.formats.jsonl import write_jsonl
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.formats.store import SCHEMA, write_store
from autogloss.glossing import fill_document
from autogloss.models import MajorityGlosser
from autogloss.records import IGTRecord

from conftest import TRAIN
from interlinear_fixtures import ELAN, FLEXTEXT, TOOLBOX

# csvw warns of each column a broken dataset does not declare; that is what these inputs are
pytestmark = pytest.mark.filterwarnings("ignore:Unspecified column:UserWarning")

EXAMPLES = int(os.environ.get("AUTOGLOSS_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

PLAIN_TEXT = "Ixiw raład boqno.\tA big sea formed.\n\nŽek’a xabar bayrno.\n"
EXAMPLES_CSV = (
    "ID,Language_ID,Primary_Text,Analyzed_Word,Gloss,Translated_Text,Meta_Language_ID,Comment\r\n"
    "1,16,dán buori biillas,dán\tbuori\tbiillas,this.GENACC\tgood.GENACC\tcar.LOC,in this good car,,\r\n"
    "2,16,Máreha boađedettiin,Máreha\tboađe-dettiin,,when Máret came,,\r\n"
)
LANGUAGES_CSV = "ID,Name,Macroarea,Latitude,Longitude,Glottocode,ISO639P3code\r\n16,North_Saami,,,,nort2671,sme\r\n"

#: What is inserted into files: markers, tags, entities and escapes of the formats, and broken bytes.
FRAGMENTS = [
    b"", b" ", b"\n", b"\r\n", b"\t", b"\r", b"\x00", b"\x0b", b"\xef\xbb\xbf", b"\xff", b"\xc3", b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80", "\u0332".encode(), "\u30ab".encode(), "\u2028".encode(), "\U0001f600".encode(),
    b"\\t", b"\\m", b"\\g", b"\\l", b"\\p", b"\\t ", b"\\g ", b"\\_sh v3.0  400  Text", b"\\ref", b"\\ref x",
    b"\\tx", b"\\mb", b"\\ge", b"\\ps", b"\\ft", b"\\ft ", b"\\ag ?", b"\\id", b"***", b"?", b"-", b"=", b"--",
    b"<", b">", b"&", b"&amp;", b"&bogus;", b"&#0;", b"&#xD800;", b"<![CDATA[", b"]]>", b"<!--", b"-->",
    b"<phrase>", b"</phrase>", b"<words>", b"</words>", b"<word>", b"<morphemes>", b"<morph>",
    b'<item type="gls" lang="en">', b'<item type="txt" lang="ddo">x</item>', b"</item>",
    b"<ANNOTATION>", b"</ANNOTATION>", b"<TIER TIER_ID=\"glosses\">", b"</TIER>",
    b'<REF_ANNOTATION ANNOTATION_ID="a3" ANNOTATION_REF="a99">', b'TIME_SLOT_REF1="ts9"', b'TIME_VALUE="-1"',
    b'ANNOTATION_REF="a1"', b'PREVIOUS_ANNOTATION="a17"', b'TIME_SLOT_ID="x"',
    b'"', b",", b'""', b"{", b"}", b"[", b"]", b"null", b"1e999", b"-0", b'"\\ud800"', b'"\\u0000"',
    b'{"transcription": "a"}', b'{"transcription": "a b", "glosses": "A"}', b'"language": {}', b'"id": []',
    b'"Gloss": "a\\tb"', b'"separator": null', b'"url": "missing.csv"', b'"dc:conformsTo": "x"',
]

_TAG = re.compile(rb"</?[A-Za-z_][^<>]*>")


def fragments() -> st.SearchStrategy[bytes]:
    return st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=8),
                     st.text(max_size=8).map(lambda text: text.encode("utf-8", "surrogatepass")))


@st.composite
def mutation(draw, data: bytes) -> bytes:
    """``data`` broken once, in one of the ways files get broken."""
    lines = data.splitlines(keepends=True) or [b""]
    line = draw(st.integers(0, len(lines) - 1))
    at = draw(st.integers(0, len(data)))
    kind = draw(st.sampled_from(["delete line", "duplicate line", "insert line", "swap lines", "flip byte",
                                 "truncate", "insert", "replace span", "drop tag"]))
    if kind == "delete line":
        del lines[line]
    elif kind == "duplicate line":
        lines.insert(draw(st.integers(0, len(lines))), lines[line])
    elif kind == "insert line":
        lines.insert(line, draw(fragments()) + draw(st.sampled_from([b"\n", b"\r\n", b""])))
    elif kind == "swap lines":
        other = draw(st.integers(0, len(lines) - 1))
        lines[line], lines[other] = lines[other], lines[line]
    elif kind == "flip byte" and data:
        at = min(at, len(data) - 1)
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    elif kind == "truncate":
        return data[:at]
    elif kind == "insert":
        return data[:at] + draw(fragments()) + data[at:]
    elif kind == "replace span":
        return data[:at] + draw(fragments()) + data[at + draw(st.integers(1, 40)):]
    elif kind == "drop tag":
        tags = list(_TAG.finditer(data))
        if tags:
            tag = tags[draw(st.integers(0, len(tags) - 1))]
            return data[:tag.start()] + data[tag.end():]
    return b"".join(lines)


@st.composite
def mutated(draw, files: dict[str, bytes]) -> dict[str, bytes]:
    """A small valid set of files with one to four of them broken."""
    files = dict(files)
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(files)))
        files[name] = draw(mutation(files[name]))
    return files


def marker_lines(markers: list[str]) -> st.SearchStrategy[bytes]:
    """Random lines that start with a format's markers, for getting past its first checks."""
    line = st.tuples(st.sampled_from(markers), st.text(max_size=20)).map(lambda pair: f"{pair[0]} {pair[1]}")
    return st.lists(st.one_of(line, st.just("")), max_size=12).map(
        lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass"))


@functools.cache
def _glosser() -> MajorityGlosser:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "train.txt"
        path.write_text(TRAIN, encoding="utf-8")
        return MajorityGlosser.train(list(read_sigmorphon(path)))


@functools.cache
def _built_seeds() -> dict[str, dict[str, bytes]]:
    """Valid files of the formats written by autogloss itself."""
    with tempfile.TemporaryDirectory() as directory:
        directory = Path(directory)
        (directory / "train.txt").write_text(TRAIN, encoding="utf-8")
        records = list(read_sigmorphon(directory / "train.txt"))
        records[1] = records[1].replace(glosses="")
        write_jsonl(records, directory / "in.jsonl")
        write_store(records, directory / "in.parquet")
        write_records(records, directory / "dataset", "cldf")
        return {"jsonl": {"in.jsonl": (directory / "in.jsonl").read_bytes()},
                "parquet": {"in.parquet": (directory / "in.parquet").read_bytes()},
                "cldf dataset": {path.name: path.read_bytes() for path in (directory / "dataset").iterdir()}}


#: reader -> (format, the file read (for a dataset: its directory), valid files, markers of its lines)
READERS = {
    "sigmorphon": ("sigmorphon", "in.txt", lambda: {"in.txt": TRAIN.encode()}, ["\\t", "\\m", "\\g", "\\l", "\\p"]),
    "text": ("text", "in.txt", lambda: {"in.txt": PLAIN_TEXT.encode()}, ["", "\t"]),
    "jsonl": ("jsonl", "in.jsonl", lambda: _built_seeds()["jsonl"], ["{", '{"transcription": ', "[", '"']),
    "parquet": ("parquet", "in.parquet", lambda: _built_seeds()["parquet"], ["PAR1"]),
    "cldf examples": ("cldf", "examples.csv",
                      lambda: {"examples.csv": EXAMPLES_CSV.encode(), "languages.csv": LANGUAGES_CSV.encode()},
                      ["ID,Language_ID,Primary_Text,Analyzed_Word,Gloss", "1,16,", '"', ","]),
    "cldf dataset": ("cldf", ".", lambda: _built_seeds()["cldf dataset"], ["{", '"url":', '"tables": [']),
    "flextext": ("flextext", "in.flextext", lambda: {"in.flextext": FLEXTEXT.encode()},
                 ["<document>", "<phrase>", "<word>", "<item type=\"gls\">", "</phrase>"]),
    "toolbox": ("toolbox", "in.sfm", lambda: {"in.sfm": TOOLBOX.encode()},
                ["\\_sh v3.0  400  Text", "\\ref", "\\tx", "\\mb", "\\ge", "\\ps", "\\ft", "\\ag"]),
    "elan": ("elan", "in.eaf", lambda: {"in.eaf": ELAN.encode()},
             ["<ANNOTATION_DOCUMENT>", "<TIER TIER_ID=\"utterance\">", "<ANNOTATION>", "</TIER>"]),
}


#: Where each format is written (a CLDF dataset is a folder).
WRITTEN = {"sigmorphon": "written.txt", "jsonl": "written.jsonl", "parquet": "written.parquet", "cldf": "written",
           "flextext": "written.flextext", "toolbox": "written.sfm", "elan": "written.eaf"}


def read_and_write_back(reader: str, files: dict[str, bytes], target: str | None = None) -> bool:
    """Read ``files`` as ``reader`` does and write what was read in its own
    format (or ``target``), which must then read back; only
    :class:`AutoglossError` may come out of the reading, none of the reading
    back. True when the files were read and written."""
    format, name, _, _ = READERS[reader]
    target = target or ("sigmorphon" if format == "text" else format)
    directory = Path(tempfile.mkdtemp(prefix="autogloss-fuzz-"))
    try:
        for file_name, content in files.items():
            (directory / file_name).write_bytes(content)
        path = directory / name
        written = []
        try:
            if format in ("flextext", "toolbox", "elan") or reader == "cldf dataset":
                document = read_document(path, format)
                document.records()
                fill_document(document, _glosser())
                written.append(directory / "document" / WRITTEN[target])
                write_document(document, written[-1], target)
            records = list(read_records(path if reader != "cldf dataset" else next(directory.glob("*.json"), path),
                                        format))
            written.append(directory / "records" / WRITTEN[target])
            write_records(records, written[-1], target)
        except AutoglossError:
            return False
        if records:  # what autogloss wrote, it reads (a file of no records may be refused)
            for output in written:
                list(read_records(output, target))
        return True
    finally:
        shutil.rmtree(directory, ignore_errors=True)


#: What is read is written in its own format (None) or converted to another.
targets = st.sampled_from([None, *WRITTEN])


def test_every_reader_is_fuzzed():
    assert set(READERS) >= {"sigmorphon", "text", "jsonl", "parquet", "cldf examples", "cldf dataset",
                            "flextext", "toolbox", "elan"}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_the_valid_seed_files_read_and_convert_to_every_format(reader):
    """The files the mutations start from are valid, so mutating them tests the readers past their first line."""
    format, name, seed, _ = READERS[reader]
    directory = Path(tempfile.mkdtemp(prefix="autogloss-fuzz-"))
    try:
        for file_name, content in seed().items():
            (directory / file_name).write_bytes(content)
        path = directory / name
        assert list(read_records(path if reader != "cldf dataset" else next(directory.glob("*.json")), format))
        for target in [None, *WRITTEN]:
            assert read_and_write_back(reader, seed(), target), target
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("reader", sorted(READERS))
@FUZZ
@given(data=st.data())
def test_broken_files_fail_only_with_autoglosss_errors(reader, data):
    read_and_write_back(reader, data.draw(mutated(READERS[reader][2]())), data.draw(targets))


@pytest.mark.parametrize("reader", sorted(READERS))
@FUZZ
@given(data=st.data())
def test_random_input_fails_only_with_autoglosss_errors(reader, data):
    _, name, seed, markers = READERS[reader]
    content = data.draw(st.one_of(st.binary(max_size=300), marker_lines(markers)))
    files = {file_name: content if file_name == name or len(seed()) == 1 else original
             for file_name, original in seed().items()}
    if name == ".":  # a dataset: random metadata beside valid tables
        files = {**files, "Generic-metadata.json": content}
    read_and_write_back(reader, files, data.draw(targets))


# -- what fuzzing found, pinned -------------------------------------------------------------------------------
@pytest.mark.parametrize(("format", "name", "content", "where"), [
    ("sigmorphon", "in.txt", b"\\t ok\n\\g OK\n\n\\t ra\x01lad\n\\g sea\n", ":4: a control character (U+0001) at column 6"),
    ("sigmorphon", "in.txt", b"\\t ok\n\\g O\x0bK\n", ":2: a control character (U+000B) at column 5"),
    ("text", "in.txt", "ok\nra\x00ład\tsea\n".encode(), ":2: a control character (U+0000) at column 3"),
    ("text", "in.txt", "ok\tse\ufffea\n".encode(), ":1: a noncharacter (U+FFFE) at column 6"),
    ("cldf", "examples.csv", EXAMPLES_CSV.replace("in this good car", "in this\x15good car").encode(),
     ":2: a control character (U+0015) at column 81"),
    ("toolbox", "in.sfm", TOOLBOX.replace("\\tx Ixiw raład\n", "\\tx Ixiw ra\x01ład\n").encode(),
     ":7: a control character (U+0001) at column 12"),
])
def test_text_no_format_can_write_is_refused_where_it_is_read(tmp_path, format, name, content, where):
    """A control character read from a text file used to crash writing FLEx (lxml's ValueError) and
    made ELAN files that no reader opens (and shared-task files that no reader opens either)."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FormatError) as raised:
        write_records(read_records(path, format), tmp_path / "out.flextext", "flextext")
    assert str(raised.value) == f"{path}{where}"
    assert not (tmp_path / "out.flextext").exists()


def test_damaged_parquet_data_is_a_format_error(tmp_path):
    """The footer is read when the file is opened, the column chunks only later: damage there
    used to escape as pyarrow's OSError."""
    write_store([IGTRecord(id=str(n), transcription=f"word{n} other{n}") for n in range(50)], tmp_path / "r.parquet")
    data = bytearray((tmp_path / "r.parquet").read_bytes())
    for at in range(8, 40):  # the first column chunk's compressed bytes, after the magic "PAR1"
        data[at] ^= 0x5A
    (tmp_path / "r.parquet").write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"r\.parquet: damaged Parquet file"):
        list(read_records(tmp_path / "r.parquet"))


@pytest.mark.parametrize(("column", "values", "message"), [
    ("transcription", pa.array([5]), "column(s) of another type or repeated: transcription (int64)"),
    ("transcription", pa.array([None], pa.string()), "row 1: record has no transcription"),
])
def test_parquet_of_other_columns_is_refused(tmp_path, column, values, message):
    """Any Parquet file with the store's column names used to be read, ints and nulls as text."""
    columns = {name: pa.array(["x"] if name == "id" else [None], SCHEMA.field(name).type) for name in SCHEMA.names}
    pq.write_table(pa.table({**columns, column: values}), tmp_path / "other.parquet")
    with pytest.raises(FormatError, match=re.escape(message)):
        list(read_records(tmp_path / "other.parquet"))


def test_parquet_with_invalid_utf8_is_refused(tmp_path):
    columns = {name: pa.array(["x"] if name == "id" else [None], SCHEMA.field(name).type) for name in SCHEMA.names}
    columns["transcription"] = pa.array([b"ra\xffad"], pa.binary()).view(pa.string())
    pq.write_table(pa.table(columns), tmp_path / "bad.parquet", compression="none")
    with pytest.raises(FormatError, match=r"bad\.parquet: damaged Parquet file \('utf-8' codec"):
        list(read_records(tmp_path / "bad.parquet"))


@pytest.mark.parametrize(("name", "content", "translation"), [
    ("in.eaf", ELAN.replace("<ANNOTATION_VALUE>A big sea formed.</ANNOTATION_VALUE>",
                            "<ANNOTATION_VALUE>A big\n\\g FAKE-GLOSS</ANNOTATION_VALUE>"), "A big \\g FAKE-GLOSS"),
    ("in.flextext", FLEXTEXT.replace('<item type="gls" lang="en">A big sea formed.</item>',
                                     '<item type="gls" lang="en">A big\n\\g FAKE-GLOSS</item>'),
     "A big \\g FAKE-GLOSS"),
    ("examples.csv", EXAMPLES_CSV.replace("in this good car", '"in this\r\n\\g FAKE-GLOSS"'),
     "in this \\g FAKE-GLOSS"),
])
def test_a_line_break_in_a_tier_never_becomes_a_line_of_the_shared_task_format(tmp_path, name, content,
                                                                              translation):
    """ELAN and FLEx text and quoted CSV fields may span lines; written as they were, the rest
    of such a translation became a \\g line of its own, a gloss nobody gave (or a broken file)."""
    (tmp_path / name).write_bytes(content.encode("utf-8"))
    records = list(read_records(tmp_path / name))
    write_records(records, tmp_path / "out.txt", "sigmorphon")
    back = list(read_records(tmp_path / "out.txt", "sigmorphon"))
    assert back[0].translation == translation
    assert [r.transcription_words for r in back] == [r.transcription_words for r in records]
    assert all(b.glosses in ("", r.glosses) and "FAKE" not in b.glosses for b, r in zip(back, records))


def test_a_word_column_over_two_lines_is_refused(tmp_path):
    path = tmp_path / "examples.csv"
    path.write_text(EXAMPLES_CSV.replace("dán\tbuori\tbiillas,", '"dán\nbuori\tbiillas",'), encoding="utf-8")
    with pytest.raises(FormatError, match=r"examples\.csv:2: Analyzed_Word has a line break"):
        list(read_records(path))


def _dataset(tmp_path, name: str, old: str, new: str) -> Path:
    """The seed CLDF dataset in ``tmp_path``, with ``old`` replaced by ``new`` in file ``name``."""
    for file_name, content in _built_seeds()["cldf dataset"].items():
        text = content.decode("utf-8")
        (tmp_path / file_name).write_text(text.replace(old, new) if file_name == name else text, encoding="utf-8")
    return tmp_path / "Generic-metadata.json"


def test_cldf_dataset_text_no_format_can_write_is_refused(tmp_path):
    metadata = _dataset(tmp_path, "examples.csv", "A big sea formed.", "A big\x15sea formed.")
    with pytest.raises(FormatError, match=r"examples\.csv:2: Translated_Text: a control character \(U\+0015\)"):
        list(read_records(metadata))


def test_cldf_dataset_of_broken_csv_is_a_format_error(tmp_path):
    """csvw reads strictly quoted CSV; its csv.Error used to escape."""
    metadata = _dataset(tmp_path, "examples.csv", ",A big sea formed.,", ',"A big" sea formed.,')
    with pytest.raises(FormatError, match=r"Generic-metadata\.json: not a readable CLDF dataset: .*expected"):
        list(read_records(metadata))


def test_cldf_dataset_that_cannot_be_written_valid_is_an_autogloss_error(tmp_path):
    """Metadata without the dataset's dc:conformsTo is read; writing it back used to end in pycldf's KeyError."""
    metadata = _dataset(tmp_path, "Generic-metadata.json", '"dc:conformsTo": "http://cldf.clld.org/v1.0/terms.rdf#Generic",', "")
    document = read_document(metadata, "cldf")
    with pytest.raises(AutoglossError, match="would not be valid"):
        document.write(tmp_path / "again")
    assert not (tmp_path / "again").exists()


def test_an_empty_elan_word_is_refused_as_an_empty_flex_word_is(tmp_path):
    """A word with no text but morphemes under it was read, and written to Toolbox as a gap that
    shifted every gloss of its line (the file written then did not read back)."""
    path = tmp_path / "in.eaf"
    path.write_text(ELAN.replace("<ANNOTATION_VALUE>Ixiw</ANNOTATION_VALUE>", "<ANNOTATION_VALUE> </ANNOTATION_VALUE>"),
                    encoding="utf-8")
    with pytest.raises(FormatError, match=r"in\.eaf:27: word a3 of tier 'words' is empty"):
        read_document(path, "elan")


def test_a_backslash_followed_by_a_space_is_no_marker_of_the_text_after_it():
    # found by the fuzzing above: a bare "\" line continued by "ag ?" was written back as "\   ag ?",
    # which read as a second \ag (guess) line under one \tx line and was refused
    sample = READERS["toolbox"][2]()["in.sfm"]
    broken = sample.replace(b"\\ft ", b"\\\nag ?\n\\ft ", 1)
    assert broken != sample
    assert read_and_write_back("toolbox", {"in.sfm": broken}) is True
    assert read_and_write_back("toolbox", {"in.sfm": broken}, "toolbox") is True
