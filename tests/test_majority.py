import json

import pytest

from autogloss.errors import ModelError
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.metrics import evaluate_records
from autogloss.models import MajorityGlosser
from autogloss.models import load_model
from autogloss.records import UNKNOWN_GLOSS
from autogloss.records import IGTRecord, check_alignment

from conftest import DEV, TRAIN, covered, cli


@pytest.fixture
def trained(tmp_path):
    (tmp_path / "train").write_text(TRAIN, encoding="utf-8")
    return MajorityGlosser.train(read_sigmorphon(tmp_path / "train"), "tiny Tsez")


def test_segmented_input_gets_the_most_frequent_gloss_per_morpheme(trained):
    record = IGTRecord(id="1", transcription="Žek’a raład bayrno", segmentation="žek’u-a raład b-ayr-n")
    [glossed] = trained.gloss([record])
    assert glossed.glosses == "man-ERG sea III-bring-PST.UNW"
    assert check_alignment(glossed) == []


def test_unseen_morphemes_get_the_unknown_marker(trained):
    record = IGTRecord(id="1", transcription="x", segmentation="qqq-a")
    [result] = trained.gloss_with_confidence([record])
    assert result.record.glosses == f"{UNKNOWN_GLOSS}-ERG"
    assert result.confidences == [[0.0, 1.0]]


def test_unsegmented_input_gets_word_glosses_and_a_segmentation(trained):
    record = IGTRecord(id="1", transcription="Ixiw boqno. Unseen")
    [glossed] = trained.gloss([record])
    assert glossed.glosses == f"big III-become-PST.UNW {UNKNOWN_GLOSS}"
    assert glossed.segmentation == "ixiw b-oq-n unseen"


def test_backoff_ignores_case_and_edge_punctuation(trained):
    [glossed] = trained.gloss([IGTRecord(id="1", transcription="IXIW, «boqno»")])
    assert glossed.glosses == "big III-become-PST.UNW"


def test_save_and_load_round_trip(trained, tmp_path):
    trained.save_pretrained(tmp_path / "model")
    assert {p.name for p in (tmp_path / "model").iterdir()} == {"config.json", "majority_tables.json", "README.md"}
    assert json.loads((tmp_path / "model" / "config.json").read_text())["model_type"] == "majority"
    loaded = load_model(tmp_path / "model")
    records = list(read_sigmorphon_text(tmp_path, DEV))
    assert list(loaded.gloss(records)) == list(trained.gloss(records))
    assert "tiny Tsez" in (tmp_path / "model" / "README.md").read_text()


def read_sigmorphon_text(tmp_path, text):
    (tmp_path / "input").write_text(text, encoding="utf-8")
    return read_sigmorphon(tmp_path / "input")


def test_a_model_class_loads_only_its_own_model_type(trained, tmp_path):
    from autogloss.errors import ModelError
    from autogloss.models.neural import NeuralGlosser

    trained.save_pretrained(tmp_path / "model")
    assert isinstance(MajorityGlosser.from_pretrained(tmp_path / "model"), MajorityGlosser)
    with pytest.raises(ModelError, match="a 'majority' model, not a 'neural' one"):
        NeuralGlosser.from_pretrained(tmp_path / "model")


def test_scores_on_dev_with_one_unseen_morpheme(trained, tmp_path):
    gold = list(read_sigmorphon_text(tmp_path, DEV))
    gold.append(IGTRecord(id="new", transcription="Ixiw qaqa", segmentation="ixiw qaqa", glosses="big crow"))
    inputs = [r.replace(glosses="") for r in gold]
    scores = evaluate_records(gold, list(trained.gloss(inputs)), bootstrap_samples=0)
    # every dev morpheme was seen in training except 'qaqa': 9 of 10 right
    assert scores.morpheme_accuracy == pytest.approx(90)


@pytest.mark.parametrize("setup, message", [
    (lambda d: None, "no such model directory"),
    (lambda d: d.mkdir(), "not a model directory (no config.json)"),
    (lambda d: (d.mkdir(), (d / "config.json").write_text("{oops")), "corrupt model config"),
    (lambda d: (d.mkdir(), (d / "config.json").write_text('{"model_type": "nope"}')), "unknown model_type 'nope'"),
    (lambda d: (d.mkdir(), (d / "config.json").write_text('{"model_type": "majority"}')), "incomplete model directory"),
])
def test_missing_or_corrupt_models_give_clear_errors(tmp_path, setup, message):
    directory = tmp_path / "model"
    setup(directory)
    with pytest.raises(ModelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_model(directory)


def test_train_and_gloss_commands(tmp_path):
    (tmp_path / "train").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "dev-covered").write_text(covered(DEV, True), encoding="utf-8")
    done = cli("train", "--arch", "majority", "--train", tmp_path / "train", "--out", tmp_path / "model")
    assert done.returncode == 0, done.stderr
    done = cli("gloss", "--model", tmp_path / "model", "--input", tmp_path / "dev-covered", "--output", tmp_path / "pred")
    assert done.returncode == 0, done.stderr
    predicted = list(read_sigmorphon(tmp_path / "pred"))
    assert predicted[0].glosses == "man-ERG sea III-bring-PST.UNW"
    done = cli("gloss", "--model", tmp_path / "model", "--input", tmp_path / "dev-covered",
               "--output", tmp_path / "pred.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "pred.jsonl").read_text().splitlines()]
    assert rows[0]["glosses"] == "man-ERG sea III-bring-PST.UNW" and rows[0]["confidence"][0] == [1.0, 1.0]
    done = cli("gloss", "--model", tmp_path / "nothing", "--input", tmp_path / "dev-covered", "--output", tmp_path / "x")
    assert done.returncode == 1 and "no such model directory" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()


def test_gloss_command_reads_plain_text(tmp_path):
    (tmp_path / "train").write_text(TRAIN, encoding="utf-8")
    cli("train", "--arch", "majority", "--train", tmp_path / "train", "--out", tmp_path / "model")
    (tmp_path / "new.txt").write_text("Ixiw boqno.\tIt became big.\n", encoding="utf-8")
    done = cli("gloss", "--model", tmp_path / "model", "--input", tmp_path / "new.txt", "--format", "text",
               "--output", tmp_path / "out.txt")
    assert done.returncode == 0, done.stderr
    [record] = read_sigmorphon(tmp_path / "out.txt")
    assert record.glosses == "big III-become-PST.UNW" and record.translation == "It became big."
