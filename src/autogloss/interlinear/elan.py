"""ELAN annotation files (``.eaf``), read and written as their own XML tree.

An ELAN file says what its tiers are through their linguistic types: a
tier's ``CONSTRAINTS`` make it a subdivision of its parent tier (one parent
annotation, several children: ``Symbolic_Subdivision``, ``Time_Subdivision``,
``Included_In``) or an association (one child per parent:
``Symbolic_Association``), and ``PARENT_REF`` links it to its parent. The
interlinear layouts projects use are told apart from that alone
(:func:`detect_layouts`); tier and type names only break ties:

- utterance > words > morphs > glosses: the usual hand-made layout, and ELAN's
  import of a FLEx text (phrases ``Included_In`` a paragraph, a time-aligned
  word tier, morph items associated with each morph);
- ref > tx > mot > mb > ge: ELAN's import of a Toolbox file (the utterance is
  the ``tx`` tier associated with ``ref``);
- utterance > words > glosses: glosses of whole words, no morph tier.

A gloss tier may itself subdivide a morph (two glosses, ``POSS`` and
``1SG``, on one morph): the morph is one gloss slot whose gloss joins them
with a period, as Leipzig rule 4 does; the annotations stay as they are.
A file may hold several such chains (one per speaker); each is read.

A word without morph annotations is one slot. Its gloss lives on a tier of
word glosses when the file has one; without one there is nowhere to write a
gloss without adding a morph the linguist did not give, so the slot is locked
(read, never filled), as is a morph left without a form: autogloss adds no
annotations to a file but glosses and their guess marks.

Sentences come in time order; each names the line of its utterance
annotation (:attr:`Sentence.origin`). Words and morphs are ordered by ELAN's
``PREVIOUS_ANNOTATION`` chain, or by time on time-aligned tiers (whose inner
time slots are often unaligned and listed out of order: they are placed along
the chain of pieces).

ELAN has no notion of a machine guess, so autogloss marks each guessed gloss
with a ``guess`` annotation on a status tier under the gloss tier
(``autogloss-status``, created when first needed). Deleting that annotation
in ELAN accepts the gloss. A gloss without it is a person's and is never
changed.

The file's own tree (lxml) is the document: a document nothing was written
into is written back as the bytes it was read from; otherwise only gloss
values, new gloss and status annotations, and ``lastUsedAnnotationId`` (the
header property ELAN numbers new annotations from; added to the header if
the file lacks it) change in the tree, and the file is written with its own
declaration, root tag, empty ``<X></X>`` elements and (for a file in plain
ASCII) character references.
"""

from __future__ import annotations

import bisect
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone

from lxml import etree

from ..errors import FormatError
from ..fileio import atomic_write
from ..records import Language
from .document import GlossSlot, GlossState, InterlinearDocument, Sentence, Word, parse_role_pairs, xml_problem

GUESS_VALUE = "guess"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_ATTRIBUTE = f"{{{XSI}}}noNamespaceSchemaLocation"
SCHEMA_LOCATION = "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"
#: The header property ELAN numbers its next annotation id from.
LAST_ID_PROPERTY = "lastUsedAnnotationId"
#: Milliseconds given to each sentence of a new file, which has no recording.
SENTENCE_MS = 2000
#: Constraints under which one parent annotation has several children.
SUBDIVISIONS = frozenset({"Symbolic_Subdivision", "Time_Subdivision", "Included_In"})
ASSOCIATION = "Symbolic_Association"
#: Constraints whose annotations carry their own time slots.
TIME_ALIGNED = frozenset({"Time_Subdivision", "Included_In"})
CONSTRAINT_DESCRIPTIONS = {
    "Time_Subdivision": "Time subdivision of parent annotation's time interval, no time gaps allowed within this "
                        "interval",
    "Symbolic_Subdivision": "Symbolic subdivision of a parent annotation. Annotations refering to the same parent "
                            "are ordered",
    "Symbolic_Association": "1-1 association with a parent annotation",
    "Included_In": "Time alignable annotations within the parent annotation's time interval, gaps are allowed",
}
#: Names that mark a tier (or its type) as glosses or translations, best first: tie-breakers only.
_GLOSS_NAMES = (re.compile(r"(^|[^a-z])(gloss(es|e|a)?|gls|ge|gl)([^a-z]|$)"), re.compile(r"gloss|gls"),
                re.compile(r"glos"))
_TRANSLATION_NAMES = (re.compile(r"(^|[^a-z])(ft|fte|trans|translation|free|tr)([^a-z]|$)"),
                      re.compile(r"transl|tradu|übersetz|free|english|engl|\beng?\b"))
_ANNOTATION_NUMBER = re.compile(r"a(\d+)")


@dataclass(frozen=True)
class ElanTiers:
    """Tier ids of each role: given with ``--elan-tiers`` when the layout
    cannot be detected, and the names of a new file's tiers."""

    utterance: str = "utterance"
    words: str = "words"
    morphs: str = "morphs"
    glosses: str = "glosses"
    translation: str = "translation"
    status: str = "autogloss-status"
    #: Glosses of whole words (used for words without morphs, when the file has this tier).
    word_glosses: str = "word-glosses"

    @classmethod
    def parse(cls, spec: str | None) -> ElanTiers:
        """From ``"utterance=A,words=A-words,morphs=A-morph,glosses=A-gloss,translation=A-ft"``."""
        if not spec:
            return cls()
        roles = {item.name: item.name for item in fields(cls)}
        values = parse_role_pairs(spec, "--elan-tiers", "TIER", roles, ", ".join(roles))
        return cls(**values)


