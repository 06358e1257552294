"""Swap: put the source face onto the faces in the frame.

A `Swapper` renders, for each target face, a `FaceLayer` (the new face and its mask in the face
box); the blend stage then matches colour and composites. Implementations by name:
"""

from __future__ import annotations

from typing import Protocol

from realtime import registry
from realtime.faces.source import SourceFace
from realtime.frame import Face, FaceLayer, Frame
from realtime.settings import Settings

SWAPPERS = {
    "mesh": "realtime.swap.mesh:MeshSwapper",
    "inswapper": "realtime.swap.inswapper:InswapperSwapper",
    "dfm": "realtime.swap.dfm:DFMSwapper",
}


class Swapper(Protocol):
    name: str

    def configure(self, settings: Settings) -> None: ...

    def set_source(self, source: SourceFace) -> None: ...

    def swap(self, frame: Frame, faces: list[Face]) -> list[FaceLayer]: ...

    def close(self) -> None: ...


def memory_seconds(settings: Settings) -> float:
    """How far back in media time the swap's state reaches: a frame's output depends on the video
    of this many seconds before it (tracking and smoothing settle far sooner). A long video cut into
    chunks (realtime/batch) reads each chunk from at least this long before its cut, so the joined
    file is the one a single run writes. The mesh swapper's face-shape transfer keeps each face's
    neutral shape as the mean of its last NEUTRAL_WINDOW_S seconds (realtime/swap/shape.py)."""
    if settings.mode == "swap" and settings.swap.swapper == "mesh" and settings.swap.face_shape > 0:
        from realtime.swap.shape import NEUTRAL_WINDOW_S

        return NEUTRAL_WINDOW_S
    return 0.0


def create_swapper(settings: Settings) -> Swapper:
    return registry.load("swapper", SWAPPERS, settings.swap.swapper)(settings)
