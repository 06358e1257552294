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
        self._prepared: dict[str, Animator] = {}
        self.configure(settings)

    def prepare(self, settings: Settings) -> None:
        """Load the animator `settings` name now (Engine.update, on its thread): one that cannot
        load raises FacecamError here, and the running one is untouched."""
        name = settings.animate.animator
        if name != self.animator.name and name not in self._prepared:
            self._prepared[name] = create_animator(settings)

    def configure(self, settings: Settings) -> None:
        if settings.animate.animator != self.animator.name:
            self.animator.close()
            self.animator = self._prepared.pop(settings.animate.animator, None) or create_animator(settings)
            self._source = None
        source = self.sources.get(settings.source)
        if source is not self._source:
            self.animator.set_source(source)
            self._source = source
        self.animator.configure(settings)

    def settled(self) -> bool:
        """The animator's neutral reference is final (Animator.settled)."""
        return self.animator.settled()

    def process(self, frame: Frame) -> Frame:
        frame.output = self.animator.animate(frame, frame.faces)
        return frame

    def close(self) -> None:
        self.animator.close()
        for animator in self._prepared.values():
            animator.close()
        self._prepared.clear()
