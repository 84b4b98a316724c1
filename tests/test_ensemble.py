"""The neural ensemble: averaging members by label string, saving, loading, the command."""

import copy
import json

import pytest
import torch

from autogloss.errors import ModelError
from autogloss.models import load_model
from autogloss.models.neural import EnsembleGlosser, NeuralGlosser, TrainingSettings, train_glosser
from autogloss.models.neural.glosser import _select_rows
from autogloss.models.neural.vocab import Vocabulary

from conftest import cli
from test_neural import TINY, data  # noqa: F401  (the fixture)


def _trained(data, tmp_path, seed, name, memory=True, epochs=6):
    train, _ = data
    torch.manual_seed(seed)
    return train_glosser(train, [], tmp_path / name, TrainingSettings(epochs=epochs, batch_size=4, learning_rate=1e-2),
                         network_options=TINY, memory=memory)


def _with_labels_reversed(glosser: NeuralGlosser) -> NeuralGlosser:
    """The same model with its gloss labels stored in the opposite order."""
    twin = copy.deepcopy(glosser)
    labels = twin.vocabs.labels.itos[2:]
    order = torch.tensor([0, 1, *range(len(labels) + 1, 1, -1)])
    twin.vocabs.labels = Vocabulary(reversed(labels))
    _select_rows(twin.network, "output", order)
    _select_rows(twin.network, "label_embedding", order)
    return twin


def _inputs(data):
    _, dev = data
    return [r.replace(glosses="") for r in dev]


def test_an_ensemble_of_a_model_with_itself_glosses_as_the_model(data, tmp_path):
    glosser = _trained(data, tmp_path, 0, "a", memory=False, epochs=30)  # every answer from the network
    inputs = _inputs(data)
    alone = list(glosser.gloss_with_confidence(inputs))
    assert {bool(r.segmented_form) for r in inputs} == {True, False}  # both settings
    # The twin stores its labels in another order: only mapping by label string
    # (into the primary's space, and back for the previous-label input) keeps
    # the outputs and their probabilities.
    for members in ([glosser, glosser], [glosser, _with_labels_reversed(glosser)], [_with_labels_reversed(glosser), glosser]):
        together = list(EnsembleGlosser.combine(members).gloss_with_confidence(inputs))
        assert [o.record for o in together] == [o.record for o in alone]
        for ours, theirs in zip(together, alone):
            assert sum(ours.confidences, []) == pytest.approx(sum(theirs.confidences, []), abs=2e-4)


def test_an_ensemble_of_a_model_with_its_twin_searches_beams_as_the_model(data, tmp_path):
    glosser = _trained(data, tmp_path, 0, "a", memory=False, epochs=30)
    inputs = [r.replace(segmentation=None) for r in _inputs(data)]
    glosser.configure(beams=3)
    alone = list(glosser.gloss_with_confidence(inputs))
    together = EnsembleGlosser.combine([glosser, _with_labels_reversed(glosser)])
    together.configure(beams=3)
    outputs = list(together.gloss_with_confidence(inputs))
    assert [o.record.glosses for o in outputs] == [o.record.glosses for o in alone]
    for ours, theirs in zip(outputs, alone):
        assert sum(ours.confidences, []) == pytest.approx(sum(theirs.confidences, []), abs=2e-4)


