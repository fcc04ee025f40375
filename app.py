"""Emotion-aware speech studio: the Gradio UI.

Only widgets and wiring live here; every computation is in the ``ser``,
``asr`` and ``tts`` packages.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import plotly.graph_objects as go

from ser import AudioError
from ser.bundle import BundleError
from ser.hub import HubUnavailable
from ser.recognizer import get_recognizer

ROOT = Path(__file__).resolve().parent
EXAMPLES = ROOT / "assets" / "examples"
MODELS = ROOT / "models"
SEED_SUBSETS = {
    "all": None,
    "5 emotions": ["angry", "sad", "neutral", "surprised", "happy"],
    "3 emotions": ["sad", "neutral", "happy"],
}
USER_ERRORS = (AudioError, BundleError, HubUnavailable, ValueError)


def radar_chart(probabilities: dict[str, float], title: str = "") -> go.Figure:
    """A closed polar chart of label probabilities (in %)."""
    labels = list(probabilities)
    values = [100 * probabilities[label] for label in labels]
    figure = go.Figure(go.Scatterpolar(r=values + values[:1], theta=labels + labels[:1], fill="toself",
                                       line_color="#e4572e", hovertemplate="%{theta}: %{r:.1f}%<extra></extra>"))
    figure.update_layout(
        title=title or None, showlegend=False, height=380, margin=dict(l=40, r=40, t=40 if title else 20, b=20),
        polar=dict(radialaxis=dict(range=[0, max(values) * 1.05 or 1], ticksuffix="%")),
    )
    return figure


def model_choices() -> list[str]:
    """The bundled default model and every bundle trained into ``models/``."""
    local = sorted(str(p) for p in MODELS.glob("*") if (p / "bundle.json").is_file()) if MODELS.is_dir() else []
    return ["default", *local]


def recognize_clip(audio: str | None, emotions: list[str], model: str):
    if not audio:
        raise gr.Error("Upload or record a clip first.")
    try:
        result = get_recognizer(model or "default").recognize(audio, emotions=emotions or None)
    except USER_ERRORS as error:
        raise gr.Error(str(error)) from None
    gender = (f"**Gender:** {result.gender} ({result.gender_confidence:.0%})" if result.gender
              else "**Gender:** not predicted by this model")
    return (
        {result.emotion: result.confidence},
        gender,
        radar_chart(result.probabilities),
        result.to_dict(),
    )


def model_labels(model: str):
    try:
        labels = get_recognizer(model or "default").labels
    except USER_ERRORS as error:
        raise gr.Error(str(error)) from None
    return gr.update(choices=labels, value=labels)


def subset_for(preset: str, model: str):
    labels = get_recognizer(model or "default").labels
    chosen = SEED_SUBSETS.get(preset) or labels
    return gr.update(value=[e for e in chosen if e in labels])


def recognize_tab() -> None:
    labels = get_recognizer("default").labels
    with gr.Tab("Recognize", id="recognize"):
        gr.Markdown("Upload or record speech; see how the speaker feels and who is speaking.")
        with gr.Row():
            with gr.Column():
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Speech")
                with gr.Accordion("Model and emotions", open=False):
                    model = gr.Dropdown(model_choices(), value="default", allow_custom_value=True,
                                        label="Model (bundle folder or Hugging Face repo id)")
                    preset = gr.Radio(list(SEED_SUBSETS), value="all", label="Emotion set")
                    emotions = gr.CheckboxGroup(labels, value=labels, label="Emotions to tell apart")
                button = gr.Button("Recognize", variant="primary")
                examples = sorted(EXAMPLES.glob("*.wav"))
                if examples:
                    gr.Examples([[str(p)] for p in examples], inputs=[audio], label="Example clips (made by this project)")
            with gr.Column():
                label = gr.Label(label="Emotion", elem_id="emotion-label")
                gender = gr.Markdown(elem_id="gender")
                chart = gr.Plot(label="All emotions", elem_id="radar")
                details = gr.JSON(label="Details", visible=False)
        inputs = [audio, emotions, model]
        outputs = [label, gender, chart, details]
        button.click(recognize_clip, inputs, outputs, api_name="recognize")
        audio.upload(recognize_clip, inputs, outputs, api_name=False)
        audio.stop_recording(recognize_clip, inputs, outputs, api_name=False)
        model.change(model_labels, [model], [emotions], api_name="model_labels")
        preset.change(subset_for, [preset, model], [emotions], api_name="emotion_subset")


def build_app() -> gr.Blocks:
    with gr.Blocks(title="Emotion speech studio") as demo:
        gr.Markdown("# Emotion speech studio\nRecognize, transcribe and re-voice emotional speech — offline.")
        with gr.Tabs():
            recognize_tab()
    return demo


def main(argv=None) -> None:
    """``python app.py [--host --port --share --concurrency N --max-queue N ...]``: UI and REST API, one server."""
    import server

    server.main(build_app, argv)


if __name__ == "__main__":
    main()
