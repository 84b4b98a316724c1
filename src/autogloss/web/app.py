"""The post-editor's HTTP API and page (FastAPI).

The page (``static/``) is served by the package itself: no CDN, works
offline. Documents live in server memory, each under a random id; the
client never names a file-system path. Models are offered from a list fixed
at server start and picked by name. Every accepted sentence is appended to
the corrections log.

The server answers only requests addressed to a name it was started for
(the ``Host`` header, against DNS rebinding) and refuses requests that change
anything when another site's page sends them (the ``Origin`` header, against
cross-site uploads): see :class:`LocalOnly`.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import logging
import re
import shutil
import tempfile
import threading
import uuid
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, File, Form, HTTPException, Path as PathParam, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from ..corrections import CorrectionsLog
from ..errors import AutoglossError
from ..glossing import LOW_CONFIDENCE, FillSummary, fill_document, gloss_text
from ..formats import detect_format, downloads, format_of, read_document, upload_suffixes, write_document
from ..interlinear import GlossState, InterlinearDocument, ProtectedGlossError
from ..interlinear.cldf_metadata import describes_cldf_dataset
from ..learning import (LEARN_EPOCHS, LEARN_NICENESS, MIN_SENTENCES, LearningJob, corrections_to_learn, effort, learned_models,
                        next_model_dir, regloss_unaccepted, review_of, run_learning_job, states_before)
from ..models.base import CONFIG_NAME, Glosser
from ..records import squash_space
from ..models.loading import DEFAULT_MODEL_DIR, load_model
from ..worklist import confidences_of, least_confident_first, sentence_score
from .jobs import Learning
from .schemas import (AcceptRequest, DocumentView, EffortView, LearningView, ModelsView, MorphemeView, SentenceView,
                      SummaryView, TextRequest, WordView)

#: Download formats: name -> file suffix and media type (from the format registry).
DOWNLOADS = downloads()
#: Upload suffixes accepted.
UPLOAD_SUFFIXES = upload_suffixes()
MAX_DOCUMENTS = 200
DOCUMENT_ID = r"^[0-9a-f]{32}$"
#: Host names a server on this machine is always reached by.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
#: Addresses that listen on every interface.
_ANY_ADDRESS = ("0.0.0.0", "::", "")
logger = logging.getLogger(__name__)


@dataclass
class ServerSettings:
    """What the server offers; fixed when it starts."""

    models: dict[str, Path | None]          # name -> model directory (None: the packaged model)
    corrections: Path
    max_upload_bytes: int = 5 * 1024 * 1024
    low_confidence: float = LOW_CONFIDENCE
    #: Host names the server answers to (the ``Host`` header), lower case.
    hosts: tuple[str, ...] = LOOPBACK_NAMES
    #: The port it listens on; when known, ``Host`` and ``Origin`` must name it.
    port: int | None = None
    #: Whether any IP address is a name for it (it listens on every interface).
    any_address: bool = False
    #: Epochs of "learn from my corrections" (fixed: the same corrections give the same model).
    learn_epochs: int = LEARN_EPOCHS

    @classmethod
    def from_options(cls, specs: list[str], corrections: Path, max_upload_mb: float = 5.0,
                     learn_epochs: int = LEARN_EPOCHS) -> ServerSettings:
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
        for name, path in learned_models(corrections).items():  # learned from these corrections before
            models.setdefault(name, path)
        if not models:
            raise AutoglossError("no model to offer: give --model PATH (the packaged model is not installed)")
        if learn_epochs < 1:
            raise AutoglossError(f"--learn-epochs {learn_epochs}: give one or more")
        return cls(models, Path(corrections), int(max_upload_mb * 1024 * 1024), learn_epochs=learn_epochs)

    def listening(self, host: str, port: int) -> ServerSettings:
        """These settings for a server listening on ``host``:``port``: it also
        answers to ``host`` (and, on every interface, to this machine's
        names and any IP address)."""
        any_address = host in _ANY_ADDRESS
        names = [*self.hosts]
        if any_address:
            import socket

            names += [socket.gethostname().lower(), socket.getfqdn().lower()]
        else:
            names.append(host.strip("[]").lower())
        return replace(self, hosts=tuple(dict.fromkeys(name for name in names if name)), port=port,
                       any_address=any_address)


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
    #: What the model was not trained on (see ``glossing.TrainingCheck``), shown above the sentences.
    warning: str | None = None
    #: The accepted sentences, as the model offered them and the linguist left them (``learning.Review``).
    reviews: list = field(default_factory=list)
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

    def peek(self, key: str) -> _Session | None:
        """The document under ``key``, if it is still held."""
        with self._lock:
            return self._items.get(key)

    def get(self, key: str) -> _Session:
        with self._lock:
            session = self._items.get(key)
            if session is None:
                raise HTTPException(404, "no such document (the server may have restarted): gloss it again")
            self._items.move_to_end(key)
            return session


class _Models:
    """Glossers loaded on first use, shared by all requests.

    Requests gloss in the threadpool, never on the event loop. A model
    glosses one chunk of a document at a time, and requests take turns
    chunk by chunk in the order they came (see ``Glosser.gloss_with_confidence``):
    a long document does not keep a short one waiting until it is done.
    """

    def __init__(self, settings: ServerSettings, preloaded: dict[str, Glosser] | None = None):
        self._settings = settings
        self._loaded = dict(preloaded or {})
        self._lock = threading.Lock()

    def get(self, name: str) -> Glosser:
        if name not in self._settings.models:
            raise HTTPException(422, f"unknown model '{name}' (offered: {', '.join(self._settings.models)})")
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = load_model(self._settings.models[name])
            return self._loaded[name]

    def add(self, name: str, path: Path, glosser: Glosser) -> None:
        """Offer a model made while the server runs (a learned one)."""
        with self._lock:
            self._settings.models[name] = path
            self._loaded[name] = glosser


def create_app(settings: ServerSettings, glossers: dict[str, Glosser] | None = None,
               learning_runner=run_learning_job) -> FastAPI:
    """The post-editor's app; ``learning_runner`` is what a learning job's process runs."""
    store, models, learning = _Store(), _Models(settings, glossers), Learning(learning_runner)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        learning.stop()
        store.clear()

    app = FastAPI(title="autogloss post-editor", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.learning = learning
    corrections = CorrectionsLog(settings.corrections)
    static = resources.files("autogloss.web") / "static"
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + 64 * 1024)
    app.add_middleware(LocalOnly, settings=settings)  # added last: runs first

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
    def gloss_pasted(request: TextRequest) -> DocumentView:
        # a malformed line is the paste's fault: a 400 naming the line (AutoglossError handler)
        document, summary = gloss_text(request.text, models.get(request.model))
        return _keep(document, "pasted text", "text", request.model, summary)

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
                metadata = _unzip_dataset(name, data, scratch)
                with _reading(name, scratch):
                    # every file the metadata names must be one of the upload's
                    document = read_document(metadata, "cldf", root=scratch)
                return _gloss(document, name, "cldf", model, scratch)
            except BaseException:
                shutil.rmtree(scratch, ignore_errors=True)
                raise
        document, source_format = _read_upload(name, suffix, data)
        return _gloss(document, name, source_format, model)

    def _gloss(document: InterlinearDocument, name: str, source_format: str, model: str,
               scratch: Path | None = None) -> DocumentView:
        glosser = models.get(model)
        if not document.sentences:
            raise HTTPException(422, "no sentences to gloss")
        return _keep(document, name, source_format, model, fill_document(document, glosser), scratch)

    def _keep(document: InterlinearDocument, name: str, source_format: str, model: str, summary: FillSummary,
              scratch: Path | None = None) -> DocumentView:
        """Hold a glossed document for the editor; its view."""
        view = SummaryView(filled=summary.filled, kept=summary.kept, skipped=summary.skipped)
        key = store.add(_Session(document, name, source_format, model, view, scratch, summary.warning))
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
            states = states_before(sentence)
            edited = _apply(document, sentence, request.glosses)
            sentence.accepted = True
            corrections.append(sentence.record(document.language), session.name, edited)
            session.reviews.append(review_of(index, sentence, edited, session.model, states))
            return _sentence_view(index, sentence, settings)

    @app.get("/api/documents/{key}/effort")
    def get_effort(key: str = PathParam(pattern=DOCUMENT_ID)) -> EffortView:
        session = store.get(key)
        with session.lock:
            return EffortView(**effort(session.document, session.reviews).to_dict())

    @app.post("/api/documents/{key}/learn", status_code=202)
    def learn(key: str = PathParam(pattern=DOCUMENT_ID)) -> LearningView:
        """Fine-tune a copy of the document's model on the corrections, in the
        background; when it is done, its sentences nobody accepted are glossed again."""
        session = store.get(key)
        base = session.model
        models.get(base)
        if not settings.corrections.is_file():
            raise HTTPException(422, f"no sentence accepted yet: accept at least {MIN_SENTENCES} sentences, "
                                     f"then learn from them")
        corrections_to_learn(settings.corrections)  # too few or malformed: a 400 naming the file and line
        job = LearningJob(settings.corrections, settings.models[base], base, next_model_dir(settings.corrections),
                          epochs=settings.learn_epochs, niceness=LEARN_NICENESS)
        return LearningView(**learning.start(job, key, lambda done: _learned(done, key)))

    def _learned(job: LearningJob, key: str) -> str:
        """Offer a learned model and re-gloss the document it was learned for; the line the page shows."""
        name, glosser = job.out_dir.name, load_model(job.out_dir)
        models.add(name, job.out_dir, glosser)
        session = store.peek(key)
        if session is None:
            return f"{name} is ready (in the model list); the document is no longer open"
        with session.lock:
            waiting = sum(not sentence.accepted for sentence in session.document.sentences)
            summary = regloss_unaccepted(session.document, glosser)
            session.model = name
        return (f"{name} is ready and glossed the {waiting:,} sentence(s) nobody has accepted again "
                f"({summary.overwritten + summary.filled:,} glosses; accepted ones unchanged)")

    @app.get("/api/learning")
    def learning_status() -> LearningView:
        return LearningView(**learning.status())

    @app.get("/api/documents/{key}/download")
    def download(key: str = PathParam(pattern=DOCUMENT_ID),
                 format: str = Query(pattern="^(" + "|".join(DOWNLOADS) + ")$")) -> Response:
        session = store.get(key)
        offered, folder = DOWNLOADS[format], format_of(format).folder  # a folder (a CLDF dataset) goes zipped
        with session.lock, tempfile.TemporaryDirectory(prefix="autogloss-download-") as scratch:
            target = Path(scratch) / ("dataset" if folder else f"out{offered.suffix}")
            write_document(session.document, target, format)
            content = _zip_directory(target) if folder else target.read_bytes()
        filename = f"{Path(session.name).stem or 'text'}.autogloss{offered.suffix}"
        filename = re.sub(r"[^\w.-]", "_", filename)
        return Response(content, media_type=offered.media_type,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    return app


def _read_upload(name: str, suffix: str, data: bytes) -> tuple[InterlinearDocument, str]:
    """Read an uploaded file from a scratch directory the server names itself."""
    with tempfile.TemporaryDirectory(prefix="autogloss-upload-") as scratch:
        path = Path(scratch) / f"upload{suffix or '.json'}"
        if name.endswith("-metadata.json"):
            raise HTTPException(422, "a CLDF dataset is several files: upload it as one .zip")
        path.write_bytes(data)
        with _reading(name, path):
            format = detect_format(path)
            document = read_document(path, format)
        return document, format


@contextlib.contextmanager
def _reading(name: str, location: Path):
    """Any failure to read an upload (at ``location``, a server-made copy or
    folder) becomes a 400 naming the user's file, not the copy."""

    def message(error: BaseException) -> str:
        text = str(error).replace(f"{location}/", f"{name}: ").replace(str(location), name)
        return text if text.startswith(name) else f"{name}: {text}"

    try:
        yield
    except HTTPException:
        raise
    except AutoglossError as error:
        raise HTTPException(400, message(error)) from None
    except Exception as error:  # noqa: BLE001
        # a reader that let a malformed file's own error through: still the file's fault, still a 400
        logger.warning("upload %s: %s: %s", name, type(error).__name__, error, exc_info=True)
        raise HTTPException(400, message(f"not readable ({type(error).__name__}: {error})")) from None


