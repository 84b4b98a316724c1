"""Translation lexicon induction: unseen stems glossed from translation words that recur with them."""

import json

import pytest
import torch

from autogloss.models import load_model
from autogloss.records import GlossedRecord
from autogloss.models.lexicon import (LexiconSettings, fill_unseen_stems, induce_lexicon, metalanguage_code,
                                      translation_lemmas)
from autogloss.models.neural import NeuralGlosser, TrainingSettings, train_glosser
from autogloss.records import IGTRecord

from conftest import TRAIN, cli
from test_neural import TINY, records

# "bisde'y" (unseen) always comes with a grouse, "wan" (unseen) once only,
# "t'aa" (seen, glossed "sit") always with "sit"; "-t" is a seen suffix.
SENTENCES = [
    ("bisde'y-t wan", "The grouse flew away."),
    ("t'aa bisde'y-t", "The grouses sat there."),
    ("t'aa gyat", "The man sat down."),
    ("bisde'y", "A grouse!"),
]
SEEN = {"t'aa": "sit", "t": "3", "gyat": "man"}


def remembered(table, form):
    return SEEN.get(form) if table == "morphemes" else SEEN.get(form.strip("!.,"))


def segmented_inputs():
    return [IGTRecord(id=str(i), transcription=m.replace("-", ""), segmentation=m, translation=t)
            for i, (m, t) in enumerate(SENTENCES)]


def glossed(record, gloss):
    return GlossedRecord(record.replace(glosses=gloss), [[0.5] * len(w.replace("=", "-").split("-")) for w in gloss.split()])


def test_a_recurring_unseen_form_gets_the_lemma_it_always_occurs_with():
    code = metalanguage_code(segmented_inputs())
    lemmas = [translation_lemmas(t, code) for _, t in SENTENCES]
    assert code == "en" and "grouse" in lemmas[1] and "sit" in lemmas[1]  # "grouses" -> grouse, "sat" -> sit
    forms = [{"bisde'y", "wan"}, {"bisde'y"}, set(), {"bisde'y"}]
    lexicon = induce_lexicon(forms, lemmas, LexiconSettings())
    assert lexicon["bisde'y"][0] == "grouse" and lexicon["bisde'y"][1] == pytest.approx(1.0)
    assert "wan" not in lexicon  # in one sentence only: any of its words could be the gloss
    assert induce_lexicon(forms, lemmas, LexiconSettings(min_sentences=4)) == {}


def test_unseen_morphemes_with_lexical_guesses_are_relabelled_and_nothing_else():
    inputs = segmented_inputs()
    outputs = [glossed(inputs[0], "house-3 go"), glossed(inputs[1], "sit FUT-3"),
               glossed(inputs[2], "sit man"), glossed(inputs[3], "PL")]
    filled = fill_unseen_stems(inputs, outputs, remembered, LexiconSettings())
    assert [o.record.glosses for o in filled] == ["grouse-3 go", "sit FUT-3", "sit man", "PL"]
    # the guess was a grammatical label (FUT, PL): the network is trusted over a translation word
    assert filled[0].confidences[0] == [1.0, 0.5]
    # a model that says where its confidences come from learns which ones the lexicon gave
    sourced = [GlossedRecord(o.record, o.confidences, sources=[["network"] * len(c) for c in o.confidences])
               for o in outputs]
    marked = fill_unseen_stems(inputs, sourced, remembered, LexiconSettings())
    assert marked[0].sources == [["lexicon", "network"], ["network"]] and marked[2].sources == sourced[2].sources
    assert fill_unseen_stems(inputs, outputs, remembered, LexiconSettings())[0].sources is None
    switched_off = fill_unseen_stems(inputs, outputs, remembered, LexiconSettings(min_dice=1.01))
    assert [o.record.glosses for o in switched_off] == [o.record.glosses for o in outputs]


def test_unsegmented_words_are_relabelled_only_when_their_gloss_has_one_stem():
    inputs = [r.replace(segmentation=None, transcription=r.transcription.replace("bisde'yt", "bisde'y"))
              for r in segmented_inputs()]
    outputs = [glossed(inputs[0], "house-3 go"), glossed(inputs[1], "sit cold-hot"),
               glossed(inputs[2], "sit man"), glossed(inputs[3], "bird!")]
    filled = fill_unseen_stems(inputs, outputs, remembered, LexiconSettings())
    assert [o.record.glosses for o in filled] == ["grouse-3 go", "sit cold-hot", "sit man", "grouse"]


