"""The nose's relief taken part of the way to the target's where the source's is steeper (issue 13).

The clean texture keeps the source's own nose relief: its shaded flank and the lit ridge beside it
(swap/shadows.py keeps a shadow at SHADOW_DEPTH on purpose: the sockets' and the nose's depth are
part of a face). A painting or a side-lit photo has that shade fall 20-50 grey levels within a
few pixels of the ridge; worn on an evenly lit target, the difference from the camera's picture
is a ramp that crosses zero right at the ridge at 2-2.5 levels a pixel: a line down the bridge,
lit on one side and shaded on the other (s9 -> d9 at the ridge, s42 -> d14 down the bridge's
side; benchmarks/results/s22-seam/, s23-seam/). Spreading the shade in the texture (s22-seam)
took the source's shade depth with it on every target, evenly lit or not.

Here, per frame and against the target itself: over the nose (bridge, its sides, the flanks; the
eyes, nostrils and what the target keeps in front, glasses, left out) the low-frequency
difference between the new face and the camera's picture, D, is measured; where its steepest
slope (a high percentile) is above MAX_SLOPE grey levels a pixel, D's relief about its mean over
the zone is scaled down just enough to bring that slope to MAX_SLOPE. So the shade keeps its
side and most of its depth, its mean stays (the face's tone is the colour transfer's), and a
target lit from the same side as the source, whose own picture has the same shade, is not
touched (D is then flat). The correction is smooth (a Gaussian of D, faded in over the zone's
soft edge) and the detail (pores, the camera's grain added later) is untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.faces.topology import topology
from realtime.frame import Box

# The steepest low-frequency slope of the difference from the target (grey levels a pixel) left
# as it is. A ramp of D that crosses zero scores about twice its slope as a seam on the written
# file (benchmarks/realism.py: 1.5 levels/px -> 3.1): 1.2 keeps it under ~2.5 with the encoder's noise.
MAX_SLOPE = 0.8
# The percentile of the slope over the zone that counts as its steepest (a few stray pixels do not).
PERCENTILE = 98.0
# D is measured over this (Gaussian sigma, fraction of the face): the shade's edge, not its pores.
SMOOTH = 0.004
# The zone's edge fades over this (sigma, fraction of the face), and what is left out over this.
ZONE_SOFT = 0.02
KEEP_SOFT = 0.006
# A difference larger than this (grey levels) is not relief (a glasses pad, a strand of hair).
OUTLIER = 45.0
# Never scaled below this: at least this fraction of the source's relief over the target's stays.
MIN_SCALE = 0.3

# MediaPipe mesh points: the nose's bridge from between the brows down to above the tip, and its
# upper flanks out to the eyes' inner corners: where the source's shaded plane meets its lit ridge.
# Not the tip, the wings, nor the nostrils (their shape is the source's nose; moved towards the
# target's they took the source's identity with them), nor the brows.
_NOSE = (8, 168, 6, 197, 195, 5, 4, 193, 417, 122, 351, 188, 412, 196, 419, 3, 248, 51, 281, 45, 275,
         174, 399, 236, 456, 114, 343, 217, 437, 198, 420, 131, 360)
_NOSTRILS = (64, 98, 97, 2, 326, 327, 294, 278, 48, 240, 460, 75, 305, 79, 309, 20, 250)


def _hull(shape: tuple[int, int], points: np.ndarray, grow: float = 0.0) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points[:, :2]).astype(np.int32)), 1)
    if grow > 0.5:
        size = int(2 * grow) | 1
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return mask


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def nose_relief(image: np.ndarray, camera: np.ndarray, points: np.ndarray, box: Box, face_size: float,
                shown: np.ndarray, kept: np.ndarray | None = None) -> np.ndarray:
    """`image` (the new face over `box`, uint8 BGR) with its nose's low-frequency difference from
    `camera` (the target's picture under the box) no steeper than MAX_SLOPE; `shown`: where the
    new face shows (the layer's alpha); `kept`: what the target keeps in front (0..1 over the box).
    Returns `image` itself when nothing is steeper."""
    if face_size <= 0:
        return image
    x0, y0 = box[:2]
    height, width = image.shape[:2]
    local = points[:, :2] - np.array([x0, y0], np.float32)
    nose = local[list(_NOSE)]
    reach = 4 * ZONE_SOFT * face_size
    cx0, cy0 = np.floor(nose.min(axis=0) - reach).astype(int)
    cx1, cy1 = np.ceil(nose.max(axis=0) + reach).astype(int)
    cx0, cy0, cx1, cy1 = max(cx0, 0), max(cy0, 0), min(cx1, width), min(cy1, height)
    if cx1 - cx0 < 16 or cy1 - cy0 < 16:
        return image
    crop = np.s_[cy0:cy1, cx0:cx1]
    shape = (cy1 - cy0, cx1 - cx0)
    here = local - np.array([cx0, cy0], np.float32)
    top = topology()
    zone = _hull(shape, here[list(_NOSE)])
    left_out = _hull(shape, here[list(_NOSTRILS)], grow=0.004 * face_size)
    for eye in (top.right_eye, top.left_eye):
        left_out |= _hull(shape, here[eye], grow=0.012 * face_size)
    for brow in (top.right_eyebrow, top.left_eyebrow):
        left_out |= _hull(shape, here[brow], grow=0.012 * face_size)
    out = cv2.GaussianBlur(left_out.astype(np.float32), (0, 0), KEEP_SOFT * face_size)
    weight = cv2.GaussianBlur(zone.astype(np.float32), (0, 0), ZONE_SOFT * face_size) * (1.0 - out)
    weight *= shown[crop].astype(np.float32)
    if kept is not None:
        weight *= 1.0 - np.clip(kept[crop], 0.0, 1.0)
    diff = _grey(image[crop]) - _grey(camera[crop])
    trusted = (np.abs(diff - np.median(diff[zone > 0])) < OUTLIER).astype(np.float32) * weight
    sigma = SMOOTH * face_size
    spread = cv2.GaussianBlur(trusted, (0, 0), sigma)
    smooth = cv2.GaussianBlur(diff * trusted, (0, 0), sigma) / np.maximum(spread, 1e-3)
    inside = (weight > 0.5) & (spread > 0.3)
    if inside.sum() < 32:
        return image
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    slope = float(np.percentile(np.hypot(gx, gy)[inside], PERCENTILE))
    if slope <= MAX_SLOPE:
        return image
    scale = max(MIN_SCALE, MAX_SLOPE / slope)
    mean = float(np.average(smooth[inside], weights=weight[inside]))
    change = (scale - 1.0) * (smooth - mean) * np.minimum(weight, 1.0) * np.minimum(spread / 0.3, 1.0)
    result = image.copy()
    part = result[crop].astype(np.float32) + change[..., None]
    result[crop] = np.clip(np.round(part), 0, 255).astype(np.uint8)
    return result
