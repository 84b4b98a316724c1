"""A simulated annotation study: what a linguist's corrections cost, and what to correct first.

    python -m bench.annotation --jobs 2                      # ddo ntu lez, both tracks, seed sets 0 and 25
    python -m bench.annotation --language lez --track 2 --seed-size 25 --rounds 2 --batch 10   # a small slice

A linguist starts from the packaged model and a seed set of their language
(``--seed-size``: 0 or 25 sentences drawn at random from the training file,
glossed before the study; the packaged model is first fine-tuned on it). The
rest of the training file is the unglossed pool. Each round the current
model glosses the next ``--batch`` sentences of the pool in the order
studied, the linguist corrects them (the gold glosses stand in for their
corrections), the model is fine-tuned from where it is on every sentence
corrected so far (and the seed set) for a fixed length (:data:`RULE`), its
memory trusted as a fine-tune of a linguist's corrections trusts it
(``--memory-threshold``, by default the post-editor's rule:
:data:`autogloss.training.UNTUNED_FINETUNE_MEMORY`), and dev is scored with
the official scorer. ``--pretrained`` is the model the linguist starts from:
the packaged one, or one pretrained without the languages studied
(``autogloss pretrain --hold-out-language``), to which the language is new. The orders (:data:`ORDERINGS`):
``least-confident`` (the pool glossed by the current model and ordered by
:func:`autogloss.worklist.least_confident_first`, the ordering the
post-editor and ``autogloss gloss --order least-confident`` use),
``random`` (one shuffle of the pool) and ``document`` (the file's order).

The linguist's effort is the number of morpheme glosses they had to change:
per word, the gold morphemes (split as the official scorer splits them, at
spaces and hyphens) the model's gloss did not have at their place (a missing
or unknown gloss counts as changed). The seed set's glosses are not counted.
Each run's state (its rounds and its current model) is kept under
``--work`` after every round, so an interrupted study started again goes on
from its last finished round. Writes ``annotation.json``, ``annotation.md``
(effort against accuracy, and the effort to reach 70% and 80% of the
full-data score of ``neural-pretrained-results.json``) and
``annotation-{iso}.png`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from autogloss.corpus.sources import SHARED_TASK_LANGUAGES
from autogloss.datapath import find_data_dir
from autogloss.fileio import atomic_write
from autogloss.glossing import gloss_records
from autogloss.metrics import morpheme_tokens, word_tokens
from autogloss.models.base import Glosser
from autogloss.models.loading import DEFAULT_MODEL_DIR, load_model
from autogloss.records import UNKNOWN_GLOSS, GlossedRecord, IGTRecord
from autogloss.sharedtask import TRACKS, base_model_name, covered_inputs
from autogloss.training import UNTUNED_FINETUNE_MEMORY
from autogloss.worklist import least_confident_first

from .learning import (HEADLINE, RESULTS, Eta, TrainingRule, cpu_time, described_base, dev_scores, named_task,
                       nested_subset, pretraining_note, pretraining_seen, pyplot, run_jobs, save_figure, train)
from .machine import machine_description, today

LANGUAGES = ("ddo", "ntu", "lez")
ORDERINGS = ("least-confident", "random", "document")
SEED_SIZES = (0, 25)
BATCH = 25
ROUNDS = 10
#: Each round fine-tunes for 1,000 sentence passes over what is corrected so
#: far: 40 epochs of the first 25 sentences, 4 of 250; a short update, as a
#: linguist waiting between batches would run, not a full training.
RULE = TrainingRule(passes=1000, max_epochs=100)
#: Shares of the full-data score whose reach the study reports.
SHARES = (0.7, 0.8)
FULL_DATA = RESULTS / "neural-pretrained-results.json"


@dataclass(frozen=True)
class Run:
    """One simulated linguist: a language, track, seed-set size and ordering."""

    iso: str
    track: int
    seed_size: int
    ordering: str

    @property
    def key(self) -> str:
        return f"{self.iso}-track{self.track}-seed{self.seed_size}-{self.ordering}"


@dataclass(frozen=True)
class Study:
    """What every run shares: batch size, rounds, training length, the model it
    starts from, the seed, and the memory rule of its fine-tunes."""

    batch: int
    rounds: int
    rule: TrainingRule
    base: Path
    seed: int = 0
    memory_threshold: float = UNTUNED_FINETUNE_MEMORY

    def to_json(self) -> dict:
        return {"batch": self.batch, "rounds": self.rounds, "rule": self.rule.to_json(),
                "base": base_model_name(self.base), "seed": self.seed, "memory_threshold": self.memory_threshold}


def changed_glosses(gold: IGTRecord, predicted: IGTRecord) -> int:
    """The morpheme glosses a linguist changes to turn ``predicted`` into
    ``gold``: per word, each gold morpheme the prediction lacks at its place."""
    guessed = word_tokens(predicted.glosses or "")
    changed = 0
    for index, word in enumerate(word_tokens(gold.glosses or "")):
        wanted = morpheme_tokens(word)
        given = morpheme_tokens(guessed[index]) if index < len(guessed) else []
        changed += len(wanted) - sum(1 for g, w in zip(given, wanted) if g == w and g != UNKNOWN_GLOSS)
    return changed


def pick(ordering: str, pool: list[int], batch: int, inputs: list[IGTRecord], glosser: Glosser,
         shuffled: list[int]) -> tuple[list[int], list[GlossedRecord]]:
    """The next ``batch`` sentences of ``pool`` (indices into ``inputs``) in
    ``ordering``, with the current model's glosses of them. Only
    ``least-confident`` glosses the whole pool; ``shuffled`` is the random order."""
    if ordering == "least-confident":
        outputs = list(gloss_records([inputs[i] for i in pool], glosser))
        chosen = least_confident_first(outputs)[:batch]
        return [pool[i] for i in chosen], [outputs[i] for i in chosen]
    if ordering == "random":
        waiting = set(pool)
        picked = [i for i in shuffled if i in waiting][:batch]
    elif ordering == "document":
        picked = pool[:batch]
    else:
        raise ValueError(f"unknown ordering {ordering!r} (choose {', '.join(ORDERINGS)})")
    return picked, list(gloss_records([inputs[i] for i in picked], glosser))


def reach(rounds: list[dict], metric: str, target: float) -> int | None:
    """The corrected glosses after which dev ``metric`` first reaches ``target`` (None: not within the rounds run)."""
    for found in rounds:
        if found[metric] >= target:
            return found["cumulative_effort"]
    return None


def _save(glosser: Glosser, folder: Path, round_: int) -> str:
    glosser.save_pretrained(folder / f"round-{round_}")
    return f"round-{round_}"


def _write_state(folder: Path, state: dict) -> None:
    with atomic_write(folder / "state.json") as handle:
        json.dump(state, handle, indent=1)


def run_study(run: Run, data_dir: Path, study: Study, work: Path) -> dict:
    """Run (or go on with) one simulated linguist; returns its state (settings, seed set, rounds)."""
    folder = work / run.key
    path = folder / "state.json"
    state = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    if state is not None and state["settings"] != study.to_json():
        state = None  # another study's run: start again
        shutil.rmtree(folder)
    if state is not None and (len(state["rounds"]) > study.rounds
                              or len(state["rounds"][-1]["picked"]) < study.batch and len(state["rounds"]) > 1):
        return state  # finished (all its rounds, or the pool ran out)
    folder.mkdir(parents=True, exist_ok=True)
    task = named_task(data_dir, run.iso, run.track)
    inputs = covered_inputs(task.train, run.track)
    label = f"[{run.key}]"
    started = time.monotonic()
    if state is None:
        cpu = time.process_time()
        seed_set = nested_subset(len(task.train), run.seed_size, study.seed)
        if seed_set:
            glosser = train([task.train[i] for i in seed_set], study.rule, study.base, study.seed,
                            description=f"{run.seed_size} seed sentences of {run.iso} track {run.track}",
                            memory_threshold=study.memory_threshold)
            model = _save(glosser, folder, 0)
        else:
            glosser, model = load_model(study.base), None
        state = {"settings": study.to_json(), "run": asdict(run), "seed_set": seed_set, "model": model,
                 "rounds": [{"round": 0, "labelled": len(seed_set), "picked": [], "effort": 0, "checked": 0,
                             "cumulative_effort": 0, **dev_scores(glosser, task),
                             "cpu_seconds": round(time.process_time() - cpu, 1)}]}
        _write_state(folder, state)
        print(f"{label} round 0 ({len(seed_set)} seed sentences): {_scores(state['rounds'][-1])}", flush=True)
    else:
        glosser = load_model(folder / state["model"] if state["model"] else study.base)
    labelled = set(state["seed_set"]) | {i for found in state["rounds"] for i in found["picked"]}
    shuffled = list(range(len(inputs)))
    random.Random(study.seed).shuffle(shuffled)
    begun = len(state["rounds"])
    while len(state["rounds"]) <= study.rounds:
        pool = [i for i in range(len(inputs)) if i not in labelled]
        if not pool:
            break
        cpu = time.process_time()
        picked, outputs = pick(run.ordering, pool, study.batch, inputs, glosser, shuffled)
        effort = sum(changed_glosses(task.train[i], output.record) for i, output in zip(picked, outputs))
        checked = sum(len(morpheme_tokens(task.train[i].glosses or "")) for i in picked)
        labelled.update(picked)
        round_ = len(state["rounds"])
        base = folder / state["model"] if state["model"] else study.base
        glosser = train([task.train[i] for i in sorted(labelled)], study.rule, base, study.seed,
                        description=f"{len(labelled)} corrected sentences of {run.iso} track {run.track}",
                        memory_threshold=study.memory_threshold)
        previous, state["model"] = state["model"], _save(glosser, folder, round_)
        state["rounds"].append({"round": round_, "labelled": len(labelled), "picked": picked, "effort": effort,
                                "checked": checked, "cumulative_effort": state["rounds"][-1]["cumulative_effort"] + effort,
                                **dev_scores(glosser, task), "cpu_seconds": round(time.process_time() - cpu, 1)})
        _write_state(folder, state)
        if previous:
            shutil.rmtree(folder / previous, ignore_errors=True)
        done = len(state["rounds"]) - begun
        left = (time.monotonic() - started) / done * (study.rounds + 1 - len(state["rounds"]))
        print(f"{label} round {round_}/{study.rounds}: {effort} of {checked} glosses changed, "
              f"{_scores(state['rounds'][-1])}; run about {left / 60:.0f} min left", flush=True)
    return state


def _scores(found: dict) -> str:
    return f"dev word {found['word_accuracy']:.1f}, morpheme {found['morpheme_accuracy']:.1f}"


def full_scores(path: Path) -> dict[tuple[str, int], dict]:
    """The full-data dev scores (official) per task, from a ``bench.sigmorphon`` results file."""
    if not path.is_file():
        sys.exit(f"{path}: missing (the full-data scores; run python -m bench.sigmorphon --model neural-pretrained)")
    return {(row["language"], row["track"]): row["official"] for row in json.loads(path.read_text(encoding="utf-8"))}


def reach_rows(states: dict[str, dict], full: dict[tuple[str, int], dict]) -> list[dict]:
    """Per run: the full-data headline score and the effort to reach each of :data:`SHARES` of it."""
    rows = []
    for state in states.values():
        run = Run(**state["run"])
        metric = HEADLINE[run.track]
        target = full[run.iso, run.track][metric]
        rows.append({**asdict(run), "metric": metric, "full": target,
                     "reach": {f"{share:.0%}": reach(state["rounds"], metric, share * target) for share in SHARES}})
    return rows


def table(states: dict[str, dict], full: dict[tuple[str, int], dict], meta: dict) -> str:
    reached = {tuple(row[k] for k in ("iso", "track", "seed_size", "ordering")): row for row in reach_rows(states, full)}
    lines = ["# Simulated annotation study: corrections against dev accuracy", "",
             f"Run {meta['date']} on {meta['machine']}; command `{meta['command']}`, one torch thread per process, "
             f"{cpu_time(meta['cpu_seconds'])}" + (" (some rounds by earlier, interrupted runs of the same command)"
                                                      if meta.get("resumed") else "") + ".",
             "",
             f"From {meta.get('base_described', 'the packaged model')} (`{meta['settings']['base']}`) and a random "
             "seed set of 0 or 25 training "
             f"sentences (fine-tuned on first), each round the model glosses the next {meta['settings']['batch']} "
             "sentences of the rest of the training file in the order studied, the simulated linguist corrects "
             "them (gold glosses), the model is fine-tuned from where it is on everything corrected so far for "
             f"{meta['rule']}, {_memory_rule(meta['settings'].get('memory_threshold', 0.0))}, and dev is scored "
             "(official scorer). *Effort*: the morpheme glosses the linguist had "
             "to change (per word, the gold morphemes the suggestion lacked at their place; the seed set is not "
             "counted). Orders: `least-confident` (the pool glossed by the current model, ordered by "
             f"`autogloss.worklist.least_confident_first`: lowest morpheme confidence first), `random`, `document`. "
             f"*Full-data score*: the model fine-tuned on the whole training file, from `{meta['full_data']}` "
             "(the 10-minute benchmark); *reach 70% / 80%*: corrected glosses after which dev first scores that "
             "share of it (`0`: the starting model already does; `-`: not within the rounds run).",
             "", meta["pretraining"], "",
             "## Effort to reach 70% and 80% of the full-data score", "",
             "| lang | track | metric | full-data score | seed set | ordering | reach 70% | reach 80% | effort in all "
             "| sentences corrected | final score |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, state in sorted(states.items(), key=lambda item: _run_order(item[1]["run"])):
        run = Run(**state["run"])
        row, last = reached[run.iso, run.track, run.seed_size, run.ordering], state["rounds"][-1]
        cells = ["-" if row["reach"][share] is None else f"{row['reach'][share]:,}" for share in ("70%", "80%")]
        lines.append(f"| {run.iso} | {run.track} | {row['metric'].replace('_', ' ')} | {row['full']:.1f} "
                     f"| {run.seed_size} | {run.ordering} | {cells[0]} | {cells[1]} | {last['cumulative_effort']:,} "
                     f"| {last['labelled'] - len(state['seed_set'])} | {last[row['metric']]:.1f} |")
    lines += ["", "## Effort against accuracy, round by round", "",
              "Cumulative glosses changed → dev word / morpheme accuracy after the round's fine-tuning.", ""]
    groups: dict[tuple, dict[str, dict]] = {}
    for state in states.values():
        run = Run(**state["run"])
        groups.setdefault((run.iso, run.track, run.seed_size), {})[run.ordering] = state
    for (iso, track, seed_size), runs in sorted(groups.items(), key=lambda item: _run_order(dict(
            iso=item[0][0], track=item[0][1], seed_size=item[0][2], ordering=ORDERINGS[0]))):
        orderings = [ordering for ordering in ORDERINGS if ordering in runs]
        lines += [f"### {SHARED_TASK_LANGUAGES[iso].folder} ({iso}), track {track}, seed set {seed_size}", "",
                  "| round | " + " | ".join(orderings) + " |", "|---|" + "---|" * len(orderings)]
        for index in range(max(len(runs[o]["rounds"]) for o in orderings)):
            cells = []
            for ordering in orderings:
                rounds = runs[ordering]["rounds"]
                found = rounds[index] if index < len(rounds) else None
                cells.append("" if found is None else f"{found['cumulative_effort']:,} → {found['word_accuracy']:.1f} "
                                                      f"/ {found['morpheme_accuracy']:.1f}")
            lines.append(f"| {index} | " + " | ".join(cells) + " |")
        lines.append("")
    for iso in dict.fromkeys(state["run"]["iso"] for state in states.values()):
        lines += [f"![{SHARED_TASK_LANGUAGES[iso].folder}: effort against accuracy](annotation-{iso}.png)", ""]
    return "\n".join(lines)


def _memory_rule(threshold: float) -> str:
    """How the results files name the fine-tunes' memory rule (below 200 sentences; above, dev tunes it)."""
    if threshold >= 1.0:
        return ("its memory of the corrections answering only for forms glossed one way throughout them (the "
                "post-editor's rule, `autogloss.training.UNTUNED_FINETUNE_MEMORY`; from 200 sentences on, tuned "
                "on the held-out tenth)")
    if threshold <= 0.0:
        return ("its memory answering for every form seen in the corrections (the shared-task recipe's rule for "
                "sets under 200 sentences)")
    return f"its memory answering for a form when its commonest gloss has a share of at least {threshold:g}"


