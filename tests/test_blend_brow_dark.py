"""The new face's brows as dark as the source draws them (issue 13: "brows faded, grey, smeared").

s12 (Einstein: dark, bushy brows) on d14 (a pale, softly lit face): the colour transfer's
lightness map (blend/color.py: a gain and an offset fitted to the skin) lifted the brows with the
skin, from 0.40 of the skin's grey around them to 0.69: grey blurry blocks where the photo has
near-black brows (session 25's lead on the written s12 -> d14; benchmarks/results/s26-brows).

Real photo and frame (s12 from ../shared/media, d14 frame 45), MediaPipe, the real swapper and blend.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.blend.stage import BlendStage
from realtime.faces.brows import feature_zones
from realtime.faces.topology import topology
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import media
from tests.test_swap_sharp import frame_of


@pytest.fixture(scope="module")
def s12_on_d14(library):
    """(the new face as rendered, before the blend; the blended output; the brows' zone), over the
    layer's box, and the face's size."""
    from realtime.faces import create_detector

    if not media("d14.mp4").exists() or not media("s12.jpg").exists():
        pytest.skip("needs d14.mp4 and s12.jpg")
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    image = frame_of("d14.mp4", 45)
    face = detector.detect(image)[0]
    detector.close()
    settings = Settings()
    swapper = MeshSwapper(settings)
    swapper.set_source(library.get(str(media("s12.jpg"))))
    frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=[face])
    frame.layers = swapper.swap(frame, [face])
    layer = frame.layers[0]
    x0, y0, x1, y1 = layer.box
    # A large face is rendered at a working size: the new face at the box's size.
    rendered = cv2.resize(layer.image, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    moved = layer.face
    output = BlendStage(settings).process(frame).output[y0:y1, x0:x1]
    swapper.close()
    _, brows = feature_zones(moved.landmarks, layer.box, moved.size)
    # The brows, not the lids: away from the eyes' contours by 5% of the face (the lid crease and
    # lash line are the eye's own lines).
    eyes = np.zeros(brows.shape, np.uint8)
    for eye in (topology().right_eye, topology().left_eye):
        cv2.fillConvexPoly(eyes, cv2.convexHull(np.round(moved.landmarks[eye, :2] - (x0, y0)).astype(np.int32)), 1)
    brows[cv2.distanceTransform(1 - eyes, cv2.DIST_L2, 3) < 0.05 * moved.size] = 0.0
    return rendered, output, brows, moved.size


def brow_to_skin(picture: np.ndarray, hairs: np.ndarray, face_size: float) -> float:
    """The brow hairs' grey over the skin's around them (the picture's grey closing over 7% of the
    face): 1 = as light as the skin, 0 = black."""
    grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY).astype(np.float32)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(0.07 * face_size) | 1,) * 2)
    skin = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, disc)
    return float(np.median(grey[hairs]) / np.median(skin[hairs]))


def test_the_new_faces_brows_stay_as_dark_as_the_photos(s12_on_d14):
    rendered, output, brows, face_size = s12_on_d14
    grey = cv2.cvtColor(rendered, cv2.COLOR_BGR2GRAY).astype(np.float32)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(0.07 * face_size) | 1,) * 2)
    # The new face's brow hairs: in its brows' zone, much darker than the skin around them.
    hairs = (brows > 0.5) & (cv2.morphologyEx(grey, cv2.MORPH_CLOSE, disc) - grey > 40)
    assert hairs.sum() > 500
    source, shown = brow_to_skin(rendered, hairs, face_size), brow_to_skin(output, hairs, face_size)
    assert source < 0.5  # s12's near-black brows (0.4 of the skin)
    # As dark relative to the skin as the photo has them, within 0.15 of the skin's grey (main
    # 8188412: 0.40 -> 0.69, lifted by the colour transfer with the skin; s26-brows: 0.49).
    assert shown <= source + 0.15, (source, shown)
