"""Shared fixtures: small IGT files and data folders written by the tests themselves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests count examples, never time: a busy 2-core machine must not
# fail a test for being slow. Loaded here, before any test module builds its
# own settings (which inherit this profile).
settings.register_profile("autogloss", deadline=None)
settings.load_profile("autogloss")

# No test may reach the Hugging Face hub: every model is built or trained here.
# Set before anything imports huggingface_hub, which reads it once; commands
# run by the tests inherit it.
os.environ["HF_HUB_OFFLINE"] = "1"

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

TRAIN = """\\t Ixiw raład boqno.
\\m ixiw raład b-oq-n
\\g big sea III-become-PST.UNW
\\l A big sea formed.

\\t Žek’a xabar bayrno.
\\m žek’u-a xabar b-ayr-n
\\g man-ERG story III-bring-PST.UNW
\\l The man brought a story.

\\t Ixiw žek’u boqno.
\\m ixiw žek’u b-oq-n
\\g big man III-become-PST.UNW
\\l The man became big.
"""

DEV = """\\t Žek’a raład bayrno.
\\m žek’u-a raład b-ayr-n
\\g man-ERG sea III-bring-PST.UNW
\\l The man brought the sea.

\\t Ixiw xabar.
\\m ixiw xabar
\\g big story
\\l A big story.
"""

TEST_COVERED = """\\t Raład boqno.
\\m raład b-oq-n
\\g
\\l The sea formed.
"""


def covered(text: str, keep_segmentation: bool) -> str:
    """A gold file turned into a covered input: empty glosses (and no \\m for track 1)."""
    lines = []
    for line in text.splitlines():
        if line.startswith("\\g"):
            lines.append("\\g ")
        elif line.startswith("\\m") and not keep_segmentation:
            continue
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def without_segmentation(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("\\m")) + "\n"


@pytest.fixture
def mini_data(tmp_path: Path) -> Path:
    """A data folder shaped like ../shared/data with one shared-task language
    (Tsez) and tiny ODIN, Guarani and UraTyp sources."""
    root = tmp_path / "data"
    tsez = root / "sigmorphon2023" / "Tsez"
    tsez.mkdir(parents=True)
    for split, text in (("train", TRAIN), ("dev", DEV)):
        (tsez / f"ddo-{split}-track2-uncovered").write_text(text, encoding="utf-8")
        (tsez / f"ddo-{split}-track1-uncovered").write_text(without_segmentation(text), encoding="utf-8")
        (tsez / f"ddo-{split}-track2-covered").write_text(covered(text, True), encoding="utf-8")
        (tsez / f"ddo-{split}-track1-covered").write_text(covered(text, False), encoding="utf-8")
    (tsez / "ddo-test-track2-covered").write_text(TEST_COVERED, encoding="utf-8")
    (tsez / "ddo-test-track1-covered").write_text(covered(TEST_COVERED, False), encoding="utf-8")
    odin = root / "odin"
    odin.mkdir()
    (odin / "tur.txt").write_text(
        "\\t Emine elmayi yedi.\n\\m Emine elma-yi ye-di.\n\\g Emine apple-ACC eat-PAST.3sg\n\\l Emine ate the apple.\n\n"
        # an exact duplicate, and a copy of a Tsez dev sentence (a leak)
        "\\t Emine elmayi yedi.\n\\m Emine elma-yi ye-di.\n\\g Emine apple-ACC eat-PAST.3sg\n\\l Emine ate the apple.\n\n"
        "\\t Ixiw xabar!\n\\m Ixiw xabar!\n\\g big story\n\\l A big story.\n\n",
        encoding="utf-8",
    )
    (odin / "empty.txt").write_text("", encoding="utf-8")
    guarani = root / "guarani"
    guarani.mkdir()
    (guarani / "Story1.txt").write_text("\\t O-ho peteĩ\n\\g 3Sg-go one\n\\l He went.\n", encoding="utf-8")
    (guarani / "Story1-fixed.txt").write_text(
        "\\t Oho peteĩ\n\\m O-ho peteĩ\n\\g 3Sg-go one\n\\l He went.\n", encoding="utf-8")
    uratyp = root / "uratyp"
    uratyp.mkdir()
    (uratyp / "examples.csv").write_text(
        "ID,Language_ID,Primary_Text,Analyzed_Word,Gloss,Translated_Text,Meta_Language_ID,Comment,Original_Script\r\n"
        "1,16,dán buori biillas,dán\tbuori\tbiillas,this.GENACC\tgood.GENACC\tcar.LOC,in this good car,,,\r\n"
        "2,16,Máreha boađedettiin,Máreha\tboađe-dettiin,,when Máret came,,,\r\n",
        encoding="utf-8",
    )
    (uratyp / "languages.csv").write_text(
        "ID,Name,Macroarea,Latitude,Longitude,Glottocode,ISO639P3code\r\n16,North_Saami,,,,nort2671,sme\r\n",
        encoding="utf-8",
    )
    return root


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m autogloss`` as a user would, capturing its output."""
    return subprocess.run([sys.executable, "-m", "autogloss", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A majority-baseline model of the Tsez sentences above (fast to train)."""
    from autogloss.formats.sigmorphon import read_sigmorphon
    from autogloss.models import MajorityGlosser

    train = tmp_path / "train.txt"
    train.write_text(TRAIN, encoding="utf-8")
    MajorityGlosser.train(read_sigmorphon(train)).save_pretrained(tmp_path / "tsez")
    return tmp_path / "tsez"
