"""Shared fixtures: corpus location, project-made audio, a running app and a browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import opensmile  # noqa: F401  isort: skip  first, so openSMILE loads before any test imports TensorFlow

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("SER_DATASETS", ROOT.parent / "shared" / "datasets"))
EXAMPLES = ROOT / "assets" / "examples"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: needs a corpus or minutes of CPU (selected with -m slow)")
    config.addinivalue_line("markers", "browser: drives the app in headless Chromium")


def corpus_dir(name: str) -> Path:
    path = DATASETS / name
    if not path.is_dir():
        pytest.skip(f"corpus {name} not found at {path} (set SER_DATASETS to the datasets folder)")
    return path


@pytest.fixture(scope="session")
def ravdess() -> Path:
    return corpus_dir("ravdess")


@pytest.fixture(scope="session")
def emodb() -> Path:
    return corpus_dir("emodb")


@pytest.fixture(scope="session")
def ased() -> Path:
    return corpus_dir("ased")


@pytest.fixture(scope="session")
def example_clip() -> Path:
    return EXAMPLES / "calm_meeting.wav"


@pytest.fixture(scope="session")
def speech(example_clip) -> np.ndarray:
    from ser import load_audio

    return load_audio(example_clip)


MEETING_CLIPS = ["calm_meeting.wav", "asr_en_happy.wav", "quick_news.wav", "asr_en_angry.wav", "slow_day.wav"]


def recording(folder: Path, seconds: float) -> Path:
    """About ``seconds`` of project-made speech with pauses (a shuffled, seeded sequence of the example clips)."""
    import soundfile

    from ser import load_audio

    rng = np.random.default_rng(0)
    clips = [load_audio(EXAMPLES / name) for name in MEETING_CLIPS]
    pause = np.zeros(int(1.5 * 16_000), np.float32)
    parts = []
    while sum(p.size for p in parts) < seconds * 16_000:
        parts += [clips[int(rng.integers(len(clips)))], pause]
    path = folder / f"meeting_{seconds:.0f}s.wav"
    soundfile.write(path, np.concatenate(parts)[: int(seconds * 16_000)], 16_000)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(log: Path, *args: str, **env: str) -> tuple[str, subprocess.Popen]:
    """Start ``python app.py --port P *args`` as the README does (offline); ``(url, process)`` once it listens."""
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", **env}
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "app.py", "--port", str(port), *args], cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 180
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"app exited early:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"http://127.0.0.1:{port}", process
        except OSError:
            time.sleep(0.5)
    process.kill()
    pytest.fail(f"app did not start in 180 s:\n{log.read_text()[-3000:]}")


def stop_app(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)  # uvicorn waits for open event streams; then it is killed
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """The real app, started as the README starts it, on a free local port: ``(url, process)``."""
    url, process = start_app(tmp_path_factory.mktemp("app") / "app.log")
    yield url, process
    stop_app(process)


@pytest.fixture(scope="session")
def app_url(app_server):
    """The URL of :func:`app_server`'s app."""
    return app_server[0]


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def playwright_session():
    """``(playwright, chromium path)``: one Playwright per session (a second sync one cannot start
    inside the first's event loop); browsers with other flags launch from it."""
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.skip(f"Chromium not found at {chromium} (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        yield p, chromium


@pytest.fixture(scope="session")
def browser(playwright_session):
    p, chromium = playwright_session
    browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture()
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app_url)
    yield page
    context.close()
