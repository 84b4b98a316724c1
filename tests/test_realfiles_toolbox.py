"""Issue 15, Toolbox and Shoebox files from public projects (``tests/realfiles/toolbox/``):
read as their lines say (bytes or screen columns, 8-bit or UTF-8, Toolbox or
Shoebox markers, token-aligned lines), glossed and written back in their own
layout and encoding, and refused, naming the line, where they cannot be read
without guessing."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autogloss.cli import app
from autogloss.errors import AutoglossError, FormatError
from autogloss.formats import layout_options, read_document
from autogloss.glossing import fill_document
from autogloss.interlinear.document import GlossState
from autogloss.interlinear.toolbox import SHOEBOX_MARKERS, ToolboxDocument, ToolboxMarkers, display_columns
from autogloss.records import GlossedRecord, join_morphemes, split_keep_boundaries, words

ROOT = Path(__file__).parent / "realfiles" / "toolbox"
HEADER = "\\_sh v3.0  400  Text\n\n"


class Glosser:
    """Glosses every morpheme ``gloss``, with the word's own boundaries."""

    def __init__(self, gloss: str = "gl"):
        self.gloss = gloss

    def gloss_with_confidence(self, records):
        for record in records:
            source = words(record.segmentation) if record.segmentation else record.transcription_words
            glossed = [join_morphemes([self.gloss] * len(parts), boundaries)
                       for parts, boundaries in map(split_keep_boundaries, source)]
            yield GlossedRecord(record.replace(glosses=" ".join(glossed)),
                                [[0.5] * len(split_keep_boundaries(word)[0]) for word in source])


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / Path(name).name
    shutil.copyfile(ROOT / name, target)
    return target


def _byte_starts(line: bytes) -> list[int]:
    """Byte columns where the tokens after the marker start (counted without autogloss)."""
    return [match.start() for match in re.finditer(rb"\S+", line)][1:]


def _screen_starts(line: bytes) -> list[int]:
    """Screen columns where the tokens after the marker start (a combining mark takes none)."""
    starts, column, previous = [], 0, " "
    for character in line.decode("utf-8"):
        if character != " " and previous == " ":
            starts.append(column)
        column += 0 if unicodedata.combining(character) else 1
        previous = character
    return starts[1:]


def _lines(data: bytes, marker: bytes) -> list[bytes]:
    return [line for line in data.splitlines() if line.split(b" ", 1)[0] == marker]


# -- item 4: columns counted as the file counts them ------------------------------------------
def test_a_utf8_file_toolbox_saved_is_read_by_bytes_and_glossed_by_bytes(tmp_path):
    path = _copy(tmp_path, "ginukh-pear-madi.txt")
    document = ToolboxDocument.read(path)
    assert {group.measure.name for s in document.sentences for group in s.handle} >= {"utf-8 bytes"}
    third = [(slot.form, slot.gloss, slot.state) for _, _, slot in document.sentences[2].slots()]
    # "ɡruša" (s and a combining caron) takes 7 bytes, 5 characters, 4 columns on screen
    assert third[3:6] == [("\u0261rus\u030ca", "pear(r)", GlossState.HUMAN), ("*i", "", GlossState.EMPTY),
                          ("ha\u026co", "he.OBL", GlossState.HUMAN)]
    with pytest.raises(FormatError, match=r"ginukh-pear-madi.txt:33: \\ge does not line up"):
        ToolboxDocument.read(path, measure=display_columns)
    summary = fill_document(document, Glosser("sit.down.slowly"))
    assert summary.filled == 11
    document.write(tmp_path / "out.txt")
    data = (tmp_path / "out.txt").read_bytes()
    group = data.split(b"\\ref Pear_Madi.003")[1].split(b"\\ft")[0]
    morphemes = _byte_starts(_lines(group, b"\\mb")[0])
    glosses = _lines(group, b"\\ge")[0]   # still aligned by bytes (all but the second word of "do, make")
    assert [start for start in _byte_starts(glosses) if start not in morphemes] == [glosses.index(b" make") + 1]
    assert set(_byte_starts(_lines(group, b"\\tx")[0])) <= set(morphemes)
    again = ToolboxDocument.read(tmp_path / "out.txt")
    assert [s.record().glosses for s in again.sentences][3:] == [s.record().glosses for s in document.sentences][3:]


