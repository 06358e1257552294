"""The target's own eyes, lashes and lid margins, kept in front of the worn face.

The mesh has a hole at each eye: the target's eye shows through it. Its border is the eye's
contour (MediaPipe's points along the lid margins), where the face mask's narrow soft edge left
the target's lash line half covered by the source's: the source's lashes and liner, which sit
just outside its own contour, were drawn a pixel or two outside the target's, a second, blurred
lash line above and below the opening. On a target with narrow eyes (d20) the source's wide-open
lids, compressed into the target's narrow lid band, made a dark band over the opening: the lids
looked heavy, half closed, smeared. So the kept zone reaches past the contour by the lash line's
width (more above, where the lashes are), with a soft edge that ends on the lid's skin: the
opening, its lashes and the lid margins are the target's own, and its height is the target's.
Only as far as the target's eyes are narrower than the source's (`narrowing`): where they are as
open, the source's lids fit and are worn (they carry much of its identity).

A closing eye (a blink, a wink) is the target's own, lids and lashes, over a rounded zone
(`closing`): the source's open lids squeezed onto a closed eye drew "an eye with a skin-coloured
eyeball", its lash lines and lid crease ringing the target's closed lid (issue 13's blind judge:
"grey smeared lids" on s12 -> d14's wink, s12 -> d9's blink). The zone is an ellipse around the
eye reaching the closed lid's lash line and margin, never the contour's flat line (a closed eye's
zone with a straight upper edge left a step, e13ae22), and the blend stage gives the kept target
pixels the new face's low-frequency colour (FaceLayer.kept), so the zone's edge is no seam. Above it
the source's lid is worn with its lashes and crease closed (`plain_amounts`, `plain_lids`): a zone
up to the crease kept the target's whole lid and socket, and the wink read as the target's person
(s42 -> d3, issue 13, s29).

An open eye's outer corner is the target's own a little past MediaPipe's corner point, whatever the
source (`_outer_corner`): the point lies short of where the lash lines and a liner's wing end, and the
source's skin drawn there shortened each eye on its outer side, its iris then sitting further out in
it: two irises that looked apart (issue 13, s25: "diverging gaze" on s9 -> d6).
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.faces.topology import UPPER_LIDS, topology
from realtime.frame import Box

# How far past the eye's contour the target's eye is kept, as a fraction of the face size:
# above the eye (lashes, the lid margin) and below it (the lower lash line).
EYE_MARGIN_UP = 0.012
EYE_MARGIN_DOWN = 0.006
# Above an eye as open as it gets (its open state: `open_states`), more: EYE_MARGIN_UP_OPEN. On d20's
# narrow, open eyes the source's lash band stayed over the slit's upper edge at 0.012: s42 -> d20's lids
# lopsided (issue 13), the left lid's edge 0.73 of the target's sharpness on the written file, the
# right's 0.98; 0.91 / 0.80 with this (s9 -> d20 0.85 / 0.91 -> 0.98 / 1.07; benchmarks/results/s26-lids).
# 0.036 did a little more (0.90 / 0.84) but cost s9 -> d20 +0.008 in identity (its lids carry it).
# A squint (d3: 0.20-0.23 against its open 0.39) keeps EYE_MARGIN_UP: a wider margin there moved the
# iris read between the lids (d3's divergence median 0.035 -> 0.047 with 0.036 everywhere, s25-lids).
# Fully from SQUINT_FROM of the eye's open state, none at SQUINT_FULL or less (d20's eyes: 0.81-1.0 of
# theirs; d3's squint 0.5-0.6).
EYE_MARGIN_UP_OPEN = 0.024
SQUINT_FULL = 0.7
SQUINT_FROM = 0.85
# An eye's open state: the widest opening seen on the face, falling back by OPEN_DECAY a frame (a
# wrongly wide frame is forgotten within seconds; a squint of a second lowers it by 0.03).
OPEN_DECAY = 0.001
# The soft edge's Gaussian sigma, fraction of the face size (wide enough that the kept zone's
# upper edge, a lid's curve, fades over the lid's skin instead of stepping).
EYE_FEATHER = 0.009
# The margins apply in full when the source's eyes are this many times more open (height over
# width) than the target's, not at all below NARROW_FROM: on eyes as open as the source's the
# source's own lids fit, and they carry much of its identity (dlib distance +0.012-0.018 on
# s42/s9 x d3/d13/d14 with the margins always on).
NARROW_FROM = 1.25
NARROW_FULL = 1.8
# A target eye this open (lid to lid over corner to corner) or less is closed: nothing is kept
# past its contour; fully from OPEN_FROM (d20's narrow eyes: 0.23; d3 frame 50: 0.03 and 0.09;
# open eyes 0.32-0.41).
CLOSED_BELOW = 0.10
OPEN_FROM = 0.17
# A target eye closing: its own eye, lids and lashes kept over an ellipse, in full at this opening
# or less (MediaPipe's closed eyes: 0.02-0.08; mid-blink 0.12-0.15: half kept, both lids showed, a
# ghost), none from CLOSING_FROM (d20's
# narrow eyes 0.20-0.27, d3's squint 0.16-0.22: the narrowing margins there).
CLOSING_FULL = 0.15
CLOSING_FROM = 0.21
# The ellipse around a closing eye, in eye widths (corner to corner): half its length, and its
# reach above (the closed lid's lash line and margin) and below the eye line (the lower lash line);
# its soft edge's Gaussian sigma. Above it the source's own lid is worn with its lashes and crease
# closed (`plain_amounts`): those were what the zone hid when it reached the crease (0.6), and with
# them it kept the target's whole lid and socket, which carry the target's identity (s42 -> d3's wink:
# 2 of 6 identity frames nearer d3 than s42 in dlib distance, the judge's "looks like d3";
# issue 13, benchmarks/results/s29-s42d3).
CLOSING_HALF_LENGTH = 0.62
CLOSING_UP = 0.3
CLOSING_DOWN = 0.3
CLOSING_FEATHER = 0.1
# An open eye's outer corner: the target's own past its contour's corner point, over an ellipse
# along the eye's line (corner to corner), in eye widths: its centre CORNER_SHIFT out of the corner,
# its half length CORNER_ALONG, its half height CORNER_ACROSS; by the eye's opening (CLOSED_BELOW
# to OPEN_FROM). MediaPipe's corner point lies short of where a lash line and liner end (d6's
# winged liner reaches 0.15-0.25 eye widths past it); the source's skin drawn there made each eye
# shorter on its outer side, its iris sat further out in it: the two eyes' gazes drawn apart
# (the blind judge's "diverging gaze" on s9 -> d6, issue 13, s25: the irises, read between the
# corners MediaPipe finds on the written file, 0.067 eye widths further apart than the target's
# on main, 0.043 with this zone; s9 -> d20 0.046 -> 0.034; benchmarks/results/s25-eyes). A zone
# 0.3 x 0.12 centred 0.1 out did a little more (0.036, 0.035) but let the camera's own sharpness
# changes through over more of the face (tests/test_blend_detail_memory.py: 0.866 levels, 0.841 here).
CORNER_SHIFT = 0.05
CORNER_ALONG = 0.2
CORNER_ACROSS = 0.1


# MediaPipe's lid-to-lid and corner-to-corner points of the right and the left eye.
_EYE_POINTS = ((159, 145, 33, 133), (386, 374, 263, 362))


def eye_openings(points: np.ndarray) -> tuple[float, float]:
    """Each eye's opening (right, left): lid to lid over corner to corner."""
    ratios = []
    for upper, lower, outer, inner in _EYE_POINTS:
        width = float(np.linalg.norm(points[outer, :2] - points[inner, :2]))
        ratios.append(float(np.linalg.norm(points[upper, :2] - points[lower, :2])) / max(width, 1e-6))
    return ratios[0], ratios[1]


