"""The ``autogloss`` command line: parses arguments and calls library functions.

Errors the user can fix (bad input files, missing models or data) are printed
as one line naming file and line, with a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import AutoglossError, FormatError
from .formats import FormatName
from .glossing import Segmented
from .learning import LEARN_EPOCHS
from .worklist import Order, worklist_path
from .metrics import Scorer
from .models.loading import Backend
from .progress import Budget, Reporter, Task, command_started, process_seconds, reporter_for
from .sharedtask import BENCHMARK_MINUTES, LONGER_TASKS, PIPELINE_MINUTES, PipelineModel, format_task_minutes
from .training import (HIDDEN, LORA_RANK, PRETRAINING_MAX_FORMS, PRETRAINING_MAX_LABELS, PRETRAINING_SCHEDULE,
                       PRETRAINING_VALIDATION_SIZE, Architecture, Dtype, Network, Schedule, ensemble_models,
                       finetune_model, learning_rate_help, pretrain_model, read_pretraining_corpus, train_model)

app = typer.Typer(help="Automatic interlinear glossing for language documentation.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
corpus_app = typer.Typer(help="Build and inspect the multilingual IGT corpus.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


# Wide tables when output goes to a file or CI log instead of a terminal, and
# lines never folded there (a signature or a path stays whole, to be searched and copied).
out = Console(width=None if sys.stdout.isatty() else 140, soft_wrap=not sys.stdout.isatty())
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140, soft_wrap=not sys.stderr.isatty())
# When this module was imported and how old the process was then; when the
# running command began (set by main; None when the app is run otherwise).
# --max-minutes counts from there: start-up and imports are the command's time too.
_IMPORTED, _AGE_AT_IMPORT = time.monotonic(), process_seconds()
_started: float | None = None

FormatOption = Annotated[Optional[FormatName], typer.Option("--format", help="Input format (default: from the file extension, and for .txt and extensionless files from the content: shared-task markers, a Toolbox header, else text)")]
SkipOption = Annotated[bool, typer.Option("--skip-invalid", help="Skip malformed records, report them and go on")]
ToolboxMarkersOption = Annotated[Optional[str], typer.Option("--toolbox-markers", help="Toolbox markers as ROLE=MARKER,... (roles ref, tx, mb, ge, ps, ft, ag; defaults are those markers)")]
ElanTiersOption = Annotated[Optional[str], typer.Option("--elan-tiers", help="ELAN tiers as ROLE=TIER,... (roles utterance, words, morphs, glosses, word_glosses, translation, status; default: the layout found from the tiers' types and parents)")]
EncodingOption = Annotated[Optional[str], typer.Option("--encoding", help="Toolbox: the file's character encoding, e.g. cp1252 (default: UTF-8, or what the file shows)")]


def _reporter() -> Reporter:
    """Progress on stderr: live bars with an ETA on a terminal, plain lines (done/total, ETA) in a log or pipe."""
    return reporter_for(err, sys.stderr)


@contextlib.contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[Task]:
    """One task's progress on stderr (see :func:`_reporter`)."""
    with _reporter() as reporter, reporter.task(description, total) as task:
        yield task


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


# -- corpus -------------------------------------------------------------------
@corpus_app.command("build")
def corpus_build(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the corpus to")],
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="IGT data folder (default: ../shared/data)")] = None,
    source: Annotated[Optional[list[str]], typer.Option("--source", help="Only these sources (repeatable)")] = None,
    normalise: Annotated[bool, typer.Option("--normalise/--no-normalise", help="Map gloss labels to UniMorph-style labels (originals kept)")] = False,
    labels: Annotated[str, typer.Option("--labels", help="Version of the gloss-label table (v1: shared labels only; v2 adds IMTVault's and APiCS's own tables)")] = "v2",
) -> None:
    """Compile every IGT source into one deduplicated, leak-free Parquet corpus."""
    _build_corpus(out_dir, data_dir, source, labels if normalise else None)


