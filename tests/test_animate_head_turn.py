"""A live portrait's head turns about the neck (issue 22): on a turn the face swings sideways while
the hair outline beside it barely moves. The surroundings used to take the face oval's whole shift,
so on d3 (a 3-12 degree turn, the fitted shift up to 49 px) the hair outline slid along the bright
wall and the animated frame lost to the frozen frame 0 on PSNR in self-reenactment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from realtime.animate.surround import PIVOT_BACK, PIVOT_DOWN, RING_SCALES, build_mesh, moved_points
from tests.conftest import against_the_frozen_frame, media, self_reenactment

pytestmark = pytest.mark.media

FRAMES = 30


def _yawed(points: np.ndarray, degrees: float, pivot: np.ndarray) -> np.ndarray:
    angle = math.radians(degrees)
    rotation = np.array([[math.cos(angle), 0.0, math.sin(angle)], [0.0, 1.0, 0.0],
                         [-math.sin(angle), 0.0, math.cos(angle)]])
    return (points - pivot) @ rotation.T + pivot


def test_a_turn_about_the_neck_leaves_the_hair_outline_in_place(library):
    """The portrait's own face turned 10 degrees about its neck: the face swings sideways by
    several percent of its width, the ring through the hair outline (1.6 face sizes out) moves
    under a fifth of that swing; a plain sideways step of the same size still carries it along."""
    face = library.get(str(media("s42.jpg"))).face.landmarks.astype(np.float64)
    image = library.get(str(media("s42.jpg"))).image
    mesh = build_mesh(face, image.shape[1], image.shape[0])
    from realtime.faces.topology import topology

    oval = face[topology().face_oval]
    width, height = float(np.ptp(oval[:, 0])), float(np.ptp(oval[:, 1]))
    pivot = oval.mean(axis=0) + np.array([0.0, PIVOT_DOWN * height, PIVOT_BACK * width])
    turned = _yawed(face, 10.0, pivot)
    swing = float(turned[topology().face_oval, 0].mean() - oval[:, 0].mean())
    assert abs(swing) > 0.05 * width

    ring = mesh.ring_slices[RING_SCALES.index(1.6)]
    moved = moved_points(mesh, turned)[ring] - mesh.points[ring]
    assert np.abs(moved[:, 0]).mean() < 0.2 * abs(swing)

    stepped = face.copy()
    stepped[:, 0] += swing
    moved = moved_points(mesh, stepped)[ring] - mesh.points[ring]
    assert np.abs(moved[:, 0]).mean() > 0.7 * abs(swing)


def test_self_reenactment_on_a_turning_head_beats_the_frozen_frame():
    """d3's first 30 frames driven by themselves, the portrait being frame 0: the animated frame is
    nearer the real one than the frozen frame 0 is, on PSNR and SSIM over the face crop (main: PSNR
    17.5 vs 18.3 frozen; the hair outline slid with the turn)."""
    frames, fps, tracked, _, animator = self_reenactment("d3.mp4", FRAMES)
    for key, (mesh, frozen) in against_the_frozen_frame(frames, fps, tracked, animator).items():
        assert mesh > frozen + (0.5 if key == "psnr" else 0.02), (key, mesh, frozen)


def test_a_brow_raise_while_the_reference_settles_is_not_taken_as_neutral():
    """d10 raises her brows by about 8 px over her first four frames, while the animator's neutral
    reference still settles. Each frame was near the previous reference, so the raise became the
    neutral face and every later frame's brows were drawn low (main: 0.1 px of an 8 px raise).
    The portrait (frame 0 of the same video) now raises its brows with her (the reference follows
    only while the driver stays near the first landmarks, not near the last reference)."""
    from realtime.animate.motion import RIGID_POINTS
    from realtime.frame import Frame

    brows = [70, 63, 105, 66, 107, 55, 65, 52, 53, 46, 300, 293, 334, 296, 336, 285, 295, 282, 283, 276]
    frames, fps, tracked, source_face, animator = self_reenactment("d10.mp4", 6)

    def raise_of(points: np.ndarray, neutral: np.ndarray) -> float:
        return float(-((points[brows, 1] - points[RIGID_POINTS, 1].mean())
                       - (neutral[brows, 1] - neutral[RIGID_POINTS, 1].mean())).mean())

    for index in range(1, 5):
        faces = tracked[index]
        animator.animate(Frame(index=index, image=frames[index], capture_ns=0, pts=index / fps, faces=faces), faces)
    driver = raise_of(tracked[4][0].landmarks, tracked[1][0].landmarks)
    drawn = raise_of(animator._last_points[:478], source_face.landmarks)
    assert driver > 5.0
    assert drawn > 0.4 * driver, (drawn, driver)  # main 0.13 of 7.7 px; now 3.8 (the part within
    # the noise band of the first landmarks still settles into the reference)
