import json

import pytest
import torch

from autogloss.errors import ModelError
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.models import load_model
from autogloss.models.neural import NeuralGlosser, TrainingSettings, fit, train_glosser
from autogloss.models.base import checkpoint_dir
from autogloss.models.neural.network import beam_words, mask_word_scores
from autogloss.records import IGTRecord, check_alignment

from conftest import DEV, TRAIN, covered, cli

TINY = {"hidden": 16, "char_dim": 8, "language_dim": 4, "form_dim": 8, "label_dim": 8, "translation_hidden": 8,
        "layers": 1, "dropout": 0.0}


def records(tmp_path, text, name):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return list(read_sigmorphon(tmp_path / name))


def unsegmented(records_):
    return [r.replace(segmentation=None) for r in records_]


@pytest.fixture
def data(tmp_path):
    train = records(tmp_path, TRAIN, "train")
    dev = records(tmp_path, DEV, "dev")
    # both settings: segmented (track 2) and unsegmented (track 1) copies
    return train + unsegmented(train), dev + unsegmented(dev)


def test_a_tiny_model_trains_and_its_loss_falls(data, tmp_path):
    train, dev = data
    torch.manual_seed(0)
    glosser = NeuralGlosser.create(train, **TINY)
    summary = fit(glosser, train, dev, tmp_path / "ckpt", TrainingSettings(epochs=25, batch_size=4, learning_rate=1e-2))
    losses = [epoch["loss"] for epoch in summary["history"]]
    assert losses[-1] < 0.5 * losses[0]
    assert summary["best_epoch"] >= 1 and 0 <= summary["best_dev_score"] <= 100


def test_save_and_load_round_trip(data, tmp_path):
    train, dev = data
    glosser = train_glosser(train, dev, tmp_path / "model", TrainingSettings(epochs=2, batch_size=4),
                            network_options=TINY)
    files = {p.name for p in (tmp_path / "model").iterdir()}
    assert {"config.json", "model.safetensors", "vocab.json", "memory.json", "README.md"} <= files
    assert json.loads((tmp_path / "model" / "config.json").read_text())["model_type"] == "neural"
    assert not checkpoint_dir(tmp_path / "model").exists()
    loaded = load_model(tmp_path / "model")
    inputs = [r.replace(glosses="") for r in dev]
    assert list(loaded.gloss(inputs)) == list(glosser.gloss(inputs))
    assert "Dev scores" in (tmp_path / "model" / "README.md").read_text()


class Interrupt(Exception):
    pass


#: Four epochs with a checkpoint after each.
FOUR_EPOCHS = TrainingSettings(epochs=4, batch_size=4, epoch_checkpoint_seconds=0.0)


def killed_after_two_epochs(train, dev, checkpoint):
    """A run killed after its second epoch's checkpoint, and a fresh network of the same shape to resume it."""

    def die_after_two_epochs(message):
        if message.startswith("epoch 2"):
            raise Interrupt

    torch.manual_seed(0)
    glosser = NeuralGlosser.create(train, **TINY)
    with pytest.raises(Interrupt):
        fit(glosser, train, dev, checkpoint, FOUR_EPOCHS, die_after_two_epochs)
    return NeuralGlosser(glosser.network.__class__(glosser.network.config), glosser.vocabs)


def test_a_killed_run_resumes_from_its_checkpoint(data, tmp_path):
    train, dev = data
    fresh = killed_after_two_epochs(train, dev, tmp_path / "ckpt")
    progress = json.loads((tmp_path / "ckpt" / "progress.json").read_text())
    assert progress["epoch"] == 2
    messages = []
    summary = fit(fresh, train, dev, tmp_path / "ckpt", FOUR_EPOCHS, messages.append)
    assert messages[0] == "resumed from epoch 2"
    assert [h["epoch"] for h in summary["history"]] == [1, 2, 3, 4]


