"""FLEx exports from public projects (tests/realfiles/flextext/): the layouts and
bytes real files have, read right and written back exactly (issue 15, items 6,
8, 12, 13, 14). The collection-wide promises are in tests/test_realfiles.py."""

import difflib
import re
from pathlib import Path

import pytest
from lxml import etree

from autogloss.interlinear import GlossState
from autogloss.interlinear.document import RecordDocument
from autogloss.interlinear.flextext import FlexTextDocument
from autogloss.records import IGTRecord, Language

FOLDER = Path(__file__).parent / "realfiles" / "flextext"
GUESS_LINE = re.compile(r'\s*<item type="gls" lang="[^"]+" analysisStatus="guessByStatisticalAnalysis">gl</item>\r?\n')

#: A small made-up text in the older layout (a phrase is a <word> directly
#: inside <phrases>, holding its own <words>, its segnum and translation after
#: them), with what the real Sena export lacks: morphemes, a word FLEx
#: analyses across a space, and empty gloss items of both spellings.
OLD_EXPORT = """\
<?xml version="1.0" encoding="utf-8"?>
<document>
  <interlinear-text>
    <item type="title" lang="en">Old export</item>
    <paragraphs>
      <paragraph>
        <phrases>
          <word>
            <words>
              <word>
                <item type="txt" lang="nfs">Kin</item>
                <morphemes>
                  <morph type="stem">
                    <item type="txt" lang="nfs">kin</item>
                    <item type="gls" lang="en">3SG</item>
                  </morph>
                </morphemes>
              </word>
              <word>
                <item type="txt" lang="nfs">go kerkap</item>
                <item type="gls" lang="en">go away</item>
              </word>
              <word>
                <item type="punct" lang="nfs">.</item>
              </word>
            </words>
            <item type="segnum" lang="en">1</item>
            <item type="gls" lang="en">He went away.</item>
          </word>
          <word>
            <words>
              <word>
                <item type="txt" lang="nfs">tefla</item>
                <morphemes>
                  <morph type="prefix">
                    <item type="txt" lang="nfs">te-</item>
                    <item type="gls" lang="en" />
                  </morph>
                  <morph type="stem">
                    <item type="txt" lang="nfs">fla</item>
                    <item type="gls" lang="en"></item>
                  </morph>
                </morphemes>
              </word>
            </words>
            <item type="segnum" lang="en">2</item>
          </word>
        </phrases>
      </paragraph>
    </paragraphs>
    <languages>
      <language lang="nfs" vernacular="true" />
      <language lang="en" />
    </languages>
  </interlinear-text>
</document>
"""


@pytest.fixture
def old_export(tmp_path):
    path = tmp_path / "old.flextext"
    path.write_bytes(OLD_EXPORT.encode("utf-8"))
    return path


def _gloss_every_empty_slot(document: FlexTextDocument) -> int:
    filled = 0
    for sentence in document.sentences:
        for word_index, word in enumerate(sentence.words):
            for slot_index, slot in enumerate(word.slots):
                if slot.editable and slot.state is GlossState.EMPTY:
                    document.set_gloss(sentence, word_index, slot_index, "gl", GlossState.GUESS)
                    filled += 1
    return filled


# -- item 8: older exports -------------------------------------------------------------------
def test_phrases_written_as_words_are_read(tmp_path):
    """FLEx 8.2.8's "Verifiable generic XML": every phrase a <word> inside <phrases>."""
    path = FOLDER / "sena-in-the-garden.flextext"
    document = FlexTextDocument.read(path)
    assert len(document.sentences) == 9 and document.gloss_lang == "pt" and document.language.iso639_3 == "seh"
    first = document.records()[0]
    assert (first.transcription, first.glosses) == ("Babanga ana munda ukulu", "pai.meu ? machamba grande")
    assert _gloss_every_empty_slot(document) == 39 - 23
    document.write(tmp_path / "glossed.flextext")
    written = (tmp_path / "glossed.flextext").read_bytes()
    # the empty <item type="gls" lang="pt" /> of 'ana' is filled where it is, on the word's own line
    assert ('<word><item type="txt" lang="seh">ana</item><item type="gls" lang="pt" '
            'analysisStatus="guessByStatisticalAnalysis">gl</item><item type="pos" lang="pt">Irreg-na</item></word>\r\n'
            ).encode() in written
    # phrase translations (<item type="gls" lang="pt" /> after </words>) are not gloss slots
    assert written.count(b'</words><item type="segnum" lang="en">1</item><item type="gls" lang="pt" /></word>') == 1
    assert FlexTextDocument.read(tmp_path / "glossed.flextext").records()[0].glosses == "pai.meu gl machamba grande"


