"""No ghost of the camera's own nostrils on the new face's nose (issue 13, s31-nosegrain).

The blind judge's "dark smear on the nose" on s9 (Mona Lisa) on d20: the camera detail
(realtime/blend/detail.py camera_detail) exchanged the camera's finest band into the face, and on
the nose that band carried d20's own nostrils and nose-tip edges at +-11..14 grey levels, drawn
over the painted nose wherever the two noses do not lie on each other (benchmarks/results/s31-crisp).
faces/brows.py feature_band now limits the camera's band over the nose's underside to grain, as
over the brows and lids.

A new face with a plain nose (flat skin with a little grain of its own) over d20's real frame 8
(its dark nostrils, MediaPipe's landmarks), through feature_band and camera_detail as the blend
stage calls them.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.blend.detail import CROSSOVER, camera_detail, split_sigma
from realtime.blend.kernels import gaussian_u8
from realtime.faces.brows import feature_band
from realtime.settings import FaceSettings
from realtime.swap.texture import _NOSTRILS
from tests.conftest import frame_of, still_faces


@pytest.fixture(scope="module")
def plain_nose_on_d20():
    """(output, plain new face, camera luma, nose mask): all over the face's box, luma."""
    camera = frame_of("d20.mp4", 8)
    face = still_faces("d20.mp4", 8, FaceSettings(max_faces=1))[0]
    x0, y0, x1, y1 = face.box
    target = cv2.cvtColor(camera, cv2.COLOR_BGR2GRAY)[y0:y1, x0:x1]
    noise = np.random.default_rng(13).normal(0.0, 1.5, target.shape)
    plain = np.clip(np.rint(170.0 + noise), 0, 255).astype(np.uint8)
    alpha = np.ones(target.shape, np.float32)
    sigma, scale = split_sigma(1.0), 1.0
    low = gaussian_u8(plain, sigma)
    grain, keep = feature_band(target, plain, alpha, face.landmarks, face.box, face.size, sigma,
                               band_sigma=CROSSOVER * sigma, image_low=low)
    output = camera_detail(plain, grain, scale, 1.0, alpha, keep=keep, image_low=low)
    nose = np.zeros(target.shape, np.uint8)
    points = face.landmarks[list(_NOSTRILS), :2] - np.array([x0, y0], np.float32)
    cv2.fillConvexPoly(nose, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    return output, plain, target, nose


def test_the_cameras_nostrils_leave_no_dark_ghost_on_a_plain_nose(plain_nose_on_d20):
    output, plain, target, nose = plain_nose_on_d20
    fine = target.astype(np.float32) - cv2.GaussianBlur(target.astype(np.float32), (0, 0), 1.5)
    dark = (nose > 0) & (fine < -6.0)  # the camera's nostril rims and dark creases
    assert dark.sum() > 50
    ghost = float(np.mean(output[dark].astype(np.float32) - plain[dark].astype(np.float32)))
    # main (781bc04): -15.9 grey levels, the camera's nostrils drawn on the plain nose; now -2.8.
    assert ghost > -4.0, ghost


def test_the_cameras_grain_still_passes_over_the_nose(plain_nose_on_d20):
    output, plain, target, nose = plain_nose_on_d20
    change = output.astype(np.float32) - plain.astype(np.float32)
    # The camera's grain there (limited to brows.GRAIN_LIMIT levels), not a smooth patch: 1.9 levels.
    assert float(np.std(change[nose > 0])) > 0.8
