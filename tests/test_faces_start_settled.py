"""The first frame of a call, a recording or a face that comes back is worn where the later frames
wear it (issue 13, benchmarks/results/s23-startup): the face's outline on frame 0 is the settled
one, and a head that is moving as it is first seen is not held back for its first frames."""

import numpy as np

from realtime.faces import create_detector
from realtime.faces.one_euro import OneEuroFilter
from realtime.faces.tracking import smoothing_parameters
from realtime.settings import FaceSettings


def test_the_first_frame_of_a_steady_clip_has_the_settled_outline(d9_frame):
    # d9's frame 0 as a still clip (a sitter who holds still at the start of a call): the
    # tracker's mesh on the first frame against the one it settles on by the sixth. Main: 1.27 px
    # mean, 3.9 px at most on this 300-px face (the first mesh came from the detector's box and
    # settled over 3-4 frames: the worn face's edge crept across the cheek); now 0.52 px.
    image, _ = d9_frame
    detector = create_detector(FaceSettings(max_faces=1), static=False)
    try:
        meshes = [detector.detect(image)[0].landmarks[:468, :2] for _ in range(6)]
    finally:
        detector.close()
    off = np.linalg.norm(meshes[0] - meshes[-1], axis=1)
    assert off.mean() < 0.8, off.mean()
    assert off.max() < 2.5, off.max()


def test_a_head_moving_as_it_is_first_seen_is_not_held_back():
    # A face (300 px) first seen while it moves 6 px a frame at 30 fps (d3's first frames): its
    # smoothed points are no further behind on frames 1-3 than once the filter has settled.
    # Main: the speed started from rest, 2.6 px behind on frame 1 against 1.8 px settled; now 1.9.
    filt = OneEuroFilter(*smoothing_parameters(0.5))
    rng = np.random.default_rng(1)
    face = rng.uniform(0, 300, (478, 3)).astype(np.float32)
    lags = []
    for frame in range(30):
        moved = face + np.array([6.0 * frame, 0.0, 0.0], np.float32)
        lags.append(float(np.abs(filt(moved, frame / 30, scale=300)[:, 0] - moved[:, 0]).mean()))
    settled = np.mean(lags[20:])
    assert max(lags[1:4]) < 1.25 * settled, (lags[:5], settled)
