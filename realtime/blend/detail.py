"""The target camera's detail on the new face: its finest frequency band (grain, noise, the
sharpness of its lens) instead of the source's.

A source face of 150 px drawn over a 450 px target face is enlarged three times: it has no
detail finer than about three target pixels and looks painted next to the camera's grainy skin
and sharp hair. The split between "the source's features" and "the camera's grain" is a Gaussian
of sigma ~ half the enlargement (at least 0.7 px, at most 2.5 px): below it the face keeps the
source's picture, above it the target's own band replaces the source's. Only the band's first
few grey levels are exchanged: grain, pores and noise pass, while strong edges (the target's own
eyelids, lips, brows; the source's features) stay where they were. The target blended onto itself
is unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.blend.kernels import gaussian_u8

# The target band's amplitude limit (grey levels): grain passes, edges of its features do not.
DETAIL_LIMIT = 18
SPLIT_MIN = 1.5


def split_sigma(scale: float) -> float:
    """The Gaussian sigma (target pixels) that splits source features from camera grain for a
    source enlarged `scale` times."""
    return float(np.clip(0.5 * scale, SPLIT_MIN, 2.5))


def camera_detail(image: np.ndarray, target: np.ndarray, scale: float, strength: float = 1.0) -> np.ndarray:
    """`image` (the rendered face over the box) with its finest band replaced by `target`'s."""
    sigma = split_sigma(scale)
    # uint8/int16 OpenCV arithmetic throughout: float32 copies of two face boxes cost more
    # than the blurs themselves.
    own = cv2.subtract(image, gaussian_u8(image, sigma), dtype=cv2.CV_16S)
    theirs = cv2.subtract(target, gaussian_u8(target, sigma), dtype=cv2.CV_16S)
    np.clip(own, -DETAIL_LIMIT, DETAIL_LIMIT, out=own)
    np.clip(theirs, -DETAIL_LIMIT, DETAIL_LIMIT, out=theirs)
    change = cv2.subtract(theirs, own)
    if strength < 1.0:
        change = (change * strength).astype(np.int16)
    # One saturating pass (uint8 + int16 -> uint8): the same numbers as widening, adding and
    # clipping in numpy, at a quarter of the passes over a face box.
    return cv2.add(image, change, dtype=cv2.CV_8U)