def test_a_checkpoint_is_not_resumed_on_other_sentences(data, tmp_path):
    # a resumed run scored on other dev sentences (or none) would keep a best chosen by the old ones
    train, dev = data
    fresh = killed_after_two_epochs(train, dev, tmp_path / "ckpt")
    with pytest.raises(ModelError, match=rf"other sentences \(dev: {len(dev)} sentences then, 0 now\).*--restart"):
        fit(fresh, train, [], tmp_path / "ckpt", FOUR_EPOCHS)
    with pytest.raises(ModelError, match="other sentences"):
        fit(fresh, train[:-1], dev, tmp_path / "ckpt", FOUR_EPOCHS)
    summary = fit(fresh, train, dev, tmp_path / "ckpt", FOUR_EPOCHS)  # the same sentences: it goes on
    assert [h["epoch"] for h in summary["history"]] == [1, 2, 3, 4]


def test_output_is_aligned_with_punctuation_and_unknown_characters(data, tmp_path):
    train, dev = data
    glosser = train_glosser(train, [], tmp_path / "model", TrainingSettings(epochs=1, batch_size=4),
                            network_options=TINY)
    strange = [
        IGTRecord(id="s", transcription="Ж€, raład !", segmentation="ж€-q , raład-a !", translation="Odd, «sea»!"),
        IGTRecord(id="u", transcription="Ж€, «raład» ! ...", translation=None),
        IGTRecord(id="e", transcription="x--y", segmentation="x--y-"),
    ]
    for glossed in glosser.gloss(strange):
        assert check_alignment(glossed.replace(segmentation=glossed.segmentation if glossed.id != "u" else None)) == []
        assert len(glossed.gloss_words) == len(glossed.segmented_form.split() if glossed.id != "u"
                                               else glossed.transcription_words)
    unsegmented_output = list(glosser.gloss(strange[1:2]))[0]
    assert len(unsegmented_output.segmentation.split()) == 4


def test_fine_tuning_grows_the_vocabularies(data, tmp_path):
    train, dev = data
    base = train_glosser(train, dev, tmp_path / "base", TrainingSettings(epochs=1, batch_size=4), network_options=TINY)
    labels_before = len(base.vocabs.labels)
    new = [IGTRecord(id="n", transcription="qoqo raład", segmentation="qoqo raład", glosses="crow sea",
                     translation="a crow at sea")]
    tuned = train_glosser(new, [], tmp_path / "tuned", TrainingSettings(epochs=1, batch_size=4),
                          base=load_model(tmp_path / "base"))
    assert len(tuned.vocabs.labels) == labels_before + 1 and "crow" in tuned.vocabs.labels
    assert tuned.network.output.out_features == len(tuned.vocabs.labels)
    assert load_model(tmp_path / "tuned").vocabs.labels.itos == tuned.vocabs.labels.itos


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "model.safetensors").write_bytes(b"garbage"), "corrupt weights"),
    (lambda d: (d / "model.safetensors").unlink(), "no model.safetensors"),
    (lambda d: (d / "vocab.json").write_text("{"), "corrupt model file"),
    (lambda d: (d / "config.json").write_text('{"model_type": "neural", "network": {"chars": 3}}'), "corrupt model config"),
])
def test_corrupt_model_directories_give_clear_errors(data, tmp_path, damage, message):
    train, _ = data
    glosser = NeuralGlosser.create(train, **TINY)
    glosser.save_pretrained(tmp_path / "model")
    damage(tmp_path / "model")
    with pytest.raises(ModelError, match=message):
        load_model(tmp_path / "model")


def test_missing_model_names_what_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="no such model directory"):
        load_model(tmp_path / "absent")
    with pytest.raises(ModelError, match="someone/no-such-glosser: no such model directory, and not loadable"):
        load_model("someone/no-such-glosser")


