"""Animate: a still portrait that moves with the face in front of the camera.

An `Animator` takes the driving frame and its faces and returns the animated portrait picture.
Implementations by name:
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from realtime import registry
from realtime.faces.source import SourceFace
from realtime.frame import Face, Frame
from realtime.settings import Settings

ANIMATORS = {
    "mesh": "realtime.animate.mesh:MeshAnimator",
    "liveportrait": "realtime.animate.liveportrait:LivePortraitAnimator",
}


class Animator(Protocol):
    name: str

    def configure(self, settings: Settings) -> None:
        """Apply settings; a changed `animate.calibration` means: take the next driving face as
        the neutral reference."""

    def set_source(self, source: SourceFace) -> None: ...

    def settled(self) -> bool:
        """True once the neutral reference taken from the first driving faces (of the run or
        after a calibration) is final: a batch chunk's engine reads the video's start until then
        (realtime/batch/chunks.py), so its portrait moves from the reference one run takes."""

    def animate(self, frame: Frame, faces: list[Face]) -> np.ndarray: ...

    def close(self) -> None: ...


def create_animator(settings: Settings) -> Animator:
    return registry.load("animator", ANIMATORS, settings.animate.animator)(settings)
