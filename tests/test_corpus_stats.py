"""Sources side by side: `corpus stats` next to GlossLM's published counts, and the
dataset card's licences per source."""

import json

from autogloss.corpus import build_corpus, corpus_stats
from autogloss.corpus.stats import GLOSSLM_SOURCES, SourceComparison

from conftest import cli


def test_each_source_is_counted_next_to_glosslm(mini_data, tmp_path):
    build_corpus(mini_data, tmp_path / "corpus")
    stats = corpus_stats(tmp_path / "corpus")
    odin = stats.by_source["odin"]
    # 3 ODIN sentences read; the duplicate and the leaked one are gone, the Turkish one stays twice
    assert (odin.sentences_read, odin.examples, odin.languages, odin.segmented_share) == (3, 2, 1, 0.5)
    assert stats.by_source["sigmorphon2023"].languages == 1
    assert sum(source.examples for source in stats.by_source.values()) == sum(stats.examples_by_split.values())
    compared = {row.source: row for row in stats.next_to_glosslm()}
    assert list(compared) == list(GLOSSLM_SOURCES)  # GlossLM's six sources, in its order
    assert compared["odin"].glosslm.instances == 83_661 and compared["odin"].ours == odin
    assert compared["imtvault"].ours is None  # not in this small corpus
    assert compared["imtvault"].cells()[1:5] == ("not read", "", "", "")
    assert compared["guarani"].cells() == ("guarani", "1", "2", "1", "50.0%", "803", "1")


def test_rows_of_no_decided_language_are_not_counted_as_a_language(mini_data, tmp_path):
    (mini_data / "odin" / "und.txt").write_text("\\t ba du\n\\g go-PST home\n\\l went home\n", encoding="utf-8")
    build_corpus(mini_data, tmp_path / "corpus")
    stats = corpus_stats(tmp_path / "corpus")
    assert any(label.startswith("Undetermined") for label in stats.examples_by_language)
    assert stats.by_source["odin"].languages == 1 and stats.by_source["odin"].examples == 3
    assert stats.languages == len(stats.examples_by_language) - 1


def test_a_source_glosslm_lacks_is_listed_after_its_sources():
    from autogloss.corpus.stats import CorpusStats, SourceStats

    stats = CorpusStats({}, {}, {}, 0, 0.0, [], [], {}, {"mine": SourceStats(1, 1, 1, 0.0)})
    rows = stats.next_to_glosslm()
    assert rows[-1] == SourceComparison("mine", SourceStats(1, 1, 1, 0.0), None)
    assert rows[-1].cells()[-2:] == ("not in GlossLM", "")


def test_the_stats_command_shows_the_comparison(mini_data, tmp_path):
    build_corpus(mini_data, tmp_path / "corpus")
    done = cli("corpus", "stats", tmp_path / "corpus")
    assert done.returncode == 0, done.stderr
    assert "GlossLM" in done.stdout and "83,661" in done.stdout and "not read" in done.stdout
    done = cli("corpus", "stats", tmp_path / "corpus", "--json")
    rows = {row["source"]: row for row in json.loads(done.stdout)["next_to_glosslm"]}
    assert rows["apics"]["glosslm"]["instances"] == 15_805 and rows["apics"]["ours"] is None
    assert rows["uratyp"]["ours"]["sentences_read"] == 2


def test_the_dataset_card_lists_each_sources_licences(mini_data, tmp_path):
    from autogloss.corpus import read_corpus

    report = build_corpus(mini_data, tmp_path / "corpus")
    card = (tmp_path / "corpus" / "README.md").read_text(encoding="utf-8")
    licences = {}
    for record in read_corpus(tmp_path / "corpus"):
        licences.setdefault(record.source, set()).add(record.license)
    assert set(licences) == set(report.sentences_read)
    for source, found in licences.items():
        table = card.split("## Sources and their licences", 1)[1]
        row = next(line for line in table.splitlines() if line.startswith(f"| {source} |"))
        assert all(licence in row for licence in found), row
    assert "| sigmorphon2023 | 6 | CC BY-NC 4.0 (6) |" in card
    manifest = json.loads((tmp_path / "corpus" / "manifest.json").read_text())
    assert manifest["licenses_by_source"]["odin"] == {report.licenses["odin"].most_common(1)[0][0]: 3}