def test_each_group_is_read_under_the_measure_its_lines_follow(tmp_path):
    """Kakabe: some records line up by bytes, others on screen, in one file."""
    document = ToolboxDocument.read(ROOT / "kakabe.txt")
    measures = [group.measure.name for sentence in document.sentences for group in sentence.handle]
    assert {"utf-8 bytes", "display_columns"} <= set(measures)
    assert document.sentences[0].record().glosses == "Moussa call-GER PRF 1SG CAUS-get.tired"


# -- item 5: encodings ------------------------------------------------------------------------
def test_an_8bit_shoebox_file_is_read_and_written_back_in_its_encoding(tmp_path):
    path = _copy(tmp_path, "FriSampl.txt")
    document = ToolboxDocument.read(path)
    assert document.encoding == "cp1252"
    assert document.sentences[0].words[0].form == "ûnbrekber."
    document.write(tmp_path / "same.txt")
    assert (tmp_path / "same.txt").read_bytes() == path.read_bytes()
    fill_document(document, Glosser("fûn"))
    document.write(tmp_path / "out.txt")
    data = (tmp_path / "out.txt").read_bytes()
    assert b"\\g  f\xfbn" in data and "û".encode("utf-8") not in data
    assert data.startswith(path.read_bytes().split(b"\\ref")[0])
    assert ToolboxDocument.read(tmp_path / "out.txt").sentences[1].record().glosses == \
        "bear-PSTP and up-grow-PSTP in Indonesia"


def test_the_encoding_is_taken_from_the_toolbox_settings_beside_the_file(tmp_path):
    path = _copy(tmp_path, "FriSampl.txt")
    for name in ("FrisianT.typ", "Frisian.lng"):
        _copy(tmp_path, f"settings/{name}")
    assert ToolboxDocument.read(path).encoding == "cp1252"   # Frisian.lng has no \UnicodeLang
    # the same project once its language is switched to Unicode and the file saved as UTF-8
    language = tmp_path / "Frisian.lng"
    language.write_bytes(language.read_bytes().replace(b"\\ver 5.0\n", b"\\ver 5.0\n\\UnicodeLang\n"))
    path.write_bytes(path.read_bytes().decode("cp1252").encode("utf-8"))
    assert ToolboxDocument.read(path).encoding == "utf-8"
    # settings win over the guess: a legacy language reads the file as 8-bit, byte for byte
    language.write_bytes(language.read_bytes().replace(b"\\UnicodeLang\n", b""))
    document = ToolboxDocument.read(path)
    assert document.encoding == "cp1252"
    document.write(tmp_path / "same.txt")
    assert (tmp_path / "same.txt").read_bytes() == path.read_bytes()


def test_stray_latin1_bytes_in_a_utf8_file_are_named_with_what_to_pass(tmp_path):
    path = _copy(tmp_path, "errors/ginukh-stray-latin1.txt")
    with pytest.raises(FormatError, match=r"ginukh-stray-latin1.txt:10: byte 0xA0 at byte 22 is not UTF-8, though "
                                          r"the rest of the file is .* pass --encoding latin-1"):
        ToolboxDocument.read(path)
    document = read_document(path, **layout_options("toolbox", encoding="latin-1"))
    assert document.encoding == "iso8859-1" and document.sentences[0].id == "Pear_Madinat.001"
    document.write(tmp_path / "same.txt")
    assert (tmp_path / "same.txt").read_bytes() == path.read_bytes()
    with pytest.raises(AutoglossError, match="unknown encoding 'klingon'"):
        ToolboxDocument.read(path, encoding="klingon")
    with pytest.raises(FormatError, match=r":10: byte 0xA0 at byte 22 is not utf-8 \(taken from --encoding\)"):
        ToolboxDocument.read(path, encoding="utf-8")