def _unzip_dataset(name: str, data: bytes, scratch: Path) -> Path:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
        raise HTTPException(400, f"{name}: not a readable zip archive ({error})") from None
    total = 0
    with archive:
        for member in archive.infolist():
            target = (scratch / member.filename).resolve()
            if not target.is_relative_to(scratch.resolve()) or member.filename.startswith("/"):
                raise HTTPException(400, f"zip entry '{member.filename}' points outside the archive")
            total += member.file_size
            if total > 50 * 1024 * 1024:
                raise HTTPException(413, "the zip file unpacks to more than 50 MB")
        for member in archive.infolist():
            # a member is never unpacked beyond the size it declares (checked above);
            # one whose data does not match that size or its checksum is refused
            try:
                unpacked = Path(archive.extract(member, scratch))
                if not member.is_dir() and unpacked.stat().st_size != member.file_size:
                    raise zipfile.BadZipFile(f"it declares {member.file_size:,} bytes but holds "
                                             f"{unpacked.stat().st_size:,}")
            except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError) as error:
                raise HTTPException(400, f"{name}: zip entry '{member.filename[:200]}' is damaged or "
                                         f"unreadable ({error})") from None
    found = sorted(scratch.rglob("*-metadata.json")) or list(filter(describes_cldf_dataset,
                                                                   sorted(scratch.rglob("*.json"))))
    if not found:
        raise HTTPException(422, "the .zip holds no CLDF metadata file (*-metadata.json, or a metadata.json "
                                 "describing a CLDF dataset)")
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
        value = squash_space(glosses[word_index][slot_index])
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
    score = sentence_score(confidences_of(sentence))
    return SentenceView(index=index, id=sentence.id, translation=sentence.translation, accepted=sentence.accepted,
                        words=words, score=None if score is None else round(score[0], 4))


