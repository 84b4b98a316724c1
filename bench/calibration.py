"""Is a model's confidence a probability? ECE and a reliability diagram on shared-task dev.

    python -m bench.calibration --model runs/lez-track2 --language lez --track 2 [--plot lez.png]
    python -m bench.calibration --model DIR --language lez --track 2 --out bench/results/calibration.md
    python -m bench.calibration --finetune-minutes 3 --model runs/lez-track2 --language lez --track 2   # train it first

Glosses the dev inputs of one task with the model as saved (confidence
calibrated, when it was trained with a held-out part of its training data)
and with its calibration switched off, and prints, for both, the expected
calibration error over ten equal-width confidence bins (see
:mod:`autogloss.calibration`), the mean confidence and the share of dev
morphemes glossed right. ``--plot`` draws the reliability diagram of both
as a PNG (needs matplotlib, in the ``test`` extra); ``--out`` appends a
markdown row to a results file. ``--finetune-minutes M`` first fine-tunes
the packaged model on the task's training file into ``--model`` (``autogloss
finetune --max-minutes M``, one torch thread), which holds a tenth of it out
to calibrate on. ``bench.sigmorphon`` reports the same per task.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from autogloss.calibration import BINS, Reliability, outcomes, reliability
from autogloss.datapath import find_data_dir
from autogloss.glossing import gloss_records
from autogloss.models.base import Glosser
from autogloss.models.loading import load_model
from autogloss.corpus.sources import shared_task_file
from autogloss.sharedtask import TaskData, load_task

from .machine import machine_description, today


def dev_reliability(glosser: Glosser, task: TaskData) -> Reliability:
    """Calibration of ``glosser`` on the task's dev set, as glossing reports it."""
    outputs = list(gloss_records(task.dev_inputs, glosser))
    return reliability(*outcomes(task.dev_gold, outputs))


def before_after(glosser: Glosser, task: TaskData) -> dict[str, Reliability]:
    """Dev calibration as saved (``calibrated``) and with the map switched off (``uncalibrated``)."""
    found = {}
    calibration = glosser.calibration
    try:
        glosser.calibration = None
        found["uncalibrated"] = dev_reliability(glosser, task)
    finally:
        glosser.calibration = calibration
    if calibration is not None and calibration.maps:
        found["calibrated"] = dev_reliability(glosser, task)
    return found


def plot_reliability(curves: dict[str, Reliability], path: Path, title: str) -> Path:
    """A reliability diagram (share right against mean confidence per bin,
    the diagonal being perfect calibration), with a histogram of the
    morphemes per bin below, written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(5, 6), height_ratios=[3, 1], sharex=True)
    top.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for (name, found), marker in zip(curves.items(), "os^"):
        xs = [b.confidence for b in found.bins]
        top.plot(xs, [b.accuracy for b in found.bins], marker=marker, label=f"{name} (ECE {found.ece:.3f})")
        bottom.bar([b.low + (b.high - b.low) * (0.25 + 0.5 * (marker != "o")) for b in found.bins],
                   [b.count for b in found.bins], width=0.45 / BINS, label=name)
    top.set(ylabel="share of morphemes glossed right", xlim=(0, 1), ylim=(0, 1), title=title)
    top.legend(loc="upper left", fontsize="small")
    bottom.set(xlabel=f"confidence ({BINS} equal-width bins)", ylabel="morphemes")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def markdown_row(model: str, iso: str, track: int, curves: dict[str, Reliability]) -> str:
    before, after = curves["uncalibrated"], curves.get("calibrated")
    return (f"| {model} | {iso} | {track} | {before.morphemes:,} | {100 * before.accuracy:.1f} "
            f"| {before.confidence:.3f} | {before.ece:.3f} | "
            + (f"{after.confidence:.3f} | {after.ece:.3f} |" if after else "- | - |"))


TABLE_HEAD = ("| model | lang | track | dev morphemes | right (%) | mean confidence before | ECE before "
              "| mean confidence after | ECE after |\n|---|---|---|---|---|---|---|---|---|")


def finetune(train: Path, model: Path, minutes: float) -> None:
    """``autogloss finetune`` of the packaged model on ``train``, as a user
    runs it, with one torch thread."""
    command = [sys.executable, "-m", "autogloss", "finetune", "--train", str(train), "--format", "sigmorphon",
               "--out", str(model), "--max-minutes", f"{minutes:g}", "--restart"]
    print(" ".join(["autogloss", *command[3:]]), flush=True)
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    subprocess.run(command, check=True, env=environment, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a trained model directory")
    parser.add_argument("--language", required=True, help="shared-task language code (lez, ntu, ...)")
    parser.add_argument("--track", type=int, choices=(1, 2), required=True)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None, help="write the reliability diagram to this PNG")
    parser.add_argument("--out", type=Path, default=None, help="append a markdown row to this file")
    parser.add_argument("--finetune-minutes", type=float, default=None,
                        help="first fine-tune the packaged model on the task's training file into --model")
    args = parser.parse_args()
    data_dir = find_data_dir(args.data_dir)
    task = load_task(data_dir, args.language, args.track)
    if args.finetune_minutes is not None:
        finetune(shared_task_file(data_dir, args.language, "train", args.track, False), args.model,
                 args.finetune_minutes)
    glosser = load_model(args.model)
    curves = before_after(glosser, task)
    for name, found in curves.items():
        print(f"{args.language} track {args.track} {name}: ECE {found.ece:.4f} over {found.morphemes:,} dev morphemes, "
              f"mean confidence {found.confidence:.3f}, right {100 * found.accuracy:.1f}%")
    if args.plot:
        print(f"reliability diagram: {plot_reliability(curves, args.plot, f'{args.language} track {args.track} dev')}")
    if args.out:
        new = not args.out.is_file()
        with open(args.out, "a", encoding="utf-8") as handle:
            if new:
                handle.write(f"Run {today()} on {machine_description()}.\n\n{TABLE_HEAD}\n")
            handle.write(markdown_row(args.model.name, args.language, args.track, curves) + "\n")


if __name__ == "__main__":
    main()
