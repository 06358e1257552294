"""Video files, decoded with PyAV (FFmpeg): exact frame order, presentation times, rotation
metadata of phone videos, and clear errors for files that are not video.

Damaged files: packets are decoded one by one, so a packet the decoder refuses is skipped and
decoding goes on with the next (PyAV's `container.decode()` generator ends for good at the first
error). The first damage is reported when it is met, the total when the file is closed, and the
count is a note in the run's stats.
"""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path

import av
import cv2
import numpy as np

from realtime.capture import Captured
from realtime.capture.image import fit_size
from realtime.errors import InputError
from realtime.settings import CaptureSettings

log = logging.getLogger(__name__)

_ROTATIONS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, -90: cv2.ROTATE_90_CLOCKWISE,
              270: cv2.ROTATE_90_CLOCKWISE, -270: cv2.ROTATE_90_COUNTERCLOCKWISE,
              180: cv2.ROTATE_180, -180: cv2.ROTATE_180}


def frame_to_bgr(frame: av.VideoFrame) -> np.ndarray:
    """A decoded frame as BGR uint8.

    4:2:0 frames convert through OpenCV: its BT.601 limited-range conversion round-trips
    (decode here, encode in the recorder) at about 52 dB, where swscale's default bgr24 path
    loses enough to cap a decode/encode round trip near 40 dB.
    """
    if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0:
        return cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2BGR_I420)
    return frame.to_ndarray(format="bgr24")


class VideoFileSource:
    live = False

    def __init__(self, path: str | Path, settings: CaptureSettings) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.loop = settings.loop
        self._requested_size = settings.size
        try:
            self._container = av.open(str(self.path))
        except (av.error.InvalidDataError, av.error.EOFError):
            raise InputError(f"{self.path} is not a video facecam can read") from None
        except av.error.FFmpegError as error:
            raise InputError(f"cannot open video {self.path}: {error}") from None
        if not self._container.streams.video:
            self._container.close()
            raise InputError(f"{self.path} has no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else 30.0
        frames = self._stream.frames
        self.frame_count = None if self.loop else (int(frames) if frames else None)
        self._restart()
        self._errors = 0
        self._first_damage_s: float | None = None
        self.note: str | None = None
        first = self._next_image()
        if first is None:
            self.close()
            raise InputError(f"{self.path} holds no decodable video frames")
        self._pending: Captured | None = first
        self.size = (first.image.shape[1], first.image.shape[0])

    @property
    def has_audio(self) -> bool:
        return bool(self._container.streams.audio)

    def _restart(self) -> None:
        self._packets = self._container.demux(self._stream)
        self._decoded: deque[av.VideoFrame] = deque()
        self._last_s = 0.0

    def _damaged(self, where: float | None, error: Exception) -> None:
        self._errors += 1
        if self._errors == 1:
            self._first_damage_s = where
            at = f" at {where:.1f} s" if where is not None else ""
            log.warning("%s is damaged%s (%s): skipping what cannot be decoded and going on",
                        self.name, at, getattr(error, "strerror", None) or error)
        self.note = f"{self.name}: {self._errors} damaged packet(s) skipped"

    def _next_frame(self) -> av.VideoFrame | None:
        while not self._decoded:
            try:
                packet = next(self._packets)
            except StopIteration:
                return None
            except av.error.FFmpegError as error:  # the container itself is broken from here on
                self._damaged(self._last_s, error)
                log.warning("%s: cannot read past %.1f s: the rest of the file is lost", self.name,
                            self._last_s)
                return None
            try:
                self._decoded.extend(packet.decode())
            except av.error.FFmpegError as error:  # a damaged packet: skip it, not the whole file
                pts = float(packet.pts * packet.time_base) if packet.pts is not None and packet.time_base else None
                self._damaged(pts, error)
        frame = self._decoded.popleft()
        if frame.time is not None:
            self._last_s = float(frame.time)
        return frame

    def _next_image(self) -> Captured | None:
        frame = self._next_frame()
        if frame is None:
            return None
        image = frame_to_bgr(frame)
        rotation = int(getattr(frame, "rotation", 0) or 0)
        if rotation in _ROTATIONS:
            image = cv2.rotate(image, _ROTATIONS[rotation])
        image = fit_size(np.ascontiguousarray(image), self._requested_size)
        pts = float(frame.time) if frame.time is not None else None
        return Captured(image, pts=pts)

    def read(self) -> Captured | None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            return pending
        captured = self._next_image()
        if captured is None and self.loop:
            self._container.seek(0)
            self._restart()
            captured = self._next_image()
        return captured

    def close(self) -> None:
        if self._errors:
            log.warning("%s: %d damaged packet(s) were skipped (a frame each, about): the output "
                        "has that many fewer frames than the input", self.name, self._errors)
            self._errors = 0
        self._container.close()
