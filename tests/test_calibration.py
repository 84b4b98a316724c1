"""Calibrated confidence: ECE, the maps, and models that keep their calibration."""

import json
import random

import numpy as np
import pytest

from autogloss.calibration import (BINS, CROSS_FIT_FOLDS, Calibration, ConfidenceMap, chance_ece, choose_map,
                                   cross_fitted_calibration, expected_calibration_error, fit_calibration,
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


def test_chance_ece_is_what_a_calibrated_glosser_shows_on_so_few_morphemes():
    small, _ = sampled(300, seed=1)
    large, _ = sampled(30_000, seed=1)
    few, many = chance_ece(small), chance_ece(large)
    assert few == chance_ece(small)  # fixed seed: the same report every run
    assert 0 < many["mean"] < few["mean"] <= few["p95"]  # noise shrinks with the morphemes
    assert few["p95"] > 0.03 and many["p95"] < 0.01
    # calibrated outcomes drawn afresh mostly fall inside the range; sharpened ones fall far outside it
    inside = sum(reliability(*sampled(300, seed=seed)).ece <= chance_ece(sampled(300, seed=seed)[0])["p95"]
                 for seed in range(2, 22))
    assert inside >= 16
    sharp, right = sampled(300, seed=1, sharpen=4.0)
    assert reliability(sharp, right).ece > 2 * chance_ece(sharp)["p95"]
    assert chance_ece(np.ones(50)) == {"mean": 0.0, "p95": 0.0, "draws": 200}  # sure and right: no noise at all
    assert chance_ece(np.array([]))["draws"] == 0


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
    # segmented: relative frequencies already close to the share right (ECE 0.018), kept as they are
    assert set(config["calibration"]["fitted"]) == {"segmented", "plain"} and "plain" in config["calibration"]["maps"]
    assert "calibrated on glossed sentences held out" in (tmp_path / "model" / "README.md").read_text()
    loaded = load_model(tmp_path / "model")
    inputs = [record.replace(glosses="", segmentation=None) for record in records[:50]]
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
    # fitted on the held-out sentences (all glossed right at ECE 0 here, so kept as computed)
    assert glosser.calibration is not None and "segmented" in glosser.calibration.fitted
    loaded = load_model(tmp_path / "model")
    assert loaded.calibration.to_dict() == glosser.calibration.to_dict()
    inputs = [record.replace(glosses="") for record in dev]
    assert list(loaded.gloss_with_confidence(inputs)) == list(glosser.gloss_with_confidence(inputs))


# -- small data: the identity safeguard and cross-fitted calibration ----------------------
def lumped(sentences: int, per_sentence: int, seed: int):
    """A calibrated model's lumped confidences (0.95, 0.7, 0.4, each right that
    often) in sentences of ``per_sentence`` morphemes, and each one's sentence."""
    rng = np.random.default_rng(seed)
    truth = rng.choice([0.95, 0.7, 0.4], size=sentences * per_sentence, p=[0.6, 0.25, 0.15])
    return truth, rng.uniform(size=truth.size) < truth, np.repeat(np.arange(sentences), per_sentence)


def test_a_few_held_out_sentences_of_calibrated_confidences_mostly_keep_them():
    fresh, fresh_right, _ = lumped(20_000, 1, seed=99)
    kept, auto, always = 0, [], []
    for seed in range(40):
        confidences, right, sentences = lumped(8, 6, seed)
        mapping = choose_map(confidences, right, sentences=sentences)
        kept += mapping is None
        auto.append(expected_calibration_error(fresh if mapping is None else mapping(fresh), fresh_right))
        always.append(expected_calibration_error(fit_temperature(confidences, right)(fresh), fresh_right))
    identity = expected_calibration_error(fresh, fresh_right)
    # a temperature fitted on 48 morphemes every time makes fresh data of the same model worse; the
    # cross-fitted choice keeps the confidences in most samples and costs a third as much
    assert kept >= 25
    assert np.mean(auto) - identity < 0.015 < np.mean(always) - identity


def test_a_map_is_kept_only_when_other_sentences_show_it_helps():
    overconfident = np.full(60, 0.99)
    right = np.arange(60) % 10 < 7  # 70% right: a map brings 0.99 down to about 0.7
    assert choose_map(overconfident, right, sentences=np.zeros(60, int)) is None  # one sentence: nothing to check on
    found = choose_map(overconfident, right, sentences=np.arange(60) // 6)  # ten sentences of 6 morphemes
    assert found is not None and found(np.array([0.99]))[0] == pytest.approx(0.7, abs=0.03)


def test_a_setting_no_map_helps_is_recorded_and_left_as_computed():
    gold = [IGTRecord(id="s1", transcription=" ".join("abcdefghij" * 4), glosses=" ".join(["x"] * 40))]
    output = glossed(gold[0], " ".join(["x"] * 20 + ["y"] * 20), [[0.5]] * 40)
    calibration = fit_calibration([gold[0].replace(glosses="")], gold, [output])
    assert calibration.maps == {} and calibration.fitted["plain"]["method"] == "none"
    assert calibration.apply(gold[0], output) == output
    assert "plain: kept as computed" in calibration.describe()


def ambiguous_language(sentences: int, seed: int) -> list[IGTRecord]:
    """Sentences of a made-up language whose words mean one thing 70% of the
    time and another 30%: a model of a few sentences that saw a word once is
    sure of the gloss it saw, which is right far less often than that."""
    rng = random.Random(seed)
    forms = [f"w{index}" for index in range(40)]
    records = []
    for number in range(sentences):
        chosen = rng.choices(forms, weights=[1 / (rank + 1) for rank in range(len(forms))], k=6)
        glosses = [f"{form.upper()}{'A' if rng.random() < 0.7 else 'B'}" for form in chosen]
        records.append(IGTRecord(id=f"{seed}-{number}", transcription=" ".join(chosen), glosses=" ".join(glosses)))
    return records


def test_cross_fitting_trains_each_auxiliary_model_without_the_sentences_it_glosses():
    records = ambiguous_language(30, seed=0)
    seen: list[set[str]] = []

    def train(part: list[IGTRecord]) -> MajorityGlosser:
        seen.append({record.id for record in part})
        return MajorityGlosser.train(part)

    calibration = cross_fitted_calibration(records, train)
    assert len(seen) == CROSS_FIT_FOLDS and all(len(ids) == 20 for ids in seen)
    left_out = [{record.id for record in records} - ids for ids in seen]
    assert set().union(*left_out) == {record.id for record in records}  # each sentence glossed once, unseen
    assert calibration.fitted["plain"]["morphemes"] == 6 * 30
    assert "3 cross-fitted models" in calibration.fitted["plain"]["fitted_on"]


def test_a_model_of_too_few_sentences_to_hold_out_is_calibrated_by_cross_fitting(tmp_path):
    records = ambiguous_language(60, seed=1)
    assert len(records) < CALIBRATION_MIN_SENTENCES
    fresh = ambiguous_language(500, seed=2)
    inputs = [record.replace(glosses="") for record in fresh]
    model = train_model(records, [], tmp_path / "model", "majority")
    assert "out-of-fold" in model.calibration.describe() and model.calibration.maps
    before = outcomes(fresh, list(MajorityGlosser.train(records).gloss_with_confidence(inputs)))
    after = outcomes(fresh, list(load_model(tmp_path / "model").gloss_with_confidence(inputs)))
    assert np.array_equal(before[1], after[1])  # the same glosses, only the confidences change
    assert expected_calibration_error(*before) > 0.07  # a word seen once is glossed with confidence 1.0
    assert expected_calibration_error(*after) < expected_calibration_error(*before) / 1.5


def test_the_neural_trainer_cross_fits_below_the_threshold_without_changing_the_model(tmp_path):
    pytest.importorskip("torch")
    from autogloss.models.neural import TrainingSettings, train_glosser

    from test_neural import TINY

    records = ambiguous_language(12, seed=3)
    settings = TrainingSettings(epochs=1, batch_size=4)
    plain = train_glosser(records, [], tmp_path / "plain", settings, network_options=TINY, save=False)
    crossed = train_glosser(records, [], tmp_path / "crossed", settings, network_options=TINY, save=False,
                            cross_fit=CROSS_FIT_FOLDS)
    assert plain.calibration is None
    assert "3 cross-fitted models" in crossed.calibration.fitted["plain"]["fitted_on"]
    inputs = [record.replace(glosses="") for record in ambiguous_language(5, seed=4)]
    assert [r.glosses for r in plain.gloss(inputs)] == [r.glosses for r in crossed.gloss(inputs)]
    timed = train_glosser(records, [], tmp_path / "timed", TrainingSettings(epochs=1, batch_size=4, max_minutes=5),
                          network_options=TINY, save=False, cross_fit=CROSS_FIT_FOLDS)
    assert timed.calibration is None  # auxiliary models would not fit in a time budget


def test_the_shared_task_trainer_holds_out_a_random_tenth_or_cross_fits(monkeypatch):
    import autogloss.models.neural as neural
    from autogloss.sharedtask import neural_trainer

    calls = []

    class Trained:
        def remember(self, records):
            pass

    def record_call(train, dev, model_dir, settings, **options):
        calls.append((train, dev, options))
        return Trained()

    monkeypatch.setattr(neural, "train_glosser", record_call)
    records = ambiguous_language(300, seed=5)
    neural_trainer(None, epochs=1.0)(records, [], "synthetic")
    train, dev, options = calls[-1]
    assert options["calibration"] == dev == calibration_split(records)[1] and dev != records[-len(dev):]
    assert options["cross_fit"] == 0
    neural_trainer(None, epochs=1.0)(records[:40], [], "synthetic")
    train, dev, options = calls[-1]
    assert train == records[:40] and dev == [] and options["cross_fit"] == CROSS_FIT_FOLDS


def test_confidences_from_each_source_get_a_map_of_their_own_where_it_helps():
    # twenty plain sentences of 10 words: memorised glosses at 0.7 are right 95% of the time,
    # the network's at 0.7 only 25%; one map for both would put both near 0.6
    rng = np.random.default_rng(0)
    gold, outputs = [], []
    for number in range(20):
        record = IGTRecord(id=str(number), transcription=" ".join(f"w{i}" for i in range(10)),
                           glosses=" ".join(["X"] * 10))
        sources = [["memory"] if i % 2 == 0 else ["network"] for i in range(10)]
        right = [rng.uniform() < (0.95 if source == ["memory"] else 0.25) for source in sources]
        output = glossed(record, " ".join("X" if ok else "Y" for ok in right), [[0.7]] * 10)
        gold.append(record)
        outputs.append(GlossedRecord(output.record, output.confidences, sources=sources))
    calibration = fit_calibration([record.replace(glosses="") for record in gold], gold, outputs)
    assert {"plain:memory", "plain:network"} <= set(calibration.maps)
    assert calibration.fitted["plain"]["sources"]["memory"]["morphemes"] == 100
    applied = calibration.apply(gold[0], outputs[0])
    assert applied.confidences[0][0] == pytest.approx(0.95, abs=0.06)  # memory
    assert applied.confidences[1][0] == pytest.approx(0.25, abs=0.1)  # network
    assert applied.sources == outputs[0].sources
    # a lexicon guess, too rare to have been fitted, is mapped as the network's guesses it stands in for
    lexicon = GlossedRecord(outputs[0].record, [[0.7]] * 10, sources=[["lexicon"]] * 10)
    assert calibration.apply(gold[0], lexicon).confidences[0] == applied.confidences[1]
    # and an output that does not say where its confidences come from gets the setting's map
    unsaid = calibration.apply(gold[0], GlossedRecord(outputs[0].record, [[0.7]] * 10))
    assert unsaid.confidences[0] == [round(float(calibration.maps["plain"](np.array([0.7]))[0]), 4)]
    again = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    assert again.apply(gold[0], outputs[0]) == applied
    assert "a map of its own for the confidences from the memory" in calibration.describe()
    with pytest.raises(ValueError, match="unknown setting 'plain:guess'"):
        Calibration.from_dict({"maps": {"plain:guess": {"method": "temperature", "temperature": 1.0}}})


def test_the_neural_glosser_says_where_each_confidence_comes_from(tmp_path):
    from autogloss.models.neural import TrainingSettings, train_glosser

    (tmp_path / "train").write_text(TRAIN, encoding="utf-8")
    train = list(read_sigmorphon(tmp_path / "train"))
    glosser = train_glosser(train, [], tmp_path / "model", TrainingSettings(epochs=1, batch_size=4),
                            network_options={"hidden": 16})
    seen = IGTRecord("a", "Ixiw raład", segmentation="ixiw raład")
    unseen = IGTRecord("b", "Qqq zzz", segmentation="qqq zzz")
    found = list(glosser.gloss_with_confidence([seen, unseen]))
    assert found[0].sources == [["memory"], ["memory"]]  # without dev the memory answers every seen form
    assert found[1].sources == [["network"], ["network"]]
