"""The open mouth's edge: the new face's lips take the target's lightness right where they meet
the target's own mouth interior.

The mesh has no triangles inside the mouth, so an open mouth shows the target's teeth and tongue
through a hole in the mask, and the new face's lips meet them along the target's inner lip line.
A source with a dark moustache or red lips is 20-40 grey levels darker there than the target's
own lips: a dark line as long as the opening and straight when the mouth is wide open (the worst
seams of the written runs, s12 on d10 and s42 on d3). Like the face's edge membrane
(realtime/blend/color.py), a smooth lightness correction is measured on a thin band of lips
around the opening and faded out a few percent of the face outwards: at the opening the lips
have the target's lightness, further out the source's lips are untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.blend.kernels import wide_blur
from realtime.faces.topology import topology
from realtime.frame import Box

# The band around the opening on which the difference is measured, and how far out the
# correction reaches (fractions of the face size).
BAND = 0.02
REACH = 0.06
# The width (fraction of the face size) of the lip edge that is only lightened (the source's lip line).
LINE = 0.02
# A band pixel that differs by more than this is not lip (a hand, the teeth's glare): not counted.
OUTLIER = 60.0
# The opening (inner-lip gap over the mouth's width) below which the mouth counts as closed.
OPEN = 0.08


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap (points 13-14) over the mouth's width (corners 78-308)."""
    gap = float(np.linalg.norm(points[13, :2] - points[14, :2]))
    return gap / max(float(np.linalg.norm(points[78, :2] - points[308, :2])), 1.0)


def mouth_membrane(image: np.ndarray, target: np.ndarray, points: np.ndarray, box: Box,
                   face_size: float) -> np.ndarray:
    """`image` (the new face over `box`) with its lightness taken to the target's along the open
    mouth's edge; unchanged when the mouth is closed."""
    if face_size <= 0 or mouth_opening(points) < OPEN:
        return image
    x0, y0 = box[:2]
    height, width = image.shape[:2]
    reach = REACH * face_size
    lips = points[topology().inner_mouth, :2] - np.array([x0, y0], np.float32)
    cx0, cy0 = np.floor(lips.min(axis=0) - reach - 2).astype(int)
    cx1, cy1 = np.ceil(lips.max(axis=0) + reach + 2).astype(int)
    cx0, cy0, cx1, cy1 = max(cx0, 0), max(cy0, 0), min(cx1, width), min(cy1, height)
    if cx1 - cx0 < 8 or cy1 - cy0 < 8:
        return image
    hole = np.zeros((cy1 - cy0, cx1 - cx0), np.uint8)
    cv2.fillPoly(hole, [np.round((lips - (cx0, cy0)) * 16).astype(np.int32)], 1, shift=4)
    outside = cv2.distanceTransform(1 - hole, cv2.DIST_L2, 5)
    crop = np.s_[cy0:cy1, cx0:cx1]
    lab = cv2.cvtColor(image[crop], cv2.COLOR_BGR2LAB)
    theirs = cv2.cvtColor(target[crop], cv2.COLOR_BGR2LAB)[:, :, 0].astype(np.float32)
    diff = theirs - lab[:, :, 0].astype(np.float32)
    band = ((outside > 0) & (outside <= max(BAND * face_size, 2.0)) & (np.abs(diff) < OUTLIER)).astype(np.float32)
    if cv2.countNonZero(band) < 8:
        return image
    sigma = max(1.0, 0.03 * face_size)
    # Both blurs are wide (18 px on a 600-px face): computed at a reduced size (wide_blur).
    spread = wide_blur(band, sigma)
    membrane = wide_blur(diff * band, sigma) / np.maximum(spread, 1e-3)
    ramp = np.clip(1.0 - outside / reach, 0.0, 1.0)
    membrane *= ramp * ramp * (3.0 - 2.0 * ramp) * np.clip(spread * 4.0, 0.0, 1.0)
    # Right at the opening a closed source mouth leaves its dark lip line (the gap between its
    # lips, stretched along the target's inner lip): a thin dark outline around the teeth that
    # the smooth membrane cannot reach. There the new face is only ever lightened towards the
    # target's own lip edge, never darkened.
    near = np.clip(1.0 - outside / max(LINE * face_size, 1.5), 0.0, 1.0)
    rest = cv2.GaussianBlur(diff - membrane, (0, 0), 1.0)
    membrane += np.maximum(rest, 0.0) * (near * near * (3.0 - 2.0 * near)) * (hole == 0)
    lab[:, :, 0] = cv2.add(lab[:, :, 0], np.round(membrane).astype(np.int16), dtype=cv2.CV_8U)
    out = image.copy()
    out[crop] = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
    return out
