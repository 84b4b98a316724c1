import pytest

from autogloss.errors import FormatError
from autogloss.formats import read_records, write_records
from autogloss.formats.sigmorphon import read_sigmorphon, write_sigmorphon
from autogloss.formats.store import read_store, write_store
from autogloss.interlinear.cldf import read_examples
from autogloss.records import IGTRecord, Language

from conftest import DEV, TRAIN


def test_reads_shared_task_records(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(TRAIN, encoding="utf-8")
    records = list(read_sigmorphon(path, split="train"))
    assert len(records) == 3
    first = records[0]
    assert first.transcription == "Ixiw raład boqno."
    assert first.segmentation == "ixiw raład b-oq-n"
    assert first.glosses == "big sea III-become-PST.UNW"
    assert first.translation == "A big sea formed."
    assert first.split == "train" and first.origin == f"{path}:1"
    assert records[1].origin == f"{path}:6"


def test_accepts_crlf_bom_trailing_whitespace_and_covered_glosses(tmp_path):
    path = tmp_path / "covered.txt"
    text = "\ufeff\\t Raład boqno.   \r\n\\m raład b-oq-n\t\r\n\\g \r\n\\l The sea formed.\r\n\r\n\r\n"
    path.write_bytes(text.encode("utf-8"))
    [record] = read_sigmorphon(path)
    assert record.transcription == "Raład boqno."
    assert record.segmentation == "raład b-oq-n"
    assert record.glosses == "" and not record.has_glosses
    assert record.translation == "The sea formed."


@pytest.mark.parametrize("text, line, message", [
    ("\\g big\n\\t Ixiw\n", 1, "'\\g' line before any '\\t'"),
    ("\\t Ixiw\n\\g big\n\n\\l x\n\\t y\n", 4, "'\\l' line before any '\\t'"),
    ("\\t Ixiw\n\\x what\n", 2, "unknown marker '\\x'"),
    ("\\t Ixiw\nloose text\n", 2, "unknown marker"),
    ("\\t Ixiw\n\\g big\n\n\\t   \n\\g sea\n", 4, "record has no transcription"),
    ("\\t Ixiw\n\\t again\n", 2, "second '\\t' line"),
])
def test_malformed_input_names_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError) as caught:
        list(read_sigmorphon(path))
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


def test_bytes_that_are_not_utf8_are_reported_with_their_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"\\t ok\n\\g fine\n\n\\t caf\xe9\n\\g coffee\n")
    with pytest.raises(FormatError, match=r"latin1.txt:4: bytes that are not UTF-8"):
        list(read_sigmorphon(path))


def test_skip_invalid_keeps_going_and_reports(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"\\t one\n\\g ONE\n\n\\g orphan\n\\t two\n\n\\t caf\xe9\n\n\\t three\n\\g THREE\n")
    skipped = []
    records = list(read_sigmorphon(path, skip_invalid=True, skipped=skipped))
    assert [r.transcription for r in records] == ["one", "three"]
    assert [e.line for e in skipped] == [4, 7]


def test_shared_task_round_trip(tmp_path):
    source = tmp_path / "dev.txt"
    source.write_text(DEV, encoding="utf-8")
    records = list(read_sigmorphon(source))
    copy = tmp_path / "copy.txt"
    assert write_sigmorphon(records, copy) == 2
    assert list(read_sigmorphon(copy, id_prefix="dev.txt-")) == records
    assert copy.read_text(encoding="utf-8") == DEV + "\n"


def test_round_trip_of_optional_tiers(tmp_path):
    records = [
        IGTRecord(id="f-1", transcription="a b", glosses="A B"),
        IGTRecord(id="f-2", transcription="c", segmentation="c", pos="N", glosses="", translation="see"),
    ]
    path = tmp_path / "f"
    write_sigmorphon(records, path)
    assert list(read_sigmorphon(path, id_prefix="f-")) == records


