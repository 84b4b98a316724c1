"""SIGMORPHON 2023 benchmark of the seq2seq backend, on what a CPU can afford.

    python -m bench.seq2seq                                  # git, lez, ntu; both tracks; 5 min each; speed probe
    python -m bench.seq2seq --minutes 10 --language lez --track 2
    python -m bench.seq2seq --skip-training --speed-sentences 16   # only the speed probe
    python -m bench.seq2seq --skip-speed                           # only the training runs

Options: ``--minutes M`` training budget per language and track (default 5);
``--language ISO`` (repeatable; default git, lez, ntu: the three smallest);
``--track N`` (repeatable; default 1 and 2); ``--d-model``, ``--layers``,
``--decoder-layers``, ``--heads`` the small T5 trained from scratch
(default 256, 4, 2, 4); ``--batch-size`` (16) and ``--learning-rate`` (1e-3);
``--beams`` for its dev predictions (default 3, as GlossLM); ``--speed-sentences N``
sentences in the speed probe (default 12); ``--neural-model PATH`` the neural
model timed there (default: the packaged model if installed, else one trained
for ``--neural-minutes``, default 1, on the first language); ``--skip-training`` / ``--skip-speed``;
``--data-dir``; ``--out DIR`` (default ``bench/results``).

1. Training: for each task, a small byte-level T5 is trained from scratch
   with the Seq2SeqTrainer on the GlossLM prompt within the budget (the last
   tenth of the training data selects the checkpoint by chrF++; Gitksan's 31
   sentences all train), then the dev inputs are glossed and scored with the
   official scorer, the GlossLM scorer and chrF++. Track 1 inputs are
   declared unsegmented (``Transcription segmented: no``), track 2 inputs
   show the segmentation line (``yes``), with the language and
   metalanguage named, as in GlossLM's training data. The neural glosser's
   scores come from ``neural-results.json`` when it is there.
2. Speed: the ByT5-base architecture (GlossLM's: d_model 1536, d_ff 3968,
   18 encoder / 6 decoder layers, 12 heads, d_kv 64, 384 ids; random
   weights, nothing downloaded; transformers 5 shares the output layer's
   weights with the input embedding, where ByT5 has its own 0.6M, which
   changes no computation) glosses real dev prompts of 200-400 bytes,
   forced to write exactly as many bytes as the gold gloss line (60-100),
   greedily and with 3 beams, one sentence at a time; the packaged neural
   model glosses the same sentences one at a time, so the table gives the
   speed ratio of the two backends on this machine.

Writes ``seq2seq-results.md`` and ``seq2seq-results.json`` (machine and
date included) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

from autogloss.corpus.sources import SHARED_TASK_LANGUAGES
from autogloss.datapath import find_data_dir
from autogloss.fileio import atomic_write
from autogloss.records import IGTRecord
from autogloss.sharedtask import TaskData, TaskResult, load_task, run_task

from .machine import machine_description, today

RESULTS = Path(__file__).parent / "results"
SMALLEST = ("git", "lez", "ntu")
MODEL_NAME = "seq2seq"
#: GlossLM's architecture (google/byt5-base): verified against its published config.json.
BYT5_BASE = {"d_model": 1536, "d_ff": 3968, "d_kv": 64, "num_layers": 18, "num_decoder_layers": 6,
             "num_heads": 12, "vocab_size": 384}
PROMPT_BYTES = (200, 400)
GLOSS_BYTES = (60, 100)


def as_glosslm_saw_it(records: list[IGTRecord], iso: str, track: int) -> list[IGTRecord]:
    """Name the language and metalanguage and say what is known about the
    transcription: track 1 lines are plain (``no``); track 2 records carry a
    separate segmentation line, which the prompt shows (``yes``)."""
    info = SHARED_TASK_LANGUAGES[iso]
    return [r.replace(language=info.language, metalanguage=info.metalanguage,
                      is_segmented=False if track == 1 else None) for r in records]


def prepared_task(data_dir: Path, iso: str, track: int) -> TaskData:
    task = load_task(data_dir, iso, track)
    for name in ("train", "dev_inputs", "dev_gold", "test_inputs"):
        setattr(task, name, as_glosslm_saw_it(getattr(task, name), iso, track))
    return task


def train_tasks(args: argparse.Namespace, data_dir: Path) -> list[TaskResult]:
    from autogloss.models.seq2seq.glosser import GenerationSettings
    from autogloss.models.seq2seq.training import Seq2SeqTrainingSettings
    from autogloss.sharedtask import seq2seq_trainer

    model_options = {"d_model": args.d_model, "layers": args.layers, "decoder_layers": args.decoder_layers,
                     "heads": args.heads}
    settings = Seq2SeqTrainingSettings(epochs=1000, patience=10, batch_size=args.batch_size,
                                       learning_rate=args.learning_rate, warmup=50)
    trainer = seq2seq_trainer(args.minutes, model_options, settings=settings,
                              generation=GenerationSettings(beams=args.beams), progress=print)
    work = args.out / f".{MODEL_NAME}-work"
    results = []
    try:
        for iso in args.language:
            for track in args.track:
                print(f"{MODEL_NAME}: {iso} track {track}", flush=True)
                results.append(run_task(prepared_task(data_dir, iso, track), trainer, work, MODEL_NAME))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


# -- speed ---------------------------------------------------------------------------------------
def probe_records(data_dir: Path, languages: list[str], count: int) -> list[tuple[IGTRecord, int]]:
    """Dev sentences (track 1, as a user's new text is) whose GlossLM prompt
    is 200-400 bytes and whose gold gloss line is 60-100 bytes, with that
    length; taken from the languages in turn."""
    from itertools import chain, zip_longest

    from autogloss.models.seq2seq.prompt import build_prompt

    per_language = []
    for iso in languages:
        fitting = []
        for gold in prepared_task(data_dir, iso, 1).dev_gold:
            prompt, gloss = len(build_prompt(gold).encode()), len(gold.glosses.encode())
            if PROMPT_BYTES[0] <= prompt <= PROMPT_BYTES[1] and GLOSS_BYTES[0] <= gloss <= GLOSS_BYTES[1]:
                fitting.append((gold.replace(glosses=""), gloss))
        per_language.append(fitting)
    in_turn = [pair for pair in chain.from_iterable(zip_longest(*per_language)) if pair is not None]
    return in_turn[:count]


def byt5_base_speed(probe: list[tuple[IGTRecord, int]], beams: int) -> dict:
    """Sentences per second of the ByT5-base architecture, one sentence at a
    time, writing exactly as many bytes as each gold gloss line has."""
    from transformers import T5Config, T5ForConditionalGeneration

    from autogloss.models.seq2seq.glosser import byte_tokenizer
    from autogloss.models.seq2seq.prompt import build_prompt

    torch.manual_seed(0)
    config = T5Config(**BYT5_BASE, feed_forward_proj="gated-gelu", tie_word_embeddings=False, pad_token_id=0,
                      eos_token_id=1, decoder_start_token_id=0)
    model = T5ForConditionalGeneration(config).eval()
    tokenizer = byte_tokenizer()

    def run(record: IGTRecord, length: int) -> None:
        inputs = tokenizer([build_prompt(record)], return_tensors="pt")
        with torch.inference_mode():
            model.generate(**inputs, num_beams=beams, do_sample=False, min_new_tokens=length + 1,
                           max_new_tokens=length + 1)  # the gloss bytes and the end id

    run(*probe[0])  # warm-up, not timed
    started = time.perf_counter()
    for record, length in probe:
        run(record, length)
    seconds = time.perf_counter() - started
    return {"model": "ByT5-base architecture (random weights)", "parameters": sum(p.numel() for p in model.parameters()),
            "beams": beams, "sentences": len(probe), "seconds": seconds,
            "sentences_per_second": len(probe) / seconds,
            "output_bytes_per_second": sum(length + 1 for _, length in probe) / seconds}


def neural_for_probe(args: argparse.Namespace, data_dir: Path):
    """The neural glosser to time: ``--neural-model``, else the packaged
    model, else one trained from scratch for ``--neural-minutes`` on the
    first language's track 1 training data (its network is the same size,
    so its speed is the same)."""
    from autogloss.models import load_model
    from autogloss.models.loading import DEFAULT_MODEL_DIR
    from autogloss.models.neural import TrainingSettings, train_glosser

    if args.neural_model is not None or DEFAULT_MODEL_DIR.is_dir():
        name = args.neural_model or DEFAULT_MODEL_DIR
        return load_model(name), f"neural ({Path(name).name})"
    iso = args.language[0]
    task = load_task(data_dir, iso, 1)
    with tempfile.TemporaryDirectory() as work:
        glosser = train_glosser(task.train, [], Path(work) / "neural", save=False,
                                settings=TrainingSettings(epochs=1000, max_minutes=args.neural_minutes))
    return glosser, f"neural (trained {args.neural_minutes:g} min on {iso})"


def neural_speed(glosser, name: str, probe: list[tuple[IGTRecord, int]]) -> dict:
    """The neural glosser on the same sentences, one at a time."""
    list(glosser.gloss([probe[0][0]]))  # warm-up
    started = time.perf_counter()
    for record, _ in probe:
        list(glosser.gloss([record]))
    seconds = time.perf_counter() - started
    return {"model": name, "parameters": sum(p.numel() for p in glosser.network.parameters()),
            "beams": None, "sentences": len(probe), "seconds": seconds,
            "sentences_per_second": len(probe) / seconds, "output_bytes_per_second": None}


def speed_probe(args: argparse.Namespace, data_dir: Path) -> list[dict]:
    probe = probe_records(data_dir, args.language, args.speed_sentences)
    if not probe:
        print("speed probe: no dev sentence of the wanted lengths", file=sys.stderr)
        return []
    rows = [neural_speed(*neural_for_probe(args, data_dir), probe)]
    for beams in (1, 3):
        print(f"speed: ByT5-base, {beams} beam(s), {len(probe)} sentences", flush=True)
        rows.append(byt5_base_speed(probe, beams))
    neural = rows[0]["sentences_per_second"]
    for row in rows:
        row["neural_speed_ratio"] = neural / row["sentences_per_second"]
    return rows


# -- report --------------------------------------------------------------------------------------
def neural_rows(results_dir: Path) -> dict:
    """The neural benchmark's results by (language, track): beside ours, else the committed ones."""
    path = results_dir / "neural-results.json"
    if not path.is_file():
        path = RESULTS / "neural-results.json"
    if not path.is_file():
        return {}
    return {(r["language"], r["track"]): r for r in json.loads(path.read_text(encoding="utf-8"))}


