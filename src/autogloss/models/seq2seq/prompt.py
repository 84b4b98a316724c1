"""The GlossLM prompt, and aligning generated gloss lines with their input.

A seq2seq glosser reads one prompt per record and writes the gloss line as
free text. The prompt is the one GlossLM (Ginn et al. 2024, ``lecslab/glosslm``)
was trained on, byte for byte, so its checkpoints work unchanged::

    Provide the glosses for the following transcription in {lang}.

    Transcription in {lang}: {transcription}
    Transcription segmented: {yes|no|unknown}
    Translation in {metalang}: {translation}
    Glosses:

(the last line ends in one space after the colon, with no newline; the
translation line is left out when there is no translation). Nothing in the
output guarantees one gloss word per input word, so :func:`align_glosses`
repairs each generated line and says what it changed.

Which text goes into the prompt and with what ``segmented`` flag follows the
record's own ``is_segmented`` (see :func:`prompt_input`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...records import UNKNOWN_GLOSS, IGTRecord, join_morphemes, split_keep_boundaries, squash_space, word_morphemes

UNKNOWN_LANGUAGE = "an unknown language"
#: Metalanguage named when a record has a translation but does not say in
#: what language: every source autogloss reads except Uspanteko's is English.
DEFAULT_METALANGUAGE = "English"
SEGMENTED_FLAGS = ("yes", "no", "unknown")


@dataclass(frozen=True)
class PromptInput:
    """What the model reads of a record: the object-language line, whether it
    is segmented, and the words a gloss must align with."""

    text: str
    segmented: str  # "yes", "no" or "unknown"

    @property
    def words(self) -> list[str]:
        return self.text.split()


def prompt_input(record: IGTRecord) -> PromptInput:
    """The transcription shown to the model and its ``Transcription segmented`` flag.

    - ``is_segmented`` True: the transcription itself carries the morpheme
      boundaries -> ``yes``, the transcription.
    - ``is_segmented`` False: a plain transcription -> ``no``, the
      transcription; a segmentation tier, if the record has one, is
      annotation and not input (the unsegmented copy of a corpus sentence).
    - ``is_segmented`` unknown (None) with a separate segmentation tier that
      differs from the transcription (shared-task track 2 inputs) -> ``yes``,
      the segmentation line, as GlossLM's segmented examples show the
      segmented line as the transcription.
    - otherwise (None, no segmentation tier, or one that repeats the
      transcription) -> ``unknown``, the transcription. Readers that know a
      text is plain say so with ``is_segmented=False`` (see :func:`declare_segmented`).
    """
    transcription = squash_space(record.transcription)
    if record.is_segmented is True:
        return PromptInput(transcription, "yes")
    if record.is_segmented is False:
        return PromptInput(transcription, "no")
    segmentation = squash_space(record.segmentation or "")
    if segmentation and segmentation != transcription:
        return PromptInput(segmentation, "yes")
    return PromptInput(transcription, "unknown")


def declare_segmented(record: IGTRecord, flag: str) -> IGTRecord:
    """The record with what is known about its transcription made explicit.

    ``yes``: the transcription is segmented (a separate segmentation tier, if
    any, becomes the transcription); ``no``: it is plain and any segmentation
    tier is not used as input; ``unknown``: nothing is known; ``auto``: the
    record unchanged.
    """
    if flag == "auto":
        return record
    if flag == "yes":
        return record.replace(transcription=prompt_input(record).text, is_segmented=True)
    if flag == "no":
        return record.replace(is_segmented=False)
    if flag == "unknown":
        return record.replace(is_segmented=None, segmentation=None)
    raise ValueError(f"unknown segmented flag '{flag}' (choose auto, yes, no or unknown)")


def language_name(record: IGTRecord) -> str:
    return record.language.name or UNKNOWN_LANGUAGE


def build_prompt(record: IGTRecord) -> str:
    """The GlossLM input prompt of a record, exactly as GlossLM was trained."""
    language = language_name(record)
    source = prompt_input(record)
    prompt = (f"Provide the glosses for the following transcription in {language}.\n\n"
              f"Transcription in {language}: {source.text}\n"
              f"Transcription segmented: {source.segmented}\n")
    translation = squash_space(record.translation or "")
    if translation:
        prompt += f"Translation in {record.metalanguage or DEFAULT_METALANGUAGE}: {translation}\n"
    return prompt + "Glosses: "


def build_target(record: IGTRecord) -> str:
    """The training target: the gloss line, whitespace squashed (as GlossLM does)."""
    return squash_space(record.glosses)


# -- alignment repair ----------------------------------------------------------------
@dataclass(frozen=True)
class AlignedGlosses:
    """A generated gloss line made to fit its input: the line, which
    generated morpheme (word, position) each output morpheme came from (None
    for a filler), and what had to change (empty when nothing did)."""

    glosses: str
    sources: list[list[tuple[int, int] | None]]
    repairs: list[str]

    @property
    def repaired(self) -> bool:
        return bool(self.repairs)


def _fit_morphemes(input_word: str, gloss_word: str, word_index: int) -> tuple[str, list[tuple[int, int] | None], str | None]:
    """A gloss word with one morpheme per morpheme of a segmented input word:
    extra generated morphemes dropped from the end, missing ones filled with
    ``[UNK]``, joined with the input word's own boundary markers."""
    parts, boundaries = split_keep_boundaries(input_word)
    glossed = word_morphemes(gloss_word)
    if len(glossed) == len(parts):
        return gloss_word, [(word_index, m) for m in range(len(parts))], None
    kept = glossed[: len(parts)] + [UNKNOWN_GLOSS] * max(0, len(parts) - len(glossed))
    sources = [(word_index, m) if m < len(glossed) else None for m in range(len(parts))]
    line = join_morphemes(kept, boundaries)
    note = f"word {word_index + 1} '{input_word}': {len(glossed)} gloss morphemes for {len(parts)} morphemes"
    return line, sources, note


def align_glosses(source: PromptInput, generated: str) -> AlignedGlosses:
    """Repair a generated gloss line so that it has one gloss word per input
    word (Leipzig rule 1) and, for segmented input, one gloss morpheme per
    input morpheme in every word (rule 2).

    Words are matched by position. Extra generated words at the end are
    dropped; missing ones become ``[UNK]`` (one per morpheme of a segmented
    input word), which the official scorer never counts as right. Inside a
    segmented word the same rule applies to morphemes, so that one wrong
    morpheme count does not shift every later morpheme out of place.
    """
    input_words = source.words
    generated_words = generated.split()
    segmented = source.segmented == "yes"
    repairs: list[str] = []
    if len(generated_words) != len(input_words):
        repairs.append(f"{len(generated_words)} gloss words for {len(input_words)} input words")
    out_words: list[str] = []
    sources: list[list[tuple[int, int] | None]] = []
    for index, word in enumerate(input_words):
        if index >= len(generated_words):
            count = len(word_morphemes(word)) if segmented else 1
            filler_line, _, _ = _fit_morphemes(word, UNKNOWN_GLOSS, index) if segmented else (UNKNOWN_GLOSS, None, None)
            out_words.append(filler_line)
            sources.append([None] * count)
            continue
        gloss = generated_words[index]
        if segmented:
            gloss, word_sources, note = _fit_morphemes(word, gloss, index)
            if note:
                repairs.append(note)
        else:
            word_sources = [(index, m) for m in range(len(word_morphemes(gloss)))]
        out_words.append(gloss)
        sources.append(word_sources)
    return AlignedGlosses(" ".join(out_words), sources, repairs)
