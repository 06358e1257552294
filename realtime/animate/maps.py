"""The animator's warp maps: `realtime.faces.warp.piecewise_affine_maps` with the per-triangle
affine maps solved in closed form.

`np.linalg.solve` on a batch of a thousand 3x3 systems hands each to LAPACK, and with OpenBLAS's
thread pool on a busy machine that took 18 ms per frame here (0.3 ms with one BLAS thread); the
closed form (the adjugate of each 3x3 matrix) is plain element-wise numpy, a fraction of a
millisecond whatever the machine does. The portrait's mesh has about 1,100 triangles per frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.faces.warp import WarpMaps, rasterise_ids
from realtime.frame import Box


def triangle_affines(dst: np.ndarray, src: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(T, 2, 3) affine maps taking each triangle's dst corners to its src corners."""
    d = dst[triangles, :2].astype(np.float64)  # (T, 3, 2)
    s = src[triangles, :2].astype(np.float64)
    x1, y1 = d[:, 0, 0], d[:, 0, 1]
    x2, y2 = d[:, 1, 0], d[:, 1, 1]
    x3, y3 = d[:, 2, 0], d[:, 2, 1]
    det = x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2)
    # Degenerate (zero-area) triangles cover no pixel; give them a finite map all the same.
    det = np.where(np.abs(det) < 1e-9, 1e-9, det)
    # Inverse of the rows [x y 1]: the adjugate over the determinant.
    inverse = np.stack([
        np.stack([y2 - y3, y3 - y1, y1 - y2], axis=1),
        np.stack([x3 - x2, x1 - x3, x2 - x1], axis=1),
        np.stack([x2 * y3 - x3 * y2, x3 * y1 - x1 * y3, x1 * y2 - x2 * y1], axis=1),
    ], axis=1) / det[:, None, None]  # (T, 3, 3)
    solution = inverse @ s  # (T, 3, 2): [x y 1] @ solution = src
    return np.transpose(solution, (0, 2, 1)).astype(np.float32)


def warp_maps(dst_points: np.ndarray, src_points: np.ndarray, triangles: np.ndarray, box: Box,
              depth: np.ndarray | None = None, grid_step: int = 4) -> WarpMaps:
    """As `realtime.faces.warp.piecewise_affine_maps` (same grid, same results)."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    step = grid_step
    grid_w = -(-width // step) + 2
    grid_h = -(-height // step) + 2
    grid_x = x0 - step + (np.arange(grid_w, dtype=np.float32) + 0.5) * step - 0.5
    grid_y = y0 - step + (np.arange(grid_h, dtype=np.float32) + 0.5) * step - 0.5
    local = (dst_points[:, :2] - np.array([grid_x[0], grid_y[0]], dtype=np.float32)) / step
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
    cell = triangle_affines(dst_points, src_points, triangles)[filled]  # (gh, gw, 2, 3)
    gx = grid_x[None, :]
    gy = grid_y[:, None]
    coarse_x = cell[..., 0, 0] * gx + cell[..., 0, 1] * gy + cell[..., 0, 2]
    coarse_y = cell[..., 1, 0] * gx + cell[..., 1, 1] * gy + cell[..., 1, 2]
    full = (grid_w * step, grid_h * step)
    map_x = cv2.resize(coarse_x, full, interpolation=cv2.INTER_LINEAR)[step:step + height, step:step + width]
    map_y = cv2.resize(coarse_y, full, interpolation=cv2.INTER_LINEAR)[step:step + height, step:step + width]
    return WarpMaps(box=box, map_x=map_x, map_y=map_y, triangle_ids=ids)
