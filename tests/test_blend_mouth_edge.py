"""The open mouth's edge (issue 13, "no seam anywhere").

An open mouth shows the target's own teeth through a hole in the mask. The source's lips around
it kept their own lightness, and where they met the target's teeth or inner lip the hole's edge
was a straight horizontal step (s12 on d10 frame 2: 3.3 grey levels in-process; s42 on d14 on
the written file: 4.0). blend/color._mouth_membrane takes the lips' lightness to the target's
along the hole, fading out inwards.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks import realism
from benchmarks.quality_swap import decode
from realtime.faces import create_detector
from realtime.faces.topology import topology
from realtime.settings import FaceSettings, Settings
from tests.conftest import media
from tests.test_swap_realism import swap


def frame_of(name: str, index: int):
    path = media(name)
    if not path.exists():
        pytest.skip(f"needs {path}")
    image = decode(path, index + 1)[0][index]
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    faces = detector.detect(image)
    detector.close()
    assert faces
    return image, faces[0]


def test_the_lips_meet_the_target_teeth_without_a_step(library):
    image, face = frame_of("d10.mp4", 2)
    source = media("s12.jpg")
    if not source.exists():
        pytest.skip(f"needs {source}")
    frame = swap(Settings(), library.get(str(source)), image, face)
    out = realism.grey(frame.output.astype(np.float32))
    tgt = realism.grey(image.astype(np.float32))
    hole = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(hole, [np.round(face.landmarks[topology().inner_mouth, :2]).astype(np.int32)], 1)
    distance = cv2.distanceTransform(1 - hole, cv2.DIST_L2, 5) / face.size
    lips = (distance > 0.01) & (distance <= 0.04)
    # s12's moustache over the upper lip and beside the corners is his own hair, not lips: it is
    # left out (darker than 0.6 of the target there). Since s21-s12 the transfer keeps it dark hair
    # on a brighter target (blend/color.dark_lightness_table): 27% of the band instead of 6%, and
    # the whole band's gap 25.8 -> 38.2 levels, while the lips' own stayed at 23.0 / 23.1.
    lips &= out >= 0.6 * tgt
    gap = float(np.abs(out - tgt)[lips].mean())
    # The lips right at the hole are nearer the target's lightness (main 29.7 levels off on
    # average, the branch 22.5: the moustache above them stays).
    assert gap <= 26.0
    # No straight step along the mouth (main 3.3 in-process on this frame).
    assert realism.frame_seam(frame.output.astype(np.float32), image.astype(np.float32),
                              face.landmarks)["levels"] <= 2.9
