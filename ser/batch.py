"""Emotion of every file in a collection, resumable, on all local cores or on Ray.

One output row per file: ``path, duration, emotion, confidence, gender,
gender_confidence, p_<emotion>…, error``.  A file that cannot be read gets its
message in ``error`` instead of stopping the run; a rerun skips every file
already done without error, so a killed run resumes where it stopped.

>>> from ser.batch import run_batch
>>> table = run_batch("calls/**/*.wav", "results.parquet")        # doctest: +SKIP
>>> table = run_batch("calls/", "results.csv", ray_address="auto") # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import glob
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from .audio import SAMPLE_RATE, AudioError, load_audio

AUDIO_EXTENSIONS = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".webm", ".mp4", ".wma", ".aiff"}
BASE_COLUMNS = ["path", "duration", "emotion", "confidence", "gender", "gender_confidence"]
# Rows are flushed to disk this often, so a killed run loses little.
CHECKPOINT_EVERY = 20


def find_inputs(spec: str | Path) -> list[Path]:
    """Audio files under a folder (recursively) or matching a glob, sorted.

    Examples
    --------
    >>> find_inputs("../shared/datasets/ravdess")[:1]          # doctest: +SKIP
    [PosixPath('/…/ravdess/Actor_01/03-01-01-01-01-01-01.flac')]
    """
    path = Path(spec)
    if path.is_dir():
        files = (p for p in path.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
    elif path.is_file():
        files = [path]
    else:
        files = (Path(p) for p in glob.glob(str(spec), recursive=True))
    found = sorted({p.resolve() for p in files if p.is_file()})
    if not found:
        raise FileNotFoundError(f"No audio files found at {spec}.")
    return found


def columns(labels: Sequence[str]) -> list[str]:
    return [*BASE_COLUMNS, *(f"p_{label}" for label in labels), "error"]


def recognize_file(path: str | Path, recognizer, emotions: Sequence[str] | None = None) -> dict:
    """One output row for ``path``; problems go into ``error``, never raised."""
    row = {"path": str(path), "error": ""}
    try:
        samples = load_audio(path)
        row["duration"] = round(samples.size / SAMPLE_RATE, 3)
        result = recognizer.recognize(samples, emotions=emotions)
    except (AudioError, ValueError, OSError) as error:
        row["error"] = str(error) or type(error).__name__
        return row
    return row | result_row(result)


def result_row(result) -> dict:
    """The columns of one recognition (a ``Recognition`` or ``RecognizeResult``): emotion, confidence,
    gender and ``p_<label>`` per emotion — one row shape for ``python -m ser batch`` and the UI's."""
    return {"emotion": result.emotion, "confidence": result.confidence, "gender": result.gender,
            "gender_confidence": result.gender_confidence,
            **{f"p_{label}": p for label, p in result.probabilities.items()}}


def read_results(out: str | Path) -> pd.DataFrame | None:
    """A previous output (CSV or Parquet), or None when there is none yet."""
    out = Path(out)
    if not out.is_file() or out.stat().st_size == 0:
        return None
    table = pd.read_parquet(out) if out.suffix == ".parquet" else pd.read_csv(out, keep_default_na=False,
                                                                             na_values=[""])
    table["error"] = table["error"].fillna("").astype(str)
    return table


def write_results(table: pd.DataFrame, out: str | Path) -> None:
    """Write atomically (temporary file, then rename) so a kill never leaves half a file."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    if out.suffix == ".parquet":
        table.to_parquet(tmp, index=False)
    else:
        table.to_csv(tmp, index=False)
    os.replace(tmp, out)


# ------------------------------------------------------------------ local pool

_worker_recognizer = None


def _init_worker(model: str) -> None:
    # One model per worker process, loaded once, not once per file.
    global _worker_recognizer
    from .recognizer import get_recognizer

    _worker_recognizer = get_recognizer(model)


# prctl(2) option: the kernel sends this process a signal when its parent dies.
PR_SET_PDEATHSIG = 1
# How often a worker checks that ``ser batch`` is still there where prctl is unavailable.
PARENT_POLL_SECONDS = 1.0


def _exit_with_parent(parent: int) -> None:
    """End this worker process as soon as ``parent`` (the ``ser batch`` process) is gone.

    A kill -9 of the parent runs none of its clean-up, and its pool workers
    (1.1 GB each with the default model) went on running for good.  On Linux
    the kernel kills them (PR_SET_PDEATHSIG); a daemon thread that watches
    :func:`os.getppid` covers other systems and a parent that died before
    the request was made.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no usable libc: the watchdog thread alone
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _init_pool_worker(model: str, parent: int) -> None:
    _exit_with_parent(parent)
    _init_worker(model)