def _run_order(run: dict) -> tuple:
    iso_order = {iso: index for index, iso in enumerate(LANGUAGES)}
    return (iso_order.get(run["iso"], len(iso_order)), run["iso"], run["track"], run["seed_size"],
            ORDERINGS.index(run["ordering"]))


def plot(states: dict[str, dict], full: dict[tuple[str, int], dict], iso: str, path: Path) -> Path:
    """Effort against the headline dev score, one panel per track and seed set, a line per ordering,
    with the 70% and 80% marks of the full-data score."""
    plt = pyplot()
    mine = [state for state in states.values() if state["run"]["iso"] == iso]
    panels = sorted({(state["run"]["track"], state["run"]["seed_size"]) for state in mine})
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4), squeeze=False)
    for axis, (track, seed_size) in zip(axes[0], panels):
        metric = HEADLINE[track]
        for ordering, marker in zip(ORDERINGS, "o^s"):
            for state in mine:
                if (state["run"]["track"], state["run"]["seed_size"], state["run"]["ordering"]) == (track, seed_size, ordering):
                    rounds = state["rounds"]
                    axis.plot([r["cumulative_effort"] for r in rounds], [r[metric] for r in rounds], marker=marker,
                              label=ordering)
        for share, style in zip(SHARES, (":", "--")):
            axis.axhline(share * full[iso, track][metric], color="grey", linestyle=style, label=f"{share:.0%} of full data")
        axis.set(xlabel="morpheme glosses corrected", ylabel=f"dev {metric.replace('_', ' ')} (%)",
                 title=f"track {track}, seed set {seed_size}")
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right", fontsize="small")
    figure.suptitle(f"{SHARED_TASK_LANGUAGES[iso].folder} ({iso}): simulated annotation")
    return save_figure(figure, path)


