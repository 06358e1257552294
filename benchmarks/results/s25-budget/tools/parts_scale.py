# ruff: noqa  (measurement scripts of benchmarks/results/s25-budget, kept as they were run; scratch paths /tmp/s25-budget)
"""Per-part CPU p50 (ms) at frame scales 0.5 and 1.0: which parts follow the box's pixels."""
import sys, json
sys.path.insert(0, sys.argv[1])
import cv2, numpy as np
cv2.setNumThreads(1)
from benchmarks import swap_cost
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.settings import FaceSettings, Settings
inp, src = sys.argv[2], sys.argv[3]
base = swap_cost.frames(inp, 30)
lib = SourceLibrary()
res = {}
for scale in [0.5, 1.0]:
    pics = [cv2.resize(p, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale != 1 else p for p in base]
    det = create_detector(FaceSettings(max_faces=1), static=False)
    faces = [det.detect(p) for p in pics]; det.close()
    rows = [swap_cost.measure(pics, faces, Settings().replace(source=src), lib, parts=True) for _ in range(2)]
    b = faces[5][0].box
    res[scale] = {"box_px": (b[2]-b[0])*(b[3]-b[1]), "total": min(r["swap_blend_p50_ms"] for r in rows),
                  "swap": min(r["swap_p50_ms"] for r in rows), "blend": min(r["blend_p50_ms"] for r in rows),
                  "parts": {k: min(r["parts_mean_ms"][k] for r in rows) for k in rows[0]["parts_mean_ms"]}}
print(json.dumps(res))
