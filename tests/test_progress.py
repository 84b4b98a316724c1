"""Progress with totals and ETAs, plain lines off a terminal, and a command's time budget.

No test here waits for time to pass: the clock of the progress module is
replaced by one the test moves, and the budget's arithmetic is checked as
the pure function it is.
"""

from __future__ import annotations

import re

import pytest

from autogloss import progress as progress_module
from autogloss.progress import (Budget, LogReporter, Reporter, Task, clock, command_started, task, time_left,
                                training_seconds_left)

from conftest import DEV, TRAIN, cli

TINY = {"hidden": 16, "char_dim": 8, "language_dim": 4, "form_dim": 8, "label_dim": 8, "translation_hidden": 8,
        "layers": 1, "dropout": 0.0}


class FakeClock:
    """``time.monotonic`` as the test sets it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(progress_module.time, "monotonic", fake)
    return fake


# -- arithmetic -------------------------------------------------------------------
def test_durations_and_time_left_are_what_a_person_reads():
    assert clock(0) == "0:00" and clock(125) == "2:05" and clock(3723) == "1:02:03"
    assert time_left(25, 100, 10.0) == 30.0  # a quarter in 10 s: 30 s to go
    assert time_left(0, 100, 10.0) is None and time_left(5, None, 10.0) is None


def test_training_time_left_keeps_the_work_after_the_loop_and_one_step_in_hand():
    # 10 minutes, 2 spent, 1 for scoring and saving, 3 s a step: 6 minutes 57 s left for the loop
    assert training_seconds_left(600, 120, 60, 3) == 417
    assert training_seconds_left(60, 50, 12) < 0  # the work after it no longer fits: stop now


def test_a_budget_counts_from_the_command_start_and_its_measured_costs(fake_clock):
    budget = Budget.for_command(1.0, started=fake_clock.now - 20)  # start-up took 20 s
    assert budget.spent() == 20 and budget.left() == 40
    with budget.timed("save"):
        fake_clock.now += 2
    assert budget.cost("save") == 2 and budget.cost("dev", 7.0) == 7.0
    assert budget.loop_may_go_on(after=30, step=1)  # 38 left
    assert not budget.loop_may_go_on(after=37, step=2)
    assert Budget.for_command(None).loop_may_go_on(after=1e9)  # no budget: never out of time
    resumed = Budget(60.0, spent_before=55.0)
    assert not resumed.loop_may_go_on(after=6)


def test_a_command_counts_its_start_up_only_when_the_process_was_started_for_it():
    # imported at t=100 when the process was 3 s old; main entered right after: the process start
    assert command_started(imported=100.0, age_at_import=3.0, entered=100.2) == 97.0
    # main entered long after the import (a test or program calling it): from then
    assert command_started(imported=100.0, age_at_import=3.0, entered=400.0) == 400.0


# -- plain lines --------------------------------------------------------------------
def test_off_a_terminal_progress_is_plain_lines_with_totals_and_an_eta(fake_clock):
    lines: list[str] = []
    reporter = LogReporter(lines.append)
    with reporter.task("glossing", 100) as counted:
        for _ in range(100):
            fake_clock.now += 1.0
            counted.advance()
    # a line at every tenth at most every 5 s, at least every 30 s, and one at the end
    assert lines[0] == "glossing: 10/100 (10%), 0:10 elapsed, about 1:30 left"
    assert len(lines) == 10 and lines[-1] == "glossing: 100/100 (100%), 1:40 elapsed"
    assert all(line.strip() and not re.search(r"[\x00-\x1f\x7f]", line) for line in lines)


def test_a_resumed_task_reckons_the_time_left_from_its_own_rate(fake_clock):
    # 70 of 100 steps were done by an interrupted run; this run does one step per 2 s
    lines: list[str] = []
    with LogReporter(lines.append).task("training", 100) as counted:
        counted.resume_from(70)
        for _ in range(15):
            fake_clock.now += 2.0
            counted.advance()
    assert lines[0] == "training: 80/100 (80%), 0:20 elapsed, about 0:40 left"
    assert lines[-1] == "training: 85/100 (85%), 0:30 elapsed, about 0:30 left"


def test_an_unknown_total_is_reported_every_half_minute_and_short_tasks_in_silence(fake_clock):
    lines: list[str] = []
    reporter = LogReporter(lines.append)
    with reporter.task("reading", None) as counted:
        for _ in range(70):
            fake_clock.now += 1.0
            counted.advance()
    assert lines == ["reading: 30, 0:30 elapsed", "reading: 60, 1:00 elapsed", "reading: 70, 1:10 elapsed"]
    lines.clear()
    with reporter.task("quick", 3) as counted:
        counted.advance(3)
    assert lines == []


def test_messages_never_make_blank_lines():
    lines: list[str] = []
    LogReporter(lines.append)("epoch 1 loss 2.0\n\n  \nepoch 2 loss 1.0\n")
    assert lines == ["epoch 1 loss 2.0", "epoch 2 loss 1.0"]


def test_a_plain_callback_sees_lines_and_no_tasks():
    messages: list[str] = []
    counted = task(messages.append, "training", 10)
    counted.advance(5)
    counted.done()
    assert type(counted) is Task and counted.completed == 5 and messages == []
    assert isinstance(task(Reporter(), "x"), Task)


def test_gloss_reports_its_total_counted_before_glossing(tmp_path, model_dir, monkeypatch):
    from autogloss.glossing import count_records

    source = tmp_path / "in.txt"
    source.write_text(TRAIN, encoding="utf-8")
    assert count_records(source) == 3 and count_records("-") is None
    monkeypatch.setattr(progress_module, "LOG_MIN_GAP_SECONDS", 0.0)  # a line at every tenth, however fast
    done = cli("gloss", "--input", source, "--output", tmp_path / "out.txt", "--model", model_dir)
    assert done.returncode == 0, done.stderr
    assert "glossing in.txt: 1/3 (33%)" in done.stderr
    assert "glossing in.txt: 3/3 (100%)" in done.stderr


# -- training -------------------------------------------------------------------------
def _records(tmp_path, text: str, name: str):
    from autogloss.formats.sigmorphon import read_sigmorphon

    (tmp_path / name).write_text(text, encoding="utf-8")
    return list(read_sigmorphon(tmp_path / name))


def test_epoch_lines_say_their_scores_are_not_the_final_ones(tmp_path):
    pytest.importorskip("torch")
    from autogloss.models.neural import TrainingSettings, train_glosser
    from autogloss.models.neural.training import EPOCH_SCORES, FINAL_SCORES

    messages: list[str] = []
    glosser = train_glosser(_records(tmp_path, TRAIN, "train"), _records(tmp_path, DEV, "dev"), tmp_path / "m",
                            TrainingSettings(epochs=2, batch_size=4), network_options=TINY, progress=messages.append)
    epochs = [m for m in messages if m.startswith("epoch ")]
    assert len(epochs) == 2 and all(m.endswith(f"({EPOCH_SCORES})") for m in epochs)
    assert glosser.info["dev_scores_are"] == FINAL_SCORES


def test_a_run_with_a_tiny_budget_stops_and_says_why(tmp_path):
    pytest.importorskip("torch")
    from autogloss.models.neural import TrainingSettings, train_glosser

    messages: list[str] = []
    glosser = train_glosser(_records(tmp_path, TRAIN, "train"), _records(tmp_path, DEV, "dev"), tmp_path / "m",
                            TrainingSettings(epochs=100_000, batch_size=1, patience=100_000), network_options=TINY,
                            progress=messages.append, budget=Budget(seconds=1.0))
    assert len(glosser.info["history"]) < 100_000
    assert any(m.startswith("training stopped by the time budget") for m in messages)
    assert (tmp_path / "m" / "config.json").is_file()


def test_training_on_a_pipe_writes_plain_labelled_lines(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "dev.txt").write_text(DEV, encoding="utf-8")
    done = cli("train", "--train", tmp_path / "train.txt", "--dev", tmp_path / "dev.txt", "--out", tmp_path / "m",
               "--epochs", "2", "--hidden", "16", "--max-minutes", "5")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines and all(line.strip() for line in lines)  # no blank lines
    assert not re.search(r"[\x1b\r]", done.stderr)  # no cursor moves or colours in a log
    assert [line for line in lines if line.startswith("epoch ")][-1].endswith("(dev (network alone, memory off))")
    assert "dev (best epoch, memory thresholds tuned on this dev set) word_accuracy" in done.stdout
