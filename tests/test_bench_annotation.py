"""The simulated annotation study (`python -m bench.annotation`): effort, orderings, reach, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from autogloss.formats.sigmorphon import read_sigmorphon  # noqa: E402
from autogloss.models.base import Glosser  # noqa: E402
from autogloss.records import GlossedRecord, IGTRecord  # noqa: E402

from bench import annotation  # noqa: E402
from bench.annotation import Run, Study, changed_glosses, pick, reach  # noqa: E402
from bench.learning import TrainingRule  # noqa: E402
from bench_learning_data import tiny_base, tiny_data  # noqa: E402


def record(glosses: str, transcription: str = "a b c") -> IGTRecord:
    return IGTRecord(id="s", transcription=transcription, glosses=glosses)


def test_effort_counts_the_morpheme_glosses_the_linguist_changes() -> None:
    gold = record("man-ERG story III-bring-PST")
    assert changed_glosses(gold, record("man-ERG story III-bring-PST")) == 0
    assert changed_glosses(gold, record("man-ABS story III-bring")) == 2  # one wrong, one missing
    assert changed_glosses(gold, record("man-ERG [UNK] III-bring-PST")) == 1  # an unknown gloss is filled in
    assert changed_glosses(gold, record("man-ERG")) == 4  # the missing words' morphemes
    assert changed_glosses(gold, record("man-ERG story III-bring-PST extra")) == 0  # counted per gold gloss
    assert changed_glosses(gold, record("")) == 6


class ByConfidence(Glosser):
    """Glosses every morpheme X, as sure as its sentence's number says (a test double)."""

    model_type = "test"

    def __init__(self, confidence: dict[str, float]):
        self.confidence, self.calibration, self.glossed = confidence, None, []

    def _gloss_chunk(self, records: list[IGTRecord]) -> list[GlossedRecord]:
        self.glossed += [r.transcription for r in records]
        return [GlossedRecord(r.replace(glosses="X"), [[self.confidence[r.transcription]]]) for r in records]

    def config(self, **options):  # never saved or loaded
        raise NotImplementedError

    model_card = _save_files = config
    _load = classmethod(config)


def test_the_ordering_decides_which_sentences_the_linguist_corrects_next() -> None:
    inputs = [record("", transcription=f"s{i}") for i in range(6)]
    glosser = ByConfidence({"s0": 0.9, "s1": 0.2, "s2": 0.8, "s3": 0.1, "s4": 0.95, "s5": 0.5})
    pool, shuffled = [0, 1, 2, 3, 5], [5, 4, 2, 0, 3, 1]  # s4 is corrected already
    picked, outputs = pick("least-confident", pool, 2, inputs, glosser, shuffled)
    assert picked == [3, 1]  # the two it is least sure of
    assert [o.confidences for o in outputs] == [[[0.1]], [[0.2]]]
    assert sorted(glosser.glossed) == ["s0", "s1", "s2", "s3", "s5"]  # the whole pool was glossed to choose
    glosser.glossed = []
    assert pick("random", pool, 2, inputs, glosser, shuffled)[0] == [5, 2]  # the shuffle, less what is done
    assert glosser.glossed == ["s5", "s2"]  # only what is offered is glossed
    assert pick("document", pool, 2, inputs, glosser, shuffled)[0] == [0, 1]


def test_reach_is_the_effort_after_which_dev_first_scores_the_target() -> None:
    rounds = [{"cumulative_effort": effort, "word_accuracy": score}
              for effort, score in ((0, 40.0), (120, 55.0), (200, 70.0), (260, 66.0), (300, 80.0))]
    assert reach(rounds, "word_accuracy", 0.7 * 90) == 200  # 63: first reached after 200 glosses
    assert reach(rounds, "word_accuracy", 0.8 * 90) == 300
    assert reach(rounds, "word_accuracy", 30.0) == 0  # the starting model already does
    assert reach(rounds, "word_accuracy", 85.0) is None  # not within the rounds run


