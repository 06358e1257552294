"""d13's face enlarged to fill a 1080p frame (benchmarks.swap_cost.huge_face_frames), 10 frames, rendered
at the default working size with s42: swap+blend CPU ms and the outputs (npz, for compare.py).

    python benchmarks/results/s21-budget/huge.py <checkout> <out.npz>
"""

import os
import pickle
import sys

root = sys.argv[1]
sys.path.insert(0, root)

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import swap_cost  # noqa: E402
from realtime.faces.source import SourceLibrary  # noqa: E402
from realtime.settings import Settings  # noqa: E402

cv2.setNumThreads(1)
pictures = swap_cost.frames("../shared/media/d13.mp4", 10)
with open("/tmp/s21-budget/faces_d13.mp4.pkl", "rb") as file:  # outputs.py's cache
    faces = pickle.load(file)
big = swap_cost.huge_face_frames(pictures, faces[0][0])
cache = "/tmp/s21-budget/faces_huge.pkl"
if not os.path.exists(cache):
    from realtime.faces import create_detector

    detector = create_detector(Settings().faces)
    with open(cache, "wb") as file:
        pickle.dump([detector.detect(picture) for picture in big], file)
    detector.close()
with open(cache, "rb") as file:
    big_faces = pickle.load(file)
outputs: list = []
row = swap_cost.measure(big, big_faces, Settings().replace(source="../shared/media/s42.jpg"), SourceLibrary(),
                        parts=True, outputs=outputs)
np.savez_compressed(sys.argv[2], outputs=np.stack(outputs), boxes=np.array([found[0].box for found in big_faces]))
print(root, {key: round(value, 1) for key, value in row.items() if not isinstance(value, dict)})
