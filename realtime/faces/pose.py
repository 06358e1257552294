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
    pitch > 0: it looks up; roll > 0: it tilts clockwise in the picture.

    The axes of `face_axes`, in plain floats: on four 3-vectors numpy's call overhead (np.cross
    alone ~0.3 ms) made this ~0.5 ms per face, twice a frame (detector and tracker); this is
    ~0.02 ms (issue 21) and agrees with `face_axes` to float rounding."""
    points = landmarks[(RIGHT_EYE_OUTER, LEFT_EYE_OUTER, FOREHEAD, CHIN), :3].tolist()
    (rx, ry, rz), (lx, ly, lz), (fx, fy, fz), (cx, cy, cz) = points
    ax, ay, az = lx - rx, ly - ry, lz - rz
    norm = math.sqrt(ax * ax + ay * ay + az * az) + 1e-9
    ax, ay, az = ax / norm, ay / norm, az / norm
    bx, by, bz = cx - fx, cy - fy, cz - fz
    dot = bx * ax + by * ay + bz * az
    bx, by, bz = bx - dot * ax, by - dot * ay, bz - dot * az
    norm = math.sqrt(bx * bx + by * by + bz * bz) + 1e-9
    bx, by, bz = bx / norm, by / norm, bz / norm
    # normal = -(x axis cross y axis): from the face towards the camera
    nx, ny, nz = -(ay * bz - az * by), -(az * bx - ax * bz), -(ax * by - ay * bx)
    yaw = math.degrees(math.atan2(nx, -nz))
    pitch = math.degrees(math.atan2(-ny, math.hypot(nx, nz)))
    roll = math.degrees(math.atan2(ay, ax))
    return yaw, pitch, roll
