"""The README's journeys, as a new user takes them, in headless Chromium: a screenshot of each, and what it said.

    make run &                                              # in a fresh clone: the README's first command
    python bench/ui_journeys.py --url http://127.0.0.1:7860 # writes bench/results/journeys.md + journeys/*.jpg
    python bench/ui_journeys.py                             # starts python app.py itself (offline)

Each journey is what the README tells a user to do: upload or record (a fake
microphone playing a project clip), press the button, read the answer.  The
report gives the seconds to the answer, an excerpt of what the page showed and
the screenshot, to be looked at — the script checks that an answer came, not
that it is right (the tests do that).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np
import soundfile

from bench.common import DATASETS, RESULTS, ROOT, git_commit, machine, start_app

EXAMPLES = ROOT / "assets" / "examples"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def meeting(path: Path, seconds: float = 60.0) -> Path:
    """About ``seconds`` of the project's example clips with pauses (seeded)."""
    from ser import load_audio

    clips = [load_audio(EXAMPLES / n) for n in ("calm_meeting.wav", "asr_en_happy.wav", "asr_en_angry.wav",
                                                 "quick_news.wav", "slow_day.wav")]
    rng, parts = np.random.default_rng(0), []
    while sum(p.size for p in parts) < seconds * 16_000:
        parts += [clips[int(rng.integers(len(clips)))], np.zeros(int(1.2 * 16_000), np.float32)]
    soundfile.write(path, np.concatenate(parts), 16_000)
    return path


def training_zip(path: Path) -> Path | None:
    """12 RAVDESS clips of 3 actors (angry, sad), as a user would zip their own; None without the corpus."""
    folder = DATASETS / "ravdess"
    if not folder.is_dir():
        return None
    with zipfile.ZipFile(path, "w") as z:
        for actor in (1, 2, 3):
            for code in ("05", "04"):  # angry, sad
                for clip in sorted(folder.rglob(f"03-01-{code}-0*-0*-0*-{actor:02d}.flac"))[:2]:
                    z.write(clip, clip.name)
    return path


class Journeys:
    def __init__(self, page, out: Path):
        self.page, self.out, self.rows = page, out, []

    def run(self, name: str, steps, answered: str, excerpt: str, timeout: float = 240):
        """Do ``steps(page)``, wait for the JS condition ``answered``, screenshot, keep ``excerpt``'s text."""
        page = self.page
        start = time.perf_counter()
        try:
            steps(page)
            page.wait_for_function(answered, timeout=timeout * 1000)
            seconds, outcome = time.perf_counter() - start, "answered"
        except Exception as error:  # noqa: BLE001 - a journey that fails is reported, the others still run
            seconds, outcome = time.perf_counter() - start, f"FAILED: {str(error).splitlines()[0][:160]}"
        time.sleep(1.0)  # let the charts draw
        shot = self.out / f"{len(self.rows) + 1:02d}-{name.lower().replace(' ', '-')}.jpg"
        page.screenshot(path=str(shot), type="jpeg", quality=60)
        try:
            text = " ".join(page.locator(excerpt).first.inner_text(timeout=5000).split())[:220]
        except Exception:  # noqa: BLE001
            text = ""
        self.rows.append((name, outcome, seconds, text, shot.name))
        print(f"{name}: {outcome} in {seconds:.1f} s — {text[:100]}", flush=True)


