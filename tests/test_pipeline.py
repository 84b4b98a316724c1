"""The main job: `autogloss pipeline` fine-tunes the packaged model on every task, two at a time."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

import autogloss.sharedtask as sharedtask
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.sharedtask import (PIPELINE_MINUTES, PipelineModel, TrainingLength, comparison_table, neural_trainer,
                                  published_best)

from conftest import SHARED_DATA, TRAIN, cli


def test_the_main_job_fine_tunes_the_packaged_model_in_two_processes(tmp_path: Path, mini_data: Path) -> None:
    pytest.importorskip("torch")
    done = cli("pipeline", "--data-dir", mini_data, "--out", tmp_path / "run", "--language", "ddo",
               "--max-minutes", "0.02", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "run" / "neural-pretrained-results.json").read_text())
    assert [(r["language"], r["track"]) for r in results] == [("ddo", 1), ("ddo", 2)]  # in task order
    for track in (1, 2):
        model = tmp_path / "run" / "models" / f"neural-pretrained-ddo-track{track}"
        assert json.loads((model / "config.json").read_text())["model_type"] == "neural"
        assert (tmp_path / "run" / "predictions" / f"ddo-test-track{track}.txt").exists()
    assert "best 2023 submission, test" in done.stdout and "| ddo | 2 |" in done.stdout
    for result in results:
        # every task reports how well its confidences say how often a gloss is right ...
        assert result["calibration"]["morphemes"] > 0 and 0 <= result["calibration"]["ece"] <= 1
        assert 0 <= result["calibration"]["chance"]["p95"] < 1  # the ECE a calibrated glosser shows by chance
        assert result["training"]["epochs"] >= 0 and "length" in result
    # ... and track 1 the segmentation it found for plain input, against the track 2 gold of the same sentences
    assert "segmentation" in results[0] and "segmentation" not in results[1]
    assert 0 <= results[0]["segmentation"]["boundary"]["f1"] <= 100
    assert "| ECE | segmentation F1 |" in done.stdout and " [chance 0." in done.stdout


def test_the_default_is_the_fine_tuned_model_at_the_short_budget() -> None:
    from autogloss.cli import pipeline

    defaults = {name: parameter.default for name, parameter in inspect.signature(pipeline).parameters.items()}
    assert defaults["model"] is PipelineModel.NEURAL_PRETRAINED
    assert defaults["max_minutes"] == PIPELINE_MINUTES and defaults["jobs"] == 2


@pytest.mark.skipif(not (SHARED_DATA / "sigmorphon2023" / "results.md").exists(), reason="no shared data")
def test_published_scores_are_read_from_the_shared_task_results() -> None:
    best = published_best(SHARED_DATA)
    assert (best[("ddo", 1, "word")].score, best[("ddo", 1, "word")].system) == (80.96, "Tü-CL_1")
    assert best[("lez", 1, "word")].score == 78.78 and best[("git", 2, "morpheme")].score > 0
    assert not any(language == "arp" and track == 2 and level == "word" and found.score < 85
                   for (language, track, level), found in best.items())
    assert comparison_table([], best).startswith("| lang | track |")


@pytest.fixture
def measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Measured costs of two tasks: an epoch of Tsez in 60 CPU seconds after 30 around the loop;
    of Gitksan (31 sentences) in one second after 10."""
    table = {"models": {"neural-pretrained": {
        "ddo-track1": {"epochs": 1.0, "loop_cpu_seconds": 60.0, "train_cpu_seconds": 90.0, "train_sentences": 3558},
        "git-track1": {"epochs": 1.0, "loop_cpu_seconds": 1.0, "train_cpu_seconds": 11.0, "train_sentences": 31}}}}
    path = tmp_path / "epochs.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    monkeypatch.setattr(sharedtask, "MEASURED_EPOCHS", path)
    return path


def test_a_task_trains_for_the_epochs_its_budget_affords_at_the_measured_costs(measured: Path) -> None:
    assert TrainingLength(3).epochs("neural-pretrained", "ddo", 1) == 2.5  # (180 - 30) / 60
    assert TrainingLength(10).epochs("neural-pretrained", "ddo", 1) == 9.5
    assert TrainingLength(3).epochs("neural-pretrained", "git", 1) == 170
    assert TrainingLength(10).epochs("neural-pretrained", "git", 1) == 300  # a small language's cap
    assert TrainingLength(0.1).epochs("neural-pretrained", "ddo", 1) == sharedtask.MIN_EPOCHS  # less than the overhead
    assert TrainingLength(3, wall_clock=True).epochs("neural-pretrained", "ddo", 1) is None
    assert TrainingLength(3).epochs("neural", "ddo", 1) is None  # not measured: the clock decides
    assert TrainingLength(3, fixed_epochs=1.0).epochs("neural", "ddo", 1) == 1.0
    assert TrainingLength(3).describe("neural", "ddo", 1) == "3 min of wall time"
    assert TrainingLength(3).describe("neural-pretrained", "ddo", 1).startswith("2.5 epochs")


