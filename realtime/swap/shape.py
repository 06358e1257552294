"""Identity shape transfer for the mesh swap: the target's pose and expression, the source's face shape.

The mesh swap draws the source's skin on the target's mesh, so the proportions a viewer (and a
face-recognition model) reads a person by -- eye spacing, nose length, mouth width, brow height,
jaw and chin -- stay the target's. The classical peer does the same (wuhuikai/FaceSwap,
face_swap.py: `warp_image_3d(src_face, src_points, dst_points)` draws the source on the target's
points). Here the target's landmarks are moved by the difference of the two NEUTRAL shapes, the
way face morphing moves points (learnopencv's "Face Morph Using OpenCV": points = (1 - a) * p1 +
a * p2; for a video: `shape + alpha * (shape_b - shape_a)`):

    moved = target + amount * (source_neutral - target_neutral), in the face's own frame,

- the face's own frame: each face's 468 3-D points (MediaPipe's z has the scale of x) aligned
  onto the source's frontal, left-right symmetric shape by a similarity (Umeyama) fitted on the
  eyes and the nose bridge (as face recognisers align a face), so the difference carries no pose
  and no scale;
- the source's neutral shape once per photo; the target's over time (the mean of the last
  NEUTRAL_WINDOW_S seconds, fed only by frames with both eyes open); both with the mouth closed first (an open mouth drops the jaw:
  the chin of a photo with parted lips, or of a target that talks, is no measure of the chin);
- the difference is made symmetric (a smirk in the photo is not a face shape), and over each eye
  and the lips it keeps only a shift and a horizontal stretch: the target's blink and open mouth
  stay its own, the source's open mouth never opens the target's; and no point moves by more
  than MAX_DELTA (a held smile or a mis-fitted mesh is not a face shape).

The moved points must not tear the picture: the target's own eyes and mouth show through the
mesh's holes, and beyond the face's outline lie hair, ears and background. So the difference
becomes one smooth displacement field (Gaussian radial basis functions centred on mesh points,
fitted by weighted ridge least squares on about 200 mesh points each frame; the Gaussians are
separable, so evaluating the field on a coarse grid costs two small matrix products) that moves
only the inner face: it is zero on the face's outline and beyond (INNER_BAND), so the jaw, chin,
cheeks' edge, hair, glasses temples and background stay the target's, pixel for pixel. Above the
eyes the outline runs close to the brows' ends, and a head that turns brings it closer on the far
side: what the turn takes off the far side's window (TURN_WINDOW_S) the near side gives up too, so
the two brows keep the share of their difference they had and the target's one-sided brow motion
(a wink, one brow raised) passes as the camera has it while the head turns. The moved
landmarks are the landmarks displaced by this field, and the target's own pixels inside the face
are warped by the same field (bicubic: the camera grain survives), as the live-portrait stage warps
a portrait's surroundings (realtime/animate/surround.py): the target's eyes and mouth sit in the
moved holes. A hand in front of the face and the target's glasses frames are not moved
(realtime/swap/mesh.py). A still target
gives the same field every frame: the transfer adds no jitter.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from realtime.faces.topology import MESH_POINTS, topology

# RBF centres: this many mesh points, spread evenly over the face (farthest-point sampling of a
# frontal face, made once).
CENTRES = 72
# The Gaussians' width, as a share of the face outline's RMS radius: wide enough that points
# that touch (closed lids, closed lips) move alike, narrow enough to move an eye apart from the nose.
SIGMA = 0.16
RIDGE = 1e-3
FEATURE_WEIGHT = 6.0
FIT_POINTS = 120
MAX_DELTA = 0.12  # the largest shape difference of a point, in units of the face's RMS radius
ANCHOR_NOSE = np.array([168, 6, 197, 195, 5], dtype=np.int32)  # the nose bridge, top to bottom
# The field moves only the inner face: it is 1 from INNER_BAND (a share of the outline's RMS
# radius) inside the face's outline and falls smoothly to 0 on the outline, where it stays beyond.
# The outline (jaw, chin, cheeks, forehead edge) and everything around it -- hair, ears, the
# background's straight edges, a glasses frame's temples -- stay the target's, pixel for pixel:
# a field that moved the outline too (faded out between 1.02 and 1.2 of the outline's radius)
# bent the background's straight edges beside the cheeks into seams (46-56 of 270 frames over 3
# grey levels on the written files, README "The source's face shape") and took the glasses' temples
# out of line. Measured in-process (dlib, s42 on d3, s12 on d6, s12 on d13; issue 13): most of the
# identity a face shape carries is in the inner features (eye spacing, nose, mouth, brow height).
INNER_BAND = 0.14
# How much of its shape difference the outline takes in the field's fit: none (see INNER_BAND),
# so the fitted field is already near zero where the window closes it.
OUTLINE_SHARE = 0.0
# The target's neutral shape: the mean of its shapes over the last NEUTRAL_WINDOW_S seconds of
# media time, fed only by frames with both eyes open (EYE_OPEN: eye opening over the face's RMS
# radius, not a blink). A window, not an exponential mean: the shape is then a function of the
# last few seconds of video alone, so a long video cut into chunks, each read from this long
# before its cut, gives the face the shape one run would (realtime/batch; the exponential mean of
# 2 s that this replaces still carried 37% of a chunk's first frame after a 2-s overlap, and the
# face's shape stepped at the cut: tests/test_batch.py). 4 s holds the shape as still as that
# mean did (a box of 2x the time constant has the same noise).
NEUTRAL_WINDOW_S = 4.0
# Above the eyes (the brows, the forehead, the temples) the window falls to 0 over the brows' outer
# ends, which sit a band's width inside the outline on a frontal face and inside its margin on the
# far side of a head turned 12 degrees (d3): the far brow lost up to a third of its lift as the head
# turned, and on d3, whose head turns as it winks, the brows' right-minus-left motion passed
# 0.74-0.85 (benchmarks/results/s38-neutral). There a point gives up what the turn took off its
# mirror point's window beyond its own. The turn's part of a window: the window of the target's
# neutral shape in the pose's mean over the last TURN_WINDOW_S seconds (_TurnWindow) less its window
# in this frame's pose. The mean pose, so a face's own asymmetry and a pose it holds change
# nothing; the neutral, so an expression (a raised brow coming near the outline) is not taken for a
# turn; a window of media time as long as the neutral's, over the pose alone (the neutral is
# today's in both), so a batch chunk read that long before its cut gets one run's field.
# Giving both the smaller of the two windows in every frame (s38-neutral's first form) took a
# third of a brow's shape off d6, whose brows sit unevenly in its outline, and read +0.013 on
# s12>d6's identity distance (benchmarks/results/s39-window).
TURN_WINDOW_S = 4.0
# The fit asks the Gaussians for (window - cut) / window of the difference at such a point (the
# window of the neutral shape in this frame's pose), the window read as at least this much: a point
# nearer the outline gives up less (never a steep field; a point outside the window keeps its whole
# difference in the fit).
UPPER_FLOOR = 0.3
CLOSED_GAP = 0.01  # the inner lips' gap of a closed mouth, in the same units
EYE_OPEN = 0.04
# Displacement field grid: one value per this many pixels (at least), upsampled bilinearly.
GRID_PX = 8
INVERSE_STEPS = 4  # fixed-point steps of the backward map (the field's slope stays well under 1)


@dataclass(frozen=True)
class _Regions:
    oval: np.ndarray
    eyes: tuple[np.ndarray, np.ndarray]
    lips: np.ndarray
    centres: np.ndarray
    upper_lip: np.ndarray
    anchors: np.ndarray
    """The points the two faces are aligned on: the eyes and the nose bridge, as face-recognition
    models align a face (dlib's chip and ArcFace's template: eye corners and nose), so the shape
    difference is what such a model sees move."""
    fit: np.ndarray
    """The points the field is fitted on."""
    weights: np.ndarray
    """Weight of each of `fit` in the field's fit: the eyes and lips count more (their opening
    must stay the target's; the fit would otherwise let a brow's move open an eye)."""
    upper: np.ndarray
    """The points of `fit` above the eyes' corners on the frontal face, the eyes' own points left out
    (each eye keeps one shift): they give up what a turn takes off their mirror point
    (TURN_WINDOW_S)."""
    paired: np.ndarray
    """`upper` and their mirror points (MIRROR), each once; `upper_at` and `mirror_at` index it."""
    upper_at: np.ndarray
    mirror_at: np.ndarray


def spread_points(points: np.ndarray, count: int) -> np.ndarray:
    """Indices of `count` of the points (N, 2), each as far from those before it as possible."""
    chosen = [int(np.argmin(points[:, 1]))]
    distance = np.linalg.norm(points - points[chosen[0]], axis=1)
    while len(chosen) < count:
        chosen.append(int(np.argmax(distance)))
        distance = np.minimum(distance, np.linalg.norm(points - points[chosen[-1]], axis=1))
    return np.array(sorted(chosen), dtype=np.int32)


def _regions(frontal: np.ndarray | None = None) -> _Regions:
    top = topology()
    lips = np.unique(np.concatenate([top.outer_lips, top.inner_mouth]))
    centres = spread_points(frontal[:, :2], CENTRES) if frontal is not None else np.arange(0, MESH_POINTS, 6)
    features = np.concatenate([top.right_eye, top.left_eye, lips])
    anchors = np.concatenate([top.right_eye, top.left_eye, ANCHOR_NOSE])
    # The field is fitted on the features, the outline and points spread over the rest (not on all
    # 468: the fit's cost is in its exponentials).
    spread = spread_points(frontal[:, :2], FIT_POINTS) if frontal is not None else np.arange(0, MESH_POINTS, 3)
    fit = np.unique(np.concatenate([features, top.face_oval, ANCHOR_NOSE, spread]))
    weights = np.where(np.isin(fit, features), FEATURE_WEIGHT, 1.0)
    # The upper half of the outer lip line (and the corners): its points above the corners' line
    # on a neutral face (MediaPipe's order: 0 is the upper lip's top, 17 the lower lip's bottom).
    upper_lip = np.array([61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291], dtype=np.int32)
    if frontal is None:
        above = np.zeros(0, dtype=np.int32)
    else:
        corners = float(frontal[[33, 133, 263, 362], 1].mean())
        # Only the fitted points' wanted shifts count (fit_field).
        above = np.intersect1d(np.setdiff1d(np.flatnonzero(frontal[:MESH_POINTS, 1] < corners),
                                            np.concatenate([top.right_eye, top.left_eye])), fit).astype(np.int32)
    mirror = _mirror()
    paired = np.union1d(above, mirror[above]).astype(np.int32)
    return _Regions(oval=top.face_oval, eyes=(top.right_eye, top.left_eye), lips=lips, centres=centres,
                    upper_lip=upper_lip, anchors=anchors, fit=fit, weights=weights, upper=above, paired=paired,
                    upper_at=np.searchsorted(paired, above), mirror_at=np.searchsorted(paired, mirror[above]))


def similarity_3d(points: np.ndarray, reference: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares similarity (Umeyama 1991) taking `points` (N, 3) onto `reference`:
    reference ~ scale * (points - mean_p) @ rotation.T + mean_r. Returns scale, rotation,
    mean_p, mean_r."""
    p = points.astype(np.float64)
    r = reference.astype(np.float64)
    mean_p, mean_r = p.mean(axis=0), r.mean(axis=0)
    a, b = p - mean_p, r - mean_r
    u, singular, vt = np.linalg.svd(b.T @ a)
    sign = np.ones(3)
    if np.linalg.det(u @ vt) < 0:
        sign[-1] = -1.0
    rotation = (u * sign) @ vt
    scale = float((singular * sign).sum() / max((a ** 2).sum(), 1e-12))
    return scale, rotation, mean_p, mean_r


