"""Translation lexicon induction: glosses for stems that no training sentence had.

A stem the model never saw has no memorised gloss, and the network's copy
of a translation word is a guess made from one sentence. Across the
sentences glossed together, though, an unseen stem keeps coming back with
the same translation word: in the Gitksan dev set *bisde'y* occurs only in
sentences whose translation mentions a grouse. This module counts, over one
batch of input records, in how many sentences each unseen form and each
translation lemma occur, alone and together, and proposes for a form the
lemma with the highest Dice coefficient, when the form occurs in at least
``min_sentences`` sentences and the coefficient reaches ``min_dice``.

Only the inputs are used (transcription, segmentation, translation), never
their glosses, so this is as legitimate on test data as on dev. Translation
words are lemmatised with simplemma (the gloss of "wanted" is "want"), in
the metalanguage the records name or else the one simplemma detects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from simplemma import LanguageDetector, Lemmatizer
from simplemma.strategies import DefaultDictionaryFactory, DefaultStrategy

from ..records import (LEXICON, GlossedRecord, IGTRecord, backoff_key, is_lexical, join_morphemes,
                       split_keep_boundaries, words)
from .base import Settings

# Metalanguage names and ISO 639-3 codes, as records give them, to simplemma's codes.
METALANGUAGE_CODES = {
    "english": "en", "eng": "en", "en": "en", "spanish": "es", "spa": "es", "es": "es",
    "french": "fr", "fra": "fr", "fr": "fr", "portuguese": "pt", "por": "pt", "pt": "pt",
    "russian": "ru", "rus": "ru", "ru": "ru", "german": "de", "deu": "de", "de": "de",
    "indonesian": "id", "ind": "id", "id": "id", "italian": "it", "ita": "it", "it": "it",
    "dutch": "nl", "nld": "nl", "nl": "nl",
}
# Tried in this order when records name no metalanguage; the first that
# knows most of the translation words wins. In order because loading a
# language's dictionary takes 0.1-1 s: English texts never load the others.
DETECTABLE = ("en", "es", "fr", "pt", "ru", "de", "id", "it", "nl")
DETECTION_SAMPLE = 50  # translations to detect the batch's metalanguage from
DETECTION_SHARE = 0.6  # of the sample's words a language's dictionary must know

# One dictionary cache for the process, big enough for every detectable
# language (simplemma's default keeps 8 and reloads the rest every call).
_STRATEGY = DefaultStrategy(dictionary_factory=DefaultDictionaryFactory(cache_max_size=len(DETECTABLE) + 1))
_LEMMATIZER = Lemmatizer(lemmatization_strategy=_STRATEGY)


@dataclass(frozen=True)  # one default instance is shared by every glosser
class LexiconSettings(Settings):
    min_sentences: int = 2   # an unseen form must recur: one sentence cannot tell its word from the others
    min_dice: float = 0.5    # 2 * together / (form's sentences + lemma's sentences)
    exclude_explained: bool = True  # a translation word a seen morpheme's gloss accounts for is not a candidate


def metalanguage_code(records: list[IGTRecord]) -> str:
    """simplemma's code for the records' metalanguage: named, or detected from their translations."""
    for record in records:
        named = METALANGUAGE_CODES.get((record.metalanguage or "").strip().casefold())
        if named:
            return named
    sample = " ".join(r.translation for r in records[:DETECTION_SAMPLE] if r.translation)
    shares = {}
    for code in DETECTABLE if sample else ():
        shares[code] = LanguageDetector(code, lemmatization_strategy=_STRATEGY).proportion_in_target_languages(sample)
        if shares[code] >= DETECTION_SHARE:
            return code
    return max(shares, key=shares.get) if shares and max(shares.values()) > 0 else "en"


@lru_cache(maxsize=200_000)
def _lemma(word: str, code: str) -> str:
    return _LEMMATIZER.lemmatize(word, lang=code).casefold()


def translation_lemmas(translation: str | None, code: str) -> set[str]:
    """The lemmas of a translation's words, lower-cased, without edge punctuation."""
    found = set()
    for word in (translation or "").split():
        key = backoff_key(word)
        if key and any(character.isalpha() for character in key):
            found.add(_lemma(key, code))
    return found


def induce_lexicon(forms: list[set[str]], lemmas: list[set[str]],
                   settings: LexiconSettings) -> dict[str, tuple[str, float]]:
    """For each form, its most associated lemma and their Dice coefficient,
    from sentence-level co-occurrence (``forms[i]`` and ``lemmas[i]`` are the
    unseen forms and translation lemmas of sentence ``i``)."""
    form_count: Counter = Counter()
    lemma_count: Counter = Counter()
    together: dict[str, Counter] = {}
    for sentence_forms, sentence_lemmas in zip(forms, lemmas):
        lemma_count.update(sentence_lemmas)
        for form in sentence_forms:
            form_count[form] += 1
            together.setdefault(form, Counter()).update(sentence_lemmas)
    lexicon = {}
    for form, count in form_count.items():
        if count < settings.min_sentences or not together[form]:
            continue
        # Highest Dice; ties go to the lemma seen with the form more often, then alphabetically (deterministic).
        dice, _, lemma = max((2 * both / (count + lemma_count[lemma]), both, lemma)
                             for lemma, both in together[form].items())
        if dice >= settings.min_dice:
            lexicon[form] = (lemma, dice)
    return lexicon


