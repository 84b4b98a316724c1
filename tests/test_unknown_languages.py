"""Honest glossing of what a model was not trained on (issue 16 item 2): a
model records its languages and settings; glossing a language it never saw
caps every confidence below the low-confidence threshold, plain text for a
model that never saw plain text is left unglossed, and both say so in one line."""

import json

import pytest

from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.glossing import (LOW_CONFIDENCE, UNTRAINED_CONFIDENCE, TrainingCheck, gloss_file, gloss_records,
                                gloss_text)
from autogloss.models import MajorityGlosser, load_model
from autogloss.models.base import TrainingData
from autogloss.models.loading import DEFAULT_MODEL_DIR
from autogloss.records import IGTRecord, Language

from conftest import TRAIN, cli

TSEZ = Language(name="Tsez", iso639_3="ddo", glottocode="dido1241")
TURKISH = Language(name="Turkish", iso639_3="tur")
TURKISH_TEXT = "Ben evde kaldım .\nSen okula gittin .\n"
TINY = {"hidden": 16, "char_dim": 8, "language_dim": 4, "form_dim": 8, "label_dim": 8, "translation_hidden": 8,
        "layers": 1, "dropout": 0.0}


def tsez_segmented(tmp_path) -> list[IGTRecord]:
    """The Tsez sentences, segmented only (the transcription is the segmentation), a few times over."""
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    records = list(read_sigmorphon(tmp_path / "train.txt"))
    return [r.replace(id=f"{r.id}-{n}", transcription=r.segmentation, is_segmented=True, language=TSEZ)
            for n in range(4) for r in records]


@pytest.fixture(scope="module")
def tsez_neural(tmp_path_factory):
    """A tiny neural model trained from scratch on segmented Tsez only."""
    from autogloss.models.neural import TrainingSettings, train_glosser

    tmp_path = tmp_path_factory.mktemp("tsez-neural")
    train_glosser(tsez_segmented(tmp_path), [], tmp_path / "model", TrainingSettings(epochs=1, batch_size=4),
                  network_options=TINY)
    return tmp_path / "model"


def all_confidences(path) -> list[float]:
    return [c for line in path.read_text(encoding="utf-8").splitlines() for word in json.loads(line)["confidence"]
            for c in word]


def test_a_model_records_its_languages_and_settings(tsez_neural):
    data = load_model(tsez_neural).training_data()
    assert data.languages == {"dido1241": {"segmented": 12, "plain": 0}}
    assert data.sentences("segmented", Language(iso639_3="ddo")) == 12  # found by its ISO code too
    assert data.sentences("plain") == 0 and data.sentences("segmented", TURKISH) == 0
    config = json.loads((tsez_neural / "config.json").read_text(encoding="utf-8"))
    assert config["info"]["training_data"]["languages"] == data.languages


def test_the_majority_baseline_counts_both_settings_a_record_teaches(tmp_path):
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    model = MajorityGlosser.train(read_sigmorphon(tmp_path / "train.txt"))
    model.save_pretrained(tmp_path / "majority")
    data = load_model(tmp_path / "majority").training_data()
    assert data.languages == {"unknown": {"segmented": 3, "plain": 3}}
    assert data.files == [str(tmp_path / "train.txt")]


def test_the_packaged_model_says_what_it_was_trained_on():
    config = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text(encoding="utf-8"))
    data = TrainingData.from_dict(config["info"]["training_data"])
    assert len(data.languages) == 927 and data.note  # derived after training, and says how
    assert data.sentences("segmented", TURKISH) > 2000 and data.sentences("plain", TURKISH) == 0
    assert data.sentences("segmented", Language(iso639_3="lez")) > 0  # counted as lezg1247
    assert data.sentences("segmented", Language(iso639_3="arp")) == 0  # Arapaho: no gold training data
    assert data.sentences("plain") < 100 < data.sentences("segmented")


