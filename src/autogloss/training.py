"""Training recipes: what ``autogloss train``, ``finetune``, ``pretrain`` and
``ensemble`` do, as library calls.

A recipe takes records already read (or a corpus), a :class:`Schedule` (how
long and how fast) and the few choices that matter to it, and returns the
trained glosser, saved to its directory. The recipe's own defaults live
here, once: the peak learning rate of each way of training
(:data:`LEARNING_RATES`), the pretraining hold-out, and the fork between the
two networks (:func:`_train_network`), which maps a schedule onto the settings
of the neural trainer or of the seq2seq one.

The layer sits above the models and the corpus and below the shared-task
runner and the command line; model packages are imported when a recipe
runs, so importing this module (and the command line) stays light.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import AutoglossError
from .progress import Budget
from .records import IGTRecord

if TYPE_CHECKING:
    import torch

    from .models.base import Glosser
    from .models.neural import EnsembleGlosser, TrainingSettings
    from .models.seq2seq.glosser import GenerationSettings
    from .models.seq2seq.training import Seq2SeqTrainingSettings

Progress = Callable[[str], None]


class Architecture(StrEnum):
    """The model families ``autogloss train`` builds from scratch."""

    NEURAL = "neural"
    MAJORITY = "majority"
    SEQ2SEQ = "seq2seq"

    @property
    def selects_on_dev(self) -> bool:
        """Whether dev data takes part in training (the majority baseline only counts)."""
        return self is not Architecture.MAJORITY


class Network(StrEnum):
    """The two trained networks: what a recipe forks on, and what ``pretrain`` builds."""

    NEURAL = "neural"
    SEQ2SEQ = "seq2seq"


class Dtype(StrEnum):
    """Precision of a pretrained neural model's weights file."""

    FLOAT32 = "float32"
    FLOAT16 = "float16"  # a file half the size

    @property
    def torch_dtype(self) -> torch.dtype:
        import torch

        return getattr(torch, self.value)


class Start(StrEnum):
    """Where training starts from, which decides the learning rate."""

    SCRATCH = "scratch"
    FINETUNE = "fine-tuning"
    LORA = "LoRA"  # seq2seq only: a small adapter on a frozen base


#: Peak learning rate of each way of training, when none is given. Fine-tuning
#: a trained network needs a smaller step than a new one; a LoRA adapter
#: starts from zero and takes the step of a new model.
LEARNING_RATES: dict[tuple[Network, Start], float] = {
    (Network.NEURAL, Start.SCRATCH): 3e-3,
    (Network.NEURAL, Start.FINETUNE): 1.5e-3,
    (Network.SEQ2SEQ, Start.SCRATCH): 1e-3,
    (Network.SEQ2SEQ, Start.FINETUNE): 3e-4,
    (Network.SEQ2SEQ, Start.LORA): 1e-3,
}


def learning_rate(network: Network, start: Start, chosen: float | None = None) -> float:
    """``chosen``, or the default peak learning rate of this way of training."""
    return chosen or LEARNING_RATES[network, start]


def learning_rate_help() -> str:
    """The default learning rates, as the command line's help lists them."""

    def short(rate: float) -> str:
        mantissa, exponent = f"{rate:e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"

    def named(network: Network) -> str:
        rates = [(start, rate) for (net, start), rate in LEARNING_RATES.items() if net is network]
        return ", ".join(f"{network if start is Start.SCRATCH else start} {short(rate)}" for start, rate in rates)

    return "; ".join(named(network) for network in Network)


@dataclass(frozen=True)
class Schedule:
    """How long and how fast a recipe trains: the choices the command line offers.

    ``learning_rate`` None takes the recipe's own (:data:`LEARNING_RATES`).
    """

    epochs: float = 40
    max_minutes: float | None = 10.0
    batch_size: int = 32
    patience: int = 8  # evaluations without a better dev score before stopping
    learning_rate: float | None = None
    seed: int = 0


