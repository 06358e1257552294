"""ident.py OUT.mp4 [every]: mean dlib distance of the written frames to grace_hopper.jpg"""
import json
import sys

import cv2
import numpy as np

sys.path.insert(0, '.')
from benchmarks.identity import IdentityModel
from benchmarks.quality_swap import decode
from realtime.capture.builtin import builtin_source_path

out, _ = decode(sys.argv[1], 60)
every = int(sys.argv[2]) if len(sys.argv) > 2 else 3
idm = IdentityModel()
ref = idm.embed(cv2.imread(str(builtin_source_path())))
ids = [idm.distance(e, ref) for e in (idm.embed(f) for f in out[::every]) if e is not None]
print(json.dumps(dict(file=sys.argv[1], identity=round(float(np.mean(ids)), 4), se=round(float(np.std(ids) / np.sqrt(len(ids))), 4), n=len(ids))))
