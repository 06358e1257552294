"""The virtual camera (pyvirtualcam) that Zoom, Meet, Teams and OBS can select.

A call app expects a camera that never stops: frames go out from a thread of their own at a
fixed size and rate, paced by pyvirtualcam's `sleep_until_next_frame`. When the pipeline is
slow or stalls, the newest finished frame is sent again, so the call app never sees the camera
die. The size and rate never change while the camera is open (call apps do not renegotiate):
pictures of another shape are letterboxed into it.

Formats: by default BGR goes to the backend, which converts it to its native format (I420 on
v4l2loopback). Some apps refuse I420 from a loopback device; `vcam_format = "yuyv"` sends
YUYV instead, and a backend that refuses BGR is retried with YUYV automatically.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import cv2
import numpy as np

from realtime.errors import OutputError
from realtime.frame import Frame
from realtime.output import OutputFormat

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0


def install_hint(platform: str | None = None) -> str:
    """How to get a virtual camera on this operating system (one line)."""
    platform = platform or sys.platform
    if platform.startswith("linux"):
        return ("install v4l2loopback (Debian/Ubuntu: sudo apt install v4l2loopback-dkms) and load it "
                "with: sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=facecam")
    if platform == "darwin":
        return ("install OBS Studio 30 or newer, click 'Start Virtual Camera' once and allow its "
                "system extension")
    return "install OBS Studio 30 or newer and click 'Start Virtual Camera' once"


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """Camera formats (I420, YUYV) need even width and height."""
    width, height = (int(v) for v in size)
    return max(2, width - width % 2), max(2, height - height % 2)


def letterbox(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`picture` scaled to fit `size` (width, height) without distortion, black bars around."""
    width, height = size
    if (picture.shape[1], picture.shape[0]) == (width, height):
        return picture
    scale = min(width / picture.shape[1], height / picture.shape[0])
    new_w = max(1, min(width, round(picture.shape[1] * scale)))
    new_h = max(1, min(height, round(picture.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(picture, (new_w, new_h), interpolation=interpolation)
    if (new_w, new_h) == (width, height):
        return scaled
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    x0, y0 = (width - new_w) // 2, (height - new_h) // 2
    canvas[y0:y0 + new_h, x0:x0 + new_w] = scaled
    return canvas


def _formats_to_try(choice: str, pixel_format) -> list:
    if choice == "yuyv":
        return [pixel_format.YUYV]
    if choice == "i420":
        return [pixel_format.I420]
    return [pixel_format.BGR, pixel_format.YUYV]


def _convert(picture: np.ndarray, fmt_name: str) -> np.ndarray:
    """BGR (h, w, 3) -> what the camera was opened for."""
    if fmt_name == "YUYV":
        return cv2.cvtColor(picture, cv2.COLOR_BGR2YUV_YUY2)
    if fmt_name == "I420":
        return cv2.cvtColor(picture, cv2.COLOR_BGR2YUV_I420)
    return picture


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class VirtualCameraOutput:
    live = True

    def __init__(self, stream: OutputFormat, settings=None, backend: str | None = None,
                 device: str | None = None) -> None:
        try:
            import pyvirtualcam
        except ImportError as error:  # pragma: no cover - a dependency of facecam
            raise OutputError(f"pyvirtualcam is not installed ({error}); pip install pyvirtualcam") from None
        out = settings.output if settings is not None else None
        backend = backend or (out.vcam_backend if out else None)
        device = device or (out.vcam_device if out else None)
        size = (out.vcam_size if out else None) or stream.size
        fps = (out.vcam_fps if out else None) or stream.fps
        self.size = even_size(size)
        self.fps = float(fps) if fps and fps > 0 else DEFAULT_FPS
        self.mirror = bool(out.vcam_mirror) if out else False
        if backend is not None and backend not in pyvirtualcam.camera.BACKENDS:
            known = ", ".join(sorted(pyvirtualcam.camera.BACKENDS)) or "none on this system"
            raise OutputError(f"no virtual camera backend {backend!r} (available: {known}); {install_hint()}")
        errors: list[str] = []
        self._camera: Any = None
        for fmt in _formats_to_try(out.vcam_format if out else "auto", pyvirtualcam.PixelFormat):
            try:
                self._camera = pyvirtualcam.Camera(self.size[0], self.size[1], self.fps, fmt=fmt,
                                                   backend=backend, device=device)
            except Exception as error:
                errors.append(f"{fmt.name}: {_first_line(error)}")
                continue
            self.format = fmt.name
            break
        if self._camera is None:
            where = f" at {device}" if device else ""
            raise OutputError(f"no virtual camera available{where} ({'; '.join(errors)}); "
                              f"{install_hint()}")
        if len(errors) > 0:
            log.info("virtual camera refused %s; sending %s", errors[0].split(":")[0], self.format)
        self.device = self._camera.device
        self.name = f"virtual camera {self.device}"
        log.info("virtual camera %s: %dx%d at %.0f fps (%s)", self.device, *self.size, self.fps,
                 self.format)
        self._lock = threading.Lock()
        self._latest: np.ndarray | None = None
        self._stop = threading.Event()
        self.frames_sent = 0
        self.repeats = 0
        self.send_errors = 0
        self._fresh = False
        self._thread = threading.Thread(target=self._send_loop, name="facecam-vcam", daemon=True)
        self._thread.start()

    def write(self, frame: Frame) -> None:
        """Keep the newest picture; the sender thread converts and sends it on its own clock."""
        picture = letterbox(frame.result, self.size)
        if self.mirror:
            picture = cv2.flip(picture, 1)
        picture = _convert(np.ascontiguousarray(picture), self.format)
        with self._lock:
            self._latest = picture
            self._fresh = True

    def _placeholder(self) -> np.ndarray:
        picture = np.zeros((self.size[1], self.size[0], 3), dtype=np.uint8)
        cv2.putText(picture, "facecam starting...", (20, self.size[1] // 2), cv2.FONT_HERSHEY_SIMPLEX,
                    max(0.5, self.size[1] / 720), (200, 200, 200), 2, cv2.LINE_AA)
        return _convert(picture, self.format)

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
                self.send_errors += 1
                if self.send_errors == 1:
                    log.warning("virtual camera %s: %s (retrying every second)", self.device, error)
                self._stop.wait(1.0)
                continue
            self._camera.sleep_until_next_frame()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self._camera.close()
