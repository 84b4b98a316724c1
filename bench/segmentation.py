"""Track 1 segmentation quality: the ``\\m`` lines a model wrote for plain input.

Track 1 input has no segmentation, but the models write one (each word
split where they put its glosses). Track 1 gold has no ``\\m`` line either;
the track 2 dev gold holds the same sentences with one, so it is the gold
here. ``bench.sigmorphon`` puts these scores into its track 1 rows; this
module also re-scores dev predictions kept from a run::

    python -m bench.segmentation DIR     # every DIR/{iso}-dev-track1.txt, a table on stdout

No torch here: scoring needs none.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autogloss.corpus.sources import SHARED_TASK_LANGUAGES
from autogloss.datapath import find_data_dir
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.metrics import evaluate_segmentation
from autogloss.sharedtask import load_task


def track1_segmentation(data_dir: Path, iso: str, predictions: Path) -> dict | None:
    """The segmentation scores (JSON) of a track 1 dev prediction file, or
    None when it has no ``\\m`` lines. The track 2 dev gold is cut as the
    track 1 dev set is where a language has no training file (Arapaho)."""
    gold = load_task(data_dir, iso, 2).dev_gold
    pred = list(read_sigmorphon(predictions))
    if [record.transcription for record in gold] != [record.transcription for record in pred]:
        sys.exit(f"{predictions}: not the sentences of the {iso} track 2 dev gold in the same order")
    scores = evaluate_segmentation(gold, pred)
    return None if scores is None else scores.to_json()


def add_segmentation(results: list, data_dir: Path, predictions: Path) -> None:
    """Put the segmentation scores of each track 1 task result into its row
    (``extra``), from the dev predictions the run wrote to ``predictions``."""
    for result in results:
        if result.track == 1:
            scores = track1_segmentation(data_dir, result.iso, predictions / f"{result.iso}-dev-track1.txt")
            if scores is not None:
                result.extra["segmentation"] = scores


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
        scores, boundary = row["segmentation"], row["segmentation"]["boundary"]
        lines.append(f"| {row['language']} | {boundary['precision']:.1f} / {boundary['recall']:.1f} / "
                     f"{boundary['f1']:.1f} | {scores['boundary_same_form']['f1']:.1f} | {scores['word_accuracy']:.2f} "
                     f"| {scores['multi_morpheme_accuracy']:.2f} (of {scores['multi_morpheme_words']:,}) "
                     f"| {100 * scores['differing_words'] / max(scores['words'], 1):.1f}% |")
    lines += ["", f"Segmentation signature: `{scored[0]['segmentation']['signature']}`"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions", type=Path, help="folder of {iso}-dev-track1.txt files")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = find_data_dir(args.data_dir)
    rows = [{"language": iso, "track": 1, "segmentation": scores} for iso in SHARED_TASK_LANGUAGES
            if (path := args.predictions / f"{iso}-dev-track1.txt").is_file()
            and (scores := track1_segmentation(data_dir, iso, path)) is not None]
    if not rows:
        sys.exit(f"{args.predictions}: no track 1 dev predictions with \\m lines ({{iso}}-dev-track1.txt)")
    print(segmentation_table(rows).lstrip("\n"), end="")


if __name__ == "__main__":
    main()