def test_a_study_counts_effort_keeps_its_rounds_and_resumes_after_an_interruption(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tiny_data(tmp_path / "data")
    base = tiny_base(data, tmp_path / "base")
    study = Study(batch=3, rounds=3, rule=TrainingRule(passes=6, max_epochs=2), base=base)
    run = Run("ddo", 2, seed_size=4, ordering="least-confident")
    real, calls = annotation.train, []

    def interrupted(records, *args, **kwargs):
        calls.append(len(records))
        if len(calls) == 3:  # the seed set, round 1, then stopped in round 2
            raise KeyboardInterrupt
        return real(records, *args, **kwargs)

    monkeypatch.setattr(annotation, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        annotation.run_study(run, data, study, tmp_path / "work")
    saved = json.loads((tmp_path / "work" / run.key / "state.json").read_text())
    assert [r["round"] for r in saved["rounds"]] == [0, 1]

    calls.clear()
    monkeypatch.setattr(annotation, "train", lambda records, *a, **k: calls.append(len(records)) or real(records, *a, **k))
    state = annotation.run_study(run, data, study, tmp_path / "work")
    assert calls == [10, 13]  # rounds 2 and 3 only, each on everything corrected so far
    rounds = state["rounds"]
    assert [r["labelled"] for r in rounds] == [4, 7, 10, 13]
    picked = [i for r in rounds for i in r["picked"]]
    assert len(set(picked)) == 9 and not set(picked) & set(state["seed_set"])
    assert all(0 <= r["effort"] <= r["checked"] for r in rounds[1:])
    gold = list(read_sigmorphon(data / "sigmorphon2023" / "Tsez" / "ddo-train-track2-uncovered"))
    assert all(r["checked"] == sum(len(gold[i].glosses.replace("-", " ").split()) for i in r["picked"])
               for r in rounds[1:])  # the morphemes of the sentences offered
    assert rounds[-1]["cumulative_effort"] == sum(r["effort"] for r in rounds)
    assert [p.name for p in (tmp_path / "work" / run.key).iterdir() if p.is_dir()] == ["round-3"]  # the current model
    assert annotation.run_study(run, data, study, tmp_path / "work") == state and calls == [10, 13]  # finished: nothing runs


def test_the_study_fine_tunes_with_the_memory_rule_of_a_linguist_s_corrections(tmp_path: Path) -> None:
    from autogloss.models.loading import load_model

    data = tiny_data(tmp_path / "data")
    base = tiny_base(data, tmp_path / "base")
    run = Run("ddo", 2, seed_size=4, ordering="document")
    rule = TrainingRule(passes=6, max_epochs=2)
    for threshold in (1.0, 0.0):
        study = Study(batch=3, rounds=1, rule=rule, base=base, memory_threshold=threshold)
        state = annotation.run_study(run, data, study, tmp_path / f"work-{threshold}")
        model = load_model(tmp_path / f"work-{threshold}" / run.key / state["model"])
        assert model.memory_thresholds == {"morphemes": threshold, "words": threshold}
        assert state["settings"]["memory_threshold"] == threshold
    assert Study(batch=3, rounds=1, rule=rule, base=base).memory_threshold == 1.0  # the post-editor's rule


def test_the_study_writes_effort_against_accuracy_and_the_reach_table(tmp_path: Path) -> None:
    data = tiny_data(tmp_path / "data")
    base = tiny_base(data, tmp_path / "base")
    full = tmp_path / "full.json"
    full.write_text(json.dumps([{"language": "ddo", "track": 2,
                                 "official": {"word_accuracy": 100.0, "morpheme_accuracy": 0.0}}]))
    out = tmp_path / "out"
    annotation.main(["--language", "ddo", "--track", "2", "--seed-size", "0", "--ordering", "document",
                     "--ordering", "random", "--rounds", "1", "--batch", "2", "--passes", "4", "--pretrained", str(base),
                     "--full-data", str(full), "--data-dir", str(data), "--out", str(out)])
    found = json.loads((out / "annotation.json").read_text())
    assert sorted(found["runs"]) == ["ddo-track2-seed0-document", "ddo-track2-seed0-random"]
    assert {row["reach"]["70%"] for row in found["reach"]} == {0}  # 70% of a 0% full-data score: at once
    report = (out / "annotation.md").read_text()
    assert "| ddo | 2 | morpheme accuracy | 0.0 | 0 | random | 0 | 0 |" in report
    assert "### Tsez (ddo), track 2, seed set 0" in report and "| round | random | document |" in report
    assert (out / "annotation-ddo.png").stat().st_size > 0
    assert "answering only for forms glossed one way throughout them" in report
