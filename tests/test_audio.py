"""ser.audio: every input format and every kind of bad input."""

import io
import subprocess
import sys
import wave

import numpy as np
import pytest
import soundfile

from ser.audio import SAMPLE_RATE, AudioError, load_audio


def tone(seconds=1.0, rate=SAMPLE_RATE, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    y = 0.3 * np.sin(2 * np.pi * 220 * t).astype(np.float32)
    return np.stack([y] * channels, axis=1) if channels > 1 else y


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_any_rate_and_channel_count_becomes_mono_16k(tmp_path, rate, channels):
    path = tmp_path / "x.wav"
    soundfile.write(path, tone(1.0, rate, channels), rate)
    y = load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - SAMPLE_RATE) <= 2
    assert 0.25 < np.abs(y).max() < 0.35


@pytest.mark.parametrize("fmt,subtype", [("FLAC", "PCM_16"), ("OGG", "VORBIS"), ("WAV", "FLOAT")])
def test_soundfile_formats(tmp_path, fmt, subtype):
    path = tmp_path / f"x.{fmt.lower()}"
    soundfile.write(path, tone(), SAMPLE_RATE, format=fmt, subtype=subtype)
    assert abs(len(load_audio(path)) - SAMPLE_RATE) < 200


@pytest.mark.parametrize("suffix,codec", [("mp3", "libmp3lame"), ("webm", "libopus"), ("m4a", "aac")])
def test_ffmpeg_formats_like_browser_recordings(tmp_path, suffix, codec):
    import av

    path = tmp_path / f"x.{suffix}"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=48000)
        stream.layout = "mono"
        samples = tone(1.0, 48000)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
        frame.sample_rate = 48000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    y = load_audio(path)
    assert 0.9 * SAMPLE_RATE < len(y) < 1.2 * SAMPLE_RATE
    assert np.abs(y).max() > 0.1


def test_arrays_bytes_and_gradio_tuples():
    y = tone(1.0, 44100)
    assert len(load_audio(y, 44100)) == SAMPLE_RATE
    pcm = (y * 32767).astype(np.int16)
    assert np.allclose(load_audio((44100, pcm)), load_audio(y, 44100), atol=1e-3)
    buffer = io.BytesIO()
    soundfile.write(buffer, y, 44100, format="WAV")
    assert len(load_audio(buffer.getvalue())) == SAMPLE_RATE


@pytest.mark.parametrize("make,message", [
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_text("this is not audio at all " * 50), "not a readable audio file"),
    (lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40)), "not a readable audio file"),
])
def test_bad_files_raise_one_clear_error(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError, match=message):
        load_audio(path)


def test_truncated_file(tmp_path, example_clip):
    path = tmp_path / "cut.mp3"
    path.write_bytes(example_clip.read_bytes()[:30])
    with pytest.raises(AudioError):
        load_audio(path)


def test_silence_short_long_and_missing(tmp_path):
    with pytest.raises(AudioError, match="silent"):
        load_audio(np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE)
    with pytest.raises(AudioError, match="at least"):
        load_audio(tone(0.1), SAMPLE_RATE)
    with pytest.raises(AudioError, match="limit"):
        load_audio(tone(5.0), SAMPLE_RATE, max_duration=2.0)
    with pytest.raises(AudioError, match="No such"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="NaN"):
        load_audio(np.full(SAMPLE_RATE, np.nan, np.float32), SAMPLE_RATE)
    with pytest.raises(AudioError, match="sample rate"):
        load_audio(tone())


def test_eight_bit_wav(tmp_path):
    path = tmp_path / "u8.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(1), w.setframerate(8000)
        w.writeframes(((tone(1.0, 8000) + 1) * 127.5).astype(np.uint8).tobytes())
    y = load_audio(path)
    assert len(y) == SAMPLE_RATE and 0.2 < np.abs(y).max() < 0.4


def test_cli_prints_the_error_and_exits_non_zero(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("hello")
    result = subprocess.run([sys.executable, "-m", "ser", "recognize", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "error:" in result.stderr and "Traceback" not in result.stderr
