"""SIGMORPHON 2023 benchmark: every language, both tracks, dev scores and test predictions.

    python -m bench.sigmorphon                       # everything: majority, neural, neural-pretrained, ablation
    python -m bench.sigmorphon --jobs 2                # the same, two tasks at a time, 1 thread each
    python -m bench.sigmorphon --model neural-pretrained [--minutes 10] [--language git ...] [--track 1]
    python -m bench.sigmorphon --track1-pretrained runs/pretrained-t1   # track 1 from another compliant base
    python -m bench.sigmorphon --model neural-ensemble --members runs/bench-models
    python -m bench.sigmorphon --model neural-pretrained --reuse-models runs/bench-models   # re-gloss kept models

With ``--keep-models DIR``, ``all`` also scores ``neural-ensemble``: the
``neural`` and ``neural-pretrained`` models of each task (kept in DIR)
averaged. Together they train in the time of either, one per core.

Every task is run by the main job's own code (:func:`autogloss.sharedtask.run_pipeline`,
one torch thread per task): each neural model trains for the epochs that
``--minutes`` (default 10, as ``autogloss pipeline --full``) of one thread's CPU
time afford it at the costs measured once by ``python -m bench.epochs``
(:class:`autogloss.sharedtask.TrainingLength`), so two runs of the same code
give the same scores at any load; each row records its epochs and how they
were decided. ``--wall-clock`` lets the clock decide instead (as do tasks
without a measurement; the report says so).

``neural-pretrained`` fine-tunes track 2 from ``--pretrained`` (default: the
packaged model) and track 1 from ``--track1-pretrained`` (default:
``bench/models/six-source-track1``). The shared task's track 1 sees no gold
segmentation, so its base must be pretrained without the shared-task
segmentations (``autogloss pretrain --without-shared-task-segmentation``, as
that one was); the report warns when it was not. With a compliant
``--track1-pretrained``, ``all`` also runs
``neural-pretrained-track1-noncompliant``: track 1 fine-tuned from
``--pretrained``, for comparison. Track 1 test predictions of each also go to
``predictions/neural-pretrained-track1-compliant/`` or
``predictions/neural-pretrained-track1-noncompliant/``, after what their base saw.

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
import sys
import time
from pathlib import Path

import torch

from autogloss.corpus.sources import SHARED_TASK_LANGUAGES
from autogloss.datapath import find_data_dir
from autogloss.errors import AutoglossError
from autogloss.fileio import atomic_write
from autogloss.models.loading import DEFAULT_MODEL_DIR
from autogloss.sharedtask import (BENCHMARK_MINUTES, LONGER_TASKS, TRACKS, PipelineModel, TrainingLength, base_model_name,
                                  format_task_minutes, load_task, parse_task_minutes, pipeline_bases, results_table,
                                  run_pipeline, saw_shared_task_segmentation, score_task)

from .machine import machine_description, today
from .segmentation import segmentation_table

MAIN_MODEL = "neural-pretrained"
#: Track 1 fine-tuned from ``--pretrained`` (which saw the shared-task segmentations), beside the compliant main rows.
TRACK1_NONCOMPLIANT = "neural-pretrained-track1-noncompliant"
MODELS = ("majority", "neural", "neural-pretrained")
ENSEMBLE = "neural-ensemble"
NEURAL_MODELS = ("neural", "neural-pretrained", TRACK1_NONCOMPLIANT)  # trained for --minutes' epochs, with --seed
ENSEMBLE_MEMBERS = ("neural-pretrained", "neural")  # the first is the primary (memory, boundaries)
RESULTS = Path(__file__).parent / "results"
#: Track 1's base by the shared-task rules: the six-source model pretrained without the shared-task segmentations.
#: (relative to where the benchmark runs, as results name it: bench/models/six-source-track1 from the project root)
TRACK1_PRETRAINED = Path(os.path.relpath(Path(__file__).parent / "models" / "six-source-track1"))
#: The pipeline model each benchmark model runs.
PIPELINE_MODEL = {"majority": PipelineModel.MAJORITY, "neural": PipelineModel.NEURAL,
                  MAIN_MODEL: PipelineModel.NEURAL_PRETRAINED, TRACK1_NONCOMPLIANT: PipelineModel.NEURAL_PRETRAINED}


def bases_for(model: str, args: argparse.Namespace) -> dict[int, Path]:
    """The pretrained model each track of ``model`` fine-tunes (none: from scratch)."""
    if model == MAIN_MODEL:
        return pipeline_bases(args.pretrained, args.track1_pretrained)
    if model == TRACK1_NONCOMPLIANT:
        return {1: pipeline_bases(args.pretrained)[1]}
    return {}


def tracks_for(model: str, args: argparse.Namespace) -> tuple[int, ...]:
    tracks = tuple(args.track or TRACKS)
    return tuple(track for track in tracks if track == 1) if model == TRACK1_NONCOMPLIANT else tracks


def track1_folder(rules: str) -> str:
    """The predictions folder of track 1 models whose base model's :func:`track1_rules` are ``rules``."""
    return f"{MAIN_MODEL}-track1-{'compliant' if rules == TRACK1_FOLLOWED else 'noncompliant'}"


