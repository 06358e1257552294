# ruff: noqa  (measurement scripts of benchmarks/results/s24-budget, kept as they were run)
import pickle
import sys

import numpy as np

a, b = pickle.load(open(sys.argv[1], "rb")), pickle.load(open(sys.argv[2], "rb"))
for pkl in a:
    calls = pickle.load(open(pkl, "rb"))
    ds = []; worst = (0, 0)
    for i, (x, y, c) in enumerate(zip(a[pkl], b[pkl], calls, strict=False)):
        d = np.abs(x.astype(int) - y.astype(int)).max(axis=2)[c[0][2].alpha > 0.01]
        ds.append(d); worst = max(worst, (int(d.max()), i))
    d = np.concatenate(ds)
    print(pkl.split("/")[-1], "max", d.max(), "worst frame", worst, "p99.9", np.percentile(d, 99.9), "p99", np.percentile(d, 99), ">2/frame", (d > 2).sum() / len(ds), ">1/frame", (d > 1).sum() / len(ds), "mean", d.mean().round(4))
