"""The warp's coarse grid finds each cell's triangle as the definition says (issue 22: the
rasterisation was rewritten for speed, per-triangle edge equations and one sort key; this pins it
to a brute-force reading of the same rule: a cell belongs to the triangles whose three edges it is
inside of, within 1e-3 cells, and of those to the one of highest rank)."""

from __future__ import annotations

import numpy as np


def _brute_force(points, triangles, rank, shape):
    height, width = shape
    ids = np.full(shape, -1, dtype=np.int32)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    for index in np.argsort(rank, kind="stable"):  # highest rank drawn last
        a, b, c = points[triangles[index]].astype(np.float64)
        area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        sign = -1.0 if area < 0 else 1.0
        inside = np.ones(shape, dtype=bool)
        for p, q in ((a, b), (b, c), (c, a)):
            ex, ey = (q[0] - p[0]) * sign, (q[1] - p[1]) * sign
            inside &= (ex * (ys - p[1]) - ey * (xs - p[0])) / max(np.hypot(ex, ey), 1e-9) >= -1e-3
        ids[inside] = index
    return ids


def test_coarse_grid_cells_take_the_highest_ranked_triangle_covering_them():
    from realtime.animate.tiles import BIG_TRIANGLE, rasterise_ids

    rng = np.random.default_rng(22)
    shape = (40, 60)
    # Small overlapping triangles (all under BIG_TRIANGLE cells: the vectorised path), some with
    # corners on cell centres and shared edges, some slivers, both windings.
    centres = rng.uniform([-2, -2], [62, 42], size=(300, 2))
    points = np.concatenate([centres[:, None] + rng.normal(0, 3, size=(300, 3, 2)),
                             np.round(centres[:, None] + rng.normal(0, 3, size=(300, 3, 2)))]).reshape(-1, 2)
    triangles = np.arange(len(points)).reshape(-1, 3)
    corners = points[triangles]
    twice_area = np.abs(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]))
    triangles = triangles[(twice_area <= 2 * BIG_TRIANGLE) & (twice_area > 0.5)]  # no flat ones
    assert len(triangles) > 400
    rank = rng.permutation(len(triangles))
    np.testing.assert_array_equal(rasterise_ids(points, triangles, rank, shape),
                                  _brute_force(points, triangles, rank, shape))


def test_coarse_maps_evaluate_the_nearest_surface_s_affine_at_every_cell():
    """The grid's maps as the definition says (s21-anim720 rewrote the ranks and gathers for speed:
    a scatter for the second argsort, np.take for fancy indexing): each cell takes the affine of
    the covering triangle with the greatest mean corner depth drawn last (ties: the later
    triangle), cells outside every triangle that of the nearest covered cell. Overlapping
    triangles (a fold) with equal and different depths, on a real-sized grid."""
    import cv2

    from realtime.animate.tiles import BIG_TRIANGLE, TileWarp, rasterise_ids, triangle_affines

    rng = np.random.default_rng(21)
    warp = TileWarp(np.zeros((200, 260, 3), dtype=np.uint8))
    centres = rng.uniform([20, 20], [240, 180], size=(120, 2))
    spread = rng.choice([6.0, 30.0], size=(120, 1, 1))  # small and big triangles (both raster paths)
    dst = (centres[:, None] + spread * rng.normal(0, 1, size=(120, 3, 2))).reshape(-1, 2)
    src = dst + rng.normal(0, 1.5, size=dst.shape)
    triangles = np.arange(len(dst), dtype=np.int32).reshape(-1, 3)
    depth = np.round(rng.uniform(0, 3, size=len(dst)))  # whole numbers: many equal mean depths
    map_x, map_y = warp.coarse_maps(dst, src, triangles, depth)

    mean_depth = depth[triangles].mean(axis=1)
    rank = np.argsort(np.argsort(-mean_depth, kind="stable"), kind="stable")
    local = (dst - [warp.grid_x[0], warp.grid_y[0]]) / 4.0
    ids = rasterise_ids(local, triangles, rank, (warp.grid_h, warp.grid_w))
    covered = ids >= 0
    assert 0.3 < covered.mean() < 0.95
    corners = local[triangles]
    twice_area = np.abs(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]))
    assert (twice_area > 2 * BIG_TRIANGLE).sum() > 10 and (twice_area < 2 * BIG_TRIANGLE).sum() > 10
    _, labels = cv2.distanceTransformWithLabels((~covered).astype(np.uint8), cv2.DIST_L2, 3,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    ids = ids[covered][labels - 1]
    affine = triangle_affines(dst, src, triangles)[ids]  # (H, W, 2, 3)
    gx, gy = np.meshgrid(warp.grid_x, warp.grid_y)
    np.testing.assert_array_equal(map_x, affine[..., 0, 0] * gx + affine[..., 0, 1] * gy + affine[..., 0, 2])
    np.testing.assert_array_equal(map_y, affine[..., 1, 0] * gx + affine[..., 1, 1] * gy + affine[..., 1, 2])
