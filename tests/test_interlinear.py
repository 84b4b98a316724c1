"""FLEx, Toolbox, ELAN and CLDF: exact round trips, filling only empty glosses,
and never altering a human-approved analysis."""

import copy
import json

import pytest
from lxml import etree

from autogloss.formats import read_document, read_records, write_document, write_records
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.glossing import fill_document
from autogloss.interlinear import GlossState, ProtectedGlossError
from autogloss.interlinear.cldf import GUESS_COLUMN, CldfDocument
from autogloss.interlinear.elan import ElanDocument, ElanTiers
from autogloss.interlinear.flextext import FlexTextDocument
from autogloss.interlinear.toolbox import ToolboxDocument, ToolboxMarkers
from autogloss.errors import FormatError
from autogloss.models import MajorityGlosser
from autogloss.records import UNKNOWN_GLOSS

from conftest import TRAIN, cli
from interlinear_fixtures import ELAN, FLEXTEXT, TOOLBOX


@pytest.fixture
def glosser(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(TRAIN, encoding="utf-8")
    return MajorityGlosser.train(read_sigmorphon(path))


def _states(document):
    return [[(slot.gloss, slot.state.value) for _, _, slot in sentence.slots()] for sentence in document.sentences]


def _tree(path):
    """An XML file as canonical bytes, whitespace between elements ignored."""
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.parse(str(path), parser), method="c14n")


# -- FLEx ------------------------------------------------------------------------
@pytest.fixture
def flextext(tmp_path):
    path = tmp_path / "sea.flextext"
    path.write_text(FLEXTEXT, encoding="utf-8")
    return path


@pytest.mark.parametrize("document_class, text, suffix",
                         [(FlexTextDocument, FLEXTEXT, ".flextext"), (ToolboxDocument, TOOLBOX, ".sfm")])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_text_formats_round_trip_byte_exact(document_class, text, suffix, newline, tmp_path):
    original = tmp_path / f"original{suffix}"
    original.write_bytes(text.replace("\n", newline).encode("utf-8"))
    document_class.read(original).write(tmp_path / f"again{suffix}")
    assert (tmp_path / f"again{suffix}").read_bytes() == original.read_bytes()


def test_flextext_reads_sentences_states_and_leipzig_glosses(flextext):
    document = FlexTextDocument.read(flextext)
    first, second, third = document.records()
    assert first.transcription == "Ixiw raład boqno" and first.segmentation == "ixiw raład b-oq-n"
    # "open sea" is one gloss of one morpheme: period-joined (Leipzig rule 4); empty ones show as ?
    assert first.glosses == "? open.sea OLD-?-PST" and first.translation == "A big sea formed."
    assert second.glosses == "? ocean III-?-PST.UNW" and third.segmentation is None
    assert _states(document)[0] == [("", "empty"), ("open.sea", "human"), ("OLD", "guess"), ("", "empty"),
                                    ("PST", "human")]
    # the empty stem of an analysis approved as a whole is locked
    locked = [slot.locked for _, _, slot in document.sentences[1].slots()]
    assert locked == [False, False, False, True, False]


def test_flextext_glossing_fills_only_empty_glosses_and_marks_them(flextext, glosser, tmp_path):
    document = FlexTextDocument.read(flextext)
    summary = fill_document(document, glosser)
    assert (summary.filled, summary.kept_human, summary.kept_guesses, summary.skipped) == (5, 6, 1, 0)
    document.write(tmp_path / "out.flextext")
    out = FlexTextDocument.read(tmp_path / "out.flextext")
    assert [r.glosses for r in out.records()] == ["big open.sea OLD-become-PST", "story ocean III-?-PST.UNW",
                                                 "big story"]
    added = [item for item in out.tree.iter("item") if item.get("analysisStatus") == "guessByStatisticalAnalysis"]
    assert [item.text for item in added] == ["big", "OLD", "become", "story", "big", "story"]
    # Take the five new gloss items out again: what is left is the input, untouched.
    tree = out.tree
    for item in added:
        if item.text != "OLD":
            item.getparent().remove(item)
    stripped = tmp_path / "stripped.flextext"
    stripped.write_bytes(etree.tostring(tree))
    assert _tree(stripped) == _tree(flextext)


