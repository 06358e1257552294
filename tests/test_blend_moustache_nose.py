"""A worn moustache is toned as hair, the nose above it as a nose (issue 13).

s12 (young Einstein) has a near-black moustache reaching up to his nostrils; in the photo the
nostrils and the tuft under the columella are as dark as the hair. On the pale, flat-lit d14 the
hair tone (realtime/blend/hair_tone.py) darkens the moustache to the camera's pupils' darkness,
and brows.hair_weight's body took the nostrils and the columella in with it: one near-black mass
from the nose's tip into the moustache (the blind judge of seed 45, s12 on d14: "the nose tip a
dark blob merging into the moustache"). The nostrils stay dark, but as the colour transfer draws
them, lighter than the toned hair (hair_tone.off_the_nose).
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.faces.brows import _CHEEKS

# The nose's lower part (nostrils, columella; hair_tone._NOSE_BASE, written out: the test reads
# the picture, not the module) and the upper lip below it, from the nose's base to the lip's top.
_NOSE = (98, 97, 2, 326, 327, 294, 278, 438, 457, 274, 1, 44, 237, 218, 64)
_UPPER_LIP = (97, 2, 326, 267, 0, 37)


def _shares(output: np.ndarray, points: np.ndarray) -> tuple[float, float]:
    """(the nose's darkest quarter, the upper lip's darker half), each as a share of the cheeks' grey."""
    grey = cv2.cvtColor(output, cv2.COLOR_BGR2GRAY).astype(np.float32)
    cheeks = float(np.median([grey[int(round(points[i, 1])), int(round(points[i, 0]))] for i in _CHEEKS]))

    def darkest(indices: tuple[int, ...], share: float) -> float:
        region = np.zeros(grey.shape, np.uint8)
        cv2.fillPoly(region, [np.round(points[list(indices)]).astype(np.int32)], 1)
        values = np.sort(grey[region > 0])
        return float(values[:max(1, int(share * values.size))].mean()) / cheeks

    return darkest(_NOSE, 0.25), darkest(_UPPER_LIP, 0.5)


def test_a_toned_moustache_leaves_the_nostrils_lighter_than_the_hair(swap_one):
    _, face, output = swap_one("d14.mp4", 45, "s12.jpg", moved=True)
    nostrils, moustache = _shares(output, face.landmarks[:, :2])
    # The moustache is still toned to d14's darkness (0.34 of the cheeks untoned, 0.23 on main).
    assert moustache < 0.27, moustache
    # The nostrils lighter than the hair beside them: on main 1.15x (0.268 against 0.233, one dark
    # mass), here 1.42x (0.342 against 0.241).
    assert nostrils > 1.3 * moustache, (nostrils, moustache)
