"""ELAN files as documentation projects have them (``tests/realfiles/elan/``):
their layouts are found, nothing is added but glosses, and ELAN's id counter moves on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree

from autogloss.errors import FormatError
from autogloss.formats import layout_options, read_document, write_document
from autogloss.glossing import fill_document
from autogloss.interlinear import GlossState
from autogloss.interlinear.elan import ElanDocument, ElanTiers, layout_of
from autogloss.models import MajorityGlosser
from autogloss.records import GlossedRecord, word_morphemes, words

FILES = Path(__file__).parent / "realfiles" / "elan"
ALL = sorted(FILES.glob("*.eaf"))


class _Glosser(MajorityGlosser):
    """Glosses every morpheme ``G<form>``."""

    def __init__(self):
        super().__init__({}, {}, {})

    def gloss_with_confidence(self, records):
        for record in records:
            line = words(record.segmentation or record.transcription)
            glosses = " ".join("-".join(f"G{piece}" for piece in word_morphemes(word)) for word in line)
            yield GlossedRecord(record.replace(glosses=glosses), [[0.5] * len(word_morphemes(w)) for w in line])


def _tree(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def _tier_values(root: etree._Element, tier: str) -> list[str]:
    return [a.findtext("ANNOTATION_VALUE") or "" for a in root.xpath(f'//TIER[@TIER_ID="{tier}"]//ANNOTATION/*')]


def _last_id(root: etree._Element) -> str | None:
    found = root.xpath('//HEADER/PROPERTY[@NAME="lastUsedAnnotationId"]')
    return found[0].text if found else None


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_a_file_written_unchanged_is_the_same_bytes(path, tmp_path):
    document = read_document(path)
    write_document(document, tmp_path / path.name)
    assert (tmp_path / path.name).read_bytes() == path.read_bytes()


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_each_sentence_says_where_its_utterance_annotation_is(path):
    lines = path.read_text(encoding="utf-8").split("\n")
    for sentence in read_document(path).sentences:
        file, line = sentence.origin.rsplit(":", 1)
        assert file == str(path) and f'ANNOTATION_ID="{sentence.id}"' in lines[int(line) - 1]


def test_layouts_are_found_from_constraints_and_parents():
    found = {path.name: layout_of(ElanDocument.read(path)) for path in ALL}
    assert found == {
        # ELAN's FLEx import: a time-aligned word tier, and the gloss among four morph items by its name
        "aingae-kuke-chiste.eaf": "utterance=-,words=A'ingae,morphs=Ortografía vieja,glosses=Gloss,"
                                  "translation=English",
        # no morph tier: glosses of whole words, subdividing them in time
        "desano-anta-esquilo.eaf": "utterance=LGLana_des,words=Morfema,word_glosses=Morf Glossa,translation=English",
        # two chains over one utterance tier: the one with morphs
        "evenki-poligus.eaf": "utterance=sentFon,words=fonWord,morphs=fon,glosses=gl",
        # ELAN's Toolbox import: ref > tx > mot > mb > ge, ft under ref
        "kabyle-toolbox-import.eaf": "utterance=tx@SP,words=mot@SP,morphs=mb@SP,glosses=ge@SP,translation=ft@SP",
        "turkish-poio.eaf": "utterance=P-Spch,words=P-Word,morphs=P-Morph,glosses=P-Gloss,translation=P-Trans",
    }


def test_a_time_aligned_word_tier_is_read():
    path = FILES / "aingae-kuke-chiste.eaf"
    record = ElanDocument.read(path).records()[1]
    assert record.transcription == "patu'khu tu ma'kaenki kiñaña injandiki"
    assert record.glosses == "rock=INST ? which=CMP=ADVR=2 strength-CAUS=IRR want=INT=2"
    assert record.translation == _tier_values(_tree(path), "English")[1]   # not Español


def test_the_toolbox_import_layout_is_read_with_its_translation():
    document = ElanDocument.read(FILES / "kabyle-toolbox-import.eaf")
    records = document.records()
    assert records[2].segmentation == "ad=am=dd awi-ɣ tamaʃaɦuƫ /"
    assert records[2].glosses == "POT=ABSV2SG.F=PROX bring\\AOR-SBJ1SG tale\\ABS.SG.F /"
    assert [r.translation for r in records if r.translation][:1] == ["Now Amina,"]


def test_two_glosses_on_one_morph_are_one_slot_and_survive_conversion(tmp_path):
    path = FILES / "turkish-poio.eaf"
    document = ElanDocument.read(path)
    room = next(word for sentence in document.sentences for word in sentence.words if word.form == "odama")
    assert [(slot.form, slot.gloss, slot.state) for slot in room.slots] == [
        ("oda", "room", GlossState.HUMAN), ("m", "POSS.1SG", GlossState.HUMAN), ("a", "DIR", GlossState.HUMAN)]
    assert "POSS" in _tier_values(_tree(path), "P-Gloss") and "1SG" in _tier_values(_tree(path), "P-Gloss")
    for name in ("converted.flextext", "converted.sfm", "converted.eaf"):
        write_document(document, tmp_path / name, {"flextext": "flextext", "sfm": "toolbox", "eaf": "elan"}[
            name.rsplit(".", 1)[1]])
        back = read_document(tmp_path / name)
        assert [r.glosses for r in back.records()] == [r.glosses for r in document.records()], name
        assert "room-POSS.1SG-DIR" in back.records()[-1].glosses


def test_words_without_morphs_get_no_morphs(tmp_path):
    """Item 3: a word the linguist left unanalysed stays so; without a tier for
    word glosses it is read but not glossed."""
    for name, morph_tier, unanalysed in (("aingae-kuke-chiste.eaf", "Ortografía vieja", ["tu"]),
                                         ("kabyle-toolbox-import.eaf", "mb@SP", ["BI-435", "1314", "519", "BI-399"])):
        path = FILES / name
        document = ElanDocument.read(path)
        locked = [word.form for s in document.sentences for word in s.words if word.slots[0].locked]
        assert locked == unanalysed
        fill_document(document, _Glosser())
        document.write(tmp_path / name)
        assert len(_tier_values(_tree(tmp_path / name), morph_tier)) == len(_tier_values(_tree(path), morph_tier))
        again = ElanDocument.read(tmp_path / name)
        assert [w.slots[0].gloss for s in again.sentences for w in s.words if w.form in unanalysed] == [""] * len(
            unanalysed)


def test_glosses_of_whole_words_go_on_the_word_gloss_tier(tmp_path):
    path = FILES / "desano-anta-esquilo.eaf"
    document = ElanDocument.read(path)
    summary = fill_document(document, _Glosser())
    assert summary.filled == 28
    document.write(tmp_path / path.name)
    before, after = _tier_values(_tree(path), "Morf Glossa"), _tier_values(_tree(tmp_path / path.name), "Morf Glossa")
    assert len(after) == len(before)  # the empty gloss annotations were filled in place
    assert all(old == new for old, new in zip(before, after) if old.strip())
    assert after[0] == "Gmeu" and _tier_values(_tree(tmp_path / path.name), "Morfema") == \
        _tier_values(_tree(path), "Morfema")


def test_glossing_changes_only_glosses_and_their_marks(tmp_path):
    path = FILES / "aingae-kuke-chiste.eaf"
    document = ElanDocument.read(path)
    assert fill_document(document, _Glosser()).filled == 1   # 'ya', a morph without a gloss annotation
    document.write(tmp_path / path.name)
    tree = etree.parse(str(tmp_path / path.name), etree.XMLParser(remove_blank_text=True))
    original = {a.get("ANNOTATION_ID") for a in _tree(path).iter("REF_ANNOTATION", "ALIGNABLE_ANNOTATION")}
    added = [a for a in tree.iter("REF_ANNOTATION") if a.get("ANNOTATION_ID") not in original]
    assert [(a.getparent().getparent().get("TIER_ID"), a.findtext("ANNOTATION_VALUE")) for a in added] == [
        ("Gloss", "Gya"), ("autogloss-status", "guess")]
    # take out the new gloss, the status tier and its type, and put the id counter back: the file as it was
    for annotation in added:
        wrapper = annotation.getparent()
        wrapper.getparent().remove(wrapper)
    for element in tree.xpath('//TIER[@TIER_ID="autogloss-status"] | '
                              '//LINGUISTIC_TYPE[@LINGUISTIC_TYPE_ID="autogloss-status"]'):
        element.getparent().remove(element)
    tree.find('.//PROPERTY[@NAME="lastUsedAnnotationId"]').text = "0"
    parser = etree.XMLParser(remove_blank_text=True)
    assert etree.tostring(tree, method="c14n") == etree.tostring(etree.parse(str(path), parser), method="c14n")


@pytest.mark.parametrize("name, before", [("aingae-kuke-chiste.eaf", "0"), ("desano-anta-esquilo.eaf", "540")])
def test_new_annotation_ids_advance_last_used_annotation_id(tmp_path, name, before):
    """Item 15: ELAN numbers its next annotation from this header property."""
    path = FILES / name
    assert _last_id(_tree(path)) == before
    document = ElanDocument.read(path)
    fill_document(document, _Glosser())
    document.write(tmp_path / name)
    root = _tree(tmp_path / name)
    ids = [a.get("ANNOTATION_ID") for a in root.iter("REF_ANNOTATION", "ALIGNABLE_ANNOTATION")]
    new = [i for i in ids if i not in {a.get("ANNOTATION_ID") for a in _tree(path).iter(
        "REF_ANNOTATION", "ALIGNABLE_ANNOTATION")}]
    assert new and len(ids) == len(set(ids))
    numbers = [int(i[1:]) for i in new]
    assert min(numbers) > int(before) and _last_id(root) == str(max(numbers))
    # glossing the output again numbers on from there
    again = ElanDocument.read(tmp_path / name)
    fill_document(again, _Glosser(), overwrite_guesses=True)
    again.write(tmp_path / "again.eaf")
    assert int(_last_id(_tree(tmp_path / "again.eaf"))) >= max(numbers)


def test_a_file_without_the_id_property_gets_it(tmp_path):
    text = (FILES / "aingae-kuke-chiste.eaf").read_text(encoding="utf-8")
    text = text.replace('        <PROPERTY NAME="lastUsedAnnotationId">0</PROPERTY>\n', "")
    (tmp_path / "in.eaf").write_text(text, encoding="utf-8")
    document = ElanDocument.read(tmp_path / "in.eaf")
    fill_document(document, _Glosser())
    document.write(tmp_path / "out.eaf")
    assert _last_id(_tree(tmp_path / "out.eaf")) == "2"


def test_a_layout_that_cannot_be_told_names_the_tiers_and_the_option(tmp_path):
    path = FILES / "undetected" / "izhva-komi-fragment.eaf"
    with pytest.raises(FormatError) as raised:
        read_document(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: several possible layouts found; tiers: ")
    assert "word@JAI-M-1939 (Symbolic_Subdivision, under orth@JAI-M-1939)" in message
    assert "--elan-tiers utterance=TIER,words=TIER" in message
    # what it says to pass is what reads it
    options = layout_options("elan", elan_tiers="utterance=orth@JAI-M-1939,words=word@JAI-M-1939,"
                                                "glosses=note(word)@JAI-M-1939")
    document = read_document(path, **options)
    assert len(document.sentences) == 3 and document.records()[0].transcription.startswith("Значит , турун")


def test_without_elan_tiers_the_layout_is_detected():
    assert layout_options("elan") == {}
    assert layout_options("elan", elan_tiers="glosses=G")["tiers"] == ElanTiers(glosses="G")


def test_several_speakers_are_read_as_their_chains_in_time_order(tmp_path):
    """Two speakers of ELAN's Toolbox import (tiers suffixed @A, @B): both chains read, sentences by time."""
    text = (FILES / "kabyle-toolbox-import.eaf").read_text(encoding="utf-8")
    tiers = text[text.index("    <TIER "):text.rindex("</TIER>") + len("</TIER>\n")]
    second = tiers.replace("@SP", "@B").replace('ANNOTATION_ID="a', 'ANNOTATION_ID="b').replace(
        'ANNOTATION_REF="a', 'ANNOTATION_REF="b').replace('PREVIOUS_ANNOTATION="a', 'PREVIOUS_ANNOTATION="b')
    (tmp_path / "two.eaf").write_text(text.replace(tiers, tiers + second), encoding="utf-8")
    document = ElanDocument.read(tmp_path / "two.eaf")
    assert layout_of(document).count("utterance=") == 2
    ids = [s.id for s in document.sentences]
    assert len(ids) == 16 and ids[:2] in (["a1018", "b1018"], ["b1018", "a1018"])
    fill_document(document, _Glosser())
    document.write(tmp_path / "out.eaf")
    assert len(ElanDocument.read(tmp_path / "out.eaf").sentences) == 16