def test_flextext_never_alters_human_approved_analyses(flextext, glosser, tmp_path):
    before = FlexTextDocument.read(flextext)
    human = {element.get("guid"): etree.tostring(element) for element in before.tree.iter("morph", "word")
             if any(slot.handle is element and (slot.state is GlossState.HUMAN or slot.locked)
                    for sentence in before.sentences for _, _, slot in sentence.slots())}
    approved = [m.getparent().get("guid") for m in before.tree.iter("morphemes")
                if m.get("analysisStatus") == "humanApproved"]
    assert len(human) == 6 and len(approved) == 2
    document = FlexTextDocument.read(flextext)
    fill_document(document, glosser, overwrite_guesses=True)
    after = {element.get("guid"): element for element in document.tree.iter("morph", "word")}
    for guid, xml in human.items():
        assert etree.tostring(after[guid]) == xml, guid
    for guid in approved:  # whole approved words, locked empty stem included
        assert etree.tostring(after[guid]) == etree.tostring(
            next(w for w in before.tree.iter("word") if w.get("guid") == guid))
    # the earlier guess was replaced, and is still marked a guess
    assert [r.glosses for r in document.records()][0] == "big open.sea III-become-PST"
    with pytest.raises(ProtectedGlossError):
        document.set_gloss(document.sentences[0], 1, 0, "lake", GlossState.GUESS)


def test_machine_glosses_of_several_words_are_period_joined(flextext):
    document = FlexTextDocument.read(flextext)
    document.set_gloss(document.sentences[0], 2, 1, "come  out", GlossState.GUESS)
    assert document.sentences[0].words[2].slots[1].gloss == "come.out"
    gloss = document.sentences[0].words[2].slots[1].handle.find("item[@type='gls']")
    assert gloss.text == "come.out"