# (memory table, form) -> its memorised gloss if it was seen in training
# ("" when seen but its gloss is not known), None if it is unseen.
Remembered = Callable[[str, str], str | None]


def _input_words(record: IGTRecord) -> tuple[str, list[str]]:
    """The memory table an input record's units are looked up in, and its
    words: given morphemes are glossed one by one, other words as wholes."""
    if record.segmented_form:
        return "morphemes", words(record.segmented_form)
    return "words", record.transcription_words


def _units(record: IGTRecord) -> tuple[str, list[str]]:
    table, input_words = _input_words(record)
    if table == "morphemes":
        return table, [part for word in input_words for part in split_keep_boundaries(word)[0]]
    return table, input_words


def _unseen_and_explained(record: IGTRecord, remembered: Remembered, code: str) -> tuple[set[str], set[str]]:
    """The record's unseen units (by :func:`backoff_key`), and the lemmas of the
    lexical glosses of its seen ones (``sit`` of ``sit.PL``), in one pass."""
    table, units = _units(record)
    unseen, explained = set(), set()
    for unit in units:
        gloss = remembered(table, unit)
        if gloss is None:
            if backoff_key(unit):
                unseen.add(backoff_key(unit))
            continue
        for label in split_keep_boundaries(gloss)[0] if gloss else ():
            if is_lexical(label):
                explained.update(_lemma(word, code) for word in label.split(".") if is_lexical(word))
    return unseen, explained


def fill_unseen_stems(inputs: list[IGTRecord], outputs: list[GlossedRecord], remembered: Remembered,
                      settings: LexiconSettings) -> list[GlossedRecord]:
    """Replace, in the glosser's ``outputs`` for ``inputs``, the lexical gloss
    of every unseen morpheme (segmented input) or unseen one-stem word
    (unsegmented input) for which the batch's lexicon has an entry; the
    entry's Dice coefficient becomes its confidence."""
    if len(inputs) < settings.min_sentences:
        return outputs
    code = metalanguage_code(inputs)
    unseen, lemmas = [], []
    for record in inputs:
        unseen_units, explained = _unseen_and_explained(record, remembered, code)
        unseen.append(unseen_units)
        found = translation_lemmas(record.translation, code)
        lemmas.append(found - explained if settings.exclude_explained else found)
    lexicon = induce_lexicon(unseen, lemmas, settings)
    if not lexicon:
        return outputs
    return [_relabel(record, output, lexicon, remembered) for record, output in zip(inputs, outputs)]


def _relabel(record: IGTRecord, output: GlossedRecord, lexicon: dict[str, tuple[str, float]],
             remembered: Remembered) -> GlossedRecord:
    table, input_words = _input_words(record)
    glossed = output.record
    gloss_words, confidences = [], []
    sources = None if output.sources is None else [list(word) for word in output.sources]
    relabel = _relabel_morphemes if table == "morphemes" else _relabel_word
    for index, (word, gloss, confidence) in enumerate(zip(input_words, words(glossed.glosses), output.confidences)):
        gloss, confidence, relabelled = relabel(word, gloss, confidence, lexicon, remembered)
        gloss_words.append(gloss)
        confidences.append(confidence)
        if sources is not None and index < len(sources):
            for piece in relabelled:
                if piece < len(sources[index]):
                    sources[index][piece] = LEXICON
    gloss_words += words(glossed.glosses)[len(gloss_words):]
    return GlossedRecord(glossed.replace(glosses=" ".join(gloss_words)),
                         confidences + output.confidences[len(confidences):], output.repairs, sources)


def _relabel_morphemes(word: str, gloss: str, confidence: list[float], lexicon,
                       remembered: Remembered) -> tuple[str, list[float], list[int]]:
    """A segmented word's gloss with its unseen stems relabelled, their
    confidences, and which morphemes were relabelled."""
    morphemes, _ = split_keep_boundaries(word)
    labels, boundaries = split_keep_boundaries(gloss)
    if len(labels) != len(morphemes) or len(confidence) != len(labels):
        return gloss, confidence, []
    confidence, relabelled = list(confidence), []
    for index, (morpheme, label) in enumerate(zip(morphemes, labels)):
        entry = lexicon.get(backoff_key(morpheme))
        if entry and is_lexical(label) and remembered("morphemes", morpheme) is None:
            labels[index], confidence[index] = entry[0], round(entry[1], 4)
            relabelled.append(index)
    return join_morphemes(labels, boundaries), confidence, relabelled


def _relabel_word(word: str, gloss: str, confidence: list[float], lexicon,
                  remembered: Remembered) -> tuple[str, list[float], list[int]]:
    """A plain word's gloss with its one stem relabelled if unseen, as :func:`_relabel_morphemes`."""
    entry = lexicon.get(backoff_key(word))
    if entry is None or remembered("words", word) is not None:
        return gloss, confidence, []
    labels = gloss.split("-")  # the word decoder's labels (``=`` stays inside a label)
    lexical = [index for index, label in enumerate(labels) if is_lexical(label)]
    if len(lexical) != 1 or len(confidence) != len(labels):
        return gloss, confidence, []  # no stem, or several: which one the form means is not known
    labels[lexical[0]] = entry[0]
    confidence = list(confidence)
    confidence[lexical[0]] = round(entry[1], 4)
    return "-".join(labels), confidence, [lexical[0]]