def test_an_unchanged_copy_is_written_even_from_a_read_only_source(tmp_path):
    source = tmp_path / "ro.eaf"
    shutil.copy(FILES / "evenki-poligus.eaf", source)
    source.chmod(0o444)
    write_document(read_document(source), tmp_path / "copy.eaf")
    assert (tmp_path / "copy.eaf").read_bytes() == source.read_bytes()


def test_a_gloss_added_on_a_time_aligned_tier_takes_its_words_time_slots(tmp_path):
    """No time slot is ever added to a file: a new annotation on a
    Time_Subdivision gloss tier spans its word's own slots, as ELAN's first
    subdivision does."""
    text = (FILES / "desano-anta-esquilo.eaf").read_text(encoding="utf-8")
    block = ('        <ANNOTATION>\n            <ALIGNABLE_ANNOTATION ANNOTATION_ID="a135" TIME_SLOT_REF1="ts1" '
             'TIME_SLOT_REF2="ts2">\n                <ANNOTATION_VALUE></ANNOTATION_VALUE>\n'
             '            </ALIGNABLE_ANNOTATION>\n        </ANNOTATION>\n')
    assert block in text
    (tmp_path / "in.eaf").write_text(text.replace(block, ""), encoding="utf-8")
    document = ElanDocument.read(tmp_path / "in.eaf")
    assert document.sentences[0].words[0].slots[0].gloss == ""
    fill_document(document, _Glosser())
    document.write(tmp_path / "out.eaf")
    root, before = _tree(tmp_path / "out.eaf"), _tree(tmp_path / "in.eaf")
    assert [s.get("TIME_SLOT_ID") for s in root.iter("TIME_SLOT")] == [s.get("TIME_SLOT_ID") for s in before.iter(
        "TIME_SLOT")]
    on_first_word = root.xpath('//TIER[@TIER_ID="Morf Glossa"]//ALIGNABLE_ANNOTATION[@TIME_SLOT_REF1="ts1"]')
    assert [(a.get("TIME_SLOT_REF2"), a.findtext("ANNOTATION_VALUE")) for a in on_first_word] == [("ts2", "Gmeu")]
    assert ElanDocument.read(tmp_path / "out.eaf").sentences[0].words[0].slots[0].gloss == "Gmeu"
