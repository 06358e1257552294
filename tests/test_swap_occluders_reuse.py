"""The target's hair over the oval and the off-skin band (issue 13's budget) are measured every
OCCLUDERS_EVERY frames of a face and carried in between, shifted with it: a still head reuses
them, a moving head gets them where its hair is, and a change of the picture (hair falling over
the face, the light going down) is followed within OCCLUDERS_EVERY frames.

Real frames of ../shared/media (d6: hair down to the face's edge; d13: a moving head), real photo
s42, MediaPipe in video mode (the landmarks a live run has), the real swapper.
"""

from __future__ import annotations

import numpy as np
import pytest

from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap import mesh
from realtime.swap.mesh import MeshSwapper
from tests.conftest import frame_of, media


def _alphas(library, pictures: list[np.ndarray], every: int | None = None,
            still: bool = False) -> tuple[list[np.ndarray], int]:
    """The layer's alpha on each picture (one face track, 30 fps) and how often the occluders were
    measured; `every`: OCCLUDERS_EVERY for this run (1: measured on every frame, the reference);
    `still`: the first picture's landmarks on all (MediaPipe's video mode settles over the first
    frames of a still picture: half a pixel)."""
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(max_faces=1), static=False)
    first = None
    swapper = MeshSwapper(Settings())
    swapper.set_source(library.get(str(media("s42.jpg"))))
    saved = mesh.OCCLUDERS_EVERY
    if every is not None:
        mesh.OCCLUDERS_EVERY = every
    try:
        alphas = []
        for index, image in enumerate(pictures):
            faces = first if still and first is not None else detector.detect(image)
            first = faces
            assert faces
            layers = swapper.swap(Frame(index=index, image=image, capture_ns=0, pts=index / 30.0), faces)
            assert layers
            alphas.append(layers[0].alpha)
        return alphas, swapper.occluders_made
    finally:
        mesh.OCCLUDERS_EVERY = saved
        swapper.close()
        detector.close()


def test_a_still_head_reuses_its_hair_and_band(library):
    image = frame_of("d6.mp4", 9)
    alphas, made = _alphas(library, [image] * 7, still=True)
    # Frames 0, 3 and 6 measured; the others the same mask.
    assert made == 1 + 6 // mesh.OCCLUDERS_EVERY
    for alpha in alphas[1:]:
        assert np.abs(alpha - alphas[0]).max() <= 1e-5


def test_a_moving_head_keeps_its_hair_where_it_is(library):
    """d6's frames 0-11 (the head moves and turns a little): the carried masks give the alpha
    that measuring on every frame gives, where the hair meets the face (the band that differs)."""
    pictures = [frame_of("d6.mp4", index) for index in range(12)]
    reused, made = _alphas(library, pictures)
    exact, made_exact = _alphas(library, pictures, every=1)
    assert made_exact == len(pictures) and made < len(pictures)
    for ours, theirs in zip(reused, exact, strict=True):
        assert ours.shape == theirs.shape
        difference = np.abs(ours - theirs)
        # Under an 8-bit level of the face's weight on average (0.23 / 255 at most here), a few
        # levels along a lock's soft edge (the thresholded band's own flicker: 99th percentile
        # 7.1 / 255 at most here; d13's first 12 frames: 0.28 and 5.9).
        assert difference.mean() <= 1.0 / 255.0, difference.mean()
        assert np.percentile(difference, 99) <= 12.0 / 255.0, np.percentile(difference, 99)


@pytest.mark.parametrize("change", ["hair", "light"])
def test_a_change_of_the_picture_is_followed_within_a_few_frames(library, change):
    """From frame 1 on, hair falls over the face's right edge (a dark lock painted across the
    oval's side) or the light goes down to 60%: by frame OCCLUDERS_EVERY at the latest the alpha
    is the one measured afresh on that frame, and the lock is left to the target."""
    image = frame_of("d6.mp4", 9)
    changed = image.copy()
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(image)[0]
    detector.close()
    x0, y0, x1, y1 = face.box
    lock = (slice(y0 + (y1 - y0) // 4, y0 + (y1 - y0) // 2), slice(x1 - (x1 - x0) // 6, x1 + 20))
    if change == "hair":
        changed[lock] = (changed[lock] * 0.15).astype(np.uint8)
    else:
        changed = (changed * 0.6).astype(np.uint8)
    pictures = [image] + [changed] * mesh.OCCLUDERS_EVERY
    # The face holds still (its landmarks the first frame's): only the picture changes.
    reused, _ = _alphas(library, pictures, still=True)
    exact, _ = _alphas(library, pictures, every=1, still=True)
    assert np.abs(reused[-1] - exact[-1]).max() <= 1e-5
    if change == "hair":
        bx0, by0 = face.box[0] - 1, face.box[1] - 1  # the layer's box has a pixel of margin
        region = (slice(lock[0].start - by0, lock[0].stop - by0), slice(lock[1].start - bx0, x1 - bx0 - 2))
        # The new face came over the lock's part inside the oval, and leaves it once measured.
        assert reused[0][region].max() > 0.5
        # 0.55, not 0.5: the face's first mesh now settles on its first frame (s23-startup), and
        # d6's settled oval reaches ~4 px further into the lock than the detector-box mesh that
        # this bound was set on (0.18 / 0.53 = 0.34 then). Main with its own mesh settled (as
        # from its 4th frame on): 0.3025 / 0.6045 = 0.500, the same as this branch (0.501).
        assert reused[-1][region].mean() < 0.55 * reused[0][region].mean()


def test_a_blink_is_measured_afresh(library):
    """The masks leave the target's eyes and brows to it (never hair, never off-skin): measured on
    an open eye and carried onto a closing one, the lash line moved under them (a 2.2-3.6-level
    line along it on s42 -> d9's written blink). Eyes that move while the oval holds still are
    measured again on that very frame."""
    from dataclasses import replace

    from realtime.faces import create_detector
    from realtime.faces.topology import topology

    image = frame_of("d9.mp4", 0)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(image)[0]
    detector.close()
    top = topology()
    closing = face.landmarks.copy()
    for eye in (top.right_eye, top.left_eye):
        # The eye's upper half (above its centre) comes down by 2% of the face: a closing lid.
        upper = eye[closing[eye, 1] < closing[eye, 1].mean()]
        closing[upper, 1] += 0.02 * face.size
    swapper = MeshSwapper(Settings())
    swapper.set_source(library.get(str(media("s42.jpg"))))
    made = []
    for index, landmarks in enumerate([face.landmarks, face.landmarks, closing]):
        moved = replace(face, landmarks=landmarks)
        swapper.swap(Frame(index=index, image=image, capture_ns=0, pts=index / 30.0), [moved])
        made.append(swapper.occluders_made)
    swapper.close()
    assert made == [1, 1, 2]
