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

from realtime.blend.kernels import as_grey, wide_blur
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


# The lips' glints under a hard light (issue 13, benchmarks/results/s30-d20). d20 is lit hard from
# above, and its glossy lips throw bright specular glints on the lower lip: there its 98th
# percentile stands 15-35 L* over its median. The new face's lips are the photo's, recoloured and
# relit as a whole: s42's came out an even, matte crimson (the lower lip's 98th percentile 6-14 L*
# over its median), the blind judge's "painted-looking red lips". So under a hard light
# (FaceLayer.hard_light) the camera's glints are put on the new face's lips where it has none as
# bright. Only the glints: the camera's whole light over the lips (a gain map at the scale of a lip's
# half) also matched the upper lip's shade to the lower lip's light, but carried d20's lips into
# the face (dlib distance to the source +0.0049 / +0.0057 on s42 / s12 on d20, to the target
# -0.008 on s42); the glints alone cost +0.0012 / +0.0015.
# The lips' level the glints stand over: a Gaussian normalised over the lips, this many face sizes
# (wider than a glint, finer than a lip's height, 0.03-0.05 face).
GLINT_SIGMA = 0.012
# Grey levels over that level which are the lips' own lines and grain, not a glint.
GLINT_CORE = 4.0
# The new face's lip pixels darker than the first fraction of its lips' median lightness are hair
# (a moustache, left as it is), from the second on lip: lit, s12's moustache took d20's lip line
# in light along its edge.
LIP_HAIR = (0.45, 0.65)
# The hardness of the light (FaceLayer.hard_light) below which the lips are left as they are: d20
# and d3 read 1, d13 0.04 (there a glint at 0.04 moved at most 2 levels on a few lip pixels, and the
# encoder spread that over 32 of 60 written frames), flat-lit targets 0.
GLINT_LIGHT = 0.5
# The lips' outline where nothing is added (face sizes): the inner lip line meets the camera's
# teeth, the outer one its skin.
GLINT_INSET = 0.004


def lip_glints(image: np.ndarray, target: np.ndarray, points: np.ndarray, box: Box, face_size: float,
               hard_light: float) -> np.ndarray:
    """`image` (the new face over `box`) with the camera's lip glints (in `target`, the box's
    pixels, at `points`, the frame's landmarks) as far as `hard_light` (0-1, FaceLayer.hard_light;
    under GLINT_LIGHT: `image` itself): each lip pixel is lightened (B, G and R alike: a glint is
    the light's colour) by how far the camera's lips stand there over their level beyond
    GLINT_CORE, less how far the new face's own lips stand over theirs (a lift only)."""
    if hard_light < GLINT_LIGHT:
        return image
    found = _lips_crop(target, points, box, face_size)
    if found is None:
        return image
    crop, lips = found
    inside = lips > 0
    theirs = as_grey(target[crop]).astype(np.float32)
    picture = image[crop].astype(np.float32)
    own = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    median = max(float(np.median(own[inside])), 1.0)
    lip = np.clip((own / np.float32(median) - LIP_HAIR[0]) / (LIP_HAIR[1] - LIP_HAIR[0]), 0.0, 1.0)
    lip *= lips
    if float(lip.sum()) < 20.0:
        return image
    their_level, own_level = _lips_level(theirs, lips, face_size), _lips_level(own, lip, face_size)
    # Inside the lips only, off their outline, and off the new face's hair.
    inset = max(1, int(round(GLINT_INSET * face_size)))
    weight = cv2.erode(lips, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inset + 1, 2 * inset + 1)))
    weight = cv2.GaussianBlur(weight.astype(np.float32), (0, 0), max(0.6, 0.5 * inset)) * np.float32(hard_light)
    weight *= cv2.GaussianBlur(lip, (0, 0), 0.8)
    glint = np.maximum(theirs - their_level - np.float32(GLINT_CORE), 0.0)
    present = np.maximum(own - own_level - np.float32(GLINT_CORE), 0.0)
    lift = np.maximum(glint - present, 0.0) * weight
    out = image.copy()
    out[crop] = np.clip(picture + lift[:, :, None] + 0.5, 0, 255).astype(np.uint8)
    return out


def _lips_crop(picture: np.ndarray, points: np.ndarray, box: Box,
               face_size: float) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """(the crop of the box around the lips, their mask there: uint8 {0, 1}, the outer lip line
    less the inner mouth), or None where there are none."""
    if face_size <= 0:
        return None
    top = topology()
    origin = np.array(box[:2], np.float32)
    outer = points[top.outer_lips, :2] - origin
    pad = 3.0 * GLINT_SIGMA * face_size + 2.0
    height, width = picture.shape[:2]
    cx0, cy0 = np.floor(outer.min(axis=0) - pad).astype(int)
    cx1, cy1 = np.ceil(outer.max(axis=0) + pad).astype(int)
    cx0, cy0, cx1, cy1 = max(cx0, 0), max(cy0, 0), min(cx1, width), min(cy1, height)
    if cx1 - cx0 < 8 or cy1 - cy0 < 8:
        return None
    lips = np.zeros((cy1 - cy0, cx1 - cx0), np.uint8)
    corner = np.array([cx0, cy0], np.float32)
    cv2.fillPoly(lips, [np.round((outer - corner) * 16).astype(np.int32)], 1, shift=4)
    cv2.fillPoly(lips, [np.round((points[top.inner_mouth, :2] - origin - corner) * 16).astype(np.int32)], 0, shift=4)
    if cv2.countNonZero(lips) < 20:
        return None
    return np.s_[cy0:cy1, cx0:cx1], lips


def _lips_level(luma: np.ndarray, lips: np.ndarray, face_size: float) -> np.ndarray:
    """The lips' level (float32): `luma` averaged over `lips` (a weight) by a Gaussian of GLINT_SIGMA
    face sizes."""
    sigma = max(0.8, GLINT_SIGMA * face_size)
    inside = lips.astype(np.float32)
    spread = cv2.GaussianBlur(inside, (0, 0), sigma)
    return cv2.GaussianBlur(luma * inside, (0, 0), sigma) / np.maximum(spread, 1e-3)
