"""The brow/lid zone of realtime/faces/brows.py made for less (issue 13's budget), the same zone.

The blend stage's feature band limits the target's brows and lash lines inside a zone: the brows'
hulls grown by BROW_REACH (a precise distance transform, thresholded), then softened. The
transform now runs over the hulls' bounding box grown by the reach instead of the whole face box,
and the brows-only zone, which nothing reads, is no longer blurred and enlarged. Both must leave
the zone exactly as it was: a zone one pixel short would let a hair edge of the target's brow
through the camera grain (the ghost brow of tests/test_swap_brows.py).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.faces import brows
from realtime.faces.topology import topology
from realtime.settings import FaceSettings
from tests.test_swap_sharp import frame_of


def whole_box(mask: np.ndarray, reach: float) -> np.ndarray:
    """The zone as main made it: the transform over the whole mask."""
    distance = cv2.distanceTransform(255 - mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.where(distance <= reach, 255, 0).astype(np.uint8)


@pytest.mark.parametrize("reach", [0.5, 3.0, 10.7, 40.0])
def test_the_grown_hulls_are_those_of_the_whole_box_transform(reach):
    rng = np.random.default_rng(7)
    for _ in range(40):
        mask = np.zeros((120, 160), np.uint8)
        # Hulls anywhere, also touching the box's edges (where the grown box is clipped).
        for _ in range(int(rng.integers(1, 3))):
            points = rng.uniform((-10, -10), (170, 130), size=(6, 2))
            hull = cv2.convexHull(np.round(points * 16).astype(np.int32))
            cv2.fillConvexPoly(mask, hull, 255, lineType=cv2.LINE_AA, shift=4)
        assert np.array_equal(brows._grown(mask, reach), whole_box(mask, reach))
    empty = np.zeros((30, 40), np.uint8)
    empty[3, 4] = 200  # anti-aliased only: no pixel at 255, nothing to grow from
    assert not brows._grown(empty, 5.0).any()


def test_the_feature_zone_of_a_real_face_is_unchanged(monkeypatch):
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(max_faces=1), static=True)
    try:
        face = detector.detect(frame_of("d13.mp4", 0))[0]
    finally:
        detector.close()
    zone, none = brows.feature_zones(face.landmarks, face.box, face.size, brows=False)
    assert none is None
    same, brow_zone = brows.feature_zones(face.landmarks, face.box, face.size)
    assert np.array_equal(zone, same) and brow_zone is not None
    monkeypatch.setattr(brows, "_grown", whole_box)
    reference, reference_brows = brows.feature_zones(face.landmarks, face.box, face.size)
    assert np.array_equal(zone, reference) and np.array_equal(brow_zone, reference_brows)
    # ... and it is a zone over the brows (not an empty one equal to an empty one).
    x0, y0 = face.box[:2]
    centre = face.landmarks[topology().right_eyebrow, :2].mean(axis=0) - (x0, y0)
    assert zone[int(centre[1]), int(centre[0])] > 0.9


def whole_part_fill(part: np.ndarray, weight: np.ndarray, filled: np.ndarray) -> None:
    """The brow erase's last step as main made it: the grain and the blend over the whole part."""
    from realtime.blend.kernels import gaussian_u8

    grain = np.clip(cv2.subtract(part, gaussian_u8(part, brows.ERASE_GRAIN_SIGMA), dtype=cv2.CV_32F),
                    -brows.GRAIN_LIMIT, brows.GRAIN_LIMIT)
    w = weight[..., None] if part.ndim == 3 else weight
    part[:] = np.clip(part + w * (filled + grain - part), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("channels", [3, 1])
def test_the_brow_fill_over_where_it_reaches_is_the_whole_parts(channels):
    """The erase works over the rows and columns its weight reaches only (a brow's region is
    mostly skin it leaves alone); with the grain blur's reach around them, every pixel must be
    what the whole part's pass gives: at the part's edges, in the middle, or nowhere at all."""
    rng = np.random.default_rng(9)
    shape = (60, 90) if channels == 1 else (60, 90, 3)
    for placement in [(slice(20, 30), slice(40, 55)), (slice(0, 12), slice(70, 90)), (slice(0, 60), slice(0, 90)),
                      (slice(58, 60), slice(0, 3)), None]:
        part = rng.integers(0, 256, size=shape, dtype=np.uint8)
        weight = np.zeros(shape[:2], np.float32)
        if placement is not None:
            weight[placement] = rng.uniform(0.0, 1.0, size=weight[placement].shape).astype(np.float32)
        filled = rng.uniform(0, 255, size=shape).astype(np.float32)
        ours, reference = part.copy(), part.copy()
        brows._fill_with_grain(ours, weight, filled)
        whole_part_fill(reference, weight, filled)
        assert np.array_equal(ours, reference)
