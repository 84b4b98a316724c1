import json

import pytest

from autogloss.formats.sigmorphon import read_sigmorphon

from conftest import TRAIN, cli, run_cli

MALFORMED = {
    "gloss_before_transcription": (b"\\g big\n\\t Ixiw\n", 1, "before any '\\t'"),
    "unknown_marker": (b"\\t Ixiw\n\\q what\n", 2, "unknown marker '\\q'"),
    "not_utf8": (b"\\t ok\n\\g OK\n\n\\t caf\xe9\n", 4, "not UTF-8"),
    "no_transcription": (b"\\t ok\n\\g OK\n\n\\t\n\\g X\n", 4, "no transcription"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_input_gives_one_line_with_file_and_line(tmp_path, name):
    content, line, message = MALFORMED[name]
    path = tmp_path / f"{name}.txt"
    path.write_bytes(content)
    for command in (("check", path), ("convert", path, tmp_path / "out.parquet"),
                    ("train", "--train", path, "--out", tmp_path / "model")):
        done = cli(*command)
        assert done.returncode == 1, command
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert f"{path}:{line}:" in lines[0] and message in lines[0]
        assert not (tmp_path / "out.parquet").exists() and not (tmp_path / "model").exists()


def test_skip_invalid_goes_on_and_reports(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"\\t a\n\\g A\n\n\\q odd\n\n\\t b\n\\g B\n")
    done = cli("convert", path, tmp_path / "out.txt", "--skip-invalid")
    assert done.returncode == 0, done.stderr
    assert "skipped 1 invalid record" in done.stderr and f"{path}:4" in done.stderr
    assert [r.transcription for r in read_sigmorphon(tmp_path / "out.txt")] == ["a", "b"]


def test_check_reports_rule_violations_and_exits_nonzero(tmp_path):
    path = tmp_path / "igt.txt"
    path.write_text(TRAIN + "\n\\t a b\n\\m a-x b\n\\g A\n\n\\t c\n\\m c-d\n\\g C-D-E\n", encoding="utf-8")
    done = cli("check", path)
    assert done.returncode == 1
    assert "rule 1: 2 segmentation words but 1 gloss words" in done.stdout
    assert "rule 2: 'c-d' has 2 morphemes but its gloss 'C-D-E' has 3" in done.stdout
    # the first record also misaligns morphemes in its first word ('a-x' against 'A')
    assert "5 records checked, 3 alignment problem(s)" in done.stderr
    done = cli("check", path, "--json")
    problems = [json.loads(line) for line in done.stdout.splitlines()]
    assert [p["rule"] for p in problems] == [1, 2, 2] and problems[2]["origin"].endswith(":20")
    clean = tmp_path / "clean.txt"
    clean.write_text(TRAIN, encoding="utf-8")
    assert cli("check", clean).returncode == 0


def test_convert_between_formats_round_trips(tmp_path, mini_data):
    done = cli("convert", mini_data / "uratyp" / "examples.csv", tmp_path / "uratyp.txt")
    assert done.returncode == 0, done.stderr
    records = list(read_sigmorphon(tmp_path / "uratyp.txt"))
    assert records[0].glosses == "this.GENACC good.GENACC car.LOC"
    cli("convert", tmp_path / "uratyp.txt", tmp_path / "uratyp.parquet")
    cli("convert", tmp_path / "uratyp.parquet", tmp_path / "again.txt")
    assert (tmp_path / "again.txt").read_text() == (tmp_path / "uratyp.txt").read_text()


def test_pipeline_runs_end_to_end_on_a_small_data_folder(tmp_path, mini_data):
    done = cli("pipeline", "--data-dir", mini_data, "--out", tmp_path / "run", "--language", "ddo",
               "--model", "majority", "--jobs", "1")  # in this process (test_pipeline.py runs two)
    assert done.returncode == 0, done.stderr
    assert "| ddo | 1 |" in done.stdout and "| ddo | 2 |" in done.stdout
    results = json.loads((tmp_path / "run" / "majority-results.json").read_text())
    assert [(r["language"], r["track"]) for r in results] == [("ddo", 1), ("ddo", 2)]
    assert results[1]["official"]["morpheme_accuracy"] == 100.0
    test_predictions = list(read_sigmorphon(tmp_path / "run" / "predictions" / "ddo-test-track1.txt"))
    assert test_predictions[0].glosses == "sea III-become-PST.UNW"
    # no \m line in track 1 predictions: a model's cut of plain input is a guess, which the format cannot mark
    assert test_predictions[0].segmentation is None
    assert (tmp_path / "run" / "corpus" / "manifest.json").exists()


def test_pipeline_with_the_neural_model(tmp_path, mini_data):
    done = cli("pipeline", "--data-dir", mini_data, "--out", tmp_path / "run", "--language", "ddo",
               "--model", "neural", "--max-minutes", "0.02", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "run" / "neural-results.json").read_text())
    assert [(r["language"], r["track"]) for r in results] == [("ddo", 1), ("ddo", 2)]
    for track in (1, 2):
        predicted = list(read_sigmorphon(tmp_path / "run" / "predictions" / f"ddo-test-track{track}.txt"))
        assert len(predicted[0].gloss_words) == 2 and (predicted[0].segmentation is None) == (track == 1)


def test_version_and_help():
    assert run_cli("--version").stdout.startswith("autogloss ")
    assert "corpus" in cli("--help").stdout