def test_a_gloss_the_file_encoding_cannot_hold_is_refused_before_anything_changes(tmp_path):
    document = ToolboxDocument.read(_copy(tmp_path, "FriSampl.txt"))
    sentence = document.sentences[0]
    with pytest.raises(AutoglossError, match="cannot be written in the file's encoding"):
        document.set_gloss(sentence, 0, 0, "不", GlossState.GUESS)
    assert sentence.words[0].slots[0].gloss == "" and not sentence.handle[0].modified


# -- item 6: records as real files have them ---------------------------------------------------
def test_shoebox_markers_are_detected_for_check_and_convert(tmp_path):
    path = _copy(tmp_path, "FriSampl.txt")
    assert ToolboxDocument.read(path).markers == SHOEBOX_MARKERS
    done = CliRunner().invoke(app, ["check", str(path)])
    assert done.exit_code == 0 and "11 records checked" in done.output
    done = CliRunner().invoke(app, ["convert", str(path), str(tmp_path / "out.jsonl")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").count('"glosses": "bear-PSTP') == 1
    # \gl (Dictionaria's, FLEx's) is found for the glosses too
    assert ToolboxDocument.read(ROOT / "dictionaria-examples.sfm").markers == ToolboxMarkers(glosses="gl")


def test_markers_not_found_are_reported_with_those_that_are(tmp_path):
    with pytest.raises(FormatError, match=r"pepper-bugs-3.txt: no Toolbox records \(no line starts with \\ref\); "
                                          r"markers found: \\itm \(1\), \\id \(3\), \\aud \(3\), \\tx \(6\)"):
        ToolboxDocument.read(ROOT / "errors/pepper-bugs-3.txt")


def test_an_unglossed_text_wrapped_over_lines_reads_and_is_glossed_line_by_line(tmp_path):
    path = _copy(tmp_path, "FriSampl.txt")
    document = ToolboxDocument.read(path)
    first = document.sentences[0]
    assert len(first.words) == 18 and first.words[1].form == "ûnwis."
    fill_document(document, Glosser())
    document.write(tmp_path / "out.txt")
    text = (tmp_path / "out.txt").read_bytes().decode("cp1252")
    assert "\\t  ûnbrekber.\n\\g  gl\n\\ag ?\n\\t  ûnwis.\n\\g  gl\n" in text
    again = ToolboxDocument.read(tmp_path / "out.txt")
    assert [w.form for w in again.sentences[0].words] == [w.form for w in first.words]
    assert again.sentences[0].record().glosses == " ".join(["gl"] * 18)


def test_unnamed_records_empty_fields_and_other_lines_in_a_group(tmp_path):
    path = _copy(tmp_path, "kakabe.txt")
    document = ToolboxDocument.read(path)
    first = document.sentences[0]
    assert (first.id, first.origin, first.translation) == ("kakabe.txt:6", f"{path}:6", None)
    # a gloss left as *** is filled and the group re-aligned (this record lines up on screen)
    path.write_bytes(path.read_bytes().replace(b"\\ge Moussa   call       - GER",
                                               b"\\ge Moussa   ***        - GER"))
    document = ToolboxDocument.read(path)
    fill_document(document, Glosser("summon.loudly"))
    document.write(tmp_path / "out.txt")
    group = (tmp_path / "out.txt").read_bytes().split(b"\\ref\r\n")[1].split(b"\r\n\r\n")[0]
    morphemes = _screen_starts(_lines(group, b"\\mb")[0])
    for marker in (b"\\ge", b"\\ps"):
        assert _screen_starts(_lines(group, marker)[0]) == morphemes, marker
    assert b"summon.loudly" in _lines(group, b"\\ge")[0]
    # the word line, unpadded after its marker, moves with the words; the Russian and French
    # gloss lines, not in the morphemes' columns in the file, are written as they were
    assert _screen_starts(_lines(group, b"\\mot")[0]) == _screen_starts(_lines(group, b"\\tx")[0])
    original = path.read_bytes()
    for marker in (b"\\gr", b"\\gf"):
        assert _lines(group, marker)[0] in original.splitlines()


def test_a_word_left_blank_on_the_morpheme_line_stands_unanalysed(tmp_path):
    document = ToolboxDocument.read(_copy(tmp_path, "ginukh-pear-madi.txt"))
    word = next(w for s in document.sentences for w in s.words if w.form == "oxeya")
    assert not word.segmented and [(s.form, s.state) for s in word.slots] == [("oxeya", GlossState.EMPTY)]
    path = tmp_path / "blank.sfm"
    path.write_text(HEADER + "\\ref 1\n\\tx ab   cd ef\n\\mb a -b    ef\n\\ge x -y    z\n", encoding="utf-8")
    sentence = ToolboxDocument.read(path).sentences[0]
    assert [(w.form, w.segmented, [s.gloss for s in w.slots]) for w in sentence.words] == [
        ("ab", True, ["x", "y"]), ("cd", False, [""]), ("ef", True, ["z"])]


# -- item 12: token-aligned lines are read by token order or refused ---------------------------------
def test_token_aligned_lines_are_read_by_token_order_and_written_as_tokens(tmp_path):
    path = _copy(tmp_path, "dictionaria-examples.sfm")
    document = ToolboxDocument.read(path)
    assert document.sentences[0].record().glosses == "person $dem=$dem.med mw=i abwilyep"
    assert document.sentences[0].origin == f"{path}:1"
    path.write_bytes(path.read_bytes().replace(b"$dem=$dem.med", b"$dem=***"))
    document = ToolboxDocument.read(path)
    assert fill_document(document, Glosser("MED")).filled == 1
    document.write(tmp_path / "out.sfm")
    lines = (tmp_path / "out.sfm").read_text(encoding="utf-8").splitlines()
    assert lines[3:5] == ["\\gl person $dem=MED mw=i abwilyep", "\\ag * *=? *=* *"]
    again = ToolboxDocument.read(tmp_path / "out.sfm")
    assert [(s.gloss, s.state.value) for _, _, s in again.sentences[0].slots()][1:3] == [
        ("$dem", "human"), ("MED", "guess")]


def test_lines_neither_in_columns_nor_one_token_each_are_refused_naming_the_line():
    with pytest.raises(FormatError, match=r"kakabe-misaligned.txt:10: \\ge does not line up with the morphemes "
                                          r"above: 'GER' \(column 20\)"):
        ToolboxDocument.read(ROOT / "errors/kakabe-misaligned.txt")
    markers = ToolboxMarkers.parse("ref=id,mb=mr,ge=mg,ft=fg")
    with pytest.raises(FormatError, match=r"pepper-bugs-3.txt:8: \\mr does not line up with the \\tx line 7: "
                                          r".* nor token by token \(7 words, 6 on \\mr, 6 on \\mg\)"):
        ToolboxDocument.read(ROOT / "errors/pepper-bugs-3.txt", markers=markers)


def test_a_gloss_line_one_token_per_word_is_not_assigned_by_column(tmp_path):
    """Read by column, "y" would go to "ab" and "cdefgh" lose its gloss."""
    path = tmp_path / "tokens.sfm"
    path.write_text(HEADER + "\\ref 1\n\\tx ab cdefgh ij\n\\ge x y z\n", encoding="utf-8")
    assert ToolboxDocument.read(path).records()[0].glosses == "x y z"


# -- origins --------------------------------------------------------------------------------------
def test_every_sentence_knows_the_line_of_its_record():
    path = ROOT / "tuwariToolbox.txt"
    lines = [number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if line.startswith("\\ref ")]
    assert [s.origin for s in ToolboxDocument.read(path).sentences] == [f"{path}:{n}" for n in lines]


def test_every_fixture_round_trips_byte_for_byte_with_everything_detected(tmp_path):
    for path in sorted(ROOT.glob("*.json")):
        source = path.with_suffix("")
        document = read_document(source)
        document.write(tmp_path / source.name)
        assert (tmp_path / source.name).read_bytes() == source.read_bytes(), source.name
