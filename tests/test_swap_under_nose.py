"""A painted shadow under the nose is not worn as a dark smudge (issue 13).

s10 (a painting lit from above and one side) has a brown cast shadow over her nose's underside
and the lip below it. The clean texture's shadow lift (realtime/swap/shadows.py) kept the
nostrils and the upper lip as they were, for a moustache's sake: on every target a dark brown
band ran from wing to wing under the nose (session 22's blind judge: "dark smudge under the nose
and on the upper lip", "dark brown smear on the nose tip"). A clean-shaven source's upper lip and
nose underside are skin now, and their cast shadow is lifted as the eye sockets' is.

Real frames of ../shared/media, MediaPipe, the real swapper and blend stage (tests/test_swap_sharp.py's
fixture). Numbers in comments: main's before this work / now.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.faces.topology import topology
from tests import test_swap_sharp

swap_one = test_swap_sharp.swap_one

# The nose's underside (wings, nostrils, the base of the columella) and the upper lip down to the
# lips' line: mesh points, independent of the module's own zones.
_UNDER_NOSE = (64, 98, 97, 2, 326, 327, 294, 240, 460, 75, 305, 167, 393, 164, 0, 37, 267, 39, 269)
_CHEEKS = (50, 280, 118, 347, 101, 330)


def _under_nose_darkness(image: np.ndarray, landmarks: np.ndarray) -> float:
    """The darker quarter (25th percentile) of L* under the nose, the lips left out, over the cheeks' median."""
    top = topology()
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    zone = np.zeros(lab.shape, np.uint8)
    cv2.fillConvexPoly(zone, cv2.convexHull(np.round(landmarks[list(_UNDER_NOSE), :2]).astype(np.int32)), 1)
    cv2.fillPoly(zone, [np.round(landmarks[top.outer_lips, :2]).astype(np.int32)], 0)
    cheeks = [lab[int(round(landmarks[p, 1])) - 2:int(round(landmarks[p, 1])) + 3,
                  int(round(landmarks[p, 0])) - 2:int(round(landmarks[p, 0])) + 3].mean() for p in _CHEEKS]
    return float(np.percentile(lab[zone > 0], 25)) / float(np.median(cheeks))


@pytest.mark.parametrize("video", ["d3.mp4", "d14.mp4"])
def test_a_painted_shadow_under_the_nose_is_not_a_dark_smudge(swap_one, video):
    target, target_face, _ = swap_one(video, 10, "s10.jpg")
    _, face, output = swap_one(video, 10, "s10.jpg", moved=True)
    own = _under_nose_darkness(target, target_face.landmarks)
    worn = _under_nose_darkness(output, face.landmarks)
    # The target's own shade under its nose: d3 0.47, d14 0.88 of its cheeks. Worn s10: main d3
    # 0.33, d14 0.66 (a brown band); now d3 0.52, d14 0.80.
    assert worn > own - 0.12, (video, worn, own)
