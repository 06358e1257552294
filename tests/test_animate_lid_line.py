"""A shut eye's lids meet where the driver's do (issue 22: blinks drawn at 0.5-0.7 of the real).

A real eye closes with both lids: on d3's blinks (frames 49-50 and 60-61, MediaPipe afresh on the
real frames) the lower lid rises about half of its way to the corner line and the upper lid comes
down to meet it there. The portrait's lower lid rose a quarter of its way (motion.LOWER_LID), so its
shut eye closed on a line 0.03 eye widths below the real one: the lower lid stayed put and the
shut eye read only 0.74 as closed as the driver's by the eye-opening measure of
benchmarks/quality_animate (the outline's spread about the corner line).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import media

pytestmark = pytest.mark.media

BLINK = (49, 50, 60, 61)  # d3: both eyes shut (as found afresh on the real frames)


def _lid_line(landmarks: np.ndarray) -> list[float]:
    """Per eye, where the lids are (the mean of both lids' offsets from the corner line, down the
    face, in eye widths) and their gap."""
    from realtime.animate.motion import EYE_CORNERS, LOWER_LIDS, UPPER_LIDS, _eye_frame

    values = []
    for eye, corners in enumerate(EYE_CORNERS):
        middle, normal, width = _eye_frame(landmarks, corners)
        if normal[1] < 0:
            normal = -normal
        upper = float(((landmarks[list(UPPER_LIDS[eye]), :2] - middle) @ normal).mean()) / width
        lower = float(((landmarks[list(LOWER_LIDS[eye]), :2] - middle) @ normal).mean()) / width
        values.append(((upper + lower) / 2, lower - upper))
    return values


def test_a_shut_eyes_lids_meet_where_the_drivers_do():
    from benchmarks.quality_animate import read_frames, track
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
        real = [_lid_line(max(detector.detect(frames[i]), key=lambda f: f.size).landmarks) for i in BLINK]
    finally:
        detector.close()
    animator = MeshAnimator(Settings(mode="animate"))
    animator.set_source(SourceFace(path="d3.mp4#0", image=frames[0], face=source_face, faces=(source_face,)))
    drawn = []
    for index in range(1, len(frames)):
        animator.animate(Frame(index=index, image=frames[index], capture_ns=0, pts=index / fps,
                               faces=tracked[index]), tracked[index])
        if index in BLINK:
            drawn.append(_lid_line(animator._last_points))
    real_arr, drawn_arr = np.asarray(real), np.asarray(drawn)
    neutral = np.asarray(_lid_line(source_face.landmarks))
    assert real_arr[..., 1].max() < 0.06 < neutral[:, 1].min() - 0.15  # her eyes shut (0.24 open at frame 0)
    assert drawn_arr[..., 1].max() < 0.06  # ... and the portrait's
    # Where the shut lids meet: the real ones 0.02-0.05 eye widths below the corner line, the
    # portrait's within 0.015 of that on average (main: 0.03 lower, 0.064).
    assert abs(float(drawn_arr[..., 0].mean() - real_arr[..., 0].mean())) < 0.015, (drawn_arr, real_arr)
