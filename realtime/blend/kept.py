"""The target's kept features (glasses frames, a closing eye's lids) on the new face's colour.

Where the layer keeps the target's own pixels on purpose (FaceLayer.kept), they were composited
as the camera has them, while the new face around them was recoloured, relit, toned and balanced
(realtime/blend/color.py). A kept feature then sat on a patch of the target's skin tone: a thin
metal rim lost its contrast against a face a few levels lighter than the person's (d9's lower
rims, 0.89 -> 0.80 of their edges kept with the skin tone map and EDGE_BALANCE, each ~0.08 alone),
and a closing eye's kept lids (realtime/swap/eyes.py) would show their zone's edge. So the
target's pixels there are shifted by the new face's low-frequency difference from the target
around them (a normalised convolution over where the new face shows and nothing is kept): the
feature keeps its own contrast (its difference from the target's skin), on the new face's base.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.blend.kernels import area_shrink

# The difference's Gaussian, fraction of the face size: wider than a rim and than half a closing
# eye's zone (it is interpolated across from the skin around), narrower than the face's light.
KEPT_SIGMA = 0.04
# The most (grey levels, per channel) a kept pixel is moved: a kept feature stays itself.
KEPT_LIMIT = 24
# Kept features are measured at 1/KEPT_STEP resolution (the difference is smooth).
KEPT_STEP = 4
# A kept pixel this many grey levels off the target's level around it (a Gaussian of LINE_SIGMA
# face sizes) is a line, fully from twice that.
LINE_SIGMA = 0.01
LINE_FROM = 4.0
# Grey levels (any channel) beyond which the new face and the target differ by a feature, not by
# colour and light (the tone map and EDGE_BALANCE move skin by up to ~12 levels).
SKIN_APART = 32.0
# A kept pixel is on the face when the new face shows within this much of it (face sizes).
FACE_NEAR = 0.008
# A pixel counts as the new face's skin where the layer shows it this much and keeps nothing.
SHOWN_FROM = 0.9


def shift_kept(target: np.ndarray, image: np.ndarray, alpha: np.ndarray, kept: tuple[np.ndarray, tuple[int, int]] | None,
               face_size: float) -> None:
    """`target` (the picture under the layer, the box's pixels), in place, with the kept features
    moved by the new face's (`image`, over the box) low-frequency difference from it; nothing
    when nothing is kept. The layer's `alpha` says where the new face shows."""
    if kept is None or face_size <= 0:
        return
    keep, (kx, ky) = kept
    height, width = target.shape[:2]
    sigma = KEPT_SIGMA * face_size
    pad = int(np.ceil(2.0 * sigma))
    x0, y0 = max(0, kx - pad), max(0, ky - pad)
    x1, y1 = min(width, kx + keep.shape[1] + pad), min(height, ky + keep.shape[0] + pad)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    where = np.zeros((y1 - y0, x1 - x0), np.float32)
    kx0, ky0 = max(kx, 0), max(ky, 0)
    kx1, ky1 = min(kx + keep.shape[1], width), min(ky + keep.shape[0], height)
    if kx1 <= kx0 or ky1 <= ky0:
        return
    where[ky0 - y0:ky1 - y0, kx0 - x0:kx1 - x0] = keep[ky0 - ky:ky1 - ky, kx0 - kx:kx1 - kx]
    if float(where.max()) <= 0.01:
        return
    step = KEPT_STEP if min(y1 - y0, x1 - x0) >= 8 * KEPT_STEP else 1
    small = (max(1, (x1 - x0) // step), max(1, (y1 - y0) // step))
    part, picture = target[y0:y1, x0:x1], image[y0:y1, x0:x1]
    if step > 1:
        shown = area_shrink(alpha[y0:y1, x0:x1], small)
        near = area_shrink(where, small)
        theirs = area_shrink(part, small).astype(np.float32)
        ours = area_shrink(picture, small).astype(np.float32)
    else:
        shown, near = alpha[y0:y1, x0:x1], where
        theirs, ours = part.astype(np.float32), picture.astype(np.float32)
    # The skin: the new face fully there, no kept feature in the (shrunk) pixel, and the two
    # pictures within SKIN_APART of each other: a colour and light difference, not a feature of
    # one of them (the source's brow over d13's upper rims darkened them into the brow: d13's
    # sharpness 0.80 -> 0.785 before this).
    apart = np.abs(ours - theirs).max(axis=2)
    weight = ((shown >= SHOWN_FROM) & (near <= 0.02) & (apart <= SKIN_APART)).astype(np.float32)
    s = max(0.7, sigma / step)
    spread = cv2.GaussianBlur(weight, (0, 0), s)
    difference = cv2.GaussianBlur((ours - theirs) * weight[:, :, None], (0, 0), s) / np.maximum(spread, 1e-3)[:, :, None]
    # No skin near (a kept zone wider than the blur): no evidence, no change.
    difference *= np.clip(spread * 4.0, 0.0, 1.0)[:, :, None]
    np.clip(difference, -KEPT_LIMIT, KEPT_LIMIT, out=difference)
    # The target's own level around each kept pixel (its skin beside a rim), carried along as a
    # fourth plane.
    level = cv2.GaussianBlur(cv2.cvtColor(np.ascontiguousarray(theirs), cv2.COLOR_BGR2GRAY), (0, 0), max(0.7, LINE_SIGMA * face_size / step))
    planes = cv2.merge([*cv2.split(difference), level])
    if step > 1:
        planes = cv2.resize(planes, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    difference, level = planes[:, :, :3], planes[:, :, 3]
    # A line (a rim, a lash line) is never made weaker than the camera draws it: the shift keeps
    # its contrast against the target's skin, which the new face around it has lost where it is
    # lighter than the person's beside a light rim (d9) -- but where the new face is lighter
    # beside a dark rim (d13's), the line already stands out more than the camera's, and shifted
    # it would fade to the camera's own contrast on a face less sharp than the camera's (d13's
    # sharpness 0.80 -> 0.79): there it stays as it is.
    line = cv2.cvtColor(part, cv2.COLOR_BGR2GRAY).astype(np.float32) - level
    weaker = (line * difference.mean(axis=2)) < 0
    lineness = np.clip((np.abs(line) - LINE_FROM) / LINE_FROM, 0.0, 1.0)
    # Only on the face: a kept pixel with the new face shown around it (a rim's core is kept, the
    # skin a pixel or two beside it is the new face's). A temple arm beyond the face's outline is
    # the background's and stays as the camera has it.
    reach = max(1, int(round(FACE_NEAR * face_size)))
    on_face = cv2.dilate((alpha[y0:y1, x0:x1] > 0.5).astype(np.uint8),
                         cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1)))
    on_face = cv2.GaussianBlur(on_face.astype(np.float32), (0, 0), 0.5 * reach)
    amount = where * on_face * (1.0 - lineness * weaker)
    change = np.rint(difference * amount[:, :, None]).astype(np.int16)
    target[y0:y1, x0:x1] = cv2.add(part, change, dtype=cv2.CV_8U)
