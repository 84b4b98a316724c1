"""Training seq2seq glossers with the Hugging Face ``Seq2SeqTrainer``.

From scratch (a small byte-level T5), by fine-tuning every weight of a
pretrained model (ByT5, GlossLM), or with LoRA adapters (``peft``), where only
the small adapter is trained and saved. Model selection is on dev chrF++ of
the generated gloss lines, with early stopping; checkpoints go into a hidden
sibling of the output directory (``.MODEL.checkpoint``) at every evaluation
and every few minutes, and the same call started again resumes from the last
complete one. ``max_minutes`` bounds the training time across resumptions.

The trainer runs on a GPU when there is one and on the CPU otherwise, and in
several processes (distributed data parallel, gloo on CPU, NCCL on GPU) when
started with ``torchrun`` or ``accelerate launch``; only the first process
writes the model.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ...errors import AutoglossError, ModelError
from ...fileio import atomic_write
from ...metrics import evaluate_records
from ...progress import Budget, Progress, Task, clock, task
from ...records import IGTRecord
from ..base import checkpoint_dir, data_fingerprint, refuse_other_sentences
from ..distributed import agree, is_main_process, wait_for_every_process, world_size
from .glosser import GenerationSettings, Seq2SeqGlosser, new_t5, quiet_transformers
from .prompt import align_glosses, build_prompt, build_target, prompt_input

CHECKPOINT_PREFIX = "checkpoint-"
COMPLETE_MARKER = "trainer_state.json"  # the Trainer writes it last into a checkpoint


@dataclass
class Seq2SeqTrainingSettings:
    epochs: float = 40
    max_minutes: float | None = None
    batch_size: int = 8
    learning_rate: float = 3e-4
    weight_decay: float = 0.01
    warmup: float = 0.05  # share of the planned steps, or a step count when >= 1
    patience: int = 5  # evaluations without a better dev chrF++ before stopping
    eval_steps: int | None = None  # evaluate (and checkpoint) this often, at least once an epoch
    eval_beams: int = 1  # dev scoring during training is greedy: cheaper, same ranking in practice
    checkpoint_minutes: float = 10.0  # also checkpoint this often between evaluations
    gradient_accumulation: int = 1
    seed: int = 0
    lora: bool = False
    lora_rank: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05


class PromptDataset(torch.utils.data.Dataset):
    """Records as ByT5 token ids, made when asked for (a corpus of 400,000
    sentences would not fit in memory as Python integer lists)."""

    def __init__(self, records: list[IGTRecord], tokenizer, max_input_bytes: int, max_output_bytes: int):
        self.records = records
        self.tokenizer = tokenizer
        self.max_input_bytes, self.max_output_bytes = max_input_bytes, max_output_bytes

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict:
        record = self.records[index]
        source = self.tokenizer(build_prompt(record), truncation=True, max_length=self.max_input_bytes)
        target = self.tokenizer(build_target(record), truncation=True, max_length=self.max_output_bytes)
        return {"input_ids": source["input_ids"], "attention_mask": source["attention_mask"],
                "labels": target["input_ids"]}


CLOCK_NAME = "clock.json"  # training seconds spent up to a checkpoint, and its sentences, kept inside it
#: Seconds kept in hand at the end of a time budget: saving the model, the
#: checkpoints' removal, the command's last lines and the exit.
END_MARGIN_SECONDS = 5.0


def _callback_classes():
    from transformers import TrainerCallback

    class Clock(TrainerCallback):
        """Stops training when what is left of the budget is only enough for
        the work after it (a last evaluation and checkpoint, the final dev
        scoring at ``final_scoring`` times an evaluation's measured cost, the
        save), and checkpoints every few minutes. The time spent goes into
        each checkpoint, so a resumed run keeps its budget."""

        def __init__(self, budget: Budget, checkpoint_minutes: float, spent_before: float = 0.0,
                     progress: Progress | None = None, final_scoring: float = 0.0, data: dict | None = None):
            self.budget, self.checkpoint_minutes, self.progress = budget, checkpoint_minutes, progress
            self.data = data or {}  # data_fingerprint of the training and dev sentences
            self.spent_before, self.final_scoring = spent_before, final_scoring
            budget.spent_before += spent_before
            self.started = self.last_saved = time.perf_counter()
            self.first_step = 0
            self.shown = Task("training")

        def elapsed(self) -> float:
            return self.spent_before + time.perf_counter() - self.started

        def on_train_begin(self, args, state, control, **kwargs):
            self.started = self.last_saved = time.perf_counter()
            self.first_step = state.global_step  # a resumed run starts past 0
            if state.is_world_process_zero:
                # with a time budget the steps are not planned: the budget left says how long
                self.shown = task(self.progress, "training", state.max_steps if self.budget.seconds is None else None)
                self.shown.resume_from(state.global_step)

        def on_train_end(self, args, state, control, **kwargs):
            self.shown.done()

        def work_after(self) -> float:
            evaluation = self.budget.cost("evaluation")
            return evaluation * (1 + self.final_scoring) + self.budget.cost("save") + END_MARGIN_SECONDS

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            if metrics and "eval_runtime" in metrics:
                self.budget.measure("evaluation", float(metrics["eval_runtime"]))

        def on_step_end(self, args, state, control, **kwargs):
            steps = max(state.global_step - self.first_step, 1)
            self.budget.measure("step", (time.perf_counter() - self.started) / steps)  # evaluations included
            left = "" if self.budget.seconds is None else f", {clock(self.budget.left())} of the time budget left"
            self.shown.update(completed=state.global_step, description=f"training epoch {state.epoch or 0:.2f}{left}")
            out_of_time = not self.budget.loop_may_go_on(self.work_after(), self.budget.cost("step"))
            if agree(out_of_time):
                control.should_training_stop = True
                control.should_evaluate = args.eval_strategy != "no"
                control.should_save = True
            elif agree(time.perf_counter() - self.last_saved > 60 * self.checkpoint_minutes):
                control.should_save = True
            return control

        def on_save(self, args, state, control, **kwargs):
            self.last_saved = time.perf_counter()
            if state.is_world_process_zero:
                folder = Path(args.output_dir) / f"{CHECKPOINT_PREFIX}{state.global_step}"
                with atomic_write(folder / CLOCK_NAME) as handle:
                    json.dump({"seconds": self.elapsed(), "data": self.data}, handle)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.progress and state.is_world_process_zero and logs:
                shown = " ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in logs.items()
                                 if not k.endswith(("_runtime", "_per_second", "flos")))
                self.progress(f"step {state.global_step}: {shown}")

    return Clock


def _clock_record(checkpoint: Path | None) -> dict:
    """What a checkpoint recorded of its run: training seconds and sentences ({} where nothing was)."""
    try:
        record = json.loads((checkpoint / CLOCK_NAME).read_text(encoding="utf-8"))
    except (TypeError, OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _spent_seconds(checkpoint: Path | None) -> float:
    """Training seconds recorded in a checkpoint (0 where none were)."""
    try:
        return float(_clock_record(checkpoint)["seconds"])
    except (KeyError, TypeError, ValueError):
        return 0.0


def last_complete_checkpoint(directory: Path) -> Path | None:
    """The newest checkpoint the Trainer finished writing; half-written ones
    (killed while saving) are removed by the first process."""
    if not directory.is_dir():
        return None
    found = sorted((p for p in directory.glob(f"{CHECKPOINT_PREFIX}*") if p.name[len(CHECKPOINT_PREFIX):].isdigit()),
                   key=lambda p: int(p.name[len(CHECKPOINT_PREFIX):]))
    complete = [p for p in found if (p / COMPLETE_MARKER).is_file()]
    if is_main_process():
        for path in found:
            if path not in complete:
                shutil.rmtree(path, ignore_errors=True)
    return complete[-1] if complete else None


def chrf_metric(dev: list[IGTRecord], tokenizer) -> Callable:
    """``compute_metrics`` for the Trainer: chrF++ of the generated gloss
    lines (the selection metric), and the official word and morpheme
    accuracy after alignment repair."""
    import numpy as np
    from sacrebleu.metrics import CHRF

    chrf = CHRF(word_order=2)
    sources = [prompt_input(record) for record in dev]

    def compute(prediction) -> dict[str, float]:
        ids = np.where(prediction.predictions < 0, tokenizer.pad_token_id, prediction.predictions)
        texts = tokenizer.batch_decode(ids, skip_special_tokens=True)
        lines = [align_glosses(source, text).glosses for source, text in zip(sources, texts)]
        score = chrf.corpus_score(lines, [[build_target(r) for r in dev]]).score
        result = evaluate_records(dev, [r.replace(glosses=line) for r, line in zip(dev, lines)], "official",
                                  bootstrap_samples=0)
        return {"chrf": score, "word_accuracy": result.word_accuracy, "morpheme_accuracy": result.morpheme_accuracy}

    return compute


def _with_lora(glosser: Seq2SeqGlosser, settings: Seq2SeqTrainingSettings):
    from peft import LoraConfig, TaskType, get_peft_model

    if glosser.is_adapter:
        raise AutoglossError("LoRA fine-tuning needs a full base model, not another LoRA adapter")
    config = LoraConfig(task_type=TaskType.SEQ_2_SEQ_LM, r=settings.lora_rank, lora_alpha=settings.lora_alpha,
                        lora_dropout=settings.lora_dropout)  # peft's T5 default targets: attention q and v
    return get_peft_model(glosser.model, config)


def _training_arguments(settings: Seq2SeqTrainingSettings, output_dir: Path, steps_per_epoch: int, has_dev: bool,
                        generation_max_length: int):
    from transformers import Seq2SeqTrainingArguments

    on_gpu = torch.cuda.is_available()
    # At least once an epoch, and more often where asked (an epoch of a large corpus is hours on a CPU).
    eval_steps = min(settings.eval_steps or steps_per_epoch, max(1, steps_per_epoch))
    return Seq2SeqTrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=settings.batch_size, per_device_eval_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation,
        num_train_epochs=settings.epochs, learning_rate=settings.learning_rate, weight_decay=settings.weight_decay,
        warmup_steps=settings.warmup,
        # A time budget leaves the number of steps unknown: hold the peak rate instead of decaying towards a guess.
        lr_scheduler_type="constant_with_warmup" if settings.max_minutes is not None else "linear",
        eval_strategy="steps" if has_dev else "no", eval_steps=eval_steps,
        save_strategy="steps", save_steps=eval_steps, save_total_limit=2,
        load_best_model_at_end=has_dev, metric_for_best_model="chrf", greater_is_better=True,
        predict_with_generate=True, generation_num_beams=settings.eval_beams,
        generation_max_length=generation_max_length,
        restore_callback_states_from_checkpoint=True,  # early stopping's count of evaluations without progress
        train_sampling_strategy="group_by_length",  # batches of similar length: less padding
        logging_steps=max(1, min(50, eval_steps)), report_to="none", disable_tqdm=True,
        seed=settings.seed, data_seed=settings.seed,
        # gloo only where processes were started for it: naming a backend in a
        # single process makes accelerate expect a process group that is not there.
        use_cpu=not on_gpu, ddp_backend="gloo" if not on_gpu and world_size() > 1 else None,
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,  # every parameter that trains takes part in every step
        bf16=on_gpu and torch.cuda.is_bf16_supported(),
    )


def train_seq2seq(
    train: list[IGTRecord],
    dev: list[IGTRecord],
    model_dir: str | Path,
    settings: Seq2SeqTrainingSettings | None = None,
    base: Seq2SeqGlosser | None = None,
    new_model_options: dict | None = None,
    generation: GenerationSettings | None = None,
    description: str | None = None,
    progress: Progress | None = None,
    save: bool = True,
    extra_info: dict | None = None,
    restart: bool = False,
    budget: Budget | None = None,
) -> Seq2SeqGlosser:
    """Train a seq2seq glosser and save it to ``model_dir`` (first process only).

    ``base`` None trains a new byte-level T5 (``new_model_options`` go to
    :func:`new_t5`); otherwise ``base`` is fine-tuned, entirely or, with
    ``settings.lora``, through a LoRA adapter that is saved on its own with a
    reference to the base. Without dev records the last state is kept.
    ``restart`` discards the checkpoints of an earlier run instead of
    resuming from them; one made for another model raises :class:`ModelError`.
    ``budget`` (default: ``settings.max_minutes`` from now) is the wall-clock
    time of the whole call, the final dev scoring and the save included.
    """
    from transformers import EarlyStoppingCallback, Seq2SeqTrainer
    from transformers.trainer_callback import PrinterCallback
    from transformers.data.data_collator import DataCollatorForSeq2Seq

    settings = settings or Seq2SeqTrainingSettings()
    model_dir = Path(model_dir)
    train = [r for r in train if r.has_glosses]
    dev = [r for r in dev if r.has_glosses]
    if not train:
        raise AutoglossError("no glossed training sentences")
    quiet_transformers()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    torch.manual_seed(settings.seed)
    if base is None:
        glosser = Seq2SeqGlosser(new_t5(**(new_model_options or {})), generation)
        origin, base_name = "random (trained from scratch)", None
    else:
        glosser = Seq2SeqGlosser(base.model, generation or base.settings, dict(base.info), base.base_model)
        origin = base.source or "a pretrained seq2seq model"
        base_name = base.source
    if settings.lora:
        if base is None:
            raise AutoglossError("LoRA adapters need a pretrained base model (--model)")
        glosser.model = _with_lora(glosser, settings)
        glosser.base_model = base_name
        origin = f"LoRA (rank {settings.lora_rank}) on {base_name}"

    tokenizer = glosser.tokenizer
    limits = (glosser.settings.max_input_bytes, glosser.settings.max_output_bytes)
    train_data = PromptDataset(train, tokenizer, *limits)
    dev_data = PromptDataset(dev, tokenizer, *limits) if dev else None
    world = world_size()
    steps_per_epoch = -(-len(train) // (settings.batch_size * settings.gradient_accumulation * world))
    max_generation = glosser.settings.max_new_tokens([prompt_input(r) for r in dev]) + 1 if dev else 64
    checkpoints = checkpoint_dir(model_dir)
    arguments = _training_arguments(settings, checkpoints, steps_per_epoch, bool(dev), max_generation)
    if restart:
        # every process starts afresh; only the first one, which writes the checkpoints, deletes them
        if is_main_process():
            shutil.rmtree(checkpoints, ignore_errors=True)
        resume_from = None
    else:
        resume_from = last_complete_checkpoint(checkpoints)
    data = {"train": data_fingerprint(train), "dev": data_fingerprint(dev)}
    if resume_from is not None:
        # another dev set would make early stopping's best a choice by other sentences
        refuse_other_sentences(checkpoints, _clock_record(resume_from).get("data"), data)
    Clock = _callback_classes()
    if budget is None:
        budget = Budget(None if settings.max_minutes is None else 60 * settings.max_minutes)
    # the final dev scoring generates with the model's beams, the evaluations greedily
    final_scoring = glosser.settings.beams / max(settings.eval_beams, 1) if dev else 0.0
    clock = Clock(budget, settings.checkpoint_minutes, _spent_seconds(resume_from), progress, final_scoring, data)
    callbacks = [clock]
    if dev:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=settings.patience))
    trainer = Seq2SeqTrainer(
        model=glosser.model, args=arguments, train_dataset=train_data, eval_dataset=dev_data,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100),
        processing_class=tokenizer, compute_metrics=chrf_metric(dev, tokenizer) if dev else None,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # progress goes through our own callback, not print()
    if resume_from is not None and progress and is_main_process():
        progress(f"resuming from {resume_from.name}")
    try:
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    except RuntimeError as error:
        if resume_from is None or "size mismatch" not in str(error):
            raise
        raise ModelError(f"{checkpoints}: the checkpoint of an earlier run of another model or settings "
                         f"({resume_from.name} does not fit this model); rerun with --restart to discard it "
                         f"and train afresh") from None
    glosser.model = trainer.model
    glosser.model.eval()
    state = trainer.state
    glosser.info.update({
        "name": model_dir.name,
        "trained_on": description or f"{len(train):,} glossed sentences",
        "initialised_from": origin,
        "training": (f"{state.global_step} steps ({state.epoch or 0:.2f} epochs) in {clock.elapsed():.0f} s"
                     + (f", best dev chrF++ {state.best_metric:.2f} at step {state.best_global_step}"
                        if state.best_metric is not None else "")
                     + ("" if world == 1 else f", {world} processes")),
        "training_settings": asdict(settings),
        "history": [entry for entry in state.log_history if "eval_chrf" in entry or "loss" in entry][-50:],
        **(extra_info or {}),
    })
    if dev and is_main_process():
        glosser.info["dev_scores"] = dev_scores(glosser, dev)
    if save and is_main_process():
        glosser.save_pretrained(model_dir)
    if is_main_process():
        shutil.rmtree(checkpoints, ignore_errors=True)
    wait_for_every_process()  # no process returns before the model is saved
    return glosser


def dev_scores(glosser: Seq2SeqGlosser, dev: list[IGTRecord]) -> dict[str, float]:
    """Official word and morpheme accuracy and chrF++ of the glosser as it
    will be used (its own beam setting), on gold dev records."""
    inputs = [r.replace(glosses="") for r in dev]
    result = evaluate_records(dev, list(glosser.gloss(inputs)), "official", bootstrap_samples=0)
    return {"word_accuracy": result.word_accuracy, "morpheme_accuracy": result.morpheme_accuracy,
            "chrf_pp": result.chrf_pp}
