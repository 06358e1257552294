"""Interleaved CPU time (time.process_time) of detail_on_luma with and without the gain memory (start: smooth=None
for the detail gain; s9/s42 have no moustache so the hair path is not taken), 10 frames x 6 repeats, per pair."""

import json
import time

import av

from realtime.blend.detail import GainMemory
from realtime.blend.stage import detail_on_luma
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper

det = create_detector(FaceSettings(max_faces=1), static=True)
lib = SourceLibrary()
res = {}
for src, vid in [("s9.jpg", "d14.mp4"), ("s42.jpg", "d9.mp4")]:
    with av.open(f"/work/shared/media/{vid}") as c:
        pics = [f.to_ndarray(format="bgr24") for _, f in zip(range(10), c.decode(video=0), strict=False)]
    sw = MeshSwapper(Settings())
    sw.set_source(lib.get(f"/work/shared/media/{src}"))
    layers = []
    for i, p in enumerate(pics):
        fr = Frame(index=i, image=p, capture_ns=0, pts=i / 30)
        fr.faces = det.detect(p)
        lay = sw.swap(fr, fr.faces)[0]
        x0, y0, x1, y1 = lay.box
        if lay.image.shape[:2] == (y1 - y0, x1 - x0):
            layers.append((lay, p[y0:y1, x0:x1].copy()))
    sw.close()
    t = {"start": 0.0, "branch": 0.0}
    for rep in range(6):
        mem = GainMemory()
        for i, (lay, cam) in enumerate(layers):
            for kind in ("start", "branch") if (rep + i) % 2 == 0 else ("branch", "start"):
                smooth = (
                    None
                    if kind == "start"
                    else (lambda which, g, i=i, mem=mem: mem.update((which, 0), g, i / 30))
                )
                a = time.process_time()
                detail_on_luma(lay.image, cam, lay, 1.0, None, smooth)
                t[kind] += time.process_time() - a
    n = 6 * len(layers)
    mem = GainMemory()
    a = time.process_time()
    for k in range(100000):
        mem.update(("detail", 0), 1.5, k / 30)
    upd = (time.process_time() - a) / 100000
    res[f"{src}->{vid}"] = dict(
        frames=len(layers),
        start_ms=1000 * t["start"] / n,
        branch_ms=1000 * t["branch"] / n,
        ratio=t["branch"] / t["start"],
        gain_memory_update_us=upd * 1e6,
    )
    print(res[f"{src}->{vid}"], flush=True)
with open("/tmp/s22-detailgain/detail_cpu_interleaved.json", "w") as f:
    json.dump(res, f, indent=1)
