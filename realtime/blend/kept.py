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
# Kept features are measured at up to 1/KEPT_STEP resolution (the difference is smooth).
KEPT_STEP = 8
# A kept pixel this many grey levels off the target's level around it (a Gaussian of LINE_SIGMA
# face sizes) is a line, fully from twice that.
LINE_SIGMA = 0.01
LINE_FROM = 4.0
# Grey levels (any channel) beyond which the new face and the target differ by a feature, not by
# colour and light (the tone map and EDGE_BALANCE move skin by up to ~12 levels).
SKIN_APART = 32.0
# Kept pixels below this weight are left as they are (the soft edge's faint tail: a grey level).
KEPT_FROM = 0.04
# A pixel counts as the new face's skin where the layer shows it this much and keeps nothing.
SHOWN_FROM = 0.9


def kept_in_layer(target: np.ndarray, image: np.ndarray, alpha: np.ndarray,
                  kept: tuple[np.ndarray, tuple[int, int]] | None, face_size: float,
                  lines: tuple[np.ndarray, tuple[int, int]] | None = None, own: bool = False) -> np.ndarray:
    """The layer's alpha with the kept features (the target's pixels, `target`: the box's) moved
    by the new face's (`image`, over the box) low-frequency difference from it, put into the layer:
    `image` at those pixels (in place) and the returned alpha (a new array; `alpha` itself when
    nothing is kept) become what the composite draws there. The layer's `alpha` says where the new
    face shows; `lines` (as `kept`): where a line is never made weaker than the camera draws it
    (the glasses frames). `own`: `alpha` is the caller's own fresh float32 array, written in place
    and returned (no copy of the whole box: issue 13, benchmarks/results/s37-shape).

    Into the layer, so the composite is the only writer of the frame (the shift used to be written
    into the canvas under the layer, a second path): at a kept pixel with weight m the layer shows
    a (the new face) and c = min(k, 1 - a) of the shifted target t + (1 - a) m s / c (k: how much
    is kept, m: how far it is shifted), i.e. alpha a' = a + c and image (a I + c (t + ...)) / a'.
    Composited at opacity o that is o a I + (1 - o a) t + o (1 - a) m s: the frame drawn before
    at full opacity, and at 0 the camera's picture (the shift is the new face's, it shows as far
    as the new face does).

    The difference is measured at 1/KEPT_STEP resolution and read at the kept pixels only (thin
    rims, two eyes: a few thousand pixels): over the whole region at full size this cost 5 ms
    on d13's 609-px face."""
    if kept is None or face_size <= 0:
        return alpha
    keep, (kx, ky) = kept
    height, width = target.shape[:2]
    kx0, ky0 = max(kx, 0), max(ky, 0)
    kx1, ky1 = min(kx + keep.shape[1], width), min(ky + keep.shape[0], height)
    if kx1 - kx0 < 2 or ky1 - ky0 < 2:
        return alpha
    # (cv2.compare, flat indices: a third of numpy's comparison and 2-D fancy indexing here.)
    found = cv2.findNonZero(cv2.compare(keep[ky0 - ky:ky1 - ky, kx0 - kx:kx1 - kx], KEPT_FROM, cv2.CMP_GT))
    if found is None:
        return alpha
    xs, ys = found[:, 0, 0] + kx0, found[:, 0, 1] + ky0  # box pixels
    keep = np.ascontiguousarray(keep, np.float32)
    amount = keep.reshape(-1).take((ys - ky).astype(np.intp) * keep.shape[1] + (xs - kx))  # one channel: cheap
    sigma = KEPT_SIGMA * face_size
    pad = int(np.ceil(2.0 * sigma))
    x0, y0 = max(0, int(xs.min()) - pad), max(0, int(ys.min()) - pad)
    x1, y1 = min(width, int(xs.max()) + 1 + pad), min(height, int(ys.max()) + 1 + pad)
    # The difference is smooth: measured with its Gaussian about 3 small pixels wide.
    step = int(min(max(sigma / 3.0, 1), KEPT_STEP))
    if min(y1 - y0, x1 - x0) < 8 * step:
        step = 1
    region = (x0, y0, x1, y1)
    difference, sure, theirs = _skin_difference(target, image, alpha, xs, ys, region, step, sigma)
    # No skin near (a kept zone wider than the blur): no evidence, no change.
    difference *= sure[:, :, None]
    np.clip(difference, -KEPT_LIMIT, KEPT_LIMIT, out=difference)
    # The target's own level around each kept pixel (its skin beside a rim), as a fourth plane.
    level = cv2.GaussianBlur(cv2.cvtColor(theirs, cv2.COLOR_BGR2GRAY), (0, 0), max(0.7, LINE_SIGMA * face_size / step))
    read = _read_at(cv2.merge([*cv2.split(difference), level]), xs, ys, region, step)
    shift, around = np.ascontiguousarray(read[:, :3]), read[:, 3]
    # Flat pixel indices (numpy's 2-D fancy indexing of a 3-channel picture costs several times
    # more): read straight from the canvas under `target` when it is a row-strided view of one.
    flat = ys.astype(np.intp) * width + xs
    pixels = _pixels(target, ys, xs).astype(np.float32)
    # A line (a rim, a lash line) is never made weaker than the camera draws it: the shift keeps
    # its contrast against the target's skin, which the new face around it has lost where it is
    # lighter than the person's beside a light rim (d9) -- but where the new face is lighter
    # beside a dark rim (d13's), the line already stands out more than the camera's, and shifted
    # it would fade to the camera's own contrast on a face less sharp than the camera's (d13's
    # sharpness 0.80 -> 0.79): there it stays as it is.
    # (Column by column, not a matrix product: BLAS wakes its threads for it, which spin: the
    # process's CPU time went up by a half on d13 for the same wall time.)
    line = pixels[:, 0] * np.float32(0.114) + pixels[:, 1] * np.float32(0.587) + pixels[:, 2] * np.float32(0.299) - around
    lineness = np.clip((np.abs(line) - LINE_FROM) * (1.0 / LINE_FROM), 0.0, 1.0)
    # Only on the glasses: a closing eye's lash line kept darker than its shifted lid was a
    # straight line of difference along it (a 4.3-level "seam" on s9 -> d14's blink).
    count = len(xs)
    guard = np.zeros(count, np.float32)
    if lines is kept:  # the glasses alone
        guard = np.minimum(amount * 4.0, 1.0)
    elif lines is not None:
        piece, (lx, ly) = lines
        inside = (xs >= lx) & (xs < lx + piece.shape[1]) & (ys >= ly) & (ys < ly + piece.shape[0])
        guard[inside] = np.minimum(piece[ys[inside] - ly, xs[inside] - lx] * 4.0, 1.0)
    if lines is not None and guard.any():
        # On the glasses the new face's difference over the skin nearest them, on a finer grid:
        # over LINE_SIGMA, the scale of the target's own level the line is measured against (the
        # wide one where there is no skin that near), as far as they are guarded. A bridge lies
        # on the nose's ridge between its shaded sides, and KEPT_SIGMA's difference averaged the
        # two (s12 on d9: the ridge +10..+17 levels, its sides -20..-29, at the bridge +1.5): a
        # light bridge kept the camera's level on a ridge 10-20 levels lighter and melted into
        # the nose (issue 13, benchmarks/results/s30-bridge: its contrast 19 of the camera's
        # 36 levels, 29 so).
        near_sigma = LINE_SIGMA * face_size
        near_step = max(1, min(step, int(round(near_sigma / 2.0))))
        reach = int(np.ceil(2.0 * near_sigma)) + near_step
        around_lines = (max(0, int(xs.min()) - reach), max(0, int(ys.min()) - reach),
                        min(width, int(xs.max()) + 1 + reach), min(height, int(ys.max()) + 1 + reach))
        near, sure, _ = _skin_difference(target, image, alpha, xs, ys, around_lines, near_step, near_sigma)
        near_read = _read_at(cv2.merge([*cv2.split(near), sure]), xs, ys, around_lines, near_step)
        towards = np.clip(near_read[:, :3], -KEPT_LIMIT, KEPT_LIMIT) - shift
        shift += towards * (near_read[:, 3] * guard)[:, None]
    weaker = (line * (shift[:, 0] + shift[:, 1] + shift[:, 2])) < 0
    kept_weight = np.minimum(amount, np.float32(1.0))
    amount = amount * (1.0 - lineness * weaker * guard)
    # Into the layer (see above): the frame drawn is a I + (1 - a) (t + m s), m = `amount`: the
    # kept pixels' own weight in the layer is their share of what the new face leaves, min(k,
    # 1 - a) (k: how much is kept; 1 - a where a soft edge of the face leaves less), and their
    # picture the target shifted by (1 - a) m / share of s (at most s).
    face_here = alpha.reshape(-1).take(flat) if alpha.flags.c_contiguous else alpha[ys, xs]
    share = np.minimum(kept_weight, 1.0 - face_here)
    factor = (1.0 - face_here) * amount / np.maximum(share, 1e-6)
    shifted = np.clip(np.rint(pixels + shift * factor[:, None]), 0, 255)
    weight_after = face_here + share
    ours = (image.reshape(-1, 3).take(flat, axis=0) if image.flags.c_contiguous else image[ys, xs]).astype(np.float32)
    mixed = (ours * face_here[:, None] + shifted * share[:, None]) / np.maximum(weight_after, 1e-6)[:, None]
    mixed_u8 = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    if image.flags.c_contiguous:
        image.reshape(-1, 3)[flat] = mixed_u8
    else:
        image[ys, xs] = mixed_u8
    if not (own and alpha.dtype == np.float32 and alpha.flags.c_contiguous and alpha.flags.writeable):
        alpha = np.array(alpha, np.float32, order="C", copy=True)
    alpha.reshape(-1)[flat] = weight_after
    return alpha


