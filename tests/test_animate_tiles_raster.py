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
