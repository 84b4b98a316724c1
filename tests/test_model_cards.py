"""Model cards written from what the training actually did (issue 16 item 8):
a fine-tuned model's card and config name its base, its own training and
dev files, languages with sentences per setting, label count, budget used and
dev scores, and never repeat its base's."""

import json

from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.models import load_model
from autogloss.models.neural import TrainingSettings, train_glosser
from autogloss.records import Language

from conftest import DEV, TRAIN, cli

TINY = {"hidden": 16, "char_dim": 8, "language_dim": 4, "form_dim": 8, "label_dim": 8, "translation_hidden": 8,
        "layers": 1, "dropout": 0.0}
TURKISH = Language(name="Turkish", iso639_3="tur")
BASE_COMMAND = "autogloss pretrain --corpus runs/corpus --out runs/pretrained"


def write(tmp_path, name, text):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / name


def base_model(tmp_path):
    """A tiny 'pretrained' model of another language, with a pretraining command and dev set on its card."""
    records = [r.replace(id=f"{r.id}-{n}", language=TURKISH, segmentation=None) if n % 2 else
               r.replace(id=f"{r.id}-{n}", language=TURKISH)
               for n in range(4) for r in read_sigmorphon(write(tmp_path, "base.txt", TRAIN))]
    train_glosser(records, [], tmp_path / "base", TrainingSettings(epochs=1, batch_size=4), network_options=TINY,
                  extra_info={"command": BASE_COMMAND, "dev_data": "600 sentences held out of the corpus"})
    return tmp_path / "base"


def test_a_fine_tuned_model_card_describes_its_own_training(tmp_path):
    base = base_model(tmp_path)
    assert BASE_COMMAND in (base / "README.md").read_text(encoding="utf-8")
    train, dev = write(tmp_path, "tsez-train.txt", TRAIN), write(tmp_path, "tsez-dev.txt", DEV)
    result = cli("finetune", "--model", base, "--train", train, "--dev", dev, "--out", tmp_path / "tuned",
                 "--epochs", "2", "--max-minutes", "5")
    assert result.returncode == 0, result.stderr
    card = (tmp_path / "tuned" / "README.md").read_text(encoding="utf-8")
    info = json.loads((tmp_path / "tuned" / "config.json").read_text(encoding="utf-8"))["info"]

    # nothing of the base's own card
    assert BASE_COMMAND not in card and "autogloss pretrain" not in card
    assert "600 sentences held out of the corpus" not in card and "command" not in info
    assert "tur " not in card.split("## Dev scores")[0].split("Base model")[1]  # not the base's languages

    # what this training did
    data = info["training_data"]
    assert data["base"].startswith("base (") and str(base.resolve()) in data["base"]
    assert data["files"] == [str(train)] and data["dev_files"] == [str(dev)]
    assert data["languages"] == {"unknown": {"segmented": 3, "plain": 0}}
    assert f"- Base model: {data['base']}" in card
    assert f"- Training files: {train}" in card and f"- Dev files: {dev}" in card
    assert "- Languages (training sentences per setting): 1: unknown (3 segmented, 0 plain)" in card
    labels = len(load_model(tmp_path / "tuned").vocabs.labels) - 2
    assert info["labels"] == labels and f"Gloss labels: {labels:,}" in card
    budget = info["budget"]
    assert budget["max_epochs"] == 2 and budget["max_minutes"] == 5 and 0 < budget["epochs"] <= 2
    assert f"- Budget used: {budget['epochs']} epochs of at most 2, " in card and "of at most 5" in card
    assert budget["selected_epoch"] in (0, 1, 2) and f"the weights of epoch {budget['selected_epoch']} kept" in card
    assert "Made with: autogloss fine-tuning" in card
    assert f"Scored on: 2 sentences of {dev}" in card
    scores = info["dev_scores"]
    assert set(scores) >= {"word_accuracy", "morpheme_accuracy"}
    assert f"- word_accuracy: {scores['word_accuracy']:.2f}" in card


def test_a_majority_model_card_names_its_files_and_languages(tmp_path):
    train = write(tmp_path, "train.txt", TRAIN)
    assert cli("train", "--arch", "majority", "--train", train, "--out", tmp_path / "m").returncode == 0
    card = (tmp_path / "m" / "README.md").read_text(encoding="utf-8")
    assert f"- Training files: {train}" in card and "- Base model: none (trained from scratch)" in card
    assert "1: unknown (3 segmented, 3 plain)" in card


def test_a_card_counts_many_training_files_per_folder_and_names_a_few_one_by_one():
    from autogloss.models.base import TrainingData, training_card_lines

    many = [f"/data/odin/{code}.txt" for code in range(1200)] + ["/data/apics/examples.csv"]
    lines = training_card_lines(TrainingData(files=many, dev_files=["/data/ddo-dev.txt", "/data/usp-dev.txt"]))
    assert "- Training files: 1,201 files: 1,200 in /data/odin/, 1 in /data/apics/\n" in lines
    assert "- Dev files: /data/ddo-dev.txt, /data/usp-dev.txt\n" in lines
    assert "/data/odin/7.txt" not in lines
