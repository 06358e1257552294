# ruff: noqa  (measurement scripts of benchmarks/results/s25-budget, kept as they were run; scratch paths /tmp/s25-budget)
"""Interleaved: swap+blend CPU p50 and in-process picture vs main for several working sizes."""
import sys, json, time
sys.path.insert(0, sys.argv[1])
import cv2, numpy as np
cv2.setNumThreads(1)
from benchmarks import swap_cost
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.settings import FaceSettings, Settings
import realtime.swap.mesh as mesh
inp, src = sys.argv[2], sys.argv[3]
configs = json.loads(sys.argv[4])  # [[name, source_detail, floor], ...]
rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 2
pics = swap_cost.frames(inp, 30)
det = create_detector(FaceSettings(max_faces=1), static=False)
faces = [det.detect(p) for p in pics]; det.close()
lib = SourceLibrary()
s = Settings().replace(source=src)
res = {c[0]: [] for c in configs}; outs = {}
for r in range(rounds):
    for name, sd, fl in configs:
        mesh.SOURCE_DETAIL, mesh.WORK_FLOOR_PX = sd, fl
        o = []
        row = swap_cost.measure(pics, faces, s, lib, outputs=o)
        res[name].append(round(row["swap_blend_p50_ms"], 2))
        outs[name] = o
print("face size", faces[5][0].size)
base = outs[configs[0][0]]
for name, *_ in configs:
    d = np.concatenate([np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)[f[0].box[1]:f[0].box[3], f[0].box[0]:f[0].box[2]].ravel()
                        for a, b, f in zip(base, outs[name], faces)])
    dist = swap_cost.picture_distance(base, outs[name], faces)
    print(name, "p50 ms", res[name], "mean", round(float(np.mean(res[name])), 2),
          "diff mean %.2f p99 %d p99.9 %d max %d" % (d.mean(), np.percentile(d, 99), np.percentile(d, 99.9), d.max()), dist)
