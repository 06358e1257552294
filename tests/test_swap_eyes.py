"""The source's lash line drawn over a narrow-eyed target's eyes (issue 13, s14): heavy,
half-closed-looking lids with a second, blurred lash line, as blind judges saw on d20.

Real photo (s42 from ../shared/media), real frame (d20: a man with narrow eyes, not a tuning
video), MediaPipe for every face.
"""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from realtime.blend.stage import BlendStage
from realtime.faces.topology import topology
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import media


def lightness(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)


@pytest.fixture(scope="module")
def s42(library):
    return library.get(str(media("s42.jpg")))


def test_a_narrow_eyed_target_keeps_its_own_lash_line(s42):
    from realtime.faces import create_detector

    with av.open(str(media("d20.mp4"))) as container:
        image = next(container.decode(video=0)).to_ndarray(format="bgr24")
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(image)[0]
    detector.close()
    settings = Settings()
    swapper = MeshSwapper(settings)
    swapper.set_source(s42)
    frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=[face])
    frame.layers = swapper.swap(frame, [face])
    BlendStage(settings).process(frame)
    # The band just above each eye's contour (the upper lash line, 1 % of the face): the
    # target's own there, not the source's lashes squeezed onto it (a second, blurred line).
    band = np.zeros(image.shape[:2], np.uint8)
    for eye in (topology().right_eye, topology().left_eye):
        contour = face.landmarks[eye, :2]
        upper = contour[contour[:, 1] <= contour[:, 1].mean()]
        lifted = upper - (0.0, 0.01 * face.size)
        cv2.fillPoly(band, [np.round(np.concatenate([upper, lifted[::-1]])).astype(np.int32)], 1)
    change = np.abs(lightness(frame.output) - lightness(image))[band > 0]
    assert band.sum() > 50
    assert np.median(change) < 6  # 19 levels when the source's lids were drawn there (e5b2a92)