#: Hidden size of a new network (the neural BiLSTM's, or a new T5's d_model).
HIDDEN = 128
#: Pretraining goes over a corpus of hundreds of thousands of sentences: a few
#: epochs in two hours, and it never stops early (patience is the epoch count).
PRETRAINING_SCHEDULE = Schedule(epochs=3, max_minutes=120.0)
#: Pretraining sentences held out of the corpus train split for model selection.
PRETRAINING_VALIDATION_SIZE = 600
#: Outputs and embeddings a pretrained neural network keeps: the most frequent
#: gloss labels (others are glossed by copying) and morphemes and words.
PRETRAINING_MAX_LABELS = 8000
PRETRAINING_MAX_FORMS = 20000
#: Rank of a seq2seq LoRA adapter.
LORA_RANK = 8
#: A seq2seq corpus epoch is hours on a CPU: evaluate (and keep the best) this often.
PRETRAINING_SEQ2SEQ_EVAL_STEPS = 2000
#: Share of the training sentences held out of training to calibrate the
#: confidence on (see :mod:`autogloss.calibration`): a dev file given for
#: early stopping is never used for it, so it stays a fair test of the
#: calibration too. At most :data:`CALIBRATION_MAX_SENTENCES`; with fewer than
#: :data:`CALIBRATION_MIN_SENTENCES` glossed sentences nothing is held out
#: (each one counts more for training) and a neural model of fixed epochs is
#: calibrated on cross-fitted models instead (see ``train_glosser``'s ``cross_fit``).
CALIBRATION_SHARE = 0.1
CALIBRATION_MIN_SENTENCES = 100
CALIBRATION_MAX_SENTENCES = 1000


def calibration_split(records: list[IGTRecord]) -> tuple[list[IGTRecord], list[IGTRecord]]:
    """(sentences to train on, glossed sentences held out for calibration):
    :data:`CALIBRATION_SHARE` of the glossed ones, drawn with seed 0 from
    the whole file (not its end, which is often one text), the rest in order."""
    glossed = [index for index, record in enumerate(records) if record.has_glosses]
    if len(glossed) < CALIBRATION_MIN_SENTENCES:
        return records, []
    size = min(max(int(len(glossed) * CALIBRATION_SHARE), 1), CALIBRATION_MAX_SENTENCES)
    held = set(random.Random(0).sample(glossed, size))
    return ([record for index, record in enumerate(records) if index not in held],
            [records[index] for index in sorted(held)])


def neural_settings(schedule: Schedule, start: Start) -> TrainingSettings:
    """The neural trainer's settings for a schedule."""
    from .models.neural import TrainingSettings

    return TrainingSettings(epochs=schedule.epochs, max_minutes=schedule.max_minutes, batch_size=schedule.batch_size,
                            learning_rate=learning_rate(Network.NEURAL, start, schedule.learning_rate),
                            patience=schedule.patience, seed=schedule.seed)


def seq2seq_settings(schedule: Schedule, start: Start, lora_rank: int = LORA_RANK) -> Seq2SeqTrainingSettings:
    """The seq2seq trainer's settings for a schedule (``start`` LoRA trains an adapter)."""
    from .models.seq2seq.training import Seq2SeqTrainingSettings

    return Seq2SeqTrainingSettings(epochs=schedule.epochs, max_minutes=schedule.max_minutes,
                                   batch_size=schedule.batch_size,
                                   learning_rate=learning_rate(Network.SEQ2SEQ, start, schedule.learning_rate),
                                   patience=schedule.patience, seed=schedule.seed, lora=start is Start.LORA,
                                   lora_rank=lora_rank)


def generation_settings(beams: int | None, base: Glosser | None = None) -> GenerationSettings:
    """A seq2seq model's generation settings (``base``'s, or the defaults), with ``beams`` applied."""
    from .models.seq2seq.glosser import GenerationSettings

    settings = base.settings if base is not None else GenerationSettings()
    return replace(settings, beams=beams) if beams else settings


