"""A source's worn brows keep their own darkness against the skin and a hair's hue (issue 13).

The worn brows are the photo's, recoloured with the skin by the colour transfer. On a pale, pink,
brightly lit camera the transfer's lightness map lifted s12's (young Einstein's) dark brows far more
than the skin and its a*/b* shift, fitted on the skin, left them yellower than it: on d10 a
grey-olive felt on the forehead (the lead's crops, benchmarks/results/s35-lead/s12_d10_f45_output_camera.png)
where d10's own brows are a dark mauve-brown. The blend stage now takes the brows' darkest tenth back
to their ratio to the cheeks before the colour transfer (never past the camera's pupils) and turns
their hue no yellower than the camera's own brows' (realtime/blend/hair_tone.py, brow_hair).

Real frames of ../shared/media, MediaPipe, the real swapper and blend stage (tests/conftest.py's
swap_one fixture), measured here on the picture with the face's landmarks only. Each number in a
comment is main's (2582950) before this work.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.faces.topology import topology
from tests.conftest import media

_CHEEKS = ((205, 50, 101, 36), (425, 280, 330, 266))


def _brows(image: np.ndarray, landmarks: np.ndarray) -> tuple[float, float]:
    """(the cheeks' median grey over the darkest tenth of both brows (the hulls of their landmarks),
    the hue angle (degrees, Lab a*b*) of the brows' darkest fifth)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    brows = np.zeros(grey.shape, np.uint8)
    for brow in (topology().right_eyebrow, topology().left_eyebrow):
        cv2.fillPoly(brows, [cv2.convexHull(np.round(landmarks[brow, :2]).astype(np.int32))], 1)
    brows = brows > 0
    cheeks = np.zeros(grey.shape, np.uint8)
    for cheek in _CHEEKS:
        cv2.fillPoly(cheeks, [np.round(landmarks[list(cheek), :2]).astype(np.int32)], 1)
    skin = float(np.median(grey[cheeks > 0]))
    ratio = skin / float(np.percentile(grey[brows], 10))
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    hair = lab[brows & (grey <= np.percentile(grey[brows], 20))]
    return ratio, float(np.degrees(np.arctan2(hair[:, 2].mean() - 128.0, hair[:, 1].mean() - 128.0)))


def test_dark_brows_stay_dark_brown_hair_on_a_pale_pink_target(swap_one, library):
    # s12 on d10, frame 45 (a pale pink face under a ring light, dark mauve-brown brows).
    photo = library.get(str(media("s12.jpg")))
    under, face, output = swap_one("d10.mp4", 45, "s12.jpg", moved=True)
    own, _ = _brows(photo.image, photo.face.landmarks)
    _, camera_hue = _brows(under, face.landmarks)
    worn, worn_hue = _brows(output, face.landmarks)
    # The photo's brows: darkest tenth at 1/4.70 of the cheeks. Worn: main 1/2.46 (0.52 of the photo's
    # ratio, lighter than d10's own brows, 1/2.59); now 1/3.17 (0.67; the clean texture's, relit, is
    # 1/3.7: the photo's strongest shadow is not kept).
    assert worn >= 0.6 * own, (worn, own)
    # Hue of the darkest fifth: d10's own brows 15 degrees; worn main 38 (yellower: an olive grey on
    # the pink skin); now 11.
    assert worn_hue <= camera_hue + 10.0, (worn_hue, camera_hue)
