"""The doubled-lid metric on written files (s24-lid; README here).

usage: PYTHONPATH=<root> python lid_metric.py OUT.json TARGET.mp4 OUTPUT.mp4 [OUTPUT.mp4 ...]

Each picture with its own landmarks (static MediaPipe on that picture: the output's eyes sit where
the face-shape transfer moved them). Per eye, per column over the middle 60% of the eye (corner to
corner, 13 columns), the vertical grey profile from the brow's lower edge down to the lower lid
(0.25-px samples, smoothed with a 0.5-px Gaussian). From 30% of the way below the brow down to the
slit (the darkest point from 0.1 eye widths above the upper lid point down), the profile's
downward steps (peaks of minus its slope, at least STEP grey levels per pixel, prominence STEP/2):
one on a lid that darkens once into the slit; two or more where a second lid line (a ridge) or a
lash band or crease above the slit (a terrace) sits over it.
- doubled: the share of columns with two or more such steps (per eye, mean over frames);
- strength: the summed slope of the steps after the steepest (grey levels per pixel).
The target's own value is its floor (d20: 0.00-0.03); on a target with glasses across the lid
(d13) or a made-up crease (d3) the target itself counts high and the metric says little.
"""
import json
import sys

import av
import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from realtime.faces import create_detector
from realtime.settings import FaceSettings

EYES = ((33, 133, (46, 53, 52, 65, 55), (246, 161, 160, 159, 158, 157, 173), (7, 163, 144, 145, 153, 154, 155)),
        (263, 362, (276, 283, 282, 295, 285), (466, 388, 387, 386, 385, 384, 398), (249, 390, 373, 374, 380, 381, 382)))
STEP = 2.0  # grey levels per pixel
SMOOTH = 0.5  # px
S = 4  # samples per pixel


def _at(lm, ids, x):
    xs, ys = lm[list(ids), 0], lm[list(ids), 1]
    o = np.argsort(xs)
    return float(np.interp(x, xs[o], ys[o]))


def eye_lid(gray, lm, eye):
    o, i, brow, uppers, lowers = EYES[eye]
    po, pi = lm[o, :2], lm[i, :2]
    w = float(np.linalg.norm(po - pi))
    doubled, strength = [], []
    for t in np.linspace(0.2, 0.8, 13):
        x = po[0] + t * (pi[0] - po[0])
        browy, upy, loy = _at(lm, brow, x), _at(lm, uppers, x), _at(lm, lowers, x)
        ys = np.arange(browy, loy + 1.0, 1.0 / S)
        prof = cv2.remap(gray, np.full((len(ys), 1), x, np.float32), ys.astype(np.float32)[:, None],
                         cv2.INTER_LINEAR)[:, 0].astype(np.float64)
        prof = gaussian_filter1d(prof, SMOOTH * S)
        low = int(max(0.0, upy - 0.1 * w - browy) * S)
        slit = low + int(np.argmin(prof[low:]))
        start = int(0.3 * (upy - browy) * S)
        if slit - start < 4:
            doubled.append(False)
            strength.append(0.0)
            continue
        fall = -np.gradient(prof[start:slit + 1]) * S
        _, props = find_peaks(np.concatenate([[0.0], fall, [0.0]]), height=STEP, prominence=0.5 * STEP)
        extra = sorted(props["peak_heights"], reverse=True)[1:]
        doubled.append(bool(extra))
        strength.append(float(sum(extra)))
    return float(np.mean(doubled)), float(np.mean(strength))


def lids(image, lm):
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return [eye_lid(gray, lm, e) for e in (0, 1)]


def frames(path, n=60):
    out = []
    with av.open(path) as c:
        for k, f in enumerate(c.decode(video=0)):
            if k >= n:
                break
            out.append(f.to_ndarray(format="bgr24"))
    return out


if __name__ == "__main__":
    out, videos = sys.argv[1], sys.argv[2:]
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    result = {}
    for name in videos:
        rows = []
        for image in frames(name):
            found = detector.detect(image)
            rows.append(None if not found else lids(image, found[0].landmarks))
        a = np.array([r for r in rows if r])
        result[name] = {"frames": rows, "doubled": [float(a[:, 0, 0].mean()), float(a[:, 1, 0].mean())],
                        "strength": [float(a[:, 0, 1].mean()), float(a[:, 1, 1].mean())]}
        d, s = result[name]["doubled"], result[name]["strength"]
        print(name, f"doubled R/L {d[0]:.2f} {d[1]:.2f}  strength R/L {s[0]:.2f} {s[1]:.2f}", flush=True)
    detector.close()
    with open(out, "w") as handle:
        json.dump(result, handle)