def length_of(args: argparse.Namespace) -> TrainingLength:
    return TrainingLength(args.minutes, wall_clock=args.wall_clock, task_minutes=tuple(args.task_minutes))


def length_record(length: TrainingLength, model: str, iso: str, track: int) -> dict:
    """What a neural row records of its training length: its minutes, the
    planned epochs (None: the clock decided) and how they were decided."""
    epochs, minutes = length.epochs(model, iso, track), length.minutes_for(iso, track)
    if epochs is not None:
        how = (f"measured: the epochs {minutes:g} min of one thread's CPU time afford at the costs in "
               "src/autogloss/data/shared_task_epochs.json (python -m bench.epochs)")
    elif length.wall_clock:
        how = f"wall clock: {minutes:g} min of wall time (--wall-clock); the epochs depend on load"
    else:
        how = (f"wall clock: {minutes:g} min of wall time, as no epoch cost of {model} {iso} track {track} "
               f"is measured (python -m bench.epochs --model {model}); the epochs depend on load")
    if minutes != length.minutes:
        how += f" (this task's own budget, --task-minutes {iso}-track{track}={minutes:g})"
    return {"planned_epochs": epochs, "length_decided": how, "task_minutes": minutes}


def task_minutes(text: str) -> list[tuple[str, float]]:
    """``--task-minutes``: ``ddo-track1=40,usp-track1=20``, or ``none``."""
    try:
        return list(parse_task_minutes(text))
    except AutoglossError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def track1_rules(base: Path) -> str:
    """Whether track 1 models fine-tuned from ``base`` follow the shared task's track 1 rules."""
    saw = saw_shared_task_segmentation(base)
    if saw is None:
        return "unknown: the base model does not record its training data"
    return "not followed: the base model saw shared-task segmentations" if saw else TRACK1_FOLLOWED


TRACK1_FOLLOWED = "followed"


def describe(model: str, args: argparse.Namespace) -> str:
    regime = ("trained on 90% of each training file, a random 10% selects the epoch and the memory thresholds and "
              "calibrates the confidence (languages under 200 sentences train on all of it for a fixed number of "
              "epochs and are calibrated on 3 cross-fitted models); dev is only scored.")
    each = f"{args.minutes:g} min of wall time each" if args.wall_clock else f"what {args.minutes:g} min of one thread give"
    own = "".join(f"; {task} {minutes:g} min" for task, minutes in args.task_minutes)
    length = f"for the epochs listed below ({each}{own})"
    return {
        "majority": "Most frequent training gloss per morpheme (track 2) or word (track 1).",
        "neural": f"Neural glosser trained from scratch per language and track {length}; {regime}",
        MAIN_MODEL: (f"Neural glosser fine-tuned per language and track from a multilingual pretrained model "
                     f"(track 2: `{base_model_name(args.pretrained)}`, track 1: "
                     f"`{base_model_name(args.track1_pretrained)}`) {length}; {regime}"),
        TRACK1_NONCOMPLIANT: (f"Track 1 only, fine-tuned from `{base_model_name(args.pretrained)}`, which saw the "
                              f"shared-task segmentations: the comparison for `{MAIN_MODEL}`'s compliant track 1 "
                              f"rows, {length}; {regime}"),
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
        run.update(budget_minutes=args.minutes, wall_clock=args.wall_clock)
    rows = merged_rows(args.out / f"{model}-results.json", [{**r.to_json(), **run} for r in results])
    with atomic_write(args.out / f"{model}-results.json") as handle:
        json.dump(rows, handle, indent=2)
    return write_report(model, args, rows, run_command(model, args), elapsed)


def run_command(model: str, args: argparse.Namespace) -> str:
    """The command that reruns just this model's rows."""
    command = f"python -m bench.sigmorphon --model {model}"
    if model in NEURAL_MODELS:
        command += f" --minutes {args.minutes:g}" + " --wall-clock" * args.wall_clock
        if list(args.task_minutes) != list(LONGER_TASKS):
            command += f" --task-minutes {format_task_minutes(args.task_minutes)}"
    if model in (MAIN_MODEL, TRACK1_NONCOMPLIANT) and Path(args.pretrained).resolve() != Path(DEFAULT_MODEL_DIR).resolve():
        command += f" --pretrained {args.pretrained}"
    if model == MAIN_MODEL and Path(args.track1_pretrained).resolve() != TRACK1_PRETRAINED.resolve():
        command += f" --track1-pretrained {args.track1_pretrained}"
    if model == ENSEMBLE:
        command += f" --members {args.members or args.keep_models}"
    elif args.reuse_models:
        command += f" --reuse-models {args.reuse_models}"
    if args.language:
        command += "".join(f" --language {iso}" for iso in args.language)
    if args.track:
        command += "".join(f" --track {track}" for track in args.track)
    if args.jobs > 1:
        command += f" --jobs {args.jobs}"
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
              f"{describe(model, args)}\n"
              + track1_warning(rows)
              + (f"This run trained nothing: it glossed and scored the models kept in `{args.reuse_models}` by the "
                 "runs that trained them (their dates: the last column).\n" if args.reuse_models else "") + "\n"
              + results_table(rows, model) + length_table(rows) + segmentation_table(rows) + calibration_table(rows)
              + "\n| lang | track | training time (s) | glossing speed (sentences/s) | run |\n|---|---|---|---|---|\n"
              + speed_rows + "\n")
    with atomic_write(args.out / f"{model}-results.md") as handle:
        handle.write(report)
    return report


