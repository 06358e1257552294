# ruff: noqa  (measurement scripts of benchmarks/results/s24-budget, kept as they were run)
import collections
import json
import pickle
import sys
import time

root = sys.argv[1]; sys.path.insert(0, root)
import cv2; cv2.setNumThreads(1)
import numpy as np

import realtime.blend.detail as detail
import realtime.blend.stage as stage
import realtime.faces.brows as brows

calls = pickle.load(open(sys.argv[2], "rb"))
tot = collections.defaultdict(list); cur = collections.defaultdict(float)
def wrap(mod, name, label):
    orig = getattr(mod, name, None)
    if orig is None: return
    def w(*a, **k):
        t = time.process_time()
        try: return orig(*a, **k)
        finally: cur[label] += time.process_time() - t
    setattr(mod, name, w)
for mod, name in [(stage, "source_detail_gain"), (stage, "source_detail"), (stage, "feature_band"), (stage, "hair_weight"),
                  (stage, "hair_gain"), (stage, "skin_mask"), (stage, "camera_detail"), (brows, "edge_gain"), (brows, "feature_zones"),
                  (detail, "crossover_fill"), (stage, "as_grey"), (stage, "luma_pass")]:
    wrap(mod, name, name)
for r in range(4):
    for (args, gains, _res) in calls:
        image, camera, layer, strength, gf = args
        cur.clear()
        t = time.process_time()
        stage.detail_on_luma(image, camera, layer, strength, gf, lambda w, g, gains=gains: gains.get(w, g))
        cur["TOTAL"] = time.process_time() - t
        if r:
            for k, v in cur.items(): tot[k].append(v)
print(json.dumps({k: round(1000*float(np.median(v)), 3) for k, v in tot.items()}))
