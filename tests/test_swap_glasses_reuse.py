"""The target's glasses frames (issue 13's budget: ~2 ms per 720p face) are searched for on one
frame and kept for the next ones while the camera's pixels under them hold still (GLASSES_STILL,
at least every GLASSES_EVERY frames afresh): a talking head wearing glasses (d9) keeps them where
they are with a third of the searches, and a head move or a change of light is searched afresh
on that very frame.

Real frames of ../shared/media (d9: metal frames), real photo s42, MediaPipe (video mode for the
talking head: the landmarks a live run has), the real swapper.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap import mesh
from realtime.swap.mesh import MeshSwapper
from tests.conftest import frame_of, media


def _kept(library, pictures: list[np.ndarray], faces: list | None = None,
          every: int | None = None) -> tuple[list[np.ndarray], int]:
    """The glasses the layer keeps (its kept_lines over the frame, 0 where none) on each
    picture (one face track, 30 fps), and how often the glasses were searched for; `faces`: the
    faces to use (default: MediaPipe in video mode); `every`: GLASSES_EVERY for this run (1: a
    search on every frame, the reference)."""
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(max_faces=1), static=False) if faces is None else None
    swapper = MeshSwapper(Settings().replace(keep_hands=False))
    swapper.set_source(library.get(str(media("s42.jpg"))))
    saved = mesh.GLASSES_EVERY
    if every is not None:
        mesh.GLASSES_EVERY = every
    try:
        kept = []
        for index, image in enumerate(pictures):
            found = detector.detect(image) if detector is not None else [faces[index]]
            assert found
            layers = swapper.swap(Frame(index=index, image=image, capture_ns=0, pts=index / 30.0), found)
            assert layers and layers[0].kept_lines is not None  # d9's glasses
            x0, y0 = layers[0].box[:2]
            keep, (gx, gy) = layers[0].kept_lines
            over_frame = np.zeros(image.shape[:2], np.float32)
            over_frame[y0 + gy:y0 + gy + keep.shape[0], x0 + gx:x0 + gx + keep.shape[1]] = keep
            kept.append(over_frame)
        return kept, swapper.glasses_searched
    finally:
        mesh.GLASSES_EVERY = saved
        swapper.close()
        if detector is not None:
            detector.close()


def test_a_talking_head_keeps_its_glasses_where_they_are_with_fewer_searches(library):
    """d9's frames 0-11: the kept frames are those a search on every frame keeps, with at most
    two searches in three frames."""
    pictures = [frame_of("d9.mp4", index) for index in range(12)]
    reused, searched = _kept(library, pictures)
    exact, searched_exact = _kept(library, pictures, every=1)
    assert searched_exact == len(pictures)
    assert searched <= 2 * len(pictures) // 3, searched
    for ours, theirs in zip(reused, exact, strict=True):
        assert ours.shape == theirs.shape
        rims = theirs > 0.5
        # The rims a fresh search keeps are kept (at least a quarter): 0.89-1 of them here. The
        # search's own flicker is as large: a fresh search keeps 0.93-0.99 of the previous
        # frame's search's rims (so, and a kept mask is steadier from frame to frame).
        assert (ours[rims] > 0.25).mean() >= 0.85, (ours[rims] > 0.25).mean()
        # ... and nothing else of note (0.0023 at most here; fresh searches of two neighbouring
        # frames: 0.0010-0.0027).
        assert np.abs(ours - theirs).mean() <= 0.004, np.abs(ours - theirs).mean()


@pytest.fixture(scope="module")
def still_face():
    from realtime.faces import create_detector

    image = frame_of("d9.mp4", 0)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(image)[0]
    detector.close()
    return image, face


@pytest.mark.parametrize("change", ["move", "light"])
def test_a_head_move_or_a_change_of_light_is_searched_afresh_at_once(library, still_face, change):
    """After a still frame the head jumps 3 px right and 2 px down (the picture and its landmarks
    alike), or the light goes down to 60%: that frame is searched again, and keeps what a search
    of it alone keeps (not the frames where they were)."""
    image, face = still_face
    if change == "move":
        changed = np.ascontiguousarray(np.roll(image, (2, 3), axis=(0, 1)))
        landmarks = face.landmarks.copy()
        landmarks[:, 0] += 3
        landmarks[:, 1] += 2
        moved = replace(face, landmarks=landmarks, box=(face.box[0] + 3, face.box[1] + 2, face.box[2] + 3,
                                                        face.box[3] + 2))
    else:
        changed, moved = (image * 0.6).astype(np.uint8), face
    kept, searched = _kept(library, [image, image, changed], faces=[face, face, moved])
    assert searched == 2  # the still frame kept the first one's glasses; the changed one searched
    fresh, _ = _kept(library, [changed], faces=[moved])
    assert np.array_equal(kept[-1], fresh[0])
    assert np.array_equal(kept[1], kept[0])
