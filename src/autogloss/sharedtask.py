"""SIGMORPHON 2023 shared-task experiments: train, score on dev, predict test.

For each language and track a glosser is trained on the training file,
scored on the dev file with both scorers, and used to fill in the covered
test inputs. Arapaho has no gold training data here, so its dev set is cut
in two: the first half trains, the second half is scored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .corpus.sources import SHARED_TASK_LANGUAGES, shared_task_file
from .errors import AutoglossError
from .fileio import atomic_write
from .formats import write_records
from .formats.sigmorphon import read_sigmorphon
from .glossing import gloss_records
from .metrics import Evaluation, evaluate_records, evaluate_segmentation
from .models.base import Glosser
from .records import GlossedRecord, IGTRecord

TRACKS = (1, 2)
#: Fine-tuning time per task of the main job (``autogloss pipeline``): 14 tasks, two at a time, in about 30 minutes.
PIPELINE_MINUTES = 3.0
#: The benchmark's time per task (``python -m bench.sigmorphon``; ``autogloss pipeline --full``).
BENCHMARK_MINUTES = 10.0
#: What an epoch of each task's neural training, and the work around it, cost
#: in CPU seconds on the reference machine, measured once by ``python -m
#: bench.epochs``; :class:`TrainingLength` turns a budget into fixed epochs
#: with it, which makes the main job's scores reproducible.
MEASURED_EPOCHS = Path(__file__).parent / "data" / "shared_task_epochs.json"
VALIDATION_SHARE = 0.1  # of the training data, held out for model selection: dev is only scored
DEV_TRAIN_FRACTION = 0.5  # share of dev used for training where no train file exists

Trainer = Callable[[list[IGTRecord], list[IGTRecord], str], Glosser]
class PipelineModel(StrEnum):
    """The models ``autogloss pipeline`` can run (see :func:`pipeline_trainer`)."""

    NEURAL_PRETRAINED = "neural-pretrained"  # the packaged model fine-tuned per task: the main model
    NEURAL = "neural"                        # the neural glosser from scratch
    MAJORITY = "majority"                    # the most frequent gloss per morpheme or word




def split_validation(train: list[IGTRecord], share: float = VALIDATION_SHARE) -> tuple[list[IGTRecord], list[IGTRecord]]:
    """Hold out the last sentences of the training data for model selection:
    ``share`` of them, at least 3, at most a third."""
    held = min(max(3, int(len(train) * share)), max(len(train) // 3, 1))
    return train[:-held], train[-held:]


def majority_trainer(train: list[IGTRecord], dev: list[IGTRecord], description: str) -> Glosser:
    from .models import MajorityGlosser

    return MajorityGlosser.train(train, description)


MAX_EPOCHS = 200  # far more than 10 minutes allow on any shared-task language
SMALL_DATA_EPOCHS = 300  # of a language too small to hold sentences out, in batches of 8
SMALL_DATA_SENTENCES = 200  # below this, holding sentences out costs more than model selection gains


def neural_trainer(minutes: float | None, hidden: int = 128, base: str | Path | None = None,
                   progress: Callable[[str], None] | None = None, seed: int = 0,
                   epochs: float | None = None, memory_threshold: float = 0.0) -> Trainer:
    """A trainer of the neural glosser within ``minutes`` per task of wall
    time, or for exactly ``epochs`` epochs (a fraction ends within an epoch;
    the same data, seed and thread count then give the same model at any
    load on one machine; another CPU may sum in another order): from scratch, or fine-tuned from the pretrained
    model ``base``.

    The model is selected, and its confidence calibrated, on a tenth of the
    training sentences drawn at random (:func:`~autogloss.training.calibration_split`;
    the end of a training file is often one text unlike the rest: Uspanteko's
    last tenth has 25% unseen words, its dev set 15%). Languages with fewer than
    :data:`SMALL_DATA_SENTENCES` sentences (Gitksan has 31) train on all of
    them, in small batches, for a fixed number of epochs, trust the memory for
    every form seen in training (``memory_threshold`` 0; 1.0: only for forms
    glossed one way throughout, as a fine-tune of a linguist's corrections
    does, :data:`~autogloss.training.UNTUNED_FINETUNE_MEMORY`), and are
    calibrated on cross-fitted models (run of fixed epochs only).
    """

    def train_neural(train: list[IGTRecord], dev: list[IGTRecord], description: str) -> Glosser:
        import tempfile

        import torch

        from .models.neural import NeuralGlosser, train_glosser
        from .progress import Budget
        from .calibration import CROSS_FIT_FOLDS
        from .training import Schedule, Start, calibration_split, neural_settings

        timed = epochs is None
        # the task's whole training: loading, growing, training, tuning
        budget = Budget(60 * minutes if timed and minutes is not None else None)
        # The time budget, not an epoch count, ends a timed run: a cap of 60
        # epochs stopped nyb and ntu track 2 after 6-7 of their 10 minutes.
        schedule = Schedule(epochs=MAX_EPOCHS if timed else epochs, max_minutes=minutes if timed else None,
                            batch_size=32, patience=100, seed=seed)
        settings = neural_settings(schedule, Start.SCRATCH if base is None else Start.FINETUNE)
        if len(train) < SMALL_DATA_SENTENCES:
            fit_on, validation = train, []
            settings.epochs, settings.batch_size = (SMALL_DATA_EPOCHS if timed else epochs), 8
            description += " (all of it; too small to hold sentences out)"
        else:
            fit_on, validation = calibration_split(train)
            description += " (90%; a random 10% held out for model selection and calibration)"
        torch.manual_seed(seed)  # the vocabulary rows grown below are drawn at random
        start = NeuralGlosser.from_pretrained(base) if base is not None else None
        if start is not None and len(train) >= SMALL_DATA_SENTENCES:
            # One language's own labels suffice (cut after training, no dev
            # score changed); cut before, training runs about 1.5 times and
            # glossing several times faster. Gitksan keeps them all.
            start.extend_vocabularies(train)
            start.keep_only_labels(train)
        with tempfile.TemporaryDirectory() as work:
            # the held-out tenth selects the epoch and then fits the confidence calibration
            glosser = train_glosser(fit_on, validation, Path(work) / "model", settings, base=start,
                                    description=description, network_options={"hidden": hidden}, progress=progress,
                                    save=False, budget=budget,  # run_task saves the model where the results go
                                    calibration=validation, cross_fit=0 if validation else CROSS_FIT_FOLDS,
                                    memory_threshold=memory_threshold)
        # Selection is over: the memory may now count the held-out sentences too.
        glosser.remember(train)
        return glosser

    return train_neural


def seq2seq_trainer(minutes: float, model_options: dict | None = None, base: str | Path | None = None,
                    settings=None, generation=None, progress: Callable[[str], None] | None = None) -> Trainer:
    """A trainer of seq2seq glossers within ``minutes`` per task: a new T5
    (``model_options``), or ``base`` fine-tuned. The last tenth of the
    training data selects the model (the neural trainer holds out a random
    tenth, which also calibrates; this one is not calibrated); languages with
    fewer than :data:`SMALL_DATA_SENTENCES` sentences train on all of it,
    without selection. ``settings``: Seq2SeqTrainingSettings, ``generation``:
    GenerationSettings (defaults: the shared-task ones)."""
    from dataclasses import replace

    def train_one(train: list[IGTRecord], dev: list[IGTRecord], description: str) -> Glosser:
        import tempfile

        from .models.seq2seq.glosser import Seq2SeqGlosser
        from .models.seq2seq.training import Seq2SeqTrainingSettings, train_seq2seq

        # A fixed warm-up: a share of 1000 planned epochs would outlast the time budget.
        chosen = replace(settings or Seq2SeqTrainingSettings(epochs=1000, patience=10, batch_size=16,
                                                             learning_rate=1e-3, warmup=50), max_minutes=minutes)
        if len(train) < SMALL_DATA_SENTENCES:
            fit_on, validation = train, []
            description += " (all of it; too small to hold sentences out)"
        else:
            fit_on, validation = split_validation(train)
            description += " (90%; last 10% held out for model selection)"
        start = Seq2SeqGlosser.from_pretrained(base) if base is not None else None
        with tempfile.TemporaryDirectory() as work:
            return train_seq2seq(fit_on, validation, Path(work) / "model", chosen, base=start,
                                 new_model_options=model_options, generation=generation, description=description,
                                 progress=progress, save=False)  # run_task saves the model where the results go

    return train_one


@dataclass
class TaskData:
    iso: str
    track: int
    train: list[IGTRecord]
    dev_inputs: list[IGTRecord]
    dev_gold: list[IGTRecord]
    test_inputs: list[IGTRecord]
    train_note: str = ""
    #: Track 1 only: the dev sentences with their gold ``\\m`` line (from the
    #: track 2 dev file, the same sentences), against which the segmentation a
    #: model finds for plain input is scored; empty when not available.
    segmentation_gold: list[IGTRecord] = field(default_factory=list)


def covered_inputs(records: list[IGTRecord], track: int) -> list[IGTRecord]:
    """Gold records turned into inputs, as the covered files are."""
    return [r.replace(glosses="", segmentation=r.segmentation if track == 2 else None) for r in records]


def load_task(data_dir: Path, iso: str, track: int) -> TaskData:
    """The training, dev and test data of one language and track."""

    def read(split: str, covered: bool, track: int = track) -> list[IGTRecord]:
        path = shared_task_file(data_dir, iso, split, track, covered)
        return list(read_sigmorphon(path)) if path.exists() else []

    train, dev_gold = read("train", False), read("dev", False)
    test_inputs = read("test", True)
    segmentation_gold = read("dev", False, track=2) if track == 1 else []
    note = ""
    if not train:
        cut = int(len(dev_gold) * DEV_TRAIN_FRACTION)
        train, dev_gold = dev_gold[:cut], dev_gold[cut:]
        segmentation_gold = segmentation_gold[cut:]
        note = f"no gold train data: trained on dev sentences 1-{cut}, scored on the remaining {len(dev_gold)}"
        dev_inputs = covered_inputs(dev_gold, track)
    else:
        dev_inputs = read("dev", True)
    if [r.transcription for r in segmentation_gold] != [r.transcription for r in dev_gold]:
        segmentation_gold = []  # not the same sentences: nothing to score segmentation against
    return TaskData(iso, track, train, dev_inputs, dev_gold, test_inputs, note, segmentation_gold)


@dataclass
class TaskResult:
    iso: str
    track: int
    train_sentences: int
    dev_sentences: int
    official: Evaluation
    glosslm: Evaluation
    train_seconds: float
    gloss_seconds: float
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def sentences_per_second(self) -> float:
        return self.dev_sentences / self.gloss_seconds if self.gloss_seconds > 0 else float("inf")

    def to_json(self) -> dict:
        return {
            "language": self.iso, "track": self.track, "train_sentences": self.train_sentences,
            "dev_sentences": self.dev_sentences, "train_seconds": self.train_seconds,
            "gloss_seconds": self.gloss_seconds, "sentences_per_second": self.sentences_per_second,
            "note": self.note, "official": self.official.to_json(), "glosslm": self.glosslm.to_json(),
            **self.extra,
        }


def run_task(task: TaskData, trainer: Trainer, out_dir: Path, model_name: str) -> TaskResult:
    """Train, score on dev and write dev and test predictions for one task."""
    started, cpu_started = time.perf_counter(), time.process_time()
    description = f"SIGMORPHON 2023 {task.iso} track {task.track} training data"
    glosser = trainer(task.train, [], description)
    train_seconds, train_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    glosser.save_pretrained(out_dir / "models" / f"{model_name}-{task.iso}-track{task.track}")
    result = score_task(task, glosser, out_dir, train_seconds)
    budget = getattr(glosser, "info", {}).get("budget")  # what a neural run did (epochs, minutes): its model card's
    if budget:
        result.extra["training"] = {**budget, "train_cpu_minutes": round(train_cpu_seconds / 60, 3)}
    return result


def score_task(task: TaskData, glosser: Glosser, out_dir: Path, train_seconds: float) -> TaskResult:
    """Score a trained model on dev (glosses; the calibration of its
    confidences; in track 1 the segmentation it found) and write its dev and
    test predictions."""
    started = time.perf_counter()
    dev_outputs = list(gloss_records(task.dev_inputs, glosser))
    gloss_seconds = time.perf_counter() - started
    dev_predictions = [output.record for output in dev_outputs]
    predictions = out_dir / "predictions"
    # dev files keep the segmentation found for plain input, as a \m line (python -m bench.segmentation re-scores it)
    write_records(dev_predictions, predictions / f"{task.iso}-dev-track{task.track}.txt", "sigmorphon",
                  write_segmentation=True)
    if task.test_inputs:
        write_records(gloss_records(task.test_inputs, glosser), predictions / f"{task.iso}-test-track{task.track}.txt",
                      "sigmorphon")
    extra = {"calibration": dev_calibration(task, glosser, dev_outputs)}
    segmentation = evaluate_segmentation(task.segmentation_gold, dev_predictions) if task.segmentation_gold else None
    if segmentation is not None:
        extra["segmentation"] = segmentation.to_json()
    return TaskResult(
        iso=task.iso, track=task.track, train_sentences=len(task.train), dev_sentences=len(task.dev_gold),
        official=evaluate_records(task.dev_gold, dev_predictions, "official"),
        glosslm=evaluate_records(task.dev_gold, dev_predictions, "glosslm"),
        train_seconds=train_seconds, gloss_seconds=gloss_seconds, note=task.train_note, extra=extra,
    )


def dev_calibration(task: TaskData, glosser: Glosser, dev_outputs: list[GlossedRecord]) -> dict:
    """How well the confidences of ``dev_outputs`` (the task's dev inputs
    glossed by ``glosser``) say how often a gloss is right: the reliability
    (ECE, bins) as glossed, and, for a calibrated model, with its calibration
    switched off (``uncalibrated``)."""
    from .calibration import chance_ece, outcomes, reliability

    confidences, right = outcomes(task.dev_gold, dev_outputs)
    found = reliability(confidences, right).to_json()
    found["chance"] = chance_ece(confidences)  # what a calibrated glosser would show on these many morphemes
    calibration = glosser.calibration
    if calibration is not None and calibration.maps:
        try:
            glosser.calibration = None
            raw = list(gloss_records(task.dev_inputs, glosser))
        finally:
            glosser.calibration = calibration
        found["uncalibrated"] = reliability(*outcomes(task.dev_gold, raw)).to_json()
    found["calibrated"] = bool(calibration is not None and calibration.maps)
    return found


@dataclass(frozen=True)
class TrainingLength:
    """How long each task's neural model trains in the pipeline.

    By default for the epochs that ``minutes`` of one thread's CPU time give
    the task at the costs measured once on the reference machine
    (:data:`MEASURED_EPOCHS`, written by ``python -m bench.epochs``): CPU
    seconds per epoch of the training loop (dev scoring included) and of the
    work around it (loading, memory tuning, calibration, saving), which do
    not grow with the epochs. The same code then gives the same scores at any
    load on one machine (on another CPU a few tasks end elsewhere: Gitksan
    track 1 34.79 on an AMD EPYC, 35.57 on an Intel Xeon); only the time taken differs. ``wall_clock``: until
    ``minutes`` of wall time have passed instead, so the epochs, and the
    scores, depend on the machine and its load. ``fixed_epochs``: every task
    that many (what the measurement runs).
    """

    minutes: float
    wall_clock: bool = False
    fixed_epochs: float | None = None
    #: Tasks (``ddo-track1``) that train for other minutes than ``minutes``, as pairs (e.g. :data:`LONGER_TASKS`).
    task_minutes: tuple[tuple[str, float], ...] = ()

    def minutes_for(self, iso: str, track: int) -> float:
        """The minutes task ``iso``/``track`` trains for."""
        return dict(self.task_minutes).get(f"{iso}-track{track}", self.minutes)

    def epochs(self, model: str, iso: str, track: int) -> float | None:
        """The epochs task ``iso``/``track`` of ``model`` trains for; None
        when the clock decides (``wall_clock``, or no measurement of it)."""
        if self.fixed_epochs is not None:
            return self.fixed_epochs
        if self.wall_clock:
            return None
        measured = measured_epochs().get(model, {}).get(f"{iso}-track{track}")
        return None if measured is None else affordable_epochs(measured, self.minutes_for(iso, track))

    def describe(self, model: str, iso: str, track: int) -> str:
        epochs, minutes = self.epochs(model, iso, track), self.minutes_for(iso, track)
        if epochs is None:
            return f"{minutes:g} min of wall time"
        if self.fixed_epochs is not None:
            return f"{epochs:g} epochs"
        return f"{epochs:g} epochs (what {minutes:g} min of one thread give on the reference machine)"


#: Tasks that kept gaining on dev from longer training than :data:`BENCHMARK_MINUTES`:
#: track 1 of the data-rich languages (``python -m bench.track1_budget``,
#: ``bench/results/track1-budget.md``) and Nyangbo track 2 (90.59 -> 92.18 morpheme
#: accuracy from 10 to 20 minutes). The benchmark and ``pipeline --full`` give them these minutes.
LONGER_TASKS: tuple[tuple[str, float], ...] = (("ddo-track1", 40.0), ("nyb-track1", 20.0), ("usp-track1", 20.0),
                                               ("nyb-track2", 20.0))


def format_task_minutes(pairs: Iterable[tuple[str, float]]) -> str:
    """Task budgets as options write them: ``ddo-track1=40,usp-track1=20`` (``none`` for none)."""
    return ",".join(f"{task}={minutes:g}" for task, minutes in pairs) or "none"


def parse_task_minutes(text: str) -> tuple[tuple[str, float], ...]:
    """The task budgets :func:`format_task_minutes` writes."""
    if text.strip().lower() == "none":
        return ()
    pairs = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        task, equals, minutes = part.partition("=")
        iso, _, track = task.partition("-track")
        if not equals or iso not in SHARED_TASK_LANGUAGES or track not in ("1", "2"):
            raise AutoglossError(f"{part!r}: expected TASK=MINUTES with a task such as ddo-track1")
        try:
            pairs.append((task, float(minutes)))
        except ValueError:
            raise AutoglossError(f"{part!r}: {minutes!r} is not a number of minutes") from None
    return tuple(pairs)


#: The fewest epochs a measured length gives (a budget shorter than the work around the loop).
MIN_EPOCHS = 0.05


def affordable_epochs(measured: dict, minutes: float, cpu: bool = True) -> float:
    """The epochs ``minutes`` afford a task at its ``measured`` costs (an
    entry of :func:`measured_epochs`): of CPU time (``cpu``), or of wall time
    at the thread count it was measured with; within :data:`MIN_EPOCHS` and
    the epoch cap of its size (an epoch too short to measure: the cap)."""
    clock = "cpu_seconds" if cpu else "seconds"
    loop, whole = measured[f"loop_{clock}"], measured[f"train_{clock}"]
    cap = SMALL_DATA_EPOCHS if measured["train_sentences"] < SMALL_DATA_SENTENCES else MAX_EPOCHS
    affordable = max(60 * minutes - (whole - loop), 0.0) / (loop / measured["epochs"]) if loop > 0 else cap
    return round(min(max(affordable, MIN_EPOCHS), cap), 2)


def measured_epochs() -> dict[str, dict[str, dict]]:
    """The measured costs per model and task (``ddo-track1``): the epochs
    measured, CPU seconds in their training loop and in the whole training,
    the training sentences."""
    if not MEASURED_EPOCHS.exists():
        return {}
    return json.loads(MEASURED_EPOCHS.read_text(encoding="utf-8"))["models"]


def pipeline_trainer(model: str, length: TrainingLength, iso: str, track: int,
                     progress: Callable[[str], None] | None = None, base: str | Path | None = None,
                     seed: int = 0) -> Trainer:
    """The trainer of a :class:`PipelineModel` for one task: the majority
    baseline, the neural glosser from scratch, or a pretrained multilingual
    model fine-tuned (``base``, default the packaged one), each neural one
    for the task's :class:`TrainingLength`, with training seed ``seed``."""
    if model not in tuple(PipelineModel):
        raise AutoglossError(f"unknown model '{model}' (choose {', '.join(PipelineModel)})")
    if model == PipelineModel.MAJORITY:
        return majority_trainer
    epochs, minutes = length.epochs(model, iso, track), length.minutes_for(iso, track)
    if model == PipelineModel.NEURAL_PRETRAINED:
        from .models.loading import DEFAULT_MODEL_DIR

        return neural_trainer(minutes, base=base or DEFAULT_MODEL_DIR, progress=progress, epochs=epochs, seed=seed)
    return neural_trainer(minutes, progress=progress, epochs=epochs, seed=seed)


