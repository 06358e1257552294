"""The 68 iBUG/dlib landmarks, approximated from MediaPipe's 478 face-mesh points.

DeepFaceLab aligns faces with 68 points (facelib/LandmarksProcessor.py get_transform_mat uses
points 17..48 and 54) and LivePortrait's cropper accepts them (src/utils/crop.py
parse_pt2_from_pt68). The correspondence below is the one published by Peizhi Yan
(github.com/PeizhiYan/Mediapipe_2_Dlib_Landmarks, mediapipe2dlib/mp2dlib.py): each dlib point is
one mesh point, or the mean of two. dlib's "right" is the person's right (the picture's left),
the same side as MediaPipe's point 33.
"""

from __future__ import annotations

import numpy as np

# dlib index -> MediaPipe mesh point(s); pairs are averaged.
_CORRESPONDENCE: tuple[tuple[int, ...], ...] = (
    # jaw 0..16, picture left to right
    (127,), (234,), (93,), (132, 58), (58, 172), (136,), (150,), (176,), (152,), (400,), (379,),
    (365,), (397, 288), (361,), (323,), (454,), (356,),
    # brows 17..26
    (70,), (63,), (105,), (66,), (107,), (336,), (296,), (334,), (293,), (300,),
    # nose bridge 27..30, nostrils 31..35
    (168, 6), (197, 195), (5,), (4,), (75,), (97,), (2,), (326,), (305,),
    # eyes 36..41 (picture left), 42..47
    (33,), (160,), (158,), (133,), (153,), (144,), (362,), (385,), (387,), (263,), (373,), (380,),
    # outer lips 48..59 (48 and 54 are the mouth corners)
    (61,), (39,), (37,), (0,), (267,), (269,), (291,), (321,), (314,), (17,), (84,), (91,),
    # inner lips 60..67
    (78,), (82,), (13,), (312,), (308,), (317,), (14,), (87,),
)
assert len(_CORRESPONDENCE) == 68

_FIRST = np.array([pair[0] for pair in _CORRESPONDENCE])
_SECOND = np.array([pair[-1] for pair in _CORRESPONDENCE])


def landmarks68(landmarks: np.ndarray) -> np.ndarray:
    """(68, 2) float64 dlib-order points from (478, 2|3) MediaPipe landmarks (pixels)."""
    points = np.asarray(landmarks, np.float64)[:, :2]
    return (points[_FIRST] + points[_SECOND]) * 0.5
