"""Track 1 segmentation quality: the ``\\m`` lines a model wrote for plain input.

Track 1 input has no segmentation, but the models find one (each word cut
into one morpheme per gloss label, where the labels' spellings learnt from
the training glosses put the boundaries: :mod:`autogloss.models.segmentation`).
Track 1 gold has no ``\\m`` line either; the track 2 dev gold holds the same
sentences with one, so it is the gold here. Every shared-task run scores it in
memory (:func:`autogloss.sharedtask.score_task`, the track 1 rows of the main
job and of ``bench.sigmorphon``); this module re-scores dev predictions
kept from a run (written with their ``\\m`` lines, ``write_segmentation``),
or saved track 1 models, glossing the dev inputs itself::

    python -m bench.segmentation DIR     # every DIR/{iso}-dev-track1.txt, a table on stdout
    python -m bench.segmentation --models DIR [--finetune 2] [--languages lez ntu ddo usp]
        # every DIR/{iso} model (fine-tuned first from the packaged model, MINUTES per task on one
        # thread, where missing): glossing and segmentation scores, and how often the morpheme count is right

Scoring prediction files needs no torch; glossing with models does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autogloss.corpus.sources import SHARED_TASK_LANGUAGES
from autogloss.datapath import find_data_dir
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.metrics import evaluate_segmentation, segmented_word
from autogloss.records import words
from autogloss.sharedtask import load_task


def track1_segmentation(data_dir: Path, iso: str, predictions: Path) -> dict | None:
    """The segmentation scores (JSON) of a track 1 dev prediction file, or
    None when it has no ``\\m`` lines, against the task's segmentation gold
    (:attr:`autogloss.sharedtask.TaskData.segmentation_gold`: the track 2 dev
    gold, cut as the track 1 dev set is)."""
    gold = load_task(data_dir, iso, 1).segmentation_gold
    pred = list(read_sigmorphon(predictions))
    if not gold or [record.transcription for record in gold] != [record.transcription for record in pred]:
        sys.exit(f"{predictions}: not the sentences of the {iso} track 2 dev gold in the same order")
    scores = evaluate_segmentation(gold, pred)
    return None if scores is None else scores.to_json()


def segmentation_table(rows: list[dict]) -> str:
    """Track 1 segmentation quality in markdown, for the result rows that
    have it ("" if none do)."""
    scored = [row for row in rows if row["track"] == 1 and "segmentation" in row]
    if not scored:
        return ""
    lines = ["", "Track 1 segmentation: the `\\m` lines the model wrote (track 1 input has none) against the track 2 "
             "dev gold of the same sentences. Words the gold spells otherwise (an underlying form) count as misses; "
             "the same-form F1 leaves them out.", "",
             "| lang | boundary P / R / F1 | same-form boundary F1 | exact words | exact multi-morpheme words "
             "| spelt otherwise |", "|---|---|---|---|---|---|"]
    for row in scored:
        scores = row["segmentation"]
        lines.append(f"| {row['language']} | {_boundary_cells(scores)} | {scores['word_accuracy']:.2f} "
                     f"| {scores['multi_morpheme_accuracy']:.2f} (of {scores['multi_morpheme_words']:,}) "
                     f"| {100 * scores['differing_words'] / max(scores['words'], 1):.1f}% |")
    lines += ["", f"Segmentation signature: `{scored[0]['segmentation']['signature']}`"]
    return "\n".join(lines) + "\n"


def count_agreement(gold: list, pred: list) -> tuple[float, float]:
    """Where a segmenter is weak: of the gold words of several morphemes
    spelt as predicted, the share cut into the right number of morphemes
    (what the glosses decide), and of those the share cut exactly right
    (where the boundaries go), in percent."""
    right = total = exact = 0
    for gold_record, pred_record in zip(gold, pred):
        predicted = [segmented_word(word) for word in words(pred_record.segmentation)]
        for index, (form, boundaries) in enumerate(segmented_word(word) for word in words(gold_record.segmentation)):
            if not boundaries or index >= len(predicted) or predicted[index][0] != form:
                continue
            total += 1
            if len(predicted[index][1]) == len(boundaries):
                right += 1
                exact += predicted[index][1] == boundaries
    return 100 * right / max(total, 1), 100 * exact / max(right, 1)


def score_model(data_dir: Path, iso: str, model: Path, finetune: float | None) -> dict:
    """Gloss the track 1 dev inputs with a saved model (fine-tuned first
    where missing and ``finetune`` minutes are given): glossing and segmentation scores."""
    import torch

    from autogloss.glossing import gloss_records
    from autogloss.metrics import evaluate_records
    from autogloss.models import load_model
    from autogloss.models.loading import DEFAULT_MODEL_DIR
    from autogloss.sharedtask import neural_trainer

    torch.set_num_threads(1)
    task = load_task(data_dir, iso, 1)
    if not model.exists():
        if finetune is None:
            sys.exit(f"{model}: no such model (--finetune MINUTES trains it)")
        neural_trainer(finetune, base=DEFAULT_MODEL_DIR)(task.train, [], f"SIGMORPHON 2023 {iso} track 1 training "
                                                                           f"data").save_pretrained(model)
    glosser = load_model(model)
    predicted = [output.record for output in gloss_records(task.dev_inputs, glosser)]
    glossing = evaluate_records(task.dev_gold, predicted, "official")
    count, exact = count_agreement(task.segmentation_gold, predicted)
    return {"language": iso, "track": 1, "word_accuracy": glossing.word_accuracy,
            "morpheme_accuracy": glossing.morpheme_accuracy, "right_count": count, "exact_given_count": exact,
            "segmentation": evaluate_segmentation(task.segmentation_gold, predicted).to_json()}


def models_table(rows: list[dict]) -> str:
    """Glossing and segmentation of saved models on track 1 dev, in markdown."""
    lines = ["| lang | word acc | morpheme acc | boundary P / R / F1 | same-form F1 | exact multi-morpheme words "
             "| right morpheme count | exact, given the right count |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        scores = row["segmentation"]
        lines.append(f"| {row['language']} | {row['word_accuracy']:.2f} | {row['morpheme_accuracy']:.2f} "
                     f"| {_boundary_cells(scores)} | {scores['multi_morpheme_accuracy']:.1f} "
                     f"| {row['right_count']:.1f}% | {row['exact_given_count']:.1f}% |")
    return "\n".join(lines) + "\n"


def _boundary_cells(scores: dict) -> str:
    """The boundary P / R / F1 and same-form F1 cells of a table row."""
    boundary = scores["boundary"]
    return (f"{boundary['precision']:.1f} / {boundary['recall']:.1f} / {boundary['f1']:.1f} "
            f"| {scores['boundary_same_form']['f1']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions", type=Path, nargs="?", help="folder of {iso}-dev-track1.txt files")
    parser.add_argument("--models", type=Path, default=None, help="folder of saved track 1 models, one per language")
    parser.add_argument("--finetune", type=float, default=None, help="minutes to fine-tune a missing model")
    parser.add_argument("--languages", nargs="+", default=["lez", "ntu", "ddo", "usp"])
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = find_data_dir(args.data_dir)
    if args.models is not None:
        print(models_table([score_model(data_dir, iso, args.models / iso, args.finetune) for iso in args.languages]),
              end="")
        return
    if args.predictions is None:
        parser.error("give a folder of predictions, or --models DIR")
    rows = [{"language": iso, "track": 1, "segmentation": scores} for iso in SHARED_TASK_LANGUAGES
            if (path := args.predictions / f"{iso}-dev-track1.txt").is_file()
            and (scores := track1_segmentation(data_dir, iso, path)) is not None]
    if not rows:
        sys.exit(f"{args.predictions}: no track 1 dev predictions with \\m lines ({{iso}}-dev-track1.txt)")
    print(segmentation_table(rows).lstrip("\n"), end="")


if __name__ == "__main__":
    main()
