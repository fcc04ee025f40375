"""The fallbacks a server operator must be able to see are logged (they were silent)."""

from __future__ import annotations

import logging
import socket

import pytest

from asr import emotion
from ser import hub


def test_an_unreachable_hub_is_logged_once_per_endpoint(caplog):
    with socket.socket() as s:  # a port nothing listens on: the probe is refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with caplog.at_level(logging.WARNING, logger="ser.hub"):
        assert not hub.host_reachable("127.0.0.1", port)
        assert not hub.host_reachable("127.0.0.1", port)  # remembered: no second probe, no second line
    lines = [r.getMessage() for r in caplog.records if r.name == "ser.hub"]
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "offline" in lines[0]


def test_the_text_emotion_fallback_to_the_lexicon_is_logged(caplog, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emotion._log_fallback.cache_clear()
    with caplog.at_level(logging.WARNING, logger="asr.emotion"):
        found = emotion.text_emotion("I am so happy to see you again")
        emotion.text_emotion("This is wonderful news")
    if not found.note:
        pytest.skip("transformers and its model are installed and cached here: nothing falls back")
    lines = [r.getMessage() for r in caplog.records if r.name == "asr.emotion"]
    assert len(lines) == 1 and "lexicon" in lines[0] and found.note in lines[0]
