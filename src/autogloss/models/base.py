"""The interface every glossing model implements, and model-directory loading.

A model directory is self-describing, the Hugging Face way: ``config.json``
names the ``model_type`` and holds the settings, the parameters sit beside it
(``model.safetensors`` for neural models), and ``README.md`` is the model card.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..errors import ModelError
from ..records import IGTRecord

CONFIG_NAME = "config.json"
CARD_NAME = "README.md"
UNKNOWN_GLOSS = "[UNK]"
#: The multilingual model shipped inside the package (see its README.md for
#: how it was made); used when no model is named.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "default-model"
#: model_type -> where its class lives; imported only when such a model is
#: loaded, so that commands which never touch a neural model never import torch.
MODEL_TYPES = {
    "majority": "autogloss.models.majority:MajorityGlosser",
    "neural": "autogloss.models.neural.glosser:NeuralGlosser",
    "neural-ensemble": "autogloss.models.neural.ensemble:EnsembleGlosser",
    # Byte-level T5 glossers: a plain Hugging Face T5/ByT5 directory (such as
    # lecslab/glosslm) says "t5"; autogloss's LoRA adapter directories say "seq2seq".
    "seq2seq": "autogloss.models.seq2seq.glosser:Seq2SeqGlosser",
    "t5": "autogloss.models.seq2seq.glosser:Seq2SeqGlosser",
}


@dataclass(frozen=True)
class GlossedRecord:
    """A model's output for one input record: the record with its glosses
    filled in, and one confidence in [0, 1] per gloss morpheme. ``repairs``
    says what was changed to align a free-text output with the input (empty
    when nothing was)."""

    record: IGTRecord
    confidences: list[list[float]]
    repairs: tuple[str, ...] = ()


class Glosser(ABC):
    """A model that fills in the gloss line of records."""

    model_type: ClassVar[str]

    @abstractmethod
    def gloss_with_confidence(self, records: Iterable[IGTRecord]) -> Iterator[GlossedRecord]:
        """Gloss records, streaming, with per-morpheme confidences."""

    def gloss(self, records: Iterable[IGTRecord]) -> Iterator[IGTRecord]:
        """Gloss records, streaming: each comes back with ``glosses`` filled in."""
        for output in self.gloss_with_confidence(records):
            yield output.record

    @abstractmethod
    def save_pretrained(self, directory: str | os.PathLike) -> None:
        """Write the model directory (atomically)."""

    @classmethod
    @abstractmethod
    def _load(cls, directory: Path, config: dict) -> Glosser:
        """Build the model from a checked directory and its parsed config."""

    @staticmethod
    def from_pretrained(directory: str | os.PathLike | None = None) -> Glosser:
        """Load any autogloss model: a local directory, a hub id, or (None) the packaged default model."""
        directory = resolve_model_path(DEFAULT_MODEL_DIR if directory is None else directory)
        config = read_config(directory)
        model_type = config.get("model_type")
        if model_type not in MODEL_TYPES:
            known = ", ".join(sorted(MODEL_TYPES))
            raise ModelError(f"{directory / CONFIG_NAME}: unknown model_type '{model_type}' (known: {known})")
        module, name = MODEL_TYPES[model_type].split(":")
        return getattr(importlib.import_module(module), name)._load(directory, config)


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def resolve_model_path(name: str | os.PathLike) -> Path:
    """A local model directory, or a Hugging Face hub id downloaded to the
    local cache (where the hub is reachable)."""
    path = Path(name)
    if path.exists() or not _HUB_ID.match(str(name)):
        return path
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id=str(name)))
    except Exception as error:  # offline, unknown repository, no permission ...
        raise ModelError(f"{name}: no such model directory, and not loadable from the Hugging Face hub "
                         f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'no detail'})") from None


def read_config(directory: Path) -> dict:
    """The parsed ``config.json`` of a model directory, with clear errors."""
    if not directory.exists():
        raise ModelError(f"{directory}: no such model directory")
    if not directory.is_dir():
        raise ModelError(f"{directory}: a model is a directory holding {CONFIG_NAME}, not a file")
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise ModelError(f"{directory}: not a model directory (no {CONFIG_NAME})")
    return read_json_object(path, "model config")


def read_json_object(path: Path, what: str) -> dict:
    """A JSON object file of a model, or a :class:`ModelError` saying it is corrupt."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelError(f"{path}: corrupt {what} ({error})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path}: corrupt {what} (not a JSON object)")
    return data


def read_json_part(directory: Path, name: str) -> dict:
    """A JSON file of a model directory, with clear errors when missing or corrupt."""
    path = directory / name
    if not path.is_file():
        raise ModelError(f"{directory}: incomplete model directory (no {name})")
    return read_json_object(path, "model file")


BACKENDS = ("auto", "neural", "seq2seq")


def load_backend(name: str | os.PathLike | None, backend: str = "auto") -> Glosser:
    """Load a model for a named backend: ``auto`` (what the directory says it
    is), ``neural`` (an autogloss neural model; None: the packaged one) or
    ``seq2seq`` (any byte-level T5/ByT5 directory or hub id, e.g. lecslab/glosslm)."""
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend '{backend}' (choose {', '.join(BACKENDS)})")
    if backend == "seq2seq":
        if name is None:
            raise ModelError("the seq2seq backend needs --model: a T5/ByT5 model directory or hub id "
                             "(e.g. lecslab/glosslm)")
        from .seq2seq.glosser import Seq2SeqGlosser

        return Seq2SeqGlosser.load(name)
    glosser = Glosser.from_pretrained(name)
    if backend == "neural" and glosser.model_type != "neural":
        raise ModelError(f"{name}: a '{glosser.model_type}' model, not a neural one (try --backend auto)")
    return glosser
