"""In-process dlib identity distance to the source photo (s25-noseratio), frames 0..N-1 every 3rd, for variants of
color.dark_lightness_table on a darker target (offset < 0): main (affine above DARK_FROM), ratio (no shade under
the skin's lightness made darker relative to the skin than a pure gain at the skin), deep (that rule in full below
0.6 of the skin, fading to main's at 0.8), tzA-B-C-D (the lift weighted by a trapezoid over L / s,
percent; tz35-50-80-95 is the branch's rule, less its monotone pass), kX (the lift times X). Prints the transfer's offset seen (o < 0: the rule acts).
python benchmarks/results/s25-noseratio/ratio_identity.py s9_d20,s42_d13 30 main,ratio,deep"""
import sys

import cv2
import numpy as np

import realtime.blend.color as bc
from benchmarks import swap_cost
from benchmarks.identity import IdentityModel
from realtime.blend.stage import BlendStage
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.stage import SwapStage

cv2.setNumThreads(1)
OFFSETS: list[float] = []


def table(matrix, skin_lightness, variant):
    ramp = np.arange(256, dtype=np.float32)
    affine = matrix[0, 0] * ramp + matrix[0, 3]
    anchor = max(bc.DARK_FROM * float(skin_lightness), 1.0)
    at_anchor = float(matrix[0, 0]) * anchor + float(matrix[0, 3])
    out = np.where(ramp < anchor, ramp * max(at_anchor, 0.0) / anchor, affine)
    OFFSETS.append(float(matrix[0, 3]))
    if variant != 'main':
        skin = max(float(skin_lightness), 1.0)
        prop = ramp * max(float(matrix[0, 0]) * skin + float(matrix[0, 3]), 0.0) / skin
        lift = np.where(ramp < skin, np.maximum(prop - out, 0.0), 0.0)
        if variant == 'deep':
            lift *= np.clip((0.8 - ramp / skin) / 0.2, 0.0, 1.0)
        elif variant.startswith('tz'):  # tzA-B-C-D: the lift's weight a trapezoid over L / s (in percent)
            a, b, c, d = (float(x) / 100 for x in variant[2:].split('-'))
            x = ramp / skin
            lift *= np.clip(np.minimum((x - a) / max(b - a, 1e-3), (d - x) / max(d - c, 1e-3)), 0.0, 1.0)
        elif variant.startswith('k'):  # kX: the lift times X
            lift *= float(variant[1:])
        out = out + lift
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def under_ratio(image, lm):
    """Median L* under the nostrils (s25-nose's zone) over the cheeks' median L*."""
    def hull(idx):
        m = np.zeros(image.shape[:2], np.uint8)
        cv2.fillConvexPoly(m, cv2.convexHull(np.round(lm[list(idx), :2]).astype(np.int32)), 1)
        return m > 0
    light = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)[:, :, 0]
    tip = hull((1, 4, 45, 275, 44, 274, 19, 94, 220, 440, 237, 457))
    nostrils = hull((2, 97, 326, 98, 327, 64, 294, 240, 460, 75, 305, 79, 309, 20, 250, 166, 392, 219, 439, 59, 289,
                     60, 290, 99, 328)) & ~tip
    under = hull((2, 97, 326, 98, 327, 164, 167, 393, 165, 391)) & ~tip & ~nostrils
    cheek = hull((50, 101, 118, 117, 123, 187, 205, 36)) | hull((280, 330, 347, 346, 352, 411, 425, 266))
    return float(np.median(light[under])) / float(np.median(light[cheek]))


model = IdentityModel()
N = int(sys.argv[2]) if len(sys.argv) > 2 else 30
variants = sys.argv[3].split(',') if len(sys.argv) > 3 else ['main', 'ratio']
for pair in sys.argv[1].split(','):
    s, d = pair.split('_')
    pics = swap_cost.frames(f'/work/shared/media/{d}.mp4', N)
    det = create_detector(FaceSettings(max_faces=1), static=False)
    faces = [det.detect(p) for p in pics]
    det.close()
    es = model.embed(cv2.imread(f'/work/shared/media/{s}.jpg'))
    for v in variants:
        bc.dark_lightness_table = lambda m, sl, _v=v: table(m, sl, _v)
        OFFSETS.clear()
        lib = SourceLibrary()
        st = Settings().replace(source=f'/work/shared/media/{s}.jpg')
        swap, blend = SwapStage(st, lib), BlendStage(st)
        ds, unders = [], []
        for i, (p, fc) in enumerate(zip(pics, faces, strict=True)):
            fr = Frame(index=i, image=p, capture_ns=0, pts=i / 30.0, faces=list(fc))
            swap.process(fr)
            blend.process(fr)
            if i % 3 == 0:
                if fc:
                    unders.append(under_ratio(fr.output, fc[0].landmarks))
                e = model.embed(fr.output)
                if e is not None:
                    ds.append(model.distance(e, es))
        swap.close()
        lib.close()
        print(pair, v, f'{np.mean(ds):.4f}', len(ds), 'offset', f'{np.median(OFFSETS):.1f}',
              'under', f'{np.mean(unders):.3f}', flush=True)
