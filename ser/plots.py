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
