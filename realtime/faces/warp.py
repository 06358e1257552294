"""Dense piecewise-affine warps of a triangle mesh: one remap for the whole face box.

For each triangle, the affine map from its destination corners to its source corners is solved
in one batched call. Every pixel of the destination box must then know which triangle it is in:
the triangles are rasterised (back to front, so the nearest surface wins where a turned head
folds over itself) into an id map at reduced resolution. The coordinate maps are piecewise
linear and continuous across triangle edges, so evaluating them on a coarse grid and upsampling
with bilinear interpolation is exact inside each triangle and off by a fraction of a pixel along
the edges — at a sixteenth of the cost of a per-pixel evaluation. Cells outside every triangle
take the affine map of the nearest triangle (an extrapolation), so the upsampled maps stay
smooth right up to the mesh border and around its holes (eyes, mouth).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from realtime.frame import Box


def triangle_affines(dst: np.ndarray, src: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(T, 2, 3) affine maps taking each triangle's dst corners to its src corners."""
    dst_corners = dst[triangles].astype(np.float64)  # (T, 3, 2)
    src_corners = src[triangles].astype(np.float64)
    ones = np.ones(dst_corners.shape[:2] + (1,))
    rows = np.concatenate([dst_corners, ones], axis=2)  # (T, 3, 3), rows [x y 1]
    # The inverse of each 3x3 in closed form (columns r1 x r2, r2 x r0, r0 x r1 over the
    # determinant): np.linalg.solve on a batch of 852 tiny systems costs milliseconds of
    # LAPACK overhead (and BLAS threads), this costs tens of microseconds.
    r0 = rows[:, 0]
    # Its columns r1 x r2, r2 x r0, r0 x r1 written out for rows [x y 1]: the products with the
    # ones are exact, so these are np.cross's numbers, in a third of the operations.
    x0, y0 = dst_corners[:, 0, 0], dst_corners[:, 0, 1]
    x1, y1 = dst_corners[:, 1, 0], dst_corners[:, 1, 1]
    x2, y2 = dst_corners[:, 2, 0], dst_corners[:, 2, 1]
    adjugate = np.empty((len(triangles), 3, 3))
    adjugate[:, 0, 0], adjugate[:, 1, 0], adjugate[:, 2, 0] = y1 - y2, x2 - x1, x1 * y2 - y1 * x2
    adjugate[:, 0, 1], adjugate[:, 1, 1], adjugate[:, 2, 1] = y2 - y0, x0 - x2, x2 * y0 - y2 * x0
    adjugate[:, 0, 2], adjugate[:, 1, 2], adjugate[:, 2, 2] = y0 - y1, x1 - x0, x0 * y1 - y0 * x1
    det = np.einsum("ti,ti->t", r0, adjugate[:, :, 0])  # twice the signed area
    flat = np.abs(det) < 2e-3
    inverse = adjugate / np.where(flat, 1.0, det)[:, None, None]
    solution = inverse @ src_corners  # (T, 3, 2): [x y 1] @ solution = src
    if flat.any():
        # A degenerate (zero-area) triangle has no affine map, and the few pixels its outline
        # may still cover must not sample from far away: move them with the triangle's centre.
        offset = src_corners[flat].mean(axis=1) - dst_corners[flat].mean(axis=1)
        solution[flat] = 0.0
        solution[flat, 0, 0] = solution[flat, 1, 1] = 1.0
        solution[flat, 2] = offset
    # A sliver (a nostril's or lip's triangle squeezed to a fraction of a pixel by landmark jitter)
    # has an affine map with a huge gain across it. The rasteriser gives it every grid cell its
    # outline touches, also cells whose centre lies just outside it, and there that gain sends
    # the sample far across the source picture: a dark ring or speck a few pixels wide after the
    # maps are upsampled (seen at the demo face's nostril). Such a triangle takes the mesh's
    # overall linear map instead, about its own centre: inside a sliver that is off by less than
    # its width times the overall scale, a fraction of a pixel.
    linear = solution[:, :2, :]
    gain = np.sqrt(np.maximum(np.einsum("tij,tij->t", linear, linear), 0.0))  # Frobenius: ~ the larger singular value
    typical = _median(gain[~flat]) if (~flat).any() else 0.0
    sliver = ~flat & (gain > SLIVER_GAIN * typical)
    if sliver.any():
        overall = _overall_linear(dst[:, :2].astype(np.float64), src[:, :2].astype(np.float64))
        centre_dst = dst_corners[sliver].mean(axis=1)
        solution[sliver, :2, :] = overall
        solution[sliver, 2] = src_corners[sliver].mean(axis=1) - centre_dst @ overall
    return np.transpose(solution, (0, 2, 1)).astype(np.float32)


