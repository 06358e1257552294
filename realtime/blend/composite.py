"""Alpha compositing of a face layer into the frame, inside the face box only."""

from __future__ import annotations

import cv2
import numpy as np

from realtime.frame import FaceLayer


def composite(canvas: np.ndarray, layer: FaceLayer, image: np.ndarray, opacity: float = 1.0) -> None:
    """Blend `image` (the layer's picture, perhaps recoloured) into `canvas` over layer.box,
    in place, weighted by the layer's alpha times opacity."""
    x0, y0, x1, y1 = layer.box
    region = canvas[y0:y1, x0:x1]
    weight = layer.alpha if opacity >= 1.0 else layer.alpha * np.float32(opacity)
    region[:] = cv2.blendLinear(image, region, weight, 1.0 - weight)
