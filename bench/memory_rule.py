"""When should a model fine-tuned on a linguist's corrections trust its memory?

Reproduces the measurement behind :data:`autogloss.training.UNTUNED_FINETUNE_MEMORY`:
``--sentences`` random training sentences of a shared-task language (track 2)
are glossed by the packaged model and written to a corrections log as the
post-editor writes it (the gold glosses stand in for the linguist, the
packaged model's wrong glosses counted as changed); the model is learnt from
the log exactly as the post-editor's "learn from my corrections" learns it
(:func:`autogloss.learning.learn_from_corrections`, 10 epochs); the learnt
model is then scored on dev (official scorer) with its memory answering for
every seen form (threshold 0, the rule before), only for forms glossed one way
throughout the corrections (1.0, the rule now) and never (off). The memory
does not take part in training, so one learnt model gives all three.

    python -m bench.memory_rule --out bench/results

Writes ``memory-rule.json`` and ``memory-rule.md``.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from autogloss.corrections import CorrectionsLog
from autogloss.datapath import find_data_dir
from autogloss.fileio import atomic_write
from autogloss.glossing import gloss_records
from autogloss.learning import LearningJob, learn_from_corrections
from autogloss.models.loading import load_model
from autogloss.records import word_morphemes, words
from autogloss.sharedtask import covered_inputs

from .learning import RESULTS, dev_scores, named_task
from .machine import machine_description, today

#: (language, seed) of each run; track 2.
RUNS = (("ddo", 0), ("ddo", 1), ("lez", 0), ("ntu", 0))
#: The memory thresholds scored (None: memory off).
THRESHOLDS = {"every seen form (0)": 0.0, "glossed one way (1.0)": 1.0, "off": None}


def changed(gold, output) -> list[tuple[int, int, str, str]]:
    """The morpheme glosses of ``output`` the linguist (the gold) changes, as the post-editor logs them."""
    edits = []
    for w, (gold_word, guess_word) in enumerate(zip(gold.gloss_words, words(output.record.glosses))):
        guesses = word_morphemes(guess_word)
        for m, expected in enumerate(word_morphemes(gold_word)):
            guess = guesses[m] if m < len(guesses) else ""
            if guess != expected:
                edits.append((w + 1, m + 1, guess, expected))
    return edits


def run(iso: str, seed: int, sentences: int, data_dir: Path, work: Path) -> dict:
    task = named_task(data_dir, iso, 2)
    picked = sorted(random.Random(seed).sample(range(len(task.train)), sentences))
    gold = [task.train[i] for i in picked]
    base = load_model(None)
    log = CorrectionsLog(work / f"{iso}-{seed}.jsonl")
    effort = 0
    for record, output in zip(gold, gloss_records(covered_inputs(gold, 2), base)):
        edits = changed(record, output)
        effort += len(edits)
        log.append(record, "study", edits)
    learnt = learn_from_corrections(LearningJob(log.path, None, "packaged", work / f"{iso}-{seed}-model"))
    scores = {"packaged model alone": dev_scores(base, task)["morpheme_accuracy"]}
    for name, threshold in THRESHOLDS.items():
        learnt.memory_thresholds = {} if threshold is None else {"morphemes": threshold, "words": threshold}
        scores[name] = dev_scores(learnt, task)["morpheme_accuracy"]
    print(f"{iso} seed {seed}: {scores}", flush=True)
    return {"language": iso, "seed": seed, "sentences": sentences, "changed_glosses": effort, "scores": scores}


def table(rows: list[dict], meta: dict) -> str:
    names = list(rows[0]["scores"])
    lines = ["# The memory of a model learnt from corrections", "",
             f"{meta['date']}, {meta['machine']}. Command: `{meta['command']}`"
             + (f" ({meta['minutes']:.1f} min, one torch thread)." if "minutes" in meta else "."), "",
             f"{rows[0]['sentences']} random training sentences per run (the shared-task train file, track 2), "
             "glossed by the packaged model and corrected to gold, then learnt as the post-editor learns them "
             "(10 epochs, every label kept); dev morpheme accuracy, official scorer; test never used. "
             "*glosses changed*: the packaged model's morpheme glosses the simulated linguist corrected. "
             "The memory answers for a form seen in the corrections when the share of its commonest gloss is at "
             "least the threshold: 0, every seen form (the rule before); 1.0, forms glossed one way throughout "
             "(the rule shipped, `autogloss.training.UNTUNED_FINETUNE_MEMORY`); off, never.", "",
             "| language | seed | glosses changed | " + " | ".join(names) + " |",
             "|---|---|---|" + "---|" * len(names)]
    for row in rows:
        lines.append(f"| {row['language']} | {row['seed']} | {row['changed_glosses']} | "
                     + " | ".join(f"{row['scores'][name]:.2f}" for name in names) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--sentences", type=int, default=40)
    args = parser.parse_args(argv)
    data_dir = find_data_dir(args.data_dir)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as work:
        rows = [run(iso, seed, args.sentences, data_dir, Path(work)) for iso, seed in RUNS]
    meta = {"date": today(), "machine": machine_description(),
            "command": f"python -m bench.memory_rule --sentences {args.sentences}",
            "minutes": round((time.monotonic() - started) / 60, 1)}
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out / "memory-rule.json") as handle:
        handle.write(json.dumps({**meta, "runs": rows}, indent=1) + "\n")
    with atomic_write(args.out / "memory-rule.md") as handle:
        handle.write(table(rows, meta))


if __name__ == "__main__":
    main()