def pipeline_bases(base: str | Path | None = None, track1_base: str | Path | None = None) -> dict[int, Path]:
    """The pretrained model each track of ``neural-pretrained`` fine-tunes:
    ``base`` (default: the packaged model) for both, or ``track1_base`` for
    track 1 (e.g. a model pretrained without the shared-task segmentations,
    ``autogloss pretrain --without-shared-task-segmentation``, as the
    shared task's track 1 rules require)."""
    from .models.loading import DEFAULT_MODEL_DIR

    both = Path(base) if base else Path(DEFAULT_MODEL_DIR)
    bases = {track: both for track in TRACKS}
    if track1_base:
        bases[1] = Path(track1_base)
    for path in bases.values():
        if not (path / "config.json").is_file():
            raise AutoglossError(f"{path}: not a model directory (no config.json)")
    return bases


#: Called as tasks finish: (tasks done, tasks in all, what just finished).
TaskProgress = Callable[[int, int, str], None]


def run_pipeline(data_dir: Path, out_dir: Path, model: str, length: TrainingLength,
                 languages: Iterable[str] = tuple(SHARED_TASK_LANGUAGES), tracks: Iterable[int] = TRACKS,
                 jobs: int = 1, progress: TaskProgress | None = None,
                 bases: dict[int, Path] | None = None, seed: int = 0) -> list[TaskResult]:
    """Train, score on dev and predict test for every task of ``languages``
    and ``tracks`` with a :class:`PipelineModel`, ``jobs`` tasks at a time
    (each in its own process on one thread, so that two jobs use two cores
    without slowing each other); results are written as by :func:`run_shared_task`.
    ``bases``: the pretrained model each track fine-tunes (:func:`pipeline_bases`);
    ``seed``: the neural models' training seed."""
    languages = _known_languages(languages)
    tasks = [(iso, track) for iso in languages for track in tracks]
    bases = bases or (pipeline_bases() if model == PipelineModel.NEURAL_PRETRAINED else {})
    if jobs <= 1:
        results = []
        # as the processes of jobs > 1: the same scores either way
        with _one_thread_here() if model != PipelineModel.MAJORITY else nullcontext():
            for iso, track in tasks:
                results.append(_pipeline_task(data_dir, out_dir, model, length, iso, track, bases.get(track), seed))
                if progress:
                    progress(len(results), len(tasks), f"{iso} track {track}")
    else:
        results = _run_in_processes(data_dir, out_dir, model, length, tasks, jobs, progress, bases, seed)
    _write_results(results, out_dir, model)
    return results


