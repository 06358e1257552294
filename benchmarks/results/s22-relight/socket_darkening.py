import numpy as np, cv2
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.test_swap_sharp import frame_of
from tests.test_swap_shadows import socket_to_cheek
from realtime.faces.topology import topology
det = create_detector(FaceSettings(max_faces=1), static=True)
lib = SourceLibrary()
def layer_over(src, vid, i, shading):
    image = frame_of(vid, i); face = det.detect(image)[0]
    sw = MeshSwapper(Settings().replace(shading=shading)); sw.set_source(lib.get("/work/wt/shared/media/" + src))
    frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=[face])
    layer = sw.swap(frame, [face])[0]; sw.close()
    x0, y0, x1, y1 = layer.box; size = (x1 - x0, y1 - y0)
    under = frame.output.copy() if frame.output is not None else image.copy()
    patch = cv2.resize(layer.image, size); a = cv2.resize(layer.alpha, size)[..., None]
    under[y0:y1, x0:x1] = (under[y0:y1, x0:x1] * (1 - a) + patch * a).astype(np.uint8)
    return under, layer.face
for src, vid in (("s42.jpg", "d3.mp4"), ("s12.jpg", "d3.mp4"), ("s42.jpg", "d14.mp4"), ("s9.jpg", "d3.mp4")):
    for i in (0, 10):
        lit, f = layer_over(src, vid, i, 0.8); flat, _ = layer_over(src, vid, i, 0.0)
        a = socket_to_cheek(lit, f.landmarks, f.size); b = socket_to_cheek(flat, f.landmarks, f.size)
        image = frame_of(vid, i)
        print(src, vid, i, "relit/flat socket-to-cheek per eye", np.round(np.array(a) / np.array(b), 3), "lit", np.round(a, 3), "flat", np.round(b, 3), flush=True)
