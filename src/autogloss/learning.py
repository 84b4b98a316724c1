"""The glossing loop: a model that learns from a linguist's corrections, and
what the linguist's work shows of it.

**Learning** (the post-editor's "learn from my corrections"): a copy of the
current model is fine-tuned on the sentences accepted in the post-editor,
read from the corrections log exactly as ``autogloss finetune
--from-corrections`` reads it (:func:`autogloss.corrections.training_corrections`,
then :func:`autogloss.training.finetune_model`), for a fixed number of epochs
(deterministic: the same corrections give the same model at any load on one machine), and
saved next to the log, in ``<log stem>.models/learned-<n>/``
(:func:`next_model_dir`), with a model card naming the log, the number of
sentences and the base model. :func:`run_learning_job` does that in a process
of its own and reports its progress to a JSON file (:class:`StatusFile`);
:func:`regloss_unaccepted` then glosses again, with the new model, the machine
guesses of the sentences nobody has accepted: never an accepted sentence, never
a gloss a person gave.

**Effort** (:func:`effort`): per document, how many glosses the model filled,
how many of them the linguist changed, and the model's running agreement with
the linguist: the share of its guesses accepted unchanged over the last
:data:`AGREEMENT_WINDOW` accepted sentences (each accepted sentence one
:class:`Review`, made when it is accepted).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .corrections import training_corrections
from .errors import AutoglossError
from .fileio import atomic_write
from .glossing import FillSummary, fill_document
from .interlinear.document import GlossSlot, GlossState, InterlinearDocument, Sentence, TrainingSelection
from .progress import Reporter, Task
from .training import Schedule, finetune_model

if TYPE_CHECKING:
    from .models.base import Glosser

logger = logging.getLogger(__name__)

#: Epochs of a fine-tuning on the corrections (``autogloss serve --learn-epochs``).
LEARN_EPOCHS = 10
#: Fewest accepted sentences (every morpheme glossed) a model learns from.
MIN_SENTENCES = 3
#: Accepted sentences the running agreement is taken over.
AGREEMENT_WINDOW = 10
#: The name of a learned model (and of its folder): ``learned-<n>``.
LEARNED_NAME = re.compile(r"^learned-([0-9]{1,6})$")
#: How much lower the CPU priority of the post-editor's learning process is than the server's.
LEARN_NICENESS = 5
#: How often, at most, the progress file is rewritten while a step runs (seconds).
STATUS_EVERY_SECONDS = 0.5


# -- where learned models live ------------------------------------------------------
def models_folder(corrections: str | os.PathLike) -> Path:
    """The folder of the models learned from a corrections log: ``<stem>.models`` beside it."""
    path = Path(corrections)
    return path.with_name(f"{path.stem}.models")


def learned_models(corrections: str | os.PathLike) -> dict[str, Path]:
    """The models already learned from a corrections log, by name, oldest first."""
    folder = models_folder(corrections)
    if not folder.is_dir():
        return {}
    found = [(int(match.group(1)), path) for path in folder.iterdir()
             if (match := LEARNED_NAME.match(path.name)) and (path / "config.json").is_file()]
    return {path.name: path for _, path in sorted(found)}


def next_model_dir(corrections: str | os.PathLike) -> Path:
    """A new folder name for the next model learned from a log (one more than any there)."""
    folder = models_folder(corrections)
    taken = [int(match.group(1)) for path in (folder.iterdir() if folder.is_dir() else ())
             if (match := LEARNED_NAME.match(path.name))]
    return folder / f"learned-{max(taken, default=0) + 1}"


# -- learning -----------------------------------------------------------------------
@dataclass(frozen=True)
class LearningJob:
    """One fine-tuning on a corrections log: what it starts from and where it goes.

    ``base`` is the model directory of the current model (None: the packaged
    model), ``base_name`` the name the model list gives it; ``status`` the
    JSON file the job reports its progress to (see :class:`StatusFile`).
    """

    corrections: Path
    base: Path | None
    base_name: str
    out_dir: Path
    epochs: int = LEARN_EPOCHS
    min_sentences: int = MIN_SENTENCES
    status: Path | None = None
    #: Torch threads the training uses, and how much lower its CPU priority is
    #: (``os.nice``; for a process of its own), leaving the cores to glossing first.
    threads: int = 1
    niceness: int = 0


def corrections_to_learn(corrections: str | os.PathLike, min_sentences: int = MIN_SENTENCES) -> TrainingSelection:
    """The accepted sentences a model may learn from, as ``finetune
    --from-corrections`` reads them; fewer than ``min_sentences``, or a
    malformed log (the file and line named), is an :class:`AutoglossError`."""
    selection = training_corrections(corrections)
    if len(selection.records) < min_sentences:
        left_out = f" ({selection.partial:,} more left out with empty glosses)" if selection.partial else ""
        raise AutoglossError(f"{corrections}: {len(selection.records)} accepted sentence(s) with every morpheme "
                             f"glossed{left_out}; accept at least {min_sentences} before learning from them")
    return selection


def learn_from_corrections(job: LearningJob, progress=None) -> Glosser:
    """Fine-tune a copy of ``job.base`` on the corrections for ``job.epochs``
    epochs (no early stopping: there is no dev set) and save it to
    ``job.out_dir``; the base model's folder is only read."""
    import torch

    from .models.loading import load_model

    torch.set_num_threads(max(job.threads, 1))
    selection = corrections_to_learn(job.corrections, job.min_sentences)
    base = load_model(job.base)
    schedule = Schedule(epochs=job.epochs, max_minutes=None, patience=job.epochs)
    described = f"{job.corrections} ({len(selection.records):,} sentences accepted in the post-editor)"
    # every label of the base stays: the sentences still to gloss need more than the corrections use
    return finetune_model(base, selection.records, [], job.out_dir, schedule, base_name=job.base_name,
                          sources=[described], keep_all_labels=True, progress=progress)


