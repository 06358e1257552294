"""Swap + blend outputs of one checkout (static MediaPipe landmarks: deterministic) for the
in-process main-vs-branch comparison:

    python benchmarks/results/s19-budget/outputs.py <checkout> <out.npz>

run from that checkout's root (../shared/media), once per checkout; then jitter_psnr.py."""

import sys

root, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import swap_cost  # noqa: E402
from realtime.faces import create_detector  # noqa: E402
from realtime.faces.source import SourceLibrary  # noqa: E402
from realtime.settings import FaceSettings, Settings  # noqa: E402

cv2.setNumThreads(1)
result = {}
for video, source, n in [("d9.mp4", "s42.jpg", 30), ("d9.mp4", "s12.jpg", 30), ("d13.mp4", "s42.jpg", 30),
                         ("d13.mp4", "s12.jpg", 30)]:
    pictures = swap_cost.frames("../shared/media/" + video, n)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    faces = [detector.detect(picture) for picture in pictures]
    detector.close()
    outputs: list = []
    swap_cost.measure(pictures, faces, Settings().replace(source="../shared/media/" + source), SourceLibrary(),
                      outputs=outputs)
    result[video + source] = np.stack(outputs)
    result[video + source + "_box"] = np.array([found[0].box for found in faces])
np.savez_compressed(out, **result)
