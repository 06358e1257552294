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


def poisson_composite(canvas: np.ndarray, layer: FaceLayer, image: np.ndarray, opacity: float = 1.0,
                      work_size: int = 160) -> None:
    """Like `composite`, but the new face is first Poisson-blended into the face crop, so its
    gradients join the target's without a visible seam in hard light.

    Poisson blending adds to the pasted face a smooth membrane (the harmonic function that
    matches the target along the mask's border). Smooth, so it is solved (cv2.seamlessClone)
    on the crop shrunk to about `work_size` pixels and upsampled: a full-size solve costs
    about 40x more (180 ms on a 720p face) for the same picture. The feathered alpha is still
    applied afterwards, so the eye and mouth holes keep showing the target."""
    x0, y0, x1, y1 = layer.box
    height, width = y1 - y0, x1 - x0
    scale = min(1.0, work_size / max(height, width))
    small = (max(8, round(width * scale)), max(8, round(height * scale)))
    margin = 2
    target = canvas[y0:y1, x0:x1]
    source_small = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
    target_small = cv2.resize(target, small, interpolation=cv2.INTER_AREA)
    # seamlessClone needs the mask away from the destination's border: pad both pictures.
    pad = ((margin, margin), (margin, margin), (0, 0))
    source_padded = np.pad(source_small, pad, mode="edge")
    target_padded = np.pad(target_small, pad, mode="edge")
    mask = np.zeros(source_padded.shape[:2], dtype=np.uint8)
    alpha_small = cv2.resize(layer.alpha, small, interpolation=cv2.INTER_AREA)
    mask[margin:-margin, margin:-margin] = (alpha_small > 0.02).astype(np.uint8) * 255
    bx, by, bw, bh = cv2.boundingRect(mask)
    if bw < 3 or bh < 3:
        composite(canvas, layer, image, opacity)
        return
    # seamlessClone places the centre of the mask's bounding box at `center`: this one keeps
    # the face where it is.
    center = (bx + bw // 2, by + bh // 2)
    blended = cv2.seamlessClone(source_padded, target_padded, mask, center, cv2.NORMAL_CLONE)
    membrane = (blended.astype(np.float32) - source_padded.astype(np.float32))[margin:-margin, margin:-margin]
    membrane = cv2.resize(membrane, (width, height), interpolation=cv2.INTER_LINEAR)
    corrected = np.clip(image.astype(np.float32) + membrane, 0, 255).astype(np.uint8)
    composite(canvas, layer, corrected, opacity)


def shrink(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`picture` resized down to `size` (w, h) for a huge face's working resolution. Bilinear
    down to half size (it then averages 2x2 neighbours: no aliasing to speak of, at a fifth of
    INTER_AREA's cost for a non-integer factor); pixel-area averaging below that."""
    factor = size[0] / picture.shape[1]
    interpolation = cv2.INTER_LINEAR if factor >= 0.5 else cv2.INTER_AREA
    return cv2.resize(picture, size, interpolation=interpolation)
