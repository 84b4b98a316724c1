"""Learning curves (`python -m bench.curves`): sizes, nested seeded subsets, a fixed length, resuming."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")

from bench import curves  # noqa: E402
from bench.learning import TrainingRule, nested_subset  # noqa: E402
from bench_learning_data import tiny_base, tiny_data  # noqa: E402


def test_sizes_not_below_the_training_file_are_left_to_all() -> None:
    points = curves.plan({"ddo": 30, "ntu": 100}, (2,), (10, 25, 50, 100, None), seeds=2)
    sizes = {iso: sorted({p.size or 0 for p in points if p.iso == iso}) for iso in ("ddo", "ntu")}
    assert sizes == {"ddo": [0, 10, 25], "ntu": [0, 10, 25, 50]}  # 0: all
    assert len(points) == (3 + 4) * 2 * 2  # sizes x starts x seeds
    assert {p.seed for p in points} == {0, 1} and {p.start for p in points} == {"pretrained", "scratch"}


def test_a_seed_s_subsets_are_nested_and_seeds_draw_different_ones() -> None:
    small, large = nested_subset(100, 10, seed=0), nested_subset(100, 25, seed=0)
    assert len(small) == 10 and len(large) == 25 and set(small) < set(large)
    assert small == sorted(small)  # in document order
    assert nested_subset(100, 10, seed=0) == small  # the same draw every time
    assert set(nested_subset(100, 10, seed=1)) != set(small)


def test_every_size_trains_for_the_same_sentence_passes_within_the_epoch_limits() -> None:
    rule = TrainingRule(passes=4000, min_epochs=3)
    assert rule.epochs(10) == 300  # capped: the shared-task recipe's small-data epochs
    assert rule.epochs(100) == 40  # all 100 train
    assert rule.epochs(1000) == pytest.approx(4000 / 900, abs=0.01)  # a tenth held out for model selection
    assert rule.epochs(9774) == 3  # at least min_epochs of a large set
    assert curves.RULE.epochs(1600) == 3 and curves.RULE.epochs(800) > 3


def test_the_summary_gives_mean_and_spread_over_seeds() -> None:
    points = {f"k{seed}": {"iso": "ddo", "track": 2, "start": "scratch", "size": 10, "seed": seed, "sentences": 10,
                           "word_accuracy": value, "morpheme_accuracy": 2 * value}
              for seed, value in enumerate((40.0, 50.0, 60.0))}
    row = curves.summary(points)["ddo", 2, "scratch", 10]
    assert row["seeds"] == 3
    assert row["word_accuracy"]["mean"] == 50.0 and row["word_accuracy"]["min"] == 40.0
    assert row["morpheme_accuracy"]["max"] == 120.0
    assert curves.cell(row, "word_accuracy") == "50.0 [40.0-60.0]"


def test_a_run_writes_its_points_and_a_second_one_runs_only_the_new_ones(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data = tiny_data(tmp_path / "data")
    base = tiny_base(data, tmp_path / "base")
    out = tmp_path / "out"
    options = ["--language", "ddo", "--seeds", "2", "--passes", "20", "--min-epochs", "1", "--hidden", "8", "--pretrained", str(base),
               "--data-dir", str(data), "--out", str(out)]
    curves.main(["--sizes", "10,all", "--track", "2", *options])
    found = json.loads((out / "curves.json").read_text())
    assert sorted(found["points"]) == sorted(f"ddo-track2-{start}-{size}-seed{seed}" for start in curves.DEFAULT_STARTS
                                             for size in ("10", "all") for seed in (0, 1))
    point = found["points"]["ddo-track2-scratch-10-seed1"]
    assert point["sentences"] == 10 and point["epochs"] == 2 and 0 <= point["morpheme_accuracy"] <= 100
    assert found["points"]["ddo-track2-scratch-all-seed0"]["sentences"] == 40
    report = (out / "curves.md").read_text()
    assert "| 10 | - | - |" in report and "| 40 (all) |" in report and "20 sentence passes" in report
    assert (out / "curves-ddo.png").stat().st_size > 0

    ran = []
    real = curves.run_point
    monkeypatch.setattr(curves, "run_point", lambda point, **kw: ran.append(point.key) or real(point, **kw))
    curves.main(["--sizes", "10,20,all", "--track", "2", "--start", "scratch", *options])
    assert sorted(ran) == ["ddo-track2-scratch-20-seed0", "ddo-track2-scratch-20-seed1"]  # the rest was done
    assert len(json.loads((out / "curves.json").read_text())["points"]) == 10

    with pytest.raises(SystemExit, match="other settings"):  # another training length: not mixed in
        curves.main(["--sizes", "10", "--track", "2", *options[:-2], "--out", str(out), "--passes", "30"])


def test_a_model_that_never_read_the_language_adds_an_unseen_curve_to_the_earlier_points(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tiny_data(tmp_path / "data")
    base = tiny_base(data, tmp_path / "base")  # its records name no language: it read no Tsez sentence
    out = tmp_path / "out"
    options = ["--language", "ddo", "--seeds", "1", "--passes", "20", "--min-epochs", "1", "--hidden", "8",
               "--pretrained", str(base), "--data-dir", str(data), "--out", str(out), "--sizes", "10", "--track", "2"]
    curves.main(options)
    ran = []
    real = curves.run_point
    monkeypatch.setattr(curves, "run_point", lambda point, **kw: ran.append(point.key) or real(point, **kw))
    curves.main([*options, "--unseen-pretrained", str(base)])
    assert ran == ["ddo-track2-unseen-10-seed0"]  # the earlier points are kept, the new start is added
    found = json.loads((out / "curves.json").read_text())
    assert found["settings"]["unseen_base"] == str(base) and len(found["points"]) == 3
    report = (out / "curves.md").read_text()
    assert "| training sentences | track 1 word acc, pretrained | unseen | scratch |" in report
    assert "*unseen*:" in report
    curves.main(options)  # without the unseen model: its points stay
    assert len(json.loads((out / "curves.json").read_text())["points"]) == 3

    shutil.copytree(base, tmp_path / "other")
    with pytest.raises(SystemExit, match="other settings"):  # another unseen model: not mixed in
        curves.main([*options, "--unseen-pretrained", str(tmp_path / "other")])
    with pytest.raises(SystemExit):
        curves.main([*options, "--start", "unseen"])  # no unseen model given


def test_a_model_that_read_the_language_is_refused_as_unseen(tmp_path: Path) -> None:
    from autogloss.corpus.sources import SHARED_TASK_LANGUAGES
    from autogloss.formats.sigmorphon import read_sigmorphon
    from autogloss.sharedtask import neural_trainer

    data = tiny_data(tmp_path / "data")
    tsez = SHARED_TASK_LANGUAGES["ddo"].language
    records = [record.replace(language=tsez)
               for record in read_sigmorphon(data / "sigmorphon2023" / "Tsez" / "ddo-train-track2-uncovered")]
    neural_trainer(None, hidden=8, epochs=0.5)(records, [], "read Tsez").save_pretrained(tmp_path / "read")
    with pytest.raises(SystemExit, match=r"it read sentences of ddo \(40\)"):
        curves.main(["--language", "ddo", "--seeds", "1", "--passes", "20", "--sizes", "10", "--track", "2",
                     "--unseen-pretrained", str(tmp_path / "read"), "--data-dir", str(data),
                     "--out", str(tmp_path / "out")])
