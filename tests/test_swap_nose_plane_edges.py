"""A painting the swapper wears mirrored has no hard vertical edges down its nose (issue 13,
swap/shadows.soften_nose_planes).

s10 (Vermeer's turned girl) is worn with its near half mirrored onto the far one. Its near nose
plane meets the lit cheek in a painted edge, so both of the target's flanks got one: "a pasted
patch with hard vertical edges down the nose and cheeks" (the blind judge, s10 on d10 at 95%).
Measured on the output picture: per row from below the eyes (mesh point 197) to above the nose's
tip (5), the largest change of L* over 6 px between 0.03 and 0.11 of the face from the nose's
midline, each side; the median over rows and sides. The mirror's own seam (the midline) is not
where the edges are: 1.4-2.5 L* there on main, 8.4-9.4 on the flanks (benchmarks/results/s33-s10edge).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest


def flank_edge(picture: np.ndarray, landmarks: np.ndarray, half: int = 3) -> float:
    """The steepest L* change (0-100) over 2 * half px across the nose's flanks, median over rows."""
    points = landmarks[:468, :2]
    size = float(np.hypot(*(points.max(axis=0) - points.min(axis=0))))
    lab = cv2.cvtColor(picture.astype(np.float32) / 255, cv2.COLOR_BGR2LAB)
    lightness = cv2.GaussianBlur(lab[..., 0], (0, 0), 1.0)
    ridge = [168, 6, 197, 195, 5]
    a, b = np.polyfit(points[ridge, 1], points[ridge, 0], 1)
    steps = []
    for y in range(int(round(points[197, 1])), int(round(points[5, 1])) + 1):
        middle = a * y + b
        for sign in (-1, 1):
            xs = np.arange(int(middle + sign * 0.03 * size), int(middle + sign * 0.11 * size), sign)
            steps.append(float(np.abs(lightness[y, xs - half] - lightness[y, xs + half]).max()))
    return float(np.median(steps))


@pytest.mark.parametrize("video", ["d10.mp4", "d14.mp4"])
def test_a_mirrored_paintings_nose_flanks_have_no_hard_vertical_edge(swap_one, video):
    image, face, output = swap_one(video, 30, "s10.jpg")
    edge = flank_edge(output, face.landmarks)
    # Main (47f87d9): 8.5 on d10, 8.6 on d14 (the camera's own nose: 5.0 and 1.7; s42, a frontal
    # photo, worn there: 6.3 and 5.3). Now 4.7 and 4.4.
    assert edge < 6.0, (edge, flank_edge(image, face.landmarks))
