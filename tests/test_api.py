"""The REST API under /api/v1: every endpoint with good and bad input, and its OpenAPI schema."""

from __future__ import annotations

import io
import threading
import time

import anyio
import gradio as gr
import numpy as np
import pytest
import soundfile
from fastapi.testclient import TestClient

from server import ApiError, Settings, Workers, create_app

EXAMPLES = "assets/examples"


def make_client(**limits) -> TestClient:
    # A one-line UI keeps these tests about the REST layer; test_server.py runs the real app.
    with gr.Blocks() as ui:
        gr.Markdown("test")
    return TestClient(create_app(Settings(**limits), ui=ui))


@pytest.fixture(scope="module")
def client():
    with make_client() as c:
        yield c


def upload(path: str) -> dict:
    with open(path, "rb") as f:
        return {"file": (path.rsplit("/", 1)[-1], f.read(), "audio/wav")}


def wav_bytes(samples: np.ndarray, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def clip():
    return upload(f"{EXAMPLES}/calm_meeting.wav")


@pytest.fixture(scope="module")
def sentence():
    return upload(f"{EXAMPLES}/asr_en_happy.wav")


NOT_AUDIO = {"file": ("notes.wav", b"this is a text file, not audio " * 20, "audio/wav")}


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["error"]


def test_health_reports_models_backends_and_limits(client):
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert "happy" in body["recognizer"]["labels"]
    assert {b["name"] for b in body["asr_backends"]} >= {"faster-whisper", "pocketsphinx"}
    assert "youngwoman" in body["tts"]["voices"] and "sad" in body["tts"]["emotions"]
    assert body["limits"]["max_upload_mb"] == Settings().max_upload_mb


def test_recognize_returns_emotion_gender_and_probabilities(client, clip):
    body = client.post("/api/v1/recognize", files=clip).json()
    assert body["emotion"] in body["probabilities"]
    assert sum(body["probabilities"].values()) == pytest.approx(1, abs=1e-4)
    assert body["gender"] in ("male", "female") and body["duration"] > 1


def test_recognize_restricts_to_an_emotion_subset(client, clip):
    body = client.post("/api/v1/recognize", files=clip, data={"emotions": "sad, neutral,happy"}).json()
    assert set(body["probabilities"]) == {"sad", "neutral", "happy"}


@pytest.mark.parametrize("data, message", [
    ({"emotions": "sad,joyous"}, "does not know joyous"),
    ({"emotions": "sad"}, "at least two emotions"),
    ({"model": "/etc"}, "Unknown model '/etc'"),
    ({"model": "../assets/models"}, "Unknown model"),
])
def test_recognize_rejects_bad_parameters(client, clip, data, message):
    assert message in error_of(client.post("/api/v1/recognize", files=clip, data=data), 422)


def test_bad_audio_is_400_with_the_reason(client):
    assert "not a readable audio file" in error_of(client.post("/api/v1/recognize", files=NOT_AUDIO), 400)
    silent = {"file": ("silence.wav", wav_bytes(np.zeros(16_000, np.float32)), "audio/wav")}
    assert "silent" in error_of(client.post("/api/v1/recognize", files=silent), 400)
    short = {"file": ("short.wav", wav_bytes(0.1 * np.ones(800, np.float32)), "audio/wav")}
    assert "at least" in error_of(client.post("/api/v1/recognize", files=short), 400)


def test_missing_upload_is_422(client):
    assert "file: Field required" in error_of(client.post("/api/v1/recognize"), 422)


def test_uploads_over_the_size_limit_are_413(clip):
    with make_client(max_upload_mb=0.01) as small:
        message = error_of(small.post("/api/v1/recognize", files=clip), 413)
    assert "accepts up to 0.01 MB" in message


def test_audio_over_the_duration_limit_is_413(clip):
    with make_client(max_duration_s=1.0) as short:
        message = error_of(short.post("/api/v1/recognize", files=clip), 413)
    assert "accepts up to 1 s" in message


def test_timeline_lists_segments_with_emotions(client, sentence):
    body = client.post("/api/v1/timeline", files=sentence, data={"with_text": "false"}).json()
    assert body["segments"] and body["duration"] > 3
    first = body["segments"][0]
    assert first["emotion"] in body["labels"] and first["end"] > first["start"]
    assert sum(body["summary"].values()) == pytest.approx(1)
    assert "not a readable audio file" in error_of(client.post("/api/v1/timeline", files=NOT_AUDIO), 400)


def test_transcribe_returns_text_segments_and_text_emotion(client, sentence):
    body = client.post("/api/v1/transcribe", files=sentence,
                       data={"language": "en", "words": "true", "with_text_emotion": "true"}).json()
    assert "happy to see you" in body["text"].lower()
    assert body["segments"][0]["words"]
    assert body["text_emotion"]["emotion"] in body["text_emotion"]["probabilities"]


def test_transcribe_rejects_bad_parameters_and_missing_backends(client, sentence):
    assert "backend" in error_of(client.post("/api/v1/transcribe", files=sentence, data={"backend": "siri"}), 422)
    assert "task" in error_of(client.post("/api/v1/transcribe", files=sentence, data={"task": "summarize"}), 422)
    assert "not a readable audio file" in error_of(client.post("/api/v1/transcribe", files=NOT_AUDIO), 400)
    from asr import available_backends

    if not next(b for b in available_backends() if b.name == "paddlespeech").available:
        message = error_of(client.post("/api/v1/transcribe", files=sentence, data={"backend": "paddlespeech"}), 503)
        assert "PaddleSpeech is not installed" in message


def test_synthesize_answers_a_wav(client):
    response = client.post("/api/v1/synthesize", json={"text": "Kids are talking by the door.", "emotion": "happy",
                                                       "voice": "youngwoman", "intensity": 0.5})
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    audio, rate = soundfile.read(io.BytesIO(response.content))
    assert rate == int(response.headers["x-sample-rate"]) and audio.size / rate > 0.5
    assert response.headers["x-emotion"] == "happy" and response.headers["x-voice"] == "youngwoman"


@pytest.mark.parametrize("body, message", [
    ({"text": ""}, "text"),
    ({"text": "Hi there", "emotion": "ecstatic"}, "Unknown emotion 'ecstatic'"),
    ({"text": "Hi there", "intensity": 2}, "intensity"),
    ({"text": "Hi there", "speed": 0}, "speed"),
    ({"text": "Hi there", "voice": "/tmp/voice.onnx"}, "Unknown voice"),
    ({"text": "x" * 2001}, "text"),
])
def test_synthesize_rejects_bad_parameters(client, body, message):
    assert message in error_of(client.post("/api/v1/synthesize", json=body), 422)


def test_revoice_answers_a_wav_with_what_it_heard(client, sentence):
    response = client.post("/api/v1/revoice", files=sentence,
                           data={"emotion": "sad", "voice": "smallgirl", "language": "en"})
    assert response.status_code == 200, response.text
    assert "happy%20to%20see" in response.headers["x-transcript"]
    assert response.headers["x-emotion"] == "sad" and response.headers["x-voice"] == "smallgirl"
    assert soundfile.info(io.BytesIO(response.content)).duration > 1


def test_revoice_with_the_learned_conversion_says_what_the_result_is_heard_as(client, sentence):
    response = client.post("/api/v1/revoice", files=sentence,
                           data={"emotion": "angry", "keep_voice": "true", "method": "learned", "language": "en"})
    assert response.status_code == 200, response.text
    assert response.headers["x-method"] == "learned" and response.headers["x-voice"] == "own voice"
    assert response.headers["x-heard-emotion"] in {"angry", "boredom", "calm", "disgust", "fearful", "happy",
                                                   "neutral", "sad", "surprised"}
    assert "Unknown conversion method" in error_of(
        client.post("/api/v1/revoice", files=sentence, data={"method": "magic"}), 422)
    assert "Unknown conversion method" in error_of(
        client.post("/api/v1/synthesize", json={"text": "Hi there", "method": "magic"}), 422)


def test_revoice_rejects_bad_input(client, sentence):
    assert "not a readable audio file" in error_of(client.post("/api/v1/revoice", files=NOT_AUDIO), 400)
    assert "Unknown emotion" in error_of(client.post("/api/v1/revoice", files=sentence, data={"emotion": "meh"}), 422)
    assert "intensity" in error_of(client.post("/api/v1/revoice", files=sentence, data={"intensity": "-1"}), 422)


def test_unknown_endpoints_answer_json_404(client):
    assert "see /docs" in error_of(client.get("/api/v1/recognise"), 404)


def test_openapi_documents_every_endpoint_and_its_errors(client):
    spec = client.get("/openapi.json").json()
    for name in ("recognize", "timeline", "transcribe", "synthesize", "revoice"):
        responses = spec["paths"][f"/api/v1/{name}"]["post"]["responses"]
        assert {"200", "400", "413", "422", "503"} <= set(responses)
    assert "/api/v1/health" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_a_full_queue_answers_503():
    workers = Workers(concurrency=1, max_queue=0)
    outcomes = []

    async def call():
        try:
            outcomes.append(await workers.run(time.sleep, 0.3) or "ran")
        except ApiError as error:
            outcomes.append(error.status)

    async def both():
        async with anyio.create_task_group() as group:
            group.start_soon(call)
            await anyio.sleep(0)  # the first call is in flight when the second arrives
            group.start_soon(call)

    # Its own thread: a session-scoped Playwright browser (test_docs, browser tests) keeps an
    # event loop running in the main thread, where anyio.run would refuse to start.
    runner = threading.Thread(target=anyio.run, args=(both,))
    runner.start()
    runner.join()
    assert sorted(outcomes, key=str) == [503, "ran"]


@pytest.mark.parametrize("endpoint, data", [("recognize", {}), ("transcribe", {"language": "en"}),
                                            ("timeline", {"with_text": "false"}),
                                            ("revoice", {"emotion": "sad", "voice": "youngwoman"})])
def test_a_request_is_decoded_once(client, sentence, monkeypatch, endpoint, data):
    # server.read_audio, then the pipeline, then (re-voice) recognize each decoded the audio again.
    import ser.audio

    calls = []
    real = ser.audio.decode
    monkeypatch.setattr(ser.audio, "decode", lambda *a, **k: calls.append(1) or real(*a, **k))
    response = client.post(f"/api/v1/{endpoint}", files=sentence, data=data)
    assert response.status_code == 200, response.text
    assert len(calls) == 1
