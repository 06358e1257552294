"""A glance is drawn to its side, the iris sliding over the eye's white (issue 22: a viewer saw eyes
that barely follow).

Measured with MediaPipe on the output against the real frames (self-reenactment of d10), the
portrait's gaze moved 0.44-0.47 of the real one. Two causes: the glance was clipped at 0.16 eye
widths (d10 looks 0.3 eye widths to her left on frames 103-112), and the turned iris was drawn by
stretching the portrait's own eye along a fan, so the white a glance uncovers was sampled from the
iris and the lids (a dark wedge trailing the iris, read as an iris that had not moved). The iris
now slides, whole, over the portrait's eye with its irises painted out.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from realtime.faces.source import SourceFace
from tests.conftest import media

pytestmark = pytest.mark.media


def _portrait_animator(image, face):
    from realtime.animate.mesh import MeshAnimator
    from realtime.settings import Settings

    animator = MeshAnimator(Settings(mode="animate"))
    animator.set_source(SourceFace(path="d10.mp4#0", image=image, face=face, faces=(face,)))
    return animator


def _frame(index, image, faces):
    from realtime.frame import Frame

    return Frame(index=index, image=image, capture_ns=0, pts=index / 30.0, faces=faces)


def test_a_glance_is_drawn_as_far_as_the_real_one():
    from benchmarks.quality_animate import drawn_features, read_frames
    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    frames, _ = read_frames(media("d10.mp4"), 110)
    detector = create_detector(FaceSettings(), static=True)
    try:
        neutral = max(detector.detect(frames[0]), key=lambda f: f.size)
        animator = _portrait_animator(frames[0], neutral)
        animator.animate(_frame(0, frames[0], [neutral]), [neutral])
        start = drawn_features(neutral.landmarks)[1:3]
        shares = []
        for index in (103, 106, 109):
            real = max(detector.detect(frames[index]), key=lambda f: f.size)
            output = animator.animate(_frame(index, frames[index], [real]), [real])
            found = max(detector.detect(output), key=lambda f: f.size)
            moved = drawn_features(real.landmarks)[1:3] - start
            drawn = drawn_features(found.landmarks)[1:3] - start
            assert moved[0] > 0.2  # she looks far to one side (0.21-0.30 eye widths)
            shares.append(float(drawn @ moved / (moved @ moved)))
    finally:
        detector.close()
    # main: 0.52, 0.38, 0.41 of the real glance as MediaPipe finds it on the output
    assert min(shares) > 0.7, shares


def test_the_white_a_glance_uncovers_is_white():
    from benchmarks.quality_animate import read_frames
    from realtime.faces import create_detector
    from realtime.faces.topology import LEFT_IRIS_CENTRE, RIGHT_IRIS_CENTRE, topology
    from realtime.settings import FaceSettings

    frames, _ = read_frames(media("d10.mp4"), 1)
    detector = create_detector(FaceSettings(), static=True)
    try:
        neutral = max(detector.detect(frames[0]), key=lambda f: f.size)
    finally:
        detector.close()
    animator = _portrait_animator(frames[0], neutral)
    animator.animate(_frame(0, frames[0], [neutral]), [neutral])
    points = neutral.landmarks.astype(np.float64)
    width = float(np.linalg.norm(points[33, :2] - points[133, :2]))
    glance = points.copy()
    glance[468:, 0] += 0.15 * width  # both irises a sixth of the eye to the picture's right
    looking = replace(neutral, landmarks=glance.astype(np.float32))
    output = animator.animate(_frame(1, frames[0], [looking]), [looking])
    top = topology()
    light = cv2.cvtColor(frames[0], cv2.COLOR_BGR2LAB)[..., 0].astype(np.float64)
    drawn = cv2.cvtColor(output, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float64)
    for loop, centre, iris in ((top.right_eye, RIGHT_IRIS_CENTRE, top.right_iris),
                               (top.left_eye, LEFT_IRIS_CENTRE, top.left_iris)):
        radius = float(np.linalg.norm(points[iris, :2] - points[centre, :2], axis=1).mean())
        eye = np.zeros(light.shape, np.uint8)
        cv2.fillPoly(eye, [np.round(points[loop, :2]).astype(np.int32)], 1)
        eye = cv2.erode(eye, np.ones((3, 3), np.uint8))
        ys, xs = np.nonzero(eye)
        left_of_iris = (xs < points[centre, 0] - 0.3 * radius) & \
            (np.hypot(xs - points[centre, 0], ys - points[centre, 1]) < radius * 0.8)
        iris_pixels = np.hypot(xs - points[centre, 0], ys - points[centre, 1]) < radius * 0.8
        white = np.hypot(xs - points[centre, 0], ys - points[centre, 1]) > radius * 1.3
        iris_light = light[ys[iris_pixels], xs[iris_pixels]].mean()
        white_light = np.percentile(light[ys[white], xs[white]], 75)
        uncovered = drawn[ys[left_of_iris], xs[left_of_iris]].mean()
        # The part of the eye the iris left (its left half, in the portrait) is now nearer the
        # white than the iris (main: the iris stretched over it, a dark wedge).
        assert uncovered > iris_light + 0.6 * (white_light - iris_light), (uncovered, iris_light, white_light)
