"""The face-shape transfer resamples only the part of its box that it moves (issue 13's budget,
benchmarks/results/s37-shape): where the field is zero -- the oval's corners, the window's ring
inside the outline, 28-31% of the box -- the backward map is the identity to the bit and the
pixels are copied, not resampled. An oracle test: the patch must be the one that resampling the
whole box gives, bit for bit, on real frames moved towards a real photo's face shape, and less
than the whole box must be resampled. The kept features' shift writes into an alpha the blend
stage owns without copying the box, with the same numbers.

Real frames of ../shared/media (d13: a face the swapper works on at a reduced size, d9: metal
frames), real photo s42, MediaPipe.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from realtime.settings import FaceSettings
from realtime.swap.shape import ShapeTransfer, plan, warp
from tests.conftest import frame_of, media, still_faces


@pytest.mark.parametrize(("video", "index"), [("d13.mp4", 20), ("d9.mp4", 0), ("d6.mp4", 12)])
def test_the_shape_warp_copies_the_unmoved_part_and_gives_the_whole_resampled_patch(library, video, index):
    image = frame_of(video, index)
    face = still_faces(video, index, FaceSettings(max_faces=1))[0]
    transfer = ShapeTransfer()
    transfer.set_source(library.get(str(media("s42.jpg"))).face.landmarks)
    move = plan(transfer.field(face.landmarks, 1.0, 0, 0.0), face.landmarks, image.shape[:2])
    assert move is not None and move.moving
    height, width = move.map1.shape[:2]
    # The reference: every pixel of the box resampled (the code before this cut).
    reference = warp(image, replace(move, moving=None))
    ours = warp(image, move)
    assert np.array_equal(ours, reference)
    # Less than the box is resampled: the unmoved corners and ring are left out.
    resampled = np.zeros((height, width), bool)
    for x0, y0, x1, y1 in move.moving:
        resampled[y0:y1, x0:x1] = True
    assert resampled.mean() < 0.9
    # Wherever the boxes leave out, the map is the identity: the camera's own pixel.
    x0, y0, x1, y1 = move.box
    rows, cols = np.mgrid[y0:y1, x0:x1]
    identity = (move.map1[..., 0] == cols) & (move.map1[..., 1] == rows) & (move.map2 == 0)
    assert identity[~resampled].all()
    # The holes (eyes, mouth) are resampled whatever the boxes say.
    for hx0, hy0, hx1, hy1 in move.holes:
        assert resampled[hy0:hy1, hx0:hx1].any()


def test_the_kept_shift_into_an_owned_alpha_gives_the_copied_ones_numbers():
    from realtime.blend.kept import kept_in_layer

    rng = np.random.default_rng(7)
    height, width = 200, 260
    target = rng.integers(90, 170, size=(height, width, 3), dtype=np.uint8)
    image = np.clip(target.astype(np.int16) + 12, 0, 255).astype(np.uint8)
    keep = np.zeros((height, width), np.float32)
    keep[90:96, 40:220] = 1.0  # a rim
    keep[[89, 96], 40:220] = 0.5
    alpha = np.clip(1.0 - keep, 0.0, 1.0).astype(np.float32)
    alpha[:, :8] = 0.3  # a soft edge
    before = alpha.copy()
    copied_image, owned_image = image.copy(), image.copy()
    copied = kept_in_layer(target, copied_image, alpha, (keep, (0, 0)), 380.0, (keep, (0, 0)))
    assert copied is not alpha and np.array_equal(alpha, before)  # not owned: left as it was
    owned_alpha = alpha.copy()
    owned = kept_in_layer(target, owned_image, owned_alpha, (keep, (0, 0)), 380.0, (keep, (0, 0)), own=True)
    assert owned is owned_alpha  # written in place: no copy of the box
    assert np.array_equal(owned, copied)
    assert np.array_equal(owned_image, copied_image)
    assert not np.array_equal(copied, alpha)  # something was kept
