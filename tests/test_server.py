"""The running server: launch options, gradio_client, the OpenAPI contract on loopback, --share offline."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

import server
from conftest import ROOT, _free_port


def test_options_default_to_the_environment_spaces_sets(monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7861")
    args = server.parse_args([])
    assert (args.host, args.port, args.share, args.warm_up) == ("0.0.0.0", 7861, False, True)
    args = server.parse_args(["--concurrency", "4", "--max-queue", "8", "--max-upload-mb", "5",
                              "--max-duration-s", "30", "--share"])
    assert (args.concurrency, args.max_queue, args.max_upload_mb, args.max_duration_s, args.share) == (4, 8, 5, 30, True)


def test_bad_options_stop_with_a_message(capsys):
    with pytest.raises(SystemExit):
        server.parse_args(["--concurrency", "0"])
    assert "--concurrency must be" in capsys.readouterr().err


class StartedServer:
    started, should_exit = True, False


def test_share_link_failure_is_reported_not_raised(monkeypatch, capsys):
    def refuse(*args):
        raise RuntimeError("Could not get share link from Gradio API Server.")

    monkeypatch.setattr("gradio.networking.setup_tunnel", refuse)
    assert server.open_share_link(StartedServer(), "http://127.0.0.1:1", 1) is None
    out = capsys.readouterr().out
    assert "Could not create a share link: Could not get share link" in out
    assert "keeps running locally at http://127.0.0.1:1" in out


def test_a_share_server_that_never_answers_is_given_up_on(monkeypatch, capsys):
    monkeypatch.setattr("gradio.networking.setup_tunnel", lambda *args: time.sleep(30))
    start = time.perf_counter()
    assert server.open_share_link(StartedServer(), "http://127.0.0.1:1", 1, timeout=0.5) is None
    assert time.perf_counter() - start < 2
    assert "no answer from the share server" in capsys.readouterr().out


def test_share_offline_fails_fast_and_the_local_server_keeps_running(tmp_path):
    port = _free_port()
    closed = "http://127.0.0.1:9"  # nothing listens: every outside request fails at once, as offline
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "HTTP_PROXY": closed,
           "HTTPS_PROXY": closed, "ALL_PROXY": closed, "NO_PROXY": "127.0.0.1,localhost"}
    log = tmp_path / "share.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--share", "--no-warm-up"],
                                   cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.time() + 120
        while "Could not create a share link" not in log.read_text():
            assert process.poll() is None, f"the app exited:\n{log.read_text()[-3000:]}"
            assert time.time() < deadline, f"no share message in 120 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        text = log.read_text()
        assert "keeps running locally" in text
        response = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=30)
        assert response.status_code == 200 and process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_health_of_the_running_app_reports_warm_models(app_url):
    body = httpx.get(f"{app_url}/api/v1/health", timeout=30).json()
    assert set(body["loaded"]) == {"recognizer", "asr", "tts"}
    assert all(v.startswith("loaded") for v in body["loaded"].values()), body["loaded"]


def test_the_ui_and_the_docs_share_one_server(app_url):
    assert "gradio" in httpx.get(app_url, timeout=30).text.lower()
    assert httpx.get(f"{app_url}/docs", timeout=30).status_code == 200


def test_gradio_client_recognizes_through_the_ui_api(app_url, example_clip):
    from gradio_client import Client, handle_file

    client = Client(app_url, verbose=False)
    assert "/recognize" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    label, gender, chart, details = client.predict(handle_file(str(example_clip)), ["sad", "neutral", "happy"],
                                                   "default", api_name="/recognize")
    assert details["emotion"] in {"sad", "neutral", "happy"}
    # The headline is the honest answer: the emotion, or "not sure — closest: …" below the threshold.
    assert label["label"] == details["label"]
    assert details["label"] == details["emotion"] if details["sure"] else \
        details["label"].startswith(f"not sure — closest: {details['emotion']} (")
    assert "Gender" in gender


def test_gradio_client_runs_the_timeline_tab(app_url):
    from gradio_client import Client, handle_file

    client = Client(app_url, verbose=False)
    clip = ROOT / "assets" / "examples" / "asr_en_happy.wav"
    chart, summary, counts, table, exports = client.predict(handle_file(str(clip)), False, ["sad", "neutral", "happy"],
                                                            "default", api_name="/timeline")
    assert summary["label"] in {"sad", "neutral", "happy"}
    assert table["data"] and len(exports) == 3


def test_gradio_client_runs_the_transcribe_tab(app_url):
    from gradio_client import Client, handle_file

    client = Client(app_url, verbose=False)
    clip = ROOT / "assets" / "examples" / "asr_en_happy.wav"
    text, segments, fused, chart, summary, details = client.predict(
        handle_file(str(clip)), "faster-whisper", "auto", "en", 0.3, api_name="/transcribe")
    assert "happy to see you" in text.lower()
    assert segments["data"] and details["language"] == "en"
    assert fused["label"]


def test_every_endpoint_keeps_its_openapi_contract(app_url):
    """Generated requests (mostly junk audio and odd parameters) never give 5xx or undocumented answers."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                     status_code_conformance)

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    schema = schemathesis.openapi.from_url(f"{app_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def keeps_contract(case):
            case.call_and_validate(timeout=120, checks=checks)

        keeps_contract()


def test_api_error_capitalises_a_plain_word_but_never_a_repo_id():
    # A REST caller got "No/such …" for the repo "no/such" it had sent.
    assert server.ApiError(404, "no/such is not on this server's allow-list").message.startswith("no/such ")
    assert server.ApiError(400, "bad audio").message == "Bad audio"


def test_the_duration_limit_follows_ser_max_duration():
    # SECURITY.md names SER_MAX_DURATION as the server's limit; a fresh interpreter reads it at import.
    code = "import server; print(server.Settings().max_duration_s, server.parse_args([]).max_duration_s)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "SER_MAX_DURATION": "120"})
    assert out.stdout.split() == ["120.0", "120.0"], out.stderr[-2000:]
