"""The interface every glossing model implements: glossing, saving and loading.

A model directory is self-describing, the Hugging Face way: ``config.json``
names the ``model_type`` and holds the settings (one :class:`ModelConfig`
dataclass per model type, serialised by :meth:`ModelConfig.to_dict`), the
parameters sit beside it (``model.safetensors`` for neural models), and
``README.md`` is the model card. Every model is written by
:meth:`Glosser.save_pretrained` (atomically) and read back by its class's
:meth:`Glosser.from_pretrained`; which class a directory needs, and models on
the Hugging Face hub, are :mod:`autogloss.models.loading`'s business.

Every model glosses a bounded amount at a time, whoever calls it (command
line, server, benchmark): records in chunks, and a sentence longer than
:data:`WINDOW_WORDS` words in windows of that many, joined back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import threading
import weakref
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from .. import __version__
from ..errors import ModelError
from ..fileio import atomic_directory
from ..records import SETTINGS, GlossedRecord, IGTRecord, Language, setting_of, words

if TYPE_CHECKING:  # numpy is imported only when a model has a calibration
    from ..calibration import Calibration

CONFIG_NAME = "config.json"
CARD_NAME = "README.md"
#: The ``config.json`` key of a model's confidence calibration (any model type).
CALIBRATION_KEY = "calibration"
#: The most words of one sentence a model reads at once: a longer sentence
#: is glossed in consecutive windows of this many words and joined back, so
#: memory and time per sentence stay bounded (no SIGMORPHON 2023 sentence
#: has more than 53 words: those are glossed whole, as before).
WINDOW_WORDS = 200
#: Windows of a long sentence glossed in one turn (see :meth:`Glosser.gloss_with_confidence`).
WINDOWS_PER_TURN = 4
#: The end of the hidden sibling where training keeps a model's checkpoints (see :func:`checkpoint_dir`).
CHECKPOINT_SUFFIX = ".checkpoint"

SettingsT = TypeVar("SettingsT", bound="Settings")


class Settings:
    """A dataclass of settings stored as a JSON object: :meth:`to_dict` and
    :meth:`from_dict` are the one way every model's settings are written
    and read. ``from_dict`` refuses unknown keys (a :class:`TypeError`),
    unless the class sets ``ignore_unknown`` (settings a newer autogloss may
    extend, which an older one can safely leave out)."""

    ignore_unknown: ClassVar[bool] = False

    def to_dict(self) -> dict[str, Any]:
        return {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls: type[SettingsT], data: dict) -> SettingsT:
        if cls.ignore_unknown:
            known = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
            data = {key: value for key, value in data.items() if key in known}
        return cls(**data)


def _plain(value: Any) -> Any:
    """A setting as JSON data: nested settings as their dicts."""
    return value.to_dict() if isinstance(value, Settings) else value


class ModelConfig(Settings):
    """The ``config.json`` of one model type (a dataclass): its fields after
    ``model_type`` and the ``autogloss_version`` that wrote it."""

    model_type: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        return {"model_type": self.model_type, "autogloss_version": __version__, **super().to_dict()}

    @classmethod
    def read(cls: type[SettingsT], directory: Path, config: dict) -> SettingsT:
        """The config of a checked directory from its parsed ``config.json``
        (errors name the file); by default, the known fields that are there."""
        known = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
        try:
            return cls(**{key: value for key, value in config.items() if key in known})
        except TypeError as error:
            raise ModelError(f"{directory / CONFIG_NAME}: corrupt model config ({error})") from None


#: The two settings a model glosses in: morphemes given (``segmented``) or found by the model (``plain``).
#: Fewer training sentences than this of a language in a setting, and the
#: model does not count as trained on it.
MIN_KNOWN_SENTENCES = 1


def language_key(language: Language) -> str | None:
    """The one key a language is counted under (glottocode, else ISO code, else
    name; None when nothing is known), as the neural network's language
    vocabulary keys it."""
    return language.glottocode or language.iso639_3 or language.name or None


def language_names(language: Language) -> set[str]:
    """Every identifier of a language, case-folded: what a model's training languages are matched on."""
    return {name.casefold() for name in (language.glottocode, language.iso639_3, language.name) if name}


