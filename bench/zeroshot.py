"""Zero-shot scores of the packaged model: what to expect before fine-tuning.

    python -m bench.zeroshot                  # every shared-task language, both tracks, up to 300 dev sentences each
    python -m bench.zeroshot --sentences 100  # quicker

The packaged model was pretrained on the corpus's train and pretrain splits
(less the 600 sentences :func:`autogloss.training.pretraining_split` holds
out for model selection, which are train sentences of its languages); its
config records the languages and settings it saw (``info.training_data``).
Of the corpus languages with dev data, the shared-task ones, only Arapaho is
held out of pretraining: it has no gold training data. The other six were
seen in pretraining but never fine-tuned on; they are scored too, since
"glossing works right after install" is a claim about them. Each dev set
(Arapaho: the second half of it, as the benchmark scores it) is sampled
evenly to at most ``--sentences`` sentences, glossed with the record's
language named (as ``gloss --language`` does) and scored with the official
SIGMORPHON 2023 scorer: track 1 is plain text, track 2 segmented. The
``warning`` column says what :class:`autogloss.glossing.TrainingCheck`
does to such input (``capped``: every confidence below the low-confidence
threshold). Writes ``bench/results/zero-shot.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from autogloss.corpus.sources import SHARED_TASK_LANGUAGES
from autogloss.datapath import find_data_dir
from autogloss.fileio import atomic_write
from autogloss.glossing import TrainingCheck, gloss_records
from autogloss.metrics import evaluate_records
from autogloss.models import load_model
from autogloss.sharedtask import TRACKS, load_task

from .machine import machine_description, today

RESULTS = Path(__file__).parent / "results"
#: Dev sentences scored per task at most (evenly spaced): minutes for the whole run.
SENTENCES = 300
#: The fine-tuned scores the table is put beside (same model, fine-tuned per task).
FINE_TUNED = RESULTS / "neural-pretrained-results.json"


def sample(records: list, size: int) -> list:
    """At most ``size`` records, evenly spaced, in order."""
    step = max(len(records) // size, 1)
    return records[::step][:size]


def score(glosser, iso: str, track: int, data_dir: Path, size: int) -> dict:
    """The packaged model's zero-shot official scores on one task's dev sample."""
    task = load_task(data_dir, iso, track)
    language = SHARED_TASK_LANGUAGES[iso].language
    indices = sample(list(range(len(task.dev_gold))), size)
    gold = [task.dev_gold[i] for i in indices]
    inputs = [task.dev_inputs[i].replace(language=language) for i in indices]
    setting = "plain" if track == 1 else "segmented"
    return {"language": iso, "name": language.name, "track": track, "dev_sentences": len(gold),
            "of_dev": len(task.dev_gold),
            "pretraining_sentences": glosser.training_data().sentences(setting, language),
            **gloss_and_score(glosser, gold, inputs, language)}


def gloss_and_score(glosser, gold: list, inputs: list, language) -> dict:
    """Gloss ``inputs`` as ``gloss`` does (its :class:`TrainingCheck` included)
    and score them against ``gold``: official word (95% bootstrap interval)
    and morpheme accuracy, seconds, the model's pretraining sentences of
    ``language`` in any setting and what the check did."""
    check = TrainingCheck(glosser)
    started = time.perf_counter()
    predicted = [output.record for output in gloss_records(inputs, glosser, check=check)]
    seconds = time.perf_counter() - started
    result = evaluate_records(gold, predicted, "official", bootstrap_samples=200)
    data = glosser.training_data()
    return {"pretraining_sentences_any_setting": sum(data.sentences(s, language) or 0 for s in ("segmented", "plain")),
            "word_accuracy": result.word_accuracy, "word_accuracy_ci95": list(result.word_accuracy_ci),
            "morpheme_accuracy": result.morpheme_accuracy, "seconds": round(seconds, 1),
            "warning": "refused" if check.refused else "capped" if check.capped else "none"}


def fine_tuned_scores() -> dict[tuple[str, int], tuple[float, float]]:
    """(word, morpheme) accuracy of the fine-tuned benchmark model per task, where it was run."""
    if not FINE_TUNED.is_file():
        return {}
    return {(row["language"], row["track"]): (row["official"]["word_accuracy"], row["official"]["morpheme_accuracy"])
            for row in json.loads(FINE_TUNED.read_text(encoding="utf-8"))}


def table(rows: list[dict], command: str, seconds: float) -> str:
    tuned = fine_tuned_scores()
    lines = [
        "# Zero-shot scores of the packaged model",
        "",
        f"Run {today()} on {machine_description()} (other sessions were running: busy), with `{command}` "
        f"({seconds / 60:.1f} min, one torch thread). Official SIGMORPHON 2023 scorer, percent, on an evenly spaced "
        "sample of each dev set (Arapaho: of the second half, which the benchmark scores); 95% bootstrap intervals. "
        "Track 1: plain text; track 2: segmented. Each sentence is glossed with its language named, as "
        "`gloss --language` does. *Fine-tuned*: the same model fine-tuned per task "
        f"(`{FINE_TUNED.relative_to(RESULTS.parent.parent)}`, the whole dev set).",
        "",
        "| language | track | in pretraining (this setting / any) | dev sentences | word acc | morpheme acc "
        "| fine-tuned word / morpheme acc | warning |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        low, high = row["word_accuracy_ci95"]
        fine = tuned.get((row["language"], row["track"]))
        lines.append(
            f"| {row['name']} ({row['language']}) | {row['track']} | {row['pretraining_sentences']:,} / "
            f"{row['pretraining_sentences_any_setting']:,} | {row['dev_sentences']} of {row['of_dev']} "
            f"| {row['word_accuracy']:.1f} [{low:.1f}, {high:.1f}] | {row['morpheme_accuracy']:.1f} "
            f"| {f'{fine[0]:.1f} / {fine[1]:.1f}' if fine else 'not run'} | {row['warning']} |")
    held_out = [row for row in rows if not row["pretraining_sentences_any_setting"]]
    plain_seen = [row["name"] for row in rows if row["track"] == 1 and row["pretraining_sentences"]]
    lines += [
        "",
        "Held out of pretraining (no sentence of the language in the corpus's train or pretrain split): "
        + (", ".join(sorted({row["name"] for row in held_out})) or "none") + ". "
        + ("Pretraining read every sentence of these languages segmented, none as plain text (the corpus's "
           "unsegmented copies of a segmented sentence keep their segmentation, which the network reads), so "
           "track 1 is zero-shot for all of them; " if not plain_seen else
           f"Plain text of {', '.join(plain_seen)} was in pretraining; ")
        + "the counts are the packaged model's `config.json` (`info.training_data`).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=SENTENCES, help="dev sentences per task at most")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "zero-shot.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data_dir = find_data_dir(args.data_dir)
    glosser = load_model()
    started = time.perf_counter()
    rows = []
    for iso in SHARED_TASK_LANGUAGES:
        for track in TRACKS:
            rows.append(score(glosser, iso, track, data_dir, args.sentences))
            print(f"{iso} track {track}: word {rows[-1]['word_accuracy']:.1f}, morpheme "
                  f"{rows[-1]['morpheme_accuracy']:.1f} ({rows[-1]['dev_sentences']} sentences)", flush=True)
    seconds = time.perf_counter() - started
    command = "python -m bench.zeroshot" + (f" --sentences {args.sentences}" if args.sentences != SENTENCES else "")
    with atomic_write(args.out) as handle:
        handle.write(table(rows, command, seconds))
    with atomic_write(args.out.with_suffix(".json")) as handle:
        handle.write(json.dumps({"command": command, "machine": machine_description(), "date": today(),
                                 "seconds": round(seconds, 1), "tasks": rows}, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
