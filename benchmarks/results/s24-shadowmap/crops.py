"""Crops (3x) of the nose sides and the eye corners, main | branch, from written files (s24-shadowmap).

python benchmarks/results/s24-shadowmap/crops.py MAIN_WORK BRANCH_WORK OUT FRAME s12_d14 s12_d9 ...
"""
import sys

import av
import cv2
import numpy as np

from realtime.faces import create_detector
from realtime.settings import FaceSettings


def frame(path, index):
    with av.open(path) as container:
        for i, picture in enumerate(container.decode(video=0)):
            if i == index:
                return picture.to_ndarray(format="bgr24")
    raise SystemExit(f"{path} has no frame {index}")


main_dir, branch_dir, out, index = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
detector = create_detector(FaceSettings(max_faces=1), static=True)
for pair in sys.argv[5:]:
    source, target = pair.split("_")
    pictures = [frame(f"{d}/{source}_{target}.mp4", index) for d in (main_dir, branch_dir)]
    points = detector.detect(pictures[0])[0].landmarks
    # From the outer eye corners across, from the upper lids down to under the nostrils.
    x0, x1 = int(points[33, 0]), int(points[263, 0])
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = int(points[159, 1]) - 5, int(points[2, 1]) + 10
    crops = [cv2.resize(p[y0:y1, x0:x1], None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST) for p in pictures]
    gap = np.full((crops[0].shape[0], 6, 3), 255, np.uint8)
    sheet = np.concatenate([crops[0], gap, crops[1]], 1)
    scale = min(1.0, 1000 / sheet.shape[1])
    if scale < 1:
        sheet = cv2.resize(sheet, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cv2.imwrite(f"{out}/{pair}_f{index}_x3.png", sheet)
    print(pair, sheet.shape, "mean |main - branch| over crop", float(np.abs(pictures[0][y0:y1, x0:x1].astype(int) - pictures[1][y0:y1, x0:x1]).mean()))
detector.close()