def _view(key: str, session: _Session, settings: ServerSettings) -> DocumentView:
    with session.lock:
        sentences = [_sentence_view(i, s, settings) for i, s in enumerate(session.document.sentences)]
        order = least_confident_first(session.document.sentences)
        shown_effort = EffortView(**effort(session.document, session.reviews).to_dict())
    return DocumentView(id=key, name=session.name, source_format=session.source_format, model=session.model,
                        summary=session.summary, sentences=sentences, low_confidence=settings.low_confidence,
                        warning=session.warning, least_confident=order, effort=shown_effort)


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


class LocalOnly:
    """ASGI middleware: serves only requests addressed to this server, and
    refuses requests from another site's page that would change anything.

    ``Host`` must be a name the server was started for (``settings.hosts``,
    or any IP address when it listens on every interface), with its port
    when known: a page whose host name an attacker points at 127.0.0.1 (DNS
    rebinding) sends that name and is answered 400. A request other than
    GET, HEAD or OPTIONS whose ``Origin`` (lacking it, ``Referer``) is not the
    server's own is answered 403: a browser sends any page's form posts and
    multipart uploads to any site without asking it first. Clients that are
    not browsers send neither header and are served.
    """

    SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

    def __init__(self, app, settings: ServerSettings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, str] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name, value.decode("latin-1"))
        host = headers.get(b"host", "")
        if self._authority(host, "http") is None:
            await _refuse(send, 400, self._wrong_host_message(host))
            return
        if scope["method"] not in self.SAFE_METHODS:
            origin = headers.get(b"origin")
            if origin is None and b"referer" in headers:
                referer = urlsplit(headers[b"referer"])
                origin = f"{referer.scheme}://{referer.netloc}"
            if origin is not None and not self._same_origin(origin, host):
                await _refuse(send, 403, f"refused: a page of {origin[:100]} may not send requests that change "
                                         f"anything here; use the editor at http://{host}/")
                return
        await self.app(scope, receive, send)

    def _authority(self, authority: str, scheme: str) -> tuple[str, int] | None:
        """(name, port) of a ``host[:port]`` that names this server, else None."""
        if not authority or any(c in authority for c in "/@\\?# "):
            return None
        try:
            parsed = urlsplit(f"//{authority}")
            name, port = (parsed.hostname or "").rstrip("."), parsed.port
        except ValueError:
            return None
        port = port if port is not None else {"http": 80, "https": 443}.get(scheme)
        if self.settings.port is not None and port != self.settings.port:
            return None
        if name in self.settings.hosts or (self.settings.any_address and _is_ip_address(name)):
            return name, port
        return None

    def _same_origin(self, origin: str, host: str) -> bool:
        try:
            parsed = urlsplit(origin)
        except ValueError:
            return False
        if parsed.scheme not in ("http", "https") or parsed.path not in ("", "/"):
            return False
        mine, theirs = self._authority(host, "http"), self._authority(parsed.netloc, parsed.scheme)
        return theirs is not None and theirs == mine

    def _wrong_host_message(self, host: str) -> str:
        names = ", ".join(f"[{n}]" if ":" in n else n for n in self.settings.hosts)
        port = f" (port {self.settings.port})" if self.settings.port is not None else ""
        return (f"this server answers only to {names}{port}, not to '{host[:100]}': open it by one of those "
                f"names (another site's page may be trying to reach it)")


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


async def _refuse(send, status: int, message: str) -> None:
    await JSONResponse({"detail": message}, status_code=status)({"type": "http"}, None, send)


__all__ = ["ServerSettings", "create_app"]
