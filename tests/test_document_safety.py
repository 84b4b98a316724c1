"""Issue 14: a model learns only glosses a person gave, Toolbox columns are the
columns on screen, a person's ``?`` is a gloss, and odd but valid files
(empty fields, other time slot ids, bad bytes) read or fail with a message."""

import subprocess
import sys
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from autogloss.corrections import CorrectionsLog, training_corrections
from autogloss.errors import FormatError
from autogloss.formats import document_class, read_document, read_training_records, write_document
from autogloss.formats.sigmorphon import format_record, read_sigmorphon
from autogloss.glossing import fill_document
from autogloss.interlinear import GlossSlot, GlossState, Sentence, Word
from autogloss.interlinear.elan import ElanDocument
from autogloss.interlinear.flextext import FlexTextDocument
from autogloss.interlinear.toolbox import ToolboxDocument
from autogloss.models import MajorityGlosser
from autogloss.models import load_model
from autogloss.records import IGTRecord

from conftest import TRAIN, cli
from interlinear_fixtures import ELAN, FLEXTEXT, TOOLBOX

GUESS = "MACHINE.GUESS"   # a label only a machine guess carries


# -- item 5: training only on glosses a person gave ---------------------------------
def _word(form, morphs):
    """A segmented word from ``(morpheme, gloss, state)`` triples."""
    return Word(form, [GlossSlot(m, g, s) for m, g, s in morphs], segmented=True)


H, G, E = GlossState.HUMAN, GlossState.GUESS, GlossState.EMPTY


def _mixed_sentences():
    """Two sentences a person glossed whole, one with a machine guess, one
    with an empty gloss and one not glossed at all."""
    return [
        Sentence("s1", [_word("Ixiw", [("ixiw", "big", H)]), _word("raład", [("raład", "sea", H)]),
                        _word("boqno", [("b-", "III", H), ("oq", "become", H), ("-n", "PST.UNW", H)])],
                 "A big sea formed."),
        Sentence("s2", [_word("Žek’a", [("žek’u", "man", H), ("-a", "ERG", H)]),
                        _word("xabar", [("xabar", "story", H)]),
                        _word("bayrno", [("b-", "III", H), ("ayr", "bring", H), ("-n", "PST.UNW", H)])],
                 "The man brought a story."),
        Sentence("s3", [_word("Ixiw", [("ixiw", "big", H)]), _word("žek’u", [("žek’u", GUESS, G)]),
                        _word("boqno", [("b-", "III", H), ("oq", "become", H), ("-n", "PST.UNW", H)])]),
        Sentence("s4", [_word("xabar", [("xabar", "story", H)]), _word("raład", [("raład", "", E)])]),
        Sentence("s5", [_word("Ixiw", [("ixiw", "", E)]), _word("xabar", [("xabar", "", E)])]),
    ]


MIXED_FILES = {"flextext": "mixed.flextext", "toolbox": "mixed.sfm", "elan": "mixed.eaf", "cldf": "mixed-cldf"}


@pytest.fixture(params=list(MIXED_FILES))
def mixed(request, tmp_path):
    """The mixed sentences written as a file of each format (with its own guess marks)."""
    path = tmp_path / MIXED_FILES[request.param]
    document_class(request.param).from_sentences(_mixed_sentences()).write(path)
    return path


def _labels(model: MajorityGlosser) -> set[str]:
    return {gloss for table in model.tables().values() for gloss, _ in table.values()}


def test_mixed_file_reads_with_the_states_it_was_written_with(mixed):
    states = [{slot.state for _, _, slot in s.slots()} for s in read_document(mixed).sentences]
    assert states == [{H}, {H}, {H, G}, {H, E}, {E}]


