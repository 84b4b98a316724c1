"""The corrections log of the post-editor and fine-tuning from it."""

import json

import pytest

from autogloss.corrections import CorrectionsLog, read_corrections
from autogloss.errors import FormatError
from autogloss.records import IGTRecord

from conftest import DEV, TRAIN, cli


def test_latest_correction_of_each_sentence_wins(tmp_path):
    log = CorrectionsLog(tmp_path / "c.jsonl")
    first = IGTRecord("s1", "Ixiw raład", glosses="big sea", segmentation="ixiw raład")
    log.append(first, "a.flextext", [(2, 1, "lake", "sea")])
    log.append(IGTRecord("s2", "xabar", glosses="story"), "a.flextext")
    log.append(first.replace(glosses="big open.sea"), "a.flextext")
    log.append(first.replace(glosses="small sea"), "b.flextext")  # same id, another document
    records = read_corrections(tmp_path / "c.jsonl")
    assert [(r.id, r.glosses) for r in records] == [("s1", "big open.sea"), ("s2", "story"), ("s1", "small sea")]
    entry = json.loads((tmp_path / "c.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert entry["edited"] == [[2, 1, "lake", "sea"]] and entry["accepted_at"].endswith("+00:00")


def test_bad_corrections_name_file_and_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "1", "transcription": "a", "glosses": "A"}\n{"id": "2", "transcription": "b"}\n')
    with pytest.raises(FormatError, match=r"c.jsonl:2: a correction without glosses"):
        read_corrections(path)


def test_finetune_from_corrections(tmp_path):
    (tmp_path / "train").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "dev").write_text(DEV, encoding="utf-8")
    done = cli("train", "--train", tmp_path / "train", "--out", tmp_path / "model", "--epochs", "1",
               "--hidden", "16")
    assert done.returncode == 0, done.stderr
    log = CorrectionsLog(tmp_path / "corrections.jsonl")
    log.append(IGTRecord("s1", "Raład boqno.", glosses="sea III-become-PST.UNW", segmentation="raład b-oq-n"),
               "pasted text")
    done = cli("finetune", "--model", tmp_path / "model", "--from-corrections", tmp_path / "corrections.jsonl",
               "--dev", tmp_path / "dev", "--out", tmp_path / "tuned", "--epochs", "1")
    assert done.returncode == 0, done.stderr
    assert "1 corrected sentences from" in done.stderr and (tmp_path / "tuned" / "config.json").exists()
    done = cli("finetune", "--model", tmp_path / "model", "--out", tmp_path / "none")
    assert done.returncode == 1 and "nothing to train on" in done.stderr