def test_train_finetune_and_gloss_commands(tmp_path):
    (tmp_path / "train").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "dev").write_text(DEV, encoding="utf-8")
    (tmp_path / "input").write_text(covered(DEV, False), encoding="utf-8")
    done = cli("train", "--train", tmp_path / "train", "--dev", tmp_path / "dev", "--out", tmp_path / "model",
               "--epochs", "2", "--hidden", "16")
    assert done.returncode == 0, done.stderr
    assert "model saved to" in done.stdout
    done = cli("finetune", "--model", tmp_path / "model", "--train", tmp_path / "dev", "--dev", tmp_path / "dev",
               "--out", tmp_path / "tuned", "--epochs", "1")
    assert done.returncode == 0, done.stderr
    done = cli("gloss", "--model", tmp_path / "tuned", "--input", tmp_path / "input", "--output",
               tmp_path / "pred.jsonl")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (tmp_path / "pred.jsonl").read_text().splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert len(row["glosses"].split()) == len(row["transcription"].split()) == len(row["confidence"])
        assert all(0 <= c <= 1 for word in row["confidence"] for c in word)


def test_predicted_segmentation_has_one_piece_per_label():
    from autogloss.models.neural.glosser import _segment

    # three labels looking at the start, middle and end of a six-letter word
    attention = torch.tensor([[0.9, 0.1, 0, 0, 0, 0], [0, 0, 0.5, 0.5, 0, 0], [0, 0, 0, 0, 0.2, 0.8]])
    assert _segment("boqnoa", attention) == "bo-qn-oa"
    # all labels looking at one place still give ordered, non-empty pieces
    assert _segment("abc", torch.tensor([[0, 1.0, 0]] * 3)) == "a-b-c"
    assert _segment("ab", torch.tensor([[1.0, 0]] * 3)) == "a-b"  # fewer letters than labels
    assert _segment("abc", torch.tensor([[1.0, 0, 0]])) == "abc"


def test_a_word_s_own_hyphens_count_as_boundaries():
    from autogloss.models.neural.glosser import _segment

    def looking_at(word, *places):
        attention = torch.zeros(len(places), len(word))
        for label, place in enumerate(places):
            attention[label, place] = 1.0
        return attention

    # Natugu writes some words with a hyphen: three labels, one boundary given
    assert _segment("wz-ngrde", looking_at("wz-ngrde", 0, 4, 7)) == "wz-ngr-de"
    assert _segment("wz-ngrde", looking_at("wz-ngrde", 0, 1, 7)) == "w-z-ngrde"
    assert _segment("a-b", looking_at("a-b", 0, 2)) == "a-b"  # the hyphen is the only boundary needed
    assert _segment("a-b-c", looking_at("a-b-c", 0, 4)) == "a-b-c"  # more parts than labels: as written


def test_a_run_killed_inside_an_epoch_resumes_at_the_same_step(data, tmp_path, monkeypatch):
    from autogloss.models.neural import training

    train, dev = data
    settings = TrainingSettings(epochs=2, batch_size=2, checkpoint_minutes=0.0)  # a checkpoint after every step
    steps_per_epoch = len(training._epoch_batches(NeuralGlosser.create(train, **TINY).encode(train, True), settings, 0))
    real_loss, calls = training.batch_loss, []

    def loss_then_die(glosser, chunk):
        calls.append(len(chunk))
        if len(calls) == steps_per_epoch + 2:  # two steps into the second epoch
            raise Interrupt
        return real_loss(glosser, chunk)

    monkeypatch.setattr(training, "batch_loss", loss_then_die)
    glosser = NeuralGlosser.create(train, **TINY)
    with pytest.raises(Interrupt):
        fit(glosser, train, dev, tmp_path / "ckpt", settings)
    saved = json.loads((tmp_path / "ckpt" / "progress.json").read_text())
    assert (saved["epoch"], saved["step"]) == (1, 1)

    calls.clear()
    monkeypatch.setattr(training, "batch_loss", lambda glosser, chunk: calls.append(1) or real_loss(glosser, chunk))
    messages = []
    fresh = NeuralGlosser(glosser.network.__class__(glosser.network.config), glosser.vocabs)
    summary = fit(fresh, train, dev, tmp_path / "ckpt", settings, messages.append)
    assert messages[0] == "resumed from epoch 1 step 1"
    assert len(calls) == steps_per_epoch - 1
    assert [h["epoch"] for h in summary["history"]] == [1, 2]