@dataclass(frozen=True)
class Layout:
    """One chain of tiers holding interlinear text, as found in a file."""

    utterance: str
    words: str
    #: None: glosses of whole words only (``word_glosses``).
    morphs: str | None
    glosses: str | None
    word_glosses: str | None
    translation: str | None

    def describe(self) -> str:
        parts = [("utterance", self.utterance), ("words", self.words), ("morphs", self.morphs),
                 ("glosses", self.glosses), ("word_glosses", self.word_glosses), ("translation", self.translation)]
        return ",".join(f"{role}={tier}" for role, tier in parts if tier)


@dataclass(eq=False)
class _Tier:
    id: str
    element: etree._Element
    type: str | None
    constraint: str | None   # None: an independent (top) tier
    parent: str | None
    line: int | None
    children: list[str] = field(default_factory=list)

    @property
    def subdivision(self) -> bool:
        return self.constraint in SUBDIVISIONS

    @property
    def association(self) -> bool:
        return self.constraint == ASSOCIATION


@dataclass(eq=False)
class _SlotRef:
    """Where one gloss lives: the annotation it hangs on (a morph, or a word
    on the word-gloss tier), that tier, and its gloss annotations."""

    parent_id: str
    tier: str
    gloss_ids: list[str]


class ElanDocument(InterlinearDocument):
    """An ELAN file: its lxml tree, the layouts (tier chains) its sentences
    come from, and the bytes it was read from (written back when nothing changed)."""

    format_name = "elan"

    def __init__(self, tree: etree._ElementTree, data: bytes, path: str, layouts: list[Layout],
                 tiers: ElanTiers):
        super().__init__([], Language())
        self.tree = tree
        self.root = tree.getroot()
        self.data = data
        self.path = path
        self.layouts = layouts
        self.tiers = tiers
        self.changed = False
        self._index()

    # -- reading ------------------------------------------------------------
    @classmethod
    def read(cls, path: str | os.PathLike, tiers: ElanTiers | None = None) -> ElanDocument:
        """Read a file; ``tiers`` names the layout's tiers (else it is detected)."""
        path = os.fspath(path)
        with open(path, "rb") as handle:
            data = handle.read()
        return cls._from_bytes(data, path, tiers)

    @classmethod
    def _from_bytes(cls, data: bytes, path: str, tiers: ElanTiers | None) -> ElanDocument:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        try:
            tree = etree.parse(io.BytesIO(data), parser)
        except etree.XMLSyntaxError as error:
            raise FormatError(path, error.lineno, f"not well-formed XML: {xml_problem(error)}") from None
        root = tree.getroot()
        if root.tag != "ANNOTATION_DOCUMENT":
            raise FormatError(path, root.sourceline, f"not an ELAN file: root element is <{root.tag}>")
        _keep_empty_pairs(root, data)
        tier_map = _tiers(path, root)
        layouts = [_given_layout(path, tier_map, tiers)] if tiers is not None else detect_layouts(path, tier_map)
        document = cls(tree, data, path, layouts, tiers or ElanTiers())
        document.sentences = document._sentences()
        return document

    def _index(self) -> None:
        """Annotations by id, time slots in order, and each tier's parent -> children map."""
        self.tier_map = _tiers(self.path, self.root)
        self.annotations: dict[str, etree._Element] = {}
        self.annotation_tier: dict[str, str] = {}
        for tier in self.tier_map.values():
            for annotation in _annotations(tier.element):
                annotation_id = annotation.get("ANNOTATION_ID")
                if not annotation_id:
                    raise FormatError(self.path, annotation.sourceline, f"an annotation of tier '{tier.id}' has no "
                                                                        f"ANNOTATION_ID")
                if annotation_id in self.annotations:
                    raise FormatError(self.path, annotation.sourceline, f"annotation id {annotation_id} is used twice")
                self.annotations[annotation_id] = annotation
                self.annotation_tier[annotation_id] = tier.id
        self.slot_times = _slot_times(self.root)
        self._times_cache: dict[str, dict] = {}
        self._children_cache: dict[str, dict[str, list[str]]] = {}
        self._last_number: int | None = None

    def _children(self, tier_id: str) -> dict[str, list[str]]:
        """Parent annotation id -> the ids of its annotations on ``tier_id``, in order."""
        if tier_id not in self._children_cache:
            tier = self.tier_map[tier_id]
            annotations = _annotations(tier.element)
            if annotations and all(a.tag == "ALIGNABLE_ANNOTATION" for a in annotations) and tier.parent:
                found = self._children_by_time(tier, annotations)
            else:
                found = self._children_by_reference(tier, annotations)
            self._children_cache[tier_id] = found
        return self._children_cache[tier_id]

    def _children_by_reference(self, tier: _Tier, annotations: list[etree._Element]) -> dict[str, list[str]]:
        by_parent: dict[str, list[str]] = {}
        previous: dict[str, str | None] = {}
        for annotation in annotations:
            parent = annotation.get("ANNOTATION_REF")
            if parent is None or parent not in self.annotations:
                raise FormatError(self.path, annotation.sourceline,
                                  f"annotation {annotation.get('ANNOTATION_ID')} of tier '{tier.id}' refers to no "
                                  f"annotation ('{parent}')")
            by_parent.setdefault(parent, []).append(annotation.get("ANNOTATION_ID"))
            previous[annotation.get("ANNOTATION_ID")] = annotation.get("PREVIOUS_ANNOTATION")
        return {parent: _chain(ids, previous) for parent, ids in by_parent.items()}

    def _children_by_time(self, tier: _Tier, annotations: list[etree._Element]) -> dict[str, list[str]]:
        """A time-aligned child tier (``Time_Subdivision``, ``Included_In``):
        each annotation belongs to the parent annotation whose time it lies in."""
        parents = sorted((self._span(a), a.get("ANNOTATION_ID")) for a in self._tier_annotations(tier.parent))
        starts = [span[0] for span, _ in parents]
        by_parent: dict[str, list[tuple]] = {}
        for annotation in annotations:
            span = self._span(annotation)
            index = bisect.bisect_right(starts, span[0]) - 1
            while index >= 0 and not (parents[index][0][0] <= span[0] and span[1] <= parents[index][0][1]):
                index -= 1
            if index < 0:
                raise FormatError(self.path, annotation.sourceline,
                                  f"annotation {annotation.get('ANNOTATION_ID')} of tier '{tier.id}' lies in no "
                                  f"annotation of its parent tier '{tier.parent}'")
            by_parent.setdefault(parents[index][1], []).append((span, annotation.get("ANNOTATION_ID")))
        return {parent: [i for _, i in sorted(items)] for parent, items in by_parent.items()}

    def _tier_annotations(self, tier_id: str) -> list[etree._Element]:
        return _annotations(self.tier_map[tier_id].element)

    def _span(self, annotation: etree._Element) -> tuple[tuple[int, int], tuple[int, int]]:
        """An annotation's start and end as ordering keys (time, steps from
        it); an annotation without slots of its own takes its parent's."""
        seen = 0
        while annotation.tag != "ALIGNABLE_ANNOTATION":
            annotation = self.annotations.get(annotation.get("ANNOTATION_REF"))
            seen += 1
            if annotation is None or seen > 100:
                return ((-1, 0), (-1, 0))
        tier_id = self.annotation_tier[annotation.get("ANNOTATION_ID")]
        if tier_id not in self._times_cache:
            self._times_cache[tier_id] = self._resolve_times(tier_id)
        return self._times_cache[tier_id][annotation.get("ANNOTATION_ID")]

    def _resolve_times(self, tier_id: str) -> dict[str, tuple[tuple[int, int], tuple[int, int]]]:
        """The times of a tier's annotations. A time subdivision leaves the
        slots between its pieces unaligned (without TIME_VALUE, and listed
        anywhere in TIME_ORDER): such a piece starts at the last aligned slot
        before it along the chain of pieces, some steps on, and ends likewise
        at the next aligned slot after it."""
        annotations = self._tier_annotations(tier_id)
        starting = {a.get("TIME_SLOT_REF1"): a for a in annotations}
        ending = {a.get("TIME_SLOT_REF2"): a for a in annotations}
        for annotation in annotations:
            for name in ("TIME_SLOT_REF1", "TIME_SLOT_REF2"):
                if annotation.get(name) not in self.slot_times:
                    raise FormatError(self.path, annotation.sourceline,
                                      f"annotation {annotation.get('ANNOTATION_ID')} refers to time slot "
                                      f"'{annotation.get(name)}', which the file does not have")

        def walk(slot: str, links: dict, other: str, sign: int) -> tuple[int, int]:
            steps = 0
            while self.slot_times[slot] is None and slot in links and steps <= len(annotations):
                slot = links[slot].get(other)
                steps += 1
            time = self.slot_times.get(slot)
            return (time if time is not None else -1, sign * steps)

        return {a.get("ANNOTATION_ID"): (walk(a.get("TIME_SLOT_REF1"), ending, "TIME_SLOT_REF1", 1),
                                         walk(a.get("TIME_SLOT_REF2"), starting, "TIME_SLOT_REF2", -1))
                for a in annotations}

    def _value(self, annotation_id: str) -> str:
        return (self.annotations[annotation_id].findtext("ANNOTATION_VALUE") or "").strip()

    def _sentences(self) -> list[Sentence]:
        sentences = []
        for layout in self.layouts:
            sentences.extend(self._layout_sentences(layout))
        sentences.sort(key=lambda item: item[0])
        return [sentence for _, sentence in sentences]

    def _layout_sentences(self, layout: Layout) -> list[tuple[tuple, Sentence]]:
        words = self._children(layout.words)
        morphs = self._children(layout.morphs) if layout.morphs else {}
        translations = self._children(layout.translation) if layout.translation else {}
        found = []
        for annotation in self._tier_annotations(layout.utterance):
            utterance_id = annotation.get("ANNOTATION_ID")
            word_ids = words.get(utterance_id, [])
            if not word_ids:
                continue  # nothing tokenised under this utterance: nothing to gloss
            built = [self._word(layout, word_id, morphs.get(word_id, [])) for word_id in word_ids]
            holder = (utterance_id if self.tier_map[layout.translation or layout.utterance].parent == layout.utterance
                      else annotation.get("ANNOTATION_REF"))  # Toolbox's import: ft beside tx, under ref
            translation_ids = translations.get(holder, [])
            translation = self._value(translation_ids[0]) if translation_ids else None
            sentence = Sentence(utterance_id, built, translation or None, handle=utterance_id,
                                origin=f"{self.path}:{annotation.sourceline}")
            found.append((self._span(annotation)[0], sentence))
        return found

    def _word(self, layout: Layout, word_id: str, morph_ids: list[str]) -> Word:
        form = self._value(word_id)
        if not form:  # as a FLEx <word> without text: no form to write a gloss under
            raise FormatError(self.path, self.annotations[word_id].sourceline,
                              f"word {word_id} of tier '{layout.words}' is empty")
        if morph_ids and layout.glosses:
            slots = [self._slot(self._morph_form(layout, m), m, layout.glosses) for m in morph_ids]
            for slot in slots:
                # a morph left without a form has nothing to gloss: a person's gloss is read, none is added
                slot.locked = not slot.form and slot.state is GlossState.EMPTY
            # one morph that is the whole word is how a word gloss is kept: not an analysis
            segmented = len(slots) > 1 or slots[0].form != form
            return Word(form, slots, segmented=segmented, handle=word_id)
        if layout.word_glosses:
            return Word(form, [self._slot(form, word_id, layout.word_glosses)], segmented=False, handle=word_id)
        # no morph given and no tier for a word's gloss: nothing may be written for it
        return Word(form, [GlossSlot(form, locked=True)], segmented=False, handle=word_id)

    def _morph_form(self, layout: Layout, morph_id: str) -> str:
        """A morph's form: its own value, else (FLEx's import puts other
        writing systems beside it) the first associated non-gloss value."""
        form = self._value(morph_id)
        if form:
            return form
        for child in self.tier_map[layout.morphs].children:
            if child in (layout.glosses, layout.word_glosses) or _is_status(self.tiers, child):
                continue
            values = [self._value(i) for i in self._children(child).get(morph_id, [])]
            if values and values[0]:
                return values[0]
        return form

    def _slot(self, form: str, parent_id: str, tier: str) -> GlossSlot:
        gloss_ids = self._children(tier).get(parent_id, [])
        gloss = ".".join(value for value in (self._value(i) for i in gloss_ids) if value)
        guessed = bool(gloss_ids) and self._status_of(tier, gloss_ids[0]) == GUESS_VALUE
        state = GlossState.EMPTY if not gloss else GlossState.GUESS if guessed else GlossState.HUMAN
        return GlossSlot(form, gloss, state, handle=_SlotRef(parent_id, tier, gloss_ids))

    def _status_tier(self, gloss_tier: str) -> str | None:
        for child in self.tier_map[gloss_tier].children:
            if _is_status(self.tiers, child):
                return child
        return None

    def _status_of(self, gloss_tier: str, gloss_id: str) -> str | None:
        status = self._status_tier(gloss_tier)
        if status is None:
            return None
        ids = self._children(status).get(gloss_id, [])
        return self._value(ids[0]) if ids else None

    # -- writing ------------------------------------------------------------
    def write(self, path: str | os.PathLike) -> None:
        if not self.changed:
            data = self.data  # nothing was written into it: the file as it was
        else:
            data = _serialise(self.root, self.data)
        with atomic_write(path, "wb") as handle:
            handle.write(data)

    def _store(self, sentence: Sentence, word: Word, slot: GlossSlot, gloss: str, state: GlossState) -> None:
        ref: _SlotRef = slot.handle
        if ref is None:  # a locked slot never reaches here (set_gloss refuses it)
            raise FormatError(self.path, None, f"word '{word.form}' has no tier to write its gloss on")
        self.changed = True
        if ref.gloss_ids:
            _set_value(self.annotations[ref.gloss_ids[0]], gloss)
        else:
            ref.gloss_ids.append(self._add_annotation(ref.tier, ref.parent_id, gloss))
        self._set_status(ref.tier, ref.gloss_ids[0], state is GlossState.GUESS)

    def _set_status(self, gloss_tier: str, gloss_id: str, guess: bool) -> None:
        status = self._status_tier(gloss_tier)
        if status is None:
            if not guess:
                return
            status = self._add_status_tier(gloss_tier)
        ids = self._children(status).get(gloss_id, [])
        if guess and not ids:
            self._add_annotation(status, gloss_id, GUESS_VALUE)
        elif guess:
            _set_value(self.annotations[ids[0]], GUESS_VALUE)
        else:
            for annotation_id in ids:
                self._remove_annotation(status, gloss_id, annotation_id)

    def _add_annotation(self, tier_id: str, parent_id: str, value: str) -> str:
        """A new annotation on ``tier_id`` under ``parent_id`` (after its siblings there)."""
        tier = self.tier_map[tier_id]
        annotation_id = self._new_id()
        siblings = self._children(tier_id).get(parent_id, [])
        if tier.constraint in TIME_ALIGNED:
            # the only child of its parent: it takes the parent's time slots, as ELAN does
            parent = self.annotations[parent_id]
            inner = etree.Element("ALIGNABLE_ANNOTATION", ANNOTATION_ID=annotation_id,
                                  TIME_SLOT_REF1=parent.get("TIME_SLOT_REF1"),
                                  TIME_SLOT_REF2=parent.get("TIME_SLOT_REF2"))
        else:
            inner = etree.Element("REF_ANNOTATION", ANNOTATION_ID=annotation_id, ANNOTATION_REF=parent_id)
            if siblings and tier.subdivision:
                inner.set("PREVIOUS_ANNOTATION", siblings[-1])
        etree.SubElement(inner, "ANNOTATION_VALUE").text = value
        wrapper = etree.Element("ANNOTATION")
        wrapper.append(inner)
        _append_indented(tier.element, wrapper, self.root)
        self.annotations[annotation_id] = inner
        self.annotation_tier[annotation_id] = tier_id
        self._children_cache.get(tier_id, {}).setdefault(parent_id, []).append(annotation_id)
        return annotation_id

    def _remove_annotation(self, tier_id: str, parent_id: str, annotation_id: str) -> None:
        wrapper = self.annotations.pop(annotation_id).getparent()
        _remove_indented(wrapper)
        del self.annotation_tier[annotation_id]
        self._children_cache.get(tier_id, {}).get(parent_id, []).remove(annotation_id)

    def _add_status_tier(self, gloss_tier: str) -> str:
        """A tier for guess marks under ``gloss_tier`` (with its type, and the constraint if the file lacks it)."""
        name = self.tiers.status if self.tiers.status not in self.tier_map else f"{self.tiers.status}@{gloss_tier}"
        type_id = self.tiers.status
        types = {t.get("LINGUISTIC_TYPE_ID"): t for t in self.root.iter("LINGUISTIC_TYPE")}
        if types.get(type_id) is not None and types[type_id].get("CONSTRAINTS") != ASSOCIATION:
            type_id = f"{self.tiers.status}-association"
        if type_id not in types:
            _insert_after_last(self.root, ("LINGUISTIC_TYPE",), etree.Element(
                "LINGUISTIC_TYPE", CONSTRAINTS=ASSOCIATION, GRAPHIC_REFERENCES="false", LINGUISTIC_TYPE_ID=type_id,
                TIME_ALIGNABLE="false"))
        if not any(c.get("STEREOTYPE") == ASSOCIATION for c in self.root.iter("CONSTRAINT")):
            _insert_after_last(self.root, ("CONSTRAINT", "LANGUAGE", "LOCALE", "LINGUISTIC_TYPE"), etree.Element(
                "CONSTRAINT", DESCRIPTION=CONSTRAINT_DESCRIPTIONS[ASSOCIATION], STEREOTYPE=ASSOCIATION))
        element = etree.Element("TIER", LINGUISTIC_TYPE_REF=type_id, PARENT_REF=gloss_tier, TIER_ID=name)
        _insert_after_last(self.root, ("TIER",), element)
        self.tier_map[name] = _Tier(name, element, type_id, ASSOCIATION, gloss_tier, None)
        self.tier_map[gloss_tier].children.append(name)
        return name

    def _new_id(self) -> str:
        """A fresh ``a<N>`` id, numbered on from ``lastUsedAnnotationId`` (which
        is advanced, or added to the header, so ELAN never hands it out again)."""
        header = self.root.find("HEADER")
        if header is None:
            raise FormatError(self.path, self.root.sourceline, "the file has no HEADER for lastUsedAnnotationId")
        prop = next((p for p in header.iter("PROPERTY") if p.get("NAME") == LAST_ID_PROPERTY), None)
        if self._last_number is None:
            numbers = [int(m.group(1)) for m in map(_ANNOTATION_NUMBER.fullmatch, self.annotations) if m]
            self._last_number = max(numbers, default=0)
        last = self._last_number
        if prop is not None and (prop.text or "").strip().isdigit():
            last = max(last, int(prop.text.strip()))
        number = last + 1
        while f"a{number}" in self.annotations:
            number += 1
        if prop is None:
            prop = etree.Element("PROPERTY", NAME=LAST_ID_PROPERTY)
            _append_indented(header, prop, self.root)
        prop.text = str(number)
        self._last_number = number
        return f"a{number}"

    # -- new documents --------------------------------------------------------
    @classmethod
    def from_sentences(cls, sentences: list[Sentence], language: Language | None = None,
                       tiers: ElanTiers | None = None) -> ElanDocument:
        """A new file without a recording: each sentence gets a
        :data:`SENTENCE_MS` stretch of time, one after the other; every word
        gets its morphs (an unanalysed word one, the word itself)."""
        tiers = tiers or ElanTiers()
        data = _new_file(sentences, tiers)
        document = cls._from_bytes(data, "<new ELAN file>", tiers)
        for source, target in zip(sentences, document.sentences):
            target.accepted, target.origin = source.accepted, source.origin
            for (w, m, old), (_, _, new) in zip(source.slots(), target.slots()):
                if old.gloss:
                    document._store(target, target.words[w], new, old.gloss, old.state)
                    new.gloss, new.state = old.gloss, old.state
                new.confidence = old.confidence
        document.changed = True
        return document


