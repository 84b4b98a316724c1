"""Segmentation scores: morpheme boundaries and exactly segmented words (issue 16, item 4)."""

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autogloss.cli import app
from autogloss.errors import AutoglossError
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.metrics import evaluate_records, evaluate_segmentation, segmentation_scores, segmented_word
from autogloss.records import IGTRecord

from conftest import SHARED_DATA

#: Gold and predicted \m lines, by position:
#: 1: dog-s (right), run-ning (boundary one off), '.' (punctuation: not scored)
#: 2: un-tie-d (one of two boundaries), cat (right, one morpheme), kittens (a boundary too many)
#: 3: inu-di-n spelt otherwise (the gold's underlying form): a miss; the predicted word beyond the gold counts
GOLD = ["dog-s run-ning .", "un-tie-d cat kittens", "inu-di-n"]
PRED = ["Dog-s runn-ing .", "un-tied cat kitten-s", "inu-rin extra-word"]


def test_a_word_is_its_bare_form_and_its_boundary_positions():
    assert segmented_word("un-tie-d") == ("untied", frozenset({2, 5}))
    assert segmented_word("Dog=s,") == ("dogs", frozenset({3}))  # case, edge punctuation and marker kind ignored
    assert segmented_word("«") == ("", frozenset())
    assert segmented_word("-ar") == ("ar", frozenset())  # a boundary at the edge splits nothing


def test_boundaries_and_exact_words_hand_computed():
    scores = segmentation_scores(GOLD, PRED)
    # gold boundaries: dog-s 1, run-ning 1, un-tie-d 2, inu-di-n 2 = 6
    # predicted: Dog-s 1, runn-ing 1, un-tied 1, kitten-s 1, inu-rin 1, extra-word 1 = 6
    # right: dog-s 1, un-tied 1 = 2
    assert (scores.boundary.precision, scores.boundary.recall) == pytest.approx((100 * 2 / 6, 100 * 2 / 6))
    # same form only (inu-di-n and the extra word left out): 2 right of 4 predicted, 4 gold
    assert (scores.boundary_same_form.precision, scores.boundary_same_form.recall) == pytest.approx((50, 50))
    # 6 words scored (not '.'), exact: dog-s, cat; multi-morpheme gold words: dog-s run-ning un-tie-d inu-di-n
    assert (scores.words, scores.multi_morpheme_words, scores.differing_words) == (6, 4, 1)
    assert scores.word_accuracy == pytest.approx(100 * 2 / 6)
    assert scores.multi_morpheme_accuracy == pytest.approx(100 * 1 / 4)
    assert scores.records == 3


def test_a_perfect_segmentation_scores_full_marks():
    scores = segmentation_scores(GOLD, GOLD)
    assert scores.boundary.f1 == scores.word_accuracy == scores.multi_morpheme_accuracy == 100


def test_missing_predicted_words_miss_their_boundaries():
    scores = segmentation_scores(["a-b c-d"], ["a-b"])
    assert (scores.boundary.precision, scores.boundary.recall) == (100, 50)
    assert (scores.differing_words, scores.word_accuracy) == (1, 50)


def test_gold_records_without_a_segmentation_are_left_out():
    scores = segmentation_scores(["a-b", None, ""], ["a-b", "x-y", "z-z"])
    assert (scores.records, scores.words, scores.boundary.precision) == (1, 1, 100)
    with pytest.raises(AutoglossError, match="2 gold records but 1 predicted"):
        segmentation_scores(["a", "b"], ["a"])


def _records(segmentations):
    return [IGTRecord(id=str(i), transcription=line.replace("-", ""), glosses="X", segmentation=line)
            if line is not None else IGTRecord(id=str(i), transcription="w", glosses="X")
            for i, line in enumerate(segmentations)]


def test_scores_only_when_both_sides_have_a_segmentation():
    assert evaluate_segmentation(_records(["a-b"]), _records([None])) is None
    assert evaluate_segmentation(_records([None]), _records(["a-b"])) is None
    assert evaluate_segmentation(_records(["a-b"]), _records(["a-b"])).word_accuracy == 100