def _mirror() -> np.ndarray:
    from realtime.swap.mesh import MIRROR  # mesh.py imports this module

    return MIRROR


def symmetric(shape: np.ndarray) -> np.ndarray:
    """A frontal shape (x = the face's left-right axis, centred) averaged with its mirror image."""
    mirrored = shape[_mirror()].copy()
    mirrored[:, 0] *= -1.0
    return 0.5 * (shape + mirrored)


def frontal_shape(landmarks: np.ndarray) -> np.ndarray:
    """(468, 3) the face's points in its own frame: centred, unit RMS radius, x from its right eye to
    its left, y down, left-right symmetric (the frame is refined until the mirror image agrees)."""
    from realtime.faces.pose import face_axes

    points = landmarks[:MESH_POINTS, :3].astype(np.float64)
    points = (points - points.mean(axis=0)) @ face_axes(landmarks)
    points /= math.sqrt((points ** 2).sum(axis=1).mean())
    for _ in range(3):
        target = symmetric(points)
        scale, rotation, mean_p, mean_r = similarity_3d(points, target)
        points = (points - mean_p) @ rotation.T + mean_r
    return symmetric(points)


def closed_mouth(shape: np.ndarray) -> np.ndarray:
    """A frontal shape with its mouth closed: a photo's open mouth has dropped its jaw, and its chin
    is then no measure of the person's chin. Everything below the mouth corners goes up by the
    lips' gap, fully from the lower lip down, fading to nothing at the corners (a first-order
    model of the jaw's turn)."""
    gap = float(shape[14, 1] - shape[13, 1]) - CLOSED_GAP
    if gap <= 0:
        return shape
    corners = 0.5 * (shape[61, 1] + shape[291, 1])
    share = np.clip((shape[:, 1] - corners) / max(float(shape[14, 1] - corners), 1e-6), 0.0, 1.0)
    closed = shape.copy()
    closed[:, 1] -= gap * share
    return closed