def _run_in_processes(data_dir: Path, out_dir: Path, model: str, length: TrainingLength, tasks: list[tuple[str, int]],
                      jobs: int, progress: TaskProgress | None, bases: dict[int, Path],
                      seed: int = 0) -> list[TaskResult]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # the largest tasks first, so that the last ones to run are short and the jobs end together
    order = sorted(tasks, key=lambda task: -_task_size(data_dir, *task))
    results: dict[tuple[str, int], TaskResult] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_one_thread) as pool:
        futures = {pool.submit(_pipeline_task, data_dir, out_dir, model, length, iso, track, bases.get(track), seed):
                   (iso, track)
                   for iso, track in order}
        for future in as_completed(futures):
            iso, track = futures[future]
            results[(iso, track)] = future.result()
            if progress:
                progress(len(results), len(tasks), f"{iso} track {track}")
    return [results[task] for task in tasks]


@contextmanager
def _one_thread_here() -> Iterator[None]:
    """Torch on one thread in this process while the block runs (none needed without torch)."""
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _pipeline_task(data_dir: Path, out_dir: Path, model: str, length: TrainingLength, iso: str,
                   track: int, base: Path | None = None, seed: int = 0) -> TaskResult:
    trainer = pipeline_trainer(model, length, iso, track, base=base, seed=seed)
    result = run_task(load_task(data_dir, iso, track), trainer, out_dir, model)
    if model != PipelineModel.MAJORITY:
        result.extra["length"] = length.describe(model, iso, track)
    if base is not None:
        result.extra["base_model"] = base_model_name(base)
    return result