def track1_warning(rows: list[dict]) -> str:
    """A warning line when a track 1 row broke the shared task's track 1 rules ("" if none did)."""
    broken = sorted({row["base_model"] for row in rows if row["track"] == 1 and "base_model" in row
                     and row.get("track1_rules", TRACK1_FOLLOWED) != TRACK1_FOLLOWED})
    if not broken:
        return ""
    return (f"**Warning:** track 1 rows here were fine-tuned from {', '.join(f'`{b}`' for b in broken)}, pretrained on "
            "the shared-task training sentences with their gold segmentation (or not recording what it saw): not "
            "track 1 by the shared task's rules. Use `--track1-pretrained` with a model from `autogloss pretrain "
            "--without-shared-task-segmentation`.\n")


def length_table(rows: list[dict]) -> str:
    """How long each neural row trained and from which base model ("" for rows without a recorded length)."""
    scored = [row for row in rows if "length_decided" in row]
    if not scored:
        return ""
    lines = ["", "Training length and base model per task: epochs planned (none: the clock decided), epochs "
             "trained, CPU minutes of the training, and how the length was decided.", "",
             "| lang | track | base model | track 1 rules | planned epochs | epochs trained | train CPU min "
             "| how decided |", "|---|---|---|---|---|---|---|---|"]
    for row in scored:
        training = row.get("training", {})
        planned = row["planned_epochs"]
        lines.append(f"| {row['language']} | {row['track']} | {row.get('base_model', 'none (from scratch)')} "
                     f"| {row.get('track1_rules', '-') if row['track'] == 1 else '-'} "
                     f"| {'-' if planned is None else f'{planned:g}'} | {training.get('epochs', '-')} "
                     f"| {training.get('train_cpu_minutes', '-')} | {row['length_decided']} |")
    return "\n".join(lines) + "\n"


def add_calibration(results: list, model: str, data_dir: Path, models: Path, out: Path) -> None:
    """Put each task's dev calibration (ECE over ten equal-width bins, the
    reliability bins) into its row, and draw its reliability diagram to
    ``calibration/{model}-{iso}-track{track}.png`` (where matplotlib is installed)."""
    from autogloss.models.loading import load_model

    from autogloss.calibration import outcomes, reliability
    from autogloss.glossing import gloss_records
    from autogloss.sharedtask import dev_calibration

    from .calibration import plot_reliability

    try:
        import matplotlib  # noqa: F401  (only to know whether plots can be drawn)
        plots = True
    except ImportError:
        plots = False
    for result in results:
        glosser = load_model(models / f"{model}-{result.iso}-track{result.track}")
        task = load_task(data_dir, result.iso, result.track)
        outputs = list(gloss_records(task.dev_inputs, glosser))
        result.extra["calibration"] = dev_calibration(task, glosser, outputs)  # the record the main job writes
        if plots:
            plot_reliability({model: reliability(*outcomes(task.dev_gold, outputs))}, out / "calibration" / f"{model}-{result.iso}-track{result.track}.png",
                             f"{model} {result.iso} track {result.track} dev")


