"""Video files: H.264 through PyAV (FFmpeg's libx264), with the input's sound.

MP4/MOV are written fragmented (a fragment every quarter second and at every keyframe, every
packet flushed to the file as it is muxed: PyAV's own buffering would otherwise hold 256 KiB), so
a file that was being written when the process died outright still plays up to its last second
(measured: 19-24 frames lost per SIGKILL at 30 FPS, most of it the encoder's look-ahead; the
fragments cost about 1% in size); a
normal stop (end of input, Ctrl-C, SIGTERM, a stage that failed) finalises it completely. The
file is written under a partial name and renamed when finished (`paths.OutputFile`).

Every frame is recorded at the size of the first one: a frame of another size (a camera that
came back at another resolution, a mode change) is scaled to fit, with black bars where the
shapes differ, and the log says so once. Sizes beyond the codec's largest level (H.264 level 6.2:
139,264 macroblocks, 8192x4320) are scaled down to fit, said once too.

Audio: when the input is a video file with sound and the run is in file mode (every frame kept,
in order), the sound is decoded and re-encoded as AAC alongside the frames, following their media
times: a run cut short by --max-frames or Ctrl-C gets the matching stretch of sound. In live mode
frames are dropped and timed by the clock, so no sound is recorded (said once in the log).
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
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

from realtime.errors import OutputError
from realtime.frame import Frame
from realtime.output import OutputFormat
from realtime.output.paths import OutputFile

log = logging.getLogger(__name__)

_FRAGMENTED = {".mp4", ".mov", ".m4v"}
H264_MAX_MACROBLOCKS = 139_264
"""H.264 level 6.2's largest frame (ITU-T H.264 table A-1): 8192x4320 = 139,264 16x16 blocks."""
H264_MAX_SIDE = 16_880  # sqrt(8 * 139,264) blocks of 16 px, the level's longest side
VP8_MAX_SIDE = 16_383