def test_malformed_flextext_names_file_and_line(tmp_path):
    path = tmp_path / "bad.flextext"
    path.write_text("<document>\n<interlinear-text>\n<paragraphs>\n</document>\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"bad.flextext:4: not well-formed XML"):
        FlexTextDocument.read(path)
    path.write_text('<document><interlinear-text><paragraphs><paragraph><phrases><phrase><words>\n'
                    '<word><item type="gls" lang="en">x</item></word></words></phrase></phrases></paragraph>'
                    '</paragraphs></interlinear-text></document>', encoding="utf-8")
    with pytest.raises(FormatError, match=r"bad.flextext:2: <word> without a 'txt'"):
        FlexTextDocument.read(path)


# -- Toolbox ----------------------------------------------------------------------
@pytest.fixture
def toolbox(tmp_path):
    path = tmp_path / "sea.txt"
    path.write_text(TOOLBOX, encoding="utf-8")
    return path


def test_toolbox_recovers_columns_across_wrapped_groups(toolbox):
    document = ToolboxDocument.read(toolbox)
    first, second = document.records()
    assert first.id == "SeaStory.001" and first.segmentation == "ixiw raład b-oq-n"
    assert first.glosses == "? open.sea OLD-?-PST"
    assert first.translation == "A big sea formed behind the sisters."
    assert second.glosses == "story III-?-PST.UNW"  # *** is Toolbox's "not analysed"
    assert _states(document)[0][2] == ("OLD", "guess")


def test_toolbox_glossing_realigns_changed_groups_only(toolbox, glosser, tmp_path):
    document = ToolboxDocument.read(toolbox)
    summary = fill_document(document, glosser)
    assert (summary.filled, summary.kept_human, summary.kept_guesses) == (3, 5, 1)
    document.write(tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == TOOLBOX.replace(
        "\\tx Ixiw raład\n\\mb ixiw raład\n\\ge      open.sea\n\\ps adj  n\n",
        "\\tx Ixiw raład\n\\mb ixiw raład\n\\ge big  open.sea\n\\ag ?\n\\ps adj  n\n").replace(
        "\\mb b-   oq -n\n\\ge OLD-    -PST\n\\ps pfx- v  -sfx\n\\ag ?\n",
        "\\mb b-   oq     -n\n\\ge OLD- become -PST\n\\ps pfx- v      -sfx\n\\ag ?    ?\n").replace(
        "\\tx xabar   bayrno\n\\mb xabar   b-   ayr -n\n\\ge story   III- *** -PST.UNW\n",
        "\\tx xabar bayrno\n\\mb xabar b-   ayr   -n\n\\ge story III- bring -PST.UNW\n\\ag            ?\n")
    again = ToolboxDocument.read(tmp_path / "out.txt")
    assert _states(again)[0] == [("big", "guess"), ("open.sea", "human"), ("OLD", "guess"), ("become", "guess"),
                                 ("PST", "human")]
    # a second run has nothing left to fill and leaves the file as it is
    assert fill_document(again, glosser).filled == 0
    again.write(tmp_path / "out2.txt")
    assert (tmp_path / "out2.txt").read_bytes() == (tmp_path / "out.txt").read_bytes()
    fill_document(again, glosser, overwrite_guesses=True)
    assert again.records()[0].glosses == "big open.sea III-become-PST"


def test_toolbox_markers_are_configurable(tmp_path, glosser):
    path = tmp_path / "custom.sfm"
    path.write_text(TOOLBOX.replace("\\ref ", "\\id2 ").replace("\\ge ", "\\gl ").replace("\\ag ", "\\auto "),
                    encoding="utf-8")
    markers = ToolboxMarkers.parse("ref=id2,ge=gl,guess=auto")
    document = ToolboxDocument.read(path, markers=markers)
    assert document.records()[0].glosses == "? open.sea OLD-?-PST"
    fill_document(document, glosser)
    document.write(tmp_path / "out.sfm")
    # content starts one column after the longest marker of the group
    assert "\\gl   big  open.sea\n\\auto ?\n" in (tmp_path / "out.sfm").read_text(encoding="utf-8")
    with pytest.raises(FormatError, match="not ROLE=MARKER"):
        ToolboxMarkers.parse("nonsense")
    # keys may be role names or default markers, with or without the backslash
    assert ToolboxMarkers.parse("\\tx=t,glosses=g") == ToolboxMarkers(text="t", glosses="g")


def test_elan_tier_spec_is_parsed_and_checked():
    tiers = ElanTiers.parse(" words = W , glosses=G")
    assert (tiers.words, tiers.glosses, tiers.morphs) == ("W", "G", "morphs")
    for bad in ("words", "speaker=A", "words="):
        with pytest.raises(FormatError, match="--elan-tiers.*is not ROLE=TIER; roles: utterance, words"):
            ElanTiers.parse(bad)


def test_malformed_toolbox_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("\\_sh v3.0  400  Text\n\n\\ref 1\n\\tx   ab cd\n\\mb a  b  c\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"bad.txt:5: morpheme 'a' at column 5 starts left of the first word"):
        ToolboxDocument.read(path)
    path.write_text("\\_sh v3.0  400  Text\n\n\\ref 1\n\\mb a\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"bad.txt:4: \\mb line before any \\tx line"):
        ToolboxDocument.read(path)


# -- ELAN -----------------------------------------------------------------------
@pytest.fixture
def eaf(tmp_path):
    path = tmp_path / "sea.eaf"
    path.write_text(ELAN, encoding="utf-8")
    return path


def test_elan_round_trip_gives_the_same_tree(eaf, tmp_path):
    ElanDocument.read(eaf).write(tmp_path / "again.eaf")
    assert _tree(tmp_path / "again.eaf") == _tree(eaf)


def test_elan_glossing_fills_empty_glosses_and_marks_guesses(eaf, glosser, tmp_path):
    document = ElanDocument.read(eaf)
    assert [r.glosses for r in document.records()] == ["? open.sea OLD-?-PST", ""]
    summary = fill_document(document, glosser)
    # sentence 2's words have no morphs and the file no tier for word glosses: they are left alone
    assert (summary.filled, summary.kept_human, summary.kept_guesses) == (2, 4, 1)
    document.write(tmp_path / "out.eaf")
    out = ElanDocument.read(tmp_path / "out.eaf")
    assert [r.glosses for r in out.records()] == ["big open.sea OLD-become-PST", ""]
    assert _states(out)[0] == [("big", "guess"), ("open.sea", "human"), ("OLD", "guess"), ("become", "guess"),
                               ("PST", "human")]
    # the person's gloss annotation is byte-for-byte the same element, attributes included
    original = etree.parse(str(eaf)).find(".//REF_ANNOTATION[@ANNOTATION_ID='a13']")
    written = etree.parse(str(tmp_path / "out.eaf")).find(".//REF_ANNOTATION[@ANNOTATION_ID='a13']")
    assert dict(written.attrib) == dict(original.attrib) and written.findtext("ANNOTATION_VALUE") == "open.sea"
    # ELAN numbers new annotations from lastUsedAnnotationId (the fixture has only an unknown
    # "lastUsedAnnotation" property, kept as it was): it is added, past every id used
    tree = etree.parse(str(tmp_path / "out.eaf"), etree.XMLParser(remove_blank_text=True))
    assert tree.find(".//PROPERTY[@NAME='lastUsedAnnotation']").text == "20"
    last = tree.find(".//PROPERTY[@NAME='lastUsedAnnotationId']")
    ids = [a.get("ANNOTATION_ID") for a in tree.iter("REF_ANNOTATION", "ALIGNABLE_ANNOTATION")]
    assert int(last.text) == max(int(i[1:]) for i in ids) == 21   # the file's ids end at a17
    # Take out the annotations autogloss added (and the id counter): what is left is the input tree.
    original_ids = {a.get("ANNOTATION_ID") for a in etree.parse(str(eaf)).iter("REF_ANNOTATION")}
    added = [a for a in tree.iter("REF_ANNOTATION") if a.get("ANNOTATION_ID") not in original_ids]
    # no morph is added: only glosses on the glosses tier, and their guess marks
    assert [(a.getparent().getparent().get("TIER_ID"), a.findtext("ANNOTATION_VALUE")) for a in added] == [
        ("glosses", "big"), ("glosses", "become")] + [("autogloss-status", "guess")] * 2
    for annotation in added:
        wrapper = annotation.getparent()
        wrapper.getparent().remove(wrapper)
    last.getparent().remove(last)
    assert etree.tostring(tree, method="c14n") == _tree(eaf)
    fill_document(out, glosser, overwrite_guesses=True)
    assert out.records()[0].glosses == "big open.sea III-become-PST"


def test_elan_tier_mapping_is_configurable_and_checked(tmp_path, glosser):
    text = ELAN
    for role, tier in (("utterance", "A_Text"), ("words", "A_Words"), ("morphs", "A_Morph"),
                       ("glosses", "A_Gloss"), ("translation", "A_FT")):
        text = text.replace(f'TIER_ID="{role}"', f'TIER_ID="{tier}"').replace(f'PARENT_REF="{role}"',
                                                                              f'PARENT_REF="{tier}"')
    text = text.replace('PARENT_REF="glosses"', 'PARENT_REF="A_Gloss"')
    path = tmp_path / "speaker.eaf"
    path.write_text(text, encoding="utf-8")
    # the layout is detected from the tiers' types and parents, whatever they are called
    assert [r.glosses for r in ElanDocument.read(path).records()] == ["? open.sea OLD-?-PST", ""]
    with pytest.raises(FormatError, match="no utterance tier 'utterance' .*A_Text"):
        ElanDocument.read(path, tiers=ElanTiers.parse("words=A_Words"))
    tiers = ElanTiers.parse("utterance=A_Text,words=A_Words,morphs=A_Morph,glosses=A_Gloss,translation=A_FT")
    document = ElanDocument.read(path, tiers=tiers)
    assert fill_document(document, glosser).filled == 2
    wrong = ElanTiers.parse("utterance=A_Text,words=A_Morph,morphs=A_Words,glosses=A_Gloss")
    with pytest.raises(FormatError, match="words tier 'A_Morph' should be under 'A_Text'"):
        ElanDocument.read(path, tiers=wrong)


# -- CLDF -----------------------------------------------------------------------
@pytest.fixture
def dataset(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text(TRAIN, encoding="utf-8")
    records = list(read_sigmorphon(train))
    records[0] = records[0].replace(glosses="big ? III-?-PST.UNW")   # two empty morpheme glosses
    records[1] = records[1].replace(glosses="")                      # nothing glossed
    write_records(records, tmp_path / "cldf", "cldf")
    return tmp_path / "cldf"


def test_cldf_dataset_is_valid_and_round_trips(dataset, tmp_path):
    import pycldf

    assert sorted(p.name for p in dataset.iterdir()) == ["Generic-metadata.json", "examples.csv", "languages.csv"]
    assert pycldf.Dataset.from_metadata(dataset / "Generic-metadata.json").validate()
    records = list(read_records(dataset / "Generic-metadata.json"))
    assert [r.glosses for r in records] == ["big ? III-?-PST.UNW", "", "big man III-become-PST.UNW"]
    CldfDocument.read(dataset).write(tmp_path / "again")
    assert (tmp_path / "again" / "examples.csv").read_bytes() == (dataset / "examples.csv").read_bytes()
    assert (json.loads((tmp_path / "again" / "Generic-metadata.json").read_text())
            == json.loads((dataset / "Generic-metadata.json").read_text()))


def test_cldf_glossing_fills_only_empty_glosses(dataset, glosser, tmp_path):
    import pycldf

    document = CldfDocument.read(dataset)
    summary = fill_document(document, glosser)
    assert (summary.filled, summary.kept_human) == (8, 8)
    document.write(tmp_path / "out")
    written = pycldf.Dataset.from_metadata(tmp_path / "out" / "Generic-metadata.json")
    assert written.validate()
    rows = list(written["ExampleTable"])
    assert rows[0]["Gloss"] == ["big", "sea", "III-become-PST.UNW"] and rows[0][GUESS_COLUMN] == ["2.1", "3.2"]
    assert rows[2]["Gloss"] == ["big", "man", "III-become-PST.UNW"] and not rows[2][GUESS_COLUMN]
    again = CldfDocument.read(tmp_path / "out")
    assert _states(again)[0] == [("big", "human"), ("sea", "guess"), ("III", "human"), ("become", "guess"),
                                 ("PST.UNW", "human")]


# -- across formats and the command line ----------------------------------------------------
@pytest.mark.parametrize("target", ["toolbox", "elan", "cldf", "flextext"])
def test_conversion_keeps_glosses_and_their_states(flextext, glosser, tmp_path, target):
    document = FlexTextDocument.read(flextext)
    fill_document(document, glosser)
    path = tmp_path / {"toolbox": "out.sfm", "elan": "out.eaf", "cldf": "out-cldf", "flextext": "new.flextext"}[target]
    write_document(document, path, target) if target != "flextext" else FlexTextDocument.from_sentences(
        document.copy_sentences()).write(path)
    converted = read_document(path, target)
    assert [r.glosses for r in converted.records()] == [r.glosses for r in document.records()]
    assert _states(converted) == _states(document)


def test_gloss_command_on_interlinear_files(flextext, toolbox, eaf, tmp_path):
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    assert cli("train", "--arch", "majority", "--train", tmp_path / "train.txt",
                   "--out", tmp_path / "model").returncode == 0
    done = cli("gloss", "--model", tmp_path / "model", "--input", flextext, "--output", tmp_path / "o.flextext")
    assert done.returncode == 0, done.stderr
    assert "5 morpheme gloss(es) filled, 7 kept (6 human-approved, 1 earlier guesses), 0 skipped" in done.stdout
    done = cli("gloss", "--model", tmp_path / "model", "--input", tmp_path / "o.flextext",
                   "--output", tmp_path / "o2.flextext", "--overwrite-guesses")
    assert "0 morpheme gloss(es) filled" in done.stdout and "6 earlier guesses overwritten" in done.stdout
    done = cli("gloss", "--model", tmp_path / "model", "--input", toolbox, "--output", tmp_path / "o.txt")
    assert done.returncode == 0 and "3 morpheme gloss(es) filled" in done.stdout, done.stderr
    assert ToolboxDocument.read(tmp_path / "o.txt").records()[0].glosses == "big open.sea OLD-become-PST"
    done = cli("gloss", "--model", tmp_path / "model", "--input", eaf, "--output", tmp_path / "o.eaf")
    assert done.returncode == 0 and "2 morpheme gloss(es) filled" in done.stdout, done.stderr
    # another format out, by the extension
    done = cli("gloss", "--model", tmp_path / "model", "--input", eaf, "--output", tmp_path / "o.flextext")
    assert done.returncode == 0, done.stderr
    assert FlexTextDocument.read(tmp_path / "o.flextext").records()[0].glosses == "big open.sea OLD-become-PST"
    bad = tmp_path / "bad.eaf"
    bad.write_text("<ANNOTATION_DOCUMENT>\n<TIER>\n", encoding="utf-8")
    done = cli("gloss", "--model", tmp_path / "model", "--input", bad, "--output", tmp_path / "x.eaf")
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    assert f"{bad}:3: not well-formed XML" in done.stderr and not (tmp_path / "x.eaf").exists()
    done = cli("convert", flextext, tmp_path / "cldf-in", "--to", "cldf")
    assert done.returncode == 0, done.stderr
    done = cli("gloss", "--model", tmp_path / "model", "--input", tmp_path / "cldf-in", "--output",
                   tmp_path / "cldf-out")
    # converted document to document, the earlier guess "OLD" stays a guess (CLDF marks it)
    assert done.returncode == 0, done.stderr
    assert "(cldf): 6 morpheme gloss(es) filled, 6 kept (5 human-approved, 1 earlier guesses)" in done.stdout
    assert (tmp_path / "cldf-out" / "Generic-metadata.json").exists()
    done = cli("convert", flextext, tmp_path / "sea-records.txt")
    assert done.returncode == 0, done.stderr
    # glossed in part, the first sentence is written still to be glossed: the
    # shared-task format has no mark for an empty gloss, a "?" would be a label (issue 14)
    assert [r.glosses for r in read_sigmorphon(tmp_path / "sea-records.txt")][0] == ""


def test_fill_never_writes_protected_slots_even_when_the_model_disagrees(flextext):
    class Contrarian(MajorityGlosser):
        def gloss_with_confidence(self, records):
            from autogloss.records import GlossedRecord
            for record in records:
                words = (record.segmentation or record.transcription).split()
                glosses = " ".join("-".join("NO" for _ in w.replace("=", "-").split("-")) for w in words)
                yield GlossedRecord(record.replace(glosses=glosses), [[1.0] * 3 for _ in words])

    document = FlexTextDocument.read(flextext)
    before = copy.deepcopy(_states(document))
    fill_document(document, Contrarian({}, {}, {}), overwrite_guesses=True)
    for old_sentence, new_sentence in zip(before, _states(document)):
        for (old_gloss, old_state), (new_gloss, _) in zip(old_sentence, new_sentence):
            if old_state == "human":
                assert new_gloss == old_gloss
            else:
                assert new_gloss == "NO" or old_gloss == "" and new_gloss == ""


# -- new documents from records, any script -------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from autogloss.records import IGTRecord  # noqa: E402

# Morphemes and glosses of any script, without whitespace, markup-breaking
# controls, backslashes (Toolbox markers) or Leipzig boundaries.
_piece = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp", "Cf"),
                               blacklist_characters="\\-=?*\ufeff\x85"), min_size=1, max_size=6)


@st.composite
def _records(draw):
    records = []
    for number in range(draw(st.integers(1, 3))):
        shapes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=14))  # morphemes per word
        morphs = [[draw(_piece) for _ in range(n)] for n in shapes]
        glossed = draw(st.booleans())
        glosses = " ".join("-".join(draw(_piece) for _ in word) for word in morphs) if glossed else ""
        records.append(IGTRecord(f"s{number + 1}", " ".join("".join(word) for word in morphs),
                                 glosses=glosses, segmentation=" ".join("-".join(word) for word in morphs),
                                 translation=draw(st.none() | _piece), is_segmented=False))
    return records


@pytest.mark.parametrize("format, name", [("flextext", "a.flextext"), ("toolbox", "a.sfm"), ("elan", "a.eaf"),
                                          ("cldf", "cldf")])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=_records(), width=st.integers(12, 80))
