"""SIGMORPHON 2023 benchmark: every language, both tracks, dev scores and test predictions.

    python -m bench.sigmorphon [--model majority] [--data-dir DIR] [--out bench/results]

Writes ``{model}-results.md`` and ``.json`` (dev scores under both scorers,
training time, glossing speed, machine and date) and the test predictions
made from the ``*-test-track{1,2}-covered`` inputs to ``predictions/``.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from autogloss.datapath import find_data_dir
from autogloss.fileio import atomic_write
from autogloss.sharedtask import majority_trainer, neural_trainer, results_table, run_shared_task

from .machine import machine_description, today

NEURAL_MINUTES = 3.0  # training budget per language and track

TRAINERS = {
    "majority": majority_trainer,
    "neural": neural_trainer(NEURAL_MINUTES, progress=print),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(TRAINERS), default="majority")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--language", action="append", help="only these languages (repeatable)")
    args = parser.parse_args()
    data_dir = find_data_dir(args.data_dir)
    work = args.out / f".{args.model}-work"
    started = time.perf_counter()
    kwargs = {"languages": args.language} if args.language else {}
    results = run_shared_task(data_dir, work, TRAINERS[args.model], args.model, progress=print, **kwargs)
    elapsed = time.perf_counter() - started
    speed_rows = "\n".join(
        f"| {r.iso} | {r.track} | {r.train_seconds:.1f} | {r.sentences_per_second:,.0f} |" for r in results)
    report = (f"# SIGMORPHON 2023 benchmark: {args.model}\n\n"
              f"Run {today()} on {machine_description()}.\n"
              f"Command: `python -m bench.sigmorphon --model {args.model}`; whole run {elapsed:.0f} s.\n\n"
              + results_table(results, args.model)
              + "\n| lang | track | training time (s) | glossing speed (sentences/s) |\n|---|---|---|---|\n"
              + speed_rows + "\n")
    with atomic_write(args.out / f"{args.model}-results.md") as handle:
        handle.write(report)
    shutil.copy(work / f"{args.model}-results.json", args.out / f"{args.model}-results.json")
    predictions = args.out / "predictions" / args.model
    predictions.mkdir(parents=True, exist_ok=True)
    for path in (work / "predictions").glob("*-test-track*.txt"):
        shutil.copy(path, predictions / path.name)
    shutil.rmtree(work)
    print(report)


if __name__ == "__main__":
    main()
