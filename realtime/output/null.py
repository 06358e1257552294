"""An output that discards frames (benchmarks, tests, headless runs that only want stats)."""

from __future__ import annotations

from realtime.frame import Frame


class NullOutput:
    name = "null"
    live = False

    def __init__(self) -> None:
        self.frames = 0

    def write(self, frame: Frame) -> None:
        self.frames += 1

    def close(self) -> None:
        pass
