import sys, pickle, numpy as np, cv2, av
sys.path.insert(0, '.')
cv2.setNumThreads(1)
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.settings import FaceSettings, Settings
from realtime.swap.stage import SwapStage
from realtime.blend.stage import BlendStage
from realtime.frame import Frame
import realtime.swap.mesh as mesh
src = sys.argv[1] if len(sys.argv) > 1 else 's42.jpg'
vid = sys.argv[2] if len(sys.argv) > 2 else 'd20.mp4'
want = [int(x) for x in (sys.argv[3] if len(sys.argv) > 3 else '125,149').split(',')]
tag = sys.argv[4] if len(sys.argv) > 4 else 'x'
rec = {}
import os, realtime.blend.mask as bm, realtime.blend.color as bc
for kv in os.environ.get('VAR', '').split():
    mod, k, v = kv.split(':'); setattr(bm if mod == 'm' else bc, k, float(v))
orig_eos, orig_hair = mesh.edge_off_skin, mesh.hair_mask
def eos(*a, **k):
    r = orig_eos(*a, **k); rec['off'] = r; return r
def hm(*a, **k):
    r = orig_hair(*a, **k); rec['hair'] = r; return r
mesh.edge_off_skin, mesh.hair_mask = eos, hm
settings = Settings().replace(source='../shared/media/' + src)
det = create_detector(FaceSettings(max_faces=1), static=False)
lib = SourceLibrary()
swap, blend = SwapStage(settings, lib), BlendStage(settings)
c = av.open('../shared/media/' + vid)
for i, f in enumerate(c.decode(video=0)):
    if i > max(want): break
    img = f.to_ndarray(format='bgr24')
    frame = Frame(index=i, image=img, capture_ns=0, pts=i/30.0, faces=list(det.detect(img)))
    rec.pop('off', None); rec.pop('hair', None)
    swap.process(frame)
    if i in want:
        L = frame.layers[0]
        d = dict(image=img.copy(), layer=L.image.copy(), alpha=L.alpha.copy(), box=L.box, lm=L.face.landmarks.copy(),
                 size=L.face.size, off=rec.get('off'), hair=rec.get('hair'), relit=L.relit)
    blend.process(frame)
    if i in want:
        d['out'] = frame.output.copy(); d['alpha_after'] = frame.layers[0].alpha.copy(); d['layer_after']=frame.layers[0].image.copy()
        pickle.dump(d, open(f'/tmp/s26-cheek/st/{tag}_{src[:-4]}_{vid[:-4]}_{i}.pkl', 'wb'))
print('done')
