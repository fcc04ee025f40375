"""Batch: a folder with good and bad files, resuming, Parquet, CLI, local pool and Ray."""

import shutil
import time

import pandas as pd
import pytest

from ser.__main__ import main
from ser.batch import find_inputs, run_batch

from conftest import EXAMPLES

GOOD = ["calm_meeting.wav", "quick_news.wav", "slow_day.wav", "asr_en_happy.wav"]


@pytest.fixture()
def folder(tmp_path):
    """Project example clips plus a text file named .wav, an empty file and a too-short clip."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    for i, name in enumerate(GOOD):
        shutil.copy(EXAMPLES / name, root / ("sub" if i % 2 else "") / name)
    (root / "notes.wav").write_text("not audio " * 50)
    (root / "empty.flac").write_bytes(b"")
    (root / "readme.txt").write_text("ignored: not an audio extension")
    import soundfile

    from ser import load_audio

    soundfile.write(root / "short.wav", load_audio(EXAMPLES / GOOD[0])[:1600], 16_000)
    return root


def test_bad_files_are_recorded_not_fatal(folder, tmp_path):
    table = run_batch(folder, tmp_path / "out.csv", workers=1, progress=False)
    assert len(table) == 7 and list(table["path"]) == sorted(table["path"])
    errors = table.set_index(table["path"].str.rsplit("/", n=1).str[-1])["error"]
    assert "not a readable audio file" in errors["notes.wav"]
    assert "empty" in errors["empty.flac"] and "at least" in errors["short.wav"]
    good = table[table["error"] == ""]
    assert len(good) == 4 and good["emotion"].notna().all() and good["gender"].isin(["male", "female"]).all()
    probabilities = good.filter(like="p_").sum(axis=1)
    assert ((probabilities - 1).abs() < 1e-3).all()
    assert len(pd.read_csv(tmp_path / "out.csv")) == 7


def test_resume_skips_files_already_done(folder, tmp_path):
    out = tmp_path / "out.parquet"
    first = run_batch(folder, out, workers=1, progress=False)
    # Simulate a run killed half-way: keep two good rows only.
    pd.read_parquet(out).query("error == ''").head(2).to_parquet(out, index=False)
    calls = []
    second = run_batch(folder, out, workers=1, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (3, 7) and calls[-1] == (7, 7)  # 2 kept, 5 processed (2 good + 3 bad)
    pd.testing.assert_frame_equal(first, second, check_dtype=False)
    calls.clear()
    run_batch(folder, out, workers=1, progress=lambda done, total: calls.append(done))
    assert len(calls) == 3  # only the bad files are tried again


def test_cli_batch_with_glob_and_two_processes(folder, tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert main(["batch", str(folder / "**" / "*.wav"), "--out", str(out), "--workers", "2"]) == 0
    assert "6 files, 2 with errors" in capsys.readouterr().out
    single = run_batch(find_inputs(folder / "**" / "*.wav"), tmp_path / "single.csv", workers=1, progress=False)
    pd.testing.assert_frame_equal(pd.read_csv(out, keep_default_na=False, na_values=[""]).fillna({"error": ""}),
                                  single.fillna({"error": ""}), check_dtype=False, atol=1e-6)
    assert main(["batch", str(tmp_path / "nothing-here"), "--out", str(out)]) == 2
    assert main(["batch", str(folder), "--out", str(tmp_path / "r.xlsx")]) == 2


def test_ray_gives_the_local_results(folder, tmp_path):
    ray = pytest.importorskip("ray")  # ~20 s on 2 cores, so not marked slow
    local = run_batch(folder, tmp_path / "local.csv", workers=1, progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        started = time.perf_counter()
        distributed = run_batch(folder, tmp_path / "ray.parquet", workers=2, ray_address="local", progress=False)
        assert time.perf_counter() - started < 120
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(local, distributed, check_dtype=False, atol=1e-6)