# -- the tiers and their layout ----------------------------------------------------------------
def _tiers(path: str, root: etree._Element) -> dict[str, _Tier]:
    types = {t.get("LINGUISTIC_TYPE_ID"): t for t in root.findall("LINGUISTIC_TYPE")}
    tiers: dict[str, _Tier] = {}
    for element in root.findall("TIER"):
        tier_id = element.get("TIER_ID")
        if not tier_id:
            raise FormatError(path, element.sourceline, "a TIER has no TIER_ID")
        if tier_id in tiers:
            raise FormatError(path, element.sourceline, f"tier '{tier_id}' is defined twice")
        type_id = element.get("LINGUISTIC_TYPE_REF")
        kind = types.get(type_id)
        constraint = kind.get("CONSTRAINTS") if kind is not None else None
        parent = element.get("PARENT_REF")
        if parent and constraint is None:
            # a dependent tier whose type names no constraint: its annotations say which kind it is
            first = next(iter(_annotations(element)), None)
            constraint = "Included_In" if first is not None and first.tag == "ALIGNABLE_ANNOTATION" else ASSOCIATION
        tiers[tier_id] = _Tier(tier_id, element, type_id, constraint if parent else None, parent, element.sourceline)
    for tier in tiers.values():
        if tier.parent is not None:
            if tier.parent not in tiers:
                raise FormatError(path, tier.line, f"tier '{tier.id}' has parent '{tier.parent}', which the file "
                                                   f"does not have")
            tiers[tier.parent].children.append(tier.id)
    return tiers


