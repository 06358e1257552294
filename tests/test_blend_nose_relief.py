"""No line down the nose when the source photo's nose is lit from one side (issue 13, "Seam: no
frame over 3 grey levels"; session 23, benchmarks/results/s23-seam/).

A painting or a side-lit photo has its nose's far plane shaded, falling 20-50 grey levels within
a few pixels of the ridge (s9's: 185 -> 108). The clean texture keeps that shade at 15% depth on
purpose (swap/shadows.py), and worn on an evenly lit target the difference from the camera's
picture crossed zero right at the ridge at 2-2.5 levels a pixel: a line down the bridge, lit on
one side and shaded on the other (written files of main: s9 -> d9 3.4-4.1 levels, 6-8 of 60 frames
over 3; s42 -> d14 3.4, 4 frames). Here the case is made on purpose: d9's own face worn on itself,
its nose's right plane shaded in the photo by 35% with a 3-pixel edge along the ridge.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.settings import Settings

# The nose's right plane (the image's right of the ridge): bridge, flank, the bridge's side.
_RIGHT_PLANE = (168, 6, 197, 195, 5, 4, 351, 412, 399, 437, 343, 360, 420, 279, 417, 465, 285)
_RIDGE = (168, 6, 197, 195, 5, 4)


def _side_lit_nose(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`image` with the nose's right plane 35% darker, its edge 3 pixels wide along the ridge."""
    plane = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(plane, cv2.convexHull(np.round(points[list(_RIGHT_PLANE), :2]).astype(np.int32)), 1)
    ridge = points[list(_RIDGE), :2]
    ys, xs = np.mgrid[0:image.shape[0], 0:image.shape[1]].astype(np.float32)
    ridge_x = np.interp(ys, ridge[:, 1], ridge[:, 0])
    across = np.clip((xs - ridge_x) / 3.0, 0.0, 1.0)
    soft = cv2.GaussianBlur(plane.astype(np.float32), (0, 0), 10.0)
    shade = 1.0 - 0.35 * across * soft
    return np.clip(image * shade[..., None], 0, 255).astype(np.uint8)


def test_no_line_down_the_nose_of_a_side_lit_photo(tmp_path, library, d9_frame):
    from benchmarks import realism
    from tests.test_swap_realism import swap

    image, face = d9_frame
    photo = tmp_path / "side_lit_nose.png"
    cv2.imwrite(str(photo), _side_lit_nose(image, face.landmarks))
    frame = swap(Settings(), library.get(str(photo)), image, face)
    output = frame.output.astype(np.float32)
    found = realism.frame_seam(output, image.astype(np.float32), face.landmarks)
    # Main: 3.2 grey levels, a vertical line down the ridge (quiet on the lit side, darker
    # beyond); the branch 1.5 (no vertical line left).
    assert found["levels"] <= 3.0, found
    # The shade stays (the photo's light is part of its look), shallower: the nose's right plane,
    # beside the ridge, is still under the lit side's level (main 21 grey levels, the branch 7.5:
    # this shade is steeper than any test photo's, its relief is kept at the floor, MIN_SCALE).
    points = face.landmarks
    diff = realism.grey(output) - realism.grey(image.astype(np.float32))
    ridge_x = int(round(points[6, 0]))
    rows = slice(int(points[6, 1]), int(points[195, 1]))
    near, far = max(2, round(0.008 * face.size)), round(0.032 * face.size)
    lit = float(diff[rows, ridge_x - far:ridge_x - near].mean())
    shaded = float(diff[rows, ridge_x + near:ridge_x + far].mean())
    assert lit - shaded > 6.0, (lit, shaded)
