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


def _driver(seed: int, frames: int):
    """(reference, portrait, calibration, driver frames, their transfer measured afresh): a random
    face and its noisy frames; the fresh transfer takes a new copy of the reference each frame
    (nothing kept, everything measured again)."""
    from dataclasses import replace

    from realtime.animate import motion

    rng = np.random.default_rng(seed)
    reference = rng.normal(0, 1, size=(478, 3)) * [40, 50, 10] + [320, 240, 0]
    portrait = reference * 1.3 + [10, -5, 0]
    calibration = motion.calibrate(reference, portrait, "relative")
    drivers = [reference + rng.normal(0, 0.8, size=reference.shape) for _ in range(frames)]
    fresh = [motion.transfer(driver, portrait, replace(calibration, reference=calibration.reference.copy()),
                             lids=motion.LidWatch(), time_s=0.0) for driver in drivers]
    return portrait, calibration, drivers, fresh


def _count_reference_measures(monkeypatch, calibrations) -> list[int]:
    """Per calibration, how many times an eye of its reference is measured from now on."""
    from realtime.animate import motion

    counts = [0] * len(calibrations)
    original = motion._eye_frame

    def counted(points, corners):
        for index, calibration in enumerate(calibrations):
            counts[index] += points is calibration.reference
        return original(points, corners)

    monkeypatch.setattr(motion, "_eye_frame", counted)
    return counts


def test_the_driver_s_neutral_eyes_are_measured_once_not_every_frame(monkeypatch):
    """The motion transfer measures the driver's eyes (opening, gaze) on this frame and on its
    neutral reference; the reference's stay the same until the next calibration (start: eight
    measures of the reference per frame). Over ten frames of a driver the reference's eyes are
    measured on the first frame only, and the landmarks drawn are those of a transfer that
    measures everything afresh."""
    from realtime.animate import motion

    portrait, calibration, drivers, fresh = _driver(5, 10)
    measured = _count_reference_measures(monkeypatch, [calibration])
    for driver, want in zip(drivers, fresh, strict=True):
        np.testing.assert_array_equal(motion.transfer(driver, portrait, calibration, lids=motion.LidWatch(),
                                                      time_s=0.0), want)
    assert measured == [2]  # the reference's two eyes, on the first frame only


def test_two_drivers_animated_in_turn_each_keep_their_reference_s_measures(monkeypatch):
    """Two animators in one process (two engines, or two portraits driven in turn) each hold a
    calibration. The reference's measures are kept on the calibration, not in one module-wide
    slot that the other driver's frame takes over (start: the slot swapped every frame, and each
    reference's eyes were measured again on every frame, 2 x 10 per driver here). Driven in turn
    over ten frames, each reference is measured once, and each driver's landmarks are those of a
    transfer that measures everything afresh."""
    from realtime.animate import motion

    first, second = _driver(5, 10), _driver(6, 10)
    measured = _count_reference_measures(monkeypatch, [first[1], second[1]])
    for frame in range(10):
        for portrait, calibration, drivers, fresh in (first, second):
            np.testing.assert_array_equal(motion.transfer(drivers[frame], portrait, calibration,
                                                          lids=motion.LidWatch(), time_s=0.0), fresh[frame])
    assert measured == [2, 2]
    assert not [name for name, value in vars(motion).items() if isinstance(value, motion.ReferenceMeasures)
                or (isinstance(value, dict) and name.startswith("_") and not name.startswith("__"))]  # none module-wide
