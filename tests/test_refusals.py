"""Nothing crashes, nothing silent (issue 19, items 8-10 and 16-18): settings that cannot work are
refused with one line and change nothing; outputs say what they do; a run that does less than
asked says so once."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest

from realtime import Engine, Settings
from realtime.errors import FacecamError, OutputError, SettingsError
from realtime.frame import Frame
from realtime.output import OutputFormat
from realtime.output.recorder import VideoRecorder
from tests.conftest import ROOT, ListSource, media, read_video, run_cli


def frames(count=6, size=(64, 48)):
    return [np.full((size[1], size[0], 3), 20 * i, np.uint8) for i in range(count)]


class Camera(ListSource):
    """Endless, at about 30 FPS, like a camera."""

    def read(self):
        import time

        time.sleep(1 / 30)
        self._index %= len(self.images)
        return super().read()


# -- 8: a window with no display ------------------------------------------------------------------
def test_a_window_with_no_display_is_one_line_exit_2():
    result = run_cli("run", "--input", "demo", "--max-frames", "3", "--mode", "passthrough", "-o", "window",
                     env={"DISPLAY": ":93"})  # no X server on :93
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("facecam: error: no display for a preview window")


# -- 9: Engine.update refuses what cannot load ----------------------------------------------------
def test_update_refuses_a_swapper_that_cannot_load_and_the_engine_keeps_running(tmp_path):
    images = frames(10)
    settings = Settings().replace(mode="swap", outputs=("null",), live=True, models_dir=str(tmp_path))
    engine = Engine(settings, source=Camera(images, fps=30, live=True))
    engine.start()
    try:
        with pytest.raises(SettingsError, match="unknown swapper"):
            engine.update(swapper="nope")
        with pytest.raises(FacecamError):  # no weights in models_dir
            engine.update(swapper="inswapper")
        assert engine.settings.swap.swapper == "mesh"
        with pytest.raises(FacecamError):
            engine.update(mode="animate", animator="liveportrait")
        assert engine.settings.mode == "swap"
        out_before = engine.stats().frames_out
        engine.wait(1.0)
        assert engine.running and engine.failure is None
        assert engine.stats().frames_out > out_before
    finally:
        engine.stop()
    assert engine.failure is None


# -- 10: limits hold everywhere -------------------------------------------------------------------
@pytest.mark.parametrize("toml", [
    "[capture]\nsize = [0, 0]", "[capture]\nsize = [-640, 480]", "[capture]\nsize = [640.5, 480]",
    "[capture]\nsize = [100000, 480]", "[animate]\nportrait_size = [0, 0]",
    "[animate]\nportrait_size = [60000, 60000]",
    "[swap]\nface_position = [nan, 0.5]", "[swap]\nface_position = [1.5, 0.5]",
    "[output]\nvcam_size = [-2, 480]", '[provenance]\nlabel_text = ""',
])
def test_settings_files_beyond_the_limits_are_refused(tmp_path, toml):
    path = tmp_path / "bad.toml"
    path.write_text(toml + "\n")
    with pytest.raises(SettingsError):
        Settings.load(path)


def test_a_huge_portrait_in_a_settings_file_is_one_line_exit_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("mode = \"animate\"\n[animate]\nportrait_size = [60000, 60000]\n")
    result = run_cli("run", "--config", str(path), "--input", "demo", "--max-frames", "2", "-o", "null")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"facecam: error: {path}: animate.portrait_size 60000x60000 is out of range (16..8192 per side)"]


def test_a_run_with_no_output_is_refused(tmp_path):
    path = tmp_path / "none.toml"
    path.write_text("[output]\noutputs = []\n")
    result = run_cli("run", "--config", str(path), "--input", "demo", "--max-frames", "2")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("facecam: error: output.outputs is empty")


def test_update_holds_the_same_limits():
    engine = Engine(Settings().replace(mode="passthrough", outputs=("null",), live=False),
                    source=ListSource(frames(3)))
    for change in ({"size": (0, 0)}, {"portrait_size": (60000, 60000)},
                   {"face_position": (float("nan"), 0.5)}, {"label_text": " "}):
        with pytest.raises(SettingsError):
            engine.update(**change)
    assert engine.settings == Settings().replace(mode="passthrough", outputs=("null",), live=False)


# -- 16: outputs ----------------------------------------------------------------------------------
def test_a_picture_output_for_a_video_is_refused_or_numbered(tmp_path):
    settings = Settings().replace(mode="passthrough", outputs=(str(tmp_path / "x.png"),), live=False)
    with pytest.raises(OutputError, match=r"only the last of many frames.*x-%05d\.png"):
        Engine(settings, source=ListSource(frames(5))).start()
    assert not list(tmp_path.iterdir())
    settings = settings.replace(outputs=(str(tmp_path / "x-%03d.png"),))
    with Engine(settings, source=ListSource(frames(5))) as engine:
        assert engine.wait(60)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"x-{i:03d}.png" for i in range(1, 6)]
    assert cv2.imread(str(tmp_path / "x-005.png")).shape == (48, 64, 3)


def test_a_picture_input_with_no_output_named_never_replaces_the_demo_video(tmp_path):
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.full((48, 64, 3), 90, np.uint8))
    (tmp_path / "out").mkdir()
    demo = tmp_path / "out" / "facecam-demo.mp4"
    demo.write_bytes(b"an earlier recording")
    (tmp_path / "out" / "facecam-demo.png").write_bytes(b"an earlier picture")
    result = run_cli("run", "--input", str(photo), "--mode", "passthrough", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert demo.read_bytes() == b"an earlier recording"
    assert (tmp_path / "out" / "facecam-demo.png").read_bytes() == b"an earlier picture"
    assert cv2.imread(str(tmp_path / "out" / "facecam-demo-2.png")).shape == (48, 64, 3)


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        settings = Settings().replace(mode="passthrough", outputs=(str(tmp_path / "x.mp4"),), live=False)
        with Engine(settings, source=ListSource(frames(4))) as engine:
            assert engine.wait(60)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.mp4").stat().st_mode) == 0o644


def test_a_size_beyond_h264_levels_is_scaled_and_said(tmp_path, caplog):
    from realtime.output.recorder import H264_MAX_MACROBLOCKS, codec_size

    assert codec_size(8000, 8000, "libx264")[0] < 8000
    width, height = codec_size(8000, 8000, "libx264")
    assert -(-width // 16) * -(-height // 16) <= H264_MAX_MACROBLOCKS
    assert codec_size(1920, 1080, "libx264") == (1920, 1080)
    caplog.set_level("WARNING")
    out = tmp_path / "huge.mp4"
    recorder = VideoRecorder(out, OutputFormat(size=(6000, 6000), fps=25, live=False))
    recorder.write(Frame(index=0, image=np.full((6000, 6000, 3), 128, np.uint8), capture_ns=0))
    recorder.close()
    decoded = read_video(out)
    assert decoded[0].shape[0] < 6000 and -(-decoded[0].shape[1] // 16) * -(-decoded[0].shape[0] // 16) \
        <= H264_MAX_MACROBLOCKS
    assert "beyond what H.264 can hold" in caplog.text


def test_the_crf_setting_reaches_the_encoder(tmp_path):
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(5)]
    sizes = {}
    for crf in (10, 40):
        out = tmp_path / f"crf{crf}.mp4"
        settings = Settings().replace(mode="passthrough", outputs=(str(out),), live=False, crf=crf)
        with Engine(settings, source=ListSource(images)) as engine:
            assert engine.wait(60)
        sizes[crf] = out.stat().st_size
    assert sizes[10] > 2 * sizes[40]


# -- 17: one warning for what does nothing --------------------------------------------------------
def test_options_that_do_nothing_and_a_grey_tiny_source_get_one_line_each(tmp_path, caplog):
    grey = cv2.cvtColor(cv2.imread(str(media("s0.jpg"))), cv2.COLOR_BGR2GRAY)
    photo = tmp_path / "grey.png"
    cv2.imwrite(str(photo), cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
    settings = Settings().replace(mode="swap", source=str(photo), side_by_side=True, device="cuda",
                                  outputs=("null",), live=False)
    caplog.set_level("WARNING")
    with Engine(settings, source=ListSource(frames(2))) as engine:
        engine.wait(60)
    assert "side_by_side only apply in animate mode" in caplog.text
    assert "device cuda applies to neural models" in caplog.text
    assert "is greyscale" in caplog.text
    assert caplog.text.count("greyscale") == 1  # one line, not one per stage that noticed
    caplog.clear()
    settings = Settings().replace(mode="animate", mouth_mask=True, outputs=("null",), live=False)
    with Engine(settings, source=ListSource(frames(2, size=(20, 20)))) as engine:
        engine.wait(60)
    assert "mouth_mask only apply in swap mode" in caplog.text
    assert "the input is only 20x20" in caplog.text


def test_no_face_in_any_frame_is_said_at_the_end(tmp_path):
    out = tmp_path / "noface.mp4"
    clip = tmp_path / "clip.mp4"
    recorder = VideoRecorder(clip, OutputFormat(size=(96, 64), fps=10, live=False))
    for index, image in enumerate(frames(4, size=(96, 64))):
        recorder.write(Frame(index=index, image=image, capture_ns=index))
    recorder.close()
    result = run_cli("run", "--input", str(clip), "-o", str(out), "--fps", "25")
    assert result.returncode == 0, result.stderr
    assert "no face was found in any of the 4 frames" in result.stderr
    assert "fps applies to cameras; clip.mp4 keeps its own rate" in result.stderr
    # 18: a file run's summary says what its time measures.
    assert "end-to-end latency" not in result.stderr and "queueing" in result.stderr


# -- 18: feedback ---------------------------------------------------------------------------------
def test_a_closed_pipe_ends_quietly(tmp_path):
    # `true` reads nothing and exits at once: facecam's first line meets a closed pipe.
    result = subprocess.run(f"{sys.executable} -m realtime.cli models list | true; echo $"
                            "{PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True,
                            text=True, cwd=ROOT, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.stderr == "" and result.stdout.strip() == "141", result


def test_log_lines_of_other_threads_survive_mediapipe_start_up(tmp_path):
    code = """