@dataclasses.dataclass
class TrainingData(Settings):
    """What a model was trained on, as its ``config.json`` records it, so
    glossing can tell a language or setting it never saw.

    ``languages`` maps each language key (:func:`language_key`; ``unknown``
    for records without a language) to its training sentences per setting
    (:data:`SETTINGS`), or is None when that was not recorded; ``aliases``
    maps the other identifiers the training records gave a language (an ISO
    code beside a glottocode, a name; case-folded) to its key, so that
    ``--language lez`` finds Lezgi counted as ``lezg1247``. ``files`` are
    the training files, ``dev_files`` those scored on; ``base`` the model
    it was fine-tuned from (None: trained from scratch).
    """

    languages: dict[str, dict[str, int]] | None = None
    aliases: dict[str, str] = dataclasses.field(default_factory=dict)
    files: list[str] = dataclasses.field(default_factory=list)
    dev_files: list[str] = dataclasses.field(default_factory=list)
    base: str | None = None
    #: How the record was made when it was not counted during training (e.g. derived afterwards).
    note: str | None = None
    #: Rows of the training data left out on purpose, what and how many (None: nothing was).
    left_out: str | None = None

    ignore_unknown = True

    @classmethod
    def count(cls, records: Iterable[IGTRecord], settings: Callable[[IGTRecord], Iterable[str]] | None = None,
              **fields: Any) -> TrainingData:
        """The languages and settings of the glossed ``records``, counted;
        ``settings`` says which settings a record teaches the model (default:
        the one it is read in, :func:`setting_of`)."""
        languages: dict[str, dict[str, int]] = {}
        aliases: dict[str, str] = {}
        for record in records:
            if record.has_glosses:
                key = language_key(record.language) or UNKNOWN_LANGUAGE
                counts = languages.setdefault(key, dict.fromkeys(SETTINGS, 0))
                for setting in settings(record) if settings else (setting_of(record),):
                    counts[setting] += 1
                for name in language_names(record.language) - {key.casefold()}:
                    aliases.setdefault(name, key)
        return cls(languages=dict(sorted(languages.items(), key=lambda item: -sum(item[1].values()))),
                   aliases=dict(sorted(aliases.items())), **fields)

    @property
    def recorded(self) -> bool:
        return self.languages is not None

    def sentences(self, setting: str, language: Language | None = None) -> int | None:
        """Training sentences in ``setting``, of ``language`` (None: of every
        language; a language matched on any of its identifiers); None when not recorded."""
        if self.languages is None:
            return None
        if language is None:
            return sum(counts.get(setting, 0) for counts in self.languages.values())
        names = language_names(language)
        keys = {self.aliases.get(name, name) for name in names}
        return sum(counts.get(setting, 0) for key, counts in self.languages.items()
                   if key in keys or key.casefold() in names)

    def describe(self, limit: int = 12) -> str:
        """The languages as a model card lists them: sentences per setting, most trained first."""
        if self.languages is None:
            return "not recorded"
        shown = [f"{key} ({', '.join(f'{counts.get(setting, 0):,} {setting}' for setting in SETTINGS)})"
                 for key, counts in list(self.languages.items())[:limit]]
        more = len(self.languages) - limit
        return f"{len(self.languages):,}: " + "; ".join(shown) + (f"; and {more:,} more" if more > 0 else "")


#: The language key of records that name no language.
UNKNOWN_LANGUAGE = "unknown"


def training_card_lines(data: TrainingData) -> str:
    """The model card's lines on what this model's own training used (never its base's)."""
    return "\n".join([
        f"- Base model: {data.base or 'none (trained from scratch)'}",
        f"- Training files: {describe_files(data.files) or 'not recorded'}",
        f"- Dev files: {describe_files(data.dev_files) or 'none'}",
        f"- Languages (training sentences per setting): {data.describe()}"
        + (f" ({data.note})" if data.note else ""),
        *([f"- Left out of the training data: {data.left_out}"] if data.left_out else []),
    ])


#: Files a card names one by one; more are counted per folder.
CARD_FILES = 12