def _annotations(tier: etree._Element) -> list[etree._Element]:
    return [inner for wrapper in tier.findall("ANNOTATION") for inner in wrapper
            if inner.tag in ("ALIGNABLE_ANNOTATION", "REF_ANNOTATION")]


def _is_status(tiers: ElanTiers, tier_id: str) -> bool:
    return tier_id == tiers.status or tier_id.startswith(tiers.status + "@")


_NO_NAME = (9, 9)


def _name_rank(tier: _Tier, patterns: tuple[re.Pattern, ...]) -> tuple[int, int]:
    """How well a tier's name, then its type's, says it is what ``patterns``
    look for: lower is better, :data:`_NO_NAME` for no match at all."""
    def rank(name: str) -> int:
        return next((index for index, pattern in enumerate(patterns) if pattern.search(name.lower())), 9)
    found = (rank(tier.id), rank(tier.type or ""))
    return found if found != (9, 9) else _NO_NAME


def _named(tier: _Tier, patterns: tuple[re.Pattern, ...]) -> bool:
    return _name_rank(tier, patterns) != _NO_NAME


def detect_layouts(path: str, tiers: dict[str, _Tier]) -> list[Layout]:
    """The interlinear chains of a file, from its tiers' constraints and parent links.

    A gloss tier is a dependent tier with no subdivision under it, whose
    parent subdivides a tier (the morphs, or the words) that in turn hangs
    under another (the words, or the utterance). Names only break ties: where
    one parent has several such tiers (FLEx's morph items: form, gloss in two
    languages), and where a file has several chains (speakers, or a gesture
    tier beside the speech), only chains whose gloss tier is named so
    (gloss, gls, ge, Glosse, glosa...) are taken. Where nothing can be told
    apart, the error names the tiers and what to pass."""
    candidates: dict[str, list[_Tier]] = {}
    for tier in tiers.values():
        if tier.parent is None or _is_status(ElanTiers(), tier.id):
            continue
        if any(tiers[c].subdivision for c in tier.children):
            continue
        parent = tiers[tier.parent]
        if parent.subdivision and parent.parent is not None:
            candidates.setdefault(parent.id, []).append(tier)
    for parent_id in list(candidates):  # a morph tier is no gloss tier of the words above it
        candidates[parent_id] = [t for t in candidates[parent_id] if t.id not in candidates]
    layouts = [layout for parent_id, glosses in candidates.items()
               if (layout := _layout_under(tiers, tiers[parent_id], _choose(glosses, _GLOSS_NAMES))) is not None]
    named = [layout for layout in layouts if _named(tiers[layout.glosses or layout.word_glosses], _GLOSS_NAMES)]
    layouts = _one_per_utterance_tier(tiers, named or layouts)
    if layouts and (named or len(layouts) == 1):
        return layouts
    found = ", ".join(f"{t.id} ({t.constraint or 'independent'}{', under ' + t.parent if t.parent else ''})"
                      for t in tiers.values()) or "none"
    what = "several possible layouts" if layouts else "no interlinear layout (utterance > words > [morphs >] glosses)"
    raise FormatError(path, None, f"{what} found; tiers: {found}; name them with --elan-tiers "
                                  f"utterance=TIER,words=TIER,morphs=TIER,glosses=TIER,translation=TIER")


