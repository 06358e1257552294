"""Faces: detection + landmarks, mesh topology, tracking and smoothing, alignment.

A `Detector` turns a picture into faces with 478 landmarks each; `DetectStage` runs it in the
pipeline with a `FaceTracker` after it.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from realtime import registry
from realtime.frame import Face
from realtime.settings import FaceSettings, Settings

DETECTORS = {
    "mediapipe": "realtime.faces.mediapipe_mesh:MediaPipeFaceMesh",
}


class Detector(Protocol):
    name: str

    def configure(self, settings: Settings) -> None:
        """Apply settings (the whole Settings, as every stage implementation takes them; the
        faces group alone is accepted too)."""

    def detect(self, image: np.ndarray) -> list[Face]: ...

    def close(self) -> None: ...


def create_detector(settings: Settings | FaceSettings, static: bool = False,
                    name: str = "mediapipe") -> Detector:
    """A detector; static=True for independent photos, False for video (tracks between frames)."""
    return registry.load("detector", DETECTORS, name)(settings, static=static)
