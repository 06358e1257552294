"""Light on a face: second-order spherical harmonics over MediaPipe's 3-D mesh normals.

A face's skin under distant light is, to a good approximation, albedo x SH9(normal) (Ramamoorthi
and Hanrahan 2001: nine coefficients capture about 99% of a Lambertian surface's irradiance).
The mesh gives a normal per point, so the light of a picture is fitted from the colour of its
skin at the ~300 mesh points that are skin (not eyes, brows, lips): a 9 x 3 least-squares solve.
The same fit (first order for both) serves twice, through its directional part only
(`side_shading`: the side and top/bottom light over the even light):
- the source photo is divided by its own directional light once (the clean texture: a side-lit
  painting no longer carries a light/dark split down the nose);
- each target face's light is fitted a few times a second and its directional part multiplied
  onto the clean texture through the normals warped with it (coloured and side light included).
Normals are expressed in the face's own frame (`face_axes`: x to its left eye, y down, z into
the picture), so a source normal map warped onto the target is still right when the head turns.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

from realtime.faces.pose import face_axes
from realtime.faces.topology import MESH_POINTS, topology

# Fitting the second-order terms from one hemisphere of normals is ill-posed: they are damped
# towards zero (ridge), the constant and first-order terms are free.
_RIDGE = np.array([0.0, 1e-3, 1e-3, 1e-3, 0.3, 0.3, 0.3, 0.3, 0.3])
# A shading ratio outside this range is not light but a misfit (a shadowed hole, hair).
RATIO_LIMITS = (0.45, 2.2)
# The directional light's ratio to the even light (side_shading) is kept within this range: a
# side light darker than this on a face is a shadow, which relighting cannot move anyway.
SIDE_LIMITS = (0.6, 1.6)


def vertex_normals(landmarks: np.ndarray) -> np.ndarray:
    """(468, 3) unit normals of the mesh, in the face's own frame (see module docstring),
    pointing out of the face (towards the camera for a frontal face: z < 0)."""
    # In the face's frame (x to its left eye, y down, z into the picture).
    points = landmarks[:MESH_POINTS, :3].astype(np.float64) @ face_axes(landmarks)
    triangles = topology().triangles
    corners = points[triangles]
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    # The triangles come from the edge graph with no consistent winding: orient each one
    # outwards, away from a centre deep inside the head (half a face width behind the face).
    width = float(np.ptp(points[:, 0]))
    centre = points.mean(axis=0) + np.array([0.0, 0.0, 0.5 * width])
    outward = corners.mean(axis=1) - centre
    face_normals *= np.sign(np.einsum("ti,ti->t", face_normals, outward))[:, None]
    # Each corner's share summed per point by bincount, corners 0, 1, 2 in turn (the order
    # np.add.at took, so the same sums): np.add.at's unbuffered loop cost 0.3 ms.
    corner_points = triangles.T.ravel()
    shares = np.tile(face_normals, (3, 1))
    normals = np.stack([np.bincount(corner_points, weights=shares[:, axis], minlength=len(points))
                        for axis in range(3)], axis=1)
    return (normals / (np.linalg.norm(normals, axis=1, keepdims=True) + 1e-9)).astype(np.float32)


def sh_basis(normals: np.ndarray) -> np.ndarray:
    """(..., 9) real second-order spherical-harmonic basis (constants folded into the
    coefficients) of unit normals (..., 3)."""
    x, y, z = normals[..., 0], normals[..., 1], normals[..., 2]
    one = np.ones_like(x)
    return np.stack([one, x, y, z, x * y, x * z, y * z, x * x - y * y, 3 * z * z - 1], axis=-1)


@cache
def skin_points() -> np.ndarray:
    """Mesh points that lie on skin: not on or next to the eyes, brows, lips or the oval
    (the oval's points sit on the jaw line and hairline, half on background)."""
    top = topology()
    excluded = set(top.face_oval.tolist())
    triangles = top.triangles
    features = set()
    for region in (top.right_eye, top.left_eye, top.right_eyebrow, top.left_eyebrow,
                   top.outer_lips, top.inner_mouth):
        features.update(region.tolist())
    # One ring of neighbours around the features: their colour is still feature-tinted.
    ring = set(features)
    for triangle in triangles:
        if features.intersection(triangle.tolist()):
            ring.update(triangle.tolist())
    excluded |= ring
    return np.array([i for i in range(MESH_POINTS) if i not in excluded], dtype=np.int32)


def sample_points(image: np.ndarray, points: np.ndarray, face_size: float) -> np.ndarray:
    """(n, 3) float32 BGR of `image` around each point: a local mean over about 2% of the
    face, so pores and noise do not count as light."""
    sigma = max(0.6, 0.012 * face_size)
    height, width = image.shape[:2]
    xy = np.round(points[:, :2]).astype(int)
    xy[:, 0] = np.clip(xy[:, 0], 0, width - 1)
    xy[:, 1] = np.clip(xy[:, 1], 0, height - 1)
    radius = int(3 * sigma) + 1
    x0, y0 = max(0, xy[:, 0].min() - radius), max(0, xy[:, 1].min() - radius)
    x1, y1 = min(width, xy[:, 0].max() + radius + 1), min(height, xy[:, 1].max() + radius + 1)
    # Blur only the face's bounding region, at a reduced scale when the blur is wide.
    crop = image[y0:y1, x0:x1]
    step = max(1, int(sigma // 2))
    if step > 1:
        small = cv2.resize(crop, (max(1, crop.shape[1] // step), max(1, crop.shape[0] // step)),
                           interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small.astype(np.float32), (0, 0), sigma / step)
        sx = np.clip((xy[:, 0] - x0) // step, 0, small.shape[1] - 1)
        sy = np.clip((xy[:, 1] - y0) // step, 0, small.shape[0] - 1)
        return small[sy, sx]
    blurred = cv2.GaussianBlur(crop.astype(np.float32), (0, 0), sigma)
    return blurred[xy[:, 1] - y0, xy[:, 0] - x0]


def _solve(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Gaussian elimination with partial pivoting for a tiny (9 x 9) system: np.linalg.solve
    goes through LAPACK and BLAS threads, which costs milliseconds on a busy machine for
    microseconds of work."""
    a = np.concatenate([matrix.astype(np.float64), rhs.astype(np.float64)], axis=1)
    n = len(a)
    for col in range(n):
        pivot = col + int(np.argmax(np.abs(a[col:, col])))
        if pivot != col:
            a[[col, pivot]] = a[[pivot, col]]
        if abs(a[col, col]) < 1e-12:
            a[col, col] = 1e-12
        a[col] /= a[col, col]
        others = np.arange(n) != col
        a[others] -= a[others, col:col + 1] * a[col]
    return a[:, n:]


def fit_light(normals: np.ndarray, colours: np.ndarray, weights: np.ndarray | None = None,
              order: int = 2) -> np.ndarray:
    """(9, c) SH coefficients so that sh_basis(normals) @ coeffs ~ colours (n, c), robust to a
    minority of outliers (a hand, hair, a nostril): the worst-fitting points are dropped and
    the fit repeated. order=1 fits the constant and linear terms only (the rest stay 0)."""
    basis = sh_basis(normals).astype(np.float64)
    if order < 2:
        basis = basis.copy()
        basis[:, 4:] = 0.0
    values = colours.astype(np.float64)
    keep = np.ones(len(values), bool) if weights is None else weights > 0
    coeffs = np.zeros((9, values.shape[1]))
    for _ in range(3):
        if keep.sum() < 12:
            coeffs[0] = values.mean(axis=0)
            return coeffs
        a = basis[keep]
        scale = max(float(values[keep].mean()), 1.0)
        gram = a.T @ a + np.diag(_RIDGE) * keep.sum()
        coeffs = _solve(gram, a.T @ values[keep])
        # Damping pulls the solution to zero, not to a flat light: refit the constant term.
        residual = np.abs(basis @ coeffs - values).mean(axis=1)
        limit = max(2.5 * float(np.median(residual[keep])), 0.02 * scale)
        new_keep = keep & (residual <= limit)
        if new_keep.sum() == keep.sum():
            break
        keep = new_keep
    return coeffs


def shading(normal_map: np.ndarray, coeffs: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """(h, w, c) float32 relative shading: the fitted light at each normal over `mean` (the
    light's mean over the skin), limited to RATIO_LIMITS."""
    value = sh_basis(normal_map.astype(np.float32)) @ coeffs.astype(np.float32)
    ratio = value / np.maximum(mean.astype(np.float32), 1.0)
    return np.clip(ratio, *RATIO_LIMITS).astype(np.float32)


def side_shading(normal_map: np.ndarray, coeffs: np.ndarray, limits: tuple[float, float] = SIDE_LIMITS) -> np.ndarray:
    """(h, w, c) float32: the directional part of a first-order light at each normal, as a ratio
    to its even part: (c0 + c1 x + c2 y + c3 z) / (c0 + c3 z), limited to `limits`.

    The even part (ambient plus light along the view axis) is what gives a face its own
    centre-to-edge relief; it cannot be told apart from the face's albedo on one picture and
    differs little between two cameras. Dividing out the whole fitted light (the ratio to its
    mean over the skin) darkened the middle of a frontally lit photo and lightened its rim: a
    blotchy mask with a bright band where the fade at the oval began. Only the side and
    top/bottom light (odd in x or y) is taken out of the source and put back from the target;
    for a frontally lit photo the ratio is 1 and the texture is left as it is."""
    n = normal_map.astype(np.float32)
    c = coeffs.astype(np.float32)
    even = c[0] + n[..., 2:3] * c[3]
    full = even + n[..., 0:1] * c[1] + n[..., 1:2] * c[2]
    ratio = full / np.maximum(even, np.float32(1.0))
    return np.clip(ratio, *limits).astype(np.float32)


def mean_light(normals: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """(c,) the fitted light averaged over the skin points' normals."""
    return (sh_basis(normals[skin_points()]) @ coeffs).mean(axis=0)


def normal_map(landmarks: np.ndarray, shape: tuple[int, int], step: int = 1) -> np.ndarray:
    """(h // step, w // step, 3) float32 per-pixel normals (face frame) of the mesh drawn in a
    picture of `shape`: the vertex normals interpolated over each triangle (barycentric);
    outside the mesh, the nearest triangle's corner normals extrapolated, then renormalised."""
    from realtime.faces.warp import rasterise_ids

    height, width = -(-shape[0] // step), -(-shape[1] // step)
    # Small pixel (i, j) has its centre at full-resolution ((j + 0.5) * step - 0.5, ...).
    points = (landmarks[:MESH_POINTS, :2].astype(np.float64) + 0.5) / step - 0.5
    triangles = topology().triangles
    ids = rasterise_ids(points, triangles, np.arange(len(triangles)), (height, width))
    covered = ids >= 0
    if not covered.any():
        return np.tile(np.array([0, 0, -1], np.float32), (height, width, 1))
    if not covered.all():
        _, labels = cv2.distanceTransformWithLabels((~covered).astype(np.uint8), cv2.DIST_L2, 3,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
        ids = ids[covered][labels - 1]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    corners = points[triangles[ids]]  # (h, w, 3, 2)
    a, b, c = corners[..., 0, :], corners[..., 1, :], corners[..., 2, :]
    v0, v1 = b - a, c - a
    px, py = xs - a[..., 0], ys - a[..., 1]
    det = v0[..., 0] * v1[..., 1] - v0[..., 1] * v1[..., 0]
    det = np.where(np.abs(det) < 1e-9, 1e-9, det)
    u = (px * v1[..., 1] - py * v1[..., 0]) / det
    v = (v0[..., 0] * py - v0[..., 1] * px) / det
    weights = np.stack([1 - u - v, u, v], axis=-1)
    weights = np.clip(weights, -0.5, 1.5)
    normals = vertex_normals(landmarks)[triangles[ids]]  # (h, w, 3, 3)
    result = (weights[..., None] * normals).sum(axis=2)
    result /= np.linalg.norm(result, axis=-1, keepdims=True) + 1e-9
    return result.astype(np.float32)


class LightTracker:
    """The target's light per face track: refitted every `every` frames, smoothed over time
    (exponential, real timestamps), forgotten when a track has not been seen for a second."""

    def __init__(self, every: int = 3, time_constant_s: float = 0.25, order: int = 1) -> None:
        self.every = max(1, every)
        # First order: the quadratic terms, fitted on one hemisphere of normals, swung the gain
        # to its limits where the normals turn fast (a bright or dark dot under the nose).
        self.order = order
        self.time_constant_s = time_constant_s
        self._tracks: dict[int, tuple[np.ndarray, np.ndarray, float, int]] = {}
        # Per track: the camera's band between brow and lid and its cheekbones over its forehead
        # (camera_bands), measured with each fit and smoothed alike.
        self._bands: dict[int, np.ndarray] = {}

    def light(self, track: int, image: np.ndarray, landmarks: np.ndarray, face_size: float,
              time_s: float, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(coeffs (9, 3), mean (3,)) of the target's light on this face."""
        previous = self._tracks.get(track)
        if previous is not None and not (0 <= time_s - previous[2] <= 1.0):
            previous = None
        if previous is not None and previous[3] % self.every != 0:
            coeffs, mean, _, count = previous
            self._tracks[track] = (coeffs, mean, time_s, count + 1)
            return coeffs, mean
        skin = skin_points()
        normals = vertex_normals(landmarks)
        colours = sample_points(image, landmarks[skin], face_size)
        weights = None if exclude is None else (~exclude[skin]).astype(np.float32)
        coeffs = fit_light(normals[skin], colours, weights, order=self.order)
        mean = (sh_basis(normals[skin]) @ coeffs).mean(axis=0)
        bands = camera_bands(image, landmarks)
        old_bands = self._bands.get(track)
        if previous is not None and self.time_constant_s > 0:
            old_coeffs, old_mean, old_time, _ = previous
            # `every` frames passed since the last fit: follow by that much time.
            mix = 1.0 - np.exp(-max(time_s - old_time, 1e-3) * self.every / self.time_constant_s)
            coeffs = old_coeffs + mix * (coeffs - old_coeffs)
            mean = old_mean + mix * (mean - old_mean)
            if old_bands is not None:
                # An eye not measured this time keeps its value (and one never measured takes this one).
                bands = np.where(np.isnan(bands), old_bands,
                                 np.where(np.isnan(old_bands), bands, old_bands + mix * (bands - old_bands)))
        count = 0 if previous is None else previous[3]
        self._tracks[track] = (coeffs, mean, time_s, count + 1)
        self._bands[track] = bands
        for key in [k for k, v in self._tracks.items() if time_s - v[2] > 1.0]:
            del self._tracks[key]
            self._bands.pop(key, None)
        return coeffs, mean

    def bands(self, track: int) -> np.ndarray | None:
        """(4,) the camera's bands and cheekbones over its forehead (camera_bands), smoothed as the
        light is; None before the track's first fit."""
        return self._bands.get(track)

    def reset(self) -> None:
        self._tracks.clear()
        self._bands.clear()


# The band between each brow and its upper lid (the brow's lower line and the upper lid over its
# middle), the brow's upper line there and the forehead's points above it, per eye (the face's
# left, then its right): MediaPipe's face mesh.
_BROW_BANDS = (
    ((283, 282, 295), (387, 386, 385), (293, 334, 296), (333, 299, 337)),
    ((53, 52, 65), (160, 159, 158), (63, 105, 66), (104, 69, 108)),
)
# The cheekbone under each eye: from the lower lid (outer, middle, inner) down to the cheekbone's
# points below it, per side (the face's left, then its right), measured against the same forehead
# strip as that eye's band.
_CHEEKBONES = (
    ((373, 374, 380), (346, 347, 330), (293, 334, 296), (333, 299, 337)),
    ((144, 145, 153), (117, 118, 101), (63, 105, 66), (104, 69, 108)),
)
# The band from this to that fraction of the way from the brow's lower line down to the lid (the
# brow's hair above, the lash line below mostly left out) ...
BAND_SPAN = (0.35, 0.8)
# ... the cheekbone from this to that fraction of the way from the lower lid down to its points
# (the lash line and the dark under the lid left out) ...
CHEEK_SPAN = (0.45, 1.0)
# ... and the forehead from this to that fraction of the way from the brow's upper line up to the
# forehead's points (above the brow's hair, under the hairline).
FOREHEAD_SPAN = (0.5, 1.0)
# Per zone (camera_bands' order): the zone's points, span and the power of the light's strength it
# is lifted by: a cheekbone only under a hard light (d13, 0.2 of d20's strength: the band a fifth
# of its lift, the cheekbones a 25th).
_ZONES = tuple((eye, BAND_SPAN, 1) for eye in _BROW_BANDS) + tuple((side, CHEEK_SPAN, 2) for side in _CHEEKBONES)
# The lift fades out over this fraction of the zone's height (Gaussian sigma).
BAND_SOFT = 0.25
# A zone whose lift (strength ** its power) is under this is left as it is: it lifts the gain by
# under this fraction of its gap to the floor.
LIFT_MIN = 0.01


def _strip(landmarks: np.ndarray, start: tuple[int, ...], end: tuple[int, ...], span: tuple[float, float]) -> np.ndarray:
    """float32 polygon: the strip from span[0] to span[1] of the way from the points `start` to `end`."""
    a, b = landmarks[list(start), :2].astype(np.float32), landmarks[list(end), :2].astype(np.float32)
    return np.concatenate([a + span[0] * (b - a), (a + span[1] * (b - a))[::-1]])


def _mean_in(picture: np.ndarray, polygon: np.ndarray) -> np.ndarray | None:
    """(3,) the mean of `picture`'s channels inside `polygon` (pixel coordinates); None if under
    4 of its pixels are in the picture."""
    corners = np.round(polygon).astype(np.int32)
    x0, y0 = np.maximum(corners.min(axis=0), 0)
    x1, y1 = np.minimum(corners.max(axis=0) + 1, (picture.shape[1], picture.shape[0]))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [corners - np.array([x0, y0], np.int32)], 1)
    if cv2.countNonZero(mask) < 4:
        return None
    return np.array(cv2.mean(picture[y0:y1, x0:x1], mask)[:3], np.float32)


_LUMA_BGR = np.array([0.114, 0.587, 0.299], np.float32)


def _band_over_forehead(picture: np.ndarray, landmarks: np.ndarray, eye: tuple, offset: np.ndarray,
                        span: tuple[float, float] = BAND_SPAN) -> float:
    """The mean luma of `picture` over one zone (_BROW_BANDS, _CHEEKBONES; `span` of the way from its
    first points to its second) over its forehead strip's, at landmarks - offset; NaN where either
    is (nearly) outside the picture or black."""
    brow_low, lid, brow_high, above = eye
    band = _mean_in(picture, _strip(landmarks, brow_low, lid, span) - offset)
    forehead = _mean_in(picture, _strip(landmarks, brow_high, above, FOREHEAD_SPAN) - offset)
    if band is None or forehead is None:
        return float("nan")
    band_luma, forehead_luma = float(_LUMA_BGR @ band), float(_LUMA_BGR @ forehead)
    return band_luma / forehead_luma if min(band_luma, forehead_luma) >= 1.0 else float("nan")


def camera_bands(picture: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(4,) float32: per eye (the face's left, then its right), the band between brow and upper lid
    over the forehead above it in `picture` (mean luma), then per side the cheekbone under the eye
    over the same forehead strip (_ZONES); NaN where not measured."""
    zero = np.zeros(2, np.float32)
    return np.array([_band_over_forehead(picture, landmarks, eye, zero, span) for eye, span, _ in _ZONES], np.float32)


def brow_band_floor(gain: np.ndarray, camera: np.ndarray, patch: np.ndarray, landmarks: np.ndarray,
                    origin: tuple[int, int], step: int, strength: float) -> np.ndarray:
    """The relight's `gain` ((h, w, 3) at 1/step of `patch`, the unlit new face, whose top-left is
    `origin` in the camera's picture; `landmarks` in that picture) lifted over the band between
    each brow and its upper lid so that it darkens the band against the forehead above it no more
    than the camera shows: the gain on the forehead times the camera's band over its forehead
    (`camera`: camera_bands, smoothed over time by LightTracker), divided by the same in `patch`
    (the new face's own socket shade, which stays). A lift only, at most as far above the
    forehead's gain as the fit put the band under it, and only as far as `strength` (0-1: how
    strong the directional light is, swap/mesh.py relight_weight).

    Why: the first-order light is fitted on the target's skin with the eyes and brows left out,
    and the mesh's normals between brow and lid face down, so under a hard light from above the
    fit calls that band a fifth darker than the forehead. d20 (lit hard from above) has its brow
    bone and upper lids as bright as its forehead: the relight's gain was 0.90 there and 1.05 on
    the forehead, and s42 wore a band over the eye 15-30 levels darker against the forehead than
    d20's own (benchmarks/results/s28-d20band). A band the fit does not darken (a flat or a side
    light) or that the camera shows as shaded as the fit says is left as it was.

    The cheekbone under each eye (_CHEEKBONES) is lifted the same way, by the square of
    `strength`: d20's cheekbone under its left eye catches the light inside a shaded side (as
    bright as its forehead, with the cheek below and the temple in shade). The cheekbone's points
    are in the fit, at first or second order alike, but a light linear in the mesh's smooth
    normals cannot draw a lit spot there (it calls it 0.97 of the forehead), and the colour
    transfer stretched that: s42's cheekbone came out 16-18 levels too dark against her forehead,
    now 11-14 (benchmarks/results/s28-d20cheek)."""
    out = gain
    offset = np.array(origin, np.float32)
    # In the gain map's pixels: patch pixel x at (x + 0.5) / step - 0.5.
    shift = offset + np.float32(0.5 * (step - 1))
    for (eye, span, power), seen in zip(_ZONES, camera, strict=True):
        brow_low, lid, brow_high, above = eye
        lift = np.float32(strength ** power)
        # (A flat or soft light, strength 0, lifts nothing: no zone is measured on the hot path.)
        # Nor does a lift under LIFT_MIN, not measured either: d13's cheekbones (strength 0.04, their
        # lift 0.0017) moved the gain by under 0.0005 (a tenth of a level) for ~0.3 ms a frame of
        # their measures (issue 13's budget, benchmarks/results/s33-browband).
        if lift < LIFT_MIN or not np.isfinite(seen):
            continue
        band, forehead = _strip(landmarks, brow_low, lid, span), _strip(landmarks, brow_high, above, FOREHEAD_SPAN)
        on_band, on_forehead = _mean_in(gain, (band - shift) / step), _mean_in(gain, (forehead - shift) / step)
        if on_band is None or on_forehead is None or float(on_forehead.min()) <= 0.0:
            continue
        # How much the light as fitted darkens the band against the forehead (1: not at all) ...
        shaded = float((on_band / on_forehead).mean())
        if shaded >= 1.0:
            continue
        own = _band_over_forehead(patch, landmarks, eye, offset, span)
        if not np.isfinite(own):
            continue
        # ... and the camera's band against the forehead relative to the new face's own, at most
        # as far above 1 as the fit darkens it below (a lid the fit calls shaded is lit brighter
        # than the forehead by about as much: d20). A band the fit does not darken is left alone.
        light = min(float(seen) / own, 2.0 - shaded)
        floor = on_forehead * np.float32(light)
        # Lifted over the zone, faded over BAND_SOFT of its height, within a window around it.
        reach = float(np.linalg.norm(landmarks[list(lid), :2] - landmarks[list(brow_low), :2], axis=1).mean())
        sigma = max(0.5, BAND_SOFT * reach / step)
        zone = (band - shift) / step
        margin = int(3 * sigma) + 1
        x0, y0 = np.maximum(np.floor(zone.min(axis=0)).astype(int) - margin, 0)
        x1, y1 = np.minimum(np.ceil(zone.max(axis=0)).astype(int) + margin + 1, (gain.shape[1], gain.shape[0]))
        if x1 <= x0 or y1 <= y0:
            continue
        weight = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.fillPoly(weight, [np.round(zone - np.array([x0, y0], np.float32)).astype(np.int32)], 1.0)
        weight = cv2.GaussianBlur(weight, (0, 0), sigma)
        if out is gain:
            out = gain.copy()
        window = out[y0:y1, x0:x1]
        window += np.maximum(floor[None, None, :] - window, 0.0) * (weight[..., None] * lift)
    return out
