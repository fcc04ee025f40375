"""Emotion-aware speech studio: the Gradio UI.

Only widgets and wiring live here; every computation is in the ``ser``,
``asr`` and ``tts`` packages.
"""

from __future__ import annotations

import csv
import filecmp
import json
import shutil
import tempfile
import time
from functools import partial
from pathlib import Path

import gradio as gr
import plotly.graph_objects as go
from gradio.context import LocalContext
from gradio.utils import get_upload_folder

from asr import AUTO_LANGUAGE, DEFAULT_BACKEND, LANGUAGES, TEXT_WEIGHT, available_backends
from asr import model_choices as asr_model_choices
from ser.batch import columns as batch_columns
from ser.batch import result_row as batch_result_row
from ser.bundle import BundleError, check_bundle_name
from ser.choice import ModelPolicy
from ser.dimensions import CIRCUMPLEX, arousal_valence
from ser.features import feature_set_choices
from ser.plots import circumplex_chart, top_bars
from ser.recognizer import get_recognizer
from pipelines.errors import USER_ERRORS
from pipelines.recognize import RecognizeRequest, recognize
from pipelines.revoice import revoice
from pipelines.settings import Settings
from pipelines.words import WordsRequest, words
from tts import DEFAULT_INTENSITY
from tts import EMOTIONS as TTS_EMOTIONS
from tts.conversion import DEFAULT_CONVERSION
from tts.voices import voice_choices

ROOT = Path(__file__).resolve().parent
EXAMPLES = ROOT / "assets" / "examples"
SEED_SUBSETS = {
    "all": None,
    "5 emotions": ["angry", "sad", "neutral", "surprised", "happy"],
    "3 emotions": ["sad", "neutral", "happy"],
}
AS_RECOGNISED = "as recognised"
# The one answer to a file input that is not this server's copy of an upload: it says nothing
# about whether the path exists.
UPLOAD_AGAIN = "Upload the file again."
RESULT_PREFIX, RESULT_MAX_AGE_S = "studio-result-", 600
LIVE_CHUNK_MAX_S = 10.0  # the browser streams a chunk a second
NEW_VOICE, KEEP_VOICE = "New voice", "Keep my voice"
# The Re-voice tab's conversion methods (tts.conversion.CONVERSIONS), as the user reads them.
METHODS = {"Learned from emotional speech": "learned", "Prosody rules": "rules"}
# Gradio queues: the long jobs (Timeline, Train, Re-voice, Transcribe of a long file) share one
# concurrency limit, so they cannot take every core, and Recognize has its own: a short request
# does not wait behind two long ones (each event had its own limit of --concurrency before).
LONG, SHORT = "long-jobs", "short-jobs"
MAX_BATCH_FILES = 50  # the Recognize tab's "Many files"; more: python -m ser batch on the server
NO_EMOTIONS = "Tick at least one emotion to tell apart (all of the model's are ticked at first)."
# The Train table's six columns in half the page wrapped numbers ("0.15 / 0"); it scrolls instead.
CSS = "#train-summary table { display: block; overflow-x: auto; } #train-summary td, #train-summary th " \
      "{ white-space: nowrap; }"


def _radar_trace(probabilities: dict[str, float], colour: str, name: str = "") -> go.Scatterpolar:
    """A closed, filled polar trace of label probabilities (in %)."""
    labels = list(probabilities)
    values = [100 * probabilities[label] for label in labels]
    return go.Scatterpolar(r=values + values[:1], theta=labels + labels[:1], fill="toself", name=name,
                           line_color=colour, hovertemplate=f"{name} %{{theta}}: %{{r:.1f}}%<extra></extra>".lstrip())


def _radar_figure(traces: list[go.Scatterpolar], title: str, **layout) -> go.Figure:
    figure = go.Figure(traces)
    peak = max((max(t.r) for t in traces), default=0.0)
    figure.update_layout(title=title or None, height=380, margin=dict(l=40, r=40, t=40 if title else 20, b=20),
                         polar=dict(radialaxis=dict(range=[0, peak * 1.05 or 1], ticksuffix="%")), **layout)
    return figure


def radar_chart(probabilities: dict[str, float], title: str = "") -> go.Figure:
    """A closed polar chart of label probabilities (in %)."""
    return _radar_figure([_radar_trace(probabilities, "#e4572e")], title, showlegend=False)


def revoice_radar(recognized, heard) -> go.Figure:
    """The input's and the result's emotion probabilities on one polar chart (in %)."""
    traces = [_radar_trace(result.probabilities, colour, name) for name, result, colour in
              (("input", recognized, "#8d99ae"), ("result", heard, "#e4572e")) if result is not None]
    for trace in traces:
        trace.opacity = 0.75
    return _radar_figure(traces, "Emotion heard in the input and in the result", legend=dict(orientation="h"))


def pitch_chart(contours: dict) -> go.Figure:
    """Pitch (F0) over time of the input and the result; gaps where there is no voicing."""
    figure = go.Figure()
    # The input wide and grey beneath the result, so that both show where they coincide.
    for name, colour, width in (("input", "#8d99ae", 5), ("result", "#e4572e", 2)):
        if name in contours:
            times, f0 = contours[name]
            figure.add_trace(go.Scatter(x=times, y=f0, mode="lines", name=name, line=dict(color=colour, width=width),
                                        connectgaps=False,
                                        hovertemplate=name + " %{x:.2f} s: %{y:.0f} Hz<extra></extra>"))
    figure.update_layout(height=300, margin=dict(l=50, r=20, t=30, b=40), title="Pitch contour",
                         xaxis_title="seconds", yaxis_title="F0 (Hz)", legend=dict(orientation="h"))
    return figure


def example_clips(audio: gr.Audio, pattern: str = "*.wav",
                  label: str = "Example clips (made by this project)") -> None:
    """Clickable examples from assets/examples for an audio input."""
    clips = sorted(EXAMPLES.glob(pattern))
    if clips:
        gr.Examples([[str(p)] for p in clips], inputs=[audio], label=label)


def model_choices(policy: ModelPolicy) -> list[str]:
    """The bundled default model, every bundle trained into ``models/`` and the allowed Hub repos, by name."""
    return policy.choices()


