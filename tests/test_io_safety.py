"""Files a command writes and reads: streams written as streams, modes kept,
nothing left behind by a killed run, messages that name the file."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autogloss.cli import app
from autogloss.errors import AutoglossError, FormatError, ModelError
from autogloss.fileio import WriteError, atomic_directory, atomic_write, remove_leftovers
from autogloss.formats import read_records, write_records
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.metrics import evaluate_lines
from autogloss.models.neural import NeuralGlosser, TrainingSettings, fit, train_glosser
from autogloss.models.neural.training import checkpoint_dir

from conftest import DEV, TRAIN, covered, run_cli

TINY = {"hidden": 16, "char_dim": 8, "language_dim": 4, "form_dim": 8, "label_dim": 8, "translation_hidden": 8,
        "layers": 1, "dropout": 0.0}
posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, devices and process ids of POSIX systems")


def invoke(*args: str | os.PathLike, input: bytes | str | None = None):
    """The command line in this process (stdout and stderr apart)."""
    return CliRunner().invoke(app, [str(arg) for arg in args], input=input)


@pytest.fixture
def umask():
    """Set the umask for a test (the previous one comes back after it)."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield lambda value: os.umask(value)
    os.umask(previous)


def dead_pid() -> int:
    """The id of a process that has ended (and whose id no process holds)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)
    return child.pid


# -- item 3: streams are written as streams; - is standard output and input ----------
@posix_only
def test_writing_to_a_fifo_writes_into_it_and_leaves_it_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")), daemon=True)
    reader.start()
    write_records(read_sigmorphon(_write(tmp_path / "train.txt", TRAIN)), fifo, "sigmorphon")
    reader.join(timeout=60)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert received and received[0].startswith("\\t Ixiw raład boqno.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "train.txt"]  # no temporary file


@posix_only
def test_a_link_to_a_device_stays_a_link(tmp_path):
    link = tmp_path / "out"
    link.symlink_to("/dev/null")
    with atomic_write(link) as handle:
        handle.write("discarded\n")
    with atomic_write(link, "wb") as handle:
        handle.write(b"discarded")
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_link_to_a_file_stays_a_link_to_the_new_content(tmp_path):
    (tmp_path / "real.txt").write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")
    with atomic_write(link) as handle:
        handle.write("new\n")
    assert link.is_symlink() and (tmp_path / "real.txt").read_text(encoding="utf-8") == "new\n"


def test_convert_to_dash_writes_standard_output_and_reports_on_stderr(tmp_path):
    done = invoke("convert", _write(tmp_path / "train.txt", TRAIN), "-", "--to", "jsonl")
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["glosses"] for row in rows][0] == "big sea III-become-PST.UNW"
    assert len(rows) == 3 and "3 records written to -" in done.stderr
    assert not (tmp_path / "-").exists()


def test_convert_of_dash_reads_standard_input(tmp_path):
    done = invoke("convert", "-", tmp_path / "out.jsonl", "--from", "sigmorphon", input=TRAIN.encode("utf-8"))
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["transcription"] for row in rows] == ["Ixiw raład boqno.", "Žek’a xabar bayrno.", "Ixiw žek’u boqno."]
    # the format is sniffed as for a file without extension: here a Toolbox header
    toolbox = "\\_sh v3.0 400 Text\n\n\\ref 1\n\\tx ixiw\n\\mb ixiw\n\\ge big\n\\ft big\n"
    done = invoke("convert", "-", tmp_path / "out2.jsonl", input=toolbox.encode("utf-8"))
    assert done.exit_code == 0, done.output
    assert json.loads((tmp_path / "out2.jsonl").read_text(encoding="utf-8"))["glosses"] == "big"


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    many = "\n\n".join(f"\\t w{i}\n\\g G{i}\n\\l t" for i in range(5000)) + "\n"
    command = [sys.executable, "-m", "autogloss", "convert", str(_write(tmp_path / "many.txt", many)), "-", "--to", "jsonl"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert json.loads(process.stdout.readline())["glosses"] == "G0"
        process.stdout.close()  # as `| head -1` does
        stderr = process.stderr.read().decode("utf-8")
    assert process.returncode == 1 and stderr == ""


def test_errors_in_standard_input_name_it_not_a_temporary_copy():
    skipped: list[FormatError] = []
    with pytest.raises(FormatError) as raised:
        list(_stdin_records(b"\\t a\n\\g \xff\n"))
    assert raised.value.path == "<stdin>" and raised.value.line == 2
    list(_stdin_records(b"\\t a\n\\g \xff\n\n\\t b\n\\g B\n", skip_invalid=True, skipped=skipped))
    assert [(e.path, e.line) for e in skipped] == [("<stdin>", 2)]


def _stdin_records(data: bytes, **options):
    import io

    class Stdin:
        buffer = io.BytesIO(data)

    real, sys.stdin = sys.stdin, Stdin()
    try:
        return list(read_records("-", "sigmorphon", **options))
    finally:
        sys.stdin = real


def test_binary_output_to_a_stream_is_all_or_nothing(capsysbinary):
    with pytest.raises(RuntimeError):
        with atomic_write("-", "wb") as handle:
            handle.write(b"PAR1 half a Parquet file")
            raise RuntimeError("killed in the middle")
    assert capsysbinary.readouterr().out == b""
    with atomic_write("-", "wb") as handle:
        handle.write(b"whole")
    assert capsysbinary.readouterr().out == b"whole"


# -- item 9: the umask for new files, the old mode for replaced ones ---------------
def test_new_files_and_directories_get_the_modes_the_umask_allows(tmp_path, umask):
    umask(0o002)
    with atomic_write(tmp_path / "new.txt") as handle:
        handle.write("x")
    with atomic_directory(tmp_path / "folder") as staging:
        with atomic_write(staging / "inside.txt") as handle:
            handle.write("y")
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o664
    assert stat.S_IMODE(os.stat(tmp_path / "folder").st_mode) == 0o775
    assert stat.S_IMODE(os.stat(tmp_path / "folder" / "inside.txt").st_mode) == 0o664
    umask(0o027)
    write_records(read_sigmorphon(_write(tmp_path / "train.txt", TRAIN)), tmp_path / "corpus.parquet")
    assert stat.S_IMODE(os.stat(tmp_path / "corpus.parquet").st_mode) == 0o640


def test_every_file_of_a_saved_model_gets_the_mode_the_umask_allows(tmp_path, umask):
    umask(0o022)  # safetensors' own save_file writes its file 0600 whatever the umask
    glosser = NeuralGlosser.create(list(read_sigmorphon(_write(tmp_path / "train.txt", TRAIN))), hidden=8, char_dim=4,
                                   language_dim=2, form_dim=4, label_dim=4, translation_hidden=4, layers=1)
    glosser.save_pretrained(tmp_path / "model")
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in (tmp_path / "model").iterdir()}
    assert modes["model.safetensors"] == 0o644 and set(modes.values()) == {0o644}, modes


def test_a_replaced_file_or_directory_keeps_its_mode(tmp_path, umask):
    umask(0o077)
    edited = _write(tmp_path / "edited.txt", TRAIN)
    os.chmod(edited, 0o664)
    write_records(list(read_sigmorphon(edited)), edited, "sigmorphon")
    assert stat.S_IMODE(os.stat(edited).st_mode) == 0o664
    (tmp_path / "model").mkdir()
    os.chmod(tmp_path / "model", 0o750)
    with atomic_directory(tmp_path / "model") as staging:
        (staging / "weights").write_text("w", encoding="utf-8")
    assert stat.S_IMODE(os.stat(tmp_path / "model").st_mode) == 0o750


# -- item 11: what a killed writer leaves behind goes with the next write ----------
KILLED_WRITER = """
import sys, time
from pathlib import Path
from autogloss.fileio import atomic_directory, atomic_write
target = Path(sys.argv[1])
if sys.argv[2] == "file":
    with atomic_write(target) as handle:
        handle.write("half")
        handle.flush()
        print("writing", flush=True)
        time.sleep(600)