def _build_corpus(out_dir: Path, data_dir: Path | None, sources: list[str] | None = None,
                  labels: str | None = None) -> None:
    """Build the corpus (labels normalised with table version ``labels``, if given) and report on it."""
    from .corpus import build_corpus
    from .datapath import find_data_dir

    with _reporter() as progress:
        report = build_corpus(find_data_dir(data_dir), out_dir, sources=sources, labels=labels, progress=progress)
    out.print(f"corpus written to {out_dir}")
    for split, count in report.rows_written.items():
        out.print(f"  {split:9} {count:>9,} examples")
    leaks = sum(report.leaks_removed.values())
    out.print(f"  removed {sum(report.duplicates_removed.values()):,} exact duplicates and "
              f"{leaks:,} training examples that repeat a SIGMORPHON dev/test sentence")
    if report.skipped:
        out.print(f"  left out {len(report.skipped):,} source record(s) that are not usable IGT (each listed in "
                  f"manifest.json), by reason:")
        for reason, count in report.skipped_by_reason.most_common():
            out.print(f"    {count:>7,}  {reason}", markup=False, highlight=False)
    if report.undetermined:
        out.print(f"  {sum(report.undetermined.values()):,} example(s) whose language could not be decided are "
                  f"pretraining data as 'und' (manifest.json: undetermined_languages)")
    for note in report.notes:
        out.print(f"  note: {note}")


@corpus_app.command("stats")
def corpus_stats_command(
    corpus_dir: Annotated[Path, typer.Argument(help="A directory written by 'autogloss corpus build'")],
    top: Annotated[int, typer.Option(help="How many gloss labels and languages to list")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
) -> None:
    """Examples per source (next to GlossLM's), split and language; segmented share; frequent gloss labels."""
    import dataclasses

    from .corpus import corpus_stats
    from .corpus.stats import GLOSSLM_EXAMPLES, SourceComparison

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
            "next_to_glosslm": [dataclasses.asdict(row) for row in stats.next_to_glosslm()],
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
    compared = Table(title=f"Sources next to GlossLM (Ginn et al. 2024, Table 1; {GLOSSLM_EXAMPLES:,} examples in all)")
    for column in SourceComparison.COLUMNS:
        compared.add_column(column, justify="left" if column == "source" else "right")
    for row in stats.next_to_glosslm():
        compared.add_row(*row.cells())
    out.print(compared)
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
    toolbox_markers: ToolboxMarkersOption = None,
    elan_tiers: ElanTiersOption = None,
    encoding: EncodingOption = None,
) -> None:
    """Check Leipzig rules 1 and 2: word counts and per-word morpheme counts of glosses.

    Exits with status 1 when any record is misaligned.
    """
    from .formats import document_format_of, layout_options, read_records
    from .records import check_alignment

    skipped: list[FormatError] = []
    records = problems = 0
    layout = layout_options(document_format_of(path, format) or "", toolbox_markers, elan_tiers, encoding)
    for record in read_records(path, format, skip_invalid=skip_invalid, skipped=skipped, **layout):
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
    from_format: Annotated[Optional[FormatName], typer.Option("--from", help="Input format (default: from the extension)")] = None,
    to_format: Annotated[Optional[FormatName], typer.Option("--to", help="Output format (default: from the extension)")] = None,
    skip_invalid: SkipOption = False,
    toolbox_markers: ToolboxMarkersOption = None,
    elan_tiers: ElanTiersOption = None,
    encoding: EncodingOption = None,
) -> None:
    """Convert IGT between the shared-task text format, CLDF, Parquet, JSON lines, FLEx, Toolbox and ELAN.

    A FLEx, Toolbox, ELAN or CLDF document converted into its own format is
    copied whole; into another document format it keeps its glosses and
    their guess/human states. INPUT - reads standard input, OUTPUT - writes
    standard output.
    """
    from .formats import convert_file

    skipped: list[FormatError] = []
    count = convert_file(input, output, from_format, to_format, skip_invalid=skip_invalid, skipped=skipped,
                         toolbox_markers=toolbox_markers, elan_tiers=elan_tiers, encoding=encoding)
    _report_skipped(skipped)
    _console_beside(output).print(f"{count:,} records written to {output}")


