"""The training recipes (autogloss.training), checked directly on tiny data.

The network trainers are replaced by recorders, so each test sees what a
recipe hands them (settings, learning rate, network shape, data) without
training anything; the command-line tests train for real.
"""

import ast
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from autogloss import training
from autogloss.errors import AutoglossError
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.models import MajorityGlosser
from autogloss.models.neural import EnsembleGlosser, NeuralGlosser, TrainingSettings
from autogloss.records import IGTRecord
from autogloss.training import (Architecture, Dtype, Network, PretrainingCorpus, Schedule, ensemble_models,
                                finetune_model, pretrain_model, pretraining_split, train_model)

from conftest import TRAIN, covered

TINY = {"hidden": 16, "char_dim": 8, "language_dim": 4, "form_dim": 8, "label_dim": 8, "translation_hidden": 8,
        "layers": 1, "dropout": 0.0}


@pytest.fixture
def records(tmp_path):
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    return list(read_sigmorphon(tmp_path / "train.txt"))


@pytest.fixture
def trainers(monkeypatch):
    """Both network trainers replaced by recorders: ``calls`` holds (trainer, args, kwargs)."""
    import autogloss.models.neural
    import autogloss.models.seq2seq.training

    calls = []

    def recorder(name):
        def record(*args, **kwargs):
            calls.append((name, args, kwargs))
            return SimpleNamespace(model_type=name, info={}, remember=lambda records: None)
        return record

    monkeypatch.setattr(autogloss.models.neural, "train_glosser", recorder("neural"))
    monkeypatch.setattr(autogloss.models.seq2seq.training, "train_seq2seq", recorder("seq2seq"))
    return calls


def _settings(call):
    return call[1][3]


def test_pretraining_holds_out_shuffled_sentences_and_half_of_them_lose_their_segmentation():
    train = [IGTRecord(id=f"s{i}", transcription=f"w{i}", glosses=f"g{i}", segmentation=None if i == 5 else f"m{i}")
             for i in range(10)]
    fit_on, validation = pretraining_split(train, 4)
    # shuffled with seed 0, the first four held out
    assert [r.id for r in validation] == ["s7", "s8", "s1", "s5"]
    assert [r.id for r in fit_on] == ["s3", "s4", "s2", "s0", "s9", "s6"]
    assert [r.segmentation for r in validation] == ["m7", "m8", None, None]  # the second half: unsegmented
    assert validation[3] is train[5]  # already unsegmented: left as it is
    assert all(r.segmentation == f"m{r.id[1:]}" for r in fit_on)  # trained on as they are
    assert [r.id for r in train] == [f"s{i}" for i in range(10)]  # the caller's list is not shuffled


def test_each_recipe_has_its_own_default_learning_rate():
    assert training.LEARNING_RATES == {
        (Network.NEURAL, training.Start.SCRATCH): 3e-3, (Network.NEURAL, training.Start.FINETUNE): 1.5e-3,
        (Network.SEQ2SEQ, training.Start.SCRATCH): 1e-3, (Network.SEQ2SEQ, training.Start.FINETUNE): 3e-4,
        (Network.SEQ2SEQ, training.Start.LORA): 1e-3}
    assert training.learning_rate_help() == "neural 3e-3, fine-tuning 1.5e-3; seq2seq 1e-3, fine-tuning 3e-4, LoRA 1e-3"


def test_training_from_scratch_forks_between_the_networks(records, tmp_path, trainers):
    schedule = Schedule(epochs=5, max_minutes=2.0, batch_size=4, patience=3)
    train_model(records, [], tmp_path / "n", "neural", schedule, sources=[tmp_path / "train.txt"], hidden=16)
    train_model(records, records[:1], tmp_path / "s", Architecture.SEQ2SEQ, schedule, sources=[tmp_path / "train.txt"],
                hidden=256, beams=2)
    (neural, args, kwargs), (seq2seq, s_args, s_kwargs) = trainers
    assert (neural, seq2seq) == ("neural", "seq2seq")
    assert args[3] == TrainingSettings(epochs=5, max_minutes=2.0, batch_size=4, patience=3, learning_rate=3e-3)
    assert kwargs["network_options"] == {"hidden": 16} and kwargs["base"] is None
    assert kwargs["description"] == str(tmp_path / "train.txt")
    settings = s_args[3]
    assert (settings.learning_rate, settings.epochs, settings.patience, settings.lora) == (1e-3, 5, 3, False)
    assert settings.eval_steps is None  # only pretraining evaluates more often than once an epoch
    assert s_kwargs["new_model_options"] == {"d_model": 256, "heads": 4}
    assert s_kwargs["generation"].beams == 2 and s_args[1] == records[:1]
    train_model(records, [], tmp_path / "t", "seq2seq", Schedule(learning_rate=0.05), hidden=16)
    assert _settings(trainers[-1]).learning_rate == 0.05  # a rate given wins
    assert trainers[-1][2]["new_model_options"] == {"d_model": 16, "heads": 2}


