"""The colour transfer matches the skin to the camera's skin, not the skin and a moustache together
(issue 13, benchmarks/results/s34-s12id).

The transfer (realtime/blend/color.py) fits one lightness map, gain and offset, from the mean and
spread of the face's skin region: the face oval less the eyes, brows and lips. A moustache (and the
nostrils) are in that region. s12's near-black moustache is 10-12% of it: his skin's spread read 45
levels where the skin alone has 26, the gain sat on its floor (0.7) on every target, and the skin
came out lighter than the camera's to make up for the hair in the mean (written s12 on d6: +2.4 L
off the hair). The transfer now goes half-way to the skin's own statistics (color.skin_statistics).

Here the pictures are made up (a fast, exact check of the picture property): a skin with a smooth
relief and a dark moustache block over 12% of the region, worn over a camera skin of the same
relief, 20 levels darker.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.blend.color import recolour

SIZE = 128


def _skin(lightness: float, seed: int) -> np.ndarray:
    """LAB float32 (SIZE, SIZE, 3): a warm skin at `lightness` (8-bit L) with a smooth relief
    (spread about 10 levels of L)."""
    rng = np.random.default_rng(seed)
    relief = cv2.GaussianBlur(rng.normal(0.0, 1.0, (SIZE, SIZE)).astype(np.float32), (0, 0), 3.0)
    relief *= 10.0 / relief.std()
    lab = np.empty((SIZE, SIZE, 3), np.float32)
    lab[..., 0] = lightness + relief
    lab[..., 1] = 142.0
    lab[..., 2] = 145.0
    return lab


def _bgr(lab: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def _lightness(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)


def test_a_moustached_face_wears_a_skin_nearer_the_camera_skins_lightness():
    source = _skin(175.0, 1)
    hair = np.zeros((SIZE, SIZE), bool)
    hair[72:96, 24:104] = True  # 1920 px: 12% of the picture
    source[hair, 0] = 40.0
    camera = _skin(155.0, 2)
    region = np.ones((SIZE, SIZE), np.uint8)
    patch = _bgr(source)
    out = recolour(patch, _bgr(camera), region, 1.0)
    skin = ~cv2.dilate(hair.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    worn, target = _lightness(out), _lightness(_bgr(camera))
    # The worn skin's lightness off the camera's skin: main 0013db4 10.7 levels lighter (the hair
    # counted in the mean the transfer matches); this branch 5.3 (half-way to the skin's own
    # statistics, color.SKIN_WEIGHT; the skin's alone: 0.03).
    assert abs(float(worn[skin].mean() - target[skin].mean())) < 6.0
