"""Long videos in chunks: cut at keyframes, each chunk processed with an overlap before it (so face
tracking and smoothing have run on when its first frame is written), then joined without
re-encoding.

A frame belongs to exactly one chunk, by its presentation time: chunk k writes the frames with
start_k <= pts < end_k and only processes, without writing, the overlap's frames before start_k. Every chunk file starts with a keyframe (the recorder's first frame), so the
joined video is the chunks' packets one after another, re-timed; the input's sound is copied
into it whole, and it is C2PA-signed once joined.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.audio.stream import AudioStream

from realtime.capture import Captured
from realtime.capture.video import VideoFileSource
from realtime.frame import Frame

log = logging.getLogger(__name__)

SETTLE_WAIT_S = 30.0
"""How long a chunk's source waits for the engine to draw a frame of the video's start."""


@dataclass(frozen=True)
class Chunk:
    number: int
    start: float
    """First presentation time written (seconds); -inf for the first chunk."""
    end: float
    """Presentation time where the next chunk starts; inf for the last."""
    read_from: float
    """The first frame that goes through the engine: `overlap` seconds before `start` (decoding
    starts at the keyframe before it; frames in between are decoded and dropped, which is cheap)."""


def keyframe_times(path: str | Path) -> tuple[list[float], float]:
    """Presentation times of the video's keyframes (demuxed, not decoded: fast) and its duration."""
    times: list[float] = []
    last = 0.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            moment = float(packet.pts * packet.time_base)
            last = max(last, moment)
            if packet.is_keyframe:
                times.append(moment)
    return sorted(set(times)), last


def plan_chunks(path: str | Path, chunk_seconds: float, overlap_seconds: float) -> list[Chunk]:
    """Chunks of about chunk_seconds cut at keyframes; one chunk when the video is short."""
    keyframes, duration = keyframe_times(path)
    if not keyframes or duration < 2 * chunk_seconds:
        return [Chunk(0, float("-inf"), float("inf"), float("-inf"))]
    cuts = [keyframes[0]]
    for moment in keyframes[1:]:
        if moment - cuts[-1] >= chunk_seconds and duration - moment >= chunk_seconds / 2:
            cuts.append(moment)
    chunks = []
    for number, start in enumerate(cuts):
        end = cuts[number + 1] if number + 1 < len(cuts) else float("inf")
        read_from = float("-inf") if number == 0 else max(keyframes[0], start - overlap_seconds)
        chunks.append(Chunk(number, float("-inf") if number == 0 else start, end, read_from))
    return chunks


