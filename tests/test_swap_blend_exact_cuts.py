"""Session 36's cuts to the per-frame path (issue 13's budget, benchmarks/results/s36-speed) draw the
picture the straightforward computation draws, bit for bit.

- The swapper's working-size copy of the unmoved picture (the hair's and the off-skin band's, for a face
  the shape transfer moved) is shrunk only on the frames that measure them again
  (MeshSwapper._uncovered, every OCCLUDERS_EVERY frames; in between it shifts what it measured).
- The blend stage cuts the glasses frames out of a working-size layer's alpha over their own rectangle
  only (stage._off_glasses), not through a whole-box map of them (stage._at_size).
- feature_band finds its zones' rows and columns as the union of each zone's, not from their maximum
  over the whole box (brows._union_bounds).

Each is checked against the straightforward version (an oracle), the first two on real frames of
../shared/media/d13.mp4 (a 609-px face worn at a working size, glasses) swapped with s42.
"""

from __future__ import annotations

import functools
import types

import numpy as np
import pytest

from realtime.blend import stage as blend_stage
from realtime.blend.kernels import bounds
from realtime.faces.brows import _union_bounds


def test_union_bounds_is_the_bounds_of_the_maximum():
    rng = np.random.default_rng(36)
    for case in range(200):
        height, width = rng.integers(8, 90, 2)
        masks = []
        for _ in range(2):
            mask = np.zeros((height, width), np.float32)
            if case % 5:  # now and then an empty zone
                y0, x0 = rng.integers(0, height), rng.integers(0, width)
                y1, x1 = rng.integers(y0, height + 1), rng.integers(x0, width + 1)
                mask[y0:y1, x0:x1] = rng.random((y1 - y0, x1 - x0)).astype(np.float32) * 0.01
            masks.append(mask)
        for above in (0.0, 0.004):
            assert _union_bounds(bounds(masks[0], above), bounds(masks[1], above)) == \
                bounds(np.maximum(*masks), above)


@pytest.mark.parametrize("seed", range(8))
def test_off_glasses_is_the_whole_box_product(seed):
    rng = np.random.default_rng(seed)
    box_shape = (int(rng.integers(300, 700)), int(rng.integers(250, 600)))
    factor = float(rng.uniform(0.5, 1.0))
    shape = (max(8, round(box_shape[0] * factor)), max(8, round(box_shape[1] * factor)))
    alpha = rng.random(shape).astype(np.float32)
    alpha[rng.random(shape) < 0.3] = 1.0
    height, width = int(rng.integers(5, box_shape[0] // 2)), int(rng.integers(5, box_shape[1]))
    # Anywhere in the box, its last rows and columns included (the piece then cut at the box's edge).
    x, y = int(rng.integers(0, box_shape[1] - 2)), int(rng.integers(0, box_shape[0] - 2))
    keep = rng.random((height, width)).astype(np.float32)
    keep[:, ::3] = 0.0
    glasses = (keep, (x, y))
    straightforward = alpha * (1.0 - blend_stage._at_size(glasses, box_shape, alpha.shape))
    cut = blend_stage._off_glasses(alpha, glasses, box_shape)
    assert cut.dtype == straightforward.dtype and np.array_equal(cut, straightforward)
    assert np.array_equal(alpha, alpha.copy())  # (its input is left as it was: a copy is cut)


def _swap_and_blend(library, frames, tracked) -> tuple[list[np.ndarray], dict]:
    from realtime.blend.stage import BlendStage
    from realtime.frame import Frame
    from realtime.settings import Settings
    from realtime.swap.stage import SwapStage
    from tests.conftest import media

    settings = Settings().replace(source=str(media("s42.jpg")))
    swap, blend = SwapStage(settings, library), BlendStage(settings)
    outputs = []
    try:
        for index, (image, faces) in enumerate(zip(frames, tracked, strict=True)):
            frame = Frame(index=index, image=image.copy(), capture_ns=0, pts=index / 30.0, faces=list(faces))
            swap.process(frame)
            blend.process(frame)
            outputs.append(frame.output)
        swapper = swap.swapper
        counts = {"occluders_made": swapper.occluders_made}
    finally:
        swap.close()
    return outputs, counts


def test_the_cut_swap_and_blend_draw_the_straightforward_frames(library, monkeypatch):
    """d13 with s42: a face at a working size, moved by the shape transfer, glasses kept. The shipped
    code against the straightforward one (the unmoved picture shrunk on every frame, the glasses cut
    through a whole-box map): the same frames to the bit, with the hair measured afresh on some
    frames and shifted on others (both paths of the lazy shrink taken)."""
    import realtime.swap.mesh as mesh
    from tests.conftest import tracked_clip

    frames, _, tracked = tracked_clip("d13.mp4", 6)
    shrunk: list[int] = []
    real_shrink = mesh.shrink

    def counted(picture, size):
        shrunk.append(1)
        return real_shrink(picture, size)

    monkeypatch.setattr(mesh, "shrink", counted)
    cut, counts = _swap_and_blend(library, frames, tracked)
    cut_shrinks = len(shrunk)
    assert 0 < counts["occluders_made"] < len(frames), counts  # measured, and shifted in between

    # The straightforward computation: every frame's shrink made at once, the whole-box product.
    shrunk.clear()
    eager = types.SimpleNamespace(**{**vars(functools), "partial": lambda function, *args: function(*args)})
    monkeypatch.setattr(mesh, "functools", eager)
    monkeypatch.setattr(blend_stage, "_off_glasses", lambda alpha, glasses, box_shape:
                        alpha * (1.0 - blend_stage._at_size(glasses, box_shape, alpha.shape)))
    straightforward, _ = _swap_and_blend(library, frames, tracked)
    assert len(shrunk) > cut_shrinks  # the shrinks saved
    for index, (a, b) in enumerate(zip(cut, straightforward, strict=True)):
        assert np.array_equal(a, b), f"frame {index}: {int(np.abs(a.astype(int) - b.astype(int)).max())} levels apart"
