"""The built-in demo clip: a person who moves like someone in front of a webcam, made at run
time from a picture that ships inside scikit-image, so the demo needs no camera and no media.

Over its six seconds the head drifts sideways, nods closer and further, and tilts: translation,
scale and in-plane rotation, the motions a tracker and a swap must follow.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from realtime.capture import Captured
from realtime.capture.builtin import demo_person
from realtime.settings import CaptureSettings

DEMO_SECONDS = 6.0
DEMO_SIZE = (1280, 720)
# Where the astronaut's face is in scikit-image's 512x512 picture, and how big it should look.
_FACE_CENTRE = (225.0, 128.0)
_BASE_SCALE = 2.8


class DemoSource:
    name = "demo clip"
    live = False

    def __init__(self, settings: CaptureSettings) -> None:
        self.size: tuple[int, int] = (settings.size[0], settings.size[1]) if settings.size else DEMO_SIZE
        self.fps = float(settings.fps or 30.0)
        self.loop = settings.loop
        self.frame_count = None if self.loop else int(round(DEMO_SECONDS * self.fps))
        self._person = demo_person()
        self._index = 0

    def transform(self, index: int) -> np.ndarray:
        """2x3 matrix from the person picture to demo frame `index`."""
        width, height = self.size
        phase = 2.0 * math.pi * index / (DEMO_SECONDS * self.fps)
        scale = _BASE_SCALE * height / 720.0 * (1.0 + 0.12 * math.sin(2 * phase))
        angle = 12.0 * math.sin(phase)
        centre_x = width / 2 + 0.08 * width * math.sin(phase + 0.7)
        centre_y = 0.47 * height + 0.03 * height * math.sin(3 * phase)
        matrix = cv2.getRotationMatrix2D(_FACE_CENTRE, angle, scale)
        matrix[0, 2] += centre_x - _FACE_CENTRE[0]
        matrix[1, 2] += centre_y - _FACE_CENTRE[1]
        return matrix

    def frame(self, index: int) -> np.ndarray:
        return cv2.warpAffine(self._person, self.transform(index), self.size,
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)

    def read(self) -> Captured | None:
        if self.frame_count is not None and self._index >= self.frame_count:
            return None
        index = self._index
        self._index += 1
        return Captured(self.frame(index), pts=index / self.fps)

    def close(self) -> None:
        pass
