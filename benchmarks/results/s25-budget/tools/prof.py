# ruff: noqa  (measurement scripts of benchmarks/results/s25-budget, kept as they were run; scratch paths /tmp/s25-budget)
import sys, time, cProfile, pstats, io
sys.path.insert(0, sys.argv[1])
import cv2
cv2.setNumThreads(1)
from benchmarks import swap_cost
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.settings import FaceSettings, Settings
from realtime.blend.stage import BlendStage
from realtime.swap.stage import SwapStage
from realtime.frame import Frame
pics = swap_cost.frames(sys.argv[2], 30)
det = create_detector(FaceSettings(max_faces=1), static=False)
faces = [det.detect(p) for p in pics]; det.close()
lib = SourceLibrary()
s = Settings().replace(source=sys.argv[3])
swap, blend = SwapStage(s, lib), BlendStage(s)
for i in range(4):
    fr = Frame(index=i, image=pics[i], capture_ns=0, pts=i/30, faces=list(faces[i])); swap.process(fr); blend.process(fr)
print("box", faces[5][0].box)
pr = cProfile.Profile(time.process_time)
pr.enable()
for i in range(4, 30):
    fr = Frame(index=i, image=pics[i], capture_ns=0, pts=i/30, faces=list(faces[i])); swap.process(fr); blend.process(fr)
pr.disable()
st = pstats.Stats(pr); st.sort_stats(sys.argv[4] if len(sys.argv)>4 else 'tottime'); st.print_stats(45)
