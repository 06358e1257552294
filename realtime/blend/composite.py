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


def poisson_composite(canvas: np.ndarray, layer: FaceLayer, image: np.ndarray, opacity: float = 1.0) -> None:
    """Like `composite`, but the new face is first Poisson-blended (cv2.seamlessClone) into the
    face crop, so its gradients join the target's without a visible seam in hard light.

    seamlessClone costs the size of its destination: it gets the face box plus a small margin,
    never the frame. The feathered alpha is still applied afterwards, so the eye and mouth holes
    keep showing the target."""
    x0, y0, x1, y1 = layer.box
    height, width = canvas.shape[:2]
    margin = 4
    cx0, cy0 = max(0, x0 - margin), max(0, y0 - margin)
    cx1, cy1 = min(width, x1 + margin), min(height, y1 + margin)
    crop = canvas[cy0:cy1, cx0:cx1]
    source = crop.copy()
    source[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0] = image
    mask = np.zeros(crop.shape[:2], dtype=np.uint8)
    mask[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0] = (layer.alpha > 0.02).astype(np.uint8) * 255
    # seamlessClone needs the mask away from the destination's border.
    mask[:1, :] = 0
    mask[-1:, :] = 0
    mask[:, :1] = 0
    mask[:, -1:] = 0
    bx, by, bw, bh = cv2.boundingRect(mask)
    if bw < 3 or bh < 3:
        composite(canvas, layer, image, opacity)
        return
    # seamlessClone places the centre of the mask's bounding box at `center`: this one keeps
    # the face where it is.
    center = (bx + bw // 2, by + bh // 2)
    blended = cv2.seamlessClone(source, np.ascontiguousarray(crop), mask, center, cv2.NORMAL_CLONE)
    composite(canvas, layer, blended[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0], opacity)
