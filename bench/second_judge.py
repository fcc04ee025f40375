"""The benchmarks' second judge of emotion conveyed: openSMILE ComParE + an RBF SVM.

Judging synthesis and conversion by the project's own recognizer alone
invites tuning to one classifier's quirks.  The second judge shares nothing
with it but the labels: different features (openSMILE ComParE_2016
functionals, 6373 values, of the input as it is; the default recognizer uses
Whisper encoder states) and a different model family (a Platt-scaled RBF
SVM, ``ser.models.make_classifier("svc")``; the default is a linear model),
trained on all three corpora with every corpus given the same weight, on the
seven judged emotions only, and **without the speakers held out of the
learned conversion** (:data:`tts.learned.HELD_OUT`), so that what it hears in
their real and converted takes is speaker-independent.  It names the emotion
whose probability is highest *relative to its share of the training data*
(surprised is RAVDESS' alone, disgust is not in ASED), so every emotion is
judged on equal terms.

Training takes a few minutes on 2 cores with a cold feature cache (about
4000 clips), seconds with a warm one; nothing is saved but the feature cache.

    python bench/second_judge.py        # trains it and prints its recall on the held-out speakers' clips
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import DATASETS  # noqa: E402

FEATURES = "compare"
#: The emotions both re-voice benchmarks judge (bench/tts_eval.py's TARGETS): every TTS emotion but calm.
JUDGED = ("neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised")
CORPORA = ("ravdess", "emodb", "ased")


@dataclass
class SecondJudge:
    """A fitted ComParE + SVM classifier over :data:`JUDGED`; ``judge(samples)`` names the emotion heard."""

    model: object
    clips: int
    speakers: int
    priors: dict[str, float]  # each emotion's share of the (corpus-weighted) training data

    def probabilities(self, samples: np.ndarray) -> dict[str, float]:
        """Emotion probabilities of 16 kHz mono ``samples``."""
        from ser.features import extract_features

        row = extract_features([samples], FEATURES, cache=False)
        return dict(zip(self.model.classes_, self.model.predict_proba(row)[0]))

    def judge(self, samples: np.ndarray) -> str:
        """The emotion with the highest probability over its prior: every emotion is judged on equal terms
        (Platt scaling learns the training shares back, so the plain argmax rarely says surprised)."""
        probabilities = self.probabilities(samples)
        return max(probabilities, key=lambda e: probabilities[e] / self.priors[e])


def train_second_judge(datasets: Path = DATASETS, exclude=None, progress=None) -> SecondJudge:
    """Fit the second judge on every corpus found under ``datasets``, ``exclude``'s speakers left out.

    Raises
    ------
    ValueError
        No corpus found.
    """
    from ser.corpora import read_corpus
    from ser.models import make_classifier
    from ser.training import corpus_weights, fit, load_dataset
    from tts.learned import HELD_OUT

    drop = set(HELD_OUT if exclude is None else exclude)
    items = [u for corpus in CORPORA if (datasets / corpus).is_dir()
             for u in read_corpus(datasets / corpus, corpus) if u.emotion in JUDGED and u.speaker not in drop]
    if not items:
        raise ValueError(f"No corpus under {datasets} to train the second judge on (set SER_DATASETS).")
    data = load_dataset(items, FEATURES, progress=progress)
    model = fit(make_classifier("svc"), data.X, data.emotion, data.corpus)
    weights = corpus_weights(data.corpus)
    priors = {e: float(weights[data.emotion == e].sum() / weights.sum()) for e in model.classes_}
    return SecondJudge(model, len(data.emotion), len(set(data.speaker)), priors)


def main() -> None:
    from ser.audio import load_audio
    from ser.corpora import read_corpus
    from tts.learned import HELD_OUT

    start = time.perf_counter()
    judge = train_second_judge(progress=lambda f, m: m.endswith("00") and print(m, file=sys.stderr))
    print(f"trained on {judge.clips} clips of {judge.speakers} speakers in {time.perf_counter() - start:.0f} s")
    for corpus in CORPORA:
        if not (DATASETS / corpus).is_dir():
            continue
        held = [u for u in read_corpus(DATASETS / corpus, corpus) if u.speaker in HELD_OUT and u.emotion in JUDGED]
        heard = [judge.judge(load_audio(u.path)) for u in held]
        recalls = {e: np.mean([h == e for h, u in zip(heard, held) if u.emotion == e])
                   for e in JUDGED if any(u.emotion == e for u in held)}
        print(f"{corpus}: held-out speakers, {len(held)} clips, UA {np.mean(list(recalls.values())):.3f}",
              {e: round(float(r), 2) for e, r in recalls.items()})


if __name__ == "__main__":
    main()
