"""Hopper on the demo: greyness, bright specks, identity on a written file. hopper_measure.py OUT.mp4 TAG [frames], from the repository root; writes hopper_TAG.json there"""
import json
import sys

import cv2
import numpy as np

sys.path.insert(0, ".")
from benchmarks import realism
from benchmarks.identity import IdentityModel
from benchmarks.quality_swap import decode
from benchmarks.quality_written import landmarks_of
from realtime.capture.builtin import builtin_source_path
from realtime.capture.demo import DemoSource
from realtime.settings import CaptureSettings

path, tag = sys.argv[1], sys.argv[2]
frames = int(sys.argv[3]) if len(sys.argv) > 3 else 45
out, _ = decode(path, frames)
demo = DemoSource(CaptureSettings(size=(1280, 720)))
tgt = [demo.frame(i) for i in range(len(out))]
refs = landmarks_of(tgt)
idm = IdentityModel()
ref_emb = idm.embed(cv2.imread(str(builtin_source_path())))
acc = dict(n=0, C_out=0.0, C_tgt=0.0, grey=0, shade=0, speck_n=0, speck_px=0, speck_frames=0)
ids = []
for i in range(0, len(out), 3):
    lm = refs[i]
    if lm is None:
        continue
    o, t, l2 = realism._around_face(out[i], tgt[i], lm)
    ol, tl = realism.lab(o), realism.lab(t)
    skin = realism.skin_regions(l2, tl)["skin"]
    Co, Ct = np.hypot(ol[..., 1], ol[..., 2]), np.hypot(tl[..., 1], tl[..., 2])
    acc["n"] += int(skin.sum())
    acc["C_out"] += float(Co[skin].sum())
    acc["C_tgt"] += float(Ct[skin].sum())
    # grey: skin pixels whose chroma is under half the target's skin chroma scaled to their lightness
    ct = float(Ct[skin].mean())
    lt = float(tl[..., 0][skin].mean())
    expected = ct * (ol[..., 0] + 16) / (lt + 16)
    acc["grey"] += int((skin & (Co < 0.6 * expected)).sum())
    # bright specks: L above a 5%-face median by > 8 L*, blobs of 2..(0.02 face)^2 px in the face
    fw = realism.face_width(l2)
    k = max(3, int(0.08 * fw) | 1)
    L8 = np.clip(ol[..., 0] * 2.55, 0, 255).astype(np.uint8)
    med = cv2.medianBlur(L8, k).astype(np.float32) / 2.55
    face = realism.skin_regions(l2, tl)["skin"] | (cv2.dilate(skin.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0)
    bright = ((ol[..., 0] - med) > 8) & face
    cnt, lab_, st, _ = cv2.connectedComponentsWithStats(bright.astype(np.uint8), connectivity=8)
    small = [a for a in st[1:, cv2.CC_STAT_AREA] if 2 <= a <= (0.03 * fw) ** 2]
    acc["speck_n"] += len(small)
    acc["speck_px"] += int(sum(small))
    acc["speck_frames"] += 1
    if i % 9 == 0:
        e = idm.embed(out[i])
        if e is not None:
            ids.append(idm.distance(e, ref_emb))
res = dict(tag=tag, skin_chroma_out=acc["C_out"] / acc["n"], skin_chroma_target=acc["C_tgt"] / acc["n"],
           chroma_ratio=acc["C_out"] / acc["C_tgt"], grey_pct=100.0 * acc["grey"] / acc["n"],
           specks_per_frame=acc["speck_n"] / acc["speck_frames"], speck_px_per_frame=acc["speck_px"] / acc["speck_frames"],
           identity=float(np.mean(ids)) if ids else None, identity_n=len(ids))
print(json.dumps(res))
with open(f"hopper_{tag}.json", "w") as f:
    json.dump(res, f, indent=1)
