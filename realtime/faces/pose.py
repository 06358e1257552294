"""Head pose from the 3-D face-mesh landmarks: no solver, no camera model.

The eye-corner line gives the face's x axis, the forehead-to-chin line its y axis; their cross
product is the face normal. MediaPipe's z has the scale of x, so the angles are true angles up to
the mesh's own accuracy. Pitch carries a constant offset (the forehead-chin line of a neutral
face leans back a little), which cancels in every comparison between two faces.
"""

from __future__ import annotations

import math

import numpy as np

RIGHT_EYE_OUTER = 33
LEFT_EYE_OUTER = 263
FOREHEAD = 10
CHIN = 152


def face_axes(landmarks: np.ndarray) -> np.ndarray:
    """3x3 rotation whose columns are the face's x (to its left eye), y (down), z (into the
    picture) axes in picture coordinates."""
    x_axis = landmarks[LEFT_EYE_OUTER, :3] - landmarks[RIGHT_EYE_OUTER, :3]
    y_axis = landmarks[CHIN, :3] - landmarks[FOREHEAD, :3]
    x_axis = x_axis / (np.linalg.norm(x_axis) + 1e-9)
    y_axis = y_axis - np.dot(y_axis, x_axis) * x_axis
    y_axis = y_axis / (np.linalg.norm(y_axis) + 1e-9)
    z_axis = np.cross(x_axis, y_axis)
    return np.stack([x_axis, y_axis, z_axis], axis=1).astype(np.float64)


def head_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees. yaw > 0: the face turns towards the picture's right;
    pitch > 0: it looks up; roll > 0: it tilts clockwise in the picture."""
    axes = face_axes(landmarks)
    normal = -axes[:, 2]  # points from the face towards the camera
    yaw = math.degrees(math.atan2(normal[0], -normal[2]))
    pitch = math.degrees(math.atan2(-normal[1], math.hypot(normal[0], normal[2])))
    roll = math.degrees(math.atan2(axes[1, 0], axes[0, 0]))
    return yaw, pitch, roll
