"""A smooth fill of a region from the pixels around it (push-pull), for the clean texture.

OpenCV's Telea inpainting, run at reduced resolution and enlarged, left streaks and blocky
patches with straight edges inside a large occluded region (s42's hair at the temple, s10's
shadowed far cheek), and its values did not meet the kept pixels exactly at the border, so the
fill's outline showed as a curved step. A push-pull pyramid (Gortler et al., "The Lumigraph",
SIGGRAPH 1996, section 3.3: pull = premultiplied image and weights reduced level by level; push =
each level's gaps taken from the enlarged coarser level) gives the smoothest membrane the known
pixels allow: it equals their local average at the border and varies slowly inside, with no
streak or block at any scale (each enlargement is cv2.pyrUp's smooth 5-tap filter).
"""

from __future__ import annotations

import cv2
import numpy as np

# A level's own estimate is trusted fully once its reduced weight reaches this (the fraction of
# the level's pixel that came from known pixels); below it, it blends towards the coarser level.
_CONFIDENT = 0.25


def push_pull_fill(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """float32 (h, w, c): `image` where `known` (uint8/bool, (h, w)) is set, and a smooth
    membrane from the known pixels everywhere else. Nothing known: the image as float."""
    values = image.astype(np.float32)
    if values.ndim == 2:
        values = values[..., None]
    weight = (known > 0).astype(np.float32)
    if not weight.any():
        return values.copy()
    # Pull: premultiplied colour and weight, halved until the picture is a few pixels across.
    levels: list[tuple[np.ndarray, np.ndarray]] = []
    colour, mass = values * weight[..., None], weight
    while True:
        levels.append((colour, mass))
        if min(mass.shape[:2]) <= 4:
            break
        colour = cv2.pyrDown(colour)
        mass = cv2.pyrDown(mass)
        if colour.ndim == 2:
            colour = colour[..., None]
    # Push: from the coarsest level down, each level's own average where it has enough weight,
    # the enlarged coarser result where it has little.
    filled: np.ndarray | None = None
    for colour, mass in reversed(levels):
        own = colour / np.maximum(mass, 1e-6)[..., None]
        if filled is None:
            average = colour.reshape(-1, colour.shape[-1]).sum(0) / max(float(mass.sum()), 1e-6)
            filled = np.where(mass[..., None] > 1e-6, own, average).astype(np.float32, copy=False)
            continue
        up = cv2.pyrUp(filled, dstsize=(mass.shape[1], mass.shape[0]))
        if up.ndim == 2:
            up = up[..., None]
        trust = np.clip(mass / _CONFIDENT, 0.0, 1.0)[..., None]
        filled = (up + trust * (own - up)).astype(np.float32, copy=False)
    assert filled is not None
    # The known pixels stay exactly as they were.
    return np.where(weight[..., None] > 0, values, filled)
