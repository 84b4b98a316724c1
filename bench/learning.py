"""What the learning curves (``bench.curves``) and the annotation study (``bench.annotation``) share.

A shared-task task with its language named on every record (as ``gloss
--language`` does, so that the packaged model reads the language it was
pretrained on), subsets of its training sentences, a deterministic training
length (:class:`TrainingRule`: a fixed number of sentence passes, not a time
budget, so that a point gives the same model at any load on one machine), one
training through :func:`autogloss.sharedtask.neural_trainer`, official dev
scores, and the plumbing of a long resumable run: single-threaded worker
processes and a progress line with an ETA.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from autogloss.calibration import outcomes, reliability
from autogloss.corpus.sources import SHARED_TASK_LANGUAGES
from autogloss.glossing import gloss_records
from autogloss.metrics import evaluate_records
from autogloss.models.base import Glosser
from autogloss.progress import clock, time_left
from autogloss.records import IGTRecord
from autogloss.sharedtask import (SMALL_DATA_EPOCHS, SMALL_DATA_SENTENCES, TaskData, base_model_name, load_task,
                                  neural_trainer, split_validation)

#: The shared task's headline metric of each track (official scorer).
HEADLINE = {1: "word_accuracy", 2: "morpheme_accuracy"}
RESULTS = Path(__file__).parent / "results"


def named_task(data_dir: Path, iso: str, track: int) -> TaskData:
    """:func:`load_task` with the language named on every record (no test inputs: only dev is scored)."""
    task = load_task(data_dir, iso, track)
    language = SHARED_TASK_LANGUAGES[iso].language

    def named(records: list[IGTRecord]) -> list[IGTRecord]:
        return [record.replace(language=language) for record in records]

    return replace(task, train=named(task.train), dev_inputs=named(task.dev_inputs), dev_gold=named(task.dev_gold),
                   test_inputs=[], segmentation_gold=[])


def nested_subset(count: int, size: int, seed: int) -> list[int]:
    """``size`` of ``count`` training sentences drawn with ``seed``, as indices
    in document order: the first ``size`` of one random permutation per seed,
    so that each seed's smaller subsets lie inside its larger ones."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return sorted(order[:size])


def trained_sentences(sentences: int) -> int:
    """How many of ``sentences`` the network trains on: all of a small set,
    else all but the tenth :func:`neural_trainer` holds out for model selection."""
    return sentences if sentences < SMALL_DATA_SENTENCES else len(split_validation(list(range(sentences)))[0])


@dataclass(frozen=True)
class TrainingRule:
    """A deterministic training length: ``passes`` sentence passes (epochs
    times sentences trained on), within ``min_epochs`` and ``max_epochs``,
    so that every size gets about the same number of gradient updates per
    sentence seen, and large sets still see each sentence ``min_epochs`` times."""

    passes: int
    min_epochs: float = 1.0
    max_epochs: float = SMALL_DATA_EPOCHS

    def epochs(self, sentences: int) -> float:
        return round(min(max(self.passes / trained_sentences(sentences), self.min_epochs), self.max_epochs), 2)

    def describe(self) -> str:
        return (f"{self.passes:,} sentence passes (epochs = {self.passes:,} / sentences trained on, between "
                f"{self.min_epochs:g} and {self.max_epochs:g})")

    def to_json(self) -> dict:
        return {"passes": self.passes, "min_epochs": self.min_epochs, "max_epochs": self.max_epochs}


def train(records: list[IGTRecord], rule: TrainingRule, base: Path | None, seed: int, hidden: int = 128,
          description: str = "", memory_threshold: float = 0.0) -> Glosser:
    """The neural glosser trained on ``records`` for ``rule``'s epochs with
    the shared-task recipe: from scratch (``base`` None) or fine-tuned from
    ``base``; ``memory_threshold``: the memory rule of sets too small to hold
    sentences out (:func:`autogloss.sharedtask.neural_trainer`)."""
    trainer = neural_trainer(None, hidden=hidden, base=base, seed=seed, epochs=rule.epochs(len(records)),
                             memory_threshold=memory_threshold)
    return trainer(records, [], description or f"{len(records)} training sentences")


