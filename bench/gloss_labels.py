"""Build the gloss-label table ``gloss_labels_v2``: version 1 unchanged plus, per source
collection, the labels of its own abbreviation table mapped onto the shared labels by meaning.

IMTVault books ship their abbreviations (``abbrkey``: label -> meaning, LaTeX-ish text) and
APiCS ships ``glossabbreviations.csv``. A label means what its book says, so one book's
``PF`` ("perfect") is the shared ``PRF`` while another's ``PF`` may be "perfective". Each
label is decided here by its meaning, through the list of what the shared labels mean
(``bench/gloss_label_meanings.tsv``)::

    python -m bench.gloss_labels            # writes src/autogloss/data/gloss_labels_v2.tsv, prints the counts
    python -m bench.gloss_labels --check    # exit 1 if the committed table is not what the data gives now

The rules (documented in ``gloss_labels_v2.md``):

- an entry is one gloss label, or spellings of one (``Evid/evid``); entries naming several
  labels (``1, 2, 3``), symbols (``#``, ``*``) or composed labels (``cm.fish``) are left out;
- the meaning is cleaned (LaTeX, quoted glosses, remarks in parentheses after a space, generic
  words such as "case", "marker", "tense" at the end) and split into alternatives at ``,``
  ``;`` ``/`` and "or"; ``adverb(ial)`` gives both "adverb" and "adverbial";
- when every alternative (a lone generic word such as "marker" aside) is in the meaning list
  and all name one shared label, the book's label maps to it; when they name several (``erg/inst``: "ergative/instrumental"), or none, the
  label is kept as the book writes it (in capitals), so that v1 never maps it to a meaning
  the book did not give it; a label v1 only reformats (``3SG`` -> ``3.SG``) keeps v1's form.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autogloss.datapath import find_data_dir
from autogloss.normalise import KEEP, LabelTable, load_table

HERE = Path(__file__).resolve().parent
MEANINGS = HERE / "gloss_label_meanings.tsv"
V1 = HERE.parent / "src" / "autogloss" / "data" / "gloss_labels_v1.tsv"
V2 = V1.with_name("gloss_labels_v2.tsv")

#: Words that say what kind of thing a category is, not which one ("accusative case").
GENERIC = {"case", "marker", "marking", "mark", "particle", "suffix", "prefix", "affix", "clitic", "enclitic",
           "proclitic", "morpheme", "mood", "tense", "aspect", "voice", "form", "number", "gender", "pronoun",
           "article", "category"}
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+\*?")
_QUOTED = re.compile(r"(^|\s)[‘“`'\"][^’”'\"]*[’”'\"]")
_ORDINALS = {"1st": "first", "2nd": "second", "3rd": "third"}
_ATTACHED = re.compile(r"(.*?)\((\w+)\)(.*)")  # adverb(ial), (im)perfective


def clean_meaning(text: str) -> str:
    """A source's meaning as plain lower-case words: ``\\textsc{3sg}~subject`` -> ``3sg subject``."""
    text = _LATEX_COMMAND.sub("", text)
    text = re.sub(r"[{}$\\]", "", text).replace("~", " ")
    text = _QUOTED.sub(" ", text).casefold()
    text = re.sub(r"\b(1st|2nd|3rd)\b", lambda match: _ORDINALS[match[1]], text)
    return " ".join(text.split()).strip(" .;:")


def _strip_generic(phrase: str) -> str:
    words = phrase.split()
    if words and words[0] in ("a", "an", "the"):
        words = words[1:]
    while len(words) > 1 and words[-1] in GENERIC:
        words.pop()
    return " ".join(words)


def meaning_alternatives(cleaned: str) -> list[str]:
    """The alternatives a cleaned meaning offers: ``negation, negative`` -> both."""
    text = re.sub(r"\s\([^)]*\)", " ", cleaned)
    alternatives = []
    for part in re.split(r"\s*(?:[,;/]|\bor\b)\s*", text):
        part = part.strip(" .:")
        if not part:
            continue
        attached = _ATTACHED.fullmatch(part)
        forms = [attached[1] + attached[3], attached[1] + attached[2] + attached[3]] if attached else [part]
        alternatives.extend(_strip_generic(form) for form in forms)
    return [alternative for alternative in alternatives if alternative]


def single_label(key: str) -> tuple[str | None, str]:
    """The one gloss label an abbreviation entry names (upper case), or None and why not."""
    spellings = {part.strip().upper() for part in re.split(r"[,/]", key) if part.strip()}
    if len(spellings) > 1:
        return None, "several labels in one entry"
    label = spellings.pop() if spellings else ""
    if not re.fullmatch(r"[^\W_]+", label):
        return None, "not one gloss label (empty, symbols or a composed label)"
    return label, ""


@dataclass(frozen=True)
class Decision:
    """How one source label is normalised: ``target`` (``=`` keeps it) and why."""

    label: str
    target: str
    lowercase_ok: bool
    kind: str  # mapped (to another label) | confirmed (it is the shared label) | v1-form | kept-unclear | kept-ambiguous
    note: str


def load_meanings(path: Path = MEANINGS) -> dict[str, str]:
    meanings: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#") or raw.startswith("meaning\t"):
            continue
        meaning, label = raw.split("\t")[:2]
        if meaning in meanings:
            sys.exit(f"{path}:{number}: meaning '{meaning}' listed twice")
        meanings[meaning] = label
    return meanings


