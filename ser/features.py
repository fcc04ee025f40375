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
``whisper-base-l2-ln-frames``
    Whisper base's states after its 2nd encoder layer, on loudness-normalised
    input, every 40 ms (150 x 512, zero rows past the clip's end): the frames
    a frame-level classifier (:class:`ser.models.FrameClassifier`) scores one
    by one.  Clips over 6 s are averaged over proportionally longer hops.
``<whisper>-un``
    A Whisper set (``whisper-base``, ``whisper-base-ln`` …) with its mean and
    its deviation halves each standardised over their own dimensions
    (:func:`utterance_normalize`), computed from the cached vector.

Every extractor takes mono float32 audio at 16 kHz (see :mod:`ser.audio`) and
is declared in :data:`EXTRACTORS` with its size: a new backbone is one
function plus one :func:`register_extractor` line, and the bundles, the
late-fusion blocks and the Train tab's menu follow.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from .audio import SAMPLE_RATE
from .whisper_models import bundled_model_path, cache_dir, encoder_layers_path

logger = logging.getLogger(__name__)

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
SEQUENCE_FRAMES = 200  # 20 ms hops over SEQUENCE_SECONDS
WHISPER_SEQUENCE_FRAMES = 50  # Whisper's 20 ms states averaged over 80 ms


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
    return _fixed_frames(mfcc.T, SEQUENCE_FRAMES)


def logmel_sequence(samples: np.ndarray) -> np.ndarray:
    """64 log-mel bands (dB, floor -80) every 20 ms over the first 4 s, flattened (200 x 64)."""
    import librosa

    mel = librosa.feature.melspectrogram(y=samples, sr=SAMPLE_RATE, n_fft=640, hop_length=320, n_mels=64)
    db = librosa.power_to_db(mel, ref=1.0, top_db=None).clip(-80, None) + 80  # padding 0 = silence
    return _fixed_frames(db.T, SEQUENCE_FRAMES)


def whisper_tiny_sequence(samples: np.ndarray) -> np.ndarray:
    """Whisper tiny.en encoder states over the first 4 s, averaged over 80 ms, flattened (50 x 384)."""
    states = whisper_encoder("tiny.en").states(samples[: int(SEQUENCE_SECONDS * SAMPLE_RATE)])
    steps = len(states) // 4
    pooled = states[: steps * 4].reshape(steps, 4, -1).mean(axis=1) if steps else states[:1]
    return _fixed_frames(pooled, WHISPER_SEQUENCE_FRAMES)


# Frame-level states for the frame classifier (ser.models.FrameClassifier): Whisper's 20 ms states
# averaged in pairs (40 ms), at most FRAME_STEPS of them; longer clips average more states per step,
# so every part of a clip counts.  Rows past the clip's end stay zero (the classifier skips them).
FRAME_STEPS = 150


def hop_average(states: np.ndarray, steps: int, hop: int = 2) -> np.ndarray:
    """Average consecutive rows in groups of ``hop`` (more when that leaves over ``steps`` rows).

    Examples
    --------
    >>> hop_average(np.arange(8.0)[:, None], 3).ravel().tolist()
    [1.0, 4.0]
    >>> hop_average(np.ones((1, 2)), 3).shape
    (1, 2)
    """
    hop = max(hop, -(-len(states) // steps))
    count = len(states) // hop
    if count == 0:
        return states.mean(axis=0, keepdims=True)
    return states[: count * hop].reshape(count, hop, -1).mean(axis=1)


def _whisper_frames(name: str, layers: int | None = None) -> Callable[[np.ndarray], np.ndarray]:
    def frames(samples: np.ndarray) -> np.ndarray:
        states = whisper_encoder(name, layers).states(normalize_loudness(samples))
        return _fixed_frames(hop_average(states, FRAME_STEPS), FRAME_STEPS)

    frames.__name__ = f"whisper_{name}" + (f"_l{layers}" if layers else "") + "_frames"
    return frames


@lru_cache(maxsize=None)
def whisper_encoder(name: str, layers: int | None = None) -> WhisperEncoder:
    """The bundled encoder ``name`` (``"tiny.en"`` or ``"base"``), loaded once.

    ``layers`` keeps only the first encoder layers (:func:`encoder_layers_path`).
    """
    return WhisperEncoder(bundled_model_path(name) if layers is None else encoder_layers_path(name, layers))


def _whisper_pooled(name: str, layers: int | None = None) -> Callable[[np.ndarray], np.ndarray]:
    def pooled(samples: np.ndarray) -> np.ndarray:
        states = whisper_encoder(name, layers).states(samples)
        return np.concatenate([states.mean(axis=0), states.std(axis=0)]).astype(np.float32)

    pooled.__name__ = f"whisper_{name}" + (f"_l{layers}" if layers else "")
    return pooled


# -- the registry: every feature set declares its name, size and shape ---------------------------


@dataclass(frozen=True)
class Extractor:
    """One feature set as the registry knows it.

    Attributes
    ----------
    name : str
        What feature sets call it (``"whisper-base"``); lowercase letters,
        digits and ``-``, no ``+``.
    size : int
        Length of its vector: models address feature blocks by it, and the
        registry's tests check every extractor against it.
    compute : callable
        Mono float32 samples at 16 kHz -> float32 vector of ``size``; for a
        derived set (``base``), the base set's vector -> this set's vector.
    description : str
        One line for menus.
    frames : int, optional
        Sequence sets (deep models): time steps of the flattened
        ``(frames, size // frames)`` matrix.
    base : str, optional
        Derived sets: computed from this set's cached vector, never from audio again.
    menu : bool
        Whether the Train tab's feature menu offers it on its own.
    """

    name: str
    size: int
    compute: Callable[[np.ndarray], np.ndarray]
    description: str = ""
    frames: int | None = None
    base: str | None = None
    menu: bool = False

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        if self.base is not None:
            return self.compute(EXTRACTORS[self.base](samples))
        return self.compute(samples)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.frames, self.size // self.frames) if self.frames else (self.size,)


EXTRACTOR_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
#: Every feature set by name, in the order menus and messages list them.
EXTRACTORS: dict[str, Extractor] = {}


def register_extractor(extractor: Extractor) -> Extractor:
    """Add ``extractor`` to :data:`EXTRACTORS`: feature sets, bundles and menus can then use it.

    Raises
    ------
    ValueError
        The name is taken or malformed, the size is not positive, the frames
        do not divide it, or the base set is unknown.
    """
    if not EXTRACTOR_NAME.fullmatch(extractor.name) or extractor.name in EXTRACTORS:
        raise ValueError(f"Extractor name {extractor.name!r} is taken or not lowercase letters, digits and '-'.")
    if not isinstance(extractor.size, int) or extractor.size < 1 or (
            extractor.frames and extractor.size % extractor.frames):
        raise ValueError(f"Extractor {extractor.name!r} must declare a positive size (a multiple of its frames).")
    if extractor.base is not None and extractor.base not in EXTRACTORS:
        raise ValueError(f"Extractor {extractor.name!r} derives from the unknown set {extractor.base!r}.")
    EXTRACTORS[extractor.name] = extractor
    return extractor


class _Table(Mapping):
    """A read-only view of one field of the registry, current at each use (names kept for callers)."""

    def __init__(self, pick: Callable[[Extractor], object]):
        self._pick = pick

    def _all(self) -> dict:
        return {name: value for name, e in EXTRACTORS.items() if (value := self._pick(e)) is not None}

    def __getitem__(self, name: str):
        return self._all()[name]

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


#: Length of each extractor's vector, so models can address feature blocks (from the registry).
EXTRACTOR_SIZES: Mapping[str, int] = _Table(lambda e: e.size)
#: ``(frames, width)`` of the sequence sets of the deep models.
SEQUENCE_SHAPES: Mapping[str, tuple[int, int]] = _Table(lambda e: e.shape if e.frames else None)

# Whisper's encoder widths: tiny.en 384, base 512; pooled sets hold mean and std.
_WHISPER_WIDTH = {"tiny.en": 384, "base": 512}
#: Intermediate layers of Whisper base offered as feature sets (``whisper-base-l2``): the lower
#: layers hold more of the voice and less of the words, and generalise better across corpora
#: (bench/results/ser_generalization.md).
WHISPER_BASE_LAYERS = (1, 2, 3)
for _extractor in (
    Extractor("librosa", 193, librosa_means, "means of MFCC, chroma, mel, contrast, tonnetz (seed-style)", menu=True),
    Extractor("egemaps", 88, egemaps, "openSMILE eGeMAPSv02 functionals", menu=True),
    Extractor("compare", 6373, compare, "openSMILE ComParE_2016 functionals", menu=True),
    Extractor("whisper-tiny", 2 * _WHISPER_WIDTH["tiny.en"], _whisper_pooled("tiny.en"),
              "Whisper tiny.en encoder, mean + std pooled", menu=True),
    Extractor("whisper-base", 2 * _WHISPER_WIDTH["base"], _whisper_pooled("base"),
              "Whisper base encoder, mean + std pooled", menu=True),
    *(Extractor(f"whisper-base-l{k}", 2 * _WHISPER_WIDTH["base"], _whisper_pooled("base", k),
                f"Whisper base encoder after layer {k} of 6, mean + std pooled", menu=True)
      for k in WHISPER_BASE_LAYERS),
    Extractor("whisper-base-l2-ln-frames", FRAME_STEPS * _WHISPER_WIDTH["base"], _whisper_frames("base", 2),
              "Whisper base after layer 2, every 40 ms, loudness-normalised (frame-level models)",
              frames=FRAME_STEPS, menu=True),
    Extractor("mfcc-seq", SEQUENCE_FRAMES * 40, mfcc_sequence, "40 MFCC every 20 ms (deep models)",
              frames=SEQUENCE_FRAMES),
    Extractor("logmel-seq", SEQUENCE_FRAMES * 64, logmel_sequence, "64 log-mel bands every 20 ms (deep models)",
              frames=SEQUENCE_FRAMES),
    Extractor("whisper-tiny-seq", WHISPER_SEQUENCE_FRAMES * _WHISPER_WIDTH["tiny.en"], whisper_tiny_sequence,
              "Whisper tiny.en states every 80 ms (deep models)", frames=WHISPER_SEQUENCE_FRAMES),
):
    register_extractor(_extractor)
UTTERANCE_EXTRACTORS = ("librosa", "egemaps", "compare", "whisper-tiny", "whisper-base",
                        *(f"whisper-base-l{k}" for k in WHISPER_BASE_LAYERS))
for _name in UTTERANCE_EXTRACTORS:
    _extractor = EXTRACTORS[_name]
    register_extractor(Extractor(f"{_name}-ln", _extractor.size, _on_normalized(_extractor.compute),
                                 f"{_extractor.description}, on loudness-normalised input"))
for _name in ("whisper-tiny", "whisper-base", "whisper-tiny-ln", "whisper-base-ln"):
    register_extractor(Extractor(f"{_name}-un", EXTRACTORS[_name].size, utterance_normalize,
                                 f"{EXTRACTORS[_name].description}, utterance-normalised", base=_name))
#: Combinations the feature menu suggests beside the single sets.
SUGGESTED_SETS = ("whisper-tiny+whisper-base+egemaps",)


def feature_set_choices() -> list[str]:
    """Feature sets for a menu: every registered set marked ``menu``, then :data:`SUGGESTED_SETS`."""
    return [name for name, e in EXTRACTORS.items() if e.menu] + list(SUGGESTED_SETS)


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
        extractor = EXTRACTORS[name]
        if extractor.base is not None:
            return extractor.compute(self.get(samples, extractor.base, digest))
        path = self._path(digest or self.digest(samples), name)
        if path.is_file():
            try:
                return np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                pass  # a damaged entry is recomputed below
        start = time.perf_counter()
        vector = extractor(samples)
        logger.debug("%s of %.1f s of audio in %.3f s", name, samples.size / SAMPLE_RATE, time.perf_counter() - start)
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
    start = time.perf_counter()
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
    logger.debug("%s features of %d clips in %.2f s", feature_set, len(rows), time.perf_counter() - start)
    return np.vstack(rows).astype(np.float32)
