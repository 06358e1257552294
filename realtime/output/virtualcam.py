"""The virtual camera (pyvirtualcam) that Zoom, Meet, Teams and OBS can select.

A call app expects a camera that never stops: frames go out from a thread of their own at a
fixed size and rate, paced by pyvirtualcam's `sleep_until_next_frame`. When the pipeline is
slow or stalls, the newest finished frame is sent again, so the call app never sees the camera
die.
"""

from __future__ import annotations

import logging
import sys
import threading

import cv2
import numpy as np

from realtime.errors import OutputError
from realtime.frame import Frame
from realtime.output import OutputFormat

log = logging.getLogger(__name__)


def install_hint() -> str:
    """How to get a virtual camera on this operating system."""
    if sys.platform.startswith("linux"):
        return ("install v4l2loopback and load it with: sudo modprobe v4l2loopback devices=1 "
                "exclusive_caps=1 card_label=facecam")
    return "install OBS Studio 30 or newer and start its virtual camera once"


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """Camera formats (I420, YUYV) need even width and height."""
    width, height = size
    return max(2, width - width % 2), max(2, height - height % 2)


class VirtualCameraOutput:
    live = True

    def __init__(self, stream: OutputFormat, settings=None, backend: str | None = None,
                 device: str | None = None) -> None:
        try:
            import pyvirtualcam
        except ImportError as error:  # pragma: no cover - a dependency of facecam
            raise OutputError(f"pyvirtualcam is not installed ({error}); pip install pyvirtualcam") from None
        self.size = even_size(stream.size)
        self.fps = float(stream.fps) if stream.fps and stream.fps > 0 else 30.0
        try:
            self._camera = pyvirtualcam.Camera(self.size[0], self.size[1], self.fps,
                                               fmt=pyvirtualcam.PixelFormat.BGR,
                                               backend=backend, device=device)
        except Exception as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise OutputError(f"no virtual camera available ({first_line}); {install_hint()}") from None
        self.name = f"virtual camera {self._camera.device}"
        self.device = self._camera.device
        self._lock = threading.Lock()
        self._latest: np.ndarray | None = None
        self._stop = threading.Event()
        self.frames_sent = 0
        self.repeats = 0
        self._fresh = False
        self._thread = threading.Thread(target=self._send_loop, name="facecam-vcam", daemon=True)
        self._thread.start()

    def write(self, frame: Frame) -> None:
        picture = frame.result
        if (picture.shape[1], picture.shape[0]) != self.size:
            picture = cv2.resize(picture, self.size, interpolation=cv2.INTER_AREA)
        with self._lock:
            self._latest = np.ascontiguousarray(picture)
            self._fresh = True

    def _placeholder(self) -> np.ndarray:
        picture = np.zeros((self.size[1], self.size[0], 3), dtype=np.uint8)
        cv2.putText(picture, "facecam starting...", (20, self.size[1] // 2), cv2.FONT_HERSHEY_SIMPLEX,
                    max(0.5, self.size[1] / 720), (200, 200, 200), 2, cv2.LINE_AA)
        return picture

    def _send_loop(self) -> None:
        placeholder = self._placeholder()
        while not self._stop.is_set():
            with self._lock:
                picture = self._latest
                fresh, self._fresh = self._fresh, False
            if picture is None:
                picture = placeholder
            elif not fresh:
                self.repeats += 1
            try:
                self._camera.send(picture)
                self.frames_sent += 1
            except Exception as error:  # the device went away: say so once, keep the thread calm
                log.warning("virtual camera: %s", error)
                self._stop.wait(1.0)
                continue
            self._camera.sleep_until_next_frame()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self._camera.close()
