"""L*, a*, b* band energies (0-1, 1-3, 3-8 px) over the skin (skin_mask inside the 85% oval), output / target, frames 5-45 (s25-waxy). usage: python skin_bands.py OUT.mp4 PASS.mp4"""
import sys

import cv2
import numpy as np

sys.path.insert(0, str(__import__('pathlib').Path(__file__).parent))
from skin_texture import decode

from benchmarks import realism
from realtime.blend.mask import skin_mask
from realtime.faces import create_detector
from realtime.settings import FaceSettings

outp, passp = sys.argv[1:3]
fr = {5, 15, 25, 35, 45}
outs, Pp = decode(outp, fr), decode(passp, fr)
det = create_detector(FaceSettings(max_faces=1), static=True)
acc = {}
for i in sorted(fr):
    lm = max(det.detect(Pp[i]), key=lambda f: f.size).landmarks
    h, w = Pp[i].shape[:2]
    width = float(np.linalg.norm(lm[454, :2] - lm[234, :2]))
    inner, ring = realism.face_and_ring(lm, Pp[i].shape)
    skin = skin_mask(lm.astype(np.float32), (0, 0, w, h), width).astype(bool) & inner
    for name, im in (("out", outs[i]), ("tgt", Pp[i])):
        lab = cv2.cvtColor(im, cv2.COLOR_BGR2LAB).astype(np.float32)
        for c, ch in ((0, "L"), (1, "a"), (2, "b")):
            x = lab[..., c]
            for lo, hi in ((0, 1.0), (1.0, 3.0), (3.0, 8.0)):
                a = x if lo == 0 else cv2.GaussianBlur(x, (0, 0), lo)
                d = a - cv2.GaussianBlur(x, (0, 0), hi)
                acc.setdefault((ch, lo, hi, name), []).append(float(np.sqrt((d[skin] ** 2).mean())))
for ch in "Lab":
    print(ch, "  ".join(f"{lo}-{hi}px: {np.mean(acc[(ch,lo,hi,'out')]):.2f}/{np.mean(acc[(ch,lo,hi,'tgt')]):.2f}={np.mean(acc[(ch,lo,hi,'out')])/np.mean(acc[(ch,lo,hi,'tgt')]):.2f}" for lo, hi in ((0, 1.0), (1.0, 3.0), (3.0, 8.0))))
