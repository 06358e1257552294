"""browdemo.py OUT.mp4 TAG: brow band (brow points raised 2% of the face) darkness under the forehead, grey levels, on the written demo"""
import json
import sys

import cv2
import numpy as np

sys.path.insert(0, '.')
from benchmarks.quality_swap import decode
from benchmarks.quality_written import landmarks_of
from realtime.capture.demo import DemoSource
from realtime.faces.topology import topology
from realtime.settings import CaptureSettings
from tests.test_swap_shadows import _hull

out, _ = decode(sys.argv[1], 45)
demo = DemoSource(CaptureSettings(size=(1280, 720)))
idx = list(range(0, len(out), 3))
refs = landmarks_of([demo.frame(i) for i in idx])
top = topology()
dark, detail = [], []
for j, i in enumerate(idx):
    lm = refs[j]
    if lm is None:
        continue
    g = cv2.cvtColor(out[i], cv2.COLOR_BGR2GRAY).astype(np.float32)
    size = float(np.hypot(*(lm[:468, :2].max(0) - lm[:468, :2].min(0))))
    for brow in (top.right_eyebrow, top.left_eyebrow):
        raised = lm[brow, :2] - [0.0, 0.02 * size]
        band = _hull(g.shape, raised)
        fore = _hull(g.shape, lm[brow, :2] - [0.0, 0.08 * size]) & ~_hull(g.shape, raised, 3)
        dark.append(float(np.median(g[fore]) - np.median(g[band])))
        hp = g - cv2.GaussianBlur(g, (0, 0), 2)
        detail.append(float(np.std(hp[band])))
print(json.dumps(dict(tag=sys.argv[2], brow_band_below_forehead=round(float(np.mean(dark)), 2), brow_band_detail_std=round(float(np.mean(detail)), 2), n=len(dark))))
