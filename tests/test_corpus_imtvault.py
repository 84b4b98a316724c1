import json
from pathlib import Path

import pytest

from autogloss.corpus.imtvault import SkippedRow, clean_translation, load_imtvault, render_latex
from autogloss.errors import FormatError

from conftest import SHARED_DATA

IMTVAULT = SHARED_DATA / "imtvault"
needs_imtvault = pytest.mark.skipif(not IMTVAULT.is_dir(), reason="../shared/data/imtvault not present")

#: Real examples, by store and example ID.
SLICE = {
    "store-250-verbs_analyticexamples.json": ["verbs_analytic-a7dc4283b1"],  # Sanzhi Dargwa, segmented
    "store-270-02examples.json": ["02-28af24b6d3"],  # Latin, a collection volume, citation in the translation
    "store-121-Andersonexamples.json": ["Anderson-a40d0bc177"],  # Nomaande, LaTeX accents
    "store-298-CH4examples.json": ["CH4-25292ce6e8"],  # Gyeli, a gloss with math ($ø$)
    "store-74-lsp-cli-sketchgrammarexamples.json": ["lsp-cli-sketchgrammar-b338ad369f"],  # Chakali, no code
    "store-118-3examples.json": ["3-b621611317"],  # an empty word and gloss between two words
    "store-215-dummyexamples.json": ["dummy-e3b0c44298"],  # nothing at all
}


def real_entries(store: str, ids: list[str]) -> list[dict]:
    entries = json.loads((IMTVAULT / store).read_text(encoding="utf-8"))
    return [entry for entry in entries if entry["ID"] in ids]


def sliced_imtvault(root: Path, extra: dict[str, object] | None = None) -> Path:
    """A data folder with a few real IMTVault stores, cut to the examples of SLICE."""
    folder = root / "imtvault"
    folder.mkdir(parents=True)
    for store, ids in SLICE.items():
        (folder / store).write_text(json.dumps(real_entries(store, ids), ensure_ascii=False), encoding="utf-8")
    for name, data in (extra or {}).items():
        (folder / name).write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return root


def read(root: Path) -> tuple[dict, list[FormatError]]:
    skipped: list[FormatError] = []
    records = {record.origin.rsplit(":", 1)[1]: record for record in load_imtvault(root, skipped, [])}
    return records, skipped


@needs_imtvault
def test_real_examples_keep_the_books_morpheme_breaks(tmp_path):
    records, _ = read(sliced_imtvault(tmp_path))
    dargwa = records["verbs_analytic-a7dc4283b1"]
    assert dargwa.segmentation == "a tak nuˁq-b-a-cːella hel-tːi=ra d-arq'-ib-te ca-d"
    assert dargwa.transcription == "a tak nuˁqbacːella heltːira darq'ibte cad"
    assert dargwa.glosses == "and so hand-pl-obl-comit that-pl=add npl-do.pfv-pret-dd.pl cop-npl"
    # the brace group around the translation goes, the parentheses inside it stay
    assert dargwa.translation == "And like this with the hands (they) also made them."
    assert (dargwa.id, dargwa.source, dargwa.split, dargwa.license, dargwa.metalanguage) == (
        "imtvault/250/verbs_analytic-a7dc4283b1", "imtvault", "pretrain", "CC BY 4.0", "English")
    assert dargwa.origin == f"{tmp_path}/imtvault/store-250-verbs_analyticexamples.json:verbs_analytic-a7dc4283b1"
    assert (dargwa.language.iso639_3, dargwa.language.glottocode, dargwa.language_method) == (
        "dar", "sanz1248", "iso639-3 given")
    # the empty place between the two words is spacing, not a word
    pair = records["3-b621611317"]
    assert (pair.segmentation, pair.glosses) == ("dəren dərren", "dɪrɛŋ dɪrrɛŋ")


@needs_imtvault
def test_translations_lose_citations_and_stray_quotes_not_their_own_parentheses(tmp_path):
    records, _ = read(sliced_imtvault(tmp_path))
    assert records["02-28af24b6d3"].translation == "a Roman people rose"  # was: a Roman people rose' (Cicero, Brutus 12)
    nomaande = records["Anderson-a40d0bc177"]
    assert nomaande.translation == "He is going to him (i.e., his home)."
    assert nomaande.segmentation == "yɔ́ ɔcɔba ná-áyá."  # y\'{ɔ}: the accent LaTeX puts on the letter


