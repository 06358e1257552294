"""Motion transfer on synthetic landmarks (no media, no detector): the portrait makes the
driver's head motion in its own frame, at its own scale, and only the parts asked for."""

from __future__ import annotations

import math

import numpy as np
import pytest

from realtime.animate.motion import RIGID_POINTS, calibrate, fit_similarity, transfer
from realtime.animate.surround import RING_LAG, build_mesh, fit_similarity_2d, moved_points
from realtime.faces.topology import ALL_POINTS, topology


def roll(degrees: float) -> np.ndarray:
    angle = math.radians(degrees)
    return np.array([[math.cos(angle), -math.sin(angle), 0.0],
                     [math.sin(angle), math.cos(angle), 0.0], [0.0, 0.0, 1.0]])


def similar(points: np.ndarray, degrees: float, scale: float, shift) -> np.ndarray:
    centre = points[RIGID_POINTS].mean(axis=0)
    return scale * (points - centre) @ roll(degrees).T + centre + np.asarray(shift, dtype=np.float64)


@pytest.fixture
def faces():
    rng = np.random.default_rng(4)
    # A face-like cloud: 478 points, 200 px wide, depth a third of that.
    driver = rng.uniform(-100, 100, (ALL_POINTS, 3)) * [1.0, 1.2, 0.3] + [320, 240, 0]
    # The portrait: the same face, twice as big, tilted by 8 degrees, elsewhere, a bit different.
    portrait = similar(driver, 8.0, 2.0, (300.0, 500.0, 0.0)) + rng.normal(0, 2.0, driver.shape)
    return driver, portrait


def test_neutral_driver_leaves_the_portrait_unchanged(faces):
    driver, portrait = faces
    calibration = calibrate(driver, portrait, "relative")
    np.testing.assert_allclose(transfer(driver, portrait, calibration), portrait, atol=1e-6)


def test_head_roll_scale_and_shift_are_transferred_at_the_portrait_scale(faces):
    driver, portrait = faces
    calibration = calibrate(driver, portrait, "relative")
    moved_driver = similar(driver, 15.0, 1.1, (20.0, -10.0, 0.0))
    out = transfer(moved_driver, portrait, calibration)
    fitted = fit_similarity(portrait[RIGID_POINTS], out[RIGID_POINTS])
    angle = math.degrees(math.atan2(fitted.rotation[1, 0], fitted.rotation[0, 0]))
    assert angle == pytest.approx(15.0, abs=0.2)
    assert fitted.scale == pytest.approx(1.1, rel=0.01)
    # The driver moved 20 px right and 10 up at its scale; the portrait is twice as big and
    # tilted by 8 degrees, so its shift is the same shift in its own frame: 2x, turned by 8 degrees.
    expected = 2.0 * roll(8.0)[:2, :2] @ np.array([20.0, -10.0])
    shift = fitted.target_centre[:2] - fitted.source_centre[:2]
    np.testing.assert_allclose(shift, expected, atol=1.5)