def uploaded_file(path: str | None, missing: str = "Upload or record a clip first.") -> str:
    """``path`` if it is a file a user uploaded to this server, or one of the app's example clips.

    Mounted into FastAPI, Gradio 6.31 copied any server path a client named in
    a file input into its cache and handed the copy to the handler, so being in
    the cache proves nothing.  Only files that came through Gradio's upload
    route (the running Blocks' ``upload_file_set``) pass, and cached copies of
    the example clips (byte for byte), which the browser sends when one is
    clicked.  Everything else gets :data:`UPLOAD_AGAIN`.
    """
    if not path:
        raise gr.Error(missing)
    blocks = LocalContext.blocks.get(None)
    try:
        resolved = Path(path).resolve()
        if (resolved.is_relative_to(Path(get_upload_folder()).resolve()) and resolved.is_file()
                and (blocks is not None and path in blocks.upload_file_set or _is_example(resolved))):
            return str(resolved)
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        pass
    raise gr.Error(UPLOAD_AGAIN)


def result_folder() -> Path:
    """A new temp folder for one job's result files; those of earlier jobs are removed once stale.

    Gradio copies a result into its own cache (which ``delete_cache`` ages out)
    as soon as the handler returns, so ten minutes is ample.
    """
    now = time.time()
    for folder in Path(tempfile.gettempdir()).glob(f"{RESULT_PREFIX}*"):
        try:
            if now - folder.stat().st_mtime > RESULT_MAX_AGE_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # removed by a concurrent job
            pass
    return Path(tempfile.mkdtemp(prefix=RESULT_PREFIX))


class ClientGone(Exception):
    """The browser tab (or client) that started a job has gone; the job stops at its next step.

    Not a ValueError (as ``gr.Error`` is), so no ``except ValueError`` in the
    packages can swallow it on its way out.
    """


def client_gone() -> bool:
    """Whether the client of the running Gradio event has disconnected.

    Gradio's queue marks the event not ``alive`` when the page's event stream
    closes (tab closed, network lost), but a handler running in a thread is
    not told: an abandoned 11-minute Timeline kept the server at 100 % CPU for
    12 minutes.  The queue's running jobs are the only place the mark is kept.
    """
    blocks, event_id = LocalContext.blocks.get(None), LocalContext.event_id.get(None)
    if blocks is None or event_id is None or blocks._queue is None:
        return False
    for job in blocks._queue.active_jobs:
        for event in job or ():
            if event._id == event_id:
                return not event.alive
    return False


def reporter(progress: gr.Progress):
    """A package's ``progress(fraction, message)`` callback that drives ``progress`` and stops
    the job (raises :class:`ClientGone`) once its client has gone."""
    def report(fraction: float, message: str) -> None:
        if client_gone():
            raise ClientGone("The page that started this job was closed; the job stopped.")
        progress(fraction, desc=message)
    return report


def corpus_folder(name: str, root: Path) -> Path:
    """A corpus folder the Train tab may read: ``name`` (or a path) inside the server's ``root``.

    Any other server folder is refused in words that do not say whether it exists.
    """
    try:
        folder = (root / name).resolve()
        if folder.is_relative_to(root) and folder.is_dir():
            return folder
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        pass
    raise gr.Error(f"Name a corpus folder in {root.name}/ on the server (e.g. emodb), or upload a zip.")


def _is_example(path: Path) -> bool:
    size = path.stat().st_size
    return any(clip.stat().st_size == size and filecmp.cmp(clip, path, shallow=False)
               for clip in EXAMPLES.glob("*") if clip.is_file())


def recognize_clip(audio: str | None, emotions: list[str], model: str, settings: Settings):
    emotions = chosen_emotions(emotions)
    audio = uploaded_file(audio)
    try:
        result = recognize(audio, RecognizeRequest(emotions, settings.models.choose(model)), settings=settings)
    except USER_ERRORS as error:
        raise gr.Error(str(error)) from None
    gender = (f"**Gender:** {result.gender} ({result.gender_confidence:.0%})" if result.gender
              else "**Gender:** not predicted by this model")
    return (
        {result.label if not result.sure else result.emotion: result.confidence},
        gender,
        radar_chart(result.probabilities),
        result.to_dict(),
    )


def recognize_more(details: dict | None, audio: str | None, emotions: list[str], model: str, settings: Settings):
    """What follows a recognition: top-5 bars, arousal/valence, "none of these" and the result as JSON.

    Runs after :func:`recognize_clip` (whose four outputs the gradio_client
    ``/recognize`` endpoint keeps) from its result.
    """
    if not details or not details.get("probabilities"):
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    probabilities = details["probabilities"]
    dims = arousal_valence(probabilities)
    if dims is None:
        dims_text, dims_chart = "**Arousal / valence:** not available (no emotion of this model has a place " \
                                "on the circumplex)", gr.update(visible=False)
    else:
        dims_text = (f"**Arousal** {dims.arousal:+.2f} · **Valence** {dims.valence:+.2f} "
                     "<small style='color:#888'>(−1 … +1: the emotions' circumplex places, weighted by their "
                     "probabilities)</small>")
        dims_chart = gr.update(value=circumplex_chart(dims.valence, dims.arousal, CIRCUMPLEX), visible=True)
    verdict = none_of_these(details)
    export = dict(details, emotions=list(probabilities), model=model,
                  arousal_valence=dims.to_dict() if dims else None)
    path = result_folder() / f"{Path(audio or 'clip').stem}-emotion.json"
    path.write_text(json.dumps(export, indent=2), encoding="utf-8")
    return top_bars(probabilities), dims_text, dims_chart, verdict, str(path)


def none_of_these(details: dict) -> str:
    """With an emotion subset, the warning when none of it fits (``RecognizeResult.none_fits``):
    the whole model, heard from the same features, hears another emotion, or the subset's best is
    not sure; ``""`` otherwise."""
    if not details.get("none_fits"):
        return ""
    hears = f"the full model hears **{details['full_emotion']}** ({details['full_confidence']:.0%})"
    if details["full_emotion"] not in details["probabilities"]:
        return f"⚠️ **None of these fits well** — {hears}, which is not among the ticked emotions."
    return (f"⚠️ **None of these fits well** — the best of them, {details['emotion']}, is below the "
            f"model's not-sure threshold; {hears}.")


