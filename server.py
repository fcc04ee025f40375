"""The web server: the Gradio UI at ``/`` and a versioned REST API under ``/api/v1``.

One FastAPI app serves both, so the browser tab, ``gradio_client`` and plain
HTTP (curl) reach the same models in one process.  ``python app.py`` runs it
(:func:`main`); ``uvicorn server:create_app --factory`` serves the same app
with default settings.

Every REST endpoint takes multipart audio (or JSON for ``/synthesize``) and
answers JSON, or WAV for audio.  Errors are JSON ``{"error": message}`` with
400 (unusable audio), 413 (upload or duration too large), 422 (bad
parameters) or 503 (a model, backend or the server's capacity unavailable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
import types
import typing
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any, Callable, Literal
from urllib.parse import quote

import anyio
import numpy as np
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from asr import BACKENDS, DEFAULT_BACKEND, available_backends
from asr.emotion import TextEmotion
from asr.transcript import Segment, Transcript, Word
from ser.audio import AudioTooLong, load_audio
from ser.bundle import BundleError
from ser.choice import ModelChoice, ModelPolicy, parse_hub_models
from ser.recognizer import get_recognizer
from ser.timeline import Timeline, TimelineSegment
from pipelines.audio import Decoded
from pipelines.errors import Cancelled, http_error
from pipelines.recognize import RecognizeRequest, RecognizeResult
from pipelines.recognize import recognize as recognize_use_case
from pipelines.revoice import revoice
from tts.conversion import CONVERSIONS, DEFAULT_CONVERSION, check_method
from pipelines.settings import Settings
from pipelines.timeline import analyze_timeline
from pipelines.words import WordsRequest
from pipelines.words import words as transcribe_words
from tts import EMOTIONS, MAX_AUDIO_SECONDS, MAX_TEXT, VOICES, check_budget, synthesize
from tts.synthesis import CHARS_PER_SECOND
from tts.voices import resolve_voice

logger = logging.getLogger(__name__)
API = "/api/v1"
ROOT = Path(__file__).resolve().parent
EXAMPLE = ROOT / "assets" / "examples" / "calm_meeting.wav"
SHARE_TIMEOUT = 20.0
FORM_ALLOWANCE = 64 * 1024
MODEL_FIELD = "'default' or a bundle name in models/ (or a Hub repo id the server allows)."


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        first = message.split(" ", 1)[0]
        if first.isalpha() and first.islower():  # a plain word; "no/such …" names a repo and stays as sent
            message = message[:1].upper() + message[1:]
        super().__init__(message)
        self.status = status
        self.message = message


class ErrorBody(BaseModel):
    error: str = Field(description="What went wrong, in words a user can act on.")


def body_of(cls, name: str, exclude: tuple[str, ...] = (), **fields: tuple) -> type[BaseModel]:
    """The REST schema of a result dataclass, generated from its fields (one shape, written once).

    Field types and defaults are the dataclass's (``field(metadata={"description": …})`` becomes
    the schema's description); nested dataclasses become their own bodies and tuples lists.
    ``fields`` add or replace fields as pydantic's ``create_model`` takes them.
    """
    hints = typing.get_type_hints(cls)
    generated = {}
    for f in dataclasses.fields(cls):
        if f.name in exclude:
            continue
        described = {"description": f.metadata["description"]} if "description" in f.metadata else {}
        default = (Field(default_factory=f.default_factory, **described)
                   if f.default_factory is not dataclasses.MISSING
                   else Field(... if f.default is dataclasses.MISSING else f.default, **described))
        generated[f.name] = (_schema_type(hints[f.name]), default)
    return create_model(name, **{**generated, **fields})


def _schema_type(hint):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return body_of(hint, f"{hint.__name__}Body")
    if origin in (tuple, list) and args:
        return list[_schema_type(args[0])]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_schema_type(a) for a in args)]
    return hint


RecognitionBody = body_of(RecognizeResult, "RecognitionBody")
WordBody = body_of(Word, "WordBody")
SegmentBody = body_of(Segment, "SegmentBody", words=(list[WordBody] | None, Field(None, description="With words=true.")))
TextEmotionBody = body_of(TextEmotion, "TextEmotionBody")
TranscriptBody = body_of(
    Transcript, "TranscriptBody", exclude=("language_probability",),
    segments=(list[SegmentBody], ...),
    notes=(list[str], Field(default_factory=list, description="Doubts about the transcript (unsure language, "
                                                               "decoding stopped at its time bound).")),
    text_emotion=(TextEmotionBody | None, Field(None, description="With with_text_emotion: the emotion of the words.")),
    english=(str | None, Field(None, description="With with_text_emotion: the English the text classifiers read "
                                                 "(the transcript, or its translation).")),
    voice=(RecognitionBody | None, Field(None, description="With with_text_emotion: the emotion of the voice.")),
    fused=(dict[str, float] | None, Field(None, description="With with_text_emotion: voice and words fused.")))
TimelineSegmentBody = body_of(TimelineSegment, "TimelineSegmentBody")
TimelineBody = body_of(
    Timeline, "TimelineBody", segments=(list[TimelineSegmentBody], ...),
    notes=(list[str], Field(default_factory=list, description="Doubts about the transcript, in words.")),
    summary=(dict[str, float], Field(description="Share of speech time per emotion.")))


class SynthesisRequest(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT, examples=["Kids are talking by the door."],
                      description=f"Up to {MAX_TEXT} characters and about {MAX_AUDIO_SECONDS:.0f} s of audio.")
    emotion: str = Field("neutral", description=f"One of {', '.join(EMOTIONS)} (or an alias such as joy).")
    intensity: float = Field(1.0, ge=0, le=1)
    voice: str = Field("youngman", description=f"A preset ({', '.join(VOICES)}) or a Piper voice name.")
    speed: float = Field(1.0, ge=0.25, le=4)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    method: str = Field(DEFAULT_CONVERSION, max_length=16,
                        description=f"How the emotion is given: {' or '.join(CONVERSIONS)}.")


class Workers:
    """CPU-bound calls in threads: ``concurrency`` at once, ``max_queue`` more waiting, then 503."""

    def __init__(self, concurrency: int, max_queue: int):
        self.limiter = anyio.CapacityLimiter(max(1, concurrency))
        self.capacity = max(1, concurrency) + max(0, max_queue)
        self.in_flight = 0

    async def run(self, function: Callable, *args, **kwargs):
        if self.in_flight >= self.capacity:
            raise ApiError(503, f"The server is busy ({self.in_flight} requests in progress); retry shortly.")
        self.in_flight += 1
        try:
            return await anyio.to_thread.run_sync(partial(_translate_errors, function, *args, **kwargs),
                                                  limiter=self.limiter)
        finally:
            self.in_flight -= 1


class ClientLeft(Cancelled):
    """The HTTP client closed its connection; the job it asked for stops at its next step (answered 499)."""


@contextlib.asynccontextmanager
async def stop_when_gone(request: Request, every: float = 0.5):
    """A :class:`threading.Event` set once the client of ``request`` disconnects (checked every ``every`` s).

    A handler running in a worker thread is never told that its client left:
    an abandoned Timeline ran on at 100 % CPU for its whole length.  The
    long jobs' progress callbacks (:func:`stopping`) read the event.
    """
    stop = threading.Event()

    async def watch():
        while not stop.is_set():
            if await request.is_disconnected():
                logger.info("client of %s left; stopping its job", request.url.path)
                stop.set()
                return
            await asyncio.sleep(every)

    watcher = asyncio.create_task(watch())
    try:
        yield stop
    finally:
        watcher.cancel()


def stopping(stop: threading.Event) -> Callable[[float, str], None]:
    """A package's ``progress(fraction, message)`` callback that raises :class:`ClientLeft` once ``stop`` is set."""
    def report(fraction: float, message: str) -> None:
        if stop.is_set():
            raise ClientLeft("The client closed the connection; the job stopped.")
    return report


