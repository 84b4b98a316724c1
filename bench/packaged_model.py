"""Which pretrained model to ship: two (or more) pretrained models side by side.

    python -m bench.packaged_model --corpus runs/corpus \\
        --model current=packaged --model six-source=runs/pretrained-six \\
        --fine-tuned current=bench/results/main-job.json --fine-tuned six-source=runs/six/neural-pretrained-results.json

Two comparisons, as the corpus issue asks:

* **Fine-tuned on the shared task**: each model fine-tuned on every task at
  the same budget (``autogloss pipeline --base-model DIR``: the same fixed
  epochs per task for every base model), dev scores with the official scorer.
  The results files are the pipeline's own (``--fine-tuned NAME=JSON``).
* **Zero-shot on held-out corpus languages**: corpus languages that none of
  the compared models saw in pretraining (:data:`HELD_OUT_LANGUAGES`, left
  out of the new model's pretraining with ``autogloss pretrain
  --hold-out-language``; the current model never read their sources). Each
  is glossed in both settings from its corpus rows: the segmented rows with
  their morpheme breaks given (morpheme accuracy), the unsegmented ones as
  plain text (word accuracy), at most ``--sentences`` of each, evenly spaced,
  the language named as ``gloss --language`` does. Every model's own
  training counts of the language are printed beside it, so a language one
  of them did see shows up.

Writes ``bench/results/packaged-model.md`` and ``.json``. ``--card NAME``
also appends to model NAME's card (its ``README.md``) the sources it was
pretrained on, counted again from ``--corpus`` with the same filters, and
the comparison.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import torch

from autogloss.corpus.build import read_corpus
from autogloss.fileio import atomic_write
from autogloss.models import load_model
from autogloss.models.loading import DEFAULT_MODEL_DIR
from autogloss.records import IGTRecord, Language
from autogloss.training import (PRETRAINING_VALIDATION_SIZE, pretraining_split, read_pretraining_corpus,
                                without_languages)

from .machine import machine_description, today
from .zeroshot import gloss_and_score, sample

RESULTS = Path(__file__).parent / "results"
#: Corpus languages held out of the six-source model's pretraining for this
#: comparison (ISO 639-3 or glottocode): grammars from IMTVault and creoles
#: from APiCS, none in ODIN, UraTyp, Guarani or the shared task (so the
#: four-source model never saw them either), 330-800 rows each, of eight families.
HELD_OUT_LANGUAGES = ("gyi", "mlw", "ruc", "nru", "sag", "lou", "pga", "chav1241")
#: Sentences per language and setting at most.
SENTENCES = 200
PACKAGED = "packaged"


def named_paths(values: list[str], what: str) -> dict[str, str]:
    """``NAME=PATH`` arguments as a dict, in order."""
    named = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"{what}: expected NAME=PATH, got '{value}'")
        named[name] = path
    return named


def held_out_rows(corpus_dir: Path, codes: tuple[str, ...]) -> dict[str, dict[str, list[IGTRecord]]]:
    """The glossed corpus rows of each language in ``codes``: {code: {"segmented": [...], "plain": [...]}}."""
    wanted = {code.casefold() for code in codes}
    found: dict[str, dict[str, list[IGTRecord]]] = {code: defaultdict(list) for code in codes}
    for record in read_corpus(corpus_dir):
        keys = {(record.language.iso639_3 or "").casefold(), (record.language.glottocode or "").casefold()}
        code = next((c for c in codes if c.casefold() in keys & wanted), None)
        if code is None or not record.has_glosses:
            continue
        found[code]["segmented" if record.segmentation else "plain"].append(record)
    return found


def zero_shot(glosser, records: list[IGTRecord], language: Language) -> dict:
    """Official scores of ``glosser`` on ``records`` glossed from scratch, in the setting they are in."""
    inputs = [record.replace(glosses="", language=language) for record in records]
    return gloss_and_score(glosser, records, inputs, language)


def fine_tuned(path: str) -> dict[str, dict]:
    """A pipeline results file as {"ddo-1": row}."""
    return {f"{row['language']}-{row['track']}": row for row in json.loads(Path(path).read_text(encoding="utf-8"))}


def headline(row: dict) -> float:
    """The shared task's headline score of a task: word accuracy on track 1, morpheme accuracy on track 2."""
    return row["official"]["word_accuracy" if row["track"] == 1 else "morpheme_accuracy"]


