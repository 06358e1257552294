"""Lightness of the nose zones relative to the cheek of the same picture (s25-nose, issue 13).
Run from the repository root:  python benchmarks/results/s25-nose/nosemeasure.py TAG DIR pair...  (pair = s9_d20)
writes nose_TAG.json in the working directory (DIR holds {pair}.mp4, written with --no-label --max-frames 60).

Zones (MediaPipe mesh indices, the TARGET's landmarks measured on the untouched input frame, used for both the
output and the input frame; the source photo's own landmarks for the photo):
- tip: the nose tip (hull of 1, 4, 45, 275, 44, 274, 19, 94, 220, 440, 237, 457);
- nostrils: the nostrils and wings below the tip (hull of 2, 97, 326, 98, 327, 64, 294, 240, 460, 75, 305,
  79, 309, 20, 250, 166, 392, 219, 439, 59, 289, 60, 290, 99, 328);
- subnasal: below the nostrils, down to the philtrum's top (hull of 2, 97, 326, 98, 327, 164, 167, 393, 165, 391,
  less the nostrils);
- flanks: each side of the nose between bridge and cheek (hull of 196, 3, 51, 45, 134, 236, 198, 131 / mirrored);
- cheek: each cheek (hull of 50, 101, 118, 117, 123, 187, 205, 36 / mirrored), the reference.
LAB L* (0-100). For each zone: median L* / median cheek L* ("rel"), and for the nostrils also the 10th
percentile / cheek ("dark10", the openings) and the share of pixels under 0.6 of the cheek. Every 3rd frame of 60
(output and input), frame 45 alone too. Source photo: once. "flicker": the mean |change| of a zone's
relative lightness between consecutive sampled frames."""
import json
import sys

import cv2
import numpy as np

sys.path.insert(0, ".")
from benchmarks.quality_swap import decode  # noqa: E402
from benchmarks.quality_written import landmarks_of  # noqa: E402

MEDIA = "/work/shared/media"
TIP = (1, 4, 45, 275, 44, 274, 19, 94, 220, 440, 237, 457)
NOSTRILS = (2, 97, 326, 98, 327, 64, 294, 240, 460, 75, 305, 79, 309, 20, 250, 166, 392, 219, 439, 59, 289, 60,
            290, 99, 328)
FLANKS = ((196, 3, 51, 45, 134, 236, 198, 131), (419, 248, 281, 275, 363, 456, 420, 360))
SUBNASAL = (2, 97, 326, 98, 327, 164, 167, 393, 165, 391)
CHEEKS = ((50, 101, 118, 117, 123, 187, 205, 36), (280, 330, 347, 346, 352, 411, 425, 266))


def hull(shape, lm, idx):
    m = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull(np.round(lm[list(idx), :2]).astype(np.int32)), 1)
    return m > 0


def zones(shape, lm):
    tip = hull(shape, lm, TIP)
    nostrils = hull(shape, lm, NOSTRILS) & ~tip
    subnasal = hull(shape, lm, SUBNASAL) & ~tip & ~nostrils
    flanks = (hull(shape, lm, FLANKS[0]) | hull(shape, lm, FLANKS[1])) & ~tip & ~nostrils
    cheek = hull(shape, lm, CHEEKS[0]) | hull(shape, lm, CHEEKS[1])
    return dict(tip=tip, nostrils=nostrils, subnasal=subnasal, flanks=flanks, cheek=cheek)


def stats(image, lm):
    L = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)[:, :, 0]
    z = zones(L.shape, lm)
    cheek = float(np.median(L[z["cheek"]]))
    out = {"cheek_L": cheek}
    for k in ("tip", "nostrils", "subnasal", "flanks"):
        v = L[z[k]]
        out[k] = float(np.median(v)) / cheek
    v = L[z["nostrils"]]
    out["nostrils_dark10"] = float(np.percentile(v, 10)) / cheek
    out["nostrils_under60"] = float((v < 0.6 * cheek).mean())
    return out


def mean_of(rows):
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def source_stats(name):
    from realtime.faces import create_detector
    from realtime.settings import FaceSettings
    image = cv2.imread(f"{MEDIA}/{name}.jpg")
    det = create_detector(FaceSettings(max_faces=1), static=True)
    try:
        faces = det.detect(image)
    finally:
        det.close()
    return stats(image, max(faces, key=lambda f: f.size).landmarks)


def main():
    tag, folder, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    res = {}
    for pair in pairs:
        s, d = pair.split("_")
        tgt, _ = decode(f"{MEDIA}/{d}.mp4", 60)
        out, _ = decode(f"{folder}/{pair}.mp4", 60)
        refs = landmarks_of(tgt)
        rows_o, rows_t = [], []
        f45 = {}
        for i in range(0, min(len(out), len(tgt))):
            if refs[i] is None or (i % 3 and i != 45):
                continue
            so, st = stats(out[i], refs[i]), stats(tgt[i], refs[i])
            if i % 3 == 0:
                rows_o.append(so)
                rows_t.append(st)
            if i == 45:
                f45 = {"output": so, "target": st}
        res[pair] = {"output": mean_of(rows_o), "target": mean_of(rows_t), "frame45": f45, "source": source_stats(s),
                     # flicker: mean |change| of a zone's relative lightness between the sampled frames
                     "flicker": {name: {k: float(np.mean(np.abs(np.diff([r[k] for r in rows]))))
                                        for k in ("tip", "nostrils", "subnasal")}
                                 for name, rows in (("output", rows_o), ("target", rows_t))}}
        o, t, p = res[pair]["output"], res[pair]["target"], res[pair]["source"]
        print(f"{pair}: " + "  ".join(
            f"{k} out {o[k]:.3f} tgt {t[k]:.3f} src {p[k]:.3f}" for k in ("tip", "nostrils", "nostrils_dark10", "subnasal", "flanks")),
            flush=True)
    with open(f"nose_{tag}.json", "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
