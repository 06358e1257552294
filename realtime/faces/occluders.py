"""What is in front of the target's face and must stay in front of the new face.

Glasses: their frames are thin lines (dark, or bright where metal catches the light) in a ring
around the eyes and across the nose bridge. A morphological black-hat and top-hat with a
structuring element a little wider than a frame (about 3% of the face) respond to exactly such
thin structures and not to the smooth skin, nor to the inside of a thick brow; the eyes
themselves are left out (the mask already shows the target's eyes). The result is a soft mask of
target pixels to keep, computed on the eye ring's bounding box only, at half resolution.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from realtime.blend.kernels import area_shrink
from realtime.faces.topology import topology
from realtime.frame import Box

# A thin-line response above this many grey levels is a frame (skin texture stays well below).
LINE_THRESHOLD = 14
# Above this face size the ring is searched at half resolution (2x2 minimum / maximum).
HALF_RESOLUTION_ABOVE = 480
# Connected line pieces smaller than this fraction of the ring's area are noise (pores, lashes).
MIN_PIECE = 0.0015


def _hull(points: np.ndarray | list[np.ndarray], shape: tuple[int, int], scale: float, offset,
          grow: float) -> np.ndarray:
    """The convex hull of `points` (or the union of each set's hull, for a list: grown together
    by one distance transform, the same pixels as growing each alone and joining them) grown
    by `grow` pixels, uint8 {0, 1}."""
    mask = np.zeros(shape, np.uint8)
    for each in points if isinstance(points, list) else [points]:
        hull = cv2.convexHull(np.round((each[:, :2] - offset) * scale * 16).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1, shift=4)
    if grow >= 1:
        # Grown by a distance transform: its cost does not depend on how far (a dilation by an
        # elliptic kernel of 90 px cost 10 ms on a 380 px face at full resolution).
        mask = (cv2.distanceTransform(1 - mask, cv2.DIST_L2, 3) <= grow).astype(np.uint8)
    return mask


def glasses_mask(image: np.ndarray, landmarks: np.ndarray, box: Box,
                 face_size: float) -> tuple[np.ndarray, tuple[int, int]] | None:
    """The target's glasses frames as (keep, (x, y)): keep is float32 in [0, 1] (1 = keep the
    target pixel) over the eye ring's region, whose top-left corner is at (x, y) in `box`;
    None when nothing frame-like is there."""
    top = topology()
    x0, y0, x1, y1 = box
    points = landmarks[:, :2]
    ring_points = np.concatenate([points[top.right_eye], points[top.left_eye],
                                  points[top.right_eyebrow], points[top.left_eyebrow]])
    # The ring's bounding region: the eyes and brows with room for the frames around them.
    margin = 0.09 * face_size
    rx0 = int(max(x0, ring_points[:, 0].min() - 1.5 * margin))
    ry0 = int(max(y0, ring_points[:, 1].min() - 1.5 * margin))
    rx1 = int(min(x1, ring_points[:, 0].max() + 1.5 * margin))
    ry1 = int(min(y1, ring_points[:, 1].max() + 1.5 * margin))
    if rx1 - rx0 < 16 or ry1 - ry0 < 8:
        return None
    scale = 0.5 if face_size > HALF_RESOLUTION_ABOVE else 1.0
    grey = cv2.cvtColor(image[ry0:ry1, rx0:rx1], cv2.COLOR_BGR2GRAY)
    dark = bright = grey
    if scale != 1.0:
        # Half resolution by 2x2 minimum (for dark lines) and maximum (for bright ones), not by
        # averaging: a 1-2 px metal frame keeps its full contrast (averaged, it faded below the
        # threshold and half of d9's frames were lost), at a quarter of the cost.
        height, width = (grey.shape[0] // 2) * 2, (grey.shape[1] // 2) * 2
        pair = np.ones((2, 2), np.uint8)
        dark = cv2.erode(grey, pair, anchor=(0, 0))[:height:2, :width:2]
        bright = cv2.dilate(grey, pair, anchor=(0, 0))[:height:2, :width:2]
    shape = dark.shape
    offset = np.array([rx0, ry0], np.float32)
    size = max(3, int(0.03 * face_size * scale) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    lit = cv2.morphologyEx(bright, cv2.MORPH_TOPHAT, kernel)
    response = cv2.max(cv2.morphologyEx(dark, cv2.MORPH_BLACKHAT, kernel), lit)
    lines = (response > LINE_THRESHOLD).astype(np.uint8)
    # Not the eyes (they show through the mask already) nor the lashes and lid creases right
    # around them.
    eyes = _hull([points[top.right_eye], points[top.left_eye]], shape, scale, offset, 0.035 * face_size * scale)
    lines &= 1 - eyes
    # Only inside a rounded region around the eyes and brows, well within the rectangle: a
    # line cut by the rectangle's edge would leave a straight edge in the mask.
    lines &= _hull(ring_points, shape, scale, offset, 1.3 * margin * scale)
    # Nor the target's own brows: kept in front, they showed above the source's (and brought
    # the target's look back); a frame's top edge crossing a brow loses that short piece.
    brows = _hull([points[top.right_eyebrow], points[top.left_eyebrow]], shape, scale, offset,
                  0.01 * face_size * scale)
    # A brow is dark hair: a bright thin line inside its outline is a metal rim running along
    # the brow's lower edge (d9's upper rims lay under MediaPipe's brow points and were lost).
    lines &= 1 - (brows & (lit <= LINE_THRESHOLD).astype(np.uint8))
    # Frames are thin: whatever survives an opening wider than a frame is a blob (a shadow,
    # the side of the nose), not a frame.
    thick = max(5, int(0.04 * face_size * scale) | 1)
    blobs = cv2.morphologyEx(lines, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (thick, thick)))
    if blobs.any():
        lines &= 1 - cv2.dilate(blobs, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    if count <= 1:
        return None
    # Frames are long: keep pieces whose extent is a good part of an eye's width.
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    long_enough = (extent >= 0.08 * face_size * scale) & \
        (stats[:, cv2.CC_STAT_AREA] >= MIN_PIECE * lines.size)
    long_enough[0] = False
    if not long_enough.any():
        return None
    # Glasses have a bridge: a line across the gap between the inner eye corners. Without one
    # these are the target's own lid creases and brow edges, part of its identity: keep nothing.
    inner = (points[[133, 362]] - offset) * scale
    gap = float(abs(inner[1, 0] - inner[0, 0]))
    bx0, bx1 = int(min(inner[:, 0]) + 0.2 * gap), int(max(inner[:, 0]) - 0.2 * gap)
    by0 = int(max(0, min(inner[:, 1]) - 0.25 * face_size * scale))
    by1 = int(min(shape[0], max(inner[:, 1]) + 0.05 * face_size * scale))
    if bx1 <= bx0 or by1 <= by0:
        return None
    bridge = labels[by0:by1, max(0, bx0):bx1]
    if not long_enough[np.unique(bridge)].any():
        return None
    # The kept weight follows the line's own strength: its core is kept, not a halo of the
    # target's skin around it (which would show as a lighter or darker patch).
    # Full from the threshold up: a rim kept at 0.5-0.7 at its core kept half its contrast (the
    # sharpest lines of the camera's face went soft, d13's rims most).
    strength = np.minimum(cv2.subtract(response, LINE_THRESHOLD // 2).astype(np.float32) * (2.0 / LINE_THRESHOLD), 1.0)
    selected = cv2.dilate(long_enough[labels].astype(np.uint8), np.ones((3, 3), np.uint8))
    # Below the bridge, between the eyes, lie the sides of the target's own nose and the nose
    # pads' shadows: kept, they brought the target's nose back (the largest identity cost of
    # keeping glasses, 0.05 on d13).
    nose_top = int(max(inner[:, 1]) + 0.02 * face_size * scale)
    if nose_top < shape[0]:
        # The nose pads' bright metal arms stay (thin and lit, beside the eyes; the nose's sides
        # and its lit ridge in the middle third do not).
        left, right = max(0, int(min(inner[:, 0]))), max(0, int(max(inner[:, 0])) + 1)
        sides = np.s_[nose_top:, left:right]
        selected[sides] &= (lit[sides] > LINE_THRESHOLD).astype(np.uint8)
        selected[nose_top:, max(0, int(left + 0.3 * gap)):max(0, int(right - 0.3 * gap))] = 0
    frames = strength * selected
    # Inside a brow's outline only the rim's own lit pixels: not the brow's dark edge beside it.
    frames[(brows > 0) & (lit <= LINE_THRESHOLD // 2)] = 0
    if scale != 1.0:
        # At half resolution a 2-3 px rim is one pixel wide: enlarged, its core was kept at about
        # half and the rim lost half its contrast (d13's rims went soft); widened, the target's
        # skin beside it came along as a pale band. So the half-resolution pieces only say where:
        # at full resolution the weight is each pixel's own departure from its surroundings
        # (the rim's pixels, not the skin next to them).
        near = cv2.resize(cv2.dilate(frames, np.ones((3, 3), np.uint8)), (rx1 - rx0, ry1 - ry0),
                          interpolation=cv2.INTER_LINEAR)
        full = grey.astype(np.float32)
        own = np.abs(full - cv2.GaussianBlur(full, (0, 0), 1.5))
        frames = near * np.clip((own - 2.0) * (1.0 / 6.0), 0.0, 1.0)
    frames = cv2.GaussianBlur(frames, (0, 0), 0.7)
    # The blur of values in [0, 1] stays in [0, 1]: no clip needed.
    return frames, (rx0 - x0, ry0 - y0)


# A hand is kept up to this fraction of its span beyond its landmarks' hull (HandOccluder.mask) ...
HAND_REACH = 0.08
# ... and fades out beyond that over this fraction of the face box's width.
HAND_EDGE = 0.04


class HandOccluder:
    """Hands in front of the target's faces: MediaPipe Hands (bundled with the mediapipe
    package; tracking mode, the light model) run on every `every`-th frame; in between the
    last hands are kept (a hand moves little in 1/10 s, and the mask's soft, widened edge
    covers that). Each hand is its 21 landmarks' hull widened by a finger's width (HAND_REACH)."""

    def __init__(self, every: int = 3) -> None:
        self.every = max(1, every)
        self._hands: Any = None
        self._count = 0
        self._polygons: list[np.ndarray] = []
        self.runs = 0

    def update(self, image: np.ndarray) -> list[np.ndarray]:
        """The hands' outlines (frame pixels) for this frame."""
        if self._count % self.every == 0:
            if self._hands is None:
                from realtime.faces.mediapipe_mesh import import_mediapipe

                mp = import_mediapipe()  # without sounddevice's start-up probing
                self._hands = mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2,
                                                       model_complexity=0, min_detection_confidence=0.5,
                                                       min_tracking_confidence=0.5)
            height, width = image.shape[:2]
            result = self._hands.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            self.runs += 1
            polygons = []
            for hand in result.multi_hand_landmarks or ():
                points = np.array([(p.x * width, p.y * height) for p in hand.landmark], np.float32)
                polygons.append(cv2.convexHull(points).reshape(-1, 2))
            self._polygons = polygons
        self._count += 1
        return self._polygons

    def mask(self, polygons: list[np.ndarray], box: Box) -> np.ndarray | None:
        """float32 (h, w) over `box`: 1 where a hand is (soft edge), None when none overlaps.

        Each hand is its landmarks' hull widened by HAND_REACH of its span, fully kept up to
        there, and its soft edge lies outside that (HAND_EDGE of the box's width, a smoothstep).
        The landmarks sit on the joints, inside the skin: a fist's outline lies up to 0.09-0.13
        of its span beyond their hull (d10_hand, tracked every HAND_EVERY frames). The hull used
        to be widened by half of a finger's width (an ellipse 0.1 of the span across) and blurred
        about that line: its soft edge lay on the hand, whose outer 8-12 px showed the new face
        (the fist's dark top edge became a bright rim, a straight step of up to 4.7 grey levels
        on the written file, s9)."""
        if not polygons:
            return None
        x0, y0, x1, y1 = box
        width, height = x1 - x0, y1 - y0
        edge = max(2.0, HAND_EDGE * width)
        keep: np.ndarray | None = None
        for polygon in polygons:
            span = float(np.linalg.norm(polygon.max(axis=0) - polygon.min(axis=0)))
            reach = HAND_REACH * span
            # A padded canvas: a hand just outside the box still reaches into it.
            pad = int(np.ceil(reach + edge)) + 1
            hull = np.zeros((height + 2 * pad, width + 2 * pad), np.uint8)
            local = np.round((polygon - np.array([x0 - pad, y0 - pad], np.float32)) * 16).astype(np.int32)
            cv2.fillConvexPoly(hull, local, 1, shift=4)
            if not hull.any():
                continue
            # The distance to the hull (its cost does not depend on how far the hand reaches).
            distance = cv2.distanceTransform(1 - hull, cv2.DIST_L2, 3)[pad:pad + height, pad:pad + width]
            ramp = np.clip((reach + edge - distance) * np.float32(1.0 / edge), 0.0, 1.0)
            ramp = ramp * ramp * (3.0 - 2.0 * ramp)
            keep = ramp if keep is None else np.maximum(keep, ramp)
        if keep is None or not keep.any():
            return None
        return keep.astype(np.float32, copy=False)

    def close(self) -> None:
        if self._hands is not None:
            self._hands.close()
            self._hands = None


