import json
import sys

import cv2
import numpy as np

D = "/tmp/s22-detailgain/"
res = {}


def mask_of(pts, shape):
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull(np.round(pts).astype(np.int32)), 1)
    size = np.sqrt(m.sum())
    return cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(size * 0.1) | 1,) * 2)) > 0


for pair in sys.argv[1:]:
    a, b = np.load(D + f"ip_main_{pair}.npz"), np.load(D + f"ip_branch_{pair}.npz")
    A, B = a["out"].astype(np.int16), b["out"].astype(np.int16)
    d = np.abs(A - B).max(axis=3)
    r = dict(
        identical_frames=int(sum(np.array_equal(x, y) for x, y in zip(A, B, strict=False))),
        frames=len(A),
        max_diff=int(d.max()),
        mean_diff=float(d.mean()),
        px_over_2_per_frame=float((d > 2).sum() / len(A)),
        mean_diff_face=float(
            np.mean([dd[mask_of(p, dd.shape)].mean() for dd, p in zip(d, a["pts"], strict=False)])
        ),
    )
    for k, X in (("main", a["out"]), ("branch", b["out"])):
        bands, changes = [], []
        prev = None
        for x, p in zip(X, a["pts"], strict=False):
            g = cv2.cvtColor(x, cv2.COLOR_BGR2GRAY).astype(np.float32)
            m = mask_of(p, g.shape)
            band = cv2.GaussianBlur(g, (0, 0), 1.5) - cv2.GaussianBlur(g, (0, 0), 4.5)
            bands.append(float(np.sqrt(np.mean(band[m] ** 2))))
            if prev is not None:
                changes.append(float(np.mean(np.abs(band - prev)[m])))
            prev = band
        steps = [abs(float(np.log(y / x))) for x, y in zip(bands, bands[1:], strict=False)]
        r[k] = dict(
            band_rms=[round(x, 3) for x in bands],
            even=float(np.mean(bands[0::2])),
            odd=float(np.mean(bands[1::2])),
            step_mean=float(np.mean(steps)),
            step_max=float(np.max(steps)),
            band_change_mean=float(np.mean(changes)),
            band_change_max=float(np.max(changes)),
        )
    res[pair] = r
    print(pair, {k: v for k, v in r.items() if k not in ("main", "branch")})
    for k in ("main", "branch"):
        print(
            "   ",
            k,
            "band1.5-4.5 RMS even/odd {:.3f}/{:.3f}  step mean {:.4f} max {:.4f}  band change mean {:.3f} max {:.3f}".format(
                *tuple(
                    r[k][x]
                    for x in ("even", "odd", "step_mean", "step_max", "band_change_mean", "band_change_max")
                )
            ),
        )
with open(D + "inprocess.json", "w") as f:
    json.dump(res, f, indent=1)
