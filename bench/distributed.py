"""Neural pretraining throughput: one process on two threads against two processes on one thread each.

    python -m bench.distributed --corpus runs/corpus [--rows 3000] [--epochs 1] [--repeats 2]

Trains a new neural glosser of the pretraining's size (hidden
:data:`~autogloss.training.HIDDEN`, at most 8,000 labels and 20,000 forms)
for ``--epochs`` on the same ``--rows`` corpus rows (drawn with seed 0 from
the train and pretrain splits, as ``autogloss pretrain`` reads them), once
as one process with two torch threads and once under ``torchrun
--nproc_per_node 2`` with one thread per process (distributed data parallel
over gloo), ``--repeats`` times each, alternating, with one process on one
thread as the reference. Examples per second are
the examples trained by all processes over the training loop's wall time
(the epoch-end checkpoint included, the corpus reading and encoding not).
Writes ``bench/results/neural-distributed.md`` with machine, date, load
(``uptime`` before and after) and this command.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from .machine import machine_description, today

RESULTS = Path(__file__).parent / "results"
#: (processes, threads each): the two compared, and one process on one thread for reference.
CONFIGURATIONS = ((1, 2), (2, 1), (1, 1))


def worker(corpus_dir: Path, rows: int, epochs: int, out: Path) -> None:
    """One training process: fit on the rows, write what this process trained and how long it took."""
    import torch

    from autogloss.models import distributed
    from autogloss.models.neural import NeuralGlosser, TrainingSettings
    from autogloss.models.neural.training import _epoch_batches, fit
    from autogloss.training import (HIDDEN, PRETRAINING_MAX_FORMS, PRETRAINING_MAX_LABELS, Network, Start,
                                    learning_rate, read_pretraining_corpus)

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    corpus = read_pretraining_corpus(corpus_dir)
    chosen = random.Random(0).sample(corpus.train + corpus.extra, rows)
    torch.manual_seed(0)
    glosser = NeuralGlosser.create(chosen, max_labels=PRETRAINING_MAX_LABELS, max_forms=PRETRAINING_MAX_FORMS,
                                   hidden=HIDDEN)
    settings = TrainingSettings(epochs=epochs, learning_rate=learning_rate(Network.NEURAL, Start.SCRATCH))
    summary = fit(glosser, chosen, [], out / "checkpoint", settings)
    examples = [e for e in glosser.encode(chosen, with_targets=True) if any(e.targets)]
    mine = [distributed.share_of(_epoch_batches(examples, settings, epoch)) for epoch in range(epochs)]
    result = {"rank": distributed.rank(), "threads": torch.get_num_threads(), "seconds": summary["seconds"],
              "steps": sum(len(batches) for batches in mine),
              "examples": sum(len(batch) for batches in mine for batch in batches)}
    (out / f"rank{distributed.rank()}.json").write_text(json.dumps(result), encoding="utf-8")
    distributed.end_distributed_run()


def run(processes: int, threads: int, corpus_dir: Path, rows: int, epochs: int) -> dict:
    """One configuration, in fresh processes: examples, steps per process, loop seconds, examples per second."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        task = ["-m", "bench.distributed", "--worker", "--corpus", str(corpus_dir), "--rows", str(rows),
                "--epochs", str(epochs), "--out", str(out)]
        launcher = ([sys.executable] if processes == 1 else
                    [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)])
        environment = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
        subprocess.run(launcher + task, check=True, env=environment, cwd=Path(__file__).parents[1])
        ranks = [json.loads((out / f"rank{rank}.json").read_text(encoding="utf-8")) for rank in range(processes)]
    seconds = max(rank["seconds"] for rank in ranks)
    examples = sum(rank["examples"] for rank in ranks)
    return {"processes": processes, "threads": threads, "examples": examples, "steps": ranks[0]["steps"],
            "seconds": seconds, "per_second": examples / seconds}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def table(results: list[dict], command: str, before: str, after: str, rows: int, epochs: int) -> str:
    lines = [f"| {r['processes']} x {r['threads']} | {r['examples']:,} | {r['steps']:,} | {r['seconds']:.1f} | "
             f"{r['per_second']:.1f} |" for r in results]
    best = {config: max(r["per_second"] for r in results if (r["processes"], r["threads"]) == config)
            for config in CONFIGURATIONS}
    ratio = best[(2, 1)] / best[(1, 2)]
    return f"""# Neural pretraining: one process x 2 threads against 2 processes x 1 thread

Machine: {machine_description()}; {today()}.
Load (`uptime`) before: `{before}`; after: `{after}`. Other sessions were running: the numbers are of a busy machine.

Reproduce (the corpus as `autogloss corpus build` writes it at this commit): `{command}`

A new neural glosser of the pretraining's size trained for {epochs} epoch(s) on the same {rows:,} corpus rows
(drawn with seed 0 from the train and pretrain splits), batches of 16 sentences per process; under
`torchrun` each process trains its share of every epoch's batches and the gradients are averaged
(DistributedDataParallel, gloo). Examples per second: the examples all processes trained over the
training loop's wall time (epoch-end checkpoint included; reading and encoding the corpus not).

| processes x threads | examples | steps per process | loop seconds | examples / s |
|---|---|---|---|---|
{chr(10).join(lines)}

Best of each: {best[(1, 2)]:.1f} examples/s for 1 x 2, {best[(2, 1)]:.1f} for 2 x 1 ({ratio:.2f} times);
{best[(1, 1)]:.1f} for one process on one thread.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="a corpus built by 'autogloss corpus build'")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.corpus, args.rows, args.epochs, args.out)
        return
    before = uptime()
    results = [run(processes, threads, args.corpus, args.rows, args.epochs)
               for _ in range(args.repeats) for processes, threads in CONFIGURATIONS]
    after = uptime()
    command = (f"autogloss corpus build --out {args.corpus} && python -m bench.distributed --corpus {args.corpus} "
               f"--rows {args.rows} --epochs {args.epochs} --repeats {args.repeats}")
    text = table(results, command, before, after, args.rows, args.epochs)
    (RESULTS / "neural-distributed.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