def model_line(model: str, policy: ModelPolicy) -> str:
    """One short line from the chosen bundle's record: what it was trained on and where it is weak."""
    try:
        bundle = get_recognizer(policy.choose(model)).bundle
    except USER_ERRORS:
        return ""
    info, metrics = bundle.info or {}, bundle.metrics or {}
    corpora = info.get("corpora") or {}
    if not corpora and not metrics:
        return "<small style='color:#888'>This bundle records no training data or scores.</small>"
    parts = []
    if corpora:
        parts.append("trained on " + ", ".join(f"{name} ({count} clips)" for name, count in corpora.items())
                     + (f", {info['speakers']} speakers" if info.get("speakers") else ""))
    scores = [m["ua"] for m in metrics.values() if isinstance(m, dict) and isinstance(m.get("ua"), (int, float))]
    if scores:
        parts.append(f"speaker-independent UA {min(scores):.2f}–{max(scores):.2f}" if len(scores) > 1
                     else f"speaker-independent UA {scores[0]:.2f}")
    recalls = sorted((r, label, corpus) for corpus, m in metrics.items() if isinstance(m, dict)
                     for label, r in (m.get("recall") or {}).items() if isinstance(r, (int, float)))
    if recalls:
        parts.append("weakest: " + ", ".join(f"{label} ({r:.2f} on {corpus})" for r, label, corpus in recalls[:2]))
    unseen = unseen_corpus_ua(bundle)
    if unseen:
        parts.append(f"on a corpus it never heard (other speakers, language, microphones) UA falls to {unseen}")
    return ("<small style='color:#888'>**Model " + bundle.name + ":** " + "; ".join(parts)
            + ". Details: its model card (README.md in the bundle).</small>")


def unseen_corpus_ua(bundle) -> str:
    """The mean leave-one-corpus-out UA of the bundle's own setting, as its card reports it, or ``""``."""
    import re

    setting = f"{bundle.feature_set}, C={bundle.info.get('C')}"
    row = re.search(r"^\| " + re.escape(setting) + r" \|(.*)$", bundle.card or "", re.MULTILINE)
    header = re.search(r"^## Leave one corpus out \((\d+) emotions", bundle.card or "", re.MULTILINE)
    if not row or not header:
        return ""
    cells = [c.strip() for c in row.group(1).split("|")]
    # columns: one per held-out corpus, then mean UA, worst UA, ECE
    try:
        return f"{float(cells[-4]):.2f} on average ({header.group(1)} emotions)"
    except (IndexError, ValueError):
        return ""


def recognize_files(files: list[str] | None, emotions: list[str], model: str, settings: Settings,
                    progress=gr.Progress()):
    """The Recognize tab's "Many files": each upload through the same pipeline and settings as one clip.

    One row per file in ``ser.batch.columns`` order; a file that cannot be read gets its
    message in ``error`` and the batch goes on.  Returns the table, a summary and the CSV.
    """
    emotions = chosen_emotions(emotions)
    files = [f for f in files or [] if f]
    if not files:
        raise gr.Error("Upload one or more audio files first.")
    if len(files) > MAX_BATCH_FILES:
        raise gr.Error(f"At most {MAX_BATCH_FILES} files at once (you gave {len(files)}): split them into "
                       "smaller batches, or run python -m ser batch on the server.")
    try:
        choice = settings.models.choose(model)
        labels = get_recognizer(choice).labels
    except USER_ERRORS as error:
        raise gr.Error(str(error)) from None
    unknown = [e for e in emotions if e not in labels]
    if unknown:
        raise gr.Error(f"This model does not know {', '.join(unknown)}; choose from {', '.join(labels)}.")
    header = batch_columns([label for label in labels if label in emotions])
    report, rows = reporter(progress), []
    for index, file in enumerate(files):
        name = Path(file).name
        report(index / len(files), f"file {index + 1} of {len(files)}: {name}")
        row = dict.fromkeys(header, None) | {"path": name, "error": ""}
        try:
            result = recognize(uploaded_file(file), RecognizeRequest(emotions, choice), settings=settings)
        except USER_ERRORS as error:
            row["error"] = getattr(error, "message", None) or str(error) or type(error).__name__
        else:
            row.update({key: round(value, 4) if isinstance(value, float) else value
                        for key, value in batch_result_row(result).items()}, duration=result.duration)
        rows.append([row[column] for column in header])
    report(1.0, "done")
    failed = [(row[0], row[-1]) for row in rows if row[-1]]
    path = result_folder() / "emotions.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    summary = f"**{len(rows) - len(failed)} of {len(rows)} files recognised**" + (
        f"; {len(failed)} could not be (their error column says why):" if failed else ".") + "".join(
        f"\n- ⚠️ `{name}`: {message}" for name, message in failed[:5]) + (
        f"\n- … and {len(failed) - 5} more" if len(failed) > 5 else "")
    return gr.update(value=rows, headers=header), summary, str(path)


def chosen_emotions(emotions: list[str] | None) -> list[str]:
    """The ticked emotions; none ticked is refused rather than silently read as "all"."""
    if not emotions:
        raise gr.Error(NO_EMOTIONS)
    return list(emotions)


def model_labels(model: str, policy: ModelPolicy):
    """The chosen model's emotions as the checkbox list's choices, all ticked."""
    try:
        labels = get_recognizer(policy.choose(model)).labels
    except USER_ERRORS as error:
        raise gr.Error(str(error)) from None
    return gr.update(choices=labels, value=labels)


def follow_model(model: gr.Dropdown, emotions: gr.CheckboxGroup, policy: ModelPolicy, api_name: str | bool) -> None:
    """Wire a model picker: its list is re-read on focus (bundles trained meanwhile appear), and the
    emotion checkboxes become the chosen model's labels, all ticked."""
    model.change(partial(model_labels, policy=policy), [model], [emotions], api_name=api_name)
    model.focus(lambda: gr.update(choices=model_choices(policy)), None, model, api_name=False)


def subset_for(preset: str, model: str, policy: ModelPolicy):
    try:
        labels = get_recognizer(policy.choose(model)).labels
    except USER_ERRORS as error:
        raise gr.Error(str(error)) from None
    chosen = SEED_SUBSETS.get(preset) or labels
    return gr.update(value=[e for e in chosen if e in labels])


