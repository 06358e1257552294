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
from tests.conftest import frame_of, media


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


def test_warp_resamples_each_pixel_once_and_the_patch_stays_the_same():
    """warp's bilinear pass skips the eye and mouth boxes (resampled bicubic there): the boxes it
    does cover are exactly the rest of the patch, and the patch is the one a bilinear pass over the
    whole box, then bicubic over the holes, gives."""
    import cv2

    from realtime.swap.shape import Warp, _around, warp

    rng = np.random.default_rng(3)
    for _ in range(30):
        height, width = int(rng.integers(20, 120)), int(rng.integers(20, 120))
        holes = []
        for _ in range(int(rng.integers(0, 4))):
            x0, y0 = int(rng.integers(0, width - 2)), int(rng.integers(0, height - 2))
            holes.append((x0, y0, int(rng.integers(x0 + 1, width + 1)), int(rng.integers(y0 + 1, height + 1))))
        count = np.zeros((height, width), np.int32)
        for x0, y0, x1, y1 in _around(holes, height, width):
            count[y0:y1, x0:x1] += 1
        in_hole = np.zeros((height, width), bool)
        for x0, y0, x1, y1 in holes:
            in_hole[y0:y1, x0:x1] = True
        assert np.array_equal(count, (~in_hole).astype(np.int32))
        image = rng.integers(0, 256, (height + 10, width + 10, 3), dtype=np.uint8)
        grid = np.stack(np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)), -1)
        maps = grid + rng.uniform(-3, 8, grid.shape).astype(np.float32)
        map1, map2 = cv2.convertMaps(maps, None, cv2.CV_16SC2)
        reference = cv2.remap(image, map1, map2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        for x0, y0, x1, y1 in holes:
            reference[y0:y1, x0:x1] = cv2.remap(image, map1[y0:y1, x0:x1], map2[y0:y1, x0:x1], cv2.INTER_CUBIC,
                                                borderMode=cv2.BORDER_REPLICATE)
        move = Warp((0, 0, width, height), map1, map2, holes, maps, np.zeros((1, 3), np.float32))
        assert np.array_equal(warp(image, move), reference)
