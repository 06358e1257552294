"""Skin texture of a written swap against the target's own face in the same frame (s25-waxy).

For each frame read, on the passthrough's landmarks (the target's real face): patches in the middle of both
cheeks, on the lower forehead and on the nose tip (radius 0.07 of the face's width), luma only, and per patch
- fine: RMS of luma - Gaussian(1 px)   (1-2 px: grain, noise, the finest pores)
- pores: RMS of Gaussian(1) - Gaussian(2.5)   (2-5 px: pores, skin relief)
- cv: spatial coefficient of variation of the local fine energy (sqrt of its Gaussian(4 px)
  average): grain/pores spread in spots vs an even smooth sheet
- spec: 99th percentile - median of luma smoothed by 1.5 px (highlights, but also the shading's slope)
and over the whole face: the sharpness match of benchmarks/realism.py, split into zones (skin =
the face oval less eyes, brows and lips grown by 4% of the face, realtime/blend/mask.skin_mask,
inside the metric's 85% oval; features = the rest of that oval; each zone's share of the ratio:
sum(HF there) / pixels of the oval / mean HF of the ring), and over the skin
- sheen: RMS of the positive part of G(1.5) - G(8) (highlights, sheen: 3-16 px bright spots)
- relief: RMS of G(1.5) - G(8) (both signs). Output / passthrough ratios.

usage: python skin_texture.py OUT.mp4 PASS.mp4 [frames...] [--json path]
"""
from __future__ import annotations

import json
import sys

import av
import cv2
import numpy as np

from benchmarks import realism

# Patch centres: the mean of these landmarks (inside the new face, off its soft edge and features).
PATCHES = {"cheek_l": (50, 101, 36, 205), "cheek_r": (280, 330, 266, 425), "forehead": (151, 9, 9),
           "nose_tip": (4, 4, 1, 5)}
RADIUS = 0.07


def decode(path, wanted):
    out = {}
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i in wanted:
                out[i] = f.to_ndarray(format="bgr24")
            if i >= max(wanted):
                break
    return out


def grey(image):
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def stats(image, mask):
    g = grey(image)
    g1 = cv2.GaussianBlur(g, (0, 0), 1.0)
    fine = g - g1
    pores = g1 - cv2.GaussianBlur(g, (0, 0), 2.5)
    local = np.sqrt(cv2.GaussianBlur(fine * fine, (0, 0), 4.0))
    smooth = cv2.GaussianBlur(g, (0, 0), 1.5)
    m = mask > 0
    return {"fine": float(np.sqrt((fine[m] ** 2).mean())), "pores": float(np.sqrt((pores[m] ** 2).mean())),
            "cv": float(local[m].std() / max(local[m].mean(), 1e-6)),
            "spec": float(np.percentile(smooth[m], 99) - np.median(smooth[m]))}


def zones(output, target, lm, width):
    from realtime.blend.mask import skin_mask

    h, w = target.shape[:2]
    inner, ring = realism.face_and_ring(lm, target.shape)
    skin = skin_mask(lm.astype(np.float32), (0, 0, w, h), width).astype(bool) & inner
    feats = inner & ~skin
    row = {}
    for name, image in (("out", output), ("tgt", target)):
        e = realism.high_frequency(image)
        ringm = max(float(e[ring].mean()), 1e-6)
        row[f"hf_skin_{name}"] = float(e[skin].sum()) / inner.sum() / ringm
        row[f"hf_feat_{name}"] = float(e[feats].sum()) / inner.sum() / ringm
        g = grey(image)
        d = cv2.GaussianBlur(g, (0, 0), 1.5) - cv2.GaussianBlur(g, (0, 0), 8.0)
        row[f"sheen_{name}"] = float(np.sqrt((np.maximum(d[skin], 0) ** 2).mean()))
        row[f"relief_{name}"] = float(np.sqrt((d[skin] ** 2).mean()))
    return row


def measure(out_path, pass_path, frames=(5, 15, 25, 35, 45)):
    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    outs, passes = decode(out_path, set(frames)), decode(pass_path, set(frames))
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    rows = []
    for i in frames:
        if i not in outs or i not in passes:
            continue
        faces = detector.detect(passes[i])
        if not faces:
            continue
        lm = max(faces, key=lambda f: f.size).landmarks
        width = float(np.linalg.norm(lm[454, :2] - lm[234, :2]))
        row = {"frame": i, "sharpness": realism.sharpness_match(outs[i], passes[i], lm)}
        row.update(zones(outs[i], passes[i], lm, width))
        for name, idx in PATCHES.items():
            mask = np.zeros(passes[i].shape[:2], np.uint8)
            cv2.circle(mask, tuple(int(v) for v in lm[list(idx), :2].mean(axis=0)), max(3, int(RADIUS * width)), 1, -1)
            o, p = stats(outs[i], mask), stats(passes[i], mask)
            row[name] = {k: (o[k], p[k]) for k in o}
        rows.append(row)
    detector.close()
    summary = {"sharpness": float(np.median([r["sharpness"] for r in rows]))}
    for k in ("hf_skin", "hf_feat", "sheen", "relief"):
        o = float(np.mean([r[f"{k}_out"] for r in rows]))
        p = float(np.mean([r[f"{k}_tgt"] for r in rows]))
        summary[k] = (o, p, o / max(p, 1e-6))
    for name in PATCHES:
        for k in ("fine", "pores", "cv", "spec"):
            o = np.mean([r[name][k][0] for r in rows])
            p = np.mean([r[name][k][1] for r in rows])
            summary[f"{name}.{k}"] = (float(o), float(p), float(o / max(p, 1e-6)))
    return summary, rows


if __name__ == "__main__":
    args = sys.argv[1:]
    out_json = None
    if "--json" in args:
        k = args.index("--json")
        out_json = args[k + 1]
        del args[k:k + 2]
    frames = tuple(int(a) for a in args[2:]) or (5, 15, 25, 35, 45)
    summary, rows = measure(args[0], args[1], frames)
    print(f"sharpness match {summary['sharpness']:.2f}")
    for key, value in summary.items():
        if key != "sharpness":
            print(f"{key:18s} out {value[0]:7.2f}  target {value[1]:7.2f}  ratio {value[2]:.2f}")
    if out_json:
        with open(out_json, "w") as fh:
            json.dump({"summary": summary, "rows": rows}, fh, indent=1)