def _one_per_utterance_tier(tiers: dict[str, _Tier], layouts: list[Layout]) -> list[Layout]:
    """One chain per utterance tier (else each sentence would be read twice):
    the one with morphs, else the better named gloss tier; a tie is no layout."""
    def rank(layout: Layout) -> tuple:
        return (layout.morphs is None, _name_rank(tiers[layout.glosses or layout.word_glosses], _GLOSS_NAMES))
    by_utterance: dict[str, list[Layout]] = {}
    for layout in layouts:
        by_utterance.setdefault(layout.utterance, []).append(layout)
    chosen = []
    for group in by_utterance.values():
        group.sort(key=rank)
        if len(group) == 1 or rank(group[0]) != rank(group[1]):
            chosen.append(group[0])
    return chosen


def _layout_under(tiers: dict[str, _Tier], parent: _Tier, glosses: _Tier | None) -> Layout | None:
    """The chain that ``glosses`` (a gloss tier under ``parent``) ends."""
    if glosses is None:
        return None
    grand = tiers[parent.parent]
    if grand.subdivision and grand.parent is not None:
        # utterance > words > morphs > glosses, and maybe glosses of whole words beside the morphs
        word_glosses = sorted((t for t in (tiers[c] for c in grand.children)
                               if t.association and t.id != parent.id and _named(t, _GLOSS_NAMES)),
                              key=lambda t: _name_rank(t, _GLOSS_NAMES))
        return Layout(grand.parent, grand.id, parent.id, glosses.id, word_glosses[0].id if word_glosses else None,
                      _translation(tiers, tiers[grand.parent]))
    if any(tiers[c].subdivision and c != glosses.id for c in parent.children):
        return None  # the "words" are subdivided further: not words
    # utterance > words > glosses of whole words
    return Layout(grand.id, parent.id, None, None, glosses.id, _translation(tiers, grand))


