"""The source photo's own glasses: found once per photo, so the clean texture can fill them.

The target's rim detector (faces/occluders.glasses_mask: a grey black-hat/top-hat a little wider
than a metal rim) answers on a face seen every frame; run on a still portrait it found Grace
Hopper's forehead wrinkles rather than her 8-px black rims, and it does not see her amber lower
rims and bridge at all (they differ from her skin in colour, not in lightness). Here, once per
photo and with time to spare:
- evidence: each pixel's departure from its neighbourhood's median (a window wider than a rim,
  about 7% of the face), in lightness and, weighted up, in the two colour channels: a thin
  structure of any kind (a black, amber, tortoiseshell or specular rim) stands out, smooth skin
  does not;
- a frame is a closed curve around each eye plus a bridge over the nose: a connected piece of
  evidence in a ring around the eye (the eye and its lashes left out) that covers most of the
  directions seen from the eye's centre (a brow covers the upper third, a lid crease or an eye
  bag the lower third, never both with the sides), on both eyes, and a piece spanning the
  nose between the inner eye corners. On the seven portraits of ../shared/media (none with
  glasses) the best piece covers at most 53% of the directions and the bridge at most 51% of
  the gap; on Hopper 100% around both eyes and the whole gap;
- the mask is those pieces (rims, bridge, the temples they run into towards the ears), widened a
  little to take the rim's anti-aliased edge; the eyes are never in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from realtime.faces.topology import topology

# Neighbourhood (fraction of the face size) whose median a pixel departs from: wider than twice
# a rim, so a rim's own pixels are a minority of their window.
_WINDOW = 0.07
# Departure (LAB levels; colour channels weighted by _CHROMA_WEIGHT) above which a pixel is
# rim-like. Skin texture and pores lie below; Hopper's amber rims reach 15-30, her black ones 80+.
_THRESHOLD = 12.0
_CHROMA_WEIGHT = 2.0
# The ring searched around each eye, in the eye's own frame (units of the eye's corner-to-corner
# width; the vertical axis stretched by 1/_RING_ASPECT): lenses reach from a little outside the
# lid to the brow.
_RING_ASPECT = 0.75
_RING_INNER = 0.55
_RING_OUTER = 1.6
# The eye itself, its lashes and lid crease (the eye's outline widened by this fraction of the
# face) are never a frame.
_EYE_MARGIN = 0.035
# ... but a rim found outside that margin is followed into it, up to the lashes (the eye's
# outline widened by this fraction of the face).
_LASH_MARGIN = 0.025
# A frame: its piece covers at least this fraction of the directions around each eye, and a
# piece spans at least _BRIDGE_SPAN of the gap between the inner eye corners.
_COVERAGE = 0.75
_BRIDGE_SPAN = 0.7
_DIRECTIONS = 36
# Brows this much covered by the frame are hidden behind it.
_BROW_HIDDEN = 0.25


@dataclass(frozen=True)
class SourceGlasses:
    """Glasses found on the source photo."""

    mask: np.ndarray
    """uint8 {0, 1} (h, w): the frames' pixels (rims, bridge, temples)."""
    coverage: tuple[float, float]
    """Fraction of the directions around each eye (right, left) that the rims cover."""
    brows_hidden: bool
    """The frames lie over the brows: the brows are not visible in the photo."""


def rim_evidence(image: np.ndarray, face_size: float) -> np.ndarray:
    """float32 (h, w): each pixel's departure from its neighbourhood's median, in LAB (the
    colour channels weighted by _CHROMA_WEIGHT), the largest of the three channels."""
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    window = max(3, int(_WINDOW * face_size) | 1)
    evidence = np.zeros(image.shape[:2], np.float32)
    for channel, weight in ((0, 1.0), (1, _CHROMA_WEIGHT), (2, _CHROMA_WEIGHT)):
        values = np.ascontiguousarray(lab[..., channel])
        background = cv2.medianBlur(values, window)
        departure = cv2.absdiff(values, background).astype(np.float32) * weight
        np.maximum(evidence, departure, out=evidence)
    return evidence


def _eye_frame(points: np.ndarray, outer: int, inner: int, eye: np.ndarray,
               shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, v, angle) per pixel in the eye's own frame: u along the eye (towards its inner corner),
    v across (down), in eye widths, centred on the eye's outline."""
    centre = points[eye].mean(axis=0)
    axis = points[inner] - points[outer]
    width = max(float(np.linalg.norm(axis)), 1.0)
    along = axis / width
    across = np.array([-along[1], along[0]])
    if across[1] < 0:
        across = -across
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    dx, dy = xs - centre[0], ys - centre[1]
    u = (dx * along[0] + dy * along[1]) / width
    v = (dx * across[0] + dy * across[1]) / width
    return u, v, np.arctan2(v, u)