class BodyTooLarge(MultiPartException):
    """Raised into the app from ``receive`` once a request body passes the limit.

    A ``MultiPartException`` because that is what the multipart parsers clean up
    after: Gradio's deletes the partial upload it wrote only on this type.
    """

    def __init__(self):
        super().__init__("The request body is over the limit.")


class BodyLimit:
    """Pure ASGI middleware: count each request body while it streams; 413 JSON once it passes ``limit``.

    A ``Content-Length`` over the limit is refused before anything is read.
    Chunked bodies carry no length, and both Starlette's and Gradio's multipart
    parsers write whatever arrives to disk (733 MB in 10 s before this), so the
    bytes are counted on the ``receive`` channel itself, for every route: the
    REST API, Gradio's ``/gradio_api/upload`` and its queue.  Once over, every
    further ``receive`` raises :class:`BodyTooLarge`, whatever the app started
    to answer is dropped, and the client gets the 413 with ``Connection: close``.
    """

    def __init__(self, app, limit: int, message: str):
        self.app, self.limit, self.message = app, limit, message

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            return await self._refuse(send)
        received, over, started = 0, False, False

        async def counted():
            nonlocal received, over
            if over:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    over = True
                    raise BodyTooLarge()
            return message

        async def guarded(message):
            nonlocal started
            if over:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self._refuse(send)

    async def _refuse(self, send) -> None:
        body = json.dumps({"error": self.message}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class NoRemoteFiles:
    """Pure ASGI middleware: refuse Gradio events whose file inputs name a URL instead of an upload.

    Gradio fetches any ``http(s)://`` path a client puts in a file input into
    its cache, with no size limit, before a handler runs (the handlers would
    then refuse the copy, but the download has been paid for).  The JSON of an
    event is small (the body limit applies first), so it is read, checked and
    handed on unchanged.
    """

    ROUTES = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/")

    def __init__(self, app, message: str):
        self.app, self.message = app, message

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(self.ROUTES):
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if _names_a_url(body):
            payload = json.dumps({"error": self.message}).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(payload)).encode())]})
            return await send({"type": "http.response.body", "body": payload})
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _names_a_url(body: bytes) -> bool:
    """Whether a JSON body holds a file-data object whose ``path`` is an http(s) URL."""
    try:
        stack = [json.loads(body)]
    except ValueError:
        return False  # not JSON: Gradio answers it
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            path = item.get("path")
            if isinstance(path, str) and re.match(r"(?i)\s*https?:", path):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _translate_errors(function: Callable, *args, **kwargs):
    """Map the packages' exceptions to HTTP statuses by their kind (:func:`pipelines.errors.http_error`)."""
    try:
        return function(*args, **kwargs)
    except ClientLeft as error:
        raise ApiError(499, str(error)) from None  # nobody reads it; ends the request like any error
    except Exception as error:  # noqa: BLE001 - a bug (no kind) is raised again: the 500 handler logs it
        answer = http_error(error)
        if answer is None:
            raise
        raise ApiError(answer[0], answer[1]["error"]) from None


