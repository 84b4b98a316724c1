"""Command-line habits (issue 16, item 7): formats sniffed from content, a
folder glossed file by file, ``gloss --language``, a person's glosses kept
in record files, a light start-up, and tables that stay whole in logs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from autogloss.errors import FormatError
from autogloss.formats import detect_format, read_document, read_jsonl, read_records, read_sigmorphon
from autogloss.glossing import gloss_file, gloss_folder, language_from_code
from autogloss.metrics import evaluate_records
from autogloss.models.base import Glosser
from autogloss.records import GlossedRecord

from conftest import DEV, TRAIN, cli, covered, run_cli
from interlinear_fixtures import FLEXTEXT

TURKISH = "Ben evde kaldım.\tI stayed at home.\nSen geldin.\n"
TOOLBOX_HEADER = "\\_sh v3.0  400  Text\n\n\\ref 1\n\\tx Ixiw\n"


class Recorder:
    """A glosser that keeps every record it is given and glosses each word ``W``
    (``W-W`` for a word of two morphemes), confidence 0.7: what reached the model, in order."""

    source = None
    training_data = Glosser.training_data  # its training is not recorded: nothing is capped or refused

    def __init__(self) -> None:
        self.seen = []

    def gloss_with_confidence(self, records):
        for record in records:
            self.seen.append(record)
            pieces = [word.split("-") for word in (record.segmentation or record.transcription).split()]
            yield GlossedRecord(record.replace(glosses=" ".join("-".join("W" for _ in word) for word in pieces)),
                                [[0.7] * len(word) for word in pieces])


# -- formats by content ----------------------------------------------------------------------
@pytest.mark.parametrize(("name", "content", "format"), [
    ("plain.txt", TURKISH, "text"),
    ("plain", TURKISH, "text"),
    ("task.txt", TRAIN, "sigmorphon"),
    ("task", "\n\n" + covered(DEV, False), "sigmorphon"),
    ("bom.txt", "\ufeff\\t Ixiw\n\\g big\n", "sigmorphon"),
    ("gloss-first.txt", "\\g big\n", "sigmorphon"),
    ("notes.txt", TOOLBOX_HEADER, "toolbox"),
    ("empty.txt", "", "sigmorphon"),
])
def test_txt_and_extensionless_files_are_read_by_what_they_hold(tmp_path, name, content, format):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert detect_format(path) == format
    assert detect_format(tmp_path / "not-written-yet.txt") == "sigmorphon"  # an output path: written as records


def test_plain_text_is_read_as_sentences_and_an_explicit_format_still_wins(tmp_path):
    path = tmp_path / "turkish.txt"
    path.write_text(TURKISH, encoding="utf-8")
    assert [(r.transcription, r.translation) for r in read_records(path)] == [
        ("Ben evde kaldım.", "I stayed at home."), ("Sen geldin.", None)]
    with pytest.raises(FormatError, match=r"unknown marker .*try --format text"):
        list(read_records(path, "sigmorphon"))
    task = tmp_path / "task.txt"
    task.write_text(TRAIN, encoding="utf-8")
    assert next(read_records(task, "text")).transcription.startswith("\\t Ixiw")


def test_shared_task_errors_suggest_the_format_the_file_looks_like(tmp_path):
    plain, toolbox = tmp_path / "turkish.txt", tmp_path / "lexicon.txt"
    plain.write_text(TURKISH, encoding="utf-8")
    toolbox.write_text("\\ref 1\n\\tx Ixiw\n", encoding="utf-8")  # Toolbox markers, no \_sh header
    done = cli("check", "--format", "sigmorphon", plain)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert f"{plain}:1:" in line and "unknown marker" in line and "--format text" in line
    done = cli("check", toolbox)
    assert done.returncode == 1 and "--format toolbox" in done.stderr
    done = cli("check", plain)
    assert done.returncode == 0 and "2 records checked" in done.stderr
    # a file that looks like the shared-task format gets the error alone
    broken = tmp_path / "broken.txt"
    broken.write_text("\\t Ixiw\n\\q what\n", encoding="utf-8")
    done = cli("check", broken)
    assert done.returncode == 1 and "unknown marker '\\q'" in done.stderr and "--format" not in done.stderr


# -- a folder --------------------------------------------------------------------------------
def _folder(root: Path) -> Path:
    folder = root / "texts"
    (folder / "lezgi" / "older").mkdir(parents=True)
    (folder / ".cache").mkdir()
    (folder / "turkish.txt").write_text(TURKISH, encoding="utf-8")
    (folder / "lezgi" / "dev-covered").write_text(covered(DEV, True), encoding="utf-8")
    (folder / "lezgi" / "older" / "story.flextext").write_text(FLEXTEXT, encoding="utf-8")
    (folder / "lezgi" / "broken.txt").write_text("\\t Ixiw\n\\q what\n", encoding="utf-8")
    (folder / "README.md").write_text("notes\n", encoding="utf-8")
    (folder / ".cache" / "x.txt").write_text(TURKISH, encoding="utf-8")
    return folder


def test_a_folder_is_glossed_file_by_file_and_a_failure_does_not_stop_it(tmp_path, model_dir):
    folder = _folder(tmp_path)
    done = cli("gloss", "--model", model_dir, "--input", folder, "--output", tmp_path / "glossed")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "README.md", "lezgi/broken.txt", "lezgi/dev-covered", "lezgi/older/story.flextext", "turkish.txt"]
    assert "skipped" in lines[0] and "failed" in lines[1] and "broken.txt:2:" in lines[1]
    assert "2 records glossed" in lines[2] and "filled" in lines[3] and "2 records glossed" in lines[4]
    assert lines[-1] == "3 file(s) glossed, 1 skipped, 1 failed"
    out = tmp_path / "glossed"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "lezgi/dev-covered", "lezgi/older/story.flextext", "turkish.txt"]
    assert all(r.glosses for r in read_sigmorphon(out / "lezgi" / "dev-covered"))
    assert read_document(out / "lezgi" / "older" / "story.flextext").format_name == "flextext"  # its own format
    assert [r.transcription for r in read_sigmorphon(out / "turkish.txt")] == ["Ben evde kaldım.", "Sen geldin."]
    (folder / "lezgi" / "broken.txt").unlink()
    done = cli("gloss", "--model", model_dir, "--input", folder, "--output", tmp_path / "again")
    assert done.returncode == 0, done.stderr
    assert "3 file(s) glossed, 1 skipped, 0 failed" in done.stdout


def test_the_folder_walk_is_a_library_call(tmp_path):
    folder = _folder(tmp_path)
    heard = []
    result = gloss_folder(folder, folder / "out", Recorder(), on_file=heard.append)
    assert [outcome.name for outcome in result.files] == [outcome.name for outcome in heard] == [
        "README.md", "lezgi/broken.txt", "lezgi/dev-covered", "lezgi/older/story.flextext", "turkish.txt"]
    assert [outcome.name for outcome in result.failed] == ["lezgi/broken.txt"]
    # the output folder inside the input is not read again, and the input folder is never the output
    assert not any("out/" in outcome.name for outcome in gloss_folder(folder, folder / "out", Recorder()).files)
    with pytest.raises(Exception, match="output folder is the input folder"):
        gloss_folder(folder, folder, Recorder())
    # a table that holds no glossed records is left alone, not failed
    (folder / "tables").mkdir()
    (folder / "tables" / "examples.csv").write_text("ID,Language_ID,Primary_Text,Analyzed_Word,Gloss\r\n"
                                                    "1,x,ixiw,ixiw,\r\n", encoding="utf-8")
    (table,) = [o for o in gloss_folder(folder, tmp_path / "out", Recorder()).files if o.name.startswith("tables")]
    assert table.skipped and "--output FILE.jsonl" in str(table) and not (tmp_path / "out" / "tables").exists()


# -- --language ------------------------------------------------------------------------------
def test_language_reaches_the_model_for_records_that_name_none(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps({"id": "1", "transcription": "Ixiw raład"}) + "\n"
                    + json.dumps({"id": "2", "transcription": "boqno", "language": "Tsez", "iso639_3": "ddo"}) + "\n",
                    encoding="utf-8")
    recorder = Recorder()
    gloss_file(path, tmp_path / "out.jsonl", recorder, language="lez")
    assert [(r.language.name, r.language.iso639_3) for r in recorder.seen] == [("Lezghian", "lez"), ("Tsez", "ddo")]
    recorder = Recorder()
    plain = tmp_path / "turkish.txt"
    plain.write_text(TURKISH, encoding="utf-8")
    gloss_file(plain, tmp_path / "out.txt", recorder, language="tur")
    assert {r.language.iso639_3 for r in recorder.seen} == {"tur"}
    assert language_from_code("lezg1247").glottocode == "lezg1247"


def test_language_is_checked_on_the_command_line(tmp_path, model_dir):
    plain = tmp_path / "turkish.txt"
    plain.write_text(TURKISH, encoding="utf-8")
    done = cli("gloss", "--model", model_dir, "--input", plain, "--output", tmp_path / "out.jsonl",
               "--language", "Turkish")
    assert done.returncode == 1 and "ISO 639-3" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    done = cli("gloss", "--model", model_dir, "--input", plain, "--output", tmp_path / "out.jsonl", "--language", "tur")
    assert done.returncode == 0, done.stderr
    assert {json.loads(line)["iso639_3"] for line in (tmp_path / "out.jsonl").read_text().splitlines()} == {"tur"}


# -- a person's glosses are kept -----------------------------------------------------------------
def test_glossed_records_are_kept_unless_asked(tmp_path):
    path = tmp_path / "half.txt"
    path.write_text(TRAIN + "\n" + covered(DEV, True), encoding="utf-8")
    recorder = Recorder()
    result = gloss_file(path, tmp_path / "out.txt", recorder)
    assert (result.records, result.kept) == (2, 3) and "2 records glossed, 3 kept" in str(result)
    assert [r.transcription for r in recorder.seen] == [r.transcription for r in read_sigmorphon(path)][3:]
    out = list(read_sigmorphon(tmp_path / "out.txt"))
    assert [r.glosses for r in out[:3]] == [r.glosses for r in read_sigmorphon(path)][:3]  # as they were
    assert [r.glosses for r in out[3:]] == ["W-W W W-W-W", "W W"]
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").startswith(TRAIN.split("\n\n")[0])
    recorder = Recorder()
    result = gloss_file(path, tmp_path / "all.txt", recorder, overwrite_glosses=True)
    assert (result.records, result.kept, len(recorder.seen)) == (5, 0, 5)
    assert all(not r.glosses for r in recorder.seen)  # the model never sees the glosses it replaces
    assert all("W" in r.glosses and "sea" not in r.glosses for r in read_sigmorphon(tmp_path / "all.txt"))


def test_a_partly_glossed_record_gets_only_its_gaps_filled(tmp_path):
    path = tmp_path / "partial.jsonl"
    rows = [{"id": "gaps", "transcription": "ixiw raład boqno", "segmentation": "ixiw raład b-oq-n",
             "glosses": "big ? III-?-PST", "glosses_partial": True},
            {"id": "misaligned", "transcription": "ixiw raład", "glosses": "big ?-?", "glosses_partial": True},
            {"id": "done", "transcription": "ixiw", "glosses": "big"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    recorder = Recorder()
    result = gloss_file(path, tmp_path / "out.jsonl", recorder)
    assert [r.id for r in recorder.seen] == ["gaps", "misaligned"] and (result.records, result.kept) == (1, 2)
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert written[0]["glosses"] == "big W III-W-PST" and "glosses_partial" not in written[0]
    assert written[0]["confidence"] == [[1.0], [0.7], [1.0, 0.7, 1.0]]
    assert [row["glosses"] for row in written[1:]] == ["big ?-?", "big"]  # kept as they were
    assert list(read_jsonl(tmp_path / "out.jsonl"))[1].glosses_partial


def test_the_command_says_how_many_records_it_kept(tmp_path, model_dir):
    path = tmp_path / "half.txt"
    path.write_text(TRAIN + "\n" + covered(DEV, True), encoding="utf-8")
    done = cli("gloss", "--model", model_dir, "--input", path, "--output", tmp_path / "out.txt")
    assert done.returncode == 0, done.stderr
    assert "2 records glossed, 3 kept" in done.stdout
    done = cli("gloss", "--model", model_dir, "--input", path, "--output", tmp_path / "out.txt", "--overwrite-glosses")
    assert done.returncode == 0 and "5 records glossed" in done.stdout and "kept" not in done.stdout


# -- start-up and logs ---------------------------------------------------------------------------
def test_importing_the_command_line_loads_no_heavy_library():
    heavy = ("torch", "transformers", "pycldf", "pyarrow", "sacrebleu", "pycountry", "numpy")
    done = run_cli_python(f"import sys, autogloss.cli; print([m for m in {heavy!r} if m in sys.modules])")
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def run_cli_python(code: str):
    import subprocess

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_evaluate_keeps_its_title_and_signature_whole_in_a_log(tmp_path):
    folder = tmp_path / ("predictions-of-a-long-experiment-name-" * 3).rstrip("-") / "lezgi-dev-track2"
    folder.mkdir(parents=True)
    gold, pred = tmp_path / "gold.txt", folder / "predictions-after-finetuning-with-the-packaged-model.txt"
    gold.write_text(DEV, encoding="utf-8")
    pred.write_text(DEV.replace("story", "tale"), encoding="utf-8")
    done = run_cli("evaluate", "--gold", gold, "--pred", pred, "--bootstrap", "0")  # stdout is a pipe
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"{pred} against {gold}" in lines
    signature = evaluate_records(list(read_sigmorphon(gold)), list(read_sigmorphon(pred)), "official", 0).signature
    assert f"signature: {signature}" in lines
