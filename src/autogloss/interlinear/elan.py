"""ELAN annotation files (``.eaf``) through ``pympi-ling``.

Which tiers hold what is configurable (:class:`ElanTiers`): a time-aligned
utterance tier; under it a words tier (symbolic subdivision); under the
words a morphs tier (symbolic subdivision); under the morphs a glosses tier
(symbolic association); and a free translation tier associated with the
utterances. Words and morphs are ordered by ELAN's ``PREVIOUS_ANNOTATION``
chain.

ELAN has no notion of a machine guess, so autogloss marks each guessed gloss
with a ``guess`` annotation on a status tier under the glosses tier
(``autogloss-status``, created when first needed). Deleting that annotation
in ELAN accepts the gloss. A gloss without it is a person's and is never
changed.

pympi keeps the document model; what it does not model (the schema location,
attributes on single annotations such as ``LANG_REF`` or ``CVE_REF``) is read
separately and restored on writing, so an unchanged file comes back as the
same XML tree. pympi also expects time slot ids of the form ``ts<N>`` (ELAN's
own); a file with other ids (``t1``, ``slot_a``: the schema allows any) is
read with its slots numbered in file order and written with its own ids.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

import pympi
from lxml import etree

from ..errors import FormatError
from ..fileio import atomic_write
from ..records import Language
from .document import GlossSlot, GlossState, InterlinearDocument, Sentence, Word, parse_role_pairs, parse_xml

GUESS_VALUE = "guess"
SCHEMA_ATTRIBUTE = "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation"
#: Annotation attributes pympi itself reads and writes.
_PYMPI_ANNOTATION_ATTRIBUTES = {"ANNOTATION_ID", "TIME_SLOT_REF1", "TIME_SLOT_REF2", "SVG_REF",
                                "ANNOTATION_REF", "PREVIOUS_ANNOTATION"}
#: Milliseconds given to each sentence of a new file, which has no recording.
SENTENCE_MS = 2000
#: Time slot ids pympi can read, order and number from.
_PYMPI_SLOT_ID = re.compile(r"ts\d+")


@dataclass(frozen=True)
class ElanTiers:
    """Tier ids of each role."""

    utterance: str = "utterance"
    words: str = "words"
    morphs: str = "morphs"
    glosses: str = "glosses"
    translation: str = "translation"
    status: str = "autogloss-status"

    @classmethod
    def parse(cls, spec: str | None) -> ElanTiers:
        """From ``"utterance=A,words=A-words,morphs=A-morph,glosses=A-gloss,translation=A-ft"``."""
        if not spec:
            return cls()
        roles = {name: name for name in cls.__dataclass_fields__}
        values = parse_role_pairs(spec, "--elan-tiers", "TIER", roles, ", ".join(roles))
        return cls(**values)


@dataclass(eq=False)
class _SlotRef:
    """Where one gloss lives: its morph (None for an unanalysed word) and word annotation."""

    word_id: str
    morph_id: str | None


class ElanDocument(InterlinearDocument):
    format_name = "elan"

    def __init__(self, eaf: pympi.Elan.Eaf, tiers: ElanTiers, sentences: list[Sentence],
                 schema_location: str | None, annotation_attributes: dict[str, dict[str, str]],
                 slot_ids: dict[str, str] | None = None):
        super().__init__(sentences, Language())
        self.eaf = eaf
        self.tiers = tiers
        self.schema_location = schema_location
        self.annotation_attributes = annotation_attributes
        #: pympi's time slot id -> the file's, for a file whose ids are not ts<N>
        self.slot_ids = slot_ids or {}

    # -- reading ------------------------------------------------------------
    @classmethod
    def read(cls, path: str | os.PathLike, tiers: ElanTiers | None = None) -> ElanDocument:
        path = os.fspath(path)
        tiers = tiers or ElanTiers()
        root, tier_lines = _parse(path)
        if root.tag != "ANNOTATION_DOCUMENT":
            raise FormatError(path, root.sourceline, f"not an ELAN file: root element is <{root.tag}>")
        if root.get(SCHEMA_ATTRIBUTE) is None:
            # pympi cannot read a file without it; ELAN itself always writes one
            raise FormatError(path, root.sourceline, "ANNOTATION_DOCUMENT has no xsi:noNamespaceSchemaLocation "
                                                     "(not a file saved by ELAN?)")
        slot_ids = _number_time_slots(root)
        if slot_ids:
            # pympi reads from a path: give it the file with its time slots numbered
            with tempfile.TemporaryDirectory(prefix="autogloss-eaf-") as scratch:
                numbered = os.path.join(scratch, "numbered.eaf")
                etree.ElementTree(root).write(numbered, encoding="UTF-8", xml_declaration=True)
                eaf = _pympi_read(path, numbered)
        else:
            eaf = _pympi_read(path, path)
        attributes = {}
        for annotation in root.iter("ALIGNABLE_ANNOTATION", "REF_ANNOTATION"):
            extra = {k: v for k, v in annotation.attrib.items() if k not in _PYMPI_ANNOTATION_ATTRIBUTES}
            if extra:
                attributes[annotation.get("ANNOTATION_ID")] = extra
        _check_tiers(path, eaf, tiers, tier_lines)
        word_lines = {annotation.get("ANNOTATION_ID"): annotation.sourceline
                      for annotation in root.iter("REF_ANNOTATION")}
        for annotation_id, (_, value, _, _) in eaf.tiers[tiers.words][1].items():
            if not (value or "").strip():  # as a FLEx <word> without text: no form to write a gloss under
                raise FormatError(path, word_lines.get(annotation_id),
                                  f"word {annotation_id} of tier '{tiers.words}' is empty")
        document = cls(eaf, tiers, [], root.get(SCHEMA_ATTRIBUTE), attributes, slot_ids)
        document.sentences = document._sentences()
        return document

    def _sentences(self) -> list[Sentence]:
        eaf, tiers = self.eaf, self.tiers
        aligned = eaf.tiers[tiers.utterance][0]
        times = eaf.timeslots

        def start(item):
            value = times.get(item[1][0])
            return value if value is not None else -1

        words_by_parent = _children(eaf, tiers.words)
        morphs_by_parent = _children(eaf, tiers.morphs)
        glosses = _first_child(eaf, tiers.glosses)
        status = _first_child(eaf, tiers.status) if tiers.status in eaf.tiers else {}
        translations = _first_child(eaf, tiers.translation) if tiers.translation in eaf.tiers else {}
        sentences = []
        for utterance_id, _ in sorted(aligned.items(), key=start):
            word_ids = words_by_parent.get(utterance_id, [])
            if not word_ids:
                continue  # nothing tokenised under this utterance: nothing to gloss
            built = []
            for word_id in word_ids:
                word_form = self._value(tiers.words, word_id)
                morph_ids = morphs_by_parent.get(word_id, [])
                refs = [_SlotRef(word_id, m) for m in morph_ids] or [_SlotRef(word_id, None)]
                slots = [self._slot(ref, word_form, glosses, status) for ref in refs]
                # one morph that is the whole word is how a word gloss is kept: not an analysis
                segmented = len(slots) > 1 or (bool(morph_ids) and slots[0].form != word_form)
                built.append(Word(word_form, slots, segmented=segmented, handle=word_id))
            translation_id = translations.get(utterance_id)
            translation = self._value(tiers.translation, translation_id) if translation_id else None
            sentences.append(Sentence(utterance_id, built, translation or None, handle=utterance_id))
        return sentences

    def _value(self, tier: str, annotation_id: str) -> str:
        return (self.eaf.tiers[tier][1][annotation_id][1] or "").strip()

    def _slot(self, ref: _SlotRef, word_form: str, glosses: dict, status: dict) -> GlossSlot:
        form = self._value(self.tiers.morphs, ref.morph_id) if ref.morph_id else word_form
        gloss_id = glosses.get(ref.morph_id) if ref.morph_id else None
        gloss = self._value(self.tiers.glosses, gloss_id) if gloss_id else ""
        guessed = gloss_id in status and self._value(self.tiers.status, status[gloss_id]) == GUESS_VALUE
        state = GlossState.EMPTY if not gloss else GlossState.GUESS if guessed else GlossState.HUMAN
        return GlossSlot(form, gloss, state, handle=ref)

    # -- writing ------------------------------------------------------------
    def write(self, path: str | os.PathLike) -> None:
        if self.schema_location:
            # pympi drops the file's own schema location and puts its default in
            self.eaf.adocument["xsi:noNamespaceSchemaLocation"] = self.schema_location
        root = pympi.Elan.to_adocument(self.eaf, pretty=True)
        if self.slot_ids:
            _restore_time_slot_ids(root, self.slot_ids)
        for annotation in root.iter():
            extra = self.annotation_attributes.get(annotation.get("ANNOTATION_ID"))
            if extra and annotation.tag in ("ALIGNABLE_ANNOTATION", "REF_ANNOTATION"):
                annotation.attrib.update(extra)
        with atomic_write(path) as handle:
            handle.write('<?xml version="1.0" encoding="UTF-8"?>\n')
            handle.write(ElementTree.tostring(root, encoding="unicode"))
            handle.write("\n")

    def _store(self, sentence: Sentence, word: Word, slot: GlossSlot, gloss: str, state: GlossState) -> None:
        ref: _SlotRef = slot.handle
        tiers = self.tiers
        if ref.morph_id is None:
            # An unanalysed word gets one morph, the whole word, to hang its gloss on.
            ref.morph_id = self._add_ref(tiers.morphs, ref.word_id, word.form)
        gloss_id = _first_child(self.eaf, tiers.glosses).get(ref.morph_id)
        if gloss_id is None:
            gloss_id = self._add_ref(tiers.glosses, ref.morph_id, gloss)
        else:
            self._set_value(tiers.glosses, gloss_id, gloss)
        self._set_status(gloss_id, state is GlossState.GUESS)

    def _set_status(self, gloss_id: str, guess: bool) -> None:
        tiers = self.tiers
        if tiers.status not in self.eaf.tiers:
            if not guess:
                return
            self._add_status_tier()
        status_id = _first_child(self.eaf, tiers.status).get(gloss_id)
        if guess and status_id is None:
            self._add_ref(tiers.status, gloss_id, GUESS_VALUE)
        elif guess:
            self._set_value(tiers.status, status_id, GUESS_VALUE)
        elif status_id is not None:
            del self.eaf.tiers[tiers.status][1][status_id]
            del self.eaf.annotations[status_id]

    def _add_status_tier(self) -> None:
        eaf = self.eaf
        eaf.constraints.setdefault("Symbolic_Association", pympi.Elan.Eaf.CONSTRAINTS["Symbolic_Association"])
        if self.tiers.status not in eaf.linguistic_types:
            eaf.add_linguistic_type(self.tiers.status, "Symbolic_Association", timealignable=False)
        eaf.add_tier(self.tiers.status, ling=self.tiers.status, parent=self.tiers.glosses)

    def _set_value(self, tier: str, annotation_id: str, value: str) -> None:
        ref, _, previous, svg = self.eaf.tiers[tier][1][annotation_id]
        self.eaf.tiers[tier][1][annotation_id] = (ref, value, previous, svg)

    def _add_ref(self, tier: str, parent_id: str, value: str, previous: str | None = None) -> str:
        annotation_id = self._new_id()
        self.eaf.tiers[tier][1][annotation_id] = (parent_id, value, previous, None)
        self.eaf.annotations[annotation_id] = tier
        return annotation_id

    def _new_id(self) -> str:
        eaf = self.eaf
        annotation_id = eaf.generate_annotation_id()
        while annotation_id in eaf.annotations:
            annotation_id = eaf.generate_annotation_id()
        # ELAN numbers its next annotation from this header property.
        eaf.properties = [(name, eaf.maxaid if name == "lastUsedAnnotation" else value)
                          for name, value in eaf.properties]
        return annotation_id

    # -- new documents --------------------------------------------------------
    @classmethod
    def from_sentences(cls, sentences: list[Sentence], language: Language | None = None,
                       tiers: ElanTiers | None = None) -> ElanDocument:
        """A new file without a recording: each sentence gets a
        :data:`SENTENCE_MS` stretch of time, one after the other."""
        tiers = tiers or ElanTiers()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eaf = pympi.Elan.Eaf(author="autogloss")
        eaf.remove_tier("default")
        for tier, constraint, parent in ((tiers.utterance, None, None),
                                         (tiers.words, "Symbolic_Subdivision", tiers.utterance),
                                         (tiers.morphs, "Symbolic_Subdivision", tiers.words),
                                         (tiers.glosses, "Symbolic_Association", tiers.morphs),
                                         (tiers.translation, "Symbolic_Association", tiers.utterance)):
            eaf.add_linguistic_type(tier, constraint, timealignable=constraint is None)
            eaf.add_tier(tier, ling=tier, parent=parent)
        document = cls(eaf, tiers, [], None, {})
        for index, sentence in enumerate(sentences):
            document._add_sentence(sentence, index)
        document.sentences = document._sentences()
        for source, target in zip(sentences, document.sentences):
            target.accepted = source.accepted
            for (w, m, old), (_, _, new) in zip(source.slots(), target.slots()):
                if old.gloss:
                    document._store(target, target.words[w], new, old.gloss, old.state)
                    new.gloss, new.state = old.gloss, old.state
                new.confidence = old.confidence
        return document

    def _add_sentence(self, sentence: Sentence, index: int) -> None:
        eaf, tiers = self.eaf, self.tiers
        start = eaf.generate_ts_id(index * SENTENCE_MS)
        end = eaf.generate_ts_id(index * SENTENCE_MS + SENTENCE_MS - 100)
        utterance_id = self._new_id()
        text = " ".join(word.form for word in sentence.words)
        eaf.tiers[tiers.utterance][0][utterance_id] = (start, end, text, None)
        eaf.annotations[utterance_id] = tiers.utterance
        previous_word = None
        for word in sentence.words:
            previous_word = self._add_ref(tiers.words, utterance_id, word.form, previous_word)
            previous_morph = None
            for slot in word.slots:
                previous_morph = self._add_ref(tiers.morphs, previous_word, slot.form, previous_morph)
        if sentence.translation:
            self._add_ref(tiers.translation, utterance_id, sentence.translation)


def _parse(path: str) -> tuple[etree._Element, dict[str, int]]:
    root = parse_xml(path).getroot()
    return root, {tier.get("TIER_ID"): tier.sourceline for tier in root.iter("TIER")}


def _pympi_read(path: str, source: str) -> pympi.Elan.Eaf:
    """pympi's model of the file ``source`` (``path`` itself, or a copy of it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pympi.Elan.Eaf(source, suppress_version_warning=True)
    except Exception as error:  # pympi reports malformed content with bare exceptions
        raise FormatError(path, None, f"ELAN file pympi cannot read ({type(error).__name__}: {error})") from None


