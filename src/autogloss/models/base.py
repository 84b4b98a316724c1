"""The interface every glossing model implements, and model-directory loading.

A model directory is self-describing, the Hugging Face way: ``config.json``
names the ``model_type`` and holds the settings, the parameters sit beside it
(``model.safetensors`` for neural models), and ``README.md`` is the model card.

Every model glosses a bounded amount at a time, whoever calls it (command
line, server, benchmark): records in chunks, and a sentence longer than
:data:`WINDOW_WORDS` words in windows of that many, joined back.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import threading
import weakref
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

from ..errors import ModelError
from ..records import UNKNOWN_GLOSS, GlossedRecord, IGTRecord, words

CONFIG_NAME = "config.json"
CARD_NAME = "README.md"
#: The most words of one sentence a model reads at once: a longer sentence
#: is glossed in consecutive windows of this many words and joined back, so
#: memory and time per sentence stay bounded (no SIGMORPHON 2023 sentence
#: has more than 53 words: those are glossed whole, as before).
WINDOW_WORDS = 200
#: Windows of a long sentence glossed in one turn (see :meth:`Glosser.gloss_with_confidence`).
WINDOWS_PER_TURN = 4
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


class Glosser(ABC):
    """A model that fills in the gloss line of records."""

    model_type: ClassVar[str]
    #: Records read ahead and glossed in one turn (a model sorts them by length into batches).
    records_per_chunk: ClassVar[int] = 512
    #: The longest sentence, in words, glossed whole (see :data:`WINDOW_WORDS`).
    window_words: ClassVar[int] = WINDOW_WORDS

    def gloss_with_confidence(self, records: Iterable[IGTRecord]) -> Iterator[GlossedRecord]:
        """Gloss records, streaming, with per-morpheme confidences.

        Records go to the model :attr:`records_per_chunk` at a time; one of
        more than :attr:`window_words` words goes alone, in windows of that
        many words (:data:`WINDOWS_PER_TURN` per turn), and its outputs are
        joined back into one. Calls from several threads take turns chunk
        by chunk, in the order they asked: one long document does not keep
        the model from a short one.
        """
        pending: list[IGTRecord] = []
        for record in records:
            if len(_input_words(record)) > self.window_words:
                yield from self._take_turn(pending)
                pending = []
                pieces = _windows(record, self.window_words)
                outputs = [output for start in range(0, len(pieces), WINDOWS_PER_TURN)
                           for output in self._take_turn(pieces[start:start + WINDOWS_PER_TURN])]
                yield _joined(record, outputs)
                continue
            pending.append(record)
            if len(pending) == self.records_per_chunk:
                yield from self._take_turn(pending)
                pending = []
        yield from self._take_turn(pending)

    @abstractmethod
    def _gloss_chunk(self, records: list[IGTRecord]) -> list[GlossedRecord]:
        """Gloss a chunk of records (at most :attr:`records_per_chunk`, none of
        more than :attr:`window_words` words): one output each, in order."""

    def _take_turn(self, records: list[IGTRecord]) -> list[GlossedRecord]:
        if not records:
            return []
        with _turns_of(self):
            outputs = self._gloss_chunk(records)
        if len(outputs) != len(records):
            raise ModelError(f"{type(self).__name__}: {len(outputs)} outputs for {len(records)} records")
        return outputs

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


def _input_words(record: IGTRecord) -> list[str]:
    """The words a model reads: those of the segmented line when there is one."""
    return words(record.segmented_form) if record.segmented_form else record.transcription_words


def _windows(record: IGTRecord, size: int) -> list[IGTRecord]:
    """A long record as consecutive records of at most ``size`` input words
    each; its other word lines are cut at the same places (in proportion,
    where they have another number of words). Each keeps the translation."""
    count = len(_input_words(record))
    lines = {name: words(getattr(record, name)) for name in ("transcription", "segmentation", "glosses")
             if getattr(record, name)}
    pieces = []
    for start in range(0, count, size):
        end = min(start + size, count)
        changes = {}
        for name, line in lines.items():
            cut = line[start:end] if len(line) == count else line[start * len(line) // count:end * len(line) // count]
            changes[name] = " ".join(cut)
        if not changes.get("transcription"):
            changes["transcription"] = " ".join(_input_words(record)[start:end])
        pieces.append(record.replace(**changes))
    return pieces


def _joined(record: IGTRecord, outputs: list[GlossedRecord]) -> GlossedRecord:
    """The outputs of a record's windows as one output for the record."""
    changes = {"glosses": " ".join(word for output in outputs for word in output.record.gloss_words)}
    if not record.segmentation and all(output.record.segmentation for output in outputs):
        # the model's own segmentation of an unsegmented sentence
        changes["segmentation"] = " ".join(word for output in outputs for word in output.record.segmentation_words)
    return GlossedRecord(record.replace(**changes), [c for output in outputs for c in output.confidences],
                         tuple(repair for output in outputs for repair in output.repairs))


class _Turns:
    """A lock granted in the order it was asked for. (``threading.Lock`` is
    not fair: a thread that releases it and asks again at once usually gets
    it back before a thread that has been waiting.)"""

    def __init__(self):
        self._mutex = threading.Lock()
        self._busy = False
        self._waiting: deque[threading.Lock] = deque()

    def __enter__(self) -> None:
        with self._mutex:
            if not self._busy:
                self._busy = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        try:
            turn.acquire()  # released by the holder, handing the lock over
        except BaseException:
            with self._mutex:
                if turn in self._waiting:
                    self._waiting.remove(turn)
                    raise
            self.__exit__()  # handed over meanwhile: pass it on
            raise

    def __exit__(self, *exc_info) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._busy = False

    @property
    def waiting(self) -> int:
        """How many threads wait for their turn."""
        with self._mutex:
            return len(self._waiting)


_TURNS: weakref.WeakKeyDictionary[Glosser, _Turns] = weakref.WeakKeyDictionary()
_TURNS_LOCK = threading.Lock()


def _turns_of(glosser: Glosser) -> _Turns:
    """The turns of one model: each glosses one chunk at a time (a neural
    model already uses every core for one batch, and its internals are kept
    out of thread races)."""
    with _TURNS_LOCK:
        turns = _TURNS.get(glosser)
        if turns is None:
            turns = _TURNS[glosser] = _Turns()
        return turns


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
