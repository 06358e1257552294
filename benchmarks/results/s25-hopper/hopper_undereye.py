import sys

import numpy as np

sys.path.insert(0, ".")
from benchmarks import realism
from benchmarks.quality_swap import decode
from benchmarks.quality_written import landmarks_of
from realtime.capture.demo import DemoSource
from realtime.settings import CaptureSettings
from tests.test_swap_shadows import _hull

demo = DemoSource(CaptureSettings(size=(1280, 720)))
idx = list(range(0, 90, 6))
tg = [demo.frame(i) for i in idx]
refs = landmarks_of(tg)
regions = {'undereye': [[111, 117, 118, 119, 120, 121, 47, 100, 101, 50, 123], [340, 346, 347, 348, 349, 350, 277, 329, 330, 280, 352]],
           'bridge': [[168, 6, 197, 193, 417, 122, 351]], 'cheek': [[205, 187, 207, 216, 206, 203], [425, 411, 427, 436, 426, 423]]}
for p in sys.argv[1:]:
    fr, _ = decode(p, 90)
    acc = {k: [] for k in regions}
    for j, i in enumerate(idx):
        lm = refs[j]
        if lm is None:
            continue
        lab = realism.lab(fr[i])
        labt = realism.lab(tg[j])
        for k, hulls in regions.items():
            m = np.zeros(lab.shape[:2], bool)
            for h in hulls:
                m |= _hull(lab.shape[:2], lm[h, :2])
            acc[k].append((lab[m][:, 0].mean() - labt[m][:, 0].mean(), np.hypot(lab[m][:, 1], lab[m][:, 2]).mean() - np.hypot(labt[m][:, 1], labt[m][:, 2]).mean()))
    print(p.split('/')[-1], {k: np.round(np.mean(v, axis=0), 1).tolist() for k, v in acc.items()})
