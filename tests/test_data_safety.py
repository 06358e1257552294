"""Nothing lost (issue 19, items 1-7): fault injection against the files a run writes.

Double signals and SIGKILL hit a real `facecam run` process; the file left behind is decoded and
compared with what was handed to the encoder. Damaged input, a size change mid-stream, two
writers of one path, a restarted engine, an output that is the input.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from benchmarks.signal_faults import WRAPPER, decoded_frames, handed
from realtime import Engine, Settings
from realtime.errors import OutputError
from realtime.frame import Frame
from realtime.output import OutputFormat
from realtime.output.recorder import VideoRecorder
from tests.conftest import ROOT, ListSource, read_video

SMALL = "160x96"


def facecam(folder: Path, *args: str, trace: bool = False) -> subprocess.Popen:
    """`facecam run` on the looping demo clip, passthrough, file mode (every frame recorded)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), FACECAM_TRACE=str(folder / "trace.txt"))
    env.pop("DISPLAY", None)
    command = [sys.executable, "-c", WRAPPER] if trace else [sys.executable, "-m", "realtime.cli"]
    return subprocess.Popen(
        [*command, "run", "--input", "demo", "--loop", "--size", SMALL, "--mode", "passthrough",
         "--no-live", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder, env=env)


def wait_for(condition, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "facecam did not get going"
        time.sleep(0.05)


def make_clip(path: Path, frames: int = 90, size=(160, 96)) -> Path:
    """A clip whose frame i shows i as a bar of grey levels (every frame differs)."""
    rng = np.random.default_rng(3)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"g": "15"}
        for index in range(frames):
            image = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)  # hard to compress
            image[:, : size[0] // 2] = (index * 2) % 256
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


# -- 1: an output that is an input ---------------------------------------------------------------
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", frames=20)
    before = clip.read_bytes()
    settings = Settings().replace(input=str(clip), mode="passthrough", outputs=(str(clip),), live=False)
    with pytest.raises(OutputError, match="also an input"):
        Engine(settings).start()
    assert clip.read_bytes() == before
    # The same file by another name (a relative path from elsewhere) is the same file.
    link = tmp_path / "sub"
    link.mkdir()
    settings = settings.replace(outputs=(str(link / ".." / "clip.mp4"),))
    with pytest.raises(OutputError, match="also an input"):
        Engine(settings).start()
    assert clip.read_bytes() == before


# -- 2: a second signal while the outputs are finished --------------------------------------------
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_during_shutdown_still_finalises_the_file(tmp_path, how):
    out = tmp_path / "rec.mp4"
    process = facecam(tmp_path, "--output", str(out), "--json", trace=True)
    try:
        wait_for(lambda: handed(tmp_path / "trace.txt") >= 40, process)
        process.send_signal(how)
        time.sleep(0.02)
        process.send_signal(how)  # lands while the outputs are being finished
        time.sleep(0.05)
        process.send_signal(how)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    report = json.loads(stdout)
    decoded = len(read_video(out))
    given = handed(tmp_path / "trace.txt")
    assert report["files"] == [{"path": str(out), "frames": decoded, "frames_handed": given,
                                "complete": True}], stderr
    assert decoded == given == report["frames_out"]
    assert "still finishing the outputs" in stderr
    assert "C2PA manifest added" in stderr


def test_a_signal_after_a_stopped_run_cannot_kill_the_exit(monkeypatch):
    """CI caught it: the third signal of the test above landed while the interpreter was
    exiting, after CPython had put SIG_DFL back in place of facecam's handler (native teardown
    runs after that), and the process died with -2/-15 although the file was final. A stopped
    run leaves both signals ignored, which that reset keeps, so the exit status stays 130."""
    import types

    import realtime.cli as cli

    def run(args):  # a command interrupted by Ctrl-C; a late SIGTERM lands as it finishes
        signal.raise_signal(signal.SIGINT)
        raise AssertionError("the first signal stops the run")

    real = cli._command_module
    monkeypatch.setattr(cli, "_command_module", lambda name: types.SimpleNamespace(
        add_arguments=real(name).add_arguments, run=run))
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert cli.main(["verify", "x.mp4"]) == cli.EXIT_INTERRUPTED
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
        signal.raise_signal(signal.SIGTERM)  # ignored: this test process lives on
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


# -- 3: SIGKILL -----------------------------------------------------------------------------------
def test_sigkill_loses_at_most_about_a_second(tmp_path):
    rng = random.Random(19)
    losses = []
    for run in range(3):
        folder = tmp_path / f"run{run}"
        folder.mkdir()
        process = facecam(folder, "--output", str(folder / "rec.mp4"), trace=True)
        try:
            wait_for(lambda f=folder: handed(f / "trace.txt") >= 10, process)
            time.sleep(rng.uniform(0.2, 2.5))
            process.kill()
            process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
        decoded, names = decoded_frames(folder)
        assert names == ["rec.partial.mp4"]  # under its partial name: a killed run is not finished
        losses.append(handed(folder / "trace.txt") - decoded)
    # A fragment per quarter second plus the encoder's look-ahead: at most a second (30 frames);
    # PyAV's default 256 KiB buffer lost 47 to 161 frames per kill, often the whole file.
    assert max(losses) <= 30, losses


# -- 4: a damaged input ---------------------------------------------------------------------------
def test_a_damaged_middle_is_skipped_and_reported(tmp_path, caplog):
    clip = make_clip(tmp_path / "clip.mp4", frames=150)
    data = bytearray(clip.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4096] = random.Random(4).randbytes(4096)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    settings = Settings().replace(input=str(damaged), mode="passthrough", outputs=(str(out),), live=False)
    caplog.set_level("WARNING")
    with Engine(settings) as engine:
        assert engine.wait(120)
    stats = engine.stats()
    assert stats.frames_out >= 140, stats.frames_out  # today: the run ended at the damage (67)
    assert len(read_video(out)) == stats.frames_out
    assert "damaged.mp4 is damaged at" in caplog.text
    assert "damaged packet(s) were skipped" in caplog.text
    assert any("damaged packet" in note for note in stats.notes)


# -- 5: the picture changes size mid-stream -------------------------------------------------------
def test_frames_of_another_size_are_scaled_into_the_recording_and_said_once(tmp_path, caplog):
    out = tmp_path / "sizes.mp4"
    recorder = VideoRecorder(out, OutputFormat(size=(96, 64), fps=25, live=False))
    small = np.zeros((64, 96, 3), np.uint8)
    large = np.zeros((128, 192, 3), np.uint8)
    large[:, 96:] = 255  # the right half white: a crop of the top-left corner would lose it
    caplog.set_level("WARNING")
    for index, image in enumerate([small] * 5 + [large] * 5):
        recorder.write(Frame(index=index, image=image, capture_ns=index))
    recorder.close()
    decoded = read_video(out)
    assert len(decoded) == 10
    assert all(frame.shape == (64, 96, 3) for frame in decoded)
    assert decoded[-1][:, 60:].mean() > 200 and decoded[-1][:, :36].mean() < 40
    assert caplog.text.count("scaled to fit") == 1


# -- 6: two runs, one path ------------------------------------------------------------------------
def test_a_second_run_writing_the_same_path_is_refused(tmp_path):
    out = tmp_path / "rec.mp4"
    first = facecam(tmp_path, "--output", str(out), "--json", trace=True)
    try:
        wait_for(lambda: handed(tmp_path / "trace.txt") >= 20, first)
        second = subprocess.run([sys.executable, "-m", "realtime.cli", "run", "--input", "demo",
                                 "--max-frames", "5", "--mode", "passthrough", "--output", str(out)],
                                capture_output=True, text=True, timeout=120, cwd=tmp_path,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)))
        first.send_signal(signal.SIGTERM)
        stdout, stderr = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert second.returncode == 2, second.stderr
    assert second.stderr.strip().splitlines()[-1].startswith("facecam: error: another facecam run is writing")
    assert first.returncode == 130, stderr
    assert len(read_video(out)) == json.loads(stdout)["frames_out"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".mp4") == ["rec.mp4"]


