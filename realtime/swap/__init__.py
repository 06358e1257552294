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


def create_swapper(settings: Settings) -> Swapper:
    return registry.load("swapper", SWAPPERS, settings.swap.swapper)(settings)
