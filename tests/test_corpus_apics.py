from pathlib import Path

import pytest

from autogloss.corpus.apics import load_apics
from autogloss.corpus.imtvault import SkippedRow
from autogloss.errors import FormatError

from conftest import SHARED_DATA

APICS = SHARED_DATA / "apics"
pytestmark = pytest.mark.skipif(not APICS.is_dir(), reason="../shared/data/apics not present")

#: Real rows, in this order, by ID.
ROWS = ["1-1", "12-1", "64-1", "70-1", "75-8", "21-12"]


def sliced_apics(root: Path, extra_lines: tuple[str, ...] = ()) -> Path:
    """A data folder holding APiCS's languages.csv and the header and ROWS of
    its examples.csv (each on one line there), then ``extra_lines``."""
    folder = root / "apics"
    folder.mkdir(parents=True)
    header, *lines = (APICS / "examples.csv").read_text(encoding="utf-8").splitlines()
    by_id = {line.split(",", 1)[0]: line for line in lines}
    (folder / "examples.csv").write_text("\n".join([header, *(by_id[i] for i in ROWS), *extra_lines]) + "\n",
                                         encoding="utf-8")
    (folder / "languages.csv").write_bytes((APICS / "languages.csv").read_bytes())
    return root


def read(root: Path) -> tuple[dict, list[FormatError]]:
    skipped: list[FormatError] = []
    return {record.id: record for record in load_apics(root, skipped, [])}, skipped


def test_real_rows_with_words_glosses_languages_and_origins(tmp_path):
    records, _ = read(sliced_apics(tmp_path))
    assert set(records) == {"apics/1-1", "apics/12-1", "apics/64-1", "apics/70-1"}
    sranan = records["apics/1-1"]
    # Primary_Text in the source's own spelling, aligned word for word with the analysis, which
    # has no morpheme breaks ("Isrede mi kau bringi wan manpikin."): no segmentation
    assert sranan.transcription == "Isredeh mi kau bringi wan mannpikin."
    assert sranan.segmentation is None
    assert sranan.glosses == "yesterday 1SG cow deliver a male.young"
    assert sranan.translation == "Yesterday my cow delivered a bull calf."
    assert (sranan.source, sranan.split, sranan.license, sranan.metalanguage) == ("apics", "pretrain", "CC BY 4.0", "English")
    assert sranan.origin == f"{tmp_path}/apics/examples.csv:2"
    # Early Sranan has a glottocode only; the Sranan row of languages.csv maps it
    assert (sranan.language.name, sranan.language.iso639_3, sranan.language.glottocode, sranan.language_method) == (
        "Early Sranan", "srn", "sran1240", "glottocode mapped")
    # words separated by real tabs; the dash glossed with a blank is punctuation, left out, so
    # Primary_Text ("... the fig - on the tree.") has a word more: the analysed words stand for it
    mauritian = records["apics/12-1"]
    assert (mauritian.transcription, mauritian.segmentation) == ("And the mother count the fig on the tree.", None)
    assert mauritian.glosses == "and the mother count[PFV] the fig[PL] on the tree"
    assert records["apics/64-1"].segmentation == "ásed ge=kátulu nas"
    assert records["apics/64-1"].language_method == "iso639-3 given"
    # Pidgin Hindustani: no glottocode, no ISO code, a name ISO 639-3 does not have
    hindustani = records["apics/70-1"]
    assert (hindustani.language.name, hindustani.language.iso639_3) == ("Pidgin Hindustani", "und")
    assert hindustani.language_method == "und: name is no ISO 639-3 name; no book title"


def test_rows_that_are_not_igt_or_malformed_are_skipped_naming_the_line(tmp_path):
    root = sliced_apics(tmp_path, ("1-900,1,a b,a\\tb,A\\tB,ab,,,,written,surplus",))
    records, skipped = read(root)
    path = f"{root}/apics/examples.csv"
    assert [str(error) for error in skipped] == [
        f"{path}:6: word counts disagree",  # 75-8: 3 analysed words, 6 glosses (spaces, no separators)
        f"{path}:7: no glosses",  # 21-12
        f"{path}:8: row has another number of cells than the header",
    ]
    assert [error.reason for error in skipped if isinstance(error, SkippedRow)] == ["word counts disagree", "no glosses"]
    assert len(records) == 4


def test_a_file_that_is_no_example_table_fails_naming_it(tmp_path):
    folder = tmp_path / "apics"
    folder.mkdir()
    (folder / "examples.csv").write_text("ID,Language_ID,Primary_Text\n1,1,a\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"examples.csv:1: not a CLDF ExampleTable: missing column\(s\) Analyzed_Word, Gloss"):
        list(load_apics(tmp_path, [], []))
    (folder / "examples.csv").write_bytes(b"ID,Language_ID,Primary_Text,Analyzed_Word,Gloss\n1,1,\xff,a,A\n")
    with pytest.raises(FormatError, match=r"examples.csv: not UTF-8 text"):
        list(load_apics(tmp_path, [], []))


@pytest.mark.skipif(not (SHARED_DATA / "imtvault").is_dir(), reason="../shared/data/imtvault not present")
def test_a_build_over_both_sources_keeps_languages_licences_origins_and_counts_reasons(tmp_path):
    from test_corpus_imtvault import sliced_imtvault

    from autogloss.corpus import build_corpus, read_corpus

    root = sliced_imtvault(sliced_apics(tmp_path / "data"))
    report = build_corpus(root, tmp_path / "corpus", sources=["imtvault", "apics"])
    rows = list(read_corpus(tmp_path / "corpus", ["pretrain"]))
    assert {row.source for row in rows} == {"imtvault", "apics"}
    assert all(row.license == "CC BY 4.0" and row.origin and (row.language.iso639_3 or row.language.glottocode)
               for row in rows)
    # the language's way of being decided survives the Parquet store
    dargwa = [row for row in rows if row.id.startswith("imtvault/250/verbs_analytic-a7dc4283b1")]
    assert [(row.is_segmented, row.language_method) for row in dargwa] == [(True, "iso639-3 given"), (False, "iso639-3 given")]
    assert report.sentences_read == {"imtvault": 5, "apics": 4}
    assert report.skipped_by_reason == {"imtvault: LaTeX markup in the words": 1, "imtvault: no glosses": 1,
                                        "apics: word counts disagree": 1, "apics: no glosses": 1}
    assert report.languages_decided["apics"] == {"glottocode mapped": 1, "iso639-3 given": 2, "und": 1}
    assert report.undetermined == {"imtvault: no code or name; book title names no single language": 1,
                                   "apics: name is no ISO 639-3 name; no book title": 1}
    manifest = (tmp_path / "corpus" / "manifest.json").read_text(encoding="utf-8")
    assert '"undetermined_languages"' in manifest and '"skipped_by_reason"' in manifest
    card = (tmp_path / "corpus" / "README.md").read_text(encoding="utf-8")
    assert "| apics | glottocode mapped | 1 |" in card and "a Roman people rose" in card