def test_half_precision_weights_load_and_gloss_like_the_original(data, tmp_path):
    train, dev = data
    glosser = train_glosser(train, dev, tmp_path / "full", TrainingSettings(epochs=3, batch_size=4),
                            network_options=TINY)
    glosser.save_pretrained(tmp_path / "half", dtype=torch.float16)
    config = json.loads((tmp_path / "half" / "config.json").read_text())
    assert config["torch_dtype"] == "float16"
    full_size = (tmp_path / "full" / "model.safetensors").stat().st_size
    assert (tmp_path / "half" / "model.safetensors").stat().st_size < 0.6 * full_size
    half = load_model(tmp_path / "half")
    assert next(half.network.parameters()).dtype == torch.float32  # computes in float32 whatever the file holds
    inputs = [r.replace(glosses="") for r in dev]
    agreeing = sum(a == b for a, b in zip(half.gloss(inputs), glosser.gloss(inputs)))
    assert agreeing >= len(inputs) - 1


def test_without_dev_the_memory_answers_for_every_seen_form(data, tmp_path):
    train, _ = data
    glosser = train_glosser(train, [], tmp_path / "model", TrainingSettings(epochs=1, batch_size=4),
                            network_options=TINY)
    assert glosser.memory_thresholds == {"morphemes": 0.0, "words": 0.0}
    seen = [r.replace(glosses="") for r in train]
    assert [r.glosses for r in glosser.gloss(seen)] == [r.glosses for r in train]


def test_a_fine_tune_without_dev_trusts_the_memory_only_for_forms_glossed_one_way(data, tmp_path):
    from autogloss.training import Schedule, finetune_model

    train, _ = data
    base = train_glosser(train, [], tmp_path / "base", TrainingSettings(epochs=1, batch_size=4), network_options=TINY)
    assert base.memory_thresholds == {"morphemes": 0.0, "words": 0.0}  # trained, not fine-tuned: every seen form
    # "-a" and "raład" are glossed two ways in these sentences, "oq" one way
    corrections = [IGTRecord("1", "Žek’a raład boqno.", glosses="man-ERG sea III-become-PST.UNW",
                             segmentation="žek’u-a raład b-oq-n"),
                   IGTRecord("2", "Žek’a raład boqno.", glosses="man-INS lake III-become-PST.UNW",
                             segmentation="žek’u-a raład b-oq-n", )]
    tuned = finetune_model(load_model(tmp_path / "base"), corrections, [], tmp_path / "tuned",
                           Schedule(epochs=1, max_minutes=None, batch_size=2))
    assert tuned.memory_thresholds == {"morphemes": 1.0, "words": 1.0}
    assert tuned._remembered("morphemes", "oq") == ("become", 1.0)
    assert tuned._remembered("morphemes", "a") is None and tuned._remembered("morphemes", "raład") is None
    card = (tmp_path / "tuned" / "README.md").read_text(encoding="utf-8")
    assert "given morphemes: the forms glossed one way throughout training" in card
    assert "given morphemes: every form seen in training" in (tmp_path / "base" / "README.md").read_text("utf-8")


def test_pretrain_on_a_corpus_then_finetune_from_it(tmp_path, mini_data):
    assert cli("corpus", "build", "--data-dir", mini_data, "--out", tmp_path / "corpus").returncode == 0
    done = cli("pretrain", "--corpus", tmp_path / "corpus", "--out", tmp_path / "pretrained", "--epochs", "2",
               "--hidden", "16", "--validation-size", "2", "--dtype", "float16")
    assert done.returncode == 0, done.stderr
    model = tmp_path / "pretrained"
    assert json.loads((model / "config.json").read_text())["torch_dtype"] == "float16"
    assert not (model / "memory.json").exists()  # a form-keyed memory is wrong across languages
    card = (model / "README.md").read_text()
    assert "autogloss pretrain --corpus" in card and "held out of the corpus train split" in card
    pretrained = load_model(model)
    assert len(pretrained.vocabs.languages) > 3  # shared-task and other sources' languages
    (tmp_path / "train").write_text(TRAIN, encoding="utf-8")
    done = cli("finetune", "--model", model, "--train", tmp_path / "train", "--out", tmp_path / "tuned",
               "--epochs", "1")
    assert done.returncode == 0, done.stderr
    assert "pretrained" in load_model(tmp_path / "tuned").info["initialised_from"]


