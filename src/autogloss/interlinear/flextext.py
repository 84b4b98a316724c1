"""SIL FieldWorks (FLEx) interlinear texts, ``.flextext``.

The XML is kept as an lxml tree for reading, and the file's own bytes for
writing: an unchanged document is written back byte for byte (BOM, XML
declaration, ``<item ...></item>`` and ``<language ... />`` as the file has
them, indentation, line ends), and a glossed one differs only in the gloss
items autogloss wrote (their text and ``analysisStatus``), patched into the
original bytes at those elements' places (:func:`_element_spans`). A text is
``interlinear-text / paragraphs / paragraph / phrases / phrase / words /
word / morphemes / morph``; each level carries ``item`` elements with a
``type`` (txt, cf, gls, msa, pos, punct, ...) and a writing system ``lang``.
Older exports, and FLEx's "Verifiable generic XML" export, write a phrase as
a ``<word>`` directly inside ``<phrases>``, holding its own ``<words>``; both
layouts are read. A morph FLEx exports without a form is a zero morpheme
(:data:`ZERO_MORPH`) when it has a gloss, and no slot when it has none. The
tree is for reading: a document changed other than through ``set_gloss`` is
written as lxml serialises it (BOM, declaration and line ends kept).

FLEx analyses a phrase as one word when a person says so ("go kerkap"): such
a word's form (and its morphs') is read with its parts joined by underscores
(``go_kerkap``, :func:`one_token`), so that the sentence's record has as many
words on every line as the document has; its gloss is one gloss word like
any other (Leipzig rule 4: "come out" -> "come.out"). The file keeps its
spaces: forms are never written back.

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
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from ..errors import FormatError
from ..fileio import atomic_write
from ..records import Language
from .document import GlossSlot, GlossState, InterlinearDocument, Sentence, Word, leipzig_gloss, one_token, parse_xml

HUMAN_APPROVED = "humanApproved"
GUESS_STATUSES = frozenset({"guess", "guessByHumanApproved", "guessByStatisticalAnalysis"})
MACHINE_STATUS = "guessByStatisticalAnalysis"
STATUS = "analysisStatus"
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
BOM = b"\xef\xbb\xbf"
#: The form of a morph that has a gloss but no form (a zero morpheme, as the Leipzig rules write it).
ZERO_MORPH = "Ø"
#: Items that come before a gloss in FLEx's order (txt, cf, hn, variantTypes, gls, msa, pos).
FORM_ITEMS = ("txt", "cf", "hn", "variantTypes")
#: The markup of an XML file, one construct a match: comment, CDATA, processing
#: instruction, DOCTYPE, end tag (group 1: its name), start tag (group 2: its
#: name; group 3: "/" when it closes itself). Attribute values may hold ">".
_MARKUP = re.compile(rb"""<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE(?:[^\[>]|\[.*?\])*>"""
                     rb"""|</([^\s>]+)\s*>"""
                     rb"""|<([^\s/>!?]+)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""", re.S)
_STATUS_ATTRIBUTE = re.compile(rb"""(\s%s\s*=\s*)(["'])[^"']*\2""" % STATUS.encode())
_TAG_CLOSE = re.compile(rb"\s*/?>$")


def _items(element: etree._Element, item_type: str) -> list[etree._Element]:
    return [child for child in element if child.tag == "item" and child.get("type") == item_type]


def _text(element: etree._Element, item_type: str, lang: str | None = None) -> str | None:
    for item in _items(element, item_type):
        if lang is None or item.get("lang") == lang:
            return item.text or ""
    return None


def _phrases(root: etree._Element) -> list[etree._Element]:
    """The phrases of a text: ``<phrase>`` elements, and the ``<word>``
    elements that older FLEx exports put directly inside ``<phrases>`` (a
    phrase there is a word holding ``<words>``)."""
    return [child for phrases in root.iter("phrases") for child in phrases
            if child.tag == "phrase" or (child.tag == "word" and child.find("words") is not None)]


def _is_word(element: etree._Element) -> bool:
    """Whether an element is a word of a phrase (not an old export's phrase-level ``<word>``)."""
    return element.tag == "word" and element.find("words") is None


# -- the file's own bytes ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Span:
    """Where one element is in the file's bytes: ``[start, end)``, the start tag ending at ``tag_end``."""

    start: int
    tag_end: int
    end: int

    def closes_itself(self) -> bool:
        return self.tag_end == self.end


def _local(name: str) -> str:
    return name.rpartition("}")[2].rpartition(":")[2]


def _element_spans(data: bytes, root: etree._Element, added: set) -> dict[etree._Element, _Span] | None:
    """Every element of the tree (but the ``added`` ones) with its place in
    the file's bytes, found by scanning the markup and pairing start tags in
    document order with the tree's elements; None when the two disagree (the
    tree was changed other than through :meth:`FlexTextDocument.set_gloss`)."""
    found: list[tuple[bytes, list[int]]] = []
    open_elements: list[list[int]] = []
    for match in _MARKUP.finditer(data):
        if match.group(2) is not None:
            place = [match.start(), match.end(), match.end()]
            found.append((match.group(2), place))
            if not match.group(3):
                open_elements.append(place)
        elif match.group(1) is not None:
            if not open_elements:
                return None
            open_elements.pop()[2] = match.end()
    elements = [element for element in root.iter(etree.Element) if element not in added]
    if open_elements or len(elements) != len(found):
        return None
    spans = {}
    for element, (name, (start, tag_end, end)) in zip(elements, found):
        if _local(element.tag) != _local(name.decode("utf-8", "replace")):
            return None
        spans[element] = _Span(start, tag_end, end)
    return spans


class FlexTextDocument(InterlinearDocument):
    format_name = "flextext"

    def __init__(self, tree: etree._ElementTree, sentences: list[Sentence], gloss_lang: str,
                 language: Language | None = None, source: bytes | None = None):
        super().__init__(sentences, language)
        self.tree = tree
        self.gloss_lang = gloss_lang
        #: The file's bytes as read (None for a document built here), written
        #: back with only the gloss items set since then changed. The tree is
        #: for reading: glosses go into it (and the file) through set_gloss.
        self.source = source
        #: Gloss items changed since reading: for an item added, the element it follows.
        self._changed: dict[etree._Element, etree._Element | None] = {}

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
            for phrase_number, phrase in enumerate(_phrases(text), start=1):
                sentence = _sentence(path, phrase, gloss_lang, f"{text_number}.{phrase_number}")
                if sentence.words:  # a phrase of punctuation only has nothing to gloss
                    sentences.append(sentence)
        with open(path, "rb") as handle:
            source = handle.read()
        return cls(tree, sentences, gloss_lang, _language(_vernacular_language(root)), source)

    # -- writing ------------------------------------------------------------
    def write(self, path: str | os.PathLike) -> None:
        data = self._patched() if self.source is not None else None
        with atomic_write(path, "wb") as handle:
            handle.write(data if data is not None else self._serialised())

    def _patched(self) -> bytes | None:
        """The file's bytes with the changed gloss items put in, or None when
        the tree no longer matches the file (or its encoding is not one
        byte-level patching can handle)."""
        if not self._changed:
            return self.source
        encoding = self.tree.docinfo.encoding or "utf-8"
        if re.match(r"(?i)utf-?(16|32)|ucs", encoding):
            return None
        added = {item for item, anchor in self._changed.items() if anchor is not None}
        spans = _element_spans(self.source, self.tree.getroot(), added)
        if spans is None:
            return None
        patches = []
        for item, anchor in self._changed.items():
            if anchor is None:
                span = spans[item]
                patches.append((span.start, span.end, self._changed_item(item, span, encoding)))
            else:
                owner = anchor.getparent()
                owner_span, first = spans[owner], spans[next(child for child in owner if child in spans)]
                indent = self.source[owner_span.tag_end:first.start]
                indent = indent if not indent.strip() else b""
                end = spans[anchor].end
                patches.append((end, end, indent + _new_item_bytes(item, encoding)))
        patches.sort(key=lambda patch: (patch[0], patch[1]))
        pieces, position = [], 0
        for start, end, replacement in patches:
            pieces += [self.source[position:start], replacement]
            position = end
        pieces.append(self.source[position:])
        return b"".join(pieces)

    def _changed_item(self, item: etree._Element, span: _Span, encoding: str) -> bytes:
        """An existing gloss item with its new text and status, its start tag
        otherwise as the file has it."""
        tag = self.source[span.start:span.tag_end]
        status = item.get(STATUS, "").encode(encoding)
        if _STATUS_ATTRIBUTE.search(tag):
            tag = _STATUS_ATTRIBUTE.sub(lambda m: m.group(1) + m.group(2) + status + m.group(2), tag, count=1)
        elif status:
            close = _TAG_CLOSE.search(tag)
            tag = tag[:close.start()] + b' %s="%s"' % (STATUS.encode(), status) + tag[close.start():]
        if span.closes_itself():
            tag, closing = tag[:_TAG_CLOSE.search(tag).start()] + b">", b"</item>"
        else:
            closing = self.source[self.source.rindex(b"</", span.tag_end, span.end):span.end]
        return tag + escape(item.text or "").encode(encoding, "xmlcharrefreplace") + closing

    def _serialised(self) -> bytes:
        """The tree as XML: a document built here, or a fallback when the
        tree was changed beyond glosses (the file's BOM, declaration and line
        ends kept)."""
        if self.source is None:
            return DECLARATION + etree.tostring(self.tree, encoding="utf-8", xml_declaration=False) + b"\n"
        body = etree.tostring(self.tree, encoding=self.tree.docinfo.encoding or "utf-8", xml_declaration=False)
        head = self.source[:300]
        bom = BOM if head.startswith(BOM) else b""
        head = head.removeprefix(BOM)
        newline = b"\r\n" if b"\r\n" in head else b"\n"
        end = head.find(b"?>")
        declaration = head[:end + 2] + newline if head.startswith(b"<?xml") and end > 0 else b""
        if newline == b"\r\n":
            body = body.replace(b"\n", b"\r\n")
        return bom + declaration + body + (newline if self.source.endswith(b"\n") else b"")

    def _store(self, sentence: Sentence, word: Word, slot: GlossSlot, gloss: str, state: GlossState) -> None:
        owner = slot.handle  # a <morph>, or the <word> of an unanalysed word
        item = next((i for i in _items(owner, "gls") if i.get("lang") == self.gloss_lang), None)
        if item is None:
            item, anchor = _new_item(owner, "gls", self.gloss_lang)
            self._changed[item] = anchor
        else:
            self._changed.setdefault(item, None)
        item.text = gloss
        item.set(STATUS, MACHINE_STATUS if state is GlossState.GUESS else HUMAN_APPROVED)

    # -- new documents --------------------------------------------------------
    @classmethod
    def from_sentences(cls, sentences: list[Sentence], language: Language | None = None,
                       title: str | None = None, text_lang: str | None = None,
                       gloss_lang: str = "en") -> FlexTextDocument:
        """A new FLEx text of these sentences: words, morphs and glosses with
        their states (a person's approved, a machine's a guess), translations,
        the source's title ("autogloss" when it has none), and the source
        language's code as the vernacular writing system (the document's,
        else the sentences' own, "und" only when none is known)."""
        known = [lang for lang in [language, *(s.language for s in sentences)] if lang and lang.iso639_3]
        text_lang = text_lang or (known[0].iso639_3 if known else "und")
        root = etree.Element("document", version="2")
        text = etree.SubElement(root, "interlinear-text", guid=str(uuid.uuid4()))
        _add_item(text, "title", gloss_lang, title or "autogloss")
        phrases = etree.SubElement(etree.SubElement(etree.SubElement(text, "paragraphs"), "paragraph",
                                                    guid=str(uuid.uuid4())), "phrases")
        for number, sentence in enumerate(sentences, start=1):
            _build_phrase(phrases, sentence, number, text_lang, gloss_lang)
        languages = etree.SubElement(text, "languages")
        etree.SubElement(languages, "language", lang=text_lang, vernacular="true")
        etree.SubElement(languages, "language", lang=gloss_lang)
        etree.indent(root, space="  ")
        tree = etree.ElementTree(root)
        document = cls.read_tree(tree, gloss_lang, language or (known[0] if known else None))
        for source, target in zip(sentences, document.sentences):
            target.accepted = source.accepted
            for (_, _, old), (_, _, new) in zip(source.slots(), target.slots()):
                new.confidence = old.confidence
        return document

    @classmethod
    def read_tree(cls, tree: etree._ElementTree, gloss_lang: str, language: Language | None) -> FlexTextDocument:
        sentences = [_sentence("<new>", phrase, gloss_lang, str(number))
                     for number, phrase in enumerate(_phrases(tree.getroot()), start=1)]
        return cls(tree, sentences, gloss_lang, language)


def _analysis_language(root: etree._Element) -> str:
    """The writing system of the glosses: the commonest ``lang`` of morph and
    word glosses, else the first analysis language listed, else English."""
    seen = Counter(item.get("lang") for item in root.iter("item")
                   if item.get("type") == "gls" and (item.getparent().tag == "morph" or _is_word(item.getparent())))
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
    word_text = next((i for i in root.iter("item") if i.get("type") == "txt" and _is_word(i.getparent())), None)
    return word_text.get("lang") if word_text is not None else None


def _language(writing_system: str | None) -> Language:
    """The language of a FLEx writing system: its ISO 639-3 code is the tag's
    first part ("con-Latn-EC-x-dureno" -> "con"), unless that is private use
    ("qaa"-"qtz") or not three letters."""
    code = (writing_system or "").split("-")[0].lower()
    private = "qaa" <= code <= "qtz"
    return Language(iso639_3=code if len(code) == 3 and code.isalpha() and not private else None)


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
    origin = f"{path}:{phrase.sourceline}" if phrase.sourceline is not None else None
    return Sentence(sentence_id, built, translation, handle=phrase, origin=origin)


def _word(path: str, word: etree._Element, gloss_lang: str) -> Word:
    form = _text(word, "txt")
    if not form or not form.strip():
        raise FormatError(path, word.sourceline, "<word> without a 'txt' or 'punct' item")
    morphemes = word.find("morphemes")
    morphs = [m for m in morphemes if m.tag == "morph"] if morphemes is not None else []
    if not morphs:
        return Word(one_token(form), [_slot(word, one_token(form), gloss_lang, None)], segmented=False, handle=word)
    analysis_status = morphemes.get(STATUS)
    slots = []
    for morph in morphs:
        morph_form = one_token(_text(morph, "txt") or "") or one_token(_text(morph, "cf") or "")
        slot = _slot(morph, morph_form or ZERO_MORPH, gloss_lang, analysis_status)
        if morph_form or slot.gloss:
            slots.append(slot)
        # FLEx exports a morph it has no form for (an empty txt in another
        # writing system): with no gloss either, there is nothing to gloss
    if not slots:
        return Word(one_token(form), [_slot(word, one_token(form), gloss_lang, None)], segmented=False, handle=word)
    return Word(one_token(form), slots, segmented=True, handle=word)


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


def _new_item(owner: etree._Element, item_type: str, lang: str) -> tuple[etree._Element, etree._Element]:
    """Add an ``item`` after the owner's form items (txt, cf, hn), indented
    like its siblings; returns it and the element it follows (an owner
    always has items: the reader refuses a word without a form, and a morph
    with neither form nor gloss is no slot)."""
    items = [child for child in owner if child.tag == "item"]
    item = etree.Element("item", type=item_type, lang=lang)
    forms = [i for i in items if i.get("type") in FORM_ITEMS]
    anchor = forms[-1] if forms else items[-1]
    item.tail = anchor.tail
    if anchor.getnext() is None:
        # the last child's tail holds the parent's closing indentation
        anchor.tail = owner.text
    anchor.addnext(item)
    return item, anchor


def _new_item_bytes(item: etree._Element, encoding: str) -> bytes:
    """An added item as FLEx writes one (lxml would copy the root's namespace declarations into it)."""
    attributes = "".join(f' {name}={quoteattr(value)}' for name, value in item.attrib.items())
    return f"<item{attributes}>{escape(item.text or '')}</item>".encode(encoding, "xmlcharrefreplace")


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
