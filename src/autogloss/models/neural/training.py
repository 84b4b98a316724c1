"""Training the neural glosser: batches, early stopping, checkpoints that resume.

A run saves a checkpoint (weights, optimiser, progress, best score so far)
after every epoch, atomically; started again with the same output directory
it resumes from there. The best model by dev score is what is kept.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ...fileio import atomic_directory
from ...metrics import evaluate_records
from ...records import IGTRecord
from .data import Example, collate
from .glosser import NeuralGlosser
from .network import segmented_loss, word_loss, word_teacher_inputs



def checkpoint_dir(model_dir: str | Path) -> Path:
    """Where training of ``model_dir`` keeps its checkpoint: a hidden sibling,
    so the model directory itself only ever holds a finished model."""
    model_dir = Path(model_dir)
    return model_dir.parent / f".{model_dir.name}.checkpoint"


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


def batch_loss(glosser: NeuralGlosser, examples: list[Example]) -> torch.Tensor:
    batch = collate(examples)
    if batch.mode == "segmented":
        return segmented_loss(glosser.network(batch), batch)
    teacher = word_teacher_inputs(batch, len(glosser.vocabs.labels))
    return word_loss(glosser.network(batch, teacher), batch)


def dev_score(glosser: NeuralGlosser, dev: list[IGTRecord]) -> dict[str, float]:
    """Official word and morpheme accuracy on dev, and their mean (the selection score)."""
    inputs = [r.replace(glosses="") for r in dev]
    result = evaluate_records(dev, list(glosser.gloss(inputs)), "official", bootstrap_samples=0)
    return {"word_accuracy": result.word_accuracy, "morpheme_accuracy": result.morpheme_accuracy,
            "score": (result.word_accuracy + result.morpheme_accuracy) / 2}


MEMORY_THRESHOLDS = (None, 1.0, 0.9, 0.75, 0.5, 0.0)


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


def _save_checkpoint(directory: Path, glosser: NeuralGlosser, optimiser, state: dict) -> None:
    with atomic_directory(directory) as staging:
        torch.save({"network": glosser.network.state_dict(), "optimiser": optimiser.state_dict(),
                    "network_config": asdict(glosser.network.config), "vocabs": glosser.vocabs.to_json(),
                    "best_network": state.pop("best_network", None)}, staging / "state.pt")
        (staging / "progress.json").write_text(json.dumps(state, indent=2), encoding="utf-8")


def fit(
    glosser: NeuralGlosser,
    train: list[IGTRecord],
    dev: list[IGTRecord],
    checkpoint: str | Path,
    settings: TrainingSettings = TrainingSettings(),
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Train ``glosser`` in place on ``train``, keeping the best state by ``dev``
    score and saving a checkpoint into the directory ``checkpoint`` after every
    epoch (resumed from when present); returns a training summary. Without
    dev records the last epoch is kept."""
    checkpoint = Path(checkpoint)
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    examples = [e for e in glosser.encode(train, with_targets=True) if any(e.targets)]
    optimiser = torch.optim.AdamW(glosser.network.parameters(), lr=settings.learning_rate,
                                  weight_decay=settings.weight_decay)
    state = {"epoch": 0, "best_score": -1.0, "best_epoch": 0, "history": [], "seconds": 0.0,
             "planned_epochs": settings.epochs}
    best_network = None
    if (checkpoint / "state.pt").is_file():
        saved = torch.load(checkpoint / "state.pt", weights_only=False)
        glosser.network.load_state_dict(saved["network"])
        optimiser.load_state_dict(saved["optimiser"])
        best_network = saved.get("best_network")
        state = json.loads((checkpoint / "progress.json").read_text(encoding="utf-8"))
        rng = random.Random(settings.seed + state["epoch"])
        if progress:
            progress(f"resumed from epoch {state['epoch']}")
    started = time.perf_counter() - state["seconds"]
    while state["epoch"] < state["planned_epochs"]:
        glosser.network.train()
        total, count = 0.0, 0
        epoch_batches = batches(examples, settings.batch_size, rng)
        for step, chunk in enumerate(epoch_batches):
            progress_share = (state["epoch"] + step / len(epoch_batches)) / state["planned_epochs"]
            for group in optimiser.param_groups:
                group["lr"] = settings.learning_rate * learning_rate_factor(progress_share, settings)
            loss = batch_loss(glosser, chunk)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(glosser.network.parameters(), settings.clip)
            optimiser.step()
            total, count = total + loss.item(), count + 1
        state["epoch"] += 1
        record = {"epoch": state["epoch"], "loss": total / max(count, 1)}
        if dev and state["epoch"] % settings.evaluate_every == 0:
            record.update(dev_score(glosser, dev))
            if record["score"] > state["best_score"]:
                state["best_score"], state["best_epoch"] = record["score"], state["epoch"]
                best_network = {k: v.detach().clone() for k, v in glosser.network.state_dict().items()}
        state["history"].append(record)
        state["seconds"] = time.perf_counter() - started
        if state["epoch"] == 1 and settings.max_minutes is not None:
            # Fit the learning-rate schedule to the epochs the time budget allows.
            affordable = int(60 * settings.max_minutes / max(state["seconds"], 1e-6))
            state["planned_epochs"] = max(min(settings.epochs, affordable), 1)
        out_of_time = settings.max_minutes is not None and state["seconds"] > 60 * settings.max_minutes * 1.05
        stalled = dev and state["epoch"] - state["best_epoch"] >= settings.patience and state["epoch"] >= settings.min_epochs
        _save_checkpoint(checkpoint, glosser, optimiser, {**state, "best_network": best_network})
        if progress:
            progress(" ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items()))
        if out_of_time or stalled:
            break
    if best_network is not None:
        glosser.network.load_state_dict(best_network)
    glosser.network.eval()
    return {"epochs": state["epoch"], "best_epoch": state["best_epoch"], "best_dev_score": state["best_score"],
            "seconds": round(state["seconds"], 1), "history": state["history"], "settings": asdict(settings)}


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
    progress: Callable[[str], None] | None = None,
    save: bool = True,
) -> NeuralGlosser:
    """Train a glosser from scratch, or fine-tune ``base``, and save it to ``model_dir``.

    Checkpoints go to :func:`checkpoint_dir` during training (a killed run
    started again resumes there) and are removed at the end. ``save=False``
    leaves saving to the caller.
    """
    model_dir = Path(model_dir)
    if base is None:
        glosser = NeuralGlosser.create(train, max_labels=max_labels, max_forms=max_forms, **(network_options or {}))
        origin = "random (trained from scratch)"
    else:
        glosser = base
        added = glosser.extend_vocabularies(train)
        origin = f"{base.info.get('name', 'a pretrained autogloss model')} (vocabulary grown by {added})"
    glosser.remember(train)
    summary = fit(glosser, train, dev, checkpoint_dir(model_dir), settings, progress)
    thresholds = tune_memory(glosser, dev) if dev else {}
    scores = dev_score(glosser, dev) if dev else {}
    licenses = sorted({r.license for r in train if r.license})
    glosser.info.update({
        "name": model_dir.name,
        "trained_on": description or f"{len(train):,} glossed sentences",
        "licenses": ", ".join(licenses) or "not recorded in the training records",
        "initialised_from": origin,
        "training": (f"{summary['epochs']} epochs, best at epoch {summary['best_epoch']}, "
                     f"{summary['seconds']:.0f} s; memory thresholds {thresholds}"),
        "dev_scores": {k: v for k, v in scores.items() if k != "score"},
        "history": summary["history"],
    })
    if save:
        glosser.save_pretrained(model_dir)
    shutil.rmtree(checkpoint_dir(model_dir), ignore_errors=True)
    return glosser
