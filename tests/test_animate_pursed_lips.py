"""Pursed lips are drawn as lips round a small hole, not as a grey ring (issue 22).

MediaPipe's inner lip loop follows where the lips meet, not the hole: on pursed lips (an "O", a
kiss) it spans the mouth and holds the lips' inner surface around a small dark hole. The driver's
interior drawn into that loop in the portrait's palette and shaded towards the loop as a cavity's
edge turned that lip surface into a dark grey ring (d10, frames 4-13: her "O"): a viewer saw a
wide, open, ringed mouth where the real one pouts. The driver's lip-coloured pixels inside the loop
are now drawn in the portrait's lip colour (`mouth._lips_inside`).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.conftest import self_reenactment

pytestmark = pytest.mark.media

POUT = (5, 7, 9)  # d10: lips pursed round a small hole


def test_pursed_lips_are_drawn_as_lips():
    from realtime.faces.topology import topology
    from realtime.frame import Frame

    frames, fps, tracked, source_face, animator = self_reenactment("d10.mp4", max(POUT) + 1)
    lips = cv2.cvtColor(np.clip(animator._portrait.lips_colour, 0, 255).astype(np.uint8)[None, None],
                        cv2.COLOR_BGR2LAB).reshape(3).astype(float)
    inner = topology().inner_mouth
    rim = []
    for index in range(1, len(frames)):
        faces = tracked[index]
        output = animator.animate(Frame(index=index, image=frames[index], capture_ns=0, pts=index / fps,
                                        faces=faces), faces)
        if index in POUT:
            # The rim just inside the drawn inner lip loop: the lips' inner surface on the real frames.
            loop = np.zeros(output.shape[:2], np.uint8)
            cv2.fillPoly(loop, [np.round(animator._last_points[inner, :2] * 16).astype(np.int32)], 255, shift=4)
            band = (loop > 0) & (cv2.erode(loop, np.ones((3, 3), np.uint8), iterations=4) == 0)
            rim.append(cv2.cvtColor(output, cv2.COLOR_BGR2LAB)[band].astype(float).mean(axis=0))
    rim_lab = np.mean(rim, axis=0)
    print("portrait lips", lips.round(1), "rim", rim_lab.round(1))
    # As light as lips in their own shade (main: 0.62 of the lips' lightness, a dark grey ring; 0.83) ...
    assert rim_lab[0] > 0.75 * lips[0], (rim_lab, lips)
    # ... and as red (main: a* 152 against the lips' 164, greyer; now 160).
    assert rim_lab[1] > lips[1] - 6, (rim_lab, lips)
