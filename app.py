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


def train_tab() -> None:
    """Train and compare models on labelled corpora or an uploaded zip; save and share bundles."""
    import shutil
    import threading

    from ser.corpora import EMOTIONS
    from ser.plots import comparison_chart, confusion_heatmap, training_curves
    from ser.sharing import pull_bundle, push_bundle
    from ser.workbench import Cancelled, model_names, run_training, unpack_upload

    runs: dict[str, threading.Event] = {}  # session -> cancel flag of its running training
    datasets = ROOT.parent / "shared" / "datasets"

    def train(folder, upload, emotions, features, models, search, epochs, name,
              request: gr.Request, progress=gr.Progress()):
        if not models:
            raise gr.Error("Choose at least one model.")
        name = "".join(c for c in (name or "model") if c.isalnum() or c in "-_.") or "model"
        cancel = runs[request.session_hash] = threading.Event()
        unpacked = None
        try:
            if upload:
                unpacked = unpack_upload(upload)
                corpora, skipped = [(None, unpacked.folder)], unpacked.skipped
            elif folder:
                corpora, skipped = [(None, Path(f.strip())) for f in folder.split(",") if f.strip()], []
            else:
                raise gr.Error("Give a corpus folder or upload a zip of labelled audio.")
            report = run_training(corpora, models=models, features=features, emotions=emotions or None,
                                  search=None if search == "none" else search, epochs=int(epochs), name=name,
                                  out=MODELS / name, cancel=cancel, skipped=skipped,
                                  progress=lambda f, message: progress(f, desc=message))
        except Cancelled as stopped:
            raise gr.Error(str(stopped)) from None
        except (*USER_ERRORS, FileNotFoundError) as error:
            raise gr.Error(str(error)) from None
        finally:
            runs.pop(request.session_hash, None)
            if unpacked:
                shutil.rmtree(unpacked.folder, ignore_errors=True)
        get_recognizer.cache_clear()  # a bundle retrained at the same path must be reloaded
        best = next(r for r in report.results if r.name == report.best)
        first = next(iter(best.evaluations))
        return (
            report.summary(),
            comparison_chart([r.name for r in report.results], [r.ua for r in report.results],
                             [r.fit_seconds for r in report.results], [r.predict_ms for r in report.results]),
            confusion_heatmap(best.evaluations[first], f"{report.best} on {first}: UA "
                                                       f"{best.evaluations[first].ua:.3f}"),
            "\n\n".join(e.report() for e in best.evaluations.values()),
            gr.update(value=training_curves(best.history, f"{report.best}: final training"),
                      visible=bool(best.history)),
            str(report.bundle_path),
        )

    def stop(request: gr.Request):
        if request.session_hash in runs:
            runs[request.session_hash].set()
            gr.Info("Stopping at the next step…")

    def push(bundle, repo_id, token):
        try:
            return f"Pushed: {push_bundle(bundle, repo_id.strip(), token=token.strip() or None)}"
        except (*USER_ERRORS, FileNotFoundError) as error:
            raise gr.Error(str(error)) from None

    def pull(repo_id):
        try:
            folder = pull_bundle(repo_id.strip())
        except USER_ERRORS as error:
            raise gr.Error(str(error)) from None
        return str(folder), f"Pulled {repo_id} into `{folder}`; use it in Recognize by path or repo id."

    with gr.Tab("Train", id="train"):
        gr.Markdown("Compare models on labelled speech with speaker-independent folds; the best becomes a "
                    "bundle in `models/` that Recognize can use (choose it by path).")
        with gr.Row():
            with gr.Column():
                folder = gr.Textbox(str(datasets / "emodb"), label="Corpus folders (comma-separated; RAVDESS, "
                                    "TESS, EMO-DB, CREMA-D, SAVEE or emotion-named files/folders)")
                upload = gr.File(file_types=[".zip"], type="filepath", label="… or a zip of labelled audio")
                emotions = gr.CheckboxGroup(list(EMOTIONS), label="Emotions (none = all)")
                features = gr.Dropdown(["whisper-tiny", "whisper-base", "egemaps", "compare", "librosa",
                                        "whisper-tiny+whisper-base+egemaps"], value="whisper-tiny",
                                       allow_custom_value=True, label="Features of the classical models")
                models = gr.CheckboxGroup(model_names(), value=["logreg"], label="Models (deep ones: "
                                          "cnn1d, cnn2d, lstm, cnn_lstm on frame-level features)")
                with gr.Row():
                    search = gr.Radio(["none", "grid", "random"], value="none", label="Parameter search")
                    epochs = gr.Slider(2, 100, value=30, step=1, label="Deep models: most epochs")
                name = gr.Textbox("my-model", label="Bundle name")
                with gr.Row():
                    start = gr.Button("Train", variant="primary")
                    cancel = gr.Button("Cancel", variant="stop")
            with gr.Column():
                summary = gr.Markdown(elem_id="train-summary")
                comparison = gr.Plot(label="Model comparison", elem_id="comparison")
                confusion = gr.Plot(label="Confusion matrix (best model)", elem_id="confusion")
                report = gr.Textbox(label="Per-class report", lines=10, elem_id="class-report")
                curves = gr.Plot(label="Training curves", visible=False, elem_id="curves")
                bundle = gr.Textbox(label="Saved bundle (paste into Recognize → Model)", elem_id="bundle-path",
                                    buttons=["copy"])
        with gr.Accordion("Share on the Hugging Face Hub", open=False):
            with gr.Row():
                repo = gr.Textbox(label="Repo id (user/name)")
                token = gr.Textbox(label="Write token (push only)", type="password")
            with gr.Row():
                push_button = gr.Button("Push the saved bundle")
                pull_button = gr.Button("Pull by repo id")
            hub_status = gr.Markdown()
        start.click(train, [folder, upload, emotions, features, models, search, epochs, name],
                          [summary, comparison, confusion, report, curves, bundle], api_name="train")
        cancel.click(stop, None, None, api_name="cancel_training")
        push_button.click(push, [bundle, repo, token], [hub_status], api_name="push_bundle")
        pull_button.click(pull, [repo], [bundle, hub_status], api_name="pull_bundle")


def build_app() -> gr.Blocks:
    with gr.Blocks(title="Emotion speech studio") as demo:
        gr.Markdown("# Emotion speech studio\nRecognize, transcribe and re-voice emotional speech — offline.")
        with gr.Tabs():
            recognize_tab()
            train_tab()
    return demo


def main(argv=None) -> None:
    """``python app.py [--host --port --share --concurrency N --max-queue N ...]``: UI and REST API, one server."""
    import server

    server.main(build_app, argv)


if __name__ == "__main__":
    main()