def _choose(candidates: list[_Tier], patterns: tuple[re.Pattern, ...]) -> _Tier | None:
    """The candidate whose name fits best (alone, or clearly best)."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    ranked = sorted(candidates, key=lambda t: _name_rank(t, patterns))
    best = _name_rank(ranked[0], patterns)
    if best == _NO_NAME or _name_rank(ranked[1], patterns) == best:
        return None
    return ranked[0]


def _translation(tiers: dict[str, _Tier], utterance: _Tier) -> str | None:
    """An associated tier of the utterance (or of the tier it is associated
    with) that names a translation (the best named; a lone one unnamed)."""
    holders = [utterance]
    if utterance.association and utterance.parent:
        holders.append(tiers[utterance.parent])  # Toolbox's import: ft hangs under ref, tx beside it
    found = [tiers[c] for holder in holders for c in holder.children
             if tiers[c].association and tiers[c].id != utterance.id]
    named = sorted((t for t in found if _named(t, _TRANSLATION_NAMES)), key=lambda t: _name_rank(t, _TRANSLATION_NAMES))
    choice = named[:1] or (found if len(found) == 1 else [])
    return choice[0].id if choice else None


def _given_layout(path: str, tiers: dict[str, _Tier], given: ElanTiers) -> Layout:
    """The layout ``--elan-tiers`` names, checked: each tier exists and sits under the one its role needs."""
    available = ", ".join(tiers) or "none"
    for role in ("utterance", "words", "glosses"):
        tier = getattr(given, role)
        if tier not in tiers:
            raise FormatError(path, None, f"no {role} tier '{tier}' (tiers in the file: {available}; "
                                          f"map them with --elan-tiers {role}=TIER,...)")
    morphs = given.morphs if given.morphs in tiers else None
    if morphs is None and tiers[given.glosses].parent == given.words:
        layout = Layout(given.utterance, given.words, None, None, given.glosses,
                        given.translation if given.translation in tiers else None)
    else:
        if morphs is None:
            raise FormatError(path, None, f"no morphs tier '{given.morphs}' (tiers in the file: {available}; "
                                          f"map them with --elan-tiers morphs=TIER,...)")
        layout = Layout(given.utterance, given.words, morphs, given.glosses,
                        given.word_glosses if given.word_glosses in tiers else None,
                        given.translation if given.translation in tiers else None)
    checks = [("words", layout.words, layout.utterance), ("morphs", layout.morphs, layout.words),
              ("glosses", layout.glosses, layout.morphs), ("word_glosses", layout.word_glosses, layout.words),
              ("translation", layout.translation, layout.utterance)]
    for role, tier, parent in checks:
        if tier is not None and tiers[tier].parent != parent:
            raise FormatError(path, tiers[tier].line, f"{role} tier '{tier}' should be under '{parent}', "
                                                      f"not '{tiers[tier].parent}'")
    for role, tier in (("words", layout.words), ("morphs", layout.morphs)):
        if tier is not None and not tiers[tier].subdivision:
            raise FormatError(path, tiers[tier].line, f"{role} tier '{tier}' should subdivide its parent "
                                                      f"(its type's constraint is {tiers[tier].constraint})")
    return layout


def _chain(ids: list[str], previous: dict[str, str | None]) -> list[str]:
    """Sibling ids in ELAN's order (the PREVIOUS_ANNOTATION chain), else in file order."""
    members = set(ids)
    following = {previous[i]: i for i in ids if previous[i] in members}
    firsts = [i for i in ids if previous[i] not in members]
    if len(firsts) != 1:
        return ids
    ordered, current = [], firsts[0]
    while current is not None and len(ordered) < len(ids):
        ordered.append(current)
        current = following.get(current)
    return ordered if len(ordered) == len(ids) else ids