@pytest.mark.parametrize("given, cleaned", [
    ("From now on, we must think positively.’ ([208]{Makihara2001Adaptation)}", "From now on, we must think positively."),
    ("friend of honey' (= somebody who likes honey)", "friend of honey"),
    ("She pierced her foot.' (lit: `She fell such that she got pierced, with respect to her foot.') [ES97-n02-Jam.020]",
     "She pierced her foot."),
    ("The children harvested maize yesterday.' Does not require verum", "The children harvested maize yesterday."),
    ("Karolina was offered an apartment’}", "Karolina was offered an apartment"),
    ("‘A book.", "A book."),
    ("ʽHanus didnʼt get any doctorʼs certificate.ʼ", "Hanus didnʼt get any doctorʼs certificate."),
    ("Move (yourself)! (said to a man) (E)", "Move (yourself)!"),
    ("I took a knife and cut (into) the leg. (Or: I cut into the leg with a knife.')", "I took a knife and cut (into) the leg."),
    ("white reindeer (pl.)", "white reindeer (pl.)"),
    ("the lake (which you and I both feel connected to)", "the lake (which you and I both feel connected to)"),
    ("Then (he asked) Agouti: “Where has the woman gone?” he said.", "Then (he asked) Agouti: “Where has the woman gone?” he said."),
    ("the boys' books", "the boys' books"),
    ("(only narrow scope)", "(only narrow scope)"),
    ("Mount \\ipa{qv̩˧ɻ̍#˥} is mentioned in the tales of the Daba priests!’ Literally: ‘Mount", "Mount qv̩˧ɻ̍#˥ is mentioned in the tales of the Daba priests!"),
    ("", None),
])
def test_translation_cleaning_on_real_translations(given, cleaned):
    assert clean_translation(given) == cleaned


def test_latex_in_words_is_rendered_only_where_certain():
    assert render_latex("k\\`ɔ{}-l\\=ɔ") == "kɔ̀-lɔ̄"
    assert render_latex("1.SM{}-PST{}-enter") == "1.SM-PST-enter"
    assert render_latex("\\&=CNJ") == "&=CNJ"
    assert render_latex("gun-\\pl{}-NOM{}") is None  # a book's own macro: what it prints is unknown
    assert render_latex("$ø$1.friend") is None


@needs_imtvault
def test_languages_from_book_titles_or_und_with_the_reason(tmp_path):
    records, _ = read(sliced_imtvault(tmp_path))
    chakali = records["lsp-cli-sketchgrammar-b338ad369f"]
    assert (chakali.language.name, chakali.language.iso639_3, chakali.language_method) == ("Chakali", "cli", "book title")
    latin = records["02-28af24b6d3"]  # no code in the data, from "On a law of Indo-European word order"
    assert latin.language.iso639_3 == "und"
    assert latin.language_method == "und: no code or name; book title names no single language"


@needs_imtvault
def test_rows_that_are_not_igt_are_skipped_with_their_reason(tmp_path):
    records, skipped = read(sliced_imtvault(tmp_path))
    reasons = {(Path(error.path).name, error.reason) for error in skipped if isinstance(error, SkippedRow)}
    assert reasons == {("store-298-CH4examples.json", "LaTeX markup in the words"),
                       ("store-215-dummyexamples.json", "no glosses")}
    assert "CH4-25292ce6e8" not in records and len(records) == 5
    assert f"{tmp_path}/imtvault/store-298-CH4examples.json: entry CH4-25292ce6e8: LaTeX markup in the words" in map(
        str, skipped)


@needs_imtvault
def test_a_malformed_entry_is_skipped_naming_file_and_entry(tmp_path):
    good = real_entries("store-270-02examples.json", ["02-28af24b6d3"])[0]
    broken = [{**good, "ID": "wrong-type", "srcwordsbare": "populus se Romanus erexit"},
              {**good, "ID": "no-book", "book_ID": None}, "not an object", {**good, "ID": "kept"}]
    root = sliced_imtvault(tmp_path, {"store-999-brokenexamples.json": broken})
    records, skipped = read(root)
    messages = [str(error) for error in skipped if "store-999" in str(error)]
    assert messages == [
        f"{root}/imtvault/store-999-brokenexamples.json: entry wrong-type: field 'srcwordsbare' must be a list of strings",
        f"{root}/imtvault/store-999-brokenexamples.json: entry no-book: no 'book_ID'",
        f"{root}/imtvault/store-999-brokenexamples.json: entry 3: an example is a JSON object, not a str",
    ]
    assert "kept" in records


def test_a_store_that_is_not_json_fails_naming_the_file(tmp_path):
    folder = tmp_path / "imtvault"
    folder.mkdir()
    (folder / "store-1-aexamples.json").write_text('[{"ID": "x",\n  oops]', encoding="utf-8")
    with pytest.raises(FormatError, match=r"store-1-aexamples.json:2: not JSON"):
        list(load_imtvault(tmp_path, [], []))
    (folder / "store-1-aexamples.json").write_text('{"ID": "x"}', encoding="utf-8")
    with pytest.raises(FormatError, match=r"store-1-aexamples.json: an IMTVault store is a JSON list of examples"):
        list(load_imtvault(tmp_path, [], []))


def test_a_missing_folder_is_a_note(tmp_path):
    notes: list[str] = []
    assert list(load_imtvault(tmp_path, [], notes)) == []
    assert notes == [f"imtvault: folder {tmp_path / 'imtvault'} not found; left out"]
