"""docs/tutorial.md, run as written: its commands, in order, on small FLEx files.

The texts are the Tsez sentences of ``conftest`` (``texts`` and ``dev`` as a
person's FLEx glosses, ``new`` the FLEx fixture with empty glosses and a
guess). Training is shortened to one epoch; the post-editor step is done
through the page's own API, as the browser would.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conftest import DEV, TRAIN, cli
from interlinear_fixtures import FLEXTEXT

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
SHORTENED = ["--epochs", "1"]


def _commands() -> list[list[str]]:
    """The autogloss commands of the tutorial's bash blocks, in order."""
    blocks = re.findall(r"```bash\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line, comments=True) for line in lines if line.startswith("autogloss ")]


def test_the_tutorial_names_its_files_and_steps() -> None:
    commands = [command[1] for command in _commands()]
    assert commands == ["check", "check", "finetune", "gloss", "evaluate", "gloss", "serve", "finetune", "gloss",
                        "evaluate"]


def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "dev.txt").write_text(DEV, encoding="utf-8")
    assert cli("convert", "train.txt", "texts.flextext", cwd=tmp_path).returncode == 0
    assert cli("convert", "dev.txt", "dev.flextext", cwd=tmp_path).returncode == 0
    (tmp_path / "new.flextext").write_text(FLEXTEXT, encoding="utf-8")

    outputs = []
    for command in _commands():
        if command[1] == "serve":
            _correct_in_the_post_editor(tmp_path)
            continue
        args = command[1:] + (SHORTENED if command[1] == "finetune" else [])
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == 0, f"{shlex.join(command)}: {done.stderr}"
        outputs.append((command[1], done))

    assert (tmp_path / "my-model" / "README.md").exists() and (tmp_path / "my-model-2" / "config.json").exists()
    glossed = (tmp_path / "new-glossed.flextext").read_text(encoding="utf-8")
    assert "guessByStatisticalAnalysis" in glossed and "open sea" in glossed  # a person's gloss kept
    evaluations = [done.stdout for name, done in outputs if name == "evaluate"]
    assert len(evaluations) == 2 and all("accuracy" in text.lower() for text in evaluations)
    tuned = next(done for name, done in reversed(outputs) if name == "finetune")
    assert "corrected sentences from" in tuned.stderr


def _correct_in_the_post_editor(folder: Path) -> None:
    """Step 4: upload the glossed text, accept its first sentence as glossed; the server logs it."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from autogloss.web import ServerSettings, create_app

    settings = ServerSettings({"mine": folder / "my-model"}, folder / "corrections.jsonl",
                              hosts=("testserver",))
    with TestClient(create_app(settings)) as client:
        upload = client.post("/api/documents/upload", data={"model": "mine"},
                             files={"file": ("new-glossed.flextext",
                                             (folder / "new-glossed.flextext").read_bytes(), "application/xml")})
        assert upload.status_code == 200, upload.text
        document = upload.json()
        glosses = [[m["gloss"] or "x" for m in w["morphemes"]] for w in document["sentences"][0]["words"]]
        accepted = client.post(f"/api/documents/{document['id']}/sentences/0/accept", json={"glosses": glosses})
        assert accepted.status_code == 200, accepted.text
    assert (folder / "corrections.jsonl").read_text(encoding="utf-8").strip()
