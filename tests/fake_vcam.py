"""A pyvirtualcam backend that keeps what it is sent, for tests (registered by name)."""

from __future__ import annotations

import threading
import time

import numpy as np


class FakeCameraBackend:
    """Conforms to pyvirtualcam.Backend. Every instance records into `FakeCameraBackend.sent`."""

    instances: list[FakeCameraBackend] = []
    refused: set[str] = set()
    """Pixel formats ('24BG', 'YUY2', ...) this fake device rejects, like a picky driver."""

    def __init__(self, width: int, height: int, fps: float, fourcc: int, device: str | None, **kw) -> None:
        from pyvirtualcam.util import decode_fourcc

        if decode_fourcc(fourcc) in FakeCameraBackend.refused:
            raise RuntimeError(f"format {decode_fourcc(fourcc)} not supported")
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self._device = device or "/dev/fake-facecam"
        self.sent: list[tuple[float, np.ndarray]] = []
        self.closed = False
        self._lock = threading.Lock()
        FakeCameraBackend.instances.append(self)

    def send(self, frame: np.ndarray) -> None:
        with self._lock:
            self.sent.append((time.monotonic(), frame.copy()))

    def close(self) -> None:
        self.closed = True

    def device(self) -> str:
        return self._device

    def native_fourcc(self):
        return self.fourcc


def register(name: str = "facecam-fake") -> type[FakeCameraBackend]:
    import pyvirtualcam

    FakeCameraBackend.instances.clear()
    FakeCameraBackend.refused = set()
    pyvirtualcam.register_backend(name, FakeCameraBackend)
    return FakeCameraBackend
