"""SIGMORPHON 2023 benchmark: every language, both tracks, dev scores and test predictions.

    python -m bench.sigmorphon                       # everything: majority, neural, neural-pretrained, ablation
    python -m bench.sigmorphon --jobs 2                # the same, two (model, language) runs at a time, 1 thread each
    python -m bench.sigmorphon --model neural-pretrained [--minutes 10] [--language git ...]
    python -m bench.sigmorphon --model neural-ensemble --members runs/bench-models
    python -m bench.sigmorphon --model neural-pretrained --reuse-models runs/bench-models   # re-gloss kept models

With ``--keep-models DIR``, ``all`` also scores ``neural-ensemble``: the
``neural`` and ``neural-pretrained`` models of each task (kept in DIR)
averaged. Together they train in the time of either, one per core.

For each model, writes ``{model}-results.md`` and ``.json`` (dev scores under
both scorers; for track 1 also the segmentation the model wrote, scored
against the track 2 dev gold; the expected calibration error of the confidences on dev, with a
reliability diagram per task in ``calibration/``; training time, glossing speed, machine and date) and the test
predictions made from the ``*-test-track{1,2}-covered`` inputs to
``predictions/`` (the main model) or ``predictions/{model}/``. When the
results of both neural models are there, also ``pretraining-ablation.md``:
the same network and budget with and without multilingual pretraining.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from autogloss.corpus.sources import SHARED_TASK_LANGUAGES
from autogloss.datapath import find_data_dir
from autogloss.fileio import atomic_write
from autogloss.models.loading import DEFAULT_MODEL_DIR
from autogloss.sharedtask import (BENCHMARK_MINUTES, TRACKS, load_task, majority_trainer, neural_trainer, results_table,
                                  run_shared_task, score_task)

from .machine import machine_description, today
from .segmentation import segmentation_table

MAIN_MODEL = "neural-pretrained"
MODELS = ("majority", "neural", "neural-pretrained")
ENSEMBLE = "neural-ensemble"
NEURAL_MODELS = ("neural", "neural-pretrained")  # trained within --minutes, with --seed
ENSEMBLE_MEMBERS = ("neural-pretrained", "neural")  # the first is the primary (memory, boundaries)
RESULTS = Path(__file__).parent / "results"


def trainer_for(model: str, minutes: float, pretrained: Path, seed: int = 0):
    if model == "majority":
        return majority_trainer
    return neural_trainer(minutes, base=pretrained if model == "neural-pretrained" else None, progress=print, seed=seed)


def describe(model: str, minutes: float, pretrained: Path) -> str:
    regime = ("trained on the first 90% of each training file, the last 10% selects the epoch and the memory "
              "thresholds (languages under 200 sentences train on all of it for a fixed number of epochs); "
              "dev is only scored.")
    return {
        "majority": "Most frequent training gloss per morpheme (track 2) or word (track 1).",
        "neural": f"Neural glosser trained from scratch per language and track, {minutes:g} min budget each; {regime}",
        "neural-pretrained": (f"Neural glosser fine-tuned per language and track from the multilingual pretrained "
                              f"model `{pretrained.name}`, {minutes:g} min budget each; {regime}"),
        ENSEMBLE: ("The `neural-pretrained` and `neural` models of each task (as kept by their runs) with their "
                   "output probabilities averaged; the fine-tuned one supplies the memory and the morpheme "
                   "boundaries. Training time: the longer of the two, which train side by side, one per core."),
    }[model]


def merged_rows(previous: Path, new_rows: list[dict]) -> list[dict]:
    """The new task results, plus the earlier ones of tasks not re-run (so a
    run with ``--language`` updates its languages' rows and keeps the rest)."""
    rows = {(r["language"], r["track"]): r for r in (json.loads(previous.read_text()) if previous.is_file() else [])}
    rows.update({(r["language"], r["track"]): r for r in new_rows})
    order = {iso: index for index, iso in enumerate(SHARED_TASK_LANGUAGES)}
    return [rows[key] for key in sorted(rows, key=lambda key: (order.get(key[0], len(order)), key))]


@contextlib.contextmanager
def results_lock(results_dir: Path):
    """Serialise read-merge-write of the results files between parallel runs."""
    results_dir.mkdir(parents=True, exist_ok=True)
    with open(results_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def write_results(model: str, args: argparse.Namespace, results: list, elapsed: float) -> str:
    """Merge this run's rows into ``{model}-results.json`` and write the markdown report."""
    run = {"run": today(), "torch_threads": torch.get_num_threads()}
    if model in NEURAL_MODELS:
        run["budget_minutes"] = args.minutes
    rows = merged_rows(args.out / f"{model}-results.json", [{**r.to_json(), **run} for r in results])
    with atomic_write(args.out / f"{model}-results.json") as handle:
        json.dump(rows, handle, indent=2)
    return write_report(model, args, rows, run_command(model, args), elapsed)


def run_command(model: str, args: argparse.Namespace) -> str:
    """The command that reruns just this model's rows."""
    command = f"python -m bench.sigmorphon --model {model}" + (f" --minutes {args.minutes:g}" if model in NEURAL_MODELS else "")
    if model == ENSEMBLE:
        command += f" --members {args.members or args.keep_models}"
    elif args.reuse_models:
        command += f" --reuse-models {args.reuse_models}"
    if args.language:
        command += "".join(f" --language {iso}" for iso in args.language)
    if args.seed and model in NEURAL_MODELS:
        command += f" --seed {args.seed}"
    return command


def write_report(model: str, args: argparse.Namespace, rows: list[dict], command: str, elapsed: float) -> str:
    partial = any(row["language"] not in (args.language or SHARED_TASK_LANGUAGES) for row in rows)
    speed_rows = "\n".join(
        f"| {r['language']} | {r['track']} | {r['train_seconds']:.1f} | {r['sentences_per_second']:,.0f} "
        f"| {r.get('run', 'earlier')}" + (f" (glossing; trained {r['trained_run']})" if "trained_run" in r else "")
        + " |" for r in rows)
    threads = sorted({r.get("torch_threads", torch.get_num_threads()) for r in rows})
    report = (f"# SIGMORPHON 2023 benchmark: {model}\n\n"
              f"Run {today()} on {machine_description()}, {'/'.join(map(str, threads))} torch thread(s) per task.\n"
              f"Command: `{command}`; whole run {elapsed:.0f} s"
              + (" (rows of other languages are from earlier runs)" if partial else "") + ".\n"
              f"{describe(model, args.minutes, args.pretrained)}\n"
              + (f"This run trained nothing: it glossed and scored the models kept in `{args.reuse_models}` by the "
                 "runs that trained them (their dates: the last column).\n" if args.reuse_models else "") + "\n"
              + results_table(rows, model) + segmentation_table(rows) + calibration_table(rows)
              + "\n| lang | track | training time (s) | glossing speed (sentences/s) | run |\n|---|---|---|---|---|\n"
              + speed_rows + "\n")
    with atomic_write(args.out / f"{model}-results.md") as handle:
        handle.write(report)
    return report


def add_calibration(results: list, model: str, data_dir: Path, models: Path, out: Path) -> None:
    """Put each task's dev calibration (ECE over ten equal-width bins, the
    reliability bins) into its row, and draw its reliability diagram to
    ``calibration/{model}-{iso}-track{track}.png`` (where matplotlib is installed)."""
    from autogloss.models.loading import load_model

    from .calibration import dev_reliability, plot_reliability

    try:
        import matplotlib  # noqa: F401  (only to know whether plots can be drawn)
        plots = True
    except ImportError:
        plots = False
    for result in results:
        glosser = load_model(models / f"{model}-{result.iso}-track{result.track}")
        found = dev_reliability(glosser, load_task(data_dir, result.iso, result.track))
        result.extra["calibration"] = {**found.to_json(), "calibrated": bool(glosser.calibration and glosser.calibration.maps)}
        if plots:
            plot_reliability({model: found}, out / "calibration" / f"{model}-{result.iso}-track{result.track}.png",
                             f"{model} {result.iso} track {result.track} dev")


def calibration_table(rows: list[dict]) -> str:
    """Expected calibration error per task, for the rows that have it ("" if none)."""
    scored = [row for row in rows if "calibration" in row]
    if not scored:
        return ""
    lines = ["", "Confidence on dev: expected calibration error over ten equal-width confidence bins (0 is perfect: "
             "of the morphemes glossed with confidence about 0.8, 80% are right), mean confidence against the share "
             "of morphemes right; reliability diagrams in `calibration/`.", "",
             "| lang | track | ECE | mean confidence | morphemes right | calibrated on held-out training data |",
             "|---|---|---|---|---|---|"]
    for row in scored:
        found = row["calibration"]
        lines.append(f"| {row['language']} | {row['track']} | {found['ece']:.3f} | {found['mean_confidence']:.3f} "
                     f"| {100 * found['accuracy']:.1f}% | {'yes' if found.get('calibrated') else 'no'} |")
    return "\n".join(lines) + "\n"


def rewrite_reports(models: tuple[str, ...], args: argparse.Namespace, command: str, elapsed: float) -> None:
    """After a run of several models or parallel workers, head each report with
    the command that was typed and its whole time (each worker wrote its own)."""
    with results_lock(args.out):
        for model in models:
            path = args.out / f"{model}-results.json"
            if path.is_file():
                write_report(model, args, json.loads(path.read_text()), command, elapsed)


def kept_results(model: str, data_dir: Path, work: Path, args: argparse.Namespace) -> list:
    """Score, task by task and without training, models an earlier run kept:
    a neural model itself (``--reuse-models DIR``, e.g. after a change to
    glossing only), or for the ensemble the average of :data:`ENSEMBLE_MEMBERS`
    (``--members DIR``). Training times are the ones those runs recorded."""
    from autogloss.models.neural import EnsembleGlosser, NeuralGlosser

    folder = (args.members or args.keep_models) if model == ENSEMBLE else args.reuse_models
    if folder is None:
        sys.exit(f"{model}: name the kept models with --members DIR (as written by --keep-models DIR)")
    names = ENSEMBLE_MEMBERS if model == ENSEMBLE else (model,)
    recorded = {}
    for name in names:
        path = args.out / f"{name}-results.json"
        if not path.is_file():
            sys.exit(f"{model}: {path} is missing (run --model {name} first; it records the training times)")
        recorded[name] = {(r["language"], r["track"]): r for r in json.loads(path.read_text())}
    results = []
    for iso in args.language or SHARED_TASK_LANGUAGES:
        for track in TRACKS:
            print(f"{model}: {iso} track {track} (kept models in {folder})", flush=True)
            paths = [folder / f"{name}-{iso}-track{track}" for name in names]
            missing = [str(path) for path in paths if not path.is_dir()] + [
                f"{name} {iso} track {track} in {name}-results.json" for name in names if (iso, track) not in recorded[name]]
            if missing:
                sys.exit(f"{model}: missing {', '.join(missing)} (run the neural models with --keep-models)")
            models = [NeuralGlosser.from_pretrained(path) for path in paths]
            glosser = EnsembleGlosser.combine(models, list(names)) if model == ENSEMBLE else models[0]
            rows = [recorded[name][iso, track] for name in names]
            result = score_task(load_task(data_dir, iso, track), glosser, work,
                                max(row["train_seconds"] for row in rows))  # ensemble members train side by side
            result.extra["trained_run"] = " / ".join(sorted({row.get("trained_run", row.get("run", "earlier")) for row in rows}))
            results.append(result)
    return results


def run_model(model: str, args: argparse.Namespace) -> None:
    data_dir = find_data_dir(args.data_dir)
    work = args.out / f".{model}-work-{os.getpid()}"  # runs on other languages may go on in parallel
    started = time.perf_counter()
    kwargs = {"languages": args.language} if args.language else {}
    if model == ENSEMBLE or args.reuse_models:
        results = kept_results(model, data_dir, work, args)
    else:
        results = run_shared_task(data_dir, work, trainer_for(model, args.minutes, args.pretrained, args.seed), model,
                                  progress=print, **kwargs)
    if model != ENSEMBLE:
        add_calibration(results, model, data_dir, args.reuse_models or work / "models", args.out)
    elapsed = time.perf_counter() - started
    with results_lock(args.out):
        report = write_results(model, args, results, elapsed)
    # The main model's test predictions go to predictions/, the others' to a subfolder.
    predictions = args.out / "predictions" / ("" if model == MAIN_MODEL else model)
    predictions.mkdir(parents=True, exist_ok=True)
    for path in (work / "predictions").glob("*-test-track*.txt"):
        shutil.copy(path, predictions / path.name)
    if args.keep_models and model != ENSEMBLE and not args.reuse_models:  # e.g. for bench.speed; never committed
        shutil.copytree(work / "models", args.keep_models, dirs_exist_ok=True)
    shutil.rmtree(work)
    print(report)


def _budget(row: dict) -> str:
    return f"{row['budget_minutes']:g}" if "budget_minutes" in row else "4"  # rows from before budgets were recorded


def ablation_table(results_dir: Path) -> str | None:
    """Dev scores with and without multilingual pretraining, side by side."""
    files = {name: results_dir / f"{name}-results.json" for name in MODELS}
    if not all(path.is_file() for path in files.values()):
        return None
    rows = {name: {(r["language"], r["track"]): r for r in json.loads(path.read_text())} for name, path in files.items()}
    lines = ["# What multilingual pretraining buys (dev, official scorer)", "",
             "Same network and regime; `scratch` starts from random weights, `pretrained` from the "
             "multilingual model. Track 1 is scored by word accuracy, track 2 by morpheme accuracy "
             "(the shared task's headline metrics). Sources: `majority-results.json`, `neural-results.json`, "
             "`neural-pretrained-results.json`.", "",
             "| lang | train sents | track | metric | majority | scratch | pretrained | pretrained - scratch "
             "| budget scratch / pretrained (min) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(rows["neural"], key=lambda k: (rows["neural"][k]["train_sentences"], k)):
        if key not in rows["neural-pretrained"] or key not in rows["majority"]:
            continue
        metric = "word_accuracy" if key[1] == 1 else "morpheme_accuracy"
        base, scratch, pretrained = (rows[name][key]["official"][metric] for name in MODELS)
        lines.append(f"| {key[0]} | {rows['neural'][key]['train_sentences']:,} | {key[1]} | {metric.replace('_', ' ')} "
                     f"| {base:.2f} | {scratch:.2f} | {pretrained:.2f} | {pretrained - scratch:+.2f} "
                     f"| {_budget(rows['neural'][key])} / {_budget(rows['neural-pretrained'][key])} |")
    return "\n".join(lines) + "\n"


#: Best published TEST scores (official scorer) per language: track 1 word
#: accuracy and track 2 morpheme accuracy, from the SIGMORPHON 2023
#: leaderboard and GlossLM's released predictions (Arapaho has no gold
#: training data here, so it is left out, as in the issue's averages).
PUBLISHED_TEST = {
    "ddo": (80.96, 92.01), "git": (21.09, 52.39), "lez": (78.78, 87.61),
    "ntu": (81.04, 92.77), "nyb": (85.34, 91.40), "usp": (73.39, 84.51),
}


def standing_table(results_dir: Path) -> str | None:
    """The main model's dev scores next to the best published test scores."""
    path = results_dir / f"{MAIN_MODEL}-results.json"
    if not path.is_file():
        return None
    rows = {(r["language"], r["track"]): r["official"] for r in json.loads(path.read_text())}
    lines = [f"# Where `{MAIN_MODEL}` stands (official scorer)", "",
             "Our DEV scores next to the best published TEST scores, which are the targets; test gold is not "
             "available here, so the committed test predictions are scored elsewhere. Dev and test differ, "
             "so a small margin either way says little.", "",
             "| lang | track 1 word acc (dev) | best published (test) | track 2 morph acc (dev) | best published (test) |",
             "|---|---|---|---|---|"]
    ours = {1: [], 2: []}
    for iso, targets in PUBLISHED_TEST.items():
        cells = []
        for track, metric, target in ((1, "word_accuracy", targets[0]), (2, "morpheme_accuracy", targets[1])):
            score = rows.get((iso, track), {}).get(metric)
            ours[track].append(score)
            cells += ["-" if score is None else f"{score:.2f}" + (" (above)" if score > target else " (below)"),
                      f"{target:.2f}"]
        lines.append(f"| {iso} | " + " | ".join(cells) + " |")
    if all(score is not None for scores in ours.values() for score in scores):
        averages = [sum(ours[track]) / len(ours[track]) for track in (1, 2)]
        published = [sum(t[track] for t in PUBLISHED_TEST.values()) / len(PUBLISHED_TEST) for track in (0, 1)]
        lines.append(f"| average | {averages[0]:.2f} | {published[0]:.2f} (target: above 78) "
                     f"| {averages[1]:.2f} | {published[1]:.2f} (target: above 87) |")
    return "\n".join(lines) + "\n"


# Languages by how long their runs take (Arapaho glosses 2,446 dev sentences),
# so that parallel jobs finish together.
LONGEST_FIRST = ("arp", "usp", "ddo", "nyb", "ntu", "lez", "git")


def run_in_parallel(models: tuple[str, ...], args: argparse.Namespace) -> None:
    """Run every (model, language) pair as ``python -m bench.sigmorphon --model M
    --language L`` in its own single-threaded process, ``args.jobs`` at a time;
    each merges its rows into the results files under the lock."""
    languages = args.language or sorted(SHARED_TASK_LANGUAGES, key=lambda iso: (
        LONGEST_FIRST.index(iso) if iso in LONGEST_FIRST else -1))
    jobs = [(model, iso) for model in models for iso in languages]
    options = ["--minutes", f"{args.minutes:g}", "--pretrained", str(args.pretrained), "--out", str(args.out)]
    options += ["--data-dir", str(args.data_dir)] * bool(args.data_dir)
    options += ["--keep-models", str(args.keep_models)] * bool(args.keep_models)
    options += ["--seed", str(args.seed)]
    options += ["--reuse-models", str(args.reuse_models)] * bool(args.reuse_models)
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def run(job: tuple[str, str]) -> int:
        model, iso = job
        command = [sys.executable, "-m", "bench.sigmorphon", "--model", model, "--language", iso, *options]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=environment, cwd=Path(__file__).resolve().parent.parent) as child:
            for line in child.stdout:
                print(f"[{model} {iso}] {line}", end="", flush=True)
        return child.returncode

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        failed = [job for job, status in zip(jobs, pool.map(run, jobs)) if status != 0]
    print(f"{len(jobs)} runs in {time.perf_counter() - started:.0f} s with {args.jobs} jobs")
    if failed:
        sys.exit(f"failed: {', '.join(f'{model} {iso}' for model, iso in failed)}")


def typed_command() -> str:
    return " ".join(["python -m bench.sigmorphon", *map(shlex.quote, sys.argv[1:])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=[*MODELS, ENSEMBLE, "all"], default="all")
    parser.add_argument("--minutes", type=float, default=BENCHMARK_MINUTES, help="neural training budget per language and track")
    parser.add_argument("--pretrained", type=Path, default=DEFAULT_MODEL_DIR,
                        help="pretrained model for neural-pretrained (default: the packaged model)")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--language", action="append", help="only these languages (repeatable)")
    parser.add_argument("--keep-models", type=Path, default=None, help="copy the trained models to this folder")
    parser.add_argument("--seed", type=int, default=0, help="neural: training seed (weights and batch order)")
    parser.add_argument("--reuse-models", type=Path, default=None,
                        help="neural: gloss and score the models an earlier run kept in this folder instead of training")
    parser.add_argument("--members", type=Path, default=None,
                        help=f"{ENSEMBLE}: folder of the kept neural and neural-pretrained models (default: --keep-models)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="run this many (model, language) benchmarks at a time, each in its own process "
                             "with one torch thread (2 on this machine's 2 cores)")
    args = parser.parse_args()
    started = time.perf_counter()
    models = MODELS if args.model == "all" else (args.model,)
    if args.reuse_models and "majority" in models:
        parser.error("--reuse-models is for the neural models (the majority baseline trains in seconds)")
    if args.jobs > 1:
        run_in_parallel(tuple(m for m in models if m != ENSEMBLE), args)
    else:
        for model in models:
            if model != ENSEMBLE:
                run_model(model, args)
    if ENSEMBLE in models or (args.model == "all" and args.keep_models):
        run_model(ENSEMBLE, args)  # in this process: it only glosses, with the models the runs kept
        models = tuple(dict.fromkeys((*models, ENSEMBLE)))
    if args.jobs > 1 or len(models) > 1:
        rewrite_reports(models, args, typed_command(), time.perf_counter() - started)
    with results_lock(args.out):
        tables = {"pretraining-ablation.md": ablation_table(args.out), "standing.md": standing_table(args.out)}
        for name, table in tables.items():
            if table:
                with atomic_write(args.out / name) as handle:
                    handle.write(table)
    print("\n".join(table for table in tables.values() if table))


if __name__ == "__main__":
    main()
