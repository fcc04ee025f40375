"""Work stops when its client leaves, and a short request does not wait behind long ones (issue 16 item 4).

The real app runs in its own process; its CPU time (``/proc/<pid>/stat``)
shows whether an abandoned job is still being computed.
"""

from __future__ import annotations

import os
import socket
import time
from urllib.parse import urlparse

import httpx
import pytest

from conftest import recording

pytestmark = pytest.mark.browser

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_rate(pid: int, seconds: float) -> float:
    """CPU seconds the process used per second over the next ``seconds``."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


def settle(pid: int, limit: float = 0.2, timeout: float = 60.0) -> None:
    """Wait until the app is idle (earlier tests' jobs done), so CPU readings are its own."""
    deadline = time.time() + timeout
    while cpu_rate(pid, 1.0) > limit:
        assert time.time() < deadline, "the app did not go idle"


def stopped_within(pid: int, seconds: float, idle: float = 0.15) -> float | None:
    """The seconds until the process's CPU use falls to ``idle`` per second, or None."""
    start = time.time()
    while time.time() - start < seconds:
        if cpu_rate(pid, 1.0) < idle:
            return time.time() - start
    return None


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory):
    return recording(tmp_path_factory.mktemp("long"), 240)


def open_request(url: str, path: str, files: dict, data: dict) -> socket.socket:
    """Send a multipart POST on a raw socket and return it unread: closing it is the client leaving."""
    request = httpx.Request("POST", url + path, files=files, data=data)
    body = request.read()
    parsed = urlparse(url)
    sock = socket.create_connection((parsed.hostname, parsed.port))
    head = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    sock.sendall(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode() + body)
    return sock


def answered(sock: socket.socket) -> bool:
    """Whether the server has sent anything back on ``sock`` yet."""
    sock.setblocking(False)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    finally:
        sock.setblocking(True)


def test_rest_recognize_does_not_wait_behind_two_timelines_and_they_stop_when_their_clients_leave(
        app_server, long_recording, example_clip):
    url, process = app_server
    settle(process.pid)
    audio = long_recording.read_bytes()
    longs = [open_request(url, "/api/v1/timeline", {"file": ("long.wav", audio, "audio/wav")},
                          {"with_text": "true"}) for _ in range(2)]
    try:
        time.sleep(4)  # both decoded and running
        assert cpu_rate(process.pid, 2.0) > 0.4, "the timelines are not running"
        start = time.time()
        reply = httpx.post(url + "/api/v1/recognize", timeout=120,
                           files={"file": ("clip.wav", example_clip.read_bytes(), "audio/wav")})
        waited = time.time() - start
        assert reply.status_code == 200, reply.text
        # One lane held both timelines: recognize waited until one of them had finished.
        assert not any(answered(sock) for sock in longs), "a 240 s timeline finished before recognize"
        assert waited < 20, f"recognize took {waited:.1f} s behind two timelines"
    finally:
        for sock in longs:
            sock.close()
    # Both jobs stop at their next segment or transcription piece once their clients left.
    took = stopped_within(process.pid, 20)
    assert took is not None, "the server kept computing after both clients left"


def open_tab(browser, app_server, tab: str):
    """A new browser context on the idle app, showing ``tab``: ``(context, page)``; closing the context is leaving."""
    url, process = app_server
    settle(process.pid)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_role("tab", name=tab).click()
    return context, page


def test_a_timeline_stops_when_its_browser_tab_closes(browser, app_server, long_recording):
    url, process = app_server
    context, page = open_tab(browser, app_server, "Timeline")
    page.locator("#timeline-file input[type=file]").set_input_files(str(long_recording))
    page.get_by_role("button", name="Analyze timeline").click()
    # The job has started once its progress shows (transcribing the first pieces).
    page.wait_for_function("() => /Transcribing|segment/.test(document.body.innerText)", timeout=120_000)
    assert cpu_rate(process.pid, 2.0) > 0.4, "the timeline is not running"
    context.close()  # the tab is gone
    took = stopped_within(process.pid, 25)
    assert took is not None, "the server kept computing the Timeline of a closed tab"


def test_a_transcription_stops_when_its_browser_tab_closes(browser, app_server, tmp_path):
    # 540 s (under the 600 s limit) take Whisper about a minute on 2 cores: the stages alone are
    # too coarse; the decode itself stops at its next segment once the page has gone.
    url, process = app_server
    context, page = open_tab(browser, app_server, "Transcribe")
    page.locator("#asr-audio input[type=file]").set_input_files(str(recording(tmp_path, 540)))
    page.locator("#asr-run").click()
    # The decode is under way a few seconds after its stage shows.
    page.wait_for_function("() => /Transcribing with/.test(document.body.innerText)", timeout=180_000)
    time.sleep(5)
    assert cpu_rate(process.pid, 2.0) > 0.4, "the transcription is not running"
    context.close()
    took = stopped_within(process.pid, 15)
    assert took is not None, "the server kept transcribing for a closed tab"


def test_a_rest_transcription_stops_when_its_client_leaves(app_server, tmp_path):
    url, process = app_server
    settle(process.pid)
    audio = recording(tmp_path, 540).read_bytes()
    sock = open_request(url, "/api/v1/transcribe", {"file": ("long.wav", audio, "audio/wav")}, {"language": "en"})
    try:
        time.sleep(6)  # decoded and transcribing (540 s take Whisper about a minute)
        assert cpu_rate(process.pid, 2.0) > 0.4, "the transcription is not running"
    finally:
        sock.close()
    took = stopped_within(process.pid, 15)
    assert took is not None, "the server kept transcribing after its client left"


def test_a_training_stops_when_its_browser_tab_closes(browser, tmp_path):
    # Its own app with an empty feature cache, so the run has EMO-DB's 535 clips to extract
    # (about a minute of Whisper base on 2 cores); it stops at the next clip once the page has gone.
    from conftest import DATASETS, corpus_dir, start_app, stop_app

    corpus_dir("emodb")
    app = start_app(tmp_path / "app.log", "--no-warm-up", SER_CACHE_DIR=str(tmp_path / "cache"),
                    SER_DATASETS=str(DATASETS))
    try:
        context, page = open_tab(browser, app, "Train")
        page.get_by_label("Features of the classical models").fill("whisper-base")
        page.get_by_label("Features of the classical models").press("Enter")
        page.get_by_label("Bundle name").fill("closed-tab-bundle")
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_function("() => /Features \\d+\\/535/.test(document.body.innerText)", timeout=120_000)
        time.sleep(3)
        assert cpu_rate(app[1].pid, 2.0) > 0.4, "the training is not running"
        context.close()
        took = stopped_within(app[1].pid, 15)
        assert took is not None, "the server kept training for a closed tab"
    finally:
        stop_app(app[1])