class ChunkSource(VideoFileSource):
    """A video file read from a chunk's overlap keyframe to the end of the chunk.

    What a run takes from the video's first frames and keeps (animate: the driver's neutral
    reference, taken from its first face and settled over the next ones) is not in the overlap:
    until `settled(pts)` says it is final once the frame at pts is drawn, the source reads the
    video from its start (a prelude, never written: its frames are before the chunk's start),
    then seeks to the overlap. A chunk's engine so takes the reference one run takes; the overlap
    then runs tracking and smoothing on. The prelude goes frame by frame (each frame drawn before
    the next is read): read ahead, it ended wherever the reading stood when the reference
    settled, 13 to 24 frames, and a chunk's file changed from run to run (one frame 40.9 dB
    against one run, tests/test_batch_animate.py). `settled` is set by the worker once the engine
    exists (Engine.settled_after); None: no prelude."""

    def __init__(self, path: str | Path, settings, chunk: Chunk) -> None:
        self.chunk = chunk
        super().__init__(path, settings)
        self.name = f"{self.path.name} chunk {chunk.number}"
        self.settled: Callable[[float], bool | None] | None = None
        # Decided at the first read (the engine's stages exist by then); the first chunk needs none.
        self._prelude = chunk.read_from > float("-inf")
        self._read_to = float("-inf")  # the last prelude frame's presentation time
        self.prelude_frames = 0
        self.frame_count = None

    def _seek_to_overlap(self) -> None:
        stream = self._stream
        # A video stream always has a time base; 1/90000 (MPEG's clock) only satisfies the type.
        time_base = stream.time_base or Fraction(1, 90000)
        self._container.seek(int(self.chunk.read_from / time_base), stream=stream, backward=True)
        self._decoded.clear()
        self._pending = None

    def _settled(self) -> bool:
        """Waits until the engine has drawn the last prelude frame read, then says whether the
        reference is final (after SETTLE_WAIT_S: as it stands, with a warning)."""
        if self.settled is None:
            return True
        deadline = time.monotonic() + SETTLE_WAIT_S
        while (answer := self.settled(self._read_to)) is None:
            if time.monotonic() > deadline:
                log.warning("%s: the engine drew no frame of the video's start in %.0f s; the chunk "
                            "goes on from its overlap and may differ from one run", self.name, SETTLE_WAIT_S)
                return True
            time.sleep(0.001)
        return answer

    def read(self) -> Captured | None:
        while True:
            if self._prelude and self._settled():
                # The state is final (a frame or two later than the engine's reading, which only
                # reads a little more of the start): on to the overlap.
                self._prelude = False
                if self._read_to < self.chunk.read_from - 1e-6:
                    self._seek_to_overlap()
            captured = super().read()
            if captured is None:
                return None
            pts = captured.pts if captured.pts is not None else 0.0
            if self._prelude:
                if pts < self.chunk.read_from - 1e-6:
                    self._read_to = pts
                    self.prelude_frames += 1
                    return captured
                self._prelude = False  # the prelude ran into the overlap: read on, no seek
            if pts >= self.chunk.end - 1e-6:
                return None
            if pts >= self.chunk.read_from - 1e-6:
                return captured


class WrittenFrom:
    """An output that passes on only the frames of its chunk (the overlap is read, never written)."""

    def __init__(self, output, start: float) -> None:
        self.output = output
        self.start = start
        self.name = getattr(output, "name", "chunk")
        self.live = False
        self.written = 0

    def write(self, frame: Frame) -> None:
        pts = frame.pts if frame.pts is not None else 0.0
        if pts >= self.start - 1e-6:
            self.output.write(frame)
            self.written += 1

    def close(self) -> None:
        self.output.close()


def join(chunk_files: list[Path], source: Path, target: Path) -> int:
    """The chunks' video packets one after another into `target`, with the source's sound copied;
    returns the number of video packets written."""
    written = 0
    with av.open(str(target), "w") as output:
        with av.open(str(chunk_files[0])) as first:
            video_out = output.add_stream_from_template(first.streams.video[0])
        audio_in: AudioStream | None = None
        audio_out: AudioStream | None = None
        source_container = av.open(str(source))
        try:
            if source_container.streams.audio:
                audio_in = source_container.streams.audio[0]
                try:
                    audio_out = output.add_stream_from_template(audio_in)
                except (ValueError, av.error.FFmpegError) as error:
                    log.warning("%s: its sound cannot be copied into MP4 (%s); the joined file has none",
                                source.name, error)
                    audio_in = None
            offset = 0
            for path in chunk_files:
                with av.open(str(path)) as chunk:
                    stream = chunk.streams.video[0]
                    scale = Fraction(stream.time_base) / Fraction(video_out.time_base) \
                        if video_out.time_base and stream.time_base else Fraction(1)
                    last_end = offset
                    for packet in chunk.demux(stream):
                        if packet.dts is None and packet.pts is None:
                            continue
                        duration = packet.duration or 0
                        packet.pts = offset + int((packet.pts or 0) * scale)
                        packet.dts = offset + int((packet.dts if packet.dts is not None else 0) * scale)
                        packet.stream = video_out
                        output.mux(packet)
                        written += 1
                        last_end = max(last_end, packet.pts + int(duration * scale))
                    offset = last_end
            if audio_in is not None and audio_out is not None:
                for sound in source_container.demux(audio_in):
                    if sound.dts is None:
                        continue
                    sound.stream = audio_out
                    output.mux(sound)
        finally:
            source_container.close()
    return written
