"""The benchmark (`python -m bench.sigmorphon`): fixed training lengths, and track 1 by the shared-task rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

import autogloss.sharedtask as sharedtask  # noqa: E402
from autogloss.corpus.sources import SHARED_TASK_LANGUAGES  # noqa: E402
from autogloss.formats.sigmorphon import read_sigmorphon  # noqa: E402
from autogloss.sharedtask import neural_trainer  # noqa: E402

from bench import sigmorphon  # noqa: E402
from conftest import TRAIN, without_segmentation  # noqa: E402


@pytest.fixture
def measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured costs of both Tsez tasks of the mini data: 10 minutes afford 2 epochs ((600 - 20) / 290)."""
    cost = {"epochs": 1.0, "loop_cpu_seconds": 290.0, "train_cpu_seconds": 310.0, "loop_seconds": 290.0,
            "train_seconds": 310.0, "train_sentences": 3}
    path = tmp_path / "epochs.json"
    path.write_text(json.dumps({"models": {"neural-pretrained": {"ddo-track1": cost, "ddo-track2": cost}}}))
    monkeypatch.setattr(sharedtask, "MEASURED_EPOCHS", path)


def tiny_base(path: Path, hidden: int, segmented: bool) -> Path:
    """A tiny 'pretrained' model of Tsez sentences, with (``segmented``) or without their segmentation."""
    text = TRAIN if segmented else without_segmentation(TRAIN)
    (path.parent / f"{path.name}.txt").write_text(text, encoding="utf-8")
    tsez = SHARED_TASK_LANGUAGES["ddo"].language
    records = [record.replace(language=tsez) for record in read_sigmorphon(path.parent / f"{path.name}.txt")]
    neural_trainer(None, hidden=hidden, epochs=1)(records, [], "tiny base").save_pretrained(path)
    return path


def run(*args: str | Path) -> None:
    sigmorphon.main([*map(str, args)])


def rows(out: Path, model: str = "neural-pretrained") -> dict[int, dict]:
    return {row["track"]: row for row in json.loads((out / f"{model}-results.json").read_text())}


def test_a_row_trains_for_its_measured_epochs_and_two_runs_score_the_same(tmp_path: Path, mini_data: Path,
                                                                         measured: None) -> None:
    base = tiny_base(tmp_path / "base", 16, segmented=True)
    for out in ("a", "b"):
        run("--model", "neural-pretrained", "--pretrained", base, "--language", "ddo", "--track", "2",
            "--data-dir", mini_data, "--out", tmp_path / out)
    first, second = rows(tmp_path / "a")[2], rows(tmp_path / "b")[2]
    assert set(rows(tmp_path / "a")) == {2}  # --track: just the one row
    assert first["planned_epochs"] == 2.0 and first["training"]["epochs"] == 2.0  # not 10 minutes of the clock
    assert first["length_decided"].startswith("measured") and first["budget_minutes"] == 10
    assert first["official"] == second["official"]
    predictions = [(tmp_path / out / "predictions" / "ddo-test-track2.txt").read_text() for out in ("a", "b")]
    assert predictions[0] == predictions[1]
    report = (tmp_path / "a" / "neural-pretrained-results.md").read_text()
    assert "| ddo | 2 | " + str(base) + " | - | 2 | 2 |" in report


def test_unmeasured_or_wall_clock_rows_say_the_clock_decided(measured: None) -> None:
    length = sharedtask.TrainingLength(10)
    assert sigmorphon.length_record(length, "neural", "ddo", 1)["planned_epochs"] is None
    assert "no epoch cost of neural ddo track 1" in sigmorphon.length_record(length, "neural", "ddo", 1)["length_decided"]
    clock = sigmorphon.length_record(sharedtask.TrainingLength(10, wall_clock=True), "neural-pretrained", "ddo", 1)
    assert clock["planned_epochs"] is None and "--wall-clock" in clock["length_decided"]