# Hair over the face's side: a pixel counts as hair when it is darker than this fraction of the
# skin's lightness (LAB L; the skin's own shading at the side of a face stays above it).
HAIR_DARKER = 0.6
# How far into the face (fraction of the face size) hair is looked for.
HAIR_BAND = 0.12
# Hair is computed at 1/_HAIR_STEP of the box's resolution (twice that for a face over
# HALF_RESOLUTION_ABOVE): a lock of hair is broad and its mask is blurred anyway.
_HAIR_STEP = 2


def hair_mask(image: np.ndarray, landmarks: np.ndarray, box: Box, face_size: float) -> np.ndarray | None:
    """The target's hair lying over the face's oval, as float32 (h, w) over `box` in [0, 1]
    (1 = keep the target pixel), or None when there is none.

    A fringe or a lock over a cheek lies inside MediaPipe's face oval: the new face was drawn
    over it and met the hair along the mask's soft edge in a straight line (no skin there for the
    edge membrane to measure; the worst seams of the written runs on d10 and the fist clip).
    Hair here is what is much darker than the target's own skin, within HAIR_BAND of the oval's
    border, connected to that border (hair comes in from outside the face), in the upper part
    of the face (a beard along the jaw is the face's own), and not a brow, an eye or its liner.
    """
    top = topology()
    x0, y0, x1, y1 = box
    step = _HAIR_STEP * (2 if face_size > HALF_RESOLUTION_ABOVE else 1)
    width, height = max(1, (x1 - x0) // step), max(1, (y1 - y0) // step)
    if width < 8 or height < 8:
        return None
    local = np.asarray((landmarks[:, :2] - np.array([x0, y0], np.float32)) / step, np.float32)
    pad = 2
    oval = np.zeros((height + 2 * pad, width + 2 * pad), np.uint8)
    cv2.fillPoly(oval, [np.round((local[top.face_oval] + pad) * 16).astype(np.int32)], 1, shift=4)
    inside = cv2.distanceTransform(oval, cv2.DIST_L2, 5)[pad:pad + height, pad:pad + width] * (step / face_size)
    # A whole-factor box average (the landmarks above are divided by `step` alike, and the mask
    # is enlarged back by the same factor below): the fractional INTER_AREA cost 0.5 ms on d13.
    small = area_shrink(image[y0:y1, x0:x1], (width, height))
    lightness = cv2.cvtColor(small, cv2.COLOR_BGR2LAB)[:, :, 0]
    features = np.zeros((height, width), np.uint8)
    # Eyes with room for an eyeliner's wing, brows and lips with a margin.
    groups: list[tuple[list[np.ndarray], float]] = [
        ([top.right_eye, top.left_eye], 0.16), ([top.right_eyebrow, top.left_eyebrow, top.outer_lips], 0.08)]
    for regions, reach in groups:
        part = np.zeros_like(features)
        for region in regions:
            cv2.fillConvexPoly(part, cv2.convexHull(np.round(local[region] * 16).astype(np.int32)), 1, shift=4)
        # Grown by a distance transform (an elliptic dilation this wide cost 3 ms on d13).
        features |= (cv2.distanceTransform(1 - part, cv2.DIST_L2, 3) <= 0.5 * reach * face_size / step).astype(np.uint8)
    skin = (inside > HAIR_BAND) & (features == 0)
    if cv2.countNonZero(skin.astype(np.uint8)) < 32:
        return None
    skin_l = float(np.median(lightness[skin]))
    band = (inside > 0) & (inside <= HAIR_BAND) & (features == 0)
    # The upper part of the face: above the nose's tip, along the face's own up direction.
    up = np.asarray(landmarks[10, :2] - landmarks[152, :2], np.float32)
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    # Broadcast a row of x and a column of y (the same numbers as a full np.mgrid, without it).
    xs, ys = np.arange(width, dtype=np.float32)[None, :], np.arange(height, dtype=np.float32)[:, None]
    nose = np.asarray(local[1], np.float32)
    above = ((xs - nose[0]) * up[0] + (ys - nose[1]) * up[1]) > 0
    hair = (band & above & (lightness < HAIR_DARKER * skin_l)).astype(np.uint8)
    # A lock of hair is broad; an eyeliner's wing or a lash line reaching the oval is thin.
    thin = max(3, int(0.03 * face_size / step) | 1)
    hair = cv2.morphologyEx(hair, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (thin, thin)))
    if cv2.countNonZero(hair) < 16:
        return None
    # Only pieces that reach the oval's border.
    count, labels = cv2.connectedComponents(hair, connectivity=8)
    edge = (inside > 0) & (inside <= 1.5 * step / face_size)
    touching = np.unique(labels[edge & (hair > 0)])
    touching = touching[touching > 0]
    if touching.size == 0:
        return None
    # The pieces kept, by a table over the labels (np.isin sorted the whole label map).
    kept = np.zeros(count, np.float32)
    kept[touching] = 1.0
    hair = kept[labels]
    hair = cv2.GaussianBlur(hair, (0, 0), max(0.7, 0.006 * face_size / step))
    hair = cv2.resize(hair, (step * width, step * height), interpolation=cv2.INTER_LINEAR)
    # The last < step rows and columns that the box average left out: their neighbours' values.
    return cv2.copyMakeBorder(hair, 0, y1 - y0 - step * height, 0, x1 - x0 - step * width, cv2.BORDER_REPLICATE)