def openness(points: np.ndarray) -> float:
    """The eyes' mean opening (`eye_openings`)."""
    return float(np.mean(eye_openings(points)))


def open_states(points: np.ndarray, before: np.ndarray | None) -> np.ndarray:
    """Each eye's open state (right, left) after this frame's landmarks `points`: the widest
    opening seen, less OPEN_DECAY a frame; `before`: the state after the face's last frame, if any."""
    now = np.array(eye_openings(points), np.float64)
    return now if before is None else np.maximum(now, before - OPEN_DECAY)


def open_margins(points: np.ndarray, states: np.ndarray | None) -> tuple[float, float]:
    """Each eye's margin above its contour (right, left), a fraction of the face size:
    EYE_MARGIN_UP_OPEN on an eye as open as its open state (`states`; None: as open as it gets),
    EYE_MARGIN_UP on a squint (SQUINT_FULL of it or less)."""
    margins = []
    for number, opening in enumerate(eye_openings(points)):
        relative = 1.0 if states is None else opening / max(float(states[number]), 1e-3)
        amount = float(np.clip((relative - SQUINT_FULL) / (SQUINT_FROM - SQUINT_FULL), 0.0, 1.0))
        margins.append(EYE_MARGIN_UP + amount * (EYE_MARGIN_UP_OPEN - EYE_MARGIN_UP))
    return margins[0], margins[1]


def narrowing(source_points: np.ndarray, target_points: np.ndarray) -> tuple[float, float]:
    """0..1 for each eye (right, left): how much narrower the target's eye is than the source's
    eyes (0: as open or more), and 0 on a closed eye (a blink, a wink)."""
    source = openness(source_points)
    amounts = []
    for opening in eye_openings(target_points):
        ratio = source / max(opening, 1e-3)
        amount = float(np.clip((ratio - NARROW_FROM) / (NARROW_FULL - NARROW_FROM), 0.0, 1.0))
        # A closed eye has no opening for the source's lids to be squeezed into: its contour is a
        # flat line, and the zone kept above it had a straight upper edge with the target's lid
        # on one side, the source's on the other (3.35 levels on d3 frame 50 with s42, e13ae22).
        amount *= float(np.clip((opening - CLOSED_BELOW) / (OPEN_FROM - CLOSED_BELOW), 0.0, 1.0))
        amounts.append(amount)
    return amounts[0], amounts[1]


def closing(points: np.ndarray) -> tuple[float, float]:
    """0..1 for each eye (right, left): how closed the target's eye is (1: a blink, a wink)."""
    return tuple(float(np.clip((CLOSING_FROM - opening) / (CLOSING_FROM - CLOSING_FULL), 0.0, 1.0))
                 for opening in eye_openings(points))  # type: ignore[return-value]


def plain_amounts(source_points: np.ndarray, target_points: np.ndarray) -> tuple[float, float]:
    """0..1 for each eye (right, left): how much of the source's plain lid band (`plain_lids`, its
    lashes and crease closed) the render draws there: as much as the target's eye is narrower than
    the source's (`narrowing`) or closing (`closing`: the kept zone reaches only the lash line, and
    the source's lid above it is worn without the lash lines squeezed onto it)."""
    narrow, shut = narrowing(source_points, target_points), closing(target_points)
    return max(narrow[0], shut[0]), max(narrow[1], shut[1])


