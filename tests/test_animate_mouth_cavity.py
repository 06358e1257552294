"""A photograph driven by its own video keeps its open mouth's dark cavity (issue 22: d10 in
self-reenactment was further from the real frames than the frozen frame 0 by dlib's distance,
worst on her "O" and talking mouth). The driver's interior drawn in the portrait's palette had its
darks lifted (the whole light range rescaled onto the portrait's, on top of the squeeze of what
lies beyond it): her dark cavity and tongue came out a greyish brown shade of the lips."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.faces.topology import topology
from tests.conftest import driven, self_reenactment

pytestmark = pytest.mark.media


def _darkest_quarter(image: np.ndarray, loop: np.ndarray) -> float:
    """The 25th percentile of LAB L inside a lip loop (its edge pixel left out)."""
    mask = np.zeros(image.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(loop).astype(np.int32)], 255)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
    light = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0][mask > 0]
    assert light.size > 300
    return float(np.percentile(light, 25))


def test_the_open_mouth_is_as_dark_as_the_real_one():
    """d10 frames 6-13 (an "O", the cavity in shadow): the darkest quarter of the drawn interior
    (inside the drawn inner lip loop) is within 10 levels of the real frame's (inside the loop
    found afresh on it), on average. Start (8188412): 20.4 levels too light (L 53-74 against the
    real 37-54); branch: 6.8."""
    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    frames, fps, tracked, _, animator = self_reenactment("d10.mp4", 14)
    inner = topology().inner_mouth
    detector = create_detector(FaceSettings(min_confidence=0.3), static=True)
    errors = []
    try:
        for index, _faces, output in driven(frames, fps, tracked, animator):
            if index < 6:
                continue
            drawn = animator._last_points[inner, :2]
            real = max(detector.detect(frames[index]), key=lambda f: f.size).landmarks[inner, :2]
            errors.append(_darkest_quarter(output, drawn) - _darkest_quarter(frames[index], real))
    finally:
        detector.close()
    assert len(errors) == 8
    assert np.mean(np.abs(errors)) < 10.0, np.round(errors, 1)
