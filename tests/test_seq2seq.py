"""The seq2seq backend: GlossLM prompt, alignment repair, tiny byte-level T5
models trained, saved, fine-tuned (fully and with LoRA), resumed, and
trained in two processes. Every model here is built from a config in the
test; nothing is downloaded."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autogloss.errors import ModelError
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.models import load_model
from autogloss.models.seq2seq.prompt import align_glosses, build_prompt, declare_segmented, prompt_input
from autogloss.records import IGTRecord, Language, check_alignment

from conftest import DEV, TRAIN, covered, cli

TINY = {"d_model": 32, "layers": 1, "heads": 2, "dropout": 0.0}
TSEZ = Language(name="Tsez", iso639_3="ddo", glottocode="dido1241")


def test_prompt_with_translation_for_a_separate_segmentation_line():
    record = IGTRecord(id="1", transcription="Ixiw  raład boqno.", segmentation="ixiw raład b-oq-n",
                       translation=" A big\tsea formed. ", language=TSEZ, metalanguage="English")
    assert build_prompt(record) == (
        "Provide the glosses for the following transcription in Tsez.\n\n"
        "Transcription in Tsez: ixiw raład b-oq-n\n"
        "Transcription segmented: yes\n"
        "Translation in English: A big sea formed.\n"
        "Glosses: ")


def test_prompt_without_translation_for_plain_text_in_an_unknown_language():
    for translation in (None, "", "  \t"):
        record = IGTRecord(id="1", transcription="Ixiw raład\tboqno.", translation=translation, is_segmented=False)
        assert build_prompt(record) == (
            "Provide the glosses for the following transcription in an unknown language.\n\n"
            "Transcription in an unknown language: Ixiw raład boqno.\n"
            "Transcription segmented: no\n"
            "Glosses: ")


def test_prompt_segmented_flag_follows_what_the_record_says():
    def flag_and_text(**fields):
        source = prompt_input(IGTRecord(id="1", **fields))
        return source.segmented, source.text

    # the transcription itself carries the boundaries (a corpus "/seg" example)
    assert flag_and_text(transcription="b-oq-n", is_segmented=True) == ("yes", "b-oq-n")
    # a separate segmentation tier as input (shared-task track 2)
    assert flag_and_text(transcription="boqno", segmentation="b-oq-n") == ("yes", "b-oq-n")
    # known to be plain: a segmentation tier is annotation, not input (a corpus "/unseg" example)
    assert flag_and_text(transcription="boqno", segmentation="b-oq-n", is_segmented=False) == ("no", "boqno")
    # nothing known (track 1 input, plain text), or a tier that only repeats the transcription
    assert flag_and_text(transcription="boqno") == ("unknown", "boqno")
    assert flag_and_text(transcription="boqno", segmentation="boqno") == ("unknown", "boqno")
    unknown = build_prompt(IGTRecord(id="1", transcription="boqno", translation="It formed.", metalanguage="Spanish"))
    assert unknown == ("Provide the glosses for the following transcription in an unknown language.\n\n"
                       "Transcription in an unknown language: boqno\n"
                       "Transcription segmented: unknown\n"
                       "Translation in Spanish: It formed.\n"
                       "Glosses: ")
    # a translation whose language is not recorded: English, as in every source but Uspanteko's
    assert "Translation in English: It formed.\n" in build_prompt(IGTRecord(id="1", transcription="x",
                                                                            translation="It formed."))


def test_declaring_what_is_known_about_the_transcription():
    record = IGTRecord(id="1", transcription="boqno", segmentation="b-oq-n")
    assert prompt_input(declare_segmented(record, "no")) .segmented == "no"
    assert prompt_input(declare_segmented(record, "yes")).text == "b-oq-n"
    assert prompt_input(declare_segmented(record, "unknown")).segmented == "unknown"
    assert declare_segmented(record, "auto") == record
    with pytest.raises(ValueError, match="maybe"):
        declare_segmented(record, "maybe")


def test_alignment_repair_pads_truncates_and_reports():
    segmented = prompt_input(IGTRecord(id="1", transcription="x", segmentation="žek’u-a raład b-ayr-n"))
    ok = align_glosses(segmented, "man-ERG sea III-bring-PST")
    assert ok.glosses == "man-ERG sea III-bring-PST" and not ok.repaired
    short = align_glosses(segmented, "man-ERG  sea")
    assert short.glosses == "man-ERG sea [UNK]-[UNK]-[UNK]"
    assert short.repairs == ["2 gloss words for 3 input words"]
    long = align_glosses(segmented, "man sea III-bring-PST-X extra")
    assert long.glosses == "man-[UNK] sea III-bring-PST"
    assert long.repairs[0] == "4 gloss words for 3 input words" and len(long.repairs) == 3
    assert long.sources == [[(0, 0), None], [(1, 0)], [(2, 0), (2, 1), (2, 2)]]
    # '=' clitic boundaries of the input are kept where morphemes are filled in
    assert align_glosses(prompt_input(IGTRecord(id="2", transcription="a=b", is_segmented=True)), "X").glosses == "X=[UNK]"
    plain = prompt_input(IGTRecord(id="3", transcription="Ixiw raład boqno."))
    assert align_glosses(plain, "big sea-ERG become-PST.UNW").glosses == "big sea-ERG become-PST.UNW"
    assert align_glosses(plain, "").glosses == "[UNK] [UNK] [UNK]"
    for generated in ("", "a", "a b c d e", "a-b-c-d-e f"):
        line = align_glosses(segmented, generated).glosses
        assert check_alignment(IGTRecord(id="r", transcription="x", segmentation=segmented.text, glosses=line)) == []


def test_output_length_limit_follows_the_input():
    from autogloss.models.seq2seq.glosser import GenerationSettings

    settings = GenerationSettings(length_factor=3, length_margin=32, max_output_bytes=1024)
    assert settings.max_new_tokens([prompt_input(IGTRecord(id="1", transcription="abcd"))]) == 3 * 4 + 32
    # bytes, not characters: 'ž' is two
    assert settings.max_new_tokens([prompt_input(IGTRecord(id="1", transcription="žž"))]) == 3 * 4 + 32
    assert settings.max_new_tokens([prompt_input(IGTRecord(id="1", transcription="a" * 2000))]) == 1024


def test_commands_that_do_not_use_the_backend_do_not_import_transformers():
    code = ("import sys, autogloss.cli, autogloss.models, autogloss.models.seq2seq, autogloss.sharedtask;"
            "print('transformers' in sys.modules, 'peft' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr


# -- tiny models ------------------------------------------------------------------------------
def _records(tmp_path: Path, text: str, name: str) -> list[IGTRecord]:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return [r.replace(language=TSEZ, metalanguage="English") for r in read_sigmorphon(tmp_path / name)]


@pytest.fixture(scope="module")
def base_model(tmp_path_factory) -> Path:
    """A tiny T5 trained for a few seconds on the three training sentences."""
    from autogloss.models.seq2seq.glosser import GenerationSettings
    from autogloss.models.seq2seq.training import Seq2SeqTrainingSettings, train_seq2seq

    work = tmp_path_factory.mktemp("seq2seq")
    settings = Seq2SeqTrainingSettings(epochs=30, batch_size=3, learning_rate=1e-2, warmup=0, weight_decay=0)
    train_seq2seq(_records(work, TRAIN, "train"), [], work / "base", settings, new_model_options=TINY,
                  generation=GenerationSettings(beams=1, length_factor=1, length_margin=16))
    return work / "base"


def test_a_tiny_model_learns_saves_and_loads_as_a_plain_transformers_directory(base_model, tmp_path):
    from transformers import T5ForConditionalGeneration

    files = {p.name for p in base_model.iterdir()}
    assert {"config.json", "model.safetensors", "generation_config.json", "autogloss.json", "README.md",
            "tokenizer_config.json"} <= files
    assert not any(name.startswith(".") for name in os.listdir(base_model.parent))  # checkpoints removed
    losses = [entry["loss"] for entry in json.loads((base_model / "autogloss.json").read_text())["info"]["history"]]
    assert len(losses) == 30 and losses[-1] < 0.5 * losses[0]
    assert isinstance(T5ForConditionalGeneration.from_pretrained(base_model), T5ForConditionalGeneration)
    glosser = load_model(base_model, "auto")  # config.json says model_type "t5"
    assert glosser.model_type == "seq2seq" and glosser.settings.length_margin == 16
    train = _records(tmp_path, TRAIN, "train")
    inputs = [r.replace(glosses="") for r in train]
    for beams in (1, 3):
        glosser.settings.beams = beams
        outputs = list(glosser.gloss_with_confidence(inputs))
        assert [o.record.id for o in outputs] == [r.id for r in inputs]
        for output in outputs:
            assert check_alignment(output.record) == []
            assert [len(word) for word in output.confidences] == [len(w.split("-")) for w in output.record.gloss_words]
            assert all(0 <= c <= 1 for word in output.confidences for c in word)


def test_generated_text_is_what_transformers_decodes(base_model):
    glosser = load_model(base_model, "seq2seq")
    prompts = [build_prompt(IGTRecord(id="1", transcription="Ixiw raład boqno.", language=TSEZ))]
    texts, per_char = glosser.generate(prompts, max_new_tokens=40)
    inputs = glosser.tokenizer(prompts, return_tensors="pt")
    direct = glosser.model.generate(**inputs, num_beams=1, do_sample=False, max_new_tokens=40)
    assert texts == glosser.tokenizer.batch_decode(direct, skip_special_tokens=True)
    assert len(per_char[0]) == len(texts[0]) and all(score <= 0 for score in per_char[0])


def test_generated_lines_are_repaired_and_confidences_follow_their_morphemes(base_model, monkeypatch):
    glosser = load_model(base_model, "seq2seq")
    # generated: 'big' (p=1), 'sea-X' (p=0.5 each character), one word short
    text = "big sea-X"
    scores = [0.0] * 4 + [math.log(0.5)] * 5
    monkeypatch.setattr(glosser, "generate", lambda prompts, max_new_tokens: ([text], [scores]))
    record = IGTRecord(id="r", transcription="Ixiw raład boqno.", segmentation="ixiw raład b-oq-n")
    [output] = glosser.gloss_batch([record])
    # 'raład' is one morpheme, so 'sea-X' is cut to 'sea'; the missing third word is filled in
    assert output.record.glosses == "big sea [UNK]-[UNK]-[UNK]"
    assert output.confidences == [[1.0], [0.5], [0.0, 0.0, 0.0]]
    assert output.repairs == ("2 gloss words for 3 input words", "word 2 'raład': 2 gloss morphemes for 1 morphemes")


def test_a_glosslm_style_directory_without_autogloss_settings_loads_with_defaults(base_model, tmp_path):
    from transformers import T5ForConditionalGeneration

    plain = tmp_path / "plain"
    T5ForConditionalGeneration.from_pretrained(base_model).save_pretrained(plain)  # config + weights only
    glosser = load_model(plain, "seq2seq")
    assert glosser.settings.beams == 3  # GlossLM's beam search
    first = _records(tmp_path, TRAIN, "train")[0].replace(glosses="")
    assert next(glosser.gloss([first])).glosses.count(" ") == 2


def test_gloss_command_end_to_end(base_model, tmp_path):
    (tmp_path / "input").write_text(covered(TRAIN, True) + "\n" + "\\t Ixiw raład boqno ixiw raład boqno raład.\n",
                                    encoding="utf-8")
    done = cli("gloss", "--backend", "seq2seq", "--model", base_model, "--input", tmp_path / "input",
               "--output", tmp_path / "pred.jsonl", "--beams", "2", "--segmented", "no")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (tmp_path / "pred.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 4 and all(row["is_segmented"] is False for row in rows)
    for row in rows:
        assert len(row["glosses"].split()) == len(row["transcription"].split()) == len(row["confidence"])
        assert all(0 <= c <= 1 for word in row["confidence"] for c in word)
    repaired = [row["id"] for row in rows if row.get("repairs")]
    if repaired:
        assert f"{len(repaired)} record(s) had their generated glosses aligned" in done.stderr
        assert all(record_id in done.stderr for record_id in repaired)
    else:
        assert "aligned" not in done.stderr


def test_finetune_command_full_and_lora(base_model, tmp_path):
    (tmp_path / "train").write_text(DEV, encoding="utf-8")
    (tmp_path / "dev").write_text(DEV, encoding="utf-8")
    (tmp_path / "input").write_text(covered(DEV, True), encoding="utf-8")
    done = cli("finetune", "--backend", "seq2seq", "--model", base_model, "--train", tmp_path / "train",
               "--dev", tmp_path / "dev", "--out", tmp_path / "full", "--epochs", "2", "--batch-size", "2")
    assert done.returncode == 0, done.stderr
    assert "model saved to" in done.stdout and "chrf_pp" in done.stdout
    assert (tmp_path / "full" / "model.safetensors").is_file()

    done = cli("finetune", "--backend", "seq2seq", "--model", base_model, "--lora", "--lora-rank", "4",
               "--train", tmp_path / "train", "--out", tmp_path / "adapter",  # no dev: the last state is kept
               "--epochs", "3", "--batch-size", "2", "--learning-rate", "1e-2")
    assert done.returncode == 0, done.stderr
    adapter = tmp_path / "adapter"
    files = {p.name for p in adapter.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "autogloss.json", "config.json"} <= files
    assert "model.safetensors" not in files  # only the adapter: the base is referenced, not copied
    assert adapter.joinpath("adapter_model.safetensors").stat().st_size < base_model.joinpath("model.safetensors").stat().st_size / 5
    assert json.loads((adapter / "autogloss.json").read_text())["base_model"] == str(base_model.resolve())

    from safetensors.torch import load_file

    trained = load_file(str(adapter / "adapter_model.safetensors"))
    assert any("lora_B" in name and tensor.abs().sum() > 0 for name, tensor in trained.items())  # LoRA B starts at 0
    tuned = load_model(adapter, "auto")  # the adapter on top of its base
    assert tuned.is_adapter and tuned.base_model == str(base_model.resolve())
    done = cli("gloss", "--model", adapter, "--input", tmp_path / "input", "--output", tmp_path / "pred.txt")
    assert done.returncode == 0, done.stderr
    predictions = list(read_sigmorphon(tmp_path / "pred.txt"))
    assert len(predictions) == 2 and all(check_alignment(r) == [] for r in predictions)


def test_train_command_builds_a_new_t5_from_scratch(tmp_path):
    (tmp_path / "train").write_text(DEV, encoding="utf-8")
    done = cli("train", "--arch", "seq2seq", "--train", tmp_path / "train", "--out", tmp_path / "scratch",
               "--epochs", "1", "--hidden", "16", "--batch-size", "2")
    assert done.returncode == 0, done.stderr
    assert load_model(tmp_path / "scratch").model_type == "seq2seq"


class Interrupt(Exception):
    pass


def test_a_killed_training_run_resumes_from_its_last_checkpoint(tmp_path):
    from autogloss.models.seq2seq.glosser import GenerationSettings
    from autogloss.models.seq2seq.training import Seq2SeqTrainingSettings, train_seq2seq

    train, dev = _records(tmp_path, TRAIN, "train"), _records(tmp_path, DEV, "dev")
    settings = Seq2SeqTrainingSettings(epochs=4, batch_size=1, learning_rate=1e-2, eval_steps=2, patience=10)
    # short greedy dev generations: the evaluations are what this test counts, not what they write
    short = GenerationSettings(beams=1, length_factor=1, length_margin=8)

    def die_at_step_6(message):
        if message.startswith("step 6:"):  # logged before step 6 is evaluated and saved
            raise Interrupt

    with pytest.raises(Interrupt):
        train_seq2seq(train, dev, tmp_path / "model", settings, new_model_options=TINY, generation=short,
                      progress=die_at_step_6)
    checkpoints = tmp_path / ".model.checkpoint"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["checkpoint-2", "checkpoint-4"]
    assert not (tmp_path / "model").exists()
    (checkpoints / "checkpoint-6").mkdir()  # a checkpoint killed while being written: no trainer_state.json

    messages = []
    glosser = train_seq2seq(train, dev, tmp_path / "model", settings, new_model_options=TINY, generation=short,
                            progress=messages.append)
    assert messages[0] == "resuming from checkpoint-4"
    assert not any(m.startswith(("step 1:", "step 2:", "step 3:", "step 4:")) for m in messages)
    assert any(m.startswith("step 6: eval_loss") for m in messages)  # progress goes on after resuming
    assert glosser.info["training"].startswith("12 steps")  # 3 sentences x 4 epochs, as if never stopped
    assert (tmp_path / "model" / "model.safetensors").is_file() and not checkpoints.exists()


def killed_at_step_3(train, model_dir, settings):
    """A run without dev sentences killed after its step 3 was logged (its checkpoint after step 2 kept)."""
    from autogloss.models.seq2seq.training import train_seq2seq

    def die_at_step_3(message):
        if message.startswith("step 3:"):
            raise Interrupt

    with pytest.raises(Interrupt):
        train_seq2seq(train, [], model_dir, settings, new_model_options=TINY, progress=die_at_step_3)


def test_a_checkpoint_is_not_resumed_on_other_sentences(tmp_path):
    from autogloss.models.seq2seq.training import Seq2SeqTrainingSettings, train_seq2seq

    train, dev = _records(tmp_path, TRAIN, "train"), _records(tmp_path, DEV, "dev")
    settings = Seq2SeqTrainingSettings(epochs=4, batch_size=1, learning_rate=1e-2, checkpoint_minutes=0.0)

    killed_at_step_3(train, tmp_path / "model", settings)
    checkpoints = tmp_path / ".model.checkpoint"
    kept = sorted(p.name for p in checkpoints.iterdir())
    with pytest.raises(ModelError, match=rf"other sentences \(dev: 0 sentences then, {len(dev)} now\).*--restart"):
        train_seq2seq(train, dev, tmp_path / "model", settings, new_model_options=TINY)
    with pytest.raises(ModelError, match="train: 3 sentences then, 2 now"):
        train_seq2seq(train[:-1], [], tmp_path / "model", settings, new_model_options=TINY)
    assert sorted(p.name for p in checkpoints.iterdir()) == kept  # refused, nothing lost
    glosser = train_seq2seq(train, [], tmp_path / "model", settings, new_model_options=TINY)  # the same: it goes on
    assert glosser.info["training"].startswith("12 steps")


def test_a_resumed_run_keeps_its_time_budget(tmp_path):
    from autogloss.models.seq2seq.training import Seq2SeqTrainingSettings, train_seq2seq

    train = _records(tmp_path, TRAIN, "train")
    settings = Seq2SeqTrainingSettings(epochs=4, batch_size=1, learning_rate=1e-2, checkpoint_minutes=0.0)

    killed_at_step_3(train, tmp_path / "model", settings)
    clock = tmp_path / ".model.checkpoint" / "checkpoint-2" / "clock.json"
    assert json.loads(clock.read_text())["seconds"] > 0
    clock.write_text(json.dumps({"seconds": 3600.0}))  # as if the first run had trained for an hour
    settings.max_minutes = 30
    glosser = train_seq2seq(train, [], tmp_path / "model", settings, new_model_options=TINY)
    assert glosser.info["training"].startswith("3 steps")  # one more step, then the budget was spent
    assert int(glosser.info["training"].split(" in ")[1].split(" s")[0]) >= 3600


def test_missing_models_give_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="absent: no such model directory"):
        load_model(tmp_path / "absent", "seq2seq")
    with pytest.raises(ModelError, match="someone/no-such-glosser: not a loadable seq2seq model directory, and loading "
                                         "it from the Hugging Face hub failed"):
        load_model("someone/no-such-glosser", "seq2seq")
    with pytest.raises(ModelError, match="needs --model"):
        load_model(None, "seq2seq")
    (tmp_path / "input").write_text(covered(DEV, False), encoding="utf-8")
    done = cli("gloss", "--backend", "seq2seq", "--model", tmp_path / "absent", "--input", tmp_path / "input",
               "--output", tmp_path / "out")
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {tmp_path / 'absent'}: no such model directory"


def test_a_moved_base_model_is_named_when_its_adapter_loads(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    (adapter / "config.json").write_text(json.dumps({"model_type": "seq2seq"}))
    (adapter / "autogloss.json").write_text(json.dumps({"base_model": str(tmp_path / "gone")}))
    with pytest.raises(ModelError, match="its base model .*gone is not there"):
        load_model(adapter)


def test_training_in_two_processes_keeps_the_weights_identical(tmp_path):
    """Distributed data parallel on the CPU (gloo): torchrun starts two processes."""
    (tmp_path / "train").write_text(TRAIN + "\n" + DEV, encoding="utf-8")
    worker = Path(__file__).with_name("seq2seq_ddp_worker.py")
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(worker),
                           str(tmp_path / "train"), str(tmp_path)],
                          capture_output=True, text=True, timeout=240, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2] and ranks[0]["backend"] == "gloo"
    # 5 sentences, one per process per step: 3 steps an epoch, 2 epochs
    assert ranks[0]["steps"].startswith("6 steps") and ranks[0]["steps"].endswith("2 processes")
    assert ranks[0]["checksum"] == ranks[1]["checksum"]
    assert (tmp_path / "model" / "model.safetensors").is_file()  # written once, by the first process


def test_pretraining_on_the_corpus_sees_both_settings_of_each_sentence(tmp_path, mini_data):
    from autogloss.corpus import read_corpus

    done = cli("corpus", "build", "--data-dir", mini_data, "--out", tmp_path / "corpus")
    assert done.returncode == 0, done.stderr
    flags = {prompt_input(r).segmented for r in read_corpus(tmp_path / "corpus", ["train"])}
    assert flags == {"yes", "no"}  # the "/seg" and "/unseg" copies of each shared-task sentence
    done = cli("pretrain", "--backend", "seq2seq", "--corpus", tmp_path / "corpus", "--out", tmp_path / "model",
               "--hidden", "16", "--epochs", "1", "--validation-size", "2", "--batch-size", "4")
    assert done.returncode == 0, done.stderr
    glosser = load_model(tmp_path / "model", "seq2seq")
    assert glosser.model.config.d_model == 16 and "corpus" in glosser.info["trained_on"]


def test_shared_task_trainer_runs_a_task(tmp_path, mini_data):
    from autogloss.models.seq2seq.glosser import GenerationSettings
    from autogloss.sharedtask import load_task, run_task, seq2seq_trainer

    trainer = seq2seq_trainer(0.05, TINY, generation=GenerationSettings(beams=1, length_factor=1, length_margin=8))
    result = run_task(load_task(mini_data, "ddo", 2), trainer, tmp_path / "run", "seq2seq")
    assert result.dev_sentences == 2 and 0 <= result.official.morpheme_accuracy <= 100
    assert (tmp_path / "run" / "models" / "seq2seq-ddo-track2" / "model.safetensors").is_file()
    predicted = list(read_sigmorphon(tmp_path / "run" / "predictions" / "ddo-test-track2.txt"))
    assert len(predicted) == 1 and check_alignment(predicted[0]) == []


def test_a_byt5_checkpoint_keeps_its_own_output_layer(tmp_path):
    """ByT5 and GlossLM have an output layer apart from the input embedding
    (tie_word_embeddings false); loading must not tie the two."""
    import torch
    from safetensors.torch import save_file
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(vocab_size=384, d_model=16, d_ff=32, d_kv=8, num_layers=1, num_heads=2,
                      feed_forward_proj="gated-gelu", decoder_start_token_id=0)
    model = T5ForConditionalGeneration(config)
    state = {k: v.clone().contiguous() for k, v in model.state_dict().items() if "embed_tokens" not in k}
    state["lm_head.weight"] = torch.randn(384, 16)
    model.save_pretrained(tmp_path / "byt5")
    save_file(state, str(tmp_path / "byt5" / "model.safetensors"), metadata={"format": "pt"})
    saved = json.loads((tmp_path / "byt5" / "config.json").read_text())
    saved.pop("scale_decoder_outputs", None)  # transformers 5 writes it; ByT5's config.json predates it
    (tmp_path / "byt5" / "config.json").write_text(json.dumps({**saved, "tie_word_embeddings": False}))
    loaded = load_model(tmp_path / "byt5", "seq2seq").model
    assert torch.equal(loaded.lm_head.weight, state["lm_head.weight"])
    assert torch.equal(loaded.shared.weight, state["shared.weight"])
    assert not loaded.config.scale_decoder_outputs  # T5 v1.1 / ByT5: no output scaling