def describe_files(files: list[str]) -> str:
    """Files as a card lists them: each one, or, when there are more than
    :data:`CARD_FILES` (a pretraining corpus reads thousands), how many from
    each folder, most first."""
    if len(files) <= CARD_FILES:
        return ", ".join(files)
    folders = Counter(os.path.dirname(name) or "." for name in files)
    return f"{len(files):,} files: " + ", ".join(f"{count:,} in {folder}/" for folder, count in folders.most_common())


def source_files(records: Iterable[IGTRecord]) -> list[str]:
    """The files records were read from (their ``origin``, ``file:line``), in order of first appearance."""
    found: dict[str, None] = {}
    for record in records:
        if record.origin:
            found.setdefault(record.origin.rpartition(":")[0] or record.origin)
    return list(found)


def write_json(path: Path, data: dict, indent: int | None = 2) -> None:
    """A JSON file of a model directory, as every model writes them (large
    tables with ``indent`` None, on one line)."""
    path.write_text(json.dumps(data, indent=indent, ensure_ascii=False), encoding="utf-8")


def card(tags: list[str], text: str) -> str:
    """A model card: Hugging Face metadata (library, tags) and ``text``."""
    from huggingface_hub import ModelCard, ModelCardData  # only where a model is saved

    return str(ModelCard(f"---\n{ModelCardData(library_name='autogloss', tags=tags).to_yaml()}\n---\n{text}"))


def confidence_line(glosser: Glosser) -> str:
    """What a model card says of a model's confidences: calibrated how, or not."""
    if glosser.calibration is None or not (glosser.calibration.maps or glosser.calibration.fitted):
        return ("as computed, not calibrated (no glossed sentences were held out of training to fit it on); "
                "not a probability of being right")
    return ("calibrated on glossed sentences held out of training, so that about 80% of the glosses given "
            f"with confidence 0.8 are right: {glosser.calibration.describe()}")


#: What a Hugging Face hub model id looks like (``owner/name``).
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def is_hub_id(name: str | os.PathLike) -> bool:
    """Whether ``name`` names a hub model rather than a local directory."""
    return not Path(name).exists() and bool(HUB_ID.match(str(name)))