def test_training_records_keep_only_sentences_a_person_glossed_whole(mixed):
    selection = read_training_records(mixed)
    assert [r.glosses for r in selection.records] == ["big sea III-become-PST.UNW", "man-ERG story III-bring-PST.UNW"]
    assert (selection.guessed, selection.partial, selection.unglossed) == (1, 1, 1)
    assert str(selection) == ("2 sentence(s) glossed by a person; left out 1 with machine guesses, "
                              "1 with empty glosses, 1 without glosses")
    labels = _labels(MajorityGlosser.train(selection.records))
    assert "?" not in labels and GUESS not in labels and {"big", "III", "ERG"} <= labels


@pytest.mark.parametrize("name, text, left_out", [("sea.flextext", FLEXTEXT, (1, 1, 1)),
                                                   ("sea.sfm", TOOLBOX, (1, 1, 0)), ("sea.eaf", ELAN, (1, 0, 1))])
def test_files_as_their_tools_write_them_give_no_sentence_with_a_guess_or_a_gap(tmp_path, name, text, left_out):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    selection = read_training_records(path)
    # each fixture's first sentence has an earlier guess ("OLD"), the others empty glosses or none
    assert selection.records == [] and (selection.guessed, selection.partial, selection.unglossed) == left_out


def test_train_command_learns_no_guess_and_no_empty_gloss_from_a_flextext(tmp_path):
    path = tmp_path / "mixed.flextext"
    FlexTextDocument.from_sentences(_mixed_sentences()).write(path)
    assert 'analysisStatus="guessByStatisticalAnalysis"' in path.read_text(encoding="utf-8")
    done = cli("train", "--arch", "majority", "--train", path, "--out", tmp_path / "majority")
    assert done.returncode == 0, done.stderr
    assert ("training data: 2 sentence(s) glossed by a person; left out 1 with machine guesses, "
            "1 with empty glosses, 1 without glosses") in done.stderr
    assert "trained on 2 glossed sentences" in done.stdout
    labels = _labels(load_model(tmp_path / "majority"))
    assert "?" not in labels and GUESS not in labels and "story" in labels

    done = cli("train", "--arch", "neural", "--train", path, "--out", tmp_path / "neural", "--epochs", "1",
                   "--hidden", "16", "--batch-size", "2")
    assert done.returncode == 0, done.stderr
    assert "left out 1 with machine guesses, 1 with empty glosses, 1 without glosses" in done.stderr
    neural = load_model(tmp_path / "neural")
    labels = set(neural.vocabs.labels.itos) | _labels(neural.memory)
    assert "?" not in labels and GUESS not in labels and "story" in labels


