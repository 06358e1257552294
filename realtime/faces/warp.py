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
    # In closed form on (T,) arrays: the linear part is S E^-1, with E and S the edges from
    # corner 0 (dst and src). np.linalg.solve on a batch of 852 tiny systems costs milliseconds
    # of LAPACK overhead (and BLAS threads), batched 3x3 inverses through np.cross 0.2 ms, this
    # a third of that (the same maps to float32 rounding).
    x0, y0 = dst_corners[:, 0, 0], dst_corners[:, 0, 1]
    ex1, ey1 = dst_corners[:, 1, 0] - x0, dst_corners[:, 1, 1] - y0
    ex2, ey2 = dst_corners[:, 2, 0] - x0, dst_corners[:, 2, 1] - y0
    det = ex1 * ey2 - ex2 * ey1  # twice the signed area
    flat = np.abs(det) < 2e-3
    inverse = 1.0 / np.where(flat, 1.0, det)
    solution = np.empty((len(triangles), 2, 3))
    for k in range(2):
        s1 = src_corners[:, 1, k] - src_corners[:, 0, k]
        s2 = src_corners[:, 2, k] - src_corners[:, 0, k]
        a = (s1 * ey2 - s2 * ey1) * inverse
        b = (s2 * ex1 - s1 * ex2) * inverse
        solution[:, k, 0], solution[:, k, 1] = a, b
        solution[:, k, 2] = src_corners[:, 0, k] - a * x0 - b * y0
    if flat.any():
        # A degenerate (zero-area) triangle has no affine map, and the few pixels its outline
        # may still cover must not sample from far away: move them with the triangle's centre.
        offset = src_corners[flat].mean(axis=1) - dst_corners[flat].mean(axis=1)
        solution[flat] = 0.0
        solution[flat, 0, 0] = solution[flat, 1, 1] = 1.0
        solution[flat, :, 2] = offset
    return solution.astype(np.float32)


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
        fill(ids, polygon, index, lineType=cv2.LINE_8, shift=4)
    return ids


def piecewise_affine_maps(dst_points: np.ndarray, src_points: np.ndarray, triangles: np.ndarray,
                          box: Box, depth: np.ndarray | None = None, grid_step: int = 4) -> WarpMaps:
    """Maps that warp the mesh at `src_points` (source picture) onto `dst_points` (frame),
    over `box` of the frame.

    depth: per-point depth of the destination mesh (smaller = nearer); triangles are drawn far
    to near so that the nearest wins. grid_step: one evaluated cell per this many pixels.
    """
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
    ids = rasterise_ids(local, triangles, order, (grid_h, grid_w))
    covered = ids >= 0
    filled = ids
    if not covered.all():
        if not covered.any():
            filled = np.zeros_like(ids)
        else:
            _, labels = cv2.distanceTransformWithLabels(
                (~covered).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
            filled = ids[covered][labels - 1]
    affines = triangle_affines(dst_points[:, :2], src_points[:, :2], triangles)
    cell = affines[filled]  # (gh, gw, 2, 3)
    gx = grid_x[None, :]
    gy = grid_y[:, None]
    coarse_x = cell[..., 0, 0] * gx + cell[..., 0, 1] * gy + cell[..., 0, 2]
    coarse_y = cell[..., 1, 0] * gx + cell[..., 1, 1] * gy + cell[..., 1, 2]
    full = (grid_w * step, grid_h * step)
    map_x = cv2.resize(coarse_x, full, interpolation=cv2.INTER_LINEAR)[step:step + height, step:step + width]
    map_y = cv2.resize(coarse_y, full, interpolation=cv2.INTER_LINEAR)[step:step + height, step:step + width]
    return WarpMaps(box=box, map_x=map_x, map_y=map_y, triangle_ids=ids)