def table(report: dict) -> str:
    names = list(report["models"])
    lines = [
        "# Which pretrained model to ship",
        "",
        f"Run {report['date']} on {report['machine']}, with `{report['command']}` "
        f"({report['seconds'] / 60:.1f} min, one torch thread). Official SIGMORPHON 2023 scorer, percent.",
        "",
        "Models: " + "; ".join(f"**{name}** `{path}`" for name, path in report["models"].items()) + ".",
        "",
    ]
    tuned = report["fine_tuned"]
    if tuned:
        keys = sorted({key for rows in tuned.values() for key in rows}, key=lambda k: (k[:-2], k[-1]))
        lines += [
            "## Fine-tuned on the shared task (dev; word accuracy track 1, morpheme accuracy track 2)",
            "",
            "Every model fine-tuned per task for the same fixed epochs (`autogloss pipeline`, "
            "`--base-model` for a model other than the packaged one). Files: "
            + "; ".join(f"{name} `{path}`" for name, path in report["fine_tuned_files"].items()) + ".",
            "",
            "| task | " + " | ".join(tuned) + " | epochs |",
            "|---|" + "---|" * (len(tuned) + 1),
        ]
        sums: dict[str, list[float]] = defaultdict(list)
        for key in keys:
            cells = []
            for name, rows in tuned.items():
                row = rows.get(key)
                cells.append(f"{headline(row):.2f}" if row else "-")
                if row:
                    sums[f"{name}-{key[-1]}"].append(headline(row))
            some = next(rows[key] for rows in tuned.values() if key in rows)
            lines.append(f"| {key[:-2]} track {key[-1]} | " + " | ".join(cells) + f" | {some.get('length', '')} |")
        for track in ("1", "2"):
            cells = [f"{sum(v) / len(v):.2f}" if (v := sums.get(f"{name}-{track}")) else "-" for name in tuned]
            lines.append(f"| mean track {track} | " + " | ".join(cells) + " | |")
        lines.append("")
    lines += [
        "## Zero-shot on corpus languages no compared model was pretrained on",
        "",
        "Segmented: the rows with the source's morpheme breaks, given to the model (morpheme accuracy). "
        "Plain: the unsegmented rows as plain text (word accuracy). 95% bootstrap interval of word accuracy "
        "in brackets; *seen* is each model's own count of the language's pretraining sentences (0 = zero-shot).",
        "",
        "| language | setting | sentences | " + " | ".join(names) + " | seen (" + " / ".join(names) + ") |",
        "|---|---|---|" + "---|" * (len(names) + 1),
    ]
    means: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in report["zero_shot"]:
        metric = "morpheme_accuracy" if row["setting"] == "segmented" else "word_accuracy"
        cells = []
        for name in names:
            score = row["models"][name]
            low, high = score["word_accuracy_ci95"]
            cells.append(f"{score[metric]:.1f}" + (f" [{low:.1f}, {high:.1f}]" if metric == "word_accuracy" else ""))
            means[(name, row["setting"])].append(score[metric])
        seen = " / ".join(f"{row['models'][name]['pretraining_sentences_any_setting']:,}" for name in names)
        lines.append(f"| {row['name']} ({row['language']}) | {row['setting']} | {row['sentences']} | "
                     + " | ".join(cells) + f" | {seen} |")
    for setting in ("segmented", "plain"):
        if any(means.get((name, setting)) for name in names):
            cells = [f"{sum(v) / len(v):.1f}" if (v := means.get((name, setting))) else "-" for name in names]
            lines.append(f"| mean | {setting} | | " + " | ".join(cells) + " | |")
    lines.append("")
    return "\n".join(lines)


def pretraining_sources(corpus_dir: Path, held_out: tuple[str, ...], validation_size: int) -> Counter:
    """Examples per source a model pretrained on ``corpus_dir`` with
    ``--hold-out-language`` ``held_out`` trained on (the same filters and
    split as ``autogloss pretrain``)."""
    corpus, _ = without_languages(read_pretraining_corpus(corpus_dir), held_out)
    fit_on, _ = pretraining_split(corpus.train, validation_size)
    return Counter(record.source or "unknown source" for record in fit_on + corpus.extra)


