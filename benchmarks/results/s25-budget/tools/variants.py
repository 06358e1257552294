# ruff: noqa  (measurement scripts of benchmarks/results/s25-budget, kept as they were run; scratch paths /tmp/s25-budget)
"""swap+blend CPU p50 per feature switched off (swap_cost.VARIANTS + face_shape 0), interleaved 2 rounds."""
import sys, json
sys.path.insert(0, sys.argv[1])
import cv2, numpy as np
cv2.setNumThreads(1)
from benchmarks import swap_cost
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.settings import FaceSettings, Settings
inp, src = sys.argv[2], sys.argv[3]
pics = swap_cost.frames(inp, 30)
det = create_detector(FaceSettings(max_faces=1), static=False)
faces = [det.detect(p) for p in pics]; det.close()
lib = SourceLibrary()
variants = dict(swap_cost.VARIANTS)
variants["no shape transfer (face_shape=0)"] = {"face_shape": 0.0}
variants["all five + shape off"] = {**swap_cost.VARIANTS["all five off"], "face_shape": 0.0}
res = {k: [] for k in variants}
for r in range(3):
    for name, over in variants.items():
        res[name].append(swap_cost.measure(pics, faces, Settings().replace(source=src, **over), lib)["swap_blend_p50_ms"])
base = np.median(res["all on (defaults)"])
for k, v in res.items():
    print(f"{k:42s} {np.median(v):6.2f}  saves {base - np.median(v):5.2f}  ({[round(x,2) for x in v]})")
