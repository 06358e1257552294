"""No thin dark line down the nose's flank in the clean texture (issue 13, swap/shadows.py).

s12 (Einstein, a photo lit from his left) keeps a thin dark line (2-3 px on a 206 px face) along
his right flank, from the eye's inner corner to the nose's wing: the shadow's edge. The
de-lighting lightens the cheek beside it and the shadow lift measured it too widely to see it, so
every target wore a thin grey streak down one side of the nose. Measured as the line's depth
under a grey closing over 4% of the face (the flank's skin on either side of it), in a band
along each flank (mesh points) without the nostrils.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.swap import shadows
from realtime.swap import texture as texture_module
from realtime.swap.texture import make_clean_texture
from tests.conftest import media

# Mesh points down each nose flank (the subject's right, then left), eye corner to wing.
_FLANKS = ((122, 188, 114, 174, 217, 198, 209, 49, 131), (351, 412, 343, 399, 437, 420, 429, 279, 360))
_NOSTRILS = (64, 98, 97, 2, 326, 327, 294, 278, 48, 240, 460, 75, 305, 79, 309, 20, 250)


def line_depth(image: np.ndarray, landmarks: np.ndarray, face_size: float) -> list[float]:
    """Per flank: the 90th percentile of 1 - lightness / (closing over 4% of the face)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    size = int(0.04 * face_size) | 1
    closed = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    depth = 1 - grey / np.maximum(closed, 1)
    nostrils = shadows._hull(grey.shape, landmarks[list(_NOSTRILS)], grow=0.01 * face_size)
    result = []
    for flank in _FLANKS:
        band = shadows._hull(grey.shape, landmarks[list(flank)], grow=0.01 * face_size) & (1 - nostrils)
        result.append(float(np.percentile(depth[band > 0], 90)))
    return result


def test_no_thin_dark_line_down_s12s_nose_flank(library):
    s12 = library.get(str(media("s12.jpg")))
    texture = make_clean_texture(s12.image, s12.face.landmarks, find_hands=False)
    depth = line_depth(texture.image, texture.landmarks, texture.face_size)
    # Start: his right flank's line 40% under the skin beside it (the grey streak); here 16%
    # (the flank's own soft shade), his lit left flank 1%.
    assert max(depth) < 0.25, depth


def test_even_noses_keep_their_flanks(library, monkeypatch):
    """s42 (an evenly lit photo) and s9 (a soft painting) have no deep line down the flank: their
    clean textures are as without the flank lift (s42's soft flank contour, 5-10% under the
    flank, is the nose's shape: lifted, her identity distance rose by 0.005 on d9 and d14)."""
    for name in ("s42.jpg", "s9.jpg"):
        source = library.get(str(media(name)))
        lifted = make_clean_texture(source.image, source.face.landmarks, find_hands=False).image
        with monkeypatch.context() as patch:
            patch.setattr(texture_module, "lift_flank_lines", lambda image, *args: image)
            plain = make_clean_texture(source.image, source.face.landmarks, find_hands=False).image
        change = np.abs(lifted.astype(int) - plain.astype(int))
        assert change.max() <= 3 and change.mean() < 0.01, (name, change.max(), change.mean())