def calibration_table(rows: list[dict]) -> str:
    """Expected calibration error per task, for the rows that have it ("" if none)."""
    scored = [row for row in rows if "calibration" in row]
    if not scored:
        return ""
    lines = ["", "Confidence on dev: expected calibration error over ten equal-width confidence bins (0 is perfect: "
             "of the morphemes glossed with confidence about 0.8, 80% are right), mean confidence against the share "
             "of morphemes right; reliability diagrams in `calibration/`. *By chance*: the 95th percentile of the "
             "ECE a perfectly calibrated glosser with the same confidences shows on this many morphemes "
             "(`autogloss.calibration.chance_ece`); an ECE above it is miscalibration, not noise.", "",
             "| lang | track | ECE | by chance | mean confidence | morphemes right | calibrated on held-out training data |",
             "|---|---|---|---|---|---|---|"]
    for row in scored:
        found = row["calibration"]
        chance = f"{found['chance']['p95']:.3f}" if "chance" in found else "-"
        lines.append(f"| {row['language']} | {row['track']} | {found['ece']:.3f} | {chance} | {found['mean_confidence']:.3f} "
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
        for track in tracks_for(model, args):
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
            if model != ENSEMBLE:  # what the training was: the run that trained it recorded it
                result.extra.update({key: rows[0][key] for key in KEPT_KEYS if key in rows[0]})
            results.append(result)
    return results


#: What a re-scored row keeps of the row of the run that trained its model.
KEPT_KEYS = ("training", "length", "base_model", "planned_epochs", "length_decided", "track1_rules")


def train_model(model: str, args: argparse.Namespace, data_dir: Path, work: Path) -> list:
    """Train, score and predict every task of ``model`` with the main job's
    code (:func:`run_pipeline`), one torch thread per task; models are saved
    as ``work/models/{model}-{iso}-track{track}``."""
    pipeline_model, bases, length = PIPELINE_MODEL[model], bases_for(model, args), length_of(args)
    torch.set_num_threads(1)  # as in the main job and the measured costs; --jobs runs are 1 thread per process
    results = run_pipeline(data_dir, work, pipeline_model, length, args.language or tuple(SHARED_TASK_LANGUAGES),
                           tracks_for(model, args), jobs=args.jobs, bases=bases, seed=args.seed,
                           progress=lambda done, total, task: print(f"{model}: {done}/{total} {task} done", flush=True))
    for result in results:
        if pipeline_model != PipelineModel.MAJORITY:
            result.extra.update(length_record(length, pipeline_model, result.iso, result.track))
        if result.track == 1 and result.track in bases:
            result.extra["track1_rules"] = track1_rules(bases[1])
        if pipeline_model != model:  # saved under the pipeline's name: rename after this benchmark model
            saved = work / "models" / f"{pipeline_model}-{result.iso}-track{result.track}"
            saved.rename(work / "models" / f"{model}-{result.iso}-track{result.track}")
    return results


def run_model(model: str, args: argparse.Namespace) -> None:
    data_dir = find_data_dir(args.data_dir)
    work = args.out / f".{model}-work-{os.getpid()}"  # runs on other languages may go on in parallel
    started = time.perf_counter()
    if model == ENSEMBLE or args.reuse_models:
        results = kept_results(model, data_dir, work, args)
    else:
        results = train_model(model, args, data_dir, work)
    if model != ENSEMBLE:
        add_calibration(results, model, data_dir, args.reuse_models or work / "models", args.out)
    elapsed = time.perf_counter() - started
    with results_lock(args.out):
        report = write_results(model, args, results, elapsed)
    # The main model's test predictions go to predictions/, the others' to a subfolder; the track 1
    # ones of the fine-tuned models also to the folder of what their base saw (compliant or not).
    predictions = args.out / "predictions" / ("" if model == MAIN_MODEL else model)
    for result in results:
        path = work / "predictions" / f"{result.iso}-test-track{result.track}.txt"
        folders = [predictions]
        if "track1_rules" in result.extra:
            folders.append(args.out / "predictions" / track1_folder(result.extra["track1_rules"]))
        for folder in dict.fromkeys(folders) if path.is_file() else ():
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, folder / path.name)
    if args.keep_models and model != ENSEMBLE and not args.reuse_models:  # e.g. for bench.speed; never committed
        shutil.copytree(work / "models", args.keep_models, dirs_exist_ok=True)
    shutil.rmtree(work)
    print(report)


