"""Video files: H.264 through PyAV (FFmpeg's libx264).

MP4/MOV are written fragmented (a fragment per keyframe, a keyframe every second), so a file
that was being written when the process died still plays up to its last second; a normal stop
finalises it completely.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from realtime.errors import OutputError
from realtime.frame import Frame
from realtime.output import OutputFormat, prepare_path

log = logging.getLogger(__name__)

_FRAGMENTED = {".mp4", ".mov", ".m4v"}


class VideoRecorder:
    live = False

    def __init__(self, path: Path, stream: OutputFormat, crf: int = 18) -> None:
        self.path = prepare_path(Path(path))
        self.name = str(self.path)
        self.fps = stream.fps if stream.fps and stream.fps > 0 else 30.0
        self.live_timing = stream.live
        self.crf = crf
        self.frames_written = 0
        self._lock = threading.Lock()
        self._container = None
        self._stream = None
        self._size: tuple[int, int] | None = None
        self._first_ns: int | None = None
        self._last_pts = -1
        options = {"movflags": "frag_keyframe+empty_moov+default_base_moof"} \
            if self.path.suffix.lower() in _FRAGMENTED else {}
        try:
            self._container = av.open(str(self.path), mode="w", options=options)
        except av.error.FFmpegError as error:
            raise OutputError(f"cannot write video {self.path}: {error}") from None

    def _open_stream(self, width: int, height: int) -> None:
        # H.264 in 4:2:0 needs even dimensions: drop a last odd row/column.
        width -= width % 2
        height -= height % 2
        codec = "libvpx" if self.path.suffix.lower() == ".webm" else "libx264"
        if self.live_timing:
            stream = self._container.add_stream(codec, rate=Fraction(1000, 1))
            stream.time_base = Fraction(1, 1000)
        else:
            stream = self._container.add_stream(codec, rate=Fraction(self.fps).limit_denominator(1001))
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": str(self.crf), "preset": "veryfast",
                              "g": str(max(1, round(self.fps))), "bf": "0" if self.live_timing else "2"}
        stream.thread_type = "AUTO"
        self._stream = stream
        self._size = (width, height)

    def write(self, frame: Frame) -> None:
        image = frame.result
        with self._lock:
            if self._container is None:
                return
            if self._stream is None:
                self._open_stream(image.shape[1], image.shape[0])
            width, height = self._size
            if image.shape[1] != width or image.shape[0] != height:
                if image.shape[1] >= width and image.shape[0] >= height:
                    image = image[:height, :width]
                else:
                    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            # OpenCV's 4:2:0 conversion: the exact inverse of the decoder's (capture/video.py).
            yuv = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2YUV_I420)
            video_frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            video_frame.pts = self._next_pts(frame)
            try:
                for packet in self._stream.encode(video_frame):
                    self._container.mux(packet)
            except av.error.FFmpegError as error:
                raise OutputError(f"cannot write video {self.path}: {error}") from None
            self.frames_written += 1

    def _next_pts(self, frame: Frame) -> int:
        if not self.live_timing:
            pts = self.frames_written
        else:
            if self._first_ns is None:
                self._first_ns = frame.capture_ns
            pts = (frame.capture_ns - self._first_ns) // 1_000_000
        pts = max(pts, self._last_pts + 1)
        self._last_pts = pts
        return int(pts)

    def close(self) -> None:
        with self._lock:
            if self._container is None:
                return
            container, self._container = self._container, None
            if self._stream is None:  # nothing was ever written: leave no empty file behind
                with contextlib.suppress(av.error.FFmpegError):
                    container.close()
                self.path.unlink(missing_ok=True)
                return
            try:
                if self._stream is not None:
                    for packet in self._stream.encode(None):
                        container.mux(packet)
                container.close()
            except (av.error.FFmpegError, OSError) as error:
                raise OutputError(f"cannot finish video {self.path}: {error}") from None
