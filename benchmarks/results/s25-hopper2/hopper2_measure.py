"""Hopper on the demo, written file: under-eye / bridge L* vs the demo's own, fold darkness, identity.
hopper2_measure.py OUT.mp4 TAG [frames], from the repository root; prints and writes /tmp/s25-hopper2/m_TAG.json"""
import json
import sys

import cv2
import numpy as np

sys.path.insert(0, ".")
from benchmarks import realism
from benchmarks.identity import IdentityModel
from benchmarks.quality_swap import decode
from benchmarks.quality_written import landmarks_of
from realtime.capture.builtin import builtin_source_path
from realtime.capture.demo import DemoSource
from realtime.faces.topology import topology
from realtime.settings import CaptureSettings
from tests.test_swap_shadows import _hull

path, tag = sys.argv[1], sys.argv[2]
frames = int(sys.argv[3]) if len(sys.argv) > 3 else 45
out, _ = decode(path, frames)
demo = DemoSource(CaptureSettings(size=(1280, 720)))
idx = list(range(0, len(out), 2))
tg = [demo.frame(i) for i in idx]
refs = landmarks_of(tg)
top = topology()
regions = {'undereye': [[111, 117, 118, 119, 120, 121, 47, 100, 101, 50, 123], [340, 346, 347, 348, 349, 350, 277, 329, 330, 280, 352]],
           'bridge': [[168, 6, 197, 193, 417, 122, 351]], 'cheek': [[205, 187, 207, 216, 206, 203], [425, 411, 427, 436, 426, 423]]}
NOSE = [64, 98, 97, 2, 326, 327, 294, 278, 48, 4, 240, 460, 75, 305, 1, 129, 358]
idm = IdentityModel()
ref = idm.embed(cv2.imread(str(builtin_source_path())))
acc = {k: [] for k in regions}
fold = {"out_p99": [], "demo_p99": [], "out_px15": [], "demo_px15": []}
ids = []
for j, i in enumerate(idx):
    lm = refs[j]
    if lm is None:
        continue
    lab, labt = realism.lab(out[i]), realism.lab(tg[j])
    shape = lab.shape[:2]
    for k, hulls in regions.items():
        m = np.zeros(shape, bool)
        for h in hulls:
            m |= _hull(shape, lm[h, :2])
        acc[k].append(lab[m][:, 0].mean() - labt[m][:, 0].mean())
    # Folds: the lower face below the nose tip, not the lips (grown 3% of the face) nor the nose.
    size = float(np.hypot(*(lm[:468, :2].max(0) - lm[:468, :2].min(0))))
    oval = lm[top.face_oval, :2]
    zone = _hull(shape, np.vstack([oval[oval[:, 1] > lm[1, 1]], lm[[1], :2]]))
    k = int(0.04 * size) | 1
    zone &= cv2.erode(_hull(shape, oval).astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    zone &= ~_hull(shape, lm[top.outer_lips, :2], 0.03 * size) & ~_hull(shape, lm[NOSE, :2], 0.01 * size)
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    for name, L in (("out", lab[..., 0]), ("demo", labt[..., 0])):
        bh = cv2.morphologyEx(L.astype(np.float32), cv2.MORPH_BLACKHAT, ker)[zone]
        fold[f"{name}_p99"].append(float(np.percentile(bh, 99)))
        fold[f"{name}_px15"].append(float((bh > 15).sum()))
    e = idm.embed(out[i])
    if e is not None:
        ids.append(idm.distance(e, ref))
res = dict(tag=tag, frames=len(out), measured=len(acc['cheek']),
           **{f"{k}_dL_vs_demo": float(np.mean(v)) for k, v in acc.items()},
           **{f"fold_{k}": float(np.mean(v)) for k, v in fold.items()},
           identity=float(np.mean(ids)), identity_se=float(np.std(ids) / np.sqrt(len(ids))), identity_n=len(ids))
print(json.dumps(res))
with open(f"/tmp/s25-hopper2/m_{tag}.json", "w") as f:
    json.dump(res, f, indent=1)