import argparse, logging, threading
from realtime import cli
from realtime.faces.mediapipe_mesh import _native_stderr_silenced
cli._configure_logging(argparse.Namespace(quiet=False, debug=False, verbose=False))
with _native_stderr_silenced():
    t = threading.Thread(target=lambda: logging.getLogger("facecam").warning("running: visible"))
    t.start(); t.join()
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert "facecam: running: visible" in result.stderr, result.stderr


def test_a_second_interrupt_in_an_embedded_engine_waits_for_the_file(tmp_path):
    """Engine.stop holds a KeyboardInterrupt that arrives while it finishes the recording."""
    out = tmp_path / "x.mp4"
    settings = Settings().replace(mode="passthrough", outputs=(str(out),), live=False)
    engine = Engine(settings, source=ListSource(frames(30)))
    engine.start()
    assert engine.wait(60)
    assert threading.current_thread() is threading.main_thread()
    timer = threading.Timer(0.0, lambda: signal.raise_signal(signal.SIGINT))
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    original_close = VideoRecorder.close

    def slow_close(self):  # the interrupt lands in the middle of finishing
        timer.start()
        timer.join()
        for _ in range(100):
            pass
        original_close(self)

    VideoRecorder.close = slow_close
    try:
        with pytest.raises(KeyboardInterrupt):
            engine.stop()
    finally:
        VideoRecorder.close = original_close
        signal.signal(signal.SIGINT, previous)
    assert len(read_video(out)) == 30