def test_the_metalanguage_is_taken_from_the_records_or_detected():
    spanish = [IGTRecord(id="1", transcription="x", translation="Él se vuelve animal y se fue a la casa")]
    assert metalanguage_code(spanish) == "es"
    assert "volver" in translation_lemmas(spanish[0].translation, "es")
    named = [IGTRecord(id="1", transcription="x", translation="a la casa", metalanguage="English")]
    assert metalanguage_code(named) == "en"


def test_lexicon_settings_are_saved_with_the_model_and_can_be_switched_off(tmp_path):
    train = records(tmp_path, TRAIN, "train")
    torch.manual_seed(0)
    glosser = train_glosser(train, [], tmp_path / "model", TrainingSettings(epochs=1, batch_size=4), network_options=TINY)
    assert load_model(tmp_path / "model").lexicon == LexiconSettings()
    glosser.lexicon = None
    glosser.save_pretrained(tmp_path / "off")
    assert load_model(tmp_path / "off").lexicon is None
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    del config["lexicon_induction"]  # a model saved before lexicon induction existed
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    assert isinstance(load_model(tmp_path / "model"), NeuralGlosser)
    assert load_model(tmp_path / "model").lexicon == LexiconSettings()


def test_the_loader_switches_lexicon_induction_off_for_neural_models_and_ensembles(tmp_path):
    from autogloss.models.neural import EnsembleGlosser

    train = records(tmp_path, TRAIN, "train")
    torch.manual_seed(0)
    glosser = train_glosser(train, [], tmp_path / "model", TrainingSettings(epochs=1, batch_size=4), network_options=TINY)
    EnsembleGlosser.combine([glosser, glosser]).save_pretrained(tmp_path / "ensemble")
    for name in ("model", "ensemble"):
        assert load_model(tmp_path / name).lexicon == LexiconSettings()
        assert load_model(tmp_path / name, lexicon=False).lexicon is None


LEXICAL_TRAIN = """\\t gyat t'aa
\\m gyat t'aa
\\g man sit
\\l The man sat.

\\t gyat hlo'o
\\m gyat hlo'o
\\g man sleep
\\l The man slept.
"""


def test_the_gloss_command_can_switch_the_lexicon_off(tmp_path):
    # Every training gloss is lexical, so whatever the network guesses for the
    # unseen bisde'y may be replaced; the translations always name a grouse.
    train = records(tmp_path, LEXICAL_TRAIN, "train")
    torch.manual_seed(0)
    glosser = train_glosser(train, [], tmp_path / "model", TrainingSettings(epochs=3, batch_size=2), network_options=TINY)
    inputs = [IGTRecord(id=str(i), transcription=f"gyat {verb} bisde'y", segmentation=f"gyat {verb} bisde'y",
                        translation=translation)
              for i, (verb, translation) in enumerate([("t'aa", "The man sat by a grouse."),
                                                       ("hlo'o", "My man slept with grouses."),
                                                       ("t'aa", "Man sat near this grouse!")])]
    (tmp_path / "input.txt").write_text("\n".join(
        f"\\t {r.transcription}\n\\m {r.segmentation}\n\\g\n\\l {r.translation}\n" for r in inputs), encoding="utf-8")
    outputs = {}
    for flag in ("--lexicon", "--no-lexicon"):
        done = cli("gloss", "--model", tmp_path / "model", "--input", tmp_path / "input.txt",
                   "--output", tmp_path / f"out{flag}.jsonl", flag)
        assert done.returncode == 0, done.stderr
        outputs[flag] = [json.loads(line)["glosses"] for line in (tmp_path / f"out{flag}.jsonl").read_text().splitlines()]
    assert [glosses.split()[2] for glosses in outputs["--lexicon"]] == ["grouse"] * 3
    assert outputs["--lexicon"] != outputs["--no-lexicon"]
    glosser.lexicon = None
    assert outputs["--no-lexicon"] == [r.glosses for r in glosser.gloss(inputs)]