def recognize_tab(settings: Settings) -> None:
    policy = settings.models
    labels = get_recognizer("default").labels
    with gr.Tab("Recognize", id="recognize"):
        gr.Markdown("Upload or record speech; see how the speaker feels and who is speaking.")
        with gr.Row():
            with gr.Column():
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Speech",
                                 elem_id="recognize-audio")
                with gr.Accordion("Model and emotions", open=False):
                    model = gr.Dropdown(model_choices(policy), value="default", allow_custom_value=True,
                                        label="Model (a bundle name in models/"
                                              + (" or an allowed Hugging Face repo id)" if policy.allow_hub else ")"))
                    preset = gr.Radio(list(SEED_SUBSETS), value="all", label="Emotion set")
                    emotions = gr.CheckboxGroup(labels, value=labels, label="Emotions to tell apart")
                button = gr.Button("Recognize", variant="primary")
                example_clips(audio)
            with gr.Column():
                label = gr.Label(label="Emotion", elem_id="emotion-label")
                verdict = gr.Markdown(label="None of these", elem_id="none-of-these")
                gender = gr.Markdown(label="Gender", elem_id="gender")
                with gr.Row():
                    chart = gr.Plot(label="All emotions", elem_id="radar")
                    top5 = gr.Plot(label="Top 5 emotions", elem_id="top5")
                dims_text = gr.Markdown(label="Arousal and valence", elem_id="arousal-valence")
                dims_chart = gr.Plot(label="Arousal and valence", elem_id="circumplex", visible=False)
                about = gr.Markdown(model_line("default", policy), label="About the model", elem_id="model-line")
                download = gr.File(label="Result (JSON)", elem_id="recognize-download")
                details = gr.JSON(label="Details", visible=False)
        inputs = [audio, emotions, model]
        outputs = [label, gender, chart, details]
        recognize = partial(recognize_clip, settings=settings)
        more = partial(recognize_more, settings=settings)
        more_inputs, more_outputs = [details, audio, emotions, model], [top5, dims_text, dims_chart, verdict, download]
        for event, api_name in ((button.click, "recognize"), (audio.upload, False), (audio.stop_recording, False)):
            event(recognize, inputs, outputs, api_name=api_name, concurrency_id=SHORT).success(
                more, more_inputs, more_outputs, api_name=False, concurrency_id=SHORT)
        with gr.Accordion(f"Many files (up to {MAX_BATCH_FILES} at once, with the model and emotions above)",
                          open=False, elem_id="batch-accordion"):
            files = gr.File(file_count="multiple", file_types=["audio"], type="filepath", label="Audio files",
                            elem_id="batch-files")
            batch_button = gr.Button("Recognize all", elem_id="batch-run")
            batch_status = gr.Markdown(label="Batch summary", elem_id="batch-status")
            batch_table = gr.Dataframe(headers=batch_columns(labels), interactive=False, label="One row per file",
                                       elem_id="batch-table")
            batch_csv = gr.File(label="Results (CSV)", elem_id="batch-csv")
        batch_button.click(partial(recognize_files, settings=settings), [files, emotions, model],
                           [batch_table, batch_status, batch_csv], api_name="recognize_files", concurrency_id=LONG)
        follow_model(model, emotions, policy, "model_labels")
        model.change(partial(model_line, policy=policy), [model], [about], api_name=False)
        preset.change(partial(subset_for, policy=policy), [preset, model], [emotions], api_name="emotion_subset")


LANGUAGE_CHOICES = [("auto-detect", AUTO_LANGUAGE)] + [(f"{name} ({code})", code) for code, name in LANGUAGES.items()]


def emotion_bars(voice: dict, words: dict, fused: dict) -> go.Figure:
    """Grouped bars (in %) of the voice's, the words' and the fused emotion probabilities."""
    labels = list(fused)
    colors = {"voice": "#e4572e", "words": "#4c78a8", "fused": "#54a24b"}
    figure = go.Figure([
        go.Bar(name=name, x=labels, y=[100 * probs.get(label, 0.0) for label in labels], marker_color=colors[name],
               hovertemplate="%{x}: %{y:.1f}%<extra>" + name + "</extra>")
        for name, probs in (("voice", voice), ("words", words), ("fused", fused))
    ])
    figure.update_layout(barmode="group", height=360, yaxis=dict(title="%", range=[0, 100]),
                         margin=dict(l=40, r=20, t=20, b=40), legend=dict(orientation="h"))
    return figure


def greyed(items: list[tuple[str, str]]) -> str:
    """Markdown listing what cannot be used here and why, greyed out, one line per reason."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in items:
        by_reason.setdefault(reason, []).append(name)
    return "\n".join(f"<span style='color:#888'>✗ {', '.join(names)} — {reason}</span><br>"
                     for reason, names in by_reason.items())


def asr_models(backend: str):
    choices = asr_model_choices(backend)
    usable = [name for name, available, _ in choices if available]
    note = greyed([(name, reason) for name, available, reason in choices if not available])
    return gr.update(choices=usable, value=usable[0]), note


def transcribe_clip(audio: str | None, backend: str, model: str, language: str, text_weight: float,
                    settings: Settings, noted: set | None = None, request: gr.Request = None,
                    progress=gr.Progress()):
    audio = uploaded_file(audio)
    asked = WordsRequest(backend=backend, model=model, language=language, text_weight=text_weight)
    try:
        # The same use case as REST /transcribe and python -m asr --emotion; stops between its
        # stages once the page is closed.
        result = words(audio, asked, settings=settings, progress=reporter(progress))
    except USER_ERRORS as error:
        raise gr.Error(str(error)) from None
    transcript, english, voice, fused = result.transcript, result.english, result.voice, result.fused
    words_found = result.text_emotion
    word_probabilities = words_found.probabilities if result.words_read else {}
    if not result.words_read:  # the pipeline fused the voice alone
        words_line = (f"**Words:** no emotion words found by the offline lexicon, so the fused emotion is the "
                      f"voice's alone · **voice:** {voice.emotion}")
    else:
        words_line = (f"**Words:** {words_found.emotion} ({words_found.source}"
                      + (f": {', '.join(words_found.words)}" if words_found.words else "") + ")"
                      f" · **voice:** {voice.emotion} · **fused:** {max(fused, key=fused.get)}")
    # Why the transformer was not used: said once per session, in a small grey line.
    session = getattr(request, "session_hash", None)
    note = words_found.note and (noted is None or session not in noted)
    if note and noted is not None and session:
        noted.add(session)
    summary = (
        f"**Language:** {transcript.language} · **recognised by** {transcript.backend} / {transcript.model}"
        + (f"  \n**In English:** {english}" if english != transcript.text else "")
        + f"  \n{words_line}"
        + (f"  \n<small style='color:#888'>The words were read by the offline lexicon; the transformer was not "
           f"used: {words_found.note}</small>" if note else "")
    )
    return (transcript.text or "(no speech recognised)", transcript.rows(), fused,
            emotion_bars(voice.probabilities, word_probabilities, fused), summary,
            transcript.to_dict(words=True))


def transcribe_examples() -> list[dict]:
    """The project's ASR example clips with their language and text (assets/examples/asr_clips.json)."""
    manifest = EXAMPLES / "asr_clips.json"
    return json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else []