def _closing_zone(keep: np.ndarray, points: np.ndarray, eye: int, origin: np.ndarray, amount: float) -> None:
    """Draws (max, in place) the closing eye's ellipse into `keep` (uint8, 255 = kept) at `amount`."""
    upper, lower, outer, inner = _EYE_POINTS[eye]
    corners = points[[outer, inner], :2].astype(np.float32) - origin
    width = float(np.linalg.norm(corners[1] - corners[0]))
    if width < 2.0:
        return
    along = (corners[1] - corners[0]) / width
    down = np.array([-along[1], along[0]], np.float32)
    if down[1] < 0:
        down = -down
    centre = 0.5 * (corners[0] + corners[1])
    angles = np.linspace(0.0, 2.0 * np.pi, 48, endpoint=False)
    cos, sin = np.cos(angles), np.sin(angles)
    reach = np.where(sin > 0, CLOSING_DOWN, CLOSING_UP) * width
    outline = centre + np.outer(cos * CLOSING_HALF_LENGTH * width, along) + np.outer(sin * reach, down)
    zone = np.zeros_like(keep)
    cv2.fillPoly(zone, [np.round(outline * 16).astype(np.int32)], int(round(255 * amount)),
                 lineType=cv2.LINE_AA, shift=4)
    np.maximum(keep, zone, out=keep)


def _outer_corner(keep: np.ndarray, points: np.ndarray, eye: int, amount: float) -> None:
    """Draws (max, in place) an open eye's outer-corner ellipse (CORNER_*) into `keep` (uint8,
    255 = kept) at `amount`; points: the landmarks in `keep`'s pixels."""
    _, _, outer, inner = _EYE_POINTS[eye]
    corner, other = points[outer, :2], points[inner, :2]
    width = float(np.linalg.norm(corner - other))
    if width < 2.0:
        return
    out = (corner - other) / width
    side = np.array([-out[1], out[0]], np.float32)
    centre = corner + CORNER_SHIFT * width * out
    angles = np.linspace(0.0, 2.0 * np.pi, 32, endpoint=False)
    outline = (centre + np.outer(np.cos(angles) * CORNER_ALONG * width, out)
               + np.outer(np.sin(angles) * CORNER_ACROSS * width, side))
    zone = np.zeros_like(keep)
    cv2.fillPoly(zone, [np.round(outline * 16).astype(np.int32)], int(round(255 * amount)), lineType=cv2.LINE_AA, shift=4)
    np.maximum(keep, zone, out=keep)


def eye_keep(points: np.ndarray, box: Box, face_size: float, source_points: np.ndarray | None = None,
             states: np.ndarray | None = None) -> tuple[np.ndarray, tuple[int, int]] | None:
    """(keep, (x, y)): a float32 map in [0, 1] of where the target's own eyes are kept, over a
    part of `box` whose top-left corner is (x, y) in box pixels; None when there is nothing to
    add to the mask's eye holes (both eyes closed, or none in the box).

    points: (>=468, 2) landmarks in frame pixels; source_points: the source's (any pixels);
    states: the eyes' open states (`open_states`; None: each eye as open as it gets).
    """
    return eye_zones(points, box, face_size, source_points, states)[0]


Piece = tuple[np.ndarray, tuple[int, int]]


def eye_zones(points: np.ndarray, box: Box, face_size: float, source_points: np.ndarray | None = None,
              states: np.ndarray | None = None) -> tuple[Piece | None, Piece | None]:
    """(eye_keep's map, the closing eyes' zones alone over the same part of the box, or None):
    the blend stage gives the closing zones the new face's colour (FaceLayer.kept), not the
    open eyes' lash lines (their whites and irises would take the source's dark eye sockets:
    d20 with s9 looked darker, smudged)."""
    amounts = (1.0, 1.0) if source_points is None else narrowing(source_points, points)
    closed = closing(points)
    shown = [float(np.clip((opening - CLOSED_BELOW) / (OPEN_FROM - CLOSED_BELOW), 0.0, 1.0))
             for opening in eye_openings(points)]
    if max(amounts) <= 0.0 and max(closed) <= 0.0 and max(shown) <= 0.0:
        return None, None
    top = topology()
    x0, y0, x1, y1 = box
    local = points[:, :2].astype(np.float32) - np.array([x0, y0], np.float32)
    eyes = [local[top.right_eye], local[top.left_eye]]
    feather = max(0.6, EYE_FEATHER * face_size)
    widths = [float(np.linalg.norm(points[outer, :2] - points[inner, :2])) for _, _, outer, inner in _EYE_POINTS]
    corner_reach = (CORNER_SHIFT + CORNER_ALONG) * max(widths)
    margins = open_margins(points, states)
    reach = int(np.ceil(max(max(margins) * face_size, corner_reach) + 3 * feather)) + 2
    if max(closed) > 0.0:
        reach = max(reach, int(np.ceil(max(widths) * (CLOSING_HALF_LENGTH + 3 * CLOSING_FEATHER))) + 2)
    low = np.floor(np.min([eye.min(axis=0) for eye in eyes], axis=0)).astype(int) - reach
    high = np.ceil(np.max([eye.max(axis=0) for eye in eyes], axis=0)).astype(int) + reach
    gx0, gy0 = max(0, int(low[0])), max(0, int(low[1]))
    gx1, gy1 = min(x1 - x0, int(high[0])), min(y1 - y0, int(high[1]))
    if gx1 - gx0 < 2 or gy1 - gy0 < 2:
        return None, None
    keep = np.zeros((gy1 - gy0, gx1 - gx0), np.uint8)
    for eye, amount, margin in zip(eyes, amounts, margins, strict=True):
        if amount <= 0.0:
            continue
        up, down = amount * margin * face_size, amount * EYE_MARGIN_DOWN * face_size
        # Each contour point pushed away from the eye's centre line: up for the upper lid, down
        # for the lower (the lid margins' lashes point that way), the corners outwards a little.
        centre = eye.mean(axis=0)
        offset = eye - centre
        grown = eye.copy()
        grown[:, 1] += np.where(offset[:, 1] < 0, -up, down)
        width = max(float(np.ptp(eye[:, 0])), 1.0)
        grown[:, 0] += offset[:, 0] / (0.5 * width) * 0.5 * down
        polygon = np.concatenate([eye, grown]) - np.array([gx0, gy0], np.float32)
        hull = cv2.convexHull(np.round(polygon * 16).astype(np.int32))
        cv2.fillConvexPoly(keep, hull, 255, lineType=cv2.LINE_AA, shift=4)
    for number, amount in enumerate(shown):
        if amount > 0.0:
            _outer_corner(keep, local - np.array([gx0, gy0], np.float32), number, amount)
    soft = cv2.GaussianBlur(keep, (0, 0), feather).astype(np.float32) * (1.0 / 255.0)
    zone_soft = None
    if max(closed) > 0.0:
        zone = np.zeros_like(keep)
        width = 0.0
        for number, amount in enumerate(closed):
            if amount > 0.0:
                _closing_zone(zone, points, number, np.array([x0 + gx0, y0 + gy0], np.float32), amount)
                _, _, outer, inner = _EYE_POINTS[number]
                width = max(width, float(np.linalg.norm(points[outer, :2] - points[inner, :2])))
        zone_soft = cv2.GaussianBlur(zone, (0, 0), max(0.8, CLOSING_FEATHER * width)).astype(np.float32) * (1.0 / 255.0)
        soft = np.maximum(soft, zone_soft)
    # The opening itself stays wholly the target's (the blur would let the source in at its edge).
    inner = np.zeros_like(keep)
    opened = [eye for eye, amount, shut in zip(eyes, amounts, closed, strict=True) if amount > 0.0 or shut > 0.0]
    cv2.fillPoly(inner, [np.round((eye - np.array([gx0, gy0], np.float32)) * 16).astype(np.int32) for eye in opened],
                 255, lineType=cv2.LINE_AA, shift=4)
    soft = np.maximum(soft, inner.astype(np.float32) * (1.0 / 255.0))
    return (soft, (gx0, gy0)), (None if zone_soft is None else (zone_soft, (gx0, gy0)))


