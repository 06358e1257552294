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
from tests.conftest import frame_of


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


@pytest.mark.parametrize("channels, fill_range", [(3, (0, 255)), (1, (0, 255)), (3, (-80, 330)), (1, (-80, 330))])
def test_the_brow_fill_over_where_it_reaches_is_the_whole_parts(channels, fill_range):
    """The erase works over the rows and columns its weight reaches only (a brow's region is
    mostly skin it leaves alone); with the grain blur's reach around them, every pixel must be
    what the whole part's pass gives: at the part's edges, in the middle, or nowhere at all.
    The blend itself is OpenCV's float32 passes now (session 23), main's numpy expression in
    whole_part_fill: the same numbers, also where the result is clipped at 0 and 255."""
    rng = np.random.default_rng(9)
    shape = (60, 90) if channels == 1 else (60, 90, 3)
    for placement in [(slice(20, 30), slice(40, 55)), (slice(0, 12), slice(70, 90)), (slice(0, 60), slice(0, 90)),
                      (slice(58, 60), slice(0, 3)), None]:
        part = rng.integers(0, 256, size=shape, dtype=np.uint8)
        weight = np.zeros(shape[:2], np.float32)
        if placement is not None:
            weight[placement] = rng.uniform(0.0, 1.0, size=weight[placement].shape).astype(np.float32)
        filled = rng.uniform(*fill_range, size=shape).astype(np.float32)
        ours, reference = part.copy(), part.copy()
        brows._fill_with_grain(ours, weight, filled)
        whole_part_fill(reference, weight, filled)
        assert np.array_equal(ours, reference)


def test_a_brow_with_nothing_kept_over_it_resizes_no_kept_map(monkeypatch):
    """The brow erase at its working size (~ERASE_PX per face) shrinks the brow's region of the
    picture, the layer's alpha and the kept features' map over it; with nothing kept over a brow
    (no glasses, or frames elsewhere) that map is zeros at any size and is not resized (one of
    four INTER_AREA reductions per brow and call; issue 13, benchmarks/results/s23-budget). The
    erased picture is the same either way."""
    rng = np.random.default_rng(3)
    top = topology()
    points = np.zeros((478, 3), np.float32)
    points[:, :2] = rng.uniform(60, 540, size=(478, 2))
    for brow, (cx, cy) in ((top.right_eyebrow, (200, 200)), (top.left_eyebrow, (400, 200))):
        points[brow, 0] = cx + np.linspace(-60, 60, len(brow))
        points[brow, 1] = cy + rng.uniform(-8, 8, len(brow))
    box = (0, 0, 600, 600)
    target = np.full((600, 600, 3), 180, np.uint8)
    for cx in (200, 400):
        target[192:208, cx - 60:cx + 60] = 60  # a dark brow under each
    alpha = np.ones((600, 600), np.float32)
    face = np.full((600, 600, 3), 170, np.uint8)  # the new face: no brow where the target's are
    calls = []
    real_resize = cv2.resize

    def counted(picture, size, *args, **kwargs):
        calls.append(kwargs.get("interpolation", args[2] if len(args) > 2 else None))
        return real_resize(picture, size, *args, **kwargs)

    monkeypatch.setattr(cv2, "resize", counted)
    nothing = target.copy()
    brows.erase_brows(nothing, alpha, points, box, 800.0, image=face)
    reductions = calls.count(cv2.INTER_AREA)
    assert reductions == 2 * 3  # the picture, the alpha, the new face's picture: not the kept map
    calls.clear()
    # Glasses elsewhere (below the brows' regions): the same picture, and still no kept map resized.
    elsewhere = target.copy()
    brows.erase_brows(elsewhere, alpha, points, box, 800.0, kept=(np.ones((40, 400), np.float32), (100, 500)),
                      image=face)
    assert calls.count(cv2.INTER_AREA) == 2 * 3
    assert np.array_equal(elsewhere, nothing)
    assert not np.array_equal(nothing, target)  # the brows were erased
    calls.clear()
    # Frames over a brow: its kept map is reduced too (and the frames there are kept).
    over = target.copy()
    brows.erase_brows(over, alpha, points, box, 800.0, kept=(np.ones((30, 500), np.float32), (50, 190)),
                      image=face)
    assert calls.count(cv2.INTER_AREA) == 2 * 4


@pytest.mark.parametrize("clip", ["d13.mp4", "d6.mp4"])
def test_the_brow_erase_reduces_by_whole_steps_and_erases_what_the_fractional_reduction_erases(clip, monkeypatch):
    """The brow erase works at ~ERASE_PX per face: its region is cut to a whole number of steps
    (its far side moved in by under a step, at twice the brow's reach, where nothing is erased), so
    OpenCV's INTER_AREA takes its integer-factor path (issue 13's budget, benchmarks/results/
    s28-swapcost; main reduced 201 px by 4.02 on d13, a third more costly). The erase must stay
    the one the fractional reduction drew: the target's brows under a new face without brows,
    within a level or two where they are erased (a fill from the skin around; the mask's edge moves
    by under a working pixel), and the brows are gone in both."""
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(max_faces=1), static=True)
    try:
        frame = frame_of(clip, 0)
        face = detector.detect(frame)[0]
    finally:
        detector.close()
    x0, y0, x1, y1 = face.box
    target = frame[y0:y1, x0:x1].copy()
    alpha = np.ones(target.shape[:2], np.float32)
    new_face = np.full_like(target, 170)  # no brow of its own: the target's are erased fully
    reductions = []
    real_resize = cv2.resize

    def recorded(picture, size, *args, **kwargs):
        if kwargs.get("interpolation") == cv2.INTER_AREA:
            reductions.append((picture.shape[1] / size[0], picture.shape[0] / size[1]))
        return real_resize(picture, size, *args, **kwargs)

    monkeypatch.setattr(cv2, "resize", recorded)
    cheap = target.copy()
    brows.erase_brows(cheap, alpha, face.landmarks, face.box, face.size, image=new_face)
    step = int(face.size // brows.ERASE_PX)
    assert step >= 2 and len(reductions) == 2 * 3
    assert all(fx == fy == step for fx, fy in reductions), reductions
    monkeypatch.setattr(cv2, "resize", real_resize)
    monkeypatch.setattr(brows, "_whole_steps", lambda start, end, step: end)  # main's region
    fractional = target.copy()
    brows.erase_brows(fractional, alpha, face.landmarks, face.box, face.size, image=new_face)
    erased = np.abs(fractional.astype(int) - target.astype(int)).max(axis=2) > 8
    assert erased.sum() > 2000  # the brows (thousands of pixels), not a speck
    apart = np.abs(cheap.astype(int) - fractional.astype(int))
    assert apart[erased].mean() < 3.0 and np.percentile(apart, 99.9) <= 12, (apart[erased].mean(), apart.max())
    for brow in (topology().right_eyebrow, topology().left_eyebrow):
        cx, cy = (face.landmarks[brow, :2].mean(axis=0) - (x0, y0)).astype(int)
        assert erased[cy - 2:cy + 3, cx - 2:cx + 3].any()  # gone in both: the cheap one is that close