def dev_scores(glosser: Glosser, task: TaskData) -> dict:
    """Official word and morpheme accuracy on the task's dev set, and the ECE of the confidences."""
    outputs = list(gloss_records(task.dev_inputs, glosser))
    found = evaluate_records(task.dev_gold, [output.record for output in outputs], "official", bootstrap_samples=0)
    return {"word_accuracy": found.word_accuracy, "morpheme_accuracy": found.morpheme_accuracy,
            "ece": reliability(*outcomes(task.dev_gold, outputs)).ece}


def pretraining_seen(glosser: Glosser, languages: Iterable[str]) -> dict[str, dict[str, int]]:
    """Sentences of each shared-task language the pretrained model read, segmented and plain."""
    data = glosser.training_data()
    return {iso: {setting: data.sentences(setting, SHARED_TASK_LANGUAGES[iso].language) or 0
                  for setting in ("segmented", "plain")} for iso in languages}


def languages_read(seen: dict[str, dict[str, int]]) -> list[str]:
    """The languages of ``seen`` (:func:`pretraining_seen`) the model read any sentence of."""
    return [iso for iso, found in seen.items() if any(found.values())]


def described_base(path: Path, seen: dict[str, dict[str, int]]) -> str:
    """How the results files name the model the runs start from."""
    if base_model_name(path) == "packaged":
        return "the packaged model"
    return "the pretrained model" if languages_read(seen) else "a model pretrained without the languages studied"


def pretraining_note(seen: dict[str, dict[str, int]], trains: dict[str, int]) -> str:
    """What the results files say of what the pretrained model saw of the languages studied."""
    counts = ", ".join(f"{iso} {seen[iso]['segmented']:,} segmented / {seen[iso]['plain']:,} plain "
                       f"(train file: {trains[iso]:,})" for iso in seen)
    note = f"What the pretrained model read of these languages (its `config.json`, `info.training_data`): {counts}."
    read = languages_read(seen)
    unread = [iso for iso in seen if iso not in read]
    if read:
        note += (f" For {', '.join(read)} it was pretrained on the corpus's train and pretrain splits, which hold "
                 "the shared-task TRAIN files: every training sentence here, segmented, was in pretraining (never "
                 "dev, never test). So a model fine-tuned on a few sentences starts from one that has read all of "
                 "them; for a language new to the model the small-data gains are smaller. The shared task's track 1 "
                 "forbids any segmented form of its data, which this pretraining saw; a model pretrained with "
                 "`autogloss pretrain --without-shared-task-segmentation` keeps to it.")
    if unread:
        note += (f" {', '.join(unread)}: not one sentence (held out of its pretraining, `autogloss pretrain "
                 "--hold-out-language`), so the language is new to it, as a linguist's own language usually is.")
    return note


def pyplot():
    """matplotlib's pyplot, drawing to files (the Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: Path) -> Path:
    """Write ``figure`` as a PNG to ``path`` and close it."""
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot().close(figure)
    return path


def one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def run_jobs(work: Callable, items: list, jobs: int) -> Iterator[tuple[object, object]]:
    """(item, ``work(item)``) as each finishes: in this process, or in ``jobs``
    spawned processes of one torch thread each (two use two cores without slowing each other)."""
    if jobs <= 1:
        one_thread()
        for item in items:
            yield item, work(item)
        return
    import multiprocessing

    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=one_thread) as pool:
        futures = {pool.submit(work, item): item for item in items}
        for future in as_completed(futures):
            yield futures[future], future.result()


def cpu_time(seconds: float) -> str:
    """``3.2 CPU hours`` or ``12 CPU minutes``."""
    return f"{seconds / 3600:.1f} CPU hours" if seconds >= 3600 else f"{seconds / 60:.0f} CPU minutes"


class Eta:
    """Progress over weighted work: done/total, elapsed and time left at the rate so far."""

    def __init__(self, total_weight: float, count: int):
        self.total, self.count = total_weight, count
        self.done, self.finished = 0.0, 0
        self.started = time.monotonic()

    def advance(self, weight: float) -> str:
        self.done += weight
        self.finished += 1
        elapsed = time.monotonic() - self.started
        left = time_left(self.done, self.total, elapsed)
        return (f"{self.finished}/{self.count} done, {clock(elapsed)} elapsed"
                + (f", about {clock(left)} left" if left is not None and self.finished < self.count else ""))
