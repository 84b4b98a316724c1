"""Track 1 on the data-rich languages: dev word accuracy against training length, threads and hidden size.

    python -m bench.track1_budget                                   # every point; resumes where it stopped
    python -m bench.track1_budget --jobs 2                          # two one-thread points at a time
    python -m bench.track1_budget --language ddo --minutes 80       # other points, added to the table
    python -m bench.track1_budget --pretrained runs/pretrained-t1   # another base (into another --out)

For Tsez, Nyangbo and Uspanteko track 1 (sentences and glosses only; the
shared task's closed track), each point trains one model on the training file
(a random tenth held out selects the epoch), scores it on dev and records dev word and
morpheme accuracy (official scorer), and the word accuracy on dev words whose
form occurs in training (the memory answers most of them) and on the others
(which the decoder glosses) with their share. The points:

* **length**: fine-tuned from ``--pretrained`` for the epochs that 10, 20 and
  40 minutes of one thread's CPU time afford at the costs measured by
  ``python -m bench.epochs`` (:class:`autogloss.sharedtask.TrainingLength`: the
  10-minute point is the benchmark's own track 1 row);
* **threads**: fine-tuned on 2 threads for the epochs 10 minutes of wall time
  afford them, from a probe epoch measured here on 2 threads;
* **size**: from scratch at hidden size 128 and 256 for the epochs 20 minutes of
  one thread afford each, from a probe epoch. A fine-tuned network has its
  base model's size (the weights are copied, see
  :meth:`autogloss.models.neural.NeuralGlosser.from_pretrained`); a larger
  fine-tuned network needs a base pretrained at that size
  (``autogloss pretrain --hidden``).

Every length is a fixed number of epochs, so the scores do not depend on the
load; only the 2-thread probe reads the wall clock (probes run first, one at a
time; measure on a quiet machine). Each probe and point is written to
``track1-budget.json`` as it finishes, and a rerun skips what is there, so an
interrupted study resumes; the table ``track1-budget.md`` is rewritten from it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from autogloss.datapath import find_data_dir
from autogloss.fileio import atomic_write
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.records import IGTRecord
from autogloss.sharedtask import (PipelineModel, TaskResult, TrainingLength, affordable_epochs, base_model_name,
                                  load_task, neural_trainer, run_task)

from .epochs import PROBE_EPOCHS, measurement
from .machine import machine_description, today
from .sigmorphon import RESULTS, TRACK1_PRETRAINED, results_lock, track1_rules

LANGUAGES = ("ddo", "nyb", "usp")
TRACK = 1
FINE_TUNED, SCRATCH = "fine-tuned", "scratch"
#: The default points: one-thread lengths of the fine-tuned model, its 2-thread length, the sizes from scratch.
LENGTH_MINUTES = (10.0, 20.0, 40.0)
THREADS_MINUTES = 10.0
SIZE_HIDDEN = (128, 256)
SIZE_MINUTES = 20.0
NAME = "track1-budget"


@dataclass(frozen=True)
class Config:
    """What a network is and how it trains: its start, hidden size, torch threads."""

    iso: str
    start: str
    hidden: int
    threads: int

    @property
    def key(self) -> str:
        return f"{self.iso} {self.start} hidden {self.hidden} threads {self.threads}"


@dataclass(frozen=True)
class Point:
    """One model of the study: a :class:`Config` trained for what ``minutes`` afford it
    (of one thread's CPU time; of wall time with more threads)."""

    config: Config
    minutes: float

    @property
    def key(self) -> str:
        return f"{self.config.key} {self.minutes:g} min"

    @property
    def cpu_clock(self) -> bool:
        return self.config.threads == 1


def base_hidden(base: Path) -> int:
    return json.loads((Path(base) / "config.json").read_text(encoding="utf-8"))["network"]["hidden"]


def study_points(languages: tuple[str, ...], base: Path, length_minutes: tuple[float, ...] = LENGTH_MINUTES,
                 threads_minutes: float | None = THREADS_MINUTES, size_hidden: tuple[int, ...] = SIZE_HIDDEN,
                 size_minutes: float | None = SIZE_MINUTES) -> list[Point]:
    """Every point of the study, language by language."""
    hidden = base_hidden(base)
    points = []
    for iso in languages:
        points += [Point(Config(iso, FINE_TUNED, hidden, 1), minutes) for minutes in length_minutes]
        if threads_minutes:
            points.append(Point(Config(iso, FINE_TUNED, hidden, 2), threads_minutes))
        if size_minutes:
            points += [Point(Config(iso, SCRATCH, size, 1), size_minutes) for size in size_hidden]
    return points


def measured_by_bench_epochs(config: Config) -> bool:
    """Whether ``config`` is what ``python -m bench.epochs`` measured (the benchmark's own fine-tuning, one thread)."""
    return config.start == FINE_TUNED and config.threads == 1


def planned_epochs(point: Point, base: Path, probes: dict[str, dict]) -> float:
    """The epochs ``point`` trains for: as the benchmark's, or from its config's probe."""
    if measured_by_bench_epochs(point.config):
        epochs = TrainingLength(point.minutes).epochs(PipelineModel.NEURAL_PRETRAINED, point.config.iso, TRACK)
        if epochs is None:
            sys.exit(f"no measured epoch cost of neural-pretrained {point.config.iso} track {TRACK}: "
                     "run python -m bench.epochs first")
        return epochs
    return affordable_epochs(probes[point.config.key], point.minutes, cpu=point.cpu_clock)


def train_one(data_dir: Path, config: Config, epochs: float, base: Path, seed: int, work: Path) -> tuple[TaskResult, dict]:
    """Train and score ``config`` for ``epochs`` (the shared-task runner's own
    recipe, :func:`neural_trainer`) on ``config.threads`` torch threads; the
    result, and the word accuracy split by whether the form was seen in training."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    task = load_task(data_dir, config.iso, TRACK)
    trainer = neural_trainer(None, hidden=config.hidden, base=base if config.start == FINE_TUNED else None,
                             seed=seed, epochs=epochs)
    try:
        result = run_task(task, trainer, work, NAME)
        predicted = list(read_sigmorphon(work / "predictions" / f"{config.iso}-dev-track{TRACK}.txt"))
    finally:
        torch.set_num_threads(threads)
        shutil.rmtree(work, ignore_errors=True)
    return result, seen_and_unseen(task.train, task.dev_gold, predicted)


def seen_and_unseen(train: list[IGTRecord], gold: list[IGTRecord], predicted: list[IGTRecord]) -> dict:
    """Exact-match word accuracy (percent) on dev words whose form occurs in
    the training sentences and on the others, and the share of the others."""
    known = {word for record in train for word in record.transcription_words}
    right, total = {True: 0, False: 0}, {True: 0, False: 0}
    for gold_record, predicted_record in zip(gold, predicted):
        guesses = predicted_record.gloss_words
        for index, (word, gloss) in enumerate(zip(gold_record.transcription_words, gold_record.gloss_words)):
            seen = word in known
            total[seen] += 1
            right[seen] += index < len(guesses) and guesses[index] == gloss

    def share(seen: bool) -> float | None:
        return round(100 * right[seen] / total[seen], 2) if total[seen] else None

    words = total[True] + total[False]
    return {"seen_word_accuracy": share(True), "unseen_word_accuracy": share(False),
            "unseen_words_percent": round(100 * total[False] / words, 2) if words else None}


def run_probe(data_dir: Path, config: Config, base: Path, seed: int, work: Path) -> dict:
    """What an epoch of ``config`` costs here (:func:`bench.epochs.measurement`)."""
    result, _ = train_one(data_dir, config, PROBE_EPOCHS, base, seed, work)
    return {**measurement(result), "date": today()}


def run_point(data_dir: Path, point: Point, epochs: float, base: Path, seed: int, work: Path) -> dict:
    result, split = train_one(data_dir, point.config, epochs, base, seed, work)
    training = result.extra.get("training", {})
    return {**asdict(point.config), "minutes": point.minutes, "clock": "CPU" if point.cpu_clock else "wall",
            "planned_epochs": epochs, "epochs": training.get("epochs"), "selected_epoch": training.get("selected_epoch"),
            "train_cpu_minutes": training.get("train_cpu_minutes"),
            "train_minutes": round(result.train_seconds / 60, 2), "seed": seed,
            "base_model": base_model_name(base) if point.config.start == FINE_TUNED else None,
            "word_accuracy": result.official.word_accuracy, "morpheme_accuracy": result.official.morpheme_accuracy,
            **split, "train_sentences": result.train_sentences, "dev_sentences": result.dev_sentences, "date": today()}


class Study:
    """The study's JSON file: probes and points by key, the base model, the machine."""

    def __init__(self, path: Path, base: Path):
        self.path, self.base = path, base
        found = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        if found and found.get("base_model") != base_model_name(base):
            sys.exit(f"{path}: its points were fine-tuned from {found.get('base_model')}, not {base_model_name(base)}: "
                     "choose another --out, or move the file away")
        self.probes: dict[str, dict] = found.get("probes", {})
        self.points: dict[str, dict] = found.get("points", {})

    def save(self) -> None:
        """Merge what this run found into the file (other runs may add their languages)."""
        with results_lock(self.path.parent):
            on_disk = json.loads(self.path.read_text(encoding="utf-8")) if self.path.is_file() else {}
            self.probes = {**on_disk.get("probes", {}), **self.probes}
            self.points = {**on_disk.get("points", {}), **self.points}
            data = {"base_model": base_model_name(self.base), "track1_rules": track1_rules(self.base),
                    "machine": machine_description(), "updated": today(), "probes": self.probes, "points": self.points}
            with atomic_write(self.path) as handle:
                json.dump(data, handle, indent=2)
            with atomic_write(self.path.with_suffix(".md")) as handle:
                handle.write(markdown(data))


def run_study(data_dir: Path, out: Path, base: Path, points: list[Point], seed: int = 0, jobs: int = 1,
              progress=print) -> Study:
    """Probe and train what ``points`` need and the study file lacks; returns the study."""
    study = Study(out / f"{NAME}.json", base)
    configs = dict.fromkeys(point.config for point in points if not measured_by_bench_epochs(point.config))
    for config in configs:
        if config.key not in study.probes:
            progress(f"probe: {config.key}")
            study.probes[config.key] = run_probe(data_dir, config, base, seed, out / f".{NAME}-probe")
            study.save()
    todo = [point for point in points if point.key not in study.points]
    epochs = {point: planned_epochs(point, base, study.probes) for point in todo}
    alone = [point for point in todo if point.config.threads > 1 or jobs <= 1]
    # Longest first: the pool's workers then finish at about the same time.
    pooled = sorted((point for point in todo if point not in alone), key=lambda point: -point.minutes)

    def finished(point: Point, row: dict) -> None:
        study.points[point.key] = row
        study.save()
        progress(f"{point.key}: {row['epochs']} epochs, dev word accuracy {row['word_accuracy']:.2f}")

    if pooled:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_point, data_dir, point, epochs[point], base, seed,
                                   out / f".{NAME}-work-{index}"): point for index, point in enumerate(pooled)}
            for future in as_completed(futures):
                finished(futures[future], future.result())
    for point in alone:  # more than one thread: nothing beside it
        finished(point, run_point(data_dir, point, epochs[point], base, seed, out / f".{NAME}-work"))
    if not todo:
        study.save()
    return study