def test_strength_and_parts(faces):
    driver, portrait = faces
    calibration = calibrate(driver, portrait, "relative")
    moved_driver = similar(driver, 10.0, 1.0, (0.0, 0.0, 0.0))
    top = topology()
    moved_driver[top.inner_mouth, 1] += 15.0  # and the mouth opens
    assert np.allclose(transfer(moved_driver, portrait, calibration, strength=0.0), portrait)
    head_only = transfer(moved_driver, portrait, calibration, parts="head")
    expected_head = similar(portrait, 0.0, 1.0, (0, 0, 0))
    fitted = fit_similarity(expected_head[RIGID_POINTS], head_only[RIGID_POINTS])
    assert math.degrees(math.atan2(fitted.rotation[1, 0], fitted.rotation[0, 0])) == pytest.approx(10.0, abs=0.3)
    # head only: the mouth keeps its shape relative to the face
    mouth_gap = head_only[top.inner_mouth] - head_only[RIGID_POINTS].mean(axis=0)
    still_gap = portrait[top.inner_mouth] - portrait[RIGID_POINTS].mean(axis=0)
    assert np.abs(np.linalg.norm(mouth_gap, axis=1) - np.linalg.norm(still_gap, axis=1)).max() < 2.0
    expression = transfer(moved_driver, portrait, calibration, parts="expression")
    assert np.abs(expression[RIGID_POINTS] - portrait[RIGID_POINTS]).max() < 1.5  # head still
    opened = expression[top.inner_mouth] - portrait[top.inner_mouth]
    # 15 px at the driver's scale is about 30 px on the twice-as-big portrait
    assert 25.0 < float(np.linalg.norm(opened, axis=1).mean()) < 35.0
    eyes = transfer(moved_driver, portrait, calibration, parts="eyes")
    assert np.allclose(eyes[top.inner_mouth], portrait[top.inner_mouth])
    half = transfer(moved_driver, portrait, calibration, strength=0.5, parts="expression")
    assert float(np.linalg.norm(half[top.inner_mouth] - portrait[top.inner_mouth], axis=1).mean()) == \
        pytest.approx(float(np.linalg.norm(opened, axis=1).mean()) / 2, rel=0.05)


def test_absolute_mode_takes_the_driver_shape_and_pose(faces):
    driver, portrait = faces
    top = topology()
    portrait = portrait.copy()
    portrait[top.inner_mouth, 1] += 30.0  # a portrait with its own features
    calibration = calibrate(driver, portrait, "absolute")
    out = transfer(driver, portrait, calibration)
    # The driver's own shape and roll, at the portrait's place and size.
    expected = fit_similarity(driver[RIGID_POINTS], portrait[RIGID_POINTS], rotate=False).apply(driver)
    assert np.abs(out - portrait)[:, :2].max() > 20.0
    # (small differences are held back by the noise gate: up to about 2 % of the face size)
    error = np.linalg.norm(out[:, :2] - expected[:, :2], axis=1)
    assert error.mean() < 2.5 and error.max() < 0.02 * 400


def test_surround_mesh_keeps_the_border_and_carries_the_hair():
    top = topology()
    centre = np.array([320.0, 240.0])
    angles = np.linspace(0, 2 * np.pi, ALL_POINTS, endpoint=False)
    face = np.zeros((ALL_POINTS, 3))
    face[:, 0] = centre[0] + 60 * np.cos(angles) * np.linspace(0.1, 1, ALL_POINTS)
    face[:, 1] = centre[1] + 80 * np.sin(angles) * np.linspace(0.1, 1, ALL_POINTS)
    face[top.face_oval, 0] = centre[0] + 60 * np.cos(np.linspace(0, 2 * np.pi, len(top.face_oval), endpoint=False))
    face[top.face_oval, 1] = centre[1] + 80 * np.sin(np.linspace(0, 2 * np.pi, len(top.face_oval), endpoint=False))
    mesh = build_mesh(face, 640, 480)
    assert mesh.triangles.max() < len(mesh.points)
    shifted = face.copy()
    shifted[:, 0] += 10.0
    points = moved_points(mesh, shifted)
    np.testing.assert_allclose(points[mesh.border], mesh.points[mesh.border])
    np.testing.assert_allclose(points[mesh.ring_slices[0]] - mesh.points[mesh.ring_slices[0]],
                               np.tile([10.0 - RING_LAG, 0.0], (mesh.ring_slices[0].stop - mesh.ring_slices[0].start, 1)),
                               atol=1e-4)
    # the 2-D similarity fit is exact on an exactly similar point set
    source = np.random.default_rng(1).uniform(0, 100, (30, 2))
    target = source @ (1.5 * roll(20)[:2, :2]).T + [5, 7]
    np.testing.assert_allclose(fit_similarity_2d(source, target),
                               np.c_[1.5 * roll(20)[:2, :2], [5, 7]], atol=1e-9)