def codec_size(width: int, height: int, codec: str) -> tuple[int, int]:
    """The largest even size within the codec's limits with the aspect of (width, height)."""
    scale = 1.0
    if codec == "libx264":
        blocks = -(-width // 16) * -(-height // 16)
        if blocks > H264_MAX_MACROBLOCKS:
            scale = (H264_MAX_MACROBLOCKS / blocks) ** 0.5
        scale = min(scale, H264_MAX_SIDE / max(width, height))
    else:
        scale = min(scale, VP8_MAX_SIDE / max(width, height))
    if scale < 1.0:
        width, height = int(width * scale) // 16 * 16, int(height * scale) // 16 * 16
    return max(2, width - width % 2), max(2, height - height % 2)


class VideoRecorder:
    live = False

    def __init__(self, path: Path, stream: OutputFormat, crf: int = 18, *, fresh: bool = False,
                 taken=()) -> None:
        self._file = OutputFile(Path(path), inputs=stream.inputs, fresh=fresh, taken=taken)
        self.path = self._file.path
        self.name = str(self.path)
        self.complete = False
        """True once the file was finalised (every frame handed to the encoder is in it)."""
        self.fps = stream.fps if stream.fps and stream.fps > 0 else 30.0
        self.live_timing = stream.live
        self.crf = crf
        self.frames_written = 0
        self._lock = threading.Lock()
        self._container: OutputContainer | None = None
        self._stream: VideoStream | None = None
        self._size: tuple[int, int] | None = None
        self._first_ns: int | None = None
        self._last_pts = -1
        self._resized_from: tuple[int, int] | None = None
        # flush_packets: each muxed packet goes to the file at once (PyAV's I/O buffers 256 KiB).
        options = {"flush_packets": "1"}
        if self.path.suffix.lower() in _FRAGMENTED:
            options["movflags"] = "frag_keyframe+empty_moov+default_base_moof"
            options["frag_duration"] = "250000"  # microseconds
        try:
            self._container = av.open(str(self._file.partial), mode="w", options=options)
        except av.error.FFmpegError as error:
            self._file.discard()
            raise OutputError(f"cannot write video {self.path}: {error}") from None
        self._audio = _AudioCopy.open(stream.source_path, live=stream.live)

    def _open_stream(self, width: int, height: int) -> None:
        codec = "libvpx" if self.path.suffix.lower() == ".webm" else "libx264"
        # 4:2:0 needs even dimensions: drop a last odd row/column (no scaling for that).
        even = (width - width % 2, height - height % 2)
        limited = codec_size(width, height, codec)
        if limited != even:
            log.warning("%s: %dx%d is beyond what %s can hold; recording at %dx%d",
                        self.path.name, width, height, "H.264" if codec == "libx264" else "VP8", *limited)
        width, height = limited
        container = self._container
        if container is None:  # closed by stop() before the first frame arrived
            return
        rate = Fraction(1000, 1) if self.live_timing else Fraction(self.fps).limit_denominator(1001)
        stream = container.add_stream(codec, rate=rate)
        if not isinstance(stream, VideoStream):  # libx264/libvpx are video encoders
            raise OutputError(f"cannot write video {self.path}: {codec} gave no video stream")
        if self.live_timing:
            stream.time_base = Fraction(1, 1000)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": str(self.crf), "preset": "veryfast",
                              "g": str(max(1, round(self.fps))), "bf": "0" if self.live_timing else "2"}
            if not self.live_timing:
                # A fixed I-B-B-P pattern, not x264's adaptive choice: that choice weighs the whole
                # picture, so a changed face turned the P frames of the unchanged background into B
                # frames (coarser, coded afresh) and back. On d13 (30 frames) the background of
                # s12 -> d13 was 1.6 dB below a second passthrough with it, 0.25 dB without; its
                # error against the picture before H.264 is the same either way (44.1 dB).
                stream.options["x264-params"] = "b-adapt=0"
        stream.thread_type = "AUTO"
        self._stream = stream
        self._size = (width, height)
        if self._audio is not None:  # every stream must exist before the first packet
            self._audio.add_stream(container)

    def write(self, frame: Frame) -> None:
        image = frame.result
        with self._lock:
            if self._container is None:
                return
            if self._stream is None:
                self._open_stream(image.shape[1], image.shape[0])
            stream = self._stream
            if stream is None:
                return
            image = self._fit(image, frame.index)
            # OpenCV's 4:2:0 conversion: the exact inverse of the decoder's (capture/video.py).
            yuv = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2YUV_I420)
            video_frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            video_frame.pts = self._next_pts(frame)
            try:
                for packet in stream.encode(video_frame):
                    self._container.mux(packet)
            except av.error.FFmpegError as error:
                raise OutputError(f"cannot write video {self.path}: {error}") from None
            self.frames_written += 1
            if self._audio is not None and frame.pts is not None:
                # Sound up to the end of this frame, so the two streams interleave closely.
                self._audio.copy_until(self._container, frame.pts, frame.pts + 1.0 / self.fps)

    def _fit(self, image: np.ndarray, index: int) -> np.ndarray:
        if self._size is None:  # set with the stream, before the first frame is fitted
            return image
        width, height = self._size
        h, w = image.shape[:2]
        if (w - w % 2, h - h % 2) == (width, height):  # the odd row/column is dropped
            return image[:height, :width]
        if (w, h) != self._resized_from:
            self._resized_from = (w, h)
            log.warning("%s: frames are %dx%d from frame %d on; the recording is %dx%d, so they are "
                        "scaled to fit", self.path.name, w, h, index, width, height)
        from realtime.output.virtualcam import letterbox  # the virtual camera's: one fit for both

        return letterbox(image, (width, height))

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

    @property
    def frames_in_file(self) -> int | None:
        """Frames the finished file holds; None while writing or when finishing failed."""
        return self.frames_written if self.complete else None

    def close(self) -> None:
        with self._lock:
            if self._container is None:
                return
            container, self._container = self._container, None
            if self._stream is None:  # nothing was ever written: leave no empty file behind
                with contextlib.suppress(av.error.FFmpegError):
                    container.close()
                self._file.discard()
                return
            try:
                for packet in self._stream.encode(None):
                    container.mux(packet)
                if self._audio is not None:
                    self._audio.finish(container)
                container.close()
                self.complete = True
            except (av.error.FFmpegError, OSError) as error:
                with contextlib.suppress(av.error.FFmpegError, OSError):
                    container.close()
                raise OutputError(f"cannot finish video {self.path}: {error} (the file is kept: it "
                                  "plays up to its last complete second)") from None
            finally:
                if self._audio is not None:
                    self._audio.close()
                # Finished or not, what was written goes under the name the user asked for.
                self._file.commit()


