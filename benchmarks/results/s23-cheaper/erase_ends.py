"""Does the brow erase still take a whole brow at a coarser working size? Synthetic: an 800-px face,
two brows (landmarks along a dark band 16 px thick, 60 on skin at 180), the layer fully shown, a new
face (170) with no brow; 12 random placements (the brows' landmark heights), 24 brows. Prints, per
ERASE_PX, how many brows keep a pixel darker than 120 after the erase and the darkest pixels left.

    PYTHONPATH=<checkout> python benchmarks/results/s23-cheaper/erase_ends.py
"""

import numpy as np

from realtime.faces import brows
from realtime.faces.topology import topology

top = topology()
for px in (150, 100, 75):
    brows.ERASE_PX = px
    bad, darkest = 0, []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        points = np.zeros((478, 3), np.float32)
        points[:, :2] = rng.uniform(60, 540, size=(478, 2))
        for brow, (cx, cy) in ((top.right_eyebrow, (200, 200)), (top.left_eyebrow, (400, 200))):
            points[brow, 0] = cx + np.linspace(-60, 60, len(brow))
            points[brow, 1] = cy + rng.uniform(-8, 8, len(brow))
        target = np.full((600, 600, 3), 180, np.uint8)
        for cx in (200, 400):
            target[192:208, cx - 60:cx + 60] = 60
        brows.erase_brows(target, np.ones((600, 600), np.float32), points, (0, 0, 600, 600), 800.0,
                          image=np.full((600, 600, 3), 170, np.uint8))
        for cx in (200, 400):
            low = int(target[192:208, cx - 50:cx + 50].min())
            darkest.append(low)
            bad += low < 120
    print(f"ERASE_PX {px}: brows left with a pixel darker than 120: {bad}/24; darkest left {sorted(darkest)[:6]}")