def base_model_name(path: Path) -> str:
    """How results name a base model: ``packaged`` for the packaged one, else its directory."""
    from .models.loading import DEFAULT_MODEL_DIR

    return "packaged" if Path(path).resolve() == Path(DEFAULT_MODEL_DIR).resolve() else str(path)


def saw_shared_task_segmentation(model_dir: str | Path) -> bool | None:
    """Whether the pretrained model in ``model_dir`` was trained on segmented
    sentences of a SIGMORPHON 2023 language, as its config records its
    training data (None: not recorded). Track 1 models must be fine-tuned from
    one that was not (``autogloss pretrain --without-shared-task-segmentation``)."""
    from .models.base import TrainingData
    from .records import SEGMENTED

    config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    recorded = config.get("info", {}).get("training_data")
    data = TrainingData.from_dict(recorded) if isinstance(recorded, dict) else TrainingData()
    if not data.recorded:
        return None
    return any(data.sentences(SEGMENTED, info.language) for info in SHARED_TASK_LANGUAGES.values())


def _task_size(data_dir: Path, iso: str, track: int) -> int:
    path = shared_task_file(data_dir, iso, "train", track, False)
    return path.stat().st_size if path.exists() else shared_task_file(data_dir, iso, "dev", track, False).stat().st_size


