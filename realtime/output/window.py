"""The CLI's preview: an OpenCV window with an optional FPS/latency overlay.

OpenCV's GUI calls must run on the main thread on some platforms, so `write` (called by the
output stage thread) only keeps the newest frame; the CLI's main loop calls `pump` to show it and
read the keyboard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import cv2
import numpy as np

from realtime.frame import Frame
from realtime.metrics import Stats


def draw_stats(image: np.ndarray, stats: Stats) -> np.ndarray:
    """A copy of `image` with FPS and latency in the top-left corner."""
    canvas = image.copy()
    lines = [f"{stats.fps:5.1f} FPS  e2e p50 {stats.end_to_end.p50:5.1f} ms  "
             f"p95 {stats.end_to_end.p95:5.1f} ms",
             f"faces {stats.faces}  dropped {stats.dropped}"]
    scale = max(0.45, canvas.shape[0] / 1400)
    y = int(24 * scale / 0.6)
    for line in lines:
        cv2.putText(canvas, line, (10, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(canvas, line, (10, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
        y += int(26 * scale / 0.6)
    return canvas


class WindowOutput:
    live = True

    def __init__(self, title: str = "facecam", stats: Callable[[], Stats] | None = None) -> None:
        self.name = "window"
        self.title = title
        self.stats = stats
        self.show_stats = stats is not None
        self._lock = threading.Lock()
        self._latest: np.ndarray | None = None
        self._fresh = False
        self._opened = False

    def write(self, frame: Frame) -> None:
        with self._lock:
            self._latest = frame.result
            self._fresh = True

    def pump(self, wait_ms: int = 5) -> int:
        """Show the newest frame (main thread only); the key pressed, or -1."""
        with self._lock:
            image, fresh = self._latest, self._fresh
            self._fresh = False
        if image is not None and fresh:
            if self.show_stats and self.stats is not None:
                image = draw_stats(image, self.stats())
            if not self._opened:
                cv2.namedWindow(self.title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO)
                cv2.resizeWindow(self.title, image.shape[1], image.shape[0])
                self._opened = True
            cv2.imshow(self.title, image)
        key = cv2.waitKey(wait_ms)
        if self._opened and cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            return 27  # the window was closed: same as Esc
        return key & 0xFF if key >= 0 else -1

    def close(self) -> None:
        if self._opened:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
            self._opened = False