def test_the_majority_baseline_trains_saves_and_ignores_the_schedule(records, tmp_path, trainers):
    model = train_model(records, records, tmp_path / "m", Architecture.MAJORITY, sources=["train.txt"])
    assert isinstance(model, MajorityGlosser) and not trainers
    assert model.trained_on == {"sentences": 3, "description": "train.txt"}
    assert (tmp_path / "m" / "config.json").is_file()


def test_training_data_without_glosses_names_its_files(tmp_path, trainers):
    unglossed = [r.replace(glosses="") for r in read_sigmorphon(_write(tmp_path / "c.txt", covered(TRAIN, True)))]
    message = "a.txt and b.jsonl: no glossed record to train on (every gloss line is empty: is it a covered file?)"
    with pytest.raises(AutoglossError, match=f"^{re.escape(message)}$"):
        train_model(unglossed, [], tmp_path / "m", "majority", sources=["a.txt", None, "b.jsonl"])
    with pytest.raises(AutoglossError, match="^a.txt: no glossed record"):
        finetune_model(SimpleNamespace(model_type="seq2seq"), unglossed, [], tmp_path / "m", sources=["a.txt"])
    assert not trainers


def test_fine_tuning_picks_the_rate_and_options_of_the_network(records, tmp_path, trainers):
    from autogloss.models.seq2seq.glosser import GenerationSettings

    neural = NeuralGlosser.create(records, **TINY)
    finetune_model(neural, records, [], tmp_path / "a", sources=["x.txt", None, "log.jsonl"])
    finetune_model(neural, records, [], tmp_path / "b", keep_all_labels=True, lora=True)
    (_, args, kwargs), (_, _, kept) = trainers
    assert args[3] == TrainingSettings(epochs=40, max_minutes=10.0, batch_size=32, patience=8, learning_rate=1.5e-3)
    assert kwargs["base"] is neural and kwargs["description"] == "x.txt + log.jsonl"
    assert kwargs["keep_only_used_labels"] is True and kept["keep_only_used_labels"] is False
    assert _settings(trainers[1]).learning_rate == 1.5e-3  # --lora means nothing to the neural network

    seq2seq = SimpleNamespace(model_type="seq2seq", settings=GenerationSettings(beams=3))
    finetune_model(seq2seq, records, [], tmp_path / "c", lora_rank=4)
    finetune_model(seq2seq, records, [], tmp_path / "d", lora=True, lora_rank=4, beams=1)
    (_, full, full_kwargs), (_, lora, lora_kwargs) = trainers[2:]
    assert (full[3].learning_rate, full[3].lora, full[3].lora_rank) == (3e-4, False, 4)
    assert (lora[3].learning_rate, lora[3].lora, lora[3].lora_rank) == (1e-3, True, 4)
    assert full_kwargs["base"] is seq2seq and full_kwargs["new_model_options"] is None
    assert full_kwargs["generation"].beams == 3 and lora_kwargs["generation"].beams == 1  # the base's, or --beams


def test_only_single_networks_are_fine_tuned(records, tmp_path, trainers):
    neural = NeuralGlosser.create(records, **TINY)
    with pytest.raises(AutoglossError, match="^ens: fine-tuning needs a neural or seq2seq model, not 'neural-ensemble' "
                                             r"\(fine-tune each member"):
        finetune_model(EnsembleGlosser.combine([neural, neural]), records, [], tmp_path / "e", base_name="ens")
    with pytest.raises(AutoglossError, match="^maj: fine-tuning needs a neural or seq2seq model, not 'majority'$"):
        finetune_model(MajorityGlosser.train(records), records, [], tmp_path / "m", base_name="maj")
    assert not trainers


