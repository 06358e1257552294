"""Picture file outputs.

- `photo.png` for an input of one picture: the frame is written when the run ends (a photo in,
  a photo out).
- `frames-%05d.png` (a printf-style number in the name, as in ffmpeg): one file per frame,
  numbered from 1, written as the frames arrive.
- `photo.png` for a video or a camera would keep one frame of many: refused, saying what to write
  instead.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import cv2
import numpy as np

from realtime.errors import OutputError
from realtime.frame import Frame
from realtime.output import OutputFormat
from realtime.output.paths import OutputFile

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"%0?\d*d")


def encode_picture(path: Path, picture: np.ndarray, into: Path | None = None) -> None:
    ok, data = cv2.imencode(path.suffix, picture)
    if not ok:
        raise OutputError(f"cannot encode a picture as {path.suffix}")
    try:
        data.tofile(into or path)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


class PictureOutput:
    live = False

    def __init__(self, path: Path, stream: OutputFormat | None = None, *, fresh: bool = False) -> None:
        path = Path(path)
        self.sequence = len(_NUMBER.findall(path.name)) == 1
        inputs = stream.inputs if stream is not None else ()
        if self.sequence:
            self._pattern = path
            self.path = path  # no single file: nothing to sign
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise OutputError(f"cannot create folder {path.parent}: {error.strerror or error}") from None
            self._file = None
        else:
            if stream is not None and stream.frame_count != 1:
                numbered = path.with_name(f"{path.stem}-%05d{path.suffix}")
                raise OutputError(f"{path.name} would keep only the last of many frames: write a video "
                                  f"(-o {path.with_suffix('.mp4')}) or a numbered sequence (-o {numbered})")
            self._file = OutputFile(path, inputs=inputs, fresh=fresh)
            self.path = self._file.path
        self.name = str(self.path)
        self.frames_written = 0
        self.complete = False
        self._latest: np.ndarray | None = None

    def write(self, frame: Frame) -> None:
        if self.sequence:
            self.frames_written += 1
            target = Path(str(self._pattern) % self.frames_written)
            encode_picture(target, frame.result)
        else:
            self._latest = frame.result

    def close(self) -> None:
        if self.sequence:
            self.complete = True
            return
        if self._file is None:
            return
        if self._latest is None:
            self._file.discard()
            self._file = None
            return
        try:
            encode_picture(self.path, self._latest, into=self._file.partial)
            self.frames_written = 1
            self.complete = True
        finally:
            self._file.commit() if self.complete else self._file.discard()
            self._file = None
            self._latest = None
