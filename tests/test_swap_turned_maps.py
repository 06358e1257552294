"""A turned source (s10, Vermeer's girl: her far half comes from the mirror image of her near
half, realtime/swap/mesh.py _warp) is drawn with two texture warps onto the same target mesh.
Both come from one rasterisation of the target's triangles (faces/warp.py,
piecewise_affine_maps_from): the new face is the one two separate map builds draw, to the bit,
and each frame rasterises the target mesh once less (issue 13: ~1.2 ms a frame on d6 with s10,
benchmarks/results/s33-shape).

Real frame of ../shared/media (d6), the real source photo s10, MediaPipe, the real swapper and
blend stage.
"""

from __future__ import annotations

import numpy as np

from tests.conftest import frame_of, still_faces


def test_a_turned_source_is_drawn_from_one_rasterised_target_mesh(library, monkeypatch):
    from realtime.blend.stage import BlendStage
    from realtime.faces import warp
    from realtime.frame import Frame
    from realtime.settings import FaceSettings, Settings
    from realtime.swap import mesh
    from tests.conftest import media

    image = frame_of("d6.mp4", 10)
    faces = still_faces("d6.mp4", 10, FaceSettings(max_faces=1))
    assert faces
    source = library.get(str(media("s10.jpg")))
    calls = []
    original = warp.rasterise_ids

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    def drawn() -> tuple[np.ndarray, int]:
        settings = Settings()
        swapper = mesh.MeshSwapper(settings)
        try:
            swapper.set_source(source)
            assert swapper._texture is not None and swapper._texture.flipped is not None  # turned
            frame = Frame(index=0, image=image.copy(), capture_ns=0, pts=0.0)
            frame.faces = faces
            calls.clear()
            frame.layers = swapper.swap(frame, faces)
            count = len(calls)
            return BlendStage(settings).process(frame).output, count
        finally:
            swapper.close()

    def separately(dst, sources, triangles, box, depth=None, grid_step=4, tame_outside=False):
        return [warp.piecewise_affine_maps(dst, src, triangles, box, depth, grid_step, tame_outside) for src in sources]

    monkeypatch.setattr(warp, "rasterise_ids", counted)
    with monkeypatch.context() as patch:
        patch.setattr(mesh, "piecewise_affine_maps_from", separately, raising=False)
        want, twice = drawn()
    output, once = drawn()
    np.testing.assert_array_equal(output, want)
    assert once == twice - 1, (once, twice)
    x0, y0, x1, y1 = faces[0].box
    assert np.abs(output[y0:y1, x0:x1].astype(int) - image[y0:y1, x0:x1]).mean() > 5  # a face was drawn