def _corpus(records):
    train = [r.replace(id=f"{r.id}-{copy}") for copy in range(4) for r in records]  # 12 sentences
    return PretrainingCorpus("mini", train, [records[0].replace(id="extra")])


def test_pretraining_the_neural_network(records, tmp_path, trainers):
    corpus = _corpus(records)
    pretrain_model(corpus, tmp_path / "p", "neural", Schedule(epochs=2, max_minutes=5.0, batch_size=4, patience=99),
                   validation_size=4, hidden=16, max_labels=10, max_forms=20, dtype="float16",
                   command="autogloss pretrain --corpus mini")
    ((_, args, kwargs),) = trainers
    fit_on, validation = pretraining_split(corpus.train, 4)
    assert args[0] == fit_on + corpus.extra and args[1] == validation
    assert args[3] == TrainingSettings(epochs=2, max_minutes=5.0, batch_size=4, patience=2, learning_rate=3e-3)
    assert kwargs["description"] == "autogloss corpus mini (train and pretrain splits, 9 examples; by source: 9 unknown source)"
    assert kwargs["memory"] is False and kwargs["dtype"] == torch.float16
    assert (kwargs["max_labels"], kwargs["max_forms"], kwargs["network_options"]) == (10, 20, {"hidden": 16})
    assert kwargs["extra_info"] == {
        "dev_data": "4 sentences held out of the corpus train split, half of them without their segmentation",
        "command": "autogloss pretrain --corpus mini"}


def test_pretraining_the_seq2seq_network_selects_every_2000_steps(records, tmp_path, trainers):
    pretrain_model(_corpus(records), tmp_path / "p", Network.SEQ2SEQ, validation_size=2, hidden=64)
    ((_, args, kwargs),) = trainers
    settings = args[3]
    assert (settings.epochs, settings.max_minutes, settings.patience) == (3, 120.0, 3)  # the pretraining schedule
    assert (settings.eval_steps, settings.learning_rate, settings.lora) == (2000, 1e-3, False)
    assert kwargs["base"] is None and kwargs["new_model_options"] == {"d_model": 64, "heads": 2}
    assert "extra_info" not in kwargs and len(args[1]) == 2


def test_an_ensemble_needs_two_neural_models(records, tmp_path):
    with pytest.raises(AutoglossError, match="two or more --model directories"):
        ensemble_models([tmp_path / "a"], tmp_path / "e")
    MajorityGlosser.train(records).save_pretrained(tmp_path / "majority")
    NeuralGlosser.create(records, **TINY).save_pretrained(tmp_path / "neural")
    with pytest.raises(AutoglossError, match="majority: ensemble members must be neural models, not 'majority'"):
        ensemble_models([tmp_path / "neural", tmp_path / "majority"], tmp_path / "e")
    ensemble = ensemble_models([tmp_path / "neural", tmp_path / "neural"], tmp_path / "e", [3, 1])
    assert isinstance(ensemble, EnsembleGlosser) and (tmp_path / "e" / "config.json").is_file()


def test_the_shared_task_trainer_keeps_its_own_schedule(records, trainers):
    from autogloss.sharedtask import neural_trainer

    neural_trainer(7.0, hidden=16, seed=3)(records, [], "ddo")
    ((_, args, kwargs),) = trainers
    assert args[3] == TrainingSettings(epochs=300, batch_size=8, patience=100, max_minutes=7.0, learning_rate=3e-3,
                                       seed=3)  # a small language: all of it, small batches, fixed epochs
    assert kwargs["description"] == "ddo (all of it; too small to hold sentences out)"


def test_choices_are_enums_that_also_take_their_names():
    assert [a.value for a in Architecture] == ["neural", "majority", "seq2seq"]
    assert [n.value for n in Network] == ["neural", "seq2seq"]
    assert Dtype("float16").torch_dtype == torch.float16 and not Architecture.MAJORITY.selects_on_dev


def test_training_imports_only_the_layers_below_it():
    allowed = {"records", "errors", "fileio", "progress", "metrics", "calibration", "corpus", "models", "formats"}
    source = Path(training.__file__).read_text(encoding="utf-8")
    imported = {node.module.split(".")[0] for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}
    assert imported and imported <= allowed, imported - allowed


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path
