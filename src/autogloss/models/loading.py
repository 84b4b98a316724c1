"""Loading any autogloss model: the ``model_type`` registry, hub ids, backends.

The loader is kept apart from the model classes, as ``transformers``' Auto
classes are: a directory's ``config.json`` names its ``model_type``, the
registry names the class, and that class's
:meth:`~autogloss.models.base.Glosser.from_pretrained` reads the directory.
A name that is no local path but looks like ``owner/name`` is fetched from
the Hugging Face hub first (:func:`~autogloss.models.base.hub_snapshot`).
"""

from __future__ import annotations

import importlib
import os
from enum import StrEnum
from pathlib import Path

from ..errors import ModelError
from .base import CONFIG_NAME, Glosser, hub_snapshot, is_hub_id, read_config, read_json_object

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
class Backend(StrEnum):
    """How to read a model directory or hub id (see :func:`load_model`)."""

    AUTO = "auto"        # what its config says it is
    NEURAL = "neural"    # an autogloss neural model
    SEQ2SEQ = "seq2seq"  # any byte-level T5/ByT5 directory or hub id


BACKENDS = tuple(Backend)


def model_class(model_type: str) -> type[Glosser]:
    """The class of a registered ``model_type``."""
    module, name = MODEL_TYPES[model_type].split(":")
    return getattr(importlib.import_module(module), name)


def load_model(name_or_path: str | os.PathLike | None = None, backend: str = "auto", *, beams: int | None = None,
               lexicon: bool = True) -> Glosser:
    """Load any model: a local directory, a hub id, or (None) the packaged
    default model, as ``backend`` says (see :data:`BACKENDS`); ``beams`` and
    ``lexicon`` are the gloss-time choices of :meth:`Glosser.configure`."""
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend '{backend}' (choose {', '.join(BACKENDS)})")
    if backend == "seq2seq":
        glosser = _load_seq2seq(name_or_path)
    else:
        glosser = _load_auto(DEFAULT_MODEL_DIR if name_or_path is None else name_or_path)
        if backend == "neural" and glosser.model_type != "neural":
            raise ModelError(f"{name_or_path}: a '{glosser.model_type}' model, not a neural one (try --backend auto)")
    glosser.configure(beams=beams, lexicon=lexicon)
    return glosser


def _load_auto(name: str | os.PathLike) -> Glosser:
    hub_id = str(name) if is_hub_id(name) else None
    if hub_id is None:
        directory = Path(name)
    else:
        config = read_json_object(hub_snapshot(hub_id, "no such model directory, and not loadable from the Hugging "
                                                       "Face hub", [CONFIG_NAME]) / CONFIG_NAME, "model config")
        directory = hub_snapshot(hub_id, "not loadable from the Hugging Face hub",
                                 _class_of(config, hub_id).hub_files)
    config = read_config(directory)
    return _class_of(config, directory / CONFIG_NAME).from_pretrained(directory, source=hub_id)


def _class_of(config: dict, where: str | os.PathLike) -> type[Glosser]:
    model_type = config.get("model_type")
    if model_type not in MODEL_TYPES:
        known = ", ".join(sorted(MODEL_TYPES))
        raise ModelError(f"{where}: unknown model_type '{model_type}' (known: {known})")
    return model_class(model_type)


def _load_seq2seq(name: str | os.PathLike | None) -> Glosser:
    """Any byte-level T5/ByT5 directory or hub id, whatever its config says."""
    if name is None:
        raise ModelError("the seq2seq backend needs --model: a T5/ByT5 model directory or hub id "
                         "(e.g. lecslab/glosslm)")
    seq2seq = model_class("seq2seq")
    if not is_hub_id(name):
        return seq2seq.from_pretrained(name)
    directory = hub_snapshot(str(name), "not a loadable seq2seq model directory, and loading it from the Hugging Face "
                                        "hub failed", seq2seq.hub_files)
    return seq2seq.from_pretrained(directory, source=str(name))
