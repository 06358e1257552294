"""Session 36's cuts to the per-frame path (issue 13's budget, benchmarks/results/s36-speed) draw the
picture the straightforward computation draws, bit for bit.

- The swapper's working-size copy of the unmoved picture (the hair's and the off-skin band's, for a face
  the shape transfer moved) is shrunk only on the frames that measure them again
  (MeshSwapper._uncovered, every OCCLUDERS_EVERY frames; in between it shifts what it measured).

Checked against the straightforward version (an oracle) on real frames of ../shared/media/d13.mp4 (a
609-px face worn at a working size, moved by the shape transfer, glasses kept) swapped with s42.
(Two more cuts tried in session 36 -- the glasses cut out of a working-size alpha over their own
rectangle, feature_band's zone bounds as a union of two -- were exact too but saved nothing measurable
or cost more, and were left out: benchmarks/results/s36-speed.)
"""

from __future__ import annotations

import functools
import types

import numpy as np


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


def test_the_lazy_unmoved_shrink_draws_the_straightforward_frames(library, monkeypatch):
    """d13 with s42: a face at a working size, moved by the shape transfer, glasses kept. The shipped
    code against the straightforward one (the unmoved picture shrunk on every frame): the same frames
    to the bit, with the hair measured afresh on some frames and shifted on others (both paths of the
    lazy shrink taken), and fewer shrinks made."""
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

    # The straightforward computation: every frame's shrink made at once.
    shrunk.clear()
    # Only the shrink is made at once; every other partial (the source texture's mirror) stays one.
    def partial(function, *args, **keywords):
        return function(*args, **keywords) if function is counted else functools.partial(function, *args, **keywords)

    eager = types.SimpleNamespace(**{**vars(functools), "partial": partial})
    monkeypatch.setattr(mesh, "functools", eager)
    straightforward, _ = _swap_and_blend(library, frames, tracked)
    assert len(shrunk) > cut_shrinks  # the shrinks saved
    for index, (a, b) in enumerate(zip(cut, straightforward, strict=True)):
        assert np.array_equal(a, b), f"frame {index}: {int(np.abs(a.astype(int) - b.astype(int)).max())} levels apart"