def _slot_times(root: etree._Element) -> dict[str, int | None]:
    """Each time slot's time in milliseconds (None: unaligned)."""
    times = {}
    for slot in root.iter("TIME_SLOT"):
        value = (slot.get("TIME_VALUE") or "").strip()
        times[slot.get("TIME_SLOT_ID")] = int(value) if value.lstrip("-").isdigit() else None
    return times


# -- editing the tree as the file is laid out ---------------------------------------------------
def _set_value(annotation: etree._Element, value: str) -> None:
    holder = annotation.find("ANNOTATION_VALUE")
    if holder is None:
        holder = etree.SubElement(annotation, "ANNOTATION_VALUE")
    holder.text = value


def _indent_unit(root: etree._Element) -> str:
    text = root.text or ""
    return text.rsplit("\n", 1)[-1] if "\n" in text else "    "


def _append_indented(parent: etree._Element, child: etree._Element, root: etree._Element) -> None:
    """Append ``child`` as the last child of ``parent``, indented as its siblings are."""
    unit = _indent_unit(root)
    depth = sum(1 for _ in parent.iterancestors())
    outer = "\n" + unit * depth
    inner = "\n" + unit * (depth + 1)
    if len(parent) and parent.text is None and parent[-1].tail is None:
        parent.append(child)  # a part of the file written without line breaks: so is the new element
        return
    if len(parent):
        last = parent[-1]
        closing = last.tail if last.tail is not None else outer
        before = parent[-2].tail if len(parent) > 1 and parent[-2].tail else (parent.text or inner)
        last.tail = before
        parent.append(child)
        child.tail = closing
    else:
        parent.text = inner
        parent.append(child)
        child.tail = outer
    _indent_inside(child, inner, unit)


def _indent_inside(element: etree._Element, own: str, unit: str) -> None:
    """Indent a new element's own children (ANNOTATION > REF_ANNOTATION > ANNOTATION_VALUE)."""
    if len(element) == 0:
        return
    element.text = own + unit
    for child in element:
        child.tail = own + unit
        _indent_inside(child, own + unit, unit)
    element[-1].tail = own


def _remove_indented(element: etree._Element) -> None:
    parent = element.getparent()
    index = parent.index(element)
    if index > 0:
        parent[index - 1].tail = element.tail if index == len(parent) - 1 else parent[index - 1].tail
    elif len(parent) == 1:
        parent.text = None
    parent.remove(element)


def _insert_after_last(root: etree._Element, tags: Iterable[str], element: etree._Element) -> None:
    """Put a new top-level element after the last of the first of ``tags`` the file has."""
    for tag in tags:
        found = root.findall(tag)
        if found:
            last = found[-1]
            last.addnext(element)
            element.tail = last.tail
            previous = last.getprevious()
            last.tail = previous.tail if previous is not None else root.text
            return
    _append_indented(root, element, root)