ERRORS = {
    400: {"model": ErrorBody, "description": "The upload is not usable speech audio."},
    413: {"model": ErrorBody, "description": "The upload or its duration is over the server's limit."},
    422: {"model": ErrorBody, "description": "A parameter is missing or invalid."},
    503: {"model": ErrorBody, "description": "A model or backend is unavailable here, or the server is busy."},
}
WAV = {200: {"content": {"audio/wav": {}}, "description": "16-bit mono WAV."}}


def create_app(settings: Settings | None = None, ui=None, warm: dict[str, str] | None = None) -> FastAPI:
    """The FastAPI app: REST under ``/api/v1``, docs at ``/docs``, the Gradio UI at ``/``.

    Parameters
    ----------
    settings : Settings, optional
        Upload/duration limits and concurrency; defaults from the environment.
    ui : gradio.Blocks, optional
        The UI to mount at ``/`` (``app.build_app(settings)``; ``python app.py`` passes it);
        without it the server answers only the REST API and its docs.
    warm : dict, optional
        What :func:`warm_up` loaded, reported by ``/api/v1/health``.
    """
    import gradio as gr

    settings = settings or Settings()
    # Two lanes: a short request (recognize) never waits behind long jobs (timeline, transcription,
    # synthesis, re-voice), which took 23 s to clear with two timelines in the one lane.
    workers = Workers(settings.concurrency, settings.max_queue)
    long_jobs = Workers(settings.concurrency, settings.max_queue)
    app = FastAPI(
        title="Emotion speech studio API",
        version="1",
        description="Recognise emotion, transcribe, synthesise and re-voice speech. "
                    "Audio goes in as multipart uploads; results come back as JSON or WAV.",
        docs_url=None,
        redoc_url=None,
    )
    add_offline_docs(app)
    app.state.settings = settings
    app.state.warm = dict(warm or {})

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError):
        return JSONResponse({"error": error.message}, status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, error: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}"
                             for e in error.errors())
        return JSONResponse({"error": f"Bad parameters: {problems}"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        # The one answer for bugs: the details go to the log, never to the caller.
        logger.exception("unexpected error in %s %s", request.method, request.url.path)
        return JSONResponse({"error": "Something went wrong on the server; the error was logged."}, status_code=500)

    app.add_middleware(NoRemoteFiles, message="Upload the file again.")
    # Multipart framing and the form fields beside the file take a few hundred bytes.
    # Added last, so it runs first: the events NoRemoteFiles reads are already bounded.
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + FORM_ALLOWANCE,
                       message=f"The upload is over this server's limit: it accepts up to "
                               f"{settings.max_upload_mb:g} MB.")

    async def read_audio(upload: UploadFile, lane: Workers = workers) -> Decoded:
        # Decoded and checked once, before the job is queued; the pipelines take it as it is.
        data = await upload.read()
        if len(data) > settings.max_upload_bytes:
            raise ApiError(413, _too_large(len(data), settings))
        return Decoded(await lane.run(_decode_upload, data, settings.max_duration_s), settings.max_duration_s)

    @app.get(f"{API}/health", tags=["service"])
    async def health() -> dict[str, Any]:
        """Which models and backends are loaded and available, and the server's limits."""
        backends = await anyio.to_thread.run_sync(available_backends)
        return {
            "status": "ok",
            "loaded": app.state.warm,
            "recognizer": {"model": "default", "labels": get_recognizer("default").labels,
                           "feature_set": get_recognizer("default").bundle.feature_set},
            "asr_backends": [asdict(b) for b in backends],
            "tts": {"voices": list(VOICES), "emotions": list(EMOTIONS)},
            "limits": {"max_upload_mb": settings.max_upload_mb, "max_duration_s": settings.max_duration_s,
                       "concurrency": settings.concurrency, "max_queue": settings.max_queue},
        }

    @app.post(f"{API}/recognize", tags=["speech"], response_model=RecognitionBody, responses=ERRORS)
    async def recognize(
        file: UploadFile = File(description="Speech in any format ffmpeg reads (wav, mp3, ogg, webm …)."),
        emotions: str | None = Form(None, description="Comma-separated subset to tell apart, e.g. angry,sad,neutral."),
        model: str = Form("default", description=MODEL_FIELD),
    ):
        """Emotion and gender of one utterance, with every emotion's probability."""
        choice = _check_model(model, settings.models)
        samples = await read_audio(file)
        subset = [e.strip() for e in emotions.split(",") if e.strip()] if emotions else None
        result = await workers.run(_recognize, samples, subset, choice, settings)
        return result.to_dict()

    @app.post(f"{API}/timeline", tags=["speech"], response_model=TimelineBody, responses=ERRORS)
    async def timeline(
        request: Request,
        file: UploadFile = File(description="A recording with one or more utterances (any format ffmpeg reads)."),
        emotions: str | None = Form(None, description="Comma-separated subset to tell apart."),
        model: str = Form("default", description=MODEL_FIELD),
        with_text: bool = Form(True, description="Transcribe each segment (faster-whisper)."),
        language: str = Form("auto", max_length=8, description="ISO 639-1 code, or 'auto' to detect."),
    ):
        """Emotion over time: voice activity splits the recording; each utterance is recognised (and transcribed).

        The work stops within a segment when the client disconnects."""
        choice = _check_model(model, settings.models)
        samples = await read_audio(file, long_jobs)
        subset = [e.strip() for e in emotions.split(",") if e.strip()] if emotions else None
        async with stop_when_gone(request) as stop:
            result = await long_jobs.run(_timeline, samples, subset, choice, with_text, language, settings,
                                         progress=stopping(stop))
        return {"duration": round(result.duration, 3), "labels": result.labels, "summary": result.summary(),
                "segments": [s.to_dict() for s in result.segments], "notes": result.notes}

    @app.post(f"{API}/transcribe", tags=["speech"], response_model=TranscriptBody, responses=ERRORS)
    async def transcribe_audio(
        request: Request,
        file: UploadFile = File(description="Speech in any format ffmpeg reads."),
        backend: Literal[tuple(BACKENDS)] = Form(DEFAULT_BACKEND),
        language: str = Form("auto", max_length=8, description="ISO 639-1 code, or 'auto' to detect."),
        task: Literal["transcribe", "translate"] = Form("transcribe"),
        words: bool = Form(False, description="Add word timings to each segment."),
        with_text_emotion: bool = Form(False, description="Also classify the emotion of the words."),
    ):
        """Speech to text with segment (and word) timings; optionally the emotion of the words (read in
        English: speech in another language is translated first), of the voice, and the two fused —
        the same answer as the Transcribe tab and ``python -m asr --emotion``.

        The decode stops at its next segment when the client disconnects."""
        samples = await read_audio(file, long_jobs)
        asked = WordsRequest(backend=backend, language=language, task=task, emotion=with_text_emotion)
        async with stop_when_gone(request) as stop:
            result = await long_jobs.run(transcribe_words, samples, asked, settings=settings, progress=stopping(stop))
        return result.to_dict(words=words)

    @app.post(f"{API}/synthesize", tags=["speech"], response_class=Response, responses={**WAV, **ERRORS})
    async def synthesize_speech(request: SynthesisRequest):
        """Text to speech in an emotion and voice; answers a WAV file."""
        voice = _check_voice(request.voice)
        # The budget is checked before the request waits for a worker (synthesize checks it again).
        _translate_errors(check_budget, len(request.text) / CHARS_PER_SECOND, request.emotion, request.intensity,
                          request.speed, characters=len(request.text))
        _translate_errors(check_method, request.method)
        speech = await long_jobs.run(synthesize, request.text, request.emotion, request.intensity, voice,
                                   request.speed, seed=request.seed, method=request.method)
        return _wav(speech.audio, speech.sample_rate, {
            "X-Emotion": speech.emotion, "X-Voice": speech.voice, "X-Engine": speech.engine,
            "X-Method": request.method})

    @app.post(f"{API}/revoice", tags=["speech"], response_class=Response, responses={**WAV, **ERRORS})
    async def revoice_recording(
        request: Request,
        file: UploadFile = File(description="Speech in any format ffmpeg reads."),
        emotion: str | None = Form(None, description="Target emotion; the recognised one when left out."),
        voice: str | None = Form(None, description="Voice preset or Piper voice; matches the speaker when left out."),
        intensity: float = Form(1.0, ge=0, le=1),
        keep_voice: bool = Form(False, description="Convert the recording itself instead of a new voice."),
        speed: float = Form(1.0, ge=0.25, le=4),
        language: str = Form("auto", max_length=8),
        method: str = Form(DEFAULT_CONVERSION, max_length=16,
                           description=f"How the emotion is given: {' or '.join(CONVERSIONS)}."),
    ):
        """Recognise, transcribe and say it again in another emotion and voice; answers a WAV file.

        Headers say what happened: ``X-Transcript`` (URL-encoded), ``X-Recognized-Emotion``,
        ``X-Emotion``, ``X-Voice``, ``X-Method`` and ``X-Heard-Emotion`` (what the recognizer hears
        in the result).  The work stops at its next stage when the client disconnects.
        """
        _translate_errors(check_method, method)
        voice = _check_voice(voice) if voice else None
        samples = await read_audio(file, long_jobs)
        if keep_voice:  # a new voice's text is checked by synthesize once it is transcribed
            _translate_errors(check_budget, samples.seconds, emotion or None, intensity)
        async with stop_when_gone(request) as stop:
            result = await long_jobs.run(revoice, samples, emotion or None, voice,
                                         intensity=intensity, keep_voice=keep_voice, speed=speed,
                                         language=language, progress=stopping(stop), settings=settings,
                                         method=method)
        return _wav(result.audio, result.sample_rate, {
            "X-Transcript": quote(result.transcript), "X-Recognized-Emotion": result.recognized.emotion,
            "X-Emotion": result.emotion, "X-Voice": result.voice, "X-Method": result.method,
            "X-Heard-Emotion": result.heard.emotion})

    @app.api_route(API + "/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"], include_in_schema=False)
    async def unknown(path: str):
        raise ApiError(404, f"No endpoint {API}/{path}; see /docs for the API.")

    if ui is None:
        return app
    ui.queue(default_concurrency_limit=settings.concurrency, max_size=settings.max_queue)
    # Gradio deletes its copies of uploads and results older than the age, every interval.
    ui.delete_cache = (settings.temp_max_age_s / 4, settings.temp_max_age_s)
    # No server-side rendering: it needs a Node process that plain uvicorn does not start.
    # show_error=False: only gr.Error messages (ours, written for users) reach the browser, never
    # str() of an unexpected exception, which can hold server paths.
    app = gr.mount_gradio_app(app, ui, path="/", max_file_size=settings.max_upload_bytes, ssr_mode=False,
                              show_error=False, css=getattr(ui, "css", None))
    # Gradio checks that a file input names an upload, not any server path, only once launch()
    # has run (processing_utils._check_allowed); mounted, nothing sets the flag, and
    # {"path": "/etc/passwd"} was copied into the cache and handed to the handler.  Its reload
    # mode sets the same flag on a Blocks it serves.  The handlers check again (app.uploaded_file).
    ui.has_launched = True
    return app


