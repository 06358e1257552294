"""Issue 13's budget, session 29 (benchmarks/results/s29-swapcost): the blend's luma chain and the
brow erase made for less, the same pixels.

- The half-size mask of where the new face shows (the layer's alpha averaged over 0.5) is made
  once per face and read by both the detail boost's measure and the crossover fill's
  (detail.half_shown); start: each made its own from the same alpha.
- Bounding rows and columns of a mask (the zone, the erase's weight, a hull) come from one
  cv2.compare + boundingRect (kernels.bounds) instead of two numpy reductions per mask.
- The finest-band match takes its band's difference on the grid it reads (every other pixel).

Each must leave the picture bit for bit: the written file's encoder re-decides wherever a pixel
changes (benchmarks/results/s23-cheaper), so a cut that moves a pixel is not a free cut.
"""

from __future__ import annotations

import copy

import cv2
import numpy as np
import pytest

import realtime.blend.stage as stage
from realtime.blend import detail, kernels
from tests.test_blend_luma_pass import chain_inputs  # noqa: F401 (the module's fixture: s42 on d13's frame 10)


def numpy_bounds(mask: np.ndarray, above: float) -> tuple[int, int, int, int] | None:
    """The bounds as start found them: nonzero(mask.max(axis) > above) per axis."""
    rows, cols = np.nonzero(mask.max(axis=1) > above)[0], np.nonzero(mask.max(axis=0) > above)[0]
    if not len(rows):
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


@pytest.mark.parametrize("dtype, above", [(np.uint8, 0), (np.uint8, 254), (np.float32, 0.0), (np.float32, 0.004)])
def test_the_bounds_of_a_mask_are_numpys(dtype, above):
    """Masks with a few blobs anywhere (also at the edges), values right at the threshold (a
    float32 zone compared with 0.004 as numpy compares it: in float32), and empty ones."""
    rng = np.random.default_rng(int(above * 1000) + np.dtype(dtype).itemsize)
    for trial in range(60):
        height, width = (int(v) for v in rng.integers(3, 90, size=2))
        mask = np.zeros((height, width), dtype)
        for _ in range(int(rng.integers(0, 3))):
            y, x = int(rng.integers(0, height)), int(rng.integers(0, width))
            h, w = int(rng.integers(1, 20)), int(rng.integers(1, 20))
            values = rng.integers(0, 256, (h, w)) if dtype == np.uint8 else rng.random((h, w)) * 0.01
            mask[y:y + h, x:x + w] = values[:height - y, :width - x].astype(dtype)
        if trial % 5 == 0 and mask.any():
            # A pixel exactly at the threshold (not above it) and one just above it.
            mask[mask > 0] = np.asarray(above, dtype)
            mask.flat[int(rng.integers(0, mask.size))] = np.nextafter(np.asarray(above, dtype), dtype(255))
        assert kernels.bounds(mask, above) == numpy_bounds(mask, above), trial
    assert kernels.bounds(np.zeros((7, 9), dtype), above) is None


def test_the_finest_band_on_its_read_grid_is_the_whole_pictures_band():
    """The difference of two 8-bit pictures taken on every other pixel is the int16 difference's
    every other pixel (no rounding to move: the clipped ends 0 and 255 included)."""
    rng = np.random.default_rng(29)
    picture = rng.integers(0, 256, (77, 90), dtype=np.uint8)
    picture[:6], picture[6:12] = 0, 255
    low = cv2.GaussianBlur(picture, (0, 0), 1.0)
    low[20:30] = 255 - picture[20:30]
    whole = cv2.subtract(picture, low, dtype=cv2.CV_16S)[::2, ::2].astype(np.float32)
    assert np.array_equal(np.subtract(picture[::2, ::2], low[::2, ::2], dtype=np.float32), whole)


def test_the_face_mask_at_half_size_is_made_once_and_the_chain_is_the_same(chain_inputs, monkeypatch):  # noqa: F811
    """On s42 under d13's frame 10: the layer's alpha is shrunk to half size once in the luma chain
    (start: twice, the detail boost's measure and the crossover fill's), and the chain's picture is
    the one each measure's own mask gives, bit for bit."""
    image, camera, layer, strength, grain_from = chain_inputs
    shrunk = []
    real_shrink = detail.area_shrink

    def counted(picture, size):
        if picture is layer.alpha or (picture.shape == layer.alpha.shape and np.array_equal(picture, layer.alpha)):
            shrunk.append(size)
        return real_shrink(picture, size)

    monkeypatch.setattr(detail, "area_shrink", counted)
    shared = stage.detail_on_luma(image, camera, copy.deepcopy(layer), strength, grain_from)
    assert len(shrunk) == 1, shrunk
    assert detail.crossover_fill is not None and detail.source_detail_gain is not None
    real_half = detail.half_shown
    monkeypatch.setattr(detail, "half_shown", lambda weight, size, shown=None: real_half(weight, size))
    own = stage.detail_on_luma(image, camera, copy.deepcopy(layer), strength, grain_from)
    assert len(shrunk) == 1 + 3  # the stage's, then each measure's own when not shared
    assert np.array_equal(shared, own)
    # ... and the crossover fill narrows its own copy (to the skin), not the detail boost's mask.
    mask = real_half(layer.alpha, (layer.alpha.shape[1] // 2, layer.alpha.shape[0] // 2))
    before = mask.copy()
    skin = np.zeros_like(mask)
    low = cv2.GaussianBlur(image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), (0, 0), 1.5)
    detail.crossover_fill(low, low, layer.alpha, 1.5, skin, mask)
    assert np.array_equal(mask, before)
