"""gloss_labels_v2: v1 unchanged for the sources it covers, plus the IMTVault books' and
APiCS's own abbreviation tables mapped by meaning (bench/gloss_labels.py makes the table)."""

import pytest

from autogloss.errors import FormatError
from autogloss.normalise import _parse_table, load_table, normalise_record, record_scope
from autogloss.records import IGTRecord
from bench.gloss_labels import (
    build, clean_meaning, decide, load_meanings, meaning_alternatives, scope_rows, single_label, ScopeReport, V2,
)

from conftest import SHARED_DATA


@pytest.fixture(scope="module")
def v1():
    return load_table("v1")


@pytest.fixture(scope="module")
def v2():
    return load_table("v2")


def imtvault(book: int, glosses: str) -> IGTRecord:
    return IGTRecord(id=f"imtvault/{book}/ex-1/seg", transcription=" ".join("w" for _ in glosses.split()),
                     glosses=glosses, source="imtvault")


def test_v2_keeps_every_v1_row_so_other_sources_normalise_exactly_as_before(v1, v2):
    assert v2.entries == v1.entries
    assert load_table("v1").scopes == {}
    line = "Emine apple-ACC eat-PAST.3sg go-PERF PF-N NOM-see COMIT"
    for source in ("odin", "sigmorphon2023", "guarani", "uratyp", None):
        record = IGTRecord(id="imtvault/182/1", transcription="a b c d e f g", glosses=line, source=source)
        assert normalise_record(record, v2) == normalise_record(record, v1)


def test_a_book_label_means_what_its_book_says(v1, v2):
    # book 182 (The languages of Malta): pf = perfect -> the shared PRF; v1 does not know PF
    assert normalise_record(imtvault(182, "catch-PF.1SG"), v2).glosses == "catch-PRF.1.SG"
    assert normalise_record(imtvault(182, "catch-PF.1SG"), v1).glosses == "catch-PF.1.SG"
    # book 298: NOM = nominalization, not nominative; N = nasal / n-noun class, not v1's NEUT
    assert normalise_record(imtvault(298, "eat-NOM N-house"), v2).glosses == "eat-NMLZ N-house"
    # a book without that label in its table: the shared rows (v1) apply
    assert normalise_record(imtvault(120, "eat-NOM N-house"), v2).glosses == "eat-NOM NEUT-house"
    normalised = normalise_record(imtvault(298, "eat-NOM"), v2)
    assert normalised.glosses_original == "eat-NOM"


def test_apics_records_use_the_apics_table(v2):
    record = IGTRecord(id="a", transcription="a b c", glosses="see-INC PREP CS", source="apics", origin="examples.csv:2")
    assert record_scope(record) == "apics"
    # INC: inchoative (v1 keeps INC); PREP: preposition; CS: "Bedeutung", kept (v1 would say CAUS)
    assert normalise_record(record, v2).glosses == "see-INCH ADP CS"


def test_record_scope_is_the_book_of_an_imtvault_row(tmp_path):
    from autogloss.corpus.imtvault import imtvault_row

    entry = {"ID": "mauwake-1", "book_ID": 67, "srcwordsbare": ["ni-pa"], "imtwordsbare": ["go-PA"],
             "trs": "He went.", "book_title": "A grammar of Mauwake"}
    record, _ = imtvault_row(tmp_path / "store-67-01examples.json", 1, entry)
    assert record_scope(record) == "imtvault:67"
    assert normalise_record(record, load_table("v2")).glosses == "go-PST"  # book 67: PA = past tense
    assert record_scope(IGTRecord(id="odin/x/1", transcription="a", source="odin")) is None


