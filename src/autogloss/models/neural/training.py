"""Training the neural glosser: batches, early stopping, checkpoints that resume.

A run saves a checkpoint (weights, optimiser, progress within the epoch,
best state so far) after every epoch and every few minutes inside long
epochs, atomically; started again with the same output directory it resumes
from there. The best model by dev score is what is kept.

Started by ``torchrun``, the loop runs in every process with
:class:`~torch.nn.parallel.DistributedDataParallel` over gloo (the network
trains on the CPU): each process takes its share of every epoch's batches
(:func:`~autogloss.models.distributed.share_of`, the order fixed by seed and
epoch, so a step of N processes trains on N batches); the first process alone
scores dev, checkpoints, tunes the memory, calibrates and saves, and its
decisions (stop, checkpoint, the epochs planned) are every process's.
"""

from __future__ import annotations

import copy
import json
import math
import random
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from ...errors import AutoglossError, ModelError
from ...fileio import atomic_directory
from ...metrics import evaluate_records
from ...progress import Budget, Progress, clock, say, task
from ...records import IGTRecord
from .. import distributed
from ..base import TrainingData, checkpoint_dir, data_fingerprint, refuse_other_sentences, source_files
from .data import Example, collate
from .glosser import NeuralGlosser
from .network import segmented_loss, word_loss, word_teacher_inputs



@dataclass
class TrainingSettings:
    epochs: int = 60
    batch_size: int = 16
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    patience: int = 8
    max_minutes: float | None = None
    seed: int = 0
    clip: float = 1.0
    min_epochs: int = 3
    evaluate_every: int = 1
    warmup: float = 0.0       # share of the planned steps spent warming the learning rate up
    decay_start: float = 0.6  # share of the planned steps after which it decays
    final_lr_share: float = 0.05
    checkpoint_minutes: float = 10.0  # within an epoch, save a checkpoint this often
    # at an epoch's end, save a checkpoint when this long has passed since the last (0: after every epoch);
    # a model fine-tuned for 150 short epochs of a few sentences spent a third of its time saving them
    epoch_checkpoint_seconds: float = 30.0
    # fine-tuning with a dev set: score the starting model on dev first, as "epoch 0", and keep it when no
    # epoch beats it (a few sentences can teach a good base model worse glosses than it had)
    keep_start_if_better: bool = False


def learning_rate_factor(progress: float, settings: TrainingSettings) -> float:
    """Short linear warm-up, a constant peak, then cosine decay to ``final_lr_share``."""
    if progress < settings.warmup:
        return max(progress / settings.warmup, 0.05)  # only reached when warmup > 0
    if progress < settings.decay_start:
        return 1.0
    remaining = min((progress - settings.decay_start) / max(1 - settings.decay_start, 1e-9), 1.0)
    return settings.final_lr_share + (1 - settings.final_lr_share) * 0.5 * (1 + math.cos(math.pi * remaining))


def batches(examples: list[Example], size: int, rng: random.Random) -> list[list[Example]]:
    """Batches of one setting each and of similar length, in random order."""
    batched = []
    for mode in sorted({e.mode for e in examples}):
        chosen = sorted((e for e in examples if e.mode == mode), key=lambda e: len(e.chars) + rng.random() * 8)
        batched += [chosen[i:i + size] for i in range(0, len(chosen), size)]
    rng.shuffle(batched)
    return batched


def batch_loss(glosser: NeuralGlosser, examples: list[Example], network: torch.nn.Module | None = None) -> torch.Tensor:
    """The loss of one batch, through ``network`` (default: the glosser's own;
    in distributed training its :class:`DistributedDataParallel` wrapper)."""
    network = network or glosser.network
    batch = collate(examples)
    if batch.mode == "segmented":
        return segmented_loss(network(batch), batch)
    teacher = word_teacher_inputs(batch, len(glosser.vocabs.labels))
    return word_loss(network(batch, teacher), batch)


#: What the scores of an epoch line are: the network as it is during training,
#: with the memory of training glosses switched off (its thresholds are tuned
#: on dev only after training), so they differ from the final ones.
EPOCH_SCORES = "dev (network alone, memory off)"
#: What the final scores are: the kept epoch, memory thresholds tuned on dev.
FINAL_SCORES = "dev (best epoch, memory thresholds tuned on this dev set)"
#: Seconds kept in hand at the end of a time budget: the model card, the
#: checkpoint's removal, the command's own last lines and the interpreter's
#: exit with torch loaded (2-6 s on a busy 2-core machine).
END_MARGIN_SECONDS = 5.0
#: Dev sentences glossed before training to estimate a dev scoring's cost
#: (enough that the cost of a call, beside that of a sentence, weighs little).
COST_SAMPLE = 64