def _known_languages(languages: Iterable[str]) -> list[str]:
    languages = list(languages)
    unknown = [code for code in languages if code not in SHARED_TASK_LANGUAGES]
    if unknown:
        raise AutoglossError(f"unknown shared-task language(s) {', '.join(unknown)} "
                             f"(choose from {', '.join(SHARED_TASK_LANGUAGES)})")
    return languages


def run_shared_task(data_dir: Path, out_dir: Path, trainer: Trainer, model_name: str,
                    languages: Iterable[str] = tuple(SHARED_TASK_LANGUAGES), tracks: Iterable[int] = TRACKS,
                    progress: Callable[[str], None] | None = None) -> list[TaskResult]:
    """Run every task of ``languages`` and ``tracks``; write the results as
    JSON and a markdown table beside the models and predictions."""
    results = []
    for iso in _known_languages(languages):
        for track in tracks:
            if progress:
                progress(f"{model_name}: {iso} track {track}")
            results.append(run_task(load_task(data_dir, iso, track), trainer, out_dir, model_name))
    _write_results(results, out_dir, model_name)
    return results


def _write_results(results: list[TaskResult], out_dir: Path, model_name: str) -> None:
    with atomic_write(out_dir / f"{model_name}-results.json") as handle:
        json.dump([r.to_json() for r in results], handle, indent=2)
    with atomic_write(out_dir / f"{model_name}-results.md") as handle:
        handle.write(results_table(results, model_name))


