import json

import pytest

from autogloss.errors import AutoglossError
from autogloss.metrics import evaluate_lines, evaluate_records, morpheme_tokens, strip_gloss_punctuation
from autogloss.records import IGTRecord

from conftest import cli

GOLD = ["dog-PL run-PST .", "1SG=see 3SG.F-ACC", "big sea", "man-ERG ,"]
PRED = ["dog-PL run-PRS .",  # wrong tense; the punctuation token is right
        "1SG=see",           # shorter than the gold: missing tokens are wrong
        "big sea extra-X",   # longer than the gold: extra tokens are ignored
        ""]                  # empty prediction line


def test_official_scorer_hand_computed():
    result = evaluate_lines(GOLD, PRED, "official", bootstrap_samples=0)
    # words: 2/3 + 1/2 + 2/2 + 0/2 = 5/9; morphemes: 4/5 + 1/3 + 2/2 + 0/3 = 7/13
    assert result.word_accuracy == pytest.approx(100 * 5 / 9)
    assert result.morpheme_accuracy == pytest.approx(100 * 7 / 13)
    assert result.word_accuracy_per_sentence == pytest.approx(100 * (2 / 3 + 1 / 2 + 1 + 0) / 4)
    assert (result.gold_words, result.gold_morphemes) == (9, 13)


def test_glosslm_scorer_strips_standalone_punctuation():
    result = evaluate_lines(GOLD, PRED, "glosslm", bootstrap_samples=0)
    # gold without '.' and ',': words 1/2 + 1/2 + 2/2 + 0/1 = 4/7; morphemes 3/4 + 1/3 + 2/2 + 0/2 = 6/11
    assert result.word_accuracy == pytest.approx(100 * 4 / 7)
    assert result.morpheme_accuracy == pytest.approx(100 * 6 / 11)
    assert strip_gloss_punctuation(". a , b-c .") == "a b-c"
    assert strip_gloss_punctuation("a ... b") == "a ... b"  # only single characters


def test_equals_and_periods_stay_inside_morphemes():
    assert morpheme_tokens("1SG=see 3SG.F-ACC") == ["1SG=see", "3SG.F", "ACC"]
    assert morpheme_tokens("") == []


def test_unknown_marker_never_counts():
    result = evaluate_lines(["X [UNK]"], ["X [UNK]"], bootstrap_samples=0)
    assert result.word_accuracy == pytest.approx(50)


def test_stem_and_gram_precision_recall_as_the_official_script_counts():
    result = evaluate_lines(GOLD, PRED, "official", bootstrap_samples=0)
    # stems: 6 correct of 6 predicted, 8 gold; grams: 1 correct of 2 predicted, 5 gold
    assert (result.stem.precision, result.stem.recall) == pytest.approx((100, 75))
    assert result.stem.f1 == pytest.approx(100 * 2 * 0.75 / 1.75)
    assert (result.gram.precision, result.gram.recall) == pytest.approx((50, 20))


def test_perfect_prediction_scores_full_marks_with_a_tight_interval():
    result = evaluate_lines(GOLD, GOLD, "official", bootstrap_samples=200)
    assert result.word_accuracy == result.morpheme_accuracy == 100
    assert result.chrf_pp == pytest.approx(100)
    assert result.bleu == pytest.approx(100)
    assert result.word_accuracy_ci == pytest.approx((100, 100))


def test_imperfect_prediction_interval_contains_the_score():
    result = evaluate_lines(GOLD * 10, PRED * 10, "official", bootstrap_samples=500)
    low, high = result.word_accuracy_ci
    assert low < result.word_accuracy < high
    assert 0 < result.chrf_pp < 100


def test_record_count_mismatch_is_an_error_not_a_silent_zip():
    with pytest.raises(AutoglossError, match="4 gold records but 3 predicted records"):
        evaluate_lines(GOLD, PRED[:3])


def test_different_transcriptions_are_flagged():
    gold = [IGTRecord(id="1", transcription="a", glosses="A"), IGTRecord(id="2", transcription="b", glosses="B")]
    pred = [gold[1], gold[0]]
    result = evaluate_records(gold, pred, bootstrap_samples=0)
    assert result.word_accuracy == 0
    assert any("different transcription" in w for w in result.warnings)


def _write(path, glosses):
    blocks = [f"\\t w{i}\n\\g {g}\n\\l t" for i, g in enumerate(glosses)]
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


def test_evaluate_command_prints_json_with_the_documented_keys(tmp_path):
    _write(tmp_path / "gold", GOLD)
    _write(tmp_path / "pred", PRED)
    done = cli("evaluate", "--gold", tmp_path / "gold", "--pred", tmp_path / "pred", "--json", "--bootstrap", "50")
    assert done.returncode == 0, done.stderr
    scores = json.loads(done.stdout)
    assert {"word_accuracy", "morpheme_accuracy", "chrf_pp", "bleu"} <= scores.keys()
    assert scores["word_accuracy"] == pytest.approx(100 * 5 / 9)
    assert scores["signature"].startswith("scorer:official")
    done = cli("evaluate", "--gold", tmp_path / "gold", "--pred", tmp_path / "pred", "--scorer", "glosslm", "--json")
    assert json.loads(done.stdout)["word_accuracy"] == pytest.approx(100 * 4 / 7)


def test_evaluate_command_rejects_files_of_different_length(tmp_path):
    _write(tmp_path / "gold", GOLD)
    _write(tmp_path / "pred", PRED[:2])
    done = cli("evaluate", "--gold", tmp_path / "gold", "--pred", tmp_path / "pred")
    assert done.returncode == 1
    assert "4 gold records but 2 predicted records" in done.stderr
    assert "Traceback" not in done.stderr
