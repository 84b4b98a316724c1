"""One process of the two-process neural training test (started by torchrun
from test_neural_distributed.py): trains a tiny neural glosser with
``train_glosser`` and writes to OUT/rank{RANK}.json what this process did:
the batches it trained on (as hashes), the batches of every epoch in the
order of a single process, its dev scorings and calibrations.

``--die-in-epoch N`` makes both processes exit at the first step of epoch N
(counted from 0), as a killed run would, after the checkpoint of the epoch before.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import torch

from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.models import distributed
from autogloss.models.neural import NeuralGlosser, TrainingSettings, train_glosser
from autogloss.models.neural import training

TINY = {"hidden": 16, "char_dim": 8, "language_dim": 4, "form_dim": 8, "label_dim": 8, "translation_hidden": 8,
        "layers": 1, "dropout": 0.0}
SETTINGS = TrainingSettings(epochs=3, batch_size=2, learning_rate=1e-2, patience=99, min_epochs=1,
                            epoch_checkpoint_seconds=0.0)


def batch_hash(chunk) -> str:
    return hashlib.sha256(repr([e.chars for e in chunk]).encode()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("train")
    parser.add_argument("out")
    parser.add_argument("--die-in-epoch", type=int)
    args = parser.parse_args()
    out = Path(args.out)
    records = list(read_sigmorphon(Path(args.train)))
    train = records[:8] + [r.replace(id=f"{r.id}/plain", segmentation=None) for r in records[:8]]
    dev, calibration = records[8:10], records[10:]
    trained, scorings, calibrations = [], [], []
    real_loss, real_score, real_calibrate = training.batch_loss, training.dev_score, NeuralGlosser.calibrate
    steps_per_epoch = 16 // SETTINGS.batch_size // int(os.environ["WORLD_SIZE"])

    def loss(glosser, chunk, network=None):
        if args.die_in_epoch is not None and len(trained) == args.die_in_epoch * steps_per_epoch:
            os._exit(3)  # killed: no clean-up, no saving
        trained.append(batch_hash(chunk))
        return real_loss(glosser, chunk, network)

    def score(glosser, dev_records):
        scorings.append(len(dev_records))
        return real_score(glosser, dev_records)

    def calibrate(glosser, held_out):
        calibrations.append(len(held_out))
        return real_calibrate(glosser, held_out)

    training.batch_loss, training.dev_score, NeuralGlosser.calibrate = loss, score, calibrate
    torch.manual_seed(0)
    messages: list[str] = []
    glosser = train_glosser(train, dev, out / "model", SETTINGS, network_options=TINY, calibration=calibration,
                            progress=messages.append)
    examples = [e for e in glosser.encode(train, with_targets=True) if any(e.targets)]
    epochs = [[batch_hash(chunk) for chunk in training._epoch_batches(examples, SETTINGS, epoch)]
              for epoch in range(SETTINGS.epochs)]
    rank = distributed.rank()
    result = {"rank": rank, "world_size": torch.distributed.get_world_size(),
              "backend": torch.distributed.get_backend(), "trained": trained, "epochs": epochs,
              "scorings": scorings, "calibrations": calibrations, "messages": messages,
              "training": glosser.info.get("training")}
    (out / f"rank{rank}.json").write_text(json.dumps(result), encoding="utf-8")
    distributed.end_distributed_run()


if __name__ == "__main__":
    main()
