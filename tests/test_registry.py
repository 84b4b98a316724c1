"""The format registry: one entry per format, and the document layer below the flat formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autogloss.errors import AutoglossError
from autogloss.formats import (DOCUMENT_FORMATS, FORMATS, FormatName, detect_format, document_format_of, downloads,
                               output_format_for, read_document, read_records, upload_suffixes, write_records)
from autogloss.formats.sigmorphon import format_record
from autogloss.interlinear import RecordDocument
from autogloss.records import GlossedRecord, IGTRecord

from interlinear_fixtures import TOOLBOX

def test_every_format_has_one_entry_and_a_command_line_choice():
    assert list(FORMATS) == ["sigmorphon", "cldf", "parquet", "jsonl", "text", "flextext", "toolbox", "elan"]
    assert [member.value for member in FormatName] == list(FORMATS)
    assert set(DOCUMENT_FORMATS) == {"flextext", "toolbox", "elan", "cldf"}
    assert all(FORMATS[name].document is not None for name in DOCUMENT_FORMATS)


@pytest.mark.parametrize(("name", "format"), [
    ("a.parquet", "parquet"), ("a.CSV", "cldf"), ("a.jsonl", "jsonl"), ("a.flextext", "flextext"), ("a.eaf", "elan"),
    ("a.sfm", "toolbox"), ("a.tbx", "toolbox"), ("a.toolbox", "toolbox"), ("Generic-metadata.json", "cldf"),
    ("a.txt", "sigmorphon"), ("a", "sigmorphon"),
])
def test_formats_are_detected_by_suffix(name, format, tmp_path):
    assert detect_format(tmp_path / name) == format


def test_formats_are_detected_by_content(tmp_path):
    (tmp_path / "notes.txt").write_text(TOOLBOX, encoding="utf-8")
    (tmp_path / "dataset").mkdir()
    (tmp_path / "dataset" / "Generic-metadata.json").write_text("{}", encoding="utf-8")
    assert detect_format(tmp_path / "notes.txt") == "toolbox"
    assert detect_format(tmp_path / "dataset") == "cldf"
    assert document_format_of(tmp_path / "dataset") == "cldf"
    assert document_format_of(tmp_path / "examples.csv") is None  # a bare table: records
    assert document_format_of(tmp_path / "x.txt", "flextext") == "flextext"
    assert document_format_of(tmp_path / "x.txt") is None


@pytest.mark.parametrize(("name", "input_format", "format"), [
    ("out.flextext", "toolbox", "flextext"), ("out.eaf", "cldf", "elan"), ("out.jsonl", "elan", "jsonl"),
    ("out.parquet", "elan", "parquet"), ("out-metadata.json", "toolbox", "cldf"), ("out.txt", "flextext", "sigmorphon"),
    ("out.txt", "toolbox", "toolbox"), ("out.csv", "flextext", "flextext"), ("out", "elan", "elan"),
])
def test_the_output_format_comes_from_the_suffix_else_the_input(name, input_format, format):
    assert output_format_for(Path(name), input_format) == format


def test_the_post_editor_offers_what_the_registry_says():
    assert {name: (d.suffix, d.media_type) for name, d in downloads().items()} == {
        "flextext": (".flextext", "application/xml"), "toolbox": (".txt", "text/plain; charset=utf-8"),
        "elan": (".eaf", "application/xml"), "cldf": (".zip", "application/zip"),
        "sigmorphon": (".txt", "text/plain; charset=utf-8"), "jsonl": (".jsonl", "application/x-ndjson")}
    assert list(downloads()) == ["flextext", "toolbox", "elan", "cldf", "sigmorphon", "jsonl"]
    assert upload_suffixes() == {".flextext", ".eaf", ".sfm", ".tbx", ".toolbox", ".txt", ".jsonl", ".zip"}


def _glossed() -> list[GlossedRecord]:
    return [GlossedRecord(IGTRecord(id="a", transcription="ixiw raład", glosses="big sea"), [[0.9], [0.5]],
                          repairs=("padded",)),
            GlossedRecord(IGTRecord(id="b", transcription="boqno", glosses="form"), [[1.0]])]


def test_glossed_records_are_written_with_their_confidences(tmp_path):
    """What ``autogloss gloss`` wrote in its own loop: JSON lines keep confidence and repairs."""
    glossed = _glossed()
    assert write_records(iter(glossed), tmp_path / "out.jsonl") == 2
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["confidence"] for row in rows] == [[[0.9], [0.5]], [[1.0]]]
    assert rows[0]["repairs"] == ["padded"] and "repairs" not in rows[1]
    assert [r.glosses for r in read_records(tmp_path / "out.jsonl")] == ["big sea", "form"]
    assert write_records(iter(glossed), tmp_path / "out.txt", "sigmorphon") == 2
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "".join(
        format_record(g.record) + "\n\n" for g in glossed)
    write_records(iter(glossed), tmp_path / "out.parquet")
    assert [r.id for r in read_records(tmp_path / "out.parquet")] == ["a", "b"]


def test_any_file_reads_as_a_document(tmp_path, mini_data):
    (tmp_path / "in.txt").write_text("\\t ixiw raład\n\\g big sea\n", encoding="utf-8")
    document = read_document(tmp_path / "in.txt")
    assert isinstance(document, RecordDocument) and document.records()[0].glosses == "big sea"
    table = read_document(mini_data / "uratyp" / "examples.csv")  # a bare CLDF table: records
    assert isinstance(table, RecordDocument) and len(table.sentences) == 2


def test_a_bare_cldf_table_is_read_through_pycldf(tmp_path, mini_data, monkeypatch):
    import pycldf

    described = []
    original = pycldf.Generic.from_metadata.__func__

    def spy(cls, path):
        described.append(Path(path))
        return original(cls, path)

    monkeypatch.setattr(pycldf.Generic, "from_metadata", classmethod(spy))
    first, _ = read_records(mini_data / "uratyp" / "examples.csv")
    assert described == [mini_data / "uratyp"] and first.language.name == "North Saami"


def test_a_row_of_more_cells_than_the_header_is_refused(tmp_path):
    path = tmp_path / "examples.csv"
    path.write_text("ID,Language_ID,Primary_Text,Analyzed_Word,Gloss\n1,x,a b,a\tb,A\tB,extra\n", encoding="utf-8")
    with pytest.raises(AutoglossError, match=r"examples\.csv:2: 5 columns in the header but more in this row"):
        list(read_records(path))


def test_unknown_and_read_only_formats_are_refused(tmp_path):
    with pytest.raises(AutoglossError, match="unknown format 'xml'"):
        write_records([], tmp_path / "out", "xml")
    with pytest.raises(AutoglossError, match="unknown format 'text'"):
        write_records([], tmp_path / "out", "text")
