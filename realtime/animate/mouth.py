"""An open mouth needs an inside: the portrait has none (its lips are usually closed), and
stretching the lips' texture over the gap looks like a smear. The gap is filled instead with the
driver's own mouth interior (teeth, tongue), mapped onto the portrait's mouth shape and
colour-matched to the portrait, or with a shaded cavity.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.animate.motion import LOWER_LIP_RINGS, UPPER_LIP_RINGS
from realtime.blend.color import apply_transfer, lab_statistics, transfer_matrix
from realtime.blend.kernels import area_shrink, wide_blur
from realtime.faces.topology import topology
from realtime.faces.warp import piecewise_affine_maps, piecewise_affine_maps_from

# The interior is drawn only once the opening is this big (area / face size squared): a mouth
# that is just parted keeps the portrait's own lips.
MIN_OPENING = 0.0004
_COLOUR_SIDE = 96  # colour statistics are taken on the face shrunk to at most this size


def face_colour(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LAB mean and spread of the skin inside the face oval (eyes and mouth excluded)."""
    top = topology()
    points = landmarks[:, :2]
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + 1
    height, width = image.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return np.array([128.0, 128.0, 128.0]), np.array([20.0, 5.0, 5.0])
    # Shrunk by a whole factor (a box average, OpenCV's integer path): the fractional INTER_AREA
    # to exactly _COLOUR_SIDE cost 0.45 ms on a 720p driver's 480 px face, two thirds of this.
    shrink = -(-max(x1 - x0, y1 - y0) // _COLOUR_SIDE)
    crop = area_shrink(image[y0:y1, x0:x1], ((x1 - x0) // shrink, (y1 - y0) // shrink))
    local = ((points - [x0, y0]) * (16.0 / shrink)).astype(np.int32)
    region = np.zeros(crop.shape[:2], dtype=np.uint8)
    cv2.fillPoly(region, [local[top.face_oval]], 255, shift=4)
    cv2.fillPoly(region, [local[top.outer_lips], local[top.right_eye], local[top.left_eye]], 0, shift=4)
    if cv2.countNonZero(region) < 16:
        region[:] = 255
    return lab_statistics(crop, region)


def mouth_opening(points: np.ndarray, face_size: float) -> float:
    return abs(cv2.contourArea(points.astype(np.float32))) / max(face_size, 1.0) ** 2


def _fan_points(loop_points: np.ndarray) -> np.ndarray:
    return np.concatenate([loop_points, loop_points.mean(axis=0, keepdims=True)]).astype(np.float32)


def _fan_triangles(count: int) -> np.ndarray:
    return np.array([(i, (i + 1) % count, count) for i in range(count)], dtype=np.int32)


KNEE = (0.15, 0.3)  # the shares of the range (low, high) near each end where the light bends


def squeeze_light(light: np.ndarray, low: float, high: float) -> np.ndarray:
    """LAB lightness kept between `low` and `high`: unchanged in the middle of that range, bent
    smoothly towards its ends beyond a knee (never past them).

    It used to be rescaled from [0, 255] onto [low, high] whatever it was: a photograph's teeth,
    already within a photographic portrait's range, came out as dark as its skin (d3 driving its
    own frame 0: the grin's teeth drawn as a brown smear, the mouth read as an open hole, the face
    further from the real one by dlib's distance). Only what lies beyond the portrait's range is
    squeezed now: a painting still gets no photographic white, no black hole."""
    span = high - low
    knee_low, knee_high = low + KNEE[0] * span, high - KNEE[1] * span
    out = light.astype(np.float32, copy=True)
    above = out > knee_high
    room = high - knee_high
    out[above] = knee_high + room * (1.0 - np.exp(-(out[above] - knee_high) / room))
    below = out < knee_low
    room = knee_low - low
    out[below] = knee_low - room * (1.0 - np.exp(-(knee_low - out[below]) / room))
    return out


def in_portrait_style(interior: np.ndarray, lips_colour: np.ndarray, skin_lab: np.ndarray,
                      face_size: float) -> np.ndarray:
    """The driver's mouth interior redrawn in the portrait's palette: its light (teeth, tongue,
    shadow) kept as shading, what lies beyond its range squeezed in (`squeeze_light`) between a
    dark shade of the portrait's lips (a cavity is never pure black) and the portrait's skin a
    little brightened (photographic teeth are brighter than anything in a painting), its colour
    pulled to the lips' (dark) and the skin's (bright) hue, and softened to the portrait's grain."""
    lab = cv2.cvtColor(interior, cv2.COLOR_BGR2LAB).astype(np.float32)
    lips_lab = cv2.cvtColor(np.clip(lips_colour, 0, 255).astype(np.uint8)[None, None], cv2.COLOR_BGR2LAB)
    lips_lab = lips_lab.reshape(3).astype(np.float32)
    skin = np.asarray(skin_lab, dtype=np.float32)
    low = 0.35 * float(lips_lab[0])
    high = max(float(skin[0]) + 0.25 * (255.0 - float(skin[0])), low + 8.0)
    light = lab[..., 0] / 255.0
    # Only squeezed: the cavity is never darker than `low` (a shade of the lips, never black). The
    # darks were also lifted as the whole range rescaled onto (low, high) lifts them: a
    # photograph's dark cavity and tongue came out a greyish brown shade of the lips round dimmed
    # teeth, the mouth of another face (d10 driving its own frame 0: dlib's distance to the real
    # frames 0.2531, the frozen frame's 0.2270; 0.2466 without the lift).
    lab[..., 0] = squeeze_light(lab[..., 0], low, high)
    # Dark -> the lips' hue, bright -> the skin's; half of the driver's own colour kept.
    tint = (1.0 - light)[..., None] * lips_lab[1:] + light[..., None] * skin[1:]
    lab[..., 1:] = 0.5 * lab[..., 1:] + 0.5 * tint
    styled = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
    return cv2.GaussianBlur(styled, (0, 0), max(0.6, 0.0025 * face_size))


SHADOW_DEPTH = 0.022  # face sizes: how far in from the lips' inner edge their shadow reaches
SHADOW_FLOOR = 0.5  # the light left right at the edge (of the interior's own)
# A narrow opening (lips parted over the teeth) is shaded deeper, to black at the edge: s6 (a
# carved face whose lips have painted dark outlines) driven by d3's parted smile (4-10 px on its
# 246 px face) showed pale teeth as light as its lower lip with no dark edge between them, and
# MediaPipe afresh read the dark line over them as the lips' meeting line (read 0.28 of the opening
# drawn; mouth r 0.77 -> 0.83). Wide openings keep SHADOW_FLOOR: on the Pearl Earring (s10) driven by
# d9, a black rim round its wide-open mouth read smaller (mouth r 0.73 -> 0.65). Not under a
# moustache (s12): its gap is drawn by `gap_under_moustache`, and the two together left the opening
# at L 24 (a near-black slit; 33 with the gap alone).
NARROW = (0.04, 0.06)  # face sizes: the opening's tallest column, shaded as narrow below / as wide above
NARROW_DEPTH = 0.04  # face sizes: the shadow's reach in a narrow opening
NARROW_FLOOR = 0.0  # the light left at a narrow opening's edge (of the interior's own)


def inner_shadow(interior: np.ndarray, alpha: np.ndarray, face_size: float,
                 spared: np.ndarray | None = None, narrow: float = 1.0) -> np.ndarray:
    """The interior darkened towards the lips' inner edge: the lips overhang the cavity and
    shade it, so a real open mouth is darkest along its outline. Without it the interior (the
    driver's teeth and tongue, lightened into the portrait's palette) met the lips with no edge:
    the mouth read as a smear of lip colour, and the face mesh read it as shut. A share of the
    interior's own light, which starts from a shade of the lips: never a black hole. A narrow
    opening (NARROW) is shaded deeper, to black at the lips' edge (NARROW_DEPTH, NARROW_FLOOR): the
    dark rim round the teeth is what tells them from a pale lower lip.

    spared: (h, w) 0-1, how much of each pixel is not the cavity (lip, teeth) and keeps its light.
    narrow: 0-1, how much of the narrow opening's shading applies (0 under a moustache, whose dark
    gap `gap_under_moustache` draws)."""
    inside = (alpha > 127).astype(np.uint8)
    tall = float(inside.sum(axis=0).max()) / max(face_size, 1.0) if inside.any() else 1.0
    t = float(np.clip((NARROW[1] - tall) / (NARROW[1] - NARROW[0]), 0.0, 1.0))
    t = narrow * t * t * (3.0 - 2.0 * t)
    depth = max(2.0, (SHADOW_DEPTH + t * (NARROW_DEPTH - SHADOW_DEPTH)) * face_size)
    floor = SHADOW_FLOOR + t * (NARROW_FLOOR - SHADOW_FLOOR)
    distance = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    x = np.clip(distance / depth, 0.0, 1.0)
    light = floor + (1.0 - floor) * (x * x * (3.0 - 2.0 * x))
    if spared is not None:
        # The shadow falls on the cavity, not on the lips' own surface inside the loop (MediaPipe's
        # inner loop runs over it) nor on the teeth: shaded, the lips' surface was a brown rim
        # between the portrait's lips and the hole (d10's "O" and talking mouth), the teeth dim.
        light += (1.0 - light) * spared
    return np.clip(interior.astype(np.float32) * light[..., None], 0, 255).astype(np.uint8)


LIP_LIKENESS = 14.0  # LAB units: how near the driver's lip colour a pixel of its interior is lip
LIKENESS_SIDE = 72  # px
PURSED = (0.25, 0.45)  # share of the loop that is lip where it starts / ends being drawn as lip
LIP_DARK = (0.6, 0.85)  # of the lips' lightness: a darker pixel is the mouth's inside / lip from here up
SPARED = (0.2, 0.35)
LIP_BRIGHT = (1.12, 1.25)  # of the lips' lightness: a brighter pixel is teeth / lip up to here


def _lips_inside(interior: np.ndarray, raw: np.ndarray, driver_image: np.ndarray, driver_mouth: np.ndarray,
                 driver_size: float, lips_colour: np.ndarray, alpha: np.ndarray, face_size: float,
                 narrow: float = 1.0) -> np.ndarray:
    """The driver's lips inside its inner lip loop drawn as the portrait's lips.

    MediaPipe's inner lip loop follows the lips' meeting line, not the hole: on pursed lips (an
    "O", a kiss) it spans the mouth corner to corner and holds the lips' inner surface around a
    small hole. Drawn as interior (in the portrait's palette, shaded towards the loop as a
    cavity's edge), that lip surface came out as a grey ring round the hole (d10 frames 4-13,
    85-97) and the pursed mouth read as wide and open. Pixels of the driver's lip colour (its lips
    just outside the loop) are drawn in the portrait's lip colour with the driver's shading.

    The interior is shaded here (`inner_shadow`), from the edge of the driver's hole: the lips'
    surface inside the loop is not the cavity's edge."""
    height, width = driver_image.shape[:2]
    pad = max(2, int(0.02 * driver_size))
    x0, y0 = np.floor(driver_mouth.min(axis=0)).astype(int) - 2 * pad
    x1, y1 = np.ceil(driver_mouth.max(axis=0)).astype(int) + 2 * pad + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return inner_shadow(interior, alpha, face_size, narrow=narrow)
    inside = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(inside, [np.round((driver_mouth - [x0, y0]) * 16).astype(np.int32)], 255, shift=4)
    band = cv2.dilate(inside, np.ones((2 * pad + 1, 2 * pad + 1), np.uint8)) & ~inside
    if cv2.countNonZero(band) < 8:
        return inner_shadow(interior, alpha, face_size, narrow=narrow)
    lip_bgr = np.array(cv2.mean(driver_image[y0:y1, x0:x1], mask=band)[:3])
    lip = cv2.cvtColor(np.clip(lip_bgr, 0, 255).astype(np.uint8)[None, None], cv2.COLOR_BGR2LAB).reshape(3)
    lip = lip.astype(np.float32)
    # The likeness is smooth: measured at most LIKENESS_SIDE pixels wide (a 720p face's mouth: a
    # tenth of its pixels, 2.5 -> 0.5 ms).
    factor = min(1.0, LIKENESS_SIDE / max(raw.shape[1], 1))
    half = factor < 1.0
    small = cv2.resize(raw, (max(1, round(raw.shape[1] * factor)), max(1, round(raw.shape[0] * factor))),
                       interpolation=cv2.INTER_AREA) if half else raw
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).astype(np.float32)
    # Lip: the lips' colour (redder than teeth) and about their light. The cavity and the tongue
    # in the mouth's shadow are the lips' hue in the dark: they stay interior.
    distance = np.sqrt(((lab[..., 1:] - lip[1:]) ** 2).sum(axis=-1) + (0.5 * (lab[..., 0] - lip[0])) ** 2)
    lit = np.clip((lab[..., 0] - LIP_DARK[0] * lip[0]) / ((LIP_DARK[1] - LIP_DARK[0]) * max(float(lip[0]), 1.0)),
                  0.0, 1.0)
    # Teeth are the lips' hue in a warm light (d3: a* 147 b* 148 against her lips' 150 149), only
    # brighter (L 103 against 79; d10: 203 against 137): brighter than LIP_BRIGHT they are not lip.
    pale = np.clip((LIP_BRIGHT[1] * lip[0] - lab[..., 0]) / ((LIP_BRIGHT[1] - LIP_BRIGHT[0]) * max(float(lip[0]), 1.0)),
                   0.0, 1.0)
    pale = pale * pale * (3.0 - 2.0 * pale)
    likeness = (np.exp(-0.5 * (distance / LIP_LIKENESS) ** 2) * lit * lit * (3.0 - 2.0 * lit) * pale).astype(np.float32)
    teeth = (1.0 - pale).astype(np.float32)
    light = lab[..., 0]
    if half:
        size = (raw.shape[1], raw.shape[0])
        likeness = cv2.resize(likeness, size, interpolation=cv2.INTER_LINEAR)
        teeth = cv2.resize(teeth, size, interpolation=cv2.INTER_LINEAR)
        light = cv2.resize(light, size, interpolation=cv2.INTER_LINEAR)
    # Only a loop that is mostly lip (pursed lips: 0.35-0.8 of it on d10) is redrawn; a talking
    # mouth's loop is mostly hole with a rim of lip (0.1-0.2 on d9), and that rim, shaded as the
    # cavity's edge, is what makes it read open (Einstein driven by d9 read shut with it drawn as lip).
    share = float(cv2.mean(likeness, mask=(alpha > 127).astype(np.uint8))[0]) if (alpha > 127).any() else 0.0
    y = float(np.clip((share - SPARED[0]) / (SPARED[1] - SPARED[0]), 0.0, 1.0))
    # Not shaded as the cavity's edge: the teeth (their light is the driver's own, shadow and all)
    # and, once the loop holds much lip (SPARED: an "O", a pout), the lips' surface in it.
    interior = inner_shadow(interior, alpha, face_size, np.maximum(likeness * (y * y * (3.0 - 2.0 * y)), teeth),
                            narrow)
    likeness = likeness[..., None]
    x = float(np.clip((share - PURSED[0]) / (PURSED[1] - PURSED[0]), 0.0, 1.0))
    if x <= 0.0:
        return interior
    likeness *= x * x * (3.0 - 2.0 * x)
    shade = np.clip(light[..., None] / max(float(lip[0]), 1.0), 0.0, 1.5)
    lips = np.clip(np.asarray(lips_colour, dtype=np.float32)[None, None] * shade, 0, 255)
    return np.clip(likeness * lips + (1.0 - likeness) * interior.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)


# -- a moustache over the upper lip ---------------------------------------------------------------

MOUSTACHE = (0.8, 0.6)  # the skin over the upper lip, of the face's light: no moustache from the first, one below the second
MOUSTACHE_BAND = 0.035  # face sizes (the landmarks' diagonal): how far over the upper lip its skin is measured
UNDER_MOUSTACHE = 0.6  # the interior's light under a moustache (of its own)
GAP_ROWS = (0.45, 0.85)  # of the opening's height, down each column: the gap under the teeth darkens from / to
GAP_FLOOR = 0.2  # the gap's light at its darkest (of the interior's own)
GAP_HEIGHT = (14.0, 8.0)  # px: the opening's height below which the gap is drawn / drawn fully


def moustache_over_lip(image: np.ndarray, landmarks: np.ndarray, skin_light: float) -> float:
    """0-1: how far a moustache covers the portrait's upper lip (the skin just over the lip, darker
    than the face's).

    Over Einstein's (s12) upper lip the skin is 0.37 of his face's light (the moustache's hair);
    over the other portraits' and the drivers' it is 0.93-1.14 (s0, s6, s9, s10, s42; d3, d6,
    d9, d10). The lip's own light is no sign: d3's upper lip, turned down from the light, is 0.52
    of her lower lip's, Einstein's 0.43. skin_light: the face's LAB L (`face_colour`)."""
    points = landmarks[:, :2]
    size = float(np.hypot(*(points.max(axis=0) - points.min(axis=0))))
    outer = points[list(UPPER_LIP_RINGS[-1])]
    band = np.concatenate([outer, (outer - [0.0, MOUSTACHE_BAND * size])[::-1]])
    x0, y0 = np.floor(band.min(axis=0)).astype(int)
    x1, y1 = np.ceil(band.max(axis=0)).astype(int) + 1
    height, width = image.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0.0
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(mask, [np.round((band - [x0, y0]) * 16).astype(np.int32)], 255, shift=4)
    if cv2.countNonZero(mask) < 4:
        return 0.0
    light = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2LAB)[..., 0]
    over = cv2.mean(light, mask=mask)[0] / max(skin_light, 1.0)
    return float(np.clip((MOUSTACHE[0] - over) / (MOUSTACHE[0] - MOUSTACHE[1]), 0.0, 1.0))


def gap_under_moustache(interior: np.ndarray, alpha: np.ndarray, height: float, moustache: float) -> np.ndarray:
    """The interior shaded under a moustache, with a dark gap under the teeth on a small opening.

    A moustache over the upper lip leaves nothing to show where the mouth parts but the opening
    itself. The driver's interior in the portrait's palette was a band of teeth lighter than the
    moustache and a shade darker than the lower lip: Einstein (s12) driven by d3 to a parted
    smile, 4-8 px high on his 206 px face, showed a pale smear under the moustache that MediaPipe,
    afresh on the output, read as closed lips (opening 0.1-0.5e-3 where 3-5e-3 was drawn). The
    driver's dark line between its teeth and lower lip, a pixel or two, is lost when the interior
    is shrunk to that size: it is drawn back (GAP_ROWS, GAP_FLOOR) on openings under GAP_HEIGHT,
    and the whole interior lies in the moustache's shade (UNDER_MOUSTACHE: the teeth dim, below
    the lower lip's light).

    alpha: (h, w) uint8, the opening (the inner lip loop filled); height: the opening's height in
    pixels; moustache: `moustache_over_lip`."""
    if moustache <= 0.0:
        return interior
    inside = alpha > 127
    gain = np.full(alpha.shape, 1.0 - moustache * (1.0 - UNDER_MOUSTACHE), dtype=np.float32)
    small = float(np.clip((GAP_HEIGHT[0] - height) / (GAP_HEIGHT[0] - GAP_HEIGHT[1]), 0.0, 1.0))
    if small > 0.0 and inside.any():
        rows = np.arange(alpha.shape[0], dtype=np.float32)[:, None]
        top = np.where(inside, rows, np.inf).min(axis=0)
        bottom = np.where(inside, rows, -np.inf).max(axis=0)
        depth = np.clip((rows - top + 0.5) / np.maximum(bottom - top + 1.0, 1.0), 0.0, 1.0)  # 0 top, 1 bottom
        x = np.clip((depth - GAP_ROWS[0]) / (GAP_ROWS[1] - GAP_ROWS[0]), 0.0, 1.0)
        gain *= 1.0 - moustache * small * (1.0 - GAP_FLOOR) * (x * x * (3.0 - 2.0 * x))
    return np.clip(interior.astype(np.float32) * gain[..., None] + 0.5, 0, 255).astype(np.uint8)


def interior_share(mouth: np.ndarray, face_size: float, own_opening: float = 0.0) -> float:
    """How much of the drawn interior covers the portrait's own (0: nothing to draw)."""
    opening = mouth_opening(mouth, face_size)
    if opening < MIN_OPENING:
        return 0.0
    # The portrait's own interior, warped with the rest, is its gap between the lips stretched:
    # kept where the mouth opened little beyond it, given way quickly as it opens further (by the
    # square of the ratio: linearly, a mouth opened to 3x a parted portrait's gap kept a third of
    # that stretched dark gap over the drawn teeth, d3 in self-reenactment).
    share = 1.0 - (own_opening / opening) ** 2 if own_opening >= MIN_OPENING else 1.0
    return share if share > 0.05 else 0.0


def draw_mouth_interior(canvas: np.ndarray, mouth: np.ndarray, face_size: float, lips_colour: np.ndarray,
                        own_opening: float = 0.0, driver_image: np.ndarray | None = None,
                        driver_mouth: np.ndarray | None = None, driver_size: float = 0.0,
                        colour_matrix: np.ndarray | None = None, skin_lab: np.ndarray | None = None,
                        moustache: float = 0.0) -> bool:
    """Fill the portrait's open mouth, in place. True when something was drawn.

    mouth: (20, 2) the inner lip loop in `canvas` pixels. own_opening: the portrait's own mouth
    opening (`mouth_opening`): a portrait whose mouth is already open has a real interior, warped
    with the rest, so the drawn one only covers what the mouth opened beyond it.
    driver_mouth: the same loop in `driver_image` (None: draw a cavity). colour_matrix: LAB
    transfer from the driver's skin to the portrait's. lips_colour: BGR of the portrait's lips
    (the cavity is a dark shade of it). moustache: `moustache_over_lip` of the portrait (the driver's
    interior drawn in its shade, `gap_under_moustache`).
    """
    share = interior_share(mouth, face_size, own_opening)
    if share <= 0.0:
        return False
    height, width = canvas.shape[:2]
    pad = int(np.ceil(0.02 * face_size)) + 2
    x0, y0 = np.floor(mouth.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(mouth.max(axis=0)).astype(int) + pad + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return False
    box = (int(x0), int(y0), int(x1), int(y1))
    local = mouth - np.array([x0, y0], dtype=np.float32)
    alpha = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(alpha, [np.round(local * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    sigma = max(0.7, 0.004 * face_size)
    weight = cv2.GaussianBlur(alpha, (0, 0), sigma).astype(np.float32) * np.float32(share / 255.0)

    use_driver = driver_image is not None and driver_mouth is not None and \
        mouth_opening(driver_mouth, driver_size) >= MIN_OPENING
    if use_driver:
        maps = piecewise_affine_maps(_fan_points(mouth), _fan_points(driver_mouth),
                                     _fan_triangles(len(mouth)), box, grid_step=2)
        raw = maps.remap(driver_image)
        interior = raw
        if colour_matrix is not None:
            interior = apply_transfer(interior, colour_matrix)
        if skin_lab is not None:
            interior = in_portrait_style(interior, lips_colour, skin_lab, face_size)
        interior = _lips_inside(interior, raw, driver_image, driver_mouth, driver_size, lips_colour, alpha,
                                face_size, 1.0 - moustache)
        interior = gap_under_moustache(interior, alpha, float(mouth[:, 1].max() - mouth[:, 1].min()), moustache)
    else:
        # A cavity: a dark shade of the lips, darkest under the upper lip (it casts the shadow).
        rows = np.linspace(0.0, 1.0, y1 - y0, dtype=np.float32)[:, None, None]
        top_y, bottom_y = (mouth[:, 1].min() - y0) / (y1 - y0), (mouth[:, 1].max() - y0) / (y1 - y0)
        depth = np.clip((rows - top_y) / max(bottom_y - top_y, 1e-3), 0.0, 1.0)
        shade = 0.3 + 0.25 * depth  # a dark shade of the lips, not black
        interior = np.clip(lips_colour[None, None, :] * shade, 0, 255).astype(np.uint8)
        interior = np.broadcast_to(interior, (y1 - y0, x1 - x0, 3)).copy()
    region = canvas[y0:y1, x0:x1]
    region[:] = cv2.blendLinear(interior, region, weight, 1.0 - weight)
    return True


def driver_to_portrait_colour(driver_stats: tuple[np.ndarray, np.ndarray],
                              portrait_stats: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return transfer_matrix(driver_stats, portrait_stats, 1.0)


# -- the lips' shading, from the driver -------------------------------------------------------------

def _lip_loops() -> np.ndarray:
    """(4, 20) the lips as closed loops from the inner edge out (each ring's upper half corner to
    corner, then its lower half back), point for point from loop to loop."""
    upper, lower = np.array(UPPER_LIP_RINGS), np.array(LOWER_LIP_RINGS)
    return np.concatenate([upper, lower[:, -2:0:-1]], axis=1)


LIP_LOOPS = _lip_loops()
SHADING_MARGIN = 0.04  # face sizes beyond the lips' outline the shading's mesh reaches (it takes in
# the corners' folds, which run past the corner landmarks into the cheek)
SHADING_BLUR = 0.004  # face sizes: the shading is the driver's light at this scale, not its texture
SHADING_RANGE = (0.6, 1.6)  # the most the lips' light is scaled either way
SHADING_FADE = 0.8  # of the margin: the shading fades out over this (within its mesh)
SHADING_REACH = 0.03  # face sizes: the portrait's light round the mouth, the most a pixel is lifted to
SHADING_STILL = 0.02  # a shading within this of 1 everywhere is left out (the lips at rest)


def _shading_mesh(points: np.ndarray, size: float) -> np.ndarray:
    """(100, 2) the lip loops and a loop SHADING_MARGIN face sizes outside the lips' outline."""
    loops = points[LIP_LOOPS, :2].astype(np.float32)
    outer = loops[-1]
    centre = outer.mean(axis=0)
    away = outer - centre
    away /= np.maximum(np.linalg.norm(away, axis=1, keepdims=True), 1e-6)
    return np.concatenate([*loops, outer + SHADING_MARGIN * size * away]).astype(np.float32)


def _band_triangles() -> np.ndarray:
    count = LIP_LOOPS.shape[1]
    triangles = []
    for ring in range(LIP_LOOPS.shape[0]):  # loop k to loop k + 1 (the last: to the margin)
        a, b = ring * count, (ring + 1) * count
        for i in range(count):
            j = (i + 1) % count
            triangles += [(a + i, a + j, b + i), (a + j, b + j, b + i)]
    return np.array(triangles, dtype=np.int32)


_BAND_TRIANGLES = _band_triangles()


def _light(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32) + 1.0


def shade_lips(canvas: np.ndarray, points: np.ndarray, face_size: float, driver: np.ndarray,
               driver_points: np.ndarray, neutral: np.ndarray, neutral_points: np.ndarray,
               driver_size: float, strength: float = 1.0, pouted: float = 1.0) -> bool:
    """The driver's change of light on its lips since its neutral face, laid on the portrait's
    warped lips (in place; a ratio image: Liu, Shan and Zhang 2001). True when something was drawn.

    The warp moves the portrait's lips but keeps their light: a pout turns the upper lip out to
    face the light, and the portrait's resting upper lip, in its own shadow and stretched to the
    pout's height, was drawn dull and dark (d10: L 123 against the real 136-145), with the
    corners' dark folds stretched along the rounded corners where the real ones smoothed out. The
    driver's light on its lips (blurred: its shading, not its texture), each pixel divided by its
    light on the neutral face at the same place on the lips, scales the portrait's. The inside of
    the inner loop is left to the mouth's interior; the ratio fades out beyond the outline (over
    SHADING_FADE of SHADING_MARGIN, lifting only) and is taken relative to the skin there (a
    camera's exposure moves both). d10's pouts (self-reenactment, frames 5-9): the upper lip's
    light 0.89 -> 0.95 of the real one's; MediaPipe's mouth width on the output follows the real
    one's at 0.80 of its change (0.69 before).

    points: (478, 2) the portrait's landmarks as drawn; driver_points, neutral_points: the driver's
    landmarks on `driver` (this frame) and `neutral` (its neutral face, the reference's picture);
    strength: the motion's strength (the ratio's power); pouted: 0-1, the pout's share of the
    shading (1: a pout, drawn in full; 0: an open mouth, not pouting): how much of the darkening
    (ratio under 1, on the lips) is applied (the lifting always is), and how much of the lifting
    applies on the lips' inner rim (their inner loop to the next one)."""
    drawn = _shading_mesh(points, face_size)
    height, width = canvas.shape[:2]
    x0, y0 = np.floor(drawn.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(drawn.max(axis=0)).astype(int) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return False
    box = (int(x0), int(y0), int(x1), int(y1))
    # Both through the same drawn mesh: its triangles rasterised once (half of this function's cost).
    now_maps, before_maps = piecewise_affine_maps_from(
        drawn, [_shading_mesh(driver_points, driver_size), _shading_mesh(neutral_points, driver_size)],
        _BAND_TRIANGLES, box, grid_step=2)
    now, before = now_maps.remap(driver), before_maps.remap(neutral)
    local = (drawn - [x0, y0]) * 16
    count = LIP_LOOPS.shape[1]
    lips = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(lips, [np.round(local[3 * count:4 * count]).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    cv2.fillPoly(lips, [np.round(local[:count]).astype(np.int32)], 0, cv2.LINE_AA, shift=4)
    around = np.zeros_like(lips)
    cv2.fillPoly(around, [np.round(local[4 * count:]).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    skin = (around > 127) & ~(cv2.dilate(lips, np.ones((3, 3), np.uint8)) > 0)
    cv2.fillPoly(around, [np.round(local[:count]).astype(np.int32)], 0, cv2.LINE_AA, shift=4)
    # Blurred within the lips and the skin round them only: the mouth's opening (inside the inner
    # loop, the driver's dark hole now, its closed lips before) would darken the inner edge.
    sigma = max(0.8, SHADING_BLUR * face_size)
    inside = around.astype(np.float32) / 255.0
    cover = cv2.GaussianBlur(inside, (0, 0), sigma) + 1e-3
    ratio = cv2.GaussianBlur(_light(now) * inside, (0, 0), sigma) / \
        np.maximum(cv2.GaussianBlur(_light(before) * inside, (0, 0), sigma), cover)
    if np.count_nonzero(skin) >= 16:
        ratio /= max(float(np.median(ratio[skin])), 1e-3)
    ratio = np.clip(ratio, *SHADING_RANGE) ** strength
    # 1 on the lips, fading to 0 within the margin's loop (the distance from the lips).
    fade = cv2.distanceTransform((lips < 128).astype(np.uint8), cv2.DIST_L2, 3)
    band = max(1.0, SHADING_FADE * SHADING_MARGIN * face_size)
    weight = np.clip(1.0 - fade / band, 0.0, 1.0) * (around.astype(np.float32) / 255.0)
    weight = weight * weight * (3.0 - 2.0 * weight)
    # Beyond the lips only lifted: the driver's dimples and smile folds on another face's skin were
    # grey smudges (s42 by d3: a moustache's shade over the upper lip), darkened in light alone or
    # in BGR alike; the corners' folds lifted (a pout's) are what the margin is for.
    on_lips = np.clip(1.0 - fade / max(2.0, 0.01 * face_size), 0.0, 1.0)
    ratio = np.where(ratio < 1.0, 1.0 - on_lips * (1.0 - ratio), ratio)
    if pouted < 1.0:
        inner = np.zeros_like(lips)
        cv2.fillPoly(inner, [np.round(local[count:2 * count]).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
        kept = 1.0 - (1.0 - pouted) * (inner.astype(np.float32) / 255.0)
        weight = np.where(ratio > 1.0, weight * kept, weight)
    gain = cv2.GaussianBlur(1.0 + weight * (ratio - 1.0), (0, 0), sigma)  # no step along the outline
    if np.abs(gain - 1.0).max() < SHADING_STILL:
        return False
    # Lifted: the light scaled, the colour kept (scaled in BGR, a dark lip line lifted came out
    # orange), and no brighter than the portrait's own light round the mouth: the driver's dark
    # there (a fold, the corner's shadow) lifted is the portrait's fold lifted where it has one, and
    # nothing where it has none (s6's lit corner under the moustache came out a white spot).
    # Darkened (the lips only): in BGR, a shade of their own colour.
    region = canvas[y0:y1, x0:x1]
    lab = cv2.cvtColor(region, cv2.COLOR_BGR2LAB)
    light = lab[..., 0].astype(np.float32)
    ceiling = np.maximum(light, wide_blur(light, max(1.0, SHADING_REACH * face_size)))  # smooth: at a reduced size
    lab[..., 0] = np.clip(np.minimum(light * np.maximum(gain, 1.0), ceiling) + 0.5, 0, 255).astype(np.uint8)
    lifted = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR).astype(np.float32)
    darkened = 1.0 - pouted * (1.0 - np.minimum(gain, 1.0))
    region[:] = np.clip(lifted * darkened[..., None] + 0.5, 0, 255).astype(np.uint8)
    return True
