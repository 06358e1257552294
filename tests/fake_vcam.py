"""A pyvirtualcam backend that keeps what it is sent, for tests (registered by name)."""

from __future__ import annotations

import threading
import time

import numpy as np


class FakeCameraBackend:
    """Conforms to pyvirtualcam.Backend. Every instance records into `FakeCameraBackend.sent`."""

    instances: list[FakeCameraBackend] = []

    def __init__(self, width: int, height: int, fps: float, fourcc: int, device: str | None, **kw) -> None:
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
    pyvirtualcam.register_backend(name, FakeCameraBackend)
    return FakeCameraBackend
