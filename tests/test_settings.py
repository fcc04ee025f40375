"""One Settings value reaches every face: the limit a server is started with is the limit of every tab and endpoint.

The bug this guards: ``server.main`` once wrote ``--max-duration-s`` into a
module global that only ``/recognize`` read, so with ``--max-duration-s 1200``
a 900 s clip passed ``/recognize`` but ``/transcribe``, ``/revoice`` and the
Transcribe and Re-voice tabs refused it as over 600 s.  Here the environment
says 2 s and the flag says 6 s: every face must accept a 4 s clip and refuse a
9 s one naming 6 s, whichever default a forgotten code path falls back to.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import httpx
import soundfile

from conftest import EXAMPLES, ROOT, start_app, stop_app
from pipelines.settings import Settings

FLAG_S, ENV_S = 6, 2


def clip(path, seconds: float) -> str:
    """The example sentence, repeated to ``seconds`` (real speech, so every face has words to work on)."""
    samples, rate = soundfile.read(EXAMPLES / "asr_en_happy.wav", dtype="float32")
    reps = int(np.ceil(seconds * rate / samples.size))
    soundfile.write(path, np.tile(samples, reps)[: int(seconds * rate)], rate)
    return str(path)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, process = start_app(tmp_path_factory.mktemp("settings") / "app.log", "--max-duration-s", str(FLAG_S),
                             "--no-warm-up", SER_MAX_DURATION=str(ENV_S))
    yield url
    stop_app(process)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {"short": clip(folder / "short.wav", 4.0), "long": clip(folder / "long.wav", 9.0)}


REST = {"recognize": {}, "transcribe": {"language": "en"}, "timeline": {"with_text": "false"},
        "revoice": {"emotion": "sad", "voice": "youngwoman", "language": "en"}}


@pytest.mark.parametrize("endpoint", list(REST))
def test_every_rest_endpoint_uses_the_flag_not_the_environment(server, clips, endpoint):
    for name, status in (("short", 200), ("long", 413)):
        with open(clips[name], "rb") as f:
            response = httpx.post(f"{server}/api/v1/{endpoint}", files={"file": (f"{name}.wav", f, "audio/wav")},
                                     data=REST[endpoint], timeout=300)
        assert response.status_code == status, (endpoint, name, response.text[:300])
        if status == 413:
            assert f"{FLAG_S} s" in response.json()["error"], response.text


UI = {"/recognize": lambda audio: [audio, ["angry", "happy", "neutral", "sad"], "default"],
      "/transcribe": lambda audio: [audio, "faster-whisper", "auto", "en", 0.3],
      "/revoice": lambda audio: [audio, "sad", 0.8, "youngwoman", "New voice", "Prosody rules"]}


@pytest.mark.parametrize("api_name", list(UI))
def test_every_tab_uses_the_flag_not_the_environment(server, clips, api_name):
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False)
    client.predict(*UI[api_name](handle_file(clips["short"])), api_name=api_name)  # accepted: no error
    with pytest.raises(Exception) as refused:
        client.predict(*UI[api_name](handle_file(clips["long"])), api_name=api_name)
    assert f"{FLAG_S} s" in str(refused.value), str(refused.value)


def test_settings_come_from_the_environment_then_the_flags():
    assert Settings.from_env({"SER_MAX_DURATION": "1200"}).max_duration_s == 1200.0
    assert Settings.from_env({"SER_MAX_DURATION": "1200"}, max_duration_s=30).max_duration_s == 30
    assert Settings.from_env({}, max_duration_s=None).max_duration_s == 600.0  # a flag not given
    with pytest.raises(TypeError, match="Unknown settings: max_durration_s"):
        Settings.from_env({}, max_durration_s=3)


def test_no_module_global_is_written_from_the_settings():
    # server.main once assigned ser.audio.MAX_DURATION; nothing below the faces may be configured that way.
    code = ("import ser.audio, server, app; from pipelines.settings import Settings; "
            "app.build_app(Settings(max_duration_s=7)); print(ser.audio.MAX_DURATION)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.stdout.split()[-1:] == ["600.0"], out.stderr[-2000:]
    source = (ROOT / "server.py").read_text() + (ROOT / "app.py").read_text()
    assert "MAX_DURATION =" not in source and "SHORT_WINDOWS =" not in source
