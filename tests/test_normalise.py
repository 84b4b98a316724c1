import pytest

from autogloss.errors import AutoglossError, FormatError
from autogloss.normalise import _parse_table, load_table, normalise_record, restore_record
from autogloss.records import IGTRecord, check_alignment


@pytest.fixture(scope="module")
def table():
    return load_table("v1")


def test_packaged_table_covers_the_frequent_labels(table):
    assert table.version == "v1" and len(table.entries) >= 200
    for label in ("PAST", "PST", "3SG", "NOM", "PL", "ERG"):
        assert label in table.entries


@pytest.mark.parametrize("gloss, expected", [
    ("eat-PAST.3sg", "eat-PST.3.SG"),
    ("Istanbul-DAT go-PROG-1sg", "Istanbul-DAT go-PROG-1.SG"),
    ("apple-Acc", "apple-ACC"),
    ("book-(DAT)", "book-(DAT)"),
    ("in the past", "in the past"),       # English words stay
    ("III-become-PST.UNW", "III-become-PST.NFH"),
])
def test_gloss_lines_are_normalised_per_component(table, gloss, expected):
    assert table.line(gloss) == expected


def test_normalising_a_record_is_reversible_and_keeps_alignment(table):
    record = IGTRecord(id="1", transcription="elma-yi ye-di", is_segmented=True, glosses="apple-ACC eat-PAST.3sg")
    normalised = normalise_record(record, table)
    assert normalised.glosses == "apple-ACC eat-PST.3.SG"
    assert normalised.glosses_original == "apple-ACC eat-PAST.3sg"
    assert check_alignment(normalised) == []
    assert restore_record(normalised) == record
    assert normalise_record(normalised, table) == normalised  # applying twice changes nothing


def test_unchanged_records_keep_no_copy(table):
    record = IGTRecord(id="1", transcription="a", glosses="dog-PL")
    assert normalise_record(record, table) is record


def test_unknown_table_version_and_bad_tables_are_clear_errors():
    with pytest.raises(AutoglossError, match="no gloss-label table version 'v99'"):
        load_table("v99")
    with pytest.raises(FormatError, match="t.tsv:2: lowercase_ok must be yes or no"):
        _parse_table("label\tunimorph\tlowercase_ok\tnote\nPAST\tPST\tmaybe\t\n", "t.tsv", "vx")
    with pytest.raises(FormatError, match="listed twice"):
        _parse_table("label\tunimorph\tlowercase_ok\tnote\nPAST\tPST\tno\t\npast\tPST\tno\t\n", "t.tsv", "vx")


def test_corpus_build_can_normalise(mini_data, tmp_path):
    from autogloss.corpus import build_corpus, read_corpus

    table = load_table("v1")
    report = build_corpus(mini_data, tmp_path / "c", normaliser=lambda r: normalise_record(r, table),
                          normaliser_name=table.name)
    turkish = [r for r in read_corpus(tmp_path / "c", ["pretrain"]) if r.language.iso639_3 == "tur"]
    assert turkish[0].glosses == "Emine apple-ACC eat-PST.3.SG"
    assert turkish[0].glosses_original == "Emine apple-ACC eat-PAST.3sg"
    assert report.normalised.startswith("autogloss gloss_labels_v1")
