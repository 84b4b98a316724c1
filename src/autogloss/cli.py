"""The ``autogloss`` command line: parses arguments and calls library functions.

Errors the user can fix (bad input files, missing models or data) are printed
as one line naming file and line, with a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .errors import AutoglossError, FormatError

app = typer.Typer(help="Automatic interlinear glossing for language documentation.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
corpus_app = typer.Typer(help="Build and inspect the multilingual IGT corpus.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")

# Wide tables when output goes to a file or CI log instead of a terminal.
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)

FormatOption = Annotated[Optional[str], typer.Option("--format", help="sigmorphon, cldf, parquet, jsonl, text, flextext, toolbox or elan (default: from the file extension)")]
SkipOption = Annotated[bool, typer.Option("--skip-invalid", help="Skip malformed records, report them and go on")]
ToolboxMarkersOption = Annotated[Optional[str], typer.Option("--toolbox-markers", help="Toolbox markers as ROLE=MARKER,... (roles ref, tx, mb, ge, ps, ft, ag; defaults are those markers)")]
ElanTiersOption = Annotated[Optional[str], typer.Option("--elan-tiers", help="ELAN tiers as ROLE=TIER,... (roles utterance, words, morphs, glosses, translation, status)")]


@contextlib.contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[Progress]:
    """A rich progress bar on stderr (silent when stderr is not a terminal)."""
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err, transient=True) as progress:
        progress.add_task(description, total=total)
        yield progress


def _report_skipped(skipped: list[FormatError]) -> None:
    if skipped:
        err.print(f"[yellow]skipped {len(skipped)} invalid record(s):[/yellow]")
        for error in skipped[:20]:
            err.print(f"  {error}", markup=False, highlight=False)
        if len(skipped) > 20:
            err.print(f"  ... and {len(skipped) - 20} more")


def _console_beside(output: Path) -> Console:
    """Where to report on a command's output: stderr when the output itself
    goes to a stream (``-``, a pipe, a device), so the two never mix."""
    from .fileio import is_stream

    return err if is_stream(output) else out


def _read(path: Path, format: str | None, skip_invalid: bool, skipped: list[FormatError]):
    from .formats import guess_format, read_records

    options = {} if (format or guess_format(path)) == "parquet" else {"skip_invalid": skip_invalid, "skipped": skipped}
    return read_records(path, format, **options)


# -- corpus -------------------------------------------------------------------
@corpus_app.command("build")
def corpus_build(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the corpus to")],
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="IGT data folder (default: ../shared/data)")] = None,
    source: Annotated[Optional[list[str]], typer.Option("--source", help="Only these sources (repeatable)")] = None,
    normalise: Annotated[bool, typer.Option("--normalise/--no-normalise", help="Map gloss labels to UniMorph-style labels (originals kept)")] = False,
    labels: Annotated[str, typer.Option("--labels", help="Version of the gloss-label table")] = "v1",
) -> None:
    """Compile every IGT source into one deduplicated, leak-free Parquet corpus."""
    from .corpus import build_corpus
    from .corpus.sources import SOURCES
    from .datapath import find_data_dir
    from .normalise import load_table, normalise_record

    data = find_data_dir(data_dir)
    normaliser, name = None, None
    if normalise:
        table = load_table(labels)
        normaliser, name = (lambda record: normalise_record(record, table)), table.name
    with err.status("building corpus") as status:
        report = build_corpus(data, out_dir, sources=source or SOURCES, normaliser=normaliser,
                              normaliser_name=name, progress=lambda message: status.update(message))
    out.print(f"corpus written to {out_dir}")
    for split, count in report.rows_written.items():
        out.print(f"  {split:9} {count:>9,} examples")
    leaks = sum(report.leaks_removed.values())
    out.print(f"  removed {sum(report.duplicates_removed.values()):,} exact duplicates and "
              f"{leaks:,} training examples that repeat a SIGMORPHON dev/test sentence")
    if report.skipped:
        out.print(f"  skipped {len(report.skipped)} invalid source record(s) (listed in manifest.json)")
    for note in report.notes:
        out.print(f"  note: {note}")


@corpus_app.command("stats")
def corpus_stats_command(
    corpus_dir: Annotated[Path, typer.Argument(help="A directory written by 'autogloss corpus build'")],
    top: Annotated[int, typer.Option(help="How many gloss labels and languages to list")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
) -> None:
    """Examples per source, split and language; segmented share; frequent gloss labels."""
    from .corpus import corpus_stats

    stats = corpus_stats(corpus_dir, top=top)
    manifest = stats.manifest
    if as_json:
        out.print_json(data={
            "examples_by_split": stats.examples_by_split,
            "examples_by_source_split": {f"{s}/{p}": n for (s, p), n in stats.examples_by_source_split.items()},
            "languages": stats.languages, "segmented_share": stats.segmented_share,
            "examples_by_language": dict(list(stats.examples_by_language.items())[:top]),
            "top_glosses": stats.top_glosses, "top_grammatical_labels": stats.top_grammatical,
            "sentences_read": manifest.get("sentences_read"), "leaks_removed": manifest.get("leaks_removed"),
            "duplicates_removed": manifest.get("duplicates_removed"),
        })
        return
    sources = Table(title="Source records read and examples written")
    sources.add_column("source")
    sources.add_column("records in source", justify="right")
    splits = list(stats.examples_by_split)
    for split in splits:
        sources.add_column(f"{split} examples", justify="right")
    for name, count in manifest.get("sentences_read", {}).items():
        skipped = manifest.get("skipped_by_source", {}).get(name, 0)
        shown = f"{count + skipped:,}" + (f" ({skipped} invalid)" if skipped else "")
        sources.add_row(name, shown, *(f"{stats.examples_by_source_split.get((name, s), 0):,}" for s in splits))
    out.print(sources)
    out.print(f"languages: {stats.languages:,}   segmented share: {100 * stats.segmented_share:.1f}%   "
              f"examples: {sum(stats.examples_by_split.values()):,}")
    removed = manifest.get("leaks_removed", {})
    out.print(f"dev/test leakage: removed {sum(removed.values()):,} training examples at build time "
              f"({', '.join(f'{k}: {v:,}' for k, v in removed.items()) or 'none'}); none remain")
    languages = Table(title=f"Top {top} languages")
    languages.add_column("language")
    languages.add_column("examples", justify="right")
    for name, count in list(stats.examples_by_language.items())[:top]:
        languages.add_row(name, f"{count:,}")
    out.print(languages)
    labels = Table(title=f"Top {top} gloss labels (each sentence counted once)")
    for column in ("gloss", "count", "grammatical label", "count "):
        labels.add_column(column, justify="right" if column.startswith("count") else "left")
    for index in range(top):
        gloss = stats.top_glosses[index] if index < len(stats.top_glosses) else ("", "")
        gram = stats.top_grammatical[index] if index < len(stats.top_grammatical) else ("", "")
        labels.add_row(gloss[0], f"{gloss[1]:,}" if gloss[1] != "" else "", gram[0], f"{gram[1]:,}" if gram[1] != "" else "")
    out.print(labels)


# -- records --------------------------------------------------------------------
@app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help="IGT file to check")],
    format: FormatOption = None,
    skip_invalid: SkipOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per problem")] = False,
) -> None:
    """Check Leipzig rules 1 and 2: word counts and per-word morpheme counts of glosses.

    Exits with status 1 when any record is misaligned.
    """
    from .records import check_alignment

    skipped: list[FormatError] = []
    records = problems = 0
    for record in _read(path, format, skip_invalid, skipped):
        records += 1
        for problem in check_alignment(record):
            problems += 1
            if as_json:
                print(json.dumps({"record": problem.record_id, "origin": record.origin, "rule": problem.rule,
                                  "word": problem.word_index, "message": problem.message}, ensure_ascii=False))
            else:
                print(f"{record.origin}: {problem}")
    _report_skipped(skipped)
    err.print(f"{records:,} records checked, {problems:,} alignment problem(s)")
    if problems:
        raise typer.Exit(1)


@app.command("convert")
def convert(
    input: Annotated[Path, typer.Argument(help="File to read")],
    output: Annotated[Path, typer.Argument(help="File to write (for cldf: a directory)")],
    from_format: Annotated[Optional[str], typer.Option("--from", help="Input format (default: from the extension)")] = None,
    to_format: Annotated[Optional[str], typer.Option("--to", help="Output format (default: from the extension)")] = None,
    skip_invalid: SkipOption = False,
) -> None:
    """Convert IGT between the shared-task text format, CLDF, Parquet, JSON lines, FLEx, Toolbox and ELAN.

    INPUT - reads standard input, OUTPUT - writes standard output.
    """
    from .formats import write_records

    skipped: list[FormatError] = []
    count = write_records(_read(input, from_format, skip_invalid, skipped), output, to_format)
    _report_skipped(skipped)
    _console_beside(output).print(f"{count:,} records written to {output}")


# -- evaluation -----------------------------------------------------------------
@app.command("evaluate")
def evaluate(
    gold: Annotated[Path, typer.Option("--gold", help="Gold file (shared-task format; - for standard input)")],
    pred: Annotated[Path, typer.Option("--pred", help="Predictions (same records, same order)")],
    scorer: Annotated[str, typer.Option("--scorer", help="official (SIGMORPHON 2023) or glosslm (standalone punctuation removed)")] = "official",
    as_json: Annotated[bool, typer.Option("--json", help="Print all scores as JSON")] = False,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap samples for the 95% intervals (0: none)")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap random seed")] = 0,
) -> None:
    """Score predicted glosses: word and morpheme accuracy, chrF++, BLEU, stems and grams."""
    from .formats import read_records
    from .metrics import evaluate_records

    gold_records, pred_records = list(read_records(gold, "sigmorphon")), list(read_records(pred, "sigmorphon"))
    for path, records in ((gold, gold_records), (pred, pred_records)):
        if not records:
            raise AutoglossError(f"{path}: no records to score")
    if len(gold_records) != len(pred_records):
        raise AutoglossError(f"{gold} and {pred}: {len(gold_records)} gold records but {len(pred_records)} "
                             f"predicted records: the files must hold the same sentences in the same order")
    if not any(record.has_glosses for record in gold_records):
        raise AutoglossError(f"{gold}: has no gloss lines: is it a covered file? (the gold file needs the glosses)")
    result = evaluate_records(gold_records, pred_records, scorer, bootstrap, seed)
    for warning in result.warnings:
        err.print("[yellow]warning:[/yellow] ", end="")
        err.print(warning, markup=False, highlight=False)
    if as_json:
        print(json.dumps(result.to_json(), indent=2, allow_nan=False))
        return
    table = Table(title=f"{pred} against {gold}")
    table.add_column("metric")
    table.add_column("score", justify="right")
    table.add_column("95% CI", justify="right")
    table.add_row("word accuracy", f"{result.word_accuracy:.2f}", _interval(result.word_accuracy_ci))
    table.add_row("morpheme accuracy", f"{result.morpheme_accuracy:.2f}", _interval(result.morpheme_accuracy_ci))
    table.add_row("chrF++", f"{result.chrf_pp:.2f}", "")
    table.add_row("morpheme BLEU", f"{result.bleu:.2f}", "")
    for kind, prf in (("stems", result.stem), ("grams", result.gram)):
        table.add_row(f"{kind} P / R / F1", f"{prf.precision:.1f} / {prf.recall:.1f} / {prf.f1:.1f}", "")
    out.print(table)
    out.print(f"{result.records:,} records, {result.gold_words:,} gold words, {result.gold_morphemes:,} gold morphemes")
    out.print(f"signature: {result.signature}", markup=False, highlight=False)


def _interval(interval: tuple[float, float]) -> str:
    import math

    return "none" if any(math.isnan(bound) for bound in interval) else "{:.2f}-{:.2f}".format(*interval)


# -- models -----------------------------------------------------------------------
def _read_all(path: Path | None, format: str | None, skip_invalid: bool, what: str) -> list:
    """The person-given glossed sentences of a training or dev file (never
    machine guesses or empty glosses of a document), saying what was left out."""
    if path is None:
        return []
    from .interlinear import read_training_records

    skipped: list[FormatError] = []
    with progress_bar(f"reading {what}"):
        selection = read_training_records(path, format, skip_invalid=skip_invalid, skipped=skipped)
    _report_skipped(skipped)
    err.print(f"{what}: {selection}", markup=False, highlight=False)
    return selection.records


def _require_glossed(records: list, paths: list[Path | None]) -> None:
    """Training data must hold at least one glossed record: say which file has none."""
    if not any(record.has_glosses for record in records):
        named = " and ".join(str(path) for path in paths if path is not None)
        raise AutoglossError(f"{named}: no glossed record to train on (every gloss line is empty: "
                             f"is it a covered file?)")


def _settings(epochs: int, max_minutes: float | None, batch_size: int, learning_rate: float, patience: int):
    from .models.neural import TrainingSettings

    return TrainingSettings(epochs=epochs, max_minutes=max_minutes, batch_size=batch_size,
                            learning_rate=learning_rate, patience=patience)


def _training_progress(message: str) -> None:
    err.print(message, markup=False, highlight=False)


EpochsOption = Annotated[int, typer.Option("--epochs", help="Most epochs to train")]
MinutesOption = Annotated[Optional[float], typer.Option("--max-minutes", help="Stop after this much training time")]
BatchOption = Annotated[int, typer.Option("--batch-size", help="Sentences per batch")]
PatienceOption = Annotated[int, typer.Option("--patience", help="Stop after this many epochs without a better dev score")]
DevOption = Annotated[Optional[Path], typer.Option("--dev", help="Glossed dev file for early stopping")]
RestartOption = Annotated[bool, typer.Option("--restart", help="Discard the checkpoint an interrupted run left for --out and train afresh (by default training resumes from it)")]
# -- seq2seq backend options (GlossLM-compatible ByT5/T5 models; see models/seq2seq) --
BackendOption = Annotated[str, typer.Option("--backend", help="auto (from the model directory), neural, or seq2seq (any ByT5/T5 directory or hub id, e.g. lecslab/glosslm)")]
BeamsOption = Annotated[Optional[int], typer.Option("--beams", help="seq2seq: beam size (1: greedy; default: the model's, 3 as GlossLM)")]
LoraOption = Annotated[bool, typer.Option("--lora/--no-lora", help="seq2seq: train a small LoRA adapter on the frozen base model, saved on its own")]
LoraRankOption = Annotated[int, typer.Option("--lora-rank", help="seq2seq: LoRA rank")]
OptionalRateOption = Annotated[Optional[float], typer.Option("--learning-rate", help="Peak learning rate (default: neural 3e-3, fine-tuning 1.5e-3; seq2seq 1e-3, fine-tuning 3e-4, LoRA 1e-3)")]


def _seq2seq_settings(epochs, max_minutes, batch_size, learning_rate, patience, lora=False, lora_rank=8):
    from .models.seq2seq.training import Seq2SeqTrainingSettings

    return Seq2SeqTrainingSettings(epochs=epochs, max_minutes=max_minutes, batch_size=batch_size,
                                   learning_rate=learning_rate, patience=patience, lora=lora, lora_rank=lora_rank)


def _generation(beams: int | None, base=None):
    """Generation settings of a seq2seq model, with --beams applied."""
    from dataclasses import replace

    from .models.seq2seq.glosser import GenerationSettings

    settings = base.settings if base is not None else GenerationSettings()
    return replace(settings, beams=beams) if beams else settings


def _is_first_process() -> bool:
    """False in the other processes of a torchrun / accelerate launch run, which must not report."""
    import os

    return os.environ.get("RANK", "0") == "0"


@app.command("train")
def train(
    train_file: Annotated[Path, typer.Option("--train", help="Glossed training file")],
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write")],
    arch: Annotated[str, typer.Option("--arch", help="Model family: neural or majority")] = "neural",
    dev_file: DevOption = None,
    format: FormatOption = None,
    skip_invalid: SkipOption = False,
    epochs: EpochsOption = 40,
    max_minutes: MinutesOption = 10.0,
    batch_size: BatchOption = 32,
    learning_rate: OptionalRateOption = None,
    patience: PatienceOption = 8,
    hidden: Annotated[int, typer.Option("--hidden", help="Hidden size of the neural network (seq2seq: the T5's d_model)")] = 128,
    beams: BeamsOption = None,
    restart: RestartOption = False,
) -> None:
    """Train a glossing model from scratch on one glossed file.

    A killed neural training run, started again with the same --out, resumes
    from its last checkpoint.
    """
    if arch not in ("neural", "majority", "seq2seq"):
        raise AutoglossError(f"unknown --arch '{arch}' (available: neural, majority, seq2seq)")
    records = _read_all(train_file, format, skip_invalid, "training data")
    _require_glossed(records, [train_file])
    if arch == "seq2seq":
        from .models.seq2seq.training import train_seq2seq

        dev = _read_all(dev_file, format, skip_invalid, "dev data")
        glosser = train_seq2seq(records, dev, out_dir, _seq2seq_settings(epochs, max_minutes, batch_size, learning_rate or 1e-3, patience),
                                new_model_options={"d_model": hidden, "heads": max(hidden // 64, 2)},
                                generation=_generation(beams), description=str(train_file), progress=_training_progress,
                                restart=restart)
        return _print_trained(glosser, out_dir)
    if arch == "majority":
        from .models import MajorityGlosser

        model = MajorityGlosser.train(records, description=str(train_file))
        model.save_pretrained(out_dir)
        out.print(f"majority model trained on {model.trained_on['sentences']:,} glossed sentences, saved to {out_dir}")
        return
    from .models.neural import train_glosser

    dev = _read_all(dev_file, format, skip_invalid, "dev data")
    glosser = train_glosser(records, dev, out_dir, _settings(epochs, max_minutes, batch_size, learning_rate or 3e-3, patience),
                            description=str(train_file), network_options={"hidden": hidden},
                            progress=_training_progress, restart=restart)
    _print_trained(glosser, out_dir)


def _print_trained(glosser, out_dir: Path) -> None:
    if not _is_first_process():
        return
    scores = glosser.info.get("dev_scores") or {}
    shown = ", ".join(f"{k} {v:.2f}" for k, v in scores.items())
    out.print(f"model saved to {out_dir} ({glosser.info.get('training')})" + (f"; dev {shown}" if shown else ""),
              markup=False, highlight=False)


@app.command("finetune")
def finetune(
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write")],
    train_file: Annotated[Optional[Path], typer.Option("--train", help="Glossed training file of the new language")] = None,
    corrections_file: Annotated[Optional[Path], typer.Option("--from-corrections", help="Corrections logged by 'autogloss serve' (JSON lines) to train on, with or instead of --train")] = None,
    model_dir: Annotated[Optional[str], typer.Option("--model", help="Pretrained neural model directory or hub id (default: the packaged multilingual model)")] = None,
    dev_file: DevOption = None,
    format: FormatOption = None,
    skip_invalid: SkipOption = False,
    epochs: EpochsOption = 40,
    max_minutes: MinutesOption = 10.0,
    batch_size: BatchOption = 32,
    learning_rate: OptionalRateOption = None,
    patience: PatienceOption = 8,
    backend: BackendOption = "auto",
    lora: LoraOption = False,
    lora_rank: LoraRankOption = 8,
    beams: BeamsOption = None,
    keep_all_labels: Annotated[bool, typer.Option("--keep-all-labels", help="neural: keep every gloss label of the pretrained model (by default the output layer keeps only the labels the training data uses, which glosses several times faster)")] = False,
    restart: RestartOption = False,
) -> None:
    """Adapt a pretrained model to one language, with early stopping on --dev.

    Neural models, or with --backend seq2seq any ByT5/T5 glosser (e.g.
    lecslab/glosslm), fully or (--lora) through a small adapter. Run under
    torchrun / accelerate launch, seq2seq training uses every process.
    """
    from .models.base import load_backend
    from .models.neural import NeuralGlosser, train_glosser

    if train_file is None and corrections_file is None:
        raise AutoglossError("nothing to train on: give --train FILE and/or --from-corrections FILE")
    base = load_backend(model_dir, backend)
    records = _read_all(train_file, format, skip_invalid, "training data") + _read_corrections(corrections_file, skip_invalid)
    dev = _read_all(dev_file, format, skip_invalid, "dev data")
    description = " + ".join(str(p) for p in (train_file, corrections_file) if p)
    if base.model_type == "seq2seq":
        from .models.seq2seq.training import train_seq2seq

        _require_glossed(records, [train_file, corrections_file])
        rate = learning_rate or (1e-3 if lora else 3e-4)
        glosser = train_seq2seq(records, dev, out_dir, _seq2seq_settings(epochs, max_minutes, batch_size, rate, patience, lora, lora_rank),
                                base=base, generation=_generation(beams, base), description=description,
                                progress=_training_progress, restart=restart)
        return _print_trained(glosser, out_dir)
    if not isinstance(base, NeuralGlosser) or base.model_type != NeuralGlosser.model_type:
        raise AutoglossError(f"{model_dir}: fine-tuning needs a neural or seq2seq model, not '{base.model_type}'"
                             + (" (fine-tune each member, then combine them again)" if base.model_type == "neural-ensemble" else ""))
    _require_glossed(records, [train_file, corrections_file])
    glosser = train_glosser(records, dev, out_dir, _settings(epochs, max_minutes, batch_size, learning_rate or 1.5e-3, patience),
                            base=base, description=description, progress=_training_progress,
                            keep_only_used_labels=not keep_all_labels, restart=restart)
    _print_trained(glosser, out_dir)


@app.command("ensemble")
def ensemble(
    model_dirs: Annotated[list[str], typer.Option("--model", help="A trained neural model (repeat: two or more; the first supplies the memory of training glosses and the morpheme boundaries)")],
    out_dir: Annotated[Path, typer.Option("--out", help="Ensemble model directory to write")],
    weights: Annotated[Optional[list[float]], typer.Option("--weight", help="Weight of each --model's probabilities, in the same order (default: equal)")] = None,
) -> None:
    """Combine neural models of one language into an ensemble that averages their output probabilities.

    A model fine-tuned from the pretrained one and a model trained from
    scratch on the same data make a good pair: each trains on one CPU core,
    side by side, and on the shared-task dev sets together they were more
    accurate than the fine-tuned one alone in 9 of 12 cases, at half the speed.
    """
    from .models.base import load_backend
    from .models.neural import EnsembleGlosser, NeuralGlosser

    if len(model_dirs) < 2:
        raise AutoglossError("an ensemble needs two or more --model directories")
    members = [load_backend(path, "auto") for path in model_dirs]
    for path, member in zip(model_dirs, members):
        if type(member) is not NeuralGlosser:
            raise AutoglossError(f"{path}: ensemble members must be neural models, not '{member.model_type}'")
    EnsembleGlosser.combine(members, [str(path) for path in model_dirs], weights).save_pretrained(out_dir)
    err.print(f"ensemble of {len(members)} models written to {out_dir}")


def _read_corrections(path: Path | None, skip_invalid: bool) -> list:
    if path is None:
        return []
    from .corrections import training_corrections

    skipped: list[FormatError] = []
    selection = training_corrections(path, skip_invalid=skip_invalid, skipped=skipped)
    _report_skipped(skipped)
    left_out = f" (left out {selection.partial:,} with empty glosses)" if selection.partial else ""
    err.print(f"{len(selection.records):,} corrected sentences from {path}{left_out}", markup=False, highlight=False)
    return selection.records


@app.command("pretrain")
def pretrain(
    corpus_dir: Annotated[Path, typer.Option("--corpus", help="A corpus built by 'autogloss corpus build'")],
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write")],
    epochs: EpochsOption = 3,
    max_minutes: MinutesOption = 120.0,
    batch_size: BatchOption = 32,
    learning_rate: OptionalRateOption = None,
    max_labels: Annotated[int, typer.Option("--max-labels", help="Most frequent gloss labels kept as outputs (others by copying)")] = 8000,
    max_forms: Annotated[int, typer.Option("--max-forms", help="Most frequent morphemes and words memorised as embeddings")] = 20000,
    validation_size: Annotated[int, typer.Option("--validation-size", help="Training sentences held out for model selection")] = 600,
    hidden: Annotated[int, typer.Option("--hidden", help="Hidden size of the neural network")] = 128,
    dtype: Annotated[str, typer.Option("--dtype", help="Weights file precision: float32, or float16 for a file half the size")] = "float32",
    backend: Annotated[str, typer.Option("--backend", help="neural, or seq2seq (a byte-level T5 with the GlossLM prompt)")] = "neural",
    model_dir: Annotated[Optional[str], typer.Option("--model", help="seq2seq: continue from this ByT5/T5 directory or hub id (default: a new T5 of d_model --hidden)")] = None,
    restart: RestartOption = False,
) -> None:
    """Train one multilingual model on the whole corpus (train and pretrain splits, both settings).

    Model selection uses sentences held out of the train split, so the
    shared-task dev and test sentences stay unseen. Interrupted, the same
    command resumes from the last checkpoint (saved every 10 minutes).
    """
    import random

    import torch

    from .corpus import read_corpus
    from .models.neural import train_glosser

    if dtype not in ("float32", "float16"):
        raise AutoglossError(f"unknown --dtype '{dtype}' (choose float32 or float16)")
    with progress_bar("reading corpus"):
        train = [r for r in read_corpus(corpus_dir, ["train"]) if r.has_glosses]
        extra = [r for r in read_corpus(corpus_dir, ["pretrain"]) if r.has_glosses]
    random.Random(0).shuffle(train)
    validation, train = train[:validation_size], train[validation_size:]
    # Select on both settings: half the held-out sentences lose their segmentation.
    half = len(validation) // 2
    validation = validation[:half] + [r.replace(segmentation=None) if r.segmentation else r
                                      for r in validation[half:]]
    if backend == "seq2seq":
        from .models.base import load_backend
        from .models.seq2seq.training import train_seq2seq

        base = load_backend(model_dir, "seq2seq") if model_dir else None
        settings = _seq2seq_settings(epochs, max_minutes, batch_size, learning_rate or 1e-3,
                                     patience=epochs)
        settings.eval_steps = 2000  # an epoch of the corpus is hours on a CPU: select more often
        glosser = train_seq2seq(train + extra, validation, out_dir, settings, base=base,
                                new_model_options={"d_model": hidden, "heads": max(hidden // 64, 2)},
                                description=f"autogloss corpus {corpus_dir.name} (train and pretrain splits, "
                                            f"{len(train) + len(extra):,} examples)", progress=_training_progress,
                                restart=restart)
        return _print_trained(glosser, out_dir)
    if backend != "neural":
        raise AutoglossError(f"unknown --backend '{backend}' (choose neural or seq2seq)")
    glosser = train_glosser(train + extra, validation, out_dir,
                            _settings(epochs, max_minutes, batch_size, learning_rate or 3e-3, patience=epochs),
                            description=(f"autogloss corpus {corpus_dir.name} (train and pretrain splits, "
                                         f"{len(train) + len(extra):,} examples)"),
                            network_options={"hidden": hidden}, max_labels=max_labels, max_forms=max_forms,
                            progress=_training_progress, dtype=getattr(torch, dtype), memory=False, restart=restart,
                            extra_info={"dev_data": f"{len(validation)} sentences held out of the corpus train split, "
                                                    f"half of them without their segmentation",
                                        "command": " ".join(["autogloss", "pretrain", *sys.argv[2:]])})
    _print_trained(glosser, out_dir)


@app.command("gloss")
def gloss(
    input: Annotated[Path, typer.Option("--input", help="Records to gloss (glosses may be empty)")],
    output: Annotated[Path, typer.Option("--output", help="Where to write the glossed records")],
    model_dir: Annotated[Optional[str], typer.Option("--model", help="Model directory or Hugging Face hub id (default: the packaged multilingual model)")] = None,
    input_format: Annotated[Optional[str], typer.Option("--format", help="Input format: sigmorphon, text (a sentence per line, optional TAB translation), jsonl, cldf, parquet, flextext, toolbox or elan (default: from the extension)")] = None,
    output_format: Annotated[Optional[str], typer.Option("--output-format", help="sigmorphon or jsonl (with per-morpheme confidence; default for .jsonl); for FLEx, Toolbox, ELAN or CLDF input also flextext, toolbox, elan or cldf (default: from the extension, else the input's format)")] = None,
    skip_invalid: SkipOption = False,
    backend: BackendOption = "auto",
    beams: BeamsOption = None,
    segmented: Annotated[str, typer.Option("--segmented", help="seq2seq: is the transcription segmented? auto (from the records), yes, no or unknown")] = "auto",
    overwrite_guesses: Annotated[bool, typer.Option("--overwrite-guesses", help="FLEx, Toolbox, ELAN, CLDF: also replace earlier machine guesses (never human-approved glosses)")] = False,
    toolbox_markers: ToolboxMarkersOption = None,
    elan_tiers: ElanTiersOption = None,
    lexicon: Annotated[bool, typer.Option("--lexicon/--no-lexicon", help="neural: gloss stems unseen in training with the translation word that recurs with them across the input (on by default)")] = True,
) -> None:
    """Gloss a file with a trained model, streaming, in batches.

    FLEx (.flextext), Toolbox, ELAN (.eaf) and CLDF datasets are written back
    whole, with only their empty glosses filled and marked as guesses.
    """
    from .fileio import atomic_write
    from .formats.jsonl import record_to_json
    from .formats.sigmorphon import format_record
    from .interlinear import DOCUMENT_FORMATS, guess_document_format
    from .models.seq2seq.prompt import declare_segmented

    document_format = input_format if input_format in DOCUMENT_FORMATS else (
        None if input_format else guess_document_format(input))
    if document_format == "cldf" and not (input.is_dir() or input.suffix.lower() == ".json"):
        document_format = None  # a bare examples.csv: read as records
    if document_format:
        _gloss_interlinear(input, output, _load_glosser(model_dir, backend, beams, lexicon), document_format,
                           output_format, overwrite_guesses, toolbox_markers, elan_tiers)
        return
    output_format = output_format or ("jsonl" if output.suffix.lower() == ".jsonl" else "sigmorphon")
    if output_format not in ("sigmorphon", "jsonl"):
        raise AutoglossError(f"unknown --output-format '{output_format}' (choose sigmorphon or jsonl)")
    if segmented not in ("auto", "yes", "no", "unknown"):
        raise AutoglossError(f"unknown --segmented '{segmented}' (choose auto, yes, no or unknown)")
    glosser = _load_glosser(model_dir, backend, beams, lexicon)
    skipped: list[FormatError] = []
    repaired: list[str] = []
    count = 0
    records = (declare_segmented(r, segmented) for r in _read(input, input_format, skip_invalid, skipped))
    with progress_bar("glossing") as progress, atomic_write(output) as handle:
        for result in glosser.gloss_with_confidence(records):
            if output_format == "jsonl":
                row = record_to_json(result.record, result.confidences)
                if result.repairs:
                    row["repairs"] = list(result.repairs)
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                handle.write(format_record(result.record) + "\n\n")
            if result.repairs:
                repaired.append(result.record.id)
            count += 1
            progress.advance(progress.task_ids[0])
    _report_skipped(skipped)
    if repaired:
        shown = ", ".join(repaired[:20]) + (f" and {len(repaired) - 20} more" if len(repaired) > 20 else "")
        err.print(f"{len(repaired):,} record(s) had their generated glosses aligned with the input "
                  f"(see 'repairs' in JSON lines output): {shown}", markup=False, highlight=False)
    _console_beside(output).print(f"{count:,} records glossed, written to {output}")


def _load_glosser(model_dir: str | None, backend: str, beams: int | None, lexicon: bool):
    """The model with the gloss-time choices of the command line applied."""
    from .models.base import load_backend

    glosser = load_backend(model_dir, backend)
    if beams and glosser.model_type == "seq2seq":
        glosser.settings.beams = beams
    if not lexicon and glosser.model_type == "neural":
        glosser.lexicon = None
    return glosser


def _gloss_interlinear(input: Path, output: Path, glosser, input_format: str, output_format: str | None,
                       overwrite_guesses: bool, toolbox_markers: str | None, elan_tiers: str | None) -> None:
    from .glossing import gloss_document_file
    from .interlinear import format_options, output_format_for

    output_format = output_format or output_format_for(output, input_format)
    with err.status("glossing"):
        summary = gloss_document_file(
            input, output, glosser, input_format=input_format, output_format=output_format,
            overwrite_guesses=overwrite_guesses,
            input_options=format_options(input_format, toolbox_markers, elan_tiers),
            output_options=format_options(output_format, toolbox_markers, elan_tiers)
            if output_format in ("toolbox", "elan") else {})
    _console_beside(output).print(f"{input} -> {output} ({output_format}): {summary}", markup=False, highlight=False,
                                  soft_wrap=True)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (default: this machine only)")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on")] = 8000,
    models: Annotated[Optional[list[str]], typer.Option("--model", help="Model offered in the editor, as PATH or NAME=PATH (repeatable; the packaged model is offered when present)")] = None,
    corrections: Annotated[Path, typer.Option("--corrections", help="JSON-lines file that accepted sentences are appended to")] = Path("corrections.jsonl"),
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", help="Largest file the editor accepts")] = 5.0,
) -> None:
    """Start the post-editor in the browser: gloss, correct, accept, download."""
    from .web import ServerSettings, run_server

    settings = ServerSettings.from_options(models or [], corrections, max_upload_mb)
    out.print(f"autogloss post-editor on http://{host}:{port}/ (models: {', '.join(settings.models) or 'none'}; "
              f"corrections to {corrections})", markup=False, highlight=False)
    run_server(settings, host, port)


# -- the main job -------------------------------------------------------------------
@app.command("pipeline")
def pipeline(
    out_dir: Annotated[Path, typer.Option("--out", help="Where corpus, models, predictions and results go")] = Path("runs"),
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="IGT data folder (default: ../shared/data)")] = None,
    language: Annotated[Optional[list[str]], typer.Option("--language", help="Only these shared-task languages (repeatable)")] = None,
    model: Annotated[str, typer.Option("--model", help="majority or neural")] = "majority",
    max_minutes: Annotated[float, typer.Option("--max-minutes", help="Neural training time per language and track")] = 3.0,
) -> None:
    """Build the corpus, then train, score (dev) and run (test) a glosser on every shared-task language."""
    from .corpus.sources import SHARED_TASK_LANGUAGES
    from .sharedtask import majority_trainer, neural_trainer, results_table, run_shared_task

    if model not in ("majority", "neural"):
        raise AutoglossError(f"unknown --model '{model}' (choose majority or neural)")

    corpus_build(out_dir / "corpus", data_dir)
    from .datapath import find_data_dir

    languages = language or list(SHARED_TASK_LANGUAGES)
    unknown = [code for code in languages if code not in SHARED_TASK_LANGUAGES]
    if unknown:
        raise AutoglossError(f"unknown shared-task language(s) {', '.join(unknown)} (choose from {', '.join(SHARED_TASK_LANGUAGES)})")
    with err.status("shared task") as status:
        trainer = majority_trainer if model == "majority" else neural_trainer(max_minutes, progress=status.update)
        results = run_shared_task(find_data_dir(data_dir), out_dir, trainer, model, languages,
                                  progress=lambda message: status.update(message))
    out.print(results_table(results, model), markup=False, highlight=False)
    out.print(f"models, dev/test predictions and results written to {out_dir}")


def _print_version(value: bool) -> None:
    if value:
        out.print(f"autogloss {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit")] = False,
) -> None:
    """Automatic interlinear glossing for language documentation."""


def main() -> None:
    """Console entry point: runs the app and turns known errors into one line."""
    try:
        app()
    except BrokenPipeError:
        # the reader of standard output has gone (``autogloss convert x - | head``): stop quietly,
        # and keep Python's own flush at exit from failing on the closed pipe
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except (AutoglossError, OSError) as error:
        err.print("[red]error:[/red] ", end="")
        err.print(_message(error), markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    finally:
        _end_distributed_run()


def _message(error: Exception) -> str:
    """The one line for an error: an operating-system error as FILE: PROBLEM."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        if error.filename2 is not None:
            return f"{error.filename} -> {error.filename2}: {error.strerror}"
        return f"{error.filename}: {error.strerror}"
    return str(error)


def _end_distributed_run() -> None:
    """Under torchrun, training leaves a process group open; close it before exit."""
    if "torch.distributed" in sys.modules:  # nothing can be open if it was never imported
        from .models.seq2seq.training import end_distributed_run

        end_distributed_run()


if __name__ == "__main__":
    main()