def test_a_partial_file_left_by_a_killed_run_is_kept(tmp_path, caplog):
    leftover = tmp_path / "rec.partial.mp4"
    leftover.write_bytes(b"what a killed run wrote")
    out = tmp_path / "rec.mp4"
    caplog.set_level("WARNING")
    recorder = VideoRecorder(out, OutputFormat(size=(64, 48), fps=25, live=False))
    recorder.write(Frame(index=0, image=np.zeros((48, 64, 3), np.uint8), capture_ns=0))
    recorder.close()
    assert (tmp_path / "rec-recovered.mp4").read_bytes() == b"what a killed run wrote"
    assert "kept as" in caplog.text
    assert len(read_video(out)) == 1 and not leftover.exists()


# -- 7: an engine started again -------------------------------------------------------------------
def test_a_restarted_engine_records_again_without_replacing_its_first_file(tmp_path):
    out = tmp_path / "rec.mp4"
    images = [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(12)]
    settings = Settings().replace(mode="passthrough", outputs=(str(out),), live=False)
    source = ListSource(images)
    engine = Engine(settings, source=source)
    engine.start()
    assert engine.wait(60)
    engine.stop()
    source._index = 0  # the same source, from the start again
    engine.start()
    assert engine.wait(60)  # this run ends by itself and is never stopped...
    source._index = 0
    engine.start()  # ...so starting again finishes it first
    assert engine.wait(60)
    engine.stop()
    assert engine.written == [out, tmp_path / "rec-2.mp4", tmp_path / "rec-3.mp4"]
    assert [len(read_video(path)) for path in engine.written] == [12, 12, 12]


# -- a full disk: --json still reports, the unfinished file is kept but not signed ----------------
def test_a_full_disk_still_reports_what_the_file_holds(tmp_path):
    import resource

    def small_files():  # writes past 300 KB fail with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))

    out = tmp_path / "full.mp4"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("DISPLAY", None)
    result = subprocess.run(
        [sys.executable, "-m", "realtime.cli", "run", "--input", "demo", "--loop", "--size", "320x180",
         "--mode", "passthrough", "--no-live", "--max-frames", "2000", "-o", str(out), "--json"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env, preexec_fn=small_files)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("facecam: error: cannot ")
    report = json.loads(result.stdout)
    assert "error" in report and report["files"][0]["complete"] is False
    assert report["files"][0]["frames"] is None and report["files"][0]["frames_handed"] > 30
    assert "gets no C2PA manifest" in result.stderr
    decoded, names = decoded_frames(tmp_path)  # up to the cut-off fragment
    assert names == ["full.mp4"] and 0 < decoded <= report["files"][0]["frames_handed"]
