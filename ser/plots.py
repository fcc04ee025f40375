"""Plotly figures of training results: confusion heatmap, model comparison, training curves.

Pure functions from results to figures, so the app and notebooks draw the same charts.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .evaluation import Evaluation


def confusion_heatmap(evaluation: Evaluation, title: str = "") -> go.Figure:
    """Row-normalised confusion matrix (recall per true class), counts on hover."""
    counts = np.array(evaluation.confusion, dtype=float)
    rates = counts / np.clip(counts.sum(axis=1, keepdims=True), 1, None)
    figure = go.Figure(go.Heatmap(
        z=rates, x=evaluation.labels, y=evaluation.labels, colorscale="Blues", zmin=0, zmax=1,
        text=np.round(100 * rates).astype(int), texttemplate="%{text}", customdata=counts,
        hovertemplate="true %{y}, predicted %{x}: %{customdata:.0f} clips<extra></extra>"))
    figure.update_layout(title=title or f"UA {evaluation.ua:.3f}, WA {evaluation.wa:.3f}", height=420,
                         xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                         margin=dict(l=60, r=20, t=50, b=50))
    return figure


def comparison_chart(names: Sequence[str], ua: Sequence[float], fit_seconds: Sequence[float],
                     predict_ms: Sequence[float]) -> go.Figure:
    """The seed's three histograms side by side: score, training time, prediction time per model."""
    figure = make_subplots(rows=1, cols=3, subplot_titles=("UA (speaker-independent)", "training time (s)",
                                                           "prediction time (ms per clip)"))
    for col, values, color in ((1, ua, "#e4572e"), (2, fit_seconds, "#29335c"), (3, predict_ms, "#669bbc")):
        figure.add_trace(go.Bar(x=list(names), y=list(values), marker_color=color, showlegend=False,
                                texttemplate="%{y:.3g}", textposition="outside"), row=1, col=col)
    figure.update_yaxes(range=[0, 1], row=1, col=1)
    figure.update_layout(height=380, margin=dict(l=40, r=20, t=50, b=60))
    return figure


def training_curves(history: dict[str, list[float]], title: str = "Training curves") -> go.Figure:
    """Loss and accuracy per epoch (Keras ``History.history``), training and validation."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    for key, values in history.items():
        col = 1 if key.endswith("loss") else 2
        figure.add_trace(go.Scatter(y=list(values), x=list(range(1, len(values) + 1)), mode="lines+markers",
                                    name=key), row=1, col=col)
    figure.update_layout(title=title, height=340, margin=dict(l=40, r=20, t=60, b=40))
    figure.update_xaxes(title_text="epoch")
    return figure


# Colours per emotion, shared by the Recognize and Timeline charts (others get the fallback).
EMOTION_COLORS = {"angry": "#d62728", "happy": "#f2b701", "sad": "#1f77b4", "neutral": "#9e9e9e",
                  "calm": "#2ca02c", "fearful": "#9467bd", "disgust": "#8c564b", "surprised": "#ff7f0e",
                  "boredom": "#17becf"}
OTHER_COLOR = "#7f7f7f"


def top_bars(probabilities: dict[str, float], k: int = 5, title: str = "") -> go.Figure:
    """Horizontal bars (in %) of the ``k`` most likely labels, the likeliest on top, each labelled.

    Readable when one emotion dominates (where a radar is a single spike): the
    small shares keep their own bar and number.
    """
    top = sorted(probabilities.items(), key=lambda item: item[1], reverse=True)[:k]
    labels, values = [label for label, _ in top][::-1], [100 * p for _, p in top][::-1]
    figure = go.Figure(go.Bar(
        x=values, y=labels, orientation="h", text=[f"{v:.1f}%" for v in values], textposition="outside",
        marker_color=[EMOTION_COLORS.get(label, OTHER_COLOR) for label in labels], cliponaxis=False,
        hovertemplate="%{y}: %{x:.1f}%<extra></extra>"))
    figure.update_layout(title=title or None, height=60 + 36 * len(labels), showlegend=False,
                         xaxis=dict(range=[0, 115], ticksuffix="%"),
                         margin=dict(l=80, r=20, t=40 if title else 10, b=30))
    return figure


def circumplex_chart(valence: float, arousal: float, anchors: dict[str, tuple[float, float]]) -> go.Figure:
    """The utterance's place on the valence-arousal plane, among the emotions' fixed places (``anchors``)."""
    names = list(anchors)
    figure = go.Figure([
        go.Scatter(x=[anchors[n][0] for n in names], y=[anchors[n][1] for n in names], mode="markers+text",
                   text=names, textposition="top center", name="emotions", hoverinfo="skip",
                   marker=dict(size=7, color=[EMOTION_COLORS.get(n, OTHER_COLOR) for n in names], opacity=0.5),
                   textfont=dict(size=10, color="#777")),
        go.Scatter(x=[valence], y=[arousal], mode="markers", name="this clip",
                   marker=dict(size=16, color="#111", symbol="x"),
                   hovertemplate="valence %{x:+.2f}, arousal %{y:+.2f}<extra></extra>"),
    ])
    axis = dict(range=[-1.25, 1.25], zeroline=True, zerolinecolor="#bbb", showgrid=False)
    figure.update_layout(height=300, showlegend=False, margin=dict(l=50, r=20, t=10, b=40),
                         xaxis=dict(axis, title="valence (unpleasant … pleasant)"),
                         yaxis=dict(axis, title="arousal (calm … excited)", scaleanchor="x"))
    return figure


def segment_strip(starts: Sequence[float], ends: Sequence[float], emotions: Sequence[str],
                  confidences: Sequence[float], hovertext: Sequence[str], threshold: float | None = None,
                  title: str = "") -> go.Figure:
    """Emotion over time as one bar per segment: its span on the time axis, its height the top
    emotion's confidence (in %), its colour that emotion.

    One trace holds every segment, so hovering shows a segment's text once (not once per
    emotion) and 60+ segments stay readable; a legend-only marker per emotion names the colours.
    With ``threshold`` (the model's "not sure" confidence), a dotted line marks it.
    """
    starts, ends = [float(s) for s in starts], [float(e) for e in ends]
    figure = go.Figure(go.Bar(
        x=[(s + e) / 2 for s, e in zip(starts, ends)], width=[max(e - s, 1e-3) for s, e in zip(starts, ends)],
        y=[100 * c for c in confidences], text=list(hovertext), textposition="none", name="segments",
        marker=dict(color=[EMOTION_COLORS.get(e, OTHER_COLOR) for e in emotions], line=dict(width=0)),
        hovertemplate="%{text}<extra></extra>", showlegend=False))
    for emotion in dict.fromkeys(emotions):
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=emotion, hoverinfo="skip",
                                    marker=dict(size=10, symbol="square",
                                                color=EMOTION_COLORS.get(emotion, OTHER_COLOR))))
    if threshold is not None and starts:
        left, right = min(starts), max(ends)
        figure.add_trace(go.Scatter(
            x=[left, right], y=[100 * threshold] * 2, mode="lines+text", hoverinfo="skip", showlegend=False,
            text=["", f"not sure below {threshold:.0%}"], textposition="top left", textfont=dict(color="#555"),
            line=dict(color="#555", dash="dot", width=1), name="not sure"))
    figure.update_layout(title=title or None, height=300, hovermode="closest", bargap=0,
                         margin=dict(l=50, r=20, t=40 if title else 20, b=40), xaxis_title="time (s)",
                         yaxis=dict(range=[0, 100], ticksuffix="%", title="confidence"),
                         legend=dict(orientation="h", y=-0.3))
    return figure
