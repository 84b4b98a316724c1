"""Cutting plain words into morphemes from glosses alone, and where a predicted cut is written.

Plain training text (the shared task's track 1) has glosses but no ``\\m``
line; the models still cut each plain word into one morpheme per gloss
label. The cut is learnt from how each label is spelt across the training
words (:class:`autogloss.models.segmentation.Segmenter`), and it is a guess:
it is written only where the format marks it as predicted (JSON lines), or
when asked (``--write-segmentation``).
"""

import json
import random

import pytest
import torch

from autogloss.formats import read_records, write_records
from autogloss.formats.sigmorphon import read_sigmorphon
from autogloss.glossing import gloss_file, gloss_text
from autogloss.interlinear.flextext import FlexTextDocument
from autogloss.models import MajorityGlosser
from autogloss.models.neural import TrainingSettings, train_glosser
from autogloss.models.segmentation import Segmenter
from autogloss.records import GlossedRecord, IGTRecord

from test_neural import TINY

# A tiny agglutinating language: stems of different lengths, suffixes of different lengths.
STEMS = {"dog": "kal", "house": "miru", "tree": "tobe", "river": "senala", "stone": "pa"}
SUFFIXES = {"PL": "ta", "LOC": "nor", "ERG": "i"}
ENDINGS = [(), ("PL",), ("LOC",), ("ERG",), ("PL", "LOC"), ("PL", "ERG")]


def word(stem: str, endings: tuple[str, ...]) -> tuple[str, str, str]:
    """(plain word, gold segmentation, gloss) of a stem gloss with suffix labels."""
    pieces = [STEMS[stem], *(SUFFIXES[label] for label in endings)]
    return "".join(pieces), "-".join(pieces), "-".join([stem, *endings])


def sentences(count: int, seed: int = 0) -> list[IGTRecord]:
    """Plain glossed sentences of three words, as track 1 training data is: no segmentation line."""
    chosen = random.Random(seed)
    made = []
    for index in range(count):
        triples = [word(chosen.choice(sorted(STEMS)), chosen.choice(ENDINGS)) for _ in range(3)]
        made.append(IGTRecord(str(index), " ".join(w for w, _, _ in triples),
                              glosses=" ".join(g for _, _, g in triples), translation="some words"))
    return made


@pytest.fixture(scope="module")
def training() -> list[IGTRecord]:
    return sentences(60)


# -- the segmenter ---------------------------------------------------------------
def test_boundaries_are_induced_from_glosses_alone(training):
    segmenter = Segmenter.train(training)
    for stem in STEMS:
        for endings in ENDINGS:
            plain, gold, gloss = word(stem, endings)
            assert segmenter.segment(plain, gloss) == gold


def test_an_unseen_stem_takes_what_the_known_suffixes_leave(training):
    segmenter = Segmenter.train(training)
    assert segmenter.segment("wuroktatanor", "bird-PL-LOC") == "wurokta-ta-nor"
    assert segmenter.segment("Tobetai", "tree-PL-ERG") == "Tobe-ta-i"  # case kept as written


def test_edge_punctuation_written_hyphens_and_clitic_markers(training):
    segmenter = Segmenter.train(training)
    assert segmenter.segment("«mirutanor»,", "house-PL-LOC") == "«miru-ta-nor»,"
    assert segmenter.segment("miru-tanor", "house-PL-LOC") == "miru-ta-nor"  # the written hyphen is a boundary
    assert segmenter.segment("kaltanor", "dog-PL=LOC") == "kal-ta=nor"      # the gloss's own markers
    assert segmenter.segment("k", "dog-PL") == "k"
    assert segmenter.segment("kalta", "dog") == "kalta"


def test_a_segmenter_that_learnt_nothing_does_not_cut():
    assert Segmenter().segment("kalta", "dog-PL") == "kalta"
    assert not Segmenter.train([IGTRecord("1", "kalta")]).learnt  # nothing glossed: nothing learnt


def test_given_segmentations_are_counted_as_they_are():
    records = [IGTRecord("1", "kalta", glosses="dog-PL", segmentation="ka-lta")]
    segmenter = Segmenter.train(records)
    assert segmenter.segment("kalta", "dog-PL") == "ka-lta"


def test_the_spellings_survive_saving(training):
    segmenter = Segmenter.train(training)
    again = Segmenter.from_json(json.loads(json.dumps(segmenter.to_json())))
    assert again.segment("tobetanor", "tree-PL-LOC") == "tobe-ta-nor"


def test_the_majority_baseline_cuts_plain_words_it_glosses(training, tmp_path):
    model = MajorityGlosser.train(training)
    plain, gold, gloss = word("river", ("PL", "ERG"))
    [glossed] = model.gloss([IGTRecord("x", f"{plain} {word('stone', ())[0]}")])
    assert glossed.glosses.split()[0] == gloss
    assert glossed.segmentation.split()[0] == gold and glossed.segmentation_predicted
    model.save_pretrained(tmp_path / "majority")
    [again] = MajorityGlosser.from_pretrained(tmp_path / "majority").gloss([IGTRecord("x", plain)])
    assert again.segmentation == gold