def test_evaluate_records_adds_segmentation_only_when_asked_and_keeps_the_official_scores():
    gold, pred = _records(["a-b c"]), _records(["ab c"])
    plain = evaluate_records(gold, pred, bootstrap_samples=0)
    assert plain.segmentation is None and "segmentation" not in plain.to_json()
    scored = evaluate_records(gold, pred, bootstrap_samples=0, segmentation=True)
    assert scored.to_json()["segmentation"]["multi_morpheme_accuracy"] == 0
    assert scored.to_json()["segmentation"]["word_accuracy"] == 50
    assert {key: value for key, value in scored.to_json().items() if key != "segmentation"} == plain.to_json()


def _write(path: Path, segmentations, with_m: bool) -> Path:
    blocks = []
    for i, line in enumerate(segmentations):
        block = f"\\t {line.replace('-', '')}\n" + (f"\\m {line}\n" if with_m else "")
        blocks.append(block + f"\\g {' '.join('X' for _ in line.split())}\n\\l t{i}")
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path


def _evaluate(*args) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["evaluate", *map(str, args), "--bootstrap", "0"])
    return result.exit_code, result.stdout


def test_evaluate_command_reports_segmentation_when_gold_and_prediction_have_it(tmp_path):
    gold = _write(tmp_path / "gold", GOLD, with_m=True)
    pred = _write(tmp_path / "pred", PRED[:2] + ["inu-rin"], with_m=True)
    code, output = _evaluate("--gold", gold, "--pred", pred, "--json")
    assert code == 0, output
    scores = json.loads(output)["segmentation"]
    assert scores["multi_morpheme_accuracy"] == pytest.approx(25)
    assert scores["differing_words"] == 1
    assert scores["signature"].startswith("segmentation|")
    code, output = _evaluate("--gold", gold, "--pred", pred)
    assert code == 0, output
    assert "boundary P / R / F1" in output and "exact segmentation (multi-morpheme)" in output


@pytest.mark.parametrize("gold_has_m, pred_has_m", [(False, True), (True, False)])
def test_evaluate_command_says_nothing_of_segmentation_without_both(tmp_path, gold_has_m, pred_has_m):
    gold = _write(tmp_path / "gold", GOLD, with_m=gold_has_m)
    pred = _write(tmp_path / "pred", PRED[:2] + ["inu-rin"], with_m=pred_has_m)
    code, output = _evaluate("--gold", gold, "--pred", pred, "--json")
    assert code == 0, output
    assert "segmentation" not in json.loads(output)
    code, output = _evaluate("--gold", gold, "--pred", pred)
    assert code == 0, output
    assert "word accuracy" in output
    assert "boundary" not in output and "exact segmentation" not in output and "segmentation:" not in output


LEZGI = SHARED_DATA / "sigmorphon2023" / "Lezgi"


@pytest.mark.skipif(not LEZGI.is_dir(), reason="needs ../shared/data/sigmorphon2023")
def test_benchmark_scores_track1_segmentation_against_the_track2_gold(tmp_path):
    """A track 1 prediction that writes each word unsplit (as the majority
    baseline does) finds no boundary; its gold comes from the track 2 file."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.segmentation import segmentation_table, track1_segmentation

    inputs = list(read_sigmorphon(LEZGI / "lez-dev-track1-uncovered"))
    unsplit = tmp_path / "lez-dev-track1.txt"
    unsplit.write_text("".join(f"\\t {r.transcription}\n\\m {r.transcription}\n\\g {r.glosses}\n\n" for r in inputs),
                       encoding="utf-8")
    scores = track1_segmentation(SHARED_DATA, "lez", unsplit)
    assert scores["multi_morpheme_accuracy"] == 0 and scores["boundary"]["recall"] == 0
    assert scores["records"] == len(inputs) and scores["multi_morpheme_words"] > 0
    table = segmentation_table([{"language": "lez", "track": 1, "segmentation": scores},
                                {"language": "lez", "track": 2}])
    assert "| lez | 0.0 / 0.0 / 0.0 |" in table
    assert track1_segmentation(SHARED_DATA, "lez", LEZGI / "lez-dev-track2-uncovered")["word_accuracy"] == 100
