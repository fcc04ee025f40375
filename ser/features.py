"""Utterance-level acoustic features behind one interface, cached on disk.

Feature sets (combine with ``+``, e.g. ``"whisper-tiny+whisper-base"``):

``librosa``
    The seed projects' set: means of 40 MFCC, 12 chroma, 128 mel bands,
    7 spectral-contrast bands and 6 tonnetz dimensions (193 values).
``egemaps``
    openSMILE eGeMAPSv02 functionals (88 values).
``compare``
    openSMILE ComParE_2016 functionals (6373 values).
``whisper-tiny``, ``whisper-base``
    Mean and standard deviation over time of the Whisper encoder's output
    states (bundled tiny.en: 2 x 384; bundled multilingual base: 2 x 512).
``<name>-ln``
    Any of the above on loudness-normalised input (:func:`normalize_loudness`),
    e.g. ``whisper-base-ln``: a clip's level no longer moves its features.
``<whisper>-un``
    A Whisper set (``whisper-base``, ``whisper-base-ln`` …) with its mean and
    its deviation halves each standardised over their own dimensions
    (:func:`utterance_normalize`), computed from the cached vector.

Every extractor takes mono float32 audio at 16 kHz (see :mod:`ser.audio`).
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from .audio import SAMPLE_RATE
from .whisper_models import bundled_model_path, cache_dir

# Bump when an extractor's output changes, so stale cache entries are ignored.
FEATURE_VERSION = 1


def librosa_means(samples: np.ndarray) -> np.ndarray:
    """The seeds' feature vector: per-clip means of five librosa features.

    Examples
    --------
    >>> librosa_means(np.random.randn(16000).astype("float32")).shape
    (193,)
    """
    import librosa

    stft = np.abs(librosa.stft(samples))
    parts = [
        librosa.feature.mfcc(y=samples, sr=SAMPLE_RATE, n_mfcc=40),
        librosa.feature.chroma_stft(S=stft, sr=SAMPLE_RATE),
        librosa.feature.melspectrogram(y=samples, sr=SAMPLE_RATE),
        librosa.feature.spectral_contrast(S=stft, sr=SAMPLE_RATE),
        librosa.feature.tonnetz(y=librosa.effects.harmonic(samples), sr=SAMPLE_RATE),
    ]
    return np.concatenate([p.mean(axis=1) for p in parts]).astype(np.float32)


LOUDNESS_TARGET_DBFS = -26.0


def active_power(samples: np.ndarray, *, frame_seconds: float = 0.02, active_range_db: float = 30.0) -> float:
    """Mean power of the 20 ms frames within ``active_range_db`` of the loudest one.

    The level of the speech itself: leading silence and pauses do not lower it.
    """
    samples = np.asarray(samples, dtype=np.float64)
    step = max(1, int(frame_seconds * SAMPLE_RATE))
    count = max(1, len(samples) // step)
    power = np.mean(samples[: count * step].reshape(count, -1) ** 2, axis=1) if len(samples) else np.zeros(1)
    return float(power[power >= power.max() * 10 ** (-active_range_db / 10)].mean())


def normalize_loudness(samples: np.ndarray, *, target_dbfs: float = LOUDNESS_TARGET_DBFS,
                       peak_limit: float = 0.99) -> np.ndarray:
    """Scale a clip so its active speech (:func:`active_power`) has RMS ``target_dbfs``.

    The gain is capped so the peak stays at or below ``peak_limit`` (no
    clipping is added).  A silent clip is returned unchanged.

    Parameters
    ----------
    samples : numpy.ndarray, shape (n,)
        Mono float32 audio.

    Examples
    --------
    >>> x = 0.001 * np.sin(np.linspace(0, 2000, 16000, dtype="float32"))
    >>> y = normalize_loudness(x)
    >>> round(float(10 * np.log10(np.mean(y ** 2))), 1)
    -26.0
    """
    samples = np.asarray(samples, dtype=np.float32)
    power = active_power(samples)
    if power <= 1e-12:
        return samples
    gain = 10 ** ((target_dbfs - 10 * np.log10(power)) / 20)
    gain = min(gain, peak_limit / float(np.abs(samples).max()))
    return (samples * gain).astype(np.float32)


def _on_normalized(extractor: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    def normalized(samples: np.ndarray) -> np.ndarray:
        return extractor(normalize_loudness(samples))

    normalized.__name__ = f"{extractor.__name__}_ln"
    return normalized


def utterance_normalize(vector: np.ndarray) -> np.ndarray:
    """Standardise each half of a mean+std pooled vector over its own dimensions.

    Removes the offset and scale a recording channel or language puts on all
    encoder dimensions at once.  Measured on 5 emotions, Whisper base, logistic
    regression: EMO-DB -> RAVDESS UA 0.45 -> 0.50, RAVDESS -> EMO-DB 0.26 -> 0.33.

    Examples
    --------
    >>> utterance_normalize(np.array([1.0, 3.0, 10.0, 30.0])).round(3).tolist()
    [-1.0, 1.0, -1.0, 1.0]
    """
    halves = np.split(np.asarray(vector, dtype=np.float32), 2)
    return np.concatenate([(h - h.mean()) / (h.std() + 1e-6) for h in halves]).astype(np.float32)


@lru_cache(maxsize=None)
def _smile(feature_set: str):
    import opensmile

    return opensmile.Smile(
        feature_set=getattr(opensmile.FeatureSet, feature_set),
        feature_level=opensmile.FeatureLevel.Functionals,
    )


_SMILE_LOCK = threading.Lock()  # one openSMILE instance per set; not documented thread-safe


def _functionals(feature_set: str, samples: np.ndarray) -> np.ndarray:
    with _SMILE_LOCK:
        return _smile(feature_set).process_signal(samples, SAMPLE_RATE).to_numpy()[0].astype(np.float32)


def egemaps(samples: np.ndarray) -> np.ndarray:
    """openSMILE eGeMAPSv02 functionals (88 values)."""
    return _functionals("eGeMAPSv02", samples)


def compare(samples: np.ndarray) -> np.ndarray:
    """openSMILE ComParE_2016 functionals (6373 values)."""
    return _functionals("ComParE_2016", samples)


class WhisperEncoder:
    """Frame-level Whisper encoder states from a CTranslate2 model directory.

    The mel spectrogram is not padded to Whisper's 30 s window: short clips
    encode in milliseconds and the states cover speech only.
    """

    def __init__(self, model_dir: str | Path, threads: int = 0):
        import ctranslate2
        from faster_whisper.feature_extractor import FeatureExtractor

        self.model_dir = Path(model_dir)
        self._model = ctranslate2.models.Whisper(
            str(self.model_dir), device="cpu", compute_type="float32", intra_threads=threads
        )
        self._mel = FeatureExtractor(feature_size=self._model.n_mels)
        self._lock = threading.Lock()  # one encode at a time keeps latency predictable

    def states(self, samples: np.ndarray) -> np.ndarray:
        """Encoder output, shape (frames / 2, width), for up to 30 s of audio."""
        import ctranslate2

        mel = self._mel(samples[: 30 * SAMPLE_RATE], padding=0)
        mel = mel[:, : max(2, mel.shape[1] // 2 * 2)]
        with self._lock:
            out = self._model.encode(
                ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None], dtype=np.float32))
            )
        return np.asarray(out)[0]


# Frame-level sequences for the deep models (ser.deep): a fixed number of time
# steps (clips cropped or zero-padded to SEQUENCE_SECONDS), flattened to one row
# so they share the cache, datasets and bundles of the utterance-level features.
SEQUENCE_SECONDS = 4.0
SEQUENCE_SHAPES = {"mfcc-seq": (200, 40), "logmel-seq": (200, 64), "whisper-tiny-seq": (50, 384)}


def _fixed_frames(frames: np.ndarray, steps: int) -> np.ndarray:
    out = np.zeros((steps, frames.shape[1]), dtype=np.float32)
    out[: min(steps, len(frames))] = frames[:steps]
    return out.ravel()


def mfcc_sequence(samples: np.ndarray) -> np.ndarray:
    """40 MFCC every 20 ms over the first 4 s, flattened (200 x 40).

    Examples
    --------
    >>> mfcc_sequence(np.zeros(16000, dtype="float32")).shape
    (8000,)
    """
    import librosa

    mfcc = librosa.feature.mfcc(y=samples, sr=SAMPLE_RATE, n_mfcc=40, n_fft=640, hop_length=320)
    return _fixed_frames(mfcc.T, SEQUENCE_SHAPES["mfcc-seq"][0])


def logmel_sequence(samples: np.ndarray) -> np.ndarray:
    """64 log-mel bands (dB, floor -80) every 20 ms over the first 4 s, flattened (200 x 64)."""
    import librosa

    mel = librosa.feature.melspectrogram(y=samples, sr=SAMPLE_RATE, n_fft=640, hop_length=320, n_mels=64)
    db = librosa.power_to_db(mel, ref=1.0, top_db=None).clip(-80, None) + 80  # padding 0 = silence
    return _fixed_frames(db.T, SEQUENCE_SHAPES["logmel-seq"][0])


def whisper_tiny_sequence(samples: np.ndarray) -> np.ndarray:
    """Whisper tiny.en encoder states over the first 4 s, averaged over 80 ms, flattened (50 x 384)."""
    states = whisper_encoder("tiny.en").states(samples[: int(SEQUENCE_SECONDS * SAMPLE_RATE)])
    steps = len(states) // 4
    pooled = states[: steps * 4].reshape(steps, 4, -1).mean(axis=1) if steps else states[:1]
    return _fixed_frames(pooled, SEQUENCE_SHAPES["whisper-tiny-seq"][0])


@lru_cache(maxsize=None)
def whisper_encoder(name: str) -> WhisperEncoder:
    """The bundled encoder ``name`` (``"tiny.en"`` or ``"base"``), loaded once."""
    return WhisperEncoder(bundled_model_path(name))


def _whisper_pooled(name: str) -> Callable[[np.ndarray], np.ndarray]:
    def pooled(samples: np.ndarray) -> np.ndarray:
        states = whisper_encoder(name).states(samples)
        return np.concatenate([states.mean(axis=0), states.std(axis=0)]).astype(np.float32)

    pooled.__name__ = f"whisper_{name}"
    return pooled


EXTRACTORS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "librosa": librosa_means,
    "egemaps": egemaps,
    "compare": compare,
    "whisper-tiny": _whisper_pooled("tiny.en"),
    "whisper-base": _whisper_pooled("base"),
    "mfcc-seq": mfcc_sequence,
    "logmel-seq": logmel_sequence,
    "whisper-tiny-seq": whisper_tiny_sequence,
}
UTTERANCE_EXTRACTORS = ("librosa", "egemaps", "compare", "whisper-tiny", "whisper-base")
EXTRACTORS.update({f"{name}-ln": _on_normalized(EXTRACTORS[name]) for name in UTTERANCE_EXTRACTORS})
# Derived sets: computed from another set's (cached) vector, never from audio again.
DERIVED = {f"{base}-un": (base, utterance_normalize)
           for base in ("whisper-tiny", "whisper-base", "whisper-tiny-ln", "whisper-base-ln")}
EXTRACTORS.update({name: (lambda samples, b=base, f=fn: f(EXTRACTORS[b](samples)))
                   for name, (base, fn) in DERIVED.items()})


# Length of each extractor's vector, so models can address feature blocks.
EXTRACTOR_SIZES = {"librosa": 193, "egemaps": 88, "compare": 6373, "whisper-tiny": 768, "whisper-base": 1024,
                   **{name: rows * cols for name, (rows, cols) in SEQUENCE_SHAPES.items()}}
EXTRACTOR_SIZES.update({f"{name}-ln": EXTRACTOR_SIZES[name] for name in UTTERANCE_EXTRACTORS})
EXTRACTOR_SIZES.update({name: EXTRACTOR_SIZES[base] for name, (base, _) in DERIVED.items()})


def parse_feature_set(feature_set: str) -> list[str]:
    names = [n.strip() for n in feature_set.split("+") if n.strip()]
    unknown = [n for n in names if n not in EXTRACTORS]
    if not names or unknown:
        raise ValueError(
            f"Unknown feature set {feature_set!r}; use {', '.join(EXTRACTORS)} joined by '+'."
        )
    return names


def extract(samples: np.ndarray, feature_set: str = "whisper-tiny") -> np.ndarray:
    """Feature vector of one clip (no caching).

    The extractors run one after the other: running openSMILE beside
    CTranslate2 in threads aborted the process once (openSMILE's native code
    is not safe to run next to other threads' work).
    """
    return np.concatenate([EXTRACTORS[name](samples) for name in parse_feature_set(feature_set)])


class FeatureCache:
    """Feature vectors on disk, keyed by audio content hash and feature name."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else cache_dir() / "features"

    def _path(self, digest: str, name: str) -> Path:
        return self.root / f"{name}-v{FEATURE_VERSION}" / digest[:2] / f"{digest}.npy"

    @staticmethod
    def digest(samples: np.ndarray) -> str:
        return hashlib.sha1(np.ascontiguousarray(samples, dtype=np.float32).tobytes()).hexdigest()

    def get(self, samples: np.ndarray, name: str, digest: str | None = None) -> np.ndarray:
        if name in DERIVED:
            base, transform = DERIVED[name]
            return transform(self.get(samples, base, digest))
        path = self._path(digest or self.digest(samples), name)
        if path.is_file():
            try:
                return np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                pass  # a damaged entry is recomputed below
        vector = EXTRACTORS[name](samples)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp.npy")
        np.save(tmp, vector, allow_pickle=False)
        tmp.replace(path)
        return vector


def extract_features(
    clips: Iterable[np.ndarray] | Sequence[np.ndarray],
    feature_set: str = "whisper-tiny",
    *,
    cache: FeatureCache | bool = True,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Stack feature vectors of many clips into an (n_clips, n_features) matrix.

    Parameters
    ----------
    clips : iterable of numpy.ndarray
        Mono float32 audio at 16 kHz (e.g. from :func:`ser.audio.load_audio`).
    feature_set : str
        Names from :data:`EXTRACTORS` joined by ``+``.
    cache : FeatureCache or bool
        Where to keep vectors between runs; ``False`` disables the cache.
    progress : callable, optional
        Called with the number of clips done after each clip.
    """
    names = parse_feature_set(feature_set)
    store = cache if isinstance(cache, FeatureCache) else (FeatureCache() if cache else None)
    rows = []
    for i, samples in enumerate(clips, 1):
        if store is None:
            rows.append(extract(samples, feature_set))
        else:
            digest = store.digest(samples)
            rows.append(np.concatenate([store.get(samples, n, digest) for n in names]))
        if progress:
            progress(i)
    if not rows:
        raise ValueError("No clips to extract features from.")
    return np.vstack(rows).astype(np.float32)