def transcribe_tab(settings: Settings) -> None:
    backends = available_backends()
    usable = [b.name for b in backends if b.available]
    first_models, first_note = asr_models(DEFAULT_BACKEND)
    with gr.Tab("Transcribe", id="transcribe"):
        gr.Markdown("Upload or record speech; read what was said, and how the words and the voice feel.")
        with gr.Row():
            with gr.Column():
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Speech",
                                 elem_id="asr-audio")
                backend = gr.Radio(usable, value=DEFAULT_BACKEND, label="Recogniser", elem_id="asr-backend",
                                   info=" · ".join(f"{b.name}: {b.description}" for b in backends if b.available))
                gr.Markdown(greyed([(b.name, b.reason) for b in backends if not b.available]),
                            elem_id="asr-backend-unavailable")
                model = gr.Dropdown(first_models["choices"], value=first_models["value"], allow_custom_value=True,
                                    label="Model (faster-whisper also takes a size or Hub repo id)",
                                    elem_id="asr-model")
                model_note = gr.Markdown(first_note, label="Models not usable here",
                                         elem_id="asr-model-unavailable")
                language = gr.Dropdown(LANGUAGE_CHOICES, value=AUTO_LANGUAGE, allow_custom_value=True,
                                       label="Language", elem_id="asr-language")
                text_weight = gr.Slider(0, 1, value=TEXT_WEIGHT, step=0.05, label="Weight of the words in the fusion",
                                        info="0 = voice only, 1 = words only")
                button = gr.Button("Transcribe", variant="primary", elem_id="asr-run")
                # Each example brings its language: synthetic speech is where detection slips (espeak-ng's
                # Spanish was once heard as English), real German speech is found in 38 of 41 EMO-DB takes
                # (bench/results/asr_real_multilingual.md).
                gr.Examples([[str(EXAMPLES / c["file"]), c["language"]] for c in transcribe_examples()],
                            inputs=[audio, language], label="Example clips (synthetic: English by Piper, "
                            "German and Spanish by espeak-ng, so robotic)")
            with gr.Column():
                text = gr.Textbox(label="Transcript", lines=3, interactive=False, elem_id="asr-text")
                segments = gr.Dataframe(headers=["start (s)", "end (s)", "text"], datatype=["number", "number", "str"],
                                        label="Segments", interactive=False, elem_id="asr-segments")
                summary = gr.Markdown(label="Summary", elem_id="asr-summary")
                fused = gr.Label(label="Fused emotion (voice + words)", num_top_classes=3, elem_id="asr-fused")
                chart = gr.Plot(label="Voice, words and fused", elem_id="asr-chart")
                details = gr.JSON(label="Transcript with word timings", visible=False)
        inputs = [audio, backend, model, language, text_weight]
        outputs = [text, segments, fused, chart, summary, details]
        noted: set[str] = set()  # sessions already told why the transformer is not used

        def run(audio, backend, model, language, text_weight, request: gr.Request, progress=gr.Progress()):
            # A closure, not a partial: Gradio hands gr.Request only to a parameter it can read the type of.
            return transcribe_clip(audio, backend, model, language, text_weight, settings=settings, noted=noted,
                                   request=request, progress=progress)

        button.click(run, inputs, outputs, api_name="transcribe", concurrency_id=LONG)
        backend.change(asr_models, [backend], [model, model_note], api_name="asr_models")


def revoice_clip(audio: str | None, emotion: str, intensity: float, voice: str, mode: str, method: str,
                 settings: Settings, progress=gr.Progress()):
    audio = uploaded_file(audio)
    target, keep_voice = None if emotion == AS_RECOGNISED else emotion, mode == KEEP_VOICE
    try:
        result = revoice(audio, target, voice or None, intensity=intensity, keep_voice=keep_voice,
                         progress=reporter(progress), settings=settings, method=METHODS.get(method, method))
    except USER_ERRORS as error:
        raise gr.Error(str(error)) from None
    path = str(result.write(result_folder() / f"revoiced-{result.emotion}.wav"))
    return (revoice_radar(result.recognized, result.heard), result.summary(), result.transcript,
            audio, path, path, pitch_chart(result.pitch_contours()))


def revoice_tab(settings: Settings) -> None:
    with gr.Tab("Re-voice", id="revoice"):
        gr.Markdown("Say it again in another emotion: the clip's emotion and words are recognised, then "
                    "spoken by a new voice — or your own recording's prosody is changed.")
        with gr.Row():
            with gr.Column():
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Speech",
                                 elem_id="tts-audio")
                emotion = gr.Dropdown([AS_RECOGNISED, *TTS_EMOTIONS], value=AS_RECOGNISED, label="Target emotion",
                                      elem_id="tts-emotion")
                intensity = gr.Slider(0, 1, value=DEFAULT_INTENSITY, step=0.05, label="Intensity",
                                      info="0 neutral … 1 strong", elem_id="tts-intensity")
                mode = gr.Radio([NEW_VOICE, KEEP_VOICE], value=NEW_VOICE, label="Mode", elem_id="tts-mode")
                method = gr.Radio(list(METHODS), label="Conversion", elem_id="tts-method",
                                  value=next(k for k, v in METHODS.items() if v == DEFAULT_CONVERSION),
                                  info="learned: F0 contour, tempo, level and timbre changes learned from actors' "
                                       "neutral and emotional takes; rules: the literature's prosody offsets")
                voice = gr.Dropdown(voice_choices(), value="youngwoman", allow_custom_value=True,
                                    label="Voice (or a Piper voice name, e.g. en_US-amy-medium)",
                                    elem_id="tts-voice")
                button = gr.Button("Re-voice", variant="primary", elem_id="tts-run")
                example_clips(audio)
            with gr.Column():
                summary = gr.Markdown(label="Summary", elem_id="tts-summary")
                chart = gr.Plot(label="Emotion heard in the input and in the result", elem_id="tts-radar")
                pitch = gr.Plot(label="Pitch contour: input and result", elem_id="tts-pitch")
                transcript = gr.Textbox(label="Transcript", interactive=False, elem_id="tts-transcript")
                original = gr.Audio(label="Original", interactive=False, elem_id="tts-original")
                result = gr.Audio(label="Result", interactive=False, elem_id="tts-result")
                download = gr.File(label="Download the result", elem_id="tts-download")
        button.click(partial(revoice_clip, settings=settings), [audio, emotion, intensity, voice, mode, method],
                     [chart, summary, transcript, original, result, download, pitch], api_name="revoice",
                     concurrency_id=LONG)
        mode.change(lambda m: gr.update(visible=m == NEW_VOICE), [mode], [voice], api_name=False)


