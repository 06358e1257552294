"""In-process dlib identity distance to the source photo (s25-nose), frames 0..N-1 every 3rd, for variants of the
attempt (commit d4a8ede: realtime/blend/nose.py and the darker-target rule of color.dark_lightness_table):
main (main's table, no nose lift), colour (the new table only), nose (the lift only), both; "@0.5": the lift
at half strength; "sub": the lift over the skin under the nostrils only (not the tip, nostrils, wings).
Runs only on a checkout that has realtime/blend/nose.py (d4a8ede):
python benchmarks/results/s25-nose/identity_variants.py s9_d20,s9_d6 30 main,nose,nose@0.5,nosesub@0.5"""
import sys

import cv2
import numpy as np
import realtime.blend.nose as bn

import realtime.blend.color as bc
import realtime.blend.stage as bs
from benchmarks import swap_cost
from benchmarks.identity import IdentityModel
from realtime.blend.stage import BlendStage
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.stage import SwapStage

cv2.setNumThreads(1)
new_table = bc.dark_lightness_table
def old_table(matrix, skin_lightness):
    ramp = np.arange(256, dtype=np.float32)
    affine = matrix[0, 0] * ramp + matrix[0, 3]
    anchor = max(bc.DARK_FROM * float(skin_lightness), 1.0)
    at_anchor = float(matrix[0, 0]) * anchor + float(matrix[0, 3])
    table = np.where(ramp < anchor, ramp * max(at_anchor, 0.0) / anchor, affine)
    return np.clip(np.rint(table), 0, 255).astype(np.uint8)
real_nose = bn.nose_underside
FULL = bn._UNDERSIDE
SUB = (2, 97, 326, 98, 327, 164, 167, 393, 165, 391)
model = IdentityModel()
N = int(sys.argv[2]) if len(sys.argv) > 2 else 30
variants = sys.argv[3].split(',') if len(sys.argv) > 3 else ['main', 'colour', 'nose', 'both']
for pair in sys.argv[1].split(','):
    s, d = pair.split('_')
    pics = swap_cost.frames(f'/work/shared/media/{d}.mp4', N)
    det = create_detector(FaceSettings(max_faces=1), static=False)
    faces = [det.detect(p) for p in pics]
    det.close()
    src = cv2.imread(f'/work/shared/media/{s}.jpg')
    es = model.embed(src)
    for v in variants:
        bc.dark_lightness_table = new_table if v.startswith('colour') or v.startswith('both') else old_table
        strength = float(v.split('@')[1]) if '@' in v else 1.0
        bn._UNDERSIDE = SUB if 'sub' in v else FULL
        if 'nose' in v or v.startswith('both'):
            def nose(image, target, *a, _s=strength):
                out = real_nose(image, target, *a)
                if _s == 1.0 or out is image:
                    return out
                return cv2.addWeighted(out, _s, image, 1 - _s, 0)
            bs.nose_underside = nose
        else:
            bs.nose_underside = lambda image, *a: image
        lib = SourceLibrary()
        st = Settings().replace(source=f'/work/shared/media/{s}.jpg')
        swap, blend = SwapStage(st, lib), BlendStage(st)
        ds = []
        for i, (p, fc) in enumerate(zip(pics, faces, strict=True)):
            fr = Frame(index=i, image=p, capture_ns=0, pts=i / 30.0, faces=list(fc))
            swap.process(fr)
            blend.process(fr)
            if i % 3 == 0:
                e = model.embed(fr.output)
                if e is not None:
                    ds.append(model.distance(e, es))
        swap.close()
        lib.close()
        print(pair, v, f'{np.mean(ds):.4f}', len(ds), flush=True)