def test_old_layout_with_morphemes_reads_and_round_trips(old_export, tmp_path):
    document = FlexTextDocument.read(old_export)
    records = document.records()
    assert [r.transcription for r in records] == ["Kin go_kerkap", "tefla"]
    assert records[0].glosses == "3SG go.away" and records[0].translation == "He went away."
    assert records[1].segmentation == "te-fla" and document.language.iso639_3 == "nfs"
    # the phrase-level <word> is not a word, and its translation is not a word gloss
    assert document.gloss_lang == "en" and len(document.sentences[0].words) == 2
    document.write(tmp_path / "again.flextext")
    assert (tmp_path / "again.flextext").read_bytes() == old_export.read_bytes()


def test_empty_gloss_items_are_filled_where_they_are(old_export, tmp_path):
    """``<item .../>`` and ``<item ...></item>`` get their gloss in place; no item is added."""
    document = FlexTextDocument.read(old_export)
    assert _gloss_every_empty_slot(document) == 2
    document.write(tmp_path / "glossed.flextext")
    written = (tmp_path / "glossed.flextext").read_text(encoding="utf-8")
    expected = OLD_EXPORT.replace('<item type="gls" lang="en" />',
                                  '<item type="gls" lang="en" analysisStatus="guessByStatisticalAnalysis">gl</item>')
    expected = expected.replace('<item type="gls" lang="en"></item>',
                                '<item type="gls" lang="en" analysisStatus="guessByStatisticalAnalysis">gl</item>')
    assert written == expected
    again = FlexTextDocument.read(tmp_path / "glossed.flextext")
    assert [slot.state for _, _, slot in again.sentences[1].slots()] == [GlossState.GUESS, GlossState.GUESS]
    # a guess replaced again keeps its place and the start tag as written
    again.set_gloss(again.sentences[1], 0, 1, "fly", GlossState.GUESS)
    again.write(tmp_path / "twice.flextext")
    head, _, tail = expected.rpartition(">gl</item>")  # the stem's gloss, the last one
    assert (tmp_path / "twice.flextext").read_text(encoding="utf-8") == head + ">fly</item>" + tail


# -- item 12: words FLEx analyses across spaces -------------------------------------------------------
def test_multi_word_word_stays_one_word_on_every_line(tmp_path):
    path = FOLDER / "cofan-autobiografia-eq.flextext"
    document = FlexTextDocument.read(path)
    record = document.records()[2]
    lines = [record.transcription.split(), record.segmentation.split(), record.glosses.split()]
    assert len({len(line) for line in lines}) == 1
    index = lines[0].index("Abya_Yalani")
    assert (lines[1][index], lines[2][index]) == ("Abya_Yala=ni", "Abya.Yala=LOC")
    # the file keeps its own spaces: forms are never written
    _gloss_every_empty_slot(document)
    document.write(tmp_path / "glossed.flextext")
    assert b'<item type="txt" lang="con-Latn-EC-x-dureno">Abya Yalani</item>' in \
        (tmp_path / "glossed.flextext").read_bytes()


# -- item 13: byte for byte -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["andi-zilo-rooster.flextext", "kalaba-green-mat.flextext",
                                  "apalai-kaikuxi.flextext", "flextext-converters-fully-analyzed.flextext"])
def test_real_exports_are_written_back_byte_for_byte(name, tmp_path):
    original = (FOLDER / name).read_bytes()
    # what lxml would rewrite: the BOM, empty items, the space in <language ... />, comments' places
    assert original.startswith(b"\xef\xbb\xbf") and re.search(rb"<language [^>]* />", original)
    FlexTextDocument.read(FOLDER / name).write(tmp_path / name)
    assert (tmp_path / name).read_bytes() == original


@pytest.mark.parametrize("name", ["andi-zilo-rooster.flextext", "kalaba-green-mat.flextext",
                                  "chitimacha-swadesh.flextext", "apalai-kaikuxi.flextext"])