def test_new_documents_read_back_as_the_records_they_were_made_from(tmp_path, format, name, records, width):
    from autogloss.formats import document_class

    options = {"width": width} if format == "toolbox" else {}
    document_class(format).from_records(records, **options).write(tmp_path / name)
    back = read_document(tmp_path / name, format).records()
    # (ELAN keeps a word whose one morph is the word itself as unanalysed: same line either way)
    assert [(r.transcription, r.segmentation or r.transcription, r.glosses, r.translation) for r in back] == [
        (r.transcription, r.segmentation, r.glosses, r.translation) for r in records]


class _EchoGlosser(MajorityGlosser):
    """Glosses every morpheme with a label made from its form (any length, any script)."""

    def __init__(self):
        super().__init__({}, {}, {})

    def gloss_with_confidence(self, records):
        from autogloss.records import GlossedRecord
        from autogloss.records import word_morphemes, words

        for record in records:
            line = words(record.segmentation or record.transcription)
            glosses = " ".join("-".join(f"G{piece}{piece}" for piece in word_morphemes(w)) for w in line)
            yield GlossedRecord(record.replace(glosses=glosses), [[0.5] * len(word_morphemes(w)) for w in line])


@pytest.mark.parametrize("format, name", [("flextext", "a.flextext"), ("toolbox", "a.sfm"), ("elan", "a.eaf"),
                                          ("cldf", "cldf")])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=_records(), width=st.integers(12, 80))
def test_filled_glosses_read_back_as_guesses_and_the_rest_as_before(tmp_path, format, name, records, width):
    from autogloss.formats import document_class

    options = {"width": width} if format == "toolbox" else {}
    document_class(format).from_records(records, **options).write(tmp_path / name)
    document = read_document(tmp_path / name, format)
    before = _states(document)
    fill_document(document, _EchoGlosser())
    document.write(tmp_path / f"filled-{name}")
    after = _states(read_document(tmp_path / f"filled-{name}", format))
    for old_sentence, new_sentence, slots in zip(before, after, document.sentences):
        for (old_gloss, old_state), (new_gloss, new_state), (_, _, slot) in zip(old_sentence, new_sentence,
                                                                              slots.slots()):
            if old_state == "human":
                assert (new_gloss, new_state) == (old_gloss, old_state)
            else:
                form = slot.form.strip("-=")
                if UNKNOWN_GLOSS in f"G{form}{form}":  # a model's unknown marker is never written in
                    assert (new_gloss, new_state) == (old_gloss, old_state)
                else:
                    assert (new_gloss, new_state) == (f"G{form}{form}", "guess")
