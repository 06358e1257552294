"""The face-shape transfer's glasses restore (realtime/swap/mesh.py, _glasses_unmoved) makes its soft
mask once per held pair of frames (issue 13's budget, benchmarks/results/s21-shapecost): frames kept
from an earlier frame (_Glasses) at the same place and reach give the same mask, so the picture a
viewer gets is the same to the bit, for less work.

Real frames of ../shared/media (d9: metal frames), real photo s42, MediaPipe in video mode, the real
swapper.
"""

from __future__ import annotations

import numpy as np

from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import media
from tests.test_swap_budget import frame_of


def _outputs(library, pictures: list[np.ndarray], faces: list, fresh: bool) -> tuple[list[np.ndarray], int]:
    """The shape-moved picture (frame.output after the swap) of each picture, and how many soft
    restore masks were made; `fresh`: forget the held mask after every frame (the reference)."""
    swapper = MeshSwapper(Settings().replace(keep_hands=False))
    swapper.set_source(library.get(str(media("s42.jpg"))))
    try:
        outputs = []
        for index, (image, found) in enumerate(zip(pictures, faces, strict=True)):
            frame = Frame(index=index, image=image, capture_ns=0, pts=index / 30.0)
            assert swapper.swap(frame, found)
            assert frame.output is not None
            outputs.append(frame.output.copy())
            if fresh:
                for memory in swapper._glasses.values():
                    memory.soft = None
        return outputs, swapper.glasses_softened
    finally:
        swapper.close()


def test_held_glasses_make_their_restore_mask_once_and_the_picture_stays_the_same(library):
    from realtime.faces import create_detector

    # A still head (one frame, three times: the frames are held, GLASSES_EVERY), then a talking head.
    still = [frame_of("d9.mp4", 0)] * 3
    talking = [frame_of("d9.mp4", index) for index in range(1, 7)]
    detector = create_detector(FaceSettings(max_faces=1), static=False)
    try:
        faces = [detector.detect(image) for image in still + talking]
    finally:
        detector.close()
    assert all(faces)
    pictures = still + talking
    cached, made = _outputs(library, pictures, faces, fresh=False)
    reference, made_fresh = _outputs(library, pictures, faces, fresh=True)
    for index, (a, b) in enumerate(zip(cached, reference, strict=True)):
        assert np.array_equal(a, b), f"frame {index}: the held mask changed the picture"
    # The still head's three frames need one mask; the reference makes one per frame with glasses.
    assert made_fresh >= len(pictures) - 1
    assert made <= made_fresh - 2
