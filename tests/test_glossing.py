"""The glossing pipeline and conversion: what reaches a file, and what a conversion keeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autogloss.formats import convert_file, read_document, read_jsonl, read_sigmorphon
from autogloss.glossing import fill_document, gloss_file, unknowns_as_gaps
from autogloss.interlinear.document import GlossState, RecordDocument
from autogloss.records import GlossedRecord, IGTRecord, is_unknown_gloss

from conftest import cli
from interlinear_fixtures import FLEXTEXT, TOOLBOX


class ScriptedGlosser:
    """Gives every record the same gloss line (one gloss word per input word)."""

    def __init__(self, glosses: str):
        self.glosses = glosses

    def gloss_with_confidence(self, records):
        for record in records:
            yield GlossedRecord(record.replace(glosses=self.glosses),
                                [[0.9] * len(word.split("-")) for word in self.glosses.split()])


def test_unknown_gloss_is_a_placeholder_not_a_question_mark_glossed_as_itself() -> None:
    assert is_unknown_gloss("[UNK]") and is_unknown_gloss("???") and is_unknown_gloss("?", "a")
    assert not is_unknown_gloss("?", "?") and not is_unknown_gloss("Q") and not is_unknown_gloss("???", "???")


def test_document_never_receives_an_unknown_gloss() -> None:
    # "???" is a label the packaged model learnt from placeholders in its data (issue 15 item 10)
    document = RecordDocument.from_records([IGTRecord("1", "kaldım evde ?", segmentation="kal-dım evde ?")])
    for slot in (slot for _, _, slot in document.sentences[0].slots()):
        slot.gloss, slot.state = "", GlossState.EMPTY
    summary = fill_document(document, ScriptedGlosser("???-the house ?"))
    glosses = [(slot.form, slot.gloss, slot.state) for _, _, slot in document.sentences[0].slots()]
    assert glosses == [("kal", "", GlossState.EMPTY), ("-dım", "the", GlossState.GUESS),
                       ("evde", "house", GlossState.GUESS), ("?", "?", GlossState.GUESS)]
    assert (summary.filled, summary.skipped) == (3, 1)


def test_records_output_marks_unknowns_as_gaps(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("\\t kal-dım evde ?\n\\g\n", encoding="utf-8")
    gloss_file(source, tmp_path / "out.jsonl", ScriptedGlosser("???-the [UNK] ?"))
    (record,) = read_jsonl(tmp_path / "out.jsonl")
    assert record.glosses == "?-the ? ?" and record.glosses_partial
    confidences = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))["confidence"]
    assert confidences == [[0.0, 0.9], [0.0], [0.9]]
    gloss_file(source, tmp_path / "out.txt", ScriptedGlosser("???-the [UNK] ?"))
    assert [r.glosses for r in read_sigmorphon(tmp_path / "out.txt")] == ["?-the ? ?"]


def test_unknowns_as_gaps_leaves_known_output_as_it_is() -> None:
    output = GlossedRecord(IGTRecord("1", "a ?", glosses="DEF ?"), [[0.5], [0.7]])
    assert unknowns_as_gaps(output) is output


def test_question_mark_glossed_as_itself_reads_back_as_a_gloss() -> None:
    document = RecordDocument.from_records([IGTRecord("1", "evde ?", glosses="house ?")])
    assert [(slot.gloss, slot.state) for _, _, slot in document.sentences[0].slots()] == \
        [("house", GlossState.HUMAN), ("?", GlossState.HUMAN)]
    document = RecordDocument.from_records([IGTRecord("1", "evde kal", glosses="house ?")])
    assert [(slot.gloss, slot.state) for _, _, slot in document.sentences[0].slots()] == \
        [("house", GlossState.HUMAN), ("", GlossState.EMPTY)]


def test_converting_a_document_into_its_own_format_keeps_it_whole(tmp_path: Path) -> None:
    # issue 15 item 14: guids, titles, msa and pos items, language codes all survive
    source = tmp_path / "in.flextext"
    source.write_text(FLEXTEXT, encoding="utf-8")
    assert convert_file(source, tmp_path / "out.flextext") == len(read_document(source).sentences)
    assert (tmp_path / "out.flextext").read_bytes() == source.read_bytes()


def test_converting_between_document_formats_keeps_gloss_states(tmp_path: Path) -> None:
    source = tmp_path / "in.flextext"
    source.write_text(FLEXTEXT, encoding="utf-8")
    convert_file(source, tmp_path / "out.eaf")
    states = [[slot.state for _, _, slot in s.slots()] for s in read_document(source).sentences]
    assert [[slot.state for _, _, slot in s.slots()] for s in read_document(tmp_path / "out.eaf").sentences] == states
    assert GlossState.GUESS in {state for sentence in states for state in sentence}


def test_check_and_convert_take_the_toolbox_layout(tmp_path: Path) -> None:
    # Shoebox's markers, padded to the width of Toolbox's so that the columns stay aligned
    shoebox = TOOLBOX
    for toolbox, shoebox_marker in (("tx", "t"), ("mb", "m"), ("ge", "g"), ("ps", "p"), ("ft", "f")):
        shoebox = shoebox.replace(f"\\{toolbox} ", f"\\{shoebox_marker}  ")
    source = tmp_path / "shoebox.txt"
    source.write_text(shoebox, encoding="utf-8")
    markers = "tx=t,mb=m,ge=g,ps=p,ft=f"
    done = cli("convert", source, tmp_path / "out.jsonl", "--from", "toolbox", "--toolbox-markers", markers)
    assert done.returncode == 0, done.stderr
    converted = list(read_jsonl(tmp_path / "out.jsonl"))
    assert len(converted) == len(read_document(source, "toolbox", **_markers(markers)).sentences) > 0
    assert converted[0].glosses
    done = cli("check", source, "--format", "toolbox", "--toolbox-markers", markers)
    assert f"{len(converted):,} records checked" in done.stderr, done.stderr


def _markers(spec: str) -> dict:
    from autogloss.formats import layout_options

    return layout_options("toolbox", spec)


ROUND_TRIP = """\\t ʕIla howži, t’ayƛin” - čara.
\\m ʕila howži t’ay-ƛin - čara
\\g enough now from.here-QUOT - possibility
\\l Enough now, go away!

