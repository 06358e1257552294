"""Webcams through OpenCV: MJPG at the requested size and rate, a one-frame driver buffer (a
deeper buffer is latency), and the rate the camera really delivers, measured."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import cv2

from realtime.capture import Captured
from realtime.errors import InputError
from realtime.settings import CaptureSettings

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1280, 720)
DEFAULT_FPS = 30.0


def _backend() -> int:
    if sys.platform.startswith("linux"):
        return cv2.CAP_V4L2
    if sys.platform == "win32":
        return cv2.CAP_DSHOW
    if sys.platform == "darwin":
        return cv2.CAP_AVFOUNDATION
    return cv2.CAP_ANY


def camera_available(index: int) -> bool:
    """Cheap check before trying to open: on Linux a camera is a /dev/video node."""
    if sys.platform.startswith("linux"):
        return Path(f"/dev/video{index}").exists()
    return True


class CameraSource:
    live = True

    def __init__(self, index: int, settings: CaptureSettings) -> None:
        self.index = index
        self.name = f"camera {index}"
        self.frame_count = None
        requested_size = tuple(settings.size) if settings.size else DEFAULT_SIZE
        requested_fps = float(settings.fps or DEFAULT_FPS)
        if not camera_available(index):
            raise InputError(f"camera {index} not found (no /dev/video{index}); "
                             "check that it is plugged in, or use --input FILE or --input demo")
        capture = cv2.VideoCapture(index, _backend())
        if not capture.isOpened():
            capture.release()
            raise InputError(f"cannot open camera {index}: it may be in use by another program "
                             "or not allowed (check camera permissions)")
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, requested_size[0])
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, requested_size[1])
        capture.set(cv2.CAP_PROP_FPS, requested_fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        ok, image = capture.read()
        if not ok or image is None:
            capture.release()
            raise InputError(f"camera {index} opened but delivers no pictures: it is probably "
                             "busy in another program")
        self._capture = capture
        self.size = (image.shape[1], image.shape[0])
        reported = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(reported) if reported and reported > 0 else requested_fps
        self.requested_fps = requested_fps
        self._first: Captured | None = Captured(image)
        self._times: list[float] = []
        if self.size != requested_size:
            log.info("camera %d delivers %dx%d (asked for %dx%d)", index, *self.size, *requested_size)

    @property
    def measured_fps(self) -> float:
        """Frames per second really delivered over the last second or so."""
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-6)

    def read(self) -> Captured | None:
        if self._first is not None:
            captured, self._first = self._first, None
            return captured
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        now = time.monotonic()
        self._times.append(now)
        while self._times and now - self._times[0] > 2.0:
            self._times.pop(0)
        return Captured(image)

    def close(self) -> None:
        self._capture.release()
