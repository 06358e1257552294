from collections import Counter

import numpy as np

from realtime.faces.topology import LID_INNER, LOWER_LIDS, MESH_POINTS, UPPER_LIDS, five_points, topology


def test_triangles_form_a_surface():
    triangles = topology().triangles
    assert len(triangles) == 852
    assert triangles.max() < MESH_POINTS
    edges = Counter()
    for a, b, c in triangles:
        edges.update([(a, b), (a, c), (b, c)])
    # An open triangulated surface: interior edges border two triangles, border edges one.
    assert set(edges.values()) == {1, 2}


def test_regions_are_closed_loops_of_the_right_size():
    top = topology()
    assert len(top.face_oval) == 36
    assert len(top.inner_mouth) == 20 and 13 in top.inner_mouth and 14 in top.inner_mouth
    assert len(top.outer_lips) == 20 and 0 in top.outer_lips and 17 in top.outer_lips
    assert len(top.right_eye) == 16 and 33 in top.right_eye
    assert len(top.left_eye) == 16 and 263 in top.left_eye
    assert set(top.left_iris) == {474, 475, 476, 477}


def test_holes_are_not_covered_by_triangles():
    top = topology()
    # No triangle has all its corners on the inner-mouth loop (the mouth opening is a hole).
    inner = set(top.inner_mouth.tolist())
    assert not any(set(t.tolist()) <= inner for t in top.triangles)


def test_five_points_order():
    landmarks = np.zeros((478, 3), dtype=np.float32)
    landmarks[468, :2] = (10, 50)   # person's right iris: left in the picture
    landmarks[473, :2] = (30, 50)
    landmarks[1, :2] = (20, 60)
    landmarks[61, :2] = (12, 70)
    landmarks[291, :2] = (28, 70)
    points = five_points(landmarks)
    assert points.shape == (5, 2)
    assert points[0, 0] < points[1, 0] and points[3, 0] < points[4, 0]


def test_lid_tables_run_along_each_eye_contour():
    """The one lid table: each lid goes corner to corner along MediaPipe's eye contour, the two
    lids of an eye share only their corners and together make the whole contour."""
    top = topology()
    for eye, loop in enumerate((top.right_eye, top.left_eye)):
        ring = loop.tolist()
        steps = {frozenset((a, b)) for a, b in zip(ring, ring[1:] + ring[:1], strict=True)}
        upper, lower = UPPER_LIDS[eye], LOWER_LIDS[eye]
        for lid in (upper, lower):
            assert all(frozenset(pair) in steps for pair in zip(lid, lid[1:], strict=False))
            assert len(lid[LID_INNER]) == 7
        assert (upper[0], upper[-1]) == (lower[0], lower[-1])
        assert not set(upper[LID_INNER]) & set(lower[LID_INNER])
        assert set(upper) | set(lower) == set(ring)
