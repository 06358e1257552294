"""A wink does not hold back the open eye's glance (issue 22: the portrait's gaze followed d3 poorly).

d3 winks on frames 36-60 (her right eye at 0.2 of its neutral opening) while her left eye looks
0.2 eye widths aside. The portrait's irises turned by the mean of both eyes' gaze, and the shut
eye's iris is MediaPipe's guess: the portrait's open eye looked 0.82-0.83 as far aside as hers
(the Girl with a Pearl Earring, s10); now 0.92-0.95. An eye narrowed below 0.6 of its opening now
counts less, below 0.3 not at all (`motion.GAZE_EYE_OPEN`).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import media, self_reenactment

pytestmark = pytest.mark.media

WINK = (39, 42, 45)  # d3's right eye shut, her left looking aside


def test_the_open_eye_looks_as_far_aside_as_the_drivers(library):
    from realtime.animate.motion import eye_gazes
    from realtime.frame import Frame

    frames, fps, tracked, _, animator = self_reenactment("d3.mp4", max(WINK) + 1)
    animator.set_source(library.get(str(media("s10.jpg"))))
    shares = []
    for index, faces in enumerate(tracked):
        animator.animate(Frame(index=index, image=frames[index], capture_ns=0, pts=index / fps, faces=faces), faces)
        driver, drawn = eye_gazes(faces[0].landmarks)[1], eye_gazes(animator._last_points)[1]
        if index == 0:
            driver0, drawn0 = driver, drawn
        if index in WINK:
            assert driver[0] - driver0[0] > 0.15  # her open eye looks far aside
            shares.append((drawn[0] - drawn0[0]) / (driver[0] - driver0[0]))
    print("shares", np.round(shares, 3))
    # The portrait's open eye (the mesh as drawn) turns nearly as far as hers: the mean of both
    # eyes' gaze gives 0.82-0.83. 0.85, not 0.88: with the face's first mesh settled on its first
    # frame (s23-startup), frame 0's reference moved and the open eye's share reads 0.86-0.89
    # (0.92-0.95 on the unsettled first frame); the plain mean still reads 0.82-0.83 there.
    assert min(shares) > 0.85, shares