def test_the_packaged_model_glosses_without_being_named(tmp_path):
    from autogloss.models.loading import DEFAULT_MODEL_DIR

    weights = DEFAULT_MODEL_DIR / "model.safetensors"
    assert weights.is_file() and weights.stat().st_size <= 20 * 2**20  # shipped, and 20 MB at most
    (tmp_path / "input.txt").write_text("Ixiw raład boqno.\tA big sea formed.\nŽek’a xabar bayrno.\n",
                                        encoding="utf-8")
    done = cli("gloss", "--input", tmp_path / "input.txt", "--format", "text", "--output", tmp_path / "out.txt")
    assert done.returncode == 0, done.stderr
    glossed = list(read_sigmorphon(tmp_path / "out.txt"))
    assert [len(r.gloss_words) for r in glossed] == [3, 3]
    assert all(check_alignment(r) == [] for r in glossed)
    packaged = load_model(None)
    assert isinstance(packaged, NeuralGlosser) and len(packaged.vocabs.languages) > 500


def _trained_without_memory(data, tmp_path):
    train, dev = data
    torch.manual_seed(0)
    glosser = train_glosser(train, [], tmp_path / "model", TrainingSettings(epochs=8, batch_size=4, learning_rate=1e-2),
                            network_options=TINY, memory=False, save=False)
    return glosser, train, dev


def test_decoding_only_some_words_gives_them_the_same_labels(data, tmp_path):
    from autogloss.models.neural.data import collate

    glosser, _, dev = _trained_without_memory(data, tmp_path)
    batch = collate(glosser.encode([r.replace(glosses="") for r in unsegmented(dev)]))
    with torch.inference_mode():
        everything = glosser.network.decode_words(batch)
        words = len(everything.labels)
        needed = torch.arange(words) % 2 == 0
        some = glosser.network.decode_words(batch, needed)
    assert torch.equal(some.labels[needed], everything.labels[needed])
    assert torch.allclose(some.confidence[needed], everything.confidence[needed], atol=1e-5)
    assert (some.labels[~needed] == -1).all()
    # every decoded word has a label before its end marker
    assert (everything.labels[:, 0] > 1).all()


def test_keeping_only_the_used_labels_keeps_their_scores(data, tmp_path):
    import copy

    from autogloss.models.neural.data import collate, word_labels

    glosser, train, dev = _trained_without_memory(data, tmp_path)
    full = copy.deepcopy(glosser)
    some = [r for r in train if r.segmented_form][:2]
    left = glosser.keep_only_labels(some)
    used = {label for r in some for w in r.gloss_words for label in word_labels(w, "segmented")}
    assert set(glosser.vocabs.labels.to_json()) == used and left == len(used) + 2
    kept = torch.tensor([full.vocabs.labels.id(t) for t in ["<pad>", "<unk>", *glosser.vocabs.labels.to_json()]])
    batch = collate(full.encode([r.replace(glosses="") for r in dev if r.segmented_form]))
    with torch.inference_mode():
        before, after = full.network(batch), glosser.network(batch)
    labels = len(full.vocabs.labels)
    assert torch.allclose(after[..., : len(kept)], before[..., kept], atol=1e-5)
    assert torch.allclose(after[..., len(kept):], before[..., labels:], atol=1e-5)  # copying untouched
    glosser.save_pretrained(tmp_path / "pruned")
    inputs = [r.replace(glosses="") for r in dev]
    assert list(load_model(tmp_path / "pruned").gloss(inputs)) == list(glosser.gloss(inputs))


