"""A hand in front of the target's face stays in front up to its own outline: no rim of the new
face along it (issue 13, "target occluders stay in front, with no seam"; session 22).

MediaPipe Hands gives a hand's joints, and the layer keeps the target's pixels over their hull
widened (realtime/faces/occluders.HandOccluder.mask). The joints lie inside the skin: on the
written d10_hand clip a fist's outline lies 0.07-0.10 of the hull's span beyond it (99th
percentile per frame; 0.09-0.13 at the farthest). Widened by 0.05 of the span and blurred about
that line, the mask's soft edge lay on the hand: its outer 8-12 px showed the new face, and the
fist's dark top edge became a bright rim (a straight step of 4.7 grey levels on s9's written
file, 7 of 60 frames over 3).

Here: d9's real frame and face, the real swapper and blend stage, and a hand-coloured "fist" drawn
in front of the mouth whose joints' hull (what the hand tracker would report) lies 0.07 of its
span inside its outline.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.faces.occluders import HandOccluder
from realtime.settings import Settings
from tests.conftest import media

# The fist's outline beyond its joints' hull, a fraction of the hull's span (as measured on d10_hand).
OUTSIDE_HULL = 0.07
# The benchmark's tolerance for a kept hand pixel (benchmarks/realism.HAND_TOLERANCE).
TOLERANCE = 8


def _fist(image: np.ndarray, face) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the picture with a fist in front of the mouth, the fist's mask, its joints' hull)."""
    mouth = face.landmarks[[13, 14, 61, 291], :2].mean(axis=0)
    centre = (int(round(mouth[0])), int(round(mouth[1] + 0.04 * face.size)))
    axes = np.array([0.2, 0.15]) * face.size
    picture = image.copy()
    fist = np.zeros(image.shape[:2], np.uint8)
    cv2.ellipse(fist, centre, tuple(int(round(a)) for a in axes), 0, 0, 360, 1, -1)
    # Pale skin, its outline turning away from the light: a darker band along the edge, as a
    # real fist's top edge (the rim showed where the new face met it).
    inner = cv2.erode(fist, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    picture[fist > 0] = (150, 165, 205)
    picture[(fist > 0) & (inner == 0)] = (95, 110, 150)
    # The joints' hull: the ellipse shrunk until the outline lies OUTSIDE_HULL of its span beyond it.
    inset = 0.0
    for _ in range(20):
        span = 2.0 * float(np.hypot(*(axes - inset)))
        inset = OUTSIDE_HULL * span
    hull = cv2.ellipse2Poly(centre, tuple(int(round(a - inset)) for a in axes), 0, 0, 360, 15).astype(np.float32)
    return picture, fist > 0, hull


def test_the_fists_edge_stays_in_front(library, d9_frame, monkeypatch):
    from realtime.swap import mesh
    from tests.test_swap_realism import swap

    image, face = d9_frame
    picture, fist, hull = _fist(image, face)

    class Tracked(HandOccluder):
        """The hand tracker's answer for this picture: the fist's joints' hull."""

        def update(self, image: np.ndarray) -> list[np.ndarray]:
            return [hull]

    monkeypatch.setattr(mesh, "HandOccluder", Tracked)
    output = swap(Settings(), library.get(str(media("s42.jpg"))), picture, face).output
    change = np.abs(output.astype(np.int16) - picture.astype(np.int16)).max(axis=2)
    # The fist's outer band: its outline to 8 px inside, where the rim was.
    band = fist & ~(cv2.erode(fist.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (17, 17))) > 0)
    assert band.sum() > 500
    kept = float((change[band] <= TOLERANCE).mean())
    rim = float(change[band].mean())
    # Main: 59% of the band kept, 10.5 levels on average (the new face over the fist's edge), and
    # 90% of the whole fist; the branch: all of it, 0.0 levels.
    assert kept >= 0.98, (kept, rim)
    assert rim <= 2.0, (kept, rim)
    # ... and the whole fist is the camera's.
    assert float((change[fist] <= TOLERANCE).mean()) >= 0.99
