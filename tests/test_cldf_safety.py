"""CLDF datasets read safely: only the dataset's own files (never a URL, and
with a root folder nothing outside it), and word columns without a
``separator`` refused instead of read letter by letter."""

import json

import pytest

from autogloss.errors import FormatError
from autogloss.formats import read_document, write_records
from autogloss.interlinear.cldf import CldfDocument
from autogloss.records import IGTRecord

from conftest import cli


@pytest.fixture
def dataset(tmp_path):
    folder = tmp_path / "dataset"
    write_records([IGTRecord("e1", "Ixiw raład boqno.", glosses="big sea III-become-PST.UNW",
                             segmentation="ixiw raład b-oq-n", translation="A big sea formed.")], folder, "cldf")
    return folder / "Generic-metadata.json"


def _change(metadata, change):
    description = json.loads(metadata.read_text(encoding="utf-8"))
    change(description, next(t for t in description["tables"] if t["url"] == "examples.csv"))
    metadata.write_text(json.dumps(description), encoding="utf-8")


def _without_separators(description, table):
    for column in table["tableSchema"]["columns"]:
        if column["name"] in ("Gloss", "Analyzed_Word"):
            del column["separator"]


# -- file references ---------------------------------------------------------------------------------
def test_a_table_elsewhere_on_disk_is_read_on_the_command_line_but_not_inside_a_root(dataset, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (dataset.parent / "examples.csv").rename(elsewhere / "examples.csv")
    _change(dataset, lambda d, table: table.update(url="../elsewhere/examples.csv"))
    assert [s.id for s in read_document(dataset, "cldf").sentences] == ["e1"]
    with pytest.raises(FormatError, match="the url of table 2 '../elsewhere/examples.csv' lies outside"):
        read_document(dataset, "cldf", root=dataset.parent)
    # a root that holds both is fine
    assert [s.id for s in CldfDocument.read(dataset, root=tmp_path).sentences] == ["e1"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/examples.csv", "file:///etc/hostname", "HTTPS://example.org/x"])
def test_a_url_is_refused_even_without_a_root(dataset, url):
    _change(dataset, lambda d, table: table.update(url=url))
    with pytest.raises(FormatError, match="is a URL: autogloss reads a dataset's files from its own folder only"):
        read_document(dataset, "cldf")


def test_a_table_schema_by_reference_is_refused_before_anything_is_opened(dataset):
    _change(dataset, lambda d, table: table.update(tableSchema="file:///etc/passwd"))
    with pytest.raises(FormatError, match="tableSchema of table 2 is given by reference"):
        read_document(dataset, "cldf")


@pytest.mark.parametrize("broken", ["not json", "[1, 2]", '{"tables": 5}', "[" * 100_000])
def test_unreadable_metadata_is_a_format_error(dataset, broken):
    dataset.write_text(broken, encoding="utf-8")
    with pytest.raises(FormatError) as error:
        read_document(dataset, "cldf")
    assert error.value.path == str(dataset)


# -- item 8: word columns without a separator ------------------------------------------------------------
def test_word_columns_without_a_separator_are_refused_with_the_separator_to_add(dataset):
    _change(dataset, _without_separators)
    with pytest.raises(FormatError, match=r'column Analyzed_Word has no "separator".*letter by letter.*'
                                          r'by tabs: add "separator": "\\t"'):
        read_document(dataset, "cldf")


def test_space_separated_words_get_the_space_separator_suggested(dataset):
    _change(dataset, _without_separators)
    examples = dataset.parent / "examples.csv"
    examples.write_text(examples.read_text(encoding="utf-8").replace("\t", " "), encoding="utf-8")
    with pytest.raises(FormatError, match='by spaces: add "separator": " "'):
        read_document(dataset, "cldf")


def test_convert_of_a_dataset_without_separators_fails_in_one_line(dataset, tmp_path):
    _change(dataset, _without_separators)
    done = cli("convert", dataset, tmp_path / "out.txt")
    assert done.returncode == 1
    assert done.stderr.strip().startswith(f"error: {dataset}: ExampleTable column Analyzed_Word has no \"separator\"")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.txt").exists()


def test_the_same_dataset_with_separators_converts(dataset, tmp_path):
    done = cli("convert", dataset, tmp_path / "out.txt")
    assert done.returncode == 0, done.stderr
    assert "\\g big sea III-become-PST.UNW" in (tmp_path / "out.txt").read_text(encoding="utf-8")
