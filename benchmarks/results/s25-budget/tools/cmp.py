# ruff: noqa  (measurement scripts of benchmarks/results/s25-budget, kept as they were run; scratch paths /tmp/s25-budget)
"""cmp.py REF.mp4 target OTHER.mp4...: face-box |diff| (largest channel) of each file against REF over all frames."""
import sys, json, os, pickle
import av, numpy as np
sys.path.insert(0, "/work/wt/s25-budget")
def frames(p):
    with av.open(p) as c: return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
def boxes(target, n):
    cache = f"/tmp/s25-budget/boxes_{target}_{n}.pkl"
    if not os.path.exists(cache):
        from realtime.faces import create_detector
        from realtime.settings import FaceSettings
        det = create_detector(FaceSettings(max_faces=1), static=False)
        out = []
        with av.open(f"/work/shared/media/{target}.mp4") as c:
            for i, f in enumerate(c.decode(video=0)):
                if i >= n: break
                found = det.detect(f.to_ndarray(format="bgr24")); out.append(found[0].box if found else None)
        det.close(); pickle.dump(out, open(cache, "wb"))
    return pickle.load(open(cache, "rb"))
ref, target = frames(sys.argv[1]), sys.argv[2]
bx = boxes(target, len(ref))
res = {}
for other in sys.argv[3:]:
    fo = frames(other); ds = []
    for i, (x, y) in enumerate(zip(ref, fo)):
        if bx[i] is None: continue
        x0, y0, x1, y1 = bx[i]
        ds.append(np.abs(x[y0:y1, x0:x1].astype(np.int16) - y[y0:y1, x0:x1].astype(np.int16)).max(axis=2).ravel())
    d = np.concatenate(ds)
    res[os.path.basename(other)] = {"mean": round(float(d.mean()), 3), "p99": float(np.percentile(d, 99)),
        "p99.9": float(np.percentile(d, 99.9)), "max": int(d.max()), "share_over_2": round(float((d > 2).mean()), 4)}
    print(os.path.basename(sys.argv[1]), "vs", os.path.basename(other), res[os.path.basename(other)], flush=True)
