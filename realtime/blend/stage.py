"""The blend stage: colour-match each rendered face to the target and composite it."""

from __future__ import annotations

import numpy as np

from realtime.blend.color import match_colour
from realtime.blend.composite import composite
from realtime.frame import Frame
from realtime.settings import Settings


class BlendStage:
    name = "blend"

    def __init__(self, settings: Settings) -> None:
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        self.settings = settings.blend

    def process(self, frame: Frame) -> Frame:
        if not frame.layers:
            return frame
        canvas = (frame.output if frame.output is not None else frame.image).copy()
        for layer in frame.layers:
            x0, y0, x1, y1 = layer.box
            target = canvas[y0:y1, x0:x1]
            region = (layer.alpha > 0.5).astype(np.uint8)
            image = match_colour(layer.image, target, region, self.settings.color_transfer)
            composite(canvas, layer, image, self.settings.opacity)
        frame.output = canvas
        return frame

    def close(self) -> None:
        pass
