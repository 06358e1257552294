"""Provenance on the engine's outputs: the visible label, the mark on every frame, C2PA on files."""

from __future__ import annotations

import numpy as np
import pytest

from realtime.engine import Engine
from realtime.provenance import Provenance
from realtime.provenance import watermark as wm
from realtime.provenance.label import Label
from realtime.settings import Settings
from tests.conftest import ListSource, read_video
from tests.test_watermark import webcam_scene


def _changed(a: np.ndarray, b: np.ndarray, threshold: int = 12) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int)).max(axis=2) > threshold


def test_label_sits_in_its_corner_and_nowhere_else():
    picture = np.full((720, 1280, 3), 128, np.uint8)
    labelled = Label().apply(picture)
    assert np.array_equal(picture, np.full((720, 1280, 3), 128, np.uint8))  # input untouched
    changed = _changed(labelled, picture)
    ys, xs = np.nonzero(changed)
    assert changed.sum() > 500  # visible: a plate with text
    assert ys.min() > 600 and xs.min() > 1000  # bottom-right corner only
    top_left = _changed(Label(corner="top-left").apply(picture), picture)
    ys, xs = np.nonzero(top_left)
    assert ys.max() < 120 and xs.max() < 280


def test_label_is_readable_on_dark_and_bright_pictures():
    for level in (0, 255):
        picture = np.full((480, 640, 3), level, np.uint8)
        box = Label().apply(picture)[400:, 450:]
        # white text over a dark plate: both extremes are present whatever the background
        assert box.max() > 200 and box.min() < 150


def _run(images, mode: str = "swap", **changes):
    settings = Settings().replace(mode=mode, **changes)
    engine = Engine(settings, source=ListSource(images))
    engine.start()
    assert engine.wait(60)
    engine.stop()
    assert engine.failure is None
    return engine


def test_every_output_frame_carries_the_mark_and_the_label(tmp_path):
    images = [webcam_scene(move=3 * i) for i in range(20)]
    out = tmp_path / "out.mp4"
    engine = _run(images, outputs=(str(out),))
    frames = read_video(out)
    assert len(frames) == len(images)
    # Every 5th frame, skipping the first after a key switch (frame 15): on a picture this flat
    # that frame carries almost nothing (a flat area's one level is 0 there, so a wall never steps
    # by two levels); a clip is judged on its frames together.
    for frame in frames[0:15:5] + frames[16::5]:
        detection = wm.detect(frame)
        assert detection.found
        assert detection.payload == (wm.VERSION, engine.provenance.session)
    corner = _changed(frames[0], images[0])[420:, 500:]
    assert corner.sum() > 200  # the label is drawn


def test_no_label_leaves_the_corner_but_keeps_the_mark(tmp_path):
    images = [webcam_scene(move=3 * i) for i in range(10)]
    out = tmp_path / "out.mp4"
    _run(images, outputs=(str(out),), label=False)
    frames = read_video(out)
    # nothing drawn in the corner (a stray pixel or two is H.264 noise; the label is hundreds)
    assert _changed(frames[0], images[0])[420:, 500:].sum() < 10
    assert wm.detect(frames[0]).found


def test_label_can_be_switched_off_live():
    settings = Settings().replace(mode="swap")
    box = {"settings": settings}
    finish = Provenance(lambda: box["settings"], session=0x42)
    picture = webcam_scene()
    labelled = finish(picture)
    box["settings"] = settings.replace(label=False)
    plain = finish(picture)
    assert _changed(labelled, picture).sum() > 200
    assert _changed(plain, picture).sum() == 0
    assert wm.detect(plain).payload == (wm.VERSION, 0x42)


def test_recordings_carry_a_signed_c2pa_manifest(tmp_path):
    pytest.importorskip("c2pa")
    from realtime.provenance.c2pa_manifest import read_manifest

    out = tmp_path / "rec.mp4"
    engine = _run([webcam_scene(move=i) for i in range(15)], outputs=(str(out),))
    manifest = read_manifest(out)
    assert manifest is not None and manifest["facecam"] and manifest["composite"]
    assert manifest["session"] == f"{engine.provenance.session:04x}"
    # signed with a local key: the signature holds, the signer is (honestly) not trusted
    assert manifest["validation_state"] in ("Valid", "Trusted")
    assert len(read_video(out)) == 15  # still a playable video with every frame


def test_fallback_remux_keeps_every_frame(tmp_path):
    """Where the C2PA library refuses a fragmented MP4, a plain copy of the same packets is signed."""
    from realtime.provenance.c2pa_manifest import _remux_plain

    out = tmp_path / "rec.mp4"
    _run([webcam_scene(move=i) for i in range(12)], outputs=(str(out),))
    plain = tmp_path / "plain.mp4"
    _remux_plain(out, plain)
    before, after = read_video(out), read_video(plain)
    assert len(after) == len(before) == 12
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))  # no re-encoding


def test_pictures_with_alpha_are_marked_and_keep_their_alpha():
    settings = Settings().replace(label=False)
    picture = np.dstack([webcam_scene(), np.full((480, 640), 77, np.uint8)])
    finished = Provenance(lambda: settings, session=0x77)(picture)
    assert np.array_equal(finished[:, :, 3], picture[:, :, 3])
    assert wm.detect(finished[:, :, :3]).payload == (wm.VERSION, 0x77)


def test_passthrough_is_not_labelled_ai_altered_but_keeps_the_mark(tmp_path):
    """Issue 19 item 15: nothing altered the picture, so no "AI-altered"; the mark stays."""
    images = [webcam_scene(move=3 * i) for i in range(8)]
    out = tmp_path / "out.mp4"
    engine = _run(images, mode="passthrough", outputs=(str(out),))
    frames = read_video(out)
    assert len(frames) == len(images)
    assert _changed(frames[0], images[0])[420:, 500:].sum() < 10  # no label in the corner
    assert wm.detect(frames[0]).payload == (wm.VERSION, engine.provenance.session)


def test_frames_swapped_before_a_switch_to_passthrough_keep_the_label():
    from realtime.frame import Frame

    settings = Settings().replace(mode="passthrough")  # the mode has just changed...
    finish = Provenance(lambda: settings, session=0x42)
    picture = webcam_scene()
    swapped = Frame(0, picture, 0, stamps={"swap": (0, 1)})  # ...but this frame was swapped
    passed = Frame(1, picture, 0, stamps={"passthrough": (0, 1)})
    assert _changed(finish(picture, swapped), picture).sum() > 200
    assert _changed(finish(picture, passed), picture).sum() == 0
