"""The new face's rim shows no dark line of the photo's own edge (its hair, its jaw's shadow) on the
camera's cheek (realtime/blend/edge_band.py; benchmarks/results/s34-seam/)."""

from __future__ import annotations

import numpy as np

# d6 frame 58, her left jaw side: the face oval at x ~128, the mask's feathered band to x ~150, over
# y 270-328. s12's photo has its hair and the shadow under its jaw at the rim of its face, 30-37
# grey levels darker than her cheek there.
ROWS = slice(270, 328)
COLUMNS = range(120, 180)


def test_no_dark_line_along_a_jaw_side(swap_one):
    from benchmarks.realism import grey

    image, _, output = swap_one("d6.mp4", 58, "s12.jpg")
    difference = grey(output.astype(np.float32)) - grey(image.astype(np.float32))
    # Output - camera (grey levels), mean over the rows, per column across the side.
    profile = np.array([difference[ROWS, column].mean() for column in COLUMNS])
    # Over the rim (the first 25 columns, before the new face's own lightness rises): main 0013db4
    # -4.5 levels (a dark line along the jaw, then the face ~30 levels lighter); this branch -0.2.
    assert float(profile[:25].min()) >= -2.0, np.round(profile, 1).tolist()
    # ... and the new face is still there beside it (the change is the rim's alone).
    assert float(profile[40:].mean()) >= 15.0, np.round(profile, 1).tolist()
