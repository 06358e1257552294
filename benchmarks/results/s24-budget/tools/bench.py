# ruff: noqa  (measurement scripts of benchmarks/results/s24-budget, kept as they were run)
"""Interleaved CPU timing of detail_on_luma on captured calls: bench.py pkl rootA rootB ... (each root imported in its own subprocess round)"""
import json
import pickle
import subprocess
import sys
import time

import numpy as np

if sys.argv[1] == "--one":
    root, pkl, reps = sys.argv[2], sys.argv[3], int(sys.argv[4])
    sys.path.insert(0, root)
    import cv2; cv2.setNumThreads(1)
    import realtime.blend.stage as stage
    calls = pickle.load(open(pkl, "rb"))
    per = []
    for r in range(reps + 1):
        for (args, gains, _res) in calls:
            image, camera, layer, strength, gf = args
            t = time.process_time()
            stage.detail_on_luma(image, camera, layer, strength, gf, lambda w, g, gains=gains: gains.get(w, g))
            if r: per.append(time.process_time() - t)
    print(json.dumps(1000 * float(np.median(per))))
    sys.exit()
pkl, roots, rounds = sys.argv[1], sys.argv[2:], 3
out = {r: [] for r in roots}
for _ in range(rounds):
    for r in roots:
        v = json.loads(subprocess.run([sys.executable, __file__, "--one", r, pkl, "3"], capture_output=True, text=True).stdout)
        out[r].append(round(v, 3))
for r, v in out.items(): print(r, v, "mean", round(sum(v)/len(v), 3))