def hub_snapshot(repo_id: str, failure: str, files: list[str] | None = None) -> Path:
    """The local copy of a hub model (downloaded to the Hugging Face cache,
    where the hub is reachable), or a :class:`ModelError`: ``failure`` (after
    the id) and why. ``files``: the file patterns needed (None: all). The one
    place any model is fetched from the hub."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id=repo_id, allow_patterns=files))
    except Exception as error:  # offline, unknown repository, no permission ...
        detail = str(error).splitlines()[0] if str(error) else "no detail"
        raise ModelError(f"{repo_id}: {failure} ({type(error).__name__}: {detail})") from None


def checkpoint_dir(model_dir: str | os.PathLike) -> Path:
    """Where training of ``model_dir`` keeps its checkpoints: a hidden sibling,
    so the model directory itself only ever holds a finished model."""
    model_dir = Path(model_dir)
    return model_dir.parent / f".{model_dir.name}{CHECKPOINT_SUFFIX}"


def data_fingerprint(records: list[IGTRecord]) -> str:
    """A digest of ``records``' text and languages: a checkpoint says which
    training and dev sentences its run had, so a run on others cannot resume it."""
    digest = hashlib.sha256()
    for record in records:
        fields = (record.transcription, record.segmentation, record.glosses, record.translation,
                  record.language.iso639_3, record.language.glottocode, record.language.name)
        digest.update("\x1f".join("" if field is None else field for field in fields).encode("utf-8") + b"\x1e")
    return f"{len(records)}:{digest.hexdigest()[:16]}"


def refuse_other_sentences(checkpoint: Path, then: dict, now: dict) -> None:
    """Refuse to resume ``checkpoint``, whose run had the sentences ``then``
    (:func:`data_fingerprint` by part: train, dev), in a run on ``now``. A
    checkpoint without the record (an older one) is trusted as before."""
    different = [name for name, found in (then or {}).items() if found != now.get(name, found)]
    if different:
        counts = ", ".join(f"{name}: {then[name].split(':')[0]} sentences then, {now[name].split(':')[0]} now"
                           for name in different)
        raise ModelError(f"{checkpoint}: the checkpoint of an earlier run on other sentences ({counts}); "
                         f"rerun with --restart to discard it and train afresh")


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
        if self.calibration is not None:
            outputs = [self.calibration.apply(record, output) for record, output in zip(records, outputs)]
        return outputs

    #: The map from the confidence the model computes to the share of such
    #: guesses that are right (see :mod:`autogloss.calibration`); None: as computed.
    calibration: Calibration | None = None

    def calibrate(self, held_out: list[IGTRecord], method: str = "auto") -> Calibration:
        """Fit the confidence calibration on glossed records held out of
        training (never ones the model learnt from: its confidence there says
        nothing about new text) and use it from now on."""
        self.calibration = None
        from ..calibration import fit_calibration, held_out_inputs

        inputs, gold = held_out_inputs(held_out)
        self.calibration = fit_calibration(inputs, gold, list(self.gloss_with_confidence(inputs)), method)
        return self.calibration

    def gloss(self, records: Iterable[IGTRecord]) -> Iterator[IGTRecord]:
        """Gloss records, streaming: each comes back with ``glosses`` filled in."""
        for output in self.gloss_with_confidence(records):
            yield output.record

    def training_data(self) -> TrainingData:
        """What the model was trained on (languages, settings, files), as its
        config records it; by default not recorded."""
        return TrainingData()

    def configure(self, *, beams: int | None = None, lexicon: bool = True) -> None:
        """Gloss-time choices: ``beams`` for models that search (None: the
        model's own), ``lexicon`` False to switch off lexicon induction where
        a model has it. A choice that does not apply to a model is ignored."""

    # -- saving and loading ------------------------------------------------------
    #: The settings file of the model directory (its :class:`ModelConfig`).
    config_name: ClassVar[str] = CONFIG_NAME
    #: The ``model_type`` values :meth:`from_pretrained` accepts (``("*",)``: any).
    model_types: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def config(self, **options) -> ModelConfig:
        """What :data:`config_name` holds for this model, saved with ``options``."""

    @abstractmethod
    def model_card(self) -> str:
        """The ``README.md`` of the model directory."""

    @abstractmethod
    def _save_files(self, staging: Path, **options) -> None:
        """Write the model's own files (parameters, vocabularies, ...) into ``staging``."""

    def save_pretrained(self, directory: str | os.PathLike, **options) -> None:
        """Write the model directory, atomically: its files, :meth:`config`
        and :meth:`model_card` (``options`` go to the model's own files)."""
        with atomic_directory(directory) as staging:
            self._save_files(staging, **options)
            config = self.config(**options).to_dict()
            if self.calibration is not None:
                config[CALIBRATION_KEY] = self.calibration.to_dict()
            write_json(staging / self.config_name, config)
            (staging / CARD_NAME).write_text(self.model_card(), encoding="utf-8")

    #: The files of a hub repository this class needs (None: all of them).
    hub_files: ClassVar[list[str] | None] = None
    #: Where the model was loaded from (a directory, or the hub id it was downloaded as).
    source: str | None = None

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, source: str | None = None) -> Glosser:
        """Load a model directory of this class (any model, with its own
        class, and hub models are :func:`autogloss.models.loading.load_model`'s);
        ``source``: the hub id it was downloaded as."""
        directory = Path(directory)
        config = cls._read_config(directory)
        found = config.get("model_type")
        if cls.model_types != ("*",) and found not in (cls.model_types or (cls.model_type,)):
            raise ModelError(f"{directory}: a '{found}' model, not a '{cls.model_type}' one")
        glosser = cls._load(directory, config)
        glosser.source = source or str(directory.resolve())
        if config.get(CALIBRATION_KEY) is not None:
            try:
                from ..calibration import Calibration

                glosser.calibration = Calibration.from_dict(config[CALIBRATION_KEY])
            except ValueError as error:
                raise ModelError(f"{directory / CONFIG_NAME}: corrupt calibration ({error})") from None
        return glosser

    @classmethod
    def _read_config(cls, directory: Path) -> dict:
        return read_config(directory)

    @classmethod
    @abstractmethod
    def _load(cls, directory: Path, config: dict) -> Glosser:
        """Build the model from a checked directory and its parsed ``config.json``."""


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
        changes["segmentation_predicted"] = any(output.record.segmentation_predicted for output in outputs)
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