def test_turkish_plain_text_with_the_packaged_model_warns_and_caps(tmp_path):
    (tmp_path / "tur.txt").write_text(TURKISH_TEXT, encoding="utf-8")
    result = cli("gloss", "--input", tmp_path / "tur.txt", "--format", "text", "--language", "tur",
                 "--output", tmp_path / "out.jsonl")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "Turkish in plain text" in warnings[0] and "autogloss finetune" in warnings[0]
    confidences = all_confidences(tmp_path / "out.jsonl")
    assert confidences and max(confidences) <= UNTRAINED_CONFIDENCE < LOW_CONFIDENCE


def test_turkish_plain_text_with_a_tsez_segmented_model_is_refused(tsez_neural, tmp_path):
    (tmp_path / "tur.txt").write_text(TURKISH_TEXT, encoding="utf-8")
    result = gloss_file(tmp_path / "tur.txt", tmp_path / "out.jsonl", load_model(tsez_neural), input_format="text")
    assert "unglossed" in result.warning and "plain text" in result.warning and "finetune" in result.warning
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["glosses"] for line in lines] == ["? ? ? ?", "? ? ? ?"]  # gaps, not noise
    assert max(all_confidences(tmp_path / "out.jsonl")) == 0.0


def test_plain_text_with_a_segmented_only_model_in_the_post_editor(tsez_neural, tmp_path):
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from autogloss.web import ServerSettings, create_app

    settings = ServerSettings({"tsez": tsez_neural}, tmp_path / "corrections.jsonl", hosts=("testserver",))
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/documents/text", json={"text": "Ixiw raład boqno.", "model": "tsez"})
    assert response.status_code == 200, response.text
    document = response.json()
    assert "plain text" in document["warning"] and document["summary"]["filled"] == 0
    guesses = [m["confidence"] for s in document["sentences"] for w in s["words"] for m in w["morphemes"]
               if m["state"] == "guess"]
    assert all(confidence < document["low_confidence"] for confidence in guesses)


def test_an_unknown_language_is_glossed_with_capped_confidences(tsez_neural):
    model = load_model(tsez_neural)
    turkish = IGTRecord("t", "kal-dım ev-de", segmentation="kal-dım ev-de", language=TURKISH)
    check = TrainingCheck(model)
    (output,) = gloss_records([turkish], model, check=check)
    assert output.record.has_glosses and "?" not in output.record.glosses  # glossed: guesses, not gaps
    assert max(c for word in output.confidences for c in word) <= UNTRAINED_CONFIDENCE
    assert "Turkish in segmented text (0 segmented training sentences)" in check.warning()


def test_what_the_model_knows_is_glossed_as_it_is(tsez_neural):
    model = load_model(tsez_neural)
    tsez = [IGTRecord("a", "ixiw raład b-oq-n", segmentation="ixiw raład b-oq-n", language=TSEZ),
            IGTRecord("b", "ixiw xabar", segmentation="ixiw xabar")]  # no language: the model's one
    check = TrainingCheck(model)
    assert list(gloss_records(tsez, model, check=check)) == list(model.gloss_with_confidence(tsez))
    assert check.warning() is None


def test_a_multilingual_model_warns_when_no_language_is_named(tmp_path):
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    records = list(read_sigmorphon(tmp_path / "train.txt"))
    model = MajorityGlosser.train([r.replace(language=TSEZ) for r in records]
                                  + [r.replace(id=f"{r.id}-tur", language=TURKISH) for r in records])
    document, summary = gloss_text("ixiw-a raład", model)
    assert "naming no language" in summary.warning and "--language" in summary.warning
    assert all(slot.confidence <= UNTRAINED_CONFIDENCE for _, _, slot in document.sentences[0].slots()
               if slot.confidence is not None)


def test_a_model_without_a_record_is_not_checked():
    assert TrainingCheck(object()).verdict(IGTRecord("x", "anything", language=TURKISH)) is None