def train_tab(settings: Settings) -> None:
    """Train and compare models on labelled corpora or an uploaded zip; save and share bundles."""
    import threading
    import zipfile

    from ser.corpora import EMOTIONS
    from ser.plots import comparison_chart, confusion_heatmap, training_curves
    from ser.sharing import pull_bundle, push_bundle
    from ser.workbench import model_names, sweep_stale_uploads
    from pipelines.train import TrainRequest
    from pipelines.train import train as train_use_case

    sweep_stale_uploads()  # folders of uploads a crashed or killed server was unpacking
    runs: dict[str, threading.Event] = {}  # session -> cancel flag of its running training
    trained: dict[str, str] = {}  # session -> name of the bundle it trained last (what it may download)
    policy, datasets = settings.models, Path(settings.datasets_dir).resolve()

    def train(folder, upload, emotions, features, models, search, epochs, name, speaker_pattern,
              request: gr.Request, progress=gr.Progress()):
        if not models:
            raise gr.Error("Choose at least one model.")
        try:
            name = check_bundle_name((name or "").strip())
        except BundleError as error:
            raise gr.Error(str(error)) from None
        cancel = runs[request.session_hash] = threading.Event()
        try:
            if upload:  # the zip wins over the folder box (said beside the inputs and in the summary)
                corpora, zipped = (), Path(uploaded_file(upload, "Upload a zip of labelled audio."))
            elif folder:
                corpora, zipped = [(None, corpus_folder(f.strip(), datasets)) for f in folder.split(",")
                                   if f.strip()], None
            else:
                raise gr.Error("Give a corpus folder or upload a zip of labelled audio.")
            # The same use case as python -m ser train: unpacks within the limits, trains, saves, cleans up.
            report = train_use_case(TrainRequest(
                corpora=corpora, upload=zipped, models=models, features=features, emotions=emotions or None,
                search=None if search == "none" else search, epochs=int(epochs), name=name,
                out=policy.models_dir / name, speaker_pattern=(speaker_pattern or "").strip() or None),
                cancel=cancel, progress=reporter(progress))
        except USER_ERRORS as error:  # a Cancel is one of them (its message says nothing was kept)
            raise gr.Error(str(error)) from None
        finally:
            runs.pop(request.session_hash, None)
        trained[request.session_hash] = report.bundle_path.name
        best = next(r for r in report.results if r.name == report.best)
        first = next(iter(best.evaluations))
        return (
            f"**Data:** {source_note(folder, upload)}\n\n" + report.summary(),
            comparison_chart([r.name for r in report.results], [r.ua for r in report.results],
                             [r.fit_seconds for r in report.results], [r.predict_ms for r in report.results]),
            confusion_heatmap(best.evaluations[first], f"{report.best} on {first}: UA "
                                                       f"{best.evaluations[first].ua:.3f}"),
            "\n\n".join(e.report() for e in best.evaluations.values()),
            gr.update(value=training_curves(best.history, f"{report.best}: final training"),
                      visible=bool(best.history)),
            report.bundle_path.name,
        )

    def source_note(folder, upload) -> str:
        # When both are filled the zip wins; say so beside the inputs and in the summary.
        folders = ", ".join(f.strip() for f in (folder or "").split(",") if f.strip())
        if upload:
            return (f"the uploaded zip `{Path(upload).name}` is used"
                    + (f" (the server folder box, `{folders}`, is ignored: the zip wins)" if folders else "") + ".")
        if folders:
            return f"the server folder{'s' if ',' in folders else ''} `{folders}` in {datasets.name}/."
        return "none yet: name a server folder or upload a zip."

    def download_bundle(request: gr.Request):
        # Only the bundle this session trained, found by name through the one bundle-folder rule.
        name = trained.get(request.session_hash)
        if not name:
            raise gr.Error("Train a model in this session first; its bundle can then be downloaded.")
        try:
            folder = policy.bundle_folder(name)
        except USER_ERRORS as error:
            raise gr.Error(str(error)) from None
        path = result_folder() / f"{name}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(folder.rglob("*")):
                if file.is_file() and not file.is_symlink():
                    archive.write(file, f"{name}/{file.relative_to(folder).as_posix()}")
        return str(path)

    def stop(request: gr.Request):
        if request.session_hash in runs:
            runs[request.session_hash].set()
            gr.Info("Stopping at the next step…")

    def push(bundle, repo_id, token):
        # Authorisation before anything is read: a token, a valid repo id, a bundle name in models/.
        if not (token or "").strip():
            raise gr.Error("Pushing to the Hub needs a write token (huggingface.co/settings/tokens).")
        try:
            folder = policy.bundle_folder((bundle or "").strip())
            return f"Pushed: {push_bundle(folder, (repo_id or '').strip(), token=token.strip())}"
        except USER_ERRORS as error:
            raise gr.Error(str(error)) from None

    def pull(repo_id):
        if not policy.allow_hub:
            raise gr.Error("Pulling from the Hub is not enabled on this server (python app.py --allow-hub-models).")
        try:
            repo_id = policy.hub_repo(repo_id)
            pull_bundle(repo_id)
        except USER_ERRORS as error:
            raise gr.Error(str(error)) from None
        get_recognizer.cache_clear()
        return repo_id, f"Pulled {repo_id}; choose it in Recognize by its repo id."

    with gr.Tab("Train", id="train"):
        gr.Markdown("Compare models on labelled speech with speaker-independent folds; the best becomes a "
                    "bundle in `models/` that Recognize can use (choose it by name).")
        with gr.Row():
            with gr.Column():
                folder = gr.Textbox("emodb", label=f"Corpus folders in {datasets.name}/ on the server "
                                    "(comma-separated; RAVDESS, TESS, EMO-DB, CREMA-D, SAVEE or emotion-named "
                                    "files/folders)")
                upload = gr.File(file_types=[".zip"], type="filepath", label="… or a zip of labelled audio "
                                 "(when both are given, the zip is used)", elem_id="train-zip")
                used = gr.Markdown(f"**Data:** {source_note('emodb', None)}", label="Data used",
                                   elem_id="train-source")
                emotions = gr.CheckboxGroup(list(EMOTIONS), label="Emotions (none = all)")
                features = gr.Dropdown(feature_set_choices(), value="whisper-tiny",
                                       allow_custom_value=True, label="Features of the classical models")
                models = gr.CheckboxGroup(model_names(), value=["logreg"], label="Models (deep ones: "
                                          "cnn1d, cnn2d, lstm, cnn_lstm on frame-level features)")
                with gr.Row():
                    search = gr.Radio(["none", "grid", "random"], value="none", label="Parameter search")
                    epochs = gr.Slider(2, 100, value=30, step=1, label="Deep models: most epochs")
                speaker_pattern = gr.Textbox(
                    label="Speaker in file names (optional regex with (?P<speaker>…), e.g. spk(?P<speaker>\\d+)_)",
                    placeholder="files whose names give no speaker: a speakers.csv (file,speaker) in the zip "
                                "or this; else scored on a random split")
                name = gr.Textbox("my-model", label="Bundle name (letters, digits, _ or -)")
                with gr.Row():
                    start = gr.Button("Train", variant="primary")
                    cancel = gr.Button("Cancel", variant="stop")
            with gr.Column():
                summary = gr.Markdown(label="Summary", elem_id="train-summary")
                comparison = gr.Plot(label="Model comparison", elem_id="comparison")
                confusion = gr.Plot(label="Confusion matrix (best model)", elem_id="confusion")
                report = gr.Textbox(label="Per-class report", lines=10, elem_id="class-report")
                curves = gr.Plot(label="Training curves", visible=False, elem_id="curves")
                bundle = gr.Textbox(label="Saved bundle (choose it in Recognize → Model)", elem_id="bundle-path",
                                    buttons=["copy"])
                zip_button = gr.Button("Download the bundle (zip)", elem_id="bundle-zip-button")
                bundle_zip = gr.File(label="Bundle (zip)", elem_id="bundle-zip")
        with gr.Accordion("Share on the Hugging Face Hub", open=False):
            with gr.Row():
                repo = gr.Textbox(label="Repo id (user/name)")
                token = gr.Textbox(label="Write token (push only)", type="password")
            with gr.Row():
                push_button = gr.Button("Push the saved bundle")
                pull_button = gr.Button("Pull by repo id")
            hub_status = gr.Markdown(label="Hub status")
        start.click(train, [folder, upload, emotions, features, models, search, epochs, name, speaker_pattern],
                          [summary, comparison, confusion, report, curves, bundle], api_name="train",
                          concurrency_id=LONG)
        cancel.click(stop, None, None, api_name="cancel_training")
        for box in (folder, upload):
            box.change(lambda f, u: f"**Data:** {source_note(f, u)}", [folder, upload], [used], api_name=False)
        zip_button.click(download_bundle, None, [bundle_zip], api_name="download_bundle")
        push_button.click(push, [bundle, repo, token], [hub_status], api_name="push_bundle")
        pull_button.click(pull, [repo], [bundle, hub_status], api_name="pull_bundle")


