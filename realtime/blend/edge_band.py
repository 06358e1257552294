"""The mask's rim without the photo's own edge: what the warped photo has past its face's edge (its
hair, its jaw's shadow) is not drawn at the outer, faint part of the mask's feathered band.

Why: the mask's alpha rises from 0 on the face oval to 1 over twice the feather (0.08 of the face),
and the rim of the warped photo is its own face's edge: s12's hair by his cheek and the shadow
under his jaw lay there, 30-37 grey levels darker than d6's cheek under them. Drawn at 5-35%, they
made a faint dark line along the jaw side, just outside the new face's own lightness, which on d6
(lit from her right) is ~26 levels over her shaded side: the output went -4 -> +24 levels over
~16 pixels, the written file's seam 3.16 on frames 56-59 of s12 on d6 (benchmarks/results/s34-seam).

What: the face's residual against the camera (finished face - camera, at 1/_STEP of the box) is
split into a low band (a Gaussian of RIM_SIGMA of the face, measured where the new face shows,
each pixel weighted by the oval's alpha: the face's own lightness, carried out to the rim) and the
rest; the rest is faded out over the rim, fully at the oval and not at all from the oval's alpha
RIM_ALPHA inwards. The face from there inwards (its identity) is untouched; the colour stage's edge
membrane and the mask are as they were.

Tried and not kept (benchmarks/results/s34-seam/README.md): the low band also composited with an
alpha twice as wide (multi-band blending) took the seam to 2.05 but cost dlib's distance to the
photo +0.025 on s12 on d6; the rest faded out over the whole band (RIM_ALPHA 1) 2.20, +0.007.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.blend.kernels import area_shrink
from realtime.faces.topology import topology

RIM_ALPHA = 0.5
"""The rim: where the oval's alpha is under this. The photo's own detail there is faded out
(1 - alpha / RIM_ALPHA of it taken off)."""
RIM_SIGMA = 0.03
"""The face's low band (its lightness and colour, kept): a Gaussian of this fraction of the face size."""
OUTLIER = 60.0
"""Grey levels: a pixel whose residual is larger is hair or a hand over the oval, not the face's
light (as color.EDGE_OUTLIER), and is not measured."""
_STEP = 4
"""Measured and made at 1/_STEP of the box (the rim is ~4 small pixels wide on a 250-px face)."""


def _smoothstep(ramp: np.ndarray) -> np.ndarray:
    ramp = np.clip(ramp, 0.0, 1.0)
    return ramp * ramp * (3.0 - 2.0 * ramp)


def clean_rim(image: np.ndarray, target: np.ndarray, alpha: np.ndarray, landmarks: np.ndarray, box,
              face_size: float, feather: float, erosion: float = 0.0) -> np.ndarray:
    """`image` (the finished face over `box`, uint8 BGR) with its own detail against `target` (the
    camera's pixels under the box) faded out over the mask's rim (see the module docstring); the
    same array when there is no rim. alpha: the layer's (h, w) float32 alpha; landmarks in frame
    pixels; feather and erosion as in blend/mask.py face_mask (fractions of the face size)."""
    height, width = image.shape[:2]
    if feather <= 0 or face_size <= 0:
        return image
    step = _STEP if min(height, width) >= 16 * _STEP else 1
    small = (max(1, width // step), max(1, height // step))
    # The oval's distance (small pixels) and its alpha, as face_mask draws them.
    pad = 2
    oval = np.zeros((small[1] + 2 * pad, small[0] + 2 * pad), np.uint8)
    local = (landmarks[topology().face_oval, :2] - np.array(box[:2], np.float32)) / step + pad
    cv2.fillPoly(oval, [np.round(local * 16).astype(np.int32)], 1, shift=4)
    inside = cv2.distanceTransform(oval, cv2.DIST_L2, 5)[pad:pad + small[1], pad:pad + small[0]]
    depth = inside - erosion * face_size / step - 1.0
    narrow = _smoothstep(depth / max(2.0 * feather * face_size / step, 0.75))
    shown = area_shrink(alpha, small) if alpha.shape[:2] != (small[1], small[0]) else alpha
    # Where the new face shows as the oval's own alpha has it (not where the layer is cut: the eyes'
    # and mouth's holes, glasses, a hand, hair left to the target).
    valid = (shown >= 0.5 * narrow) & (depth > 0)
    rim = np.clip(1.0 - narrow / RIM_ALPHA, 0.0, 1.0) * valid
    if not (rim > 1e-3).any():
        return image
    if step > 1:
        residual = cv2.subtract(area_shrink(image, small), area_shrink(target, small), dtype=cv2.CV_32F)
    else:
        residual = cv2.subtract(image, target, dtype=cv2.CV_32F)
    grey = residual @ np.array([0.114, 0.587, 0.299], np.float32)
    # The face's low band, each pixel weighted by how much it shows (the rim's pixels, the photo's
    # past its own face, hardly count): carried out to the rim from the face.
    weight = (narrow * valid * (np.abs(grey) < OUTLIER)).astype(np.float32)
    sigma = max(0.7, RIM_SIGMA * face_size / step)
    spread = cv2.GaussianBlur(weight, (0, 0), sigma)
    # The products and the quotient per channel by OpenCV on three-channel copies of the weights:
    # numpy's broadcasting over the channels cost more than the copies (the same values; 0.27 ->
    # 0.14 ms of the 1.2 on d13 + s42, benchmarks/results/s34-rim).
    low = cv2.divide(cv2.GaussianBlur(cv2.multiply(residual, cv2.merge((weight, weight, weight))), (0, 0), sigma),
                     cv2.merge((np.maximum(spread, 1e-3),) * 3))
    rim = rim.astype(np.float32)
    change = cv2.multiply(cv2.subtract(residual, low), cv2.merge((rim, rim, rim)))
    if step > 1:
        change = cv2.resize(change, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.subtract(image, change, dtype=cv2.CV_8U)
