"""The detect stage: landmarks for every face, then tracking and smoothing."""

from __future__ import annotations

from realtime.faces import create_detector
from realtime.faces.tracking import FaceTracker
from realtime.frame import Frame
from realtime.settings import Settings


class DetectStage:
    name = "detect"

    def __init__(self, settings: Settings) -> None:
        self.detector = create_detector(settings, static=False)
        # Animate mode: the driver's expression is the output, so fast expressions open the smoothing.
        self.tracker = FaceTracker(settings.faces, expressions=settings.mode == "animate")
        self.min_face_size = settings.faces.min_face_size

    def configure(self, settings: Settings) -> None:
        self.detector.configure(settings)
        self.tracker.configure(settings.faces)
        self.tracker.set_expressions(settings.mode == "animate")
        self.min_face_size = settings.faces.min_face_size

    def process(self, frame: Frame) -> Frame:
        faces = self.detector.detect(frame.image)
        if self.min_face_size > 0:
            smallest = self.min_face_size * min(frame.width, frame.height)
            faces = [f for f in faces if max(f.box[2] - f.box[0], f.box[3] - f.box[1]) >= smallest]
        # Media time for files (deterministic), capture time for cameras.
        time_s = frame.pts if frame.pts is not None else frame.capture_ns / 1e9
        frame.faces = self.tracker.update(faces, time_s, frame.width, frame.height)
        return frame

    def close(self) -> None:
        self.detector.close()
