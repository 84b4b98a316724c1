"""The post-editor's HTTP API and page (FastAPI).

The page (``static/``) is served by the package itself: no CDN, works
offline. Documents live in server memory, each under a random id; the
client never names a file-system path. Models are offered from a list fixed
at server start and picked by name. Every accepted sentence is appended to
the corrections log.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
import threading
import uuid
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, File, Form, HTTPException, Path as PathParam, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from ..corrections import CorrectionsLog
from ..errors import AutoglossError
from ..interlinear import (GlossState, InterlinearDocument, ProtectedGlossError, fill_document,
                           guess_document_format, read_document, write_document)
from ..interlinear.document import RecordDocument
from ..models.base import DEFAULT_MODEL_DIR, CONFIG_NAME, Glosser
from .schemas import (AcceptRequest, DocumentView, ModelsView, MorphemeView, SentenceView, SummaryView,
                      TextRequest, WordView)

#: Download formats: name -> (file suffix, media type).
DOWNLOADS = {
    "flextext": (".flextext", "application/xml"),
    "toolbox": (".txt", "text/plain; charset=utf-8"),
    "elan": (".eaf", "application/xml"),
    "cldf": (".zip", "application/zip"),
    "sigmorphon": (".txt", "text/plain; charset=utf-8"),
    "jsonl": (".jsonl", "application/x-ndjson"),
}
#: Upload suffixes accepted, and the record format of those that are not documents.
UPLOAD_SUFFIXES = {".flextext": None, ".eaf": None, ".sfm": None, ".tbx": None, ".toolbox": None,
                   ".txt": "sigmorphon", ".jsonl": "jsonl", ".zip": None}
MAX_DOCUMENTS = 200
DOCUMENT_ID = r"^[0-9a-f]{32}$"


@dataclass
class ServerSettings:
    """What the server offers; fixed when it starts."""

    models: dict[str, Path | None]          # name -> model directory (None: the packaged model)
    corrections: Path
    max_upload_bytes: int = 5 * 1024 * 1024
    low_confidence: float = 0.5

    @classmethod
    def from_options(cls, specs: list[str], corrections: Path, max_upload_mb: float = 5.0) -> ServerSettings:
        models: dict[str, Path | None] = {}
        if (DEFAULT_MODEL_DIR / CONFIG_NAME).is_file():
            models["default"] = None
        for spec in specs:
            name, sep, path = spec.partition("=")
            path = Path(path if sep else name)
            name = name if sep else path.name
            if not (path / CONFIG_NAME).is_file():
                raise AutoglossError(f"{path}: not a model directory (no {CONFIG_NAME})")
            if not re.fullmatch(r"[\w.-]{1,64}", name):
                raise AutoglossError(f"model name '{name}': use letters, digits, '.', '_' or '-'")
            models[name] = path
        if not models:
            raise AutoglossError("no model to offer: give --model PATH (the packaged model is not installed)")
        return cls(models, Path(corrections), int(max_upload_mb * 1024 * 1024))


@dataclass
class _Session:
    document: InterlinearDocument
    name: str
    source_format: str
    model: str
    summary: SummaryView
    #: Server-owned folder of an unpacked CLDF dataset, whose other tables
    #: and sources are copied on download; removed with the session.
    scratch: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def discard(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


class _Store:
    """Documents in memory, the least recently used dropped beyond a limit."""

    def __init__(self, limit: int = MAX_DOCUMENTS):
        self._items: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def add(self, session: _Session) -> str:
        key = uuid.uuid4().hex
        with self._lock:
            self._items[key] = session
            while len(self._items) > self._limit:
                self._items.popitem(last=False)[1].discard()
        return key

    def clear(self) -> None:
        with self._lock:
            for session in self._items.values():
                session.discard()
            self._items.clear()

    def get(self, key: str) -> _Session:
        with self._lock:
            session = self._items.get(key)
            if session is None:
                raise HTTPException(404, "no such document (the server may have restarted): gloss it again")
            self._items.move_to_end(key)
            return session


class _Models:
    """Glossers loaded on first use, shared by all requests.

    Each model glosses one document at a time: a neural model already uses
    every core for one batch, and running several at once on a laptop only
    makes them all slower (and keeps a model's internals out of thread races).
    """

    def __init__(self, settings: ServerSettings, preloaded: dict[str, Glosser] | None = None):
        self._settings = settings
        self._loaded = {name: (glosser, threading.Lock()) for name, glosser in (preloaded or {}).items()}
        self._lock = threading.Lock()

    def get(self, name: str) -> tuple[Glosser, threading.Lock]:
        if name not in self._settings.models:
            raise HTTPException(422, f"unknown model '{name}' (offered: {', '.join(self._settings.models)})")
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = (Glosser.from_pretrained(self._settings.models[name]), threading.Lock())
            return self._loaded[name]


def create_app(settings: ServerSettings, glossers: dict[str, Glosser] | None = None) -> FastAPI:
    store, models = _Store(), _Models(settings, glossers)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        store.clear()

    app = FastAPI(title="autogloss post-editor", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    corrections = CorrectionsLog(settings.corrections)
    static = resources.files("autogloss.web") / "static"
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + 64 * 1024)

    @app.exception_handler(AutoglossError)
    async def _autogloss_error(request: Request, error: AutoglossError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
                             for e in error.errors()[:5])
        return JSONResponse({"detail": f"invalid request: {problems}"}, status_code=422)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(static / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/api/models")
    def list_models() -> ModelsView:
        return ModelsView(models=list(settings.models), formats=list(DOWNLOADS),
                          max_upload_bytes=settings.max_upload_bytes, low_confidence=settings.low_confidence)

    @app.post("/api/documents/text")
    def gloss_text(request: TextRequest) -> DocumentView:
        document = RecordDocument.from_records(_pasted_records(request.text))
        return _gloss(document, "pasted text", "text", request.model)

    @app.post("/api/documents/upload")
    def gloss_upload(file: UploadFile = File(...), model: str = Form(..., max_length=64)) -> DocumentView:
        name = Path(file.filename or "upload").name[:200]
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES and not name.endswith("-metadata.json"):
            raise HTTPException(415, f"'{name}': unsupported file type (upload .flextext, .eaf, Toolbox "
                                     f".txt/.sfm/.tbx, a zipped CLDF dataset, shared-task .txt or .jsonl)")
        data = file.file.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise HTTPException(413, _too_large_message(settings.max_upload_bytes))
        models.get(model)  # an unknown model is refused before any file is unpacked
        if suffix == ".zip":
            scratch = Path(tempfile.mkdtemp(prefix="autogloss-dataset-"))
            try:
                document = read_document(_unzip_dataset(data, scratch), "cldf")
                return _gloss(document, name, "cldf", model, scratch)
            except BaseException:
                shutil.rmtree(scratch, ignore_errors=True)
                raise
        document, source_format = _read_upload(name, suffix, data)
        return _gloss(document, name, source_format, model)

    def _gloss(document: InterlinearDocument, name: str, source_format: str, model: str,
               scratch: Path | None = None) -> DocumentView:
        glosser, in_use = models.get(model)
        if not document.sentences:
            raise HTTPException(422, "no sentences to gloss")
        with in_use:
            summary = fill_document(document, glosser)
        view = SummaryView(filled=summary.filled, kept=summary.kept, skipped=summary.skipped)
        key = store.add(_Session(document, name, source_format, model, view, scratch))
        return _view(key, store.get(key), settings)

    @app.get("/api/documents/{key}")
    def get_document(key: str = PathParam(pattern=DOCUMENT_ID)) -> DocumentView:
        return _view(key, store.get(key), settings)

    @app.post("/api/documents/{key}/sentences/{index}/accept")
    def accept(request: AcceptRequest, key: str = PathParam(pattern=DOCUMENT_ID),
               index: int = PathParam(ge=0, le=1_000_000)) -> SentenceView:
        session = store.get(key)
        with session.lock:
            document = session.document
            if index >= len(document.sentences):
                raise HTTPException(404, f"no sentence {index + 1} (the document has {len(document.sentences)})")
            sentence = document.sentences[index]
            edited = _apply(document, sentence, request.glosses)
            sentence.accepted = True
            corrections.append(sentence.record(document.language), session.name, edited)
            return _sentence_view(index, sentence, settings)

    @app.get("/api/documents/{key}/download")
    def download(key: str = PathParam(pattern=DOCUMENT_ID),
                 format: str = Query(pattern="^(" + "|".join(DOWNLOADS) + ")$")) -> Response:
        session = store.get(key)
        suffix, media_type = DOWNLOADS[format]
        with session.lock, tempfile.TemporaryDirectory(prefix="autogloss-download-") as scratch:
            target = Path(scratch) / ("dataset" if format == "cldf" else f"out{suffix}")
            write_document(session.document, target, format)
            content = _zip_directory(target) if format == "cldf" else target.read_bytes()
        filename = f"{Path(session.name).stem or 'text'}.autogloss{suffix}"
        filename = re.sub(r"[^\w.-]", "_", filename)
        return Response(content, media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    return app


def _pasted_records(text: str):
    from ..records import IGTRecord

    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        transcription, _, translation = line.partition("\t")
        if not transcription.strip():
            continue
        records.append(IGTRecord(id=f"s{number}", transcription=" ".join(transcription.split()),
                                 translation=" ".join(translation.split()) or None))
    if not records:
        raise HTTPException(422, "the pasted text has no sentence (one sentence per line)")
    return records


def _read_upload(name: str, suffix: str, data: bytes) -> tuple[InterlinearDocument, str]:
    """Read an uploaded file from a scratch directory the server names itself."""
    with tempfile.TemporaryDirectory(prefix="autogloss-upload-") as scratch:
        path = Path(scratch) / f"upload{suffix or '.json'}"
        if name.endswith("-metadata.json"):
            raise HTTPException(422, "a CLDF dataset is several files: upload it as one .zip")
        path.write_bytes(data)
        document_format = guess_document_format(path)
        try:
            if document_format:
                document = read_document(path, document_format)
            else:
                document = RecordDocument.read(path, UPLOAD_SUFFIXES[suffix])
        except AutoglossError as error:
            # name the user's file, not the scratch copy
            raise HTTPException(400, str(error).replace(str(path), name)) from None
        return document, document_format or UPLOAD_SUFFIXES[suffix]


def _unzip_dataset(data: bytes, scratch: Path) -> Path:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise HTTPException(400, "the .zip file is not a readable zip archive") from None
    total = 0
    with archive:
        for member in archive.infolist():
            target = (scratch / member.filename).resolve()
            if not target.is_relative_to(scratch.resolve()) or member.filename.startswith("/"):
                raise HTTPException(400, f"zip entry '{member.filename}' points outside the archive")
            total += member.file_size
            if total > 50 * 1024 * 1024:
                raise HTTPException(413, "the zip file unpacks to more than 50 MB")
        archive.extractall(scratch)
    found = sorted(scratch.rglob("*-metadata.json"))
    if not found:
        raise HTTPException(422, "the .zip holds no CLDF metadata file (*-metadata.json)")
    return found[0]


def _zip_directory(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def _apply(document: InterlinearDocument, sentence, glosses: list[list[str]]) -> list[tuple[int, int, str, str]]:
    """Write a person's glosses into a sentence; returns the edits (cells whose value changed)."""
    if len(glosses) != len(sentence.words):
        raise HTTPException(422, f"sentence {sentence.id}: {len(glosses)} words of glosses sent, "
                                 f"the sentence has {len(sentence.words)}")
    for word_index, (word, values) in enumerate(zip(sentence.words, glosses)):
        if len(values) != len(word.slots):
            raise HTTPException(422, f"word {word_index + 1} ('{word.form}'): {len(values)} glosses sent "
                                     f"for {len(word.slots)} morphemes")
        for slot_index, (slot, value) in enumerate(zip(word.slots, values)):
            if slot.editable and not value.strip():
                raise HTTPException(422, f"word {word_index + 1} ('{word.form}'), morpheme {slot_index + 1} "
                                         f"('{slot.form}') has no gloss: fill it before accepting")
    edited = []
    for word_index, slot_index, slot in list(sentence.slots()):
        value = " ".join(glosses[word_index][slot_index].split())
        if not slot.editable:
            continue  # human-approved glosses stay as they are, whatever the client sent
        if value.replace(" ", ".") != slot.gloss:
            edited.append((word_index + 1, slot_index + 1, slot.gloss, value.replace(" ", ".")))
        try:
            document.set_gloss(sentence, word_index, slot_index, value, GlossState.HUMAN, slot.confidence)
        except ProtectedGlossError as error:
            raise HTTPException(409, str(error)) from None
    return edited


def _sentence_view(index: int, sentence, settings: ServerSettings) -> SentenceView:
    words = [WordView(form=word.form, segmented=word.segmented, morphemes=[
        MorphemeView(form=slot.form, gloss=slot.gloss, state=slot.state.value, editable=slot.editable,
                     confidence=slot.confidence) for slot in word.slots]) for word in sentence.words]
    return SentenceView(index=index, id=sentence.id, translation=sentence.translation, accepted=sentence.accepted,
                        words=words)


def _view(key: str, session: _Session, settings: ServerSettings) -> DocumentView:
    with session.lock:
        sentences = [_sentence_view(i, s, settings) for i, s in enumerate(session.document.sentences)]
    return DocumentView(id=key, name=session.name, source_format=session.source_format, model=session.model,
                        summary=session.summary, sentences=sentences, low_confidence=settings.low_confidence)


def _too_large_message(limit: int) -> str:
    return f"the file is too large: the limit is {limit / (1024 * 1024):g} MB"


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuses request bodies over ``limit`` bytes with 413,
    by Content-Length up front and by counting what actually arrives."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge()
            return message

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send) -> None:
        limit = self.limit - 64 * 1024
        response = JSONResponse({"detail": _too_large_message(limit)}, status_code=413)
        await response({"type": "http"}, None, send)


__all__ = ["ServerSettings", "create_app"]