def _skin_difference(target: np.ndarray, image: np.ndarray, alpha: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                     region: tuple[int, int, int, int], step: int,
                     sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The new face's (`image`) difference from the target over `region` of the box, on a grid
    of `step` pixels: a normalised Gaussian (`sigma` pixels) over its skin (shown fully, no kept
    pixel, at `xs`, `ys`, in the grid's pixel, within SKIN_APART), float32 (h, w, 3); how sure
    it is (0-1: how much skin is near); the target's shrunk picture (float32)."""
    x0, y0, x1, y1 = region
    small = (max(1, (x1 - x0) // step), max(1, (y1 - y0) // step))
    part, picture = target[y0:y1, x0:x1], image[y0:y1, x0:x1]
    if step > 1:
        shown = area_shrink(alpha[y0:y1, x0:x1], small)
        theirs_u8, ours_u8 = area_shrink(part, small), area_shrink(picture, small)
    else:
        shown = alpha[y0:y1, x0:x1]
        theirs_u8, ours_u8 = part, picture
    theirs, ours = theirs_u8.astype(np.float32), ours_u8.astype(np.float32)
    # Small pixels holding a kept pixel (area_shrink leaves out the last step - 1 rows and columns).
    near = np.zeros((small[1], small[0]), np.uint8)
    # (Flat indices: numpy's 2-D fancy assignment costs several times more.)
    near.reshape(-1)[np.minimum((ys - y0) // step, small[1] - 1) * small[0] + np.minimum((xs - x0) // step, small[0] - 1)] = 1
    # The skin: the new face fully there, no kept feature in the (shrunk) pixel, and the two
    # pictures within SKIN_APART of each other: a colour and light difference, not a feature of
    # one of them (the source's brow over d13's upper rims darkened them into the brow).
    blue, green, red = cv2.split(cv2.absdiff(ours_u8, theirs_u8))
    apart = cv2.max(cv2.max(blue, green), red)
    weight = ((shown >= SHOWN_FROM) & (near == 0) & (apart <= SKIN_APART)).astype(np.float32)
    s = max(0.7, sigma / step)
    spread = cv2.GaussianBlur(weight, (0, 0), s)
    difference = cv2.GaussianBlur((ours - theirs) * weight[:, :, None], (0, 0), s) / np.maximum(spread, 1e-3)[:, :, None]
    # How sure: 1 with enough skin near (a kept zone wider than the blur: no evidence).
    sure = np.clip(spread * 4.0, 0.0, 1.0)
    return difference, sure, theirs


def _read_at(planes: np.ndarray, xs: np.ndarray, ys: np.ndarray, region: tuple[int, int, int, int],
             step: int) -> np.ndarray:
    """`planes` (a grid of `step` pixels over `region`) read at the box pixels `xs`, `ys`
    (bilinear; pixel centres: box pixel x is small (x - x0 + 0.5) / step - 0.5), (n, channels)."""
    # The maps as rows of 256 (remap takes at most 32767 rows: a huge face has more kept pixels).
    count = len(xs)
    rows = -(-count // 256)
    maps = np.zeros((2, rows * 256), np.float32)
    maps[0, :count] = (xs - region[0] + 0.5) / step - 0.5
    maps[1, :count] = (ys - region[1] + 0.5) / step - 0.5
    read = cv2.remap(planes, maps[0].reshape(rows, 256), maps[1].reshape(rows, 256), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
    return read.reshape(rows * 256, -1)[:count]


def _pixels(picture: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """picture[ys, xs] (n, 3), by flat indices where `picture` is a row-strided view of a
    contiguous picture (the canvas under a face box): a 2-D fancy index costs several times more."""
    height, width = picture.shape[:2]
    if picture.strides[1:] == (3, 1) and picture.strides[0] % 3 == 0:
        row = picture.strides[0] // 3
        block = np.lib.stride_tricks.as_strided(picture, shape=((height - 1) * row + width, 3), strides=(3, 1),
                                                writeable=False)
        return block.take(ys.astype(np.intp) * row + xs, axis=0)
    return picture[ys, xs]


def union(first: tuple[np.ndarray, tuple[int, int]] | None,
          second: tuple[np.ndarray, tuple[int, int]]) -> tuple[np.ndarray, tuple[int, int]]:
    """Two (keep, (x, y)) pieces as one: the maximum over the rectangle around both."""
    if first is None:
        return second
    (a, (ax, ay)), (b, (bx, by)) = first, second
    x0, y0 = min(ax, bx), min(ay, by)
    x1, y1 = max(ax + a.shape[1], bx + b.shape[1]), max(ay + a.shape[0], by + b.shape[0])
    both = np.zeros((y1 - y0, x1 - x0), np.float32)
    both[ay - y0:ay - y0 + a.shape[0], ax - x0:ax - x0 + a.shape[1]] = a
    part = both[by - y0:by - y0 + b.shape[0], bx - x0:bx - x0 + b.shape[1]]
    np.maximum(part, b, out=part)
    return both, (x0, y0)
