"""Hostile training uploads: zip bombs, entries zipfile cannot read, clashing and over-long names.

Every archive is built here, byte by byte where zipfile would refuse to write
it.  Each case must end in one clear :class:`UploadError` whose message names
no server path, and must leave no unpacked folder behind.
"""

from __future__ import annotations

import signal
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ser.workbench import UploadError, ZipLimits, import_zip, sweep_stale_uploads, unpack_upload

ROOT = Path(__file__).resolve().parents[1]
WAV = b"RIFF" + b"\x00" * 60  # the names matter here, not the audio


def write_zip(path: Path, entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def patch_headers(path: Path, name: str, *, flag: int | None = None, method: int | None = None) -> Path:
    """Set the flag bits or compression method of entry ``name`` in both its headers."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = data.find(signature)
        while at >= 0:
            if data[at + name_at:at + name_at + len(encoded)] == encoded:
                if flag is not None:
                    struct.pack_into("<H", data, at + flag_at, struct.unpack_from("<H", data, at + flag_at)[0] | flag)
                if method is not None:
                    struct.pack_into("<H", data, at + flag_at + 2, method)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    return path


def refused(archive: Path, dest: Path, match: str, **limits) -> str:
    with pytest.raises(UploadError, match=match) as caught:
        import_zip(archive, dest, limits=ZipLimits(**limits))
    message = str(caught.value)
    assert str(dest) not in message and "/tmp" not in message and "Traceback" not in message, message
    assert not dest.exists() or not any(dest.iterdir()), "partial upload left behind"
    return message


def noise(size: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).bytes(size)


def test_the_default_limits_fit_the_train_tab():
    limits = ZipLimits()
    assert limits.max_bytes <= 1 << 30 and limits.max_ratio <= 20 and limits.max_name <= 255


def test_a_small_zip_cannot_unpack_to_many_times_its_size(tmp_path):
    # 1 KB of noise and 99 KB of zeros, repeated: deflate packs it ~90x, under the old 200x cap,
    # so 0.5 MB unpacked to 40 MB (and 5.9 MB to 1 GB under the old 4 GB cap)
    block = noise(1000) + bytes(99_000)
    bomb = write_zip(tmp_path / "bomb.zip", {"ok.wav": WAV, "big.wav": block * 400}, zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 600_000
    refused(bomb, tmp_path / "a", "zip bomb")
    # many small members, each below the per-member floor, add up
    many = write_zip(tmp_path / "many.zip", {f"{i}.wav": block * 9 for i in range(40)}, zipfile.ZIP_DEFLATED)
    refused(many, tmp_path / "b", "zip bomb")
    # the total: 3 MB of noise over a 2 MB limit
    noisy = write_zip(tmp_path / "noisy.zip", {f"{i}.wav": noise(1 << 20, i) for i in range(3)})
    refused(noisy, tmp_path / "c", "limit", max_bytes=2 << 20)


def test_sizes_are_counted_not_taken_from_the_headers(tmp_path):
    """A header that claims 1 KB for a 40 MB member does not get it past a 10 MB limit."""
    archive = write_zip(tmp_path / "liar.zip", {"a.wav": noise(20 << 20, 1), "b.wav": noise(20 << 20, 2)})
    data = bytearray(archive.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # central directory: uncompressed size at +24
        struct.pack_into("<I", data, at + 24, 1000)
        at = data.find(b"PK\x01\x02", at + 4)
    archive.write_bytes(bytes(data))
    with pytest.raises(UploadError) as caught:
        import_zip(archive, tmp_path / "out", limits=ZipLimits(max_bytes=10 << 20))
    assert "/tmp" not in str(caught.value)
    assert sum(p.stat().st_size for p in (tmp_path / "out").rglob("*")) == 0


def test_an_encrypted_entry_is_a_clear_error(tmp_path):
    archive = patch_headers(write_zip(tmp_path / "e.zip", {"a.wav": WAV, "b.wav": WAV}), "b.wav", flag=0x1)
    refused(archive, tmp_path / "out", "encrypted")


@pytest.mark.parametrize("method, named", [(99, "AES"), (9, "Deflate64"), (77, "method 77")])
def test_an_unsupported_compression_method_is_a_clear_error(tmp_path, method, named):
    archive = patch_headers(write_zip(tmp_path / "m.zip", {"a.wav": WAV, "b.wav": WAV}), "b.wav", method=method)
    message = refused(archive, tmp_path / "out", "cannot be read here")
    assert named in message


@pytest.mark.parametrize("entries", [
    {"a.wav": WAV, "a.wav/b.wav": WAV},  # a file, then a folder of the same name
    {"a.wav/b.wav": WAV, "a.wav": WAV},  # the other way round
    {"x/a/": b"", "x/a": WAV},           # a folder entry and a file
])
def test_a_file_and_a_folder_of_the_same_name_is_a_clear_error(tmp_path, entries):
    archive = write_zip(tmp_path / "clash.zip", {"ok.wav": WAV, **entries})
    refused(archive, tmp_path / "out", "file and a folder")


def test_duplicate_names_are_a_clear_error(tmp_path):
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as z, pytest.warns(UserWarning, match="Duplicate"):
        z.writestr("a.wav", WAV)
        z.writestr("a.wav", WAV + b"x")
    refused(archive, tmp_path / "out", "twice")


def test_an_over_long_name_is_a_clear_error(tmp_path):
    archive = write_zip(tmp_path / "long.zip", {"ok.wav": WAV, "x" * 296 + ".wav": WAV})
    refused(archive, tmp_path / "out", "300 characters")
    deep = write_zip(tmp_path / "deep.zip", {"ok.wav": WAV, "/".join(["d" * 40] * 5) + "/a.wav": WAV})
    refused(deep, tmp_path / "out2", "limit is 200", max_name=200)


def test_a_damaged_member_is_skipped_with_a_message_and_no_path(tmp_path):
    archive = write_zip(tmp_path / "crc.zip", {"good.wav": WAV, "bad.wav": WAV * 4}, zipfile.ZIP_DEFLATED)
    data = archive.read_bytes()
    at = data.find(b"bad.wav") + len(b"bad.wav") + 3  # inside the deflate stream
    archive.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    result = import_zip(archive, tmp_path / "out")
    assert result.audio_files == 1 and sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.wav"]
    assert len(result.skipped) == 1 and result.skipped[0].startswith("bad.wav: damaged entry")
    assert str(tmp_path) not in result.skipped[0]


def test_the_cli_prints_the_reason_without_a_traceback(tmp_path):
    archive = patch_headers(write_zip(tmp_path / "e.zip", {"a.wav": WAV, "b.wav": WAV}), "a.wav", flag=0x1)
    run = subprocess.run([sys.executable, "-m", "ser", "train", "--zip", str(archive), "--features", "egemaps",
                          "--out", str(tmp_path / "model")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "encrypted" in run.stderr, run.stderr
    assert not (tmp_path / "model").exists()


def test_unpack_upload_removes_its_folder_on_failure_and_after_use(tmp_path):
    root = tmp_path / "uploads"
    root.mkdir()
    with pytest.raises(UploadError):
        unpack_upload(write_zip(tmp_path / "long.zip", {"x" * 300 + ".wav": WAV}), root=root)
    assert list(root.iterdir()) == []
    upload = unpack_upload(write_zip(tmp_path / "ok.zip", {"one.wav": WAV}), root=root)
    assert upload.folder.parent == root and (upload.folder / "one.wav").is_file()
    upload.remove()
    assert list(root.iterdir()) == []


def test_folders_of_a_killed_run_are_swept(tmp_path):
    """A process killed mid-unpack leaves its folder; the next unpack (or the app's start) removes it."""
    root = tmp_path / "uploads"
    root.mkdir()
    archive = write_zip(tmp_path / "clips.zip", {f"{i}.wav": WAV for i in range(3)})
    script = ("import sys, ser.workbench as w; u = w.unpack_upload(sys.argv[1], root=sys.argv[2]);"
              "print('done', flush=True); import time; time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", script, str(archive), str(root)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "done"
        left = list(root.iterdir())
        assert len(left) == 1 and any(left[0].iterdir())
        assert sweep_stale_uploads(root) == []  # its process is alive: left alone
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert list(root.iterdir()) == left  # a kill -9 runs no clean-up
    upload = unpack_upload(write_zip(tmp_path / "ok.zip", {"one.wav": WAV}), root=root)
    assert list(root.iterdir()) == [upload.folder]
    upload.remove()
    # nothing else is touched in the folder
    (root / "notes").mkdir()
    (root / "upload-notapid-x").mkdir()
    assert sweep_stale_uploads(root) == [] and len(list(root.iterdir())) == 2
