"""Request and response bodies of the post-editor's API, validated strictly:
unknown fields, wrong types and oversized values are refused with 422."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ModelName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\w.-]+$")]
Gloss = Annotated[str, StringConstraints(max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TextRequest(_Strict):
    """Pasted text: one sentence per line, optionally ``sentence<TAB>translation``."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=200_000)]
    model: ModelName


class AcceptRequest(_Strict):
    """A person's glosses for every morpheme of one sentence, by word."""

    glosses: Annotated[list[Annotated[list[Gloss], Field(max_length=100)]], Field(max_length=1000)]


class MorphemeView(BaseModel):
    form: str
    gloss: str
    state: Literal["empty", "guess", "human"]
    editable: bool
    confidence: float | None = None


class WordView(BaseModel):
    form: str
    segmented: bool
    morphemes: list[MorphemeView]


class SentenceView(BaseModel):
    index: int
    id: str
    translation: str | None
    accepted: bool
    words: list[WordView]
    #: The lowest confidence among the glosses still to check (``worklist.sentence_score``); None: nothing to check.
    score: float | None = None


class SummaryView(BaseModel):
    filled: int
    kept: int
    skipped: int


class EffortView(BaseModel):
    """What the document has cost so far (``learning.Effort``)."""

    filled: int
    open_guesses: int
    accepted: int
    reviewed: int
    changed: int
    typed: int
    agreement: float | None
    window: int
    window_sentences: int
    by_model: dict[str, list[int]]


class LearningView(BaseModel):
    """The learning job (``web.jobs.Learning.status``)."""

    state: Literal["idle", "training", "re-glossing", "done", "failed"]
    phase: str | None = None
    done: int | None = None
    total: int | None = None
    elapsed: float | None = None
    eta: float | None = None
    message: str | None = None
    document: str | None = None
    model: str | None = None
    base: str | None = None
    epochs: int | None = None


class DocumentView(BaseModel):
    id: str
    name: str
    source_format: str
    model: str
    summary: SummaryView
    low_confidence: float
    sentences: list[SentenceView]
    #: One line when the model was not trained on the text's language or setting (see glossing.TrainingCheck).
    warning: str | None = None
    #: Sentence indices, least confident first (``worklist.least_confident_first``).
    least_confident: list[int] = []
    effort: EffortView | None = None


class ModelsView(BaseModel):
    models: list[str]
    formats: list[str]
    max_upload_bytes: int
    low_confidence: float
