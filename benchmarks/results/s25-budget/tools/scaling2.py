# ruff: noqa  (measurement scripts of benchmarks/results/s25-budget, kept as they were run; scratch paths /tmp/s25-budget)
"""swap+blend CPU p50 vs frame scale (same clip resized): how much of the cost follows the pixels."""
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
out = {}
for scale in [float(x) for x in sys.argv[4].split(",")]:
    pics = [cv2.resize(p, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC) if scale != 1 else p for p in base]
    det = create_detector(FaceSettings(max_faces=1), static=False)
    faces = [det.detect(p) for p in pics]; det.close()
    b = faces[5][0].box
    rows = []
    for variant, over in [("all on", {}), ("five off", swap_cost.VARIANTS["all five off"])]:
        s = Settings().replace(source=src, **over)
        ps = []
        for r in range(2):
            row = swap_cost.measure(pics, faces, s, lib)
            ps.append(row["swap_blend_p50_ms"])
        rows.append((variant, [round(x, 2) for x in ps], round(min(ps), 2)))
    print(json.dumps({"scale": scale, "face_px": round(faces[5][0].size), "box": [b[2]-b[0], b[3]-b[1]], "box_px": (b[2]-b[0])*(b[3]-b[1]), "p50": rows}), flush=True)
