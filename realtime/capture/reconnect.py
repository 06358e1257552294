"""A camera that survives being unplugged: reopen with back-off, placeholder frames meanwhile.

A call app must never see the camera die, so while the real camera is gone this source keeps
delivering frames at the camera's rate: the last real picture, darkened, with a line saying
what is happening. Those frames are marked `placeholder` (no face work, not counted in latency).
Reopening is tried after 0.5 s, then 1, 2, 4 s and every 5 s after that; a camera that comes
back with another size is scaled to the first one, so the outputs never change shape.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from realtime.capture import Captured, Source

log = logging.getLogger(__name__)

BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 5.0)


def placeholder_picture(last: np.ndarray | None, size: tuple[int, int], text: str) -> np.ndarray:
    """The last real picture darkened (or black), with `text` across the middle."""
    width, height = size
    if last is None:
        picture = np.zeros((height, width, 3), dtype=np.uint8)
    else:
        picture = (cv2.resize(last, (width, height)) // 3).astype(np.uint8)
    scale = max(0.4, height / 900)
    (text_w, text_h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    origin = (max(4, (width - text_w) // 2), (height + text_h) // 2)
    cv2.putText(picture, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (230, 230, 230), 2, cv2.LINE_AA)
    return picture


class ReconnectingSource:
    """Wraps a live source made by `reopen()`; never ends by itself, only by `close()`."""

    live = True
    frame_count: int | None = None

    def __init__(self, first: Source, reopen: Callable[[], Source],
                 backoff_s: Sequence[float] = BACKOFF_S) -> None:
        self._source: Source | None = first
        self._reopen = reopen
        self._backoff = tuple(backoff_s)
        self.name = first.name
        self.size: tuple[int, int] = (first.size[0], first.size[1])
        self.fps = float(first.fps)
        self.path = None
        self.reconnects = 0
        self.attempts = 0
        self._next_attempt = 0.0
        self._next_placeholder = 0.0
        self._last: np.ndarray | None = None
        self._placeholder: np.ndarray | None = None
        self.note: str | None = None
        """A line for the stats while something is wrong (see Pipeline), None otherwise."""

    @property
    def connected(self) -> bool:
        return self._source is not None

    @property
    def measured_fps(self) -> float:
        return float(getattr(self._source, "measured_fps", 0.0)) if self._source is not None else 0.0

    def read(self) -> Captured | None:
        if self._source is not None:
            captured = self._read_real()
            if captured is not None:
                return captured
        return self._while_lost()

    def _read_real(self) -> Captured | None:
        source = self._source
        assert source is not None  # only called while a source is open
        try:
            captured = source.read()
        except Exception as error:  # a driver error is the same as an unplug: reopen
            log.debug("%s: read failed: %s", self.name, error)
            captured = None
        if captured is None:
            self._lost()
            return None
        image = captured.image
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
            captured = Captured(image, pts=captured.pts)
        self._last = image
        self.note = getattr(source, "note", None)
        return captured

    def _lost(self) -> None:
        log.warning("%s stopped delivering pictures (unplugged?); reopening it, "
                    "placeholder frames meanwhile", self.name)
        try:
            if self._source is not None:
                self._source.close()
        except Exception as error:  # closing a vanished device may fail; nothing to do about it
            log.debug("%s: close failed: %s", self.name, error)
        self._source = None
        self.attempts = 0
        now = time.monotonic()
        self._next_attempt = now + self._backoff[0]
        self._next_placeholder = now
        self._placeholder = None
        self.note = f"{self.name} disconnected: reconnecting"

    def _while_lost(self) -> Captured:
        now = time.monotonic()
        if now >= self._next_attempt:
            self.attempts += 1
            try:
                source = self._reopen()
            except Exception as error:
                delay = self._backoff[min(self.attempts, len(self._backoff) - 1)]
                self._next_attempt = time.monotonic() + delay
                if self.attempts == 1:
                    log.info("%s not back yet (%s); trying again with back-off up to %.0f s",
                             self.name, error, self._backoff[-1])
                self.note = f"{self.name} disconnected: reconnecting (attempt {self.attempts})"
            else:
                self._source = source
                self.reconnects += 1
                self.note = None
                log.warning("%s is back after %d attempt(s)", self.name, self.attempts)
                captured = self._read_real()
                if captured is not None:
                    return captured
        # A placeholder on the camera's own clock: steady output, never a burst or a freeze.
        self._next_placeholder = max(self._next_placeholder + 1.0 / self.fps, time.monotonic())
        delay = self._next_placeholder - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if self._placeholder is None:
            self._placeholder = placeholder_picture(
                self._last, self.size, f"{self.name} disconnected - reconnecting...")
        return Captured(self._placeholder, placeholder=True)

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None
