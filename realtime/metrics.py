"""Latency, throughput, drops and errors, collected from every stage thread.

Times are recorded in milliseconds into bounded series (the newest `window` samples), so a
session that runs for hours keeps a flat memory footprint; a benchmark that needs every sample
raises `window`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from realtime.frame import Frame


@dataclass(frozen=True)
class Percentiles:
    count: int = 0
    mean: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0

    @classmethod
    def of(cls, samples: list[float] | np.ndarray) -> Percentiles:
        values = np.asarray(samples, dtype=np.float64)
        if values.size == 0:
            return cls()
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        return cls(int(values.size), float(values.mean()), float(p50), float(p95), float(p99),
                   float(values.max()))

    def as_dict(self) -> dict[str, float]:
        return {"count": self.count, "mean": self.mean, "p50": self.p50, "p95": self.p95,
                "p99": self.p99, "max": self.max}


@dataclass(frozen=True)
class Stats:
    """A snapshot of the pipeline's health."""

    frames_in: int = 0
    frames_out: int = 0
    fps: float = 0.0
    """Output frames per second over the last couple of seconds."""
    average_fps: float = 0.0
    """Output frames per second since the first output frame."""
    end_to_end: Percentiles = field(default_factory=Percentiles)
    stages: dict[str, Percentiles] = field(default_factory=dict)
    drops: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    faces: int = 0
    """Faces in the newest output frame."""
    frames_with_faces: int = 0
    """Output frames in which a face was found (detected in that frame, not only held)."""
    input_fps: float = 0.0
    """Frames per second the source really delivers."""
    notes: tuple[str, ...] = ()
    """Things the user should know (provider in use, camera rate lower than asked...)."""

    @property
    def dropped(self) -> int:
        return sum(self.drops.values())

    def as_dict(self) -> dict:
        return {
            "frames_in": self.frames_in,
            "frames_out": self.frames_out,
            "fps": self.fps,
            "average_fps": self.average_fps,
            "input_fps": self.input_fps,
            "end_to_end_ms": self.end_to_end.as_dict(),
            "stages_ms": {name: p.as_dict() for name, p in self.stages.items()},
            "drops": dict(self.drops),
            "errors": dict(self.errors),
            "faces": self.faces,
            "frames_with_faces": self.frames_with_faces,
            "notes": list(self.notes),
        }

    def summary(self, live: bool = True, faces: bool = True) -> str:
        """A few human lines for the end of a run. In file mode frames wait in queues for the
        slowest stage, so capture-to-output time is queueing, not the latency a live run has."""
        e2e = f"p50 {self.end_to_end.p50:.1f} ms, p95 {self.end_to_end.p95:.1f} ms"
        lines = [
            f"frames: {self.frames_out} out of {self.frames_in} captured, "
            f"{self.average_fps:.1f} FPS, dropped {self.dropped}",
            f"end-to-end latency: {e2e}" if live else
            f"time from capture to output (file mode: mostly queueing behind the slowest stage, "
            f"not live latency): {e2e}",
        ]
        if self.stages:
            parts = [f"{name} {p.p50:.1f}/{p.p95:.1f}" for name, p in self.stages.items()]
            lines.append("per stage p50/p95 ms: " + ", ".join(parts))
        if faces and self.frames_out:
            lines.append(f"faces found in {self.frames_with_faces} of {self.frames_out} frames")
        if self.errors:
            lines.append("errors: " + ", ".join(f"{k} x{v}" for k, v in self.errors.items()))
        lines.extend(self.notes)
        return "\n".join(lines)


