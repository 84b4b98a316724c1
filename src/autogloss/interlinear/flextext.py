"""SIL FieldWorks (FLEx) interlinear texts, ``.flextext``.

The XML is kept as an lxml tree, so guids, attributes, whitespace and items
autogloss does not know are written back as they were. A text is
``interlinear-text / paragraphs / paragraph / phrases / phrase / words /
word / morphemes / morph``; each level carries ``item`` elements with a
``type`` (txt, cf, gls, msa, pos, punct, ...) and a writing system ``lang``.

Analysis status follows FieldWorks' FlexInterlinear schema: ``analysisStatus``
on a word's ``morphemes`` element or on a ``gls`` item is ``humanApproved``,
``guess``, ``guessByHumanApproved`` or ``guessByStatisticalAnalysis``; FLEx
writes no attribute for an approved analysis. So a gloss with text and no
status is a person's; a ``morphemes`` element marked ``humanApproved`` locks
its morphs, empty glosses included. Machine glosses are written with
``analysisStatus="guessByStatisticalAnalysis"``.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter

from lxml import etree

from ..errors import FormatError
from ..fileio import atomic_write
from ..records import Language
from .document import GlossSlot, GlossState, InterlinearDocument, Sentence, Word, leipzig_gloss, parse_xml

HUMAN_APPROVED = "humanApproved"
GUESS_STATUSES = frozenset({"guess", "guessByHumanApproved", "guessByStatisticalAnalysis"})
MACHINE_STATUS = "guessByStatisticalAnalysis"
STATUS = "analysisStatus"
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def _items(element: etree._Element, item_type: str) -> list[etree._Element]:
    return [child for child in element if child.tag == "item" and child.get("type") == item_type]


def _text(element: etree._Element, item_type: str, lang: str | None = None) -> str | None:
    for item in _items(element, item_type):
        if lang is None or item.get("lang") == lang:
            return item.text or ""
    return None


def _framing(path: str) -> tuple[bytes, bytes]:
    """The file's XML declaration line and its final line end, which the
    tree does not hold, so that an unchanged file is written back byte for byte."""
    with open(path, "rb") as handle:
        head = handle.read(200).removeprefix(b"\xef\xbb\xbf")
        handle.seek(max(0, os.fstat(handle.fileno()).st_size - 2))
        tail = handle.read()
    newline = b"\r\n" if b"\r\n" in head else b"\n"
    declaration = b""
    if head.startswith(b"<?xml") and b"?>" in head:
        declaration = head[:head.index(b"?>") + 2] + newline
    return declaration, newline if tail.endswith(b"\n") else b""


class FlexTextDocument(InterlinearDocument):
    format_name = "flextext"

    def __init__(self, tree: etree._ElementTree, sentences: list[Sentence], gloss_lang: str,
                 language: Language | None = None, framing: tuple[bytes, bytes] = (DECLARATION, b"\n")):
        super().__init__(sentences, language)
        self.tree = tree
        self.gloss_lang = gloss_lang
        self.declaration, self.trailer = framing

    # -- reading ------------------------------------------------------------
    @classmethod
    def read(cls, path: str | os.PathLike, gloss_lang: str | None = None) -> FlexTextDocument:
        path = os.fspath(path)
        tree = parse_xml(path, remove_blank_text=False)
        root = tree.getroot()
        if root.tag != "document":
            raise FormatError(path, root.sourceline, f"not a FLEx interlinear text: root element is "
                                                     f"<{root.tag}>, expected <document>")
        gloss_lang = gloss_lang or _analysis_language(root)
        sentences = []
        for text_number, text in enumerate(root.iter("interlinear-text"), start=1):
            for phrase_number, phrase in enumerate(text.iter("phrase"), start=1):
                sentence = _sentence(path, phrase, gloss_lang, f"{text_number}.{phrase_number}")
                if sentence.words:  # a phrase of punctuation only has nothing to gloss
                    sentences.append(sentence)
        vernacular = _vernacular_language(root)
        language = Language(iso639_3=vernacular if vernacular and len(vernacular) == 3 else None)
        return cls(tree, sentences, gloss_lang, language, _framing(path))

    # -- writing ------------------------------------------------------------
    def write(self, path: str | os.PathLike) -> None:
        with atomic_write(path, "wb") as handle:
            body = etree.tostring(self.tree, encoding="utf-8", xml_declaration=False)
            if self.trailer == b"\r\n" or self.declaration.endswith(b"\r\n"):
                # XML parsing turns CRLF into LF; a CRLF file gets its line ends back
                body = body.replace(b"\n", b"\r\n")
            handle.write(self.declaration)
            handle.write(body)
            handle.write(self.trailer)

    def _store(self, sentence: Sentence, word: Word, slot: GlossSlot, gloss: str, state: GlossState) -> None:
        owner = slot.handle  # a <morph>, or the <word> of an unanalysed word
        item = next((i for i in _items(owner, "gls") if i.get("lang") == self.gloss_lang), None)
        if item is None:
            item = _new_item(owner, "gls", self.gloss_lang)
        item.text = gloss
        item.set(STATUS, MACHINE_STATUS if state is GlossState.GUESS else HUMAN_APPROVED)

    # -- new documents --------------------------------------------------------
    @classmethod
    def from_sentences(cls, sentences: list[Sentence], language: Language | None = None,
                       title: str = "autogloss", text_lang: str | None = None,
                       gloss_lang: str = "en") -> FlexTextDocument:
        text_lang = text_lang or (language.iso639_3 if language and language.iso639_3 else "und")
        root = etree.Element("document", version="2")
        text = etree.SubElement(root, "interlinear-text", guid=str(uuid.uuid4()))
        _add_item(text, "title", gloss_lang, title)
        phrases = etree.SubElement(etree.SubElement(etree.SubElement(text, "paragraphs"), "paragraph",
                                                    guid=str(uuid.uuid4())), "phrases")
        for number, sentence in enumerate(sentences, start=1):
            _build_phrase(phrases, sentence, number, text_lang, gloss_lang)
        languages = etree.SubElement(text, "languages")
        etree.SubElement(languages, "language", lang=text_lang, vernacular="true")
        etree.SubElement(languages, "language", lang=gloss_lang)
        etree.indent(root, space="  ")
        tree = etree.ElementTree(root)
        document = cls.read_tree(tree, gloss_lang, language)
        for source, target in zip(sentences, document.sentences):
            target.accepted = source.accepted
            for (_, _, old), (_, _, new) in zip(source.slots(), target.slots()):
                new.confidence = old.confidence
        return document

    @classmethod
    def read_tree(cls, tree: etree._ElementTree, gloss_lang: str, language: Language | None) -> FlexTextDocument:
        sentences = [_sentence("<new>", phrase, gloss_lang, str(number))
                     for number, phrase in enumerate(tree.getroot().iter("phrase"), start=1)]
        return cls(tree, sentences, gloss_lang, language)


def _analysis_language(root: etree._Element) -> str:
    """The writing system of the glosses: the commonest ``lang`` of morph and
    word glosses, else the first analysis language listed, else English."""
    seen = Counter(item.get("lang") for item in root.iter("item")
                   if item.get("type") == "gls" and item.getparent().tag in ("morph", "word"))
    if seen:
        return seen.most_common(1)[0][0]
    for language in root.iter("language"):
        if language.get("vernacular") != "true" and language.get("lang"):
            return language.get("lang")
    return "en"


def _vernacular_language(root: etree._Element) -> str | None:
    for language in root.iter("language"):
        if language.get("vernacular") == "true":
            return language.get("lang")
    word_text = next((i for i in root.iter("item") if i.get("type") == "txt"
                      and i.getparent().tag == "word"), None)
    return word_text.get("lang") if word_text is not None else None


def _sentence(path: str, phrase: etree._Element, gloss_lang: str, fallback_id: str) -> Sentence:
    words_element = phrase.find("words")
    built = []
    for word in (words_element if words_element is not None else []):
        if word.tag != "word" or _items(word, "punct"):
            continue  # punctuation is kept in the tree but has nothing to gloss
        built.append(_word(path, word, gloss_lang))
    sentence_id = phrase.get("guid") or fallback_id
    translation = _text(phrase, "gls")
    translation = (translation or "").strip() or None
    return Sentence(sentence_id, built, translation, handle=phrase)


def _word(path: str, word: etree._Element, gloss_lang: str) -> Word:
    form = _text(word, "txt")
    if not form or not form.strip():
        raise FormatError(path, word.sourceline, "<word> without a 'txt' or 'punct' item")
    morphemes = word.find("morphemes")
    morphs = [m for m in morphemes if m.tag == "morph"] if morphemes is not None else []
    if not morphs:
        return Word(form.strip(), [_slot(word, form.strip(), gloss_lang, None)], segmented=False, handle=word)
    analysis_status = morphemes.get(STATUS)
    slots = []
    for morph in morphs:
        morph_form = _text(morph, "txt") or _text(morph, "cf")
        if not morph_form or not morph_form.strip():
            raise FormatError(path, morph.sourceline, "<morph> without a 'txt' or 'cf' item")
        slots.append(_slot(morph, morph_form.strip(), gloss_lang, analysis_status))
    return Word(form.strip(), slots, segmented=True, handle=word)


def _slot(owner: etree._Element, form: str, gloss_lang: str, analysis_status: str | None) -> GlossSlot:
    """One gloss slot with its state, from its own status or its analysis's."""
    item = next((i for i in _items(owner, "gls") if i.get("lang") == gloss_lang), None)
    gloss = leipzig_gloss(item.text or "") if item is not None else ""
    status = item.get(STATUS) if item is not None and item.get(STATUS) else analysis_status
    locked = analysis_status == HUMAN_APPROVED
    if not gloss:
        state = GlossState.EMPTY
    elif status in GUESS_STATUSES:
        state = GlossState.GUESS
    else:
        state = GlossState.HUMAN
    # a human-approved analysis is locked whole: its empty slots and any item
    # inside it marked a guess stay as the person approved them
    return GlossSlot(form, gloss, state, locked=locked and state is not GlossState.HUMAN, handle=owner)


