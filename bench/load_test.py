"""Load test: N concurrent HTTP clients calling ``POST /api/v1/recognize`` on loopback.

Starts ``python app.py`` on a free port (or uses ``--url``), warms it, then for
each client count runs a fixed time and reports throughput, latency
percentiles, errors and the server's resident memory (start, peak, end).

    python bench/load_test.py                       # 8 and 32 clients, 25 s each
    python bench/load_test.py --clients 8 --seconds 10 --url http://127.0.0.1:7860
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from bench.common import RESULTS, ROOT, git_commit, machine, start_app, status_mb

CLIP = ROOT / "assets" / "examples" / "calm_meeting.wav"


def run_level(url: str, clients: int, seconds: float, audio: bytes, pid: int | None) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client():
        with httpx.Client(timeout=120) as http:
            while time.perf_counter() < stop:
                start = time.perf_counter()
                try:
                    response = http.post(f"{url}/api/v1/recognize", files={"file": ("clip.wav", audio, "audio/wav")})
                    outcome = None if response.status_code == 200 else f"HTTP {response.status_code}"
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                elapsed = time.perf_counter() - start
                with lock:
                    if outcome:
                        errors[outcome] = errors.get(outcome, 0) + 1
                    else:
                        latencies.append(elapsed)

    memory = [status_mb(pid)] if pid else []
    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        if pid:
            memory.append(status_mb(pid))
    wall = time.perf_counter() - began
    ms = np.array(latencies) * 1000
    return {
        "clients": clients, "wall": wall, "ok": len(latencies), "errors": sum(errors.values()),
        "error_kinds": errors, "throughput": len(latencies) / wall,
        "p50": np.percentile(ms, 50), "p95": np.percentile(ms, 95), "p99": np.percentile(ms, 99),
        "max": ms.max(), "rss_start": memory[0] if memory else None,
        "rss_peak": max(memory) if memory else None, "rss_end": memory[-1] if memory else None,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=25)
    parser.add_argument("--concurrency", type=int, default=2, help="--concurrency of the started server")
    parser.add_argument("--url", help="use a running server instead of starting one (no memory figures)")
    parser.add_argument("--out", default=str(RESULTS / "load_test.md"))
    args = parser.parse_args(argv)

    audio = CLIP.read_bytes()
    args.load_before = os.getloadavg()[0]
    process, url = (None, args.url) if args.url else start_app(["--concurrency", str(args.concurrency)])
    pid = process.pid if process else None
    try:
        for _ in range(5):  # the server warms its models; this warms the HTTP path
            httpx.post(f"{url}/api/v1/recognize", files={"file": ("clip.wav", audio, "audio/wav")}, timeout=120)
        rows = []
        for clients in args.clients:
            row = run_level(url, clients, args.seconds, audio, pid)
            rows.append(row)
            print(f"{clients:3d} clients: {row['throughput']:.2f} req/s, p50 {row['p50']:.0f} ms, "
                  f"p95 {row['p95']:.0f} ms, p99 {row['p99']:.0f} ms, errors {row['errors']}, "
                  f"RSS {row['rss_start']} → {row['rss_end']} MB", flush=True)
    finally:
        if process:
            process.terminate()
            process.wait(timeout=30)
    write_report(Path(args.out), rows, args)


def write_report(path: Path, rows: list[dict], args) -> None:
    def mb(value):
        return "—" if value is None else f"{value:.0f}"

    lines = [
        "# Load test: concurrent clients calling `POST /api/v1/recognize` on loopback",
        "",
        f"Machine: {machine()}  ",
        f"Commit: {git_commit()}  ",
        f"Command: `python bench/load_test.py --clients {' '.join(map(str, args.clients))} --seconds {args.seconds:g}"
        f"{' --concurrency ' + str(args.concurrency) if not args.url else ''}`  ",
        f"Clip: `assets/examples/calm_meeting.wav` ({CLIP.stat().st_size // 1024} KB WAV, 2.5 s), uploaded as multipart "
        f"each request. Server: `python app.py --concurrency {args.concurrency}` (uvicorn, one process; "
        "recognition runs in a thread pool limited to `--concurrency`).",
        "",
        f"The machine is shared (load average {args.load_before:.1f} on {os.cpu_count()} cores when the run "
        "began, from other jobs), so absolute numbers are noisy; errors and memory are the point. "
        "Levels run in order against one server process, so memory growth reads down the RSS columns; "
        "repeating a level at the end shows whether it has levelled off.",
        "",
        "| clients | seconds | requests OK | errors | req/s | p50 ms | p95 ms | p99 ms | max ms "
        "| RSS start MB | RSS peak MB | RSS end MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['clients']} | {r['wall']:.0f} | {r['ok']} | {r['errors']} | {r['throughput']:.2f} "
                     f"| {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | {r['max']:.0f} "
                     f"| {mb(r['rss_start'])} | {mb(r['rss_peak'])} | {mb(r['rss_end'])} |")
    kinds = {k: v for r in rows for k, v in r["error_kinds"].items()}
    lines += ["", f"Error kinds: {kinds or 'none'}.", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