def test_words_the_memory_glosses_are_cut_into_one_piece_per_label(data, tmp_path):
    # Track 1 training data has no segmentation line, so the memory knows the
    # glosses of seen words but not where their morphemes are.
    train, _ = data
    words_only = [r for r in train if not r.segmented_form]
    glosser = train_glosser(words_only, [], tmp_path / "model", TrainingSettings(epochs=2, batch_size=4),
                            network_options=TINY)
    assert glosser.memory_thresholds["words"] == 0.0 and not glosser.memory.segmentations
    inputs = [r.replace(glosses="") for r in words_only]
    outputs = list(glosser.gloss(inputs))
    several = [(w, g) for r in outputs for w, g in zip(r.segmentation.split(), r.gloss_words) if "-" in g]
    assert several, "the test data should have seen words with several morphemes"
    for record in outputs:
        assert record.glosses == " ".join(glosser.memory.lookup("words", w)[0] for w in record.transcription_words)
        assert check_alignment(record) == []
        assert [w.replace("-", "") for w in record.segmentation.split()] == record.transcription_words


def test_short_epochs_are_not_each_checkpointed(data, tmp_path, monkeypatch):
    from autogloss.models.neural import training

    train, dev = data
    saved = []
    real_save = training._save_checkpoint
    monkeypatch.setattr(training, "_save_checkpoint", lambda *args: saved.append(1) or real_save(*args))
    glosser = NeuralGlosser.create(train, **TINY)
    fit(glosser, train, [], tmp_path / "ckpt", TrainingSettings(epochs=6, batch_size=4, epoch_checkpoint_seconds=3600))
    assert saved == []  # six epochs of a few steps: none an hour after the start
    fit(NeuralGlosser.create(train, **TINY), train, [], tmp_path / "every",
        TrainingSettings(epochs=6, batch_size=4, epoch_checkpoint_seconds=0.0))
    assert len(saved) == 6


class _TableStepper:
    """A decoder whose next-output probabilities depend only on the outputs so
    far (``table``: prefix tuple -> probabilities of outputs 0..3; 0 ends)."""

    def __init__(self, table):
        self.table, self.prefixes, self.seen = table, [()], []

    def log_probs(self, step, previous):
        if step:
            self.prefixes = [prefix + (int(p),) for prefix, p in zip(self.prefixes, previous)]
        self.seen.append(len(self.prefixes))
        probs = torch.tensor([self.table.get(prefix, [1.0, 0.0, 0.0, 0.0]) for prefix in self.prefixes])
        return mask_word_scores(probs.clamp(min=1e-30).log(), step), torch.ones(len(self.prefixes), 3) / 3

    def keep(self, rows):
        self.prefixes = [self.prefixes[int(r)] for r in rows]


def test_beam_search_finds_the_more_probable_sequence_that_greedy_misses():
    # Greedy takes label 2 first (0.6) and then ends on a coin flip: 0.6 * 0.5 * ... ;
    # label 3 first (0.4) is followed by a sure end: 0.4 * 1.0 beats 0.6 * 0.5.
    table = {(): [0.0, 0.0, 0.6, 0.4], (2,): [0.5, 0.0, 0.25, 0.25], (3,): [1.0, 0.0, 0.0, 0.0],
             (2, 2): [1.0, 0, 0, 0], (2, 3): [1.0, 0, 0, 0]}
    stepper = _TableStepper(table)
    decoding = beam_words(2, torch.tensor([1]), 3, 4, 2, stepper)
    assert decoding.labels[1].tolist() == [3, 0, -1, -1]
    assert decoding.confidence[1, :2].tolist() == pytest.approx([0.4, 1.0])
    assert (decoding.labels[0] == -1).all()  # not asked for: not decoded
    greedy = beam_words(2, torch.tensor([1]), 3, 4, 1, _TableStepper(table))
    assert greedy.labels[1].tolist() == [2, 0, -1, -1]
    assert greedy.confidence[1, :2].tolist() == pytest.approx([0.6, 0.5])


