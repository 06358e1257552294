"""Cheaper equivalents of OpenCV calls that the swap and blend make on every frame.

`cv2.GaussianBlur` on 8-bit pictures takes OpenCV's bit-exact fixed-point path, which is several
times slower than a plain separable filter with the same kernel (measured here, one thread: a
sigma-9 blur of a mouth's crop 2.2 ms vs 0.23 ms; a sigma-1.5 blur of a 613-px face box, three
channels, 1.8 vs 1.3 ms). The results differ by at most one grey level (rounding).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np


@lru_cache(maxsize=64)
def _kernel(sigma: float) -> np.ndarray:
    # The size cv2.GaussianBlur picks for 8-bit pictures with ksize (0, 0): 3 sigma each side.
    size = max(1, int(round(sigma * 6 + 1)) | 1)
    return cv2.getGaussianKernel(size, sigma, cv2.CV_32F)


def gaussian_u8(image: np.ndarray, sigma: float) -> np.ndarray:
    """cv2.GaussianBlur(image, (0, 0), sigma) for a uint8 picture (within one grey level), at the
    cost of a separable float filter; same border (reflect 101)."""
    kernel = _kernel(round(float(sigma), 4))
    return cv2.sepFilter2D(image, -1, kernel, kernel)


def as_grey(picture: np.ndarray) -> np.ndarray:
    """The luma of a BGR picture; a single-channel picture as it is (the blend stage hands the
    detail functions luma planes, tests and tools may hand them colour pictures)."""
    return picture if picture.ndim == 2 else cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)


def area_shrink(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """cv2.resize(picture, size, interpolation=cv2.INTER_AREA) for a reduction by a whole factor
    per axis (size = (w // f, h // f)), at a fraction of the cost: the picture is first cropped to
    f x size, so OpenCV takes its integer-factor path (a plain f x f box average) instead of the
    generic fractional one, which costs 3-10 times more when w or h is not a multiple of f
    (0.44 -> 0.04 ms halving a 385x476 face box; 0.34 -> 0.14 ms to a quarter). The last
    w - f * (w // f) < f columns (rows alike) are left out: the small pixel i averages pixels
    f i .. f i + f - 1, at most f - 1 pixels from where the fractional path put it (statistics,
    masks and smooth maps only)."""
    width, height = size
    fx, fy = picture.shape[1] // max(width, 1), picture.shape[0] // max(height, 1)
    if fx < 1 or fy < 1 or picture.shape[1] // fx != width or picture.shape[0] // fy != height:
        # Not a whole-factor reduction (a huge face's working-size mask to its box's grid).
        return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    picture = picture[:fy * height, :fx * width]
    if fx == fy == 4:
        # Two halvings (OpenCV's vectorised 2 x 2 path, a third of the time of its 4 x 4 one): the
        # same box average, rounded twice for 8-bit pictures (within a grey level).
        picture = cv2.resize(picture, (2 * width, 2 * height), interpolation=cv2.INTER_AREA)
    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


def wide_blur(picture: np.ndarray, sigma: float) -> np.ndarray:
    """cv2.GaussianBlur(picture, (0, 0), sigma) of a float or 8-bit picture for a wide sigma (over 8 px),
    computed at 1/f of the picture's size (f = sigma // 4: a box average, a blur of sigma / f,
    enlarged back by the same factor; the box adds f / sqrt(12) px in quadrature, under 2 % of
    sigma): a smooth field that cost 0.5 ms per blur at full size on a 600-px face's mouth."""
    factor = int(sigma // 4)
    height, width = picture.shape[:2]
    small = (width // max(factor, 1), height // max(factor, 1))
    if factor < 2 or min(small) < 4:
        return gaussian_u8(picture, sigma) if picture.dtype == np.uint8 else cv2.GaussianBlur(picture, (0, 0), sigma)
    shrunk = area_shrink(picture, small)
    blurred = gaussian_u8(shrunk, sigma / factor) if picture.dtype == np.uint8 else \
        cv2.GaussianBlur(shrunk, (0, 0), sigma / factor)
    # Pixel centres: small pixel i averages pixels f i .. f i + f - 1, so enlarging by exactly f
    # puts it back where it was; the last < f rows and columns take their neighbours' values.
    blurred = cv2.resize(blurred, (factor * small[0], factor * small[1]), interpolation=cv2.INTER_LINEAR)
    return cv2.copyMakeBorder(blurred, 0, height - blurred.shape[0], 0, width - blurred.shape[1], cv2.BORDER_REPLICATE)


def bounds(mask: np.ndarray, above: float = 0.0) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1): the rows and columns (end exclusive) holding `mask`'s pixels over `above`
    (a single-channel uint8 or float32 picture), or None where there is none. The same bounds as
    numpy's nonzero(mask.max(axis) > above) per axis, in one OpenCV compare and boundingRect
    instead of two reductions over the picture (issue 13, benchmarks/results/s29-swapcost). The
    threshold is the picture's own type's, as numpy compares a float32 picture with a float."""
    if mask.dtype == np.float32:
        above = float(np.float32(above))
    x, y, width, height = cv2.boundingRect(cv2.compare(mask, above, cv2.CMP_GT))
    if width == 0 or height == 0:
        return None
    return y, y + height, x, x + width
