"""Contact sheet: target | main | branch crops (a fixed square around a landmark patch, 3x,
nearest neighbour) of frame N of written files, one row per pair (s25-waxy).

usage: python contact_sheet.py OUT.png FRAME REGION(cheek|nose|forehead) PASS_DIR MAIN_PREFIX BRANCH_PREFIX pair...
pair: s9:d6 (files PASS_DIR/pass_d6.mp4, MAIN_PREFIX_s9_d6.mp4, BRANCH_PREFIX_s9_d6.mp4)"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from skin_texture import PATCHES, decode  # noqa: E402

CROP = 60
ZOOM = 3


def main() -> None:
    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    out, frame, region, pass_dir, main_prefix, branch_prefix = sys.argv[1:7]
    frame = int(frame)
    key = {"cheek": "cheek_l", "nose": "nose_tip", "forehead": "forehead"}[region]
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    rows = []
    for pair in sys.argv[7:]:
        source, target = pair.split(":")
        files = [f"{pass_dir}/pass_{target}.mp4", f"{main_prefix}_{source}_{target}.mp4",
                 f"{branch_prefix}_{source}_{target}.mp4"]
        images = [decode(f, {frame})[frame] for f in files]
        landmarks = max(detector.detect(images[0]), key=lambda f: f.size).landmarks
        cx, cy = landmarks[list(PATCHES[key]), :2].mean(axis=0).astype(int)
        x0, y0 = max(0, cx - CROP // 2), max(0, cy - CROP // 2)
        tiles = []
        for image in images:
            tile = cv2.resize(image[y0:y0 + CROP, x0:x0 + CROP], (CROP * ZOOM, CROP * ZOOM),
                              interpolation=cv2.INTER_NEAREST)
            tiles.append(np.pad(tile, ((0, 3), (0, 3), (0, 0)), constant_values=255))
        row = np.hstack(tiles)
        cv2.putText(row, f"{source}>{target}", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        rows.append(row)
    detector.close()
    cv2.imwrite(out, np.vstack(rows), [cv2.IMWRITE_PNG_COMPRESSION, 9])


if __name__ == "__main__":
    main()