def dev_score(glosser: NeuralGlosser, dev: list[IGTRecord]) -> dict[str, float]:
    """Official word and morpheme accuracy on dev, and their mean (the selection score)."""
    inputs = [r.replace(glosses="") for r in dev]
    result = evaluate_records(dev, list(glosser.gloss(inputs)), "official", bootstrap_samples=0)
    return {"word_accuracy": result.word_accuracy, "morpheme_accuracy": result.morpheme_accuracy,
            "score": (result.word_accuracy + result.morpheme_accuracy) / 2}


MEMORY_THRESHOLDS = (None, 1.0, 0.9, 0.75, 0.5, 0.0)
#: Dev scorings after the training loop: the memory's thresholds per setting
#: (:func:`tune_memory`, each over its share of dev) and the final score.
SCORINGS_AFTER_TRAINING = len(MEMORY_THRESHOLDS) + 1


def tune_memory(glosser: NeuralGlosser, dev: list[IGTRecord]) -> dict[str, float | None]:
    """For each setting in dev, choose by dev score when a memorised gloss
    replaces the network's: never (None) or when its training frequency share
    is at least the threshold."""
    from .data import record_mode

    chosen: dict[str, float | None] = {}
    for mode, table in (("segmented", "morphemes"), ("words", "words")):
        part = [r for r in dev if record_mode(r) == mode]
        if not part or glosser.memory is None:
            continue
        scores = []
        for threshold in MEMORY_THRESHOLDS:
            glosser.memory_thresholds[table] = threshold
            scores.append((dev_score(glosser, part)["score"], threshold))
        best = max(scores, key=lambda pair: pair[0])
        glosser.memory_thresholds[table] = chosen[table] = best[1]
    return chosen


