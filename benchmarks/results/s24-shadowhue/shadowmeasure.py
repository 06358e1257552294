"""Greyness of the skin's shading on written files (s24-shadowhue; s24-shadowtex and s24-shadowmap used it too).
Run from the repository root; writes greyness_TAG.json in the working directory.

For each pair: the target's MediaPipe landmarks (reference, on the input video), the skin region of
benchmarks.realism.skin_regions (oval at 86% less eyes, brows, lips grown 4%, where the person's own face is
skin-coloured). On each picture (output, target), CIE LAB (L 0-100):
- local skin mean: normalised Gaussian blur of L, a*, b* over the skin (sigma 0.08 face widths);
- shading pixels: skin pixels darker than the local mean by > 10 L* and lighter than 0.5 of it (darker ones are
  hair, nostrils, a lash line: left out);
- shadow_chroma: mean C*ab of the shading pixels; lit_chroma: mean C*ab of skin within 5 L* of its local mean;
  ratio = shadow / lit (a darkening of the same skin in linear RGB keeps C*/(L*+16): ~0.8 for these depths;
  real skin in shade ~0.9-1.1; grey shading < 0.7);
- hue_err: chroma-weighted mean |hue(shading pixel) - hue(target's lit skin)| in degrees;
- grey_pct: % of shading pixels whose C* is under half of the target skin's C* scaled by (L+16)/(Lloc+16);
- ratio_r50_70 / ratio_r70_85: mean C*ab of skin pixels at 0.5-0.7 / 0.7-0.85 of the local mean lightness over
  the lit skin's mean C*ab (the target's own: how its skin's chroma changes in shade).
Every 3rd frame of 60; sums pooled over frames."""
import json
import sys

import cv2
import numpy as np

sys.path.insert(0, ".")
from benchmarks import realism  # noqa: E402
from benchmarks.quality_swap import decode  # noqa: E402
from benchmarks.quality_written import landmarks_of  # noqa: E402

MEDIA = "/work/shared/media"


def shading_stats(picture_lab, skin, target_lit_ab, sigma):
    w = skin.astype(np.float32)
    spread = cv2.GaussianBlur(w, (0, 0), sigma)
    local = [cv2.GaussianBlur(picture_lab[:, :, c] * w, (0, 0), sigma) / np.maximum(spread, 1e-3) for c in range(3)]
    L, a, b = (picture_lab[:, :, c] for c in range(3))
    C = np.hypot(a, b)
    shade = skin & (local[0] - 10 > L) & (0.5 * local[0] < L)
    lit = skin & (np.abs(L - local[0]) < 5)
    hue_t = np.degrees(np.arctan2(target_lit_ab[1], target_lit_ab[0]))
    hue = np.degrees(np.arctan2(b, a))
    dh = np.abs((hue - hue_t + 180) % 360 - 180)
    expected = np.hypot(*target_lit_ab) * (L + 16) / (local[0] + 16)
    r = L / np.maximum(local[0], 1.0)
    bins = {}
    for lo, hi in ((0.5, 0.7), (0.7, 0.85)):
        sel = skin & (r >= lo) & (r < hi)
        bins[f"n_r{lo}"] = int(sel.sum())
        bins[f"c_r{lo}"] = float(C[sel].sum())
    return dict(n_shade=int(shade.sum()), shade_c=float(C[shade].sum()), lit_c=float(C[lit].sum()), n_lit=int(lit.sum()),
                hue_w=float((dh * C)[shade].sum()), grey=int((shade & (0.5 * expected > C)).sum()),
                shade_l=float(L[shade].sum()), **bins)


def measure(output_path, target_name, frames=60, every=3):
    tgt, _ = decode(f"{MEDIA}/{target_name}.mp4", frames)
    out, _ = decode(output_path, frames)
    refs = landmarks_of(tgt)
    tot = {"output": {}, "target": {}}
    for i in range(0, min(len(out), len(tgt)), every):
        ref = refs[i]
        if ref is None:
            continue
        o, t, lm = realism._around_face(out[i], tgt[i], ref)
        ol, tl = realism.lab(o), realism.lab(t)
        skin = realism.skin_regions(lm, tl)["skin"]
        if skin.sum() < 200:
            continue
        sigma = 0.08 * realism.face_width(lm)
        # target's lit skin colour
        w = skin.astype(np.float32)
        lt = cv2.GaussianBlur(tl[:, :, 0] * w, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(w, (0, 0), sigma), 1e-3)
        lit_t = skin & (np.abs(tl[:, :, 0] - lt) < 5)
        ab = tl[:, :, 1][lit_t].mean(), tl[:, :, 2][lit_t].mean()
        for name, pic in (("output", ol), ("target", tl)):
            s = shading_stats(pic, skin, ab, sigma)
            for k, v in s.items():
                tot[name][k] = tot[name].get(k, 0) + v
    res = {}
    for name, s in tot.items():
        n = max(s["n_shade"], 1)
        res[name] = dict(shade_pixels=s["n_shade"], shadow_chroma=s["shade_c"] / n, lit_chroma=s["lit_c"] / max(s["n_lit"], 1),
                         ratio=(s["shade_c"] / n) / max(s["lit_c"] / max(s["n_lit"], 1), 1e-3),
                         hue_err_deg=s["hue_w"] / max(s["shade_c"], 1e-3), grey_pct=100.0 * s["grey"] / n,
                         shadow_L=s["shade_l"] / n,
                         ratio_r50_70=(s["c_r0.5"] / max(s["n_r0.5"], 1)) / max(s["lit_c"] / max(s["n_lit"], 1), 1e-3),
                         ratio_r70_85=(s["c_r0.7"] / max(s["n_r0.7"], 1)) / max(s["lit_c"] / max(s["n_lit"], 1), 1e-3))
    return res


if __name__ == "__main__":
    # shadowmeasure.py TAG PATTERN PAIR...; PATTERN with {s} {d}, e.g. /tmp/x/wbw_base_{s}/{s}_{d}.mp4
    tag, pattern = sys.argv[1], sys.argv[2]
    pairs = sys.argv[3:]
    allres = {}
    for p in pairs:
        s, d = p.split("_")
        allres[p] = measure(pattern.format(s=s, d=d), d)
        r = allres[p]
        print(p, tag, " ".join(f"{k}={v:.2f}" for k, v in r["output"].items()), flush=True)
        print(p, "target", " ".join(f"{k}={v:.2f}" for k, v in r["target"].items()), flush=True)
    with open(f"greyness_{tag}.json", "w") as out:
        json.dump(allres, out, indent=1)
