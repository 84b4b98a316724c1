import json
import os

import pytest

from autogloss.corpus import build_corpus, corpus_stats, read_corpus
from autogloss.corpus.build import sentence_key
from autogloss.errors import AutoglossError

from conftest import SHARED_DATA, cli, run_cli


def test_build_keeps_shared_task_splits_and_puts_other_sources_in_pretrain(mini_data, tmp_path):
    report = build_corpus(mini_data, tmp_path / "corpus")
    by_split = {split: list(read_corpus(tmp_path / "corpus", [split])) for split in ("train", "dev", "test", "pretrain")}
    # 3 Tsez training sentences, each segmented and unsegmented
    assert len(by_split["train"]) == 6
    assert {r.is_segmented for r in by_split["train"]} == {True, False}
    segmented = next(r for r in by_split["train"] if r.is_segmented)
    assert segmented.transcription == segmented.segmentation == "ixiw raład b-oq-n"
    assert len(by_split["dev"]) == 4 and len(by_split["test"]) == 2
    assert {r.source for r in by_split["pretrain"]} == {"odin", "guarani", "uratyp"}
    assert report.sentences_read == {"sigmorphon2023": 6, "odin": 3, "guarani": 1, "uratyp": 2}
    # every row knows where it came from and under which licence
    assert all(r.license and r.origin and r.source for split in by_split.values() for r in split)


def test_duplicates_and_dev_test_sentences_are_removed_from_training(mini_data, tmp_path):
    report = build_corpus(mini_data, tmp_path / "corpus")
    pretrain = list(read_corpus(tmp_path / "corpus", ["pretrain"]))
    turkish = [r for r in pretrain if r.language.iso639_3 == "tur"]
    assert len(turkish) == 2  # segmented + unsegmented; the second copy was a duplicate
    assert report.duplicates_removed == {"odin/pretrain": 2}
    # "Ixiw xabar!" is the Tsez dev sentence "Ixiw xabar." (punctuation ignored)
    assert report.leaks_removed == {"odin/pretrain": 1}
    evaluation = {sentence_key(r.transcription) for r in read_corpus(tmp_path / "corpus", ["dev", "test"])}
    training = {sentence_key(r.transcription) for r in read_corpus(tmp_path / "corpus", ["train", "pretrain"])}
    assert not evaluation & training
    manifest = json.loads((tmp_path / "corpus" / "manifest.json").read_text())
    assert manifest["leaks_removed"] == {"odin/pretrain": 1}
    assert manifest["unglossed_dropped"] == {"uratyp": 1}


def test_interrupted_build_leaves_the_previous_corpus_intact(mini_data, tmp_path):
    target = tmp_path / "corpus"
    build_corpus(mini_data, target)
    before = sorted(os.listdir(target / "data"))

    def explode(record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_corpus(mini_data, target, normaliser=explode)
    assert sorted(os.listdir(target / "data")) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".corpus")]


def test_stats_count_sources_languages_and_labels(mini_data, tmp_path):
    build_corpus(mini_data, tmp_path / "corpus")
    stats = corpus_stats(tmp_path / "corpus")
    assert stats.examples_by_split["train"] == 6
    assert stats.examples_by_source_split[("odin", "pretrain")] == 2
    assert "Tsez (ddo)" in stats.examples_by_language and "Turkish (tur)" in stats.examples_by_language
    # 3 train + 1 dev sentences, each counted once although stored twice
    assert dict(stats.top_grammatical)["III"] == 4
    assert 0 < stats.segmented_share < 1


def test_reading_a_folder_that_is_not_a_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(AutoglossError, match="not an autogloss corpus"):
        corpus_stats(tmp_path)


def test_corpus_commands(mini_data, tmp_path):
    done = cli("corpus", "build", "--data-dir", mini_data, "--out", tmp_path / "c")
    assert done.returncode == 0, done.stderr
    assert "train" in done.stdout and "exact duplicates" in done.stdout
    done = cli("corpus", "stats", tmp_path / "c")
    assert done.returncode == 0, done.stderr
    assert "odin" in done.stdout and "Tsez (ddo)" in done.stdout
    done = cli("corpus", "stats", tmp_path / "c", "--json")
    assert json.loads(done.stdout)["examples_by_split"]["dev"] == 4


def test_missing_data_folder_names_the_option_and_sources(tmp_path, monkeypatch):
    # a real process: the one line, exit status 1 and no traceback are what the interpreter shows
    done = run_cli("corpus", "build", "--data-dir", tmp_path / "nowhere", "--out", tmp_path / "c")
    assert done.returncode == 1
    assert "no such data folder" in done.stderr and "Traceback" not in done.stderr
    # no data folder where one is looked for (../shared/data is there beside this checkout)
    from autogloss import datapath

    monkeypatch.setattr(datapath, "_candidates", lambda: [tmp_path / "shared" / "data"])
    done = cli("corpus", "build", "--out", tmp_path / "c", cwd=tmp_path)
    assert done.returncode == 1 and not (tmp_path / "c").exists()
    assert "--data-dir" in done.stderr and "sigmorphon" in done.stderr


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")
def test_full_build_over_shared_data(tmp_path):
    report = build_corpus(SHARED_DATA, tmp_path / "corpus")
    odin = report.sentences_read["odin"] + report.skipped_by_source["odin"]
    assert odin == 84_132
    assert set(report.sentences_read) == {"sigmorphon2023", "odin", "guarani", "uratyp", "imtvault", "apics"}
    # every IMTVault and APiCS example is read: kept, or left out with its reason
    for source, examples in (("imtvault", 37_685), ("apics", 18_526)):
        assert report.sentences_read[source] + report.skipped_by_source[source] == examples
    evaluation = set()
    for record in read_corpus(tmp_path / "corpus", ["dev", "test"]):
        if record.source == "sigmorphon2023":
            evaluation.update({sentence_key(record.transcription), sentence_key(record.segmentation)} - {""})
    leaked = [r.id for r in read_corpus(tmp_path / "corpus", ["train", "pretrain"])
              if sentence_key(r.transcription) in evaluation or sentence_key(r.segmentation) in evaluation]
    assert leaked == []
    stats = corpus_stats(tmp_path / "corpus")
    assert {source for source, _ in stats.examples_by_source_split} == {
        "sigmorphon2023", "odin", "guarani", "uratyp", "imtvault", "apics"}
