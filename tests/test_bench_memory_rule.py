"""bench.memory_rule: the corrections its simulated linguist logs, and its table."""

from autogloss.records import GlossedRecord, IGTRecord

from bench.memory_rule import changed, table


def test_the_linguist_changes_exactly_the_wrong_or_missing_morpheme_glosses():
    gold = IGTRecord("1", "a b", segmentation="a-x b", glosses="DOG-PL run")
    output = GlossedRecord(gold.replace(glosses="DOG walk"), [[0.9], [0.5]])
    assert changed(gold, output) == [(1, 2, "", "PL"), (2, 1, "walk", "run")]
    assert changed(gold, GlossedRecord(gold, [[0.9, 0.9], [0.9]])) == []


def test_the_table_has_a_row_per_run_and_a_column_per_rule():
    rows = [{"language": "ddo", "seed": 0, "sentences": 40, "changed_glosses": 79,
             "scores": {"packaged model alone": 86.55, "every seen form (0)": 68.22, "off": 82.7}}]
    found = table(rows, {"date": "2026-12-03", "machine": "2 cores", "command": "python -m bench.memory_rule"})
    assert "| ddo | 0 | 79 | 86.55 | 68.22 | 82.70 |" in found and "every seen form (0)" in found