def results_table(results: list[TaskResult] | list[dict], model_name: str) -> str:
    """A markdown table of dev scores (percent) under both scorers, from task
    results or their JSON form (:meth:`TaskResult.to_json`)."""
    rows = [r.to_json() if isinstance(r, TaskResult) else r for r in results]
    lines = [
        f"## {model_name}: SIGMORPHON 2023 dev scores",
        "",
        "| lang | track | train sents | dev sents | word acc | morph acc | word acc (glosslm) "
        "| morph acc (glosslm) | chrF++ | word acc 95% CI | ECE | segmentation F1 | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        official, glosslm = r["official"], r["glosslm"]
        low, high = official["word_accuracy_ci95"]
        lines.append(
            f"| {r['language']} | {r['track']} | {r['train_sentences']:,} | {r['dev_sentences']:,} "
            f"| {official['word_accuracy']:.2f} | {official['morpheme_accuracy']:.2f} | {glosslm['word_accuracy']:.2f} "
            f"| {glosslm['morpheme_accuracy']:.2f} | {official['chrf_pp']:.2f} | {low:.1f}-{high:.1f} "
            f"| {_ece_cell(r)} | {_segmentation_cell(r)} | {r['note']} |"
        )
    if rows:
        lines += ["", f"Scorer signature (official): `{rows[0]['official']['signature']}`",
                  f"Scorer signature (glosslm): `{rows[0]['glosslm']['signature']}`"]
        if any("calibration" in r for r in rows):
            lines.append("ECE: expected calibration error of the per-morpheme confidences on dev (10 equal-width "
                         "bins, 0 is perfect; in brackets without the calibration fitted in training; in square "
                         "brackets the 95th percentile of the ECE a perfectly calibrated glosser with the same "
                         "confidences shows on this many morphemes by chance: above it is miscalibration).")
        if any("segmentation" in r for r in rows):
            lines.append("Segmentation F1 (track 1): morpheme boundaries of the segmentation the model found for "
                         "plain input, against the `\\m` line of the same dev sentences in track 2.")
    return "\n".join(lines) + "\n"


def _ece_cell(row: dict) -> str:
    found = row.get("calibration")
    if not found or not found.get("morphemes"):
        return "-"
    raw, chance = found.get("uncalibrated"), found.get("chance")
    return (f"{found['ece']:.3f}" + (f" ({raw['ece']:.3f})" if raw else "")
            + (f" [chance {chance['p95']:.3f}]" if chance else ""))


def _segmentation_cell(row: dict) -> str:
    found = row.get("segmentation")
    return f"{found['boundary']['f1']:.1f}" if found else "-"


@dataclass(frozen=True)
class Published:
    """The best published test score of one language, track and level, and its system."""

    score: float
    system: str


def published_best(data_dir: Path) -> dict[tuple[str, int, str], Published]:
    """The best 2023 submission per (language, track, ``word``/``morpheme``)
    on test, read from the shared task's own ``results.md`` (empty when the
    data folder has none)."""
    path = data_dir / "sigmorphon2023" / "results.md"
    if not path.exists():
        return {}
    best: dict[tuple[str, int, str], Published] = {}
    level, track, columns = None, None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            level = "word" if "Word-level" in line else "morpheme" if "Morpheme-level" in line else None
        elif line.startswith("### Track"):
            track, columns = int(line.split()[-1]), []
        elif line.startswith("|") and level and track:
            cells = [cell.strip().strip("*") for cell in line.strip("|").split("|")]
            if cells[0] == "Submission":
                columns = cells
            elif columns and not set(cells[0]) <= set("-"):
                for language, cell in zip(columns[1:], cells[1:]):
                    key = (language, track, level)
                    try:
                        score = float(cell)
                    except ValueError:
                        continue
                    if language in SHARED_TASK_LANGUAGES and (key not in best or score > best[key].score):
                        best[key] = Published(score, cells[0])
    return best


def comparison_table(results: list[TaskResult], published: dict[tuple[str, int, str], Published]) -> str:
    """Dev scores (official scorer) next to the best published test scores of
    the 2023 submissions, per task. Dev and test are different sentences: the
    comparison says where a model stands, not which is better."""
    lines = ["| lang | track | word acc (dev) | best 2023 submission, test | morph acc (dev) "
             "| best 2023 submission, test |", "|---|---|---|---|---|---|"]
    for result in results:
        cells = []
        for level, ours in (("word", result.official.word_accuracy), ("morpheme", result.official.morpheme_accuracy)):
            theirs = published.get((result.iso, result.track, level))
            cells += [f"{ours:.2f}", f"{theirs.score:.2f} ({theirs.system})" if theirs else "-"]
        lines.append(f"| {result.iso} | {result.track} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
