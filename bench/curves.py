"""Learning curves: dev accuracy against the number of training sentences, fine-tuned and from scratch.

    python -m bench.curves --jobs 2                          # ddo usp nyb ntu, both tracks, 3 seeds
    python -m bench.curves --language ntu --track 2 --sizes 10,50 --seeds 1   # one small slice

For each language, track and size (10, 25, ..., 1,600 sentences and all of
the training file; sizes not below the file's size are left to ``all``), each
seed draws a random subset of the training file (nested: a seed's smaller
subsets lie inside its larger ones, :func:`bench.learning.nested_subset`;
``all`` is the same file for every seed, which then only changes the
training's randomness), trains the neural glosser on it with the shared-task
recipe (:func:`autogloss.sharedtask.neural_trainer`), fine-tuned from the
packaged model (``pretrained``), from random weights (``scratch``) and, given
``--unseen-pretrained``, from a model pretrained the same way on a corpus
without the languages studied (``unseen``: the language is new to it, as a
linguist's own language usually is; the packaged model read every training
sentence of the shared task in pretraining), for
a fixed length (:data:`RULE`: the same number of sentence passes at every
size, so the scores do not depend on the machine or its load), and scores
dev with the official scorer: track 1 by word accuracy, track 2 by morpheme
accuracy (both are kept). Each finished point goes into ``curves.json`` at
once, so an interrupted run started again goes on where it stopped. Writes
``curves.json``, ``curves.md`` (mean and min-max over the seeds) and
``curves-{iso}.png`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from autogloss.corpus.sources import SHARED_TASK_LANGUAGES
from autogloss.datapath import find_data_dir
from autogloss.fileio import atomic_write
from autogloss.models.loading import DEFAULT_MODEL_DIR, load_model
from autogloss.sharedtask import TRACKS, base_model_name

from .learning import (HEADLINE, RESULTS, Eta, TrainingRule, cpu_time, dev_scores, languages_read, named_task,
                       nested_subset, pretraining_note, pretraining_seen, pyplot, run_jobs, save_figure, train,
                       trained_sentences)
from .machine import machine_description, today

LANGUAGES = ("ddo", "usp", "nyb", "ntu")
SIZES = (10, 25, 50, 100, 200, 400, 800, 1600)
ALL = "all"
STARTS = ("pretrained", "unseen", "scratch")
#: The starts run unless --start says otherwise (``unseen`` only with its model).
DEFAULT_STARTS = ("pretrained", "scratch")
#: How the plots name the starts.
START_LABELS = {"pretrained": "packaged model (read the language)", "unseen": "pretrained without the language",
                "scratch": "from scratch"}
#: The settings' key of the ``unseen`` start's model.
UNSEEN_KEY = "unseen_base"
SEEDS = 3
#: Every point trains for 4,000 sentence passes, about what the main job's 3
#: minutes give a small task (Gitksan's 31 sentences: 100-150 epochs; Natugu
#: track 1: 5 epochs of 712): 300 epochs of 10 sentences (the shared-task
#: recipe's cap for small data), 40 of 100; and at least 3 epochs of a large
#: set (1,600 sentences and up), so that the largest points are not trained
#: shorter than the ones below them.
RULE = TrainingRule(passes=4000, min_epochs=3)


@dataclass(frozen=True)
class Point:
    """One training and scoring: a language, track, start, subset size (None: all) and seed."""

    iso: str
    track: int
    start: str
    size: int | None
    seed: int

    @property
    def key(self) -> str:
        return f"{self.iso}-track{self.track}-{self.start}-{self.size or ALL}-seed{self.seed}"


def parse_sizes(text: str) -> tuple[int | None, ...]:
    """``10,25,all`` -> (10, 25, None)."""
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if part == ALL:
            sizes.append(None)
        elif part.isdigit() and int(part) > 0:
            sizes.append(int(part))
        else:
            raise argparse.ArgumentTypeError(f"--sizes: '{part}' is neither a positive number of sentences nor '{ALL}'")
    return tuple(dict.fromkeys(sizes))


def plan(train_sizes: dict[str, int], tracks: tuple[int, ...], sizes: tuple[int | None, ...], seeds: int,
         starts: tuple[str, ...] = DEFAULT_STARTS) -> list[Point]:
    """Every point to run; a size not below the language's training file is skipped (``all`` is that file)."""
    return [Point(iso, track, start, size, seed) for iso, count in train_sizes.items() for track in tracks
            for start in starts for size in sizes if size is None or size < count for seed in range(seeds)]