SLIVER_GAIN = 12.0
"""A triangle whose map magnifies more than this many times the mesh's typical triangle is a sliver.
Measured on d3 and d10 worn by s42 (60 frames each): every triangle over 8 times covers under 0.7 px^2
of the frame (median 0.1); the demo face's jittered nostril triangles reach 100 to 10000 times."""


OUTSIDE_FROM, OUTSIDE_FULL = 4.0, 8.0
"""A grid cell that a triangle wins without holding the cell's point (the rasteriser gives a small
triangle every cell its outline touches) reads the triangle's map beyond its corners. For a triangle
that magnifies more than OUTSIDE_FROM times the mesh's typical one (a nostril wing's fold squeezed
by the shape transfer), that read lands several source pixels away, on the nostril's or the
moustache's dark: a dark or light speck that came and went from frame to frame as the triangle
shrank and grew (s12 on d13, s10 on d9; benchmarks/results/s38-flicker). Such a cell reads the
triangle's map at the nearest point of the triangle instead (barycentric coordinates clamped) and
goes on from there with the mesh's overall linear map: the same value on the triangle's edge, so
nothing jumps as an edge crosses a cell's point, and fully so from OUTSIDE_FULL times (in between,
a blend: no jump as the triangle's magnification crosses a bound either). From 4: a self-swap's
most magnifying triangles (brow bands, lids) reach 3.1 times (tests/test_swap.py's Hopper: from 2
her PSNR fell 29.50 -> 29.47 dB); the nostril wing's speck came at 8-12.

Only where the caller asks (piecewise_affine_maps_from's tame_outside: the swap's per-frame warp of
the source texture onto the target's mesh, where the speck flickered). The still warps that build
the source texture (swap/texture.py's mirror image, swap/eyes.py's even eyes) keep the plain
rasterised maps: changed there too, the whole texture moved by 1-2 levels in every frame of every
pair, and MediaPipe's re-detected lips in tests/test_swap_shape_jitter.py's glasses case read 1.29x
the shape-off output's (bound 1.25; main 1.13, the per-frame warp alone 1.14: s39-nosewing)."""


def _tame_outside_cells(coarse_x: np.ndarray, coarse_y: np.ndarray, ids: np.ndarray, grid_x: np.ndarray,
                        grid_y: np.ndarray, dst_points: np.ndarray, src_points: np.ndarray, triangles: np.ndarray,
                        affines: np.ndarray) -> None:
    """OUTSIDE_FROM: the coarse maps (in place) at the cells a magnifying triangle won but does
    not hold."""
    linear = affines[:, :, :2].astype(np.float64)
    gain = np.sqrt(np.einsum("tij,tij->t", linear, linear))
    typical = _median(gain[gain > 0]) if (gain > 0).any() else 0.0
    if typical <= 0:
        return
    weight = np.clip((gain / typical - OUTSIDE_FROM) / (OUTSIDE_FULL - OUTSIDE_FROM), 0.0, 1.0)
    if not weight.any():
        return
    cells = np.flatnonzero(np.take(weight, np.maximum(ids, 0)).reshape(-1) * (ids.reshape(-1) >= 0) > 0)
    if len(cells) == 0:
        return
    which = ids.reshape(-1)[cells]
    row, col = np.divmod(cells, ids.shape[1])
    px, py = grid_x[col].astype(np.float64), grid_y[row].astype(np.float64)
    corners = dst_points[triangles[which], :2].astype(np.float64)  # (n, 3, 2)
    (ax, ay), (bx, by), (cx, cy) = corners[:, 0].T, corners[:, 1].T, corners[:, 2].T
    det = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy)
    usable = np.abs(det) > 1e-9
    det = np.where(usable, det, 1.0)
    l0 = ((by - cy) * (px - cx) + (cx - bx) * (py - cy)) / det
    l1 = ((cy - ay) * (px - cx) + (ax - cx) * (py - cy)) / det
    bary = np.clip(np.stack([l0, l1, 1.0 - l0 - l1], axis=1), 0.0, None)
    bary /= np.maximum(bary.sum(axis=1, keepdims=True), 1e-12)
    qx = bary[:, 0] * ax + bary[:, 1] * bx + bary[:, 2] * cx
    qy = bary[:, 0] * ay + bary[:, 1] * by + bary[:, 2] * cy
    dx, dy = px - qx, py - qy
    outside = usable & ((dx != 0) | (dy != 0))
    if not outside.any():
        return
    overall = _overall_linear(dst_points[:, :2].astype(np.float64), src_points[:, :2].astype(np.float64))
    a = affines[which].astype(np.float64)  # (n, 2, 3): src = a[:, :, 0] x + a[:, :, 1] y + a[:, :, 2]
    w = weight[which] * outside
    # The triangle's own map at p is its map at q plus its linear part times (p - q); here that
    # linear part is replaced (by w) with the overall one: the change is -(A - L)(p - q).
    fix_x = w * ((a[:, 0, 0] - overall[0, 0]) * dx + (a[:, 0, 1] - overall[1, 0]) * dy)
    fix_y = w * ((a[:, 1, 0] - overall[0, 1]) * dx + (a[:, 1, 1] - overall[1, 1]) * dy)
    flat_x, flat_y = coarse_x.reshape(-1), coarse_y.reshape(-1)
    flat_x[cells] -= fix_x.astype(flat_x.dtype)
    flat_y[cells] -= fix_y.astype(flat_y.dtype)


