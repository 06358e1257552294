"""A source's moustache is worn whole, with its own hairy ends (issue 13).

s12 (young Einstein) has a dark moustache whose ends reach past his mouth's corners and droop
beside them. The clean texture's occluder search (realtime/swap/texture.py) took the part beside
the left corner for "not skin" and filled it with cheek: on every target the moustache ended in
a square-cut vertical edge with a pale patch below it (the blind judge's "dark square-edged
smudge under the nose", s12 on d9 and d14).
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.faces.topology import topology
from realtime.swap.texture import make_clean_texture
from tests.conftest import media


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def test_a_moustache_reaching_past_the_mouth_corners_is_kept_not_filled(library):
    s12 = library.get(str(media("s12.jpg")))
    texture = make_clean_texture(s12.image, s12.face.landmarks, find_hands=False)
    shape = texture.image.shape[:2]
    points = texture.landmarks
    top = topology()
    # Beside the lips (not on them): a band 0-6% of the face wide around the outer lip line,
    # from the nostrils' base down to the lower lip's bottom.
    lips = np.zeros(shape, np.uint8)
    cv2.fillPoly(lips, [np.round(points[top.outer_lips, :2]).astype(np.int32)], 1)
    reach = int(0.06 * texture.face_size) | 1
    around = cv2.dilate(lips, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach))) & (1 - lips)
    rows = np.arange(shape[0])[:, None]
    around &= ((rows >= points[2, 1]) & (rows <= points[17, 1])).astype(np.uint8)
    # The moustache there: the photo's own dark hair (well under the cheek's grey).
    original = _grey(texture.original)
    cheek = float(np.median(original[np.round(points[[50, 280], 1]).astype(int),
                                     np.round(points[[50, 280], 0]).astype(int)]))
    hair = (around > 0) & (original < 0.6 * cheek)
    assert hair.sum() > 100, hair.sum()
    # Main: 29 of its pixels taken for an occluder (147 with the grown fill around them) and
    # filled with cheek, the square-cut end: its lightest 1% lighter than the photo by 97 grey
    # levels. Kept: none is an occluder, and the hair stays about as dark as in the photo (27).
    assert not (texture.occluders.astype(bool) & hair).any(), int((texture.occluders.astype(bool) & hair).sum())
    lighter = _grey(texture.image)[hair] - original[hair]
    assert float(np.percentile(lighter, 99)) < 40.0, np.percentile(lighter, [50, 90, 99])