def decide(label: str, meaning: str, shared: LabelTable, meanings: dict[str, str]) -> Decision:
    """Map one source label by its meaning onto the shared labels of ``shared``."""
    cleaned = clean_meaning(meaning)
    alternatives = [alternative for alternative in meaning_alternatives(cleaned) if alternative not in GENERIC]
    found = sorted({meanings[alternative] for alternative in alternatives if alternative in meanings})
    if len(found) == 1 and any(alternative not in meanings for alternative in alternatives):
        found = []  # "continuative/imperfect": only part of the meaning is a shared label
    v1 = shared.entries.get(label)
    lowercase_ok = v1.lowercase_ok if v1 else False
    v1_form = shared.component(label)
    if len(found) == 1:
        target = found[0]
        relation = "" if v1 is None else " (as v1)" if target == v1_form else f" (v1: {v1_form})"
        if target == label:
            return Decision(label, KEEP, lowercase_ok, "confirmed", f"'{cleaned}'{relation}")
        return Decision(label, target, lowercase_ok, "mapped", f"'{cleaned}'{relation}")
    if v1 is not None and v1_form != label and v1_form.replace(".", "") == label:
        return Decision(label, v1_form, lowercase_ok, "v1-form", f"'{cleaned}': v1's form")
    if found:
        return Decision(label, KEEP, lowercase_ok, "kept-ambiguous", f"'{cleaned}': several labels ({', '.join(found)})")
    return Decision(label, KEEP, lowercase_ok, "kept-unclear", f"'{cleaned}': no shared label for this meaning")


@dataclass
class ScopeReport:
    """Counts of one source's abbreviation tables (for the printout and the .md)."""

    scopes: int = 0
    read: int = 0
    left_out: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    changes_v1: int = 0


def scope_rows(scope: str, table: dict[str, str], shared: LabelTable, meanings: dict[str, str],
               report: ScopeReport) -> list[tuple[str, ...]]:
    """The table rows of one collection's abbreviations (one per label, sorted)."""
    decisions: dict[str, Decision] = {}
    report.scopes += 1
    for key, meaning in table.items():
        report.read += 1
        label, why = single_label(key)
        if label is None:
            report.left_out[why] += 1
            continue
        decision = decide(label, meaning or "", shared, meanings)
        earlier = decisions.get(label)
        if earlier is not None:
            report.left_out["the same label again"] += 1
            if earlier.target == decision.target:
                continue
            decision = Decision(label, KEEP, decision.lowercase_ok, "kept-ambiguous",
                                f"listed twice with different meanings ({earlier.note}; {decision.note})")
        decisions[label] = decision
    rows = []
    for label, decision in sorted(decisions.items()):
        report.kinds[decision.kind] += 1
        result = label if decision.target == KEEP else decision.target
        report.changes_v1 += label in shared.entries and result != shared.component(label)
        rows.append((label, decision.target, "yes" if decision.lowercase_ok else "no", decision.note, scope))
    return rows


def imtvault_tables(folder: Path) -> dict[str, dict[str, str]]:
    """``{"imtvault:<book_ID>": abbrkey}``: each book's table (its chapters share one)."""
    tables: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("store-*.json")):
        for example in json.loads(path.read_text(encoding="utf-8")):
            if example.get("abbrkey"):
                tables.setdefault(f"imtvault:{example['book_ID']}", example["abbrkey"])
    return dict(sorted(tables.items(), key=lambda item: int(item[0].split(":")[1])))


def apics_table(folder: Path) -> dict[str, str]:
    with (folder / "glossabbreviations.csv").open(encoding="utf-8", newline="") as handle:
        return {row["ID"]: row["Name"] for row in csv.DictReader(handle)}


def build(data_dir: Path) -> tuple[str, dict[str, ScopeReport]]:
    """The text of gloss_labels_v2.tsv and the counts per source."""
    shared, meanings = load_table("v1"), load_meanings()
    reports = {"imtvault": ScopeReport(), "apics": ScopeReport()}
    rows = []
    for scope, table in imtvault_tables(data_dir / "imtvault").items():
        rows += scope_rows(scope, table, shared, meanings, reports["imtvault"])
    rows += scope_rows("apics", apics_table(data_dir / "apics"), shared, meanings, reports["apics"])
    return render(V1.read_text(encoding="utf-8"), rows), reports


HEADER = """\
# autogloss gloss-label normalisation table, version 2: version 1 unchanged (rows with an empty scope)
# plus the labels of the sources' own abbreviation tables (scope imtvault:<book_ID>, apics), mapped by meaning.
# Generated by `python -m bench.gloss_labels` from ../shared/data; do not edit by hand (see gloss_labels_v2.md).
# Columns: label, unimorph, lowercase_ok, note, scope (as in v1; scope: where the row applies, empty = everywhere)
# A scoped row replaces the shared row of its label for records of that scope; '=' keeps the label as written, in capitals.
"""


def render(v1_text: str, rows: list[tuple[str, ...]]) -> str:
    lines = [HEADER.rstrip("\n")]
    data = [line for line in v1_text.splitlines() if line.strip() and not line.startswith("#")]
    lines.append(data[0] + "\tscope")
    lines += [line + "\t" for line in data[1:]]
    lines += ["\t".join(row) for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="IGT data folder (default: ../shared/data)")
    parser.add_argument("--check", action="store_true", help="compare with the committed table instead of writing")
    args = parser.parse_args(argv)
    text, reports = build(find_data_dir(args.data_dir))
    for source, report in reports.items():
        print(f"{source}: {report.scopes} table(s), {report.read} abbreviations read; left out: "
              f"{dict(report.left_out)}; rows: {dict(report.kinds)}; {report.changes_v1} change what v1 does")
    if args.check:
        if V2.read_text(encoding="utf-8") != text:
            sys.exit(f"{V2} is not what the data gives now: run python -m bench.gloss_labels")
        print(f"{V2.name} is up to date")
        return
    V2.write_text(text, encoding="utf-8")
    print(f"wrote {V2} ({len(text.splitlines())} lines)")


if __name__ == "__main__":
    main()
