"""s42 > d3: the relight's gain map, the target, the layer with/without the gain (3x crops)."""
import sys
import cv2
import numpy as np
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap import mesh
from realtime.blend import relight
from tests.test_swap_sharp import frame_of

src = sys.argv[1] if len(sys.argv) > 1 else "s42.jpg"
vid = sys.argv[2] if len(sys.argv) > 2 else "d3.mp4"
tag = sys.argv[3] if len(sys.argv) > 3 else "main"
det = create_detector(FaceSettings(max_faces=1), static=True)
source = SourceLibrary().get(f"/work/wt/shared/media/{src}")
cap = {}
orig_gain = mesh._side_gain
def spy_gain(normals, coeffs, shading):
    g = orig_gain(normals, coeffs, shading); cap["gain"] = g.copy(); cap["normals"] = normals.copy(); cap["coeffs"] = np.array(coeffs); return g
mesh._side_gain = spy_gain
orig_relight = mesh.MeshSwapper._relight
def spy_relight(self, frame, face, maps, patch, number, still=None):
    cap["patch"] = patch.copy(); r = orig_relight(self, frame, face, maps, patch, number, None); cap["relit"] = r.copy(); return r
mesh.MeshSwapper._relight = spy_relight
import os, dataclasses
spec = os.environ.get("TEX")
if spec:
    fx, fy = (float(v) / 100 for v in spec.split(","))
    _orig_st = mesh.source_texture
    def st(source, triangles, clean=None):
        t = _orig_st(source, triangles, clean)
        n = t.normals.copy()
        for ax, fr in ((0, fx), (1, fy)):
            n[..., ax] = cv2.GaussianBlur(t.normals[..., ax], (0, 0), max(0.5, fr * t.face_size / 2))
        return dataclasses.replace(t, normals=n)
    mesh.source_texture = st
rows = []
for index in (0, 10, 20):
    image = frame_of(vid, index)
    face = det.detect(image)[0]
    sw = mesh.MeshSwapper(Settings())
    sw.set_source(source)
    frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=[face])
    layers = sw.swap(frame, [face])
    lay = layers[0]
    x0, y0, x1, y1 = lay.box
    h, w = y1 - y0, x1 - x0
    gain = cv2.resize(cap["gain"], (w, h))
    g = gain.mean(axis=2)
    a = cv2.resize(lay.alpha, (w, h))
    tgt = image[y0:y1, x0:x1]
    # target's own-normals gain under the same light (what the model says the room does to d3's shape)
    tn = relight.normal_map(face.landmarks[:468] - np.array([x0, y0, 0], np.float32)[None, :face.landmarks.shape[1]], (h, w), step=1)
    tg = orig_gain(tn, cap["coeffs"], 0.8).mean(axis=2)
    print(index, "coeffs c0..c3 (B,G,R):", np.round(cap["coeffs"][:4].T, 1).tolist(), "gain on face p5/p50/p95 %.2f %.2f %.2f" % tuple(np.percentile(g[a > 0.5], [5, 50, 95])),
          "target-normal gain p5/p50/p95 %.2f %.2f %.2f" % tuple(np.percentile(tg[a > 0.5], [5, 50, 95])), flush=True)
    def vis(x):
        return cv2.cvtColor(np.clip((x - 1.0) * 255 + 128, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    def comp(p):
        p = cv2.resize(p, (w, h)); return (tgt * (1 - a[..., None]) + p * a[..., None]).astype(np.uint8)
    row = [tgt, vis(g), vis(tg), comp(cap["patch"]), comp(cap["relit"])]
    rows.append(np.hstack([cv2.resize(r, (240, int(240 * h / w))) for r in row]))
    sw.close()
hh = min(r.shape[0] for r in rows)
out = np.vstack([r[:hh] for r in rows])
cv2.imwrite(f"/tmp/s22-relight/look_{src[:-4]}_{vid[:-4]}_{tag}.png", out)
