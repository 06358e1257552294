"""The animate stage: the portrait, moved by the driving face."""

from __future__ import annotations

from realtime.animate import Animator, create_animator
from realtime.faces.source import SourceFace, SourceLibrary
from realtime.frame import Frame
from realtime.settings import Settings


class AnimateStage:
    name = "animate"

    def __init__(self, settings: Settings, sources: SourceLibrary) -> None:
        self.sources = sources
        self.animator: Animator = create_animator(settings)
        self._source: SourceFace | None = None
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        if settings.animate.animator != self.animator.name:
            self.animator.close()
            self.animator = create_animator(settings)
            self._source = None
        source = self.sources.get(settings.source)
        if source is not self._source:
            self.animator.set_source(source)
            self._source = source
        self.animator.configure(settings)

    def process(self, frame: Frame) -> Frame:
        frame.output = self.animator.animate(frame, frame.faces)
        return frame

    def close(self) -> None:
        self.animator.close()
