"""The brow/lid band's and the camera grain's arithmetic done in fewer passes (issue 13's budget,
benchmarks/results/s34-lumacost), the same numbers.

feature_band and camera_detail rounded a float32 product to int16 with np.rint(...).astype(int16)
(a float copy and two more passes over the part); they now let OpenCV's multiply or subtract
round it in its own pass (dtype=CV_16S). edge_gain took its per-pixel differences over the whole
part and read them on its measuring grid; it now takes them on the grid only. Both must give the
same numbers bit for bit: a level rounded the other way at a tie is a speck in the brows' grain
that a later OpenCV (a rounding mode, a fused multiply-add) could bring in unseen.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.blend.detail import DETAIL_LIMIT, EDGE_GAIN_MAX, EDGE_WHERE, edge_gain
from realtime.blend.kernels import gaussian_u8


def test_opencv_rounds_a_float_product_to_int16_as_np_rint():
    rng = np.random.default_rng(7)
    # Ties (x.5, odd and even x), near-ties and ordinary values, negative and positive.
    ties = (np.arange(-40, 40) + 0.5).astype(np.float32)
    values = np.concatenate([ties, ties + np.float32(1e-4), ties - np.float32(1e-4),
                             rng.uniform(-60, 60, 4000).astype(np.float32)])
    weights = np.concatenate([np.ones(3 * len(ties), np.float32), rng.random(4000).astype(np.float32)])
    product = cv2.multiply(values, weights, dtype=cv2.CV_32F)
    assert np.array_equal(cv2.multiply(values, weights, dtype=cv2.CV_16S), np.rint(product).astype(np.int16))
    # An int16 band times a float32 weight (feature_band's limited band, camera_detail's kept band).
    band = rng.integers(-300, 300, 4000).astype(np.int16)
    shares = rng.random(4000).astype(np.float32)
    shares[::7] = 0.5
    reference = np.rint(cv2.multiply(band, shares, dtype=cv2.CV_32F)).astype(np.int16)
    assert np.array_equal(cv2.multiply(band, shares, dtype=cv2.CV_16S), reference)
    # A float32 difference rounded by the subtract itself (camera_detail's raised edges).
    other = (rng.integers(-20, 20, 4000) * 0.25).astype(np.float32)
    kept = cv2.multiply(band, shares, dtype=cv2.CV_32F)
    assert np.array_equal(cv2.subtract(kept, other, dtype=cv2.CV_16S),
                          np.rint(cv2.subtract(kept, other)).astype(np.int16))


def edge_gain_whole_part(target, target_fine, image, where, sigma, step, grain):
    """edge_gain as it was: the differences over the whole zone's part, read on the grid."""
    height, width = target.shape[:2]
    mask = (where > EDGE_WHERE).astype(np.uint8)
    bx, by, bw, bh = cv2.boundingRect(mask)
    pad = int(np.ceil(6 * sigma / step)) + 1
    gx0, gy0 = max(0, bx - pad), max(0, by - pad)
    gx1, gy1 = min(mask.shape[1], bx + bw + pad), min(mask.shape[0], by + bh + pad)
    mask = mask[gy0:gy1, gx0:gx1]
    ya, yb, xa, xb = gy0 * step, min(height, gy1 * step), gx0 * step, min(width, gx1 * step)
    image, target_fine = image[ya:yb, xa:xb], target_fine[ya:yb, xa:xb]
    grid = (slice(0, step * mask.shape[0], step), slice(0, step * mask.shape[1], step))
    low = gaussian_u8(image, sigma)
    coarse = cv2.subtract(low, gaussian_u8(low, sigma), dtype=cv2.CV_16S)
    own = cv2.subtract(cv2.subtract(image, low, dtype=cv2.CV_16S), coarse)
    limited = np.clip(target_fine, -grain, grain).astype(np.float32)
    base = cv2.add(coarse[grid], cv2.subtract(limited, cv2.GaussianBlur(limited, (0, 0), sigma))[grid],
                   dtype=cv2.CV_32F)
    own = own[grid].astype(np.float32)
    camera = np.clip(target_fine[grid], -DETAIL_LIMIT, DETAIL_LIMIT).astype(np.float32)
    wanted, present, offered, both = (cv2.mean(a * b, mask=mask)[0] for a, b in
                                      ((camera, camera), (base, base), (own, own), (base, own)))
    if offered <= 1e-4 or wanted <= present:
        return 0.0
    gain = (np.sqrt(both * both + offered * (wanted - present)) - both) / offered
    return float(np.clip(gain, 0.0, EDGE_GAIN_MAX))


@pytest.mark.parametrize("size, step, sigma", [((181, 263), 2, 1.3), ((96, 150), 1, 0.9), ((240, 317), 2, 2.1)])
def test_the_edge_gain_on_its_grid_is_the_whole_parts(size, step, sigma):
    """A crisp camera (sharp dark strokes and grain) over a soft face with faint strokes of its own:
    a gain well above 0, the same to the last bit as the whole part's differences give."""
    rng = np.random.default_rng(size[0])
    height, width = size
    camera = np.full(size, 150, np.uint8)
    face = np.full(size, 160, np.uint8)
    for row in range(20, height - 20, 9):
        cv2.line(camera, (15, row), (width - 15, row + 5), 60, 1)
        cv2.line(face, (15, row + 2), (width - 15, row + 6), 140, 2)
    camera = cv2.add(camera, rng.integers(0, 6, size).astype(np.uint8))
    face = gaussian_u8(face, 1.2)
    fine = cv2.subtract(camera, gaussian_u8(camera, sigma), dtype=cv2.CV_16S)
    where = np.zeros((-(-height // step), -(-width // step)), np.float32)
    where[where.shape[0] // 4:3 * where.shape[0] // 4, where.shape[1] // 5:4 * where.shape[1] // 5] = 0.9
    gain = edge_gain(camera, fine, face, where, sigma, step, 3.0)
    assert gain > 0.05
    assert gain == edge_gain_whole_part(camera, fine, face, where, sigma, step, 3.0)
    # ... and with the caller's blur of the face handed in (the blend stage's path).
    assert gain == edge_gain(camera, fine, face, where, sigma, step, 3.0, gaussian_u8(face, sigma))