\\t Wohei heetne'nee'eestoo3i'
\\g okay FUT-then-do.thus-3PL
\\l Okay, they will do that.

"""


@pytest.mark.parametrize("target", ["out.flextext", "out.sfm", "out.eaf", "cldf-out"])
def test_records_go_through_every_document_format_and_back_unchanged(tmp_path: Path, target: str) -> None:
    # a dash standing as a word (Tsez dev), and a track 1 sentence glossed without a segmentation (Arapaho dev)
    source = tmp_path / "in.txt"
    source.write_text(ROUND_TRIP, encoding="utf-8")
    convert_file(source, tmp_path / target, to_format="cldf" if target == "cldf-out" else None)
    done = cli("check", tmp_path / target)
    assert done.returncode == 0 and "0 alignment problem(s)" in done.stderr, done.stdout + done.stderr
    convert_file(tmp_path / target, tmp_path / "back.txt", to_format="sigmorphon")
    assert (tmp_path / "back.txt").read_text(encoding="utf-8") == ROUND_TRIP


def test_a_question_mark_glossed_as_itself_is_not_glossed_again_in_cldf(tmp_path: Path) -> None:
    # issue 15 item 10: read back as "missing", the punctuation's gloss was rewritten on every run
    source = tmp_path / "in.txt"
    source.write_text("\\t evde kal ?\n\\m evde kal ?\n\\g house ? ?\n", encoding="utf-8")
    convert_file(source, tmp_path / "dataset", to_format="cldf")
    document = read_document(tmp_path / "dataset")
    assert [(slot.gloss, slot.state) for _, _, slot in document.sentences[0].slots()] == \
        [("house", GlossState.HUMAN), ("", GlossState.EMPTY), ("?", GlossState.HUMAN)]
    summary = fill_document(document, ScriptedGlosser("house stay ?"))
    assert summary.filled == 1 and summary.kept_human == 2
