"""What pretraining reads of a corpus: plain copies as plain text, a
corpus without the shared-task segmentations for track 1 models, and
languages held out for zero-shot evaluation."""

from __future__ import annotations

from autogloss.corpus import build_corpus, read_corpus
from autogloss.models import load_model
from autogloss.models.base import TrainingData
from autogloss.models.neural import NeuralGlosser
from autogloss.records import PLAIN, SEGMENTED, setting_of
import pytest

from autogloss.errors import AutoglossError
from autogloss.training import read_pretraining_corpus, without_languages, without_shared_task_segmentation

from conftest import cli

TINY = {"hidden": 16, "char_dim": 8, "language_dim": 4, "form_dim": 8, "label_dim": 8, "translation_hidden": 8,
        "layers": 1, "dropout": 0.0}


def test_the_plain_copy_of_a_segmented_sentence_is_encoded_and_counted_as_plain(mini_data, tmp_path):
    build_corpus(mini_data, tmp_path / "corpus")
    train = list(read_corpus(tmp_path / "corpus", ["train"]))
    segmented = next(r for r in train if r.id.endswith("/seg"))
    plain = next(r for r in train if r.id == segmented.id.replace("/seg", "/unseg"))
    assert (segmented.transcription, plain.transcription) == ("ixiw raład b-oq-n", "Ixiw raład boqno.")
    assert [setting_of(segmented), setting_of(plain)] == [SEGMENTED, PLAIN]
    glosser = NeuralGlosser.create([segmented, plain], **TINY)
    seg_example, plain_example = glosser.encode([segmented, plain], with_targets=True)
    assert (seg_example.mode, plain_example.mode) == ("segmented", "words")
    assert seg_example.chars != plain_example.chars  # the plain copy is read as the plain transcription
    assert len(seg_example.units) == 5 and len(plain_example.units) == 3  # morphemes, words
    counted = TrainingData.count([segmented, plain])
    assert counted.languages == {"dido1241": {SEGMENTED: 1, PLAIN: 1}}


def test_leaving_out_the_shared_task_segmentations_keeps_their_plain_rows_and_everything_else(mini_data, tmp_path):
    build_corpus(mini_data, tmp_path / "corpus")
    corpus = read_pretraining_corpus(tmp_path / "corpus")
    filtered, left_out = without_shared_task_segmentation(corpus)
    tsez = [r for r in filtered.train if r.language.iso639_3 == "ddo"]
    assert len(tsez) == 3 and {setting_of(r) for r in tsez} == {PLAIN}
    assert len(corpus.train) == 6 and len(filtered.train) == 3
    assert filtered.extra == corpus.extra  # other languages: segmented rows too
    assert any(setting_of(r) == SEGMENTED for r in filtered.extra)
    assert left_out.startswith("3 segmented rows of the SIGMORPHON 2023 languages") and "3 sigmorphon2023" in left_out
    assert without_shared_task_segmentation(filtered) == (filtered, None)


def test_pretrain_without_shared_task_segmentation_says_so_on_the_card_and_in_the_config(mini_data, tmp_path):
    build_corpus(mini_data, tmp_path / "corpus")
    done = cli("pretrain", "--corpus", tmp_path / "corpus", "--out", tmp_path / "model", "--hidden", "16",
               "--epochs", "1", "--validation-size", "2", "--batch-size", "4", "--without-shared-task-segmentation")
    assert done.returncode == 0, done.stderr
    model = load_model(tmp_path / "model")
    data = model.training_data()
    assert data.left_out.startswith("3 segmented rows of the SIGMORPHON 2023 languages")
    assert data.languages["dido1241"][SEGMENTED] == 0 and data.languages["dido1241"][PLAIN] >= 1
    card = (tmp_path / "model" / "README.md").read_text(encoding="utf-8")
    assert "- Left out of the training data: 3 segmented rows" in card
    assert "--without-shared-task-segmentation" in model.info["command"]


def test_a_seq2seq_model_without_shared_task_segmentation_says_so_in_what_it_was_trained_on(mini_data, tmp_path,
                                                                                           monkeypatch):
    from autogloss import training

    build_corpus(mini_data, tmp_path / "corpus")
    calls = []
    monkeypatch.setattr(training, "_train_network", lambda *args, **kwargs: calls.append((args, kwargs)))
    training.pretrain_model(read_pretraining_corpus(tmp_path / "corpus"), tmp_path / "model", "seq2seq",
                            validation_size=2, shared_task_segmentation=False)
    ((args, kwargs),) = calls
    assert kwargs["description"].startswith("autogloss corpus corpus (train and pretrain splits, ")
    by_source = kwargs["description"].partition("; by source: ")[2]
    assert " sigmorphon2023" in by_source and " odin" in by_source and " uratyp" in by_source
    assert "; left out: 3 segmented rows of the SIGMORPHON 2023 languages" in kwargs["description"]
    assert not [r for r in args[2] if r.language.iso639_3 == "ddo" and setting_of(r) == SEGMENTED]


def test_a_held_out_language_loses_every_row_in_both_splits_matched_on_either_code(mini_data, tmp_path):
    build_corpus(mini_data, tmp_path / "corpus")
    corpus = read_pretraining_corpus(tmp_path / "corpus")
    saami = [r for r in corpus.extra if r.language.iso639_3 == "sme"]
    assert saami and all(r.language.glottocode == "nort2671" for r in saami)
    filtered, left_out = without_languages(corpus, ["nort2671", "DDO"])  # a glottocode, an ISO code in capitals
    assert not [r for r in filtered.train + filtered.extra if r.language.iso639_3 in ("sme", "ddo")]
    assert len(filtered.extra) == len(corpus.extra) - len(saami) and filtered.train == []
    assert left_out.startswith(f"{len(saami) + len(corpus.train):,} rows of languages held out for zero-shot")
    assert "ddo (6)" in left_out and f"nort2671 ({len(saami)})" in left_out
    assert without_languages(corpus, []) == (corpus, None)
    with pytest.raises(AutoglossError, match="no row of the corpus is in xyz"):
        without_languages(corpus, ["sme", "xyz"])


def test_pretrain_holds_out_a_language_and_trains_a_fraction_of_an_epoch(mini_data, tmp_path):
    build_corpus(mini_data, tmp_path / "corpus")
    done = cli("pretrain", "--corpus", tmp_path / "corpus", "--out", tmp_path / "model", "--hidden", "16",
               "--epochs", "1.5", "--validation-size", "2", "--batch-size", "2", "--hold-out-language", "sme")
    assert done.returncode == 0, done.stderr
    model = load_model(tmp_path / "model")
    data = model.training_data()
    assert "sme" not in data.languages and "nort2671" not in data.languages and data.languages["dido1241"]
    assert "rows of languages held out for zero-shot evaluation (sme (" in data.left_out
    assert "- Left out of the training data: " in (tmp_path / "model" / "README.md").read_text(encoding="utf-8")
    assert 1 < model.info["budget"]["epochs"] < 2  # the fraction was trained (to whole batches), not a whole epoch
    # the card's sources, as the comparison benchmark counts them again from the corpus
    from bench.packaged_model import pretraining_sources

    sources = pretraining_sources(tmp_path / "corpus", ("sme",), 2)
    counted = ", ".join(f"{count:,} {source}" for source, count in sources.most_common())
    assert f"{sum(sources.values()):,} examples; by source: {counted})" in model.info["trained_on"]
