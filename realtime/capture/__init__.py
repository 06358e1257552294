"""Capture: where frames come from — a camera, a video file, a still picture, the demo clip.

Every source has the same small form (`Source`); `open_source` picks one from the `input`
setting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from realtime.errors import InputError
from realtime.settings import CaptureSettings

log = logging.getLogger(__name__)

PICTURE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass(frozen=True)
class Captured:
    """One picture from a source."""

    image: np.ndarray
    pts: float | None = None
    """Seconds since the start of the media (files), None for cameras."""
    placeholder: bool = False
    """Made up while the real source is unavailable (a camera reconnecting)."""


class Source(Protocol):
    name: str
    """What to call it in messages: 'camera 0', 'd9.mp4', 'demo clip'."""
    live: bool
    """True when the source runs in real time by itself (a camera): never paced, never waited on."""
    fps: float
    size: tuple[int, int]
    """(width, height) of the pictures it delivers."""
    frame_count: int | None
    """Frames in a file, None when unknown or endless."""

    def read(self) -> Captured | None:
        """The next picture, or None at the end."""

    def close(self) -> None: ...


def open_source(settings: CaptureSettings) -> Source:
    """The source named by settings.input. Raises InputError with a clear message."""
    spec = settings.input.strip()
    if spec == "auto":
        from realtime.capture.camera import camera_available, open_camera

        if camera_available(0):
            try:
                return open_camera(0, settings)
            except InputError as error:
                log.warning("%s; using the built-in demo clip instead (--input demo)", error)
        else:
            log.warning("no camera found; using the built-in demo clip (--input demo). "
                        "Pass --input 0 to insist on camera 0.")
        spec = "demo"
    if spec == "demo":
        from realtime.capture.demo import DemoSource

        return DemoSource(settings)
    if spec.isdigit():
        from realtime.capture.camera import open_camera

        return open_camera(int(spec), settings)
    path = Path(spec).expanduser()
    if not path.exists():
        raise InputError(f"input not found: {spec}")
    if path.is_dir():
        raise InputError(f"input is a folder, not a video or picture: {spec}")
    if path.suffix.lower() in PICTURE_SUFFIXES:
        from realtime.capture.image import ImageSource

        return ImageSource(path, settings)
    from realtime.capture.video import VideoFileSource

    return VideoFileSource(path, settings)