def add_offline_docs(app: FastAPI, static_url: str = "/static-docs") -> None:
    """Swagger UI at ``/docs`` and ReDoc at ``/redoc`` from files installed with the app.

    FastAPI's own pages load their JavaScript and CSS from a CDN, so offline
    (or behind a firewall) ``/docs`` is a blank page; ``fastapi-offline``
    ships the same files in its wheel and they are served from here.
    """
    import fastapi_offline
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    files = Path(fastapi_offline.__file__).parent / "static"
    app.mount(static_url, StaticFiles(directory=files), name="static-docs")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{app.swagger_ui_oauth2_redirect_url}",
            swagger_js_url=f"{root}{static_url}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{static_url}/swagger-ui.css",
            swagger_favicon_url=f"{root}{static_url}/favicon.png")

    @app.get(app.swagger_ui_oauth2_redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{static_url}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{static_url}/favicon.png", with_google_fonts=False)


# Hash-named folders of cached files, and the "tmpXXXXXXXX" files its upload parser writes.
GRADIO_CACHE_ENTRY = re.compile(r"[0-9a-f]{40,64}|tmp[A-Za-z0-9_]{8}")


def sweep_stale_uploads(folder: str | Path, max_age_s: float) -> list[Path]:
    """Remove what Gradio's upload folder holds that nothing touched for ``max_age_s`` seconds.

    Gradio deletes its files of a running server (``delete_cache``) and on a
    clean shutdown; a killed or crashed server left its uploads behind forever.
    Called at start-up.
    """
    now, removed = time.time(), []
    folder = Path(folder)
    for entry in folder.iterdir() if folder.is_dir() else []:
        # Only Gradio's own entries (folders named by a SHA hash): GRADIO_TEMP_DIR=/tmp must not
        # cost the machine's other temp files.
        if not GRADIO_CACHE_ENTRY.fullmatch(entry.name):
            continue
        try:
            newest = max(p.lstat().st_mtime for p in [entry, *(entry.rglob("*") if entry.is_dir() else [])])
            if now - newest > max_age_s:
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
                removed.append(entry)
        except OSError:  # in use by another server sharing the folder, or removed meanwhile
            continue
    if removed:
        logger.info("removed %d stale entries from %s", len(removed), folder)
    return removed


def _decode_upload(data: bytes, max_duration: float) -> np.ndarray:
    # Decoding stops at the limit (the container's header is read first), so a compressed
    # hour costs no more than the limit's worth of samples.
    try:
        return load_audio(data, max_duration=max_duration)
    except AudioTooLong as error:
        length = f"{error.duration:.0f} s long" if error.duration else "longer than that"
        raise ApiError(413, f"The audio is {length}; this server accepts up to {max_duration:.0f} s.") from None


def _too_large(size: int, settings: Settings) -> str:
    return f"The upload is {size / 2**20:.1f} MB; this server accepts up to {settings.max_upload_mb:g} MB."


def _recognize(samples: Decoded, emotions: list[str] | None, model: ModelChoice, settings: Settings):
    return recognize_use_case(samples, RecognizeRequest(emotions, model), settings=settings)


def _check_model(model: str, policy: ModelPolicy) -> ModelChoice:
    """The one model-choice rule (:func:`ser.choice.choose_model`), checked before the upload is read."""
    try:
        return policy.choose(model)
    except BundleError as error:
        raise ApiError(422, str(error)) from None


def _check_voice(voice: str) -> str:
    """A preset or an engine's voice name (en_US-amy-medium); paths are not accepted over HTTP."""
    voice = voice.strip()
    try:
        resolve_voice(voice, files=False)
    except ValueError as error:
        raise ApiError(422, str(error)) from None
    return voice


def _timeline(samples: Decoded, emotions: list[str] | None, model: ModelChoice, with_text: bool,
              language: str, settings: Settings, progress: Callable[[float, str], None] | None = None):
    language = None if language in ("", "auto") else language
    return analyze_timeline(samples, model=model, emotions=emotions,
                            asr_backend=DEFAULT_BACKEND if with_text else None, language=language,
                            progress=progress, settings=settings)


def _wav(audio: np.ndarray, sample_rate: int, headers: dict[str, str]) -> Response:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(audio, -1.0, 1.0), sample_rate, format="WAV", subtype="PCM_16")
    headers = {**headers, "X-Sample-Rate": str(sample_rate), "X-Duration": f"{audio.size / sample_rate:.3f}"}
    return Response(buffer.getvalue(), media_type="audio/wav", headers=headers)


