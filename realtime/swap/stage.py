"""The swap stage: choose the target faces, render the source face onto each."""

from __future__ import annotations

import logging

from realtime.faces.source import SourceFace, SourceLibrary, small_source_warning, source_warnings
from realtime.frame import Face, Frame
from realtime.settings import Settings, SwapSettings
from realtime.swap import Swapper, create_swapper
from realtime.swap.fallback import apply_lost_face_blur

log = logging.getLogger(__name__)


def select_faces(faces: list[Face], settings: SwapSettings, width: int, height: int) -> list[Face]:
    if not faces or settings.faces == "all":
        return faces
    if settings.faces == "largest":
        return [max(faces, key=lambda face: face.size)]
    target_x, target_y = settings.face_position[0] * width, settings.face_position[1] * height

    def distance(face: Face) -> float:
        x0, y0, x1, y1 = face.box
        return ((x0 + x1) / 2 - target_x) ** 2 + ((y0 + y1) / 2 - target_y) ** 2

    return [min(faces, key=distance)]


class SwapStage:
    name = "swap"

    def __init__(self, settings: Settings, sources: SourceLibrary) -> None:
        self.sources = sources
        self.swapper: Swapper = create_swapper(settings)
        self._source: SourceFace | None = None
        self._prepared: dict[str, Swapper] = {}
        self._source_key: tuple | None = None
        self._warned_small = False
        self.configure(settings)

    def prepare(self, settings: Settings) -> None:
        """Load the swapper `settings` name now (Engine.update, on its thread): one that cannot
        load raises FacecamError here, and the running one is untouched."""
        name = settings.swap.swapper
        if name != self.swapper.name:
            if name not in self._prepared:
                self._prepared[name] = create_swapper(settings)
        elif callable(getattr(self.swapper, "prepare", None)):  # new weights of the same swapper
            self.swapper.prepare(settings)

    def configure(self, settings: Settings) -> None:
        if settings.swap.swapper != self.swapper.name:
            self.swapper.close()
            self.swapper = self._prepared.pop(settings.swap.swapper, None) or create_swapper(settings)
            self._source = None
        self.swapper.configure(settings)
        photo = self.sources.get(settings.source)
        key = (id(photo), settings.swap.source_face)
        if key != self._source_key or self._source is None:
            source = photo.choose(settings.swap.source_face)
            for note in source_warnings(source, settings.swap.source_face):
                log.warning(note)
            self.swapper.set_source(source)
            self._source = source
            self._source_key = key
            self._warned_small = False
        self.settings = settings.swap
        self.face_settings = settings.faces

    def process(self, frame: Frame) -> Frame:
        faces = select_faces(frame.faces, self.settings, frame.width, frame.height)
        faces = apply_lost_face_blur(frame, faces, self.face_settings)  # lost_face = 'blur'
        frame.layers = self.swapper.swap(frame, faces)
        if faces and not self._warned_small and self._source is not None:
            warning = small_source_warning(self._source, max(face.size for face in faces))
            if warning:
                log.warning(warning)
            self._warned_small = True
        return frame

    def close(self) -> None:
        self.swapper.close()
        for swapper in self._prepared.values():
            swapper.close()
        self._prepared.clear()
