"""Five-point similarity alignment to the templates the neural models were trained on (ArcFace
for the swapper and recogniser, FFHQ for the enhancer), and the paste-back of an aligned crop
through the inverse transform."""

from __future__ import annotations

import cv2
import numpy as np

# ArcFace's 112x112 template: eyes (picture left first), nose tip, mouth corners.
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)

# FFHQ-aligned 512 template (GFPGAN, CodeFormer...), as fractions of the side.
FFHQ_UNIT = np.array([[0.37691676, 0.46864664], [0.62285697, 0.46912813], [0.50123859, 0.61331904],
                      [0.39308822, 0.72541100], [0.61150205, 0.72490465]], dtype=np.float64)


def arcface_template(size: int) -> np.ndarray:
    """The template for a `size` crop, as InsightFace computes it: multiples of 112 scale it,
    other sizes (128 for inswapper) scale by size/128 and shift x by 8*size/128."""
    if size % 112 == 0:
        ratio, shift = size / 112.0, 0.0
    else:
        ratio, shift = size / 128.0, 8.0 * size / 128.0
    template = ARCFACE_112 * ratio
    template[:, 0] += shift
    return template


def similarity_matrix(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """2x3 least-squares similarity (rotation, uniform scale, translation; no reflection)
    taking `source` points onto `target` points (Umeyama 1991)."""
    source = np.asarray(source, np.float64)
    target = np.asarray(target, np.float64)
    mean_s, mean_t = source.mean(axis=0), target.mean(axis=0)
    centred_s, centred_t = source - mean_s, target - mean_t
    covariance = centred_t.T @ centred_s / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    signs = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        signs[-1] = -1
    rotation = u @ np.diag(signs) @ vt
    variance = (centred_s ** 2).sum() / len(source)
    scale = float((singular * signs).sum() / variance) if variance > 0 else 1.0
    translation = mean_t - scale * rotation @ mean_s
    return np.hstack([scale * rotation, translation[:, None]]).astype(np.float32)


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2x3 affine map `outer ∘ inner` (apply inner first)."""
    full = np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]])
    return full[:2].astype(np.float32)


def align(image: np.ndarray, points: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The `size` x `size` ArcFace-aligned crop of `image` and its frame -> crop matrix."""
    matrix = similarity_matrix(points, arcface_template(size))
    # Bicubic both ways: a bilinear round trip alone blurs a face to ~30 dB PSNR, bicubic
    # keeps it near 37 dB at the swapper's scale (measured on the built-in face).
    crop = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)
    return crop, matrix


def paste_region(crop: np.ndarray, matrix: np.ndarray, box: tuple[int, int, int, int],
                 interpolation: int = cv2.INTER_CUBIC) -> np.ndarray:
    """`crop` (whose frame -> crop transform is `matrix`) drawn back into frame region `box`."""
    x0, y0, x1, y1 = box
    inverse = cv2.invertAffineTransform(matrix)
    inverse[:, 2] -= (x0, y0)
    return cv2.warpAffine(crop, inverse, (x1 - x0, y1 - y0), flags=interpolation,
                          borderMode=cv2.BORDER_REPLICATE)


def crop_coverage(size: int, matrix: np.ndarray, box: tuple[int, int, int, int],
                  margin: int = 6) -> np.ndarray:
    """(h, w) float32 over `box`: 1 where the aligned crop has real pixels, fading to 0 within
    `margin` crop pixels of its border (a soft seam where the crop cuts the forehead, and a
    replicated edge never shows)."""
    inside = np.zeros((size, size), np.float32)
    inside[margin:size - margin, margin:size - margin] = 1.0
    inside = cv2.GaussianBlur(inside, (0, 0), max(margin / 2, 0.5))
    return paste_region(inside, matrix, box, cv2.INTER_LINEAR)
