"""Peak server memory for hostile single requests: a compressed hour of audio and a chunked over-limit body.

Starts ``python app.py`` (default limits) on a free port, measures its idle
resident memory after warm-up and one normal request, then sends one request
at a time and samples the server's ``VmRSS`` every 20 ms while it runs
(``VmHWM``, the kernel's own high-water mark, is read after each case too):

* an hour of 48 kHz stereo FLAC, made here (0.7 MB: silence compresses to
  almost nothing), to ``POST /api/v1/recognize`` and, uploaded through
  ``/gradio_api/upload``, to the Gradio ``recognize`` and ``timeline`` endpoints;
  and an hour at 192 kHz, the highest rate accepted, to ``timeline``;
* 200 MB sent with ``Transfer-Encoding: chunked`` (no length) to the REST API
  and to Gradio's upload route;
* the 2.5 s example clip, as the control.

Target: peak ≤ 1.5 GB above idle for any single request.

    python bench/security_memory.py
"""

from __future__ import annotations

import argparse
import io
import json
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

from bench.common import RESULTS, ROOT, git_commit, machine, start_app, status_mb  # noqa: E402

CLIP = ROOT / "assets" / "examples" / "calm_meeting.wav"
TARGET_MB = 1536
CHUNKED_MB = 200


def hour_of_flac(seconds: int = 3600, rate: int = 48_000) -> bytes:
    """``seconds`` of silent 48 kHz stereo 16-bit FLAC, written a minute at a time."""
    import numpy as np
    import soundfile

    buffer = io.BytesIO()
    minute = np.zeros((rate * 60, 2), np.int16)
    with soundfile.SoundFile(buffer, "w", rate, 2, format="FLAC", subtype="PCM_16") as out:
        for _ in range(seconds // 60):
            out.write(minute)
    return buffer.getvalue()


def send_chunked(url: str, route: str, field: str, total: int, block: int = 1 << 20) -> tuple[int, int, dict]:
    """POST a multipart body of ``total`` zero bytes with ``Transfer-Encoding: chunked`` (no length).

    Sends until the server answers or stops reading.

    Returns
    -------
    (int, int, dict)
        Bytes sent, the HTTP status and the JSON body of the answer.
    """
    host, port = url.removeprefix("http://").split(":")
    boundary = "securitybenchboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"big.wav\"\r\n"
            "Content-Type: audio/wav\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"POST {route} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
                     f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n".encode())
        sent, data = 0, bytes(block)
        try:
            sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))
                sent += len(data)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _content_length(answer):
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    header, _, body = answer.partition(b"\r\n\r\n")
    status = int(header.split()[1]) if header else 0
    return sent, status, json.loads(body[:_content_length(answer)] or b"{}")


def _content_length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def gradio_call(url: str, api: str, data: list) -> tuple[str, str]:
    """``(event, first 200 characters of its data)`` of one ``/gradio_api/call`` request."""
    import httpx

    started = httpx.post(f"{url}/gradio_api/call/{api}", json={"data": data}, timeout=60).json()
    stream = httpx.get(f"{url}/gradio_api/call/{api}/{started['event_id']}", timeout=900).text
    event = next((line.split(":", 1)[1].strip() for line in reversed(stream.splitlines())
                  if line.startswith("event:")), "none")
    payload = next((line.split(":", 1)[1].strip() for line in reversed(stream.splitlines())
                    if line.startswith("data:")), "")
    return event, payload[:200]


def gradio_upload(url: str, name: str, data: bytes) -> dict:
    import httpx

    path = httpx.post(f"{url}/gradio_api/upload", files={"files": (name, data)}, timeout=120).json()[0]
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def rest_recognize(url: str, name: str, data: bytes) -> str:
    import httpx

    response = httpx.post(f"{url}/api/v1/recognize", files={"file": (name, data)}, timeout=900)
    return f"HTTP {response.status_code}: {response.text[:120]}"


def chunked(url: str, route: str, field: str) -> str:
    sent, status, body = send_chunked(url, route, field, CHUNKED_MB << 20)
    return f"HTTP {status} after {sent / 2**20:.0f} MB sent: {body.get('error')}"


def measure(pid: int, name: str, action) -> dict:
    """Run ``action()`` while sampling the server's RSS every 20 ms."""
    samples, done = [], threading.Event()

    def sample():
        while not done.is_set():
            samples.append(status_mb(pid, "VmRSS"))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    before = status_mb(pid, "VmRSS")
    start = time.perf_counter()
    sampler.start()
    try:
        outcome = action()
    finally:
        seconds = time.perf_counter() - start
        time.sleep(0.5)
        done.set()
        sampler.join()
    row = {"case": name, "seconds": round(seconds, 2), "outcome": outcome, "rss_before_mb": round(before, 1),
           "rss_peak_mb": round(max(samples), 1),
           "hwm_mb": round(status_mb(pid, "VmHWM"), 1), "rss_after_mb": round(status_mb(pid, "VmRSS"), 1)}
    print(f"{name}: {outcome} in {seconds:.1f} s, peak RSS {row['rss_peak_mb']:.0f} MB, "
          f"VmHWM {row['hwm_mb']:.0f} MB", flush=True)
    return row


