"""The glossing loop: learning from the post-editor's corrections in the
background, re-glossing what nobody accepted, and the effort shown."""

import json
import os
import time
from pathlib import Path

import pytest

pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from autogloss.corrections import CorrectionsLog  # noqa: E402
from autogloss.errors import AutoglossError  # noqa: E402
from autogloss.formats.sigmorphon import read_sigmorphon  # noqa: E402
from autogloss.glossing import gloss_text  # noqa: E402
from autogloss.interlinear import GlossState  # noqa: E402
from autogloss.learning import (LearningJob, Review, StatusFile, corrections_to_learn, effort,  # noqa: E402
                                learn_from_corrections, learned_models, models_folder, next_model_dir,
                                regloss_unaccepted, run_learning_job)
from autogloss.models import load_model  # noqa: E402
from autogloss.models.neural import TrainingSettings, train_glosser  # noqa: E402
from autogloss.web import ServerSettings, create_app  # noqa: E402

from conftest import TRAIN  # noqa: E402

TINY = {"hidden": 16, "char_dim": 8, "language_dim": 4, "form_dim": 8, "label_dim": 8, "translation_hidden": 8,
        "layers": 1, "dropout": 0.0}
#: Pasted text: "raład" is glossed "sea" by the base model; the linguist says "lake".
TEXT = "Ixiw raład boqno.\nŽek’a raład bayrno.\nIxiw raład.\nXabar raład boqno.\nraład xabar"


@pytest.fixture(scope="module")
def neural_model(tmp_path_factory) -> Path:
    """A tiny neural model of the Tsez sentences, both settings (a few seconds)."""
    folder = tmp_path_factory.mktemp("base")
    (folder / "train.txt").write_text(TRAIN, encoding="utf-8")
    records = list(read_sigmorphon(folder / "train.txt"))
    train_glosser(records + [r.replace(segmentation=None) for r in records], [], folder / "tsez",
                  TrainingSettings(epochs=2, batch_size=4), network_options=TINY)
    return folder / "tsez"


def held_learning(job: LearningJob) -> None:
    """A learning job that says which process runs it (file ``pid``) and starts only once the test
    creates the file ``release``, both beside the corrections."""
    written = job.corrections.with_name("pid.partial")
    written.write_text(str(os.getpid()), encoding="utf-8")
    written.replace(job.corrections.with_name("pid"))
    release = job.corrections.with_name("release")
    while not release.exists():
        time.sleep(0.05)
    run_learning_job(job)


def _accept(document, index, log, correct=lambda form, gloss: "lake" if form == "raład" else gloss):
    """Accept sentence ``index`` with ``correct``'s glosses, logging the changed ones as the server does."""
    sentence = document.sentences[index]
    edited = []
    for word_index, slot_index, slot in list(sentence.slots()):
        gloss = correct(sentence.words[word_index].form, slot.gloss)
        if gloss != slot.gloss:
            edited.append((word_index + 1, slot_index + 1, slot.gloss, gloss))
        document.set_gloss(sentence, word_index, slot_index, gloss, GlossState.HUMAN, slot.confidence)
    sentence.accepted = True
    log.append(sentence.record(document.language), "pasted text", edited)


def _glosses(document):
    return [[(slot.gloss, slot.state.value) for _, _, slot in sentence.slots()] for sentence in document.sentences]


def test_a_model_learns_from_the_corrections_and_reglosses_only_what_nobody_accepted(tmp_path, neural_model):
    document, _ = gloss_text(TEXT, load_model(neural_model))
    assert document.sentences[3].words[1].slots[0].gloss == "sea"
    log = CorrectionsLog(tmp_path / "notes.jsonl")
    for index in range(3):
        _accept(document, index, log)
    # a person's gloss in a sentence not accepted yet (as a FLEx text brings them)
    document.set_gloss(document.sentences[4], 1, 0, "tale", GlossState.HUMAN)
    before = _glosses(document)
    job = LearningJob(tmp_path / "notes.jsonl", neural_model, "tsez", next_model_dir(tmp_path / "notes.jsonl"),
                      epochs=2, status=tmp_path / "status.json")
    assert job.out_dir == tmp_path / "notes.models" / "learned-1"
    run_learning_job(job)
    status = StatusFile.read(tmp_path / "status.json")
    assert status["state"] == "trained" and status["done"] == status["total"] > 0
    assert learned_models(tmp_path / "notes.jsonl") == {"learned-1": job.out_dir}
    assert next_model_dir(tmp_path / "notes.jsonl").name == "learned-2"
    card = (job.out_dir / "README.md").read_text(encoding="utf-8")
    assert f"Training data: {tmp_path / 'notes.jsonl'} (3 sentences accepted in the post-editor)" in card
    assert f"Base model: tsez ({neural_model})" in card

    summary = regloss_unaccepted(document, load_model(job.out_dir))
    after = _glosses(document)
    assert after[:3] == before[:3]  # accepted sentences: untouched
    assert document.sentences[3].words[1].slots[0].gloss == "lake"  # a guess, glossed again by the new model
    assert document.sentences[3].words[1].slots[0].state is GlossState.GUESS
    assert after[4][1] == ("tale", "human")  # a person's gloss: untouched
    assert after[4][0] == ("lake", "guess")
    assert summary.overwritten >= 2 and summary.kept_human == 1