def _number_time_slots(root: etree._Element) -> dict[str, str]:
    """Rename the time slots of a tree to ``ts1``, ``ts2``, ... in file order
    when any id is not of that form (pympi needs it); returns new id -> old
    id, or nothing when the ids are left as they are."""
    slots = list(root.iter("TIME_SLOT"))
    if all(_PYMPI_SLOT_ID.fullmatch(slot.get("TIME_SLOT_ID") or "") for slot in slots):
        return {}
    renamed = {}
    for number, slot in enumerate(slots, start=1):
        renamed.setdefault(slot.get("TIME_SLOT_ID"), f"ts{number}")
        slot.set("TIME_SLOT_ID", renamed[slot.get("TIME_SLOT_ID")])
    for annotation in root.iter("ALIGNABLE_ANNOTATION"):
        for name in ("TIME_SLOT_REF1", "TIME_SLOT_REF2"):
            if annotation.get(name) in renamed:
                annotation.set(name, renamed[annotation.get(name)])
    return {new: old for old, new in renamed.items()}


def _restore_time_slot_ids(root: ElementTree.Element, original: dict[str, str]) -> None:
    """Give the time slots of a tree written by pympi the file's own ids back;
    slots added since keep their new id unless the file uses it, then get a free ``ts<N>``."""
    taken = set(original.values())
    names, number = {}, 0
    for slot in root.iter("TIME_SLOT"):
        internal = slot.get("TIME_SLOT_ID")
        name = original.get(internal)
        if name is None:
            name = internal
            while name in taken:
                number += 1
                name = f"ts{number}"
            taken.add(name)
        names[internal] = name
        slot.set("TIME_SLOT_ID", name)
    for annotation in root.iter("ALIGNABLE_ANNOTATION"):
        for attribute in ("TIME_SLOT_REF1", "TIME_SLOT_REF2"):
            if annotation.get(attribute) in names:
                annotation.set(attribute, names[annotation.get(attribute)])