class Metrics:
    """Thread-safe collector; each stage thread records into it, anyone may take a snapshot."""

    def __init__(self, window: int = 2000, fps_window_s: float = 2.0) -> None:
        self._lock = threading.Lock()
        self._window = window
        self._fps_window_ns = int(fps_window_s * 1e9)
        self._stages: dict[str, deque[float]] = {}
        self._end_to_end: deque[float] = deque(maxlen=window)
        self._out_times: deque[int] = deque()
        self._in_times: deque[int] = deque()
        self._drops: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._notes: dict[str, str] = {}
        self._frames_in = 0
        self._frames_out = 0
        self._first_out_ns: int | None = None
        self._last_out_ns: int | None = None
        self._faces = 0
        self._frames_with_faces = 0

    def frame_in(self, now_ns: int | None = None) -> None:
        now_ns = time.monotonic_ns() if now_ns is None else now_ns
        with self._lock:
            self._frames_in += 1
            self._push_time(self._in_times, now_ns)

    def stage(self, name: str, elapsed_ms: float) -> None:
        with self._lock:
            series = self._stages.get(name)
            if series is None:
                series = self._stages[name] = deque(maxlen=self._window)
            series.append(elapsed_ms)

    def frame_out(self, frame: Frame, now_ns: int | None = None) -> None:
        """A frame reached the outputs: record its end-to-end latency.

        Stage times are recorded by each stage as it runs (`stage`), so frames that were
        dropped later still count towards the cost of the stages they went through."""
        now_ns = time.monotonic_ns() if now_ns is None else now_ns
        with self._lock:
            if not frame.placeholder:
                self._end_to_end.append((now_ns - frame.capture_ns) / 1e6)
            self._frames_out += 1
            self._faces = len(frame.faces)
            if any(not face.held for face in frame.faces):
                self._frames_with_faces += 1
            if self._first_out_ns is None:
                self._first_out_ns = now_ns
            self._last_out_ns = now_ns
            self._push_time(self._out_times, now_ns)

    def drop(self, where: str, count: int = 1) -> None:
        with self._lock:
            self._drops[where] += count

    def error(self, where: str, error: BaseException) -> bool:
        """Count an error; True the first time this kind is seen here (log it then)."""
        key = f"{where}: {type(error).__name__}"
        with self._lock:
            first = key not in self._errors
            self._errors[key] += 1
        return first

    def note(self, key: str, text: str | None) -> None:
        """Set (or clear, with None) a line the user should see in the stats."""
        with self._lock:
            if text is None:
                self._notes.pop(key, None)
            else:
                self._notes[key] = text

    def snapshot(self) -> Stats:
        now = time.monotonic_ns()
        with self._lock:
            fps = self._rate(self._out_times, now)
            input_fps = self._rate(self._in_times, now)
            average = 0.0
            if self._first_out_ns is not None and self._last_out_ns is not None and self._frames_out > 1:
                span = (self._last_out_ns - self._first_out_ns) / 1e9
                average = (self._frames_out - 1) / span if span > 0 else 0.0
            stages = {name: list(series) for name, series in self._stages.items()}
            end_to_end = list(self._end_to_end)
            stats: dict[str, Any] = dict(
                frames_in=self._frames_in, frames_out=self._frames_out, fps=fps,
                average_fps=average, drops=dict(self._drops), errors=dict(self._errors),
                faces=self._faces, frames_with_faces=self._frames_with_faces, input_fps=input_fps,
                notes=tuple(self._notes.values()),
            )
        # Percentiles outside the lock: stage threads never wait on a snapshot.
        return Stats(end_to_end=Percentiles.of(end_to_end),
                     stages={name: Percentiles.of(s) for name, s in stages.items()}, **stats)

    def _push_time(self, times: deque[int], now_ns: int) -> None:
        times.append(now_ns)
        horizon = now_ns - self._fps_window_ns
        while times and times[0] < horizon:
            times.popleft()

    def _rate(self, times: deque[int], now_ns: int) -> float:
        horizon = now_ns - self._fps_window_ns
        recent = [t for t in times if t >= horizon]
        if len(recent) < 2:
            return 0.0
        span = (recent[-1] - recent[0]) / 1e9
        return (len(recent) - 1) / span if span > 0 else 0.0