def weight(point: Point, train_sizes: dict[str, int], rule: TrainingRule) -> float:
    """A point's expected cost, in sentence passes (the ETA's unit), with a fixed share for loading and scoring."""
    size = point.size or train_sizes[point.iso]
    return rule.epochs(size) * trained_sentences(size) + 500


def run_point(point: Point, data_dir: Path, rule: TrainingRule, bases: dict[tuple[str, int], Path], hidden: int) -> dict:
    """Train and score one point: its subset, epochs, dev scores and CPU time."""
    started, cpu_started = time.perf_counter(), time.process_time()
    task = named_task(data_dir, point.iso, point.track)
    indices = (list(range(len(task.train))) if point.size is None
               else nested_subset(len(task.train), point.size, point.seed))
    records = [task.train[i] for i in indices]
    base = bases.get((point.start, point.track))  # scratch: none
    glosser = train(records, rule, base, point.seed, hidden,
                    f"{len(records)} sentences of SIGMORPHON 2023 {point.iso} track {point.track} train (seed {point.seed})")
    return {**asdict(point), "sentences": len(records), "epochs": rule.epochs(len(records)),
            "subset_first": indices[:5], **dev_scores(glosser, task),
            "cpu_seconds": round(time.process_time() - cpu_started, 1), "seconds": round(time.perf_counter() - started, 1)}


def merged_settings(earlier: dict, now: dict) -> dict | None:
    """The settings of a run that adds points to one made with ``earlier``
    settings, or None when the two differ in anything the points depend on.
    Only the ``unseen`` start's model may be new (the earlier run had no
    such points) or left out now (its points are kept)."""
    if {k: v for k, v in earlier.items() if k != UNSEEN_KEY} != {k: v for k, v in now.items() if k != UNSEEN_KEY}:
        return None
    if UNSEEN_KEY in earlier and UNSEEN_KEY in now and earlier[UNSEEN_KEY] != now[UNSEEN_KEY]:
        return None
    return {**earlier, **now}


def load_points(path: Path, settings: dict) -> tuple[dict[str, dict], dict]:
    """The points an earlier run with compatible settings finished (none if
    there is no such run), and the settings the file is written with."""
    if not path.is_file():
        return {}, settings
    earlier = json.loads(path.read_text(encoding="utf-8"))
    merged = merged_settings(earlier.get("settings") or {}, settings)
    if merged is None:
        sys.exit(f"{path}: made with other settings ({earlier.get('settings')}, now {settings}); "
                 "give another --out, or --restart to discard its points")
    return earlier["points"], merged


def write_points(path: Path, settings: dict, points: dict[str, dict], meta: dict) -> None:
    with atomic_write(path) as handle:
        json.dump({"settings": settings, **meta, "points": dict(sorted(points.items()))}, handle, indent=1)


def summary(points: dict[str, dict]) -> dict[tuple[str, int, str, int | None], dict]:
    """Per (language, track, start, size): sentences, seeds, and mean, min, max, std of both accuracies."""
    groups: dict[tuple, list[dict]] = {}
    for point in points.values():
        groups.setdefault((point["iso"], point["track"], point["start"], point["size"]), []).append(point)
    found = {}
    for key, members in groups.items():
        row = {"sentences": members[0]["sentences"], "seeds": len(members)}
        for metric in HEADLINE.values():
            values = [member[metric] for member in members]
            row[metric] = {"mean": statistics.fmean(values), "min": min(values), "max": max(values),
                           "std": statistics.pstdev(values)}
        found[key] = row
    return found


def _order(size: int | None) -> float:
    return float("inf") if size is None else size


def cell(row: dict | None, metric: str) -> str:
    if row is None:
        return "-"
    found = row[metric]
    return f"{found['mean']:.1f} [{found['min']:.1f}-{found['max']:.1f}]" if row["seeds"] > 1 else f"{found['mean']:.1f}"


def shown_starts(points: dict[str, dict]) -> list[str]:
    """The starts the points have, in :data:`STARTS` order."""
    return [start for start in STARTS if any(point["start"] == start for point in points.values())]


