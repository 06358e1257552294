"""Colour transfer: make the rendered face take the target's colour (Reinhard et al. 2001,
statistics in CIE LAB), computed over the face itself so hair and background do not bias it."""

from __future__ import annotations

import cv2
import numpy as np


def lab_statistics(image: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation in 8-bit LAB over `region` (uint8 mask)."""
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    mean, std = cv2.meanStdDev(lab, mask=region)
    return mean.ravel(), np.maximum(std.ravel(), 1.0)


def transfer_matrix(source_stats: tuple[np.ndarray, np.ndarray],
                    target_stats: tuple[np.ndarray, np.ndarray], strength: float) -> np.ndarray:
    """3x4 per-channel affine map (LAB) taking the source statistics towards the target's.

    strength 0 leaves the colours as they are, 1 matches mean and spread fully. The spread
    ratio is clamped: a nearly flat region must not blow up the contrast.
    """
    source_mean, source_std = source_stats
    target_mean, target_std = target_stats
    ratio = np.clip(target_std / source_std, 0.4, 2.5)
    gain = 1.0 + strength * (ratio - 1.0)
    offset = strength * (target_mean - ratio * source_mean)
    matrix = np.zeros((3, 4), dtype=np.float32)
    matrix[np.arange(3), np.arange(3)] = gain
    matrix[:, 3] = offset
    return matrix


def apply_transfer(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    lab = cv2.transform(lab, matrix)  # saturates to uint8
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def match_colour(patch: np.ndarray, target: np.ndarray, region: np.ndarray, strength: float) -> np.ndarray:
    """`patch` recoloured so that, over `region`, its LAB statistics match `target`'s."""
    if strength <= 0 or cv2.countNonZero(region) < 16:
        return patch
    matrix = transfer_matrix(lab_statistics(patch, region), lab_statistics(target, region), strength)
    return apply_transfer(patch, matrix)
