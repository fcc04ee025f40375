"""``ser batch`` killed with SIGKILL takes its worker processes with it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
# A worker has loaded the default model (Whisper tiny + base, openSMILE) past this resident size.
LOADED_MB = 500
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_end_when_the_batch_process_is_killed(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(60):  # more than the run gets through before the kill
        shutil.copy(EXAMPLES / "calm_meeting.wav", inputs / f"clip{i:02d}.wav")
    out = tmp_path / "out.csv"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    batch = subprocess.Popen([sys.executable, "-m", "ser", "batch", str(inputs), "--out", str(out),
                              "--workers", "2"], cwd=tmp_path, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 240
        # Kill when two workers hold the model (the 1.1 GB processes that used to stay behind).
        while len(workers := {p for p in children(batch.pid) if rss_mb(p) > LOADED_MB}) < 2:
            assert batch.poll() is None, "ser batch ended before it could be killed"
            assert time.monotonic() < deadline, "the workers did not load the model in 240 s"
            time.sleep(0.2)
        workers |= children(batch.pid)  # and multiprocessing's resource tracker
        batch.send_signal(signal.SIGKILL)
        batch.wait(timeout=10)
        killed = time.monotonic()
        while any(alive(p) for p in workers) and time.monotonic() - killed < 15:
            time.sleep(0.1)
        left = [p for p in workers if alive(p)]
        assert not left, f"{len(left)} workers still running 15 s after their parent was killed"
        assert time.monotonic() - killed < 5
    finally:
        batch.kill()
        for pid in workers:  # on failure, do not leave them behind either
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
