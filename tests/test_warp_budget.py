"""The warp maps' per-triangle maths made for less (issue 13's budget), the same numbers.

triangle_affines and the back-face test ran np.cross on (T, 3) rows (a third of their time in
its axis handling) and the sliver fallback a LAPACK least squares (a fifth): the replacements
must give the maps the swapper remaps the source photo with, bit for bit where they can.
"""

from __future__ import annotations

import numpy as np

from realtime.faces import warp
from realtime.faces.topology import topology


def test_the_cross_product_is_numpys_bit_for_bit():
    rng = np.random.default_rng(3)
    a, b = rng.normal(scale=300.0, size=(2, 900, 3))
    assert np.array_equal(warp._cross(a, b), np.cross(a, b))


def test_the_overall_linear_map_is_the_least_squares_one():
    rng = np.random.default_rng(5)
    dst = rng.uniform(100, 500, size=(468, 2))
    linear = np.array([[0.7, 0.2], [-0.1, 0.9]])
    src = dst @ linear + rng.normal(scale=2.0, size=dst.shape) + 40.0
    reference, *_ = np.linalg.lstsq(dst - dst.mean(0), src - src.mean(0), rcond=None)
    assert np.allclose(warp._overall_linear(dst, src), reference, rtol=0, atol=1e-12)
    # Collinear points (a degenerate mesh): no 2 x 2 inverse, the least squares' minimum norm.
    line = np.stack([np.arange(10.0), 2 * np.arange(10.0)], axis=1)
    reference, *_ = np.linalg.lstsq(line - line.mean(0), line - line.mean(0), rcond=None)
    assert np.allclose(warp._overall_linear(line, line), reference)


def test_the_warp_maps_of_a_jittered_mesh_are_the_reference_ones(monkeypatch):
    """The whole maps (slivers and back faces included) against np.cross and lstsq."""
    triangles = topology().triangles
    rng = np.random.default_rng(11)
    # A face-sized mesh from the canonical topology's own layout: a grid of points jittered
    # enough that some triangles fold over and some turn into slivers.
    count = int(triangles.max()) + 1
    base = rng.uniform(0, 1, size=(count, 2)) * 400 + 60
    dst = np.concatenate([base + rng.normal(scale=1.5, size=base.shape), rng.normal(scale=20, size=(count, 1))], 1)
    src = base * 0.8 + 30
    box = (40, 40, 500, 500)
    ours = warp.piecewise_affine_maps(dst.astype(np.float32), src.astype(np.float32), triangles, box,
                                      depth=dst[:, 2], grid_step=3)

    def overall(a, b):
        solution, *_ = np.linalg.lstsq(a - a.mean(0), b - b.mean(0), rcond=None)
        return solution

    monkeypatch.setattr(warp, "_cross", np.cross)
    monkeypatch.setattr(warp, "_overall_linear", overall)
    reference = warp.piecewise_affine_maps(dst.astype(np.float32), src.astype(np.float32), triangles, box,
                                           depth=dst[:, 2], grid_step=3)
    assert np.array_equal(ours.triangle_ids, reference.triangle_ids)
    assert float(np.abs(ours.map_x - reference.map_x).max()) < 1e-3
    assert float(np.abs(ours.map_y - reference.map_y).max()) < 1e-3


def test_the_shape_transfers_eyes_and_mouth_are_resampled_as_with_float_maps(library):
    """realtime/swap/shape.py warp: the bicubic resampling over the moved eyes and mouth reads
    the fixed-point maps it already has; the pixels must be those the float maps gave (a real
    d9 frame moved towards s42's face shape)."""
    import cv2

    from realtime.faces import create_detector
    from realtime.settings import FaceSettings
    from realtime.swap.shape import ShapeTransfer, plan
    from realtime.swap.shape import warp as shape_warp
    from tests.conftest import frame_of, media

    image = frame_of("d9.mp4", 0)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    try:
        face = detector.detect(image)[0]
    finally:
        detector.close()
    transfer = ShapeTransfer()
    transfer.set_source(library.get(str(media("s42.jpg"))).face.landmarks)
    move = plan(transfer.field(face.landmarks, 1.0, 0, 0.0), face.landmarks, image.shape[:2])
    assert move is not None and len(move.holes) == 3
    ours = shape_warp(image, move)
    for hx0, hy0, hx1, hy1 in move.holes:
        reference = cv2.remap(image, move.maps[hy0:hy1, hx0:hx1], None, cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_REPLICATE)
        assert np.array_equal(ours[hy0:hy1, hx0:hx1], reference)
