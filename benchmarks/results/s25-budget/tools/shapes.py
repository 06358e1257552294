# ruff: noqa  (measurement scripts of benchmarks/results/s25-budget, kept as they were run; scratch paths /tmp/s25-budget)
"""For each timed part: the largest array it is given (shape) and the largest it returns, on one frame."""
import sys, importlib, collections
sys.path.insert(0, sys.argv[1])
import cv2, numpy as np
cv2.setNumThreads(1)
from benchmarks import swap_cost
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.settings import FaceSettings, Settings
from realtime.blend.stage import BlendStage
from realtime.swap.stage import SwapStage
from realtime.frame import Frame
pics = swap_cost.frames(sys.argv[2], 12)
det = create_detector(FaceSettings(max_faces=1), static=False)
faces = [det.detect(p) for p in pics]; det.close()
seen = collections.defaultdict(set)
def arrays(x, out):
    if isinstance(x, np.ndarray) and x.ndim >= 2 and x.size > 500: out.append(x.shape)
    elif isinstance(x, (tuple, list)):
        for y in x[:6]: arrays(y, out)
    elif hasattr(x, "image") and isinstance(getattr(x, "image"), np.ndarray): arrays(x.image, out)
for module_name, attribute, label in swap_cost.PARTS:
    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for p in path: owner = getattr(owner, p)
    orig = getattr(owner, name, None)
    if orig is None: continue
    def w(*a, _o=orig, _l=label, **k):
        r = _o(*a, **k)
        ins = []; [arrays(x, ins) for x in list(a) + list(k.values())]
        outs = []; arrays(r, outs)
        big = lambda s: max(s, key=lambda t: t[0]*t[1]) if s else None
        seen[_l].add((big(ins), big(outs)))
        return r
    setattr(owner, name, w)
s = Settings().replace(source=sys.argv[3])
swap, blend = SwapStage(s, SourceLibrary()), BlendStage(s)
for i in range(12):
    fr = Frame(index=i, image=pics[i], capture_ns=0, pts=i/30, faces=list(faces[i])); swap.process(fr); blend.process(fr)
    if i == 10: seen.clear()
    if i == 10: pass
print("box", faces[11][0].box, "face px", round(faces[11][0].size))
for k, v in seen.items(): print(f"{k:30s}", sorted(v, key=str)[:4])
