"""The target's own brows and lash lines, kept out of the camera detail put on the new face.

The blend stage gives the new face the target camera's finest band (realtime/blend/detail.py,
`camera_detail`): grain passes, and so did up to DETAIL_LIMIT (18) grey levels of the target's
own brow hairs and lash lines. Where the source's brow does not lie exactly on the target's (a
thin, high, arched brow on d6 under s9's low bushy one), the target's brow outline came back as
"a second, ghost eyebrow above each real one" (issue 13's blind judge); on d20 the target's lash
line came back next to the source's, squeezed into the narrow lid band: "eyes smudged and
doubled". So the target handed to `camera_detail` has the finest band of its brows and lids
(upper and lower lash lines) limited to a few grey levels (grain passes, hair edges do not),
only where it differs from the new face there: where both have the same brow, the target's
hair edges are the new face's sharpness (d13's, test_swap_sharp). The zones have soft edges (a
Gaussian of about a percent of the face): the grain fades, never steps. Glasses rims and other
kept occluders are left alone.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.blend.detail import edge_gain
from realtime.blend.kernels import area_shrink, as_grey, bounds, gaussian_u8
from realtime.faces.topology import UPPER_LIDS, topology
from realtime.frame import Box

# How far the brow zone reaches past the convex hull of MediaPipe's brow points (fraction of the
# face size): the hull hugs the brow's centre line; thin brows drawn higher or lower than the
# source's, and the hairs' tips, lie outside it.
BROW_REACH = 0.035
# How far the lid zone reaches above the eye's contour (the upper lash line, the lashes and the
# lid crease): at 0.03 d10's long mascara lashes reached past it and came back as light and dark
# streaks above s42's and s9's lids.
LID_REACH = 0.06
# ... and below it (the lower lash line and lashes): without it d10's lower lashes came back under
# s9's lower lids, a second, brown lash line (their finest band 0.79 correlated with the target's).
LOWER_REACH = 0.04
# How far the lid zone reaches past the eye's corners (fraction of the face size): eyeliner wings.
WING_REACH = 0.06
# The finest band's amplitude kept there (grey levels): grain and noise pass, hair edges do not
# (blend/detail.py lets 18 pass elsewhere, for the face's grain).
GRAIN_LIMIT = 3
# Where the layer keeps the target (its eyes, glasses, hair), its detail is kept this far around
# (fraction of the face size): a glasses rim's edge fades into the new face, it is not cut.
KEPT_GROW = 0.01
# The eye openings' own soft edge, not an occluder (fraction of the face size).
OPENING_REACH = 0.02
# The target differs from the new face from this many grey levels (after a blur at twice the
# split), fully from twice that.
DIFFER_FROM = 4.0
# The band limited reaches down to this many times the band camera_detail reads (see
# without_fine_features).
BASE_WIDE = 1.5
# Where the target differs, its band is limited this many band sigmas around too (the ring of
# opposite sign that a high-pass leaves beside a dark brow).
HALO_REACH = 2.5
# The zones' soft edge (Gaussian sigma, fraction of the face size).
ZONE_FEATHER = 0.012


# How much of the new face's own finest band camera_detail keeps over the brows and lids where
# the target's is limited: not a constant (a fixed half or all of it made Einstein's brows and lash
# line crunchy on the soft d20 and d14, 1.28-1.77x the camera's sharpness, and none left the
# enlarged or painted faces soft on the crisp d6), but as much as the zone lacks of the camera's
# finest-band energy (blend/detail.py edge_gain, 0 where the face already has it).
# Where the target's feature band was limited: a weight (0..1) over a part of the box, and the
# part's rows and columns (y0, y1, x0, x1).
FeatureWeight = tuple[np.ndarray, tuple[int, int, int, int]]

# The zone is drawn at 1/ZONE_STEP of the box's resolution and enlarged: it is a soft mask (a
# Gaussian of ~7 px on a 600-px face) whose full-size dilation and blur cost 7 ms of the 12 ms this
# module took per 720p face (benchmarks/swap_cost.py, d13 with s42).
ZONE_STEP = 2


def _grown(mask: np.ndarray, reach: float) -> np.ndarray:
    """uint8 255 wherever `mask` (uint8) is within `reach` pixels of a pixel at 255, else 0.

    The precise distance transform over the mask's bounding box grown by the reach only: every
    pixel within the reach of a set pixel has its nearest one inside that box, and the transform
    is exact, so the zone is that of a transform over the whole box (tests/test_blend_brows_budget.py)
    at a fifth of its cost on d13 (the whole box's transform and threshold: ~0.4 ms per frame)."""
    out = np.zeros_like(mask)
    found = bounds(mask, 254)
    if found is None:
        return out
    grow = int(np.ceil(reach)) + 1
    ya, yb = max(0, found[0] - grow), min(mask.shape[0], found[1] + grow)
    xa, xb = max(0, found[2] - grow), min(mask.shape[1], found[3] + grow)
    distance = cv2.distanceTransform(255 - mask[ya:yb, xa:xb], cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    out[ya:yb, xa:xb] = cv2.compare(distance, float(reach), cv2.CMP_LE)
    return out


def _soft_drawn(mask: np.ndarray, sigma: float) -> np.ndarray:
    """cv2.GaussianBlur(mask / 255 as float32, (0, 0), sigma), bit for bit, blurred over the drawn
    (nonzero) rows and columns grown by the kernel's reach only: the lids and brows fill a third
    of the box's height (0.25 -> 0.10 ms on d13's zone). Zeros further out blur to zeros, and the
    crop's reflected border reads zeros there as the whole picture's reads them."""
    blurred = np.zeros(mask.shape, np.float32)
    found = bounds(mask)
    if found is None:
        return blurred
    reach = int(round(sigma * 4 * 2 + 1)) // 2 + 1  # OpenCV's float kernel: 4 sigma each side
    ya, yb = max(0, found[0] - reach), min(mask.shape[0], found[1] + reach)
    xa, xb = max(0, found[2] - reach), min(mask.shape[1], found[3] + reach)
    blurred[ya:yb, xa:xb] = cv2.GaussianBlur(mask[ya:yb, xa:xb].astype(np.float32) * (1.0 / 255.0), (0, 0), sigma)
    return blurred


def feature_zone(points: np.ndarray, box: Box, face_size: float) -> np.ndarray:
    """(h, w) float32 in [0, 1] over `box`: 1 over the target's brows and lids, soft edge.

    points: (>=468, 2) landmarks in frame pixels."""
    return feature_zones(points, box, face_size, brows=False)[0]


def feature_zones(points: np.ndarray, box: Box, face_size: float,
                  brows: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """feature_zone, and the same over the brows alone (one distance transform for both; None
    with brows=False: feature_band reads the first only, and the second's blur and enlargement
    cost ~0.6 ms per 720p face)."""
    top = topology()
    x0, y0, x1, y1 = box
    height, width = y1 - y0, x1 - x0
    step = ZONE_STEP if min(height, width) >= 16 * ZONE_STEP else 1
    small = (-(-height // step), -(-width // step))
    # Pixel centres: a small pixel i covers big pixels step*i .. step*i + step - 1.
    local = (points[:, :2].astype(np.float32) - np.array([x0, y0], np.float32) + 0.5) / step - 0.5
    zone = np.zeros(small, np.uint8)
    for brow in (top.right_eyebrow, top.left_eyebrow):
        hull = cv2.convexHull(np.round(local[brow] * 16).astype(np.int32))
        cv2.fillConvexPoly(zone, hull, 255, lineType=cv2.LINE_AA, shift=4)
    # The hull grown by BROW_REACH: a distance threshold (a disc dilation, at any radius).
    zone = _grown(zone, BROW_REACH * face_size / step)
    brows_zone = zone.copy() if brows else None
    lift = LID_REACH * face_size / step
    for eye in (top.right_eye, top.left_eye):
        contour = local[eye]
        upper = contour[contour[:, 1] <= contour[:, 1].mean()]
        upper = upper[np.argsort(upper[:, 0])]
        # ... reaching WING_REACH past both corners along the lid line: d6's eyeliner wings
        # run out past the outer corners and came back as a light-edged wavy line beside s9's
        # lids ("pasted eyeliner").
        wing = WING_REACH * face_size / step
        ends = []
        for end, inner in ((upper[0], upper[min(2, len(upper) - 1)]), (upper[-1], upper[max(-3, -len(upper))])):
            direction = end - inner
            ends.append(end + direction / max(float(np.hypot(*direction)), 1e-3) * wing)
        upper = np.concatenate([ends[0][None], upper, ends[1][None]])
        band = np.concatenate([upper + (0.0, 0.25 * lift), upper[::-1] - (0.0, lift)])
        cv2.fillPoly(zone, [np.round(band * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
        lower = contour[contour[:, 1] >= contour[:, 1].mean()]
        lower = lower[np.argsort(lower[:, 0])]
        drop = LOWER_REACH * face_size / step
        band = np.concatenate([lower - (0.0, 0.25 * drop), lower[::-1] + (0.0, drop)])
        cv2.fillPoly(zone, [np.round(band * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)

    def soft(mask: np.ndarray) -> np.ndarray:
        blurred = _soft_drawn(mask, max(0.8 / step, ZONE_FEATHER * face_size / step))
        return blurred if step == 1 else cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)

    return soft(zone), None if brows_zone is None else soft(brows_zone)


# The nose's underside (nostrils, alar creases, the tip's outline; swap/texture.py's _NOSTRILS hull)
# is a feature zone too: camera_detail drew the camera's own nostrils and nose-tip edge there at
# +-11..14 grey levels over the source's nose, a ghost of the target's nose that issue 13's blind
# judge called "a dark smear on the nose" (s9 on d20; benchmarks/results/s31-crisp). The hull is
# grown this far (fraction of the face size), s31-crisp's diagnostic's reach: it holds the camera's
# nostril rims and alar creases (s9 on d20 and d6, 3x crops in benchmarks/results/s31-nosegrain).
NOSE_REACH = 0.03
# How much of the new face's own finest band camera_detail keeps over the nose zone (a constant,
# never edge_gain's raise): all of it (1) kept the painting's light specks in s9's dark nostrils,
# a glitter at 3x; none (0) left the nostrils a soft blob (finest band 1.25 against d20's 1.8);
# half keeps their outline without the specks (s9 on d20, frames 0-8 in process,
# benchmarks/results/s31-nosegrain/probe.py.txt).
NOSE_KEEP = 0.5
# Over the nose the band limited reaches this many times further down than BASE_WIDE's: the
# nostrils are a dark blob wider than a brow hair, and the camera's picture limited only down to
# BASE_WIDE x its band still handed crossover_fill (a soft face lacks that band and gets the
# camera's) the blob's blurred outline: a plain nose over d20's frame 8 still got its nostrils at
# -6.7 grey levels (-15.9 on main); at 2x, -2.8 (tests/test_blend_nose_ghost.py).
NOSE_WIDE = 2.0


def nose_zone(points: np.ndarray, box: Box, face_size: float) -> np.ndarray:
    """(h, w) float32 in [0, 1] over `box`: 1 over the target's nostrils, alar creases and nose
    tip (the hull of their mesh points grown by NOSE_REACH), a soft edge of ZONE_FEATHER."""
    from realtime.swap.texture import _NOSTRILS

    x0, y0, x1, y1 = box
    height, width = y1 - y0, x1 - x0
    step = ZONE_STEP if min(height, width) >= 16 * ZONE_STEP else 1
    local = (points[list(_NOSTRILS), :2].astype(np.float32) - np.array([x0, y0], np.float32) + 0.5) / step - 0.5
    zone = np.zeros((-(-height // step), -(-width // step)), np.uint8)
    cv2.fillConvexPoly(zone, cv2.convexHull(np.round(local * 16).astype(np.int32)), 255,
                       lineType=cv2.LINE_AA, shift=4)
    blurred = _soft_drawn(_grown(zone, NOSE_REACH * face_size / step),
                          max(0.8 / step, ZONE_FEATHER * face_size / step))
    return blurred if step == 1 else cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)


def _nose_reaches_further(excess: np.ndarray, part: np.ndarray, fine: np.ndarray, nose_weight: np.ndarray,
                          step: int, wide: float, around: tuple[int, int, int, int] | None = None) -> None:
    """`excess` (feature_band's limited band minus the band) over the nose zone (`nose_weight` > 0,
    full size) with the band reaching down to `wide` (NOSE_WIDE): blurred over the zone's
    bounding box padded by the blur's reach only (the nose is a tenth of the features' part).
    `around` (y0, y1, x0, x1): rows and columns outside which `nose_weight` is 0, where the caller
    knows them (the zone's bounds are then looked for there only)."""
    ry, rx = (0, 0) if around is None else (around[0], around[2])
    found = bounds(nose_weight if around is None else nose_weight[around[0]:around[1], around[2]:around[3]], 0.002)
    if found is None:
        return
    found = (found[0] + ry, found[1] + ry, found[2] + rx, found[3] + rx)
    pad = int(np.ceil(3 * wide))
    ya, yb = max(0, found[0] - pad), min(part.shape[0], found[1] + pad)
    xa, xb = max(0, found[2] - pad), min(part.shape[1], found[3] + pad)
    piece = part[ya:yb, xa:xb]
    band = cv2.subtract(piece, gaussian_u8(piece, wide), dtype=cv2.CV_16S)
    further = cv2.subtract(np.clip(fine[ya:yb, xa:xb], -GRAIN_LIMIT, GRAIN_LIMIT), band)
    # Where the nose's weight is, its own reading; elsewhere (the brows' and lids') as it was.
    inside = (nose_weight[ya:yb, xa:xb] > 0.002)[..., None] if excess.ndim == 3 else nose_weight[ya:yb, xa:xb] > 0.002
    excess[ya:yb, xa:xb] = np.where(inside, further, excess[ya:yb, xa:xb])


def without_fine_features(target: np.ndarray, image: np.ndarray, alpha: np.ndarray, points: np.ndarray,
                          box: Box, face_size: float, sigma: float, band_sigma: float | None = None) -> np.ndarray:
    """`target` with its brows' and lids' finest band limited (see feature_band)."""
    return feature_band(target, image, alpha, points, box, face_size, sigma, band_sigma)[0]


def feature_band(target: np.ndarray, image: np.ndarray, alpha: np.ndarray, points: np.ndarray,
                 box: Box, face_size: float, sigma: float,
                 band_sigma: float | None = None,
                 image_low: np.ndarray | None = None) -> tuple[np.ndarray, FeatureWeight | None]:
    """`target` (the box's pixels) with the finest band (below the detail split `sigma`) of its
    brows and lids (upper and lower) limited to GRAIN_LIMIT grey levels: their hairs' and lashes' edges are
    gone, the camera's grain and noise there stay (the face keeps the camera's sharpness).
    Only where the target differs from the new face (`image`, the rendered face over the box). Not where `alpha` (the layer's) keeps the target (its eyes, glasses
    rims, hair: occluders keep all their edges), nor a few pixels around them.

    `band_sigma` (default `sigma`): the upper end of the band limited. camera_detail also adds
    the target's band from `sigma` to CROSSOVER x `sigma` to a soft face (crossover_fill): s9, a
    painting, on d6 is both that face and the ghost-brow case, so the blend stage limits that
    band too (test_swap_brows failed with the finest band alone).

    Also returns how much of the new face's own finest band camera_detail keeps over its brows
    (a weight over a part of the box, and the part's (y0, y1, x0, x1); None: nothing): the
    target's band there is limited to grain, and the new face's exchanged for it lost its brow
    hairs' edges (a washed-out, soft brow: s9 on d6, s42 on d20).

    `image_low`: gaussian_u8(image, sigma) over the box, where the caller has it (edge_gain reads
    a crop of it)."""
    zone, _ = feature_zones(points, box, face_size, brows=False)
    nose = nose_zone(points, box, face_size)
    where = bounds(np.maximum(zone, nose), 0.004)
    if where is None:
        return target, None
    band_sigma = sigma if band_sigma is None else max(sigma, band_sigma)
    # The band limited reaches BASE_WIDE times further down than camera_detail reads: the
    # target's brow merely blurred by `band_sigma` (its band there clipped) still had a band of
    # its own at camera_detail's scales, a blurred brow's dark core and light ring: the ring
    # showed as a light outline around each of d14's brows under s10 (the core lay under the
    # source's brow). Blurred BASE_WIDE times as far, it has little left there. The picture's
    # base stays the target's own: taking the new face's base in the zone instead made a step
    # of its own along the zone's soft edge (d20 under s12, a line along the brow's top).
    wide = BASE_WIDE * band_sigma
    pad = int(np.ceil(3 * wide))
    ya, yb = max(0, where[0] - pad), min(target.shape[0], where[1] + pad)
    xa, xb = max(0, where[2] - pad), min(target.shape[1], where[3] + pad)
    part = target[ya:yb, xa:xb]
    # The weights are smooth (blurred over 2 sigma and more): computed at half resolution.
    height, width = part.shape[:2]
    step = 2 if min(height, width) >= 32 else 1
    size = (max(1, width // step), max(1, height // step))
    half = area_shrink(part, size) if step == 2 and part.ndim == 2 else None
    # Only the finest band is exchanged (camera_detail reads nothing else): the picture's base
    # stays, so the zone's soft edge makes no new edges of its own (an earlier version swapped
    # the whole picture for a blurred one there: 1.7x the camera's sharpness on d20 with s12).
    # int16 arithmetic on an 8-bit blur (kernels.gaussian_u8, within a grey level): float32
    # copies of the box's upper half cost more than the blur.
    band = cv2.subtract(part, gaussian_u8(part, wide), dtype=cv2.CV_16S)
    shown_alpha = area_shrink(alpha[ya:yb, xa:xb], size)
    kept = 1.0 - shown_alpha
    # ... but the eye openings (and their narrow soft edge) are no occluder: the lash line along
    # them is what must go.
    openings = np.zeros(kept.shape, np.uint8)
    top = topology()
    origin = np.array([box[0] + xa, box[1] + ya], np.float32)
    cv2.fillPoly(openings, [np.round(((points[eye, :2] - origin + 0.5) / step - 0.5) * 16).astype(np.int32)
                            for eye in (top.right_eye, top.left_eye)], 255, lineType=cv2.LINE_AA, shift=4)
    reach = max(1, int(round(OPENING_REACH * face_size / step)))
    openings = cv2.dilate(openings, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1)))
    kept[openings > 0] = 0.0
    grow = max(1, int(round(KEPT_GROW * face_size / step)))
    kept = cv2.dilate(kept, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    kept = np.clip(2.0 * cv2.GaussianBlur(kept, (0, 0), grow), 0.0, 1.0)
    # Only where the target's picture differs from the new face's at the features' scale (its
    # brow where the new face has skin, or another brow shape): where the two agree (the same
    # brow, or the target blended onto itself) its edges are the new face's own and stay.
    scale = max(1.0, 2.0 * sigma) / step
    greys = [(half if half is not None and picture is target else
              area_shrink(as_grey(picture[ya:yb, xa:xb]), size)).astype(np.float32) for picture in (target, image)]
    differ = cv2.absdiff(*(cv2.GaussianBlur(grey, (0, 0), scale) for grey in greys))
    differ = np.clip((differ - DIFFER_FROM) / DIFFER_FROM, 0.0, 1.0)
    # ... and as far around that as the band limited reaches: a dark brow's band is dark on the
    # brow and light in a ring about 2 band sigmas wide beside it, where the two pictures agree
    # again (skin on both). Limited on the brow only, the ring came back as a light outline of
    # the target's brow, its straight top edge and its tail (s10 -> d14: "light rectangular
    # outlines around each eye").
    ring = max(1, int(np.ceil(HALO_REACH * band_sigma / step)))
    differ = cv2.dilate(differ, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring + 1, 2 * ring + 1)))
    differ = cv2.GaussianBlur(differ, (0, 0), scale)
    shown = (1.0 - kept) * differ
    weight = area_shrink(zone[ya:yb, xa:xb], size) * shown
    nose_weight = area_shrink(nose[ya:yb, xa:xb], size) * shown
    keep = None
    fine = cv2.subtract(part, gaussian_u8(part, sigma), dtype=cv2.CV_16S)
    # The luma planes of the blend stage only (detail_on_luma): colour callers drop `keep`.
    gain = 0.0 if part.ndim != 2 else edge_gain(part, fine, image[ya:yb, xa:xb], shown_alpha * weight, sigma, step,
                                                GRAIN_LIMIT, None if image_low is None else image_low[ya:yb, xa:xb])
    keep_box = (ya, yb, xa, xb)
    # The brows' and lids' gain is measured over them alone (the nose's own band is kept at
    # NOSE_KEEP, not matched to the camera's energy there); the nose is limited and kept as they are.
    keep_nose = part.ndim == 2 and float(nose_weight.max()) > 0.002
    if gain > 0.05 or keep_nose:
        keep = np.maximum(gain * weight, NOSE_KEEP * nose_weight) if keep_nose else gain * weight
        # Handed on over its own bounding box only (camera_detail's pass over it is per pixel).
        kx, ky, kw, kh = cv2.boundingRect((keep > 0.002).astype(np.uint8))
        if step > 1:
            keep = cv2.resize(keep, (width, height), interpolation=cv2.INTER_LINEAR)
        if kw and kh:
            ky0, ky1 = max(0, (ky - 1) * step), min(height, (ky + kh + 1) * step)
            kx0, kx1 = max(0, (kx - 1) * step), min(width, (kx + kw + 1) * step)
            keep = keep[ky0:ky1, kx0:kx1]
            keep_box = (ya + ky0, ya + ky1, xa + kx0, xa + kx1)
    # The nose's weight is 0 outside its own rows and columns (at half size, grown by the
    # enlargement's reach): the two weights' maximum is taken there only (weights are >= 0).
    nose_at = bounds(nose_weight)
    if nose_at is not None and step > 1:
        nose_at = (max(0, (nose_at[0] - 1) * step), min(height, (nose_at[1] + 1) * step),
                   max(0, (nose_at[2] - 1) * step), min(width, (nose_at[3] + 1) * step))
    if step > 1:
        weight = cv2.resize(weight, (width, height), interpolation=cv2.INTER_LINEAR)
        nose_weight = cv2.resize(nose_weight, (width, height), interpolation=cv2.INTER_LINEAR)
    if nose_at is not None:
        piece = weight[nose_at[0]:nose_at[1], nose_at[2]:nose_at[3]]
        np.maximum(piece, nose_weight[nose_at[0]:nose_at[1], nose_at[2]:nose_at[3]], out=piece)
    # The band limited to GRAIN_LIMIT where weight is 1: band + weight * (clip(band) - band).
    # ... and only the band finest of all (below `sigma`, the grain's) is kept, limited: the
    # target's brow clipped over the whole band reached camera_detail as a coherent line of
    # GRAIN_LIMIT levels along the brow, 4 to 6 px wide, the thin ghost brow still seen over s9's
    # soft brow on d6. Its edges in the finest band alone, limited, are a line a pixel wide.
    # (In int16: whole grey levels, the same numbers the float32 multiply below reads.)
    excess = cv2.subtract(np.clip(fine, -GRAIN_LIMIT, GRAIN_LIMIT), band)
    if nose_at is not None:
        _nose_reaches_further(excess, part, fine, nose_weight, step, NOSE_WIDE * wide, nose_at)
    # The float32 product rounded to int16 in the multiply's own pass: OpenCV's conversion rounds
    # half to even, as np.rint does, so these are the same numbers as np.rint(product).astype(int16)
    # without the float copy and two passes over the part (issue 13's budget; tests/test_blend_budget.py).
    change = cv2.multiply(excess, weight if excess.ndim == 2 else cv2.merge([weight] * 3), dtype=cv2.CV_16S)
    out = target.copy()
    out[ya:yb, xa:xb] = cv2.add(part, change, dtype=cv2.CV_8U)
    return out, None if keep is None else (keep, keep_box)


# The new face's facial hair (a source's moustache) keeps its own finest band too: exchanged for
# the target camera's skin grain, s12's moustache lost its strands and read as a smooth dark mass,
# "a painted patch" on d14 and d9 (issue 13; the clean texture still has 0.9-1.0 of the photo's
# finest band there, benchmarks/results/s21-s12). Hair is found as the swapper's texture finds it
# (realtime/swap/texture.py, _moustache_zone): in the zone where a moustache grows (the nostrils'
# base to the lips, widened), pixels of the new face much darker than its cheeks, by this
# fraction of the cheeks' grey, fully from HAIR_DARK - HAIR_SOFT. A clean-shaven upper lip is
# skin-coloured and keeps the camera's grain.
HAIR_DARK = 0.6
HAIR_SOFT = 0.15
# ... only where the zone holds a moustache's mass (this fraction of it dark, without the lips):
# the nostrils and the mouth's corners of a clean-shaven face are dark too, and are no hair.
HAIR_MASS = 0.12
# ... and the strands' light gaps and fringe beside the dark hair (fraction of the face size).
HAIR_GROW = 0.012
# The new face's own band there, kept this much (above 1: raised past EDGE_CORE levels,
# camera_detail). Kept as drawn: raised 1.3x the strands looked only a little crisper on the
# written s12 -> d9/d14 frames while the soft d14's sharpness_match rose 2.09 -> 2.34 (start 1.45).
HAIR_GAIN = 1.0
# The cheek points (MediaPipe) the hair's darkness is measured against.
_CHEEKS = (50, 280, 118, 347, 101, 330)


def cheek_pixels(local: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(rows, columns) of the _CHEEKS points (`local`: landmarks in the picture's pixels) that lie
    in a picture of `height` x `width`, to index it with; None when fewer than three do."""
    cheeks = np.round(local[list(_CHEEKS)]).astype(int)
    inside = (cheeks[:, 0] >= 0) & (cheeks[:, 0] < width) & (cheeks[:, 1] >= 0) & (cheeks[:, 1] < height)
    if inside.sum() < 3:
        return None
    return cheeks[inside, 1], cheeks[inside, 0]


def hair_weight(image: np.ndarray, alpha: np.ndarray, points: np.ndarray, box: Box,
                face_size: float, moustache: bool | None = None) -> FeatureWeight | None:
    """How much of the new face's own finest band camera_detail keeps over its facial hair (a
    weight over a part of the box, as feature_band's; None: no moustache). `image`: the new face's
    luma over the box; `points`: its landmarks in frame pixels.

    `moustache`: whether the source photo has one, decided once per photo (has_moustache, on the
    clean texture: FaceLayer.moustache). False: None at once, nothing measured (the 0.27 ms a
    frame a clean-shaven s42 or s9 paid for the same answer each frame); True: the hair is where
    the new face is dark in the zone, without this frame's HAIR_MASS test (a frame whose
    moustache reads a little lighter, or partly hidden, does not drop the whole keep); None (a
    swapper that does not say): decided on this frame, as the photo would be."""
    from realtime.swap.texture import _MOUSTACHE_REACH, _NOSTRILS

    if moustache is False or image.ndim != 2:
        return None
    height, width = image.shape
    top = topology()
    local = points[:, :2].astype(np.float32) - np.array([box[0], box[1]], np.float32)
    cheeks = cheek_pixels(local, height, width)
    if cheeks is None:
        return None
    skin = float(np.median(image[cheeks]))
    # Only around the mouth: the zone's bounding box (its reach and the weight's growth included).
    around = local[list(_NOSTRILS) + list(top.outer_lips)]
    pad = (_MOUSTACHE_REACH + 3 * HAIR_GROW) * face_size + 2
    xa, ya = np.maximum(np.floor(around.min(axis=0) - pad).astype(int), 0)
    xb, yb = np.ceil(around.max(axis=0) + pad).astype(int)
    xb, yb = min(width, int(xb)), min(height, int(yb))
    if xb - xa < 8 or yb - ya < 8:
        return None
    # The weight is smooth (grown and blurred over ~1% of the face): found at half resolution
    # (2.2 ms per frame on d14's face at full size, most of it the zone's wide dilation).
    step = 2 if min(yb - ya, xb - xa) >= 32 else 1
    size = (max(1, (xb - xa) // step), max(1, (yb - ya) // step))
    part = (slice(ya, ya + size[1] * step), slice(xa, xa + size[0] * step))
    small = (local - np.array([xa, ya], np.float32) + 0.5) / step - 0.5
    # The texture's _moustache_zone (the nostrils' and outer lips' hull grown by _MOUSTACHE_REACH of
    # the face) as a distance threshold, without the lips themselves.
    hull = np.zeros(size[::-1], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(small[list(_NOSTRILS) + list(top.outer_lips)] * 16)
                                            .astype(np.int32)), 255, shift=4)
    distance = cv2.distanceTransform(255 - hull, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    lips = np.zeros_like(hull)
    cv2.fillPoly(lips, [np.round(small[top.outer_lips] * 16).astype(np.int32)], 1, shift=4)
    zone = (distance <= _MOUSTACHE_REACH * face_size / step) & (lips == 0)
    grey = area_shrink(image[part], size).astype(np.float32)
    dark = np.clip((HAIR_DARK * skin - grey) / (HAIR_SOFT * skin), 0.0, 1.0) * zone
    area = int(zone.sum())
    if area < 64 // step ** 2 or (moustache is None and float((dark > 0.5).sum()) < HAIR_MASS * area):
        return None
    grow = max(1, int(round(HAIR_GROW * face_size / step)))
    weight = cv2.dilate(dark, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    weight = cv2.GaussianBlur(weight, (0, 0), grow)
    if step > 1:
        weight = cv2.resize(weight, (size[0] * step, size[1] * step), interpolation=cv2.INTER_LINEAR)
    weight *= alpha[part]
    return (HAIR_GAIN * weight).astype(np.float32), (int(ya), int(ya + weight.shape[0]), int(xa),
                                                     int(xa + weight.shape[1]))


def has_moustache(picture: np.ndarray, points: np.ndarray, face_size: float) -> bool:
    """Whether the face at `points` (its landmarks in `picture`'s pixels) in a source photo
    (`picture`, BGR or grey: the clean texture) has a moustache: hair_weight's test (a
    moustache's mass of dark pixels between the nostrils and the lips) on the photo itself, once
    per photo, over the face's oval only (s10's black background beside her turned cheek filled
    the zone's far end: 0.16 of it dark, 0.06 within the oval). s12: 0.30 of the zone dark, yes;
    s0, s6 (a terracotta warrior's sculpted moustache, 0.107), s7, s9, s10, s42: no
    (benchmarks/results/s22-brows)."""
    outline = points[topology().face_oval, :2].astype(np.float32)
    # Over the oval's bounding box only (a raw photo, clean_source off, may be 4000 px wide).
    x0, y0 = np.maximum(np.floor(outline.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.ceil(outline.max(axis=0)).astype(int) + 2
    grey = as_grey(picture[y0:y1, x0:x1])
    height, width = grey.shape
    oval = np.zeros((height, width), np.uint8)
    cv2.fillPoly(oval, [np.round((outline - (x0, y0)) * 16).astype(np.int32)], 1, shift=4)
    grey = np.where(oval > 0, grey, np.uint8(255))
    return hair_weight(grey, np.ones((height, width), np.float32), points, (int(x0), int(y0), int(x0) + width,
                                                                          int(y0) + height), face_size) is not None


# hair_gain: the kept band's share from this camera-to-hair ratio of "drawn as sharply" (below:
# none), all of it from HAIR_SHARP_FULL (a camera as crisp as the new face's hair, or crisper).
HAIR_SHARP_FROM = 0.8
HAIR_SHARP_FULL = 1.1


def hair_gain(image: np.ndarray, camera: np.ndarray, alpha: np.ndarray, hair: FeatureWeight,
              sigma: float) -> float:
    """How much of hair_weight's keep camera_detail gets (0..1): the moustache's strands are
    kept only as crisply as the target camera draws. `image`: the new face's luma over the box;
    `camera`: the target's; `hair`: hair_weight's weight; `sigma`: the split (split_sigma).

    Why: s12's strands kept as the photo draws them (s21-hair, gain 1) were far crisper than the
    soft d20 and d14 draw anything: sharpness_match 1.28 -> 1.96 on d20, 1.57 -> 2.16 on d14 (in
    process, tests/test_swap_edges.py bounds d20 at 1.3), a crisp dark patch pasted on a blurry
    face. The ratio compared is "drawn as sharply": the finest band's energy (below `sigma`) over
    the next band's (`sigma` .. 2 `sigma`), the camera's over its whole face against the new face's
    over its hair; as an amplitude, the camera's point spread at the finest band against the
    hair's. The camera's own ratio counts its sensor and compression grain as fine detail, so a
    soft camera still reads 0.64-0.77 (d20, d14 frames 5/15/25 with s12; d6 0.82-0.86, d3
    0.94-1.36, d10 1.07-1.09, d9 1.33-1.42, d13 1.54-1.66): kept from HAIR_SHARP_FROM, fully from
    HAIR_SHARP_FULL (d9, d13 all of it, d6 0.06-0.21). The face keeps its own band above `sigma`
    everywhere: on the soft cameras the moustache's clumps stay, drawn at the camera's blur.
    A share of the band kept "up to the camera's level" (its fine energy over the face) instead
    still gave d20 1.45 at 0.41 of the band, 1.32 at 0.12."""
    zone, (ya, yb, xa, xb) = hair
    # At half resolution or less (the bands are then sigma/step ..., sigma/step >= 0.75 px there):
    # ratios over a zone need not every pixel, like detail.crossover_fill; the camera's whole
    # face cost ~10 ms at half size on a 700-px box on the loaded 2-core machine.
    step = max(2, int(sigma / 0.75))
    ratios = []
    for picture, weight in ((image[ya:yb, xa:xb], zone), (camera, alpha)):
        size = (max(1, picture.shape[1] // step), max(1, picture.shape[0] // step))
        where = (area_shrink(weight, size) > 0.5).astype(np.uint8)
        if cv2.countNonZero(where) < 16:
            return 0.0  # too few pixels to tell: the camera's grain, as without a moustache
        grey = area_shrink(picture, size).astype(np.float32)
        low = cv2.GaussianBlur(grey, (0, 0), sigma / step)
        fine, coarse = grey - low, low - cv2.GaussianBlur(low, (0, 0), 2 * sigma / step)
        # Mean squares as mean^2 + variance: one pass each, no squared copies.
        energy = [float(m[0, 0] ** 2 + d[0, 0] ** 2) for m, d in
                  (cv2.meanStdDev(band, mask=where) for band in (fine, coarse))]
        ratios.append(energy[0] / max(energy[1], 1e-6))
    drawn = float(np.sqrt(ratios[1] / max(ratios[0], 1e-6)))
    return float(np.clip((drawn - HAIR_SHARP_FROM) / (HAIR_SHARP_FULL - HAIR_SHARP_FROM), 0.0, 1.0))


def merge_weights(first: FeatureWeight | None, second: FeatureWeight | None) -> FeatureWeight | None:
    """The larger of two weights over parts of the box, over the part covering both."""
    if first is None or second is None:
        return first if second is None else second
    (a, (ay0, ay1, ax0, ax1)), (b, (by0, by1, bx0, bx1)) = first, second
    y0, y1, x0, x1 = min(ay0, by0), max(ay1, by1), min(ax0, bx0), max(ax1, bx1)
    out = np.zeros((y1 - y0, x1 - x0), np.float32)
    out[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0] = a
    part = out[by0 - y0:by1 - y0, bx0 - x0:bx1 - x0]
    np.maximum(part, b, out=part)
    return out, (y0, y1, x0, x1)


# The target's brow is erased where it is darker than its closing (a grey dilation then erosion
# with a disc this wide, fraction of the face size: wider than a brow is thick, narrower than a
# lock of hair or the eye's shadow) by this many grey levels, fully from twice that.
ERASE_DISC = 0.06
ERASE_FROM = 6.0
# ... where the new face shows: from the first layer alpha, fully from the second (its soft edge
# included: the target's brow tail showed through it), not where it keeps the target (d6's hair
# at the temples: erased from alpha 0, the hair there moved 6.3 levels, test_blend_edge_hair).
ERASE_SHOWN = (0.1, 0.4)
# The erasure is found and filled at about this many pixels per face size (a brow is a few
# pixels thick there): at full size it cost 20 ms on d13's 609-px face; at 300 px 3.8 ms in the blend
# stage; at 150 px this branch's blend stage costs 3.0 (d13 + s42) and 1.9 ms (d6 + s9) more than main's.
ERASE_PX = 150
# The grain kept on the fill: the band below this Gaussian sigma (pixels).
ERASE_GRAIN_SIGMA = 1.0


def erase_brows(target: np.ndarray, alpha: np.ndarray, points: np.ndarray, box: Box, face_size: float,
                kept: tuple[np.ndarray, tuple[int, int]] | None = None, image: np.ndarray | None = None,
                amount: float = 1.0, whole_steps: bool = True) -> None:
    """`target` (the picture under the layer, the box's pixels), in place, with its own brows
    filled from the skin around them (push-pull, realtime/swap/fill.py) where the new face
    (`alpha`, the layer's) shows.

    Why: the new face's brow lies where the source's brow maps, not where the target's is. Under
    the layer's soft edge (a brow's tail reaches the temples) and wherever the new face is not
    fully opaque, the target's own brow showed through beside the new one: s9 on d6, a thin
    high arched brow over s9's low soft one, "doubled-looking brows" (issue 13's blind judge).
    Erased, the picture under the layer has one brow only, the new face's. The target's kept
    features (`kept`, glasses rims along the brows' lower edge: d9) stay, and so does the target's
    brow where the new face (`image`, over the box) has a brow of its own: there its hairs' edges
    are the new brow's crispness through the camera detail (d13 under s42: 0.83 of the camera's
    sharpness, 0.81 with that part erased too). `amount`: the blend's opacity (at 0 the picture
    is the camera's, untouched). `whole_steps`: each brow's region cut to a whole number of
    working steps (see below); False: as found (the blend stage's erase of the picture that gives
    the face its grain)."""
    if amount <= 0:
        return
    from realtime.swap.fill import push_pull_fill

    top = topology()
    x0, y0 = box[0], box[1]
    height, width = target.shape[:2]
    reach = BROW_REACH * face_size
    local = points[:, :2].astype(np.float32) - np.array([x0, y0], np.float32)
    for brow in (top.right_eyebrow, top.left_eyebrow):
        corners = local[brow]
        xa, ya = np.floor(corners.min(axis=0) - 2 * reach).astype(int)
        xb, yb = np.ceil(corners.max(axis=0) + 2 * reach).astype(int)
        xa, ya, xb, yb = max(0, xa), max(0, ya), min(width, xb), min(height, yb)
        # The mask and the fill are smooth at a brow's scale: found at ~ERASE_PX per face.
        step = max(1, int(face_size // ERASE_PX))
        # The region a whole number of steps wide and tall (its far side moved in by under a
        # step, at twice the brow's reach, where `near` is 0 from 1.5): OpenCV's INTER_AREA
        # takes its integer-factor path, a third of the cost of the fractional one for the
        # reductions per brow (issue 13, benchmarks/results/s28-swapcost).
        if whole_steps:
            xb, yb = _whole_steps(xa, xb, step), _whole_steps(ya, yb, step)
        if xb - xa < 4 or yb - ya < 4:
            continue
        part = target[ya:yb, xa:xb]
        shown = alpha[ya:yb, xa:xb]
        held = np.zeros(shown.shape, np.float32)
        anything_held = False
        if kept is not None:
            keep, (kx, ky) = kept
            sx0, sy0 = max(xa, kx), max(ya, ky)
            sx1, sy1 = min(xb, kx + keep.shape[1]), min(yb, ky + keep.shape[0])
            if sx1 > sx0 and sy1 > sy0:
                held[sy0 - ya:sy1 - ya, sx0 - xa:sx1 - xa] = keep[sy0 - ky:sy1 - ky, sx0 - kx:sx1 - kx]
                anything_held = bool(held.any())
        size = (max(1, (xb - xa) // step), max(1, (yb - ya) // step))
        work = part if step == 1 else cv2.resize(part, size, interpolation=cv2.INTER_AREA)
        if step > 1:
            shown = cv2.resize(shown, size, interpolation=cv2.INTER_AREA)
            # Nothing kept over this brow (no glasses, or frames elsewhere): zeros at any size.
            held = cv2.resize(held, size, interpolation=cv2.INTER_AREA) if anything_held else \
                np.zeros(shown.shape, np.float32)
        scale = work.shape[1] / part.shape[1]
        zone = np.zeros(work.shape[:2], np.uint8)
        hull = cv2.convexHull(np.round((corners - (xa, ya)) * scale * 16).astype(np.int32))
        cv2.fillConvexPoly(zone, hull, 255, lineType=cv2.LINE_AA, shift=4)
        distance = cv2.distanceTransform(255 - zone, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        near = np.clip(1.5 - distance / max(reach * scale, 1.0), 0.0, 1.0)  # 1 to half the reach, 0 past 1.5x
        grey = as_grey(work)
        disc_px = max(3, int(round(ERASE_DISC * face_size * scale)) | 1)
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (disc_px, disc_px))
        dark = cv2.subtract(cv2.morphologyEx(grey, cv2.MORPH_CLOSE, disc), grey).astype(np.float32)
        brow_mask = np.clip((dark - ERASE_FROM) / ERASE_FROM, 0.0, 1.0)
        # A pixel or two around: a brow's soft outer hairs are not darker by ERASE_FROM.
        grow = max(1, int(round(0.006 * face_size * scale)))
        ring = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
        brow_mask = cv2.dilate(brow_mask, ring)
        brow_mask = cv2.GaussianBlur(brow_mask, (0, 0), grow)
        weight = brow_mask * near * np.clip((shown - ERASE_SHOWN[0]) / (ERASE_SHOWN[1] - ERASE_SHOWN[0]), 0.0, 1.0) * min(1.0, amount)
        if image is not None:
            new = image[ya:yb, xa:xb]
            new = as_grey(new if step == 1 else cv2.resize(new, size, interpolation=cv2.INTER_AREA))
            own = cv2.subtract(cv2.morphologyEx(new, cv2.MORPH_CLOSE, disc), new).astype(np.float32)
            # The target's brow is kept as far as the new face's own brow is as dark there (both
            # grown alike: the target blended onto itself is unchanged): the target's darkness
            # beyond the new brow's is erased. A faint new brow (s42's, lifted by the colour
            # transfer on d14) kept all of a dark target brow that it overlapped, and that brow's
            # arch came back above the new one (the layer's soft edge at the tails, and its edges
            # through the camera detail): "doubled brows" (issue 13, blind check seed 48).
            own = cv2.GaussianBlur(cv2.dilate(own, ring), (0, 0), grow)
            theirs = cv2.GaussianBlur(cv2.dilate(dark, ring), (0, 0), grow)
            weight *= 1.0 - np.clip(own / np.maximum(theirs, 1e-3), 0.0, 1.0)
        if anything_held and held.any():
            # The disc at half its sampling; a 3-px disc's corners are all 0 (an empty kernel:
            # OpenCV's dilate then gives -FLT_MAX, and the kept frames went unprotected on a small face).
            grown = disc[::2, ::2].copy()
            grown = grown if grown.any() else np.ones((1, 1), np.uint8)
            weight *= 1.0 - np.clip(cv2.dilate(held, grown) * 2.0, 0.0, 1.0)
        if float(weight.max()) < 0.02:
            continue
        filled = push_pull_fill(work, (weight < 0.02).astype(np.uint8))
        if work.ndim == 2:
            filled = filled[..., 0]
        if step > 1:
            full = (xb - xa, yb - ya)
            weight = cv2.resize(weight, full, interpolation=cv2.INTER_LINEAR)
            filled = cv2.resize(filled, full, interpolation=cv2.INTER_LINEAR)
        _fill_with_grain(part, weight, filled)


# The target's upper lashes past its kept eye (issue 13, s35-s10d10). The eye zone keeps the target's
# eye and its lid margin (swap/eyes.py, EYE_MARGIN_UP(_OPEN): 0.012-0.024 of the face above the
# contour) with a soft edge; long lashes (d10's mascara, 0.05 of the face) reach past it, and their
# tips were drawn over the new face's lid, under the mask's soft edge and through the camera detail
# (the limited band's residue where the layer's alpha is partial): a hairy arc over each eye that,
# under a painting's faint brow, read as a second, lower brow ("ghosted double eyebrows", s10 on d10,
# blind check seed 43). In the picture the camera detail reads (the blend stage) they are filled with
# the lid's skin between them (a grey closing) where the new face shows, from above the upper lid's
# contour up to LASH_UP of the face and LASH_SIDE past its corners; the kept eye (the layer's alpha
# under ERASE_SHOWN) keeps its lash line as it is.
LASH_UP = 0.06
LASH_SIDE = 0.02
# The closing's disc (fraction of the face size): wider than a lash (2-3 px on a 380-px face), narrower
# than the eye opening (its dark iris and lid margin are not filled).
LASH_DISC = 0.025
# Found and filled at about this many pixels per face size: a lash is 2-3 px wide on a 380-px face,
# and at erase_brows' ERASE_PX it blurred into the skin below the closing's threshold.
LASH_PX = 300
# A lash is this many grey levels darker than the closing (fully from twice that): its thin tips
# fade to a few levels (erase_brows' ERASE_FROM, 6, left the outer half of d10's lashes).
LASH_FROM = 4.0


def erase_lashes(target: np.ndarray, alpha: np.ndarray, points: np.ndarray, box: Box, face_size: float,
                 kept: tuple[np.ndarray, tuple[int, int]] | None = None, image: np.ndarray | None = None,
                 amount: float = 1.0, whole_steps: bool = True) -> None:
    """`target` (the picture under the layer, the box's pixels; BGR or luma), in place, with its
    upper lashes past the kept eye filled with the lid's skin between them where the new face
    (`alpha`, the layer's) shows: erase_brows for the lashes (its arguments and rules: kept
    occluders stay; `whole_steps` as there).

    The fill is a grey closing (a dilation then erosion by a disc of LASH_DISC of the face): a lash
    is a thin dark line with the lid's skin on either side. Only where the new face differs from the
    target there (feature_band's DIFFER_FROM, at the lashes' scale): the target blended onto itself
    is unchanged. Both eyes are worked in one region (half the calls; the blend stage's one call, on
    the camera grain's picture: 0.5 ms a frame on d10's 383-px face, 1.0 ms on d13's 606-px one,
    measured on a loaded machine)."""
    if amount <= 0:
        return
    x0, y0 = box[0], box[1]
    height, width = target.shape[:2]
    local = points[:, :2].astype(np.float32) - np.array([x0, y0], np.float32)
    up, side = LASH_UP * face_size, LASH_SIDE * face_size
    step = max(1, int(face_size // LASH_PX))
    pad = int(np.ceil(LASH_DISC * face_size)) + 2 * step
    lids = [local[list(eye)] for eye in UPPER_LIDS]
    lids = [lid[np.argsort(lid[:, 0])] for lid in lids]
    # Both eyes in one region (the bridge between them is outside the band: its weight is 0).
    every = np.concatenate(lids)
    xa, ya = np.floor(every.min(axis=0) - (side + pad, up + pad)).astype(int)
    xb, yb = np.ceil(every.max(axis=0) + (side + pad, 2 * step)).astype(int)
    xa, ya, xb, yb = max(0, xa), max(0, ya), min(width, xb), min(height, yb)
    if whole_steps:
        xb, yb = _whole_steps(xa, xb, step), _whole_steps(ya, yb, step)
    if xb - xa < 4 or yb - ya < 4:
        return
    part = target[ya:yb, xa:xb]
    size = (max(1, (xb - xa) // step), max(1, (yb - ya) // step))
    work = part if step == 1 else cv2.resize(part, size, interpolation=cv2.INTER_AREA)
    scale = work.shape[1] / part.shape[1]
    grey = as_grey(work)
    length = max(3, int(round(LASH_DISC * face_size * scale)) | 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (length, length))
    filled = cv2.morphologyEx(work, cv2.MORPH_CLOSE, disc)
    dark = cv2.subtract(filled if filled.ndim == 2 else as_grey(filled), grey)
    if int(dark.max()) <= LASH_FROM:
        return
    # The band, per column: from the lid's contour (its ends carried LASH_SIDE past the corners)
    # up to LASH_UP above it, with soft edges of ZONE_FEATHER of the face.
    columns = (np.arange(work.shape[1], dtype=np.float32) + 0.5) / scale - 0.5 + xa
    rows = ((np.arange(work.shape[0], dtype=np.float32) + 0.5) / scale - 0.5 + ya)[:, None]
    soft = max(1.0, ZONE_FEATHER * face_size)
    lid_y = np.zeros(columns.shape, np.float32)
    ends = np.zeros(columns.shape, np.float32)
    for lid in lids:
        inside = np.clip((np.minimum(columns - lid[0, 0], lid[-1, 0] - columns) + side) / soft + 0.5, 0.0, 1.0)
        nearer = inside > ends
        lid_y[nearer] = np.interp(columns[nearer], lid[:, 0], lid[:, 1])
        ends = np.maximum(ends, inside)
    zone = np.clip((lid_y[None, :] - rows) / soft + 0.5, 0.0, 1.0) * np.clip((rows - lid_y[None, :] + up) / soft + 0.5, 0.0, 1.0)
    shown = alpha[ya:yb, xa:xb]
    shown = shown if step == 1 else cv2.resize(shown, size, interpolation=cv2.INTER_AREA)
    lash = np.clip((dark.astype(np.float32) - LASH_FROM) * (1.0 / LASH_FROM), 0.0, 1.0)
    weight = lash * zone * ends[None, :] * np.clip((shown - ERASE_SHOWN[0]) * (1.0 / (ERASE_SHOWN[1] - ERASE_SHOWN[0])),
                                                  0.0, min(1.0, amount))
    if float(weight.max()) < 0.02:
        return
    if image is not None:
        # The new face differing from the target there (a source drawing lashes where the target
        # has them keeps them; erase_brows' test, the new face's own dark lines, kept half of
        # them: a painting's lid crease and its light lid's rim are such lines).
        new = image[ya:yb, xa:xb]
        new = as_grey(new if step == 1 else cv2.resize(new, size, interpolation=cv2.INTER_AREA))
        differ = cv2.absdiff(cv2.GaussianBlur(new, (0, 0), 1.0), cv2.GaussianBlur(grey, (0, 0), 1.0)).astype(np.float32)
        weight *= np.clip((differ - DIFFER_FROM) * (1.0 / DIFFER_FROM), 0.0, 1.0)
    if kept is not None:
        keep, (kx, ky) = kept
        sx0, sy0 = max(xa, kx), max(ya, ky)
        sx1, sy1 = min(xb, kx + keep.shape[1]), min(yb, ky + keep.shape[0])
        if sx1 > sx0 and sy1 > sy0:
            held = np.zeros(part.shape[:2], np.float32)
            held[sy0 - ya:sy1 - ya, sx0 - xa:sx1 - xa] = keep[sy0 - ky:sy1 - ky, sx0 - kx:sx1 - kx]
            held = held if step == 1 else cv2.resize(held, size, interpolation=cv2.INTER_AREA)
            weight *= 1.0 - np.clip(cv2.dilate(held, disc)
                                    * 2.0, 0.0, 1.0)
    if float(weight.max()) < 0.02:
        return
    # A pixel around each lash (its soft edge is not darker by LASH_FROM), then soft.
    grow = max(1, int(round(0.004 * face_size * scale)))
    weight = cv2.GaussianBlur(cv2.dilate(weight, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)),
                              (0, 0), grow)
    if step > 1:
        full = (xb - xa, yb - ya)
        weight = cv2.resize(weight, full, interpolation=cv2.INTER_LINEAR)
        filled = cv2.resize(filled, full, interpolation=cv2.INTER_LINEAR)
    _fill_with_grain(part, weight, filled)


def _whole_steps(start: int, end: int, step: int) -> int:
    """`end` moved in so that end - start is a whole number of `step`s."""
    return end - (end - start) % step


def _fill_with_grain(part: np.ndarray, weight: np.ndarray, filled: np.ndarray) -> None:
    """`part` (in place) towards `filled` by `weight`, the camera's grain kept on the fill.

    The camera's grain stays on the fill (its finest band, limited like the brows' band in
    without_fine_features): a smooth patch on a grainy camera read as a softer face (d13: 0.83 ->
    0.80 of the camera's sharpness with the bare fill). Worked over the rows and columns the
    erasure reaches only (where weight is 0 a pixel stays as it is), grown by the grain blur's
    reach so that the grain there is that of the whole part: the same pixels, bit for bit
    (tests/test_blend_brows_budget.py)."""
    found = bounds(weight)
    if found is None:
        return
    pad = int(np.ceil(3 * ERASE_GRAIN_SIGMA)) + 1
    ra, rb = max(0, found[0] - pad), min(part.shape[0], found[1] + pad)
    ca, cb = max(0, found[2] - pad), min(part.shape[1], found[3] + pad)
    part, weight, filled = part[ra:rb, ca:cb], weight[ra:rb, ca:cb], filled[ra:rb, ca:cb]
    # The grain as int16 (whole grey levels, limited: the same values as in float32, at half the
    # bytes per pass); the add below reads it as float32.
    grain = cv2.subtract(part, gaussian_u8(part, ERASE_GRAIN_SIGMA), dtype=cv2.CV_16S)
    np.clip(grain, -GRAIN_LIMIT, GRAIN_LIMIT, out=grain)
    # part + w * (filled + grain - part) in float32, clipped and truncated: the same float32
    # operations in the same order as numpy's broadcasting expression, in OpenCV's passes
    # without numpy's temporaries (0.53 -> 0.45 ms a call on d13, four calls a frame; issue 13,
    # benchmarks/results/s23-budget).
    change = cv2.subtract(cv2.add(filled, grain, dtype=cv2.CV_32F), part, dtype=cv2.CV_32F)
    w = cv2.merge([weight] * part.shape[2]) if part.ndim == 3 and part.shape[2] > 1 else \
        weight.reshape(change.shape)
    blended = cv2.add(cv2.multiply(change, w), part, dtype=cv2.CV_32F)
    np.clip(blended, 0, 255, out=blended)
    np.copyto(part, blended.reshape(part.shape), casting="unsafe")  # truncated, as astype(np.uint8)


# The swapper's brow-to-lid band (brow_band_to_source): the mesh points' heights over each upper
# lid, up to the brow, are scaled by (the source's band / the target's) ** this (0: the target's
# band, 1: about the source's). Half: a target that raises its brows still raises the new face's
# (by the square root of its own ratio), and a browless painting's short band is not stretched
# over a tall one (s10's, 0.11 of her nose's length, over d6's 0.2-0.33 and d10's 0.37-0.44: "a
# smeared, lumpy pinkish/khaki wedge" where d6's brows were; benchmarks/results/s31-brows).
# A source worn mirrored (turned past the swapper's mirror yaw) only: swap/mesh.py, _Texture.brow_gaps.
BAND_TOWARD_SOURCE = 0.5
# Above the brow the mesh's points come back to where they were over this many of the eye's width:
# the forehead above takes up the band's change (smooth skin; no fold at the brow's top).
BAND_EASE = 0.5
# The band's top: this many eye widths above the brow's upper line.
BAND_ABOVE_BROW = 0.05
# The nose's length (its bridge between the eyes to its base) the band's height is measured
# against: vertical, so a turned face's (s10's -34 degrees) foreshortened eye width does not enter.
_NOSE_TOP, _NOSE_BASE = 168, 2


def brow_gaps(points: np.ndarray) -> np.ndarray:
    """(2,) float: each eye's (the right, then the left) brow-to-lid band height (its upper lid's
    highest point to its brow's lower line, vertical) over the nose's length. points: (>=468, 2+)."""
    from realtime.swap.eyes import BROWS_LOW

    nose = max(abs(float(points[_NOSE_BASE, 1] - points[_NOSE_TOP, 1])), 1e-3)
    return np.array([(float(points[list(UPPER_LIDS[eye]), 1].min()) - float(points[list(BROWS_LOW[eye]), 1].mean())) / nose
                     for eye in (0, 1)])


def brow_band_to_source(target: np.ndarray, source_gaps: np.ndarray) -> np.ndarray:
    """`target` (the mesh's points the texture is drawn on, (N, 2+), frame pixels) with each brow-
    to-lid band lowered toward the source's height (brow_gaps; BAND_TOWARD_SOURCE of the way in log
    space, never raised): the points between the upper lid and BAND_ABOVE_BROW above the brow come
    down in proportion to their height over the lid, those up to BAND_EASE eye widths higher come
    back to where they were. Only the texture's mapping: the target's own brows (the blend stage's
    landmarks) stay where the camera has them, erased under the new face (erase_brows)."""
    if not source_gaps.any():
        return target  # a source worn as it is (swap/mesh.py, _Texture.brow_gaps)
    gaps = brow_gaps(target)
    out = target.copy()
    top = topology()
    for eye, brow in ((0, top.right_eyebrow), (1, top.left_eyebrow)):
        if gaps[eye] <= 0 or source_gaps[eye] <= 0:
            continue
        factor = min(1.0, float(source_gaps[eye] / gaps[eye]) ** BAND_TOWARD_SOURCE)
        if factor >= 0.999:
            continue
        lid = target[list(UPPER_LIDS[eye]), :2]
        width = float(np.linalg.norm(lid[-1] - lid[0]))
        lid = lid[np.argsort(lid[:, 0])]
        hairs = target[brow, :2]
        x, y = target[:, 0], target[:, 1]
        inside = (x >= hairs[:, 0].min() - 0.1 * width) & (x <= hairs[:, 0].max() + 0.1 * width)
        lid_y = np.interp(x, lid[:, 0], lid[:, 1])
        band = np.maximum(lid_y - (float(hairs[:, 1].min()) - BAND_ABOVE_BROW * width), 1e-3)
        ease = BAND_EASE * width
        height = lid_y - y
        lowered = np.where(height <= band, height * factor,
                           band * factor + (height - band) * (band + ease - band * factor) / ease)
        move = inside & (height > 0) & (height < band + ease)
        out[move, 1] = (lid_y - lowered)[move]
    return out
