"""Glossing speed of trained shared-task models, measured on an otherwise idle machine.

    python -m bench.sigmorphon --model neural-pretrained --keep-models runs/bench-models
    python -m bench.speed --models runs/bench-models [--threads 1 2] [--repeats 3]

For every model folder ``{name}-{iso}-track{n}`` it glosses that task's dev
inputs ``--repeats`` times (after one warm-up pass) with each torch thread
count, and writes the best sentences/second to ``bench/results/speed.md``.
The speeds in the ``*-results.md`` tables come from one pass during the
training benchmark; these are the ones to quote.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import torch

from autogloss.datapath import find_data_dir
from autogloss.fileio import atomic_write
from autogloss.models import load_model
from autogloss.sharedtask import load_task

from .machine import machine_description, today

MODEL_FOLDER = re.compile(r"^(?P<name>.+)-(?P<iso>[a-z]{3})-track(?P<track>[12])$")


def sentences_per_second(glosser, inputs, repeats: int) -> float:
    list(glosser.gloss(inputs))  # warm-up: first-call allocations and caches
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        list(glosser.gloss(inputs))
        best = min(best, time.perf_counter() - started)
    return len(inputs) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, required=True, help="folder of models kept by bench.sigmorphon")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "speed.md")
    args = parser.parse_args()
    data_dir = find_data_dir(args.data_dir)
    header = " | ".join(f"{n} thread{'s' if n > 1 else ''}" for n in args.threads)
    rows = [f"| model | lang | track | dev sentences | {header} |", "|---|---|---|---|" + "---|" * len(args.threads)]
    for folder in sorted(p for p in args.models.iterdir() if MODEL_FOLDER.match(p.name)):
        match = MODEL_FOLDER.match(folder.name)
        task = load_task(data_dir, match["iso"], int(match["track"]))
        glosser = load_model(folder)
        speeds = []
        for threads in args.threads:
            torch.set_num_threads(threads)
            speeds.append(sentences_per_second(glosser, task.dev_inputs, args.repeats))
        rows.append(f"| {match['name']} | {match['iso']} | {match['track']} | {len(task.dev_inputs):,} | "
                    + " | ".join(f"{s:,.0f}" for s in speeds) + " |")
        print(rows[-1], flush=True)
    report = (f"# Glossing speed (sentences per second, dev inputs)\n\n"
              f"Run {today()} on {machine_description()}, nothing else running.\n"
              f"Command: `python -m bench.speed --models {args.models} --threads {' '.join(map(str, args.threads))}"
              f" --repeats {args.repeats}" + (f" --out {args.out}" if args.out.name != "speed.md" else "")
              + f"`. Best of {args.repeats} passes after a warm-up; batched, as "
              f"`autogloss gloss` runs.\n\n" + "\n".join(rows) + "\n")
    with atomic_write(args.out) as handle:
        handle.write(report)
    print(report)


if __name__ == "__main__":
    main()
