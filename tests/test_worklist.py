"""What to correct first: the least-confident-first order and the worklist of `autogloss gloss --order`."""

import pytest

from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.glossing import gloss_text
from autogloss.interlinear import GlossState
from autogloss.models import MajorityGlosser
from autogloss.records import GlossedRecord, IGTRecord
from autogloss.worklist import confidences_of, least_confident_first, sentence_score

from conftest import TRAIN, cli, covered

# "raład" glossed two ways in training: the majority model is unsure of it (confidence 0.5)
AMBIGUOUS = TRAIN + "\n\\t Xabar raład\n\\m xabar raład\n\\g story lake\n"


def test_the_lowest_morpheme_confidence_orders_the_sentences_then_the_mean_then_the_place():
    sentences = [[[0.9, 0.8], [0.95]],   # lowest 0.8
                 [[0.3]],                # lowest 0.3: first
                 [],                     # nothing to check: last
                 [[0.8], [0.99, 0.99]],  # lowest 0.8 as the first, higher mean: after it
                 [[0.8, 0.9], [0.95]]]   # the same as the first: after it, by place
    assert least_confident_first(sentences) == [1, 0, 4, 3, 2]
    assert sentence_score([[0.5, 1.0]]) == (0.5, 0.75) and sentence_score([[], []]) is None


def test_glossed_records_and_post_editor_sentences_are_ordered_alike(tmp_path):
    record = IGTRecord(id="a", transcription="x y", glosses="X Y")
    glossed = [GlossedRecord(record, [[0.9], [0.7]]), GlossedRecord(record, [[0.2], [1.0]])]
    assert least_confident_first(glossed) == [1, 0]
    (tmp_path / "train.txt").write_text(AMBIGUOUS, encoding="utf-8")
    document, _ = gloss_text("Ixiw raład.\nIxiw xabar.\nxabar ixiw", MajorityGlosser.train(
        read_sigmorphon(tmp_path / "train.txt")))
    assert least_confident_first(document.sentences)[0] == 0  # the unsure "raład"
    # an accepted sentence has nothing left to check; an empty slot a person must fill counts as 0
    document.sentences[0].accepted = True
    slot = document.sentences[2].words[0].slots[0]
    slot.gloss, slot.state, slot.confidence = "", GlossState.EMPTY, None
    assert confidences_of(document.sentences[0]) == []
    assert least_confident_first(document.sentences) == [2, 1, 0]


def _model(tmp_path):
    (tmp_path / "train.txt").write_text(AMBIGUOUS, encoding="utf-8")
    MajorityGlosser.train(read_sigmorphon(tmp_path / "train.txt")).save_pretrained(tmp_path / "tsez")
    return tmp_path / "tsez"


INPUT = """\\t Ixiw žek’u boqno.
\\g

\\t Xabar raład boqno.
\\g

\\t Ixiw raład.
\\g
"""


def test_gloss_order_least_confident_writes_a_worklist_and_keeps_the_output_in_order(tmp_path):
    model = _model(tmp_path)
    (tmp_path / "in.txt").write_text(INPUT, encoding="utf-8")
    plain = cli("gloss", "--model", model, "--input", tmp_path / "in.txt", "--output", tmp_path / "plain.txt")
    assert plain.returncode == 0, plain.stderr
    done = cli("gloss", "--model", model, "--input", tmp_path / "in.txt", "--output", tmp_path / "out.txt",
               "--order", "least-confident")
    assert done.returncode == 0, done.stderr
    # the output: the same file, in document order
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == (tmp_path / "plain.txt").read_text(encoding="utf-8")
    worklist = tmp_path / "out.txt.worklist.tsv"
    assert f"worklist of 3 sentences, least confident first: {worklist}" in done.stdout
    header, *rows = [line.split("\t") for line in worklist.read_text(encoding="utf-8").splitlines()]
    assert header == ["rank", "score", "mean", "sentence", "origin", "transcription"]
    assert [row[0] for row in rows] == ["1", "2", "3"]
    scores = [(float(row[1]), float(row[2])) for row in rows]
    assert scores == sorted(scores) and scores[0][0] < scores[-1][0]
    # the two sentences with the unsure "raład" first, the shorter (lower mean) before the longer;
    # each row names where its sentence starts
    assert [row[5] for row in rows] == ["Ixiw raład.", "Xabar raład boqno.", "Ixiw žek’u boqno."]
    assert [row[4] for row in rows] == [f"{tmp_path / 'in.txt'}:{line}" for line in (7, 4, 1)]
    assert scores[0][0] == scores[1][0] and scores[0][1] < scores[1][1]


def test_gloss_order_least_confident_for_a_document_and_to_a_named_worklist(tmp_path):
    from autogloss.interlinear.flextext import FlexTextDocument
    from interlinear_fixtures import FLEXTEXT

    model = _model(tmp_path)
    (tmp_path / "sea.flextext").write_text(FLEXTEXT, encoding="utf-8")
    done = cli("gloss", "--model", model, "--input", tmp_path / "sea.flextext", "--output", tmp_path / "out.flextext",
               "--order", "least-confident", "--worklist", tmp_path / "todo.tsv")
    assert done.returncode == 0, done.stderr
    rows = [row.split("\t") for row in (tmp_path / "todo.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    document = FlexTextDocument.read(tmp_path / "out.flextext")
    with_guesses = [s.id for s in document.sentences if any(slot.editable for _, _, slot in s.slots())]
    assert sorted(row[3] for row in rows) == sorted(with_guesses) and rows
    assert [float(row[1]) for row in rows] == sorted(float(row[1]) for row in rows)
    assert not (tmp_path / "out.flextext.worklist.tsv").exists()


@pytest.mark.parametrize("options, message", [
    (["--worklist", "w.tsv"], "--worklist: give --order least-confident too"),
    (["--order", "least-confident", "--output", "-"], "name the worklist with --worklist FILE"),
    (["--order", "least-confident", "--worklist", "out.txt"], "that is the output file"),
])
def test_gloss_order_options_are_checked(tmp_path, options, message):
    model = _model(tmp_path)
    (tmp_path / "in.txt").write_text(covered(TRAIN, True), encoding="utf-8")
    output = [] if "--output" in options else ["--output", "out.txt"]
    done = cli("gloss", "--model", model, "--input", tmp_path / "in.txt", *output, *options, cwd=tmp_path)
    assert done.returncode != 0 and message in done.stderr
