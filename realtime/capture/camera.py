"""Webcams through OpenCV: MJPG at the requested size and rate, a one-frame driver buffer (a
deeper buffer is latency), and the rate the camera really delivers, measured.

A camera that is busy in another program says which program (Linux: the processes holding the
/dev/video node). A camera that delivers fewer frames than asked (low light stretches the
exposure, USB bandwidth) is measured and reported once, in the log and the stats. Unplugging is
handled by `open_camera`, which wraps the camera in a `ReconnectingSource`.
"""

from __future__ import annotations

import logging
import os
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


def device_path(index: int) -> str:
    """How the operating system names camera `index` (for messages)."""
    return f"/dev/video{index}" if sys.platform.startswith("linux") else f"camera {index}"


def processes_using(path: str, proc: Path = Path("/proc")) -> list[tuple[int, str]]:
    """(pid, program name) of the processes that hold `path` open (Linux; others: [])."""
    if not proc.is_dir():
        return []
    target = os.path.realpath(path)
    found: list[tuple[int, str]] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            holds = any(os.path.realpath(fd) == target for fd in (entry / "fd").iterdir())
        except OSError:  # gone, or not ours to look at
            continue
        if holds:
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                name = "?"
            found.append((int(entry.name), name))
    return found


def busy_message(index: int) -> str:
    device = device_path(index)
    users = [f"{name} (pid {pid})" for pid, name in processes_using(device) if pid != os.getpid()]
    held_by = f"in use by {', '.join(users)}" if users else "probably in use by another program"
    return (f"camera {index} ({device}) is busy: {held_by}; close it there, or pick another camera "
            "with --input N (or --input FILE / --input demo)")


def open_camera(index: int, settings: CaptureSettings):
    """Camera `index`; with settings.reconnect (the default) it survives being unplugged."""
    camera = CameraSource(index, settings)
    if not settings.reconnect:
        return camera
    from realtime.capture.reconnect import ReconnectingSource

    return ReconnectingSource(camera, lambda: CameraSource(index, settings))


class CameraSource:
    live = True

    def __init__(self, index: int, settings: CaptureSettings) -> None:
        self.index = index
        self.name = f"camera {index}"
        self.frame_count: int | None = None
        requested_size = tuple(settings.size) if settings.size else DEFAULT_SIZE
        requested_fps = float(settings.fps or DEFAULT_FPS)
        if not camera_available(index):
            raise InputError(f"camera {index} not found (no /dev/video{index}); "
                             "check that it is plugged in, or use --input FILE or --input demo")
        capture = cv2.VideoCapture(index, _backend())
        if not capture.isOpened():
            capture.release()
            device = device_path(index)
            if sys.platform.startswith("linux") and not os.access(device, os.R_OK | os.W_OK):
                raise InputError(f"cannot open camera {index} ({device}): permission denied; add "
                                 "yourself to the 'video' group (sudo usermod -aG video $USER) and log in again")
            raise InputError(busy_message(index))
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, requested_size[0])
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, requested_size[1])
        capture.set(cv2.CAP_PROP_FPS, requested_fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        ok, image = capture.read()
        if not ok or image is None:
            capture.release()
            raise InputError(busy_message(index))
        self._capture = capture
        self.size = (image.shape[1], image.shape[0])
        reported = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(reported) if reported and reported > 0 else requested_fps
        self.requested_fps = requested_fps
        self._first: Captured | None = Captured(image)
        self._times: list[float] = []
        self._opened_at = time.monotonic()
        self.note: str | None = None
        """Set when the camera is slower than asked; shown in the stats."""
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
        self._check_rate(now)
        return Captured(image)

    def _check_rate(self, now: float) -> None:
        """Say once (and keep in `note`) when the camera delivers well under the asked rate."""
        if now - self._opened_at < 3.0:  # exposure and auto-focus settle first
            return
        measured = self.measured_fps
        slow = 0 < measured < 0.85 * self.requested_fps
        if slow and self.note is None:
            log.warning("%s delivers %.1f fps (asked for %.0f): low light or USB bandwidth; "
                        "more light or a smaller --size usually helps", self.name, measured,
                        self.requested_fps)
        if slow:
            self.note = f"{self.name} delivers {measured:.1f} fps (asked for {self.requested_fps:.0f})"
        elif measured >= 0.9 * self.requested_fps:
            self.note = None

    def close(self) -> None:
        self._capture.release()
