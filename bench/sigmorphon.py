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

MAIN_MODEL = "neural"
NEURAL_MINUTES = 3.0  # training budget per language and track

TRAINERS = {
    "majority": majority_trainer,
    "neural": neural_trainer(NEURAL_MINUTES, progress=print),
}
DESCRIPTIONS = {
    "majority": "Most frequent training gloss per morpheme (track 2) or word (track 1).",
    "neural": (f"Neural glosser trained from scratch per language and track, {NEURAL_MINUTES:g} min budget each; "
               "trained on the first 90% of each training file, the last 10% selects the epoch and the memory "
               "thresholds; dev is only scored."),
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
              f"Command: `python -m bench.sigmorphon --model {args.model}`; whole run {elapsed:.0f} s.\n"
              f"{DESCRIPTIONS[args.model]}\n\n"
              + results_table(results, args.model)
              + "\n| lang | track | training time (s) | glossing speed (sentences/s) |\n|---|---|---|---|\n"
              + speed_rows + "\n")
    with atomic_write(args.out / f"{args.model}-results.md") as handle:
        handle.write(report)
    shutil.copy(work / f"{args.model}-results.json", args.out / f"{args.model}-results.json")
    # The main model's test predictions go to predictions/, the baselines' to a subfolder.
    predictions = args.out / "predictions" / ("" if args.model == MAIN_MODEL else args.model)
    predictions.mkdir(parents=True, exist_ok=True)
    for path in (work / "predictions").glob("*-test-track*.txt"):
        shutil.copy(path, predictions / path.name)
    shutil.rmtree(work)
    print(report)


if __name__ == "__main__":
    main()
