"""The animate stage's work per frame, counted (not timed: the machine is shared): what does not
change from frame to frame is not computed again, and the pictures stay the same to the bit."""

from __future__ import annotations

import numpy as np


def _mesh(rng: np.random.Generator):
    centres = rng.uniform([20, 20], [240, 180], size=(120, 2))
    spread = rng.choice([6.0, 30.0], size=(120, 1, 1))
    dst = (centres[:, None] + spread * rng.normal(0, 1, size=(120, 3, 2))).reshape(-1, 2)
    return dst, np.arange(len(dst), dtype=np.int32).reshape(-1, 3)


def test_the_cells_outside_the_mesh_are_labelled_once_while_they_stay_the_same(monkeypatch):
    """The coarse grid's cells outside every triangle take their nearest covered cell's map (a
    distance transform over the whole grid, a quarter of a millisecond at 720p). Those cells are
    the same from frame to frame while the mesh's outline stays: over five frames of a moving
    mesh inside a fixed outline the transform runs once, and every frame's maps are those a fresh
    warp computes."""
    import cv2

    from realtime.animate import tiles

    rng = np.random.default_rng(23)
    dst, triangles = _mesh(rng)
    depth = np.round(rng.uniform(0, 3, size=len(dst)))
    calls = []
    original = cv2.distanceTransformWithLabels

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    warp = tiles.TileWarp(np.zeros((200, 260, 3), dtype=np.uint8))
    frames = [dst + rng.normal(0, 1.5, size=dst.shape) for _ in range(5)]  # the sources move
    expected = [tiles.TileWarp(np.zeros((200, 260, 3), dtype=np.uint8)).coarse_maps(dst, src, triangles, depth)
                for src in frames]
    monkeypatch.setattr(cv2, "distanceTransformWithLabels", counted)
    for src, (want_x, want_y) in zip(frames, expected, strict=True):
        map_x, map_y = warp.coarse_maps(dst, src, triangles, depth)
        np.testing.assert_array_equal(map_x, want_x)
        np.testing.assert_array_equal(map_y, want_y)
    assert len(calls) == 1
    warp.coarse_maps(dst, frames[0], triangles[:40], depth)  # another outline: labelled again
    assert len(calls) == 2


def test_the_driver_s_neutral_eyes_are_measured_once_not_every_frame(monkeypatch):
    """The motion transfer measures the driver's eyes (opening, gaze) on this frame and on its
    neutral reference; the reference's stay the same until the next calibration (start: eight
    measures of the reference per frame). Over ten frames of a driver the reference's eyes are
    measured on the first frame only, and the landmarks drawn are those of a transfer that
    measures everything afresh."""
    from dataclasses import replace

    from realtime.animate import motion

    rng = np.random.default_rng(5)
    reference = rng.normal(0, 1, size=(478, 3)) * [40, 50, 10] + [320, 240, 0]
    portrait = reference * 1.3 + [10, -5, 0]
    calibration = motion.calibrate(reference, portrait, "relative")
    drivers = [reference + rng.normal(0, 0.8, size=reference.shape) for _ in range(10)]
    # A new copy of the reference each frame: nothing kept, everything measured afresh.
    fresh = [motion.transfer(driver, portrait, replace(calibration, reference=calibration.reference.copy()),
                             lids=motion.LidWatch(), time_s=0.0) for driver in drivers]
    measured = []
    original = motion._eye_frame
    monkeypatch.setattr(motion, "_eye_frame", lambda points, corners: (measured.append(points is calibration.reference),
                                                                         original(points, corners))[1])
    for driver, want in zip(drivers, fresh, strict=True):
        np.testing.assert_array_equal(motion.transfer(driver, portrait, calibration, lids=motion.LidWatch(),
                                                      time_s=0.0), want)
    assert sum(measured) == 2  # the reference's two eyes, on the first frame only