def score_table(results: list[TaskResult], neural: dict) -> list[str]:
    lines = ["| lang | track | train sents | dev sents | seq2seq word acc | seq2seq morph acc | seq2seq chrF++ "
             "| neural word acc | neural morph acc | neural chrF++ | seq2seq training (s) | seq2seq sents/s "
             "| neural sents/s |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        ours = (f"{r.official.word_accuracy:.2f} | {r.official.morpheme_accuracy:.2f} | {r.official.chrf_pp:.2f}")
        n = neural.get((r.iso, r.track))
        theirs = (f"{n['official']['word_accuracy']:.2f} | {n['official']['morpheme_accuracy']:.2f} "
                  f"| {n['official']['chrf_pp']:.2f}") if n else "- | - | -"
        their_speed = f"{n['sentences_per_second']:,.0f}" if n else "-"
        lines.append(f"| {r.iso} | {r.track} | {r.train_sentences:,} | {r.dev_sentences:,} | {ours} | {theirs} "
                     f"| {r.train_seconds:.0f} | {r.sentences_per_second:,.1f} | {their_speed} |")
    return lines


def speed_table(rows: list[dict]) -> list[str]:
    lines = ["| model | parameters | decoding | sentences | seconds | sentences/s | output bytes/s "
             "| neural is faster by |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        decoding = "its own" if row["beams"] is None else ("greedy" if row["beams"] == 1 else f"{row['beams']} beams")
        per_byte = f"{row['output_bytes_per_second']:,.0f}" if row["output_bytes_per_second"] else "-"
        lines.append(f"| {row['model']} | {row['parameters']:,} | {decoding} | {row['sentences']} "
                     f"| {row['seconds']:.1f} | {row['sentences_per_second']:,.2f} | {per_byte} "
                     f"| {row['neural_speed_ratio']:,.0f}x |")
    return lines


def report(args: argparse.Namespace, results: list[TaskResult], speed: list[dict], elapsed: float) -> str:
    command = "python -m bench.seq2seq " + " ".join(sys.argv[1:])
    parts = ["# SIGMORPHON 2023 benchmark: seq2seq backend (byte-level T5, GlossLM prompt)", "",
             f"Run {today()} on {machine_description()}, {torch.get_num_threads()} torch thread(s).",
             f"Command: `{command.strip()}`; whole run {elapsed:.0f} s.", ""]
    if results:
        parts += [f"A T5 with d_model {args.d_model}, {args.layers} encoder / {args.decoder_layers} decoder layers, "
                  f"{args.heads} heads, ByT5's byte vocabulary, trained from scratch per language and track with the "
                  f"Seq2SeqTrainer for {args.minutes:g} min (batch {args.batch_size}, learning rate "
                  f"{args.learning_rate:g}, chrF++ selection on the last 10% of the training data, except Gitksan); "
                  f"dev glossed with {args.beams} beam(s) after alignment repair. Neural columns: "
                  f"`neural-results.json` (neural glosser from scratch, its own run and budget).", "",
                  "## Dev scores (official scorer, percent) and speed", "", *score_table(results, neural_rows(args.out)),
                  "", f"Scorer signature: `{results[0].official.signature}`", ""]
    if speed:
        parts += ["## Inference speed on this machine, same sentences, one at a time", "",
                  f"{speed[0]['sentences']} dev prompts of {PROMPT_BYTES[0]}-{PROMPT_BYTES[1]} bytes; ByT5-base is "
                  f"made to write exactly the gold gloss line's bytes ({GLOSS_BYTES[0]}-{GLOSS_BYTES[1]}) plus the "
                  "end id. Random weights: speed does not depend on them.", "", *speed_table(speed), ""]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="training budget per language and track")
    parser.add_argument("--language", action="append", help="languages (repeatable; default git, lez, ntu)")
    parser.add_argument("--track", action="append", type=int, choices=(1, 2), help="tracks (repeatable; default 1 2)")
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4, help="encoder layers")
    parser.add_argument("--decoder-layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--beams", type=int, default=3, help="beams for the dev predictions")
    parser.add_argument("--speed-sentences", type=int, default=12)
    parser.add_argument("--neural-model", type=Path, default=None,
                        help="neural model timed in the speed probe (default: the packaged one, if installed)")
    parser.add_argument("--neural-minutes", type=float, default=1.0,
                        help="without a neural model: train one this long for the speed probe")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.language = args.language or list(SMALLEST)
    args.track = args.track or [1, 2]
    unknown = [iso for iso in args.language if iso not in SHARED_TASK_LANGUAGES]
    if unknown:
        parser.error(f"unknown language(s) {', '.join(unknown)} (choose from {', '.join(SHARED_TASK_LANGUAGES)})")
    data_dir = find_data_dir(args.data_dir)
    started = time.perf_counter()
    results = [] if args.skip_training else train_tasks(args, data_dir)
    speed = [] if args.skip_speed else speed_probe(args, data_dir)
    text = report(args, results, speed, time.perf_counter() - started)
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out / f"{MODEL_NAME}-results.md") as handle:
        handle.write(text)
    with atomic_write(args.out / f"{MODEL_NAME}-results.json") as handle:
        json.dump({"date": today(), "machine": machine_description(), "torch_threads": torch.get_num_threads(),
                   "command": "python -m bench.seq2seq " + " ".join(sys.argv[1:]), "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                   "tasks": [r.to_json() for r in results], "speed": speed}, handle, indent=2)
    print(text)


if __name__ == "__main__":
    main()