def write_results(out: Path, states: dict[str, dict], full: dict[tuple[str, int], dict], meta: dict) -> None:
    meta = {**meta, "date": today(),
            "cpu_seconds": round(sum(r["cpu_seconds"] for state in states.values() for r in state["rounds"]), 1)}
    with atomic_write(out / "annotation.json") as handle:
        json.dump({**meta, "reach": reach_rows(states, full), "runs": dict(sorted(states.items()))}, handle, indent=1)
    with atomic_write(out / "annotation.md") as handle:
        handle.write(table(states, full, meta))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", action="append", choices=sorted(SHARED_TASK_LANGUAGES),
                        help=f"only these languages (repeatable; default {' '.join(LANGUAGES)})")
    parser.add_argument("--track", type=int, action="append", choices=TRACKS, help="only this track (repeatable)")
    parser.add_argument("--seed-size", type=int, action="append", help="seed-set sizes (repeatable; default 0 and 25)")
    parser.add_argument("--ordering", action="append", choices=ORDERINGS, help="only this ordering (repeatable)")
    parser.add_argument("--batch", type=int, default=BATCH, help="sentences corrected per round")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds of correction and fine-tuning per run")
    parser.add_argument("--passes", type=int, default=RULE.passes, help="sentence passes of each round's fine-tuning")
    parser.add_argument("--seed", type=int, default=0, help="draws the seed set, the random order and the training")
    parser.add_argument("--memory-threshold", type=float, default=UNTUNED_FINETUNE_MEMORY,
                        help="the fine-tunes' memory answers for a form when its commonest gloss has at least this "
                             "share (default 1.0, the post-editor's rule; 0: every seen form, the shared-task recipe's)")
    parser.add_argument("--pretrained", type=Path, default=DEFAULT_MODEL_DIR, help="the model the linguist starts from")
    parser.add_argument("--full-data", type=Path, default=FULL_DATA,
                        help="results JSON with the full-data dev scores (bench.sigmorphon's)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time, each in its own one-thread process")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of annotation.json, .md and the plots")
    parser.add_argument("--work", type=Path, default=None,
                        help="where each run keeps its state and current model (default: OUT/.annotation-work)")
    args = parser.parse_args(argv)
    if min(args.batch, args.rounds, args.passes, args.jobs) < 1 or any(size < 0 for size in args.seed_size or ()):
        parser.error("--batch, --rounds, --passes and --jobs must be at least 1, --seed-size at least 0")
    data_dir = find_data_dir(args.data_dir)
    full = full_scores(args.full_data)
    runs = [Run(iso, track, size, ordering) for iso in args.language or LANGUAGES
            for track in sorted(set(args.track or TRACKS)) for size in sorted(set(args.seed_size or SEED_SIZES))
            for ordering in ORDERINGS if ordering in (args.ordering or ORDERINGS)]
    missing = sorted({f"{run.iso} track {run.track}" for run in runs if (run.iso, run.track) not in full})
    if missing:
        sys.exit(f"{args.full_data}: no full-data score of {', '.join(missing)}")
    study = Study(args.batch, args.rounds, TrainingRule(passes=args.passes, max_epochs=RULE.max_epochs),
                  args.pretrained, args.seed, args.memory_threshold)
    work = args.work or args.out / ".annotation-work"
    languages = tuple(dict.fromkeys(run.iso for run in runs))
    trains = {iso: len(named_task(data_dir, iso, 2).train) for iso in languages}
    command = " ".join(["python -m bench.annotation", *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    seen = pretraining_seen(load_model(args.pretrained), languages)
    meta = {"command": command, "machine": machine_description(), "settings": study.to_json(),
            "rule": study.rule.describe(), "full_data": str(args.full_data.name),
            "resumed": any((work / run.key / "state.json").is_file() for run in runs),
            "pretraining": pretraining_note(seen, trains), "base_described": described_base(args.pretrained, seen)}
    earlier = args.out / "annotation.json"
    states = json.loads(earlier.read_text(encoding="utf-8"))["runs"] if earlier.is_file() else {}
    states = {key: state for key, state in states.items() if state["settings"] == study.to_json()}
    print(f"{len(runs)} runs of {args.rounds} rounds, {args.jobs} at a time", flush=True)
    eta = Eta(len(runs), len(runs))
    for run, state in run_jobs(partial(run_study, data_dir=data_dir, study=study, work=work), runs, args.jobs):
        states[run.key] = state
        write_results(args.out, states, full, meta)
        print(f"{run.key} finished: {state['rounds'][-1]['cumulative_effort']:,} glosses corrected; "
              f"{eta.advance(1)}", flush=True)
    for iso in languages:
        print(f"plot: {plot(states, full, iso, args.out / f'annotation-{iso}.png')}")
    print(f"written to {args.out / 'annotation.md'}")


if __name__ == "__main__":
    main()
