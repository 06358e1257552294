"""A picture file output: keeps the newest frame and writes it when the run ends (a photo in,
a photo out)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from realtime.errors import OutputError
from realtime.frame import Frame
from realtime.output import prepare_path


class PictureOutput:
    live = False

    def __init__(self, path: Path) -> None:
        self.path = prepare_path(Path(path))
        self.name = str(self.path)
        self._latest: np.ndarray | None = None

    def write(self, frame: Frame) -> None:
        self._latest = frame.result

    def close(self) -> None:
        if self._latest is None:
            return
        ok, data = cv2.imencode(self.path.suffix, self._latest)
        if not ok:
            raise OutputError(f"cannot encode a picture as {self.path.suffix}")
        try:
            data.tofile(self.path)
        except OSError as error:
            raise OutputError(f"cannot write {self.path}: {error.strerror or error}") from None
        self._latest = None
