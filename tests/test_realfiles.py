"""The document layer's promises, held against files made by other tools and projects.

``tests/realfiles/<format>/`` holds small cuts of public FLEx, Toolbox, ELAN
and CLDF files (a CLDF dataset is a folder), each with a sidecar
``<name>.json`` giving its source, licence, the reader options its layout
needs (only where it cannot be detected), and the number of sentences and of
person-given glosses it holds, counted without autogloss (the folder's
README says how). For every file:

* it is read with its format detected, and the counts agree;
* written back unchanged, it is the same file (byte for byte for FLEx and
  Toolbox, the same XML tree for ELAN, the same tables and metadata for CLDF);
* glossed, only its empty glosses change, and nothing is added or moved;
* the glossed file reads back with the guesses as guesses, and glossing it
  again fills nothing.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from autogloss.formats import detect_format, layout_options, read_document, write_document
from autogloss.glossing import fill_document
from autogloss.interlinear.document import GlossState, InterlinearDocument
from autogloss.records import GlossedRecord, IGTRecord, join_morphemes, split_keep_boundaries, words

ROOT = Path(__file__).parent / "realfiles"
FORMATS = ("flextext", "toolbox", "elan", "cldf")
FAKE_GLOSS = "gl"


def _entries(format: str) -> list[Path]:
    folder = ROOT / format
    if not folder.is_dir():
        return []
    sidecars = sorted(folder.glob("*.json"))
    return [sidecar.with_suffix("") for sidecar in sidecars if sidecar.with_suffix("").exists()]


CASES = [pytest.param(format, path, id=f"{format}/{path.name}") for format in FORMATS for path in _entries(format)]


def _sidecar(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))


def _read(format: str, path: Path, fixture: Path | None = None) -> InterlinearDocument:
    """``path`` read with the layout options of ``fixture`` (default: ``path`` itself)."""
    options = _sidecar(fixture or path).get("options", {})
    return read_document(path, format, **layout_options(format, **options))


class FakeGlosser:
    """Glosses every morpheme of every word ``gl``, with the word's own boundaries."""

    def gloss_with_confidence(self, records):
        for record in records:
            source = words(record.segmentation) if record.segmentation else record.transcription_words
            glossed, confidences = [], []
            for word in source:
                parts, boundaries = split_keep_boundaries(word)
                glossed.append(join_morphemes([FAKE_GLOSS] * len(parts), boundaries))
                confidences.append([0.5] * len(parts))
            yield GlossedRecord(IGTRecord(id=record.id, transcription=record.transcription,
                                          segmentation=record.segmentation, glosses=" ".join(glossed),
                                          translation=record.translation, language=record.language),
                                confidences)


def _slots(document: InterlinearDocument) -> list[list[list[tuple[str, str, GlossState, bool]]]]:
    return [[[(slot.form, slot.gloss, slot.state, slot.locked) for slot in word.slots] for word in sentence.words]
            for sentence in document.sentences]


def _same_file(format: str, original: Path, written: Path) -> None:
    if format in ("flextext", "toolbox"):
        assert written.read_bytes() == original.read_bytes()
    elif format == "elan":
        from lxml import etree

        canonical = [etree.tostring(etree.parse(str(path)), method="c14n") for path in (original, written)]
        assert canonical[0] == canonical[1]
    else:
        assert sorted(p.name for p in written.iterdir()) == sorted(p.name for p in original.iterdir())
        for part in original.iterdir():
            if part.suffix == ".json":
                assert json.loads((written / part.name).read_text(encoding="utf-8")) == \
                    json.loads(part.read_text(encoding="utf-8")), part.name
            elif part.suffix == ".csv":
                rows = [list(csv.reader((folder / part.name).open(encoding="utf-8-sig", newline="")))
                        for folder in (original, written)]
                assert rows[0] == rows[1], part.name


def _target(tmp_path: Path, path: Path) -> Path:
    return tmp_path / "out" / path.name if path.is_dir() else tmp_path / path.name


@pytest.mark.parametrize("format,path", CASES)
def test_reads_with_format_detected(format: str, path: Path) -> None:
    assert detect_format(path) == format
    document = _read(format, path)
    expected = _sidecar(path)
    assert len(document.sentences) == expected["sentences"]
    human = sum(1 for sentence in document.sentences for _, _, slot in sentence.slots()
                if slot.state is GlossState.HUMAN and slot.gloss)
    assert human == expected["glossed"]
    assert all(sentence.origin and sentence.origin.rsplit(":", 1)[1].isdigit() for sentence in document.sentences)


@pytest.mark.parametrize("format,path", CASES)
def test_written_back_unchanged(format: str, path: Path, tmp_path: Path) -> None:
    target = _target(tmp_path, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_document(_read(format, path), target)
    _same_file(format, path, target)


@pytest.mark.parametrize("format,path", CASES)
def test_glossing_changes_only_empty_glosses(format: str, path: Path, tmp_path: Path) -> None:
    document = _read(format, path)
    before = _slots(document)
    empty = sum(1 for sentence in before for word in sentence for (_, _, state, locked) in word
                if state is GlossState.EMPTY and not locked)
    summary = fill_document(document, FakeGlosser())
    assert summary.filled + summary.skipped == empty
    assert summary.overwritten == 0
    if empty:
        assert summary.filled > 0

    target = _target(tmp_path, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_document(document, target)
    reread = _read(format, target, path)
    after = _slots(reread)
    assert [[len(word) for word in sentence] for sentence in after] == \
        [[len(word) for word in sentence] for sentence in before]
    filled = 0
    for old_sentence, new_sentence in zip(before, after):
        for old_word, new_word in zip(old_sentence, new_sentence):
            for (form, gloss, state, locked), (new_form, new_gloss, new_state, new_locked) in zip(old_word, new_word):
                assert new_form == form
                assert new_locked == locked
                if state is GlossState.EMPTY and not locked and new_state is not GlossState.EMPTY:
                    # a morpheme's gloss, or an unanalysed word's (one "gl" per piece between its hyphens)
                    assert re.fullmatch(f"{FAKE_GLOSS}([-=]{FAKE_GLOSS})*", new_gloss), new_gloss
                    assert new_state is GlossState.GUESS
                    filled += 1
                else:
                    assert (new_gloss, new_state) == (gloss, state)
    assert filled == summary.filled

    again = fill_document(reread, FakeGlosser())
    assert again.filled == 0
    if format in ("flextext", "toolbox"):
        rewritten = tmp_path / "again" / path.name
        rewritten.parent.mkdir()
        write_document(reread, rewritten)
        assert rewritten.read_bytes() == target.read_bytes()


@pytest.mark.parametrize("format", FORMATS)
def test_collection_has_five_documented_files(format: str) -> None:
    entries = _entries(format)
    assert len(entries) >= 5
    readme = (ROOT / format / "README.md").read_text(encoding="utf-8")
    sources = set()
    for path in entries:
        sidecar = _sidecar(path)
        assert sidecar["source"].startswith("http") and sidecar["licence"]
        assert path.name in readme
        sources.add(sidecar["source"].split("/blob/")[0])
    assert len(sources) >= 5  # from different projects
