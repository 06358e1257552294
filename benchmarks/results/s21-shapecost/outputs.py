import sys; root=sys.argv[1]; sys.path.insert(0, root)
import numpy as np, cv2
from benchmarks import swap_cost
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.settings import FaceSettings, Settings
cv2.setNumThreads(1)
lib = SourceLibrary()
res = {}
for vid, src in (("d13","s42"),("d9","s12")):
    pics = swap_cost.frames(f"/work/wt/shared/media/{vid}.mp4", 20)
    det = create_detector(FaceSettings(max_faces=1), static=False)
    faces = [det.detect(p) for p in pics]; det.close()
    outs = []
    swap_cost.measure(pics, faces, Settings().replace(source=f"/work/wt/shared/media/{src}.jpg"), lib, outputs=outs)
    np.save(f"{sys.argv[2]}_{vid}.npy", np.stack(outs))
    np.save(f"/tmp/s21-shapecost/boxes_{vid}.npy", np.array([f[0].box for f in faces]))
