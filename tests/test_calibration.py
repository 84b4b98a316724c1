"""Calibrated confidence: ECE, the maps, and models that keep their calibration."""

import json

import numpy as np
import pytest

from autogloss.calibration import (BINS, Calibration, ConfidenceMap, expected_calibration_error,
                                   fit_isotonic, fit_temperature, held_out_inputs, negative_log_likelihood, outcomes,
                                   reliability)
from autogloss.errors import ModelError
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.models import MajorityGlosser, load_model
from autogloss.records import GlossedRecord, IGTRecord
from autogloss.training import CALIBRATION_MIN_SENTENCES, calibration_split, train_model

from conftest import DEV, TRAIN


def sampled(size: int, seed: int = 0, sharpen: float = 1.0):
    """Outcomes drawn with true probabilities p, reported as p sharpened in log-odds (1: calibrated)."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.02, 0.98, size)
    right = rng.uniform(size=size) < truth
    odds = np.log(truth / (1 - truth)) * sharpen
    return 1 / (1 + np.exp(-odds)), right


def test_perfectly_calibrated_confidence_has_an_ece_near_zero():
    confidences, right = sampled(20_000)
    assert expected_calibration_error(confidences, right) < 0.02


def test_overconfidence_has_a_large_ece():
    confidences, right = sampled(20_000, sharpen=4.0)
    assert expected_calibration_error(confidences, right) > 0.1
    always_sure = np.full(1000, 0.99)
    half_right = np.arange(1000) % 2 == 0
    assert expected_calibration_error(always_sure, half_right) == pytest.approx(0.49)


def test_ece_is_the_morpheme_weighted_gap_over_equal_width_bins():
    # bin [0.2, 0.3): 4 morphemes, confidence 0.25, 1 right; bin [0.9, 1.0]: 6 morphemes at 1.0, all right
    confidences = np.array([0.25] * 4 + [1.0] * 6)
    right = np.array([True, False, False, False] + [True] * 6)
    found = reliability(confidences, right)
    assert BINS == 10 and [(b.low, b.count) for b in found.bins] == [(0.2, 4), (0.9, 6)]
    assert found.ece == pytest.approx(0.4 * 0.0 + 0.6 * 0.0)
    right[0] = False  # the first bin now 0 of 4 right against 0.25
    assert expected_calibration_error(confidences, right) == pytest.approx(0.4 * 0.25)


def test_the_fitted_temperature_lowers_the_negative_log_likelihood_on_held_out_data():
    fit_on, fit_right = sampled(4000, seed=1, sharpen=3.0)
    held, held_right = sampled(4000, seed=2, sharpen=3.0)
    mapping = fit_temperature(fit_on, fit_right)
    assert mapping.temperature == pytest.approx(3.0, rel=0.15)
    assert negative_log_likelihood(mapping(held), held_right) < negative_log_likelihood(held, held_right) - 0.05
    assert expected_calibration_error(mapping(held), held_right) < 0.03 < expected_calibration_error(held, held_right)


def test_the_isotonic_map_is_monotone_and_calibrates_held_out_data():
    fit_on, fit_right = sampled(4000, seed=3, sharpen=0.3)  # underconfident
    held, held_right = sampled(4000, seed=4, sharpen=0.3)
    mapping = fit_isotonic(fit_on, fit_right)
    grid = np.linspace(0, 1, 101)
    assert np.all(np.diff(mapping(grid)) >= 0) and 0 < mapping(grid).min() and mapping(grid).max() < 1
    assert expected_calibration_error(mapping(held), held_right) < 0.04 < expected_calibration_error(held, held_right)


def glossed(record: IGTRecord, glosses: str, confidences) -> GlossedRecord:
    return GlossedRecord(record.replace(glosses=glosses), confidences)


def test_a_morpheme_is_right_when_it_matches_the_gold_at_its_place_in_its_word():
    gold = IGTRecord(id="s1", transcription="a b c", glosses="DOG-PL run-PST [UNK]")
    output = glossed(gold, "DOG-SG-X run-PST [UNK]", [[0.9, 0.8, 0.7], [0.6, 0.5], [0.1]])
    confidences, right = outcomes([gold], [output])
    assert confidences.tolist() == [0.9, 0.8, 0.7, 0.6, 0.5, 0.1]
    assert right.tolist() == [True, False, False, True, True, False]  # [UNK] is never right


def test_a_plain_text_label_keeps_its_clitic_boundary():
    gold = IGTRecord(id="s1", transcription="ab", glosses="go=Q-PST")
    confidences, right = outcomes([gold], [glossed(gold, "go=Q-PST", [[0.7, 0.6]])])  # two labels: go=Q, PST
    assert right.tolist() == [True, True]


def test_a_calibration_round_trips_and_refuses_corrupt_maps():
    calibration = Calibration({"segmented": ConfidenceMap("temperature", 2.5),
                               "plain": ConfidenceMap("isotonic", xs=(0.1, 0.9), ys=(0.2, 0.6))},
                              {"segmented": {"morphemes": 40}})
    again = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    assert again.maps["plain"](np.array([0.5])).tolist() == pytest.approx([0.4])
    assert again.maps["segmented"].temperature == pytest.approx(2.5)
    for broken in ({"maps": {"segmented": {"method": "platt"}}}, {"maps": {"words": {"method": "temperature"}}},
                   {"maps": {"plain": {"method": "isotonic", "xs": [0.9, 0.1], "ys": [0.1, 0.2]}}},
                   {"maps": {"plain": {"method": "temperature", "temperature": -1}}}):
        with pytest.raises(ValueError):
            Calibration.from_dict(broken)


def test_held_out_segmented_sentences_calibrate_plain_text_too(tmp_path):
    (tmp_path / "train").write_text(TRAIN, encoding="utf-8")
    records = list(read_sigmorphon(tmp_path / "train"))
    inputs, gold = held_out_inputs(records)
    assert len(inputs) == 2 * len(records) and all(not record.glosses for record in inputs)
    assert {bool(record.segmented_form) for record in inputs} == {True, False}


def lezgi(shared_data_dir):
    path = shared_data_dir / "sigmorphon2023" / "Lezgi" / "lez-train-track2-uncovered"
    if not path.is_file():
        pytest.skip(f"needs {path}")
    return list(read_sigmorphon(path))


@pytest.fixture
def shared_data_dir():
    from autogloss.datapath import find_data_dir

    try:
        return find_data_dir(None)
    except Exception as error:  # no data folder beside the checkout
        pytest.skip(f"needs ../shared/data ({error})")


def test_the_recipe_holds_out_a_tenth_of_the_training_sentences(shared_data_dir):
    records = lezgi(shared_data_dir)
    fit_on, held = calibration_split(records)
    assert len(held) == len(records) // 10 and len(fit_on) + len(held) == len(records)
    assert {id(r) for r in fit_on}.isdisjoint(id(r) for r in held)
    assert held != records[-len(held):]  # drawn from the whole file, not its end
    few = records[:CALIBRATION_MIN_SENTENCES - 1]
    assert calibration_split(few) == (few, [])


def test_a_trained_model_keeps_its_calibration_when_saved_and_loaded(shared_data_dir, tmp_path):
    records = lezgi(shared_data_dir)
    model = train_model(records, [], tmp_path / "model", "majority")
    config = json.loads((tmp_path / "model" / "config.json").read_text(encoding="utf-8"))
    assert set(config["calibration"]["maps"]) >= {"segmented"}
    assert "calibrated on glossed sentences held out" in (tmp_path / "model" / "README.md").read_text()
    loaded = load_model(tmp_path / "model")
    inputs = [record.replace(glosses="") for record in records[:50]]
    outputs = list(loaded.gloss_with_confidence(inputs))
    assert outputs == list(model.gloss_with_confidence(inputs))
    raw = MajorityGlosser.train(records)  # the same tables, uncalibrated: relative frequencies
    assert [o.confidences for o in raw.gloss_with_confidence(inputs)] != [o.confidences for o in outputs]


def test_calibration_brings_relative_frequencies_close_to_the_share_right(shared_data_dir):
    records = lezgi(shared_data_dir)
    fit_on, held = calibration_split(records)
    model = MajorityGlosser.train(fit_on)
    inputs, gold = held_out_inputs(held)
    before = outcomes(gold, list(model.gloss_with_confidence(inputs)))
    calibration = model.calibrate(held)
    after = outcomes(gold, list(model.gloss_with_confidence(inputs)))
    assert expected_calibration_error(*after) < 0.05 and not np.array_equal(before[0], after[0])
    for setting in ("segmented", "plain"):
        assert calibration.fitted[setting]["ece_after"] <= calibration.fitted[setting]["ece_before"]


def test_a_corrupt_calibration_in_config_json_is_a_model_error(model_dir):
    config_path = model_dir / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["calibration"] = {"maps": {"segmented": {"method": "platt"}}}
    config_path.write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelError, match="config.json: corrupt calibration"):
        load_model(model_dir)


def test_the_neural_trainer_calibrates_on_the_held_out_sentences(tmp_path):
    pytest.importorskip("torch")
    from autogloss.models.neural import TrainingSettings, train_glosser

    from test_neural import TINY

    (tmp_path / "train").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "dev").write_text(DEV, encoding="utf-8")
    train, dev = list(read_sigmorphon(tmp_path / "train")), list(read_sigmorphon(tmp_path / "dev"))
    held = dev * 4  # enough morphemes for a map
    glosser = train_glosser(train, [], tmp_path / "model", TrainingSettings(epochs=2, batch_size=4),
                            network_options=TINY, calibration=held)
    assert glosser.calibration is not None and "segmented" in glosser.calibration.maps
    loaded = load_model(tmp_path / "model")
    assert loaded.calibration.to_dict() == glosser.calibration.to_dict()
    inputs = [record.replace(glosses="") for record in dev]
    assert list(loaded.gloss_with_confidence(inputs)) == list(glosser.gloss_with_confidence(inputs))