def _opening(shape: np.ndarray) -> tuple[float, float, float]:
    """Inner-lip gap and the two eyes' openings of a frontal shape (units of its RMS radius)."""
    gap = float(shape[14, 1] - shape[13, 1])
    right = float(shape[145, 1] - shape[159, 1])
    left = float(shape[374, 1] - shape[386, 1])
    return gap, right, left


def _affine_x(delta: np.ndarray, shape: np.ndarray, ids: np.ndarray, rows: np.ndarray | None = None) -> None:
    """Over `ids`: keep of the difference only a shift and a horizontal stretch (in place); the
    vertical shift is the mean of `rows` (default: all of `ids`)."""
    x = shape[ids, 0] - shape[ids, 0].mean()
    d = delta[ids, 0]
    delta[ids, 0] = d.mean() + x * (float(x @ d) / max(float(x @ x), 1e-12))
    rows = ids if rows is None else rows
    delta[ids, 1] = delta[rows, 1].mean()
    delta[ids, 2] = delta[rows, 2].mean()


def shape_difference(source: np.ndarray, target: np.ndarray, regions: _Regions | None = None) -> np.ndarray:
    """(468, 3) source minus target neutral (both frontal shapes), symmetric, with each eye and the
    lips reduced to a shift and a horizontal stretch (their opening is expression, not shape)."""
    regions = regions or _regions()
    delta = symmetric(source - target)
    for ids in regions.eyes:
        _affine_x(delta, target, ids)
    # The lips' height is the upper lip's: it sits on the skull, while the lower lip goes with the
    # jaw (an open mouth in the photo would otherwise pull the target's whole mouth down).
    _affine_x(delta, target, regions.lips, regions.upper_lip)
    delta[regions.oval] *= OUTLINE_SHARE
    return delta


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _inside_distance(points: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """(N,) distance of points (N, 2) from the closed polygon `outline` (M, 2), positive inside,
    0 outside (vectorised: the faces' outline has 36 corners)."""
    a, b = outline, np.roll(outline, -1, axis=0)
    edge = b - a
    rel = points[:, None, :] - a[None]
    t = np.clip((rel * edge).sum(axis=2) / np.maximum((edge * edge).sum(axis=1), 1e-12), 0.0, 1.0)
    nearest = np.sqrt(((rel - t[..., None] * edge) ** 2).sum(axis=2)).min(axis=1)
    # Crossing number: a ray to +x crosses an odd number of edges from inside.
    y, x = points[:, None, 1], points[:, None, 0]
    straddles = (a[None, :, 1] > y) != (b[None, :, 1] > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross_x = a[None, :, 0] + (y - a[None, :, 1]) * edge[None, :, 0] / edge[None, :, 1]
    inside = (straddles & (x < cross_x)).sum(axis=1) % 2 == 1
    return np.where(inside, nearest, 0.0)


@dataclass
class ShapeField:
    """A smooth displacement field over a face: value at a frame point p = window(p) * sum_k
    coeffs[k] * exp(-|p - centres[k]|^2 / (2 sigma^2))."""

    centres: np.ndarray
    coeffs: np.ndarray
    sigma: float
    outline: np.ndarray
    """(M, 2) the face's outline in frame pixels: the window is 0 on it and beyond (INNER_BAND)."""
    band: float
    """Pixels inside the outline where the window reaches 1."""
    margin: float = 0.0
    """Pixels inside the outline where the window is still 0: the field is evaluated on a coarse grid
    and read bilinearly, so a grid point this far in must already be 0 for nothing on or beyond the
    outline to move."""

    def _window(self, points: np.ndarray) -> np.ndarray:
        return _window_at(points, self.outline, self.margin, self.band)

    def at(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) displacement at frame points (N, 2)."""
        values = _basis(points, self.centres, self.sigma) @ self.coeffs
        return values * self._window(points)[:, None]

    def grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """(len(ys), len(xs), 2) displacement on a grid: the Gaussians are separable, so two matrix
        products instead of one exponential per grid point and centre."""
        gx = np.exp(-(xs[:, None] - self.centres[None, :, 0]) ** 2 / (2 * self.sigma ** 2))  # (W, K)
        gy = np.exp(-(ys[:, None] - self.centres[None, :, 1]) ** 2 / (2 * self.sigma ** 2))  # (H, K)
        # cv2.gemm, not numpy's BLAS (see fit_field).
        gx32 = np.ascontiguousarray(gx, dtype=np.float32)
        field = np.stack([cv2.gemm(np.ascontiguousarray(gy * self.coeffs[:, k], dtype=np.float32), gx32, 1.0, None,
                                   0.0, flags=cv2.GEMM_2_T) for k in (0, 1)], axis=-1)
        return field * self._window_grid(xs, ys)[..., None]

    def _window_grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """The window on an evenly spaced grid, from the outline's distance transform on a raster a
        quarter of the grid's spacing fine (the polygon distance per grid point, `_window`, was half
        of the whole transfer's cost on d13: 5 of 10 ms). The raster's distance is to the nearest
        outside pixel's centre, up to one raster pixel more than the true distance: that is taken
        off, so the window stays 0 on and beyond the outline (tests/test_shape.py)."""
        step = float(xs[1] - xs[0]) if len(xs) > 1 else float(GRID_PX)
        fine = max(1.0, step / 4.0)
        ox, oy = float(xs[0]) - step, float(ys[0]) - step
        width = int(math.ceil((float(xs[-1]) - ox + step) / fine)) + 1
        height = int(math.ceil((float(ys[-1]) - oy + step) / fine)) + 1
        mask = np.zeros((height, width), np.uint8)
        corners = np.round((self.outline - (ox, oy)) / fine * 16.0).astype(np.int32)
        cv2.fillPoly(mask, [corners], 255, lineType=cv2.LINE_8, shift=4)
        # The 5x5 mask's distance costs a third of the exact transform's; with one raster pixel
        # taken off, no grid point of d9's and d13's frames had a window above 0 where the exact
        # polygon distance gives 0 (and the window is at most 0.15 lower, in its ramp).
        distance = cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_5)
        distance = np.maximum(distance - 1.0, 0.0) * fine
        gx, gy = np.meshgrid(((xs - ox) / fine).astype(np.float32), ((ys - oy) / fine).astype(np.float32))
        inside = cv2.remap(distance, gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return _smooth((inside.astype(np.float64) - self.margin) / max(self.band, 1e-6))

    def bounds(self) -> tuple[float, float, float, float]:
        """x0, y0, x1, y1 of the box outside which the field is zero (the outline's)."""
        (x0, y0), (x1, y1) = self.outline.min(axis=0), self.outline.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)


def _rms(outline: np.ndarray) -> float:
    return math.sqrt(((outline - outline.mean(axis=0)) ** 2).sum(axis=1).mean())


def _window_size(outline: np.ndarray) -> tuple[float, float]:
    """The window's margin and band (ShapeField) for a face outline (M, 2) in frame pixels."""
    (x0, y0), (x1, y1) = outline.min(axis=0), outline.max(axis=0)
    return 1.5 * grid_step(x1 - x0 + 3, y1 - y0 + 3), INNER_BAND * _rms(outline)


def _window_at(points: np.ndarray, outline: np.ndarray, margin: float, band: float) -> np.ndarray:
    """The field's window (ShapeField) at points (..., 2): 0 on and beyond the outline and `margin`
    inside it, 1 from `band` further in."""
    flat = points.reshape(-1, 2).astype(np.float64)
    window = _smooth((_inside_distance(flat, outline) - margin) / max(band, 1e-6))
    return window.reshape(points.shape[:-1])


def _basis(points: np.ndarray, centres: np.ndarray, sigma: float) -> np.ndarray:
    """(N, K) Gaussians of the centres at the points, as the product of their x and y parts (no
    (N, K, 2) temporary)."""
    scale = np.float32(-0.5 / sigma ** 2)
    points, centres = points.astype(np.float32), centres.astype(np.float32)
    gx = np.exp(scale * np.square(points[:, 0:1] - centres[None, :, 0]))
    gy = np.exp(scale * np.square(points[:, 1:2] - centres[None, :, 1]))
    return (gx * gy).astype(np.float64)


def fit_field(points: np.ndarray, displacement: np.ndarray, oval: np.ndarray,
              centre_ids: np.ndarray, fit: np.ndarray | None = None, weights: np.ndarray | None = None,
              upper: np.ndarray | None = None, share: np.ndarray | None = None) -> ShapeField:
    """The smooth field whose values at `points[fit]` come nearest `displacement[fit]` (points and
    displacement (468, 2); fit: default all), times the window; at `upper` (some of `fit`), the
    displacement times `share` (one per point of `upper`)."""
    points = points.astype(np.float64)
    outline = points[oval]
    sigma = SIGMA * _rms(outline)
    centres = points[centre_ids]
    fit = np.arange(len(points)) if fit is None else fit
    margin, band = _window_size(outline)
    if upper is not None and share is not None and len(upper):
        displacement = np.array(displacement, dtype=np.float64, copy=True)
        displacement[upper] *= share[:, None]
    basis = _basis(points[fit], centres, sigma)
    # OpenCV's products and Cholesky solve, not numpy's: these matrices are small (about 350 x 72),
    # and numpy hands them to a multi-threaded BLAS whose spinning workers made this fit's CPU
    # time jump from 0.6 to 6-9 ms per frame on a loaded machine (benchmarks/results/s18-shape).
    root = np.ones((len(fit), 1)) if weights is None else np.sqrt(weights)[:, None]
    scaled = np.ascontiguousarray(basis * root)
    gram = cv2.mulTransposed(scaled, True)
    gram += RIDGE * np.trace(gram) / len(centres) * np.eye(len(centres))
    rhs = cv2.gemm(scaled, np.ascontiguousarray(displacement[fit] * root, dtype=np.float64), 1.0, None, 0.0,
                   flags=cv2.GEMM_1_T)
    _, coeffs = cv2.solve(gram, rhs, flags=cv2.DECOMP_CHOLESKY)
    return ShapeField(centres, coeffs, sigma, outline, band, margin)


class _Window:
    """The mean of the shapes fed over the last `seconds` of media time (a running sum: adding and
    dropping a shape costs two additions). Media time that goes back (a looped file, a seek)
    starts the window afresh."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._shapes: deque[tuple[float, np.ndarray]] = deque()
        self._sum: np.ndarray | None = None

    def add(self, shape: np.ndarray, time_s: float, feed: bool) -> np.ndarray:
        """Feeds `shape` (when `feed`) at `time_s`; returns the window's mean, or `shape` itself
        while nothing has been fed (the first frames of a face that blinks)."""
        if self._shapes and time_s < self._shapes[-1][0]:
            self._shapes.clear()
            self._sum = None
        while self._shapes and self._shapes[0][0] <= time_s - self.seconds:
            _, old = self._shapes.popleft()
            if self._sum is not None:
                self._sum -= old
        if feed:
            kept = np.array(shape, dtype=np.float64, copy=True)
            self._shapes.append((time_s, kept))
            self._sum = kept.copy() if self._sum is None or len(self._shapes) == 1 else self._sum + kept
        if not self._shapes:
            self._sum = None
            return shape
        assert self._sum is not None
        return self._sum / len(self._shapes)


class _TurnWindow(_Window):
    """The mean of the values (a face's pose) fed over the last `seconds` of media time, every frame
    fed; until it has been fed that long, the time before its first frame counts as that frame's
    value (a turn in a face's first second is measured from where it started, not from the mean of
    the turn)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self._first: np.ndarray | None = None
        self._start = 0.0
        self._last = -math.inf

    def add(self, value: np.ndarray, time_s: float, feed: bool = True) -> np.ndarray:
        if self._first is None or time_s < self._last:
            self._first, self._start = np.array(value, dtype=np.float64, copy=True), time_s
        self._last = time_s
        mean = super().add(value, time_s, True)
        seen = (time_s - self._start) / self.seconds
        return mean if seen >= 1.0 else seen * mean + (1.0 - seen) * self._first


class ShapeTransfer:
    """Per source photo: moves each target face's landmarks towards the source's face shape and warps
    the target's pixels alike. Keeps each track's neutral shape between frames."""

    def __init__(self) -> None:
        self._regions = _regions()
        self._source: np.ndarray | None = None
        self._landmarks: np.ndarray | None = None
        self._neutral: dict[int, _Window] = {}
        self._turn: dict[int, _TurnWindow] = {}

    def set_source(self, landmarks: np.ndarray) -> None:
        # Measured on first use: with face_shape at 0 a photo costs nothing here.
        self._landmarks = np.array(landmarks, dtype=np.float32, copy=True)
        self._source = None
        self._neutral.clear()
        self._turn.clear()

    def _prepare(self) -> np.ndarray | None:
        if self._source is None and self._landmarks is not None:
            self._source = closed_mouth(frontal_shape(self._landmarks))
            self._regions = _regions(self._source)
        return self._source

    def reset(self) -> None:
        self._neutral.clear()
        self._turn.clear()

    def _update_neutral(self, track: int, shape: np.ndarray, time_s: float) -> np.ndarray:
        window = self._neutral.setdefault(track, _Window(NEUTRAL_WINDOW_S))
        _, right, left = _opening(shape)
        return window.add(shape, time_s, feed=min(right, left) > EYE_OPEN)

    def field(self, landmarks: np.ndarray, amount: float, track: int, time_s: float) -> ShapeField | None:
        """The displacement field that gives the face at `landmarks` (478, 3; frame pixels) `amount`
        of the source's shape; None without a source or when there is nothing to move."""
        source = self._prepare() if amount > 0 else None
        if source is None:
            return None
        anchors = self._regions.anchors
        scale, rotation, mean_p, mean_r = similarity_3d(landmarks[anchors, :3], source[anchors])
        current = (landmarks[:MESH_POINTS, :3].astype(np.float64) - mean_p) @ rotation.T * scale + mean_r
        # Its mouth closed first (as the photo's): talking must not lengthen the "neutral" chin.
        neutral = self._update_neutral(track, closed_mouth(current), time_s)
        delta = shape_difference(source, neutral, self._regions)
        # A wildly different "shape" is a mis-measured face (a mesh fitted to a profile, a
        # mirrored photo), not a person: no point moves by more than MAX_DELTA.
        length = np.linalg.norm(delta, axis=1, keepdims=True)
        delta *= amount * np.minimum(1.0, MAX_DELTA / np.maximum(length, 1e-9))
        # Back into the picture: the inverse rotation and scale (rows: delta @ rotation / scale).
        picture = (delta @ rotation / scale)[:, :2]
        regions = self._regions
        points = landmarks[:MESH_POINTS, :2]
        # The neutral shape in this frame's pose and in the pose's mean over the last TURN_WINDOW_S
        # seconds: their windows differ by the turn alone.
        pose = np.concatenate([(rotation / scale).ravel(), mean_p])
        held = self._turn.setdefault(track, _TurnWindow(TURN_WINDOW_S)).add(pose, time_s)
        margin, band = _window_size(points[regions.oval].astype(np.float64))
        windows = []
        for turn, shift in ((held[:9], held[9:]), (pose[:9], pose[9:])):
            posed = ((neutral - mean_r) @ turn.reshape(3, 3) + shift)[:, :2]
            windows.append(_window_at(posed[regions.paired], posed[regions.oval], margin, band))
        lost = windows[0] - windows[1]
        window = windows[1][regions.upper_at]
        cut = np.minimum(np.maximum(0.0, lost[regions.mirror_at] - lost[regions.upper_at]), window)
        share = 1.0 - cut / np.maximum(window, UPPER_FLOOR)
        return fit_field(points, picture, regions.oval, regions.centres, regions.fit, regions.weights, regions.upper,
                         share)


def grid_step(width: float, height: float) -> int:
    """Pixels between the displacement grid's points over a box of this size."""
    return max(GRID_PX, int(max(width, height) / 48))


@dataclass
class Warp:
    """What the field does to one face in one pose: the backward map over its box and the moved
    landmarks. A head that holds still keeps its Warp (realtime/swap/mesh.py, REUSE_PX): only the
    pixels are resampled again."""

    box: tuple[int, int, int, int]
    map1: np.ndarray
    map2: np.ndarray
    """The backward map in OpenCV's fixed-point form (cv2.convertMaps), for the bilinear remap."""
    holes: list[tuple[int, int, int, int]]
    """Boxes (in the patch) over the moved eyes and mouth, where the target's own pixels show
    through the mesh's holes: resampled bicubic there."""
    maps: np.ndarray
    moved: np.ndarray
    moving: list[tuple[int, int, int, int]] | None = None
    """Boxes (in the patch) outside which the backward map is the identity to the bit (the field is
    zero there: the oval's corners, the window's ring inside the outline): the pixels there are the
    picture's own, copied, not resampled (None: the whole patch is resampled)."""


# The moving part of the box is cut into this many bands of rows (more bands fit the oval's
# corners closer, and cost a remap call each per box around the holes).
MOVING_BANDS = 6


def _moving_boxes(still: np.ndarray, step: int, height: int, width: int) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) in a height x width patch outside which the enlarged backward map is
    the identity: `still` (grid rows, grid columns) tells which coarse grid points the inverse left
    where they are (coarse == grid, exactly: the field read there is 0). Patch pixel (r, c) is read by
    the INTER_LINEAR enlargement (an integer factor `step`, cropped at `step`) from grid rows and
    columns floor((r + 0.5) / step + 0.5) and the next; where all four grid points are still, the
    enlarged map is the affine grid itself (pixel (c, r) exactly, after convertMaps' rounding), and
    remap reads the picture's own pixel there. On the grid, not per pixel: MOVING_BANDS boxes."""
    moving = ~still
    count = moving.shape[1]
    # Each grid row's first and last moving column (end exclusive), as lists: a few dozen rows.
    any_row = moving.any(axis=1).tolist()
    if not any(any_row):
        return []
    lefts = np.argmax(moving, axis=1).tolist()
    rights = (count - np.argmax(moving[:, ::-1], axis=1)).tolist()
    moved_rows = [g for g, moved in enumerate(any_row) if moved]
    # A pixel reading grid row g from the top left reads row g + 1 too (columns alike): the rows
    # from one above the first moving row, each band's span over its rows and the row below, one
    # column further left.
    g0, g1 = max(moved_rows[0] - 1, 0), moved_rows[-1] + 1
    edges = sorted({g0 + round(i * (g1 - g0) / MOVING_BANDS) for i in range(MOVING_BANDS + 1)})

    def first(grid_index: int, limit: int) -> int:
        # The first patch pixel that reads grid index g from the top left: ceil((g - 0.5) step - 0.5).
        return min(max(math.ceil((grid_index - 0.5) * step - 0.5), 0), limit)

    boxes = []
    for top, bottom in zip(edges, edges[1:], strict=False):
        band = [g for g in range(top, min(bottom + 1, len(any_row))) if any_row[g]]
        if not band:
            continue
        x0, x1 = first(min(lefts[g] for g in band) - 1, width), first(max(rights[g] for g in band), width)
        y0, y1 = first(top, height), first(bottom, height)
        if x1 > x0 and y1 > y0:
            boxes.append((x0, y0, x1, y1))
    return boxes


def _hole_boxes(moved: np.ndarray, box: tuple[int, int, int, int]) -> list[tuple[int, int, int, int]]:
    """Boxes in the patch over the moved eyes (iris included) and lips, grown by a quarter of their
    size: where the mesh leaves the target's own pixels to show."""
    top = topology()
    x0, y0, x1, y1 = box
    boxes = []
    for ids in (top.right_eye, top.left_eye, top.outer_lips):
        points = moved[ids, :2]
        (px0, py0), (px1, py1) = points.min(axis=0), points.max(axis=0)
        grow = 0.25 * max(px1 - px0, py1 - py0) + 4
        bx0, by0 = max(x0, int(px0 - grow)), max(y0, int(py0 - grow))
        bx1, by1 = min(x1, int(math.ceil(px1 + grow))), min(y1, int(math.ceil(py1 + grow)))
        if bx1 > bx0 and by1 > by0:
            boxes.append((bx0 - x0, by0 - y0, bx1 - x0, by1 - y0))
    return boxes


def plan(field: ShapeField, landmarks: np.ndarray, size: tuple[int, int]) -> Warp | None:
    """The field's backward map over its box (frame of `size` (height, width)) and the moved
    landmarks, or None when the box is empty. The field is evaluated once, on a coarse grid over
    the box where it is not zero; the landmarks read it there (bilinearly: the field is smooth on
    the scale of the grid), and the pixels take the backward map, the inverse of p -> p + D(p) by
    fixed-point steps p <- q - D(p) on the grid, upsampled, so both move alike."""
    height, width = size
    bx0, by0, bx1, by1 = field.bounds()
    x0, y0 = max(0, int(bx0) - 1), max(0, int(by0) - 1)
    x1, y1 = min(width, int(bx1) + 2), min(height, int(by1) + 2)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    step = grid_step(x1 - x0, y1 - y0)
    grid_w, grid_h = -(-(x1 - x0) // step) + 2, -(-(y1 - y0) // step) + 2
    # Grid point j at x0 - step + (j + 0.5) * step - 0.5: where cv2.resize's half-pixel centres read it.
    xs = x0 - step + (np.arange(grid_w) + 0.5) * step - 0.5
    ys = y0 - step + (np.arange(grid_h) + 0.5) * step - 0.5
    forward = field.grid(xs, ys).astype(np.float32)

    def read(points: np.ndarray) -> np.ndarray:
        """The field at frame points (..., 2) read bilinearly from the grid (0 beyond it)."""
        gx = ((points[..., 0] - xs[0]) / step).astype(np.float32)
        gy = ((points[..., 1] - ys[0]) / step).astype(np.float32)
        return cv2.remap(forward, gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    moved = landmarks.astype(np.float32, copy=True)
    moved[:, :2] += read(moved[None, :, :2])[0]
    grid = np.stack(np.meshgrid(xs.astype(np.float32), ys.astype(np.float32)), axis=-1)
    coarse = grid - forward
    for _ in range(INVERSE_STEPS):
        coarse = grid - read(coarse)
    full = (grid_w * step, grid_h * step)
    h, w = y1 - y0, x1 - x0
    # One two-channel map (one resize; cv2.remap takes it as is). A view of the enlarged grid, not a
    # copy: OpenCV reads a strided view as it is (copying 0.3 MP of float pairs was a third of this
    # resize-and-convert's cost; issue 13, benchmarks/results/s21-shapecost).
    maps = cv2.resize(np.ascontiguousarray(coarse), full, interpolation=cv2.INTER_LINEAR)[step:step + h, step:step + w]
    map1, map2 = cv2.convertMaps(maps, None, cv2.CV_16SC2)
    box = (x0, y0, x1, y1)
    # Still grid points: both coordinates the grid's to the bit (one 64-bit compare per point, a
    # seventh of numpy's all() over the pair; a -0 for a 0 counts as moved: only resampled).
    still = (np.ascontiguousarray(coarse).view(np.uint64) == np.ascontiguousarray(grid).view(np.uint64))[..., 0]
    moving = _moving_boxes(still, step, h, w)
    return Warp(box, map1, map2, _hole_boxes(moved, box), maps, moved, moving)


def _around(holes: list[tuple[int, int, int, int]], height: int, width: int) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) that cover a height x width patch where none of `holes` does: row bands
    cut at the holes' top and bottom edges, in each the column runs that no hole spanning the band covers."""
    edges = sorted({0, height, *(y for box in holes for y in (box[1], box[3]) if 0 < y < height)})
    boxes = []
    for top, bottom in zip(edges, edges[1:], strict=False):
        x = 0
        for hx0, hx1 in sorted((box[0], box[2]) for box in holes if box[1] <= top and box[3] >= bottom):
            if hx0 > x:
                boxes.append((x, top, hx0, bottom))
            x = max(x, hx1)
        if x < width:
            boxes.append((x, top, width, bottom))
    return boxes


def warp(image: np.ndarray, move: Warp) -> np.ndarray:
    """The target's pixels over the Warp's box, moved. Bilinear over the box and bicubic over the
    eyes and mouth: bicubic over the whole box cost 4x bilinear (3.4 of d13's 10 ms), and what
    bilinear resampling loses (about 30% of the camera grain's energy at fractional offsets) shows
    only where the target's own pixels do -- its eyes and mouth in the mesh's holes; under the
    new face the blend stage reads the grain from the unmoved picture (realtime/swap/mesh.py)."""
    # Bilinear only outside the holes (a quarter of d13's box, resampled bicubic below anyway): each
    # pixel of remap's output reads only its own map entries, so the patch is the same to the bit.
    height, width = move.map1.shape[:2]
    parts = _around(move.holes, height, width)
    if move.moving is None:
        patch = np.empty((height, width) + image.shape[2:], image.dtype)
    else:
        # Where the map is the identity (28-31% of the box: the oval's corners, the window's ring),
        # remap would read each pixel's own value: a copy is the same to the bit (Warp.moving).
        x0, y0 = move.box[0], move.box[1]
        patch = image[y0:y0 + height, x0:x0 + width].copy()
        parts = [(max(ax0, mx0), max(ay0, my0), min(ax1, mx1), min(ay1, my1))
                 for mx0, my0, mx1, my1 in move.moving for ax0, ay0, ax1, ay1 in parts
                 if max(ax0, mx0) < min(ax1, mx1) and max(ay0, my0) < min(ay1, my1)]
    for rx0, ry0, rx1, ry1 in parts:
        patch[ry0:ry1, rx0:rx1] = cv2.remap(image, move.map1[ry0:ry1, rx0:rx1], move.map2[ry0:ry1, rx0:rx1],
                                            cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    for hx0, hy0, hx1, hy1 in move.holes:
        # The fixed-point maps (convertMaps rounds as remap does with float maps: the same pixels,
        # without converting the float maps again on every frame).
        patch[hy0:hy1, hx0:hx1] = cv2.remap(image, move.map1[hy0:hy1, hx0:hx1], move.map2[hy0:hy1, hx0:hx1],
                                            cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return patch


def apply(image: np.ndarray, field: ShapeField, landmarks: np.ndarray
          ) -> tuple[np.ndarray, tuple[int, int, int, int], np.ndarray] | None:
    """The target's pixels and landmarks moved by the field: (patch over box, box, moved landmarks),
    or None when the field's box is empty (plan, then warp)."""
    move = plan(field, landmarks, image.shape[:2])
    if move is None:
        return None
    return warp(image, move), move.box, move.moved