def find_source_glasses(image: np.ndarray, landmarks: np.ndarray, face_size: float,
                        oval: np.ndarray) -> SourceGlasses | None:
    """The glasses on the face at `landmarks` in `image` (BGR uint8, the texture's crop), or
    None when there are none. `oval` (uint8 {0, 1}) is the face's outline."""
    from realtime.swap.texture import _polygon_mask

    top = topology()
    points = landmarks[:, :2].astype(np.float32)
    shape = image.shape[:2]
    evidence = rim_evidence(image, face_size)
    eyes = _polygon_mask(shape, [points[top.right_eye], points[top.left_eye]],
                         dilate_px=_EYE_MARGIN * face_size)

    # The search zone: a ring around each eye, the temples beyond each ring's outer side (to the
    # face's outline), and the bridge between the inner corners.
    zone = np.zeros(shape, bool)
    frames = []
    for eye, outer, inner in ((top.right_eye, 33, 133), (top.left_eye, 263, 362)):
        u, v, angle = _eye_frame(points, outer, inner, eye, shape)
        radius = np.sqrt(u ** 2 + (v / _RING_ASPECT) ** 2)
        ring = (radius > _RING_INNER) & (radius < _RING_OUTER)
        temple = (u < -0.8) & (v > -0.7) & (v < 0.3)
        zone |= ring | temple
        frames.append((ring, angle))
    inner_right, inner_left = points[133], points[362]
    gap = float(np.linalg.norm(inner_left - inner_right))
    low, high = np.minimum(inner_right, inner_left), np.maximum(inner_right, inner_left)
    bridge = np.zeros(shape, bool)
    bx0, bx1 = int(low[0] + 0.15 * gap), int(high[0] - 0.15 * gap)
    by0, by1 = int(max(0, low[1] - 0.35 * gap)), int(min(shape[0], high[1] + 0.25 * gap))
    if bx1 <= bx0 or by1 <= by0:
        return None
    bridge[by0:by1, bx0:bx1] = True
    zone |= bridge
    # Not limited to the oval: the rims and temples often run past its outer side.
    zone &= eyes == 0

    lines = ((evidence > _THRESHOLD) & zone).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    if count <= 1:
        return None
    large = stats[:, cv2.CC_STAT_AREA] >= 0.0005 * lines.size
    large[0] = False

    selected = np.zeros(count, bool)
    coverage = []
    for ring, angle in frames:
        best = 0.0
        for piece in np.flatnonzero(large):
            inside = (labels == piece) & ring
            if not inside.any():
                continue
            bins = np.unique((((angle[inside] + np.pi) / (2 * np.pi)) * _DIRECTIONS).astype(int) % _DIRECTIONS)
            share = len(bins) / _DIRECTIONS
            if share >= 0.5:
                selected[piece] = True
            best = max(best, share)
        coverage.append(best)
    span = 0.0
    window = labels[by0:by1, bx0:bx1]
    for piece in np.unique(window):
        if piece == 0 or not large[piece]:
            continue
        columns = np.flatnonzero((window == piece).any(axis=0))
        piece_span = (columns[-1] - columns[0] + 1) / max(bx1 - bx0, 1)
        if piece_span >= _BRIDGE_SPAN:
            selected[piece] = True
        span = max(span, piece_span)
    if min(coverage) < _COVERAGE or span < _BRIDGE_SPAN:
        return None

    mask = selected[labels].astype(np.uint8)
    # The rims run on into the margin kept around the eyes for the search (where a rim passes
    # close to an eye's corner, its last piece stayed as a dotted line over the lid): followed
    # there, step by step, as long as the evidence goes on, but never into the eye's outline
    # and its lashes (_LASH_MARGIN).
    lashes = _polygon_mask(shape, [points[top.right_eye], points[top.left_eye]],
                           dilate_px=_LASH_MARGIN * face_size)
    rim_like = ((evidence > _THRESHOLD) & (lashes == 0)).astype(np.uint8)
    step = np.ones((3, 3), np.uint8)
    for _ in range(max(1, int((_EYE_MARGIN - _LASH_MARGIN) * face_size))):
        mask |= cv2.dilate(mask, step) & rim_like
    # The rim's anti-aliased edge and its shadow on the skin: a little wider, never the eyes.
    grow = max(3, int(0.012 * face_size) | 1)
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    mask &= (1 - lashes) & oval
    brows = _polygon_mask(shape, [points[top.right_eyebrow], points[top.left_eyebrow]])
    hidden = bool(brows.any()) and float((mask & brows).sum()) / float(brows.sum()) >= _BROW_HIDDEN
    return SourceGlasses(mask=mask, coverage=(coverage[0], coverage[1]), brows_hidden=hidden)
