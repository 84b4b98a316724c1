import pytest

from autogloss.corpus.languages import (BOOK_TITLE, GLOTTOCODE_GIVEN, GLOTTOCODE_MAPPED, ISO_GIVEN, NAME_MATCHED,
                                        Evidence, LanguageIdentifier, book_language_name, glottocode_table, mapping)
from autogloss.errors import FormatError
from autogloss.records import Language

from conftest import SHARED_DATA


def test_a_given_iso_code_decides_and_special_codes_do_not():
    identifier = LanguageIdentifier({})
    assert identifier.decide(Evidence(iso639_3="rap", glottocode="rapa1244", name="Rapa Nui")) == (
        Language(name="Rapa Nui", iso639_3="rap", glottocode="rapa1244"), ISO_GIVEN)
    # "und" says nothing: the name decides, or nothing does
    assert identifier.decide(Evidence(iso639_3="und", name="Swedish")) == (
        Language(name="Swedish", iso639_3="swe"), NAME_MATCHED)
    language, method = identifier.decide(Evidence(iso639_3="und", name="Singapore Malay"))
    assert language == Language(name="Singapore Malay", iso639_3="und")
    assert method == "und: code 'und' is no ISO 639-3 language; no book title"


def test_glottocodes_map_to_iso_through_the_table_or_stand_alone(tmp_path):
    folder = tmp_path / "somecldf"
    folder.mkdir()
    (folder / "languages.csv").write_text(
        "ID,Name,Glottocode,ISO639P3code\n1,Sranan,sran1240,srn\n2,Early Sranan,sran1240,\n"
        "3,X,conf1234,aaa\n4,Y,conf1234,abc\n", encoding="utf-8")
    table = glottocode_table(tmp_path)
    assert table == {"sran1240": "srn"}  # conf1234 is paired with two codes: not mapped
    identifier = LanguageIdentifier(table)
    assert identifier.decide(Evidence(glottocode="sran1240", name="Early Sranan")) == (
        Language(name="Early Sranan", iso639_3="srn", glottocode="sran1240"), GLOTTOCODE_MAPPED)
    assert identifier.decide(Evidence(glottocode="neng1239", name="Nengee")) == (
        Language(name="Nengee", glottocode="neng1239"), GLOTTOCODE_GIVEN)
    # a source's own pairs add to the table; one that contradicts it removes the mapping
    identifier.learn([("swe", "swed1254"), ("nld", "sran1240")])
    assert identifier.glottocodes == {"swed1254": "swe"}


def test_names_match_exactly_without_case_and_never_in_part():
    identifier = LanguageIdentifier({})
    assert identifier.decide(Evidence(name="  lingala ")) == (Language(name="lingala", iso639_3="lin"), NAME_MATCHED)
    # "Rapa" is an ISO 639-3 name, but "Rapa Nui" is not one
    assert identifier.decide(Evidence(name="Rapa Nui"))[0].iso639_3 == "und"
    # a LaTeX macro left in place of a name is no name
    language, method = identifier.decide(Evidence(name="\\LangTurk"))
    assert language == Language(iso639_3="und") and method == "und: no code or name; no book title"


def test_book_titles_of_one_language_decide_and_collections_do_not():
    identifier = LanguageIdentifier({})
    assert identifier.decide(Evidence(book_title="A grammar of Mauwake")) == (
        Language(name="Mauwake", iso639_3="mhl"), BOOK_TITLE)
    assert book_language_name("A dictionary and grammatical outline of Chakali") == "Chakali"
    assert book_language_name("The Ik language") == "Ik"
    assert book_language_name("Advances in formal Slavic linguistics 2018") is None
    language, method = identifier.decide(Evidence(book_title="Arabic and contact-induced change"))
    assert language.iso639_3 == "und" and method == "und: no code or name; book title names no single language"
    # the source's name goes before the title: a grammar's example may be of another language
    assert identifier.decide(Evidence(name="Swedish", book_title="A grammar of Mauwake"))[0].iso639_3 == "swe"


def test_mapping_ignores_malformed_codes():
    assert mapping([("xx", "abcd1234"), ("swe", "not-a-code"), (None, "swed1254"), ("SWE", "swed1254")]) == {
        "swed1254": "swe"}


def test_an_unreadable_language_table_names_the_file(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "languages.csv").write_bytes(b"ID,Glottocode\n1,\xff\xfe\n")
    with pytest.raises(FormatError, match=r"broken/languages.csv: not a readable CSV file"):
        glottocode_table(tmp_path)


@pytest.mark.skipif(not (SHARED_DATA / "apics").is_dir(), reason="../shared/data/apics not present")
def test_the_shared_data_tables_map_apics_glottocodes():
    table = glottocode_table(SHARED_DATA)
    assert table["sran1240"] == "srn" and table["nort2671"] == "sme"


def test_odin_files_named_by_no_iso_code_are_und_with_the_reason(tmp_path):
    from autogloss.corpus.build import BuildReport, compile_examples
    from autogloss.corpus.sources import load_odin, odin_language

    assert odin_language("tur") == (Language(name="Turkish", iso639_3="tur"), "iso639-3 given")
    # ODIN's two-letter names are not ISO 639-1: ja.txt holds Jamaican Creole
    assert odin_language("ja") == (Language(iso639_3="und"), "und: file name is no ISO 639-3 code")
    assert odin_language("srp-hrv") == (Language(iso639_3="und"), "und: file name is a list of codes")
    assert odin_language("???")[0].iso639_3 == "und" and odin_language("qqq")[0].iso639_3 == "und"
    odin = tmp_path / "odin"
    odin.mkdir()
    igt = "\\t ev-de\n\\m ev-de\n\\g house-LOC\n\\l at home\n"
    for stem in ("tur", "ja", "srp-hrv"):
        (odin / f"{stem}.txt").write_text(igt.replace("ev", stem[:2]), encoding="utf-8")
    records = list(load_odin(tmp_path, [], []))
    assert {(r.origin.rsplit("/", 1)[-1].split(":")[0], r.language.iso639_3, r.language_method) for r in records} == {
        ("tur.txt", "tur", "iso639-3 given"), ("ja.txt", "und", "und: file name is no ISO 639-3 code"),
        ("srp-hrv.txt", "und", "und: file name is a list of codes")}
    report = BuildReport()
    compile_examples(records, report)
    assert report.undetermined == {"odin: file name is no ISO 639-3 code": 1, "odin: file name is a list of codes": 1}
