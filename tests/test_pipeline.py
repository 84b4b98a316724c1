"""The main job: `autogloss pipeline` fine-tunes the packaged model on every task, two at a time."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from autogloss.sharedtask import PIPELINE_MINUTES, PipelineModel, comparison_table, published_best

from conftest import SHARED_DATA, run_cli


def test_the_main_job_fine_tunes_the_packaged_model_in_two_processes(tmp_path: Path, mini_data: Path) -> None:
    pytest.importorskip("torch")
    done = run_cli("pipeline", "--data-dir", mini_data, "--out", tmp_path / "run", "--language", "ddo",
                   "--max-minutes", "0.02", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "run" / "neural-pretrained-results.json").read_text())
    assert [(r["language"], r["track"]) for r in results] == [("ddo", 1), ("ddo", 2)]  # in task order
    for track in (1, 2):
        model = tmp_path / "run" / "models" / f"neural-pretrained-ddo-track{track}"
        assert json.loads((model / "config.json").read_text())["model_type"] == "neural"
        assert (tmp_path / "run" / "predictions" / f"ddo-test-track{track}.txt").exists()
    assert "best 2023 submission, test" in done.stdout and "| ddo | 2 |" in done.stdout


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
