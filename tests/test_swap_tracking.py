"""Landmark smoothing as the swap sees it: a still face stays still, a fast turn does not lag.

Synthetic faces with real, irregular timestamps (a webcam never delivers frames exactly 1/30 s
apart), jitter like MediaPipe's (per point, plus the whole face shaking together)."""

import numpy as np
import pytest

from realtime.faces.tracking import FaceTracker, box_of
from realtime.frame import Face
from realtime.settings import FaceSettings

FACE = 300.0  # about the face size (box diagonal) in pixels


def synthetic_run(smoothing, speed_faces_per_s, seed=0, frames=120, move_from=60, move_for_s=0.5):
    """Feed a tracker a face that is still, then moves right at `speed` for `move_for_s`, then
    stops. Returns (times, true x shift, measured landmarks, smoothed landmarks)."""
    rng = np.random.default_rng(seed)
    base = np.zeros((478, 3), dtype=np.float32)
    base[:, :2] = rng.uniform(300, 300 + FACE / np.sqrt(2), (478, 2))
    tracker = FaceTracker(FaceSettings(smoothing=smoothing))
    time_s, start = 0.0, None
    times, shifts, measured, smoothed = [], [], [], []
    for index in range(frames):
        time_s += rng.uniform(0.7, 1.3) / 30
        if index == move_from:
            start = time_s
        shift = 0.0 if start is None else min(time_s - start, move_for_s) * speed_faces_per_s * FACE
        noise = rng.normal(0, 0.6, base.shape) + rng.normal(0, 0.4, (1, 3))
        points = base + np.float32(shift) + noise.astype(np.float32)
        points[:, 1] -= np.float32(shift)  # x moves right; y back to the still face
        face = Face(landmarks=points, box=box_of(points, 2000, 2000))
        (out,) = tracker.update([face], time_s, 2000, 2000)
        times.append(time_s)
        shifts.append(shift)
        measured.append(points)
        smoothed.append(out.landmarks)
    return np.array(times), np.array(shifts), np.array(measured), np.array(smoothed), base


def test_a_still_face_is_still():
    _, _, measured, smoothed, _ = synthetic_run(0.5, 0.0)

    def frame_motion(track):
        return np.linalg.norm(np.diff(track[30:, :, :2], axis=0), axis=2).mean()

    assert frame_motion(smoothed) < 0.4 * frame_motion(measured)


@pytest.mark.parametrize("speed", [1.0, 2.0, 4.0])
def test_a_fast_turn_does_not_lag_visibly(speed):
    _, shifts, _, smoothed, base = synthetic_run(0.5, speed)
    lag = np.abs(smoothed[60:80, :, 0] - base[:, 0] - shifts[60:80, None]).mean(axis=1) / FACE
    # Never more than 1.5% of the face size behind, even at the onset of the move.
    assert lag.max() < 0.015
    # And it settles where the face stopped.
    settled = np.abs(smoothed[-1, :, 0] - base[:, 0] - shifts[-1]).mean() / FACE
    assert settled < 0.003


def test_more_smoothing_means_a_stiller_face_and_none_means_the_raw_points():
    _, _, measured, light, _ = synthetic_run(0.2, 0.0)
    _, _, _, heavy, _ = synthetic_run(0.9, 0.0)
    _, _, _, raw, _ = synthetic_run(0.0, 0.0)

    def frame_motion(track):
        return np.linalg.norm(np.diff(track[30:, :, :2], axis=0), axis=2).mean()

    assert frame_motion(heavy) < frame_motion(light)
    assert np.allclose(raw, measured)