def test_scoped_rows_parse_and_duplicates_within_a_scope_are_errors():
    header = "label\tunimorph\tlowercase_ok\tnote\tscope\n"
    table = _parse_table(header + "PF\tPFV\tno\t\t\nPF\tPRF\tno\t\timtvault:1\n", "t.tsv", "vx")
    assert table.component("PF") == "PFV" and table.component("PF", "imtvault:1") == "PRF"
    with pytest.raises(FormatError, match="t.tsv:3: label 'PF' listed twice in scope imtvault:1"):
        _parse_table(header + "PF\tPRF\tno\t\timtvault:1\npf\tPFV\tno\t\timtvault:1\n", "t.tsv", "vx")


@pytest.mark.parametrize("raw, cleaned", [
    ("\\textsc{3sg}~subject", "3sg subject"),
    ("Ablative (‘[moving] from’)", "ablative (‘[moving] from’)"),  # the remark goes when it is split
    ("collective ‘all together’", "collective"),
    ("1st/1st+2nd/2nd/3rd person", "first/first+second/second/third person"),
    ("{equative copula}", "equative copula"),
])
def test_meanings_are_cleaned_of_latex_and_quotes(raw, cleaned):
    assert clean_meaning(raw) == cleaned


@pytest.mark.parametrize("cleaned, alternatives", [
    ("negation, negative", ["negation", "negative"]),
    ("adverb(ial)", ["adverb", "adverbial"]),
    ("(im)perfective", ["perfective", "imperfective"]),
    ("accusative case", ["accusative"]),
    ("ablative ([moving] from)", ["ablative"]),
    ("question particle/marker", ["question", "marker"]),
])
def test_meanings_split_into_alternatives(cleaned, alternatives):
    assert meaning_alternatives(cleaned) == alternatives


def test_only_single_labels_are_mapped():
    assert single_label("pf") == ("PF", "")
    assert single_label("Evid/evid") == ("EVID", "")
    assert single_label("1, 2, 3")[0] is None
    for key in ("cm.fish", "#", "", "L-PTCP"):
        assert single_label(key)[0] is None


@pytest.mark.parametrize("label, meaning, target, kind", [
    ("PF", "perfect", "PRF", "mapped"),
    ("PERF", "perfective", "PFV", "mapped"),          # v1 says PRF; this book means perfective
    ("PFV", "perfective", "=", "confirmed"),
    ("Q", "question particle/marker", "INT", "mapped"),
    ("ERG", "ergative/instrumental", "=", "kept-ambiguous"),
    ("CONT", "continuative/imperfect aspect", "=", "kept-unclear"),  # only part of it is a shared label
    ("N", "noun", "=", "kept-unclear"),               # blocks v1's N -> NEUT for this book
    ("3SG", "agreement with a singular third party", "3.SG", "v1-form"),
])
def test_labels_are_decided_by_their_meaning(v1, label, meaning, target, kind):
    decision = decide(label, meaning, v1, load_meanings())
    assert (decision.target, decision.kind) == (target, kind)


def test_the_meaning_list_names_only_shared_labels(v1):
    shared = set()
    for label, entry in v1.entries.items():
        output = label if entry.unimorph == "=" else entry.unimorph
        shared |= {output, *output.split(".")}
    assert set(load_meanings().values()) <= shared


def test_a_label_listed_twice_with_different_meanings_is_kept(v1):
    report = ScopeReport()
    rows = scope_rows("imtvault:1", {"PF": "perfect", "pf": "perfective"}, v1, load_meanings(), report)
    assert [row[:2] for row in rows] == [("PF", "=")]


@pytest.mark.skipif(not (SHARED_DATA / "imtvault").is_dir() or not (SHARED_DATA / "apics").is_dir(),
                    reason="../shared/data/imtvault and apics not present")
def test_the_committed_table_is_what_the_real_abbreviation_tables_give():
    text, reports = build(SHARED_DATA)
    assert text == V2.read_text(encoding="utf-8")
    imt, apics = reports["imtvault"], reports["apics"]
    assert (imt.scopes, imt.read, apics.read) == (58, 2058, 267)
    assert imt.kinds["mapped"] > 100 and imt.kinds["kept-unclear"] > 0