# -- evaluation -----------------------------------------------------------------
@app.command("evaluate")
def evaluate(
    gold: Annotated[Path, typer.Option("--gold", help="Gold file, any format (- for standard input: shared-task format)")],
    pred: Annotated[Path, typer.Option("--pred", help="Predictions (same records, same order), any format")],
    scorer: Annotated[Scorer, typer.Option("--scorer", help="official (SIGMORPHON 2023) or glosslm (standalone punctuation removed)")] = Scorer.OFFICIAL,
    as_json: Annotated[bool, typer.Option("--json", help="Print all scores as JSON")] = False,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap samples for the 95% intervals (0: none)")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap random seed")] = 0,
) -> None:
    """Score predicted glosses: word and morpheme accuracy, chrF++, BLEU, stems and grams.

    When both files have morpheme segmentations (\\m lines), also scores them:
    morpheme-boundary precision / recall / F1 and words segmented exactly.
    """
    from .formats import read_records
    from .metrics import evaluate_records

    result = evaluate_records(list(read_records(gold)), list(read_records(pred)),
                              scorer, bootstrap, seed, gold_name=str(gold), pred_name=str(pred), segmentation=True)
    for warning in result.warnings:
        err.print("[yellow]warning:[/yellow] ", end="")
        err.print(warning, markup=False, highlight=False)
    if as_json:
        print(json.dumps(result.to_json(), indent=2, allow_nan=False))
        return
    # the title is a line of its own: a table folds its title to the table's width, mid-path
    out.print(f"{pred} against {gold}", markup=False, highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("metric")
    table.add_column("score", justify="right")
    table.add_column("95% CI", justify="right")
    table.add_row("word accuracy", f"{result.word_accuracy:.2f}", _interval(result.word_accuracy_ci))
    table.add_row("morpheme accuracy", f"{result.morpheme_accuracy:.2f}", _interval(result.morpheme_accuracy_ci))
    table.add_row("chrF++", f"{result.chrf_pp:.2f}", "")
    table.add_row("morpheme BLEU", f"{result.bleu:.2f}", "")
    for kind, prf in (("stems", result.stem), ("grams", result.gram)):
        table.add_row(f"{kind} P / R / F1", f"{prf.precision:.1f} / {prf.recall:.1f} / {prf.f1:.1f}", "")
    segmentation = result.segmentation
    if segmentation is not None:
        for label, prf in (("boundary P / R / F1", segmentation.boundary),
                           ("same-form boundary P / R / F1", segmentation.boundary_same_form)):
            table.add_row(label, f"{prf.precision:.1f} / {prf.recall:.1f} / {prf.f1:.1f}", "")
        table.add_row("exact segmentation (words)", f"{segmentation.word_accuracy:.2f}", "")
        table.add_row("exact segmentation (multi-morpheme)", f"{segmentation.multi_morpheme_accuracy:.2f}", "")
    out.print(table)
    out.print(f"{result.records:,} records, {result.gold_words:,} gold words, {result.gold_morphemes:,} gold morphemes")
    out.print(f"signature: {result.signature}", markup=False, highlight=False)
    if segmentation is not None:
        out.print(f"segmentation: {segmentation.words:,} gold words, {segmentation.multi_morpheme_words:,} of several "
                  f"morphemes, {segmentation.differing_words:,} spelt otherwise or missing in the prediction "
                  f"(their boundaries count as misses)", markup=False, highlight=False)
        out.print(f"segmentation signature: {segmentation.signature}", markup=False, highlight=False)


def _interval(interval: tuple[float, float]) -> str:
    import math

    return "none" if any(math.isnan(bound) for bound in interval) else "{:.2f}-{:.2f}".format(*interval)


# -- models -----------------------------------------------------------------------
def _read_all(path: Path | None, format: str | None, skip_invalid: bool, what: str) -> list:
    """The person-given glossed sentences of a training or dev file (never
    machine guesses or empty glosses of a document), saying what was left out."""
    if path is None:
        return []
    from .formats import read_training_records

    skipped: list[FormatError] = []
    with progress_bar(f"reading {what}"):
        selection = read_training_records(path, format, skip_invalid=skip_invalid, skipped=skipped)
    _report_skipped(skipped)
    err.print(f"{what}: {selection}", markup=False, highlight=False)
    return selection.records


EpochsOption = Annotated[int, typer.Option("--epochs", help="Most epochs to train")]
PretrainEpochsOption = Annotated[float, typer.Option("--epochs", help="Epochs to train (a fraction trains that share of the last epoch); with a --max-minutes that does not bind, the same command gives the same model at any load (on another CPU the floating-point sums may differ)")]
MinutesOption = Annotated[Optional[float], typer.Option("--max-minutes", help="Wall-clock minutes for the whole command: loading, training, scoring and saving (training stops early enough)")]
BatchOption = Annotated[int, typer.Option("--batch-size", help="Sentences per batch")]
PatienceOption = Annotated[int, typer.Option("--patience", help="Stop after this many epochs without a better dev score")]
DevOption = Annotated[Optional[Path], typer.Option("--dev", help="Glossed dev file for early stopping")]
RestartOption = Annotated[bool, typer.Option("--restart", help="Discard the checkpoint an interrupted run left for --out and train afresh (by default training resumes from it)")]
# -- seq2seq backend options (GlossLM-compatible ByT5/T5 models; see models/seq2seq) --
BackendOption = Annotated[Backend, typer.Option("--backend", help="auto (from the model directory), neural, or seq2seq (any ByT5/T5 directory or hub id, e.g. lecslab/glosslm)")]
BeamsOption = Annotated[Optional[int], typer.Option("--beams", min=1, help="Beam size (1: greedy). seq2seq: default the model's, 3 as GlossLM; neural: label sequences searched per unsegmented word when glossing, default 1")]
LoraOption = Annotated[bool, typer.Option("--lora/--no-lora", help="seq2seq: train a small LoRA adapter on the frozen base model, saved on its own")]
LoraRankOption = Annotated[int, typer.Option("--lora-rank", help="seq2seq: LoRA rank")]
OptionalRateOption = Annotated[Optional[float], typer.Option("--learning-rate", help=f"Peak learning rate (default: {learning_rate_help()})")]


def _is_first_process() -> bool:
    """False in the other processes of a torchrun / accelerate launch run, which must not report."""
    import os

    return os.environ.get("RANK", "0") == "0"


@app.command("train")
def train(
    train_file: Annotated[Path, typer.Option("--train", help="Glossed training file")],
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write")],
    arch: Annotated[Architecture, typer.Option("--arch", help="Model family")] = Architecture.NEURAL,
    dev_file: DevOption = None,
    format: FormatOption = None,
    skip_invalid: SkipOption = False,
    epochs: EpochsOption = Schedule.epochs,
    max_minutes: MinutesOption = Schedule.max_minutes,
    batch_size: BatchOption = Schedule.batch_size,
    learning_rate: OptionalRateOption = None,
    patience: PatienceOption = Schedule.patience,
    hidden: Annotated[int, typer.Option("--hidden", help="Hidden size of the neural network (seq2seq: the T5's d_model)")] = HIDDEN,
    beams: BeamsOption = None,
    restart: RestartOption = False,
) -> None:
    """Train a glossing model from scratch on one glossed file.

    A killed neural training run, started again with the same --out, resumes
    from its last checkpoint.
    """
    records = _read_all(train_file, format, skip_invalid, "training data")
    dev = _read_all(dev_file, format, skip_invalid, "dev data") if arch.selects_on_dev else []
    schedule = Schedule(epochs=epochs, max_minutes=max_minutes, batch_size=batch_size, patience=patience,
                        learning_rate=learning_rate)
    with _reporter() as progress:
        glosser = train_model(records, dev, out_dir, arch, schedule, sources=[train_file], hidden=hidden, beams=beams,
                              restart=restart, progress=progress, budget=Budget.for_command(max_minutes, _started))
    _print_trained(glosser, out_dir)


def _print_trained(glosser, out_dir: Path) -> None:
    if glosser.model_type == "majority":
        out.print(f"majority model trained on {glosser.trained_on['sentences']:,} glossed sentences, saved to {out_dir}")
        return
    if not _is_first_process():
        return
    scores = glosser.info.get("dev_scores") or {}
    shown = ", ".join(f"{k} {v:.2f}" for k, v in scores.items())
    scored = glosser.info.get("dev_scores_are", "dev")  # what the scores are: not those of the epoch lines
    out.print(f"model saved to {out_dir} ({glosser.info.get('training')})" + (f"; {scored} {shown}" if shown else ""),
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
    epochs: EpochsOption = Schedule.epochs,
    max_minutes: MinutesOption = Schedule.max_minutes,
    batch_size: BatchOption = Schedule.batch_size,
    learning_rate: OptionalRateOption = None,
    patience: PatienceOption = Schedule.patience,
    backend: BackendOption = Backend.AUTO,
    lora: LoraOption = False,
    lora_rank: LoraRankOption = LORA_RANK,
    beams: BeamsOption = None,
    keep_all_labels: Annotated[bool, typer.Option("--keep-all-labels", help="neural: keep every gloss label of the pretrained model (by default the output layer keeps only the labels the training data uses, which glosses several times faster)")] = False,
    restart: RestartOption = False,
) -> None:
    """Adapt a pretrained model to one language, with early stopping on --dev.

    Neural models, or with --backend seq2seq any ByT5/T5 glosser (e.g.
    lecslab/glosslm), fully or (--lora) through a small adapter. Run under
    torchrun (torchrun --nproc_per_node N -m autogloss finetune ...), training
    uses every process.
    """
    from .models.loading import load_model

    if train_file is None and corrections_file is None:
        raise AutoglossError("nothing to train on: give --train FILE and/or --from-corrections FILE")
    base = load_model(model_dir, backend)
    records = _read_all(train_file, format, skip_invalid, "training data") + _read_corrections(corrections_file, skip_invalid)
    dev = _read_all(dev_file, format, skip_invalid, "dev data")
    schedule = Schedule(epochs=epochs, max_minutes=max_minutes, batch_size=batch_size, patience=patience,
                        learning_rate=learning_rate)
    with _reporter() as progress:
        glosser = finetune_model(base, records, dev, out_dir, schedule, base_name=model_dir,
                                 sources=[train_file, corrections_file], lora=lora, lora_rank=lora_rank, beams=beams,
                                 keep_all_labels=keep_all_labels, restart=restart, progress=progress,
                                 budget=Budget.for_command(max_minutes, _started))
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
    ensemble_models(model_dirs, out_dir, weights)
    err.print(f"ensemble of {len(model_dirs)} models written to {out_dir}")


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
    epochs: PretrainEpochsOption = PRETRAINING_SCHEDULE.epochs,
    max_minutes: MinutesOption = PRETRAINING_SCHEDULE.max_minutes,
    batch_size: BatchOption = PRETRAINING_SCHEDULE.batch_size,
    learning_rate: OptionalRateOption = None,
    max_labels: Annotated[int, typer.Option("--max-labels", help="Most frequent gloss labels kept as outputs (others by copying)")] = PRETRAINING_MAX_LABELS,
    max_forms: Annotated[int, typer.Option("--max-forms", help="Most frequent morphemes and words memorised as embeddings")] = PRETRAINING_MAX_FORMS,
    validation_size: Annotated[int, typer.Option("--validation-size", help="Training sentences held out for model selection")] = PRETRAINING_VALIDATION_SIZE,
    hidden: Annotated[int, typer.Option("--hidden", help="Hidden size of the neural network")] = HIDDEN,
    dtype: Annotated[Dtype, typer.Option("--dtype", help="Weights file precision: float32, or float16 for a file half the size")] = Dtype.FLOAT32,
    backend: Annotated[Network, typer.Option("--backend", help="neural, or seq2seq (a byte-level T5 with the GlossLM prompt)")] = Network.NEURAL,
    model_dir: Annotated[Optional[str], typer.Option("--model", help="seq2seq: continue from this ByT5/T5 directory or hub id (default: a new T5 of d_model --hidden)")] = None,
    shared_task_segmentation: Annotated[bool, typer.Option("--with-shared-task-segmentation/--without-shared-task-segmentation", help="--without: leave out the segmented rows of the SIGMORPHON 2023 languages (their plain rows stay), for a model whose fine-tuned track 1 models never saw a shared-task segmentation (GlossLM's exclude_st_seg)")] = True,
    hold_out_language: Annotated[Optional[list[str]], typer.Option("--hold-out-language", help="Leave out every row of this language (ISO 639-3 code or glottocode; repeatable), to measure the model zero-shot on it")] = None,
    restart: RestartOption = False,
) -> None:
    """Train one multilingual model on the whole corpus (train and pretrain splits, both settings).

    Model selection uses sentences held out of the train split, so the
    shared-task dev and test sentences stay unseen. Interrupted, the same
    command resumes from the last checkpoint (saved every 10 minutes). Run
    under torchrun (torchrun --nproc_per_node N -m autogloss pretrain ...),
    training uses every process.
    """
    with progress_bar("reading corpus"):
        corpus = read_pretraining_corpus(corpus_dir)
    schedule = Schedule(epochs=epochs, max_minutes=max_minutes, batch_size=batch_size, learning_rate=learning_rate)
    with _reporter() as progress:
        glosser = pretrain_model(corpus, out_dir, backend, schedule, validation_size=validation_size, hidden=hidden,
                                 max_labels=max_labels, max_forms=max_forms, dtype=dtype, base=model_dir,
                                 command=" ".join(["autogloss", "pretrain", *sys.argv[2:]]), restart=restart,
                                 shared_task_segmentation=shared_task_segmentation,
                                 held_out_languages=hold_out_language or (),
                                 progress=progress, budget=Budget.for_command(max_minutes, _started))
    _print_trained(glosser, out_dir)


