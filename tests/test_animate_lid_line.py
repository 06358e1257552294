"""A shut eye closes as far as the driver's (issue 22: eyes drawn at 0.5-0.7 of the real opening).

A real eye closes with both lids: on d3's blinks (frames 49-51 and 60-61, MediaPipe afresh on the
real frames) the lower lid rises about half of its way to the corner line and the upper lid comes
down to meet it there. The portrait's lower lid rose a quarter of its way (motion.LOWER_LID), so its
shut eye closed on a line below the real one and kept a third of its opening by the eye-opening
measure of benchmarks/quality_animate (the outline's spread about the corner line): the portrait's
eyes, as the mesh draws them, closed 0.74 as far as the real ones on main.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.conftest import media

pytestmark = pytest.mark.media

BLINK = (49, 50, 60, 61)  # d3: both eyes shut (as found afresh on the real frames)


def test_a_shut_eye_closes_as_far_as_the_drivers():
    from benchmarks.quality_animate import drawn_features, read_frames, track
    from realtime.animate.mesh import MeshAnimator
    from realtime.faces import create_detector
    from realtime.faces.source import SourceFace
    from realtime.frame import Frame
    from realtime.settings import FaceSettings, Settings

    frames, fps = read_frames(media("d3.mp4"), max(BLINK) + 1)
    tracked = track(frames, fps)
    detector = create_detector(FaceSettings(), static=True)
    try:
        source_face = max(detector.detect(frames[0]), key=lambda f: f.size)
        real = {i: max(detector.detect(frames[i]), key=lambda f: f.size).landmarks for i in BLINK}
    finally:
        detector.close()
    gains = {}
    for strength in (1.0, 0.5):
        settings = Settings(mode="animate")
        settings = replace(settings, animate=replace(settings.animate, motion_strength=strength))
        animator = MeshAnimator(settings)
        animator.set_source(SourceFace(path="d3.mp4#0", image=frames[0], face=source_face,
                                       faces=(source_face,)))
        neutral = drawn_features(source_face.landmarks)[0]
        real_change, drawn_change = [], []
        for index in range(1, len(frames)):
            animator.animate(Frame(index=index, image=frames[index], capture_ns=0, pts=index / fps,
                                   faces=tracked[index]), tracked[index])
            if index in BLINK:
                real_change.append(drawn_features(real[index])[0] - neutral)
                drawn_change.append(drawn_features(animator._last_points)[0] - neutral)
        assert min(real_change) < -0.06  # her eyes shut (0.10 of their width open at frame 0)
        gains[strength] = float(np.dot(real_change, drawn_change) / np.dot(real_change, real_change))
    # The mesh closes the eyes as far as the real ones (main: 0.74), not further, and the motion
    # strength still scales the blink.
    assert 0.85 <= gains[1.0] <= 1.1, gains
    assert gains[0.5] < 0.75 * gains[1.0], gains
