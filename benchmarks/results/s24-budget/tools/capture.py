# ruff: noqa  (measurement scripts of benchmarks/results/s24-budget, kept as they were run)
"""Capture detail_on_luma's inputs (d?+s?) to a pickle. Usage: capture.py input source out.pkl frames"""
import copy
import pickle
import sys

sys.path.insert(0, "/work/wt/s24-budget")
import cv2

cv2.setNumThreads(1)
import realtime.blend.stage as stage
from benchmarks import swap_cost
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.settings import FaceSettings, Settings

inp, src, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
calls = []
orig = stage.detail_on_luma
def wrapped(image, camera, layer, strength, grain_from=None, smooth=None):
    gains = {}
    def sm(which, gain):
        g = smooth(which, gain) if smooth else gain
        gains[which] = g
        return g
    args = (image.copy(), camera.copy(), copy.deepcopy(layer), strength, None if grain_from is None else grain_from.copy())
    res = orig(image, camera, layer, strength, grain_from, sm)
    calls.append((args, dict(gains), res))
    return res
stage.detail_on_luma = wrapped
pictures = swap_cost.frames(inp, n)
det = create_detector(FaceSettings(max_faces=1), static=False)
faces = [det.detect(p) for p in pictures]
det.close()
lib = SourceLibrary()
swap_cost.measure(pictures, faces, Settings().replace(source=src), lib)
lib.close()
pickle.dump(calls, open(out, "wb"))
print(len(calls), "calls; sigma/scale", [round(c[0][2].scale, 2) for c in calls[:5]], calls[0][0][0].shape)