class StatusFile(Reporter):
    """A learning job's progress, as a JSON object in a file another process
    reads: ``state`` (``training``, ``trained``, ``failed``), ``phase`` (what
    runs, e.g. "training epoch 2/10"), ``done`` and ``total`` (its steps),
    ``elapsed`` and ``eta`` (seconds; ``eta`` None while unknown),
    ``message`` (the latest progress line, or why it failed). Written
    atomically, at most every :data:`STATUS_EVERY_SECONDS` while a step runs."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.started = time.monotonic()
        self.fields: dict = {"state": "training", "phase": "loading the model", "done": 0, "total": None,
                             "elapsed": 0.0, "eta": None, "message": ""}
        self.written = 0.0
        self.write()

    def update(self, **fields) -> None:
        self.fields.update(fields)
        self.write()

    def write(self, force: bool = True) -> None:
        now = time.monotonic()
        if not force and now - self.written < STATUS_EVERY_SECONDS:
            return
        self.fields["elapsed"] = round(now - self.started, 1)
        with atomic_write(self.path) as handle:
            json.dump(self.fields, handle)
        self.written = now

    def __call__(self, message: str) -> None:
        self.update(message=message.strip().splitlines()[-1] if message.strip() else "")

    def task(self, description: str, total: float | None = None) -> Task:
        return _StatusTask(self, description, total)

    @staticmethod
    def read(path: str | os.PathLike) -> dict:
        """What the job last reported (empty before its first report)."""
        try:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}


class _StatusTask(Task):
    def __init__(self, status: StatusFile, description: str, total: float | None):
        super().__init__(description, total)
        self.status = status
        self.phase = description

    def _shown(self) -> None:
        changed = self.description != self.phase
        self.phase = self.description
        left = self.seconds_left()
        self.status.fields.update(phase=self.description, done=int(self.completed),
                                  total=None if self.total is None else int(self.total),
                                  eta=None if left is None else round(left, 1))
        self.status.write(force=changed)


def run_learning_job(job: LearningJob) -> None:
    """A learning job, run in a process of its own: fine-tune
    (:func:`learn_from_corrections`), reporting to ``job.status``; ends with
    state ``trained``, or ``failed`` and a one-line message, the unfinished
    model folder removed. The corrections log and the base model are only read."""
    if job.status is None:
        raise ValueError("a learning job run on its own needs job.status, the file it reports to")
    status = StatusFile(job.status)
    try:
        if job.niceness > 0:
            os.nice(job.niceness)  # a priority cannot be raised again: this process ends with the job
        learn_from_corrections(job, progress=status)
    except AutoglossError as error:
        _failed(job, status, str(error))
    except Exception as error:  # noqa: BLE001 - a training that breaks is reported, not raised into nowhere
        logger.warning("learning from %s failed: %s", job.corrections, traceback.format_exc())
        _failed(job, status, f"training failed ({type(error).__name__}: {error})")
    else:
        status.update(state="trained", phase="trained", eta=0.0, message=f"saved to {job.out_dir}")


def _failed(job: LearningJob, status: StatusFile, message: str) -> None:
    shutil.rmtree(job.out_dir, ignore_errors=True)
    status.update(state="failed", message=" ".join(message.split()))


def regloss_unaccepted(document: InterlinearDocument, glosser: Glosser) -> FillSummary:
    """Gloss again, with ``glosser``, the machine guesses and empty slots of
    every sentence not accepted: accepted sentences and a person's glosses
    stay as they are (:func:`fill_document` never writes those). A word cut
    into morphemes by the earlier model (``segmentation_predicted``, every
    slot a guess) is cut again by the new one; where the new model gives it no
    gloss, the word keeps its earlier guesses."""
    todo = [sentence for sentence in document.sentences if not sentence.accepted]
    earlier = [_uncut(word) for sentence in todo for word in sentence.words]
    summary = fill_document(document, glosser, overwrite_guesses=True, sentences=todo)
    for word, before in zip((word for sentence in todo for word in sentence.words), earlier):
        if before is not None and any(slot.state is GlossState.EMPTY for slot in word.slots):
            word.slots, word.segmented, word.segmentation_predicted = before, True, True
    return summary


def _uncut(word) -> list[GlossSlot] | None:
    """Undo a predicted cut of a word whose every morpheme is a guess (for the
    new model to cut it again); its earlier slots, or None when it stays as it is."""
    if not word.segmentation_predicted or not all(slot.editable and slot.state is GlossState.GUESS
                                                  for slot in word.slots):
        return None
    before = word.slots
    word.slots, word.segmented, word.segmentation_predicted = [GlossSlot(word.form)], False, False
    return before


# -- effort -------------------------------------------------------------------------
@dataclass(frozen=True)
class Review:
    """One accepted sentence: what the model offered and what the linguist did.

    ``guesses``: its machine guesses when it was accepted; ``changed``: how
    many of them the linguist changed; ``filled``: empty glosses they filled;
    ``model``: the model whose guesses they were."""

    sentence: int
    model: str
    guesses: int
    changed: int
    filled: int = 0


def review_of(index: int, sentence: Sentence, edited: Iterable[tuple[int, int, str, str]], model: str,
              states: dict[tuple[int, int], GlossState]) -> Review:
    """The review of sentence ``index`` accepted with ``edited`` (its changed
    cells, as ``(word, morpheme, old, new)`` from 1) when its editable slots
    had ``states`` (see :func:`states_before`)."""
    changed = [states.get((word - 1, slot - 1)) for word, slot, _, _ in edited]
    return Review(index, model, guesses=sum(state is GlossState.GUESS for state in states.values()),
                  changed=changed.count(GlossState.GUESS), filled=changed.count(GlossState.EMPTY))


def states_before(sentence: Sentence) -> dict[tuple[int, int], GlossState]:
    """The states of a sentence's editable slots (taken before a person's glosses are written)."""
    return {(w, s): slot.state for w, s, slot in sentence.slots() if slot.editable}


@dataclass
class Effort:
    """What glossing a document has cost so far (see the module docstring).

    ``filled``: glosses the model filled (guesses still open plus those
    reviewed); ``reviewed``: guesses in accepted sentences; ``changed``: of
    those, the ones the linguist changed; ``agreement``: the share of guesses
    accepted unchanged in the last ``window_sentences`` accepted sentences
    (None before any); ``by_model``: per model, [guesses reviewed, changed]."""

    filled: int = 0
    open_guesses: int = 0
    accepted: int = 0
    reviewed: int = 0
    changed: int = 0
    typed: int = 0
    agreement: float | None = None
    window: int = AGREEMENT_WINDOW
    window_sentences: int = 0
    by_model: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def effort(document: InterlinearDocument, reviews: Sequence[Review], window: int = AGREEMENT_WINDOW) -> Effort:
    """The effort of ``document`` from its slots and the reviews of its
    accepted sentences, in the order they were accepted (a sentence accepted
    again counts once, as first accepted: it offers no guess any more)."""
    first: dict[int, Review] = {}
    for review in reviews:
        first.setdefault(review.sentence, review)
    counted = list(first.values())
    open_guesses = sum(slot.state is GlossState.GUESS for sentence in document.sentences if not sentence.accepted
                       for _, _, slot in sentence.slots())
    result = Effort(open_guesses=open_guesses, accepted=sum(s.accepted for s in document.sentences), window=window,
                    reviewed=sum(r.guesses for r in counted), changed=sum(r.changed for r in counted),
                    typed=sum(r.filled for r in counted))
    result.filled = result.open_guesses + result.reviewed
    for review in counted:
        tally = result.by_model.setdefault(review.model, [0, 0])
        tally[0] += review.guesses
        tally[1] += review.changed
    recent = [review for review in counted if review.guesses][-window:] if window > 0 else []
    offered = sum(review.guesses for review in recent)
    if offered:
        result.agreement = 1 - sum(review.changed for review in recent) / offered
        result.window_sentences = len(recent)
    return result


__all__ = ["AGREEMENT_WINDOW", "LEARN_EPOCHS", "MIN_SENTENCES", "Effort", "LearningJob", "Review", "StatusFile",
           "corrections_to_learn", "effort", "learn_from_corrections", "learned_models", "models_folder",
           "next_model_dir", "regloss_unaccepted", "review_of", "run_learning_job", "states_before"]
