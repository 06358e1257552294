"""The expression error of benchmarks/quality_written.py: a constant change of the face's shape
(face_shape's point) costs nothing; an expression the output draws late or not at all does."""

from __future__ import annotations

import numpy as np

from benchmarks.quality_swap import LEFT_EYE_OUTER, POINTS_68, RIGHT_EYE_OUTER
from benchmarks.quality_written import expression_error


def _face(turn: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    points = rng.uniform(100, 300, (478, 3)).astype(np.float32)
    points[RIGHT_EYE_OUTER, :2], points[LEFT_EYE_OUTER, :2] = (150, 200), (250, 200)
    c, s = np.cos(turn), np.sin(turn)
    points[:, :2] = (points[:, :2] - 200) @ np.array([[c, -s], [s, c]]).T + 200
    return points


def test_a_constant_shape_change_is_no_expression_error_and_a_missed_smile_is():
    frames = [_face(turn) for turn in np.linspace(-0.3, 0.3, 10)]
    moved = []
    for face, turn in zip(frames, np.linspace(-0.3, 0.3, 10), strict=True):
        out = face.copy()
        c, s = np.cos(turn), np.sin(turn)
        # The same change in the face's own frame every frame (wider mouth, eyes 3% apart), turned with it.
        change = np.zeros((478, 2), np.float32)
        change[POINTS_68[48:60]] = (4.0, 1.0)
        change[RIGHT_EYE_OUTER], change[LEFT_EYE_OUTER] = (-1.5, 0.0), (1.5, 0.0)
        out[:, :2] += change @ np.array([[c, -s], [s, c]]).T
        moved.append(out)
    assert expression_error(moved, frames) < 1e-6
    # A smile (mouth corners 8% of the eye distance out and up) in half the frames, missed by the output.
    smiling = [f.copy() for f in frames]
    for face in smiling[5:]:
        face[[POINTS_68[48], POINTS_68[54]], :2] += ((-8.0, -4.0), (8.0, -4.0))
    error = expression_error(frames, smiling)
    assert 0.001 < error < 0.01
    assert np.isnan(expression_error([None, frames[0]], [frames[0], frames[0]]))
