"""python inproc.py TAG VIDEO SOURCE N: swap + blend in process (no mark, no encoder) on VIDEO's first N frames,
faces from a static MediaPipe per frame (one track), pts i/30; outputs saved to ip_TAG_SOURCE_VIDEO.npz."""

import sys

import av
import numpy as np

from realtime.blend.stage import BlendStage
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper

tag, video, source, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with av.open(video) as c:
    pics = [f.to_ndarray(format="bgr24") for _, f in zip(range(n), c.decode(video=0), strict=False)]
det = create_detector(FaceSettings(max_faces=1), static=True)
lib = SourceLibrary()
settings = Settings()
swapper, blend = MeshSwapper(settings), BlendStage(settings)
swapper.set_source(lib.get(f"/work/shared/media/{source}"))
outs, pts = [], []
for i, pic in enumerate(pics):
    faces = det.detect(pic)
    frame = Frame(index=i, image=pic, capture_ns=0, pts=i / 30.0)
    frame.faces = faces
    frame.layers = swapper.swap(frame, faces)
    outs.append(blend.process(frame).output)
    pts.append(faces[0].landmarks[:, :2])
name = video.rsplit("/", 1)[1].split(".")[0]
np.savez_compressed(
    f"/tmp/s22-detailgain/ip_{tag}_{source.split('.')[0]}_{name}.npz", out=np.array(outs), pts=np.array(pts)
)
print("done", tag, source, name)