def test_an_ensemble_of_two_models_is_aligned_and_round_trips(data, tmp_path):
    first, second = _trained(data, tmp_path, 0, "a"), _trained(data, tmp_path, 1, "b")
    inputs = _inputs(data)
    ensemble = EnsembleGlosser.combine([first, second], ["fine-tuned", "scratch"])
    outputs = list(ensemble.gloss_with_confidence(inputs))
    for output, record in zip(outputs, inputs):
        words = record.segmented_form.split() if record.segmented_form else record.transcription_words
        assert len(output.record.gloss_words) == len(words)
        assert all(0 <= c <= 1 for word in output.confidences for c in word)
    # averaging changes answers somewhere, unless the members agree everywhere
    separate = [list(first.gloss(inputs)), list(second.gloss(inputs))]
    if separate[0] != separate[1]:
        assert [o.record for o in outputs] != separate[1] or [o.record for o in outputs] != separate[0]
    ensemble.save_pretrained(tmp_path / "ensemble")
    config = json.loads((tmp_path / "ensemble" / "config.json").read_text())
    assert config["model_type"] == "neural-ensemble" and config["members"] == ["member-1", "member-2"]
    assert (tmp_path / "ensemble" / "member-2" / "model.safetensors").is_file()
    assert "fine-tuned" in (tmp_path / "ensemble" / "README.md").read_text()
    loaded = load_model(tmp_path / "ensemble")
    assert isinstance(loaded, EnsembleGlosser)
    assert list(loaded.gloss(inputs)) == [o.record for o in outputs]


def test_a_broken_ensemble_directory_is_named(data, tmp_path):
    glosser = _trained(data, tmp_path, 0, "a")
    EnsembleGlosser.combine([glosser, glosser]).save_pretrained(tmp_path / "ensemble")
    config_path = tmp_path / "ensemble" / "config.json"
    config = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**config, "members": ["member-1"]}))
    with pytest.raises(ModelError, match="two or more"):
        load_model(tmp_path / "ensemble")
    config_path.write_text(json.dumps({**config, "members": ["member-1", "elsewhere"]}))
    with pytest.raises(ModelError, match="elsewhere"):
        load_model(tmp_path / "ensemble")
    with pytest.raises(ModelError, match="at least two"):
        EnsembleGlosser.combine([glosser])
    with pytest.raises(ModelError, match="do not fit 2 members"):
        EnsembleGlosser.combine([glosser, glosser], weights=[1.0])


def test_a_member_with_no_weight_leaves_the_other_alone(data, tmp_path):
    first = _trained(data, tmp_path, 0, "a", memory=False)
    second = _trained(data, tmp_path, 1, "b", memory=False)
    inputs = _inputs(data)
    assert list(EnsembleGlosser.combine([first, second], weights=[1, 0]).gloss(inputs)) == list(first.gloss(inputs))
    ensemble = EnsembleGlosser.combine([first, second], weights=[0, 3])
    segmented = [r for r in inputs if r.segmented_form]
    assert [r.glosses for r in ensemble.gloss(segmented)] == [r.glosses for r in second.gloss(segmented)]
    ensemble.save_pretrained(tmp_path / "weighted")
    assert json.loads((tmp_path / "weighted" / "config.json").read_text())["weights"] == [0.0, 1.0]


def test_the_ensemble_command_combines_models_and_gloss_uses_them(data, tmp_path):
    from autogloss.formats.sigmorphon import write_sigmorphon

    _trained(data, tmp_path, 0, "a")
    _trained(data, tmp_path, 1, "b")
    write_sigmorphon(_inputs(data), tmp_path / "in.txt")
    made = cli("ensemble", "--model", str(tmp_path / "a"), "--model", str(tmp_path / "b"), "--out", str(tmp_path / "e"),
               "--weight", "2", "--weight", "1")
    assert made.returncode == 0, made.stderr
    assert json.loads((tmp_path / "e" / "config.json").read_text())["weights"] == pytest.approx([2 / 3, 1 / 3])
    glossed = cli("gloss", "--model", str(tmp_path / "e"), "--input", str(tmp_path / "in.txt"),
                  "--output", str(tmp_path / "out.txt"))
    assert glossed.returncode == 0, glossed.stderr
    assert (tmp_path / "out.txt").read_text().count("\\g ") == len(_inputs(data))
    refused = cli("ensemble", "--model", str(tmp_path / "a"), "--out", str(tmp_path / "f"))
    assert refused.returncode != 0 and "two or more" in refused.stderr
    nested = cli("finetune", "--model", str(tmp_path / "e"), "--train", str(tmp_path / "in.txt"), "--out", str(tmp_path / "g"))
    assert nested.returncode != 0 and "fine-tune each member" in nested.stderr
