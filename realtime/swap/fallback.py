"""What the swap shows for a face that has been lost for longer than `hold_frames`.

The tracker keeps such a face only when `lost_face` is 'hold' or 'blur' (see faces/tracking.py):
'hold' swaps onto the last geometry as if it were still there; 'blur' hides whatever is at that
place instead, so a face the detector cannot see (turned away, covered, badly lit) never shows.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.frame import Face, Frame
from realtime.settings import FaceSettings


def split_lost(faces: list[Face], settings: FaceSettings) -> tuple[list[Face], list[Face]]:
    """(faces to swap, faces to blur)."""
    if settings.lost_face != "blur":
        return faces, []
    lost = [face for face in faces if face.held > settings.hold_frames]
    return [face for face in faces if face.held <= settings.hold_frames], lost


def blur_faces(picture: np.ndarray, faces: list[Face]) -> np.ndarray:
    """A copy of `picture` with each face's box (grown by a quarter) pixelated and softened."""
    canvas = picture.copy()
    height, width = canvas.shape[:2]
    for face in faces:
        x0, y0, x1, y1 = face.box
        grow_x, grow_y = (x1 - x0) // 4, (y1 - y0) // 4
        x0, y0 = max(0, x0 - grow_x), max(0, y0 - grow_y)
        x1, y1 = min(width, x1 + grow_x), min(height, y1 + grow_y)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        region = canvas[y0:y1, x0:x1]
        # Down to a few cells and back up: nothing identifiable survives, unlike a light blur.
        cells = cv2.resize(region, (6, max(2, round(6 * (y1 - y0) / (x1 - x0)))), interpolation=cv2.INTER_AREA)
        coarse = cv2.resize(cells, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        canvas[y0:y1, x0:x1] = cv2.GaussianBlur(coarse, (0, 0), max(1.0, (x1 - x0) / 20))
    return canvas


def apply_lost_face_blur(frame: Frame, faces: list[Face], settings: FaceSettings) -> list[Face]:
    """Blur the lost faces into frame.output; return the faces to swap."""
    swap, lost = split_lost(faces, settings)
    if lost:
        frame.output = blur_faces(frame.result, lost)
    return swap