def _cell(value: float | None, form: str = "{:.2f}") -> str:
    return "-" if value is None else form.format(value)


def markdown(data: dict) -> str:
    lines = ["# Track 1 on the data-rich languages: training length, threads, hidden size (dev)", "",
             f"Updated {data['updated']} on {data['machine']}. Track 1 rules (training on sentences and glosses only): "
             f"trained on each language's track 1 training file, a random tenth held out selecting the epoch; dev only scored "
             f"(official scorer). Fine-tuned points start from `{data['base_model']}` (shared-task track 1 rules: "
             f"{data['track1_rules']}); from-scratch points from random weights. Lengths are fixed epochs: what the "
             "minutes of one thread's CPU time afford at the costs of `python -m bench.epochs` (fine-tuned, one "
             "thread) or of a probe epoch measured here (the others; 2 threads: minutes of wall time). "
             "Seen / unseen: exact-match word accuracy on dev words whose form occurs in training, and on the others "
             "(their share in brackets). Epochs (kept): trained, and the one whose weights the held-out tenth chose. Command: `python -m bench.track1_budget` (resumable).", "",
             "| lang | start | hidden | threads | minutes | epochs (kept) | train CPU min | train min | word acc | morph acc "
             "| seen word acc | unseen word acc (share) | run |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    order = {iso: index for index, iso in enumerate(LANGUAGES)}
    rows = sorted(data["points"].values(), key=lambda r: (order.get(r["iso"], len(order)), r["iso"], r["start"] != FINE_TUNED,
                                                          r["hidden"], r["threads"], r["minutes"]))
    for r in rows:
        lines.append(f"| {r['iso']} | {r['start']} | {r['hidden']} | {r['threads']} | {r['minutes']:g} ({r['clock']}) "
                     f"| {r['epochs']} ({_cell(r.get('selected_epoch'), '{:g}')}) | {r['train_cpu_minutes']} | {r['train_minutes']} | {r['word_accuracy']:.2f} "
                     f"| {r['morpheme_accuracy']:.2f} | {_cell(r['seen_word_accuracy'])} "
                     f"| {_cell(r['unseen_word_accuracy'])} ({_cell(r['unseen_words_percent'])}%) | {r['date']} |")
    if data["probes"]:
        lines += ["", "Probe epochs (the costs the probed points' lengths come from):", "",
                  "| config | CPU s per epoch (wall s) | CPU s around the loop (wall s) | measured |", "|---|---|---|---|"]
        for key, m in data["probes"].items():
            lines.append(f"| {key} | {m['loop_cpu_seconds'] / m['epochs']:.1f} ({m['loop_seconds'] / m['epochs']:.1f}) "
                         f"| {m['train_cpu_seconds'] - m['loop_cpu_seconds']:.1f} ({m['train_seconds'] - m['loop_seconds']:.1f}) "
                         f"| {m['date']} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrained", type=Path, default=TRACK1_PRETRAINED,
                        help="base of the fine-tuned points: a model pretrained without the shared-task segmentations "
                             "(autogloss pretrain --without-shared-task-segmentation); default: the benchmark's track 1 "
                             "base, bench/models/six-source-track1")
    parser.add_argument("--language", action="append", help=f"only these languages (default: {' '.join(LANGUAGES)})")
    parser.add_argument("--minutes", action="append", type=float,
                        help=f"fine-tuned lengths, minutes of one thread (default: {' '.join(map(str, LENGTH_MINUTES))})")
    parser.add_argument("--threads-minutes", type=float, default=THREADS_MINUTES,
                        help="the 2-thread point's minutes of wall time (0: none)")
    parser.add_argument("--hidden", action="append", type=int,
                        help=f"from-scratch sizes (default: {' '.join(map(str, SIZE_HIDDEN))})")
    parser.add_argument("--size-minutes", type=float, default=SIZE_MINUTES,
                        help="the from-scratch points' minutes of one thread (0: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="one-thread points at a time, each in its own process")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"folder of {NAME}.json and .md")
    args = parser.parse_args(argv)
    if not (args.pretrained / "config.json").is_file():
        parser.error(f"--pretrained {args.pretrained}: not a model directory (no config.json)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    points = study_points(tuple(args.language or LANGUAGES), args.pretrained, tuple(args.minutes or LENGTH_MINUTES),
                          args.threads_minutes, tuple(args.hidden or SIZE_HIDDEN), args.size_minutes)
    study = run_study(find_data_dir(args.data_dir), args.out, args.pretrained, points, args.seed, args.jobs)
    print(study.path.with_suffix(".md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
