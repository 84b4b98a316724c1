"""A tiny Tsez-shaped shared-task folder for the learning-curve and annotation benchmarks' tests."""

from __future__ import annotations

import itertools
from pathlib import Path

from conftest import covered, without_segmentation

NOUNS = (("raład", "raład", "sea"), ("xabar", "xabar", "story"), ("žek’a", "žek’u-a", "man-ERG"),
         ("ixiw", "ixiw", "big"), ("kid", "kid", "girl"))
VERBS = (("boqno", "b-oq-n", "III-become-PST.UNW"), ("bayrno", "b-ayr-n", "III-bring-PST.UNW"),
         ("yołi", "y-oł-i", "II-be-PST"))


def sentences() -> list[str]:
    """Distinct three-word glossed sentences (track 2 shape), in a fixed order."""
    found = []
    for (t1, m1, g1), (t2, m2, g2), (t3, m3, g3) in itertools.product(NOUNS, NOUNS, VERBS):
        if t1 != t2:
            found.append(f"\\t {t1} {t2} {t3}\n\\m {m1} {m2} {m3}\n\\g {g1} {g2} {g3}\n\\l -\n")
    return found


def tiny_data(root: Path, train: int = 40, dev: int = 6) -> Path:
    """A data folder with Tsez (ddo) train and dev files of both tracks."""
    tsez = root / "sigmorphon2023" / "Tsez"
    tsez.mkdir(parents=True)
    pool = sentences()
    for split, chosen in (("train", pool[:train]), ("dev", pool[-dev:])):
        text = "\n".join(chosen)
        (tsez / f"ddo-{split}-track2-uncovered").write_text(text, encoding="utf-8")
        (tsez / f"ddo-{split}-track1-uncovered").write_text(without_segmentation(text), encoding="utf-8")
        (tsez / f"ddo-{split}-track2-covered").write_text(covered(text, True), encoding="utf-8")
        (tsez / f"ddo-{split}-track1-covered").write_text(covered(text, False), encoding="utf-8")
    return root


def tiny_base(data: Path, out: Path) -> Path:
    """A tiny 'pretrained' model (hidden size 8, half an epoch on the tiny train file) to fine-tune from."""
    from autogloss.formats.sigmorphon import read_sigmorphon
    from autogloss.sharedtask import neural_trainer

    records = list(read_sigmorphon(data / "sigmorphon2023" / "Tsez" / "ddo-train-track2-uncovered"))
    neural_trainer(None, hidden=8, epochs=0.5)(records, [], "tiny base").save_pretrained(out)
    return out
