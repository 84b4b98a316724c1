"""Published CLDF datasets (``tests/realfiles/cldf/``): clitics keep their
boundaries (issue 15 item 2), a ``metadata.json`` is found without
``--format`` (item 9), rows with nothing to gloss are left alone (item 11),
and a dataset is written back as it was, file by file (item 16)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from autogloss.errors import AutoglossError
from autogloss.formats import detect_format, read_document, read_records, write_records
from autogloss.glossing import fill_document
from autogloss.interlinear.cldf import GUESS_COLUMN, CldfDocument, _validate
from autogloss.interlinear.document import GlossState
from autogloss.records import IGTRecord

from conftest import cli
from test_realfiles import FAKE_GLOSS, FakeGlosser

ROOT = Path(__file__).parent / "realfiles" / "cldf"
DATASETS = sorted(path for path in ROOT.iterdir() if path.is_dir())


class RecordingGlosser(FakeGlosser):
    """The fake glosser, noting the ids of the sentences it was offered."""

    def __init__(self):
        self.offered: list[str] = []

    def gloss_with_confidence(self, records):
        records = list(records)
        self.offered += [record.id for record in records]
        return super().gloss_with_confidence(records)


def _copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(ROOT / name, tmp_path / name))


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _slots(document: CldfDocument, sentence_id: str) -> list[list[tuple[str, str, str]]]:
    sentence = next(s for s in document.sentences if s.id == sentence_id)
    return [[(slot.form, slot.gloss, slot.state.value) for slot in word.slots] for word in sentence.words]


# -- item 16: written back as it was ------------------------------------------------------------
@pytest.mark.parametrize("dataset", DATASETS, ids=lambda path: path.name)
def test_an_unchanged_dataset_is_written_back_byte_for_byte(dataset, tmp_path):
    read_document(dataset).write(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in dataset.iterdir())
    for part in dataset.iterdir():
        assert (tmp_path / "out" / part.name).read_bytes() == part.read_bytes(), part.name


def test_metadata_numbers_and_dialect_stay_as_they_were_when_the_guess_column_is_added(tmp_path):
    dataset = _copy("lapollaqiang-cut", tmp_path)
    examples = dataset / "examples.csv"
    examples.write_bytes(examples.read_bytes().replace(b"\\tin.the.past-LOC,", b"\\t,", 1))  # a gloss left empty
    document = read_document(dataset)
    assert fill_document(document, FakeGlosser()).filled == 2   # in.the.past, LOC
    document.write(tmp_path / "out")
    written = (tmp_path / "out" / "cldf-metadata.json").read_text(encoding="utf-8")
    assert '"minimum": -90' in written and '"maximum": 180' in written
    before, after = (json.loads(text) for text in ((dataset / "cldf-metadata.json").read_text(encoding="utf-8"),
                                                     written))
    assert after["dialect"] == before["dialect"]
    columns = next(t for t in after["tables"] if t["url"] == "examples.csv")["tableSchema"]["columns"]
    assert columns.pop()["name"] == GUESS_COLUMN
    assert after == before
    # every other file is the file read
    for name in ("languages.csv", "texts.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (dataset / name).read_bytes()


def test_glossing_rewrites_only_the_gloss_cells_of_rows_it_glossed(tmp_path):
    """kalamang-cut logs a validation warning ("Unknown variables in URI template"): it is written all the same."""
    dataset = ROOT / "kalamang-cut"
    document = read_document(dataset)
    fill_document(document, FakeGlosser())
    document.write(tmp_path / "out")
    old, new = _lines(dataset / "examples.csv"), _lines(tmp_path / "out" / "examples.csv")
    assert len(old) == len(new)
    assert new[0] == old[0].replace(b"\n", b"," + GUESS_COLUMN.encode() + b"\n")
    old_rows, new_rows = _rows(dataset / "examples.csv"), _rows(tmp_path / "out" / "examples.csv")
    for old_line, new_line, old_row, new_row in zip(old[1:], new[1:], old_rows, new_rows):
        if not new_row[GUESS_COLUMN]:
            assert new_line == old_line.replace(b"\n", b",\n")  # untouched, an empty guess cell added
        else:
            assert {k: v for k, v in new_row.items() if k not in ("Gloss", GUESS_COLUMN)} == \
                {k: v for k, v in old_row.items() if k != "Gloss"}
    # a person's gloss with spaces and semicolons is written as it was, next to the one filled
    glossed = next(row for row in new_rows if row["ID"] == "XV000002")
    assert glossed["Gloss"] == "2SG\\t=OBJ\\t=FOC\\tcall; call.out\\t=NEG\\t" + FAKE_GLOSS
    assert glossed[GUESS_COLUMN] == "6.1"


def test_crlf_line_ends_and_quoting_are_kept(tmp_path):
    dataset = _copy("apalai-cut", tmp_path)
    examples = dataset / "examples.csv"
    lf = examples.read_bytes()
    examples.write_bytes(lf.replace(b"\n", b"\r\n").replace(b"\tconsuma\xc3\xa7\xc3\xa3o,", b"\t,", 1))
    read_document(dataset).write(tmp_path / "same")
    assert (tmp_path / "same" / "examples.csv").read_bytes() == examples.read_bytes()

    document = read_document(dataset)
    assert fill_document(document, FakeGlosser()).filled == 1
    document.write(tmp_path / "out")
    lines = _lines(tmp_path / "out" / "examples.csv")
    assert all(line.endswith(b"\r\n") for line in lines)
    # a quoted Primary_Text stays quoted, rows not glossed stay as they were (and an empty guess cell)
    assert lines[3] == _lines(examples)[3].replace(b"\r\n", b",\r\n")
    assert lines[3].count(b'"') == 4


def test_a_tab_delimited_table_with_a_comment_and_a_cell_over_two_lines_keeps_them(tmp_path):
    dataset = _copy("apalai-cut", tmp_path)
    rows = list(csv.reader(io.StringIO((dataset / "examples.csv").read_text(encoding="utf-8"), newline="")))
    rows[1][7] = rows[1][7].removesuffix("consumação")  # a gloss left empty
    rows[2][4] += "\nsecond line"
    text = io.StringIO()
    writer = csv.writer(text, delimiter="\t", lineterminator="\n")
    writer.writerow(rows[0])
    text.write("# a comment line\n")
    writer.writerows(rows[1:])
    (dataset / "examples.csv").write_text(text.getvalue(), encoding="utf-8", newline="")
    metadata = json.loads((dataset / "metadata.json").read_text(encoding="utf-8"))
    next(t for t in metadata["tables"] if t["url"] == "examples.csv")["dialect"] = {"delimiter": "\t",
                                                                                      "commentPrefix": "#"}
    (dataset / "metadata.json").write_text(json.dumps(metadata, indent=4), encoding="utf-8")

    document = read_document(dataset)
    assert [s.origin.rsplit(":", 1)[1] for s in document.sentences] == ["3", "4", "6", "7", "8", "9", "10", "11"]
    document.write(tmp_path / "same")
    assert (tmp_path / "same" / "examples.csv").read_bytes() == (dataset / "examples.csv").read_bytes()
    assert fill_document(document, FakeGlosser()).filled == 1
    document.write(tmp_path / "out")
    old, new = _lines(dataset / "examples.csv"), _lines(tmp_path / "out" / "examples.csv")
    assert new[1] == b"# a comment line\n" and new[3] == old[3]  # the first line of the two-line row
    assert new[4:] == [line.replace(b"\n", b"\t\n") for line in old[4:]]  # rows not glossed: an empty guess cell
    assert "matar-tnsPdist\tgl" in _rows_tsv(tmp_path / "out" / "examples.csv")[0]["Gloss"]


def _rows_tsv(path: Path) -> list[dict]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("".join(lines), newline=""), delimiter="\t"))


def test_zipped_tables_are_read_and_written_zipped(tmp_path):
    """Large datasets ship examples.csv.zip, which csvw reads in place of examples.csv."""
    dataset = _copy("kalamang-cut", tmp_path)
    for name in ("examples.csv", "entries.csv"):
        with zipfile.ZipFile(dataset / f"{name}.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(dataset / name, arcname=name)
        (dataset / name).unlink()
    document = read_document(dataset)
    assert len(document.sentences) == 8 and document.sentences[0].origin.endswith("examples.csv:3")
    document.write(tmp_path / "same")
    for part in dataset.iterdir():
        assert (tmp_path / "same" / part.name).read_bytes() == part.read_bytes(), part.name
    fill_document(document, FakeGlosser())
    document.write(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in dataset.iterdir())
    again = read_document(tmp_path / "out")
    assert _slots(again, "XV000002")[-1] == [(".", FAKE_GLOSS, "guess")]


def test_a_bom_is_kept(tmp_path):
    dataset = _copy("valpal-cut", tmp_path)
    examples = dataset / "examples.csv"
    examples.write_bytes(b"\xef\xbb\xbf" + examples.read_bytes())
    document = read_document(dataset)
    assert document.sentences[0].id == "como1259-243"
    document.write(tmp_path / "out")
    assert (tmp_path / "out" / "examples.csv").read_bytes() == examples.read_bytes()


def _broken(tmp_path: Path) -> Path:
    """A dataset whose example names a language languages.csv does not have."""
    folder = tmp_path / "broken"
    write_records([IGTRecord("e1", "Ixiw raład.", glosses="big", segmentation="ixiw raład")], folder, "cldf")
    languages = folder / "languages.csv"
    languages.write_text(languages.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    return folder / "Generic-metadata.json"


def test_an_invalid_dataset_is_refused_saying_what_is_invalid(tmp_path):
    metadata = _broken(tmp_path)
    with pytest.raises(AutoglossError) as error:
        _validate(metadata, None, metadata.parent, tmp_path / "out")
    reason = str(error.value).partition("would not be valid: ")[2]
    assert "languages.csv" in reason and "und" in reason


def test_a_problem_the_dataset_had_when_read_does_not_block_writing_it(tmp_path):
    document = read_document(_broken(tmp_path))
    fill_document(document, FakeGlosser())
    document.write(tmp_path / "out")
    assert [r.glosses for r in read_document(tmp_path / "out").records()] == ["big gl"]


def test_written_in_place_the_folder_keeps_its_other_files(tmp_path):
    dataset = _copy("kalamang-cut", tmp_path)
    (dataset / "README.md").write_text("the dataset's own notes\n", encoding="utf-8")
    document = read_document(dataset)
    fill_document(document, FakeGlosser())
    document.write(dataset)
    assert (dataset / "README.md").read_text(encoding="utf-8") == "the dataset's own notes\n"
    assert (dataset / "media.csv").read_bytes() == (ROOT / "kalamang-cut" / "media.csv").read_bytes()
    assert read_document(dataset).sentences[0].words[-1].slots[0].state is GlossState.GUESS


# -- item 2: clitics keep their boundaries ------------------------------------------------------------
def test_a_clitic_word_is_one_morpheme_with_its_boundary_and_its_gloss_stays():
    document = read_document(ROOT / "kalamang-cut")
    assert _slots(document, "XV000002")[:3] == [[("ka", "2SG", "human")], [("=at", "OBJ", "human")],
                                                [("=a", "FOC", "human")]]
    assert _slots(document, "XV000005")[1] == [("-ahutak", "alone", "human")]
    valpal = read_document(ROOT / "valpal-cut")
    assert _slots(valpal, "como1259-242")[1] == [("tə=", "DET", "human")]
    assert _slots(valpal, "como1259-241")[1] == [("=št", "1PL.INDC.SBJ", "human")]


def test_glossing_leaves_a_clitic_gloss_as_written_and_gives_an_empty_one_its_boundary(tmp_path):
    dataset = _copy("kalamang-cut", tmp_path)
    examples = dataset / "examples.csv"
    examples.write_bytes(examples.read_bytes().replace(b"2SG\\t=OBJ\\t=FOC\\t", b"2SG\\t=OBJ\\t\\t", 1))
    document = read_document(dataset)
    assert _slots(document, "XV000002")[2] == [("=a", "", "empty")]
    fill_document(document, FakeGlosser())
    document.write(tmp_path / "out")
    row = next(r for r in _rows(tmp_path / "out" / "examples.csv") if r["ID"] == "XV000002")
    assert row["Gloss"] == f"2SG\\t=OBJ\\t={FAKE_GLOSS}\\tcall; call.out\\t=NEG\\t{FAKE_GLOSS}"
    again = read_document(tmp_path / "out")
    assert _slots(again, "XV000002")[1:3] == [[("=at", "OBJ", "human")], [("=a", FAKE_GLOSS, "guess")]]


# -- item 9: a metadata.json ----------------------------------------------------------------------------
def test_a_metadata_json_is_found_without_a_format(tmp_path):
    dataset = ROOT / "apalai-cut"
    assert detect_format(dataset) == "cldf" and detect_format(dataset / "metadata.json") == "cldf"
    assert len(read_document(dataset).sentences) == 8
    assert len(read_document(dataset / "metadata.json").sentences) == 8
    assert len(list(read_records(dataset / "metadata.json"))) == 8
    done = cli("convert", dataset, tmp_path / "out.txt")
    assert done.returncode == 0, done.stderr
    assert "\\g então lagarto matar-tnsPdist consumação" in (tmp_path / "out.txt").read_text(encoding="utf-8")
    # a JSON file that is not CLDF metadata (cldfbench's own metadata.json) is not taken for one
    (tmp_path / "repository").mkdir()
    (tmp_path / "repository" / "metadata.json").write_text('{"title": "a cldfbench repository"}', encoding="utf-8")
    assert detect_format(tmp_path / "repository" / "metadata.json") != "cldf"
    assert detect_format(tmp_path / "repository") != "cldf"


# -- item 11: rows with nothing to gloss -------------------------------------------------------------------
def test_translation_only_rows_are_not_sentences_and_are_written_back_unchanged(tmp_path):
    dataset = _copy("tsezacp-cut", tmp_path)
    lines = dataset / "lines.csv"
    lines.write_bytes(lines.read_bytes().replace(b"\tone\tmarried.couple,", b"\t\t,", 1))
    document = read_document(dataset)
    assert [s.id for s in document.sentences] == [f"{n}-en" for n in range(1, 7)]
    glosser = RecordingGlosser()
    assert fill_document(document, glosser).filled == 2
    assert glosser.offered == ["1-en"]
    document.write(tmp_path / "out")
    old, new = _lines(lines), _lines(tmp_path / "out" / "lines.csv")
    for old_line, new_line in zip(old[1:], new[1:]):
        if b"-ru," in old_line[:8]:
            assert new_line == old_line.replace(b"\n", b",\n")  # nothing glossed, only the empty guess cell


def test_unanalysed_examples_are_not_offered_to_the_model():
    document = read_document(ROOT / "kalamang-cut")
    glosser = RecordingGlosser()
    fill_document(document, glosser)
    assert "XV000001" not in glosser.offered and set(glosser.offered) <= {s.id for s in document.sentences}
    assert len(document.rows) == 14 and len(document.sentences) == 8


# -- where each sentence is -----------------------------------------------------------------------------
def test_sentences_know_the_line_of_their_row():
    document = read_document(ROOT / "tsezacp-cut")
    assert [s.origin.rsplit(":", 1)[1] for s in document.sentences] == ["2", "4", "6", "8", "10", "12"]
    assert document.sentences[0].origin.endswith("tsezacp-cut/lines.csv:2")
    assert read_document(ROOT / "kalamang-cut").sentences[0].origin.endswith("examples.csv:3")
