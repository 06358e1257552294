"""In-process outputs of swap+blend (30 frames; MediaPipe faces found once per video and cached under
/tmp/s21-budget) from one checkout, saved as npz; compare.py then gives the face-box PSNR and the
whole frame's largest difference of two of them (main, branch).

    python benchmarks/results/s21-budget/outputs.py <checkout> <video> <source> <out.npz>
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
from realtime.settings import FaceSettings, Settings  # noqa: E402

cv2.setNumThreads(1)
video, source, out = sys.argv[2], sys.argv[3], sys.argv[4]
pictures = swap_cost.frames(video, 30)
cache = f"/tmp/s21-budget/faces_{os.path.basename(video)}.pkl"
if not os.path.exists(cache):
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(max_faces=1), static=False)
    with open(cache, "wb") as file:
        pickle.dump([detector.detect(picture) for picture in pictures], file)
    detector.close()
with open(cache, "rb") as file:
    faces = pickle.load(file)
outputs: list = []
row = swap_cost.measure(pictures, faces, Settings().replace(source=source), SourceLibrary(), outputs=outputs)
boxes = np.array([found[0].box if found else (0, 0, 0, 0) for found in faces])
np.savez_compressed(out, outputs=np.stack(outputs), boxes=boxes)
print(root, {key: round(value, 2) for key, value in row.items() if not isinstance(value, dict)})
