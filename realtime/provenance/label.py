"""The visible mark: a small "AI-altered" label, rendered once per picture size and alpha-blended
into a corner (a few hundred microseconds at 720p: only the label's box is touched)."""

from __future__ import annotations

import cv2
import numpy as np

CORNERS = ("bottom-right", "bottom-left", "top-right", "top-left")
DEFAULT_TEXT = "AI-altered"


class Label:
    def __init__(self, text: str = DEFAULT_TEXT, corner: str = "bottom-right") -> None:
        if corner not in CORNERS:
            raise ValueError(f"corner must be one of {', '.join(CORNERS)}")
        self.text = text
        self.corner = corner
        self._cache: dict[tuple[int, int], tuple[tuple[int, int], np.ndarray, np.ndarray]] = {}

    def _render(self, width: int, height: int) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
        """(x, y) of the box, its BGR pixels (float32) and alpha (float32, h x w x 1)."""
        # Text height about 2.5% of the picture height, never below legibility.
        scale = max(0.35, height / 1100)
        thickness = max(1, round(scale * 1.6))
        (text_w, text_h), baseline = cv2.getTextSize(self.text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        pad = max(3, round(text_h * 0.45))
        box_w = min(width, text_w + 2 * pad)
        box_h = min(height, text_h + baseline + 2 * pad)
        colour = np.zeros((box_h, box_w, 3), np.uint8)
        ink = np.zeros((box_h, box_w), np.uint8)
        cv2.putText(ink, self.text, (pad, pad + text_h), cv2.FONT_HERSHEY_SIMPLEX, scale, 255,
                    thickness, cv2.LINE_AA)
        colour[:] = 255
        # A translucent dark plate under white text: readable on any background, unobtrusive.
        alpha = np.maximum(ink.astype(np.float32) / 255.0, 0.45)[:, :, None]
        colour = (colour.astype(np.float32) * (ink.astype(np.float32) / 255.0)[:, :, None])
        margin = max(4, round(height * 0.015))
        x = margin if self.corner.endswith("left") else width - box_w - margin
        y = margin if self.corner.startswith("top") else height - box_h - margin
        x, y = max(0, x), max(0, y)
        return (x, y), colour * alpha, 1.0 - alpha

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x, y, w, h) of the label in a width x height picture (the overlay keeps it opaque)."""
        (x, y), _, keep = self._placed(width, height)
        return x, y, int(keep.shape[1]), int(keep.shape[0])

    def _placed(self, width: int, height: int) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
        placed = self._cache.get((width, height))
        if placed is None:
            if len(self._cache) >= 4:
                self._cache.clear()
            placed = self._cache[(width, height)] = self._render(width, height)
        return placed

    def apply(self, picture: np.ndarray, inplace: bool = False) -> np.ndarray:
        """The BGR picture with the label in its corner (a copy unless `inplace`)."""
        height, width = picture.shape[:2]
        (x, y), premultiplied, keep = self._placed(width, height)
        box_h, box_w = keep.shape[:2]
        out = picture if inplace else picture.copy()
        region = out[y:y + box_h, x:x + box_w, :3]
        if out.ndim == 3 and out.shape[2] == 4:  # BGRA: the label itself is opaque enough to read
            out[y:y + box_h, x:x + box_w, 3] = np.maximum(out[y:y + box_h, x:x + box_w, 3], 200)
        blended = region.astype(np.float32) * keep + premultiplied
        region[:] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return out