def main(argv=None) -> None:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(RESULTS / "security_memory.md"))
    args = parser.parse_args(argv)

    started = time.perf_counter()
    flac = hour_of_flac()
    print(f"made an hour of 48 kHz stereo FLAC: {len(flac) / 2**20:.2f} MB in {time.perf_counter() - started:.0f} s")
    fast = hour_of_flac(rate=192_000)  # the highest rate ser.audio accepts
    clip = CLIP.read_bytes()
    with tempfile.TemporaryDirectory(prefix="security-memory-") as temp:
        process, url = start_app(env={"GRADIO_TEMP_DIR": str(Path(temp) / "gradio")})
        pid = process.pid
        try:
            for _ in range(3):  # warm the HTTP path and both faces' first-call allocations
                httpx.post(f"{url}/api/v1/recognize", files={"file": ("clip.wav", clip)}, timeout=120)
            gradio_call(url, "recognize", [gradio_upload(url, "clip.wav", clip), ["sad", "neutral", "happy"],
                                           "default"])
            time.sleep(2)
            idle = status_mb(pid, "VmRSS")
            subset = ["sad", "neutral", "happy"]
            cases = [
                ("control: 2.5 s WAV, REST recognize", partial(rest_recognize, url, "clip.wav", clip)),
                ("1 h FLAC (0.7 MB), REST /api/v1/recognize", partial(rest_recognize, url, "hour.flac", flac)),
                ("1 h FLAC, Gradio upload + recognize",
                 lambda: gradio_call(url, "recognize", [gradio_upload(url, "hour.flac", flac), subset, "default"])),
                ("1 h FLAC, Gradio upload + timeline (no transcript)",
                 lambda: gradio_call(url, "timeline", [gradio_upload(url, "hour.flac", flac), False, subset,
                                                       "default"])),
                (f"1 h FLAC at 192 kHz ({len(fast) / 2**20:.1f} MB), Gradio upload + timeline",
                 lambda: gradio_call(url, "timeline", [gradio_upload(url, "hour192k.flac", fast), False, subset,
                                                       "default"])),
                (f"chunked {CHUNKED_MB} MB, REST /api/v1/recognize",
                 partial(chunked, url, "/api/v1/recognize", "file")),
                (f"chunked {CHUNKED_MB} MB, /gradio_api/upload", partial(chunked, url, "/gradio_api/upload", "files")),
            ]
            rows = [measure(pid, name, action) for name, action in cases]
            disk = sum(p.stat().st_size for p in (Path(temp) / "gradio").rglob("*") if p.is_file())
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    write_report(Path(args.out), idle, rows, len(flac), disk)


def write_report(path: Path, idle: float, rows: list[dict], flac_bytes: int, disk: int) -> None:
    worst = max(r["rss_peak_mb"] for r in rows) - idle
    verdict = "met" if worst <= TARGET_MB else "NOT met"
    lines = [
        "# Peak server memory under hostile single requests",
        "",
        f"Machine: {machine()}  ",
        f"Commit: {git_commit()}  ",
        "Command: `python bench/security_memory.py`  ",
        "Server: `python app.py` with the default limits (25 MB uploads, 600 s of audio), its own "
        "`GRADIO_TEMP_DIR`, models warmed, then three REST and one Gradio request of the example clip "
        "before idle was read.",
        "",
        "Protocol: one request at a time; the server's `VmRSS` is sampled every 20 ms from the request's start "
        "to 0.5 s after its answer (peak column); `VmHWM` is the kernel's high-water mark of the whole process "
        "after each case. The FLACs are an hour of silent stereo 16-bit audio made by the script, at 48 kHz "
        f"({flac_bytes / 2**20:.2f} MB) and at 192 kHz, the highest rate the decoder accepts; the chunked bodies "
        f"are {CHUNKED_MB} MB of zeros sent without a length.",
        "",
        f"**Idle RSS: {idle:.0f} MB. Worst peak: {worst:+.0f} MB above idle; target ≤ +{TARGET_MB} MB: {verdict}.**",
        "",
        "RSS does not fall back after a large request (the allocator keeps what it freed), so a row can "
        "start above idle; its own growth is peak minus start.",
        "",
        "| case | answer | seconds | RSS at start MB | peak RSS MB | above idle MB | own growth MB | VmHWM MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        answer = str(r["outcome"]).replace("|", "\\|").replace("\n", " ")[:140]
        lines.append(f"| {r['case']} | {answer} | {r['seconds']:.1f} | {r['rss_before_mb']:.0f} "
                     f"| {r['rss_peak_mb']:.0f} | {r['rss_peak_mb'] - idle:+.0f} "
                     f"| {r['rss_peak_mb'] - r['rss_before_mb']:+.0f} | {r['hwm_mb']:.0f} |")
    lines += ["", f"Gradio's temp folder after all cases: {disk / 2**20:.1f} MB.", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    path.with_suffix(".json").write_text(json.dumps(
        {"idle_mb": idle, "target_mb_above_idle": TARGET_MB, "worst_mb_above_idle": worst, "rows": rows,
         "flac_bytes": flac_bytes, "temp_bytes_after": disk}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
