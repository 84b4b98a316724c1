"""The neural glosser trained in two processes (torchrun, gloo on the CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from autogloss.corpus import build_corpus
from autogloss.models import load_model
from autogloss.models.distributed import share_of
from autogloss.records import IGTRecord

STEMS = [("ixiw", "big"), ("raład", "sea"), ("žek’u", "man"), ("xabar", "story"), ("k’et’u", "cat"), ("is", "bull")]
ENDINGS = [("a", "ERG"), ("s", "GEN1"), ("r", "LAT")]
VERBS = [("b-oq-n", "III-become-PST.UNW"), ("b-ayr-n", "III-bring-PST.UNW"), ("r-ik’i-s", "IV-go-PST.WIT")]


def sentences(count: int) -> str:
    """``count`` different glossed Tsez-like sentences with a segmentation line."""
    blocks = []
    for index in range(count):
        (stem, gloss), (ending, label) = STEMS[index % 6], ENDINGS[index % 3]
        (other, other_gloss), (verb, verb_gloss) = STEMS[(index + 1 + index // 6) % 6], VERBS[index % 3]
        segmented = f"{stem}-{ending} {other} {verb}"
        blocks.append(f"\\t {segmented.replace('-', '')}\n\\m {segmented}\n"
                      f"\\g {gloss}-{label} {other_gloss} {verb_gloss}\n\\l Sentence {index}.\n")
    return "\n".join(blocks)


def torchrun(*args: str | os.PathLike, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           *map(str, args)], capture_output=True, text=True, timeout=600, env=environment, cwd=cwd)


def test_training_in_two_processes_shares_the_batches_and_resumes_after_a_kill(tmp_path):
    (tmp_path / "train").write_text(sentences(12), encoding="utf-8")
    worker = Path(__file__).with_name("neural_ddp_worker.py")
    killed = torchrun(worker, tmp_path / "train", tmp_path, "--die-in-epoch", "1")
    assert killed.returncode != 0 and not (tmp_path / "model").exists()
    assert (tmp_path / ".model.checkpoint" / "state.pt").is_file()  # epoch 1's, written by the first process
    done = torchrun(worker, tmp_path / "train", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    first, second = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert (first["world_size"], second["world_size"], first["backend"]) == (2, 2, "gloo")
    assert first["messages"][0] == "resumed from epoch 1" and second["messages"] == []  # only the first reports
    # epochs 2 and 3 (of 3), 8 batches each (8 sentences in two settings, 2 a batch): every
    # process its half, in the order a single process takes them, fixed by seed and epoch
    assert first["epochs"] == second["epochs"] and first["epochs"][1] != first["epochs"][2]
    for rank, result in enumerate((first, second)):
        assert result["trained"] == [h for epoch in first["epochs"][1:] for h in epoch[rank::2]]
    assert not set(first["trained"]) & set(second["trained"])
    # dev scoring (2 epochs; memory thresholds, final score) and calibration: the first process only
    assert len(first["scorings"]) > 2 and second["scorings"] == []
    assert first["calibrations"] == [2] and second["calibrations"] == []
    assert first["training"].startswith("3 epochs") and second["training"] is None
    assert not (tmp_path / ".model.checkpoint").exists()
    glosser = load_model(tmp_path / "model")
    (output,) = glosser.gloss([IGTRecord(id="x", transcription="ixiwa raład boqn", segmentation="ixiw-a raład b-oq-n")])
    assert len(output.gloss_words) == 3 and output.glosses != "[UNK] [UNK] [UNK]"


def test_a_share_of_the_batches_pads_to_as_many_steps_in_every_process(monkeypatch):
    monkeypatch.setattr("autogloss.models.distributed.is_distributed", lambda: True)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr("autogloss.models.distributed.rank", lambda: 1)
    assert share_of([1, 2, 3, 4, 5]) == [2, 4, 1]  # padded with the first batch
    assert share_of([1]) == [1] and share_of([]) == []


def test_pretrain_and_finetune_run_under_torchrun(mini_data, tmp_path):
    build_corpus(mini_data, tmp_path / "corpus")
    done = torchrun("-m", "autogloss", "pretrain", "--corpus", tmp_path / "corpus", "--out", tmp_path / "pretrained",
                    "--hidden", "16", "--epochs", "2", "--validation-size", "2", "--batch-size", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("model saved to") == 1  # the first process reports, once
    (mini_data / "train.txt").write_text(sentences(12), encoding="utf-8")
    done = torchrun("-m", "autogloss", "finetune", "--model", tmp_path / "pretrained", "--train",
                    mini_data / "train.txt", "--out", tmp_path / "tuned", "--epochs", "2", "--batch-size", "2",
                    "--format", "sigmorphon")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("model saved to") == 1
    tuned = load_model(tmp_path / "tuned")
    assert tuned.training_data().base.startswith("pretrained")
    (output,) = tuned.gloss([IGTRecord(id="x", transcription="ixiwa raład boqn")])
    assert len(output.gloss_words) == 3 and output.glosses != "[UNK] [UNK] [UNK]"
