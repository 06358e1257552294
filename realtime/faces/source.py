"""The face the user wants to wear (swap) or animate: loaded once, detected once."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.capture.builtin import builtin_source_path
from realtime.capture.image import read_picture
from realtime.errors import NoFaceError
from realtime.faces import Detector, create_detector
from realtime.frame import Face
from realtime.settings import FaceSettings


@dataclass(frozen=True)
class SourceFace:
    """A photo or portrait and its most prominent face."""

    path: str
    image: np.ndarray
    face: Face
    faces: tuple[Face, ...]

    @property
    def name(self) -> str:
        return Path(self.path).name


class SourceLibrary:
    """Loads source photos on demand and keeps the ones already loaded.

    Owned by an Engine (not global). Loading runs MediaPipe on a still picture; the cache is
    keyed by path and modification time so an edited photo is picked up again.
    """

    def __init__(self, max_entries: int = 8) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, float], SourceFace] = {}
        self._detector: Detector | None = None
        self._max_entries = max_entries

    def get(self, path: str | None) -> SourceFace:
        """The source face for `path` (None: the built-in face). Raises InputError/NoFaceError."""
        path = str(path) if path else str(builtin_source_path())
        try:
            stamp = Path(path).stat().st_mtime
        except OSError:
            stamp = 0.0
        key = (path, stamp)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            image = read_picture(path, what="source photo")
            if self._detector is None:
                self._detector = create_detector(FaceSettings(max_faces=4, min_confidence=0.3),
                                                 static=True)
            faces = self._detector.detect(image)
            if not faces:
                raise NoFaceError(f"no face found in {path}; use a picture in which one face is "
                                  "clearly visible, facing the camera")
            faces.sort(key=lambda face: face.size, reverse=True)
            source = SourceFace(path=path, image=image, face=faces[0], faces=tuple(faces))
            if len(self._cache) >= self._max_entries:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = source
            return source

    def close(self) -> None:
        with self._lock:
            if self._detector is not None:
                self._detector.close()
                self._detector = None
            self._cache.clear()
