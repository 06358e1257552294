"""No hard edge where the new face's alpha is cut inside the oval over a shaded cheek (issue 13).

d20 is lit from one side; as its head turns (frames 100-149) its left cheek (image right) falls to
0.35-0.4 of the lit cheek's lightness towards the ear. blend/mask.edge_off_skin leaves that side to
the target from ~0.08 of the face inside the oval (too dark for its skin reference), and the relit
new face falls off far less than the target: s42's face at 76-84 grey levels met d20's shaded cheek
at 34-42 across the cut's 8 pixels, a hard brown edge from the eye to the jaw (session 25's contact
sheet; the blind judge's "colour patch at the cheek edge"). blend/color._cut_membrane takes the new
face's lightness to the target's along such a cut, fading out inwards.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import realism
from realtime.settings import Settings
from tests.conftest import media
from tests.test_blend_seam_shade import _face
from tests.test_swap_realism import swap_over

# A step is measured across this many pixels (the cut's alpha falls from 1 to 0 over ~8 at 480p).
SPAN = 6


def largest_excess_step(output: np.ndarray, under: np.ndarray, points: np.ndarray, size: float) -> float:
    """The largest horizontal grey step (over SPAN pixels) of `output` beyond the one of the
    picture under the layer at the same place, over the face's left cheek (image right): from just
    inside the outer corner of its left eye to the face's outline, from 0.05 of the face under the
    eye to below the mouth. (At the eye's own height, beside its corner, the target's hair at the
    temple is left to it: a step of 32 grey levels there on main and on this branch.)"""
    out, camera = (realism.grey(x.astype(np.float32)) for x in (output, under))
    excess = np.abs(out[:, SPAN:] - out[:, :-SPAN]) - np.abs(camera[:, SPAN:] - camera[:, :-SPAN])
    x0, x1 = int(points[263, 0]) - 10, int(points[:, 0].max())
    y0, y1 = int(points[263, 1] + 0.05 * size), int(points[291, 1]) + 20
    return float(excess[y0:y1, x0 - SPAN // 2:x1 - SPAN // 2].max())


def test_no_hard_edge_where_the_shaded_cheek_is_left_to_the_target(library):
    image, face = _face("d20.mp4", 149)
    source = media("s42.jpg")
    if not source.exists():
        pytest.skip(f"needs {source}")
    frame, under, moved = swap_over(Settings(), library.get(str(source)), image, face)
    step = largest_excess_step(frame.output, under, moved.landmarks, moved.size)
    # Main (8188412): 34.5 grey levels over 6 pixels, the cut's edge down the cheek (over 27 on
    # every row from the cheekbone to the jaw); the branch 16.0 (blend/color._cut_membrane).
    assert step < 20.0, step
