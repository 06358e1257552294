"""The target's kept glasses frames are part of the blended face layer (realtime/blend/kept.py):
the composite is the frame's only writer, and what reads the layer after the blend (the overlay's
'face' alpha, which OBS cuts the face out with) gets the glasses the frame shows, not holes where
they are. Real frame of ../shared/media (d9: glasses), real photo s42, MediaPipe, the real swapper
and blend stage.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.blend.stage import BlendStage
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import frame_of, media


@pytest.fixture(scope="module")
def blended(library):
    from realtime.faces import create_detector

    image = frame_of("d9.mp4", 0)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    faces = detector.detect(image)
    detector.close()
    assert faces
    settings = Settings().replace(keep_hands=False)
    swapper = MeshSwapper(settings)
    swapper.set_source(library.get(str(media("s42.jpg"))))
    frame = Frame(index=0, image=image, capture_ns=0, pts=0.0)
    frame.faces = faces
    layers = swapper.swap(frame, faces)
    swapper.close()
    assert layers and layers[0].kept_lines is not None  # d9's glasses were found
    before = layers[0].alpha.copy()
    frame.layers = layers
    BlendStage(settings).process(frame)
    return image, frame, before


def test_the_glasses_on_the_face_are_in_the_layers_alpha(blended):
    image, frame, before = blended
    layer = frame.layers[0]
    keep, (gx, gy) = layer.kept_lines
    rims = np.zeros(layer.alpha.shape, bool)
    rims[gy:gy + keep.shape[0], gx:gx + keep.shape[1]] = keep > 0.5
    assert rims.sum() > 200
    # The swapper cut the rims out of the new face (the target's own pixels show there) ...
    assert before[rims].mean() < 0.5
    # ... and the blended layer draws them, shifted onto the new face's colour: the overlay's
    # 'face' alpha has the glasses, not the background seen through them.
    assert layer.alpha[rims].mean() > 0.9, layer.alpha[rims].mean()
    # Elsewhere the layer's alpha is the swapper's.
    assert np.array_equal(layer.alpha[~rims & (layer.alpha == before)], before[~rims & (layer.alpha == before)])
    changed = layer.alpha != before
    grown = cv2.dilate(rims.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert changed.any() and (changed & ~grown).sum() < 0.5 * changed.sum()


def test_the_camera_picture_is_left_to_the_composite(blended):
    """The blend reads the camera's picture and writes only the composite of the layer into the
    output; outside the face box the output is the camera's."""
    image, frame, _ = blended
    x0, y0, x1, y1 = frame.layers[0].box
    outside = np.ones(image.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(frame.output[outside], image[outside])
    assert frame.output is not image
