"""Instrumented one-frame trace (s25-nose): the nose zones' lightness over the cheek at each layer of the
swap and blend (the target frame; the warped clean texture before and after relighting; after the colour
transfer; after blend/nose.py where the checkout has it; after the detail chain; the frame's output).
python benchmarks/results/s25-nose/layers.py s9_d20 [frame]   (run from the repository root; PYTHONPATH=.)
writes /tmp/s25-nose/layers_<pair>.png (the layers side by side) and .pkl."""
import os
import pickle
import sys

import cv2
import numpy as np

sys.path.insert(0, 'benchmarks/results/s25-nose')
import nosemeasure as nm

import realtime.blend.stage as bs
import realtime.swap.mesh as ms
from benchmarks import swap_cost
from realtime.blend.stage import BlendStage
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.stage import SwapStage

pair = sys.argv[1]
F = int(sys.argv[2]) if len(sys.argv) > 2 else 45
s, d = pair.split('_')
cv2.setNumThreads(1)
pics = swap_cost.frames(f'/work/shared/media/{d}.mp4', F + 1)
det = create_detector(FaceSettings(max_faces=1), static=False)
faces = [det.detect(p) for p in pics]
det.close()
lib = SourceLibrary()
settings = Settings().replace(source=f'/work/shared/media/{s}.jpg')
swap, blend = SwapStage(settings, lib), BlendStage(settings)
cap = {}
def wrap(owner, name, label, argi):
    orig = getattr(owner, name)
    def f(*a, **k):
        r = orig(*a, **k)
        cap[label + '_in'] = a[argi].copy() if isinstance(a[argi], np.ndarray) else None
        cap[label] = r.copy() if isinstance(r, np.ndarray) else r
        return r
    setattr(owner, name, f)
wrap(ms.MeshSwapper, '_relight', 'relight', 4)
wrap(bs, 'recolour_halved', 'recolour', 0)
wrap(bs, 'detail_on_luma', 'detail', 0)
if hasattr(bs, 'nose_underside'):
    wrap(bs, 'nose_underside', 'nose', 0)
for i, (p, fc) in enumerate(zip(pics, faces, strict=True)):
    fr = Frame(index=i, image=p, capture_ns=0, pts=i / 30.0, faces=list(fc))
    swap.process(fr)
    blend.process(fr)
layer = fr.layers[0]
x0, y0, x1, y1 = layer.box
lm = fc[0].landmarks.copy()
def st(img, name):
    moved = lm.copy()
    moved[:, 0] -= x0
    moved[:, 1] -= y0
    moved[:, :2] *= img.shape[1] / (x1 - x0)
    r = nm.stats(img, moved)
    print(f"{name:14s} cheekL {r['cheek_L']:5.1f} tip {r['tip']:.3f} nostrils {r['nostrils']:.3f} dark10 {r['nostrils_dark10']:.3f} subnasal {r['subnasal']:.3f} flanks {r['flanks']:.3f}")
    return cv2.resize(img, (x1 - x0, y1 - y0))
row = []
row.append(st(pics[F][y0:y1, x0:x1], 'target'))
for k in ('relight_in', 'relight', 'recolour', 'nose', 'detail'):
    if k in cap:
        row.append(st(cap[k], k))
row.append(st(fr.output[y0:y1, x0:x1], 'output'))
os.makedirs('/tmp/s25-nose', exist_ok=True)
cv2.imwrite(f'/tmp/s25-nose/layers_{pair}.png', np.hstack(row))
with open(f'/tmp/s25-nose/layers_{pair}.pkl', 'wb') as f:
    pickle.dump({'cap': cap, 'box': layer.box, 'lm': lm, 'alpha': layer.alpha, 'target': pics[F]}, f)
swap.close()
lib.close()