def timeline_tab(settings: Settings) -> None:
    """Two tabs: the Timeline of a long upload, and Live emotion from the microphone."""
    policy = settings.models
    import soundfile

    from ser.audio import decode
    from ser.live import LiveState, live_step
    from ser.plots import segment_strip
    from pipelines.timeline import analyze_timeline

    def area_chart(times, probabilities, hovertext=None, title=""):
        # Stacked areas read as "share of each emotion" at every moment.
        labels = list(dict.fromkeys(k for p in probabilities for k in p))
        figure = go.Figure()
        for label in labels:
            figure.add_trace(go.Scatter(
                x=times, y=[100 * p.get(label, 0.0) for p in probabilities], name=label, mode="lines",
                stackgroup="one", line_shape="hv", text=hovertext,
                hovertemplate=f"<b>{label}</b> %{{y:.0f}}%<br>%{{text}}<extra></extra>" if hovertext
                else f"{label} %{{y:.0f}}%<extra></extra>"))
        figure.update_layout(title=title or None, height=360, margin=dict(l=40, r=20, t=40 if title else 20, b=40),
                             xaxis_title="time (s)", yaxis=dict(range=[0, 100], ticksuffix="%"),
                             hovermode="x unified", legend=dict(orientation="h", y=-0.25))
        return figure

    def analyze(path, with_text, emotions, model, progress=gr.Progress()):
        emotions = chosen_emotions(emotions)
        path = uploaded_file(path, "Upload a recording first.")
        try:
            timeline = analyze_timeline(path, model=policy.choose(model), emotions=emotions,
                                        asr_backend="faster-whisper" if with_text else None,
                                        progress=reporter(progress), settings=settings)
        except USER_ERRORS as error:
            raise gr.Error(str(error)) from None
        if not timeline.segments:
            raise gr.Error("No speech was found in this recording.")
        # One bar per segment (its span, its top emotion's colour and confidence), one hover text each:
        # readable with 60+ segments, where stacked areas of every emotion became a barcode.
        hovertext = [f"{s.start:.1f}–{s.end:.1f} s: {s.label or f'{s.emotion} {s.confidence:.0%}'}"
                     + (f"<br>{s.text}" if s.text else "") for s in timeline.segments]
        chart = segment_strip([s.start for s in timeline.segments], [s.end for s in timeline.segments],
                              [s.emotion for s in timeline.segments], [s.confidence for s in timeline.segments],
                              hovertext, threshold=get_recognizer(policy.choose(model)).sure_threshold)
        folder = result_folder()
        stem = Path(path).stem
        files = []
        for suffix, export in ((".json", timeline.to_json), (".csv", timeline.to_csv), (".srt", timeline.to_srt)):
            files.append(folder / f"{stem}{suffix}")
            files[-1].write_text(export(), encoding="utf-8")
        speech = sum(s.duration for s in timeline.segments)
        rows = [[round(s.start, 2), round(s.end, 2), s.emotion if s.sure else f"not sure ({s.emotion}?)",
                 round(s.confidence, 3), s.text]
                for s in timeline.segments]
        return (chart, timeline.summary(),
                f"**{len(timeline.segments)} segments**, {speech:.0f} s of speech in {timeline.duration:.0f} s."
                + "".join(f"\n\n⚠️ {note}" for note in timeline.notes),
                rows, [str(f) for f in files])

    def show_segment(rows, path, event: gr.SelectData):
        start, end, emotion, confidence, text = rows.iloc[event.index[0]].tolist()
        note = f"**{start:.2f}–{end:.2f} s** · {emotion} ({confidence:.0%}) · {text or '(no transcript)'}"
        try:
            # The segment cut from the upload at its own rate, to hear what was recognised.
            samples, rate = decode(uploaded_file(path, "Upload a recording first."),
                                   max_duration=settings.max_recording_s)
        except USER_ERRORS as error:
            raise gr.Error(str(error)) from None
        clip = result_folder() / f"segment-{start:.2f}-{end:.2f}.wav"
        soundfile.write(clip, samples[int(round(start * rate)):int(round(end * rate))], rate)
        return note, str(clip)

    def listen(chunk, state, model, emotions):
        if chunk is None:
            return state, gr.skip(), gr.skip(), gr.skip()
        try:
            # A path, not Gradio's numpy: Gradio would decode any upload whole, however long.
            samples, rate = decode(uploaded_file(chunk), max_duration=LIVE_CHUNK_MAX_S)
            state, updated = live_step(state, (rate, samples), model=policy.choose(model),
                                       emotions=chosen_emotions(emotions))
        except USER_ERRORS as error:
            raise gr.Error(str(error)) from None
        if not updated:
            return state, gr.skip(), gr.skip(), gr.skip()
        label = ({(state.current.emotion if state.current.sure else f"not sure ({state.current.emotion}?)"):
                  state.current.confidence} if state.current else {"silence": 1.0})
        times = [t for t, _ in state.history]
        chart = area_chart(times, [p for _, p in state.history], title="Last minute")
        return state, label, chart, f"updated in {state.compute_seconds:.2f} s after {state.received:.0f} s of audio"

    labels = get_recognizer("default").labels
    with gr.Tab("Timeline", id="timeline"):
        gr.Markdown("A long recording, utterance by utterance: emotion over time, what was said, and the share "
                    "of time per emotion; the words come from one transcription pass, placed by their times.")
        with gr.Row():
            with gr.Column(scale=1):
                upload = gr.File(label="Recording (wav, flac, mp3, ogg, m4a …)", file_types=["audio"],
                                 type="filepath", elem_id="timeline-file")
                with_text = gr.Checkbox(True, label="Transcribe each segment", elem_id="timeline-with-text")
                with gr.Accordion("Model and emotions", open=False, elem_id="timeline-accordion"):
                    model = gr.Dropdown(model_choices(policy), value="default", allow_custom_value=True, label="Model",
                                        elem_id="timeline-model")
                    emotions = gr.CheckboxGroup(labels, value=labels, label="Emotions to tell apart",
                                                elem_id="timeline-emotions")
                button = gr.Button("Analyze timeline", variant="primary")
                summary = gr.Label(label="Share of speech time", elem_id="timeline-summary")
                counts = gr.Markdown(label="Segments", elem_id="timeline-counts")
                exports = gr.File(label="JSON, CSV, SRT", file_count="multiple")
            with gr.Column(scale=2):
                chart = gr.Plot(label="Emotion over time", elem_id="timeline-chart")
                table = gr.Dataframe(headers=["start", "end", "emotion", "confidence", "text"], interactive=False,
                                     label="Transcript (click a row)", elem_id="timeline-table", wrap=True)
                segment = gr.Markdown(label="Segment", elem_id="timeline-segment")
                player = gr.Audio(label="Segment audio (click a row to hear it)", type="filepath", autoplay=True,
                                  interactive=False, elem_id="timeline-player")
        button.click(analyze, [upload, with_text, emotions, model], [chart, summary, counts, table, exports],
                     api_name="timeline", concurrency_id=LONG)
        table.select(show_segment, [table, upload], [segment, player], api_name=False, concurrency_id=SHORT)
        follow_model(model, emotions, policy, False)
    with gr.Tab("Live", id="live"):
        gr.Markdown("Speak: the emotion of the last 3 seconds is updated every second.")
        with gr.Row():
            with gr.Column():
                microphone = gr.Audio(sources=["microphone"], streaming=True, type="filepath", label="Microphone",
                                      elem_id="live-mic")
                with gr.Accordion("Model and emotions", open=False, elem_id="live-accordion"):
                    live_model = gr.Dropdown(model_choices(policy), value="default", allow_custom_value=True,
                                             label="Model", elem_id="live-model")
                    live_emotions = gr.CheckboxGroup(labels, value=labels, label="Emotions to tell apart",
                                                     elem_id="live-emotions")
                live_label = gr.Label(label="Emotion now", elem_id="live-label")
                live_status = gr.Markdown(label="Status", elem_id="live-status")
            live_chart = gr.Plot(label="Rolling emotion", elem_id="live-chart")
        state = gr.State(None)
        follow_model(live_model, live_emotions, policy, False)
        microphone.stream(listen, [microphone, state, live_model, live_emotions],
                          [state, live_label, live_chart, live_status],
                          stream_every=1.0, time_limit=600, api_name="live", concurrency_limit=4)
        microphone.start_recording(lambda: LiveState(), None, [state], api_name=False)


def build_app(settings: Settings | None = None) -> gr.Blocks:
    """The studio's UI under ``settings`` (limits, folders, and in ``settings.models`` which models
    callers may pick; default: from the environment, no Hub models)."""
    settings = settings or Settings()
    with gr.Blocks(title="Emotion speech studio") as demo:
        gr.Markdown("# Emotion speech studio\nRecognize, transcribe and re-voice emotional speech — offline.")
        with gr.Tabs():
            recognize_tab(settings)
            transcribe_tab(settings)
            revoice_tab(settings)
            train_tab(settings)
            timeline_tab(settings)
    demo.css = CSS  # the server passes it on when it mounts the UI (Gradio 6 took css out of Blocks())
    return demo


def main(argv=None) -> None:
    """``python app.py [--host --port --share --concurrency N --max-queue N ...]``: UI and REST API, one server."""
    import server

    server.main(build_app, argv)


if __name__ == "__main__":
    main()