# The source's upper lid band on a narrower target eye (issue 13, s24): the source's lashes and lid
# crease, drawn on the target's lid band above its kept lash line, made a second dark lid line over
# the slit (s42, s9 and s12 on d20; the blind judge's "doubled lid"). A target whose eye is narrower
# than the source's shows smooth lid skin down to its own lash line, so there the source's lid band
# is worn without its thin dark lines: in the picture the texture is drawn from (`plain_lids`, once
# per photo) each upper lid band, from the lid to LID_BAND of the way up to the brow, is closed
# (a grey closing along the vertical, LID_CLOSE eye widths long: any dark line thinner than that --
# a lash band, a drawn crease, liner -- takes the skin's level around it; shading broader than that
# stays), and the render takes as much of it as the target's eye is narrower (`narrowing`;
# swap/mesh.py). 0.15: s12's dotted lash arc over d20's slit goes (doubled columns 0.85 -> 0.31 on
# the written file, benchmarks/results/s24-lid) at a dlib distance of +0.002 to +0.004; 0.25 also
# took s42's thick lash band (0.74 -> 0.22) but cost +0.009 on s9 and s12 (their creases carry
# identity), over the 0.005 allowed.
LID_CLOSE = 0.15
LID_BAND = 0.7
LID_WIDEN = 0.15
# The soft edge of the closed band, in eye widths (Gaussian sigma).
LID_FEATHER = 0.04
# The brow's lower edge (outer to inner) of the right and the left eye (the upper lid, outer corner to
# inner: topology's UPPER_LIDS).
BROWS_LOW = ((46, 53, 52, 65, 55), (276, 283, 282, 295, 285))


def _lid_band(points: np.ndarray, eye: int) -> tuple[np.ndarray, float]:
    """(the polygon (N, 2) of an eye's upper lid band, from its upper lid up to LID_BAND of the way
    to its brow's lower edge, the eye's contour below it; the eye's width)."""
    lid, brow = points[list(UPPER_LIDS[eye]), :2], points[list(BROWS_LOW[eye]), :2]
    width = float(np.linalg.norm(lid[-1] - lid[0]))
    order = np.argsort(brow[:, 0])
    brow_y = np.interp(lid[:, 0], brow[order, 0], brow[order, 1])
    top = lid.copy()
    top[:, 1] = lid[:, 1] + LID_BAND * (brow_y - lid[:, 1])
    # Wider than the eye at its top (LID_WIDEN of the eye's width on each side): a crease runs on
    # past the corners (s9's, cut at the corners' line, left a dark end above the outer corner).
    centre = 0.5 * (lid[0] + lid[-1])
    top[:, 0] = centre[0] + (top[:, 0] - centre[0]) * (1.0 + 2.0 * LID_WIDEN)
    return np.concatenate([lid, top[::-1]]).astype(np.float32), width