def _median(values: np.ndarray) -> float:
    """np.median of a 1-D float64 array without NaNs, the same number (the middle value, or the
    mean of the two middle ones added then halved, as np.mean does for two) without np.median's
    general-axis and NaN handling, which cost more than the partition on a mesh's few hundred."""
    middle = len(values) // 2
    if len(values) % 2:
        return float(np.partition(values, middle)[middle])
    part = np.partition(values, (middle - 1, middle))
    return float((part[middle - 1] + part[middle]) / 2.0)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.cross of (N, 3) rows, the same products and differences in the same order (so the same
    numbers, bit for bit) without np.cross's axis handling: a third of triangle_affines' time."""
    a0, a1, a2 = a[:, 0], a[:, 1], a[:, 2]
    b0, b1, b2 = b[:, 0], b[:, 1], b[:, 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=1)


def _overall_linear(dst: np.ndarray, src: np.ndarray) -> np.ndarray:
    """The (2, 2) linear part of the least-squares affine map dst -> src (row vectors)."""
    dst_centred = dst - dst.mean(axis=0)
    src_centred = src - src.mean(axis=0)
    # The normal equations' 2 x 2 system in closed form: np.linalg.lstsq's LAPACK call (an SVD)
    # cost a fifth of triangle_affines; the two agree to ~1e-12 on a face's 468 points (float64),
    # far below the float32 the maps are kept in. A degenerate (collinear) mesh falls back to it.
    # Plain sums, not BLAS (numpy's multi-threaded BLAS spins on a loaded machine: fit_field).
    x, y = dst_centred[:, 0], dst_centred[:, 1]
    xx, xy, yy = float(np.dot(x, x)), float(np.dot(x, y)), float(np.dot(y, y))
    det = xx * yy - xy * xy
    if abs(det) <= 1e-9 * max(xx * yy, 1e-300):
        solution, *_ = np.linalg.lstsq(dst_centred, src_centred, rcond=None)
        return solution
    moments = np.array([[float(np.dot(x, src_centred[:, 0])), float(np.dot(x, src_centred[:, 1]))],
                        [float(np.dot(y, src_centred[:, 0])), float(np.dot(y, src_centred[:, 1]))]])
    return np.array([[yy, -xy], [-xy, xx]]) @ moments / det


@dataclass
class WarpMaps:
    """Where each pixel of `box` samples the source picture, for cv2.remap."""

    box: Box
    map_x: np.ndarray
    map_y: np.ndarray
    triangle_ids: np.ndarray
    """Low-resolution id of the triangle covering each grid cell, -1 outside the mesh."""

    def remap(self, source: np.ndarray, border: int = cv2.BORDER_REFLECT101) -> np.ndarray:
        return cv2.remap(source, self.map_x, self.map_y, cv2.INTER_LINEAR, borderMode=border)


def rasterise_ids(points: np.ndarray, triangles: np.ndarray, order: np.ndarray,
                  shape: tuple[int, int]) -> np.ndarray:
    """int32 map of triangle ids (-1 = none); triangles drawn in `order`, later ones on top."""
    ids = np.full(shape, -1, dtype=np.int32)
    corners = np.round(points[triangles[order]] * 16).astype(np.int32)  # 4 fractional bits
    # One call per triangle: the loop's own overhead (indexing, int()) is most of the cost.
    fill = cv2.fillConvexPoly
    for polygon, index in zip(corners, order.tolist(), strict=True):
        fill(ids, polygon, index, cv2.LINE_8, 4)  # positional: a fifth less per call than keywords
    return ids


def _facing_camera(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Which triangles of a 3-D mesh (x, y in pixels, z into the picture) face the camera.

    The tessellation comes from the edge graph with no consistent winding (half the triangles
    wind each way), so each one is first oriented outwards, away from a centre half a face
    width behind the mesh (as `blend.relight.vertex_normals` does), then tested: facing the
    camera when its outward normal points out of the picture (z < 0). Without depth (a 2-D
    mesh) every triangle counts as facing."""
    if points.shape[1] < 3:
        return np.ones(len(triangles), bool)
    corners = points[triangles][:, :, :3]
    normals = _cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    width = float(np.ptp(points[:, 0]))
    centre = points[:, :3].mean(axis=0) + np.array([0.0, 0.0, 0.5 * width])
    outward = corners.mean(axis=1) - centre
    normals *= np.sign(np.einsum("ti,ti->t", normals, outward))[:, None]
    return normals[:, 2] < 0