def _train_network(network: Network, start: Start, records: list[IGTRecord], dev: list[IGTRecord],
                   out_dir: str | os.PathLike, schedule: Schedule, *, base: Glosser | None = None,
                   hidden: int | None = None, beams: int | None = None, lora_rank: int = LORA_RANK,
                   eval_steps: int | None = None, description: str | None = None, progress: Progress | None = None,
                   restart: bool = False, neural_options: dict | None = None,
                   budget: Budget | None = None) -> Glosser:
    """Train either network: the one place a recipe forks on it. ``hidden``
    sizes a new network; ``beams``, ``lora_rank`` and ``eval_steps`` concern
    only seq2seq, ``neural_options`` (more arguments of ``train_glosser``)
    only the neural network. ``budget`` is the wall-clock time the training,
    scoring and saving share (default: the schedule's minutes from now)."""
    if network is Network.SEQ2SEQ:
        from .models.seq2seq.training import train_seq2seq

        settings = seq2seq_settings(schedule, start, lora_rank)
        if eval_steps:
            settings = replace(settings, eval_steps=eval_steps)
        shape = None if hidden is None else {"d_model": hidden, "heads": max(hidden // 64, 2)}
        return train_seq2seq(records, dev, out_dir, settings, base=base, new_model_options=shape,
                             generation=generation_settings(beams, base), description=description,
                             progress=progress, restart=restart, budget=budget)
    from .models.neural import train_glosser

    from .calibration import CROSS_FIT_FOLDS

    fit_on, held_out = calibration_split(records)
    # A fine-tune with a dev set never ends worse on it than the model it started from.
    settings = replace(neural_settings(schedule, start), keep_start_if_better=start is Start.FINETUNE and bool(dev))
    return train_glosser(fit_on, dev, out_dir, settings, base=base, description=description,
                         network_options=None if hidden is None else {"hidden": hidden}, progress=progress,
                         restart=restart, calibration=held_out, budget=budget,
                         cross_fit=0 if held_out else CROSS_FIT_FOLDS, **(neural_options or {}))


def _named(sources: Sequence[str | os.PathLike | None]) -> list[str]:
    return [str(source) for source in sources if source is not None]


def require_glossed(records: list[IGTRecord], sources: Sequence[str | os.PathLike | None]) -> None:
    """Training data must hold at least one glossed record: say which file has none."""
    if not any(record.has_glosses for record in records):
        named = " and ".join(_named(sources)) or "the training data"
        raise AutoglossError(f"{named}: no glossed record to train on (every gloss line is empty: "
                             f"is it a covered file?)")


def train_model(records: list[IGTRecord], dev: list[IGTRecord], out_dir: str | os.PathLike,
                arch: Architecture = Architecture.NEURAL, schedule: Schedule = Schedule(), *,
                sources: Sequence[str | os.PathLike | None] = (), hidden: int = HIDDEN, beams: int | None = None,
                restart: bool = False, progress: Progress | None = None, budget: Budget | None = None) -> Glosser:
    """Train a new model of ``arch`` on ``records`` (read from ``sources``,
    which name the model's training data) and save it to ``out_dir``.

    ``dev`` selects the best epoch and stops training early (the majority
    baseline ignores it). ``hidden`` is the neural network's hidden size, or
    the new T5's ``d_model``; ``beams`` the seq2seq model's beam size. A killed
    run started again with the same ``out_dir`` resumes, unless ``restart``.
    """
    arch = Architecture(arch)
    require_glossed(records, sources)
    description = " + ".join(_named(sources)) or None
    if arch is Architecture.MAJORITY:
        from .models import MajorityGlosser

        from .calibration import cross_fitted_calibration

        fit_on, held_out = calibration_split(records)
        model = MajorityGlosser.train(records, description=description)
        # relative frequencies are not probabilities: calibrated on a model without the held-out part,
        # or, with too few sentences to hold any out, on models without a fold each
        model.calibration = (MajorityGlosser.train(fit_on).calibrate(held_out) if held_out
                             else cross_fitted_calibration(records, MajorityGlosser.train))
        model.save_pretrained(out_dir)
        return model
    return _train_network(Network(arch), Start.SCRATCH, records, dev, out_dir, schedule, hidden=hidden, beams=beams,
                          description=description, progress=progress, restart=restart, budget=budget)


def _network_of(base: Glosser, base_name: str | None) -> Network:
    """Which network a model to fine-tune is, or why it cannot be fine-tuned."""
    from .models.neural import NeuralGlosser

    if base.model_type == Network.SEQ2SEQ:
        return Network.SEQ2SEQ
    if isinstance(base, NeuralGlosser) and base.model_type == NeuralGlosser.model_type:
        return Network.NEURAL
    hint = " (fine-tune each member, then combine them again)" if base.model_type == "neural-ensemble" else ""
    raise AutoglossError(f"{base_name}: fine-tuning needs a neural or seq2seq model, not '{base.model_type}'{hint}")


#: Without a dev set to tune it on, a fine-tuned neural model's memory answers
#: only for the forms whose gloss in the training sentences is always the same
#: (threshold 1.0), and the network, which reads the context, glosses the rest.
#: Measured on 40 random training sentences of a shared-task language, learnt as
#: the post-editor learns them (10 epochs), dev morpheme accuracy: Tsez 81.6 and
#: 82.6 (two samples) against 68.2 and 71.4 when the memory answered for every
#: seen form (an affix glossed two ways in 40 sentences took its more frequent
#: gloss everywhere), Lezgi 72.9 against 71.2, Natugu 81.6 against 76.1
#: (``python -m bench.memory_rule``: bench/results/memory-rule.md).
UNTUNED_FINETUNE_MEMORY = 1.0


def finetune_model(base: Glosser, records: list[IGTRecord], dev: list[IGTRecord], out_dir: str | os.PathLike,
                   schedule: Schedule = Schedule(), *, base_name: str | None = None,
                   sources: Sequence[str | os.PathLike | None] = (), lora: bool = False, lora_rank: int = LORA_RANK,
                   beams: int | None = None, keep_all_labels: bool = False, restart: bool = False,
                   progress: Progress | None = None, budget: Budget | None = None) -> Glosser:
    """Adapt the trained model ``base`` (loaded from ``base_name``) to ``records``
    and save it to ``out_dir``.

    Neural models keep only the gloss labels ``records`` use unless
    ``keep_all_labels`` (glossing is then several times faster); seq2seq
    models train every weight, or with ``lora`` an adapter of ``lora_rank``.
    Without ``dev``, a neural model's memory of training glosses answers only
    for the forms glossed one way throughout ``records``
    (:data:`UNTUNED_FINETUNE_MEMORY`).
    """
    network = _network_of(base, base_name)
    require_glossed(records, sources)
    start = Start.LORA if network is Network.SEQ2SEQ and lora else Start.FINETUNE
    neural = ({"keep_only_used_labels": not keep_all_labels, "memory_threshold": UNTUNED_FINETUNE_MEMORY}
              if network is Network.NEURAL else None)
    return _train_network(network, start, records, dev, out_dir, schedule, base=base, beams=beams,
                          lora_rank=lora_rank, description=" + ".join(_named(sources)) or None, progress=progress,
                          restart=restart, neural_options=neural, budget=budget)


@dataclass
class PretrainingCorpus:
    """The glossed sentences of a built corpus that pretraining uses."""

    name: str
    train: list[IGTRecord]  # the train split: shared-task and other sources' training sentences
    extra: list[IGTRecord]  # the pretrain split: sources only ever trained on


def read_pretraining_corpus(corpus_dir: str | os.PathLike) -> PretrainingCorpus:
    """The glossed sentences of the train and pretrain splits of a corpus
    built by :func:`autogloss.corpus.build_corpus`."""
    from .corpus import read_corpus

    return PretrainingCorpus(Path(corpus_dir).name,
                             [r for r in read_corpus(corpus_dir, ["train"]) if r.has_glosses],
                             [r for r in read_corpus(corpus_dir, ["pretrain"]) if r.has_glosses])


def _filtered(corpus: PretrainingCorpus, leave_out: Callable[[IGTRecord], bool]) -> tuple[PretrainingCorpus, Counter]:
    """The corpus less the rows ``leave_out`` picks, and how many went per source."""
    left_out: Counter = Counter()

    def kept(records: list[IGTRecord]) -> list[IGTRecord]:
        chosen = []
        for record in records:
            if leave_out(record):
                left_out[record.source or "unknown source"] += 1
            else:
                chosen.append(record)
        return chosen

    return PretrainingCorpus(corpus.name, kept(corpus.train), kept(corpus.extra)), left_out


def _by_source(left_out: Counter) -> str:
    return ", ".join(f"{count:,} {source}" for source, count in left_out.most_common())


def without_shared_task_segmentation(corpus: PretrainingCorpus) -> tuple[PretrainingCorpus, str | None]:
    """The corpus less every row of a SIGMORPHON 2023 language that a model
    reads segmented (:func:`~autogloss.records.setting_of`), from any source,
    and a line saying what was left out (None: nothing was).

    A model pretrained on it never saw a shared-task sentence with its gold
    morpheme boundaries, as track 1 (sentences and glosses only) requires of
    the models fine-tuned from it; the plain rows of those languages and every
    other row stay. GlossLM's ``exclude_st_seg`` did the same for the
    shared-task source only; rows of these languages from other sources (ODIN)
    go too, so no segmentation of them is seen at all.
    """
    from .corpus.sources import SHARED_TASK_LANGUAGES
    from .records import SEGMENTED, setting_of

    codes = {code for info in SHARED_TASK_LANGUAGES.values() for code in (info.iso639_3, info.glottocode)}
    filtered, left_out = _filtered(corpus, lambda record: setting_of(record) == SEGMENTED
                                   and bool({record.language.iso639_3, record.language.glottocode} & codes))
    if not left_out:
        return filtered, None
    return filtered, (f"{sum(left_out.values()):,} segmented rows of the SIGMORPHON 2023 languages "
                      f"({', '.join(SHARED_TASK_LANGUAGES)}; {_by_source(left_out)}): no shared-task segmentation seen, "
                      f"their plain rows kept (--without-shared-task-segmentation)")


def without_languages(corpus: PretrainingCorpus, codes: Iterable[str]) -> tuple[PretrainingCorpus, str | None]:
    """The corpus less every row of the languages ``codes`` (ISO 639-3 codes
    or glottocodes, matched on either identifier of a row), and a line saying
    what was left out (None: nothing was): languages held out of pretraining,
    so that glossing them measures the model zero-shot."""
    wanted = {code.strip().casefold() for code in codes if code.strip()}
    if not wanted:
        return corpus, None
    seen: Counter = Counter()

    def leave_out(record: IGTRecord) -> bool:
        found = wanted & {(record.language.iso639_3 or "").casefold(), (record.language.glottocode or "").casefold()}
        seen.update(found)
        return bool(found)

    filtered, left_out = _filtered(corpus, leave_out)
    missing = sorted(wanted - set(seen))
    if missing:
        raise AutoglossError(f"--hold-out-language: no row of the corpus is in {', '.join(missing)}")
    languages = ", ".join(f"{code} ({count:,})" for code, count in sorted(seen.items()))
    return filtered, (f"{sum(left_out.values()):,} rows of languages held out for zero-shot evaluation "
                      f"({languages}; {_by_source(left_out)}; --hold-out-language)")


def pretraining_split(train: list[IGTRecord], validation_size: int) -> tuple[list[IGTRecord], list[IGTRecord]]:
    """The corpus train split cut into (sentences to train on, sentences held out).

    The split is shuffled with seed 0 and its first ``validation_size``
    sentences held out, so the shared-task dev and test sentences stay
    unseen. Selection is on both settings: the second half of the held-out
    sentences lose their segmentation.
    """
    shuffled = list(train)
    random.Random(0).shuffle(shuffled)
    validation, fit_on = shuffled[:validation_size], shuffled[validation_size:]
    half = len(validation) // 2
    validation = validation[:half] + [r.replace(segmentation=None) if r.segmentation else r
                                      for r in validation[half:]]
    return fit_on, validation


def pretrain_model(corpus: PretrainingCorpus, out_dir: str | os.PathLike, network: Network = Network.NEURAL,
                   schedule: Schedule = PRETRAINING_SCHEDULE, *, validation_size: int = PRETRAINING_VALIDATION_SIZE,
                   hidden: int = HIDDEN, max_labels: int = PRETRAINING_MAX_LABELS,
                   max_forms: int = PRETRAINING_MAX_FORMS, dtype: Dtype = Dtype.FLOAT32,
                   base: str | None = None, command: str | None = None, restart: bool = False,
                   shared_task_segmentation: bool = True, held_out_languages: Sequence[str] = (),
                   progress: Progress | None = None, budget: Budget | None = None) -> Glosser:
    """Train one multilingual model on a whole corpus (both splits, both settings)
    and save it to ``out_dir``; model selection is on :func:`pretraining_split`.
    ``shared_task_segmentation`` False leaves out the segmented rows of the
    shared-task languages (:func:`without_shared_task_segmentation`), for
    track 1 models; the card and config say what was left out.

    The neural network keeps ``max_labels`` gloss labels and ``max_forms``
    forms, no memory of glosses (a form means different things in different
    languages), and writes its weights as ``dtype``; ``command``, the command
    line that made it, goes on its model card. The seq2seq network is a new T5
    or continues from the model ``base``. Training never stops early.
    """
    network, dtype = Network(network), Dtype(dtype)
    left: list[str] = []
    corpus, held_out = without_languages(corpus, held_out_languages)
    if not shared_task_segmentation:
        corpus, segmented = without_shared_task_segmentation(corpus)
        left += [segmented] if segmented else []
    left += [held_out] if held_out else []
    left_out = "; ".join(left) or None
    fit_on, validation = pretraining_split(corpus.train, validation_size)
    training = fit_on + corpus.extra
    sources = Counter(record.source or "unknown source" for record in training)
    description = (f"autogloss corpus {corpus.name} (train and pretrain splits, "
                   f"{len(training):,} examples; by source: {_by_source(sources)})")
    schedule = replace(schedule, patience=schedule.epochs)
    if network is Network.SEQ2SEQ:
        from .models.loading import load_model

        start = load_model(base, "seq2seq") if base else None
        if left_out:  # the seq2seq card shows what it was trained on, nothing else of the data
            description = f"{description[:-1]}; left out: {left_out})"
        return _train_network(network, Start.SCRATCH, training, validation, out_dir, schedule, base=start,
                              hidden=hidden, eval_steps=PRETRAINING_SEQ2SEQ_EVAL_STEPS, description=description,
                              progress=progress, restart=restart, budget=budget)
    made = {"dev_data": (f"{len(validation)} sentences held out of the corpus train split, "
                         f"half of them without their segmentation" if validation else
                         "none: the corpus train split has no sentence to hold out (its languages are held out "
                         "or it is empty), so the last epoch is kept"),
            **({"command": command} if command else {})}
    return _train_network(network, Start.SCRATCH, training, validation, out_dir, schedule, hidden=hidden,
                          description=description, progress=progress, restart=restart, budget=budget,
                          neural_options={"max_labels": max_labels, "max_forms": max_forms, "dtype": dtype.torch_dtype,
                                          "memory": False, "extra_info": made, "left_out": left_out})


def ensemble_models(model_dirs: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
                    weights: list[float] | None = None) -> EnsembleGlosser:
    """Combine trained neural models of one language (the first is the primary:
    its memory and morpheme boundaries are used) and save the ensemble to ``out_dir``."""
    from .models.loading import load_model
    from .models.neural import EnsembleGlosser, NeuralGlosser

    if len(model_dirs) < 2:
        raise AutoglossError("an ensemble needs two or more --model directories")
    members = [load_model(path) for path in model_dirs]
    for path, member in zip(model_dirs, members):
        if type(member) is not NeuralGlosser:
            raise AutoglossError(f"{path}: ensemble members must be neural models, not '{member.model_type}'")
    ensemble = EnsembleGlosser.combine(members, [str(path) for path in model_dirs], weights)
    ensemble.save_pretrained(out_dir)
    return ensemble
