"""The detail gains are measured a few times a second, not every frame (issue 13's budget).

The blend stage's detail gains (detail.source_detail_gain, fine_match_gain, brows.hair_gain:
2.1 ms a frame of a 720p face) are smoothed over GAIN_TIME_S (0.3 s) per face track anyway:
detail.GainMemory.follow measures each every MEASURE_EVERY_S (0.1 s) and in between the smoothing
follows the last measurement. A new face (a new track), a seek and a jump of the face's box are
measured the same frame: a new face takes its own camera's crispness at once, not the last one's.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.blend.detail import MEASURE_EVERY_S, GainMemory
from tests.conftest import frame_of


def test_a_gain_is_measured_a_few_times_a_second_and_at_once_for_a_new_face_a_seek_or_a_jump():
    memory = GainMemory()
    calls: list[float] = []

    def measure(value: float):
        def measured() -> float:
            calls.append(value)
            return value
        return measured

    box = (100, 100, 400, 400)
    shown = [memory.follow("face", measure(1.5), index / 30.0, box) for index in range(7)]
    # Measured on frames 0, 3 and 6 only (every MEASURE_EVERY_S at 30 fps) ...
    assert len(calls) == 3 and MEASURE_EVERY_S <= 0.1 + 1e-9, calls
    # ... and what is shown follows the measurement every frame (its first frame its own).
    assert shown[0] == 1.5 and all(abs(value - 1.5) < 1e-9 for value in shown), shown
    # The camera changes: measured within 0.1 s, then the smoothing moves towards the new
    # measurement every frame, by a tenth of the change at most (as each frame's own did): no steps.
    changed = [memory.follow("face", measure(1.0), (7 + index) / 30.0, box) for index in range(8)]
    steps = np.diff([shown[-1], *changed])
    assert np.all(steps <= 0) and np.all(steps[2:] < 0) and float(-steps.min()) < 0.06, changed
    count = len(calls)
    # A new face (another key: its track) is measured on its first frame.
    assert memory.follow("other face", measure(2.0), 13 / 30.0, box) == 2.0 and len(calls) == count + 1
    # Time going back (a new input, a seek) measures afresh, so does a jump of the box.
    assert memory.follow("face", measure(1.2), 0.0, box) == 1.2 and len(calls) == count + 2
    memory.follow("face", measure(1.7), 1 / 30.0, (160, 100, 460, 400))
    assert len(calls) == count + 3
    # ... but not a box that moves a few pixels, as a head does between frames.
    memory.follow("face", measure(1.9), 2 / 30.0, (163, 102, 462, 401))
    assert len(calls) == count + 3


def test_a_new_face_on_a_soft_camera_gets_its_own_crispness_the_same_frame(library):
    # d14's frame 12, then the same frame softened (a Gaussian of 1.5 px) as a new face track two
    # frames later, within the gains' 0.1 s: its face as a fresh blend stage draws it on that frame
    # alone, not with the crisp frame's detail boost.
    from dataclasses import replace

    from realtime.faces import create_detector
    from realtime.settings import FaceSettings
    from tests.test_blend_moustache_hair import _swapped

    crisp = frame_of("d14.mp4", 12)
    soft = cv2.GaussianBlur(crisp, (0, 0), 1.5)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(crisp)[0]
    detector.close()
    followed = _swapped(library, "s9.jpg", [crisp, crisp, soft], [face, face, replace(face, track_id=7)])
    fresh = _swapped(library, "s9.jpg", [soft], [replace(face, track_id=7)])
    x0, y0, x1, y1 = face.box
    difference = np.abs(followed[2][y0:y1, x0:x1].astype(np.int16) - fresh[0][y0:y1, x0:x1].astype(np.int16))
    assert int(difference.max()) <= 1, int(difference.max())