def piecewise_affine_maps(dst_points: np.ndarray, src_points: np.ndarray, triangles: np.ndarray,
                          box: Box, depth: np.ndarray | None = None, grid_step: int = 4,
                          tame_outside: bool = False) -> WarpMaps:
    """Maps that warp the mesh at `src_points` (source picture) onto `dst_points` (frame),
    over `box` of the frame.

    depth: per-point depth of the destination mesh (smaller = nearer); triangles are drawn far
    to near so that the nearest wins. grid_step: one evaluated cell per this many pixels.
    """
    return piecewise_affine_maps_from(dst_points, [src_points], triangles, box, depth, grid_step, tame_outside)[0]


def piecewise_affine_maps_from(dst_points: np.ndarray, sources: list[np.ndarray], triangles: np.ndarray,
                               box: Box, depth: np.ndarray | None = None, grid_step: int = 4,
                               tame_outside: bool = False) -> list[WarpMaps]:
    """`piecewise_affine_maps` of one destination mesh for each source mesh in `sources`, the
    same maps to the bit: the triangles are rasterised once for all of them (the rasterising,
    one fill call per triangle, is most of the cost on a small mesh).

    tame_outside: the cells that a strongly magnifying triangle wins without holding their point
    read its map from its nearest point on (OUTSIDE_FROM; for a per-frame warp onto a live mesh)."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    step = grid_step
    # Grid point j sits at frame x0 - step + (j + 0.5) * step - 0.5: exactly where an upsampling
    # by `step` with cv2.resize (half-pixel centres) reads it back. One extra cell on each side
    # keeps the interpolation inside the grid (never clamped) over the whole box.
    grid_w = -(-width // step) + 2
    grid_h = -(-height // step) + 2
    grid_x = x0 - step + (np.arange(grid_w, dtype=np.float32) + 0.5) * step - 0.5
    grid_y = y0 - step + (np.arange(grid_h, dtype=np.float32) + 0.5) * step - 0.5
    # In grid units, a frame point X lies at (X - grid_x[0]) / step.
    local = np.asarray(dst_points[:, :2] - np.array([grid_x[0], grid_y[0]], dtype=np.float32)) / step
    if depth is None:
        order = np.arange(len(triangles))
    else:
        order = np.argsort(-depth[triangles].mean(axis=1), kind="stable")
        # Back-face culling: a triangle turned away from the camera is hidden in the real face.
        # Drawing it by mean depth alone let a fold that landmark jitter makes at a nostril win
        # a grid cell now and then: a block of pixels sampled from the wrong place for one
        # frame (a pale notch under the demo face's nose). Its cells go to the front-facing
        # triangles over them, or to the nearest one.
        front = _facing_camera(np.asarray(dst_points, dtype=np.float64), triangles)
        if front.any():
            order = order[front[order]]
    ids = rasterise_ids(local, triangles, order, (grid_h, grid_w))
    covered = ids >= 0
    filled = ids
    if not covered.all():
        if not covered.any():
            filled = np.zeros_like(ids)
        else:
            _, labels = cv2.distanceTransformWithLabels(
                (~covered).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
            # Each cell's nearest covered one as a flat index, gathered by np.take (the same ids
            # as a boolean gather then fancy indexing, at a fraction of the cost).
            filled = np.take(ids, np.take(np.flatnonzero(covered), labels - 1))
    gx = grid_x[None, :]
    gy = grid_y[:, None]
    full = (grid_w * step, grid_h * step)
    result = []
    for src_points in sources:
        affines = triangle_affines(dst_points[:, :2], src_points[:, :2], triangles)
        # Each coefficient gathered on its own from a contiguous row (the same values and the
        # same products and sums as the strided views of one (gh, gw, 2, 3) gather, cheaper).
        rows = np.ascontiguousarray(affines.reshape(len(affines), 6).T)
        coarse_x = np.take(rows[0], filled) * gx + np.take(rows[1], filled) * gy + np.take(rows[2], filled)
        coarse_y = np.take(rows[3], filled) * gx + np.take(rows[4], filled) * gy + np.take(rows[5], filled)
        if tame_outside:
            _tame_outside_cells(coarse_x, coarse_y, ids, grid_x, grid_y, dst_points, src_points, triangles, affines)
        map_x = cv2.resize(coarse_x, full, interpolation=cv2.INTER_LINEAR)[step:step + height, step:step + width]
        map_y = cv2.resize(coarse_y, full, interpolation=cv2.INTER_LINEAR)[step:step + height, step:step + width]
        result.append(WarpMaps(box=box, map_x=map_x, map_y=map_y, triangle_ids=ids))
    return result
