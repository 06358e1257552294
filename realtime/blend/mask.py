"""Face masks: the face oval, eroded and feathered in proportion to the face, with the holes
where the target's own eyes and mouth must show through."""

from __future__ import annotations

import cv2
import numpy as np

from realtime.blend.kernels import area_shrink, gaussian_u8, wide_blur
from realtime.faces.topology import topology
from realtime.frame import Box
from realtime.settings import BlendSettings

# The outer mask is built at 1/_OUTER_STEP resolution: it is blurred by many pixels anyway.
_OUTER_STEP = 4
# The open mouth's soft edge, fraction of the face size (Gaussian sigma).
MOUTH_FEATHER = 0.025


def _odd(value: float) -> int:
    size = int(value) | 1
    return max(size, 1)


# How far the eyes' soft edge is moved out of their contour, in the edge's own Gaussian sigmas
# (benchmarks/results/s23-eyes).
EYE_EDGE_OUT = 0.5


def face_mask(points: np.ndarray, box: Box, face_size: float, settings: BlendSettings) -> np.ndarray:
    """(h, w) float32 alpha over `box`: 1 on the face, 0 outside, soft in between.

    points: (>=468, 2) landmarks in frame pixels.
    The outer edge is pulled in by erosion + feather so that the soft edge ends inside the face
    oval (where the warped face ends); the eyes and the inner mouth are cut out with a narrow
    soft edge (outside the eyes' contour: EYE_EDGE_OUT), or the whole lips, with mouth_mask.
    """
    top = topology()
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    local = points[:, :2] - np.array([x0, y0], dtype=np.float32)

    small_w = max(1, -(-width // _OUTER_STEP))
    small_h = max(1, -(-height // _OUTER_STEP))
    # The oval is drawn on a canvas with a margin around the box: the distance below must see
    # the oval's own border, not the box's (erode/blur treat pixels beyond the picture as
    # face, which left the mask at 0.6-0.9 along the box edge: a straight seam).
    pad = 2
    outer = np.zeros((small_h + 2 * pad, small_w + 2 * pad), dtype=np.uint8)
    oval = np.round((local[top.face_oval] / _OUTER_STEP + pad) * 16).astype(np.int32)
    cv2.fillPoly(outer, [oval], 255, shift=4)
    # The ramp spans twice the feather: as soft as the erode-then-blur it replaces.
    feather_px = 2.0 * settings.feather * face_size / _OUTER_STEP
    erode_px = settings.erosion * face_size / _OUTER_STEP
    # Distance (small pixels) inside the oval; the alpha is a smoothstep of it, exactly 0 on the
    # oval's border and outside it, 1 from erosion + feather inwards: it reaches zero inside
    # the layer box everywhere the oval lies inside the frame, and never has a corner.
    inside = cv2.distanceTransform(outer, cv2.DIST_L2, cv2.DIST_MASK_5)[pad:pad + small_h, pad:pad + small_w]
    ramp = np.clip((inside - erode_px - 1.0) / max(feather_px, 0.75), 0.0, 1.0)
    outer = ramp * ramp * (3.0 - 2.0 * ramp)
    alpha = cv2.resize(outer, (width, height), interpolation=cv2.INTER_LINEAR)

    eyes = np.zeros((height, width), dtype=np.uint8)
    eye_polygons = [local[region] for region in (top.right_eye, top.left_eye)]
    cv2.fillPoly(eyes, [np.round(polygon * 16).astype(np.int32) for polygon in eye_polygons],
                 255, lineType=cv2.LINE_AA, shift=4)
    mouth = np.zeros((height, width), dtype=np.uint8)
    mouth_polygon = local[top.outer_lips if settings.mouth_mask else top.inner_mouth]
    cv2.fillPoly(mouth, [np.round(mouth_polygon * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    grow = 1
    if settings.mouth_mask:
        grow = _odd(0.03 * face_size)
        mouth = cv2.dilate(mouth, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    # Where each island can be non-zero, from its own points (an anti-aliased edge reaches a
    # pixel past them, the dilation grow // 2 more): the blurs and the cut below work on these
    # rectangles instead of searching the masks for their islands (0.8 ms of Python per face).
    eye_rects = [_around(polygon, 2) for polygon in eye_polygons]
    mouth_rects = [_around(mouth_polygon, 2 + grow // 2)]
    # The eyes' edge is narrow (lashes and lids are sharp); the open mouth's is wider: its edge
    # runs along the lips, where the source's lip met the target's own inner lip in a straight
    # line a quarter of a face long (the worst seams of the written runs).
    # The wide edge reaches outwards only: a slightly open mouth still shows all of its inside.
    narrow = max(0.8, 0.006 * face_size)
    # The eyes' edge lies outside their contour: the opening is wholly the target's. Centred on
    # the contour, the edge drew the source's lid half over the opening's rim, over the target's
    # own lash line and liner there: the eye looked narrower than the target's, its lash line
    # grey (d6's left eye under s12: 0.06 less open than hers by MediaPipe on the written file,
    # 0.05 here). The eyes grown by EYE_EDGE_OUT edge sigmas (>= 1 px) before the blur, the hole is
    # ~0.7 on the contour and whole inside it; 1 sigma (0.84) cost more identity for little more.
    grown = max(1, int(round(EYE_EDGE_OUT * narrow)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grown + 1, 2 * grown + 1))
    eye_rects = [(max(0, x0 - grown), max(0, y0 - grown), min(width, x1 + grown), min(height, y1 + grown))
                 for x0, y0, x1, y1 in eye_rects]
    eyes_out = np.zeros_like(eyes)
    for x0, y0, x1, y1 in eye_rects:  # only around each eye (the box is mostly empty)
        if x1 > x0 and y1 > y0:
            np.maximum(eyes_out[y0:y1, x0:x1], cv2.dilate(eyes[y0:y1, x0:x1], disc), out=eyes_out[y0:y1, x0:x1])
    holes, near = _blur_around(cv2.max(eyes_out, mouth), narrow, eye_rects + mouth_rects)
    holes = cv2.max(holes, eyes)
    wide = max(narrow, MOUTH_FEATHER * face_size)
    wide_holes, far = _blur_around(mouth, wide, mouth_rects)
    holes = cv2.max(holes, wide_holes)
    _cut_holes(alpha, holes, _merged(near + far, 0))
    return alpha


def _around(points: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the pixels within `margin` of the points' bounding box."""
    low, high = np.floor(points.min(axis=0)), np.ceil(points.max(axis=0))
    return (int(low[0]) - margin, int(low[1]) - margin, int(high[0]) + margin + 1, int(high[1]) + margin + 1)


def _merged(rects: list, reach: int) -> list[tuple[int, int, int, int]]:
    """`rects` grown by `reach` on every side, those that then overlap joined into their common
    bounding rectangle (until none overlap)."""
    pending = [(x0 - reach, y0 - reach, x1 + reach, y1 + reach) for x0, y0, x1, y1 in rects]
    done: list[tuple[int, int, int, int]] = []
    while pending:
        x0, y0, x1, y1 = pending.pop()
        for index, (a0, b0, a1, b1) in enumerate(done):
            if a0 < x1 and x0 < a1 and b0 < y1 and y0 < b1:
                del done[index]
                pending.append((min(x0, a0), min(y0, b0), max(x1, a1), max(y1, b1)))
                break
        else:
            done.append((x0, y0, x1, y1))
    return done


def _cut_holes(alpha: np.ndarray, holes: np.ndarray, rects: list | None = None) -> None:
    """alpha *= 1 - holes / 255, in place, only over the holes' own islands (the eyes and the
    mouth): three float passes over the whole face box cost more than the holes themselves.
    rects: rectangles that hold every non-zero pixel of `holes` (else they are searched for)."""
    height, width = holes.shape
    if rects is None:
        rects = _islands(holes, 1)
    for x0, y0, x1, y1 in rects:
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
        if x1 <= x0 or y1 <= y0:
            continue
        part = alpha[y0:y1, x0:x1]
        part *= 1.0 - holes[y0:y1, x0:x1].astype(np.float32) * (1.0 / 255.0)


def _islands(mask: np.ndarray, gap: int) -> list[tuple[int, int, int, int]]:
    """Rectangles (x0, y0, x1, y1) that together hold every non-zero pixel of `mask`, split
    wherever a band of at least `gap` empty rows or columns runs across (recursive XY cut): the
    two eyes and the mouth, not the box around all three."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return []
    pending, done = [(x, y, x + w, y + h)], []
    while pending:
        x0, y0, x1, y1 = pending.pop()
        part = mask[y0:y1, x0:x1]
        for axis in (1, 0):
            used = np.flatnonzero(part.any(axis=axis))
            jumps = np.flatnonzero(np.diff(used) > gap)
            if len(jumps):
                cut = jumps[0]
                if axis == 1:  # rows
                    pending += [(x0, y0, x1, y0 + used[cut] + 1), (x0, y0 + used[cut + 1], x1, y1)]
                else:
                    pending += [(x0, y0, x0 + used[cut] + 1, y1), (x0 + used[cut + 1], y0, x1, y1)]
                break
        else:
            # Tight rectangle around what is left.
            rx, ry, rw, rh = cv2.boundingRect(part)
            done.append((x0 + rx, y0 + ry, x0 + rx + rw, y0 + ry + rh))
    return done


def _blur_around(mask: np.ndarray, sigma: float, rects: list | None = None):
    """GaussianBlur of a uint8 mask, computed only around its non-zero pixels (the eyes and the
    mouth are a small part of the face box).

    rects: rectangles (x0, y0, x1, y1) that hold every non-zero pixel of `mask`; then returns
    (blurred, the rectangles written), else they are searched for and only the picture is returned."""
    out = np.zeros_like(mask)
    reach = int(np.ceil(3 * sigma)) + 1
    # Each island (an eye, the mouth) on its own: the box around all of them is most of the
    # face. Islands at least 2 * reach apart never see each other through the kernel, so the
    # result is the same as one blur over their common box. Rectangles given may be larger than
    # their islands (zeros around them blur to zeros): the same numbers again.
    found = rects is None
    areas = [(x - reach, y - reach, right + reach, bottom + reach) for x, y, right, bottom in _islands(mask, 2 * reach)] \
        if rects is None else _merged(rects, reach)
    written = []
    for x0, y0, x1, y1 in areas:
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(mask.shape[1], x1), min(mask.shape[0], y1)
        if x1 <= x0 or y1 <= y0:
            continue
        # A wide blur (the open mouth's outward edge, 15 px on a 600-px face) at a reduced size.
        out[y0:y1, x0:x1] = wide_blur(mask[y0:y1, x0:x1], sigma) if sigma >= 8 else gaussian_u8(mask[y0:y1, x0:x1], sigma)
        written.append((x0, y0, x1, y1))
    return out if found else (out, written)


def skin_mask(points: np.ndarray, box: Box, face_size: float, alpha: np.ndarray | None = None,
              step: int = 1) -> np.ndarray:
    """uint8 {0, 1}: the skin of the face inside `box`, for colour statistics, at 1/step of the
    box's resolution ((h // step, w // step), at least 1x1).

    The face oval less the eyes, eyebrows and lips (dilated a little): red lips, dark brows and
    the whites of the eyes would otherwise pull the mean colour of a skin patch off, and they
    differ most between two faces. Where `alpha` is given, only where the new face shows (> 0.5).
    """
    top = topology()
    x0, y0, x1, y1 = box
    width, height = max(1, (x1 - x0) // step), max(1, (y1 - y0) // step)
    scale = np.array([width / (x1 - x0), height / (y1 - y0)], dtype=np.float32)
    local = (points[:, :2] - np.array([x0, y0], dtype=np.float32)) * scale
    skin = np.zeros((height, width), dtype=np.uint8)
    cv2.fillPoly(skin, [np.round(local[top.face_oval] * 16).astype(np.int32)], 1, shift=4)
    features = np.zeros_like(skin)
    polygons = [np.round(local[region] * 16).astype(np.int32)
                for region in (top.outer_lips, top.right_eye, top.left_eye)]
    polygons += [np.round(cv2.convexHull(local[brow]) * 16).astype(np.int32).reshape(-1, 2)
                 for brow in (top.right_eyebrow, top.left_eyebrow)]
    cv2.fillPoly(features, polygons, 1, shift=4)
    grow = _odd(0.04 * face_size * float(scale.mean()))
    features = cv2.dilate(features, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    skin &= 1 - features
    if alpha is not None:
        if alpha.shape != skin.shape:
            alpha = area_shrink(alpha, (width, height))
        skin &= (alpha > 0.5).astype(np.uint8)
    return skin


# A target pixel in the mask's feathered band whose lightness is off the target's own skin by
# more than EDGE_OFF_SKIN (fraction of the skin's lightness) is not the face (hair, background),
# and the new face is gone from it by EDGE_OFF_SKIN + EDGE_OFF_SOFT.
EDGE_OFF_SKIN = 0.3
EDGE_OFF_SOFT = 0.2
# A band pixel lighter than the skin nearby whose colour (8-bit LAB a*, b*) is within this of the
# skin's is lit skin (edge_off_skin); twice this away, it is not skin.
EDGE_LIT_CHROMA = 6.0
# The skin a band pixel is compared with: the ring inside the band within this distance
# (Gaussian sigma, face sizes), its pixels under this fraction of the ring's median left out.
EDGE_SKIN_NEAR = 0.1
EDGE_RING_FLOOR = 0.55
# ... and the reference is at least this fraction of the ring's median.
EDGE_REFERENCE_FLOOR = 0.7
# The target's eyes, grown by this much (face sizes), are never left to the target.
EDGE_FEATURE_GROW = 0.01
# Within EDGE_BROW_NEAR of a brow's hull (face sizes), only what is EDGE_BROW_THICK across
# (a disc's diameter, face sizes) is left to the target: a thick brow's tail is thinner, hair broader.
EDGE_BROW_NEAR = 0.05
EDGE_BROW_FADE = 0.02
EDGE_BROW_THICK = 0.05
# Computed at 1/_EDGE_STEP of the box or less, so that the face is about EDGE_WORK_PX across
# (the feathered band is many pixels wide: 0.08 of the face).
_EDGE_STEP = 2
EDGE_WORK_PX = 150.0


def edge_off_skin(image: np.ndarray, points: np.ndarray, box: Box, face_size: float,
                  settings: BlendSettings) -> np.ndarray | None:
    """float32 (h, w) over `box` in [0, 1]: 1 where the new face should leave the target pixel as
    it is inside the mask's feathered band because that pixel is not skin; None when none is.

    The feathered band lies inside MediaPipe's oval, and where the target's hair comes down to the
    face's edge (d6 and d10: beside the outer eye corners, where faces/occluders.hair_mask leaves
    out a zone for eyeliner wings) the band's tail drew the source's skin over the dark hair at
    5-25% opacity: 115 levels of contrast made that 6-12 grey levels, falling to 0 where the band
    ends, a straight vertical step of 3.4-3.7 grey levels on the written files (s12 on d6, d10).
    Leaving hair and background in the band to the target puts the face's end at the hair's own
    edge, as a real face's is."""
    x0, y0, x1, y1 = box
    # About EDGE_WORK_PX across the face at the working size (2x2 pixels at least per sample).
    step = max(_EDGE_STEP, int(face_size // EDGE_WORK_PX))
    width, height = max(1, (x1 - x0) // step), max(1, (y1 - y0) // step)
    if width < 8 or height < 8:
        return None
    top = topology()
    pad = 2
    local = (points[:, :2] - np.array([x0, y0], np.float32)) / step
    oval = np.zeros((height + 2 * pad, width + 2 * pad), np.uint8)
    cv2.fillPoly(oval, [np.round((local[top.face_oval] + pad) * 16).astype(np.int32)], 1, shift=4)
    inside = cv2.distanceTransform(oval, cv2.DIST_L2, 5)[pad:pad + height, pad:pad + width] * \
        (step / max(face_size, 1.0))
    reach = settings.erosion + 2.0 * settings.feather
    band = (inside > 0) & (inside <= reach)
    if not band.any():
        return None
    small = area_shrink(image[y0:y0 + step * height, x0:x0 + step * width], (width, height))
    # Grey levels as the lightness (a LAB conversion cost several times more here).
    lightness = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
    # The target's skin: the ring just inside the band (a median: an eye corner in it counts little).
    skin = (inside > reach) & (inside <= reach + 0.1)
    if cv2.countNonZero(skin.astype(np.uint8)) < 32:
        return None
    skin_l = max(float(np.median(lightness[skin])), 1.0)
    # Against the skin nearby, not the ring's median: the side of a face in shade (d20 outdoors,
    # lit from one side) is 30-40% under the lit side's skin, and was left to the target over
    # the whole band down that side: a darker band from the eye to the jaw whose inner edge,
    # where the band ends and the mask is 1, was hard. (Fading the kept part out towards the
    # band's inner end instead let the new face over d6's hair again, tests/test_blend_edge_hair.py.)
    # The ring's own pixels far under its median (hair reaching
    # into it) are not skin.
    ring = (skin & (lightness > EDGE_RING_FLOOR * skin_l)).astype(np.float32)
    near = max(1.0, EDGE_SKIN_NEAR * face_size / step)
    support = cv2.GaussianBlur(ring, (0, 0), near)
    local_l = cv2.GaussianBlur(lightness * ring, (0, 0), near) / np.maximum(support, 1e-4)
    trust = np.clip(support / 0.05, 0.0, 1.0)
    # Never far under the ring's median: the skin just under a fringe is in its shadow, and
    # taken as the reference there it made the fringe's own edge count as skin (d9 under s12:
    # the new face drawn over the fringe's edge, a 3.4-level curve).
    # Nor above it: only a shaded side lowers it. And only below the eyes (fading in over a
    # tenth of the face): on the forehead a fringe's shadow darkens the ring beside it, and the
    # fringe's soft edge, measured against that, no longer counted as hair (d9 under s12: the
    # new face drawn over the fringe's edge, a curve of 3.4 levels along it).
    local_l = np.clip(trust * local_l + (1.0 - trust) * skin_l, EDGE_REFERENCE_FLOOR * skin_l, skin_l)
    down = np.asarray(points[152, :2] - points[10, :2], np.float32)
    down /= max(float(np.linalg.norm(down)), 1e-6)
    eyes_at = 0.5 * (local[33] + local[263])
    xs, ys = np.arange(width, dtype=np.float32)[None, :], np.arange(height, dtype=np.float32)[:, None]
    below = np.clip(((xs - eyes_at[0]) * down[0] + (ys - eyes_at[1]) * down[1]) / (0.1 * face_size / step), 0.0, 1.0)
    reference = np.maximum(below * local_l + (1.0 - below) * skin_l, 1.0)
    off = np.abs(lightness - reference) / reference
    # The target's eyes are its features, not occluders.
    features = np.zeros((height, width), np.uint8)
    for region in (top.right_eye, top.left_eye):
        cv2.fillConvexPoly(features, cv2.convexHull(np.round(local[region] * 16).astype(np.int32)), 1, shift=4)
    near_feature = cv2.distanceTransform(1 - features, cv2.DIST_L2, 3) <= EDGE_FEATURE_GROW * face_size / step
    keep = np.clip((off - EDGE_OFF_SKIN) / EDGE_OFF_SOFT, 0.0, 1.0) * (band & ~near_feature)
    # Lighter than the reference and coloured like the skin is likely the face in more light, not
    # a wall: d20 outdoors has its forehead lit 40-50% over the ring's median (the ring runs down
    # the shaded side), and kept as "off skin" up to the band's inner end, the alpha rose from
    # 1 - keep to 1 there in a few pixels: a straight step across the forehead above the brows
    # (4.0 grey levels under s10 and s42 on the written files). Such pixels are let go over the
    # band's inner half, so the alpha rises no faster than its feather: the band's outer half is
    # left as it was (a lit patch there, d13's forehead, stays the target's: taken over, the
    # colour statistics moved and a red-lipped source's lips came out 0.8 ΔE further from the
    # target's, tests/test_blend_tone.py). A bright wall or window is off the skin's chroma;
    # hair is darker than the reference; both stay kept as before.
    lighter = lightness > reference
    if lighter.any():
        lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).astype(np.float32)
        skin_ab = np.median(lab[ring > 0][:, 1:], axis=0)
        colour_off = np.hypot(lab[..., 1] - skin_ab[0], lab[..., 2] - skin_ab[1])
        skin_coloured = 1.0 - np.clip((colour_off - EDGE_LIT_CHROMA) / EDGE_LIT_CHROMA, 0.0, 1.0)
        fade = np.clip((reach - inside) / (0.5 * reach), 0.0, 1.0)
        let_go = skin_coloured * (1.0 - fade * fade * (3.0 - 2.0 * fade))
        keep = np.where(lighter, keep * (1.0 - let_go), keep)
    # Hair is broad; a brow's tail, an eyeliner's wing or a lash reaching the band is thin (grey
    # opening): d6's brow tails, kept, were the target's brow drawn again beside the new one
    # (tests/test_swap_brows.py). Excluding the brows' hulls instead also kept the hair that
    # comes down beside them.
    thin = max(3, int(0.03 * face_size / step) | 1)
    keep = cv2.morphologyEx(keep.astype(np.float32), cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (thin, thin)))
    # ... and a thick brow's tail as thick as that disc (d10's, 3% of the face) was kept whole:
    # a notch in the new face the shape of the target's brow end, its dark tail drawn beside the
    # new brow at the temple (issue 13, s10 -> d10 frame 45). Beside the brows (EDGE_BROW_NEAR)
    # what is kept is as broad as EDGE_BROW_THICK at least: hair, not a brow.
    brows = np.zeros((height, width), np.uint8)
    for region in (top.right_eyebrow, top.left_eyebrow):
        cv2.fillConvexPoly(brows, cv2.convexHull(np.round(local[region] * 16).astype(np.int32)), 1, shift=4)
    # Fading out over EDGE_BROW_FADE beyond that: a lock of hair across the zone's edge is not cut.
    distance = cv2.distanceTransform(1 - brows, cv2.DIST_L2, 3) * (step / max(face_size, 1.0))
    beside = np.clip((EDGE_BROW_NEAR + EDGE_BROW_FADE - distance) / EDGE_BROW_FADE, 0.0, 1.0)
    if ((beside > 0) & (keep > 0)).any():
        # A segment across the brow (square to the eyes' line): a brow's end is short that way,
        # a lock of hair coming down beside the eye long (a disc as wide let the new face over
        # d6's lock beside its eye: 0.6 -> 2.4 levels there, its seam 0.77 -> 1.23).
        thick = max(thin + 2, int(EDGE_BROW_THICK * face_size / step) | 1)
        across = np.asarray(points[263, :2] - points[33, :2], np.float32)
        across = np.array([-across[1], across[0]], np.float32) / max(float(np.linalg.norm(across)), 1e-6)
        segment = np.zeros((thick, thick), np.uint8)
        half = 0.5 * (thick - 1)
        cv2.line(segment, tuple(int(round(half - half * v)) for v in across), tuple(int(round(half + half * v)) for v in across), 1)
        opened = cv2.morphologyEx(keep, cv2.MORPH_OPEN, segment)
        keep = keep + beside * (opened - keep)
    if not (keep > 0.05).any():
        return None
    keep = cv2.GaussianBlur(keep.astype(np.float32), (0, 0), 1.0)
    keep = cv2.resize(keep, (step * width, step * height), interpolation=cv2.INTER_LINEAR)
    return cv2.copyMakeBorder(keep, 0, y1 - y0 - step * height, 0, x1 - x0 - step * width,
                              cv2.BORDER_REPLICATE)
