"""CPU time (process_time) of the clean texture and of the swap on d3's frames, one tree per run."""
import time, sys, numpy as np
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from realtime.swap.texture import make_clean_texture
from tests.test_swap_sharp import frame_of
det = create_detector(FaceSettings(max_faces=1), static=True)
src = SourceLibrary().get("/work/wt/shared/media/s42.jpg")
frames = [frame_of("d3.mp4", i) for i in range(0, 20)]
faces = [det.detect(f) for f in frames]
t = time.process_time()
for _ in range(3):
    make_clean_texture(src.image, src.face.landmarks, find_hands=False)
tex = (time.process_time() - t) / 3
sw = MeshSwapper(Settings()); sw.set_source(src)
for i, (im, fc) in enumerate(zip(frames, faces)):  # warm
    sw.swap(Frame(index=i, image=im, capture_ns=int(i * 1e9 / 30), pts=i / 30, faces=fc), fc)
t = time.process_time()
for rep in range(3):
    for i, (im, fc) in enumerate(zip(frames, faces)):
        n = 100 + rep * 20 + i
        sw.swap(Frame(index=n, image=im, capture_ns=int(n * 1e9 / 30), pts=n / 30, faces=fc), fc)
swap = (time.process_time() - t) / 60
print(f"{tex*1000:.1f} {swap*1000:.2f}")
