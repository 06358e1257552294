"""A pout is as narrow as the driver's (issue 22: d10's "O" and pouts drawn at half the narrowing).

A mouth's corner (the dark fold where the lips meet) runs past MediaPipe's corner landmark into the
cheek, where the mesh has no point for a tenth of the mouth's width: a pout moved the landmarks in
and stretched that fold after them, a dark wing each side of the pursed lips. The mouth looked as
wide as before and MediaPipe, afresh on the output, found d10's pouts (frames 5-7, 86-89) narrowed
0.59 as much as the real ones on main. The points outside the corners of a pursed mouth now follow
them in (`motion._cheeks_follow_a_pout`).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import self_reenactment

pytestmark = pytest.mark.media

POUT = (5, 6, 7, 86, 87, 88, 89)  # d10: lips pursed (an "O")


def test_a_pout_is_as_narrow_as_the_drivers():
    from benchmarks.quality_animate import drawn_features
    from realtime.faces import create_detector
    from realtime.frame import Frame
    from realtime.settings import FaceSettings

    frames, fps, tracked, source_face, animator = self_reenactment("d10.mp4", max(POUT) + 1)
    neutral = drawn_features(source_face.landmarks)[3]
    detector = create_detector(FaceSettings(), static=True)
    try:
        real, seen = [], []
        for index in range(1, len(frames)):
            output = animator.animate(Frame(index=index, image=frames[index], capture_ns=0, pts=index / fps,
                                            faces=tracked[index]), tracked[index])
            if index in POUT:
                real.append(drawn_features(max(detector.detect(frames[index]), key=lambda f: f.size).landmarks)[3]
                            - neutral)
                seen.append(drawn_features(max(detector.detect(output), key=lambda f: f.size).landmarks)[3]
                            - neutral)
    finally:
        detector.close()
    real_arr = np.asarray(real)
    assert real_arr.max() < -0.1  # her mouth narrows by a tenth of her eyes' distance and more
    gain = float(real_arr @ np.asarray(seen) / (real_arr @ real_arr))
    # The drawn mouth narrows more nearly as much as the real one (main: 0.59; 0.78), not more.
    assert 0.7 <= gain <= 1.1, (gain, seen, real)