def _check_tiers(path: str, eaf: pympi.Elan.Eaf, tiers: ElanTiers, lines: dict[str, int]) -> None:
    """Every mapped tier exists and sits under the tier its role needs."""
    available = ", ".join(eaf.tiers) or "none"
    for role in ("utterance", "words", "morphs", "glosses"):
        tier = getattr(tiers, role)
        if tier not in eaf.tiers:
            raise FormatError(path, None, f"no {role} tier '{tier}' (tiers in the file: {available}; "
                                          f"map them with --elan-tiers {role}=TIER,...)")
    for role, parent in (("words", tiers.utterance), ("morphs", tiers.words), ("glosses", tiers.morphs),
                         ("translation", tiers.utterance), ("status", tiers.glosses)):
        tier = getattr(tiers, role)
        if tier in eaf.tiers and eaf.tiers[tier][2].get("PARENT_REF") != parent:
            raise FormatError(path, lines.get(tier), f"{role} tier '{tier}' should be under '{parent}', "
                                                     f"not '{eaf.tiers[tier][2].get('PARENT_REF')}'")
    if eaf.tiers[tiers.utterance][1]:
        raise FormatError(path, lines.get(tiers.utterance),
                          f"utterance tier '{tiers.utterance}' must be time-aligned")


def _children(eaf: pympi.Elan.Eaf, tier: str) -> dict[str, list[str]]:
    """Parent annotation id -> child ids in ELAN's order (the PREVIOUS_ANNOTATION chain)."""
    by_parent: dict[str, list[str]] = {}
    previous: dict[str, str | None] = {}
    for annotation_id, (parent, _, before, _) in eaf.tiers[tier][1].items():
        by_parent.setdefault(parent, []).append(annotation_id)
        previous[annotation_id] = before
    return {parent: _chain(ids, previous) for parent, ids in by_parent.items()}


def _chain(ids: list[str], previous: dict[str, str | None]) -> list[str]:
    following = {previous[i]: i for i in ids if previous[i] in ids}
    firsts = [i for i in ids if previous[i] not in ids]
    if len(firsts) != 1:
        return ids  # no usable chain: the file's order
    ordered, current = [], firsts[0]
    while current is not None and len(ordered) < len(ids):
        ordered.append(current)
        current = following.get(current)
    return ordered if len(ordered) == len(ids) else ids


def _first_child(eaf: pympi.Elan.Eaf, tier: str) -> dict[str, str]:
    """Parent annotation id -> its (first) annotation on an associated tier."""
    children: dict[str, str] = {}
    for annotation_id, (parent, *_rest) in eaf.tiers[tier][1].items():
        children.setdefault(parent, annotation_id)
    return children