def _worker_row(path: str, emotions) -> dict:
    return recognize_file(path, _worker_recognizer, emotions)


def _run_local(paths: list[str], model: str, emotions, workers: int) -> Iterator[dict]:
    if workers <= 1:
        _init_worker(model)
        yield from (_worker_row(p, emotions) for p in paths)
        return
    # Spawned, not forked: a fork of a process whose onnx/CTranslate2 thread pools already run can hang.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_pool_worker,
                             initargs=(model, os.getpid())) as pool:
        futures = [pool.submit(_worker_row, p, emotions) for p in paths]
        yield from (f.result() for f in as_completed(futures))


# ------------------------------------------------------------------------ Ray

class _RayRecognizer:
    """A Ray Data actor: loads the model once, then recognises batches of paths."""

    def __init__(self, model: str, emotions, labels: list[str]):
        from .recognizer import get_recognizer

        self.recognizer, self.emotions, self.columns = get_recognizer(model), emotions, columns(labels)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        rows = [recognize_file(p, self.recognizer, self.emotions) for p in batch["path"]]
        return pd.DataFrame(rows).reindex(columns=self.columns)


def _run_ray(paths: list[str], model: str, emotions, labels, workers: int, address: str) -> Iterator[dict]:
    import ray

    if not ray.is_initialized():
        if address == "local":
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    # The bar of run_batch reports progress; Ray Data's own logging would repeat it.
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = False
    dataset = ray.data.from_items([{"path": p} for p in paths])
    results = dataset.map_batches(_RayRecognizer, fn_constructor_kwargs=dict(model=model, emotions=emotions,
                                                                              labels=labels),
                                  batch_format="pandas", batch_size=8, concurrency=workers, num_cpus=1)
    for row in results.iter_rows():
        yield {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}


# ----------------------------------------------------------------------- entry

def run_batch(inputs: str | Path | Iterable[str | Path], out: str | Path, *, model: str = "default",
              emotions: Sequence[str] | None = None, workers: int | None = None, ray_address: str | None = None,
              progress: bool | Callable[[int, int], None] = True) -> pd.DataFrame:
    """Recognise every file of ``inputs`` into ``out`` (``.csv`` or ``.parquet``), resumably.

    Parameters
    ----------
    inputs : folder, glob pattern, or iterable of paths
    out : path
        Results file; rows already there without an error are kept and their
        files skipped.
    model, emotions
        As for :class:`ser.recognizer.EmotionRecognizer`.
    workers : int, optional
        Worker processes (local) or Ray actors; default: all local cores.
    ray_address : str, optional
        Run on Ray instead of a local pool: ``"local"`` starts a local Ray
        with ``workers`` CPUs, ``"auto"`` or ``"ray://host:10001"`` joins a
        cluster (whose nodes have this project installed).  A Ray already
        initialised in this process is used as it is.
    progress : bool or callable
        A tqdm bar on stderr, or ``progress(done, total)``.

    Returns
    -------
    pandas.DataFrame
        The whole results table (old and new rows), sorted by path.

    Examples
    --------
    >>> run_batch("corpus/", "out.csv", workers=2)["emotion"].value_counts()  # doctest: +SKIP
    """
    from .recognizer import get_recognizer

    paths = ([str(p) for p in find_inputs(inputs)] if isinstance(inputs, (str, Path))
             else [str(Path(p).resolve()) for p in inputs])
    labels = get_recognizer(model).labels
    if emotions:
        labels = [label for label in labels if label in emotions]
    previous = read_results(out)
    done = set() if previous is None else set(previous.loc[previous["error"] == "", "path"])
    kept = [] if previous is None else [previous[previous["path"].isin(done)]]
    todo = [p for p in paths if p not in done]
    workers = workers or os.cpu_count() or 1

    bar = None
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(total=len(paths), initial=len(paths) - len(todo), unit="file", desc="ser batch")
    rows: list[dict] = []

    def flush() -> pd.DataFrame:
        table = pd.concat([*kept, pd.DataFrame(rows, columns=columns(labels))], ignore_index=True)
        table = table.reindex(columns=columns(labels)).sort_values("path", ignore_index=True)
        write_results(table, out)
        return table

    results = (_run_ray(todo, model, emotions, labels, workers, ray_address) if ray_address
               else _run_local(todo, model, emotions, workers))
    try:
        for row in results:
            rows.append(row)
            if bar is not None:
                bar.update(1)
            elif callable(progress):
                progress(len(paths) - len(todo) + len(rows), len(paths))
            if len(rows) % CHECKPOINT_EVERY == 0:
                flush()
    finally:
        table = flush()
        if bar is not None:
            bar.close()
    return table