@app.command("gloss")
def gloss(
    input: Annotated[Path, typer.Option("--input", help="File to gloss (- for standard input), or a folder: every file in it autogloss reads")],
    output: Annotated[Path, typer.Option("--output", help="Where to write the glossed file (- for standard output); for a folder, the folder that receives each file under its own name")],
    model_dir: Annotated[Optional[str], typer.Option("--model", help="Model directory or Hugging Face hub id (default: the packaged multilingual model)")] = None,
    input_format: Annotated[Optional[FormatName], typer.Option("--format", help="Input format (text: a sentence per line, optional TAB translation; default: from the extension, and for .txt and extensionless files from the content)")] = None,
    output_format: Annotated[Optional[FormatName], typer.Option("--output-format", help="sigmorphon or jsonl (with per-morpheme confidence; default for .jsonl); for FLEx, Toolbox, ELAN or CLDF input also flextext, toolbox, elan or cldf (default: from the extension, else the input's format)")] = None,
    skip_invalid: SkipOption = False,
    backend: BackendOption = Backend.AUTO,
    beams: BeamsOption = None,
    segmented: Annotated[Segmented, typer.Option("--segmented", help="seq2seq: is the transcription segmented? auto (from the records), yes, no or unknown")] = Segmented.AUTO,
    overwrite_guesses: Annotated[bool, typer.Option("--overwrite-guesses", help="FLEx, Toolbox, ELAN, CLDF: also replace earlier machine guesses (never human-approved glosses)")] = False,
    overwrite_glosses: Annotated[bool, typer.Option("--overwrite-glosses", help="Shared-task, JSON-lines and other record files: gloss records that already have glosses too (by default they are written back as they were, and a partly glossed one gets only its gaps filled)")] = False,
    language: Annotated[Optional[str], typer.Option("--language", help="ISO 639-3 code (or glottocode) of the sentences that name no language, as the model sees them")] = None,
    toolbox_markers: ToolboxMarkersOption = None,
    elan_tiers: ElanTiersOption = None,
    encoding: EncodingOption = None,
    lexicon: Annotated[bool, typer.Option("--lexicon/--no-lexicon", help="neural: gloss stems unseen in training with the translation word that recurs with them across the input (on by default)")] = True,
    write_segmentation: Annotated[bool, typer.Option("--write-segmentation", help="Plain input: also write the morphemes the model cut each word into as \\m lines in shared-task output, which cannot mark them as predicted (JSON lines always has them, marked segmentation_predicted)")] = False,
    order: Annotated[Order, typer.Option("--order", help="least-confident: also write a worklist of the glossed sentences, least confident first (a sentence's score is its lowest morpheme confidence), to --worklist or OUTPUT.worklist.tsv; the output stays in document order")] = Order.DOCUMENT,
    worklist: Annotated[Optional[Path], typer.Option("--worklist", help="Where --order least-confident writes the worklist (tab-separated: rank, score, mean, sentence, origin, transcription)")] = None,
) -> None:
    """Gloss a file with a trained model, streaming, in batches.

    FLEx (.flextext), Toolbox, ELAN (.eaf) and CLDF datasets are written back
    whole, with only their empty glosses filled and marked as guesses.
    Records that already have glosses are kept as they were
    (--overwrite-glosses glosses them again). A folder is glossed file by
    file, one line each; a file that fails is reported and the others go on
    (exit status 1 if any failed).
    """
    from .glossing import count_records, gloss_file, gloss_folder, is_folder_of_files, language_from_code
    from .models.loading import load_model

    if language:
        language_from_code(language)  # a bad code is refused before the model loads
    folder_input = is_folder_of_files(input)
    if folder_input and order is not Order.DOCUMENT:
        raise AutoglossError("--order least-confident: gloss the folder's files one at a time for their worklists")
    listed = None if folder_input else worklist_path(order, output, worklist)  # refused before the model loads
    glosser = load_model(model_dir, backend, beams=beams, lexicon=lexicon)
    if folder_input:
        if output_format is not None:
            raise AutoglossError("--output-format: a folder's files are each written in their own format")
        with progress_bar(f"glossing {input.name}") as shown:
            folder = gloss_folder(input, output, glosser, input_format=input_format, progress=shown.advance,
                                  on_file=lambda done: out.print(str(done), markup=False, highlight=False,
                                                                 soft_wrap=True),
                                  overwrite_guesses=overwrite_guesses, segmented=segmented,
                                  toolbox_markers=toolbox_markers, elan_tiers=elan_tiers, encoding=encoding,
                                  skip_invalid=skip_invalid, language=language, overwrite_glosses=overwrite_glosses,
                                  write_segmentation=write_segmentation)
        for done in folder.glossed:
            _report_skipped(done.result.skipped)
            if done.result.warning:
                err.print(f"{done.name}: {done.result.warning}", markup=False, highlight=False, soft_wrap=True)
        out.print(str(folder), markup=False, highlight=False)
        if folder.failed:
            raise typer.Exit(1)
        return
    with progress_bar(f"glossing {input.name}", count_records(input, input_format)) as shown:
        result = gloss_file(input, output, glosser, input_format=input_format, output_format=output_format,
                            overwrite_guesses=overwrite_guesses, segmented=segmented,
                            toolbox_markers=toolbox_markers, elan_tiers=elan_tiers, encoding=encoding,
                            skip_invalid=skip_invalid, progress=shown.advance, language=language,
                            overwrite_glosses=overwrite_glosses, write_segmentation=write_segmentation,
                            worklist=listed)
    _report_skipped(result.skipped)
    if result.warning:
        err.print(result.warning, markup=False, highlight=False, soft_wrap=True)
    if result.repaired:
        shown = ", ".join(result.repaired[:20]) + (f" and {len(result.repaired) - 20} more"
                                                   if len(result.repaired) > 20 else "")
        err.print(f"{len(result.repaired):,} record(s) had their generated glosses aligned with the input "
                  f"(see 'repairs' in JSON lines output): {shown}", markup=False, highlight=False)
    _console_beside(output).print(str(result), markup=False, highlight=False, soft_wrap=True)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (default: this machine only)")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on")] = 8000,
    models: Annotated[Optional[list[str]], typer.Option("--model", help="Model offered in the editor, as PATH or NAME=PATH (repeatable; the packaged model is offered when present)")] = None,
    corrections: Annotated[Path, typer.Option("--corrections", help="JSON-lines file that accepted sentences are appended to")] = Path("corrections.jsonl"),
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", help="Largest file the editor accepts")] = 5.0,
    learn_epochs: Annotated[int, typer.Option("--learn-epochs", help="Epochs of 'learn from my corrections' (fixed, so the same corrections give the same model); the model goes to CORRECTIONS-STEM.models/learned-N/")] = LEARN_EPOCHS,
) -> None:
    """Start the post-editor in the browser: gloss, correct, accept, learn from the corrections, download."""
    from .web import ServerSettings, run_server

    settings = ServerSettings.from_options(models or [], corrections, max_upload_mb, learn_epochs)
    out.print(f"autogloss post-editor on http://{host}:{port}/ (models: {', '.join(settings.models) or 'none'}; "
              f"corrections to {corrections})", markup=False, highlight=False)
    run_server(settings, host, port)