CARD_SECTION = "\n## Sources, and the comparison that chose this model\n"


def card_section(report: dict, sources: Counter, tables: str) -> str:
    counted = ", ".join(f"{source} {count:,}" for source, count in sources.most_common())
    return (f"{CARD_SECTION}\n"
            f"Pretrained on {sum(sources.values()):,} examples of the six public sources GlossLM compiled "
            f"(ODIN, SIGMORPHON 2023, IMTVault, APiCS, UraTyp, Guarani), by source: {counted}; "
            f"less the rows listed above as left out. Written by `{report['command']}` on {report['date']}.\n"
            + tables.split("\n", 1)[1].replace("\n## ", "\n### "))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="a corpus built by 'autogloss corpus build'")
    parser.add_argument("--model", action="append", default=[], help="NAME=DIR (DIR 'packaged': the packaged model)")
    parser.add_argument("--fine-tuned", action="append", default=[], help="NAME=RESULTS_JSON of 'autogloss pipeline'")
    parser.add_argument("--language", action="append", help="held-out language (default: HELD_OUT_LANGUAGES)")
    parser.add_argument("--sentences", type=int, default=SENTENCES, help="per language and setting, at most")
    parser.add_argument("--out", type=Path, default=RESULTS / "packaged-model.md")
    parser.add_argument("--card", help="NAME of the model whose card gets its sources and this comparison")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    models = named_paths(args.model, "--model") or {"current": PACKAGED}
    tuned_files = named_paths(args.fine_tuned, "--fine-tuned")
    codes = tuple(args.language or HELD_OUT_LANGUAGES)
    started = time.perf_counter()
    rows = held_out_rows(args.corpus, codes)
    glossers = {name: load_model(DEFAULT_MODEL_DIR if path == PACKAGED else path) for name, path in models.items()}
    zero = []
    for code in codes:
        every = rows[code]["segmented"] + rows[code]["plain"]
        if not every:
            raise SystemExit(f"--language {code}: no glossed row of it in {args.corpus}")
        language = every[0].language  # one name per code (sources name a glottocode differently)
        for setting in ("segmented", "plain"):
            records = sample(rows[code][setting], args.sentences)
            if not records:
                continue
            row = {"language": code, "name": language.name, "setting": setting, "sentences": len(records),
                   "of": len(rows[code][setting]), "models": {}}
            for name, glosser in glossers.items():
                row["models"][name] = zero_shot(glosser, records, language)
            zero.append(row)
            print(f"{code} {setting}: " + ", ".join(
                f"{name} {score['morpheme_accuracy' if setting == 'segmented' else 'word_accuracy']:.1f}"
                for name, score in row["models"].items()), flush=True)
    argv_shown = " ".join(argv) if argv is not None else " ".join(__import__("sys").argv[1:])
    report = {"command": f"python -m bench.packaged_model {argv_shown}".strip(), "machine": machine_description(),
              "date": today(), "seconds": round(time.perf_counter() - started, 1), "models": models,
              "fine_tuned_files": tuned_files,
              "fine_tuned": {name: fine_tuned(path) for name, path in tuned_files.items()}, "zero_shot": zero}
    text = table(report)
    with atomic_write(args.out) as handle:
        handle.write(text)
    if args.card:
        model_dir = Path(DEFAULT_MODEL_DIR if models[args.card] == PACKAGED else models[args.card])
        sources = pretraining_sources(args.corpus, codes, PRETRAINING_VALIDATION_SIZE)
        trained = glossers[args.card].info.get("trained_on", "")
        if f"{sum(sources.values()):,} examples" not in trained:
            raise SystemExit(f"--card {args.card}: {args.corpus} with --language {', '.join(codes)} gives "
                             f"{sum(sources.values()):,} examples, the model says '{trained}'")
        card = (model_dir / "README.md").read_text(encoding="utf-8").split(CARD_SECTION)[0]
        with atomic_write(model_dir / "README.md") as handle:
            handle.write(card.rstrip("\n") + "\n" + card_section(report, sources, text))
    with atomic_write(args.out.with_suffix(".json")) as handle:
        handle.write(json.dumps(report, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
