"""The face's own detail boost does not flicker with a camera whose sharpness swings (issue 13).

The blend stage raises the new face's features' band (brows, lids, lip lines, nostrils) to the
camera's crispness (realtime/blend/detail.py, source_detail_gain), measured on each frame. On a
camera whose sharpness alternates frame to frame (autofocus hunting, a frame of motion blur) the
boost alternated with it: s9 (a painting) on d14, every other frame softened by 1.5 px, 1.74 and
1.55 in turn, and the face's eyes, brows and lips pulsed in contrast every frame. Now the gain is
smoothed over time per face track (detail.GainMemory, 0.3 s, as the moustache's hair_gain).

Real frames of ../shared/media, MediaPipe, the real swapper and blend stage. Each number in a
comment is the branch start's (s22-brows).
"""

from __future__ import annotations

import cv2
import numpy as np

from tests.test_blend_moustache_hair import alternating_sharpness


def _features_band(picture: np.ndarray) -> np.ndarray:
    """The band the detail boost raises on d14 (its split sigma 1.5 px: 1.5 .. 4.5 px)."""
    grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return cv2.GaussianBlur(grey, (0, 0), 1.5) - cv2.GaussianBlur(grey, (0, 0), 4.5)


def test_the_faces_features_do_not_flicker_on_a_camera_whose_sharpness_alternates(library):
    outputs, face = alternating_sharpness(library, "d14.mp4", "s9.jpg")
    oval = np.zeros(outputs[0].shape[:2], np.uint8)
    cv2.fillConvexPoly(oval, cv2.convexHull(np.round(face.landmarks[:, :2]).astype(np.int32)), 1)
    bands = [_features_band(picture) for picture in outputs]
    # The face's features: where its band is over 4 levels (its eyes, brows, nostrils, lips).
    features = (oval > 0) & (np.abs(bands[0]) > 4)
    assert features.sum() > 5000, features.sum()
    change = [float(np.mean(np.abs(b - a)[features])) for a, b in zip(bands[:10], bands[1:10], strict=False)]
    # 0.95 levels each frame before (now 0.77-0.78: the rest is the camera's own softening, in
    # the grain and crossover the face is given).
    assert max(change) < 0.86, change
    rms = [float(np.sqrt(np.mean(band[oval > 0] ** 2))) for band in bands]
    swings = [max(a, b) / min(a, b) for a, b in zip(rms[:10], rms[1:10], strict=False)]
    assert max(swings) < 1.09, rms  # 1.10 before (6.52 and 5.92 levels by turns), now <= 1.08
    # A new face (another track) takes its own camera's sharpness at once, not the last one's.
    assert abs(rms[10] - rms[0]) < 0.05, (rms[10], rms[0])
