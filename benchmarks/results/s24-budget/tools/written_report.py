# ruff: noqa  (measurement scripts of benchmarks/results/s24-budget, kept as they were run)
import itertools
import json
import sys

import cv2
import numpy as np

sys.path.insert(0, "/tmp/s24-budget")
from cmp_written import boxes, compare, frames

out = {}
for src, tgt in (("s42", "d13"), ("s12", "d14")):
    def f(t):
        return f"/tmp/s24-budget/w_{t}_{src}_{tgt}.mp4"
    res = {"main1 vs main2": compare(f("main1"), f("main2"), tgt)}
    for m, b in itertools.product(("main1", "main2"), ("br1", "br2")):
        res[f"{m} vs {b}"] = compare(f(m), f(b), tgt)
    res["br1 vs br2"] = compare(f("br1"), f("br2"), tgt)
    out[f"{src}>{tgt}"] = res
    for k, v in res.items(): print(src, tgt, k, v)
    # 3x crop of frame 45, the eyes and brows: main1 | br1 | |main1 - br1| x8 | |main1 - main2| x8
    fm, fb, fm2 = frames(f("main1")), frames(f("br1")), frames(f("main2"))
    x0, y0, x1, y1 = boxes(tgt, 60)[45]
    h = y1 - y0; ys, ye = y0 + int(0.15 * h), y0 + int(0.5 * h)
    def crop(im):
        return im[ys:ye, x0:x1]
    a, b, c = crop(fm[45]), crop(fb[45]), crop(fm2[45])
    def d8(p, q):
        return np.clip(np.abs(p.astype(int) - q.astype(int)) * 8, 0, 255).astype(np.uint8)
    bar = np.full((a.shape[0], 3, 3), 255, np.uint8)
    row = np.concatenate([a, bar, b], axis=1)
    scale = min(3.0, 900 / row.shape[1])
    cv2.imwrite(f"/tmp/s24-budget/written_{src}_{tgt}_f45_main_branch.png", cv2.resize(row, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST))
    row2 = np.concatenate([d8(a, c), bar, d8(a, b)], axis=1)
    cv2.imwrite(f"/tmp/s24-budget/written_{src}_{tgt}_f45_diff8_mainmain_mainbranch.png", cv2.resize(row2, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST))
json.dump(out, open("/tmp/s24-budget/written_diff.json", "w"), indent=1)