def _budget(row: dict) -> str:
    if "task_minutes" in row:  # the task's own, where it had one
        return f"{row['task_minutes']:g}"
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
    loaded = json.loads(path.read_text())
    rows = {(r["language"], r["track"]): r["official"] for r in loaded}
    bases = {track: sorted({f"`{r['base_model']}` (track 1 rules: {r.get('track1_rules', 'not recorded')})"
                            if track == 1 else f"`{r['base_model']}`" for r in loaded
                            if r["track"] == track and "base_model" in r}) for track in TRACKS}
    lines = [f"# Where `{MAIN_MODEL}` stands (official scorer)", "",
             "Our DEV scores next to the best published TEST scores, which are the targets; test gold is not "
             "available here, so the committed test predictions are scored elsewhere. Dev and test differ, "
             "so a small margin either way says little."
             + "".join(f" Track {track} fine-tuned from {', '.join(names)}." for track, names in bases.items() if names),
             "",
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


def typed_command() -> str:
    return " ".join(["python -m bench.sigmorphon", *map(shlex.quote, sys.argv[1:])])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=[*MODELS, TRACK1_NONCOMPLIANT, ENSEMBLE, "all"], default="all")
    parser.add_argument("--minutes", type=float, default=BENCHMARK_MINUTES,
                        help="neural training per language and track: the epochs this many minutes of one thread's "
                             "CPU time afford at the measured costs (as `autogloss pipeline --full`)")
    parser.add_argument("--task-minutes", type=task_minutes, default=list(LONGER_TASKS),
                        help="tasks with a budget of their own, e.g. ddo-track1=40,usp-track1=20, or none; default: "
                             + format_task_minutes(LONGER_TASKS) + " (where longer training kept paying on dev: bench/results/track1-budget.md)")
    parser.add_argument("--wall-clock", action="store_true",
                        help="train each task for --minutes of wall time here instead (scores depend on load)")
    parser.add_argument("--pretrained", type=Path, default=DEFAULT_MODEL_DIR,
                        help="pretrained model for neural-pretrained (default: the packaged model)")
    parser.add_argument("--track1-pretrained", type=Path, default=TRACK1_PRETRAINED,
                        help="neural-pretrained: fine-tune track 1 from this model, pretrained without the shared-task "
                             "segmentations (autogloss pretrain --without-shared-task-segmentation); default: "
                             "bench/models/six-source-track1 (the six-source model made so)")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--language", action="append", help="only these languages (repeatable)")
    parser.add_argument("--track", action="append", type=int, choices=TRACKS, help="only these tracks (repeatable)")
    parser.add_argument("--keep-models", type=Path, default=None, help="copy the trained models to this folder")
    parser.add_argument("--seed", type=int, default=0, help="neural: training seed (weights and batch order)")
    parser.add_argument("--reuse-models", type=Path, default=None,
                        help="neural: gloss and score the models an earlier run kept in this folder instead of training")
    parser.add_argument("--members", type=Path, default=None,
                        help=f"{ENSEMBLE}: folder of the kept neural and neural-pretrained models (default: --keep-models)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="train this many tasks at a time, each in its own process with one torch thread "
                             "(2 on this machine's 2 cores)")
    args = parser.parse_args(argv)
    if args.reuse_models and args.model in ("all", "majority"):
        parser.error("--reuse-models is for the neural models (the majority baseline trains in seconds)")
    try:
        bases_for(MAIN_MODEL, args)
    except AutoglossError as error:
        parser.error(str(error))
    if args.model == TRACK1_NONCOMPLIANT and track1_rules(args.pretrained) == TRACK1_FOLLOWED:
        parser.error(f"{TRACK1_NONCOMPLIANT}: --pretrained {args.pretrained} never saw a shared-task segmentation: "
                     "there is nothing non-compliant to compare with")
    return args


def chosen_models(args: argparse.Namespace) -> tuple[str, ...]:
    """The models to run: ``all`` adds the non-compliant track 1 comparison when
    track 1 fine-tunes from a compliant model and ``--pretrained`` is not one."""
    if args.model != "all":
        return (args.model,)
    comparison = (track1_rules(args.track1_pretrained) == TRACK1_FOLLOWED
                  and track1_rules(args.pretrained) != TRACK1_FOLLOWED)
    return MODELS + (TRACK1_NONCOMPLIANT,) * comparison


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    models = chosen_models(args)
    for model in models:
        if model != ENSEMBLE:
            run_model(model, args)
    if ENSEMBLE in models or (args.model == "all" and args.keep_models):
        run_model(ENSEMBLE, args)  # it only glosses, with the models the runs kept
        models = tuple(dict.fromkeys((*models, ENSEMBLE)))
    if len(models) > 1:
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
