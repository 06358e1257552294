"""Main vs branch from outputs.py's files: the output landmarks' jitter (quality_swap's measure,
static MediaPipe on the output frames) and PSNR over the face box per frame.

    PYTHONPATH=. python benchmarks/results/s19-budget/jitter_psnr.py main.npz branch.npz"""

import sys

import numpy as np

from benchmarks.quality_swap import jitter
from realtime.faces import create_detector
from realtime.settings import FaceSettings

main, branch = np.load(sys.argv[1]), np.load(sys.argv[2])
for key in ["d9.mp4s42.jpg", "d9.mp4s12.jpg", "d13.mp4s42.jpg", "d13.mp4s12.jpg"]:
    row = []
    for outputs in (main, branch):
        detector = create_detector(FaceSettings(max_faces=1), static=True)
        track = [(found[0].landmarks if (found := detector.detect(output)) else None) for output in outputs[key]]
        detector.close()
        row.append(jitter(track))
    before, after, boxes = main[key], branch[key], main[key + "_box"]
    psnrs = []
    for index in range(len(before)):
        x0, y0, x1, y1 = boxes[index]
        mse = ((before[index, y0:y1, x0:x1].astype(float) - after[index, y0:y1, x0:x1]) ** 2).mean()
        psnrs.append(10 * np.log10(255 ** 2 / max(mse, 1e-9)))
    print(key, f"jitter main {row[0]:.5f} branch {row[1]:.5f}",
          f"face-box PSNR min {min(psnrs):.1f} median {np.median(psnrs):.1f}")
