"""A mouth parted under a moustache shows a dark gap (issue 22).

Einstein (s12: the moustache covers his upper lip) driven by d3's parted smile (frames 38-47, the
opening 5-8 px high on his 206 px face) was drawn with a pale band of teeth under the moustache
and no dark gap below it: a smear that MediaPipe, afresh on the output, read as closed lips
(opening 0.1-0.5e-3 where 3.5-5e-3 was drawn; mouth r 0.71 over d3's 150 frames). Under a
moustache the interior now lies in its shade with the gap under the teeth drawn dark
(`mouth.gap_under_moustache`).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.conftest import driven, media, self_reenactment

pytestmark = pytest.mark.media

PARTED = range(38, 48)  # d3: a smile, lips parted over the teeth


def _polygon(shape: tuple[int, ...], points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(points * 16).astype(np.int32)], 255, shift=4)
    return mask > 0


def test_a_mouth_parted_under_a_moustache_shows_a_dark_gap(library):
    from realtime.animate.motion import LOWER_LIP_RINGS
    from realtime.faces.topology import topology

    frames, fps, tracked, _face, animator = self_reenactment("d3.mp4", max(PARTED) + 1)
    animator.set_source(library.get(str(media("s12.jpg"))))
    inner = list(topology().inner_mouth)
    steps, openings = [], []
    for index, _faces, output in driven(frames, fps, tracked, animator):
        if index not in PARTED:
            continue
        points = animator._last_points[:, :2]
        light = cv2.cvtColor(output, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
        opening = _polygon(light.shape, points[inner])
        lower_lip = _polygon(light.shape, np.concatenate([points[list(LOWER_LIP_RINGS[-1])],
                                                          points[list(LOWER_LIP_RINGS[0])][::-1]]))
        # The gap: down each column of the opening's middle half, its darkest pixel.
        left, right = points[inner, 0].min(), points[inner, 0].max()
        quarter = (right - left) / 4
        columns = [x for x in range(int(left + quarter), int(right - quarter)) if opening[:, x].any()]
        gap = float(np.mean([light[opening[:, x], x].min() for x in columns]))
        steps.append(float(light[lower_lip].mean()) - gap)
        openings.append(float(light[opening].mean()))
    # The gap is far darker than the lower lip (main: 55 levels, a pale band; branch: 87) ...
    assert np.mean(steps) > 70.0, steps
    # ... and the opening is a shaded mouth, not a black hole (main 74, branch 33).
    assert np.mean(openings) > 25.0, openings
