"""The track 1 study (`python -m bench.track1_budget`): its points, their fixed lengths, and resuming."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")

import autogloss.sharedtask as sharedtask  # noqa: E402
from autogloss.records import IGTRecord  # noqa: E402
from autogloss.sharedtask import affordable_epochs  # noqa: E402

from bench import track1_budget as study  # noqa: E402
from test_bench_sigmorphon import tiny_base  # noqa: E402


COST = {"epochs": 1.0, "loop_cpu_seconds": 1.0, "train_cpu_seconds": 1.5, "loop_seconds": 1.0,
        "train_seconds": 1.5, "train_sentences": 3}


@pytest.fixture
def measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tsez track 1 fine-tuned: an epoch in 1 CPU second after 0.5 around it, so 3 s (0.05 min) afford 2.5."""
    path = tmp_path / "epochs.json"
    path.write_text(json.dumps({"models": {"neural-pretrained": {"ddo-track1": COST}}}))
    monkeypatch.setattr(sharedtask, "MEASURED_EPOCHS", path)


def test_the_points_cover_length_threads_and_size_at_the_base_models_size(tmp_path: Path) -> None:
    base = tiny_base(tmp_path / "base", 16, segmented=False)
    points = study.study_points(("ddo", "usp"), base)
    ddo = [point for point in points if point.config.iso == "ddo"]
    assert [(p.config.start, p.config.hidden, p.config.threads, p.minutes) for p in ddo] == [
        ("fine-tuned", 16, 1, 10), ("fine-tuned", 16, 1, 20), ("fine-tuned", 16, 1, 40),  # the base's size
        ("fine-tuned", 16, 2, 10), ("scratch", 128, 1, 20), ("scratch", 256, 1, 20)]
    assert len(points) == 12 and len({point.key for point in points}) == 12


def test_a_study_probes_once_trains_each_point_once_and_resumes(tmp_path: Path, mini_data: Path, measured: None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    base = tiny_base(tmp_path / "base", 16, segmented=False)
    out = tmp_path / "results"
    calls = {"probe": 0, "point": 0}
    probe, point = study.run_probe, study.run_point

    def counted_probe(*args, **kwargs):
        calls["probe"] += 1
        # a real probe epoch, its costs set to those of the fixture (too short here to measure)
        return {**probe(*args, **kwargs), **COST}

    def counted_point(*args, **kwargs):
        calls["point"] += 1
        return point(*args, **kwargs)
    monkeypatch.setattr(study, "run_probe", counted_probe)
    monkeypatch.setattr(study, "run_point", counted_point)
    first = study.study_points(("ddo",), base, (0.05,), threads_minutes=0.05, size_hidden=(8,), size_minutes=0.05)
    found = study.run_study(mini_data, out, base, first)
    assert calls == {"probe": 2, "point": 3}  # probes: 2 threads, and from scratch; fine-tuned on 1 thread is measured
    rows = found.points
    assert rows["ddo fine-tuned hidden 16 threads 1 0.05 min"]["planned_epochs"] == 2.5  # the benchmark's costs
    two = rows["ddo fine-tuned hidden 16 threads 2 0.05 min"]
    assert two["clock"] == "wall" and two["planned_epochs"] == 2.5 == affordable_epochs(
        found.probes["ddo fine-tuned hidden 16 threads 2"], 0.05, cpu=False)
    scratch = rows["ddo scratch hidden 8 threads 1 0.05 min"]
    assert scratch["hidden"] == 8 and scratch["base_model"] is None and 0 <= scratch["word_accuracy"] <= 100
    assert scratch["selected_epoch"] is None  # too few sentences to hold any out: the last epoch's weights are kept
    saved = json.loads((out / "track1-budget.json").read_text())
    assert saved["track1_rules"] == "followed" and set(saved["points"]) == set(rows)
    line = next(line for line in (out / "track1-budget.md").read_text().splitlines()
                if line.startswith("| ddo | scratch | 8 | 1 | 0.05 (CPU) | "))
    assert line.split(" | ")[5].endswith(" (-)")  # epochs trained, and none selected

    # a second run (e.g. after an interruption, with one point more) does only what is missing
    more = first + study.study_points(("ddo",), base, (0.1,), threads_minutes=None, size_minutes=None)
    again = study.run_study(mini_data, out, base, more)
    assert calls == {"probe": 2, "point": 4}
    assert {key: again.points[key] for key in rows} == rows
    other = Path(shutil.copytree(base, tmp_path / "other"))
    with pytest.raises(SystemExit, match="fine-tuned from"):
        study.run_study(mini_data, out, other, more)  # points of another base are never mixed in


def test_words_seen_in_training_are_scored_apart_from_the_others() -> None:
    train = [IGTRecord("1", "a b", "x y")]
    gold = [IGTRecord("2", "a c d", "x z w")]
    predicted = [IGTRecord("2", "a c d", "x z q")]
    assert study.seen_and_unseen(train, gold, predicted) == {
        "seen_word_accuracy": 100.0, "unseen_word_accuracy": 50.0, "unseen_words_percent": 66.67}
