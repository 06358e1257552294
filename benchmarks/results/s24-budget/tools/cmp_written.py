# ruff: noqa  (measurement scripts of benchmarks/results/s24-budget, kept as they were run)
"""cmp_written.py A.mp4 B.mp4 target: face-region per-pixel |diff| (max channel) stats over all frames."""
import json
import os
import pickle
import sys

import av
import numpy as np

sys.path.insert(0, "/work/wt/s24-budget")
def frames(p):
    with av.open(p) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
def boxes(target, n):
    cache = f"/tmp/s24-budget/boxes60_{target}.pkl"
    if not os.path.exists(cache):
        from realtime.faces import create_detector
        from realtime.settings import FaceSettings
        det = create_detector(FaceSettings(max_faces=1), static=False)
        with av.open(f"/work/shared/media/{target}.mp4") as c:
            out = []
            for i, f in enumerate(c.decode(video=0)):
                if i >= n: break
                found = det.detect(f.to_ndarray(format="bgr24")); out.append(found[0].box if found else None)
        det.close(); pickle.dump(out, open(cache, "wb"))
    return pickle.load(open(cache, "rb"))
def compare(a, b, target):
    fa, fb = frames(a), frames(b)
    bx = boxes(target, len(fa))
    ds = []; per = []
    for i, (x, y) in enumerate(zip(fa, fb, strict=False)):
        if bx[i] is None: continue
        x0, y0, x1, y1 = bx[i]
        d = np.abs(x[y0:y1, x0:x1].astype(np.int16) - y[y0:y1, x0:x1].astype(np.int16)).max(axis=2)
        ds.append(d.ravel()); per.append(float(d.mean()))
    d = np.concatenate(ds)
    return {"frames": len(ds), "mean": round(float(d.mean()), 3), "p99.9": float(np.percentile(d, 99.9)), "max": int(d.max()),
            "share_over_2": round(float((d > 2).mean()), 4)}
if __name__ == "__main__":
    print(json.dumps(compare(*sys.argv[1:4])))