def test_a_task_with_a_budget_of_its_own_trains_for_what_that_affords(measured: Path) -> None:
    length = TrainingLength(3, task_minutes=(("ddo-track1", 10.0),))
    assert length.epochs("neural-pretrained", "ddo", 1) == 9.5 and length.minutes_for("ddo", 1) == 10
    assert length.epochs("neural-pretrained", "git", 1) == 170  # the others keep the common budget
    assert length.minutes_for("ddo", 2) == 3
    assert "what 10 min of one thread give" in length.describe("neural-pretrained", "ddo", 1)
    wall = TrainingLength(3, wall_clock=True, task_minutes=(("ddo-track1", 10.0),))
    assert wall.describe("neural-pretrained", "ddo", 1) == "10 min of wall time"
    # the benchmark's (and pipeline --full's) longer tasks: track 1 of the data-rich languages, Nyangbo track 2
    assert {task for task, _ in sharedtask.LONGER_TASKS} == {"ddo-track1", "nyb-track1", "usp-track1", "nyb-track2"}
    assert all(minutes > sharedtask.BENCHMARK_MINUTES for _, minutes in sharedtask.LONGER_TASKS)


def test_training_for_fixed_epochs_gives_the_same_model_twice(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    records = list(read_sigmorphon(tmp_path / "train.txt")) * 5  # two batches of 8 an epoch
    trained = [neural_trainer(None, hidden=16, epochs=2.5)(records, [], "ddo") for _ in range(2)]
    assert trained[0].info["budget"]["epochs"] == 2.5  # two epochs and the first batch of the third
    first, second = (glosser.network.state_dict() for glosser in trained)
    assert all((first[name] == second[name]).all() for name in first)


def test_each_track_fine_tunes_the_base_model_it_is_given_and_the_results_say_which(
        tmp_path: Path, mini_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from autogloss.errors import AutoglossError
    from autogloss.models.loading import DEFAULT_MODEL_DIR

    compliant = tmp_path / "compliant"
    compliant.mkdir()
    with pytest.raises(AutoglossError, match="not a model directory"):
        sharedtask.pipeline_bases(track1_base=compliant)
    (compliant / "config.json").write_text("{}", encoding="utf-8")
    bases = sharedtask.pipeline_bases(track1_base=compliant)
    assert bases == {1: compliant, 2: Path(DEFAULT_MODEL_DIR)}
    used = []

    def recording_trainer(minutes, base=None, **options):  # trains the baseline, records what it was given
        used.append(Path(base))
        return sharedtask.majority_trainer

    monkeypatch.setattr(sharedtask, "neural_trainer", recording_trainer)
    results = sharedtask.run_pipeline(mini_data, tmp_path / "run", PipelineModel.NEURAL_PRETRAINED,
                                      TrainingLength(0.02), ["ddo"], bases=bases)
    assert used == [compliant, Path(DEFAULT_MODEL_DIR)]  # track 1, then track 2
    assert [r.extra["base_model"] for r in results] == [str(compliant), "packaged"]
    written = json.loads((tmp_path / "run" / "neural-pretrained-results.json").read_text())
    assert [r["base_model"] for r in written] == [str(compliant), "packaged"]


def test_a_base_model_needs_the_fine_tuned_model_and_one_track_can_be_run_alone(tmp_path: Path, mini_data: Path) -> None:
    from conftest import cli

    done = cli("pipeline", "--model", "majority", "--base-model", "somewhere")
    assert done.returncode == 1 and "--base-model and --track1-base-model go with --model neural-pretrained" in done.stderr
    done = cli("pipeline", "--data-dir", mini_data, "--out", tmp_path / "run", "--language", "ddo", "--model", "majority",
               "--track", "1")
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "run" / "majority-results.json").read_text())
    assert [(r["language"], r["track"]) for r in results] == [("ddo", 1)]