def test_records_without_gloss_states_are_a_persons_and_keep_their_question_marks(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(TRAIN.replace("big sea", "big ?", 1) + "\n\\t Ixiw.\n\\g\n", encoding="utf-8")
    selection = read_training_records(path)
    # the SIGMORPHON data has "?" as an annotator's label: a shared-task file is not second-guessed
    assert [r.glosses for r in selection.records][0] == "big ? III-become-PST.UNW"
    assert len(selection.records) == 3 and (selection.guessed, selection.partial, selection.unglossed) == (0, 0, 1)


def test_corrections_with_an_empty_gloss_are_not_trained_on(tmp_path):
    flextext = tmp_path / "sea.flextext"
    flextext.write_text(FLEXTEXT, encoding="utf-8")
    document = FlexTextDocument.read(flextext)
    log = CorrectionsLog(tmp_path / "corrections.jsonl")
    # sentence 2 as accepted in the post-editor: "ayr" is empty inside an analysis a person approved whole
    second = document.sentences[1]
    for word_index, slot_index, slot in second.slots():
        if slot.editable:
            document.set_gloss(second, word_index, slot_index, "story", GlossState.HUMAN)
    log.append(second.record(document.language), "sea.flextext")
    log.append(IGTRecord("x", "Ixiw xabar", glosses="big story", segmentation="ixiw xabar"), "pasted")
    selection = training_corrections(log.path)
    assert [r.id for r in selection.records] == ["x"] and selection.partial == 1

    done = cli("train", "--train", _train_file(tmp_path), "--out", tmp_path / "base", "--epochs", "1",
                   "--hidden", "16")
    assert done.returncode == 0, done.stderr
    done = cli("finetune", "--model", tmp_path / "base", "--from-corrections", log.path,
                   "--out", tmp_path / "tuned", "--epochs", "1")
    assert done.returncode == 0, done.stderr
    assert f"1 corrected sentences from {log.path} (left out 1 with empty glosses)" in done.stderr
    tuned = load_model(tmp_path / "tuned")
    assert "?" not in set(tuned.vocabs.labels.itos) | _labels(tuned.memory)


def test_convert_to_the_shared_task_format_writes_no_question_mark_for_an_empty_gloss(tmp_path):
    path = tmp_path / "mixed.flextext"
    FlexTextDocument.from_sentences(_mixed_sentences()).write(path)
    done = cli("convert", path, tmp_path / "mixed.txt")
    assert done.returncode == 0, done.stderr
    written = list(read_sigmorphon(tmp_path / "mixed.txt"))
    # one record per sentence still (files stay parallel); glossed in part means still to be glossed
    assert [r.glosses for r in written] == ["big sea III-become-PST.UNW", "man-ERG story III-bring-PST.UNW",
                                            f"big {GUESS} III-become-PST.UNW", "", ""]
    assert "?" not in (tmp_path / "mixed.txt").read_text(encoding="utf-8")
    # the document's own record view still shows where the gap is
    assert read_document(path).records()[3].glosses == "story ?"
    # a "?" that is a record's own label (the SIGMORPHON data has some) is written as it is
    assert format_record(IGTRecord("r", "Ixiw raład", glosses="big ?")).splitlines()[1] == "\\g big ?"


def test_gloss_to_the_shared_task_format_leaves_a_sentence_the_model_could_not_finish_unglossed(tmp_path):
    path = tmp_path / "mixed.flextext"
    FlexTextDocument.from_sentences(_mixed_sentences()[3:]).write(path)
    document = read_document(path)
    fill_document(document, MajorityGlosser({}, {}, {}))   # knows nothing: every gap stays
    write_document(document, tmp_path / "out.txt", "sigmorphon")
    assert [r.glosses for r in read_sigmorphon(tmp_path / "out.txt")] == ["", ""]


# -- item 6: Toolbox columns are display columns -------------------------------------------
def _columns(text: str) -> int:
    """Columns on screen, counted independently of the code under test."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def _token_columns(line: str) -> list[tuple[int, str]]:
    found, column, previous = [], 0, " "
    for character in line.rstrip("\n"):
        if character != " " and previous == " ":
            found.append([column, character])
        elif character != " ":
            found[-1][1] += character
        column += _columns(character)
        previous = character
    return [tuple(token) for token in found[1:]]   # without the marker


GITKSAN = "g\u0332a\u0301x\u0332"   # g̲áx̲: six code points, three columns
HEADER = "\\_sh v3.0  400  Text\n\n"


def test_toolbox_reads_columns_as_shown_with_combining_marks_and_wide_characters(tmp_path):
    path = tmp_path / "aligned.sfm"
    path.write_text(HEADER
                    + f"\\ref 1\n\\tx {GITKSAN}{GITKSAN} hon\n\\mb {GITKSAN}{GITKSAN} hon\n\\ge crow   fish\n\n"
                    + "\\ref 2\n\\tx 中文中文 a b\n\\mb 中文中文 a b\n\\ge China    A B\n\n", encoding="utf-8")
    for line in path.read_text(encoding="utf-8").splitlines():   # the file is aligned on screen
        if line.startswith("\\ge"):
            assert [c for c, _ in _token_columns(line)] == [c for c, _ in _token_columns(previous)]
        previous = line
    assert [r.glosses for r in ToolboxDocument.read(path).records()] == ["crow fish", "China A B"]


def test_toolbox_glossing_writes_lines_aligned_on_screen(tmp_path):
    path = tmp_path / "git.sfm"
    untouched = f"\\ref 2\n\\tx {GITKSAN}\n\\mb {GITKSAN}\n\\ge  crow\n\n"
    group = [f"\\tx {GITKSAN}t   中文 hon", f"\\mb {GITKSAN} -t 中文 hon", "\\ge             fish"]
    assert [[c for c, _ in _token_columns(line)] for line in group] == [[4, 11, 16], [4, 8, 11, 16], [16]]
    path.write_text(HEADER + "\\ref 1\n" + "\n".join(group) + "\n\n" + untouched, encoding="utf-8")
    train = [IGTRecord("t", f"{GITKSAN}t 中文", glosses="raven-PL China", segmentation=f"{GITKSAN}-t 中文")]
    document = ToolboxDocument.read(path)
    assert document.records()[0].glosses == "? ? fish"
    summary = fill_document(document, MajorityGlosser.train(train))
    assert summary.filled == 3
    document.write(tmp_path / "out.sfm")
    text = (tmp_path / "out.sfm").read_text(encoding="utf-8")
    assert text.endswith(untouched)   # a group without new glosses stays byte for byte
    lines = {line.split()[0]: line for line in text.split("\\ref 1\n")[1].split("\n\n")[0].splitlines()}
    morphemes = [column for column, _ in _token_columns(lines["\\mb"])]
    assert [column for column, _ in _token_columns(lines["\\ge"])] == morphemes
    assert [column for column, _ in _token_columns(lines["\\ag"])] == morphemes[:3]
    assert _token_columns(lines["\\tx"])[1:] == [(morphemes[2], "中文"), (morphemes[3], "hon")]
    again = ToolboxDocument.read(tmp_path / "out.sfm")
    assert again.records()[0].glosses == "raven-PL China fish"
    assert [s.state for _, _, s in again.sentences[0].slots()] == [GlossState.GUESS] * 3 + [GlossState.HUMAN]


# -- item 7: a person's "?" in Toolbox is a gloss ---------------------------------------------
def test_a_question_mark_a_person_typed_in_toolbox_is_kept(tmp_path):
    path = tmp_path / "q.sfm"
    path.write_text(HEADER + "\\ref 1\n\\tx boqno         raład\n\\mb b-   oq  -n   raład\n"
                    "\\ge ***  ?   -PST ?\n\n", encoding="utf-8")
    document = ToolboxDocument.read(path)
    slots = [slot for _, _, slot in document.sentences[0].slots()]
    assert [(s.gloss, s.state) for s in slots] == [("", E), ("?", H), ("PST", H), ("?", H)]
    glosser = MajorityGlosser.train([IGTRecord("t", "boqno", glosses="III-become-PST", segmentation="b-oq-n")])
    summary = fill_document(document, glosser)
    assert (summary.filled, summary.kept_human) == (1, 3)
    document.write(tmp_path / "out.sfm")
    again = ToolboxDocument.read(tmp_path / "out.sfm")
    assert again.records()[0].glosses == "III-?-PST ?"
    # only a "?" on the guess line marks a guess: the ones typed on the gloss line stay a person's
    assert [slot.state for _, _, slot in again.sentences[0].slots()] == [G, H, H, H]


# -- item 10: empty fields, other time slot ids, bad bytes --------------------------------------
def test_toolbox_empty_fields_read(tmp_path):
    path = tmp_path / "empty.sfm"
    path.write_text(HEADER + "\\ref 1\n\\tx Ixiw raład\n\\mb\n\\ge\n\\ft\n\n\\ref 2\n\\tx xabar\n\\ft \n\\nt\n\n"
                    "\\ref 3\n\\tx\n\\mb\n\\ge\n\\ft\n\n", encoding="utf-8")
    document = ToolboxDocument.read(path)
    # record 3 is not transcribed yet: nothing to gloss, and it is written back as it was
    assert [(r.transcription, r.translation, r.glosses) for r in document.records()] == [
        ("Ixiw raład", None, ""), ("xabar", None, "")]
    assert not any(word.segmented for s in document.sentences for word in s.words)   # an empty \mb: no analysis
    document.write(tmp_path / "same.sfm")
    assert (tmp_path / "same.sfm").read_bytes() == path.read_bytes()
    glosser = MajorityGlosser.train([IGTRecord("t", "Ixiw raład", glosses="big sea")])
    fill_document(document, glosser)
    document.write(tmp_path / "out.sfm")
    text = (tmp_path / "out.sfm").read_text(encoding="utf-8")
    # the empty morpheme line stays empty: autogloss adds no analysis
    assert "\\tx Ixiw raład\n\\mb\n\\ge big  sea\n\\ag ?    ?\n\\ft\n" in text
    assert text.endswith("\\ref 3\n\\tx\n\\mb\n\\ge\n\\ft\n\n")
    path.write_text(HEADER + "\\ref 1\n\\tx\n\\ge big\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"empty.sfm:5: \\ge line under an empty \\tx line"):
        ToolboxDocument.read(path)


def _elan_with_slot_ids(ids: list[str]) -> str:
    text = ELAN
    for number in range(1, 5):
        text = text.replace(f'"ts{number}"', f'"@{number}"')
    for number, new in enumerate(ids, start=1):
        text = text.replace(f'"@{number}"', f'"{new}"')
    return text


@pytest.mark.parametrize("ids", [["t1", "t2", "t3", "t4"], ["slot_a", "slot_b", "slot_c", "slot_d"],
                                 ["ts4", "end", "ts1", "ts2"]])
def test_elan_time_slot_ids_of_any_form_survive_glossing(tmp_path, ids):
    path = tmp_path / "slots.eaf"
    path.write_text(_elan_with_slot_ids(ids), encoding="utf-8")
    done = cli("train", "--arch", "majority", "--train", _train_file(tmp_path), "--out", tmp_path / "model")
    assert done.returncode == 0, done.stderr
    done = cli("gloss", "--model", tmp_path / "model", "--input", path, "--output", tmp_path / "out.eaf")
    assert done.returncode == 0, done.stderr
    tree = etree.parse(str(tmp_path / "out.eaf"))
    assert [slot.get("TIME_SLOT_ID") for slot in tree.iter("TIME_SLOT")] == ids
    assert [(a.get("TIME_SLOT_REF1"), a.get("TIME_SLOT_REF2")) for a in tree.iter("ALIGNABLE_ANNOTATION")] == [
        (ids[0], ids[1]), (ids[2], ids[3])]
    annotation_ids = [a.get("ANNOTATION_ID") for a in tree.iter("ALIGNABLE_ANNOTATION", "REF_ANNOTATION")]
    assert len(annotation_ids) == len(set(annotation_ids)) > 17
    again = ElanDocument.read(tmp_path / "out.eaf")
    assert again.records()[0].glosses == "big open.sea OLD-become-PST"
    assert [s.id for s in again.sentences] == ["a1", "a2"]   # still in time order


def _train_file(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(TRAIN, encoding="utf-8")
    return path


@pytest.mark.parametrize("name, text, line", [("bad.flextext", FLEXTEXT, 25), ("bad.eaf", ELAN, 16)])
def test_bytes_invalid_in_the_encoding_name_file_and_line(tmp_path, name, text, line):
    lines = text.encode("utf-8").split(b"\n")
    lines[line - 1] = lines[line - 1].replace(b"</", b"\xff\xfe</", 1)
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(FormatError) as raised:
        read_document(path)
    assert (raised.value.path, raised.value.line) == (str(path), line)
    assert "Invalid bytes in character encoding" in raised.value.message
    done = cli("convert", path, tmp_path / "out.txt")
    assert done.returncode == 1 and f"{path}:{line}: not well-formed XML" in done.stderr
    assert "Traceback" not in done.stderr


_cluster = st.sampled_from(["a", "q", "中", "文", "ｶ", GITKSAN[:2], "e\u0301", "x\u0332\u0301"])
_piece = st.lists(_cluster, min_size=1, max_size=4).map("".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.lists(st.tuples(_piece, _piece), min_size=1, max_size=3), min_size=1, max_size=8),
       width=st.integers(12, 60))
def test_new_toolbox_files_are_aligned_on_screen_in_any_script(tmp_path, words, width):
    segmentation = " ".join("-".join(form for form, _ in word) for word in words)
    glosses = " ".join("-".join(gloss for _, gloss in word) for word in words)
    record = IGTRecord("s1", segmentation.replace("-", ""), glosses=glosses, segmentation=segmentation)
    path = tmp_path / "new.sfm"
    ToolboxDocument.from_records([record], width=width).write(path)
    groups = path.read_text(encoding="utf-8").split("\\ref s1\n")[1].split("\\tx")[1:]
    for group in groups:
        lines = {line.split()[0]: line for line in ("\\tx" + group).strip().splitlines()}
        morphemes = [column for column, _ in _token_columns(lines["\\mb"])]
        assert [column for column, _ in _token_columns(lines["\\ge"])] == morphemes
        assert {column for column, _ in _token_columns(lines["\\tx"])} <= set(morphemes)
    assert ToolboxDocument.read(path).records()[0].glosses == glosses


def test_a_sentence_glossed_in_part_keeps_its_gap_in_json_lines_and_is_not_trained_on(tmp_path):
    path = tmp_path / "mixed.flextext"
    FlexTextDocument.from_sentences(_mixed_sentences()).write(path)
    done = cli("convert", path, tmp_path / "mixed.jsonl")
    assert done.returncode == 0, done.stderr
    back = read_training_records(tmp_path / "mixed.jsonl")
    # JSON lines holds no gloss states: the guess of s3 reads as a gloss, but the
    # gap of s4 is marked as a gap, and s5 has no glosses at all
    assert [r.transcription for r in back.records] == ["Ixiw raład boqno", "Žek’a xabar bayrno", "Ixiw žek’u boqno"]
    assert back.partial == 1 and back.unglossed == 1
    done = cli("convert", tmp_path / "mixed.jsonl", tmp_path / "again.jsonl")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "again.jsonl").read_text(encoding="utf-8") == (tmp_path / "mixed.jsonl").read_text(encoding="utf-8")


def test_a_guess_item_inside_a_human_approved_flex_analysis_is_locked_with_it(tmp_path):
    # FLEx may keep an item's old guess status inside an analysis a person approved
    # afterwards: the approval covers the whole analysis (issue 15, item 1)
    text = FLEXTEXT.replace('<item type="gls" lang="en">open sea</item>',
                            '<item type="gls" lang="en" analysisStatus="guessByStatisticalAnalysis">open sea</item>')
    assert text != FLEXTEXT
    path = tmp_path / "approved.flextext"
    path.write_text(text, encoding="utf-8")
    document = read_document(path)
    slot = next(slot for sentence in document.sentences for _, _, slot in sentence.slots() if slot.form == "raład")
    assert slot.state is GlossState.GUESS and slot.locked and not slot.editable
    glosser = MajorityGlosser({"raład": ("SEA.GUESS", 1.0)}, {"raład": ("SEA.GUESS", 1.0)}, {})
    summary = fill_document(document, glosser, overwrite_guesses=True)
    document.write(tmp_path / "out.flextext")
    assert "open sea" in (tmp_path / "out.flextext").read_text(encoding="utf-8")
    assert "SEA.GUESS" not in (tmp_path / "out.flextext").read_text(encoding="utf-8")
    assert summary.overwritten == 0


def test_a_document_on_standard_input_is_not_trained_on_as_if_every_gloss_were_a_persons(tmp_path):
    path = tmp_path / "mixed.flextext"
    FlexTextDocument.from_sentences(_mixed_sentences()).write(path)
    with open(path, "rb") as stdin:
        done = subprocess.run([sys.executable, "-m", "autogloss", "train", "--arch", "majority", "--train", "-",
                               "--format", "flextext", "--out", tmp_path / "model"],
                              stdin=stdin, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "standard input: give the flextext file by its path" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "model").exists()
