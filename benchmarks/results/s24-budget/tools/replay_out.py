# ruff: noqa  (measurement scripts of benchmarks/results/s24-budget, kept as they were run)
import pickle
import sys

root = sys.argv[1]; sys.path.insert(0, root)
import cv2; cv2.setNumThreads(1)
import realtime.blend.stage as stage

outs = {}
for pkl in sys.argv[3:]:
    calls = pickle.load(open(pkl, "rb"))
    outs[pkl] = []
    for (args, gains, _res) in calls:
        image, camera, layer, strength, gf = args
        outs[pkl].append(stage.detail_on_luma(image, camera, layer, strength, gf, lambda w, g, gains=gains: gains.get(w, g)))
pickle.dump(outs, open(sys.argv[2], "wb"))
