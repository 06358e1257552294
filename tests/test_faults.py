"""Faults a user would otherwise see: a stage that throws, an output that throws, a face the
detector misses. The run goes on, errors are counted and said once, the real face never flashes."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from realtime import Engine, Settings
from realtime.capture.demo import DemoSource
from realtime.faces.mediapipe_mesh import MediaPipeFaceMesh
from realtime.faces.tracking import FaceTracker
from realtime.frame import Face
from realtime.metrics import Metrics
from realtime.output.null import NullOutput
from realtime.pipeline import Pipeline, SettingsBox
from realtime.settings import CaptureSettings, FaceSettings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import ListSource, unaltered


class Collect(NullOutput):
    def __init__(self, name="collect", fail_every=0):
        super().__init__()
        self.name = name
        self.fail_every = fail_every
        self.kept = []

    def write(self, frame):
        if self.fail_every and frame.index % self.fail_every == 0:
            raise OSError(f"{self.name} hiccup on {frame.index}")
        self.kept.append(frame)


def demo_frames(count, size=(480, 270), step=3):
    demo = DemoSource(CaptureSettings(size=size))
    return [demo.frame(index * step) for index in range(count)]


class Raising:
    """A stage raising a different kind of error on every 10th frame."""

    def __init__(self, name, kinds=(ValueError,)):
        self.name = name
        self.kinds = kinds
        self.calls = 0

    def configure(self, settings):
        pass

    def process(self, frame):
        self.calls += 1
        if frame.index % 10 == 9:
            raise self.kinds[(frame.index // 10) % len(self.kinds)](f"injected on {frame.index}")
        return frame

    def close(self):
        pass


class Sink:
    name = "output"

    def __init__(self):
        self.frames = []

    def configure(self, settings):
        pass

    def process(self, frame):
        self.frames.append(frame)
        return frame

    def close(self):
        pass


@pytest.mark.parametrize("live", [False, True])
def test_a_stage_raising_every_10th_frame_keeps_the_run_going(live, caplog):
    images = [np.full((24, 32, 3), i % 256, dtype=np.uint8) for i in range(100)]
    metrics = Metrics()
    sink = Sink()
    stage = Raising("swap", kinds=(ValueError, KeyError))
    failures: list[BaseException] = []
    pipeline = Pipeline(ListSource(images, fps=200), [stage, sink], SettingsBox(Settings()), metrics,
                        live=live, on_failure=failures.append)
    with caplog.at_level(logging.WARNING):
        pipeline.start()
        assert pipeline.join(30)
    stats = metrics.snapshot()
    assert failures == []
    failed = sum(1 for f in sink.frames if f.errors)
    if live:  # frames may be dropped before the stage; every one it saw fail is counted
        assert sum(stats.errors.values()) > 0 and failed <= sum(stats.errors.values())
        assert set(stats.errors) <= {"swap: ValueError", "swap: KeyError"}
        assert stats.frames_out + stats.dropped == 100
    else:
        assert len(sink.frames) == 100 and failed == 10
        assert stats.errors == {"swap: ValueError": 5, "swap: KeyError": 5}
    # Said once per kind, counted after that.
    warnings = [r.message for r in caplog.records if "swap failed" in r.message]
    assert len(warnings) == len(stats.errors)


def test_engine_keeps_swapping_when_the_swapper_throws_every_10th_frame(monkeypatch, caplog):
    calls = {"n": 0}
    real_swap = MeshSwapper.swap

    def flaky_swap(self, frame, faces):
        calls["n"] += 1
        if calls["n"] % 10 == 0:
            raise RuntimeError("GPU hiccup")
        return real_swap(self, frame, faces)

    monkeypatch.setattr(MeshSwapper, "swap", flaky_swap)
    images = demo_frames(30)
    collect = Collect()
    broken = Collect("broken-output", fail_every=7)
    settings = Settings().replace(outputs=("null",), live=False, label=False)
    with caplog.at_level(logging.WARNING), \
            Engine(settings, source=ListSource(images), outputs=[broken, collect]) as engine:
        assert engine.wait(120)
    stats = engine.stats()
    assert engine.failure is None
    assert len(collect.kept) == 30  # one broken output never starves the others
    assert stats.errors["swap: RuntimeError"] == 3
    assert stats.errors["output broken-output: OSError"] == 5  # frames 0, 7, 14, 21, 28
    assert sum("GPU hiccup" in r.message for r in caplog.records) == 1
    swapped = [not np.array_equal(f.result, f.image) for f in collect.kept]
    assert sum(swapped) >= 25


# -- lost faces ------------------------------------------------------------------------------
def face_at(x, y, size=60):
    points = np.zeros((478, 3), dtype=np.float32)
    points[:, 0] = np.linspace(x, x + size, 478)
    points[:, 1] = np.linspace(y, y + size, 478)
    return Face(landmarks=points, box=(x, y, x + size + 1, y + size + 1))


@pytest.mark.parametrize("lost_face", ["passthrough", "hold", "blur"])
def test_a_lost_face_is_held_then_falls_back(lost_face):
    tracker = FaceTracker(FaceSettings(hold_frames=3, smoothing=0.0, lost_face=lost_face))
    assert len(tracker.update([face_at(100, 100)], 0.0, 640, 480)) == 1
    held = [tracker.update([], (i + 1) / 30, 640, 480) for i in range(6)]
    assert [faces[0].held for faces in held[:3]] == [1, 2, 3]  # never a frame without the face
    if lost_face == "passthrough":
        assert held[3:] == [[], [], []]
    else:
        assert [faces[0].held for faces in held[3:]] == [4, 5, 6]
        assert held[5][0].box == held[0][0].box  # the last geometry
    # A face found again (elsewhere) ends the fallback: only the new one remains.
    again = tracker.update([face_at(400, 300)], 1.0, 640, 480)
    assert len(again) == 1 and again[0].held == 0 and again[0].box[0] == 400


class MissingDetections:
    """Wraps MediaPipe: from frame `start` on, the detector 'misses' every face."""

    def __init__(self, monkeypatch, start: int) -> None:
        self.calls = 0
        real = MediaPipeFaceMesh.detect

        def detect(mesh, image):
            if image.shape[:2] != (270, 480):  # the source photo, not a frame
                return real(mesh, image)
            self.calls += 1
            return [] if self.calls > start else real(mesh, image)

        monkeypatch.setattr(MediaPipeFaceMesh, "detect", detect)


def run_with_lost_face(monkeypatch, lost_face, frames=10, start=4, hold=2):
    MissingDetections(monkeypatch, start)
    images = demo_frames(frames, step=1)
    collect = Collect()
    settings = Settings().replace(outputs=("null",), live=False, label=False, hold_frames=hold,
                                  lost_face=lost_face)
    with Engine(settings, source=ListSource(images), outputs=[collect]) as engine:
        assert engine.wait(120)
    return images, collect.kept


def changed_in_box(frame, box):
    x0, y0, x1, y1 = box
    diff = np.abs(frame.result.astype(int) - frame.image.astype(int)).sum(axis=2)
    return float((diff[y0:y1, x0:x1] > 10).mean())


def test_a_missed_detection_never_shows_the_real_face(monkeypatch):
    images, kept = run_with_lost_face(monkeypatch, "passthrough", frames=8, start=4, hold=2)
    box = kept[3].faces[0].box
    # Frames 4 and 5: detection failed, the held geometry is still swapped.
    assert all(changed_in_box(kept[i], box) > 0.3 for i in (4, 5))
    assert kept[5].faces[0].held == 2
    # Passthrough after the hold: the real picture.
    assert unaltered(kept[7].result, kept[7].image)


def test_blur_fallback_hides_where_the_face_was(monkeypatch):
    images, kept = run_with_lost_face(monkeypatch, "blur", frames=8, start=4, hold=2)
    late = kept[7]
    assert late.faces and late.faces[0].held == 4
    x0, y0, x1, y1 = late.faces[0].box
    detail_before = np.abs(np.diff(late.image[y0:y1, x0:x1].astype(int), axis=1)).mean()
    detail_after = np.abs(np.diff(late.result[y0:y1, x0:x1].astype(int), axis=1)).mean()
    assert detail_after < 0.3 * detail_before  # nothing recognisable left
    far = late.result[:, : max(1, x0 - 80)]
    assert unaltered(far, late.image[:, : max(1, x0 - 80)])  # the rest untouched


def test_live_mode_keeps_running_with_faults(monkeypatch):
    calls = {"n": 0}
    real_swap = MeshSwapper.swap

    def flaky_swap(self, frame, faces):
        calls["n"] += 1
        if calls["n"] % 10 == 0:
            raise RuntimeError("boom")
        return real_swap(self, frame, faces)

    monkeypatch.setattr(MeshSwapper, "swap", flaky_swap)
    source = ListSource(demo_frames(1) * 2000, fps=30)
    engine = Engine(Settings().replace(outputs=("null",), live=True), source=source).start()
    try:
        time.sleep(2.5)
        assert engine.running and engine.failure is None
        stats = engine.stats()
        assert stats.frames_out > 20
        assert stats.errors.get("swap: RuntimeError", 0) >= 1
    finally:
        engine.stop()
