"""Cameras: unplug and replug, busy devices, cameras slower than asked."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from realtime.capture import Captured
from realtime.capture import camera as camera_module
from realtime.capture.camera import CameraSource, busy_message, processes_using
from realtime.capture.reconnect import ReconnectingSource
from realtime.errors import InputError
from realtime.metrics import Metrics
from realtime.pipeline import Pipeline, SettingsBox
from realtime.settings import CaptureSettings, Settings


class FakeCamera:
    """A live source that delivers `frames` pictures of grey level `level`, then is 'unplugged'."""

    live = True
    frame_count = None

    def __init__(self, frames: int, size=(64, 48), level: int = 100, fps: float = 50.0) -> None:
        self.name = "camera 7"
        self.size = size
        self.fps = fps
        self.level = level
        self.left = frames
        self.closed = False

    def read(self):
        if self.left <= 0:
            return None
        self.left -= 1
        time.sleep(1.0 / self.fps)
        return Captured(np.full((self.size[1], self.size[0], 3), self.level, dtype=np.uint8))

    def close(self):
        self.closed = True


class Replug:
    """Reopen: 'not found' for the first `failures` tries, then a camera (here at another size)."""

    def __init__(self, failures: int, frames: int = 10_000) -> None:
        self.failures = failures
        self.frames = frames
        self.tries: list[float] = []

    def __call__(self):
        self.tries.append(time.monotonic())
        if len(self.tries) <= self.failures:
            raise InputError("camera 7 not found")
        return FakeCamera(self.frames, size=(128, 96), level=200)


def test_an_unplugged_camera_gives_placeholders_then_comes_back():
    first = FakeCamera(5)
    replug = Replug(failures=2)
    source = ReconnectingSource(first, replug, backoff_s=(0.05, 0.1, 0.2))
    seen: list[Captured] = []
    times: list[float] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen.append(source.read())
        times.append(time.monotonic())
        if seen[-1].image[0, 0, 0] == 200 and len([c for c in seen if c.image[0, 0, 0] == 200]) >= 5:
            break
    source.close()
    kinds = ["real" if not c.placeholder else "placeholder" for c in seen]
    assert kinds[:5] == ["real"] * 5
    outage = [i for i, kind in enumerate(kinds) if kind == "placeholder"]
    assert outage and outage == list(range(5, outage[-1] + 1))  # one unbroken outage, then back
    assert all(kind == "real" for kind in kinds[outage[-1] + 1:])
    assert first.closed and source.reconnects == 1 and len(replug.tries) == 3
    # Back-off: each try waits longer than the one before.
    gaps = np.diff(replug.tries)
    assert gaps[1] > gaps[0] * 1.5
    # Placeholders keep the camera's rate (50 fps), the last real picture darkened, same size.
    placeholder_gaps = np.diff([times[i] for i in outage])
    assert 0.010 < float(np.median(placeholder_gaps)) < 0.040
    assert all(seen[i].image.shape == (48, 64, 3) for i in range(len(seen)))
    assert 0 < int(np.median(seen[outage[0]].image)) < 100
    assert source.note is None


def test_a_camera_that_never_comes_back_keeps_the_output_alive():
    source = ReconnectingSource(FakeCamera(1), Replug(failures=10**6), backoff_s=(0.02, 0.05))
    start = time.monotonic()
    frames = [source.read() for _ in range(30)]
    elapsed = time.monotonic() - start
    assert all(c.placeholder for c in frames[1:])
    assert 0.4 < elapsed < 1.5  # 29 placeholders at 50 fps: steady, never a burst or a stall
    assert "reconnecting" in source.note


class CountingStage:
    def __init__(self, name):
        self.name = name
        self.processed = 0
        self.frames = []

    def configure(self, settings):
        pass

    def process(self, frame):
        self.processed += 1
        self.frames.append(frame)
        return frame

    def close(self):
        pass


def test_the_pipeline_survives_an_unplug_without_face_work_on_placeholders():
    source = ReconnectingSource(FakeCamera(10), Replug(failures=3, frames=10),
                                backoff_s=(0.05, 0.1, 0.1))
    detect, sink = CountingStage("detect"), CountingStage("output")
    metrics = Metrics()
    notes: list[tuple[str, ...]] = []
    failures: list[BaseException] = []
    pipeline = Pipeline(source, [detect, sink], SettingsBox(Settings()), metrics, live=True,
                        max_frames=60, on_failure=failures.append)
    pipeline.start()
    while not pipeline.finished:
        notes.append(metrics.snapshot().notes)
        time.sleep(0.02)
    assert pipeline.join(10)
    stats = metrics.snapshot()
    placeholders = [f for f in sink.frames if f.placeholder]
    assert stats.frames_in == 60 and placeholders and len(placeholders) < 60
    assert detect.processed == sink.processed - len(placeholders)  # made-up frames skip detection
    assert any(any("reconnecting" in n for n in ns) for ns in notes)
    assert stats.errors == {} and failures == []


def test_processes_holding_a_file_are_named(tmp_path):
    import os

    path = tmp_path / "video9"
    with open(path, "wb"):
        users = processes_using(str(path))
    assert os.getpid() in [pid for pid, _ in users]


def test_busy_camera_names_the_device_and_the_program(monkeypatch):
    monkeypatch.setattr(camera_module, "processes_using", lambda path: [(4242, "zoom")])
    message = busy_message(3)
    assert "/dev/video3" in message and "zoom (pid 4242)" in message and "\n" not in message


class FakeCapture:
    """Stands in for cv2.VideoCapture."""

    opened = True
    delay = 0.0

    def __init__(self, *args):
        pass

    def isOpened(self):
        return FakeCapture.opened

    def set(self, *args):
        return True

    def get(self, prop):
        return 30.0

    def read(self):
        time.sleep(FakeCapture.delay)
        return True, np.zeros((48, 64, 3), dtype=np.uint8)

    def release(self):
        pass


@pytest.fixture
def fake_capture(monkeypatch):
    monkeypatch.setattr(camera_module, "camera_available", lambda index: True)
    monkeypatch.setattr(camera_module.cv2, "VideoCapture", FakeCapture)
    monkeypatch.setattr(camera_module.os, "access", lambda *a: True)
    monkeypatch.setattr(camera_module, "processes_using", lambda path: [(4242, "obs")])
    FakeCapture.opened, FakeCapture.delay = True, 0.0
    return FakeCapture


def test_a_busy_camera_is_a_clear_error(fake_capture):
    fake_capture.opened = False
    with pytest.raises(InputError, match=r"camera 2 \(/dev/video2\) is busy: in use by obs \(pid 4242\)"):
        CameraSource(2, CaptureSettings())


def test_a_camera_slower_than_asked_is_measured_and_reported(fake_capture, caplog):
    fake_capture.delay = 0.1  # 10 fps
    camera = CameraSource(0, CaptureSettings(fps=30))
    camera._opened_at -= 10  # past the settling time
    with caplog.at_level(logging.WARNING):
        for _ in range(8):
            camera.read()
    assert 7 < camera.measured_fps < 11
    assert camera.note and "asked for 30" in camera.note
    assert sum("delivers" in r.message for r in caplog.records) == 1


def test_cameras_reconnect_unless_asked_not_to(fake_capture):
    from realtime.capture.camera import open_camera

    assert isinstance(open_camera(0, CaptureSettings()), ReconnectingSource)
    assert isinstance(open_camera(0, CaptureSettings(reconnect=False)), CameraSource)