class _AudioCopy:
    """The input file's first sound track, re-encoded to AAC in step with the video frames.

    Re-encoding (not copying packets) accepts any input codec (PCM in MOV, Opus in WebM...) and
    lets the sound start and stop exactly where the recorded frames do."""

    def __init__(self, source: av.container.InputContainer) -> None:
        self._source = source
        self._input = source.streams.audio[0]
        self._frames = source.decode(self._input)
        self._stream: AudioStream | None = None
        self._start_s: float | None = None  # media time of the first recorded frame
        self._until_s = -1.0
        self._pending: av.AudioFrame | None = None
        self._samples = 0
        self._broken = False

    @classmethod
    def open(cls, source_path: str | None, live: bool) -> _AudioCopy | None:
        if source_path is None:
            return None
        try:
            source = av.open(source_path)
        except (av.error.FFmpegError, OSError):
            return None
        if not source.streams.audio:
            source.close()
            return None
        if live:
            # No command-line flag here: the app runs live too, and its users have no flags.
            log.info("%s has sound, but a live run records the picture only: the sound is not "
                     "recorded (a run that is not live keeps it)", Path(source_path).name)
            source.close()
            return None
        return cls(source)

    def add_stream(self, container: OutputContainer) -> None:
        rate = self._input.codec_context.sample_rate or 48000
        channels = self._input.codec_context.channels or 2
        stream = container.add_stream("aac", rate=rate, layout="mono" if channels == 1 else "stereo")
        stream.bit_rate = 160_000
        self._stream = stream

    def copy_until(self, container, frame_s: float, until_s: float) -> None:
        """Encode the sound from the first recorded frame's time up to `until_s` (media time)."""
        if self._broken or self._stream is None:
            return
        if until_s < self._until_s:  # the input restarted (a loop): the sound track has ended
            self._broken = True
            return
        if self._start_s is None:
            self._start_s = frame_s
        self._until_s = until_s
        try:
            while True:
                frame = self._pending or next(self._frames, None)
                self._pending = None
                if frame is None:
                    self._broken = True  # the sound is shorter than the video: nothing more
                    return
                start = float(frame.time) if frame.time is not None else 0.0
                if start + frame.samples / frame.sample_rate <= self._start_s:
                    continue  # before the first recorded frame (a run that starts mid-file)
                if start >= until_s:
                    self._pending = frame
                    return
                self._encode(container, frame)
        except av.error.FFmpegError as error:
            log.warning("recording the sound stopped: %s", error)
            self._broken = True

    def _encode(self, container: OutputContainer, frame: av.AudioFrame) -> None:
        if self._stream is None:
            return
        frame.pts = self._samples
        frame.time_base = Fraction(1, frame.sample_rate)
        self._samples += frame.samples
        for packet in self._stream.encode(frame):
            container.mux(packet)

    def finish(self, container) -> None:
        if self._stream is None:
            return
        for packet in self._stream.encode(None):
            container.mux(packet)

    def close(self) -> None:
        with contextlib.suppress(av.error.FFmpegError):
            self._source.close()
