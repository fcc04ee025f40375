"""The UI's API as gradio_client sees it, and the handlers' argument checks (no server, no browser)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest

import app
from ser.bundle import ModelBundle, save_bundle
from ser.choice import ModelPolicy
from ser.models import make_classifier


@pytest.fixture(scope="module")
def demo():
    return app.build_app()


@pytest.fixture(scope="module")
def api_info(demo):
    return demo.get_api_info()


def test_every_input_and_output_of_the_api_has_a_name(api_info):
    # gradio_client.view_api() listed unnamed Markdown outputs as value_17, value_39 …
    unnamed = [(endpoint, item["component"]) for endpoint, info in api_info["named_endpoints"].items()
               for item in info["parameters"] + info["returns"]
               if not item.get("label") or item["label"].startswith("value_")]
    assert not unnamed


def test_ticking_no_emotions_is_refused_not_read_as_all():
    with pytest.raises(gr.Error, match="Tick at least one emotion"):
        app.recognize_clip(None, [], "default", ModelPolicy())


def test_the_emotion_list_follows_a_trained_bundle(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 88)).astype(np.float32)
    y = np.array(["angry", "sad"] * 20)
    X[:, 0] += 3 * (y == "angry")
    save_bundle(ModelBundle(emotion_model=make_classifier("logreg").fit(X, y), feature_set="egemaps", name="two"),
                tmp_path / "two")
    policy = ModelPolicy(models_dir=tmp_path)
    assert app.model_choices(policy) == ["default", "two"]
    update = app.model_labels("two", policy)
    assert update["choices"] == update["value"] == ["angry", "sad"]
    with pytest.raises(gr.Error, match="Unknown model"):  # a path typed in is refused, not kept with 9 ticks
        app.model_labels("/etc", policy)


def test_transcribe_examples_bring_their_language(demo):
    # Clicked with the language on "detect", espeak-ng's Spanish example came back as garbled English.
    rows = [row for c in demo.config["components"] if c.get("type") == "dataset"
            for row in c["props"].get("samples") or [] if len(row) == 2 and "asr_" in str(row[0])]
    languages = {Path(str(row[0].get("path", row[0]) if isinstance(row[0], dict) else row[0])).name: row[1]
                 for row in rows}
    assert languages == {"asr_en_happy.wav": "en", "asr_en_angry.wav": "en", "asr_de.wav": "de", "asr_es.wav": "es"}


def test_the_served_page_keeps_the_train_table_on_one_line_per_row():
    # The Train tab's results table wrapped its numbers ("0.15 / 0"); the mounted UI carries the rule.
    from fastapi.testclient import TestClient

    import app
    import server

    client = TestClient(server.create_app(server.Settings(), app.build_app(), warm={}))
    css = client.get("/config").json()["css"]
    assert "#train-summary td" in css and "white-space: nowrap" in css