def _box_around(outline: np.ndarray, reach: int, width: int, height: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): `outline`'s bounds grown by `reach` pixels, inside a picture `width` x
    `height`; None where under 4 pixels remain either way."""
    x0, y0 = np.floor(outline.min(axis=0)).astype(int) - reach
    x1, y1 = np.ceil(outline.max(axis=0)).astype(int) + reach
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return int(x0), int(y0), int(x1), int(y1)


def plain_lids(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The source picture (BGR) with each upper lid band's thin dark lines closed (LID_CLOSE), for
    a target eye narrower than the source's; the same picture elsewhere. points: its landmarks."""
    plain = image.copy()
    top = topology()
    height, width = image.shape[:2]
    for eye, contour in enumerate((top.right_eye, top.left_eye)):
        band, eye_width = _lid_band(points, eye)
        if eye_width < 4.0:
            continue
        length = max(3, int(round(LID_CLOSE * eye_width)) | 1)
        feather = max(0.8, LID_FEATHER * eye_width)
        reach = length + int(3 * feather) + 2
        found = _box_around(np.concatenate([band, points[contour, :2].astype(np.float32)]), reach, width, height)
        if found is None:
            continue
        x0, y0, x1, y1 = found
        origin = np.array([x0, y0], np.float32)
        region = image[y0:y1, x0:x1]
        inside = np.zeros(region.shape[:2], np.uint8)
        cv2.fillPoly(inside, [np.round((band - origin) * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
        eye_hole = np.zeros_like(inside)
        cv2.fillPoly(eye_hole, [np.round((points[contour, :2] - origin) * 16).astype(np.int32)], 255, shift=4)
        # The eye itself (a hole on the target) counts as lid skin: the lash line between the skin
        # and the eye is then a thin dark line like any other, closed too.
        lid_skin = region[inside > 127]
        skin = np.percentile(lid_skin, 75, axis=0) if len(lid_skin) else region.reshape(-1, 3).mean(axis=0)
        filled = region.copy()
        filled[eye_hole > 0] = skin.astype(region.dtype)
        closed = cv2.morphologyEx(filled, cv2.MORPH_CLOSE, np.ones((length, 1), np.uint8))
        closed = cv2.GaussianBlur(closed, (0, 0), 0.5 * feather)
        weight = cv2.GaussianBlur(np.maximum(inside, eye_hole).astype(np.float32) * (1.0 / 255.0), (0, 0), feather)
        plain[y0:y1, x0:x1] = cv2.blendLinear(closed, region, weight, 1.0 - weight)
    return plain


def fade_lids(patch: np.ndarray, sample, plain: np.ndarray, points: np.ndarray, origin: tuple[int, int],
              amounts: tuple[float, float]) -> None:
    """Blends (in place) into `patch` (the source drawn over a box whose top-left corner is `origin`
    in frame pixels) `amounts` of `plain` around each eye: `sample(plain, x0, y0, x1, y1)` draws the
    plain picture over that part of the patch; points: the target's landmarks (frame pixels)."""
    height, width = patch.shape[:2]
    contours = (topology().right_eye, topology().left_eye)
    for eye, amount in enumerate(amounts):
        if amount <= 0.0:
            continue
        band, eye_width = _lid_band(points, eye)
        # Over the band and the eye (the plain picture's eye is lid skin, its soft edge reaching
        # LID_FEATHER x 3 past the source's contour), with room for the source's and the target's
        # eyes differing in shape.
        local = np.concatenate([band, points[contours[eye], :2].astype(np.float32)]) - np.array(origin, np.float32)
        grow = int(np.ceil(0.25 * eye_width)) + 2
        x0, y0 = np.floor(local.min(axis=0)).astype(int) - grow
        x1, y1 = np.ceil(local.max(axis=0)).astype(int) + grow
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        drawn = sample(plain, x0, y0, x1, y1)
        patch[y0:y1, x0:x1] = cv2.addWeighted(patch[y0:y1, x0:x1], 1.0 - amount, drawn, amount, 0.0)


# The target's lash lines and liner, lightened for a source with faint lashes of its own (issue 13,
# s29: s9, the Mona Lisa, on d10 read as d10 on 12 of 12 identity frames: d10's black lash lines and
# winged liner, kept at the eyes' outer corners (`_outer_corner`) and along the contour). The zones
# keep their geometry (the target's corners: no diverging gaze); only the dark lines in them are
# lifted, in the picture under the layer (the camera's grain keeps them: lightened there too, the
# face read softer than the camera's). Around each eye, LASH_BAND face sizes past its contour (above;
# LASH_BAND_DOWN below) and along its line to LASH_WING eye widths past its outer corner (d10's
# wing), the picture is closed with a round kernel LASH_CLOSE eye widths across (a lash line, a
# liner's line and its wing take the level of the skin beside them; the eye's opening counts as skin
# there and itself stays the target's). s9 -> d10 on the written file: dlib distance to d10 0.471 ->
# 0.518, to s9 0.558 -> 0.550, 2 of 12 frames nearer s9 (0 before); s9 -> d6 / d3 and s10 -> d10
# nearer their source by 0.010 / 0.008 / 0.027. 0.28 / 0.45: at 0.2 / 0.3 a grey
# smear of d10's thick wing root stayed beside its right eye; a vertical kernel left the band's
# edges as light vertical lines (benchmarks/results/s29-lashes).
LASH_BAND = 0.035
LASH_BAND_DOWN = 0.02
LASH_WING = 0.45
LASH_CLOSE = 0.28
LASH_FEATHER = 0.006
# Only the eye's outer part is lightened: from LASH_FROM of its width (from the inner corner) on, in
# full LASH_RAMP further. Around the whole eye (0), d20's narrow slits lost their lids' soft shading
# and read as cut-outs; d10's upper lash line along the inner part is worn (a lid's, not a liner's).
LASH_FROM = 0.7
LASH_RAMP = 0.15
# The source's own lash lines (`lash_strength`, over the clean texture): the target's are lightened
# in full at LASH_FAINT or less, not at all from LASH_REAL. s9 (the Mona Lisa) 16.7; s6 16.6; s10
# 19.3 (its far eye, turned away, reads low); s7 25.6; s0 27.0; s12 33.9; s42 37.0.
LASH_FAINT = 18.0
LASH_REAL = 26.0
LASH_SCALE = 60.0
LASH_MARGIN = 0.1
LASH_LINE = 0.12
# What lies in front of the face (a hand, as the swapper finds it) is never lightened: every pixel
# it keeps at all, grown by this many px (an anti-aliased edge), is left as the camera has it. (A
# face wearing glasses is not lightened at all: swap/mesh.py, MeshSwapper._lighten_lashes.)
LASH_SPARE_GROW = 2


def _lash_pieces(picture: np.ndarray, points: np.ndarray, face_size: float, origin: tuple[int, int]):
    """For each eye of `picture`: (y0, y1, x0, x1, the region with its thin dark lines closed, the
    band's weight in [0, 1], outside the opening)."""
    top = topology()
    height, width = picture.shape[:2]
    local = points[:, :2].astype(np.float32) - np.array(origin, np.float32)
    for number, contour in enumerate((top.right_eye, top.left_eye)):
        _, _, outer, inner = _EYE_POINTS[number]
        eye_width = float(np.linalg.norm(local[outer] - local[inner]))
        if eye_width < 4.0:
            continue
        eye = local[contour]
        up, down = LASH_BAND * face_size, LASH_BAND_DOWN * face_size
        offset = eye - eye.mean(axis=0)
        grown = eye.copy()
        grown[:, 1] += np.where(offset[:, 1] < 0, -up, down)
        grown[:, 0] += np.sign(offset[:, 0]) * up
        wing = local[outer] + LASH_WING * (local[outer] - local[inner])
        both = np.concatenate([eye, grown, [wing + [0.0, -up], wing + [0.0, 0.5 * down]]]).astype(np.float32)
        length = max(3, int(round(LASH_CLOSE * eye_width)) | 1)
        feather = max(0.6, LASH_FEATHER * face_size)
        reach = length + int(3 * feather) + 2
        found = _box_around(both, reach, width, height)
        if found is None:
            continue
        x0, y0, x1, y1 = found
        at = np.array([x0, y0], np.float32)
        region = picture[y0:y1, x0:x1]
        band = np.zeros(region.shape[:2], np.uint8)
        cv2.fillConvexPoly(band, cv2.convexHull(np.round((both - at) * 16).astype(np.int32)), 255,
                           lineType=cv2.LINE_AA, shift=4)
        hole = np.zeros_like(band)
        cv2.fillPoly(hole, [np.round((eye - at) * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
        skin_px = region[(band > 127) & (hole == 0)]
        if len(skin_px) < 8:
            continue
        skin = np.percentile(skin_px, 75, axis=0)
        filled = region.copy()
        filled[hole > 0] = skin.astype(region.dtype)
        closed = cv2.morphologyEx(filled, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (length, length)))
        weight = cv2.GaussianBlur(band, (0, 0), feather).astype(np.float32) * (1.0 / 255.0)
        weight *= 1.0 - cv2.GaussianBlur(hole, (0, 0), 0.6).astype(np.float32) * (1.0 / 255.0)
        # Only the eye's outer part (LASH_FROM): along its line from the inner corner.
        out = (local[outer] - local[inner]) / eye_width
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        along = ((xs - local[inner, 0]) * out[0] + (ys - local[inner, 1]) * out[1]) / eye_width
        weight *= np.clip((along - LASH_FROM) / LASH_RAMP, 0.0, 1.0)
        yield y0, y1, x0, x1, closed, weight


def _spared(pieces: list[tuple[np.ndarray, tuple[int, int]]], y0: int, y1: int, x0: int, x1: int) -> np.ndarray | None:
    """Over the picture's rows y0:y1 and columns x0:x1: 1 where a spared piece (keep, (x, y): a
    glasses frame, a hand, as the swapper finds them) keeps anything at all, grown by
    LASH_SPARE_GROW px, then fading out over as many more; None where no piece reaches there."""
    spare: np.ndarray | None = None
    for keep, (px, py) in pieces:
        ax, ay, bx, by = max(x0, px), max(y0, py), min(x1, px + keep.shape[1]), min(y1, py + keep.shape[0])
        if bx <= ax or by <= ay:
            continue
        part = keep[ay - py:by - py, ax - px:bx - px] > 0.0
        if not part.any():
            continue
        if spare is None:
            spare = np.zeros((y1 - y0, x1 - x0), np.uint8)
        spare[ay - y0:by - y0, ax - x0:bx - x0] |= part.astype(np.uint8)
    if spare is None:
        return None
    size = 2 * LASH_SPARE_GROW + 1
    spare = cv2.dilate(spare, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    # Outside the grown piece the lightening comes back over LASH_SPARE_GROW px (no hard step).
    distance = cv2.distanceTransform(1 - spare, cv2.DIST_L2, 3)
    return np.clip(1.0 - distance * np.float32(1.0 / (LASH_SPARE_GROW + 1)), 0.0, 1.0).astype(np.float32)


def lighten_lashes(picture: np.ndarray, points: np.ndarray, face_size: float, amount: float,
                   origin: tuple[int, int] = (0, 0),
                   spare: list[tuple[np.ndarray, tuple[int, int]]] | None = None) -> None:
    """Lightens (in place) `amount` of the thin dark lines (lashes, liner and its wing) around each
    eye of `picture` (BGR; its top-left corner at `origin` in the landmarks' pixels). Every pixel of
    the `spare` pieces ((keep, (x, y)) in the picture's pixels: what is in front of the face, the
    target's hands) is left exactly as it is, and the lightening fades in beside them (`_spared`)."""
    if amount <= 0.0:
        return
    for y0, y1, x0, x1, closed, weight in list(_lash_pieces(picture, points, face_size, origin)):
        region = picture[y0:y1, x0:x1]
        weight = weight * amount
        kept = _spared(spare, y0, y1, x0, x1) if spare else None
        if kept is not None:
            weight *= 1.0 - kept
        region[:] = cv2.blendLinear(closed, region, weight, 1.0 - weight)


def lash_strength(image: np.ndarray, points: np.ndarray) -> float:
    """How dark and thin the picture's own upper lash lines are: over each upper lid's margin (from
    its contour to LASH_MARGIN eye widths above it, at LASH_SCALE pixels an eye width), the 75th
    percentile of a round closing's lift (LASH_LINE eye widths across: lines thinner than that; a
    painted lid's soft shadow is broader), in percent of the lid skin's level; the eyes' mean."""
    top = topology()
    strengths = []
    for number, contour in enumerate((top.right_eye, top.left_eye)):
        lid = points[list(UPPER_LIDS[number]), :2].astype(np.float32)
        width = float(np.linalg.norm(lid[-1] - lid[0]))
        if width < 4.0:
            continue
        scale = LASH_SCALE / width
        at = np.array([lid[:, 0].min() - 0.3 * width, lid[:, 1].min() - 0.5 * width], np.float32)
        move = np.float32([[scale, 0, -at[0] * scale], [0, scale, -at[1] * scale]])
        size = (int(1.6 * LASH_SCALE), int(LASH_SCALE))
        grey = cv2.cvtColor(cv2.warpAffine(image, move, size, flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
                                           borderMode=cv2.BORDER_REPLICATE), cv2.COLOR_BGR2GRAY).astype(np.float32)
        upper = (lid - at) * scale
        hole = np.zeros(grey.shape, np.uint8)
        cv2.fillPoly(hole, [np.round((points[contour, :2] - at) * scale).astype(np.int32)], 1)
        band = np.zeros_like(hole)
        margin = np.concatenate([upper + [0.0, 2.0], (upper - [0.0, LASH_MARGIN * LASH_SCALE])[::-1]])
        cv2.fillPoly(band, [np.round(margin).astype(np.int32)], 1)
        inside = (band > 0) & (hole == 0)
        if inside.sum() < 8:
            continue
        skin = float(np.percentile(grey[inside], 75))
        grey[hole > 0] = skin  # the eye counts as lid skin: a lash line beside it is a thin line
        across = max(3, int(round(LASH_LINE * LASH_SCALE)) | 1)
        lift = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (across, across))) - grey
        strengths.append(100.0 * float(np.percentile(lift[inside], 75)) / max(skin, 1.0))
    return float(np.mean(strengths)) if strengths else LASH_REAL


def lash_lift(image: np.ndarray, points: np.ndarray) -> float:
    """0..1: how much of the target's lash lines and liner to lighten (`lighten_lashes`) for a
    source picture (BGR) with landmarks `points`: 1 for faint lashes (LASH_FAINT or less), 0 for
    real ones (LASH_REAL or more)."""
    strength = lash_strength(image, points)
    return float(np.clip((LASH_REAL - strength) / (LASH_REAL - LASH_FAINT), 0.0, 1.0))


# Two upper rims drawn alike (issue 13, s36: the Mona Lisa on d6 "eyes of different shapes", on d20
# "faint uneven eyes"). The painted lid's dark edge -- lash line, the iris' top -- does not sit where
# MediaPipe puts the contour in both eyes alike: in s9's texture it lies 0.054 eye widths above the
# right eye's contour and 0.026 below the left's, under a pale lid highlight. Worn over the target's
# opening, whose contour is the target's, the right eye got a dark rim over its opening and the left
# a pale pink band down to it: one round framed eye, one narrow heavy-lidded one (MediaPipe on the
# written s9 > d6 file: openings 0.395 / 0.360 at frame 45, the camera's 0.394 / 0.396). Where the two
# upper rims' offsets from their contours differ by more than RIM_EVEN_FROM eye widths (photos
# measured 0.012-0.056; s9 0.080), each upper contour is moved in the picture the texture is drawn
# from, by half the difference, so that both rims lie the same distance from their contours (the
# mean of the two): the eyes' opening and its frame then follow the target's on both sides. In
# full from RIM_EVEN_FULL. A mirrored source (its far eye drawn from the near one's mirror image)
# is left as it is.
RIM_EVEN_FROM = 0.065
RIM_EVEN_FULL = 0.075
# The profile across each upper lid, in eye widths along the lid's normal (positive: into the eye):
# the skin's level is its median over RIM_SKIN, the eye's its darkest over RIM_DARK; the rim is
# where the profile, from the skin inwards, first falls halfway; with less than RIM_CONTRAST grey
# levels between them there is no rim to measure.
RIM_SKIN = (-0.25, -0.12)
RIM_DARK = (-0.08, 0.15)
RIM_STEP = 0.01
RIM_CONTRAST = 12.0
# How much of its move each interior point of the upper lid takes, outer to inner (the corners stay).
_RIM_TAPER = np.sin(np.pi * np.arange(1, 8) / 8.0)


def _lid_normal(points: np.ndarray, eye: int) -> tuple[np.ndarray, float]:
    """(unit vector into the eye across its upper lid, the eye's width) of `points` (>=468, 2)."""
    outer, inner = UPPER_LIDS[eye][0], UPPER_LIDS[eye][-1]
    along = (points[inner, :2] - points[outer, :2]).astype(np.float64)
    width = float(np.linalg.norm(along))
    along /= max(width, 1e-6)
    down = np.array([-along[1], along[0]])
    return (down if down[1] >= 0 else -down), width


def rim_offsets(image: np.ndarray, points: np.ndarray) -> tuple[float, float] | None:
    """Each eye's upper rim (right, left): how far its dark edge lies inside its contour, in eye
    widths (negative: above it), from the mean profile across the lid's five middle points; None
    where an eye is too small or shows no rim."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    steps = np.arange(RIM_SKIN[0] - 0.05, RIM_DARK[1] + 0.5 * RIM_STEP, RIM_STEP)
    offsets = []
    for eye in range(2):
        down, width = _lid_normal(points, eye)
        if width < 8.0:
            return None
        at = points[list(UPPER_LIDS[eye][2:7]), :2].astype(np.float64)
        xy = at[:, None, :] + steps[None, :, None] * width * down[None, None, :]
        samples = cv2.remap(grey, xy[..., 0].astype(np.float32), xy[..., 1].astype(np.float32), cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
        profile = samples.mean(axis=0)
        skin = float(np.median(profile[(steps >= RIM_SKIN[0]) & (steps <= RIM_SKIN[1])]))
        dark_at = np.flatnonzero((steps >= RIM_DARK[0]) & (steps <= RIM_DARK[1]))
        darkest = int(dark_at[np.argmin(profile[dark_at])])
        if skin - float(profile[darkest]) < RIM_CONTRAST:
            return None
        half = 0.5 * (skin + float(profile[darkest]))
        start = int(np.flatnonzero(steps >= RIM_SKIN[1])[0])
        below = [i for i in range(start, darkest + 1) if profile[i] <= half]
        if not below or below[0] == 0:
            return None
        i = below[0]
        share = float((profile[i - 1] - half) / max(float(profile[i - 1] - profile[i]), 1e-6))
        offsets.append(float(steps[i - 1] + share * RIM_STEP))
    return offsets[0], offsets[1]


def _rim_amount(offsets: tuple[float, float] | None) -> float:
    if offsets is None:
        return 0.0
    return float(np.clip((abs(offsets[1] - offsets[0]) - RIM_EVEN_FROM) / (RIM_EVEN_FULL - RIM_EVEN_FROM), 0.0, 1.0))


def even_rims(image: np.ndarray, points: np.ndarray, offsets: tuple[float, float] | None = None) -> np.ndarray:
    """`points` (>=468, 2) with each upper lid's contour moved so that the two upper rims lie the
    same distance from their contours (RIM_EVEN_*); the same array when they already nearly do.
    `offsets`: rim_offsets(image, points) when already measured."""
    offsets = rim_offsets(image, points) if offsets is None else offsets
    amount = _rim_amount(offsets)
    if offsets is None or amount <= 0.0:
        return points
    mean = 0.5 * (offsets[0] + offsets[1])
    moved = points.copy()
    for eye in range(2):
        down, width = _lid_normal(points, eye)
        # The contour moves by the rim's offset from the mean: a rim inside it by more than the
        # other's is then reached by the contour moving in.
        shift = amount * (offsets[eye] - mean) * width
        ids = list(UPPER_LIDS[eye][1:8])
        moved[ids, :2] = points[ids, :2] + (_RIM_TAPER[:, None] * shift * down[None, :]).astype(points.dtype)
    return moved


# With the rims even, the lids around them and the lips too: over each eye's surround (its contour
# grown SURROUND_UP eye widths up towards the brow, SURROUND_DOWN down, SURROUND_OUT out at the
# corners) and the lips' (their outline grown MOUTH_GROW mouth widths), with a soft edge
# (SURROUND_FEATHER of the eye's or the mouth's width), the picture is mixed half and half with its
# mirror image drawn on the face's own mesh (each point where its mirror partner is): both eyes
# wear the same lid and the mouth's two halves are alike. s9's left lid has a pale highlight
# 0.04-0.12 eye widths over its contour that the right lacks (a pale pink band over one opening
# only), and her painted lip line, turned with her face, is twice as dark on its left half (image
# left: 54 grey levels deep, the right 37) with the smile's corner 0.06 mouth widths higher on the
# right: worn frontal, "a blurred mouth shifted sideways" (MediaPipe on the output: the mouth's centre
# 0.036 eye distances off the face's midline, the camera's 0.007). A mouth alone is no evidence of
# a picture drawn unevenly on its mesh (a photo's lips are as uneven: s42's lip line 52 / 68 levels);
# the eyes' rims are, so they gate both.
SURROUND_UP = 0.3
SURROUND_DOWN = 0.2
SURROUND_OUT = 0.1
SURROUND_FEATHER = 0.06
MOUTH_GROW = 0.12


def even_surrounds(image: np.ndarray, points: np.ndarray, mirrored: np.ndarray, amount: float) -> np.ndarray:
    """`image` with each eye's surround and the lips' mixed with `mirrored` (the image's mirror drawn
    on its own mesh, same size) at half `amount`."""
    top = topology()
    weight = np.zeros(image.shape[:2], np.float32)
    for eye, contour in enumerate((top.right_eye, top.left_eye)):
        down, width = _lid_normal(points, eye)
        outline = points[contour, :2].astype(np.float64)
        offset = outline - outline.mean(axis=0)
        across = offset @ down
        grown = outline + np.where(across < 0, -SURROUND_UP, SURROUND_DOWN)[:, None] * width * down[None, :]
        along = np.array([down[1], -down[0]])
        grown += (offset @ along / max(0.5 * width, 1e-6))[:, None] * SURROUND_OUT * width * along[None, :]
        _soft_fill(weight, np.concatenate([outline, grown]), SURROUND_FEATHER * width)
    lips = points[top.outer_lips, :2].astype(np.float64)
    width = float(np.linalg.norm(points[291, :2] - points[61, :2]))
    centre = lips.mean(axis=0)
    offset = lips - centre
    grown = lips + offset / np.maximum(np.linalg.norm(offset, axis=1, keepdims=True), 1e-6) * MOUTH_GROW * width
    _soft_fill(weight, np.concatenate([lips, grown]), SURROUND_FEATHER * width)
    weight *= 0.5 * amount
    mixed = image.astype(np.float32) + weight[..., None] * (mirrored.astype(np.float32) - image.astype(np.float32))
    return np.clip(np.rint(mixed), 0, 255).astype(image.dtype)


def _soft_fill(weight: np.ndarray, polygon: np.ndarray, feather: float) -> None:
    """The convex hull of `polygon` drawn into `weight` (max, in place) with a soft edge of
    Gaussian sigma `feather` pixels."""
    zone = np.zeros_like(weight)
    cv2.fillConvexPoly(zone, cv2.convexHull(np.round(polygon * 16).astype(np.int32)), 1.0, lineType=cv2.LINE_AA,
                       shift=4)
    np.maximum(weight, cv2.GaussianBlur(zone, (0, 0), max(feather, 0.5)), out=weight)


def even_eyes(image: np.ndarray, points: np.ndarray, mirror_of) -> tuple[np.ndarray, np.ndarray]:
    """(image, points) of a source picture whose two eyes' upper rims lie at different distances
    from their contours (RIM_EVEN_*): the rims evened (`even_rims`), then the eyes' and the lips'
    surrounds (`even_surrounds`); `mirror_of(image, points)` draws the image's mirror on its mesh.
    The same arrays when the rims already nearly agree."""
    offsets = rim_offsets(image, points)
    amount = _rim_amount(offsets)
    if amount <= 0.0:
        return image, points
    points = even_rims(image, points, offsets)
    return even_surrounds(image, points, mirror_of(image, points), amount), points
