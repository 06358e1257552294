"""A blink under the swap (issue 13, s18): the source's open lids squeezed onto the target's closed
eye drew "an eye with a skin-coloured eyeball", the source's lash lines and lid crease ringing
the target's closed lid -- "grey smeared lids" to the blind judge (s12 -> d14's wink, s12 -> d9's
blink). A closing eye is now the target's own, lids and lashes (realtime/swap/eyes.py, `closing`),
on the new face's colour (realtime/blend/kept.py).

Real frames (d14 frame 17: both eyes shut; d9 frame 13: a blink behind glasses), a real photo
(s12), MediaPipe for every face, the real swapper and blend stage.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.blend.stage import BlendStage
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.eyes import _EYE_POINTS, eye_openings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import frame_of, media


def fine(image: np.ndarray) -> np.ndarray:
    """The picture's detail (lightness less a Gaussian of 2 px): lash lines, creases, an eye's white."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return grey - cv2.GaussianBlur(grey, (0, 0), 2.0)


@pytest.mark.parametrize("video,index", [("d14.mp4", 17), ("d9.mp4", 13)])
def test_a_closed_eye_shows_the_targets_closed_lids(library, video, index):
    from realtime.faces import create_detector

    image = frame_of(video, index)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(image)[0]
    detector.close()
    assert max(eye_openings(face.landmarks)) < 0.1  # both eyes shut
    settings = Settings()
    swapper = MeshSwapper(settings)
    swapper.set_source(library.get(str(media("s12.jpg"))))
    frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=[face])
    frame.layers = swapper.swap(frame, [face])
    # The target's closed eyes where the face-shape transfer (face_shape) moved them, in the moved picture.
    image = frame.output.copy() if frame.output is not None else image
    face = frame.layers[0].face
    BlendStage(settings).process(frame)
    swapper.close()
    # Over each closed eye (half its width above the eye line, a quarter below, its length): the
    # detail is the target's closed lid and lash line, not the source's open eye pressed flat.
    zone = np.zeros(image.shape[:2], np.uint8)
    for _, _, outer, inner in _EYE_POINTS:
        corners = face.landmarks[[outer, inner], :2]
        width = float(np.linalg.norm(corners[1] - corners[0]))
        centre = corners.mean(axis=0)
        cv2.ellipse(zone, (int(centre[0]), int(centre[1] - 0.12 * width)),
                    (int(0.5 * width), int(0.38 * width)), 0, 0, 360, 1, -1)
    apart = np.abs(fine(frame.output) - fine(image))[zone > 0]
    assert zone.sum() > 200
    # s12: d14 5.4, d9 4.8 grey levels before (the source's lashes and eye white); 0.3-0.35 after.
    assert float(apart.mean()) < 1.5, float(apart.mean())