def warm_up() -> dict[str, str]:
    """Load every bundled model and run it once, so the first request is as fast as the rest.

    Returns ``{component: "loaded in N s" or the reason it failed}``; a failure
    is reported, never fatal (the endpoint will answer 503 with the reason).
    """
    from asr import transcribe

    samples = load_audio(EXAMPLE)
    steps = {
        "recognizer": lambda: get_recognizer("default").recognize(samples),
        "asr": lambda: transcribe(samples, language="en"),
        "tts": lambda: synthesize("Ready.", "neutral"),
    }
    report = {}
    for name, step in steps.items():
        start = time.perf_counter()
        try:
            step()
            report[name] = f"loaded in {time.perf_counter() - start:.1f} s"
        except Exception as error:  # noqa: BLE001 - any failure becomes a health note, not a crash
            report[name] = f"not loaded: {error}"
    return report


def parse_args(argv=None) -> argparse.Namespace:
    defaults = Settings()
    parser = argparse.ArgumentParser(description="Run the emotion speech studio: web UI at /, REST API at /api/v1.")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="interface to listen on (0.0.0.0 for all; env GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
                        help="port (env GRADIO_SERVER_PORT; default 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public *.gradio.live link")
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency,
                        help="jobs run at once, per UI event and for the REST API (default %(default)s)")
    parser.add_argument("--max-queue", type=int, default=defaults.max_queue,
                        help="jobs allowed to wait before new ones are refused (default %(default)s)")
    parser.add_argument("--max-upload-mb", type=float, default=defaults.max_upload_mb,
                        help="largest accepted upload in MB (default %(default)s)")
    parser.add_argument("--max-duration-s", type=float, default=defaults.max_duration_s,
                        help="longest accepted audio in seconds (default %(default)s)")
    parser.add_argument("--log-level", default=os.environ.get("STUDIO_LOG_LEVEL", "warning"),
                        choices=["debug", "info", "warning", "error"],
                        help="what the packages log to stderr: warnings (default; env STUDIO_LOG_LEVEL) are the "
                             "fallbacks (Piper → espeak-ng, transformer → lexicon, Hub unreachable), info adds "
                             "each transcription and model load")
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="skip loading the models before serving")
    parser.add_argument("--allow-hub-models", metavar="ORG/NAME,…", default="",
                        help="Hugging Face repo ids callers may choose as models (and pull in the Train tab); "
                             "none by default: callers pick only 'default' and bundles in models/")
    args = parser.parse_args(argv)
    try:
        args.hub_models = parse_hub_models(args.allow_hub_models)
    except ValueError as error:
        parser.error(f"--allow-hub-models: {error}")
    if args.concurrency < 1 or args.max_queue < 0 or args.max_upload_mb <= 0 or args.max_duration_s <= 0:
        parser.error("--concurrency must be ≥ 1, --max-queue ≥ 0, the limits > 0")
    return args