def test_cldf_examples_are_read_with_their_languages(mini_data):
    path = mini_data / "uratyp" / "examples.csv"
    first, second = read_examples(path)
    assert first.transcription == "dán buori biillas"
    assert first.segmentation == "dán buori biillas"
    assert first.glosses == "this.GENACC good.GENACC car.LOC"
    assert first.language == Language("North Saami", "sme", "nort2671")
    assert first.origin == f"{path}:2"
    assert second.segmentation == "Máreha boađe-dettiin" and second.glosses == ""


def test_cldf_round_trip(tmp_path, mini_data):
    records = list(read_examples(mini_data / "uratyp" / "examples.csv"))
    write_records(records, tmp_path / "out", "cldf")
    assert list(read_examples(tmp_path / "out" / "examples.csv")) == records


def test_cldf_errors_name_file_and_line(tmp_path):
    path = tmp_path / "examples.csv"
    path.write_text("ID,Language_ID,Primary_Text\n1,x,hello\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"examples.csv:1: not a CLDF ExampleTable: missing column\(s\) Analyzed_Word, Gloss"):
        list(read_examples(path))
    path.write_text("ID,Language_ID,Primary_Text,Analyzed_Word,Gloss\n1,x,hello,hello,HI\n2,x,,a,A\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"examples.csv:3: record has no transcription"):
        list(read_examples(path))


def test_store_round_trip_keeps_every_field(tmp_path):
    records = [
        IGTRecord(id="a", transcription="x-y", segmentation="x-y", glosses="X-Y", translation=None,
                  language=Language("Tsez", "ddo", "dido1241"), metalanguage="English", is_segmented=True,
                  source="sigmorphon2023", split="train", license="CC BY-NC 4.0", glosses_original="x-y",
                  pos="N-V", origin="file:1"),
        IGTRecord(id="b", transcription="z", is_segmented=None),
    ]
    path = tmp_path / "records.parquet"
    assert write_store(records, path) == 2
    back = list(read_store(path))
    assert back == records and back[0].origin == "file:1"
    assert list(read_records(path)) == records


def test_store_rejects_other_files(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_text("not parquet")
    with pytest.raises(FormatError, match="not a readable Parquet file"):
        list(read_store(path))


def test_write_records_picks_format_by_extension(tmp_path):
    records = [IGTRecord(id="r-1", transcription="a", glosses="A")]
    write_records(records, tmp_path / "r.parquet")
    write_records(records, tmp_path / "r.txt")
    assert list(read_records(tmp_path / "r.parquet")) == records
    assert list(read_records(tmp_path / "r.txt", id_prefix="r-")) == records


def test_plain_text_lines_with_optional_translation(tmp_path):
    from autogloss.formats import read_plain_text

    path = tmp_path / "new.txt"
    path.write_bytes("Ixiw  raład.\tA big sea.\r\n\r\nŽek’a xabar\n".encode("utf-8"))
    first, second = read_plain_text(path)
    assert (first.transcription, first.translation) == ("Ixiw raład.", "A big sea.")
    assert (second.transcription, second.translation, second.origin) == ("Žek’a xabar", None, f"{path}:3")
    path.write_text("a\tb\tc\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"new.txt:1: more than one tab"):
        list(read_plain_text(path))


def test_jsonl_round_trip_and_errors(tmp_path):
    from autogloss.formats import read_jsonl, write_jsonl

    records = [IGTRecord(id="a", transcription="x y", segmentation="x-z y", glosses="X-Z Y", translation="t",
                         language=Language("Tsez", "ddo", "dido1241"), is_segmented=False, split="dev"),
               IGTRecord(id="b", transcription="q")]
    write_jsonl(records, tmp_path / "r.jsonl")
    assert list(read_records(tmp_path / "r.jsonl")) == records
    (tmp_path / "bad.jsonl").write_text('{"transcription": "ok"}\n{"transcription": 3}\n[1]\n{oops\n', encoding="utf-8")
    skipped = []
    assert len(list(read_jsonl(tmp_path / "bad.jsonl", skip_invalid=True, skipped=skipped))) == 1
    assert [(e.line, e.message.split(" (")[0]) for e in skipped] == [
        (2, "record has no transcription"), (3, "expected a JSON object per line"), (4, "invalid JSON: Expecting property name enclosed in double quotes at column 2")]
