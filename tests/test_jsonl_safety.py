"""JSON lines that Python's json module parses, or fails to, in ways a reader must not pass on.

Each is refused where it is read, with the file and line named, so that
``check`` finds exactly what ``convert`` and ``gloss`` would stumble over.
"""

import json

import pytest

from autogloss.corrections import read_corrections
from autogloss.errors import FormatError
from autogloss.formats import read_records, write_records

from conftest import TRAIN, cli

GOOD = '{"id": "s1", "transcription": "Ixiw raład", "glosses": "big sea"}'

#: name -> (the second line of a two-line file, what the message says)
MALFORMED = {
    "lone_surrogate": ('{"transcription": "ra\\ud800ład", "glosses": "sea"}',
                       "field 'transcription' has a lone surrogate (U+D800) at character 3"),
    "lone_low_surrogate_in_translation": ('{"transcription": "raład", "translation": "sea\\udfff"}',
                                          "field 'translation' has a lone surrogate (U+DFFF) at character 4"),
    "deep_nesting": ('{"transcription": "raład", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}",
                     "invalid JSON: nested too deeply to read"),
    "long_number": ('{"transcription": "raład", "extra": ' + "7" * 5_001 + "}",
                    "invalid JSON: a number of more than 4300 digits"),
    "object_as_language": ('{"transcription": "raład", "glosses": "sea", "language": {"name": "Tsez"}}',
                           "field 'language' must be a string (the language's name) or null, not an object"),
    "list_as_iso_code": ('{"transcription": "raład", "iso639_3": ["ddo"]}',
                         "field 'iso639_3' must be a string or null, not an array"),
    "number_as_glottocode": ('{"transcription": "raład", "glottocode": 1241}',
                             "field 'glottocode' must be a string or null, not a number"),
    "object_as_id": ('{"id": {"n": 2}, "transcription": "raład"}',
                     "field 'id' must be a string or an integer, not an object"),
    "surrogate_in_id": ('{"id": "\\udc00", "transcription": "raład"}',
                        "field 'id' has a lone surrogate (U+DC00) at character 1"),
    "control_character": ('{"transcription": "raład", "glosses": "se\\u0001a"}',
                          "field 'glosses' has a control character (U+0001) at character 3"),
    "number_as_glosses": ('{"transcription": "raład", "glosses": 3}',
                          "field 'glosses' must be a string or null, not a number"),
}


def _write(tmp_path, name, line):
    path = tmp_path / f"{name}.jsonl"
    path.write_text(GOOD + "\n" + line + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_read_records_refuses_with_file_and_line(tmp_path, name):
    line, message = MALFORMED[name]
    path = _write(tmp_path, name, line)
    with pytest.raises(FormatError) as raised:
        list(read_records(path))
    assert (raised.value.path, raised.value.line) == (str(path), 2)
    assert message in raised.value.message
    assert str(raised.value).startswith(f"{path}:2: ")


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_skip_invalid_leaves_out_only_the_bad_line(tmp_path, name):
    path = _write(tmp_path, name, MALFORMED[name][0])
    skipped = []
    records = list(read_records(path, skip_invalid=True, skipped=skipped))
    assert [r.id for r in records] == ["s1"]
    assert [(e.line, MALFORMED[name][1] in e.message) for e in skipped] == [(2, True)]


@pytest.fixture
def model(tmp_path):
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    done = cli("train", "--arch", "majority", "--train", tmp_path / "train.txt", "--out", tmp_path / "model")
    assert done.returncode == 0, done.stderr
    return tmp_path / "model"


@pytest.mark.parametrize("name", ["lone_surrogate", "deep_nesting", "long_number", "object_as_language"])
def test_check_convert_and_gloss_all_refuse_in_one_line(tmp_path, model, name):
    """check used to pass two of these that convert and gloss then crashed on."""
    line, message = MALFORMED[name]
    path = _write(tmp_path, name, line)
    for command in (("check", path),
                    ("convert", path, tmp_path / "out.txt"),
                    ("convert", path, tmp_path / "out.parquet"),
                    ("gloss", "--model", model, "--input", path, "--output", tmp_path / "out.jsonl")):
        done = cli(*command)
        assert done.returncode == 1, command
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert f"{path}:2: " in lines[0] and message in lines[0], lines[0]
        assert not any((tmp_path / out).exists() for out in ("out.txt", "out.parquet", "out.jsonl"))


def test_what_json_allows_and_a_record_can_hold_is_read_by_every_command(tmp_path, model):
    """No over-refusal: an escaped surrogate pair is one character, an integer
    id is an id, a huge number in a field autogloss does not read is nothing
    to it, and a translation may span lines (as in ELAN). check, convert and
    gloss all accept the file."""
    path = tmp_path / "fine.jsonl"
    path.write_text(
        '{"id": 7, "transcription": "ra\\ud83d\\ude00ład", "glosses": "sea", "language": "Tsez", '
        '"translation": "the\\nsea", "iso639_3": null, "extra": 1e999999, "confidence": [[0.5]]}\n',
        encoding="utf-8")
    (record,) = read_records(path)
    assert (record.id, record.transcription, record.language.name) == ("7", "ra\U0001f600ład", "Tsez")
    assert cli("check", path).returncode == 0
    done = cli("convert", path, tmp_path / "out.jsonl")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))["transcription"] == "ra\U0001f600ład"
    done = cli("convert", path, tmp_path / "out.txt")
    assert done.returncode == 0, done.stderr
    assert "\\l the sea\n" in (tmp_path / "out.txt").read_text(encoding="utf-8")
    done = cli("gloss", "--model", model, "--input", path, "--output", tmp_path / "glossed.txt")
    assert done.returncode == 0, done.stderr


def test_written_back_records_read_the_same(tmp_path):
    path = _write(tmp_path, "good", '{"id": 2, "transcription": "b\\u00e9", "language": "Tsez", "iso639_3": "ddo"}')
    records = list(read_records(path))
    write_records(records, tmp_path / "again.jsonl")
    assert list(read_records(tmp_path / "again.jsonl")) == records


def test_corrections_log_refuses_a_lone_surrogate(tmp_path):
    """The post-editor's log is JSON lines too, read by finetune and the server."""
    path = tmp_path / "corrections.jsonl"
    path.write_text('{"document": "d", "id": "1", "transcription": "raład", "glosses": "sea\\ud800"}\n',
                    encoding="utf-8")
    with pytest.raises(FormatError, match=r"corrections.jsonl:1: field 'glosses' has a lone surrogate"):
        read_corrections(path)
