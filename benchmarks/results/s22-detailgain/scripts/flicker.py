"""Face's detail per frame on written files: band RMS over the face interior, frame-to-frame step."""

import json
import os
import sys

import av
import cv2
import numpy as np

from realtime.faces import create_detector
from realtime.faces.topology import topology
from realtime.settings import FaceSettings


def frames(path):
    with av.open(path) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


LO, HI = float(os.environ.get("LO", 1.0)), float(os.environ.get("HI", 3.0))
det = create_detector(FaceSettings(max_faces=1), static=True)
top = topology()
result = {}
for name in sys.argv[1:]:
    files = {k: frames(f"/tmp/s22-detailgain/w_{name}_{k}.mp4") for k in ("main", "branch")}
    target = frames(f"/tmp/s22-detailgain/{name.split('_')[1]}.mp4")
    masks = []
    for pic in files["main"]:
        pts = det.detect(pic)[0].landmarks
        m = np.zeros(pic.shape[:2], np.uint8)
        cv2.fillConvexPoly(m, cv2.convexHull(np.round(pts[:, :2]).astype(np.int32)), 1)
        size = np.sqrt(m.sum())
        m = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(size * 0.1) | 1,) * 2))
        masks.append(m > 0)
    out = {}
    for k, pics in list(files.items()) + [("camera", target[: len(files["main"])])]:
        greys = [cv2.cvtColor(p, cv2.COLOR_BGR2GRAY).astype(np.float32) for p in pics]
        feat, fine = [], []
        for g, m in zip(greys, masks, strict=False):
            b1 = cv2.GaussianBlur(g, (0, 0), LO)
            feat.append(float(np.sqrt(np.mean((b1 - cv2.GaussianBlur(g, (0, 0), HI))[m] ** 2))))
            fine.append(float(np.sqrt(np.mean((g - cv2.GaussianBlur(g, (0, 0), 1.0))[m] ** 2))))
        change = [
            float(np.mean(np.abs(b - a)[m])) for a, b, m in zip(greys, greys[1:], masks[1:], strict=False)
        ]
        fb = [cv2.GaussianBlur(g, (0, 0), LO) - cv2.GaussianBlur(g, (0, 0), HI) for g in greys]
        fchange = [float(np.mean(np.abs(b - a)[m])) for a, b, m in zip(fb, fb[1:], masks[1:], strict=False)]
        fsteps = [abs(np.log(b / a)) for a, b in zip(feat, feat[1:], strict=False)]
        out[k] = dict(
            feature_band_rms=[round(x, 3) for x in feat],
            fine_rms=[round(x, 3) for x in fine],
            feature_step_mean=float(np.mean(fsteps)),
            feature_step_max=float(np.max(fsteps)),
            feature_band_change_mean=float(np.mean(fchange)),
            grey_change_mean=float(np.mean(change)),
            feature_rms_even=float(np.mean(feat[0::2])),
            feature_rms_odd=float(np.mean(feat[1::2])),
        )
        print(
            name,
            k,
            "feature RMS even/odd {:.3f}/{:.3f}  log-step mean {:.4f} max {:.4f}  band change {:.3f}  grey change {:.3f}".format(
                out[k]["feature_rms_even"],
                out[k]["feature_rms_odd"],
                out[k]["feature_step_mean"],
                out[k]["feature_step_max"],
                out[k]["feature_band_change_mean"],
                out[k]["grey_change_mean"],
            ),
            flush=True,
        )
    result[name] = out
with open(f"/tmp/s22-detailgain/flicker_written_{LO}_{HI}.json", "w") as f:
    json.dump(result, f, indent=1)
