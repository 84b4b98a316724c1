"""One process of the two-process training test (started by torchrun from
test_seq2seq.py): trains a tiny T5 for a few steps with the Seq2SeqTrainer
and writes a checksum of its final weights to OUT/rank{RANK}.json."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import torch

from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.models.distributed import end_distributed_run
from autogloss.models.seq2seq.training import Seq2SeqTrainingSettings, train_seq2seq


def weights_checksum(model) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def main() -> None:
    train_file, out = Path(sys.argv[1]), Path(sys.argv[2])
    records = list(read_sigmorphon(train_file))
    settings = Seq2SeqTrainingSettings(epochs=2, batch_size=1, learning_rate=1e-2, warmup=0)
    torch.manual_seed(0)
    glosser = train_seq2seq(records, [], out / "model", settings,
                            new_model_options={"d_model": 16, "layers": 1, "heads": 2, "dropout": 0.0})
    rank = os.environ["RANK"]
    result = {"rank": int(rank), "world_size": torch.distributed.get_world_size(),
              "backend": torch.distributed.get_backend(), "steps": glosser.info["training"],
              "checksum": weights_checksum(glosser.model)}
    (out / f"rank{rank}.json").write_text(json.dumps(result), encoding="utf-8")
    end_distributed_run()


if __name__ == "__main__":
    main()
