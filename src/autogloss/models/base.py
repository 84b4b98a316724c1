"""The interface every glossing model implements, and model-directory loading.

A model directory is self-describing, the Hugging Face way: ``config.json``
names the ``model_type`` and holds the settings, the parameters sit beside it
(``model.safetensors`` for neural models), and ``README.md`` is the model card.
"""

from __future__ import annotations

import json
import os
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


@dataclass(frozen=True)
class GlossedRecord:
    """A model's output for one input record: the record with its glosses
    filled in, and one confidence in [0, 1] per gloss morpheme."""

    record: IGTRecord
    confidences: list[list[float]]


class Glosser(ABC):
    """A model that fills in the gloss line of records."""

    model_type: ClassVar[str]
    registry: ClassVar[dict[str, type[Glosser]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if getattr(cls, "model_type", None):
            Glosser.registry[cls.model_type] = cls

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
    def from_pretrained(directory: str | os.PathLike) -> Glosser:
        """Load any autogloss model directory."""
        directory = Path(directory)
        config = read_config(directory)
        model_type = config.get("model_type")
        if model_type not in Glosser.registry:
            known = ", ".join(sorted(Glosser.registry))
            raise ModelError(f"{directory / CONFIG_NAME}: unknown model_type '{model_type}' (known: {known})")
        return Glosser.registry[model_type]._load(directory, config)


def read_config(directory: Path) -> dict:
    """The parsed ``config.json`` of a model directory, with clear errors."""
    if not directory.exists():
        raise ModelError(f"{directory}: no such model directory")
    if not directory.is_dir():
        raise ModelError(f"{directory}: a model is a directory holding {CONFIG_NAME}, not a file")
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise ModelError(f"{directory}: not a model directory (no {CONFIG_NAME})")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelError(f"{path}: corrupt model config ({error})") from None
    if not isinstance(config, dict):
        raise ModelError(f"{path}: corrupt model config (not a JSON object)")
    return config


def read_json_part(directory: Path, name: str) -> dict:
    """A JSON file of a model directory, with clear errors when missing or corrupt."""
    path = directory / name
    if not path.is_file():
        raise ModelError(f"{directory}: incomplete model directory (no {name})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelError(f"{path}: corrupt model file ({error})") from None