def test_glossing_a_real_export_adds_only_gloss_lines(name, tmp_path):
    original = (FOLDER / name).read_bytes()
    document = FlexTextDocument.read(FOLDER / name)
    filled = _gloss_every_empty_slot(document)
    assert filled
    document.write(tmp_path / name)
    written = (tmp_path / name).read_bytes()
    diff = list(difflib.unified_diff(original.decode("utf-8").splitlines(keepends=True),
                                     written.decode("utf-8").splitlines(keepends=True), n=0))[2:]
    removed = [line for line in diff if line.startswith("-")]
    added = [line[1:] for line in diff if line.startswith("+")]
    assert not removed and len(added) == filled
    assert all(GUESS_LINE.fullmatch(line) for line in added), added
    if "\r\n" in original.decode("utf-8"):
        assert all(line.endswith("\r\n") for line in added)


def test_tree_changed_beyond_glosses_is_written_whole_with_its_framing(tmp_path):
    document = FlexTextDocument.read(FOLDER / "kalaba-green-mat.flextext")
    note = etree.SubElement(document.tree.getroot().find("interlinear-text"), "item", type="comment", lang="en")
    note.text = "added by a script"
    assert _gloss_every_empty_slot(document)
    document.write(tmp_path / "changed.flextext")
    written = (tmp_path / "changed.flextext").read_bytes()
    assert written.startswith(b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>\r\n<document')
    assert b"added by a script" in written and b"\n" not in written.replace(b"\r\n", b"")


# -- a morph FLEx exports without a form ------------------------------------------------------------------
def test_morph_without_form_or_gloss_is_no_slot():
    document = FlexTextDocument.read(FOLDER / "andi-zilo-rooster.flextext")
    first = document.records()[0]
    assert first.segmentation.split()[0] == "б-ик1-о-й=гъоди"
    assert first.glosses.split()[0] == "an-быть-pst-cvb(pf)=rep"


# -- item 6: where a sentence starts -------------------------------------------------------------------------
def test_sentences_know_the_line_of_their_phrase():
    path = FOLDER / "cofan-autobiografia-eq.flextext"
    lines = [number for number, line in enumerate(path.read_bytes().split(b"\n"), start=1)
             if line.lstrip().startswith(b"<phrase ")]
    document = FlexTextDocument.read(path)
    assert [sentence.origin for sentence in document.sentences] == [f"{path}:{line}" for line in lines]
    assert document.records()[0].origin == f"{path}:{lines[0]}"


# -- item 14: a new FLEx text from another document ----------------------------------------------------------
def test_new_text_keeps_the_source_language_and_word_glosses(tmp_path):
    source = FlexTextDocument.read(FOLDER / "cofan-autobiografia-eq.flextext")
    assert source.language.iso639_3 == "con"  # from the writing system con-Latn-EC-x-dureno
    new = FlexTextDocument.from_sentences(source.copy_sentences(), source.language)
    assert new.tree.find(".//language[@vernacular='true']").get("lang") == "con"
    assert {item.get("lang") for item in new.tree.iter("item") if item.get("type") == "txt"} == {"con"}

    words = FlexTextDocument.read(FOLDER / "chitimacha-swadesh.flextext")
    new = FlexTextDocument.from_sentences(words.copy_sentences(), words.language)
    new.write(tmp_path / "new.flextext")
    again = FlexTextDocument.read(tmp_path / "new.flextext")
    assert [r.glosses for r in again.records()] == [r.glosses for r in words.records()]
    assert again.language.iso639_3 == "ctm"

    # sentences that know their language, in a document that does not
    records = [IGTRecord(id="1", transcription="ixiw raład", glosses="big sea", language=Language(iso639_3="ddo"))]
    new = FlexTextDocument.from_sentences(RecordDocument.from_records(records).copy_sentences())
    assert new.tree.find(".//language[@vernacular='true']").get("lang") == "ddo"


def test_morph_with_a_gloss_and_no_form_is_a_zero_morpheme(tmp_path):
    path = tmp_path / "zero.flextext"
    path.write_text('<document><interlinear-text><paragraphs><paragraph><phrases><phrase><words><word>'
                    '<item type="txt" lang="xyz">kin</item><morphemes>'
                    '<morph><item type="txt" lang="xyz">kin</item><item type="gls" lang="en">see</item></morph>'
                    '<morph><item type="txt" lang="xyz-Latn"></item><item type="gls" lang="en">3SG</item></morph>'
                    '</morphemes></word></words></phrase></phrases></paragraph></paragraphs></interlinear-text>'
                    '</document>', encoding="utf-8")
    record = FlexTextDocument.read(path).records()[0]
    assert (record.segmentation, record.glosses) == ("kin-Ø", "see-3SG")