def test_beam_search_stops_a_word_once_nothing_can_beat_its_best_ending():
    table = {(): [0.0, 0.0, 0.9, 0.1], (2,): [0.95, 0.0, 0.05, 0.0], (3,): [0.9, 0.0, 0.1, 0.0]}
    stepper = _TableStepper(table)
    decoding = beam_words(1, torch.tensor([0]), 3, 12, 2, stepper)
    assert decoding.labels[0, :2].tolist() == [2, 0]
    assert len(stepper.seen) < 12  # the search ended before the step limit


def test_neural_beam_of_one_is_greedy_and_wider_beams_score_what_they_chose(data, tmp_path):
    from autogloss.models.neural.data import collate

    glosser, _, dev = _trained_without_memory(data, tmp_path)
    batch = collate(glosser.encode([r.replace(glosses="") for r in unsegmented(dev)]))
    with torch.inference_mode():
        greedy = glosser.network.decode_words(batch)
        assert torch.equal(glosser.network.decode_words(batch, beams=1).labels, greedy.labels)
        wide = glosser.network.decode_words(batch, beams=4)
        # Each step's confidence is the model's probability of that label given the
        # labels before it: the same sequence fed back teacher-forced gives the same numbers.
        for decoding in (greedy, wide):
            words = glosser.network.start_words(batch)
            steps = decoding.labels.size(1)
            teacher = decoding.labels.clamp(min=0)
            teacher = teacher.where(teacher < glosser.network.config.labels, torch.ones_like(teacher))
            previous = torch.zeros(len(teacher), dtype=torch.long)
            for step in range(steps):
                scores, _ = glosser.network.step(words, previous)
                probs = mask_word_scores(scores, step).softmax(-1)
                chosen = decoding.labels[:, step]
                alive = chosen >= 0
                got = probs[alive].gather(1, chosen[alive, None])[:, 0]
                assert torch.allclose(got, decoding.confidence[alive, step], atol=1e-4)
                previous = teacher[:, step]
    # Sequence probabilities: the beam's answer is never less probable than greedy's here.
    def probability(decoding):
        ended = decoding.labels >= 0
        return torch.where(ended, decoding.confidence, torch.ones_like(decoding.confidence)).prod(-1)
    assert (probability(wide) >= probability(greedy) - 1e-5).all()


def test_a_fine_tune_with_dev_keeps_its_base_when_no_epoch_beats_it(data, tmp_path):
    from autogloss.training import Schedule, finetune_model

    train, dev = data
    torch.manual_seed(0)
    base = train_glosser(train, [], tmp_path / "base", TrainingSettings(epochs=30, batch_size=4, learning_rate=1e-2),
                         network_options=TINY, memory=False)
    inputs = [r.replace(glosses="") for r in dev]
    before = [r.glosses for r in base.gloss(inputs)]
    # Corrections that teach nothing but one wrong label for every morpheme.
    wrong = [r.replace(glosses=" ".join("-".join("WRONG" for _ in w.split("-")) for w in r.gloss_words))
             for r in train]
    kept = finetune_model(load_model(tmp_path / "base"), wrong, dev, tmp_path / "kept",
                          Schedule(epochs=3, max_minutes=None, batch_size=4, learning_rate=1e-2),
                          keep_all_labels=True)
    history = kept.info["history"]
    assert history[0]["epoch"] == 0 and len(history) == 4
    assert "no epoch beat the starting model" in kept.info["training"]
    assert [r.glosses for r in load_model(tmp_path / "kept").gloss(inputs)] == before
    # Without a dev set there is nothing to judge by: the fine-tune is what it learnt.
    learnt = finetune_model(load_model(tmp_path / "base"), wrong, [], tmp_path / "learnt",
                            Schedule(epochs=3, max_minutes=None, batch_size=4, learning_rate=1e-2),
                            keep_all_labels=True)
    assert "WRONG" in " ".join(r.glosses for r in learnt.gloss(inputs))
