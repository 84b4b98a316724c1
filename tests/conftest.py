"""Shared fixtures: small IGT files and data folders written by the tests themselves."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import traceback
import warnings
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests count examples, never time: a busy 2-core machine must not
# fail a test for being slow. They draw the same examples on every run
# (derandomize), so that a run fails for the code, not for the draw; set
# AUTOGLOSS_HYPOTHESIS_RANDOM=1 (with AUTOGLOSS_FUZZ_EXAMPLES=300, say) to hunt
# with fresh random examples, and add what it finds as a test of its own.
# Loaded here, before any test module builds its own settings (which inherit this profile).
settings.register_profile("autogloss", deadline=None,
                          derandomize=os.environ.get("AUTOGLOSS_HYPOTHESIS_RANDOM") != "1")
settings.load_profile("autogloss")

# No test may reach the Hugging Face hub: every model is built or trained here.
# Set before anything imports huggingface_hub, which reads it once; commands
# run by the tests inherit it.
os.environ["HF_HUB_OFFLINE"] = "1"

# Torch's tiny test models gain nothing from a second thread and lose much to
# it on a busy machine (threads wait for each other's cores). Set before torch
# is imported; commands run by the tests inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
_TEST_THREADS = int(os.environ["OMP_NUM_THREADS"])

# Imported now, not by a test's first in-process command: a command entered
# within a second of this import would count its --max-minutes from the start
# of the whole test process (progress.command_started).
import autogloss.cli  # noqa: E402

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
    """Run ``python -m autogloss`` as a user would, capturing its output.

    For what only a real process shows: exit codes set by the interpreter,
    broken pipes, blocked imports, several processes. Everything else uses
    ``cli`` (below), which is the same command without the seconds of start-up."""
    return subprocess.run([sys.executable, "-m", "autogloss", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


class _PipeEnd(io.TextIOWrapper):
    """A standard stream as a pipe gives it: UTF-8 text over bytes (``.buffer``), not a terminal."""

    def __init__(self, data: bytes = b"") -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8", write_through=True)

    def text(self) -> str:
        """What was written, decoded as ``subprocess.run(text=True)`` decodes it."""
        self.flush()
        return io.TextIOWrapper(io.BytesIO(self.buffer.getvalue()), encoding="utf-8", errors="replace").read()


def cli(*args: str | os.PathLike, cwd: Path | None = None,
        input: str | bytes | None = None) -> subprocess.CompletedProcess:
    """Run the command line in this process, as ``autogloss ARGS`` would run
    (``autogloss.cli.main``: its exit code, its one-line errors, a traceback
    on stderr and exit code 1 for anything else), and return what ``run_cli``
    returns. Starting Python and importing torch again costs seconds a
    command; this costs nothing after the first.

    A command changes what a process shares, so each run gets its own argv,
    standard streams (pipes, not terminals: rich prints as into a log),
    working directory, environment, warning filters, exception hook and
    torch threads and random state, and the test's are put back after."""
    from autogloss import cli as command_line

    data = input.encode("utf-8") if isinstance(input, str) else input or b""
    stdin, stdout, stderr = _PipeEnd(data), _PipeEnd(), _PipeEnd()
    saved_streams, saved_argv, saved_hook = (sys.stdin, sys.stdout, sys.stderr), sys.argv, sys.excepthook
    saved_environment, saved_cwd = dict(os.environ), os.getcwd()
    torch = sys.modules.get("torch")
    saved_torch = (torch.get_num_threads(), torch.random.get_rng_state()) if torch else None
    returncode = 0
    with warnings.catch_warnings():
        sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
        sys.argv = ["autogloss", *map(str, args)]
        try:
            if cwd is not None:
                os.chdir(cwd)
            command_line.main()
        except SystemExit as end:
            returncode = _exit_status(end.code, stderr)
        except Exception:
            traceback.print_exc(file=stderr)
            returncode = 1
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved_streams
            sys.argv, sys.excepthook = saved_argv, saved_hook
            os.chdir(saved_cwd)
            _restore_environment(saved_environment)
            torch = sys.modules.get("torch")
            if torch is not None:
                threads, rng = saved_torch or (_TEST_THREADS, None)
                torch.set_num_threads(threads)
                if rng is not None:
                    torch.random.set_rng_state(rng)
    return subprocess.CompletedProcess(["autogloss", *map(str, args)], returncode, stdout.text(), stderr.text())


def _exit_status(code: object, stderr: io.TextIOBase) -> int:
    """The exit status the interpreter makes of ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=stderr)
    return 1


def _restore_environment(saved: dict[str, str]) -> None:
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    for name, value in saved.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A majority-baseline model of the Tsez sentences above (fast to train)."""
    from autogloss.formats.sigmorphon import read_sigmorphon
    from autogloss.models import MajorityGlosser

    train = tmp_path / "train.txt"
    train.write_text(TRAIN, encoding="utf-8")
    MajorityGlosser.train(read_sigmorphon(train)).save_pretrained(tmp_path / "tsez")
    return tmp_path / "tsez"