def test_too_few_or_malformed_corrections_are_refused_with_the_file_and_line(tmp_path):
    log = tmp_path / "corrections.jsonl"
    log.write_text(json.dumps({"id": "s1", "transcription": "a b", "glosses": "x y", "document": "d"}) + "\n",
                   encoding="utf-8")
    with pytest.raises(AutoglossError, match=r"1 accepted sentence\(s\) .*accept at least 3"):
        corrections_to_learn(log)
    log.write_text(log.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    with pytest.raises(AutoglossError, match=r"corrections.jsonl:2"):
        corrections_to_learn(log)


def test_a_training_that_fails_leaves_a_message_and_no_model(tmp_path, model_dir):
    # the majority baseline cannot be fine-tuned: the job's own process finds out and says so
    document, _ = gloss_text(TEXT, load_model(model_dir))
    log = CorrectionsLog(tmp_path / "corrections.jsonl")
    for index in range(3):
        _accept(document, index, log)
    job = LearningJob(log.path, model_dir, "tsez", next_model_dir(log.path), epochs=1, status=tmp_path / "s.json")
    run_learning_job(job)
    status = StatusFile.read(tmp_path / "s.json")
    assert status["state"] == "failed" and "fine-tuning needs a neural or seq2seq model" in status["message"]
    assert not job.out_dir.exists() and learned_models(log.path) == {}


def _client(tmp_path, model: Path, **options) -> TestClient:
    settings = ServerSettings({"tsez": model}, tmp_path / "corrections.jsonl", hosts=("testserver",), learn_epochs=2)
    return TestClient(create_app(settings, **options))


def _accept_over_http(client, document, index, correct=lambda form, gloss: "lake" if form == "raład" else gloss):
    words = document["sentences"][index]["words"]
    glosses = [[correct(word["form"], m["gloss"]) for m in word["morphemes"]] for word in words]
    response = client.post(f"/api/documents/{document['id']}/sentences/{index}/accept", json={"glosses": glosses})
    assert response.status_code == 200, response.text
    return response.json()


def test_learning_with_too_few_or_malformed_corrections_fails_clearly_and_loses_nothing(tmp_path, neural_model):
    with _client(tmp_path, neural_model) as client:
        document = client.post("/api/documents/text", json={"text": TEXT, "model": "tsez"}).json()
        nothing = client.post(f"/api/documents/{document['id']}/learn")
        assert nothing.status_code == 422 and "no sentence accepted yet" in nothing.json()["detail"]
        _accept_over_http(client, document, 0)
        few = client.post(f"/api/documents/{document['id']}/learn")
        assert few.status_code == 400 and "accept at least 3" in few.json()["detail"]
        corrections = tmp_path / "corrections.jsonl"
        corrections.write_text(corrections.read_text(encoding="utf-8") + "{broken\n", encoding="utf-8")
        kept = corrections.read_bytes()
        broken = client.post(f"/api/documents/{document['id']}/learn")
        assert broken.status_code == 400 and "corrections.jsonl:2" in broken.json()["detail"]
        assert client.get("/api/learning").json()["state"] == "idle"
        again = client.get(f"/api/documents/{document['id']}").json()
        assert again["sentences"] == [{**document["sentences"][0], **_accepted(again["sentences"][0])},
                                      *document["sentences"][1:]]
        assert client.get("/api/models").json()["models"] == ["tsez"]
    assert corrections.read_bytes() == kept and not models_folder(corrections).exists()


def _accepted(sentence):
    return {"accepted": True, "words": sentence["words"], "score": None}


def test_glossing_is_answered_while_a_model_learns_then_the_rest_is_reglossed(tmp_path, neural_model):
    with _client(tmp_path, neural_model, learning_runner=held_learning) as client:
        document = client.post("/api/documents/text", json={"text": TEXT, "model": "tsez"}).json()
        key = document["id"]
        accepted = [_accept_over_http(client, document, index) for index in range(3)]
        started = client.post(f"/api/documents/{key}/learn")
        assert started.status_code == 202, started.text
        assert started.json()["state"] == "training" and started.json()["model"] == "learned-1"
        # the job waits for the release file: everything else is answered meanwhile
        second = client.post(f"/api/documents/{key}/learn")
        assert second.status_code == 409 and "already learning" in second.json()["detail"]
        other = client.post("/api/documents/text", json={"text": "Ixiw raład.", "model": "tsez"})
        assert other.status_code == 200 and other.json()["sentences"][0]["words"][1]["morphemes"][0]["gloss"] == "sea"
        # (the linguist glosses "raład" "lake" here too: a form glossed two ways is left to the network)
        accepted_meanwhile = _accept_over_http(client, document, 4, lambda form, gloss: "tale" if form == "xabar"
                                               else "lake" if form == "raład" else gloss)
        assert client.get(f"/api/documents/{key}/effort").status_code == 200
        assert client.get("/api/learning").json()["state"] == "training"
        while not (tmp_path / "pid").exists():  # the job's process has started (no deadline: it will)
            time.sleep(0.05)
        assert int((tmp_path / "pid").read_text(encoding="utf-8")) != os.getpid()  # not a thread of the server
        (tmp_path / "release").touch()
        final = client.app.state.learning.wait()
        assert final["state"] == "done", final
        assert "learned-1 is ready" in final["message"] and final["done"] == final["total"] > 0
        assert client.get("/api/learning").json()["state"] == "done"

        after = client.get(f"/api/documents/{key}").json()
        assert after["model"] == "learned-1"
        assert client.get("/api/models").json()["models"] == ["tsez", "learned-1"]
        assert after["sentences"][:3] == accepted  # accepted before: unchanged
        assert after["sentences"][4] == accepted_meanwhile  # accepted while it learned: unchanged
        remaining = after["sentences"][3]["words"][1]["morphemes"][0]
        assert remaining == {**remaining, "gloss": "lake", "state": "guess"}  # the new model's guess
        glossed = client.post("/api/documents/text", json={"text": "Xabar raład boqno.", "model": "learned-1"}).json()
        assert glossed["model"] == "learned-1" and glossed["sentences"][0]["words"] == after["sentences"][3]["words"]
    # the learned model is offered again by a server started on the same corrections
    restarted = ServerSettings.from_options([f"tsez={neural_model}"], tmp_path / "corrections.jsonl")
    assert list(restarted.models)[-1] == "learned-1"


def test_effort_counts_the_guesses_changed_and_the_running_agreement(tmp_path, model_dir):
    with _client(tmp_path, model_dir) as client:
        document = client.post("/api/documents/text", json={"text": TEXT, "model": "tsez"}).json()
        cells = [sum(len(w["morphemes"]) for w in s["words"]) for s in document["sentences"]]
        assert document["effort"] == {"filled": sum(cells), "open_guesses": sum(cells), "accepted": 0, "reviewed": 0,
                                      "changed": 0, "typed": 0, "agreement": None, "window": 10,
                                      "window_sentences": 0, "by_model": {}}
        _accept_over_http(client, document, 0)                        # one of 5 changed (raład)
        _accept_over_http(client, document, 1, lambda form, gloss: gloss)  # none changed
        _accept_over_http(client, document, 1)  # accepted again: no guess left to count
        shown = client.get(f"/api/documents/{document['id']}/effort").json()
    assert shown["accepted"] == 2 and shown["reviewed"] == cells[0] + cells[1] and shown["changed"] == 1
    assert shown["filled"] == sum(cells) and shown["open_guesses"] == sum(cells[2:])
    assert shown["agreement"] == pytest.approx(1 - 1 / (cells[0] + cells[1])) and shown["window_sentences"] == 2
    assert shown["by_model"] == {"tsez": [cells[0] + cells[1], 1]}


def test_the_running_agreement_is_over_the_last_sentences_only(model_dir):
    document, _ = gloss_text(TEXT, load_model(model_dir))
    reviews = [Review(0, "old", guesses=4, changed=4), Review(1, "new", guesses=5, changed=1),
               Review(2, "new", guesses=5, changed=0), Review(1, "new", guesses=0, changed=0)]
    recent = effort(document, reviews, window=2)
    assert recent.agreement == pytest.approx(1 - 1 / 10) and recent.window_sentences == 2
    assert effort(document, reviews, window=3).agreement == pytest.approx(1 - 5 / 14)
    assert recent.by_model == {"old": [4, 4], "new": [10, 1]} and recent.changed == 5 and recent.reviewed == 14


def test_learn_from_corrections_trains_a_copy_and_leaves_the_base_as_it_was(tmp_path, neural_model):
    before = {p.name: p.read_bytes() for p in neural_model.iterdir() if p.is_file()}
    document, _ = gloss_text(TEXT, load_model(neural_model))
    log = CorrectionsLog(tmp_path / "corrections.jsonl")
    for index in range(3):
        _accept(document, index, log)
    job = LearningJob(log.path, neural_model, "tsez", tmp_path / "out", epochs=1)
    learned = learn_from_corrections(job)
    assert learned.info["budget"]["epochs"] == 1 and (tmp_path / "out" / "config.json").is_file()
    assert {p.name: p.read_bytes() for p in neural_model.iterdir() if p.is_file()} == before