def test_track1_fine_tunes_the_compliant_model_and_its_predictions_go_apart(tmp_path: Path, mini_data: Path,
                                                                            measured: None) -> None:
    packaged = tiny_base(tmp_path / "saw", 16, segmented=True)      # like the packaged model
    compliant = tiny_base(tmp_path / "t1", 24, segmented=False)     # pretrained without the segmentations
    out, kept = tmp_path / "out", tmp_path / "kept"
    common = ["--pretrained", packaged, "--language", "ddo", "--data-dir", mini_data, "--out", out, "--keep-models", kept]
    run("--model", "neural-pretrained", "--track1-pretrained", compliant, *common)
    found = rows(out)
    assert (found[1]["base_model"], found[1]["track1_rules"]) == (str(compliant), "followed")
    assert found[2]["base_model"] == str(packaged) and "track1_rules" not in found[2]
    hidden = {track: json.loads((kept / f"neural-pretrained-ddo-track{track}" / "config.json").read_text())
              ["network"]["hidden"] for track in (1, 2)}
    assert hidden == {1: 24, 2: 16}  # each track was fine-tuned from its own base
    predictions = out / "predictions"
    assert (predictions / "ddo-test-track1.txt").is_file() and (predictions / "ddo-test-track2.txt").is_file()
    assert sorted(p.name for p in (predictions / "neural-pretrained-track1-compliant").iterdir()) == ["ddo-test-track1.txt"]
    assert not (predictions / "neural-pretrained-track1-noncompliant").exists()
    assert "Warning" not in (out / "neural-pretrained-results.md").read_text()
    # ``all`` adds track 1 from --pretrained, for comparison
    args = sigmorphon.parse_args(["--track1-pretrained", str(compliant), "--pretrained", str(packaged)])
    assert sigmorphon.chosen_models(args)[-1] == sigmorphon.TRACK1_NONCOMPLIANT

    run("--model", sigmorphon.TRACK1_NONCOMPLIANT, *common)
    comparison = rows(out, sigmorphon.TRACK1_NONCOMPLIANT)
    assert list(comparison) == [1] and comparison[1]["base_model"] == str(packaged)
    assert comparison[1]["track1_rules"].startswith("not followed")
    config = json.loads((kept / f"{sigmorphon.TRACK1_NONCOMPLIANT}-ddo-track1" / "config.json").read_text())
    assert config["network"]["hidden"] == 16
    assert (predictions / "neural-pretrained-track1-noncompliant" / "ddo-test-track1.txt").is_file()
    assert "**Warning:** track 1 rows" in (out / f"{sigmorphon.TRACK1_NONCOMPLIANT}-results.md").read_text()


def test_the_non_compliant_comparison_needs_a_base_that_saw_the_segmentations(tmp_path: Path) -> None:
    compliant = tiny_base(tmp_path / "t1", 8, segmented=False)
    assert sharedtask.saw_shared_task_segmentation(compliant) is False
    with pytest.raises(SystemExit):
        sigmorphon.parse_args(["--model", sigmorphon.TRACK1_NONCOMPLIANT, "--pretrained", str(compliant)])
    with pytest.raises(SystemExit):
        sigmorphon.parse_args(["--track1-pretrained", str(tmp_path / "missing")])


def test_by_default_track1_follows_the_shared_task_rules_and_is_compared_with_the_packaged_model() -> None:
    args = sigmorphon.parse_args([])
    assert args.track1_pretrained.resolve() == (Path(sigmorphon.__file__).parent / "models" / "six-source-track1").resolve()
    assert sigmorphon.track1_rules(args.track1_pretrained) == sigmorphon.TRACK1_FOLLOWED
    assert sigmorphon.track1_rules(args.pretrained).startswith("not followed")
    assert sigmorphon.chosen_models(args)[-1] == sigmorphon.TRACK1_NONCOMPLIANT
    assert "--track1-pretrained" not in sigmorphon.run_command(sigmorphon.MAIN_MODEL, args)


def test_tasks_can_have_budgets_of_their_own_which_their_rows_record(measured: None) -> None:
    assert sigmorphon.parse_args([]).task_minutes == list(sharedtask.LONGER_TASKS)
    assert sigmorphon.parse_args(["--task-minutes", "none"]).task_minutes == []
    text = sharedtask.format_task_minutes(sharedtask.LONGER_TASKS)
    assert sharedtask.parse_task_minutes(text) == sharedtask.LONGER_TASKS and sharedtask.format_task_minutes([]) == "none"
    args = sigmorphon.parse_args(["--task-minutes", "ddo-track1=20, usp-track2=5"])
    assert args.task_minutes == [("ddo-track1", 20.0), ("usp-track2", 5.0)]
    assert "--task-minutes ddo-track1=20,usp-track2=5" in sigmorphon.run_command(sigmorphon.MAIN_MODEL, args)
    length = sigmorphon.length_of(args)
    record = sigmorphon.length_record(length, "neural-pretrained", "ddo", 1)
    assert record["task_minutes"] == 20 and record["planned_epochs"] == 4.07  # (1200 - 20) / 290
    assert "--task-minutes ddo-track1=20" in record["length_decided"]
    other = sigmorphon.length_record(length, "neural-pretrained", "ddo", 2)
    assert other["task_minutes"] == 10 and other["planned_epochs"] == 2.0 and "--task-minutes" not in other["length_decided"]
    for wrong in ("ddo=20", "xyz-track1=20", "ddo-track1=soon", "ddo-track3=5"):
        with pytest.raises(SystemExit):
            sigmorphon.parse_args(["--task-minutes", wrong])