def test_the_neural_glosser_cuts_plain_words_where_the_labels_are_spelt(training, tmp_path):
    # Before: cut where the decoder's attention looked, which a small network places badly.
    torch.manual_seed(0)
    glosser = train_glosser(training, [], tmp_path / "model", TrainingSettings(epochs=2, batch_size=8),
                            network_options=TINY)
    inputs = [IGTRecord(str(index), " ".join(word(stem, endings)[0] for endings in ENDINGS))
              for index, stem in enumerate(STEMS)]
    for record, glossed in zip(inputs, glosser.gloss(inputs)):
        assert glossed.segmentation_predicted
        for plain, cut, gloss in zip(record.transcription_words, glossed.segmentation.split(), glossed.gloss_words):
            if gloss == glosser.memory.lookup("words", plain)[0]:  # (what a 2-epoch network glosses may be wrong)
                assert cut == word(*_analysis(gloss))[1]


def _analysis(gloss: str) -> tuple[str, tuple[str, ...]]:
    stem, *endings = gloss.split("-")
    return stem, tuple(endings)


# -- where a predicted segmentation is written ----------------------------------------
@pytest.fixture
def plain_file(tmp_path, training):
    model = MajorityGlosser.train(training)
    path = tmp_path / "plain.txt"
    path.write_text("\\t kaltanor mirui\n\\g\n\\l dogs in houses\n\n", encoding="utf-8")
    return path, model


def test_shared_task_output_has_no_predicted_m_line_unless_asked(plain_file, tmp_path):
    path, model = plain_file
    gloss_file(path, tmp_path / "out.txt", model)
    text = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert "\\g dog-PL-LOC house-ERG" in text and "\\m" not in text
    gloss_file(path, tmp_path / "asked.txt", model, write_segmentation=True)
    [record] = read_sigmorphon(tmp_path / "asked.txt")
    assert record.segmentation == "kal-ta-nor miru-i"


def test_a_given_m_line_is_kept_as_it_was(tmp_path, training):
    path = tmp_path / "segmented.txt"
    path.write_text("\\t kaltanor\n\\m ka-lta-nor\n\\g\n\n", encoding="utf-8")
    gloss_file(path, tmp_path / "out.txt", MajorityGlosser.train(training))
    [record] = read_sigmorphon(tmp_path / "out.txt")
    assert record.segmentation == "ka-lta-nor"


def test_json_lines_marks_a_predicted_segmentation_and_reads_it_back_as_one(plain_file, tmp_path):
    path, model = plain_file
    gloss_file(path, tmp_path / "out.jsonl", model)
    data = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert data["segmentation"] == "kal-ta-nor miru-i" and data["segmentation_predicted"] is True
    [record] = read_records(tmp_path / "out.jsonl")
    assert record.segmentation_predicted and record.segmented_form is None  # a guess: no morpheme line to train on
    write_records([record], tmp_path / "again.txt")
    assert "\\m" not in (tmp_path / "again.txt").read_text(encoding="utf-8")


def test_a_document_that_adopts_the_cut_says_it_is_predicted(training, tmp_path):
    document, _ = gloss_text("kaltanor mirui", MajorityGlosser.train(training))
    [word_1, word_2] = document.sentences[0].words
    assert [slot.form for slot in word_1.slots] == ["kal", "-ta", "-nor"] and word_1.segmentation_predicted
    [record] = document.records()
    assert record.segmentation == "kal-ta-nor miru-i" and record.segmentation_predicted
    write_records(document.records(), tmp_path / "pasted.txt", "sigmorphon")
    assert "\\m" not in (tmp_path / "pasted.txt").read_text(encoding="utf-8")


def test_flex_gets_no_morpheme_breakdown_from_a_predicted_cut(tmp_path):
    predicted = IGTRecord("s1", "kaltanor", glosses="dog-PL-LOC", segmentation="kal-ta-nor",
                          segmentation_predicted=True)
    write_records([GlossedRecord(predicted, [[0.9, 0.9, 0.9]])], tmp_path / "out.flextext", "flextext")
    [sentence] = FlexTextDocument.read(tmp_path / "out.flextext").sentences
    assert not sentence.segmented


def test_a_long_sentence_glossed_in_windows_keeps_the_mark(training):
    from autogloss.models.base import WINDOW_WORDS

    long = IGTRecord("long", " ".join(["kaltanor"] * (WINDOW_WORDS + 5)))
    [glossed] = MajorityGlosser.train(training).gloss([long])
    assert glossed.segmentation_predicted and glossed.segmentation.split()[-1] == "kal-ta-nor"