def table(points: dict[str, dict], meta: dict) -> str:
    rows = summary(points)
    starts = shown_starts(points)
    unseen = meta["settings"].get(UNSEEN_KEY)
    lines = ["# Learning curves: dev accuracy against training sentences", "",
             f"Run {meta['date']} on {meta['machine']}; command `{meta['command']}`, one torch thread per process, "
             f"{cpu_time(meta['cpu_seconds'])} of training and scoring over {len(points)} points"
             + (" (some of them by earlier, interrupted runs of the same command)" if meta.get("resumed") else "") + ".",
             "",
             "Each cell: the mean over the seeds of the official dev score (percent; track 1 word accuracy, track 2 "
             "morpheme accuracy, the shared task's headline metrics), and in brackets the lowest and highest seed. "
             f"A seed draws a random subset of the training file; subsets are nested (a seed's 10 sentences are "
             f"among its 25, ...); `all` is the whole file, where seeds only change the training's randomness. "
             f"*pretrained*: the packaged model (`{meta['bases']}`) fine-tuned; "
             + (f"*unseen*: `{unseen}` fine-tuned, a model pretrained like it on a corpus without the languages "
                "studied (it read none of their sentences), so the language is new to it, as a linguist's own "
                "language usually is; " if unseen and "unseen" in starts else "")
             + f"*scratch*: random weights, hidden size {meta['settings']['hidden']}. All with the shared-task recipe "
             "(`autogloss.sharedtask.neural_trainer`: under 200 sentences all train, in batches of 8; from 200 on "
             "a random tenth held out selects the epoch and calibrates) for a fixed length, the same at every size and on any "
             f"machine: {meta['rule']}.",
             "",
             "Rules followed: the shared task's tracks (track 1: plain transcriptions in, word glosses out, trained on "
             "the track 1 training file; track 2: the gold segmentation given); training sentences come from the "
             "train file only, dev is only scored, test is never used. " + meta["pretraining"], ""]
    for iso in dict.fromkeys(point["iso"] for point in points.values()):
        name = SHARED_TASK_LANGUAGES[iso].folder
        sizes = sorted({key[3] for key in rows if key[0] == iso}, key=_order)
        header = [f"track 1 word acc, {starts[0]}", *starts[1:], f"track 2 morpheme acc, {starts[0]}", *starts[1:]]
        lines += [f"## {name} ({iso})", "", f"![{name} learning curves](curves-{iso}.png)", "",
                  "| training sentences | " + " | ".join(header) + " |", "|---|" + "---|" * len(header)]
        for size in sizes:
            known = [rows[key] for key in rows if key[0] == iso and key[3] == size]
            cells = [cell(rows.get((iso, track, start, size)), HEADLINE[track]) for track in TRACKS for start in starts]
            lines.append(f"| {known[0]['sentences']:,}{' (all)' if size is None else ''} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def plot(points: dict[str, dict], iso: str, path: Path) -> Path:
    """The curves of one language, a panel per track it has points of, each
    start a line (mean) with its min-max band."""
    plt = pyplot()
    rows = summary(points)
    tracks = [track for track in TRACKS if any(key[:2] == (iso, track) for key in rows)]
    figure, axes = plt.subplots(1, len(tracks), figsize=(5 * len(tracks), 4), sharey=True, squeeze=False)
    axes = axes[0]
    for axis, track in zip(axes, tracks):
        metric = HEADLINE[track]
        for start, marker in zip(STARTS, "o^s"):
            found = sorted(((row["sentences"], row[metric]) for key, row in rows.items()
                            if key[:3] == (iso, track, start)))
            if not found:
                continue
            xs = [sentences for sentences, _ in found]
            axis.plot(xs, [m["mean"] for _, m in found], marker=marker, label=START_LABELS[start])
            axis.fill_between(xs, [m["min"] for _, m in found], [m["max"] for _, m in found], alpha=0.2)
        axis.set(xscale="log", xlabel="training sentences", title=f"track {track}: {metric.replace('_', ' ')}")
        axis.grid(alpha=0.3)
        if axis.lines:
            axis.legend(loc="lower right")
    axes[0].set_ylabel("dev accuracy (%, official scorer)")
    figure.suptitle(f"{SHARED_TASK_LANGUAGES[iso].folder} ({iso}): mean over seeds, band from lowest to highest")
    return save_figure(figure, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", action="append", choices=sorted(SHARED_TASK_LANGUAGES),
                        help=f"only these languages (repeatable; default {' '.join(LANGUAGES)})")
    parser.add_argument("--track", type=int, action="append", choices=TRACKS, help="only this track (repeatable)")
    parser.add_argument("--sizes", type=parse_sizes, default=(*SIZES, None),
                        help="comma-separated training-set sizes, 'all' for the whole file (default: "
                             f"{','.join(map(str, SIZES))},all)")
    parser.add_argument("--seeds", type=int, default=SEEDS, help="random subsets (and training seeds) per point")
    parser.add_argument("--start", action="append", choices=STARTS, help="only this start (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="points at a time, each in its own one-thread process")
    parser.add_argument("--passes", type=int, default=RULE.passes, help="sentence passes per point (training length)")
    parser.add_argument("--min-epochs", type=float, default=RULE.min_epochs, help="epochs of a large set at least")
    parser.add_argument("--hidden", type=int, default=128, help="hidden size of the networks trained from scratch")
    parser.add_argument("--pretrained", type=Path, default=DEFAULT_MODEL_DIR, help="the model 'pretrained' fine-tunes")
    parser.add_argument("--track1-pretrained", type=Path, default=None,
                        help="fine-tune track 1 from this model instead (e.g. pretrained without shared-task segmentations)")
    parser.add_argument("--unseen-pretrained", type=Path, default=None,
                        help="also fine-tune from this model ('unseen'), pretrained without the languages studied "
                             "(autogloss pretrain --hold-out-language ...); refused if it read any of them")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of curves.json, curves.md and the plots")
    parser.add_argument("--restart", action="store_true", help="discard the points of an earlier run in --out")
    args = parser.parse_args(argv)
    if min(args.seeds, args.jobs, args.passes) < 1 or args.min_epochs <= 0:
        parser.error("--seeds, --jobs and --passes must be at least 1, --min-epochs above 0")
    data_dir = find_data_dir(args.data_dir)
    languages = tuple(args.language or LANGUAGES)
    tracks = tuple(sorted(set(args.track or TRACKS)))
    starts = tuple(start for start in STARTS
                   if start in (args.start or (STARTS if args.unseen_pretrained else DEFAULT_STARTS)))
    if "unseen" in starts and args.unseen_pretrained is None:
        parser.error("--start unseen needs --unseen-pretrained MODEL")
    rule = TrainingRule(passes=args.passes, min_epochs=args.min_epochs)
    pretrained = {1: args.track1_pretrained or args.pretrained, 2: args.pretrained}
    bases = {("pretrained", track): path for track, path in pretrained.items()}
    settings = {"rule": rule.to_json(), "hidden": args.hidden,
                "bases": {str(track): base_model_name(path) for track, path in pretrained.items()}}
    if args.unseen_pretrained is not None:
        unseen_seen = pretraining_seen(load_model(args.unseen_pretrained), languages)
        read = languages_read(unseen_seen)
        if read:
            sys.exit(f"--unseen-pretrained {args.unseen_pretrained}: it read sentences of "
                     + ", ".join(f"{iso} ({sum(unseen_seen[iso].values()):,})" for iso in read)
                     + " in pretraining; pretrain with --hold-out-language for each language studied")
        bases.update({("unseen", track): args.unseen_pretrained for track in TRACKS})
        settings[UNSEEN_KEY] = base_model_name(args.unseen_pretrained)
    train_sizes = {iso: len(named_task(data_dir, iso, 2).train) for iso in languages}
    path = args.out / "curves.json"
    points, settings = ({}, settings) if args.restart else load_points(path, settings)
    todo = [point for point in plan(train_sizes, tracks, args.sizes, args.seeds, starts) if point.key not in points]
    seen = pretraining_seen(load_model(args.pretrained), languages)
    command = " ".join(["python -m bench.curves", *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    meta = {"command": command, "machine": machine_description(), "resumed": bool(points),
            "rule": rule.describe(), "bases": " / ".join(sorted(set(settings["bases"].values()))),
            "pretraining": pretraining_note(seen, train_sizes), "pretraining_seen": seen}
    print(f"{len(todo)} points to run ({len(points)} done before), {args.jobs} at a time", flush=True)
    eta = Eta(sum(weight(point, train_sizes, rule) for point in todo), len(todo))
    work = partial(run_point, data_dir=data_dir, rule=rule, bases=bases, hidden=args.hidden)
    for point, result in run_jobs(work, todo, args.jobs):
        points[point.key] = result
        meta.update(date=today(), cpu_seconds=round(sum(p["cpu_seconds"] for p in points.values()), 1))
        write_points(path, settings, points, meta)
        print(f"{point.key}: {result['sentences']} sentences, {result['epochs']:g} epochs, word "
              f"{result['word_accuracy']:.1f}, morpheme {result['morpheme_accuracy']:.1f} "
              f"({result['cpu_seconds']:.0f} CPU s); {eta.advance(weight(point, train_sizes, rule))}", flush=True)
    if not points:
        sys.exit("no point to run: every size is at least the training file's (use 'all')")
    meta.setdefault("date", today())
    meta["cpu_seconds"] = round(sum(p["cpu_seconds"] for p in points.values()), 1)
    with atomic_write(args.out / "curves.md") as handle:
        handle.write(table(points, {**meta, "settings": settings}))
    for iso in dict.fromkeys(point["iso"] for point in points.values()):
        print(f"plot: {plot(points, iso, args.out / f'curves-{iso}.png')}")
    print(f"written to {args.out / 'curves.md'}")


if __name__ == "__main__":
    main()
