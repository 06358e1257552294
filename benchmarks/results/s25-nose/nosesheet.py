"""Contact sheets (s25-nose): frame F of each pair, crops around the nose at 2x: target | main | branch.
python benchmarks/results/s25-nose/nosesheet.py MAIN_DIR BRANCH_DIR OUT F pair...   (run from the repository root)
writes OUT_<pair>.png, one per pair."""
import sys

import cv2
import numpy as np

sys.path.insert(0, ".")
from benchmarks.quality_swap import decode  # noqa: E402
from benchmarks.quality_written import landmarks_of  # noqa: E402


def main():
    main_dir, branch_dir, out, f, pairs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
    for pair in pairs:
        d = pair.split("_")[1]
        tgt, _ = decode(f"/work/shared/media/{d}.mp4", f + 1)
        lm = landmarks_of([tgt[f]])[0]
        width = float(lm[:468, 0].max() - lm[:468, 0].min())
        cx, cy = lm[4, :2]
        half = int(0.26 * width)
        x0, y0 = int(cx - half), int(cy - 0.9 * half)
        x1, y1 = int(cx + half), int(cy + 0.9 * half)
        crops = [tgt[f][y0:y1, x0:x1]]
        for folder in (main_dir, branch_dir):
            crops.append(decode(f"{folder}/{pair}.mp4", f + 1)[0][f][y0:y1, x0:x1])
        row = np.hstack([cv2.resize(c, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC) for c in crops])
        cv2.putText(row, pair, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 255, 255), 1)
        cv2.imwrite(f"{out}_{pair}.png", row, [cv2.IMWRITE_PNG_COMPRESSION, 9])


if __name__ == "__main__":
    main()