# -- serialising --------------------------------------------------------------------------------
_TOKENS = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^>]*>|"
                     rb"<([A-Za-z_][\w.\-:]*)(?:\s+[^\s=>/]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*(/?)>", re.S)


def _keep_empty_pairs(root: etree._Element, original: bytes) -> None:
    """Give the elements the file wrote as ``<X></X>`` (ELAN's empty
    ANNOTATION_VALUE) an empty text, so that they are written so again."""
    opened = [m for m in _TOKENS.finditer(original) if m.group(1)]
    elements = list(root.iter(tag=etree.Element))
    if len(opened) != len(elements):
        return  # (an entity or a construct the scan does not know: leave lxml's form)
    for match, element in zip(opened, elements):
        if (not match.group(2) and element.text is None and len(element) == 0
                and original.startswith(b"</" + match.group(1), match.end())):
            element.text = ""


def _serialise(root: etree._Element, original: bytes) -> bytes:
    """The tree as bytes, with the file's own prolog (declaration, comments),
    root start tag (lxml would put the namespace declarations first) and
    ending; a file in plain ASCII (all else as character references) stays so."""
    body = etree.tostring(root, encoding="ASCII" if original.isascii() else "UTF-8")
    start = next((m for m in _TOKENS.finditer(original) if m.group(1)), None)
    if start is None:
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"
    new_start = next(m for m in _TOKENS.finditer(body) if m.group(1))
    body = original[start.start():start.end()] + body[new_start.end():]
    closing = original.rfind(b"</" + root.tag.encode())
    ending = original[original.index(b">", closing) + 1:] if closing >= 0 else b"\n"
    return original[:start.start()] + body + ending


def _new_file(sentences: list[Sentence], tiers: ElanTiers) -> bytes:
    """A new ELAN file of these sentences (words and morphs, no glosses yet)."""
    now = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    root = etree.Element("ANNOTATION_DOCUMENT", nsmap={"xsi": XSI}, AUTHOR="autogloss", DATE=now, FORMAT="3.0",
                         VERSION="3.0")
    root.set(SCHEMA_ATTRIBUTE, SCHEMA_LOCATION)
    header = etree.SubElement(root, "HEADER", MEDIA_FILE="", TIME_UNITS="milliseconds")
    last_id = etree.SubElement(header, "PROPERTY", NAME=LAST_ID_PROPERTY)
    time_order = etree.SubElement(root, "TIME_ORDER")
    layout = [(tiers.utterance, None, None), (tiers.words, "Symbolic_Subdivision", tiers.utterance),
              (tiers.morphs, "Symbolic_Subdivision", tiers.words), (tiers.glosses, ASSOCIATION, tiers.morphs),
              (tiers.translation, ASSOCIATION, tiers.utterance)]
    elements = {}
    for tier_id, constraint, parent in layout:
        attributes = {"LINGUISTIC_TYPE_REF": tier_id, **({"PARENT_REF": parent} if parent else {}), "TIER_ID": tier_id}
        elements[tier_id] = etree.SubElement(root, "TIER", attributes)
    counter = iter(range(1, 10**9))

    def annotation(tier_id: str, value: str, **attributes: str) -> str:
        annotation_id = f"a{next(counter)}"
        kind = "REF_ANNOTATION" if "ANNOTATION_REF" in attributes else "ALIGNABLE_ANNOTATION"
        inner = etree.SubElement(etree.SubElement(elements[tier_id], "ANNOTATION"), kind,
                                 {"ANNOTATION_ID": annotation_id, **attributes})
        etree.SubElement(inner, "ANNOTATION_VALUE").text = value
        return annotation_id

    for index, sentence in enumerate(sentences):
        start, end = f"ts{2 * index + 1}", f"ts{2 * index + 2}"
        etree.SubElement(time_order, "TIME_SLOT", TIME_SLOT_ID=start, TIME_VALUE=str(index * SENTENCE_MS))
        etree.SubElement(time_order, "TIME_SLOT", TIME_SLOT_ID=end,
                         TIME_VALUE=str(index * SENTENCE_MS + SENTENCE_MS - 100))
        utterance = annotation(tiers.utterance, " ".join(w.form for w in sentence.words),
                               TIME_SLOT_REF1=start, TIME_SLOT_REF2=end)
        previous_word = None
        for word in sentence.words:
            links = {"PREVIOUS_ANNOTATION": previous_word} if previous_word else {}
            previous_word = annotation(tiers.words, word.form, ANNOTATION_REF=utterance, **links)
            previous_morph = None
            for slot in word.slots:
                links = {"PREVIOUS_ANNOTATION": previous_morph} if previous_morph else {}
                previous_morph = annotation(tiers.morphs, slot.form, ANNOTATION_REF=previous_word, **links)
        if sentence.translation:
            annotation(tiers.translation, sentence.translation, ANNOTATION_REF=utterance)
    last_id.text = str(next(counter) - 1)
    for tier_id, constraint, _ in layout:
        attributes = {**({"CONSTRAINTS": constraint} if constraint else {}), "GRAPHIC_REFERENCES": "false",
                      "LINGUISTIC_TYPE_ID": tier_id, "TIME_ALIGNABLE": "false" if constraint else "true"}
        etree.SubElement(root, "LINGUISTIC_TYPE", attributes)
    for stereotype, description in CONSTRAINT_DESCRIPTIONS.items():
        etree.SubElement(root, "CONSTRAINT", DESCRIPTION=description, STEREOTYPE=stereotype)
    etree.indent(root, space="    ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8") + b"\n"


def layout_of(document: ElanDocument) -> str:
    """The layouts found, as the ``--elan-tiers`` value that names them (one per chain, ';' between)."""
    return "; ".join(layout.describe() for layout in document.layouts)

