"""The face the user wants to wear (swap) or animate: loaded once, detected once."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from realtime.capture.builtin import builtin_source_path
from realtime.capture.image import read_picture
from realtime.errors import NoFaceError
from realtime.faces import Detector, create_detector
from realtime.frame import Face
from realtime.settings import FaceSettings

log = logging.getLogger(__name__)

# A target face this many times larger than the source face shows the source enlarged: soft.
SMALL_SOURCE_RATIO = 2.5


@dataclass(frozen=True)
class SourceFace:
    """A photo or portrait and its most prominent face."""

    path: str
    image: np.ndarray
    face: Face
    faces: tuple[Face, ...]
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    """Things derived once from this photo (the clean texture), shared by whoever uses it."""

    @property
    def name(self) -> str:
        return Path(self.path).name

    def choose(self, index: int) -> SourceFace:
        """This photo with its `index`-th largest face as the face to wear (0: the largest).
        An index past the faces found keeps the largest and says so."""
        if index <= 0 or not self.faces:
            return self
        if index >= len(self.faces):
            log.warning("source_face=%d asked, but %s has %d face(s): wearing the largest", index,
                        self.name, len(self.faces))
            return self
        return replace(self, face=self.faces[index], memo={})


def source_warnings(source: SourceFace, index: int = 0) -> list[str]:
    """One sentence per thing about the source photo that will show in the swap."""
    notes = []
    if len(source.faces) > 1 and index == 0:
        sizes = ", ".join(f"{face.size:.0f}" for face in source.faces)
        notes.append(f"{source.name} has {len(source.faces)} faces (sizes {sizes} px): wearing the "
                     "largest; the source_face setting chooses another (1 = the next largest)")
    x0, y0, x1, y1 = source.face.box
    crop = source.image[y0:y1, x0:x1]
    if crop.size:
        import cv2

        hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
        saturation, value = float(np.median(hsv[..., 1])), float(np.median(hsv[..., 2]))
        if saturation < 18:
            notes.append(f"the face in {source.name} is greyscale or nearly (median saturation "
                         f"{saturation:.0f}/255): the swap will take the target's skin colour, "
                         "not the photo's; a colour photo works better")
        if value < 60:
            notes.append(f"the face in {source.name} is very dark (median brightness {value:.0f}/255): "
                         "its features will be hard to see once relit; a brighter photo works better")
    return notes


def small_source_warning(source: SourceFace, target_size: float) -> str | None:
    """A sentence when the target face is much larger than the source face (the swap will be
    an enlargement and look soft), else None."""
    if target_size < SMALL_SOURCE_RATIO * source.face.size:
        return None
    return (f"the face in {source.name} is {source.face.size:.0f} px across but the face it covers "
            f"is {target_size:.0f} px: it is enlarged {target_size / source.face.size:.1f}x and will "
            f"look soft; a photo with the face at least {target_size / 1.5:.0f} px across works better")


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
