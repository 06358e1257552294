"""Engine behaviour a user notices: live changes, bounded latency, clean stop."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from realtime import Engine, Settings
from realtime.capture.demo import DemoSource
from realtime.errors import NoFaceError
from realtime.settings import CaptureSettings
from tests.conftest import MARK_LEVELS, Collect, ListSource, psnr


def demo_frames(count, size=(640, 360)):
    demo = DemoSource(CaptureSettings(size=size))
    return [demo.frame(index * 5) for index in range(count)]


def test_swap_changes_the_face_and_nothing_far_from_it():
    images = demo_frames(3)
    collect = Collect()
    settings = Settings().replace(outputs=("null",), label=False)
    with Engine(settings, source=ListSource(images), outputs=[collect]) as engine:
        engine.wait(60)
    assert len(collect.kept) == 3
    for frame, original in zip(collect.kept, images, strict=True):
        assert frame.faces, "the demo face must be found"
        x0, y0, x1, y1 = frame.faces[0].box
        # The invisible provenance mark (always on) moves every pixel by a few levels at most.
        changed = np.abs(frame.output.astype(int) - original.astype(int)).max(axis=2) > MARK_LEVELS
        assert changed[y0:y1, x0:x1].mean() > 0.3
        outside = changed.copy()
        outside[max(0, y0 - 2):y1 + 2, max(0, x0 - 2):x1 + 2] = False  # the layer box has a 1-px margin
        assert not outside.any()


def test_passthrough_returns_the_input_unchanged():
    images = demo_frames(2)
    collect = Collect()
    settings = Settings().replace(outputs=("null",), mode="passthrough", label=False)
    with Engine(settings, source=ListSource(images), outputs=[collect]) as engine:
        engine.wait(60)
    for frame, original in zip(collect.kept, images, strict=True):
        # unchanged but for the invisible provenance mark (always on): a few levels, >= 40 dB
        assert np.abs(frame.output.astype(int) - original.astype(int)).max() <= MARK_LEVELS
        assert psnr(frame.output, original) >= 40


def test_update_applies_on_the_next_frame_without_restarting_capture():
    images = demo_frames(1) * 400
    collect = Collect()
    source = ListSource(images, fps=30)
    settings = Settings().replace(outputs=("null",), live=True, mode="passthrough")
    engine = Engine(settings, source=source, outputs=[collect]).start()
    try:
        deadline = time.monotonic() + 20
        while len(collect.kept) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        engine.update(mode="swap", opacity=0.5)
        marker = len(collect.kept)
        deadline = time.monotonic() + 20
        while len(collect.kept) < marker + 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        late = collect.kept[-1]
        assert late.stamps.get("swap") is not None
        assert not np.array_equal(late.output, late.image)
        assert source.closed is False
    finally:
        engine.stop()
    assert source._index < 400  # still the same capture, stopped early


def test_a_bad_source_photo_is_refused_and_the_old_one_kept(tmp_path):
    plain = tmp_path / "plain.png"
    import cv2

    cv2.imwrite(str(plain), np.full((100, 100, 3), 90, dtype=np.uint8))
    engine = Engine(Settings().replace(outputs=("null",)), source=ListSource(demo_frames(1)))
    with pytest.raises(NoFaceError, match="no face found"):
        engine.update(source=str(plain))
    assert engine.settings.source is None


def test_stop_ends_every_thread():
    before = {t.ident for t in threading.enumerate()}
    source = ListSource(demo_frames(1) * 10000, live=False)
    engine = Engine(Settings().replace(outputs=("null",), live=True), source=source).start()
    time.sleep(0.5)
    engine.stop()
    alive = [t for t in engine.threads if t.is_alive()]
    assert not alive
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.name.startswith("facecam")]
    assert not leftover


def test_a_ctrl_c_while_the_engine_starts_stops_every_thread():
    from tests.test_pipeline import ctrl_c_after_the_second_thread_starts

    source = ListSource(demo_frames(1) * 10000, live=False)
    engine = Engine(Settings().replace(outputs=("null",), live=True), source=source)
    with ctrl_c_after_the_second_thread_starts(), pytest.raises(KeyboardInterrupt):
        engine.start()
    assert not [t for t in engine.threads if t.is_alive()], "stages kept running after Ctrl-C"