def _new_item(owner: etree._Element, item_type: str, lang: str) -> etree._Element:
    """Add an ``item`` after the owner's form items (txt, cf), indented like its siblings."""
    items = [child for child in owner if child.tag == "item"]
    item = etree.Element("item", type=item_type, lang=lang)
    forms = [i for i in items if i.get("type") in ("txt", "cf")]
    anchor = forms[-1] if forms else (items[-1] if items else None)
    if anchor is None:
        owner.insert(0, item)
        item.tail = owner.text
        return item
    item.tail = anchor.tail
    if anchor.getnext() is None:
        # the last child's tail holds the parent's closing indentation
        anchor.tail = owner.text
    anchor.addnext(item)
    return item


def _add_item(parent: etree._Element, item_type: str, lang: str, text: str) -> etree._Element:
    item = etree.SubElement(parent, "item", type=item_type, lang=lang)
    item.text = text
    return item


def _build_phrase(phrases: etree._Element, sentence: Sentence, number: int, text_lang: str,
                  gloss_lang: str) -> None:
    phrase = etree.SubElement(phrases, "phrase", guid=str(uuid.uuid4()))
    _add_item(phrase, "segnum", gloss_lang, str(number))
    words = etree.SubElement(phrase, "words")
    for word in sentence.words:
        element = etree.SubElement(words, "word", guid=str(uuid.uuid4()))
        _add_item(element, "txt", text_lang, word.form)
        owners = [element]
        if word.segmented:
            morphemes = etree.SubElement(element, "morphemes")
            owners = []
            for slot in word.slots:
                morph = etree.SubElement(morphemes, "morph", type=_morph_type(slot.form), guid=str(uuid.uuid4()))
                _add_item(morph, "txt", text_lang, slot.form)
                owners.append(morph)
        for owner, slot in zip(owners, word.slots):
            if slot.gloss:
                item = _add_item(owner, "gls", gloss_lang, slot.gloss)
                item.set(STATUS, MACHINE_STATUS if slot.state is GlossState.GUESS else HUMAN_APPROVED)
    if sentence.translation:
        _add_item(phrase, "gls", gloss_lang, sentence.translation)


def _morph_type(form: str) -> str:
    if form.startswith("="):
        return "enclitic"
    if form.endswith("="):
        return "proclitic"
    if form.startswith("-"):
        return "suffix"
    if form.endswith("-"):
        return "prefix"
    return "stem"


def read_flextext(path: str | os.PathLike, **options) -> FlexTextDocument:
    return FlexTextDocument.read(path, **options)


SUFFIXES = (".flextext",)
__all__ = ["FlexTextDocument", "read_flextext", "SUFFIXES", "HUMAN_APPROVED", "MACHINE_STATUS"]