def scoring_cost(glosser: NeuralGlosser, records: list[IGTRecord], sample: int = COST_SAMPLE) -> float:
    """Seconds glossing and scoring one sentence takes, estimated on a few of ``records``."""
    if not records:
        return 0.0
    chosen = records[:: max(len(records) // sample, 1)][:sample]
    dev_score(glosser, chosen[:16])  # the first calls load what glossing needs once (the lexicon's lemmatiser)
    started = time.perf_counter()
    dev_score(glosser, chosen)
    return (time.perf_counter() - started) / len(chosen)


def _save_checkpoint(directory: Path, glosser: NeuralGlosser, optimiser, state: dict) -> None:
    with atomic_directory(directory) as staging:
        torch.save({"network": glosser.network.state_dict(), "optimiser": optimiser.state_dict(),
                    "network_config": asdict(glosser.network.config), "vocabs": glosser.vocabs.to_json(),
                    "best_network": state.pop("best_network", None)}, staging / "state.pt")
        (staging / "progress.json").write_text(json.dumps(state, indent=2), encoding="utf-8")


def _epoch_batches(examples: list[Example], settings: TrainingSettings, epoch: int) -> list[list[Example]]:
    """The batches of one epoch, in an order fixed by seed and epoch, so a run
    resumed in the middle of an epoch sees the same batches as one never stopped."""
    return batches(examples, settings.batch_size, random.Random(settings.seed * 100_003 + epoch))


def _format_record(record: dict) -> str:
    return " ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items())


class _Run:
    """The mutable progress of one training run; ``state`` is what a checkpoint stores."""

    def __init__(self, glosser: NeuralGlosser, optimiser, checkpoint: Path, settings: TrainingSettings,
                 progress: Progress | None, budget: Budget, sentences_after: int = 0, data: dict | None = None):
        self.glosser, self.optimiser, self.checkpoint = glosser, optimiser, checkpoint
        self.settings, self.progress, self.budget = settings, progress, budget
        self.sentences_after = sentences_after  # sentences glossed after the loop (the last epoch's dev among them)
        self.step_seconds, self.steps = 0.0, 0  # training steps run by this process, and their time
        self.state = {"epoch": 0, "step": 0, "epoch_loss": 0.0, "epoch_steps": 0, "best_score": -1.0,
                      "best_epoch": 0, "history": [], "seconds": 0.0, "planned_epochs": float(settings.epochs),
                      "data": data or {}}
        self.best_network = None
        self.parallel: torch.nn.Module | None = None  # the network's DistributedDataParallel wrapper under torchrun
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()  # CPU time: what a busy machine does not inflate
        self.last_saved = time.perf_counter()

    def resume(self) -> None:
        if not (self.checkpoint / "state.pt").is_file():
            return
        stale = ModelError(f"{self.checkpoint}: the checkpoint of an earlier run on other data or settings "
                           f"(its vocabularies or network differ from this run's); rerun with --restart "
                           f"to discard it and train afresh")
        try:
            saved = torch.load(self.checkpoint / "state.pt", weights_only=False)
            state = json.loads((self.checkpoint / "progress.json").read_text(encoding="utf-8"))
        except Exception as error:  # unpickling fails in many ways; none is recoverable
            raise ModelError(f"{self.checkpoint}: unreadable checkpoint ({type(error).__name__}: {error}); "
                             f"rerun with --restart to discard it and train afresh") from None
        if (saved.get("vocabs") != self.glosser.vocabs.to_json()
                or saved.get("network_config") != asdict(self.glosser.network.config)):
            raise stale
        # Another dev set would make the kept best a choice by other sentences, and none would keep
        # a stale best over the last.
        refuse_other_sentences(self.checkpoint, state.get("data"), self.state["data"])
        try:
            self.glosser.network.load_state_dict(saved["network"])
            self.optimiser.load_state_dict(saved["optimiser"])
        except (RuntimeError, ValueError, KeyError):  # a size mismatch
            raise stale from None
        state["data"] = self.state["data"]
        self.best_network = saved.get("best_network")
        # a run resumed in another number of processes goes on from the same share of its epoch
        state["step"] = round(state["step"] * state.get("processes", 1) / distributed.world_size())
        self.state = state
        self.started = time.perf_counter() - self.state["seconds"]
        self.cpu_started = time.process_time() - self.state.get("cpu_seconds", 0.0)
        self.budget.spent_before += self.state["seconds"]  # the budget spans the runs
        if self.progress:
            where = f" step {self.state['step']}" if self.state["step"] else ""
            self.progress(f"resumed from epoch {self.state['epoch']}{where}")

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def cpu_elapsed(self) -> float:
        return time.process_time() - self.cpu_started

    def save(self) -> None:
        """Write a checkpoint (the first process only: the others hold the same weights)."""
        self.state["seconds"], self.state["cpu_seconds"] = self.elapsed(), self.cpu_elapsed()
        self.state["processes"] = distributed.world_size()
        if distributed.is_main_process():
            with self.budget.timed("save"):
                _save_checkpoint(self.checkpoint, self.glosser, self.optimiser,
                                 {**self.state, "best_network": self.best_network})
        self.last_saved = time.perf_counter()

    def share_state(self) -> None:
        """The first process's state (its dev scores, the epochs it planned), in every process."""
        self.state.update(distributed.first_process_value(self.state))

    def work_after(self) -> float:
        """Seconds the work after the loop will take, at the costs measured so
        far: its glossing (dev scorings, calibration), saving the model, and a margin for the end."""
        return self.sentences_after * self.budget.cost("gloss") + self.budget.cost("save") + END_MARGIN_SECONDS

    def out_of_time(self) -> bool:
        """Whether another training step would leave too little of the budget for the work after the loop."""
        step = self.step_seconds / self.steps if self.steps else 0.0
        return not self.budget.loop_may_go_on(self.work_after(), step)

    def plan(self, epochs_done: float, batches: int, dev_size: int) -> None:
        """Fit the learning-rate schedule to the epochs the time budget allows:
        what is left of it after the work that follows the loop, at the
        measured cost of an epoch (``batches`` training steps and the dev
        scoring of ``dev_size`` sentences)."""
        if self.budget.seconds is None or not self.steps:
            return
        epoch = (self.step_seconds / self.steps * batches
                 + dev_size * self.budget.cost("gloss") / self.settings.evaluate_every)
        affordable = epochs_done + max(self.budget.left() - self.work_after(), 0.0) / max(epoch, 1e-6)
        self.state["planned_epochs"] = max(min(float(self.settings.epochs), affordable), min(epochs_done, 1.0))

    def train_step(self, chunk: list[Example], epoch_share: float) -> None:
        progress_share = (self.state["epoch"] + epoch_share) / max(self.state["planned_epochs"], 1e-9)
        for group in self.optimiser.param_groups:
            group["lr"] = self.settings.learning_rate * learning_rate_factor(min(progress_share, 1.0), self.settings)
        started = time.perf_counter()
        loss = batch_loss(self.glosser, chunk) if self.parallel is None else batch_loss(self.glosser, chunk, self.parallel)
        self.optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.glosser.network.parameters(), self.settings.clip)
        self.optimiser.step()
        self.step_seconds += time.perf_counter() - started
        self.steps += 1
        self.state["step"] += 1
        self.state["epoch_loss"] += loss.item()
        self.state["epoch_steps"] += 1

    def score_start(self, dev: list[IGTRecord]) -> None:
        """Score the starting weights on dev as epoch 0, the best so far."""
        glosser = self.glosser
        glosser.network.eval()
        record = {"epoch": 0, **dev_score(glosser, dev)}
        self._keep_best(record)
        self.state["history"].append(record)
        say(self.progress, f"before training: {_format_record(record)}  ({EPOCH_SCORES})")

    def end_epoch(self, dev: list[IGTRecord], evaluate: bool, share: float = 1.0) -> dict:
        """Close the epoch, or the ``share`` of it that was run: score dev, keep the best."""
        complete = share >= 1.0
        record = {"epoch": self.state["epoch"] + 1 if complete else round(self.state["epoch"] + share, 3),
                  "loss": self.state["epoch_loss"] / max(self.state["epoch_steps"], 1)}
        self.state.update(step=0, epoch_loss=0.0, epoch_steps=0)
        if complete:
            self.state["epoch"] += 1
        if dev and evaluate:
            started = time.perf_counter()
            record.update(dev_score(self.glosser, dev))
            self.budget.measure("gloss", (time.perf_counter() - started) / len(dev))
            if record["score"] > self.state["best_score"]:
                self._keep_best(record)
        self.state["history"].append(record)
        return record

    def _keep_best(self, record: dict) -> None:
        """The weights now are the best so far: remember them and their score."""
        self.state["best_score"], self.state["best_epoch"] = record["score"], record["epoch"]
        self.best_network = {k: v.detach().clone() for k, v in self.glosser.network.state_dict().items()}


def fit(
    glosser: NeuralGlosser,
    train: list[IGTRecord],
    dev: list[IGTRecord],
    checkpoint: str | Path,
    settings: TrainingSettings = TrainingSettings(),
    progress: Progress | None = None,
    budget: Budget | None = None,
    sentences_after: int = 0,
) -> dict:
    """Train ``glosser`` in place on ``train``, keeping the best state by ``dev``
    score; returns a training summary. Without dev records the last state is kept.

    A checkpoint goes into the directory ``checkpoint`` at the end of an epoch
    when ``settings.epoch_checkpoint_seconds`` have passed since the last one
    and, within long epochs, every ``settings.checkpoint_minutes``; a run
    started again with the same directory resumes from it, mid-epoch included.
    ``budget`` (default: ``settings.max_minutes`` from now) is the wall-clock
    time the caller has: the learning-rate schedule is fitted to it and the
    loop stops early enough for the last dev scoring, ``sentences_after``
    more sentences glossed and a save to follow within it, at their measured
    costs. ``progress`` gets a line per epoch and, if it is a
    :class:`~autogloss.progress.Reporter`, the batches done out of those planned.
    Under torchrun every process calls it (see the module's notes); only the
    first one's ``glosser`` ends with the best state.
    """
    distributed.start()
    torch.manual_seed(settings.seed + distributed.rank())  # dropout differs by process; weights start as the first's
    progress = progress if distributed.is_main_process() else None
    if budget is None:
        budget = Budget(None if settings.max_minutes is None else 60 * settings.max_minutes)
    examples = [e for e in glosser.encode(train, with_targets=True) if any(e.targets)]
    if not examples:
        raise AutoglossError("no training record has a gloss to learn")
    optimiser = torch.optim.AdamW(glosser.network.parameters(), lr=settings.learning_rate,
                                  weight_decay=settings.weight_decay)
    run = _Run(glosser, optimiser, Path(checkpoint), settings, progress, budget, sentences_after + len(dev),
               data={"train": data_fingerprint(train), "dev": data_fingerprint(dev)})
    run.resume()
    if distributed.is_distributed():
        # some parameters serve one setting only, so a step of some processes leaves them unused
        run.parallel = torch.nn.parallel.DistributedDataParallel(glosser.network, find_unused_parameters=True)
    main = distributed.is_main_process()
    if main and budget.seconds is not None and run.sentences_after and "gloss" not in budget.costs:
        budget.measure("gloss", scoring_cost(glosser, dev or train))
    state = run.state
    if settings.keep_start_if_better and dev and not state["history"] and not state["step"]:
        if main:
            run.score_start(dev)
        run.share_state()  # every process knows the start is the best so far
    per_epoch = len(distributed.share_of(_epoch_batches(examples, settings, 0)))
    with task(progress, "training", state["planned_epochs"] * per_epoch) as shown:
        if state["epoch"] or state["step"]:
            shown.resume_from(state["epoch"] * per_epoch + state["step"])
        while state["epoch"] < state["planned_epochs"] and not distributed.agree(run.out_of_time()):
            glosser.network.train()
            epoch_batches = distributed.share_of(_epoch_batches(examples, settings, state["epoch"]))
            shown.update(description=f"training epoch {state['epoch'] + 1}/{math.ceil(state['planned_epochs'])}",
                         total=state["planned_epochs"] * per_epoch)
            for index in range(state["step"], len(epoch_batches)):
                run.train_step(epoch_batches[index], index / len(epoch_batches))
                shown.update(completed=state["epoch"] * per_epoch + index + 1)
                if state["epoch"] == 0 and index + 1 == min(200, len(epoch_batches) // 4):
                    # an early estimate, refined after the epoch
                    run.plan((index + 1) / len(epoch_batches), len(epoch_batches), len(dev))
                    state["planned_epochs"] = distributed.first_process_value(state["planned_epochs"])
                    shown.update(total=state["planned_epochs"] * per_epoch,
                                 description=f"training epoch 1/{math.ceil(state['planned_epochs'])}")
                if distributed.agree(state["epoch"] + (index + 1) / len(epoch_batches) >= state["planned_epochs"]
                                     or run.out_of_time()):
                    break
                if distributed.agree(time.perf_counter() - run.last_saved > 60 * settings.checkpoint_minutes):
                    run.save()
            share = state["step"] / len(epoch_batches)
            last = run.out_of_time() or state["epoch"] + share >= state["planned_epochs"]
            record = run.end_epoch(dev if main else [], share=share,
                                   evaluate=last or (state["epoch"] + 1) % settings.evaluate_every == 0)
            if share >= 1.0 and state["epoch"] < settings.decay_start * state["planned_epochs"]:
                # The costs measured so far fit the schedule to the budget, again after every epoch until
                # the learning rate starts to decay: a first epoch slowed by start-up or a busy machine
                # would otherwise end a run minutes early.
                run.plan(float(state["epoch"]), len(epoch_batches), len(dev))
            run.share_state()  # the first process scored dev and planned: its state decides in every process
            record = state["history"][-1]
            stalled = (dev and record["epoch"] - state["best_epoch"] >= settings.patience
                       and record["epoch"] >= settings.min_epochs)
            if share < 1.0 or stalled:
                state["planned_epochs"] = min(state["planned_epochs"], state["epoch"])  # done: resuming ends at once
            if distributed.agree(time.perf_counter() - run.last_saved >= settings.epoch_checkpoint_seconds):
                run.save()  # a run stopped after this resumes after this epoch (else after the last one saved)
            say(progress, _format_record(record) + (f"  ({EPOCH_SCORES})" if "score" in record else ""))
            if stalled:
                break
    if budget.seconds is not None and run.out_of_time():
        say(progress, f"training stopped by the time budget after {clock(run.elapsed())}, leaving about "
                      f"{clock(run.work_after())} for scoring and saving")
    if run.best_network is not None:
        glosser.network.load_state_dict(run.best_network)
    glosser.network.eval()
    return {"epochs": state["history"][-1]["epoch"] if state["history"] else 0, "best_epoch": state["best_epoch"], "best_dev_score": state["best_score"],
            "seconds": round(run.elapsed(), 1), "cpu_seconds": round(run.cpu_elapsed(), 1),
            "history": state["history"], "settings": asdict(settings)}


def train_glosser(
    train: list[IGTRecord],
    dev: list[IGTRecord],
    model_dir: str | Path,
    settings: TrainingSettings = TrainingSettings(),
    base: NeuralGlosser | None = None,
    description: str | None = None,
    network_options: dict | None = None,
    max_labels: int | None = None,
    max_forms: int | None = None,
    progress: Progress | None = None,
    save: bool = True,
    dtype: torch.dtype = torch.float32,
    memory: bool = True,
    extra_info: dict | None = None,
    keep_only_used_labels: bool = False,
    restart: bool = False,
    calibration: list[IGTRecord] | None = None,
    budget: Budget | None = None,
    left_out: str | None = None,
    cross_fit: int = 0,
    memory_threshold: float = 0.0,
) -> NeuralGlosser:
    """Train a glosser from scratch, or fine-tune ``base``, and save it to ``model_dir``.

    Checkpoints go to :func:`checkpoint_dir` during training (a killed run
    started again resumes there) and are removed at the end. ``save=False``
    leaves saving to the caller. ``keep_only_used_labels`` drops, before
    fine-tuning, every gloss label ``train`` does not use (see
    :meth:`NeuralGlosser.keep_only_labels`): the model then trains about
    1.5 times and glosses several times faster. ``restart`` discards the
    checkpoint of an earlier run instead of resuming from it; a checkpoint
    made from other data or settings raises :class:`ModelError`.
    ``calibration``: glossed records held out of ``train`` (and of ``dev``
    where that can be helped) on which the confidence is calibrated after
    training (see :meth:`Glosser.calibrate`); the memory then counts them too.
    ``cross_fit``: without ``calibration`` records (too few sentences to hold
    any out), the confidence is calibrated on that many folds of ``train``
    instead (:func:`~autogloss.calibration.cross_fitted_calibration`): as many
    auxiliary models, each trained as this one (from the same base, with the
    same settings and epochs, memory thresholds) on all folds but one, gloss
    their own fold. Only in a run of fixed epochs (no time budget: the
    auxiliary models, about ``cross_fit - 1`` times this one's training loop,
    are in none) in one process.
    ``budget`` (default: ``settings.max_minutes`` from now) is the wall-clock
    time of the whole call: training stops early enough for the scoring,
    calibration and saving after it to fit. ``left_out`` says what the caller
    left out of the training data on purpose (the config's ``training_data``
    and the card record it). Under torchrun every process calls it and trains;
    the first one scores, calibrates and saves while the others wait, and
    only its glosser is the trained model.
    ``memory_threshold``: without ``dev`` (nothing to tune the memory on),
    the memory answers for the forms whose most frequent training gloss has at
    least this share of their occurrences (0: every form seen in training;
    1.0: only forms glossed one way throughout, see
    :data:`~autogloss.training.UNTUNED_FINETUNE_MEMORY`).
    """
    if budget is None:
        budget = Budget(None if settings.max_minutes is None else 60 * settings.max_minutes)
    torch.manual_seed(settings.seed)  # a new network's weights, and the rows a base grows, come from the seed too
    model_dir = Path(model_dir)
    if not any(record.has_glosses for record in train):
        raise AutoglossError(f"{description or 'the training data'}: no glossed record to train on")
    cross_fit = 0 if calibration or budget.seconds is not None or distributed.is_distributed() else cross_fit
    untrained = copy.deepcopy(base) if cross_fit and base is not None else None  # what each auxiliary model starts from
    distributed.start()
    progress = progress if distributed.is_main_process() else None
    if restart:
        if distributed.is_main_process():
            shutil.rmtree(checkpoint_dir(model_dir), ignore_errors=True)
        distributed.wait_for_every_process()  # no process resumes from what is being removed
    # Every person-given gloss label and character is in the vocabularies,
    # those only the calibration sentences have too; only ``train`` trains the network.
    known = train + (calibration or [])
    if base is None:
        glosser = NeuralGlosser.create(known, max_labels=max_labels, max_forms=max_forms, **(network_options or {}))
        origin = "random (trained from scratch)"
    else:
        glosser = base
        added = glosser.extend_vocabularies(known)
        origin = f"{base.info.get('name', 'a pretrained autogloss model')} (vocabulary grown by {added})"
        base_name = f"{base.info.get('name', 'a pretrained autogloss model')} ({base.source or 'not saved'})"
        # The card and config describe this training, never the base's (its command, languages, dev set).
        glosser.info = {}
    # The memory is keyed by form alone: right for one language, not for a
    # multilingual corpus, where the same string means different things.
    if memory:
        glosser.remember(train)
    else:
        glosser.memory = None
    glosser.memory_thresholds = {}  # epochs are scored on the network alone (EPOCH_SCORES), tuned after
    labels_kept = glosser.keep_only_labels(known) if keep_only_used_labels else None
    scorings = SCORINGS_AFTER_TRAINING if glosser.memory is not None else 1
    summary = fit(glosser, train, dev, checkpoint_dir(model_dir), settings, progress, budget,
                  sentences_after=scorings * len(dev) + len(calibration or []))
    if not distributed.is_main_process():
        distributed.wait_for_every_process()  # while the first process tunes, scores, calibrates and saves
        return glosser
    if dev and glosser.memory is not None:
        say(progress, "choosing, on dev, where the memory of training glosses answers instead of the network")
    if dev:
        thresholds = tune_memory(glosser, dev)
    elif glosser.memory is not None:
        # Nothing to tune on: by default trust the memory for every form seen in
        # training, which on the shared-task languages never lost to the network alone.
        thresholds = glosser.memory_thresholds = {"morphemes": memory_threshold, "words": memory_threshold}
    else:
        thresholds = {}
    scores = dev_score(glosser, dev) if dev else {}
    if calibration:
        glosser.calibrate(calibration)
        if memory:  # calibration is over: the memory may now count the held-out sentences too
            glosser.remember(known)
    elif cross_fit:
        from ...calibration import cross_fitted_calibration

        say(progress, f"calibrating the confidence on {cross_fit} cross-fitted models (too few sentences to hold "
                      f"any out)")
        again = replace(settings, epochs=summary["best_epoch"] if dev else settings.epochs, max_minutes=None)

        def auxiliary(part: list[IGTRecord]) -> NeuralGlosser:
            with tempfile.TemporaryDirectory() as work:
                model = train_glosser(part, [], Path(work) / "model", again, copy.deepcopy(untrained),
                                      network_options=network_options, max_labels=max_labels, max_forms=max_forms,
                                      save=False, memory=memory, keep_only_used_labels=keep_only_used_labels)
            model.memory_thresholds = dict(glosser.memory_thresholds)
            return model

        glosser.calibration = cross_fitted_calibration(train, auxiliary, cross_fit)
    licenses = sorted({r.license for r in train if r.license})
    glosser.info.update({
        "name": model_dir.name,
        "trained_on": description or f"{len(train):,} glossed sentences",
        "licenses": ", ".join(licenses) or "not recorded in the training records",
        "initialised_from": origin,
        "training": (f"{summary['epochs']} epochs, best at epoch {summary['best_epoch']}"
                     + (" (no epoch beat the starting model on dev, so its weights are kept)"
                        if dev and settings.keep_start_if_better and summary["best_epoch"] == 0 else "")
                     + f", {summary['seconds']:.0f} s; memory thresholds {thresholds}"
                     + (f"; output labels cut to the {labels_kept:,} the training data uses" if labels_kept else "")),
        "dev_scores": {k: v for k, v in scores.items() if k != "score"},
        **({"dev_scores_are": FINAL_SCORES} if scores else {}),
        "history": summary["history"],
        "training_data": TrainingData.count(train, files=source_files(train) or ([description] if description else []),
                                            dev_files=source_files(dev), base=None if base is None else base_name,
                                            left_out=left_out).to_dict(),
        "labels": len(glosser.vocabs.labels) - 2,
        "budget": {"epochs": summary["epochs"], "max_epochs": settings.epochs,
                   "minutes": round(summary["seconds"] / 60, 2), "cpu_minutes": round(summary["cpu_seconds"] / 60, 2),
                   "max_minutes": settings.max_minutes,
                   # the epoch whose weights were kept (the best on dev; None: the last, there was no dev)
                   "selected_epoch": summary["best_epoch"] if dev else None},
        **({"dev_data": f"{len(dev):,} sentences of {' + '.join(source_files(dev)) or 'the dev data given'}"}
           if dev else {}),
        **(extra_info or {}),
    })
    if save:
        with budget.timed("save"):
            glosser.save_pretrained(model_dir, dtype=dtype)
    shutil.rmtree(checkpoint_dir(model_dir), ignore_errors=True)
    distributed.wait_for_every_process()
    return glosser