else:
    with atomic_directory(target) as staging:
        from autogloss.formats import write_records
        from autogloss.records import IGTRecord
        write_records([IGTRecord(id="1", transcription="a", glosses="A")], staging / "data" / "train.parquet")
        print("writing", flush=True)
        time.sleep(600)
"""


@posix_only
@pytest.mark.parametrize("kind", ["file", "directory"])
def test_what_a_killed_writer_left_goes_with_the_next_write_and_not_before(tmp_path, kind):
    target = tmp_path / ("out.txt" if kind == "file" else "corpus")
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target), kind],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "writing\n"
        leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(f".{target.name}.")]
        assert len(leftovers) == 1 and f".pid{writer.pid}." in leftovers[0].name
        assert remove_leftovers(target) == [] and leftovers[0].exists()  # its writer still runs
    finally:
        writer.kill()
        writer.wait()
    if kind == "directory":  # it held a complete-looking Parquet file
        assert (leftovers[0] / "data" / "train.parquet").read_bytes().startswith(b"PAR1")
    if kind == "file":
        with atomic_write(target) as handle:
            handle.write("whole")
    else:
        with atomic_directory(target) as staging:
            (staging / "done").write_text("", encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


@posix_only
def test_leftovers_of_processes_gone_are_removed_and_a_retired_directory_is_put_back(tmp_path):
    pid = dead_pid()
    corpus = tmp_path / "corpus"
    (tmp_path / f".corpus.pid{pid}.0a1b2c3d.partial" / "data").mkdir(parents=True)
    (tmp_path / f".corpus.pid{pid}.0a1b2c3d.partial" / "data" / "train.parquet").write_bytes(b"PAR1")
    (tmp_path / f".corpus.pid{pid}.0a1b2c3d.old").mkdir()  # killed between the two renames of the swap
    (tmp_path / f".corpus.pid{pid}.0a1b2c3d.old" / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / f".corpus.pid{os.getpid()}.0a1b2c3d.partial").mkdir()  # this process's own: kept
    (tmp_path / f".other.pid{pid}.0a1b2c3d.tmp").write_text("", encoding="utf-8")  # another target's: kept
    removed = remove_leftovers(corpus)
    assert [p.name for p in removed] == [f".corpus.pid{pid}.0a1b2c3d.partial"]
    assert (corpus / "manifest.json").is_file()  # the previous corpus is back
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["corpus", f".corpus.pid{os.getpid()}.0a1b2c3d.partial", f".other.pid{pid}.0a1b2c3d.tmp"])


# -- item 12: messages name the file ----------------------------------------------
def test_a_directory_given_as_input_is_called_a_directory(tmp_path):
    (tmp_path / "folder").mkdir()
    for command in (["convert", tmp_path / "folder", tmp_path / "out.txt"],
                    ["check", tmp_path / "folder"],
                    ["convert", tmp_path / "folder", tmp_path / "out.txt", "--from", "jsonl"]):
        done = invoke(*command)
        assert done.exit_code == 1
        assert str(done.exception) == f"{tmp_path / 'folder'}: is a directory, not a file"
    with pytest.raises(AutoglossError, match="is a directory, not a file"):
        with atomic_write(tmp_path / "folder"):
            pass


def test_a_full_disk_names_the_output_and_leaves_the_previous_one(tmp_path, monkeypatch):
    output = _write(tmp_path / "out.txt", "previous\n")
    source = _write(tmp_path / "train.txt", TRAIN)

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    done = invoke("convert", source, output)
    assert done.exit_code == 1 and isinstance(done.exception, WriteError)
    assert str(done.exception) == f"{output}: cannot write: No space left on device; the previous file is unchanged"
    assert output.read_text(encoding="utf-8") == "previous\n"
    with pytest.raises(WriteError, match=rf"^{tmp_path / 'corpus'}: cannot write: No space left on device$"):
        with atomic_directory(tmp_path / "corpus") as staging:
            write_records(read_sigmorphon(source), staging / "data" / "train.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "train.txt"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_device_is_one_line_on_the_command_line(tmp_path):
    # through a link: were the device replaced by a file (the bug), only the link would be
    (tmp_path / "full").symlink_to("/dev/full")
    done = run_cli("convert", _write(tmp_path / "train.txt", TRAIN), tmp_path / "full")
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {tmp_path / 'full'}: cannot write: No space left on device"
    assert (tmp_path / "full").is_symlink()


def test_an_operating_system_error_is_one_line_naming_its_file(tmp_path):
    from autogloss.cli import _message

    blocker = _write(tmp_path / "file.txt", "")
    done = invoke("convert", _write(tmp_path / "train.txt", TRAIN), blocker / "out.txt")
    assert isinstance(done.exception, OSError)
    assert _message(done.exception) == f"{blocker}: {done.exception.strerror}"
    assert not _message(done.exception).startswith("[Errno")


def test_evaluate_with_different_record_counts_names_both_files(tmp_path):
    gold, pred = _write(tmp_path / "gold.txt", TRAIN), _write(tmp_path / "pred.txt", DEV)
    done = invoke("evaluate", "--gold", gold, "--pred", pred)
    assert done.exit_code == 1
    assert str(done.exception).startswith(f"{gold} and {pred}: 3 gold records but 2 predicted records")


# -- item 10 (evaluate and training): errors instead of crashes and wrong answers -----
def test_evaluate_of_empty_files_says_there_are_no_records(tmp_path):
    gold, pred = _write(tmp_path / "gold.txt", ""), _write(tmp_path / "pred.txt", "")
    done = invoke("evaluate", "--gold", gold, "--pred", pred)
    assert done.exit_code == 1 and str(done.exception) == f"{gold}: no records to score"
    with pytest.raises(AutoglossError, match="no records to score"):
        evaluate_lines([], [])


def test_evaluate_json_without_bootstrap_is_valid_json(tmp_path):
    gold = _write(tmp_path / "gold.txt", TRAIN)
    done = invoke("evaluate", "--gold", gold, "--pred", gold, "--json", "--bootstrap", "0")
    assert done.exit_code == 0, done.output

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    scores = json.loads(done.stdout, parse_constant=refuse)
    assert scores["word_accuracy_ci95"] is None and scores["morpheme_accuracy_ci95"] is None
    assert "bootstrap" in scores["ci95_note"]
    done = invoke("evaluate", "--gold", gold, "--pred", gold, "--json", "--bootstrap", "20")
    scores = json.loads(done.stdout, parse_constant=refuse)
    assert scores["word_accuracy_ci95"] == [100.0, 100.0] and scores["ci95_note"] is None
    done = invoke("evaluate", "--gold", gold, "--pred", gold, "--bootstrap", "0")
    assert done.exit_code == 0 and "nan" not in done.stdout


def test_a_covered_file_as_gold_is_an_error(tmp_path):
    gold, pred = _write(tmp_path / "covered.txt", covered(TRAIN, True)), _write(tmp_path / "pred.txt", TRAIN)
    done = invoke("evaluate", "--gold", gold, "--pred", pred)
    assert done.exit_code == 1
    assert str(done.exception).startswith(f"{gold}: has no gloss lines: is it a covered file?")


def test_training_on_a_file_without_glosses_names_it(tmp_path):
    unglossed = _write(tmp_path / "covered.txt", covered(TRAIN, True))
    for arch in ("neural", "majority"):
        done = invoke("train", "--train", unglossed, "--out", tmp_path / arch, "--arch", arch)
        assert done.exit_code == 1 and isinstance(done.exception, AutoglossError), done.exception
        assert str(done.exception).startswith(f"{unglossed}: no glossed record to train on")
    train = list(read_sigmorphon(_write(tmp_path / "train.txt", TRAIN)))
    train_glosser(train, [], tmp_path / "base", TrainingSettings(epochs=1, batch_size=4), network_options=TINY)
    done = invoke("finetune", "--train", unglossed, "--model", tmp_path / "base", "--out", tmp_path / "tuned")
    assert done.exit_code == 1
    assert str(done.exception).startswith(f"{unglossed}: no glossed record to train on")
    with pytest.raises(AutoglossError, match="no glossed record to train on"):
        train_glosser(list(read_sigmorphon(unglossed)), [], tmp_path / "lib", TrainingSettings(epochs=1))
    glosser = NeuralGlosser.create(list(read_sigmorphon(tmp_path / "train.txt")), **TINY)
    with pytest.raises(AutoglossError, match="no training record has a gloss to learn"):
        fit(glosser, list(read_sigmorphon(unglossed)), [], tmp_path / "ckpt", TrainingSettings(epochs=1))


class Interrupt(Exception):
    pass


def test_a_stale_checkpoint_from_other_data_is_named_and_restart_discards_it(tmp_path):
    model = tmp_path / "model"

    def die(message):
        if message.startswith("epoch 1"):
            raise Interrupt

    other = list(read_sigmorphon(_write(tmp_path / "dev.txt", DEV)))
    with pytest.raises(Interrupt):
        train_glosser(other, [], model, TrainingSettings(epochs=3, batch_size=4, epoch_checkpoint_seconds=0.0),
                      network_options=TINY, progress=die)  # a checkpoint after every epoch
    assert (checkpoint_dir(model) / "state.pt").is_file()
    train = _write(tmp_path / "train.txt", TRAIN)
    done = invoke("train", "--train", train, "--out", model, "--epochs", "1", "--hidden", "16")
    assert done.exit_code == 1 and isinstance(done.exception, ModelError), done.exception
    assert str(done.exception).startswith(f"{checkpoint_dir(model)}: the checkpoint of an earlier run on other data")
    assert "--restart" in str(done.exception)
    done = invoke("train", "--train", train, "--out", model, "--epochs", "1", "--hidden", "16", "--restart")
    assert done.exit_code == 0, done.exception
    assert (model / "config.json").is_file() and not checkpoint_dir(model).exists()
    checkpoint_dir(model).mkdir()
    (checkpoint_dir(model) / "state.pt").write_bytes(b"half a checkpoint")
    done = invoke("train", "--train", train, "--out", model, "--epochs", "1", "--hidden", "16")
    assert isinstance(done.exception, ModelError)
    assert str(done.exception).startswith(f"{checkpoint_dir(model)}: unreadable checkpoint")


def test_a_seq2seq_checkpoint_of_another_model_is_named_and_restart_discards_it(tmp_path):
    pytest.importorskip("transformers")
    from autogloss.models.seq2seq.training import Seq2SeqTrainingSettings, train_seq2seq

    train = list(read_sigmorphon(_write(tmp_path / "train.txt", TRAIN)))
    settings = Seq2SeqTrainingSettings(epochs=2, batch_size=1, learning_rate=1e-2, checkpoint_minutes=0.0)

    def die_at_step_3(message):
        if message.startswith("step 3:"):
            raise Interrupt

    small = {"d_model": 32, "layers": 1, "heads": 2, "dropout": 0.0}
    with pytest.raises(Interrupt):
        train_seq2seq(train, [], tmp_path / "model", settings, new_model_options=small, progress=die_at_step_3)
    wider = {**small, "d_model": 48}
    with pytest.raises(ModelError, match=r"\.model\.checkpoint: the checkpoint of an earlier run .* --restart"):
        train_seq2seq(train, [], tmp_path / "model", settings, new_model_options=wider)
    glosser = train_seq2seq(train, [], tmp_path / "model", settings, new_model_options=wider, restart=True)
    assert glosser.info["training"].startswith("6 steps")  # from the start: 3 sentences x 2 epochs
    assert not checkpoint_dir(tmp_path / "model").exists()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