# -- the main job -------------------------------------------------------------------
@app.command("pipeline")
def pipeline(
    out_dir: Annotated[Path, typer.Option("--out", help="Where corpus, models, predictions and results go")] = Path("runs"),
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="IGT data folder (default: ../shared/data)")] = None,
    language: Annotated[Optional[list[str]], typer.Option("--language", help="Only these shared-task languages (repeatable)")] = None,
    track: Annotated[Optional[list[int]], typer.Option("--track", min=1, max=2, help="Only this track (1: plain text, 2: segmented; repeatable)")] = None,
    model: Annotated[PipelineModel, typer.Option("--model", help="neural-pretrained: the packaged model fine-tuned per task; neural: from scratch; majority: the baseline")] = PipelineModel.NEURAL_PRETRAINED,
    max_minutes: Annotated[float, typer.Option("--max-minutes", help="Neural training per language and track: the epochs this many minutes gave on the reference machine (reproducible scores)")] = PIPELINE_MINUTES,
    full: Annotated[bool, typer.Option("--full", help=f"The benchmark's budget: {BENCHMARK_MINUTES:g} minutes per task, more for the tasks that keep gaining ({format_task_minutes(LONGER_TASKS)})")] = False,
    wall_clock: Annotated[bool, typer.Option("--wall-clock", help="Train each task for --max-minutes of wall time here instead (scores depend on the machine and its load)")] = False,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Tasks at a time, each in its own process on one thread")] = 2,
    base_model: Annotated[Optional[Path], typer.Option("--base-model", help="neural-pretrained: fine-tune this pretrained model (an 'autogloss pretrain' directory) instead of the packaged one")] = None,
    track1_base_model: Annotated[Optional[Path], typer.Option("--track1-base-model", help="neural-pretrained: fine-tune track 1 from this model, e.g. one pretrained with --without-shared-task-segmentation (the shared task's track 1 rules)")] = None,
) -> None:
    """Build the corpus, then train, score (dev) and run (test) a glosser on every shared-task language and track.

    By default the packaged multilingual model is fine-tuned on each task for
    the epochs 3 minutes gave it on the reference machine, two tasks at a time.
    """
    from .datapath import find_data_dir
    from .corpus.sources import SHARED_TASK_LANGUAGES
    from .sharedtask import (TRACKS, TrainingLength, comparison_table, pipeline_bases, published_best,
                             results_table, run_pipeline)

    if (base_model or track1_base_model) and model != PipelineModel.NEURAL_PRETRAINED:
        raise AutoglossError("--base-model and --track1-base-model go with --model neural-pretrained")
    bases = pipeline_bases(base_model, track1_base_model) if model == PipelineModel.NEURAL_PRETRAINED else None
    _build_corpus(out_dir / "corpus", data_dir)
    found = find_data_dir(data_dir)
    minutes = BENCHMARK_MINUTES if full else max_minutes
    languages = language or SHARED_TASK_LANGUAGES
    tracks = sorted(set(track)) if track else list(TRACKS)
    with progress_bar(f"{model}: tasks", total=len(languages) * len(tracks)) as progress:
        length = TrainingLength(minutes, wall_clock, task_minutes=LONGER_TASKS if full else ())
        results = run_pipeline(found, out_dir, model, length, languages, tracks,
                               jobs=jobs, bases=bases, progress=lambda done, total, task: progress.update(
                                   completed=done, total=total, description=f"{model}: {task} done"))
    out.print(results_table(results, model), markup=False, highlight=False)
    out.print(f"Dev scores next to the best published test scores ({minutes:g} min per task):\n", markup=False)
    out.print(comparison_table(results, published_best(found)), markup=False, highlight=False)
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
    global _started
    _started = command_started(_IMPORTED, _AGE_AT_IMPORT, time.monotonic())
    try:
        app()
    except BrokenPipeError:
        # the reader of standard output has gone (``autogloss convert x - | head``): stop quietly,
        # and keep Python's own flush at exit from failing on the closed pipe
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except ModuleNotFoundError as error:
        extra = _EXTRAS.get((error.name or "").partition(".")[0])
        if extra is None:
            raise
        err.print("[red]error:[/red] ", end="")
        err.print(f"this command needs {extra[1]}, which is not installed (no module '{error.name}'): "
                  f"pip install 'autogloss[{extra[0]}]'", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except (AutoglossError, OSError) as error:
        err.print("[red]error:[/red] ", end="")
        err.print(_message(error), markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    finally:
        _started = None
        _end_distributed_run()


#: Modules of the optional extras (pyproject.toml) -> (extra, what it brings).
_EXTRAS = {
    **dict.fromkeys(("torch", "safetensors", "simplemma"), ("neural", "the neural glosser")),
    **dict.fromkeys(("transformers", "peft", "accelerate"), ("seq2seq", "the seq2seq (ByT5/T5) glossers")),
    **dict.fromkeys(("fastapi", "uvicorn", "multipart", "python_multipart", "pydantic", "starlette"),
                    ("web", "the post-editor")),
}


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
        from .models.distributed import end_distributed_run

        end_distributed_run()


if __name__ == "__main__":
    main()
