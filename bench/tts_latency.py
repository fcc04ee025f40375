"""Re-voice latency, rules vs learned conversion, measured side by side in one run.

    python bench/tts_latency.py        # writes bench/results/tts_latency.md (about a minute)

Protocol: ``pipelines.revoice.revoice`` on a 4.0 s clip (the bundled voice
saying :data:`bench.tts_eval.PIPELINE_TEXT`), target happy, both modes (new
voice ``youngwoman``; keep my voice), both conversion methods; one warm-up
call each, then ``--runs`` rounds in which the four configurations take turns,
so that load on the machine falls on all of them alike.  Median seconds per
configuration and stage.  Target (issue 15): ≤ 1.5 s on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import RESULTS, git_commit, machine  # noqa: E402
from bench.tts_eval import PIPELINE_TEXT  # noqa: E402


def main(argv=None) -> None:
    from pipelines.revoice import revoice
    from ser.audio import SAMPLE_RATE, resample
    from tts import synthesize
    from tts.conversion import CONVERSIONS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS / "tts_latency.md")
    args = parser.parse_args(argv)
    speech = synthesize(PIPELINE_TEXT, "neutral", voice="youngwoman")
    clip = resample(speech.audio, speech.sample_rate, SAMPLE_RATE)
    clip = np.pad(clip, (0, max(0, 4 * SAMPLE_RATE - clip.size)))[: 4 * SAMPLE_RATE]
    configs = [(mode, keep, method) for mode, keep in (("new voice", False), ("keep my voice", True))
               for method in CONVERSIONS]
    totals, stages = defaultdict(list), defaultdict(lambda: defaultdict(list))
    for mode, keep, method in configs:  # warm-up: models load
        revoice((SAMPLE_RATE, clip), "happy", "youngwoman", keep_voice=keep, method=method)
    for _ in range(args.runs):
        for config in configs:
            mode, keep, method = config
            start = time.perf_counter()
            result = revoice((SAMPLE_RATE, clip), "happy", "youngwoman", keep_voice=keep, method=method)
            totals[config].append(time.perf_counter() - start)
            for stage, seconds in result.timings.items():
                stages[config][stage].append(seconds)
    names = list(next(iter(stages.values())))
    lines = ["# Re-voice latency: rules vs learned, side by side", "", f"Machine: {machine()}.  ",
             f"Commit: {git_commit()}.  Command: `python bench/tts_latency.py`; median of {args.runs} interleaved "
             "warm runs on a 4.0 s clip, target happy.", "",
             "| mode | method | total (s) | " + " | ".join(names) + " |", "|---|---|---:|" + "---:|" * len(names)]
    for config in configs:
        cells = [f"{statistics.median(stages[config][n]):.2f}" for n in names]
        lines.append(f"| {config[0]} | {config[2]} | **{statistics.median(totals[config]):.2f}** | "
                     + " | ".join(cells) + " |")
    lines.append("")
    args.out.write_text("\n".join(lines))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
