"""A photo's shadow under the nose is not worn as a dark blob over the target's nostrils (issue 13).

The blind judge's third most frequent cue, "dark blotchy nose sides and nostrils": s9 (a painting
lit from above, the skin under its nose at 0.59 of its cheek) on d20 and d6, s10 on d10. Two causes
(benchmarks/results/s25-nose): on a darker target the colour transfer's lightness offset took as
much off the shade as off the skin (s9 on d20: 0.51 of the cheek -> 0.31), and the photo's shade
under the nose was kept wherever the target's own nose is lit (d6's, d20's at 0.97-1.06 of the
cheek). Measured on real frames with the real swapper and blend stage (tests/test_swap_sharp.py's
fixture), on the zones of MediaPipe's mesh relative to the cheek of the same picture. Each number
in a comment is main's (e0df0ad) before this work.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests import test_swap_sharp

swap_one = test_swap_sharp.swap_one

# The skin under the nostrils down to the philtrum's top, the nostrils with their wings, each cheek.
_UNDER = (2, 97, 326, 98, 327, 164, 167, 393, 165, 391)
_NOSTRILS = (2, 97, 326, 98, 327, 64, 294, 240, 460, 75, 305, 79, 309, 20, 250, 166, 392, 219, 439, 59, 289,
             60, 290, 99, 328)
_TIP = (1, 4, 45, 275, 44, 274, 19, 94)
_CHEEKS = ((50, 101, 118, 117, 123, 187, 205, 36), (280, 330, 347, 346, 352, 411, 425, 266))


def _hull(shape, landmarks: np.ndarray, points) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(landmarks[list(points), :2]).astype(np.int32)), 1)
    return mask > 0


def _nose(picture: np.ndarray, landmarks: np.ndarray) -> dict[str, float]:
    """L* of the zones over the cheeks' median L*: the median under the nostrils, and the
    nostrils' darkest tenth (their openings)."""
    lightness = cv2.cvtColor(picture.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)[..., 0]
    shape = lightness.shape
    tip = _hull(shape, landmarks, _TIP)
    nostrils = _hull(shape, landmarks, _NOSTRILS) & ~tip
    under = _hull(shape, landmarks, _UNDER) & ~tip & ~nostrils
    cheek = float(np.median(lightness[_hull(shape, landmarks, _CHEEKS[0]) | _hull(shape, landmarks, _CHEEKS[1])]))
    return {"under": float(np.median(lightness[under])) / cheek,
            "openings": float(np.percentile(lightness[nostrils], 10)) / cheek}


@pytest.mark.parametrize(("video", "source", "worn", "own"), [
    ("d20.mp4", "s9.jpg", 0.80, 0.2),  # main 0.36, now 0.91 (d20's own 1.07): the "dark blob over both nostrils"
    ("d6.mp4", "s9.jpg", 0.80, 0.12),  # main 0.61, now 0.87 (d6's own 0.95)
])
def test_the_shade_under_a_photos_nose_is_about_as_light_as_the_targets_own(swap_one, video, source, worn, own):
    image, face, output = swap_one(video, 45, source, moved=True)
    new, camera = _nose(output, face.landmarks), _nose(image, face.landmarks)
    # The skin under the nostrils, relative to the cheek: at least `worn`, and within `own` of the
    # target's own (that far under it at most: the lift is bounded, the photo's nostrils are there).
    assert new["under"] >= worn, (new, camera)
    assert new["under"] >= camera["under"] - own, (new, camera)


def test_the_nostril_openings_stay_dark(swap_one):
    # Where the target's openings are dark, the new face's stay dark (not lifted into skin): their
    # darkest tenth relative to the cheek, s42's on d13 0.21 (main 0.12, d13's own 0.20), s9's faint
    # ones on d20 0.29 (main 0.10, crushed by the transfer's offset; d20's own 0.20, the painting's 0.41).
    for video, source in (("d13.mp4", "s42.jpg"), ("d20.mp4", "s9.jpg")):
        image, face, output = swap_one(video, 45, source, moved=True)
        assert _nose(output, face.landmarks)["openings"] <= 0.4, video
