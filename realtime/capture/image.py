"""Still pictures: reading them safely, and a source that shows one picture."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from realtime.capture import Captured
from realtime.errors import InputError
from realtime.settings import CaptureSettings


def read_picture(path: str | Path, what: str = "picture") -> np.ndarray:
    """A BGR uint8 picture from a file; InputError naming the file when it cannot be read.

    np.fromfile + imdecode instead of imread: imread cannot open non-ASCII paths on Windows
    and says nothing about why a file failed.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"{what} not found: {path}")
    if path.is_dir():
        raise InputError(f"{what} is a folder, not a picture: {path}")
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise InputError(f"cannot read {what} {path}: {error.strerror or error}") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise InputError(f"{what} {path} is not a picture facecam can read (JPEG, PNG, BMP, WebP, TIFF)")
    return image


def fit_size(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Resize to (width, height) when a size is asked for and differs."""
    if size is None or (image.shape[1], image.shape[0]) == tuple(size):
        return image
    return cv2.resize(image, tuple(size), interpolation=cv2.INTER_AREA)


class ImageSource:
    """One still picture. As a file input it is one frame; looped (live) it repeats at fps."""

    live = False

    def __init__(self, path: str | Path, settings: CaptureSettings) -> None:
        self.name = Path(path).name
        self.image = fit_size(read_picture(path, what="input picture"), settings.size)
        self.fps = float(settings.fps or 30.0)
        self.size = (self.image.shape[1], self.image.shape[0])
        self.loop = settings.loop or bool(settings.live)
        self.frame_count = None if self.loop else 1
        self._served = 0

    def read(self) -> Captured | None:
        if not self.loop and self._served >= 1:
            return None
        self._served += 1
        return Captured(self.image, pts=(self._served - 1) / self.fps)

    def close(self) -> None:
        pass