def tab(page, name: str):
    page.get_by_role("tab", name=name, exact=True).click()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app (default: start python app.py here)")
    parser.add_argument("--out", type=Path, default=RESULTS / "journeys")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    process = None
    if not args.url:
        process, args.url = start_app()
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.jpg"):
        old.unlink()
    work = Path(tempfile.mkdtemp(prefix="journeys-"))
    voice = work / "microphone.wav"
    soundfile.write(voice, np.tile(soundfile.read(EXAMPLES / "asr_en_angry.wav", dtype="float32")[0], 4), 24_000)
    long_file, zipped = meeting(work / "meeting.wav"), training_zip(work / "my_clips.zip")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream", f"--use-file-for-fake-audio-capture={voice}"])
            context = browser.new_context(viewport={"width": 1280, "height": 1000}, permissions=["microphone"])
            page = context.new_page()
            page.goto(args.url)
            page.wait_for_selector("#emotion-label", timeout=120_000)
            j = Journeys(page, args.out)
            j.run("Recognize an upload",
                  lambda p: p.locator("input[type=file]").first.set_input_files(str(EXAMPLES / "calm_meeting.wav")),
                  "() => /%/.test(document.querySelector('#emotion-label').innerText)", "#emotion-label")
            j.run("Recognize a recording",
                  lambda p: (p.evaluate("() => window.before = document.querySelector('#emotion-label').innerText"),
                             p.get_by_label("Record audio").first.click(), p.wait_for_timeout(1000),
                             p.get_by_role("button", name="Record", exact=True).first.click(), p.wait_for_timeout(4000),
                             p.get_by_role("button", name="Stop", exact=True).first.click()),
                  "() => document.querySelector('#emotion-label').innerText !== window.before", "#emotion-label")
            j.run("Transcribe German",
                  lambda p: (tab(p, "Transcribe"),
                             p.locator("#asr-audio input[type=file]").set_input_files(str(EXAMPLES / "asr_de.wav")),
                             p.wait_for_timeout(1500), p.locator("#asr-run").click()),
                  "() => (document.querySelector('#asr-text textarea') || {}).value", "#asr-summary")
            j.run("Re-voice as sad",
                  lambda p: (tab(p, "Re-voice"),
                             p.locator("#tts-audio input[type=file]").set_input_files(
                                 str(EXAMPLES / "asr_en_happy.wav")),
                             p.wait_for_timeout(1500), p.locator("#tts-emotion input").fill("sad"),
                             p.locator("#tts-emotion input").press("Enter"), p.locator("#tts-run").click()),
                  "() => !!document.querySelector('#tts-result audio, #tts-result [data-testid=waveform]')"
                  " && /sad/i.test(document.querySelector('#tts-summary').innerText)", "#tts-summary")
            j.run("Timeline of a minute",
                  lambda p: (tab(p, "Timeline"),
                             p.locator("#timeline-file input[type=file]").set_input_files(str(long_file)),
                             p.wait_for_timeout(1500), p.get_by_role("button", name="Analyze timeline").click()),
                  "() => /segments/.test(document.querySelector('#timeline-counts').innerText)", "#timeline-counts",
                  timeout=400)
            j.run("Live microphone",
                  lambda p: (tab(p, "Live"), p.locator("#live-mic").get_by_role("button", name="Record").click(),
                             p.wait_for_timeout(8000)),
                  "() => /updated in/.test(document.querySelector('#live-status').innerText)", "#live-label")
            if zipped:
                j.run("Train on a zip",
                      lambda p: (p.locator("#live-mic").get_by_role("button", name="Stop").click(), tab(p, "Train"),
                                 p.locator("#train-zip input[type=file]").set_input_files(str(zipped)),
                                 p.wait_for_timeout(2000),
                                 p.get_by_label("Bundle name").fill("journey-bundle"),
                                 p.get_by_role("button", name="Train", exact=True).click()),
                      "() => !!document.querySelector('#comparison .js-plotly-plot')", "#train-summary", timeout=600)
            docs = context.new_page()
            j.page = docs
            j.run("REST docs offline", lambda p: p.goto(args.url + "/docs"),
                  "() => document.querySelectorAll('.opblock').length > 3", "#swagger-ui")
            browser.close()
        rest = []
        for path, call in (("GET /api/v1/health", lambda: httpx.get(f"{args.url}/api/v1/health", timeout=60)),
                           ("POST /api/v1/recognize", lambda: httpx.post(
                               f"{args.url}/api/v1/recognize", timeout=120,
                               files={"file": ("clip.wav", (EXAMPLES / "calm_meeting.wav").read_bytes())})),
                           ("POST /api/v1/synthesize", lambda: httpx.post(
                               f"{args.url}/api/v1/synthesize", timeout=120,
                               json={"text": "See you tomorrow.", "emotion": "sad", "voice": "youngman"}))):
            start = time.perf_counter()
            reply = call()
            shown = (", ".join(list(reply.json())[:6]) if "json" in reply.headers.get("content-type", "")
                     else f"{reply.headers.get('content-type')}, {len(reply.content)} bytes")
            rest.append((path, reply.status_code, time.perf_counter() - start, shown))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if process:
            process.terminate()
    lines = ["# The README's journeys in a real browser", "",
             f"Machine: {machine()}; commit {git_commit()}; app at {args.url} "
             f"({'started by this script' if process else 'started by the user, e.g. make run in a fresh clone'}).",
             "Command: `python bench/ui_journeys.py" + (f" --url {args.url}`" if not process else "`") +
             "; headless Debian Chromium, a fake microphone playing `asr_en_angry.wav` four times.", "",
             "| journey | outcome | seconds to the answer | the page said | screenshot |", "|---|---|---|---|---|"]
    lines += [f"| {n} | {o} | {s:.1f} | {t.replace('|', '/')} | [{f}](journeys/{f}) |" for n, o, s, t, f in j.rows]
    lines += ["", "| REST call (README) | status | seconds | answer |", "|---|---|---|---|"]
    lines += [f"| {p} | {c} | {s:.1f} | {a} |" for p, c, s, a in rest]
    (args.out.parent / "journeys.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
