"""a*, b* of the skin under the nostrils and of the nostrils, minus the cheeks' (medians), every 3rd of 60 frames
(s25-noseratio: does the lift tint the shade?). Zones from s25-nose's nosemeasure.py (branch s25-lead).
python benchmarks/results/s25-noseratio/shadeab.py DIR pair...  (run from the repository root)"""
import sys

import cv2
import numpy as np

sys.path.insert(0, "benchmarks/results/s25-nose")
from nosemeasure import MEDIA, decode, landmarks_of, zones  # noqa: E402

for pair in sys.argv[2:]:
    d = pair.split("_")[1]
    tgt, _ = decode(f"{MEDIA}/{d}.mp4", 60)
    out, _ = decode(f"{sys.argv[1]}/{pair}.mp4", 60)
    refs = landmarks_of(tgt)
    rows = []
    for i in range(0, min(len(out), len(tgt)), 3):
        if refs[i] is None:
            continue
        lab = cv2.cvtColor(out[i].astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)
        z = zones(lab.shape[:2], refs[i])
        cheek = np.median(lab[z["cheek"]][:, 1:], axis=0)
        rows.append(np.concatenate([np.median(lab[z[k]][:, 1:], axis=0) - cheek for k in ("subnasal", "nostrils")]))
    m = np.mean(rows, axis=0)
    print(f"{pair}: under the nostrils da {m[0]:+.2f} db {m[1]:+.2f}   nostrils da {m[2]:+.2f} db {m[3]:+.2f}", flush=True)
