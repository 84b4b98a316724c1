"""Measure once what an epoch of each shared-task task costs, for the main job's training lengths.

    python -m bench.epochs                           # neural-pretrained, two tasks at a time
    python -m bench.epochs --model neural

Trains every task of the main job's pipeline for exactly one epoch
(:data:`PROBE_EPOCHS`) on one thread and records, per model and task, the CPU
seconds of the training loop (the epoch and its dev scoring) and of the whole
training (loading the base model, growing it, memory tuning, calibration:
work that does not grow with the epochs), into
``src/autogloss/data/shared_task_epochs.json``
(:data:`autogloss.sharedtask.MEASURED_EPOCHS`). From these the pipeline
works out how many epochs a budget of ``--max-minutes`` gives each task
(:class:`autogloss.sharedtask.TrainingLength`) and trains for exactly that
many, so that its scores do not depend on the machine or its load. Also
writes ``bench/results/epochs.md`` (the costs and the epochs of the 3- and
10-minute budgets, with machine and date) and the probe run's own scores
under ``--out``.

CPU seconds of one thread are what another process on the machine inflates
least (wall time doubles on a busy 2-core machine); a quiet machine still
measures best.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from autogloss.corpus.sources import SHARED_TASK_LANGUAGES
from autogloss.datapath import find_data_dir
from autogloss.fileio import atomic_write
from autogloss.sharedtask import (BENCHMARK_MINUTES, MEASURED_EPOCHS, PIPELINE_MINUTES, PipelineModel, TaskResult,
                                  TrainingLength, run_pipeline)

from .machine import machine_description, today

RESULTS = Path(__file__).parent / "results"


#: Epochs each task trains for while its costs are measured.
PROBE_EPOCHS = 1.0


def measurement(result: TaskResult) -> dict:
    """What one epoch of a task cost: CPU (and wall) seconds of the training loop and of the whole training."""
    training = result.extra["training"]
    return {"epochs": training["epochs"], "loop_cpu_seconds": round(60 * training["cpu_minutes"], 1),
            "train_cpu_seconds": round(60 * training["train_cpu_minutes"], 1),
            "loop_seconds": round(60 * training["minutes"], 1), "train_seconds": round(result.train_seconds, 1),
            "train_sentences": result.train_sentences}


def update_table(model: str, results: list[TaskResult], command: str, load: str) -> dict:
    """Write ``model``'s measurements into :data:`MEASURED_EPOCHS`, keeping the other models'."""
    table = json.loads(MEASURED_EPOCHS.read_text(encoding="utf-8")) if MEASURED_EPOCHS.exists() else {"models": {}}
    table["models"][model] = {f"{r.iso}-track{r.track}": measurement(r) for r in results}
    table.setdefault("measured", {})[model] = {"date": today(), "machine": machine_description(), "command": command,
                                               "load": load, "threads_per_task": 1}
    with atomic_write(MEASURED_EPOCHS) as handle:
        json.dump(table, handle, indent=2)
        handle.write("\n")
    return table


def markdown(table: dict) -> str:
    lines = ["# Training lengths of the main job (`autogloss pipeline`)", "",
             "Each task trains for a fixed number of epochs: what its budget (`--max-minutes`, default "
             f"{PIPELINE_MINUTES:g}; `--full`: {BENCHMARK_MINUTES:g}) of one thread's CPU time affords at the costs "
             "measured here, once, by `python -m bench.epochs` (one epoch per task). Two runs of the same code give "
             "the same scores at any load; `--wall-clock` lets the clock decide instead.", ""]
    for model, tasks in table["models"].items():
        about = table["measured"][model]
        lines += [f"## {model}", "",
                  f"Measured {about['date']} on {about['machine']}; one torch thread per task, two tasks at a time; "
                  f"load: {about['load']}. Command: `{about['command']}`", "",
                  "| task | train sents | CPU s per epoch (wall s) | CPU s around the loop (wall s) "
                  f"| epochs at {PIPELINE_MINUTES:g} min | epochs at {BENCHMARK_MINUTES:g} min |",
                  "|---|---|---|---|---|---|"]
        for task, m in tasks.items():
            iso, track = task.split("-track")
            lengths = [TrainingLength(minutes).epochs(model, iso, int(track)) for minutes in
                       (PIPELINE_MINUTES, BENCHMARK_MINUTES)]
            around, around_wall = m["train_cpu_seconds"] - m["loop_cpu_seconds"], m["train_seconds"] - m["loop_seconds"]
            lines.append(f"| {task} | {m['train_sentences']:,} | {m['loop_cpu_seconds'] / m['epochs']:.1f} "
                         f"({m['loop_seconds'] / m['epochs']:.1f}) | {around:.1f} ({around_wall:.1f}) "
                         f"| {lengths[0]:g} | {lengths[1]:g} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=PipelineModel.NEURAL_PRETRAINED.value,
                        choices=[PipelineModel.NEURAL_PRETRAINED.value, PipelineModel.NEURAL.value])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("runs/epochs"))
    args = parser.parse_args()
    before = os.getloadavg()
    started = time.perf_counter()
    probe = TrainingLength(PIPELINE_MINUTES, fixed_epochs=PROBE_EPOCHS)
    results = run_pipeline(find_data_dir(args.data_dir), args.out, args.model, probe,
                           tuple(SHARED_TASK_LANGUAGES), jobs=args.jobs,
                           progress=lambda done, total, task: print(f"{done}/{total} {task} done", flush=True))
    after = os.getloadavg()
    load = (f"1-minute load average {before[0]:.1f} before, {after[0]:.1f} after; "
            f"{(time.perf_counter() - started) / 60:.1f} min in all")
    command = f"python -m bench.epochs --model {args.model} --jobs {args.jobs}"
    table = update_table(args.model, results, command, load)
    with atomic_write(RESULTS / "epochs.md") as handle:
        handle.write(markdown(table))
    print(markdown(table))


if __name__ == "__main__":
    main()