def main(build_ui: Callable, argv=None) -> None:
    """Warm the models, build the app and serve it with uvicorn (``python app.py``)."""
    import uvicorn

    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from gradio.utils import get_upload_folder

    # One Settings value, handed to the REST API and to every UI tab: both refuse the same audio.
    settings = Settings.from_env(max_upload_mb=args.max_upload_mb, max_duration_s=args.max_duration_s,
                                 concurrency=args.concurrency, max_queue=args.max_queue,
                                 models=ModelPolicy(hub_models=args.hub_models))
    warm = {}
    if args.warm_up:
        start = time.perf_counter()
        warm = warm_up()
        print(f"Models warmed in {time.perf_counter() - start:.1f} s: "
              + "; ".join(f"{k} {v}" for k, v in warm.items()), flush=True)
    sweep_stale_uploads(get_upload_folder(), settings.temp_max_age_s)
    app = create_app(settings, build_ui(settings), warm)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning"))
    local = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
    print(f"Running on {local} (UI at /, REST API docs at {local}/docs)", flush=True)
    if args.share:
        threading.Thread(target=open_share_link, args=(server, local, args.port), daemon=True).start()
    server.run()


def open_share_link(server, local: str, port: int, timeout: float = SHARE_TIMEOUT) -> str | None:
    """Open a Gradio share tunnel to ``port`` once ``server`` is up; print the link or why there is none.

    Never raises and never blocks the server: without network the local server
    simply keeps running.
    """
    from gradio.networking import setup_tunnel

    while not server.started and not server.should_exit:
        time.sleep(0.1)
    outcome: dict[str, Any] = {}

    def attempt():
        try:
            outcome["url"] = setup_tunnel("127.0.0.1", port, secrets.token_urlsafe(32), None, None)
        except Exception as error:  # noqa: BLE001 - every failure means "no link", reported below
            cause = error.__cause__ or error
            outcome["error"] = f"{error} ({type(cause).__name__}: {cause})" if cause is not error else str(error)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout)
    if "url" in outcome:
        print(f"Running on public URL: {outcome['url']}", flush=True)
        return outcome["url"]
    reason = outcome.get("error", f"no answer from the share server in {timeout:.0f} s")
    print(f"Could not create a share link: {reason}. The network may block it; "
          f"the app keeps running locally at {local}", flush=True)
    return None
